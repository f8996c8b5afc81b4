// SPDX-License-Identifier: MIT
// ISAKMP header, generic payload chain and Notification payload (RFC 2408 3.1, 3.2, 3.14).
#include <ikeguard/wire/ikev1.hpp>
#include <ikeguard/wire/ikev2.hpp>  // max_payloads: the same bound for both versions

#include <ikeguard/detail/endian.hpp>
#include "header.hpp"

namespace ikeguard::wire {
namespace {

using detail::copy_bytes;
using detail::load_u16;
using detail::load_u32;
using detail::load_u64;
using detail::store_u16;
using detail::store_u32;
using detail::store_u64;
using detail::valid_view;

constexpr std::uint8_t isakmp_version_1_0 = 0x10;
constexpr std::size_t generic_header_size = 4;  // next payload, reserved, payload length
constexpr std::size_t notification_fixed_size = 8;  // DOI, protocol ID, SPI size, type
constexpr std::uint32_t doi_ipsec = 1;
constexpr std::uint8_t protocol_isakmp = 1;
constexpr std::size_t max_payload_length = 0xffff;

}  // namespace

std::optional<Notice> Ikev1Message::error_notice() const noexcept {
  return detail::first_error(notifications, notification_count, IkeVersion::v1,
                             notify_v1::first_status, initiator_cookie, responder_cookie, message_id);
}

Result<Ikev1Message> parse_ikev1(Bytes message) noexcept {
  detail::Header header;
  if (const Errc error = detail::read_header(message, isakmp_version_1_0, header); error != Errc::ok) {
    return error;
  }
  const std::uint8_t* const p = message.data;

  Ikev1Message m;
  m.initiator_cookie = header.initiator_spi;
  m.responder_cookie = header.responder_spi;
  m.first_payload = header.first_payload;
  m.exchange_type = header.exchange_type;
  m.flags = header.flags;
  m.message_id = header.message_id;
  m.length = header.length;
  if ((m.flags & flags_v1::encryption) != 0) {
    m.encrypted = true;  // every payload is ciphertext; the payload lengths are inside it
    return m;
  }

  std::size_t offset = isakmp_header_size;
  std::uint8_t type = m.first_payload;
  while (type != payload_v1::none) {
    if (m.payload_count == max_payloads) return Errc::wire_too_many_payloads;
    if (message.size - offset < generic_header_size) return Errc::wire_truncated;
    const std::uint8_t* const h = p + offset;
    const std::uint8_t next = h[0];
    const std::size_t length = load_u16(h + 2);
    if (length < generic_header_size) return Errc::wire_bad_length;
    if (length > message.size - offset) return Errc::wire_bad_length;
    ++m.payload_count;

    // Every other payload, the SA with its proposal and transform sub-payloads included, is
    // skipped whole by its length (the first SA's body is kept as it is).
    if (type == payload_v1::sa && m.sa.data == nullptr) {
      m.sa = Bytes{h + generic_header_size, length - generic_header_size};
    } else if (type == payload_v1::notification) {
      const std::uint8_t* const body = h + generic_header_size;
      const std::size_t body_size = length - generic_header_size;
      if (body_size < notification_fixed_size) return Errc::wire_malformed_payload;
      const std::size_t spi_size = body[5];
      if (body_size - notification_fixed_size < spi_size) return Errc::wire_malformed_payload;
      if (m.notification_count < m.notifications.size()) {
        NotificationPayload& n = m.notifications[m.notification_count++];
        n.doi = load_u32(body);
        n.protocol_id = body[4];
        n.type = load_u16(body + 6);
        n.spi = Bytes{body + notification_fixed_size, spi_size};
        n.data = Bytes{body + notification_fixed_size + spi_size,
                       body_size - notification_fixed_size - spi_size};
      }
      ++m.notifications_seen;
    }
    offset += length;
    type = next;
  }
  if (offset != message.size) return Errc::wire_bad_length;
  return m;
}

Result<std::size_t> build_ikev1_informational(MutableBytes out, std::uint64_t initiator_cookie,
                                              std::uint64_t responder_cookie,
                                              std::uint16_t notify_type, Bytes notify_data) noexcept {
  if (!valid_view(notify_data.data, notify_data.size)) return Errc::wire_malformed_payload;
  if (notify_data.size > max_payload_length - generic_header_size - notification_fixed_size) {
    return Errc::wire_bad_length;
  }
  const std::size_t payload_size = generic_header_size + notification_fixed_size + notify_data.size;
  const std::size_t total = isakmp_header_size + payload_size;
  if (out.data == nullptr || out.size < total) return Errc::wire_buffer_too_small;

  std::uint8_t* const p = out.data;
  store_u64(p, initiator_cookie);
  store_u64(p + 8, responder_cookie);
  p[16] = payload_v1::notification;
  p[17] = isakmp_version_1_0;
  p[18] = exchange_v1::informational;
  p[19] = 0;             // flags: in the clear
  store_u32(p + 20, 0);  // message ID
  store_u32(p + 24, static_cast<std::uint32_t>(total));

  std::uint8_t* const n = p + isakmp_header_size;
  n[0] = payload_v1::none;
  n[1] = 0;
  store_u16(n + 2, static_cast<std::uint16_t>(payload_size));
  store_u32(n + 4, doi_ipsec);
  n[8] = protocol_isakmp;
  n[9] = 0;  // SPI size
  store_u16(n + 10, notify_type);
  copy_bytes(n + 12, notify_data.data, notify_data.size);
  return total;
}

}  // namespace ikeguard::wire
