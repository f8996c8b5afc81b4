// SPDX-License-Identifier: MIT
// A reference model of NegotiationGuard, written from the documentation alone (README.md's and
// docs/behaviour.md's behaviour sections, docs/snapshots.md): a map from peer to state, times at
// full precision with only the documented millisecond rounding, no shards, no lock-free path, no
// capacity. It shares no code with the guard: only the public value types. The fuzz targets run
// it beside the real guard and compare every answer, notice and counter.
//
// Jitter is random: with Policy::jitter > 0 the model cannot predict a window's end, only its
// bounds. It then asks `adopt_end` (set by the harness) for the end the guard chose, giving the
// documented bounds; the harness checks the guard's answer lies within them and returns it.
#pragma once

#include <ikeguard/decision.hpp>
#include <ikeguard/fingerprint.hpp>
#include <ikeguard/guard.hpp>
#include <ikeguard/notify.hpp>
#include <ikeguard/peer_key.hpp>
#include <ikeguard/policy.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

namespace ikeguard::model {

class ReferenceGuard {
 public:
  /// Given the documented bounds [lowest, highest] of a jittered window's end, returns the end
  /// the guard chose (the harness checks it lies within them).
  using AdoptEnd = std::function<TimePoint(TimePoint lowest, TimePoint highest)>;

  explicit ReferenceGuard(const Policy& policy) : policy_(policy) {}

  void set_adopt_end(AdoptEnd adopt) { adopt_end_ = std::move(adopt); }

  // --- the five calls, at `now` ---------------------------------------------------------------

  Decision on_outbound_proposal(TimePoint now, const PeerKey& peer, Fingerprint fp) {
    State* state = find(peer);
    if (state != nullptr) forgive_if_due(*state, now);
    if (state != nullptr && open(state->sender, now)) {
      if (lifts(state->sender.fingerprint, fp)) {
        state->sender.open = false;  // lifted: the proposal proceeds; strikes stay
        ++stats_.fingerprint_lifts;
      } else {
        ++stats_.held_outbound;  // a held proposal changes nothing, its fingerprint included
        return Decision{Verdict::hold, state->sender.until, state->sender.strikes};
      }
    }
    ++stats_.proceeded_outbound;
    if (state == nullptr && fp.known()) state = insert(peer);
    if (state != nullptr) {
      if (!same(state->last_sent, fp)) {  // any change restarts the confirmation count
        state->pending = 0;
        state->confirmed = false;
      }
      state->last_sent = fp;
    }
    const std::uint32_t strikes = state != nullptr ? state->sender.strikes : 0;
    reclaim_if_empty(peer, now);
    return Decision{Verdict::proceed, TimePoint{}, strikes};
  }

  ErrorOutcome on_inbound_error(TimePoint now, const PeerKey& peer, const Notice& notice,
                                Origin origin) {
    State* state = find(peer);
    if (state != nullptr) forgive_if_due(*state, now);
    const std::uint32_t strikes_now = state != nullptr ? state->sender.strikes : 0;
    const NotifyClass cls = policy_.notify_classes.classify(notice.version, notice.type);
    if (origin == Origin::unsolicited || cls == NotifyClass::ignored) {
      ++stats_.ignored;
      if (origin == Origin::unsolicited) ++stats_.unsolicited;
      return ErrorOutcome{ErrorAction::ignored, TimePoint{}, strikes_now};
    }
    if (cls == NotifyClass::retry_now) {
      ++stats_.retried_now;
      return ErrorOutcome{ErrorAction::retry_now, TimePoint{}, strikes_now};
    }
    if (state == nullptr) state = insert(peer);
    if (cls == NotifyClass::retry_later) return hold_for_retry(*state, now, false);
    // Configuration class. An unconfirmed answers_request error counts toward confirmation
    // first, even while a configuration window is open (its confirmations forgiven meanwhile).
    if (origin == Origin::answers_request && !state->confirmed) {
      ++state->pending;
      if (state->pending < policy_.unauthenticated_confirmations) {
        state->last_failure = now;  // a counted unconfirmed error restarts forgiveness
        state->failed = true;
        return hold_for_retry(*state, now, true);
      }
    }
    return honour(*state, now);
  }

  Decision on_inbound_proposal(TimePoint now, const PeerKey& peer, Fingerprint fp) {
    State* state = find(peer);
    if (state != nullptr) forgive_if_due(*state, now);
    if (state != nullptr && open(state->receiver, now)) {
      if (lifts(state->receiver.fingerprint, fp)) {
        state->receiver.open = false;
        ++stats_.fingerprint_lifts;
      } else {
        ++stats_.dropped_inbound;
        return Decision{Verdict::hold, state->receiver.until, state->receiver.strikes};
      }
    }
    ++stats_.proceeded_inbound;
    const std::uint32_t strikes = state != nullptr ? state->receiver.strikes : 0;
    reclaim_if_empty(peer, now);
    return Decision{Verdict::proceed, TimePoint{}, strikes};
  }

  Decision on_local_rejection(TimePoint now, const PeerKey& peer, const Notice& notice,
                              Fingerprint fp) {
    State* state = find(peer);
    if (state != nullptr) forgive_if_due(*state, now);
    const NotifyClass cls = policy_.notify_classes.classify(notice.version, notice.type);
    if (cls != NotifyClass::configuration) {
      send(peer, notice);
      return Decision{Verdict::proceed, TimePoint{}, state != nullptr ? state->receiver.strikes : 0};
    }
    if (state != nullptr && open(state->receiver, now)) {
      if (lifts(state->receiver.fingerprint, fp)) {
        state->receiver.open = false;  // replaced below; only the proposal calls count lifts
      } else {
        ++stats_.notices_suppressed;
        return Decision{Verdict::hold, state->receiver.until, state->receiver.strikes};
      }
    }
    if (state == nullptr) state = insert(peer);
    Window& w = state->receiver;
    w.strikes = std::min<std::uint32_t>(255, w.strikes + 1);
    w.until = window_end(now, policy_.receiver_window, receiver_cap(), w.strikes, TimePoint::min());
    w.open = true;
    w.fingerprint = fp;
    state->last_failure = now;
    state->failed = true;
    send(peer, notice);
    return Decision{Verdict::hold, w.until, w.strikes};
  }

  void on_established(const PeerKey& peer) {
    ++stats_.established;
    for (auto it = peers_.begin(); it != peers_.end(); ++it) {
      if (it->first == peer) {
        peers_.erase(it);
        return;
      }
    }
  }

  /// A snapshot taken at `now` and a guard restored from it at `restored_at` on a clock that may
  /// start anywhere (docs/snapshots.md): the counters restart at zero; windows resume with what
  /// they had left, never more than max_window plus jitter; the time in between is not
  /// subtracted. Both instants are whole milliseconds, unless they are the same instant.
  void restart(TimePoint now, TimePoint restored_at) {
    stats_ = Stats{};
    const Duration shift = restored_at - now;
    const std::int64_t cap_ms = window_cap_ms();
    for (auto& entry : peers_) {
      for (Window* w : {&entry.second.sender, &entry.second.receiver}) {
        if (!open(w->until, w->open, now)) {
          w->open = false;
          continue;
        }
        const std::int64_t left_ms = ceil_ms((w->until - now).count());
        // Never longer than the cap, a saturated window included: the end is rounded down to
        // the millisecond here.
        if (left_ms > cap_ms) {
          w->until = floor_to_ms(restored_at + Duration(cap_ms * 1000000));
        } else if (w->until != TimePoint::max()) {  // saturated (same clock only): for ever
          w->until += shift;
        }
      }
      // A failure already forgiven is as good as forgive_after ago (and shifts no further).
      State& state = entry.second;
      if (!state.failed) {
        // nothing to shift
      } else if (forgiveness_due(state, now)) {
        state.last_failure =
            restored_at - Duration(ceil_ms(policy_.forgive_after.count()) * 1000000);
      } else {
        state.last_failure += shift;
      }
    }
  }

  /// A window saturated at the clock's last instant, shorter than the cap, is open: a restart
  /// must keep the clock.
  bool any_saturated(TimePoint now) const noexcept {
    for (const auto& entry : peers_) {
      for (const Window* w : {&entry.second.sender, &entry.second.receiver}) {
        if (open(*w, now) && w->until == TimePoint::max() &&
            ceil_ms((w->until - now).count()) <= window_cap_ms()) {
          return true;
        }
      }
    }
    return false;
  }

  // --- what the model says about the guard ---------------------------------------------------

  const std::vector<std::pair<PeerKey, Notice>>& sent() const noexcept { return sent_; }
  void clear_sent() noexcept { sent_.clear(); }
  /// The counters (not the gauges peers_tracked, capacity, table_bytes).
  const Stats& counters() const noexcept { return stats_; }
  /// At most this many entries can be in the table: every peer recorded and not since
  /// established or reclaimed.
  std::size_t most_tracked() const noexcept { return peers_.size(); }
  /// At least this many: the peers with something to remember at `now` (an open window,
  /// strikes or confirmations not yet forgiven, a remembered proposal).
  std::size_t least_tracked(TimePoint now) const noexcept {
    std::size_t count = 0;
    for (const auto& entry : peers_) count += remembers(entry.second, now) ? 1 : 0;
    return count;
  }

 private:
  struct Window {
    bool open = false;
    TimePoint until{};
    std::uint32_t strikes = 0;
    Fingerprint fingerprint{};
    bool configuration = false;  // sender: held for a configuration error, not a retry
  };
  struct State {
    Window sender, receiver;
    Fingerprint last_sent{};  // the last proposal sent (on_outbound_proposal that proceeded)
    unsigned pending = 0;     // unconfirmed answers_request configuration errors
    bool confirmed = false;
    bool failed = false;      // last_failure is set
    TimePoint last_failure{};
  };

  static bool open(TimePoint until, bool is_open, TimePoint now) noexcept {
    // A window holds while now < until; one that saturated at the clock's last instant holds at
    // every time the clock can reach.
    return is_open && (now < until || until == TimePoint::max());
  }
  static bool open(const Window& w, TimePoint now) noexcept { return open(w.until, w.open, now); }

  // A known fingerprint different from the window's lifts it; an unknown one never lifts, and a
  // window opened with one is lifted by none. The table keeps 32 bits of a fingerprint: the
  // harness uses fingerprints that differ in every part.
  static bool lifts(Fingerprint window, Fingerprint given) noexcept {
    return window.known() && given.known() && window != given;
  }
  static bool same(Fingerprint a, Fingerprint b) noexcept { return a == b; }

  static std::int64_t floor_ms(std::int64_t ns) noexcept {
    return ns >= 0 ? ns / 1000000 : -((-ns + 999999) / 1000000);
  }
  static std::int64_t ceil_ms(std::int64_t ns) noexcept {
    return ns >= 0 ? ns / 1000000 + (ns % 1000000 != 0 ? 1 : 0) : -((-ns) / 1000000);
  }
  // Rounded up to the millisecond, saturating at TimePoint::max().
  static TimePoint ceil_to_ms(TimePoint t) noexcept {
    if (t == TimePoint::max()) return t;
    const std::int64_t ms = ceil_ms(t.time_since_epoch().count());
    if (ms > std::numeric_limits<std::int64_t>::max() / 1000000) return TimePoint::max();
    return TimePoint(Duration(ms * 1000000));
  }
  static TimePoint floor_to_ms(TimePoint t) noexcept {
    return TimePoint(Duration(floor_ms(t.time_since_epoch().count()) * 1000000));
  }
  // now + length (length in ns, >= 0), rounded up to the millisecond, saturating.
  static TimePoint end_after(TimePoint now, long double length_ns) noexcept {
    const long double room =
        static_cast<long double>(TimePoint::max().time_since_epoch().count()) -
        static_cast<long double>(now.time_since_epoch().count());
    const long double whole = std::ceil(length_ns);
    if (whole >= room) return TimePoint::max();
    return ceil_to_ms(now + Duration(static_cast<std::int64_t>(whole)));
  }

  long double receiver_cap() const noexcept {
    const long double ratio = static_cast<long double>(policy_.receiver_window.count()) /
                              static_cast<long double>(policy_.sender_window.count());
    return static_cast<long double>(policy_.max_window.count()) * std::min<long double>(1, ratio);
  }
  long double sender_cap() const noexcept {
    return static_cast<long double>(policy_.max_window.count());
  }
  // max_window plus jitter, in whole milliseconds rounded up: no window is longer. In double,
  // as the jitter factor is one: 1 + jitter of 1e-17 is 1. A jittered length is whole
  // nanoseconds below it (the factor stays under 1 + jitter), so the fraction is dropped.
  std::int64_t window_cap_ms() const noexcept {
    const double longest = static_cast<double>(policy_.max_window.count()) * (1.0 + policy_.jitter);
    return ceil_ms(static_cast<std::int64_t>(longest));
  }

  // The n-th consecutive failure's window: min(T * backoff^(n-1), cap), scaled by the jitter
  // factor in [1 - jitter, 1 + jitter). `at_least`: an end already open that the new one keeps
  // if later (a retry hold).
  TimePoint window_end(TimePoint now, Duration base, long double cap, std::uint32_t strikes,
                       TimePoint at_least) {
    long double length = static_cast<long double>(base.count()) *
                         std::pow(static_cast<long double>(policy_.backoff),
                                  static_cast<long double>(strikes - 1));
    if (!(length <= cap)) length = cap;
    if (policy_.jitter == 0) return std::max(at_least, end_after(now, length));
    const TimePoint lowest = end_after(now, std::floor(length * (1.0L - policy_.jitter)));
    const TimePoint highest = end_after(now, std::ceil(length * (1.0L + policy_.jitter)));
    if (at_least >= highest) return at_least;
    return adopt_end_(std::max(lowest, at_least), highest);
  }

  ErrorOutcome hold_for_retry(State& state, TimePoint now, bool awaiting_confirmation) {
    ++stats_.retried_later;
    if (awaiting_confirmation) ++stats_.awaiting_confirmation;
    const TimePoint end =
        end_after(now, static_cast<long double>(policy_.retry_delay.count()));
    Window& w = state.sender;
    if (!(open(w, now) && w.until >= end)) {  // a longer open window is kept
      // A configuration window still open is only extended: it stays one, so errors inside it
      // do not escalate.
      w.configuration = open(w, now) && w.configuration;
      w.open = true;
      w.until = end;
      w.fingerprint = state.last_sent;
    }
    return ErrorOutcome{ErrorAction::retry_later, w.until, w.strikes};
  }

  ErrorOutcome honour(State& state, TimePoint now) {
    ++stats_.errors_honoured;
    state.confirmed = true;
    state.pending = 0;
    Window& w = state.sender;
    if (open(w, now) && w.configuration) {  // several requests in flight: no escalation
      return ErrorOutcome{ErrorAction::hold, w.until, w.strikes};
    }
    w.strikes = std::min<std::uint32_t>(255, w.strikes + 1);
    const TimePoint kept = open(w, now) ? w.until : TimePoint::min();  // a retry hold
    w.until = window_end(now, policy_.sender_window, sender_cap(), w.strikes, kept);
    w.open = true;
    w.configuration = true;
    w.fingerprint = state.last_sent;
    state.last_failure = now;
    state.failed = true;
    return ErrorOutcome{ErrorAction::hold, w.until, w.strikes};
  }

  // One forgiveness clock per peer, counted in whole milliseconds: strikes of both directions
  // and pending confirmations lapse at the first call whose time, floored to the millisecond, is
  // forgive_after (rounded up) after the last failure's, floored.
  bool forgiveness_due(const State& state, TimePoint now) const noexcept {
    if (!state.failed) return false;
    const std::int64_t since = floor_ms(now.time_since_epoch().count()) -
                               floor_ms(state.last_failure.time_since_epoch().count());
    return since >= ceil_ms(policy_.forgive_after.count());
  }
  void forgive_if_due(State& state, TimePoint now) noexcept {
    if (!forgiveness_due(state, now)) return;
    state.sender.strikes = 0;
    state.receiver.strikes = 0;
    state.pending = 0;
    state.confirmed = false;
    // The last failure stays: what is counted later without a new failure (a confirmation by
    // an error inside an open window) lapses forgive_after after it too.
  }

  bool remembers(const State& s, TimePoint now) const noexcept {
    if (open(s.sender, now) || open(s.receiver, now) || s.last_sent.known()) return true;
    if (forgiveness_due(s, now)) return false;
    return s.sender.strikes > 0 || s.receiver.strikes > 0 || s.pending > 0 || s.confirmed;
  }
  // A proposal that proceeds reclaims an entry with nothing left to remember.
  void reclaim_if_empty(const PeerKey& peer, TimePoint now) {
    for (auto it = peers_.begin(); it != peers_.end(); ++it) {
      if (it->first == peer) {
        if (!remembers(it->second, now)) peers_.erase(it);
        return;
      }
    }
  }

  State* find(const PeerKey& peer) noexcept {
    for (auto& entry : peers_) {
      if (entry.first == peer) return &entry.second;
    }
    return nullptr;
  }
  State* insert(const PeerKey& peer) {
    peers_.emplace_back(peer, State{});
    return &peers_.back().second;
  }
  void send(const PeerKey& peer, const Notice& notice) {
    ++stats_.notices_sent;
    sent_.emplace_back(peer, notice);
  }

  Policy policy_;
  AdoptEnd adopt_end_;
  std::vector<std::pair<PeerKey, State>> peers_;  // few peers: a list is the plainest map
  std::vector<std::pair<PeerKey, Notice>> sent_;
  Stats stats_{};
};

}  // namespace ikeguard::model
