// SPDX-License-Identifier: MIT
// The snapshot format (snapshot.hpp): its header, its one record encoder and decoder, and the
// checks a snapshot passes before anything is restored from it; a peer's state as a record and
// back. Knows nothing of the table. Internal.
#pragma once

#include <ikeguard/detail/crypto.hpp>
#include <ikeguard/detail/endian.hpp>
#include <ikeguard/detail/peer_state.hpp>
#include <ikeguard/error.hpp>
#include <ikeguard/snapshot.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

namespace ikeguard::detail {

namespace snapshot_layout {
namespace format = snapshot_format;
constexpr unsigned char magic[8] = {'I', 'K', 'E', 'G', 'S', 'N', 'A', 'P'};
constexpr std::size_t nonce_offset = 16;
constexpr std::size_t keys_offset = 32;
static_assert(sizeof(GuardKeys) == guard_keys_size, "the keys travel as one block");
static_assert(keys_offset + guard_keys_size == format::header_size);
static_assert(nonce_offset + snapshot_nonce_size == keys_offset);
}  // namespace snapshot_layout

// One record: a tracked peer, its windows as time still to run.
struct SnapshotRecord {
  std::uint64_t hash = 0;
  std::uint32_t sender_left = 0;    // ms; 0: not open
  std::uint32_t receiver_left = 0;  // ms; 0: not open
  std::uint32_t since_failure = 0;  // ms; 0 when nothing is counted
  std::uint32_t sender_fingerprint = 0;
  std::uint32_t receiver_fingerprint = 0;
  std::uint8_t sender_strikes = 0;
  std::uint8_t receiver_strikes = 0;
  std::uint8_t confirmations = 0;
  std::uint8_t hold = 0;  // 0 none, 1 retry, 2 configuration

  std::uint32_t latest_end() const noexcept { return std::max(sender_left, receiver_left); }
};

inline void encode(const SnapshotRecord& r, std::uint8_t* p) noexcept {
  using namespace wire::detail;
  store_u64(p, r.hash);
  store_u32(p + 8, r.sender_left);
  store_u32(p + 12, r.receiver_left);
  store_u32(p + 16, r.since_failure);
  store_u32(p + 20, r.sender_fingerprint);
  store_u32(p + 24, r.receiver_fingerprint);
  p[28] = r.sender_strikes;
  p[29] = r.receiver_strikes;
  p[30] = r.confirmations;
  p[31] = r.hold;
}

// False when the record could not have been written by snapshot().
inline bool decode(const std::uint8_t* p, SnapshotRecord& r) noexcept {
  using namespace wire::detail;
  r.hash = load_u64(p);
  r.sender_left = load_u32(p + 8);
  r.receiver_left = load_u32(p + 12);
  r.since_failure = load_u32(p + 16);
  r.sender_fingerprint = load_u32(p + 20);
  r.receiver_fingerprint = load_u32(p + 24);
  r.sender_strikes = p[28];
  r.receiver_strikes = p[29];
  r.confirmations = p[30];
  r.hold = p[31];
  if (r.hash == 0 || r.hold > 2) return false;
  // A hold kind without a window, or a window without a hold kind, is not a state the guard has.
  if ((r.sender_left == 0) != (r.hold == 0)) return false;
  const bool counted = (r.sender_strikes | r.receiver_strikes | r.confirmations) != 0;
  if (!counted && r.since_failure != 0) return false;
  // snapshot() writes no entry with nothing to remember.
  return r.sender_left != 0 || r.receiver_left != 0 || counted || r.sender_fingerprint != 0;
}

// Writes the header for `count` records, the guard's keys hidden under a fresh nonce's pad.
inline void write_header(std::uint8_t* p, std::size_t count, const GuardKeys& keys,
                         const SnapshotKey& key) noexcept {
  using namespace snapshot_layout;
  using namespace wire::detail;
  std::memcpy(p, magic, sizeof magic);
  store_u16(p + 8, format::version);
  store_u16(p + 10, static_cast<std::uint16_t>(format::record_size));
  store_u32(p + 12, static_cast<std::uint32_t>(count));
  random_bytes(p + nonce_offset, snapshot_nonce_size);
  snapshot_key_pad(key, p + nonce_offset, reinterpret_cast<const std::uint8_t*>(&keys), p + keys_offset);
}

// The MAC after the records: `total` is the whole snapshot's size.
inline void seal(std::uint8_t* p, std::size_t total, const SnapshotKey& key) noexcept {
  snapshot_mac(key, p, total - snapshot_format::mac_size, p + total - snapshot_format::mac_size);
}

// A snapshot checked in full: header, size, MAC, every record. Errc::ok and its record count,
// or why it is refused.
inline Errc check_snapshot(const std::uint8_t* p, std::size_t size, const SnapshotKey& key,
                           std::uint32_t& count) noexcept {
  using namespace snapshot_layout;
  using namespace wire::detail;
  if (std::memcmp(p, magic, std::min(size, sizeof magic)) != 0) return Errc::snapshot_not_a_snapshot;
  if (size < format::size_for(0)) return Errc::snapshot_truncated;
  const std::uint16_t version = load_u16(p + 8);
  // Version 1 named peers by SipHash-2-4, which this table no longer computes: its entries
  // could never be found again, so it is refused by name rather than restored unreachable.
  if (version == 1) return Errc::snapshot_retired_version;
  if (version != format::version) return Errc::snapshot_unsupported_version;
  if (load_u16(p + 10) != format::record_size) return Errc::snapshot_not_a_snapshot;
  count = load_u32(p + 12);
  // The second test catches a size_for() that wrapped (a 32-bit size_t and a huge count).
  if (size != format::size_for(count) || (size - format::size_for(0)) / format::record_size != count) {
    return Errc::snapshot_truncated;
  }
  if (!snapshot_mac_verifies(key, p, size - format::mac_size, p + size - format::mac_size)) {
    return Errc::snapshot_unauthenticated;
  }
  SnapshotRecord record;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (!decode(p + format::header_size + std::size_t{i} * format::record_size, record)) {
      return Errc::snapshot_malformed;
    }
  }
  return Errc::ok;
}

// The guard's keys from a checked snapshot.
inline void read_keys(const std::uint8_t* p, const SnapshotKey& key, GuardKeys& keys) noexcept {
  using namespace snapshot_layout;
  snapshot_key_pad(key, p + nonce_offset, p + keys_offset, reinterpret_cast<std::uint8_t*>(&keys));
}

// Record i of a checked snapshot.
inline SnapshotRecord record_at(const std::uint8_t* p, std::uint32_t i) noexcept {
  SnapshotRecord record;
  decode(p + snapshot_format::header_size + std::size_t{i} * snapshot_format::record_size, record);
  return record;
}

// What a settled entry says now, as a record: windows as the time they still run.
inline SnapshotRecord record_of(const PeerState& state, std::uint64_t hash, const Now& now) noexcept {
  const auto left = [&](bool open, Stamp until) {
    return open ? static_cast<std::uint32_t>(ahead(until, now.at)) : std::uint32_t{0};
  };
  SnapshotRecord record;
  record.hash = hash;
  record.sender_left = left(state.sender_open(now.at), state.sender_until);
  record.receiver_left = left(state.receiver_open(now.at), state.receiver_until);
  record.since_failure = state.counted() ? static_cast<std::uint32_t>(ahead(now.at, state.last_failure)) : 0u;
  record.sender_fingerprint = state.sender_fingerprint;
  record.receiver_fingerprint = state.receiver_fingerprint;
  record.sender_strikes = state.sender_strikes;
  record.receiver_strikes = state.receiver_strikes;
  record.confirmations = state.confirmations;
  record.hold = static_cast<std::uint8_t>(state.sender_hold());
  return record;
}

// The state a record restores, its windows resuming from now, none longer than `cap`.
inline PeerState state_of(const SnapshotRecord& record, const Now& now, Millis cap,
                          Millis forgive_ms) noexcept {
  const auto capped = [cap](std::uint32_t left) { return std::min<Millis>(Millis{left}, cap); };
  PeerState state;
  if (record.sender_left != 0) {
    state.sender_until = stamp(now.ms + capped(record.sender_left));
    state.set_sender_hold(static_cast<SenderHold>(record.hold));
  }
  if (record.receiver_left != 0) state.set_receiver(stamp(now.ms + capped(record.receiver_left)));
  // Longer ago than forgive_after is as good as forgive_after: the strikes lapse when next seen.
  state.last_failure = stamp(now.ms - std::min<Millis>(Millis{record.since_failure}, forgive_ms));
  state.sender_fingerprint = record.sender_fingerprint;
  state.receiver_fingerprint = record.receiver_fingerprint;
  state.sender_strikes = record.sender_strikes;
  state.receiver_strikes = record.receiver_strikes;
  state.confirmations = record.confirmations;
  return state;
}

// With more records than the table holds, the windows that end latest are kept: the smallest
// end kept, and how many records ending exactly then are kept. Allocates the index.
struct RestoreCut {
  std::uint32_t threshold = 0;
  std::size_t at_threshold = 0;

  static Result<RestoreCut> of(const std::uint8_t* p, std::uint32_t count, std::size_t keep) noexcept {
    RestoreCut cut;
    cut.at_threshold = count;
    if (count <= keep) return cut;
    std::unique_ptr<std::uint32_t[]> ends(new (std::nothrow) std::uint32_t[count]);
    if (!ends) return Errc::out_of_memory;
    for (std::uint32_t i = 0; i < count; ++i) ends[i] = record_at(p, i).latest_end();
    std::nth_element(ends.get(), ends.get() + (count - keep), ends.get() + count);
    cut.threshold = ends[count - keep];
    std::size_t above = 0;
    for (std::uint32_t i = 0; i < count; ++i) above += ends[i] > cut.threshold ? std::size_t{1} : std::size_t{0};
    cut.at_threshold = keep - above;
    return cut;
  }
  bool keeps(std::uint32_t end) noexcept {
    if (end < threshold || (end == threshold && at_threshold == 0)) return false;
    if (end == threshold) --at_threshold;
    return true;
  }
};

}  // namespace ikeguard::detail
