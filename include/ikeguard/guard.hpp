// SPDX-License-Identifier: MIT
// NegotiationGuard: the sender's and receiver's inactive windows per peer (steps A, B, C).
#pragma once

#include <ikeguard/clock.hpp>
#include <ikeguard/counters.h>
#include <ikeguard/decision.hpp>
#include <ikeguard/error.hpp>
#include <ikeguard/export.hpp>
#include <ikeguard/fingerprint.hpp>
#include <ikeguard/notify.hpp>
#include <ikeguard/peer_key.hpp>
#include <ikeguard/policy.hpp>
#include <ikeguard/snapshot.hpp>
#include <ikeguard/transport.hpp>
#include <ikeguard/detail/counters.hpp>
#include <ikeguard/detail/crypto.hpp>
#include <ikeguard/detail/peer_state.hpp>
#include <ikeguard/detail/peer_table.hpp>
#include <ikeguard/detail/snapshot_codec.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace ikeguard {

/// Counters for every decision since construction, and the table's gauges: one member per entry
/// of IKEGUARD_COUNTERS (<ikeguard/counters.h>, which says what each counts). Each is exact once
/// the calls it counts have returned; a snapshot taken while calls run may mix before and after.
struct Stats {
#define IKEGUARD_STATS_MEMBER(name, help) std::uint64_t name = 0;
  IKEGUARD_COUNTERS(IKEGUARD_STATS_MEMBER, IKEGUARD_STATS_MEMBER)
#undef IKEGUARD_STATS_MEMBER
};

/// Holds, per peer, the sender's window (T2: do not propose) and the receiver's window (T1: drop
/// the peer's proposals), escalating with consecutive failures and lifted by a changed
/// configuration or a success.
///
/// Thread-safety: every member may be called from any thread at once. The
/// table is sharded by the keyed hash of the peer; a call that changes a shard locks it for a
/// few hundred nanoseconds at most. on_inbound_proposal and on_outbound_proposal answer without
/// any lock or shared write when the answer changes nothing (a peer not tracked, a window that
/// holds): a flood of spoofed proposals on many threads does not serialize on the shards.
///
/// Allocation: the peer table is allocated once, at construction, for Policy::max_peers
/// entries. No member function allocates afterwards. The calls that record something new
/// (on_local_rejection, on_inbound_error, on_outbound_proposal with a known fingerprint) insert;
/// into a full table that evicts, in this order, an entry with no open window, then the one with
/// the fewest strikes, then the one whose window ends first, chosen among the 32 entries nearest
/// the newcomer's slot. on_inbound_proposal and on_established never insert. An entry with
/// nothing left to remember is reclaimed when next looked at; one that only remembers the last
/// proposal sent stays until evicted (first) or on_established.
///
/// The guard calls Clock::now() once per call and Transport::send_notice() outside its locks.
/// Both must outlive the guard.
class IKEGUARD_API NegotiationGuard {
 public:
  /// Validates the policy and allocates the table. An invalid policy or a failed allocation
  /// throws std::invalid_argument (validate()'s message), std::bad_alloc or, when libsodium
  /// cannot start, std::runtime_error; in a build without exceptions it writes that message to
  /// stderr and aborts, as {fmt} and spdlog do. create() reports the same as a value.
  NegotiationGuard(const Policy& policy, Clock& clock, Transport& transport);

  /// The validating factory, for every build: the guard, or Errc naming the invalid member
  /// (or out_of_memory, crypto_unavailable). Nothing is allocated on failure.
  static Result<std::unique_ptr<NegotiationGuard>> create(const Policy& policy, Clock& clock,
                                                          Transport& transport) noexcept;

  /// A guard that starts from a snapshot (snapshot()) written under `key`: its windows resume
  /// from now with the time they had left (capped by this policy's max_window and jitter), and
  /// it adopts the snapshot's keys, so peers are known by the same hashes and fingerprints
  /// computed before a restart still match. Everything is checked first: a truncated, altered,
  /// foreign-key or other-version snapshot is refused with its Errc and no guard is made. More
  /// entries than max_peers: those whose windows end latest are kept, the rest are counted in
  /// `report->dropped`. `report` may be null. Counters start at zero. Allocates the guard, and a
  /// temporary index only when the snapshot holds more than max_peers entries.
  static Result<std::unique_ptr<NegotiationGuard>> create_restored(
      const Policy& policy, Clock& clock, Transport& transport, const void* snapshot,
      std::size_t size, const SnapshotKey& key, RestoreReport* report = nullptr) noexcept;

  /// The bytes create_in() needs for this policy (the guard, its table and counters, and room
  /// to align them); 0 when the policy is invalid. The same on every call in one process.
  static std::size_t estimate_size(const Policy& policy) noexcept;

  /// Builds the guard inside `buffer` (any alignment; at least estimate_size(policy) bytes),
  /// allocating nothing at all, ever: firmware's static arena. The guard lives at the returned
  /// pointer, inside the buffer; end it with std::destroy_at(guard) (which frees nothing)
  /// before the buffer is reused. Errc::buffer_too_small, the policy's Errc, or
  /// crypto_unavailable; nothing is written on failure.
  static Result<NegotiationGuard*> create_in(void* buffer, std::size_t size, const Policy& policy,
                                             Clock& clock, Transport& transport) noexcept;

  ~NegotiationGuard();
  NegotiationGuard(const NegotiationGuard&) = delete;
  NegotiationGuard& operator=(const NegotiationGuard&) = delete;

  /// Step A. Call before sending a first negotiation message (IKE_SA_INIT or CREATE_CHILD_SA
  /// request; IKEv1 Main, Aggressive or Quick Mode first message). `hold`: send nothing and
  /// allocate no SA state until `until`. A known fingerprint different from the one the open
  /// window was opened with lifts it at once. Remembers a known fingerprint as the last
  /// proposal sent, for the window a later error opens.
  Decision on_outbound_proposal(const PeerKey& peer, const Fingerprint& fingerprint = {}) noexcept;

  /// Step C. Call for every error notification received for a negotiation this side started.
  /// Configuration errors open the sender window (hold); unauthenticated ones only once
  /// confirmed (Policy::unauthenticated_confirmations); see ErrorAction for the rest.
  ErrorOutcome on_inbound_error(const PeerKey& peer, const Notice& notice, Origin origin) noexcept;

  /// The receiver's gate. Call on a received first negotiation message before parsing its
  /// proposals, allocating state or computing Diffie-Hellman. `hold`: drop it, answer nothing.
  /// A known fingerprint different from the rejected one lifts the window. Never inserts.
  Decision on_inbound_proposal(const PeerKey& peer, const Fingerprint& fingerprint = {}) noexcept;

  /// Step B. Call when the daemon decides to reject a received negotiation with `notice`. A
  /// configuration-class notice is sent through the Transport and opens the receiver window
  /// (T1, escalated), unless a window is already open for the same configuration: then nothing
  /// is sent (at most one notice per window) and the window is unchanged. A notice of another
  /// class (INVALID_KE_PAYLOAD, COOKIE, TEMPORARY_FAILURE ...) is sent and opens nothing:
  /// the peer is meant to retry.
  /// The only call that is not noexcept: an exception thrown by Transport::send_notice
  /// propagates, after the window was opened.
  Decision on_local_rejection(const PeerKey& peer, const Notice& notice,
                              const Fingerprint& fingerprint = {});

  /// A negotiation with the peer succeeded: forgets its windows, strikes and pending
  /// confirmations.
  void on_established(const PeerKey& peer) noexcept;

  /// The keyed digest of a proposal and its policy (not the key material). Same bytes, same
  /// guard: same fingerprint; never unknown.
  Fingerprint fingerprint(const void* data, std::size_t size) const noexcept;

  /// The most bytes snapshot() can need for this guard: a full table,
  /// snapshot_format::size_for(Policy::max_peers).
  std::size_t snapshot_bound() const noexcept;

  /// Writes every entry's windows (as time still to run), strikes, pending confirmations and
  /// fingerprints into `out`, authenticated under `key`; returns the bytes written. The table
  /// is locked shard by shard in one fixed order and held until the copy is complete, so the
  /// snapshot is one consistent instant. Errc::snapshot_buffer_too_small (nothing written
  /// past `size`) when `size` cannot hold the entries present; snapshot_bound() always can.
  /// Does not allocate.
  Result<std::size_t> snapshot(void* out, std::size_t size, const SnapshotKey& key) const noexcept;

  /// Cheap: no lock; sums per-shard counters.
  Stats stats() const noexcept;

  const Policy& policy() const noexcept { return policy_; }

 private:
  // Per shard, read without its lock: when its stamps were last rebased (keep_fresh).
  struct ShardClock {
    std::atomic<detail::Millis> normalized_at{0};
  };
  // Per shard, under its lock.
  struct ShardLocked {
    detail::Millis last_seen = 0;  // the last locked call: every stamp compares right against it
    detail::RandomWords random;    // for jitter
    detail::CounterSet counters;
  };
  using Table = detail::PeerTable<detail::PeerState, ShardClock, ShardLocked>;
  using Shard = Table::Shard;
  struct PrivateTag {};

  NegotiationGuard(PrivateTag, const Policy& policy, Clock& clock, Transport& transport) noexcept;
  // Keys, table and counters in `memory` (null: allocates it); on failure takes nothing.
  Errc init(void* memory) noexcept;
  Errc restore(const void* data, std::size_t size, const SnapshotKey& key,
               RestoreReport* report) noexcept;

  template <bool Inbound>
  Decision proposal(const PeerKey& peer, const Fingerprint& fingerprint) noexcept;
  template <bool Inbound>
  Decision locked_proposal(Shard& shard, std::uint64_t hash, const Fingerprint& fingerprint,
                           const detail::Now& now) noexcept;
  template <bool Inbound>
  bool answer_without_lock(Shard& shard, std::uint64_t hash, const Fingerprint& fingerprint,
                           const detail::Now& now, Decision& decision) noexcept;
  detail::PeerState& insert(Shard& shard, std::uint64_t hash, const detail::Now& now) noexcept;
  ErrorOutcome hold_for_retry(Shard& shard, detail::PeerState& state, bool awaiting_confirmation,
                              const detail::Now& now) noexcept;
  ErrorOutcome honour_configuration_error(Shard& shard, detail::PeerState& state,
                                          const detail::Now& now) noexcept;
  Decision open_receiver_window(Shard& shard, detail::PeerState& state,
                                const Fingerprint& fingerprint, const detail::Now& now) noexcept;
  Duration window_length(Shard& shard, Duration base, std::uint32_t strikes) noexcept;
  void keep_fresh(Shard& shard, const detail::Now& now) const noexcept;
  std::size_t snapshot_entries(const detail::Now& now) const noexcept;
  void restore_record(const detail::SnapshotRecord& record, const detail::Now& now,
                      RestoreReport& report) noexcept;

  Policy policy_;
  Clock& clock_;
  Transport& transport_;
  detail::GuardKeys keys_{};
  // The table's and stripes' memory, unless the caller's (create_in); declared before them, so
  // it is freed after they end.
  std::unique_ptr<void, detail::FreeMemory> owned_memory_;
  Table table_;
  detail::Stripes stripes_;
  detail::Millis forgive_ms_ = 0;     // Policy::forgive_after in milliseconds, rounded up
  detail::Millis window_cap_ms_ = 0;  // no window is longer: max_window plus jitter, rounded up
};

}  // namespace ikeguard

#ifdef IKEGUARD_HEADER_ONLY
#include <ikeguard/guard-inl.hpp>
#endif
