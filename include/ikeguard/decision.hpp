// SPDX-License-Identifier: MIT
// What the guard answers: to a proposal or a local rejection (Decision), to an inbound error
// notification (ErrorOutcome).
#pragma once

#include <ikeguard/clock.hpp>

#include <cstdint>

namespace ikeguard {

enum class Verdict : std::uint8_t {
  proceed,  ///< go ahead: send the proposal, or process the received one
  hold      ///< outbound: do not send, allocate nothing, until `until`; inbound: drop silently
};

/// The answer to a proposal or a local rejection.
struct Decision {
  Verdict verdict = Verdict::proceed;
  /// hold: when the window ends. proceed: TimePoint{}, nothing to wait for (so a peer the
  /// table does not hold is answered without reading the clock).
  TimePoint until{};
  /// Consecutive failures in this direction (sender strikes outbound, receiver strikes inbound).
  std::uint32_t strikes = 0;
};

enum class ErrorAction : std::uint8_t {
  hold,         ///< configuration error: the sender window (T2) is open until `until`
  retry_now,    ///< the protocol's corrective action applies (new KE group, cookie, redirect)
  retry_later,  ///< transient, or an unauthenticated error not yet confirmed: hold until `until`
  ignored       ///< status, hint, or unsolicited: nothing changed
};

/// The answer to an inbound error notification.
struct ErrorOutcome {
  ErrorAction action = ErrorAction::ignored;
  /// hold and retry_later: when outbound proposals may resume. Otherwise TimePoint{}: nothing
  /// to wait for.
  TimePoint until{};
  /// The sender strikes toward this peer after this error.
  std::uint32_t strikes = 0;
};

}  // namespace ikeguard
