// SPDX-License-Identifier: MIT
// The snapshot format (snapshot.hpp): its header, its one record encoder and decoder, and the
// checks a snapshot passes before anything is restored from it. Knows nothing of the table;
// the guard turns its entries into records and back. Internal.
#pragma once

#include <ikeguard/detail/crypto.hpp>
#include <ikeguard/detail/endian.hpp>
#include <ikeguard/error.hpp>
#include <ikeguard/snapshot.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

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
  if (load_u16(p + 8) != format::version) return Errc::snapshot_unsupported_version;
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

}  // namespace ikeguard::detail
