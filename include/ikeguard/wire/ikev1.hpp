// SPDX-License-Identifier: MIT
// IKEv1 (ISAKMP, RFC 2408 3.1 and 3.14): far enough to find Notification payloads in the clear,
// and to build the Informational exchange that carries one.
#pragma once

#include <ikeguard/error.hpp>
#include <ikeguard/export.hpp>
#include <ikeguard/notify.hpp>
#include <ikeguard/wire/bytes.hpp>
#include <ikeguard/wire/message.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace ikeguard::wire {

/// RFC 2408 3.1 / RFC 2409 exchange types.
namespace exchange_v1 {
constexpr std::uint8_t identity_protection = 2;  // Main Mode
constexpr std::uint8_t aggressive = 4;
constexpr std::uint8_t informational = 5;
constexpr std::uint8_t quick_mode = 32;
}  // namespace exchange_v1

/// RFC 2408 3.1 payload types.
namespace payload_v1 {
constexpr std::uint8_t none = 0;
constexpr std::uint8_t sa = 1;
constexpr std::uint8_t proposal = 2;
constexpr std::uint8_t transform = 3;
constexpr std::uint8_t key_exchange = 4;
constexpr std::uint8_t identification = 5;
constexpr std::uint8_t certificate = 6;
constexpr std::uint8_t certificate_request = 7;
constexpr std::uint8_t hash = 8;
constexpr std::uint8_t signature = 9;
constexpr std::uint8_t nonce = 10;
constexpr std::uint8_t notification = 11;
constexpr std::uint8_t del = 12;
constexpr std::uint8_t vendor_id = 13;
}  // namespace payload_v1

/// RFC 2408 3.1 header flags.
namespace flags_v1 {
constexpr std::uint8_t encryption = 0x01;
constexpr std::uint8_t commit = 0x02;
constexpr std::uint8_t authentication_only = 0x04;
}  // namespace flags_v1

constexpr std::size_t isakmp_header_size = 28;

/// A Notification payload (RFC 2408 3.14): a DOI, then the fields an IKEv2 Notify has too.
struct NotificationPayload : NotifyPayload {
  std::uint32_t doi = 0;
};

/// An ISAKMP message; first_payload, exchange_type, flags, message_id and length are the header
/// fields both versions share (detail::HeaderFields).
struct IKEGUARD_API Ikev1Message : detail::HeaderFields {
  std::uint64_t initiator_cookie = 0;
  std::uint64_t responder_cookie = 0;

  /// The E flag: every payload is encrypted, none was parsed.
  bool encrypted = false;
  std::size_t payload_count = 0;
  std::array<NotificationPayload, 16> notifications{};
  std::size_t notification_count = 0;
  std::size_t notifications_seen = 0;
  /// The body (after the generic header) of the first SA payload, if any, as sent: its proposals
  /// are not parsed.
  Bytes sa;

  /// The Notice for the first error notification (type < 16384), cookies in the SPI fields.
  std::optional<Notice> error_notice() const noexcept;
};

/// Parses an ISAKMP message (version 1.0), bounds-checked as parse_ikev2 is. With the E flag set
/// it reports the header only.
IKEGUARD_API Result<Ikev1Message> parse_ikev1(Bytes message) noexcept;

/// Builds an unencrypted Informational exchange (RFC 2408 4.8) carrying one Notification
/// (DOI 1, IPsec; protocol ISAKMP; no SPI) in answer to a first message with these cookies.
IKEGUARD_API Result<std::size_t> build_ikev1_informational(MutableBytes out,
                                                           std::uint64_t initiator_cookie,
                                                           std::uint64_t responder_cookie,
                                                           std::uint16_t notify_type,
                                                           Bytes notify_data = {}) noexcept;

}  // namespace ikeguard::wire
