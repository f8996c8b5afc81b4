// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>

namespace ikeguard {

/// What a window remembers of the configuration that failed: 64 bits of a keyed BLAKE2b digest
/// of the proposal and policy bytes (NegotiationGuard::fingerprint), never the bytes themselves.
/// The key is random per guard, so nobody without it can choose two proposals that collide.
/// Default-constructed means unknown: an unknown fingerprint never lifts a window.
class Fingerprint {
 public:
  constexpr Fingerprint() noexcept = default;

  /// Rebuilds a fingerprint from value(), for tests and for handing one back to the guard that
  /// made it (the key is that guard's; another guard's fingerprints never match). 0 is unknown.
  static constexpr Fingerprint from_value(std::uint64_t value) noexcept {
    Fingerprint fingerprint;
    fingerprint.value_ = value;
    return fingerprint;
  }

  constexpr bool known() const noexcept { return value_ != 0; }
  constexpr std::uint64_t value() const noexcept { return value_; }

  friend constexpr bool operator==(Fingerprint a, Fingerprint b) noexcept {
    return a.value_ == b.value_;
  }
  friend constexpr bool operator!=(Fingerprint a, Fingerprint b) noexcept { return !(a == b); }

 private:
  std::uint64_t value_ = 0;
};

}  // namespace ikeguard
