// SPDX-License-Identifier: MIT
// The peer table's bodies (peer_table.hpp): included by the guard's compiled unit, or by every
// user under IKEGUARD_HEADER_ONLY.
#pragma once

#include <ikeguard/detail/peer_table.hpp>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

namespace ikeguard::detail {

namespace table {
// On a full table, eviction compares this many occupied slots near the newcomer's home slot
// (all of them in a small shard): bounded work per insertion whatever the table size.
constexpr std::uint32_t eviction_sample = 32;
constexpr std::size_t entries_per_shard = 1024;
constexpr std::size_t max_shards = 64;
constexpr std::size_t huge_page = std::size_t{2} << 20;
constexpr std::size_t line = 64;

constexpr std::size_t round_up(std::size_t n, std::size_t to) noexcept {
  return (n + to - 1) / to * to;
}

// A byte per slot, 0 when it is empty, else 8 bits of the hash: a search scans the bytes to the
// first empty slot (a run of a few at this load, within one cache line, which stays in cache)
// and reads only the slots whose byte matches. A key the table does not hold, a flood's spoofed
// source, usually costs no access to the slots at all.
inline std::uint8_t tag_of(std::uint64_t hash) noexcept {
  const auto tag = static_cast<std::uint8_t>(hash >> 32);
  return tag != 0 ? tag : 1;
}

// Memory read while a writer may be changing it: whole 8-byte words, never torn; whether the
// words belong together the seqlock's version says afterwards.
IKEGUARD_SEQLOCK_READER inline std::uint64_t read_racy_word(const std::uint64_t* word) noexcept {
  return __atomic_load_n(word, __ATOMIC_RELAXED);
}
// Starts fetching the cache line at `p` into every level. GCC 12 was found to drop two
// __builtin_prefetch in a row on x86-64 (the object code had no prefetch at all), so there it
// is an instruction the compiler must keep.
inline void fetch_line(const void* p) noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __asm__ volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#elif defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p);
#else
  (void)p;
#endif
}

constexpr std::uint64_t every_byte = 0x0101010101010101ull;

// 0x80 in each byte of `x` that is zero, 0 in the others (exact: no borrow crosses bytes).
inline std::uint64_t zero_bytes(std::uint64_t x) noexcept {
  constexpr std::uint64_t low7 = 0x7f7f7f7f7f7f7f7full;
  return ~(((x & low7) + low7) | x | low7);
}

// The eight tags from `at` on as one little-endian word (byte k is at[k]), read racily as the
// aligned words around them: never past those words, which lie inside the table's block (a whole
// number of 64-byte lines), whatever bytes beside the eight they also hold.
IKEGUARD_SEQLOCK_READER inline std::uint64_t eight_tags(const std::uint8_t* at) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(at);
  const auto* word = reinterpret_cast<const std::uint64_t*>(address & ~std::uintptr_t{7});
  const unsigned shift = static_cast<unsigned>(address & 7u) * 8u;
  const std::uint64_t low = __atomic_load_n(word, __ATOMIC_RELAXED);
  if (shift == 0) return low;
  const std::uint64_t high = __atomic_load_n(word + 1, __ATOMIC_RELAXED);
  return (low >> shift) | (high << (64u - shift));
}

template <class T>
IKEGUARD_SEQLOCK_READER void read_racy(const T& shared, T& copy) noexcept {
  static_assert(sizeof(T) % sizeof(std::uint64_t) == 0, "whole words");  // and 8-aligned: Entry
  const auto* from = reinterpret_cast<const std::uint64_t*>(&shared);
  auto* to = reinterpret_cast<unsigned char*>(&copy);
  for (std::size_t i = 0; i < sizeof(T) / sizeof(std::uint64_t); ++i) {
    const std::uint64_t word = __atomic_load_n(from + i, __ATOMIC_RELAXED);
    std::memcpy(to + i * sizeof word, &word, sizeof word);
  }
}
}  // namespace table

inline void* allocate_table_memory(std::size_t bytes) noexcept {
  void* memory = nullptr;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes >= table::huge_page) {
    const std::size_t rounded = table::round_up(bytes, table::huge_page);
    memory = std::aligned_alloc(table::huge_page, rounded);
    if (memory != nullptr) madvise(memory, rounded, MADV_HUGEPAGE);  // a hint: failure is fine
  }
#endif
  if (memory == nullptr) memory = std::aligned_alloc(table::line, table::round_up(bytes, table::line));
  return memory;
}

template <class V, class R, class L, class C>
TableLayout PeerTable<V, R, L, C>::layout(std::size_t max_entries, bool with_cold) noexcept {
  TableLayout out;
  // Shards of at least entries_per_shard entries, up to max_shards: small tables stay compact,
  // and two threads rarely meet on one shard's lock once there are dozens.
  out.shards = 1;
  while (out.shards < table::max_shards && max_entries / (out.shards * 2) >= table::entries_per_shard) {
    out.shards *= 2;
  }
  // A quarter more slots than the even share: a full table is 80% occupied (70% at 7/8 of
  // max_entries), short probes, 41 bytes per entry of 32 bytes and a tag. A shard may fill 97%
  // of its slots, over a fifth more than its share, before it evicts on its own: with at least
  // 1024 entries per shard that is over seven standard deviations of the hash's spread, so the
  // table-wide count decides.
  const std::size_t even_share = (max_entries + out.shards - 1) / out.shards;
  out.slots_per_shard = even_share + even_share / 4 + 2;
  out.shard_capacity = out.shards > 1 ? std::min(max_entries, out.slots_per_shard - out.slots_per_shard / 32 - 1)
                                      : max_entries;
  const std::size_t slots = out.shards * out.slots_per_shard;
  const std::size_t cold_bytes = has_cold && with_cold ? slots * sizeof(C) : 0;
  out.bytes = table::round_up(
      out.shards * sizeof(Shard) + slots * sizeof(Entry) + table::round_up(slots, alignof(C)) + cold_bytes,
      table::line);
  return out;
}

template <class V, class R, class L, class C>
void PeerTable<V, R, L, C>::build(std::size_t max_entries, void* memory, bool with_cold) noexcept {
  static_assert(std::is_trivially_destructible_v<Entry>, "freed without destructors");
  const TableLayout shape = layout(max_entries, with_cold);
  auto* bytes = static_cast<unsigned char*>(memory);
  shards_ = reinterpret_cast<Shard*>(bytes);
  for (std::size_t i = 0; i < shape.shards; ++i) new (&shards_[i]) Shard();  // no array cookie
  auto* slots = reinterpret_cast<Entry*>(bytes + shape.shards * sizeof(Shard));
  const std::size_t slot_count = shape.shards * shape.slots_per_shard;
  std::uninitialized_value_construct_n(slots, slot_count);
  auto* tags = reinterpret_cast<std::uint8_t*>(slots + slot_count);
  std::memset(tags, 0, slot_count);
  C* cold = nullptr;
  if (has_cold && with_cold) {
    cold = reinterpret_cast<C*>(tags + table::round_up(slot_count, alignof(C)));
    std::uninitialized_value_construct_n(cold, slot_count);
  }
  shard_count_ = static_cast<std::uint32_t>(shape.shards);
  bytes_ = shape.bytes;
  for (std::size_t i = 0; i < shape.shards; ++i) {
    Shard& s = shards_[i];
    s.slots_ = slots + i * shape.slots_per_shard;
    s.tags_ = tags + i * shape.slots_per_shard;
    if (cold != nullptr) s.cold_ = cold + i * shape.slots_per_shard;
    s.size_ = static_cast<std::uint32_t>(shape.slots_per_shard);
    s.capacity_ = static_cast<std::uint32_t>(shape.shard_capacity);
    s.tracked_ = &tracked_;
    s.limit_ = max_entries;
  }
}

template <class V, class R, class L, class C>
PeerTable<V, R, L, C>::~PeerTable() {
  for (std::uint32_t i = 0; i < shard_count_; ++i) shards_[i].~Shard();
}

template <class V, class R, class L, class C>
PeerTable<V, R, L, C>::AllWriters::AllWriters(const PeerTable& table) noexcept : table_(table) {
  for (std::uint32_t i = 0; i < table_.shard_count_; ++i) {
    table_.shards_[i].mutex_.lock();
    table_.shards_[i].begin_write();
  }
}

template <class V, class R, class L, class C>
PeerTable<V, R, L, C>::AllWriters::~AllWriters() {
  for (std::uint32_t i = table_.shard_count_; i-- > 0;) {
    table_.shards_[i].end_write();
    table_.shards_[i].mutex_.unlock();
  }
}

// ---- One shard ---------------------------------------------------------------------------------

template <class V, class R, class L, class C>
void PeerTable<V, R, L, C>::Shard::begin_write() noexcept {
  version_.store(version_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  IKEGUARD_FENCE(std::memory_order_release);
}

template <class V, class R, class L, class C>
void PeerTable<V, R, L, C>::Shard::end_write() noexcept {
  version_.store(version_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

// Lemire's multiply-shift maps the hash's low half onto [0, size) without a division.
template <class V, class R, class L, class C>
std::uint32_t PeerTable<V, R, L, C>::Shard::home(std::uint64_t hash) const noexcept {
  return static_cast<std::uint32_t>((std::uint64_t{static_cast<std::uint32_t>(hash)} * size_) >> 32);
}

template <class V, class R, class L, class C>
std::uint32_t PeerTable<V, R, L, C>::Shard::distance(std::uint32_t i) const noexcept {
  const std::uint32_t h = home(slots_[i].hash);
  return i >= h ? i - h : i + size_ - h;
}

template <class V, class R, class L, class C>
void PeerTable<V, R, L, C>::Shard::prefetch(std::uint64_t hash) const noexcept {
  // The home slot's tag and entry: one line each. (The next line too, where an entry past its
  // home often sits, measured slower: it doubles the misses in flight a core can track.)
  const std::uint32_t h = home(hash);
  table::fetch_line(&tags_[h]);
  table::fetch_line(&slots_[h]);
}

// A seqlock reader: the version before, the tags and the entry, the version after. The racy
// reads are whole-word atomic loads of memory the writers change under the lock;
// ThreadSanitizer is told not to instrument them, as it does not model seqlocks.
template <class V, class R, class L, class C>
template <class ShardOk>
IKEGUARD_SEQLOCK_READER IKEGUARD_READER_INLINE typename PeerTable<V, R, L, C>::Read PeerTable<V, R, L, C>::Shard::read(
    std::uint64_t hash, V& copy, ShardOk&& shard_ok) const noexcept {
  const std::uint32_t before = version_.load(std::memory_order_acquire);
  if ((before & 1u) != 0 || !shard_ok(read_mostly_)) return Read::contended;
  const std::uint8_t tag = table::tag_of(hash);
  Read result = Read::absent;
  std::uint32_t i = home(hash), seen = 0;
  bool settled = false;  // found, or an empty slot reached
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  // The home slot's eight tags at once, compared without a branch per slot: nearly every search
  // ends within them (a probe is a slot or two at this load), with one predictable branch per
  // entry whose tag matches instead of one per slot looked at.
  if (i + 8 <= size_) {
    const std::uint64_t tags = table::eight_tags(&tags_[i]);
    const std::uint64_t empty = table::zero_bytes(tags);
    std::uint64_t match = table::zero_bytes(tags ^ (table::every_byte * tag));
    if (empty != 0) match &= empty - 1;  // only the slots before the first empty one
    for (; match != 0; match &= match - 1) {
      const std::uint32_t k = i + static_cast<std::uint32_t>(__builtin_ctzll(match)) / 8;
      if (table::read_racy_word(&slots_[k].hash) != hash) continue;
      table::read_racy(slots_[k].value, copy);
      result = Read::found;
      break;
    }
    settled = result == Read::found || empty != 0;
    i = next(i + 7);
    seen = 8;
  }
#endif
  // Bounded: what a racing writer leaves half-done must not keep a reader looping.
  for (; !settled && seen < size_; ++seen, i = next(i)) {
    const std::uint8_t t = __atomic_load_n(&tags_[i], __ATOMIC_RELAXED);
    if (t == 0) break;
    if (t != tag || table::read_racy_word(&slots_[i].hash) != hash) continue;
    table::read_racy(slots_[i].value, copy);
    result = Read::found;
    break;
  }
  IKEGUARD_FENCE(std::memory_order_acquire);
  if (version_.load(std::memory_order_relaxed) != before) return Read::contended;
  return result;
}

template <class V, class R, class L, class C>
typename PeerTable<V, R, L, C>::Entry* PeerTable<V, R, L, C>::Shard::find(std::uint64_t hash) noexcept {
  const std::uint8_t tag = table::tag_of(hash);
  for (std::uint32_t i = home(hash);; i = next(i)) {
    const std::uint8_t seen = tags_[i];
    if (seen == 0) return nullptr;
    if (seen == tag && slots_[i].hash == hash) return &slots_[i];
  }
}

template <class V, class R, class L, class C>
template <class F>
void PeerTable<V, R, L, C>::Shard::for_each(F&& f) noexcept {
  for (std::uint32_t i = 0; i < size_; ++i) {
    if (tags_[i] != 0) f(slots_[i]);
  }
}

template <class V, class R, class L, class C>
void PeerTable<V, R, L, C>::Shard::erase(Entry* entry) noexcept {
  remove(entry);
  tracked_->fetch_sub(1, std::memory_order_relaxed);
}

// Backward shift: the entries after the hole move one closer to home; no tombstones.
template <class V, class R, class L, class C>
void PeerTable<V, R, L, C>::Shard::remove(Entry* entry) noexcept {
  auto hole = static_cast<std::uint32_t>(entry - slots_);
  for (std::uint32_t j = next(hole); tags_[j] != 0 && distance(j) != 0; j = next(j)) {
    move_slot(hole, j);
    hole = j;
  }
  slots_[hole] = Entry{};
  tags_[hole] = 0;
  if (cold_ != nullptr) cold_[hole] = C{};
  count_.store(count_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

template <class V, class R, class L, class C>
void PeerTable<V, R, L, C>::Shard::move_slot(std::uint32_t to, std::uint32_t from) noexcept {
  slots_[to] = slots_[from];
  tags_[to] = tags_[from];
  if (cold_ != nullptr) cold_[to] = cold_[from];
}

template <class V, class R, class L, class C>
bool PeerTable<V, R, L, C>::Shard::take_place() noexcept {
  if (count_.load(std::memory_order_relaxed) >= capacity_) return false;
  std::size_t seen = tracked_->load(std::memory_order_relaxed);
  while (seen < limit_) {
    if (tracked_->compare_exchange_weak(seen, seen + 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

template <class V, class R, class L, class C>
template <class EvictsBefore>
typename PeerTable<V, R, L, C>::Inserted PeerTable<V, R, L, C>::Shard::insert(
    std::uint64_t hash, const C& cold, EvictsBefore&& evicts_before) noexcept {
  Inserted result;
  if (!take_place()) {
    if (count_.load(std::memory_order_relaxed) > 0) {
      const std::uint32_t victim = evict_near(hash, evicts_before);  // the newcomer takes its place
      result.victim = slots_[victim].value;
      if (cold_ != nullptr) result.victim_cold = cold_[victim];
      remove(&slots_[victim]);
      result.evicted = true;
    } else {
      tracked_->fetch_add(1, std::memory_order_relaxed);
    }
  }
  Entry carried;
  carried.hash = hash;
  C carried_cold = cold;
  std::uint32_t i = home(hash);
  for (std::uint32_t d = 0;; ++d, i = next(i)) {
    Entry& slot = slots_[i];
    if (tags_[i] == 0) {
      slot = carried;
      tags_[i] = table::tag_of(carried.hash);
      if (cold_ != nullptr) cold_[i] = carried_cold;
      if (result.entry == nullptr) result.entry = &slot;
      break;
    }
    // Robin Hood order: an entry sits no closer to its home than the one before it, which
    // keeps every entry near its home slot at this load.
    const std::uint32_t theirs = distance(i);
    if (theirs < d) {  // the richer entry moves on; the newcomer (or the one carried) stays
      std::swap(slot, carried);
      tags_[i] = table::tag_of(slot.hash);
      if (cold_ != nullptr) std::swap(cold_[i], carried_cold);
      if (result.entry == nullptr) result.entry = &slot;
      d = theirs;
    }
  }
  count_.store(count_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  return result;
}

template <class V, class R, class L, class C>
template <class EvictsBefore>
std::uint32_t PeerTable<V, R, L, C>::Shard::evict_near(std::uint64_t hash,
                                                      EvictsBefore& evicts_before) noexcept {
  std::uint32_t victim = 0;
  bool chosen = false;
  std::uint32_t examined = 0;
  std::uint32_t i = home(hash);
  for (std::uint32_t visited = 0; visited < size_; ++visited, i = next(i)) {
    if (tags_[i] == 0) continue;
    if (!chosen || evicts_before(slots_[i].value, slots_[victim].value)) {
      victim = i;
      chosen = true;
    }
    if (++examined == table::eviction_sample) break;
  }
  return victim;
}

}  // namespace ikeguard::detail
