// SPDX-License-Identifier: MIT
// IKEv2 messages (RFC 7296 3.1-3.2, 3.10): parse what the guard needs from a received datagram,
// and build the messages the method sends. Every parser is bounds-checked at each step and
// returns an Errc for malformed input; none reads outside the buffer or allocates.
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

/// RFC 7296 3.1 exchange types.
namespace exchange_v2 {
constexpr std::uint8_t ike_sa_init = 34;
constexpr std::uint8_t ike_auth = 35;
constexpr std::uint8_t create_child_sa = 36;
constexpr std::uint8_t informational = 37;
}  // namespace exchange_v2

/// RFC 7296 3.2 payload types (and RFC 7383's SKF).
namespace payload_v2 {
constexpr std::uint8_t none = 0;
constexpr std::uint8_t sa = 33;
constexpr std::uint8_t ke = 34;
constexpr std::uint8_t idi = 35;
constexpr std::uint8_t idr = 36;
constexpr std::uint8_t cert = 37;
constexpr std::uint8_t certreq = 38;
constexpr std::uint8_t auth = 39;
constexpr std::uint8_t nonce = 40;
constexpr std::uint8_t notify = 41;
constexpr std::uint8_t del = 42;
constexpr std::uint8_t vendor_id = 43;
constexpr std::uint8_t tsi = 44;
constexpr std::uint8_t tsr = 45;
constexpr std::uint8_t encrypted = 46;  // SK
constexpr std::uint8_t configuration = 47;
constexpr std::uint8_t eap = 48;
constexpr std::uint8_t encrypted_fragment = 53;  // SKF, RFC 7383
}  // namespace payload_v2

/// RFC 7296 3.1 header flags.
namespace flags_v2 {
constexpr std::uint8_t initiator = 0x08;
constexpr std::uint8_t version = 0x10;
constexpr std::uint8_t response = 0x20;
}  // namespace flags_v2

constexpr std::size_t ike_header_size = 28;
/// Notify payloads kept from one message; further ones are counted but not kept.
constexpr std::size_t max_notifies = 16;

/// What the guard and a daemon's pre-parser need from a cleartext IKEv2 message; first_payload,
/// exchange_type, flags, message_id and length are the header fields both versions share
/// (detail::HeaderFields). NotifyPayload, generic_payload_header_size and max_payloads come from
/// <ikeguard/wire/message.hpp>.
struct IKEGUARD_API Ikev2Message : detail::HeaderFields {
  std::uint64_t initiator_spi = 0;
  std::uint64_t responder_spi = 0;

  /// Payloads in the clear, in order; an SK/SKF payload ends the chain.
  std::size_t payload_count = 0;
  /// An SK or SKF payload is present: notifies inside it are for the daemon to decrypt and pass
  /// to the guard with Origin::authenticated.
  bool encrypted = false;

  std::array<NotifyPayload, max_notifies> notifies{};
  std::size_t notify_count = 0;      // kept in `notifies`
  std::size_t notifies_seen = 0;     // including those past max_notifies

  /// The bodies (after the generic header) of the first SA, KE and nonce payloads, if any.
  Bytes sa;
  Bytes ke;
  Bytes nonce;

  bool is_initiator() const noexcept { return (flags & flags_v2::initiator) != 0; }
  bool is_response() const noexcept { return (flags & flags_v2::response) != 0; }

  /// The Notice the guard takes for the first error-type notify (type < 16384), if any.
  std::optional<Notice> error_notice() const noexcept;
  /// The KE payload's Diffie-Hellman group (RFC 7296 3.4), when a KE payload is present.
  std::optional<std::uint16_t> ke_group() const noexcept;
};

/// Parses an IKEv2 message: header, then the generic payload chain up to the end or an SK
/// payload. Refuses a truncated header or payload, a header length that is not `message.size`,
/// a payload length below 4 or past the end, a chain that does not end exactly at the end,
/// more than max_payloads payloads, an unknown payload with the critical bit, and a Notify,
/// KE or SA payload whose body is shorter than its fixed part.
IKEGUARD_API Result<Ikev2Message> parse_ikev2(Bytes message) noexcept;

/// Builds the responder's answer to an IKE_SA_INIT request it cannot accept (RFC 7296 2.21.1):
/// an IKE_SA_INIT response with the request's SPIi, SPIr zero, message ID 0, and one
/// Notify(`notify_type`, `notify_data`) payload. Returns the size written.
IKEGUARD_API Result<std::size_t> build_ike_sa_init_error(MutableBytes out, std::uint64_t initiator_spi,
                                                         std::uint16_t notify_type,
                                                         Bytes notify_data = {}) noexcept;

/// Builds an unencrypted INFORMATIONAL request carrying one Notify (for a peer with which no SA
/// exists yet; inside an SA a daemon encrypts its own). `from_initiator` sets the I flag.
IKEGUARD_API Result<std::size_t> build_informational_notify(MutableBytes out,
                                                            std::uint64_t initiator_spi,
                                                            std::uint64_t responder_spi,
                                                            std::uint32_t message_id,
                                                            bool from_initiator,
                                                            std::uint16_t notify_type,
                                                            Bytes notify_data = {}) noexcept;

/// The parts of a minimal IKE_SA_INIT message: a request, or a responder's acceptance.
struct IkeSaInitMessage {
  std::uint64_t initiator_spi = 0;
  std::uint64_t responder_spi = 0;  // 0 in a request
  bool response = false;            // R flag; a request carries the I flag instead
  Bytes sa_payload_body;      // from build_sa_payload_body(); a response carries the chosen one
  std::uint16_t ke_group = 0; // RFC 7296 3.4 / IANA transform type 4 ID
  Bytes ke_data;              // the public value
  Bytes nonce;                // 16 to 256 bytes (RFC 7296 3.9)
  /// NAT_DETECTION_SOURCE_IP / _DESTINATION_IP data (SHA-1, 20 bytes each) or empty to omit.
  Bytes nat_source;
  Bytes nat_destination;
};

/// Builds HDR, SA, KE, Ni/Nr [, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP)]
/// (RFC 7296 1.2), message ID 0.
IKEGUARD_API Result<std::size_t> build_ike_sa_init(MutableBytes out,
                                                   const IkeSaInitMessage& message) noexcept;

}  // namespace ikeguard::wire
