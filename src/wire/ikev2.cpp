// SPDX-License-Identifier: MIT
// IKEv2 header and generic payload chain (RFC 7296 3.1, 3.2, 3.4, 3.9, 3.10).
#include <ikeguard/wire/ikev2.hpp>
#include <ikeguard/wire/proposal.hpp>

#include <ikeguard/detail/endian.hpp>
#include "header.hpp"

namespace ikeguard::wire {
namespace {

using detail::copy_bytes;
using detail::load_u16;
using detail::max_payload_length;
using detail::notify_fixed_size;
using detail::store_u16;
using detail::valid_view;
using detail::write_payload_header;

constexpr std::uint8_t ike_version_2_0 = 0x20;
constexpr std::uint8_t critical_bit = 0x80;
constexpr std::size_t ke_fixed_size = 4;      // DH group, reserved
constexpr std::size_t proposal_fixed_size = 8;
constexpr std::uint16_t nat_detection_source_ip = 16388;
constexpr std::uint16_t nat_detection_destination_ip = 16389;
constexpr std::size_t nat_detection_size = 20;  // SHA-1
constexpr std::size_t min_nonce_size = 16;
constexpr std::size_t max_nonce_size = 256;

/// Payload types this parser understands (RFC 7296 3.2 and RFC 7383's SKF); the critical bit of
/// any other type makes the message unacceptable (RFC 7296 2.5).
bool known_payload_type(std::uint8_t type) noexcept {
  return (type >= payload_v2::sa && type <= payload_v2::eap) || type == payload_v2::encrypted_fragment;
}

void write_header(std::uint8_t* p, std::uint64_t initiator_spi, std::uint64_t responder_spi,
                  std::uint8_t first_payload, std::uint8_t exchange_type, std::uint8_t flags,
                  std::uint32_t message_id, std::size_t length) noexcept {
  detail::write_header(p, ike_version_2_0, initiator_spi, responder_spi, first_payload,
                       exchange_type, flags, message_id, length);
}

std::size_t notify_payload_size(Bytes data) noexcept {
  return generic_payload_header_size + notify_fixed_size + data.size;
}

/// A Notify payload with protocol ID 0 and no SPI. Returns the bytes written.
std::size_t write_notify(std::uint8_t* p, std::uint8_t next_payload, std::uint16_t type,
                         Bytes data) noexcept {
  const std::size_t length = notify_payload_size(data);
  write_payload_header(p, next_payload, length);
  // Protocol ID none: the notify is about the IKE SA being set up.
  detail::write_notify_fields(p + generic_payload_header_size, 0, type, data);
  return length;
}

/// The one-Notify messages share their shape; only the header fields differ.
Result<std::size_t> build_single_notify(MutableBytes out, std::uint64_t initiator_spi,
                                        std::uint64_t responder_spi, std::uint8_t exchange_type,
                                        std::uint8_t flags, std::uint32_t message_id,
                                        std::uint16_t notify_type, Bytes notify_data) noexcept {
  const Result<std::size_t> total = detail::single_notify_size(out, notify_fixed_size, notify_data);
  if (!total) return total;
  write_header(out.data, initiator_spi, responder_spi, payload_v2::notify, exchange_type, flags,
               message_id, total.value());
  write_notify(out.data + ike_header_size, payload_v2::none, notify_type, notify_data);
  return total;
}

}  // namespace

std::optional<Notice> Ikev2Message::error_notice() const noexcept {
  return detail::first_error(notifies, notify_count, IkeVersion::v2, notify_v2::first_status,
                             initiator_spi, responder_spi, message_id);
}

std::optional<std::uint16_t> Ikev2Message::ke_group() const noexcept {
  if (ke.data == nullptr || ke.size < 2) return std::nullopt;
  return load_u16(ke.data);
}

Result<Ikev2Message> parse_ikev2(Bytes message) noexcept {
  Ikev2Message m;
  if (const Errc error =
          detail::read_header(message, ike_version_2_0, m.initiator_spi, m.responder_spi, m);
      error != Errc::ok) {
    return error;
  }

  detail::PayloadChain chain(message, m.first_payload);
  for (detail::Payload payload; chain.next(payload);) {
    const std::uint8_t type = payload.type;
    const Bytes body = payload.body;
    if (type == payload_v2::encrypted || type == payload_v2::encrypted_fragment) {
      // Its next-payload field names the first payload inside: the cleartext chain ends here,
      // and RFC 7296 3.14 makes it the message's last payload (finish() checks that).
      m.encrypted = true;
      break;
    }
    const bool critical = (payload.reserved & critical_bit) != 0;
    if (!known_payload_type(type) && critical) return Errc::wire_unknown_critical_payload;

    switch (type) {
      case payload_v2::notify: {
        NotifyPayload n;
        if (const Errc error = detail::read_notify(body, n); error != Errc::ok) return error;
        if (m.notify_count < m.notifies.size()) m.notifies[m.notify_count++] = n;
        ++m.notifies_seen;
        break;
      }
      case payload_v2::ke:
        if (body.size < ke_fixed_size) return Errc::wire_malformed_payload;
        if (m.ke.data == nullptr) m.ke = body;
        break;
      case payload_v2::sa:
        if (body.size < proposal_fixed_size) return Errc::wire_malformed_payload;
        if (m.sa.data == nullptr) m.sa = body;
        break;
      case payload_v2::nonce:
        if (m.nonce.data == nullptr) m.nonce = body;
        break;
      default:
        break;  // known but not needed, or unknown and not critical: skipped
    }
  }
  m.payload_count = chain.count();
  if (const Errc error = chain.finish(); error != Errc::ok) return error;
  return m;
}

Result<std::size_t> build_ike_sa_init_error(MutableBytes out, std::uint64_t initiator_spi,
                                            std::uint16_t notify_type, Bytes notify_data) noexcept {
  return build_single_notify(out, initiator_spi, 0, exchange_v2::ike_sa_init, flags_v2::response, 0,
                             notify_type, notify_data);
}

Result<std::size_t> build_informational_notify(MutableBytes out, std::uint64_t initiator_spi,
                                               std::uint64_t responder_spi, std::uint32_t message_id,
                                               bool from_initiator, std::uint16_t notify_type,
                                               Bytes notify_data) noexcept {
  const std::uint8_t flags = from_initiator ? flags_v2::initiator : std::uint8_t{0};
  return build_single_notify(out, initiator_spi, responder_spi, exchange_v2::informational, flags,
                             message_id, notify_type, notify_data);
}

namespace {
// Only what parse_ikev2 and a responder would accept: a well-formed SA body, a public value, a
// nonce of RFC 7296 3.9's size, SHA-1-sized NAT detection data.
Errc check_ike_sa_init(const IkeSaInitMessage& request) noexcept {
  const Bytes views[] = {request.sa_payload_body, request.ke_data, request.nonce, request.nat_source,
                         request.nat_destination};
  for (const Bytes& view : views) {
    if (!valid_view(view.data, view.size)) return Errc::wire_malformed_payload;
  }
  if (request.sa_payload_body.size > max_payload_length - generic_payload_header_size ||
      request.ke_data.size > max_payload_length - generic_payload_header_size - ke_fixed_size) {
    return Errc::wire_bad_length;
  }
  if (!parse_sa_payload(request.sa_payload_body).ok()) return Errc::wire_malformed_payload;
  if (request.ke_data.empty()) return Errc::wire_malformed_payload;
  if (request.nonce.size < min_nonce_size || request.nonce.size > max_nonce_size) {
    return Errc::wire_malformed_payload;
  }
  if ((!request.nat_source.empty() && request.nat_source.size != nat_detection_size) ||
      (!request.nat_destination.empty() && request.nat_destination.size != nat_detection_size)) {
    return Errc::wire_malformed_payload;
  }
  return Errc::ok;
}
}  // namespace

Result<std::size_t> build_ike_sa_init(MutableBytes out, const IkeSaInitMessage& request) noexcept {
  if (const Errc invalid = check_ike_sa_init(request); invalid != Errc::ok) return invalid;
  const std::size_t sa_size = generic_payload_header_size + request.sa_payload_body.size;
  const std::size_t ke_size = generic_payload_header_size + ke_fixed_size + request.ke_data.size;
  const std::size_t nonce_size = generic_payload_header_size + request.nonce.size;
  const bool with_source = !request.nat_source.empty();
  const bool with_destination = !request.nat_destination.empty();
  const std::size_t total = ike_header_size + sa_size + ke_size + nonce_size +
                            (with_source ? notify_payload_size(request.nat_source) : 0) +
                            (with_destination ? notify_payload_size(request.nat_destination) : 0);
  if (out.data == nullptr || out.size < total) return Errc::wire_buffer_too_small;

  std::uint8_t* p = out.data;
  write_header(p, request.initiator_spi, request.response ? request.responder_spi : 0,
               payload_v2::sa, exchange_v2::ike_sa_init,
               request.response ? flags_v2::response : flags_v2::initiator, 0, total);
  p += ike_header_size;

  write_payload_header(p, payload_v2::ke, sa_size);
  copy_bytes(p + generic_payload_header_size, request.sa_payload_body.data,
             request.sa_payload_body.size);
  p += sa_size;

  write_payload_header(p, payload_v2::nonce, ke_size);
  store_u16(p + 4, request.ke_group);
  store_u16(p + 6, 0);
  copy_bytes(p + 8, request.ke_data.data, request.ke_data.size);
  p += ke_size;

  const std::uint8_t after_nonce =
      (with_source || with_destination) ? payload_v2::notify : payload_v2::none;
  write_payload_header(p, after_nonce, nonce_size);
  copy_bytes(p + generic_payload_header_size, request.nonce.data, request.nonce.size);
  p += nonce_size;

  if (with_source) {
    p += write_notify(p, with_destination ? payload_v2::notify : payload_v2::none,
                      nat_detection_source_ip, request.nat_source);
  }
  if (with_destination) {
    write_notify(p, payload_v2::none, nat_detection_destination_ip, request.nat_destination);
  }
  return total;
}

}  // namespace ikeguard::wire
