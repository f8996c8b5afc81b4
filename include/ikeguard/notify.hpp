// SPDX-License-Identifier: MIT
// Abnormal-information messages as the guard sees them, and how each notify type is treated.
#pragma once

#include <ikeguard/export.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace ikeguard {

enum class IkeVersion : std::uint8_t { v1 = 1, v2 = 2 };

/// An IKE error notification: the notify message type (RFC 7296 3.10.1 for IKEv2, RFC 2408
/// 3.14.1 for IKEv1) and the exchange it belongs to (IKEv1 cookies go in the SPI fields).
struct Notice {
  IkeVersion version = IkeVersion::v2;
  std::uint16_t type = 0;
  std::uint64_t initiator_spi = 0;
  std::uint64_t responder_spi = 0;
  std::uint32_t message_id = 0;
};

/// How an error notification reached the daemon: decides how far it is trusted.
enum class Origin : std::uint8_t {
  authenticated,    ///< inside an SK (integrity-protected) payload: acted on at once
  answers_request,  ///< in the clear, matching our outstanding request's SPI and message ID
  unsolicited       ///< in the clear and matching nothing we sent: ignored (RFC 7296 2.21.1)
};

/// What a notify type means for retrying.
enum class NotifyClass : std::uint8_t {
  configuration,  ///< retrying cannot fix it: opens a window
  retry_now,      ///< the protocol defines a corrective action (new KE group, cookie, redirect)
  retry_later,    ///< transient: retry after Policy::retry_delay
  ignored         ///< status, hint, or not about this negotiation
};

/// IKEv2 notify types the guard knows by name (RFC 7296 3.10.1, RFC 4555, 5685, 9370, 9611).
namespace notify_v2 {
constexpr std::uint16_t unsupported_critical_payload = 1;
constexpr std::uint16_t invalid_ike_spi = 4;
constexpr std::uint16_t invalid_major_version = 5;
constexpr std::uint16_t invalid_syntax = 7;
constexpr std::uint16_t invalid_message_id = 9;
constexpr std::uint16_t invalid_spi = 11;
constexpr std::uint16_t no_proposal_chosen = 14;
constexpr std::uint16_t invalid_ke_payload = 17;
constexpr std::uint16_t authentication_failed = 24;
constexpr std::uint16_t single_pair_required = 34;
constexpr std::uint16_t no_additional_sas = 35;
constexpr std::uint16_t internal_address_failure = 36;
constexpr std::uint16_t failed_cp_required = 37;
constexpr std::uint16_t ts_unacceptable = 38;
constexpr std::uint16_t invalid_selectors = 39;
constexpr std::uint16_t unacceptable_addresses = 40;
constexpr std::uint16_t unexpected_nat_detected = 41;
constexpr std::uint16_t temporary_failure = 43;
constexpr std::uint16_t child_sa_not_found = 44;
constexpr std::uint16_t state_not_found = 47;
constexpr std::uint16_t ts_max_queue = 48;
constexpr std::uint16_t first_status = 16384;
constexpr std::uint16_t cookie = 16390;
constexpr std::uint16_t redirect = 16407;
}  // namespace notify_v2

/// IKEv1 (ISAKMP) notify message types the guard singles out (RFC 2408 3.14.1).
namespace notify_v1 {
constexpr std::uint16_t invalid_payload_type = 1;
constexpr std::uint16_t no_proposal_chosen = 14;
constexpr std::uint16_t invalid_key_information = 17;
constexpr std::uint16_t invalid_id_information = 18;
constexpr std::uint16_t authentication_failed = 24;
constexpr std::uint16_t address_notification = 26;
constexpr std::uint16_t notify_sa_lifetime = 27;
constexpr std::uint16_t certificate_unavailable = 28;
constexpr std::uint16_t unequal_payload_lengths = 30;
constexpr std::uint16_t first_status = 16384;
}  // namespace notify_v1

/// The registered name of a notify type ("NO_PROPOSAL_CHOSEN", IKEv1 "NO-PROPOSAL-CHOSEN"),
/// or nullptr when the type has none the guard knows.
IKEGUARD_API const char* notify_name(IkeVersion version, std::uint16_t type) noexcept;

/// The default class of a notify type, as in README.md's notify table:
/// IKEv2 errors with a corrective action retry now, transient ones later, hints and status
/// types are ignored, every other error (known or not) is a configuration error.
constexpr NotifyClass default_notify_class(IkeVersion version, std::uint16_t type) noexcept {
  if (version == IkeVersion::v1) {
    if (type >= notify_v1::first_status) return NotifyClass::ignored;
    switch (type) {
      case notify_v1::address_notification:
      case notify_v1::notify_sa_lifetime:
      case notify_v1::certificate_unavailable:
        return NotifyClass::ignored;
      default:
        return NotifyClass::configuration;
    }
  }
  switch (type) {
    case notify_v2::invalid_major_version:
    case notify_v2::invalid_ke_payload:
    case notify_v2::cookie:
    case notify_v2::redirect:
      return NotifyClass::retry_now;
    case notify_v2::no_additional_sas:
    case notify_v2::internal_address_failure:
    case notify_v2::temporary_failure:
    case notify_v2::child_sa_not_found:
    case notify_v2::state_not_found:
    case notify_v2::ts_max_queue:
      return NotifyClass::retry_later;
    case notify_v2::invalid_ike_spi:
    case notify_v2::invalid_message_id:
    case notify_v2::invalid_spi:
    case notify_v2::unacceptable_addresses:
    case notify_v2::unexpected_nat_detected:
      return NotifyClass::ignored;
    default:
      return type >= notify_v2::first_status ? NotifyClass::ignored : NotifyClass::configuration;
  }
}

/// The default classes plus up to `max_overrides` daemon overrides. A fixed-size value type:
/// copying it or classifying allocates nothing. Fill it before constructing the guard
/// (it travels in Policy); it is then read-only.
class NotifyTable {
 public:
  static constexpr std::size_t max_overrides = 32;

  /// The class of `type`: an override if one was set, else the default.
  constexpr NotifyClass classify(IkeVersion version, std::uint16_t type) const noexcept {
    for (std::size_t i = 0; i < count_; ++i) {
      if (overrides_[i].version == version && overrides_[i].type == type) return overrides_[i].cls;
    }
    return default_notify_class(version, type);
  }

  /// Sets (or replaces) the class of one type. False, and no change, when the table already
  /// holds `max_overrides` other overrides.
  constexpr bool set(IkeVersion version, std::uint16_t type, NotifyClass cls) noexcept {
    for (std::size_t i = 0; i < count_; ++i) {
      if (overrides_[i].version == version && overrides_[i].type == type) {
        overrides_[i].cls = cls;
        return true;
      }
    }
    if (count_ == max_overrides) return false;
    overrides_[count_++] = Override{version, type, cls};
    return true;
  }

  /// Removes the override of one type, if any: it goes back to its default class.
  constexpr void reset(IkeVersion version, std::uint16_t type) noexcept {
    for (std::size_t i = 0; i < count_; ++i) {
      if (overrides_[i].version == version && overrides_[i].type == type) {
        overrides_[i] = overrides_[--count_];
        return;
      }
    }
  }

  constexpr std::size_t override_count() const noexcept { return count_; }

 private:
  struct Override {
    IkeVersion version = IkeVersion::v2;
    std::uint16_t type = 0;
    NotifyClass cls = NotifyClass::configuration;
  };
  std::array<Override, max_overrides> overrides_{};
  std::size_t count_ = 0;
};

}  // namespace ikeguard

#ifdef IKEGUARD_HEADER_ONLY
#include <ikeguard/notify-inl.hpp>
#endif
