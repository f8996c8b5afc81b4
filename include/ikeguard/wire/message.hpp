// SPDX-License-Identifier: MIT
// What ISAKMP (IKEv1, RFC 2408 3.1-3.2, 3.14) and IKEv2 (RFC 7296 3.1-3.2, 3.10) messages share:
// the fixed header after its two SPIs, the generic payload header, and a notify payload's fields.
// Included by ikev1.hpp and ikev2.hpp; nothing here is specific to one version.
#pragma once

#include <ikeguard/wire/bytes.hpp>

#include <cstddef>
#include <cstdint>

namespace ikeguard::wire {

/// The generic payload header: next payload, a reserved byte (IKEv2: the critical bit), length.
constexpr std::size_t generic_payload_header_size = 4;
/// More payloads than any negotiation message needs: a message claiming more is refused.
constexpr std::size_t max_payloads = 64;

/// A notify payload (RFC 7296 3.10; in IKEv1, RFC 2408 3.14, the fields after the DOI); views
/// into the parsed datagram.
struct NotifyPayload {
  std::uint8_t protocol_id = 0;
  std::uint16_t type = 0;
  Bytes spi;
  Bytes data;
};

namespace detail {

/// The header fields after the two SPIs (IKEv1: cookies), the same in both versions; the
/// message types name their SPIs themselves.
struct HeaderFields {
  std::uint8_t first_payload = 0;
  std::uint8_t exchange_type = 0;
  std::uint8_t flags = 0;
  std::uint32_t message_id = 0;
  std::uint32_t length = 0;  // from the header; equals the datagram's size
};

}  // namespace detail
}  // namespace ikeguard::wire
