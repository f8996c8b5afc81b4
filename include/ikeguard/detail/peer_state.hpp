// SPDX-License-Identifier: MIT
// What the guard remembers of one peer (24 bytes in the peer table), the one rule by which its
// windows and strikes lapse, and the one decision on a proposal, shared by the guard's lock-free
// and locked paths. Internal.
#pragma once

#include <ikeguard/decision.hpp>
#include <ikeguard/export.hpp>
#include <ikeguard/detail/stamps.hpp>
#include <ikeguard/fingerprint.hpp>
#include <ikeguard/peer_key.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>


namespace ikeguard::detail {

enum class SenderHold : std::uint8_t { none, retry, configuration };

// A slot keeps 32 bits of a fingerprint (0: unknown). Two configurations the slot cannot tell
// apart (one chance in 2^32) hold as one: the safe way to be wrong.
inline std::uint32_t short_fingerprint(const Fingerprint& f) noexcept {
  if (!f.known()) return 0;
  const auto low = static_cast<std::uint32_t>(f.value());
  return low != 0 ? low : 1;
}

// A known fingerprint other than the remembered one (when one is remembered) lifts a window.
inline bool lifts(const Fingerprint& offered, std::uint32_t remembered) noexcept {
  return offered.known() && remembered != 0 && short_fingerprint(offered) != remembered;
}

inline std::uint8_t add_strike(std::uint8_t strikes) noexcept {
  return strikes == std::numeric_limits<std::uint8_t>::max() ? strikes
                                                             : static_cast<std::uint8_t>(strikes + 1);
}

struct PeerState {
  Stamp sender_until = 0;    // meaningful while sender_hold() != none
  Stamp receiver_until = 0;  // meaningful while receiver_set()
  Stamp last_failure = 0;    // meaningful while counted()
  std::uint32_t sender_fingerprint = 0;    // last proposal sent (0: unknown)
  std::uint32_t receiver_fingerprint = 0;  // the proposal the receiver window rejected
  std::uint8_t sender_strikes = 0;
  std::uint8_t receiver_strikes = 0;
  std::uint8_t confirmations = 0;  // unauthenticated configuration errors seen, unconfirmed
  std::uint8_t flags = 0;  // bits 0-1: SenderHold; bit 2: receiver window set; bit 3: its
                           // first suppressed notice was reported (an event sink's concern)

  SenderHold sender_hold() const noexcept { return static_cast<SenderHold>(flags & 3u); }
  void set_sender_hold(SenderHold hold) noexcept {
    flags = static_cast<std::uint8_t>((flags & ~3u) | static_cast<unsigned>(hold));
  }
  bool receiver_set() const noexcept { return (flags & 4u) != 0; }
  void set_receiver(Stamp until) noexcept {
    receiver_until = until;
    flags = static_cast<std::uint8_t>((flags | 4u) & ~8u);
  }
  void clear_receiver() noexcept { flags = static_cast<std::uint8_t>(flags & ~12u); }
  bool suppression_reported() const noexcept { return (flags & 8u) != 0; }
  void set_suppression_reported() noexcept { flags = static_cast<std::uint8_t>(flags | 8u); }
  void forgive() noexcept {
    sender_strikes = 0;
    receiver_strikes = 0;
    confirmations = 0;
  }

  // The lapse rule, the only one: a window is open while its end lies ahead of now; strikes
  // and pending confirmations count until forgive_after has passed since the last failure.
  bool sender_open(Stamp now) const noexcept {
    return sender_hold() != SenderHold::none && ahead(sender_until, now) > 0;
  }
  bool receiver_open(Stamp now) const noexcept {
    return receiver_set() && ahead(receiver_until, now) > 0;
  }
  bool counted() const noexcept { return (sender_strikes | receiver_strikes | confirmations) != 0; }
  bool forgiven(Stamp now, Millis forgive_ms) const noexcept {
    return counted() && ahead(now, last_failure) >= forgive_ms;
  }
  // What a call sees first: lapsed windows closed, lapsed strikes forgiven. True when something
  // lapsed.
  bool settle(Stamp now, Millis forgive_ms) noexcept {
    bool changed = false;
    if (sender_hold() != SenderHold::none && !sender_open(now)) {
      set_sender_hold(SenderHold::none);
      changed = true;
    }
    if (receiver_set() && !receiver_open(now)) {
      clear_receiver();
      changed = true;
    }
    if (forgiven(now, forgive_ms)) {
      forgive();
      changed = true;
    }
    return changed;
  }

  bool any_window_open(Stamp now) const noexcept { return sender_open(now) || receiver_open(now); }
  // Milliseconds until the later open window ends; 0 when none is open.
  Millis time_left(Stamp now) const noexcept {
    Millis left = 0;
    if (sender_open(now)) left = ahead(sender_until, now);
    if (receiver_open(now)) left = std::max(left, ahead(receiver_until, now));
    return left;
  }
  std::uint32_t total_strikes() const noexcept {
    return std::uint32_t{sender_strikes} + receiver_strikes;
  }
  // Nothing worth keeping: its slot is reclaimed.
  bool idle(Stamp now) const noexcept {
    return !any_window_open(now) && !counted() && sender_fingerprint == 0;
  }
  // Worth counting when evicted: losing a remembered proposal costs little; losing a window or
  // strikes is what counts.
  bool protective(Stamp now) const noexcept { return any_window_open(now) || counted(); }
};
static_assert(sizeof(PeerState) == 24, "a 32-byte slot with its hash, two to a cache line");

// What an entry keeps beside it, apart from what decisions read (the table's cold part): the
// peer's address, and when each direction last failed, which a cluster's lifts and successes
// are ordered against (guard.hpp, apply). A stamp counts while its direction has a window or
// strikes: within forgive_after (at most 2^30 ms) of now, so it needs no rebasing.
struct Aside {
  PeerKey peer{};
  Stamp failed[2] = {0, 0};  // sender, receiver
};

// Eviction order: no open window first, then the fewest strikes, then the window that ends first.
inline bool evicts_before(const PeerState& a, const PeerState& b, Stamp now) noexcept {
  const bool a_open = a.any_window_open(now), b_open = b.any_window_open(now);
  if (a_open != b_open) return !a_open;
  if (a.total_strikes() != b.total_strikes()) return a.total_strikes() < b.total_strikes();
  return a.time_left(now) < b.time_left(now);
}

// Rewrites a state whose stamps were comparable at `reference` (the shard's last call) so they
// are comparable at `now`, however long the shard lay idle, then settles it. A window or a
// failure too far in the past to stamp is stamped at the point where the lapse rule already
// closes or forgives it; a window further ahead than `cap` (a clock that went back) is cut to it.
inline void rebase(PeerState& s, Millis reference, const Now& now, Millis cap, Millis forgive_ms) noexcept {
  const auto absolute = [&](Stamp t) { return reference + ahead(t, stamp(reference)); };
  const auto window = [&](Stamp t) { return stamp(std::clamp(absolute(t), now.ms, now.ms + cap)); };
  if (s.sender_hold() != SenderHold::none) s.sender_until = window(s.sender_until);
  if (s.receiver_set()) s.receiver_until = window(s.receiver_until);
  if (s.counted()) {
    s.last_failure = stamp(std::clamp(absolute(s.last_failure), now.ms - forgive_ms, now.ms));
  }
  s.settle(now.at, forgive_ms);
}

// What a proposal call did to the peer's state (its answer is written to a Decision).
struct ProposalStep {
  bool lifted = false;   // a changed fingerprint lifted the window
  bool changed = false;  // the state is not what it was (lapsed, lifted, or a new fingerprint)
};

// The decision on a proposal (on_outbound_proposal: Inbound false; on_inbound_proposal: Inbound
// true), applied to `state` (a default PeerState for a peer not tracked): settles it, holds while
// the window is open unless the fingerprint lifts it, and outbound remembers the fingerprint
// sent; the answer goes to `decision` (written in place: no copies on the hot path). The
// guard's lock-free path runs it on a copy and answers alone when nothing changed;
// otherwise the locked path runs it on the entry itself. Always inlined: it is most
// of a lock-free answer's work.
template <bool Inbound>
IKEGUARD_ALWAYS_INLINE ProposalStep decide_proposal(PeerState& state, const Fingerprint& fingerprint,
                                                    const Now& now, Millis forgive_ms,
                                                    Decision& decision) noexcept {
  ProposalStep step;
  step.changed = state.settle(now.at, forgive_ms);
  if constexpr (Inbound) {
    if (state.receiver_open(now.at)) {
      if (!lifts(fingerprint, state.receiver_fingerprint)) {
        decision = {Verdict::hold, end_of(state.receiver_until, now), state.receiver_strikes};
        return step;
      }
      state.clear_receiver();
      step.lifted = step.changed = true;
    }
    decision = {Verdict::proceed, TimePoint{}, state.receiver_strikes};
  } else {
    if (state.sender_open(now.at)) {
      if (!lifts(fingerprint, state.sender_fingerprint)) {
        decision = {Verdict::hold, end_of(state.sender_until, now), state.sender_strikes};
        return step;
      }
      state.set_sender_hold(SenderHold::none);
      step.lifted = step.changed = true;
    }
    const std::uint32_t offered = short_fingerprint(fingerprint);
    if (offered != state.sender_fingerprint) {
      state.confirmations = 0;  // they were about another configuration
      state.sender_fingerprint = offered;
      step.changed = true;
    }
    decision = {Verdict::proceed, TimePoint{}, state.sender_strikes};
  }
  return step;
}

}  // namespace ikeguard::detail
