// SPDX-License-Identifier: MIT
// Windows shared across a cluster: a node's window changes as compact, versioned, authenticated
// records, which the other nodes' guards apply (NegotiationGuard::apply). The library carries no
// network code: records are bytes the daemon sends over the channel it already has.
//
// Record format, version 1: 96 bytes, integers big-endian.
//   0  version (1)          1  kind (1 window, 2 lifted, 3 cleared)
//   2  direction (1 sender, 2 receiver; 0 for cleared)
//   3  hold (0 configuration, 1 retry_later; window records of the sender only)
//   4  node id (8)         12  sequence number (8)
//  20  peer: family (4, 6), 0, port (2), scope (4), address (16; IPv4 in the first 4)
//  44  strikes (1)          45  IKE version (1)   46  notify type (2)
//  48  fingerprint (4; the table's 32 bits, 0 unknown)
//  52  remaining (4; milliseconds the window still had to run when the record was made)
//  56  reserved (8, zero)
//  64  HMAC-SHA-512-256 (crypto_auth) of bytes 0-63 under a key derived from the cluster key
#pragma once

#include <ikeguard/error.hpp>
#include <ikeguard/events.hpp>
#include <ikeguard/export.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace ikeguard {

/// The secret every node of a cluster shares (32 random bytes, distributed like the daemon's
/// other keys). Records are authenticated under it, and a guard given a ClusterNode keys its
/// fingerprints from it, so one proposal has one fingerprint on every node.
struct ClusterKey {
  std::array<unsigned char, 32> bytes{};
};

namespace cluster_format {
constexpr std::uint8_t version = 1;
constexpr std::size_t record_size = 96;
/// Origins whose sequence numbers a node tracks for replay (more are refused).
constexpr std::size_t max_origins = 64;
/// How far behind the newest record of an origin a record may arrive and still be accepted
/// once (reordering); older ones are refused as replays.
constexpr std::uint64_t replay_window = 1024;
}  // namespace cluster_format

/// What a record says of a window: it opened (or was extended), it was lifted, or a success
/// cleared both directions.
enum class RecordKind : std::uint8_t { window = 1, lifted = 2, cleared = 3 };

/// A record's fields, read without authenticating them (ClusterNode::view): for a channel to
/// file, order or expire records; the guard authenticates each one it applies.
struct RecordView {
  std::uint64_t node = 0;
  std::uint64_t sequence = 0;
  RecordKind kind = RecordKind::window;
  Direction direction = Direction::none;  ///< none for cleared
  bool retry = false;                     ///< a sender window held for retry_later
  PeerKey peer{};
  /// What the window still had to run when the record was made; zero for lifted and cleared.
  Duration remaining{};
};

/// What NegotiationGuard::apply() did with an authentic record.
enum class Applied : std::uint8_t {
  changed,    ///< the table changed (a window opened, extended, lifted or cleared)
  unchanged,  ///< already known, expired in transit, or older than a lift it had seen
  own         ///< a record of this node: ignored
};

namespace detail {
struct ClusterRecord;
}

/// This node's identity in a cluster: its id and key, the numbering of the records it makes,
/// and which numbers of every other node it has seen (replay protection). One per node, shared
/// by the guard (given at construction, NegotiationGuard::Extras) and the daemon's sink, which
/// turns events into records with encode(). Allocates nothing; about 10 KB.
class IKEGUARD_API ClusterNode {
 public:
  /// `node_id` must be non-zero and unique in the cluster. `first_sequence` numbers this node's
  /// first record; it must exceed every number this node id used before (a restart: take the
  /// wall clock's microseconds), or the others refuse its records as replays until it does.
  ClusterNode(std::uint64_t node_id, const ClusterKey& key, std::uint64_t first_sequence) noexcept;
  ~ClusterNode();
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  std::uint64_t id() const noexcept { return id_; }

  /// Writes the record of `event` to `out` and returns cluster_format::record_size, or returns
  /// 0 and writes nothing when the event is not shared (only windows opened, retry_later set,
  /// lifted and cleared are; never an event a record caused, nor one without an address), or
  /// `size` is too small. Safe from any thread: each record takes the next sequence number.
  std::size_t encode(const Event& event, void* out, std::size_t size) noexcept;

  /// What a record claims, without authenticating it: its origin and sequence number (to order
  /// a resync's records before applying them), kind, direction, peer and remaining time (to
  /// file and expire it). cluster_record_unsupported_version, _truncated or _malformed.
  static Result<RecordView> view(const void* record, std::size_t size) noexcept;

 private:
  friend class NegotiationGuard;
  // Checks version, length, MAC, origin and sequence; on success marks the sequence seen and
  // decodes into `out`. Errc::ok, or why it is refused (own records give Errc::ok, own = true).
  Errc open(const void* record, std::size_t size, detail::ClusterRecord& out, bool& own) noexcept;
  const unsigned char* fingerprint_key() const noexcept { return fingerprint_key_.data(); }

  struct Seen {
    std::uint64_t node = 0;
    std::uint64_t newest = 0;  // highest sequence accepted
    std::uint64_t bits[cluster_format::replay_window / 64] = {};  // newest - i seen: bit i
  };
  std::uint64_t id_;
  std::array<unsigned char, 32> mac_key_{};
  std::array<unsigned char, 32> fingerprint_key_{};
  std::atomic<std::uint64_t> next_sequence_;
  std::mutex seen_lock_;
  std::size_t origins_ = 0;
  Seen seen_[cluster_format::max_origins];
};

}  // namespace ikeguard

#ifdef IKEGUARD_HEADER_ONLY
#include <ikeguard/cluster-inl.hpp>
#endif
