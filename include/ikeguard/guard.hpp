// SPDX-License-Identifier: MIT
// NegotiationGuard: the sender's and receiver's inactive windows per peer (steps A, B, C).
#pragma once

#include <ikeguard/clock.hpp>
#include <ikeguard/cluster.hpp>
#include <ikeguard/counters.h>
#include <ikeguard/decision.hpp>
#include <ikeguard/error.hpp>
#include <ikeguard/events.hpp>
#include <ikeguard/export.hpp>
#include <ikeguard/fingerprint.hpp>
#include <ikeguard/notify.hpp>
#include <ikeguard/peer_key.hpp>
#include <ikeguard/policy.hpp>
#include <ikeguard/snapshot.hpp>
#include <ikeguard/span.hpp>
#include <ikeguard/transport.hpp>
#include <ikeguard/detail/counters.hpp>
#include <ikeguard/detail/cluster_record.hpp>
#include <ikeguard/detail/crypto.hpp>
#include <ikeguard/detail/event_batch.hpp>
#include <ikeguard/detail/peer_state.hpp>
#include <ikeguard/detail/peer_table.hpp>
#include <ikeguard/detail/snapshot_codec.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
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

/// One tracked peer, as list_peers() reports it.
struct HeldPeer {
  /// Family::none only for an entry restored from a snapshot that carried no addresses.
  PeerKey peer{};
  /// When each window ends; TimePoint{} when that window is not open.
  TimePoint sender_until{};
  TimePoint receiver_until{};
  std::uint32_t sender_strikes = 0;
  std::uint32_t receiver_strikes = 0;
  /// The configurations the open windows are about (the table's 32 bits; 0 unknown or no
  /// window open in that direction).
  std::uint32_t sender_fingerprint = 0;
  std::uint32_t receiver_fingerprint = 0;
  /// The sender window holds for a transient error or an unconfirmed one, not a configuration.
  bool sender_retry_only = false;
  /// Unauthenticated configuration errors seen and not yet confirmed.
  std::uint8_t confirmations = 0;
};

/// Where list_peers() goes on: the first shard not yet listed.
struct PeerCursor {
  std::uint32_t shard = 0;
};

/// What one list_peers() call listed.
struct PeerPage {
  std::size_t count = 0;  ///< entries written
  PeerCursor next{};      ///< pass to the next call
  bool complete = false;  ///< every shard has been listed
};

/// What a guard may be given besides its policy, clock and transport; each optional, and
/// each must outlive the guard.
struct GuardExtras {
  /// Receives an Event for every change of state (events.hpp).
  EventSink* events = nullptr;
  /// Makes this guard a cluster node: apply() accepts the other nodes' records, and
  /// fingerprints are keyed from the cluster key, so they agree across nodes.
  ClusterNode* cluster = nullptr;
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
/// The guard calls Clock::now() at most once per call (a proposal about a peer it does not
/// hold, with nothing to remember, is answered without it; a burst reads it once) and
/// Transport::send_notice() outside its locks. Both must outlive the guard.
class IKEGUARD_API NegotiationGuard {
 public:
  using Extras = GuardExtras;

  /// Validates the policy and allocates the table. An invalid policy or a failed allocation
  /// throws std::invalid_argument (validate()'s message), std::bad_alloc or, when libsodium
  /// cannot start, std::runtime_error; in a build without exceptions it writes that message to
  /// stderr and aborts, as {fmt} and spdlog do. create() reports the same as a value.
  NegotiationGuard(const Policy& policy, Clock& clock, Transport& transport,
                   const Extras& extras = {});

  /// The validating factory, for every build: the guard, or Errc naming the invalid member
  /// (or out_of_memory, crypto_unavailable). Nothing is allocated on failure.
  static Result<std::unique_ptr<NegotiationGuard>> create(const Policy& policy, Clock& clock,
                                                          Transport& transport,
                                                          const Extras& extras = {}) noexcept;

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
      std::size_t size, const SnapshotKey& key, RestoreReport* report = nullptr,
      const Extras& extras = {}) noexcept;

  /// The bytes create_in() needs for this policy and extras (the guard, its table and counters,
  /// a cluster node's tombstones, and room to align them); 0 when the policy is invalid. The
  /// same on every call in one process.
  static std::size_t estimate_size(const Policy& policy, const Extras& extras = {}) noexcept;

  /// Builds the guard inside `buffer` (any alignment; at least estimate_size(policy, extras) bytes),
  /// allocating nothing at all, ever: firmware's static arena. The guard lives at the returned
  /// pointer, inside the buffer; end it with std::destroy_at(guard) (which frees nothing)
  /// before the buffer is reused. Errc::buffer_too_small, the policy's Errc, or
  /// crypto_unavailable; nothing is written on failure.
  static Result<NegotiationGuard*> create_in(void* buffer, std::size_t size, const Policy& policy,
                                             Clock& clock, Transport& transport,
                                             const Extras& extras = {}) noexcept;

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

  /// The receiver's gate for a burst of received first messages (recvmmsg, a DPDK burst, a
  /// VPP vector): `decisions[i]` is what on_inbound_proposal(peers[i], fingerprints[i]) would
  /// answer, called for each element in order at one instant. The clock is read at most once,
  /// and every peer is hashed and its slot prefetched before the first decision, so the
  /// table's memory is fetched in parallel instead of one access after another.
  /// `fingerprints` is empty (all unknown) or as long as `peers`; `decisions` at least as long.
  /// Errc::invalid_argument, deciding nothing, when they are not. Allocates nothing.
  Errc on_inbound_proposals(Span<const PeerKey> peers, Span<const Fingerprint> fingerprints,
                            Span<Decision> decisions) noexcept;
  /// Step A for a burst of proposals about to be sent: on_outbound_proposal for each element in
  /// order at one instant, as on_inbound_proposals.
  Errc on_outbound_proposals(Span<const PeerKey> peers, Span<const Fingerprint> fingerprints,
                             Span<Decision> decisions) noexcept;

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

  /// Lists tracked peers into `out`, shard by shard from `from`: each shard is copied under its
  /// lock, so it is one instant; a shard that does not fit in what is left of `out` is left for
  /// the next call. `held_only`: only peers with a window open; else every entry (strikes or a
  /// remembered proposal only). Errc::buffer_too_small when `capacity` is below
  /// list_capacity() and the next shard does not fit; invalid_argument for a null `out`.
  /// Allocates nothing; decisions on other shards go on meanwhile.
  Result<PeerPage> list_peers(HeldPeer* out, std::size_t capacity, PeerCursor from = {},
                              bool held_only = true) const noexcept;
  /// The most entries one shard holds: a buffer this large always lists at least a shard.
  std::size_t list_capacity() const noexcept;

  /// Applies another node's record (ClusterNode::encode) received over the cluster's channel:
  /// idempotent and commutative per peer and direction (the latest failure, end and strikes
  /// win; the window shows while the latest failure is after the latest lift or success, the
  /// strikes while it is after the latest success; docs/operating.md). `age`: how long the record
  /// spent in transit or storage, when the channel knows (a key's time to live). Refused, with
  /// nothing changed: Errc::cluster_not_configured (no Extras::cluster),
  /// cluster_record_truncated, cluster_record_unsupported_version,
  /// cluster_record_unauthenticated (forged, altered, another cluster's key),
  /// cluster_record_replayed, cluster_record_malformed, cluster_too_many_origins. Never
  /// inserts past max_peers (a full table evicts as for a local failure).
  Result<Applied> apply(const void* record, std::size_t size, Duration age = {}) noexcept;

  /// Cheap: no lock; sums per-shard counters.
  Stats stats() const noexcept;

  const Policy& policy() const noexcept { return policy_; }

 private:
  // Per shard, read without its lock: when its stamps were last rebased (keep_fresh).
  struct ShardClock {
    std::atomic<detail::Millis> normalized_at{0};
  };
  // A lift or success another node reported (apply()): a window record from before it, arriving
  // after it, must not reopen the window. Remembered for as long as such a window could last.
  static constexpr detail::Millis never = std::numeric_limits<detail::Millis>::min();
  // What a direction's lifts and successes hide: the window (its end, configuration and kind of
  // hold) and the strikes of records from before them, kept so that the same records in any
  // order leave the same state. Absolute milliseconds.
  struct Buried {
    detail::Millis failed = never;  // the latest failure hidden here
    detail::Millis end = never;     // the latest window end hidden here
    std::uint32_t fingerprint = 0;  // the configuration of that window
    std::uint8_t strikes = 0;
    bool configuration = false;     // a sender window held for a configuration error
  };
  struct Tombstone {
    std::uint64_t hash = 0;
    detail::Millis lifted_at[2] = {never, never};  // the latest lift: sender, receiver
    detail::Millis cleared_at = never;             // the latest success
    Buried buried[2];                              // sender, receiver
  };
  static constexpr std::size_t tombstones_per_shard = 16;
  // Per shard, under its lock.
  struct ShardLocked {
    detail::Millis last_seen = 0;  // the last locked call: every stamp compares right against it
    detail::RandomWords random;    // for jitter
    detail::CounterSet counters;
    // A ring of tombstones_per_shard, the oldest forgotten first; only a cluster node's guard
    // has them (after the stripes in the guard's memory), others pay nothing.
    Tombstone* tombstones = nullptr;
    std::uint32_t next_tombstone = 0;
  };
  // Each entry keeps its peer's address beside it (cold: decisions never read it), for
  // list_peers() and the events of evictions.
  using Table = detail::PeerTable<detail::PeerState, ShardClock, ShardLocked, detail::Aside>;
  using Shard = Table::Shard;
  struct PrivateTag {};

  NegotiationGuard(PrivateTag, const Policy& policy, Clock& clock, Transport& transport,
                   const Extras& extras) noexcept;
  // Keys, table and counters in `memory` (null: allocates it); on failure takes nothing.
  Errc init(void* memory) noexcept;
  static std::size_t tombstone_bytes(const Policy& policy, const Extras& extras) noexcept;
  Errc restore(const void* data, std::size_t size, const SnapshotKey& key,
               RestoreReport* report) noexcept;

  // What a proposal's lock-free look at its peer found, before the clock is read.
  struct Peek {
    Table::Read read = Table::Read::contended;
    detail::PeerState state{};
    detail::Millis normalized_at = 0;  // the shard's, as of that read
  };
  template <bool Inbound>
  Decision proposal(const PeerKey& peer, const Fingerprint& fingerprint) noexcept;
  template <bool Inbound>
  Errc proposals(Span<const PeerKey> peers, Span<const Fingerprint> fingerprints,
                 Span<Decision> decisions) noexcept;
  static Peek peek(const Shard& shard, std::uint64_t hash) noexcept;
  template <bool Inbound>
  static bool answer_untracked(const Peek& seen, const Fingerprint& fingerprint,
                               Decision& decision) noexcept;
  template <bool Inbound>
  bool answer_without_lock(Peek& seen, const Fingerprint& fingerprint, const detail::Now& now,
                           Decision& decision) noexcept;
  template <bool Inbound>
  Decision locked_proposal(Shard& shard, std::uint64_t hash, const PeerKey& peer,
                           const Fingerprint& fingerprint, const detail::Now& now) noexcept;
  Table::Entry& insert(Shard& shard, std::uint64_t hash, const PeerKey& peer,
                       const detail::Now& now, detail::EventBatch& events) noexcept;
  static void note_failure(Shard& shard, const Table::Entry& entry, Direction direction,
                           detail::Stamp at) noexcept;
  static detail::Stamp failed(Shard& shard, const Table::Entry& entry, Direction direction) noexcept;
  ErrorOutcome hold_for_retry(Shard& shard, Table::Entry& entry, bool awaiting_confirmation,
                              const detail::Now& now, detail::EventBatch& events) noexcept;
  ErrorOutcome honour_configuration_error(Shard& shard, Table::Entry& entry,
                                          const detail::Now& now, detail::EventBatch& events) noexcept;
  void report_unsolicited(detail::EventBatch& events, const detail::Now& now) noexcept;
  static Tombstone* tombstone_of(Shard& shard, std::uint64_t hash, bool make) noexcept;
  Decision open_receiver_window(Shard& shard, detail::PeerState& state,
                                const Fingerprint& fingerprint, const detail::Now& now) noexcept;
  Duration window_length(Shard& shard, Duration base, std::uint32_t strikes) noexcept;
  void keep_fresh(Shard& shard, const detail::Now& now) const noexcept;
  std::size_t snapshot_entries(const detail::Now& now) const noexcept;
  void restore_record(const detail::SnapshotRecord& record, const detail::Now& now,
                      RestoreReport& report) noexcept;
  Applied apply_record(const detail::ClusterRecord& record, detail::Millis at,
                       const detail::Now& now) noexcept;
  bool apply_window(Shard& shard, std::uint64_t hash, const detail::ClusterRecord& record,
                    detail::Millis at, const detail::Now& now, detail::EventBatch& events) noexcept;
  bool apply_tombstone(Shard& shard, std::uint64_t hash, const detail::ClusterRecord& record,
                       detail::Millis at, const detail::Now& now, detail::EventBatch& events) noexcept;

  Policy policy_;
  Clock& clock_;
  Transport& transport_;
  Extras extras_;
  detail::GuardKeys keys_{};
  // The table's and stripes' memory, unless the caller's (create_in); declared before them, so
  // it is freed after they end.
  std::unique_ptr<void, detail::FreeMemory> owned_memory_;
  Table table_;
  detail::Stripes stripes_;
  detail::Millis forgive_ms_ = 0;     // Policy::forgive_after in milliseconds, rounded up
  detail::Millis window_cap_ms_ = 0;  // no window is longer: max_window plus jitter, rounded up
  // report_unsolicited(): when the last unsolicited_ignored event went out, and how many since.
  std::atomic<detail::Millis> unsolicited_reported_at_{never};
  std::atomic<std::uint64_t> unsolicited_unreported_{0};
};

}  // namespace ikeguard

#ifdef IKEGUARD_HEADER_ONLY
#include <ikeguard/guard-inl.hpp>
#endif
