// SPDX-License-Identifier: MIT
// The guard's settings: window lengths, escalation, trust in unauthenticated errors, capacity.
#pragma once

#include <ikeguard/clock.hpp>
#include <ikeguard/error.hpp>
#include <ikeguard/notify.hpp>

#include <chrono>
#include <cmath>
#include <cstddef>

namespace ikeguard {

/// Every member has the default the project documents; change what you need, then construct
/// the guard (which validates) or call validate() yourself.
struct Policy {
  /// T1: how long the receiver drops a peer's proposals after rejecting one (step B).
  Duration receiver_window = std::chrono::seconds(30);
  /// T2: how long the sender holds its proposals after a configuration error (step C).
  Duration sender_window = std::chrono::seconds(60);
  /// Growth per consecutive failure: the n-th opens T * backoff^(n-1), capped by max_window.
  double backoff = 2.0;
  /// Cap on the sender window before jitter; the receiver window is capped at
  /// max_window * min(1, receiver_window / sender_window), so T2 outlasts T1 at every strike.
  /// At most max_duration_limit (about 12 days).
  Duration max_window = std::chrono::seconds(300);
  /// Consecutive unauthenticated (Origin::answers_request) configuration errors needed to open
  /// T2; the ones before answer retry_later (RFC 7296 2.21.1). 1 acts on the first; at most 255.
  unsigned unauthenticated_confirmations = 2;
  /// Hold after a transient error, or while an unauthenticated error awaits confirmation.
  /// At most max_duration_limit.
  Duration retry_delay = std::chrono::seconds(2);
  /// Each window is scaled by a uniform random factor in [1 - jitter, 1 + jitter].
  double jitter = 0.1;
  /// A peer's strikes lapse after this long without a failure. At most max_duration_limit.
  Duration forgive_after = std::chrono::hours(24);
  /// Peers tracked at most; the table is allocated once for this many.
  std::size_t max_peers = 65536;
  /// Keep each tracked peer's address, and when each direction last failed, beside its entry
  /// (32 bytes a slot, which decisions never read), so that list_peers() and eviction events
  /// name the peer, and a cluster's lifts and successes are ordered per direction (apply()).
  /// Off: 41 bytes per entry instead of 81 (at 7/8 full, 47 bytes per peer instead of 93);
  /// listed and evicted peers have no address, and a cluster's lifts compare against the
  /// entry's last failure in either direction.
  bool keep_addresses = true;
  /// How each notify type is treated; the defaults, plus any overrides the daemon sets.
  NotifyTable notify_classes{};
};

/// The largest max_peers accepted.
constexpr std::size_t max_peers_limit = std::size_t{1} << 30;

/// The longest max_window, retry_delay and forgive_after accepted: 2^30 ms, about 12.4 days.
/// The table stores times as 32-bit milliseconds, which compare correctly within 2^31 ms.
constexpr Duration max_duration_limit = std::chrono::milliseconds(std::int64_t{1} << 30);

/// Errc::ok, or the first invalid member in declaration order.
inline Errc validate(const Policy& policy) noexcept {
  if (policy.receiver_window <= Duration::zero()) return Errc::invalid_receiver_window;
  if (policy.sender_window <= Duration::zero()) return Errc::invalid_sender_window;
  if (!std::isfinite(policy.backoff) || policy.backoff < 1.0) return Errc::invalid_backoff;
  if (policy.max_window < policy.receiver_window || policy.max_window < policy.sender_window ||
      policy.max_window > max_duration_limit) {
    return Errc::invalid_max_window;
  }
  if (policy.unauthenticated_confirmations == 0 || policy.unauthenticated_confirmations > 255) {
    return Errc::invalid_confirmations;
  }
  if (policy.retry_delay <= Duration::zero() || policy.retry_delay > max_duration_limit) {
    return Errc::invalid_retry_delay;
  }
  if (!(policy.jitter >= 0.0 && policy.jitter < 1.0)) return Errc::invalid_jitter;
  if (policy.forgive_after <= Duration::zero() || policy.forgive_after > max_duration_limit) {
    return Errc::invalid_forgive_after;
  }
  if (policy.max_peers == 0 || policy.max_peers > max_peers_limit) return Errc::invalid_max_peers;
  return Errc::ok;
}

}  // namespace ikeguard
