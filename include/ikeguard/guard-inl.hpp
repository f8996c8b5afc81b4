// SPDX-License-Identifier: MIT
// The guard's bodies (guard.hpp): the method's steps A, B and C first, then what they stand on.
// The library compiles this once; under IKEGUARD_HEADER_ONLY every user includes it.
//
// Each peer is one entry of the peer table (detail/peer_table.hpp), keyed by its keyed hash,
// holding a detail::PeerState: both windows, strikes, and fingerprints. Every call reads the
// clock at most once; proposals that change nothing are answered without a lock
// (answer_without_lock), and those about a peer not held without the clock (answer_untracked).
#pragma once

#include <ikeguard/guard.hpp>

#include <ikeguard/cluster-inl.hpp>
#include <ikeguard/detail/counters-inl.hpp>
#include <ikeguard/detail/crypto-inl.hpp>
#include <ikeguard/detail/peer_table-inl.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#if IKEGUARD_HAS_EXCEPTIONS
#include <stdexcept>
#endif

namespace ikeguard {

using detail::Count;
using detail::EventBatch;
using detail::Millis;
using detail::Now;
using detail::PeerState;
using detail::SenderHold;

// ---- Step A: the sender asks before it proposes ------------------------------------------------

IKEGUARD_INLINE Decision NegotiationGuard::on_outbound_proposal(const PeerKey& peer,
                                                                const Fingerprint& fingerprint) noexcept {
  return proposal</*Inbound=*/false>(peer, fingerprint);
}

// ---- Step B: the receiver's gate, and its rejection -------------------------------------------

IKEGUARD_INLINE Decision NegotiationGuard::on_inbound_proposal(const PeerKey& peer,
                                                               const Fingerprint& fingerprint) noexcept {
  return proposal</*Inbound=*/true>(peer, fingerprint);
}

IKEGUARD_INLINE Decision NegotiationGuard::on_local_rejection(const PeerKey& peer,
                                                              const Notice& notice,
                                                              const Fingerprint& fingerprint) {
  const std::uint64_t hash = detail::peer_hash(keys_, peer);
  Shard& shard = table_.shard_for(hash);
  shard.prefetch(hash);
  const Now now(clock_.now());
  const NotifyClass cls = policy_.notify_classes.classify(notice.version, notice.type);
  EventBatch events(extras_.events, &peer, now);  // delivered after the lock is released
  events.about(notice, cls);
  Decision decision;
  {
    Shard::Writer writing(shard);
    keep_fresh(shard, now);
    Table::Entry* entry = shard.find(hash);
    if (entry != nullptr) events.settle(entry->value, forgive_ms_);
    if (cls != NotifyClass::configuration) {
      // The peer is meant to act on it (new KE group, cookie, later retry): no window.
      decision = {Verdict::proceed, TimePoint{}, entry != nullptr ? entry->value.receiver_strikes : 0u};
    } else {
      Table::Entry& held = entry != nullptr ? *entry : insert(shard, hash, peer, now, events);
      PeerState& state = held.value;
      if (state.receiver_open(now.at) && !detail::lifts(fingerprint, state.receiver_fingerprint)) {
        shard.locked().counters.bump(Count::notices_suppressed);  // one notice per window
        if (events.wanted() && !state.suppression_reported()) {  // the first only: no event storm
          state.set_suppression_reported();
          events.window(events.add_noticed(EventKind::notice_suppressed, Direction::receiver),
                        state.receiver_until, state.receiver_strikes, state.receiver_fingerprint);
        }
        return {Verdict::hold, detail::end_of(state.receiver_until, now), state.receiver_strikes};
      }
      decision = open_receiver_window(shard, state, fingerprint, now);
      note_failure(shard, held, Direction::receiver, now.at);
      events.window(events.add_noticed(EventKind::receiver_window_opened, Direction::receiver),
                    state.receiver_until, state.receiver_strikes, state.receiver_fingerprint);
    }
    shard.locked().counters.bump(Count::notices_sent);
  }
  transport_.send_notice(peer, notice);  // outside the lock: the transport may call the guard
  if (Event* e = events.add_noticed(EventKind::notice_sent, Direction::receiver)) {
    e->strikes = decision.strikes;
  }
  return decision;
}

// T1, escalated with the receiver's strikes, remembering the configuration it rejected.
IKEGUARD_INLINE Decision NegotiationGuard::open_receiver_window(Shard& shard, PeerState& state,
                                                                const Fingerprint& fingerprint,
                                                                const Now& now) noexcept {
  state.receiver_strikes = detail::add_strike(state.receiver_strikes);
  state.last_failure = now.at;
  const Millis until = detail::window_end(
      now, window_length(shard, policy_.receiver_window, state.receiver_strikes));
  state.set_receiver(detail::stamp(until));
  state.receiver_fingerprint = detail::short_fingerprint(fingerprint);
  return {Verdict::hold, detail::point_ms(until), state.receiver_strikes};
}

// ---- Step C: the sender receives the error -----------------------------------------------------

IKEGUARD_INLINE ErrorOutcome NegotiationGuard::on_inbound_error(const PeerKey& peer,
                                                                const Notice& notice,
                                                                Origin origin) noexcept {
  const std::uint64_t hash = detail::peer_hash(keys_, peer);
  Shard& shard = table_.shard_for(hash);
  shard.prefetch(hash);
  const Now now(clock_.now());
  const NotifyClass cls = policy_.notify_classes.classify(notice.version, notice.type);
  EventBatch events(extras_.events, &peer, now);  // delivered after the lock is released
  events.about(notice, cls);
  Shard::Writer writing(shard);
  keep_fresh(shard, now);
  detail::CounterSet& counters = shard.locked().counters;
  Table::Entry* entry = shard.find(hash);
  if (entry != nullptr) events.settle(entry->value, forgive_ms_);
  const std::uint32_t strikes = entry != nullptr ? entry->value.sender_strikes : 0;

  // RFC 7296 2.21.1: an error in the clear that answers nothing we sent may be forged.
  if (origin == Origin::unsolicited || cls == NotifyClass::ignored) {
    counters.bump(Count::ignored);
    if (origin == Origin::unsolicited) {
      counters.bump(Count::unsolicited);
      if (events.wanted()) report_unsolicited(events, now);
    }
    return {ErrorAction::ignored, TimePoint{}, strikes};
  }
  if (cls == NotifyClass::retry_now) {
    counters.bump(Count::retried_now);
    return {ErrorAction::retry_now, TimePoint{}, strikes};
  }
  Table::Entry& held = entry != nullptr ? *entry : insert(shard, hash, peer, now, events);
  const bool awaiting_confirmation =
      cls == NotifyClass::configuration && origin == Origin::answers_request &&
      held.value.confirmations + 1u < policy_.unauthenticated_confirmations;
  if (cls == NotifyClass::retry_later || awaiting_confirmation) {
    return hold_for_retry(shard, held, awaiting_confirmation, now, events);
  }
  return honour_configuration_error(shard, held, now, events);
}

// At most one unsolicited_ignored event a second, counting the ones it stands for: a flood of
// forged errors must not become a flood of log lines.
IKEGUARD_INLINE void NegotiationGuard::report_unsolicited(EventBatch& events, const Now& now) noexcept {
  const std::uint64_t pending = unsolicited_unreported_.fetch_add(1, std::memory_order_relaxed) + 1;
  Millis last = unsolicited_reported_at_.load(std::memory_order_relaxed);
  if (last != never && now.ms >= last && now.ms - last < 1000) return;
  if (!unsolicited_reported_at_.compare_exchange_strong(last, now.ms, std::memory_order_relaxed)) return;
  if (Event* e = events.add_noticed(EventKind::unsolicited_ignored, Direction::sender)) {
    e->count = unsolicited_unreported_.exchange(0, std::memory_order_relaxed);
    if (e->count == 0) e->count = pending;
  }
}

// A transient error, or an unauthenticated one not yet confirmed: a short hold (retry_delay)
// that never shortens a longer window already open.
IKEGUARD_INLINE ErrorOutcome NegotiationGuard::hold_for_retry(Shard& shard, Table::Entry& entry,
                                                              bool awaiting_confirmation,
                                                              const Now& now,
                                                              EventBatch& events) noexcept {
  PeerState& state = entry.value;
  detail::CounterSet& counters = shard.locked().counters;
  if (awaiting_confirmation) {
    ++state.confirmations;
    state.last_failure = now.at;
    counters.bump(Count::awaiting_confirmation);
  }
  const detail::Stamp until = detail::stamp(detail::window_end(now, policy_.retry_delay));
  if (!state.sender_open(now.at) || detail::ahead(until, state.sender_until) > 0) {
    state.sender_until = until;
    if (state.sender_hold() != SenderHold::configuration) state.set_sender_hold(SenderHold::retry);
    note_failure(shard, entry, Direction::sender, now.at);
    if (Event* e = events.add_noticed(EventKind::retry_later_set, Direction::sender)) {
      events.window(e, state.sender_until, state.sender_strikes, state.sender_fingerprint);
      e->awaiting_confirmation = awaiting_confirmation;
    }
  }
  counters.bump(Count::retried_later);
  return {ErrorAction::retry_later, detail::end_of(state.sender_until, now), state.sender_strikes};
}

// A configuration error, trusted or confirmed: T2, escalated with the sender's strikes. Several
// in-flight requests failing together (one per CHILD_SA, say) are one failure: an open window is
// not escalated again.
IKEGUARD_INLINE ErrorOutcome NegotiationGuard::honour_configuration_error(Shard& shard,
                                                                          Table::Entry& entry,
                                                                          const Now& now,
                                                                          EventBatch& events) noexcept {
  PeerState& state = entry.value;
  shard.locked().counters.bump(Count::errors_honoured);
  // The peer is confirmed to refuse this configuration: its later errors act at once, until a
  // success, forgiveness, or a different configuration is sent.
  const auto confirmed = static_cast<std::uint8_t>(policy_.unauthenticated_confirmations - 1);
  if (state.sender_open(now.at) && state.sender_hold() == SenderHold::configuration) {
    // No new failure: a confirmation lapses with the last one, so once that was forgiven there
    // is none to date it from (and a restored entry with nothing counted keeps no such time).
    if (state.counted()) state.confirmations = confirmed;
    return {ErrorAction::hold, detail::end_of(state.sender_until, now), state.sender_strikes};
  }
  state.confirmations = confirmed;
  state.sender_strikes = detail::add_strike(state.sender_strikes);
  state.last_failure = now.at;
  const detail::Stamp until = detail::stamp(detail::window_end(
      now, window_length(shard, policy_.sender_window, state.sender_strikes)));
  if (!state.sender_open(now.at) || detail::ahead(until, state.sender_until) > 0) {
    state.sender_until = until;
  }
  state.set_sender_hold(SenderHold::configuration);
  note_failure(shard, entry, Direction::sender, now.at);
  events.window(events.add_noticed(EventKind::sender_window_opened, Direction::sender),
                state.sender_until, state.sender_strikes, state.sender_fingerprint);
  return {ErrorAction::hold, detail::end_of(state.sender_until, now), state.sender_strikes};
}

// ---- Success -----------------------------------------------------------------------------------

IKEGUARD_INLINE void NegotiationGuard::on_established(const PeerKey& peer) noexcept {
  const std::uint64_t hash = detail::peer_hash(keys_, peer);
  Shard& shard = table_.shard_for(hash);
  // The clock only for a sink: the event's time, and whether anything was still held.
  const Now now(extras_.events != nullptr ? clock_.now() : TimePoint{});
  EventBatch events(extras_.events, &peer, now);
  Shard::Writer writing(shard);
  if (Table::Entry* entry = shard.find(hash)) {
    if (events.wanted()) {
      events.settle(entry->value, forgive_ms_);
      if (entry->value.protective(now.at)) {
        Event* e = events.add(EventKind::windows_cleared, Direction::none);
        e->strikes = entry->value.total_strikes();
      }
    }
    shard.erase(entry);
  }
  shard.locked().counters.bump(Count::established);
}

// ---- Proposals: one decision, with or without the lock ----------------------------------------

namespace detail {
template <bool Inbound>
constexpr Count proposal_count(Verdict verdict) noexcept {
  if constexpr (Inbound) return verdict == Verdict::hold ? Count::dropped_inbound : Count::proceeded_inbound;
  else return verdict == Verdict::hold ? Count::held_outbound : Count::proceeded_outbound;
}
}  // namespace detail

// Both proposal calls: decide_proposal() on the peer's state, answered without the lock when
// that changes nothing, else under it, where the changed state is kept (a new entry for a
// remembered proposal; none for a peer with nothing left to remember). A peer the table does not
// hold, asked about with nothing to remember, is answered before the clock is read: no window
// can hold it at any time.
template <bool Inbound>
IKEGUARD_ALWAYS_INLINE Decision NegotiationGuard::proposal(const PeerKey& peer,
                                                           const Fingerprint& fingerprint) noexcept {
  const std::uint64_t hash = detail::peer_hash(keys_, peer);
  Shard& shard = table_.shard_for(hash);
  Decision decision;  // the return value itself: every path below fills it
  Peek seen = peek(shard, hash);
  if (answer_untracked<Inbound>(seen, fingerprint, decision)) {
    stripes_.here().add(detail::proposal_count<Inbound>(Verdict::proceed));
    return decision;
  }
  const Now now(clock_.now());
  if (answer_without_lock<Inbound>(seen, fingerprint, now, decision)) {
    stripes_.here().add(detail::proposal_count<Inbound>(decision.verdict));
  } else {
    decision = locked_proposal<Inbound>(shard, hash, peer, fingerprint, now);
  }
  return decision;
}

// A burst: the same decisions, element by element in order, with the work that does not depend
// on the order done first. A chunk's keys are all hashed first (independent arithmetic the
// processor overlaps); then, while element k is decided, the home slot of element k +
// prefetch_distance is fetched, so about that many cache misses are in flight at any moment (a
// core tracks a limited number: fetching the whole chunk at once would drop most of them). The
// clock is read once, when the first element needs it; the lock-free answers are counted once
// per burst.
template <bool Inbound>
Errc NegotiationGuard::proposals(Span<const PeerKey> peers, Span<const Fingerprint> fingerprints,
                                 Span<Decision> decisions) noexcept {
  const std::size_t n = peers.size();
  if ((n != 0 && (peers.data() == nullptr || decisions.data() == nullptr)) || decisions.size() < n ||
      (!fingerprints.empty() && (fingerprints.size() != n || fingerprints.data() == nullptr))) {
    return Errc::invalid_argument;
  }
  constexpr std::size_t chunk = 64;
  constexpr std::size_t prefetch_distance = 6;
  std::uint64_t hashes[chunk];
  Shard* shards[chunk];
  const Fingerprint unknown{};
  std::optional<Now> now;
  std::uint64_t held = 0, proceeded = 0;
  for (std::size_t base = 0; base < n; base += chunk) {
    const std::size_t count = std::min(chunk, n - base);
    for (std::size_t k = 0; k < count; ++k) {
      hashes[k] = detail::peer_hash(keys_, peers[base + k]);
      shards[k] = &table_.shard_for(hashes[k]);
    }
    for (std::size_t k = 0; k < std::min(prefetch_distance, count); ++k) shards[k]->prefetch(hashes[k]);
    for (std::size_t k = 0; k < count; ++k) {
      if (k + prefetch_distance < count) {
        shards[k + prefetch_distance]->prefetch(hashes[k + prefetch_distance]);
      }
      const std::size_t i = base + k;
      const Fingerprint& fingerprint = fingerprints.empty() ? unknown : fingerprints[i];
      Decision& decision = decisions[i];
      Peek seen = peek(*shards[k], hashes[k]);
      if (answer_untracked<Inbound>(seen, fingerprint, decision)) {
        ++proceeded;
        continue;
      }
      if (!now) now.emplace(clock_.now());
      if (answer_without_lock<Inbound>(seen, fingerprint, *now, decision)) {
        ++(decision.verdict == Verdict::hold ? held : proceeded);
      } else {
        decision = locked_proposal<Inbound>(*shards[k], hashes[k], peers[i], fingerprint, *now);
      }
    }
  }
  detail::CounterSet& counters = stripes_.here();
  if (proceeded != 0) counters.add(detail::proposal_count<Inbound>(Verdict::proceed), proceeded);
  if (held != 0) counters.add(detail::proposal_count<Inbound>(Verdict::hold), held);
  return Errc::ok;
}

IKEGUARD_INLINE Errc NegotiationGuard::on_inbound_proposals(Span<const PeerKey> peers,
                                                           Span<const Fingerprint> fingerprints,
                                                           Span<Decision> decisions) noexcept {
  return proposals</*Inbound=*/true>(peers, fingerprints, decisions);
}

IKEGUARD_INLINE Errc NegotiationGuard::on_outbound_proposals(Span<const PeerKey> peers,
                                                            Span<const Fingerprint> fingerprints,
                                                            Span<Decision> decisions) noexcept {
  return proposals</*Inbound=*/false>(peers, fingerprints, decisions);
}

// The seqlock read (Shard::read), taking the shard's normalisation time from inside it, so the
// copy and that time belong together.
IKEGUARD_ALWAYS_INLINE NegotiationGuard::Peek NegotiationGuard::peek(const Shard& shard,
                                                                    std::uint64_t hash) noexcept {
  Peek seen;
  seen.read = shard.read(hash, seen.state, [&seen](const ShardClock& clock) {
    seen.normalized_at = clock.normalized_at.load(std::memory_order_relaxed);
    return true;
  });
  return seen;
}

// Not in the table, and nothing to remember (an inbound proposal, or an outbound one with an
// unknown fingerprint): proceed, at any time; no clock needed.
template <bool Inbound>
IKEGUARD_ALWAYS_INLINE bool NegotiationGuard::answer_untracked(const Peek& seen,
                                                               const Fingerprint& fingerprint,
                                                               Decision& decision) noexcept {
  if (seen.read != Table::Read::absent || (!Inbound && fingerprint.known())) return false;
  decision = {Verdict::proceed, TimePoint{}, 0};
  return true;
}

template <bool Inbound>
Decision NegotiationGuard::locked_proposal(Shard& shard, std::uint64_t hash, const PeerKey& peer,
                                           const Fingerprint& fingerprint, const Now& now) noexcept {
  EventBatch events(extras_.events, &peer, now);  // delivered after the lock is released
  Shard::Writer writing(shard);
  keep_fresh(shard, now);
  Table::Entry* entry = shard.find(hash);
  PeerState state = entry != nullptr ? entry->value : PeerState{};
  if (entry != nullptr) events.settle(state, forgive_ms_);
  Decision decision;
  const detail::ProposalStep step =
      detail::decide_proposal<Inbound>(state, fingerprint, now, forgive_ms_, decision);
  if (step.lifted) {
    if (Event* e = events.add(EventKind::window_lifted,
                              Inbound ? Direction::receiver : Direction::sender)) {
      e->strikes = decision.strikes;
      e->fingerprint = detail::short_fingerprint(fingerprint);
    }
  }
  if (entry != nullptr && state.idle(now.at)) shard.erase(entry);
  else if (entry != nullptr) entry->value = state;
  else if (!state.idle(now.at)) insert(shard, hash, peer, now, events).value = state;
  detail::CounterSet& counters = shard.locked().counters;
  if (step.lifted) counters.bump(Count::fingerprint_lifts);
  counters.bump(detail::proposal_count<Inbound>(decision.verdict));
  return decision;
}

// Most proposals change nothing: a peer not in the table, or one whose window holds it. Such an
// answer is read as a seqlock reader (peek, Shard::read) and decided on the copy; a writer in
// between, a shard due for normalisation, or an answer that would change the entry sends the
// call to the locked path, which decides the same way on the entry itself. Threads that only
// read thus never write a shared cache line; the caller counts the answer on this CPU's stripe.
template <bool Inbound>
IKEGUARD_ALWAYS_INLINE bool NegotiationGuard::answer_without_lock(Peek& seen,
                                                                  const Fingerprint& fingerprint,
                                                                  const Now& now,
                                                                  Decision& decision) noexcept {
  if (seen.read != Table::Read::found) return false;  // contended, or an insertion to make
  // The copy's stamps compare right only within 2^29 ms of the shard's last normalisation.
  if (now.ms - seen.normalized_at >= detail::normalize_every || now.ms < seen.normalized_at) {
    return false;
  }
  const detail::ProposalStep step =
      detail::decide_proposal<Inbound>(seen.state, fingerprint, now, forgive_ms_, decision);
  // A held answer has a window open, so it is not idle; a proceed may leave a slot to reclaim.
  return !step.changed && !(decision.verdict == Verdict::proceed && seen.state.idle(now.at));
}

// ---- The table under the guard -----------------------------------------------------------------

// A new entry for `hash` (absent), evicting into a full table: a protective entry's eviction
// is counted.
IKEGUARD_INLINE NegotiationGuard::Table::Entry& NegotiationGuard::insert(
    Shard& shard, std::uint64_t hash, const PeerKey& peer, const Now& now,
    EventBatch& events) noexcept {
  detail::Aside aside;
  aside.peer = peer;
  const Table::Inserted inserted = shard.insert(
      hash, aside, [&now](const PeerState& a, const PeerState& b) { return detail::evicts_before(a, b, now.at); });
  if (inserted.evicted && inserted.victim.protective(now.at)) {
    shard.locked().counters.bump(Count::evictions);
    if (Event* e = events.add_about(inserted.victim_cold.peer, EventKind::entry_evicted, Direction::none)) {
      const Millis left = inserted.victim.time_left(now.at);
      events.window(e, detail::stamp(now.ms + left), inserted.victim.total_strikes(), 0);
    }
  }
  return *inserted.entry;
}

// When `entry`'s direction last failed, beside the entry (the entry's last failure in a table
// that keeps nothing beside).
IKEGUARD_INLINE void NegotiationGuard::note_failure(Shard& shard, const Table::Entry& entry,
                                                    Direction direction, detail::Stamp at) noexcept {
  if (detail::Aside* aside = shard.cold_at(&entry)) aside->failed[direction == Direction::receiver] = at;
}

IKEGUARD_INLINE detail::Stamp NegotiationGuard::failed(Shard& shard, const Table::Entry& entry,
                                                       Direction direction) noexcept {
  const detail::Aside* aside = shard.cold_at(&entry);
  return aside != nullptr ? aside->failed[direction == Direction::receiver] : entry.value.last_failure;
}

IKEGUARD_INLINE Duration NegotiationGuard::window_length(Shard& shard, Duration base,
                                                         std::uint32_t strikes) noexcept {
  // max_window caps the sender's window; a receiver window shorter than the sender's keeps that
  // proportion at the cap too, so a guarded sender's next attempt does not arrive while the
  // receiver still drops (step C's T2 outlasting step B's T1, at every strike).
  const double proportion = std::min(
      1.0, static_cast<double>(base.count()) / static_cast<double>(policy_.sender_window.count()));
  const double cap = static_cast<double>(policy_.max_window.count()) * proportion;
  double length = static_cast<double>(base.count()) *
                  std::pow(policy_.backoff, static_cast<double>(strikes > 0 ? strikes - 1 : 0));
  if (!(length < cap)) length = cap;
  if (policy_.jitter > 0.0) {
    // A uniform factor in [1 - jitter, 1 + jitter).
    const double unit = static_cast<double>(shard.locked().random.next()) / 4294967296.0;
    length *= 1.0 + policy_.jitter * (2.0 * unit - 1.0);
  }
  return Duration(std::max<detail::Ticks>(1, static_cast<detail::Ticks>(length)));
}

// Under the shard's lock: at least every 2^29 ms (or when the clock went back) every entry is
// rebased and settled, so no stamp ages past comparison however long the shard lay idle.
IKEGUARD_INLINE void NegotiationGuard::keep_fresh(Shard& shard, const Now& now) const noexcept {
  ShardLocked& locked = shard.locked();
  const Millis normalized = shard.read_mostly().normalized_at.load(std::memory_order_relaxed);
  if (now.ms - normalized >= detail::normalize_every || now.ms < normalized) {
    const Millis reference = locked.last_seen;
    // No window is longer than this: a retry hold lasts retry_delay, which may exceed
    // max_window plus jitter, and must not be cut here.
    const Millis cap = std::max(window_cap_ms_, detail::ceil_ms(policy_.retry_delay.count()));
    shard.for_each([&](Table::Entry& entry) {
      detail::rebase(entry.value, reference, now, cap, forgive_ms_);
    });
    shard.read_mostly().normalized_at.store(now.ms, std::memory_order_relaxed);
  }
  locked.last_seen = now.ms;
}

// ---- Construction ------------------------------------------------------------------------------

IKEGUARD_INLINE NegotiationGuard::NegotiationGuard(PrivateTag, const Policy& policy, Clock& clock,
                                                   Transport& transport, const Extras& extras) noexcept
    : policy_(policy), clock_(clock), transport_(transport), extras_(extras) {}

IKEGUARD_INLINE NegotiationGuard::NegotiationGuard(const Policy& policy, Clock& clock,
                                                   Transport& transport, const Extras& extras)
    : policy_(policy), clock_(clock), transport_(transport), extras_(extras) {
  const Errc status = init(nullptr);
  if (status == Errc::ok) return;
#if IKEGUARD_HAS_EXCEPTIONS
  if (status == Errc::out_of_memory) throw std::bad_alloc();
  if (status == Errc::crypto_unavailable) throw std::runtime_error(message(status));
  throw std::invalid_argument(message(status));
#else
  std::fprintf(stderr, "ikeguard: %s\n", message(status));
  std::abort();
#endif
}

IKEGUARD_INLINE Result<std::unique_ptr<NegotiationGuard>> NegotiationGuard::create(
    const Policy& policy, Clock& clock, Transport& transport, const Extras& extras) noexcept {
  if (const Errc invalid = validate(policy); invalid != Errc::ok) return invalid;
  std::unique_ptr<NegotiationGuard> guard(
      new (std::nothrow) NegotiationGuard(PrivateTag{}, policy, clock, transport, extras));
  if (!guard) return Errc::out_of_memory;
  if (const Errc status = guard->init(nullptr); status != Errc::ok) return status;
  return guard;
}

IKEGUARD_INLINE Result<std::unique_ptr<NegotiationGuard>> NegotiationGuard::create_restored(
    const Policy& policy, Clock& clock, Transport& transport, const void* snapshot,
    std::size_t size, const SnapshotKey& key, RestoreReport* report, const Extras& extras) noexcept {
  auto made = create(policy, clock, transport, extras);
  if (!made) return made.error();
  RestoreReport done;
  if (const Errc status = made.value()->restore(snapshot, size, key, &done); status != Errc::ok) {
    return status;
  }
  if (report != nullptr) *report = done;
  if (extras.events != nullptr) {
    const Now now(clock.now());
    EventBatch events(extras.events, nullptr, now);
    if (Event* e = events.add(EventKind::snapshot_restored, Direction::none)) e->count = done.restored;
  }
  return std::move(made).value();
}

IKEGUARD_INLINE std::size_t NegotiationGuard::tombstone_bytes(const Policy& policy,
                                                              const Extras& extras) noexcept {
  if (extras.cluster == nullptr) return 0;
  return Table::layout(policy.max_peers, policy.keep_addresses).shards * tombstones_per_shard *
         sizeof(Tombstone);
}

IKEGUARD_INLINE std::size_t NegotiationGuard::estimate_size(const Policy& policy,
                                                            const Extras& extras) noexcept {
  if (validate(policy) != Errc::ok) return 0;
  return sizeof(NegotiationGuard) + alignof(NegotiationGuard) + detail::table::line +
         Table::layout(policy.max_peers, policy.keep_addresses).bytes +
         detail::Stripes::bytes_for_machine() + tombstone_bytes(policy, extras);
}

IKEGUARD_INLINE Result<NegotiationGuard*> NegotiationGuard::create_in(void* buffer, std::size_t size,
                                                                      const Policy& policy,
                                                                      Clock& clock,
                                                                      Transport& transport,
                                                                      const Extras& extras) noexcept {
  if (const Errc invalid = validate(policy); invalid != Errc::ok) return invalid;
  if (buffer == nullptr) return Errc::invalid_argument;
  if (size < estimate_size(policy, extras)) return Errc::buffer_too_small;
  const auto start = reinterpret_cast<std::uintptr_t>(buffer);
  const std::uintptr_t at = detail::table::round_up(start, alignof(NegotiationGuard));
  const std::uintptr_t rest = detail::table::round_up(at + sizeof(NegotiationGuard), detail::table::line);
  auto* guard = new (reinterpret_cast<void*>(at)) NegotiationGuard(PrivateTag{}, policy, clock, transport, extras);
  if (const Errc status = guard->init(reinterpret_cast<void*>(rest)); status != Errc::ok) {
    guard->~NegotiationGuard();
    return status;
  }
  return guard;
}

IKEGUARD_INLINE Errc NegotiationGuard::init(void* memory) noexcept {
  if (const Errc invalid = validate(policy_); invalid != Errc::ok) return invalid;
  if (!detail::crypto_start()) return Errc::crypto_unavailable;
  const std::size_t table_bytes = Table::layout(policy_.max_peers, policy_.keep_addresses).bytes;
  if (memory == nullptr) {
    memory = detail::allocate_table_memory(table_bytes + detail::Stripes::bytes_for_machine() +
                                           tombstone_bytes(policy_, extras_));
    if (memory == nullptr) return Errc::out_of_memory;
    owned_memory_.reset(memory);
  }
  detail::generate(keys_);
  if (extras_.cluster != nullptr) {  // one proposal, one fingerprint, on every node
    std::memcpy(keys_.fingerprint, extras_.cluster->fingerprint_key(), sizeof keys_.fingerprint);
  }
  forgive_ms_ = detail::ceil_ms(policy_.forgive_after.count());
  window_cap_ms_ = detail::ceil_ms(static_cast<detail::Ticks>(
      static_cast<double>(policy_.max_window.count()) * (1.0 + policy_.jitter)));
  table_.build(policy_.max_peers, memory, policy_.keep_addresses);
  stripes_.build(static_cast<unsigned char*>(memory) + table_bytes);
  // Stripes end on a whole line (their size is a multiple of 64), so tombstones are aligned.
  static_assert(alignof(Tombstone) <= detail::table::line);
  Tombstone* tombstones = nullptr;
  if (tombstone_bytes(policy_, extras_) != 0) {
    tombstones = reinterpret_cast<Tombstone*>(static_cast<unsigned char*>(memory) + table_bytes +
                                              stripes_.bytes());
    std::uninitialized_value_construct_n(tombstones, table_.shard_count() * tombstones_per_shard);
  }
  const Millis now = Now(clock_.now()).ms;
  for (std::uint32_t i = 0; i < table_.shard_count(); ++i) {
    table_.shard(i).read_mostly().normalized_at.store(now, std::memory_order_relaxed);
    table_.shard(i).locked().last_seen = now;
    if (tombstones != nullptr) table_.shard(i).locked().tombstones = tombstones + i * tombstones_per_shard;
  }
  return Errc::ok;
}

// The table and stripes end before owned_memory_, which holds them.
IKEGUARD_INLINE NegotiationGuard::~NegotiationGuard() { detail::wipe(&keys_, sizeof keys_); }

// ---- Snapshots ---------------------------------------------------------------------------------

IKEGUARD_INLINE std::size_t NegotiationGuard::snapshot_bound() const noexcept {
  return snapshot_format::size_for(policy_.max_peers);
}

// Entries worth a record now (settled and not idle); every shard locked and fresh.
IKEGUARD_INLINE std::size_t NegotiationGuard::snapshot_entries(const Now& now) const noexcept {
  std::size_t entries = 0;
  for (std::uint32_t i = 0; i < table_.shard_count(); ++i) {
    table_.shard(i).for_each([&](const Table::Entry& entry) {
      PeerState state = entry.value;
      state.settle(now.at, forgive_ms_);
      if (!state.idle(now.at)) ++entries;
    });
  }
  return entries;
}

IKEGUARD_INLINE Result<std::size_t> NegotiationGuard::snapshot(void* out, std::size_t size,
                                                               const SnapshotKey& key) const noexcept {
  if (out == nullptr) return Errc::invalid_argument;
  const Now now(clock_.now());
  const Table::AllWriters writing(table_);  // one consistent instant
  for (std::uint32_t i = 0; i < table_.shard_count(); ++i) keep_fresh(table_.shard(i), now);
  const std::size_t entries = snapshot_entries(now);
  const std::size_t total = snapshot_format::size_for(entries);
  if (size < total) return Errc::snapshot_buffer_too_small;

  auto* p = static_cast<std::uint8_t*>(out);
  detail::write_header(p, entries, keys_, key);
  std::uint8_t* record = p + snapshot_format::header_size;
  for (std::uint32_t i = 0; i < table_.shard_count(); ++i) {
    table_.shard(i).for_each([&](const Table::Entry& entry) {
      PeerState state = entry.value;
      state.settle(now.at, forgive_ms_);
      if (state.idle(now.at)) return;
      detail::encode(detail::record_of(state, entry.hash, now), record);
      record += snapshot_format::record_size;
    });
  }
  detail::seal(p, total, key);
  return total;
}

// On a new guard (create_restored): checked in full, then the keys adopted and every kept
// record inserted, its windows resuming from now.
IKEGUARD_INLINE Errc NegotiationGuard::restore(const void* data, std::size_t size,
                                               const SnapshotKey& key, RestoreReport* report) noexcept {
  if (data == nullptr) return Errc::invalid_argument;
  const auto* p = static_cast<const std::uint8_t*>(data);
  std::uint32_t count = 0;
  if (const Errc refused = detail::check_snapshot(p, size, key, count); refused != Errc::ok) return refused;
  auto cut = detail::RestoreCut::of(p, count, policy_.max_peers);
  if (!cut) return cut.error();

  const Now now(clock_.now());
  const Table::AllWriters writing(table_);
  for (std::uint32_t i = 0; i < table_.shard_count(); ++i) {
    table_.shard(i).read_mostly().normalized_at.store(now.ms, std::memory_order_relaxed);
    table_.shard(i).locked().last_seen = now.ms;
  }
  detail::read_keys(p, key, keys_);
  if (extras_.cluster != nullptr) {
    std::memcpy(keys_.fingerprint, extras_.cluster->fingerprint_key(), sizeof keys_.fingerprint);
  }
  RestoreReport done;
  for (std::uint32_t i = 0; i < count; ++i) {
    const detail::SnapshotRecord record = detail::record_at(p, i);
    if (cut->keeps(record.latest_end())) restore_record(record, now, done);
    else ++done.dropped;
  }
  done.restored = table_.size();
  if (report != nullptr) *report = done;
  return Errc::ok;
}

IKEGUARD_INLINE void NegotiationGuard::restore_record(const detail::SnapshotRecord& record,
                                                      const Now& now, RestoreReport& report) noexcept {
  Shard& shard = table_.shard_for(record.hash);
  if (shard.find(record.hash) != nullptr) {  // snapshot() never writes a peer twice
    ++report.dropped;
    return;
  }
  const std::size_t before = table_.size();
  EventBatch none(nullptr, nullptr, now);
  Table::Entry& entry = insert(shard, record.hash, PeerKey{}, now, none);
  entry.value = detail::state_of(record, now, window_cap_ms_, forgive_ms_);
  note_failure(shard, entry, Direction::sender, entry.value.last_failure);
  note_failure(shard, entry, Direction::receiver, entry.value.last_failure);
  if (table_.size() == before) ++report.dropped;  // a shard full on its own evicted one
}

// ---- Listing ------------------------------------------------------------------------------------

namespace detail {
inline HeldPeer held_peer(const PeerState& state, const PeerKey& peer, const Now& now) noexcept {
  HeldPeer held;
  held.peer = peer;
  if (state.sender_open(now.at)) {
    held.sender_until = end_of(state.sender_until, now);
    held.sender_retry_only = state.sender_hold() == SenderHold::retry;
  }
  if (state.receiver_open(now.at)) held.receiver_until = end_of(state.receiver_until, now);
  held.sender_strikes = state.sender_strikes;
  held.receiver_strikes = state.receiver_strikes;
  if (state.sender_open(now.at)) held.sender_fingerprint = state.sender_fingerprint;
  if (state.receiver_open(now.at)) held.receiver_fingerprint = state.receiver_fingerprint;
  held.confirmations = state.confirmations;
  return held;
}
}  // namespace detail

IKEGUARD_INLINE Result<PeerPage> NegotiationGuard::list_peers(HeldPeer* out, std::size_t capacity,
                                                              PeerCursor from,
                                                              bool held_only) const noexcept {
  if (out == nullptr || from.shard > table_.shard_count()) return Errc::invalid_argument;
  const Now now(clock_.now());
  PeerPage page;
  page.next = from;
  for (std::uint32_t i = from.shard; i < table_.shard_count(); ++i) {
    Shard& shard = table_.shard(i);
    const Shard::Writer writing(shard);  // the shard as one instant
    keep_fresh(shard, now);
    if (shard.entries() > capacity - page.count) {
      if (page.count == 0) return Errc::buffer_too_small;
      return page;  // this shard next time
    }
    shard.for_each([&](const Table::Entry& entry) {
      PeerState state = entry.value;  // what a call would see now; the entry is left as it is
      state.settle(now.at, forgive_ms_);
      if (held_only ? !state.any_window_open(now.at) : state.idle(now.at)) return;
      out[page.count++] = detail::held_peer(state, shard.cold(&entry).peer, now);
    });
    page.next.shard = i + 1;
  }
  page.complete = true;
  return page;
}

IKEGUARD_INLINE std::size_t NegotiationGuard::list_capacity() const noexcept {
  return Table::layout(policy_.max_peers).shard_capacity;
}

// ---- Cluster records ---------------------------------------------------------------------------

IKEGUARD_INLINE Result<Applied> NegotiationGuard::apply(const void* record, std::size_t size,
                                                        Duration age) noexcept {
  if (extras_.cluster == nullptr) return Errc::cluster_not_configured;
  detail::ClusterRecord decoded;
  bool own = false;
  if (const Errc refused = extras_.cluster->open(record, size, decoded, own); refused != Errc::ok) {
    stripes_.here().add(Count::records_refused);
    return refused;
  }
  if (own) return Applied::own;
  const Now now(clock_.now());
  // When the record was made, on this node's clock; never before the longest window.
  const Millis made_at = now.ms - std::clamp<Millis>(detail::floor_ms(age.count()), 0, window_cap_ms_);
  const Applied applied = apply_record(decoded, made_at, now);
  stripes_.here().add(Count::records_applied);
  return applied;
}

IKEGUARD_INLINE Applied NegotiationGuard::apply_record(const detail::ClusterRecord& record,
                                                       Millis at, const Now& now) noexcept {
  const std::uint64_t hash = detail::peer_hash(keys_, record.peer);
  Shard& shard = table_.shard_for(hash);
  EventBatch events(extras_.events, &record.peer, now);  // delivered after the lock is released
  events.from_node(record.node);
  Shard::Writer writing(shard);
  keep_fresh(shard, now);
  const bool changed = record.kind == detail::RecordKind::window
                           ? apply_window(shard, hash, record, at, now, events)
                           : apply_tombstone(shard, hash, record, at, now, events);
  return changed ? Applied::changed : Applied::unchanged;
}

// What a shard remembers of `hash`'s lifts and successes: null when nothing and not `make`;
// a new record takes the oldest one's place.
IKEGUARD_INLINE NegotiationGuard::Tombstone* NegotiationGuard::tombstone_of(Shard& shard,
                                                                           std::uint64_t hash,
                                                                           bool make) noexcept {
  ShardLocked& locked = shard.locked();
  if (locked.tombstones == nullptr) return nullptr;  // not a cluster node: apply() refuses first
  for (std::size_t i = 0; i < tombstones_per_shard; ++i) {
    if (locked.tombstones[i].hash == hash) return &locked.tombstones[i];
  }
  if (!make) return nullptr;
  Tombstone& t = locked.tombstones[locked.next_tombstone];
  locked.next_tombstone = (locked.next_tombstone + 1) % tombstones_per_shard;
  t = Tombstone{};
  t.hash = hash;
  return &t;
}

namespace detail {
// A direction of an entry as apply() merges it: everything in absolute milliseconds.
struct MergedWindow {
  Millis failed = std::numeric_limits<Millis>::min();
  Millis end = std::numeric_limits<Millis>::min();  // min: no window
  std::uint32_t fingerprint = 0;
  std::uint8_t strikes = 0;
  bool configuration = false;
  // The later end wins; of two ending together, the larger fingerprint: the order is moot.
  void take(Millis other_end, std::uint32_t other_fingerprint, bool other_configuration) noexcept {
    if (other_end > end || (other_end == end && other_fingerprint > fingerprint)) {
      end = other_end;
      fingerprint = other_fingerprint;
    }
    configuration = configuration || other_configuration;
  }
};
}  // namespace detail

// A cluster's windows merge, per peer and direction, as one state: the latest failure, the
// latest window end (with its configuration), the most strikes, the latest lift and the latest
// success, each the greatest of what any record said, so the same records in any order, or
// twice, give the same state. The window shows while its latest failure is after the latest lift
// or success; the strikes while it is after the latest success. What a lift or success hides is
// kept in the shard's tombstones (16, the oldest forgotten first), so a record that arrives after
// a later one still counts as if in order.
IKEGUARD_INLINE bool NegotiationGuard::apply_window(Shard& shard, std::uint64_t hash,
                                                    const detail::ClusterRecord& record, Millis at,
                                                    const Now& now, EventBatch& events) noexcept {
  const bool receiver = record.direction == Direction::receiver;
  const int d = receiver ? 1 : 0;
  const Millis end = std::min<Millis>(at + Millis{record.remaining_ms}, now.ms + window_cap_ms_);
  if (end <= now.ms) return false;  // it ran out on the way
  Table::Entry* entry = shard.find(hash);
  if (entry != nullptr) events.settle(entry->value, forgive_ms_);
  Tombstone* tombstone = tombstone_of(shard, hash, false);
  const Millis window_hidden_before =
      tombstone != nullptr ? std::max(tombstone->lifted_at[d], tombstone->cleared_at) : never;
  const Millis strikes_hidden_before = tombstone != nullptr ? tombstone->cleared_at : never;

  // The direction as it stands, shown (the entry) and hidden (the tombstone), with the record.
  detail::MergedWindow merged;
  bool was_open = false;
  std::uint8_t was_strikes = 0;
  if (entry != nullptr) {
    const PeerState& state = entry->value;
    was_open = receiver ? state.receiver_open(now.at) : state.sender_open(now.at);
    was_strikes = receiver ? state.receiver_strikes : state.sender_strikes;
    if (was_open || was_strikes != 0) {
      merged.failed = now.ms + detail::ahead(failed(shard, *entry, record.direction), now.at);
    }
    merged.strikes = was_strikes;
    if (was_open) {
      merged.take(now.ms + detail::ahead(receiver ? state.receiver_until : state.sender_until, now.at),
                  receiver ? state.receiver_fingerprint : state.sender_fingerprint,
                  !receiver && state.sender_hold() == SenderHold::configuration);
    }
  }
  if (tombstone != nullptr) {
    const Buried& hidden = tombstone->buried[d];
    merged.failed = std::max(merged.failed, hidden.failed);
    merged.strikes = std::max(merged.strikes, hidden.strikes);
    if (hidden.end != never) merged.take(hidden.end, hidden.fingerprint, hidden.configuration);
  }
  merged.failed = std::max(merged.failed, at);
  merged.strikes = std::max(merged.strikes, record.strikes);
  merged.take(end, record.fingerprint, !record.retry);

  const bool window_shows = merged.failed > window_hidden_before && merged.end > now.ms;
  const bool strikes_show = merged.failed > strikes_hidden_before;
  if (!window_shows || !strikes_show) {  // what stays hidden goes into the tombstone
    Buried& hidden = tombstone_of(shard, hash, true)->buried[d];
    hidden.failed = std::max(hidden.failed, at);
    if (!window_shows && (end > hidden.end || (end == hidden.end && record.fingerprint > hidden.fingerprint))) {
      hidden.end = end;
      hidden.fingerprint = record.fingerprint;
    }
    if (!window_shows) hidden.configuration = hidden.configuration || !record.retry;
    if (!strikes_show) hidden.strikes = std::max(hidden.strikes, record.strikes);
  }
  if (!strikes_show || (!window_shows && merged.strikes == was_strikes)) {
    if (entry != nullptr && (was_open || was_strikes != 0)) {
      note_failure(shard, *entry, record.direction, detail::stamp(merged.failed));
    }
    return false;
  }

  Table::Entry& held = entry != nullptr ? *entry : insert(shard, hash, record.peer, now, events);
  PeerState& state = held.value;
  const bool was_counted = state.counted();
  std::uint8_t& strikes = receiver ? state.receiver_strikes : state.sender_strikes;
  bool changed = entry == nullptr || merged.strikes != strikes;
  strikes = merged.strikes;
  bool opened = false;
  if (window_shows) {
    const detail::Stamp until = detail::stamp(merged.end);
    if (receiver) {
      opened = !was_open || state.receiver_until != until || state.receiver_fingerprint != merged.fingerprint;
      state.set_receiver(until);
      state.receiver_fingerprint = merged.fingerprint;
    } else {
      const SenderHold hold = merged.configuration ? SenderHold::configuration : SenderHold::retry;
      opened = !was_open || state.sender_until != until || state.sender_fingerprint != merged.fingerprint ||
               state.sender_hold() != hold;
      state.sender_until = until;
      state.sender_fingerprint = merged.fingerprint;
      state.set_sender_hold(hold);
    }
  }
  changed = changed || opened;
  // The failure counts from when the record was made: for forgiveness, and for later lifts.
  const detail::Stamp failed_at = detail::stamp(std::max(merged.failed, now.ms - forgive_ms_));
  if (state.counted() && (!was_counted || detail::ahead(failed_at, state.last_failure) > 0)) {
    state.last_failure = failed_at;
  }
  note_failure(shard, held, record.direction, detail::stamp(merged.failed));
  if (!opened) return changed;
  const EventKind kind = receiver ? EventKind::receiver_window_opened
                                  : record.retry ? EventKind::retry_later_set : EventKind::sender_window_opened;
  if (Event* e = events.add(kind, record.direction)) {
    events.window(e, receiver ? state.receiver_until : state.sender_until, merged.strikes, merged.fingerprint);
    e->has_notice = record.notify_type != 0;
    e->version = record.version;
    e->notify_type = record.notify_type;
    if (e->has_notice) e->notify_class = policy_.notify_classes.classify(record.version, record.notify_type);
  }
  return true;
}

// A lift (one direction) or a success (both, and their strikes): what failed at or before it is
// hidden (kept in the tombstone, as apply_window says), and the lift or success is remembered.
// The sender's remembered proposal goes with its window: the lift or success settled it.
IKEGUARD_INLINE bool NegotiationGuard::apply_tombstone(Shard& shard, std::uint64_t hash,
                                                       const detail::ClusterRecord& record, Millis at,
                                                       const Now& now, EventBatch& events) noexcept {
  const bool cleared = record.kind == RecordKind::cleared;
  Tombstone& tombstone = *tombstone_of(shard, hash, true);
  Millis& remembered = cleared ? tombstone.cleared_at
                               : tombstone.lifted_at[record.direction == Direction::receiver ? 1 : 0];
  remembered = std::max(remembered, at);

  Table::Entry* entry = shard.find(hash);
  if (entry == nullptr) return false;
  events.settle(entry->value, forgive_ms_);
  PeerState& state = entry->value;
  std::uint32_t forgotten = 0;  // strikes a success hid
  bool changed = false;
  for (const Direction direction : {Direction::sender, Direction::receiver}) {
    if (!cleared && direction != record.direction) continue;
    const bool receiver = direction == Direction::receiver;
    const int d = receiver ? 1 : 0;
    const bool open = receiver ? state.receiver_open(now.at) : state.sender_open(now.at);
    std::uint8_t& strikes = receiver ? state.receiver_strikes : state.sender_strikes;
    if (!open && !(cleared && strikes != 0)) continue;
    const Millis failed_at = now.ms + detail::ahead(failed(shard, *entry, direction), now.at);
    Buried& hidden = tombstone.buried[d];
    hidden.failed = std::max(hidden.failed, failed_at);
    // A failure in this direction after the tombstone (on this node's clock) stays.
    if (failed_at > at) continue;
    if (open) {
      const Millis end = now.ms + detail::ahead(receiver ? state.receiver_until : state.sender_until, now.at);
      const std::uint32_t fingerprint = receiver ? state.receiver_fingerprint : state.sender_fingerprint;
      if (end > hidden.end || (end == hidden.end && fingerprint > hidden.fingerprint)) {
        hidden.end = end;
        hidden.fingerprint = fingerprint;
      }
      if (!receiver) hidden.configuration = hidden.configuration || state.sender_hold() == SenderHold::configuration;
      if (receiver) state.clear_receiver();
      else state.set_sender_hold(SenderHold::none);
      if (!cleared) {
        if (Event* e = events.add(EventKind::window_lifted, direction)) {
          e->strikes = strikes;
          e->fingerprint = record.fingerprint;
        }
      }
    }
    if (!receiver) state.sender_fingerprint = 0;
    if (cleared) {
      hidden.strikes = std::max(hidden.strikes, strikes);
      forgotten += strikes;
      strikes = 0;
      if (!receiver) state.confirmations = 0;
    }
    changed = true;
  }
  if (cleared && changed) {
    if (Event* e = events.add(EventKind::windows_cleared, Direction::none)) e->strikes = forgotten;
  }
  if (state.idle(now.at)) shard.erase(entry);
  return changed;
}

// ---- Fingerprints and counters -----------------------------------------------------------------

IKEGUARD_INLINE Fingerprint NegotiationGuard::fingerprint(const void* data,
                                                          std::size_t size) const noexcept {
  return Fingerprint::from_value(detail::fingerprint_of(keys_, data, size));
}

IKEGUARD_INLINE Stats NegotiationGuard::stats() const noexcept {
  Stats total;
  const auto add = [&total](const detail::CounterSet& set) {
#define IKEGUARD_STATS_ADD(name, help) total.name += set.get(Count::name);
#define IKEGUARD_STATS_SKIP(name, help)
    IKEGUARD_COUNTERS(IKEGUARD_STATS_ADD, IKEGUARD_STATS_SKIP)
#undef IKEGUARD_STATS_ADD
#undef IKEGUARD_STATS_SKIP
  };
  for (std::uint32_t i = 0; i < table_.shard_count(); ++i) add(table_.shard(i).locked().counters);
  stripes_.for_each(add);
  total.peers_tracked = table_.size();
  total.capacity = policy_.max_peers;
  total.table_bytes =
      sizeof(NegotiationGuard) + table_.bytes() + stripes_.bytes() + tombstone_bytes(policy_, extras_);
  return total;
}

}  // namespace ikeguard
