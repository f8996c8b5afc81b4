// SPDX-License-Identifier: MIT
// The peer table: a fixed-capacity hash table of 64-bit keyed hashes to small values, sharded,
// with Robin Hood placement, tags, bounded eviction and lock-free (seqlock) readers. It knows
// nothing of IKE: the guard stores its per-peer state in it (guard.hpp). Internal.
#pragma once

#include <ikeguard/export.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <type_traits>

// GCC refuses atomic_thread_fence under ThreadSanitizer, which does not model fences; the
// seqlock's readers are not instrumented there anyway (see Shard::read), so such builds go
// without the fences (x86's ordering keeps them right); every other build has them.
// The reader is inlined into every lock-free answer, except under ThreadSanitizer, where a
// function it does not instrument cannot be inlined into one it does.
#if defined(__SANITIZE_THREAD__)
#define IKEGUARD_FENCE(order) ((void)0)
#define IKEGUARD_READER_INLINE inline
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define IKEGUARD_FENCE(order) ((void)0)
#define IKEGUARD_READER_INLINE inline
#endif
#endif
#ifndef IKEGUARD_FENCE
#define IKEGUARD_FENCE(order) std::atomic_thread_fence(order)
#define IKEGUARD_READER_INLINE IKEGUARD_ALWAYS_INLINE
#endif
// The seqlock's racy reads, which ThreadSanitizer would report though the version check
// discards whatever a writer disturbed.
#if defined(__clang__) || defined(__GNUC__)
#define IKEGUARD_SEQLOCK_READER __attribute__((no_sanitize("thread")))
#else
#define IKEGUARD_SEQLOCK_READER
#endif

namespace ikeguard::detail {

/// Memory for a table of `bytes`: 2 MiB pages where the kernel offers them (Linux transparent
/// huge pages, "madvise" mode) for a large one, so a lookup in a table of many megabytes rarely
/// misses the TLB as well as the cache; plain malloc otherwise. 64-byte aligned; null when
/// there is none. Freed with std::free. (Defined in the -inl companion.)
inline void* allocate_table_memory(std::size_t bytes) noexcept;

struct FreeMemory {
  void operator()(void* memory) const noexcept { std::free(memory); }
};

/// How a table for `max_entries` is laid out in one block of memory: shards, slots, tags.
struct TableLayout {
  std::size_t shards = 0;           // a power of two
  std::size_t slots_per_shard = 0;  // more than the even share: short probes
  std::size_t shard_capacity = 0;   // entries one shard may hold before it evicts on its own
  std::size_t bytes = 0;            // the block, a multiple of 64
};

/// Keys are 64-bit keyed hashes, never 0 (0 marks an empty slot). Value is trivially copyable,
/// a multiple of 8 bytes. ReadMostly is per-shard data readers load without the lock
/// (atomics), Locked per-shard data used under the shard's lock. Cold is what an entry keeps
/// beside its value in a parallel array that lookups never touch (the guard: the peer's
/// address), moved with its entry under the lock; an empty type keeps no such array, and neither
/// does a table built without it (layout's and build's `with_cold`).
///
/// The whole table holds at most `limit` entries; a shard evicts within itself when the table
/// or the shard is full. Writers hold a shard's lock (Shard::Writer); readers use Shard::read.
struct NoCold {};

template <class Value, class ReadMostly, class Locked, class Cold = NoCold>
class PeerTable {
 public:
  static constexpr bool has_cold = !std::is_empty_v<Cold>;
  static_assert(std::is_trivially_copyable_v<Cold>, "moved as bytes with its entry");
  struct Entry {
    std::uint64_t hash = 0;  // 0: empty
    alignas(8) Value value{};  // read by lock-free readers as whole 8-byte words
  };
  static_assert(std::is_trivially_copyable_v<Value> && sizeof(Value) % 8 == 0,
                "a value is copied as whole words by lock-free readers");

  /// What an insertion displaced: the entry it evicted, when it had to.
  struct Inserted {
    Entry* entry = nullptr;
    bool evicted = false;
    Value victim{};
    Cold victim_cold{};
  };

  enum class Read : std::uint8_t { absent, found, contended };

  class alignas(64) Shard {
   public:
    /// Holds the shard's lock and keeps its version odd: readers retry or take the lock.
    class Writer {
     public:
      explicit Writer(Shard& shard) noexcept : shard_(shard), lock_(shard.mutex_) {
        shard_.begin_write();
      }
      ~Writer() { shard_.end_write(); }
      Writer(const Writer&) = delete;
      Writer& operator=(const Writer&) = delete;

     private:
      Shard& shard_;
      std::lock_guard<std::mutex> lock_;
    };

    /// Starts the home slot's cache miss, so it overlaps with the caller's other work.
    void prefetch(std::uint64_t hash) const noexcept;

    /// Lock-free: `found` with a consistent copy of the value, `absent`, or `contended` (a
    /// writer was active, or `shard_ok(read_mostly())` said no): take the lock instead.
    template <class ShardOk>
    IKEGUARD_READER_INLINE Read read(std::uint64_t hash, Value& copy, ShardOk&& shard_ok) const noexcept;

    // Under the lock (a Writer):
    Entry* find(std::uint64_t hash) noexcept;
    /// Precondition: `hash` is absent. Takes one of the table's places, or, when the table or
    /// this shard is full, the place of the entry it evicts: the one `evicts_before` orders
    /// first among the 32 nearest the newcomer's home slot. The table-wide count never passes
    /// the limit, even for a moment; only a shard with no entry at all inserts past a full
    /// table, which keyed hashing makes vanishingly unlikely.
    template <class EvictsBefore>
    Inserted insert(std::uint64_t hash, const Cold& cold, EvictsBefore&& evicts_before) noexcept;
    void erase(Entry* entry) noexcept;
    /// The cold part of an entry of this shard (only in a table built with_cold).
    Cold cold(const Entry* entry) const noexcept {
      return cold_ != nullptr ? cold_[entry - slots_] : Cold{};
    }
    /// The same, to change; null in a table built without.
    Cold* cold_at(const Entry* entry) noexcept { return cold_ != nullptr ? &cold_[entry - slots_] : nullptr; }
    /// Calls f(Entry&) for every entry.
    template <class F>
    void for_each(F&& f) noexcept;

    ReadMostly& read_mostly() noexcept { return read_mostly_; }
    const ReadMostly& read_mostly() const noexcept { return read_mostly_; }
    Locked& locked() noexcept { return locked_; }
    const Locked& locked() const noexcept { return locked_; }
    std::uint32_t entries() const noexcept { return count_.load(std::memory_order_relaxed); }

   private:
    friend class PeerTable;
    void begin_write() noexcept;
    void end_write() noexcept;
    std::uint32_t home(std::uint64_t hash) const noexcept;
    std::uint32_t next(std::uint32_t i) const noexcept { return i + 1 == size_ ? 0 : i + 1; }
    std::uint32_t distance(std::uint32_t i) const noexcept;  // of slot i from its home
    void remove(Entry* entry) noexcept;  // erase() without the table-wide count
    template <class EvictsBefore>
    std::uint32_t evict_near(std::uint64_t hash, EvictsBefore& evicts_before) noexcept;
    void move_slot(std::uint32_t to, std::uint32_t from) noexcept;
    bool take_place() noexcept;  // one of the table's places, if the table and shard have one

    // First cache line: what a lock-free read needs, written only when the table changes, so
    // threads that only read share it without moving it between cores.
    std::atomic<std::uint32_t> version_{0};  // seqlock: odd while a writer changes this shard
    std::uint32_t size_ = 0;                 // slots (any number: homes are found by multiplying)
    Entry* slots_ = nullptr;
    std::uint8_t* tags_ = nullptr;  // one per slot: 0 empty, else 8 bits of the hash
    ReadMostly read_mostly_{};
    Cold* cold_ = nullptr;  // one per slot, beside slots_ (null: built without)

    alignas(64) std::mutex mutex_;
    std::uint32_t capacity_ = 0;
    std::atomic<std::uint32_t> count_{0};
    std::atomic<std::size_t>* tracked_ = nullptr;  // the whole table's entries
    std::size_t limit_ = 0;                        // the whole table's limit
    Locked locked_{};
  };

  static TableLayout layout(std::size_t max_entries, bool with_cold = has_cold) noexcept;

  PeerTable() noexcept = default;
  ~PeerTable();
  PeerTable(const PeerTable&) = delete;
  PeerTable& operator=(const PeerTable&) = delete;

  /// Builds the table for `max_entries` in `memory` (layout(max_entries, with_cold).bytes, 64-aligned),
  /// which the caller owns and frees after the table is gone.
  void build(std::size_t max_entries, void* memory, bool with_cold = has_cold) noexcept;

  Shard& shard_for(std::uint64_t hash) const noexcept {
    return shards_[(hash >> 40) & (shard_count_ - 1)];
  }
  std::uint32_t shard_count() const noexcept { return shard_count_; }
  Shard& shard(std::uint32_t i) const noexcept { return shards_[i]; }
  std::size_t size() const noexcept { return tracked_.load(std::memory_order_relaxed); }
  std::size_t bytes() const noexcept { return bytes_; }

  /// Every shard locked, in index order (no other caller holds two locks): one instant.
  class AllWriters {
   public:
    explicit AllWriters(const PeerTable& table) noexcept;
    ~AllWriters();
    AllWriters(const AllWriters&) = delete;
    AllWriters& operator=(const AllWriters&) = delete;

   private:
    const PeerTable& table_;
  };

 private:
  Shard* shards_ = nullptr;
  std::uint32_t shard_count_ = 0;
  std::size_t bytes_ = 0;
  std::atomic<std::size_t> tracked_{0};
};

}  // namespace ikeguard::detail

#ifdef IKEGUARD_HEADER_ONLY
#include <ikeguard/detail/peer_table-inl.hpp>
#endif
