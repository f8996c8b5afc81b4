// SPDX-License-Identifier: MIT
// This node's newest record per peer and slot, for as long as it matters (a window until it
// ends, a tombstone for the store's tombstone time): what the sender stores and publishes again
// after Redis comes back, since Redis may have lost its keys and the queue may have dropped the
// records made meanwhile. Fixed capacity, allocated once; an expired entry is a free one. Not
// synchronised: RedisChannel holds its lock around every call.
#pragma once

#include "record_queue.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace ikeguard_cluster {

struct OwnRecord {
  QueuedRecord record{};
  RecordFields fields{};
  /// When it stops mattering; time_point{} marks a slot never used.
  RealClock::time_point expires{};
  /// Not yet published: the sender publishes it on its next (re)connection.
  bool pending = false;
};

class OwnWindows {
 public:
  /// How far from its home slot an entry may be placed.
  static constexpr std::size_t probe_limit = 32;

  explicit OwnWindows(std::size_t capacity) : slots_(capacity < probe_limit ? probe_limit : capacity) {}

  /// Replaces the entry of the same peer and slot, or takes a free one near its home; false when
  /// all probe_limit candidates are live entries of other peers (the record is then not kept).
  bool put(const OwnRecord& entry, RealClock::time_point now) noexcept {
    OwnRecord* free_slot = nullptr;
    const std::size_t home = hash(entry.fields) % slots_.size();
    for (std::size_t i = 0; i < probe_limit; ++i) {
      OwnRecord& slot = slots_[(home + i) % slots_.size()];
      const bool live = slot.expires > now;
      if (live && same(slot.fields, entry.fields)) {
        slot = entry;
        return true;
      }
      if (!live && free_slot == nullptr) free_slot = &slot;
    }
    if (free_slot == nullptr) return false;
    *free_slot = entry;
    return true;
  }

  /// The live entry holding exactly `bytes`, or null.
  OwnRecord* find(const RecordFields& fields, const Record& bytes,
                  RealClock::time_point now) noexcept {
    const std::size_t home = hash(fields) % slots_.size();
    for (std::size_t i = 0; i < probe_limit; ++i) {
      OwnRecord& slot = slots_[(home + i) % slots_.size()];
      if (slot.expires > now && slot.record.bytes == bytes) return &slot;
    }
    return nullptr;
  }

  /// Calls `visit(OwnRecord&)` for every live entry.
  template <class Visit>
  void for_each_live(RealClock::time_point now, Visit&& visit) noexcept {
    for (OwnRecord& slot : slots_) {
      if (slot.expires > now) visit(slot);
    }
  }

 private:
  static bool same(const RecordFields& a, const RecordFields& b) noexcept {
    return a.slot == b.slot && a.peer == b.peer;
  }
  static std::size_t hash(const RecordFields& fields) noexcept {
    // FNV-1a over the peer's bytes and the slot: the table is this node's own, not an attacker's.
    unsigned char bytes[sizeof(ikeguard::PeerKey)];
    std::memcpy(bytes, &fields.peer, sizeof bytes);
    std::uint64_t h = 14695981039346656037ULL;
    for (unsigned char byte : bytes) h = (h ^ byte) * 1099511628211ULL;
    h = (h ^ static_cast<std::uint8_t>(fields.slot)) * 1099511628211ULL;
    return static_cast<std::size_t>(h >> 16);
  }

  std::vector<OwnRecord> slots_;
};

}  // namespace ikeguard_cluster
