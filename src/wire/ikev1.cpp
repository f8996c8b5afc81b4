// SPDX-License-Identifier: MIT
// ISAKMP header, generic payload chain and Notification payload (RFC 2408 3.1, 3.2, 3.14).
#include <ikeguard/wire/ikev1.hpp>

#include <ikeguard/detail/endian.hpp>
#include "header.hpp"

namespace ikeguard::wire {
namespace {

using detail::load_u32;
using detail::store_u32;

constexpr std::uint8_t isakmp_version_1_0 = 0x10;
constexpr std::size_t doi_size = 4;  // a Notification's body starts with its DOI
constexpr std::uint32_t doi_ipsec = 1;
constexpr std::uint8_t protocol_isakmp = 1;

}  // namespace

std::optional<Notice> Ikev1Message::error_notice() const noexcept {
  return detail::first_error(notifications, notification_count, IkeVersion::v1,
                             notify_v1::first_status, initiator_cookie, responder_cookie, message_id);
}

Result<Ikev1Message> parse_ikev1(Bytes message) noexcept {
  Ikev1Message m;
  if (const Errc error = detail::read_header(message, isakmp_version_1_0, m.initiator_cookie,
                                             m.responder_cookie, m);
      error != Errc::ok) {
    return error;
  }
  if ((m.flags & flags_v1::encryption) != 0) {
    m.encrypted = true;  // every payload is ciphertext; the payload lengths are inside it
    return m;
  }

  // Every payload but the first SA and the Notifications, the SA's proposal and transform
  // sub-payloads included, is skipped whole by its length (the first SA's body is kept as is).
  detail::PayloadChain chain(message, m.first_payload);
  for (detail::Payload payload; chain.next(payload);) {
    if (payload.type == payload_v1::sa && m.sa.data == nullptr) {
      m.sa = payload.body;
    } else if (payload.type == payload_v1::notification) {
      const Bytes body = payload.body;
      if (body.size < doi_size) return Errc::wire_malformed_payload;
      NotificationPayload n;
      n.doi = load_u32(body.data);
      const Bytes after_doi{body.data + doi_size, body.size - doi_size};
      if (const Errc error = detail::read_notify(after_doi, n); error != Errc::ok) return error;
      if (m.notification_count < m.notifications.size()) {
        m.notifications[m.notification_count++] = n;
      }
      ++m.notifications_seen;
    }
  }
  m.payload_count = chain.count();
  if (const Errc error = chain.finish(); error != Errc::ok) return error;
  return m;
}

Result<std::size_t> build_ikev1_informational(MutableBytes out, std::uint64_t initiator_cookie,
                                              std::uint64_t responder_cookie,
                                              std::uint16_t notify_type, Bytes notify_data) noexcept {
  const Result<std::size_t> total =
      detail::single_notify_size(out, doi_size + detail::notify_fixed_size, notify_data);
  if (!total) return total;

  std::uint8_t* const p = out.data;
  detail::write_header(p, isakmp_version_1_0, initiator_cookie, responder_cookie,
                       payload_v1::notification, exchange_v1::informational, 0 /* in the clear */,
                       0 /* message ID */, total.value());
  std::uint8_t* const n = p + isakmp_header_size;
  detail::write_payload_header(n, payload_v1::none, total.value() - isakmp_header_size);
  store_u32(n + generic_payload_header_size, doi_ipsec);
  detail::write_notify_fields(n + generic_payload_header_size + doi_size, protocol_isakmp,
                              notify_type, notify_data);
  return total;
}

}  // namespace ikeguard::wire
