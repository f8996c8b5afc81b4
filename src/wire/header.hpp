// SPDX-License-Identifier: MIT
// The fixed header IKEv1 (RFC 2408 3.1) and IKEv2 (RFC 7296 3.1) share: two 8-byte SPIs or
// cookies, next payload, version, exchange type, flags, message ID, length. Internal to the codec.
#pragma once

#include <ikeguard/error.hpp>
#include <ikeguard/notify.hpp>
#include <ikeguard/wire/bytes.hpp>

#include <ikeguard/detail/endian.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace ikeguard::wire::detail {

constexpr std::size_t header_size = 28;

struct Header {
  std::uint64_t initiator_spi = 0;
  std::uint64_t responder_spi = 0;
  std::uint8_t first_payload = 0;
  std::uint8_t exchange_type = 0;
  std::uint8_t flags = 0;
  std::uint32_t message_id = 0;
  std::uint32_t length = 0;
};

/// Reads the header of `message` if its major version is `version`'s and its length field is
/// exactly the message's size (longer: truncated; shorter or below the header: bad length).
inline Errc read_header(Bytes message, std::uint8_t version, Header& out) noexcept {
  if (message.data == nullptr || message.size < header_size) return Errc::wire_truncated;
  const std::uint8_t* const p = message.data;
  if ((p[17] >> 4) != (version >> 4)) return Errc::wire_bad_version;
  out.initiator_spi = load_u64(p);
  out.responder_spi = load_u64(p + 8);
  out.first_payload = p[16];
  out.exchange_type = p[18];
  out.flags = p[19];
  out.message_id = load_u32(p + 20);
  out.length = load_u32(p + 24);
  if (out.length < header_size) return Errc::wire_bad_length;
  if (out.length > message.size) return Errc::wire_truncated;
  if (out.length < message.size) return Errc::wire_bad_length;
  return Errc::ok;
}

/// The first error notification (a type below `first_status`) of the `count` kept in
/// `notifications`, as the Notice the guard takes: error_notice() of both versions.
template <class Notifications>
std::optional<Notice> first_error(const Notifications& notifications, std::size_t count,
                                  IkeVersion version, std::uint16_t first_status,
                                  std::uint64_t initiator_spi, std::uint64_t responder_spi,
                                  std::uint32_t message_id) noexcept {
  for (std::size_t i = 0; i < count && i < notifications.size(); ++i) {
    if (notifications[i].type < first_status) {
      Notice notice;
      notice.version = version;
      notice.type = notifications[i].type;
      notice.initiator_spi = initiator_spi;
      notice.responder_spi = responder_spi;
      notice.message_id = message_id;
      return notice;
    }
  }
  return std::nullopt;
}

}  // namespace ikeguard::wire::detail
