// SPDX-License-Identifier: MIT
// NegotiationGuard: the sender's and receiver's inactive windows per peer (steps A, B, C).
#pragma once

#include <ikeguard/clock.hpp>
#include <ikeguard/error.hpp>
#include <ikeguard/export.hpp>
#include <ikeguard/fingerprint.hpp>
#include <ikeguard/notify.hpp>
#include <ikeguard/peer_key.hpp>
#include <ikeguard/policy.hpp>
#include <ikeguard/snapshot.hpp>
#include <ikeguard/transport.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace ikeguard {

enum class Verdict : std::uint8_t {
  proceed,  ///< go ahead: send the proposal, or process the received one
  hold      ///< outbound: do not send, allocate nothing, until `until`; inbound: drop silently
};

/// The answer to a proposal or a local rejection.
struct Decision {
  Verdict verdict = Verdict::proceed;
  /// hold: when the window ends. proceed: the time of the decision.
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
  /// hold and retry_later: when outbound proposals may resume. Otherwise the time of the call.
  TimePoint until{};
  /// The sender strikes toward this peer after this error.
  std::uint32_t strikes = 0;
};

/// Counters for every decision since construction. Each is exact once the calls it counts have
/// returned; a snapshot taken while calls run may mix before and after.
struct Stats {
  std::uint64_t proceeded_outbound = 0;   ///< on_outbound_proposal answered proceed
  std::uint64_t held_outbound = 0;        ///< on_outbound_proposal answered hold
  std::uint64_t proceeded_inbound = 0;    ///< on_inbound_proposal answered proceed
  std::uint64_t dropped_inbound = 0;      ///< on_inbound_proposal answered hold
  std::uint64_t notices_sent = 0;         ///< Transport::send_notice calls
  std::uint64_t notices_suppressed = 0;   ///< rejections inside an open receiver window: not sent
  std::uint64_t errors_honoured = 0;      ///< on_inbound_error answered hold (T2 opened or open)
  std::uint64_t retried_now = 0;          ///< on_inbound_error answered retry_now
  std::uint64_t retried_later = 0;        ///< on_inbound_error answered retry_later
  std::uint64_t awaiting_confirmation = 0;///< of retried_later: unauthenticated, not yet confirmed
  std::uint64_t ignored = 0;              ///< on_inbound_error answered ignored
  std::uint64_t unsolicited = 0;          ///< of ignored: Origin::unsolicited errors
  std::uint64_t fingerprint_lifts = 0;    ///< windows lifted by a changed configuration
  std::uint64_t established = 0;          ///< on_established calls
  std::uint64_t evictions = 0;            ///< entries with a window or strikes pushed out
  std::uint64_t peers_tracked = 0;        ///< entries in the table now
  std::uint64_t capacity = 0;             ///< Policy::max_peers
  std::uint64_t table_bytes = 0;          ///< memory the guard holds (slots, shards, itself); fixed
};

/// Holds, per peer, the sender's window (T2: do not propose) and the receiver's window (T1: drop
/// the peer's proposals), escalating with consecutive failures and lifted by a changed
/// configuration or a success.
///
/// Thread-safety: every member may be called from any thread at once (restore() excepted). The
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
#if IKEGUARD_HAS_EXCEPTIONS
  /// Validates the policy; throws std::invalid_argument (with validate()'s message) when it is
  /// invalid and std::bad_alloc when the table cannot be allocated. Builds without exceptions
  /// use create().
  NegotiationGuard(const Policy& policy, Clock& clock, Transport& transport);
#endif

  /// The validating factory, for every build: the guard, or Errc naming the invalid member
  /// (or out_of_memory, crypto_unavailable). Nothing is allocated on failure.
  static Result<std::unique_ptr<NegotiationGuard>> create(const Policy& policy, Clock& clock,
                                                          Transport& transport) noexcept;

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

  /// Replaces the table with a snapshot's entries, windows resuming from now with the time
  /// they had left (capped by this guard's max_window and jitter). Checked in full before
  /// anything changes: a truncated, altered, foreign-key or other-version snapshot is refused
  /// with its Errc and the guard is untouched. More entries than max_peers: those whose windows
  /// end latest are kept, the rest are counted in RestoreReport::dropped. Adopts the snapshot's
  /// keys (the table knows peers by their keyed hash; fingerprints computed by the guard that
  /// wrote it still match), so call it at daemon start, before any other call and never
  /// concurrently with one. Counters (stats()) are not part of a snapshot.
  /// Allocates a temporary index only when the snapshot holds more than max_peers entries.
  Result<RestoreReport> restore(const void* data, std::size_t size, const SnapshotKey& key) noexcept;

  /// Cheap: no lock; sums per-shard counters.
  Stats stats() const noexcept;

  const Policy& policy() const noexcept { return policy_; }

 private:
  struct Slot;
  struct Shard;
  struct Stripe;  // counters of the lock-free answers, one cache line per CPU
  struct PrivateTag {};

  NegotiationGuard(PrivateTag, const Policy& policy, Clock& clock, Transport& transport) noexcept;
  Errc init() noexcept;  // keys and table; on failure releases what it took

  Shard& shard_for(std::uint64_t hash) const noexcept;
  std::uint64_t hash(const PeerKey& peer) const noexcept;
  Duration window_length(Shard& shard, Duration base, std::uint32_t strikes) const noexcept;
  // Times in the table are 32-bit milliseconds (see guard.cpp): lapsed windows close and strikes
  // lapse when a call looks at a slot (settle), and in every slot of a shard at least every
  // 2^29 ms (normalize, called by keep_fresh), so no stored time ages past comparison.
  void settle(Slot& slot, std::uint32_t now) const noexcept;
  void normalize(Shard& shard, std::int64_t now_ms) const noexcept;
  void keep_fresh(Shard& shard, std::int64_t now_ms) const noexcept;
  // The answer to on_inbound_proposal (inbound) or on_outbound_proposal when it changes
  // nothing, read without the lock (a seqlock, see guard.cpp); false: take the lock.
  bool read_only(Shard& shard, std::uint64_t hash, std::int64_t now_ns, std::int64_t now_ms,
                 bool inbound, const Fingerprint& fingerprint, Decision& decision) const noexcept;

  Policy policy_;
  Clock& clock_;
  Transport& transport_;
  unsigned char hash_key_[16];         // SipHash key for peer keys
  unsigned char fingerprint_key_[32];  // BLAKE2b key for fingerprints
  Shard* shards_ = nullptr;
  Slot* slots_ = nullptr;
  std::uint8_t* tags_ = nullptr;  // a byte per slot: 0 empty, else 8 bits of its hash
  Stripe* stripes_ = nullptr;
  std::uint32_t stripe_mask_ = 0;  // stripe count - 1 (a power of two)
  std::size_t slot_count_ = 0;            // in all shards
  std::atomic<std::size_t> tracked_{0};  // entries in all shards
  std::uint32_t shard_count_ = 0;  // a power of two; shard index = (hash >> 40) & (count - 1)
  std::int64_t forgive_ms_ = 0;     // Policy::forgive_after in milliseconds, rounded up
  std::int64_t window_cap_ms_ = 0;  // no window is longer: max_window plus jitter, rounded up
};

}  // namespace ikeguard
