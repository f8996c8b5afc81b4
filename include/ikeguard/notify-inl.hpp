// SPDX-License-Identifier: MIT
// The names of the notify types: compiled once in the library, or inline under
// IKEGUARD_HEADER_ONLY.
#pragma once

#ifndef IKEGUARD_HEADER_ONLY
#include <ikeguard/notify.hpp>
#endif

namespace ikeguard {

namespace detail {
// RFC 2408 3.14.1 (error types) and the status types of RFC 2408 and RFC 2407 4.6.3.
inline const char* notify_name_v1(std::uint16_t type) noexcept {
  switch (type) {
    case 1: return "INVALID-PAYLOAD-TYPE";
    case 2: return "DOI-NOT-SUPPORTED";
    case 3: return "SITUATION-NOT-SUPPORTED";
    case 4: return "INVALID-COOKIE";
    case 5: return "INVALID-MAJOR-VERSION";
    case 6: return "INVALID-MINOR-VERSION";
    case 7: return "INVALID-EXCHANGE-TYPE";
    case 8: return "INVALID-FLAGS";
    case 9: return "INVALID-MESSAGE-ID";
    case 10: return "INVALID-PROTOCOL-ID";
    case 11: return "INVALID-SPI";
    case 12: return "INVALID-TRANSFORM-ID";
    case 13: return "ATTRIBUTES-NOT-SUPPORTED";
    case 14: return "NO-PROPOSAL-CHOSEN";
    case 15: return "BAD-PROPOSAL-SYNTAX";
    case 16: return "PAYLOAD-MALFORMED";
    case 17: return "INVALID-KEY-INFORMATION";
    case 18: return "INVALID-ID-INFORMATION";
    case 19: return "INVALID-CERT-ENCODING";
    case 20: return "INVALID-CERTIFICATE";
    case 21: return "CERT-TYPE-UNSUPPORTED";
    case 22: return "INVALID-CERT-AUTHORITY";
    case 23: return "INVALID-HASH-INFORMATION";
    case 24: return "AUTHENTICATION-FAILED";
    case 25: return "INVALID-SIGNATURE";
    case 26: return "ADDRESS-NOTIFICATION";
    case 27: return "NOTIFY-SA-LIFETIME";
    case 28: return "CERTIFICATE-UNAVAILABLE";
    case 29: return "UNSUPPORTED-EXCHANGE-TYPE";
    case 30: return "UNEQUAL-PAYLOAD-LENGTHS";
    case 16384: return "CONNECTED";
    case 24576: return "RESPONDER-LIFETIME";
    case 24577: return "REPLAY-STATUS";
    case 24578: return "INITIAL-CONTACT";
    default: return nullptr;
  }
}

// RFC 7296 3.10.1, RFC 4555, RFC 5685, RFC 9370, RFC 9611, and the common status types.
inline const char* notify_name_v2(std::uint16_t type) noexcept {
  switch (type) {
    case 1: return "UNSUPPORTED_CRITICAL_PAYLOAD";
    case 4: return "INVALID_IKE_SPI";
    case 5: return "INVALID_MAJOR_VERSION";
    case 7: return "INVALID_SYNTAX";
    case 9: return "INVALID_MESSAGE_ID";
    case 11: return "INVALID_SPI";
    case 14: return "NO_PROPOSAL_CHOSEN";
    case 17: return "INVALID_KE_PAYLOAD";
    case 24: return "AUTHENTICATION_FAILED";
    case 34: return "SINGLE_PAIR_REQUIRED";
    case 35: return "NO_ADDITIONAL_SAS";
    case 36: return "INTERNAL_ADDRESS_FAILURE";
    case 37: return "FAILED_CP_REQUIRED";
    case 38: return "TS_UNACCEPTABLE";
    case 39: return "INVALID_SELECTORS";
    case 40: return "UNACCEPTABLE_ADDRESSES";
    case 41: return "UNEXPECTED_NAT_DETECTED";
    case 43: return "TEMPORARY_FAILURE";
    case 44: return "CHILD_SA_NOT_FOUND";
    case 47: return "STATE_NOT_FOUND";
    case 48: return "TS_MAX_QUEUE";
    case 16384: return "INITIAL_CONTACT";
    case 16388: return "NAT_DETECTION_SOURCE_IP";
    case 16389: return "NAT_DETECTION_DESTINATION_IP";
    case 16390: return "COOKIE";
    case 16393: return "REKEY_SA";
    case 16407: return "REDIRECT";
    case 16430: return "IKEV2_FRAGMENTATION_SUPPORTED";
    case 16431: return "SIGNATURE_HASH_ALGORITHMS";
    default: return nullptr;
  }
}
}  // namespace detail

IKEGUARD_INLINE const char* notify_name(IkeVersion version, std::uint16_t type) noexcept {
  return version == IkeVersion::v1 ? detail::notify_name_v1(type) : detail::notify_name_v2(type);
}

}  // namespace ikeguard
