// SPDX-License-Identifier: MIT
// The guard's table and decisions. Everything that touches libsodium lives here, so sodium.h
// never reaches a daemon's headers.
#include <ikeguard/guard.hpp>

#include "wire/endian.hpp"

#include <sodium.h>

#if defined(__linux__)
#include <sched.h>
#include <sys/mman.h>
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <thread>
#include <type_traits>

// GCC refuses atomic_thread_fence under ThreadSanitizer, which does not model fences; the
// seqlock's readers are not instrumented there anyway (see read_only), so such builds go
// without the fences (x86's ordering keeps them right); every other build has them.
#if defined(__SANITIZE_THREAD__)
#define IKEGUARD_FENCE(order) ((void)0)
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define IKEGUARD_FENCE(order) ((void)0)
#endif
#endif
#ifndef IKEGUARD_FENCE
#define IKEGUARD_FENCE(order) std::atomic_thread_fence(order)
#endif
// The seqlock's racy reads, which ThreadSanitizer would report though the version check
// discards whatever a writer disturbed.
#if defined(__clang__) || defined(__GNUC__)
#define IKEGUARD_SEQLOCK_READER __attribute__((no_sanitize("thread")))
#else
#define IKEGUARD_SEQLOCK_READER
#endif

namespace ikeguard {

namespace {

using Ticks = Duration::rep;    // nanoseconds since the clock's epoch
using Millis = std::int64_t;    // milliseconds since the clock's epoch
using Stamp = std::uint32_t;    // Millis modulo 2^32: a time as a slot stores it

constexpr Ticks ns_per_ms = 1'000'000;
constexpr std::uint8_t strike_limit = std::numeric_limits<std::uint8_t>::max();
// On a full table, eviction compares this many occupied slots near the newcomer's home slot
// (all of them in a small shard): bounded work per insertion whatever the table size.
constexpr std::uint32_t eviction_sample = 32;
constexpr std::size_t peers_per_shard = 1024;
constexpr std::uint32_t max_shards = 64;
// Every stamp a slot holds must stay within 2^31 ms of now to compare correctly: windows end at
// most max_window plus jitter (< 2^31 ms, Policy's limit) ahead, and each shard clears lapsed
// windows and strikes at least this often, so no stale stamp ages past the limit.
constexpr Millis normalize_every = Millis{1} << 29;

Millis floor_ms(Ticks t) noexcept {
  Millis q = t / ns_per_ms;
  if (t % ns_per_ms < 0) --q;
  return q;
}
Millis ceil_ms(Ticks t) noexcept {
  Millis q = t / ns_per_ms;
  if (t % ns_per_ms > 0) ++q;
  return q;
}
TimePoint point(Ticks t) noexcept { return TimePoint(Duration(t)); }
TimePoint point_ms(Millis ms) noexcept {
  constexpr Millis most = std::numeric_limits<Ticks>::max() / ns_per_ms;
  constexpr Millis least = std::numeric_limits<Ticks>::min() / ns_per_ms;
  if (ms > most) return TimePoint::max();
  if (ms < least) return TimePoint::min();
  return TimePoint(Duration(ms * ns_per_ms));
}
Ticks add_saturating(Ticks a, Duration b) noexcept {
  const Ticks d = b.count();
  if (d > 0 && a > std::numeric_limits<Ticks>::max() - d) return std::numeric_limits<Ticks>::max();
  return a + d;
}
Stamp stamp(Millis ms) noexcept { return static_cast<Stamp>(static_cast<std::uint64_t>(ms)); }
// How far `to` lies after `from` (negative: before), for stamps within 2^31 ms of each other.
Millis ahead(Stamp to, Stamp from) noexcept {
  const std::uint32_t d = to - from;
  return d < 0x80000000u ? Millis{d} : Millis{d} - (Millis{1} << 32);
}

std::uint8_t add_strike(std::uint8_t strikes) noexcept {
  return strikes == strike_limit ? strikes : static_cast<std::uint8_t>(strikes + 1);
}

// A slot keeps 32 bits of a fingerprint (0: unknown). Two configurations the slot cannot tell
// apart (one chance in 2^32) hold as one: the safe way to be wrong.
std::uint32_t short_fingerprint(const Fingerprint& f) noexcept {
  if (!f.known()) return 0;
  const auto low = static_cast<std::uint32_t>(f.value());
  return low != 0 ? low : 1;
}

// Counters are written under the shard's lock and read without it by stats().
using Counter = std::atomic<std::uint64_t>;
void bump(Counter& counter) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

bool lifts(const Fingerprint& offered, std::uint32_t remembered) noexcept {
  return offered.known() && remembered != 0 && short_fingerprint(offered) != remembered;
}

enum class SenderHold : std::uint8_t { none, retry, configuration };

// The time of one call, in the units the table uses.
struct Now {
  Ticks ns;
  Millis ms;
  Stamp at;
  explicit Now(TimePoint t) noexcept
      : ns(t.time_since_epoch().count()), ms(floor_ms(ns)), at(stamp(ms)) {}
  Now(Ticks nanoseconds, Millis milliseconds) noexcept  // the same time, already divided
      : ns(nanoseconds), ms(milliseconds), at(stamp(milliseconds)) {}
};

// The slot array of a large table asks for 2 MiB pages where the kernel offers them (Linux
// transparent huge pages, "madvise" mode): a lookup in a table of many megabytes then rarely
// misses the TLB as well as the cache. Elsewhere, or for a small table, plain malloc.
constexpr std::size_t huge_page = std::size_t{2} << 20;

template <class T>
T* allocate_table(std::size_t count) noexcept {
  const std::size_t bytes = count * sizeof(T);
  void* memory = nullptr;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes >= huge_page) {
    const std::size_t rounded = (bytes + huge_page - 1) / huge_page * huge_page;
    memory = std::aligned_alloc(huge_page, rounded);
    if (memory != nullptr) madvise(memory, rounded, MADV_HUGEPAGE);  // a hint: failure is fine
  }
#endif
  if (memory == nullptr) memory = std::malloc(bytes);
  if (memory == nullptr) return nullptr;
  T* table = static_cast<T*>(memory);
  std::uninitialized_value_construct_n(table, count);
  return table;
}

}  // namespace

// 32 bytes, two to a cache line. The peer is known by its 64-bit keyed hash alone: without the
// key no one can choose two peers that share one, and by chance two of a million tracked peers
// share one about once in 2^25 tables.
struct NegotiationGuard::Slot {
  std::uint64_t hash = 0;           // 0: empty
  Stamp sender_until = 0;           // meaningful while sender_hold() != none
  Stamp receiver_until = 0;         // meaningful while receiver_set()
  Stamp last_failure = 0;           // meaningful while counted()
  std::uint32_t sender_fingerprint = 0;    // last proposal sent (0: unknown)
  std::uint32_t receiver_fingerprint = 0;  // the proposal the receiver window rejected
  std::uint8_t sender_strikes = 0;
  std::uint8_t receiver_strikes = 0;
  std::uint8_t confirmations = 0;  // unauthenticated configuration errors seen, unconfirmed
  std::uint8_t flags = 0;          // bits 0-1: SenderHold; bit 2: receiver window set

  SenderHold sender_hold() const noexcept { return static_cast<SenderHold>(flags & 3u); }
  void set_sender_hold(SenderHold hold) noexcept {
    flags = static_cast<std::uint8_t>((flags & ~3u) | static_cast<unsigned>(hold));
  }
  bool receiver_set() const noexcept { return (flags & 4u) != 0; }
  void set_receiver(Stamp until) noexcept {
    receiver_until = until;
    flags = static_cast<std::uint8_t>(flags | 4u);
  }
  void clear_receiver() noexcept { flags = static_cast<std::uint8_t>(flags & ~4u); }

  bool sender_open(Stamp now) const noexcept {
    return sender_hold() != SenderHold::none && ahead(sender_until, now) > 0;
  }
  bool receiver_open(Stamp now) const noexcept {
    return receiver_set() && ahead(receiver_until, now) > 0;
  }
  bool any_window_open(Stamp now) const noexcept { return sender_open(now) || receiver_open(now); }
  // Milliseconds until the later open window ends; 0 when none is open.
  Millis time_left(Stamp now) const noexcept {
    Millis left = 0;
    if (sender_open(now)) left = ahead(sender_until, now);
    if (receiver_open(now)) left = std::max(left, ahead(receiver_until, now));
    return left;
  }
  bool counted() const noexcept { return (sender_strikes | receiver_strikes | confirmations) != 0; }
  std::uint32_t total_strikes() const noexcept {
    return std::uint32_t{sender_strikes} + receiver_strikes;
  }
  // settle() would change something: a window lapsed, or strikes that lapse.
  bool unsettled(Stamp now, Millis forgive_ms) const noexcept {
    return (sender_hold() != SenderHold::none && ahead(sender_until, now) <= 0) ||
           (receiver_set() && ahead(receiver_until, now) <= 0) ||
           (counted() && ahead(now, last_failure) >= forgive_ms);
  }
  // Nothing worth keeping: its slot is reclaimed.
  bool idle(Stamp now) const noexcept {
    return !any_window_open(now) && !counted() && sender_fingerprint == 0;
  }
};

struct alignas(64) NegotiationGuard::Shard {
  static_assert(sizeof(Slot) == 32, "two slots to a cache line");
  static_assert(std::is_trivially_destructible_v<Slot>, "freed without destructors");

  // First cache line: what a lock-free read needs, written only when the table changes, so
  // threads that only read share it without moving it between cores.
  // Seqlock: odd while a writer changes this shard; a reader that sees it change retries.
  std::atomic<std::uint32_t> version{0};
  std::uint32_t size = 0;      // slots in this shard (any number: homes are found by multiplying)
  Slot* slots = nullptr;
  std::uint8_t* tags = nullptr;  // one per slot: see find()
  std::atomic<Millis> normalized_at{0};  // when lapsed windows and strikes were last cleared

  alignas(64) std::mutex mutex;
  std::uint32_t capacity = 0;  // entries this shard can hold (more than its even share)
  std::atomic<std::uint32_t> count{0};
  // The whole table's entry count and limit (Policy::max_peers), shared by all shards, so the
  // table fills to max_peers before anything is evicted however the hashes fall.
  std::atomic<std::size_t>* tracked = nullptr;
  std::size_t limit = 0;
  Millis last_seen = 0;  // the time of the last locked call: every stamp compares right against it
  // Random words for jitter, refilled from randombytes_buf a block at a time.
  std::uint32_t random_words[16] = {};
  std::uint32_t random_left = 0;

  Counter proceeded_outbound{0}, held_outbound{0}, proceeded_inbound{0}, dropped_inbound{0},
      notices_sent{0}, notices_suppressed{0}, errors_honoured{0}, retried_now{0},
      retried_later{0}, awaiting_confirmation{0}, ignored{0}, unsolicited{0},
      fingerprint_lifts{0}, established{0}, evictions{0};

  // A call that may change the shard holds its lock and keeps `version` odd meanwhile.
  struct Writer {
    explicit Writer(Shard& s) noexcept : shard(s), lock(s.mutex) { shard.begin_write(); }
    ~Writer() { shard.end_write(); }
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    Shard& shard;
    std::lock_guard<std::mutex> lock;
  };
  void begin_write() noexcept {
    version.store(version.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    IKEGUARD_FENCE(std::memory_order_release);
  }
  void end_write() noexcept {
    version.store(version.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  // Lemire's multiply-shift maps the hash's low half onto [0, size) without a division.
  std::uint32_t home(std::uint64_t hash) const noexcept {
    return static_cast<std::uint32_t>((std::uint64_t{static_cast<std::uint32_t>(hash)} * size) >> 32);
  }
  std::uint32_t next(std::uint32_t i) const noexcept { return i + 1 == size ? 0 : i + 1; }
  // Starts the slot's cache miss before the clock is read and the lock taken, so they overlap.
  void prefetch(std::uint64_t hash) const noexcept {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(&tags[home(hash)]);
    __builtin_prefetch(&slots[home(hash)]);
#else
    (void)hash;
#endif
  }
  std::uint32_t distance(std::uint32_t i) const noexcept {  // of slot i from its home
    const std::uint32_t h = home(slots[i].hash);
    return i >= h ? i - h : i + size - h;
  }

  // A byte per slot, 0 when it is empty, else 8 bits of the hash: a search scans the bytes to
  // the first empty slot (a run of a few at this load, within one cache line, which stays in
  // cache) and reads only the slots whose byte matches. A peer the table does not hold, a
  // flood's spoofed source, usually costs no access to the slots at all.
  static std::uint8_t tag_of(std::uint64_t hash) noexcept {
    const auto tag = static_cast<std::uint8_t>(hash >> 32);
    return tag != 0 ? tag : 1;
  }

  Slot* find(std::uint64_t hash) noexcept {
    const std::uint8_t tag = tag_of(hash);
    for (std::uint32_t i = home(hash);; i = next(i)) {
      const std::uint8_t seen = tags[i];
      if (seen == 0) return nullptr;
      if (seen == tag && slots[i].hash == hash) return &slots[i];
    }
  }

  // Backward shift: the entries after the hole move one closer to home; no tombstones.
  void erase(Slot* victim) noexcept {
    remove(victim);
    tracked->fetch_sub(1, std::memory_order_relaxed);
  }

  // erase() without the table-wide count: for an eviction whose place a newcomer takes.
  void remove(Slot* victim) noexcept {
    auto hole = static_cast<std::uint32_t>(victim - slots);
    for (std::uint32_t j = next(hole); tags[j] != 0 && distance(j) != 0; j = next(j)) {
      slots[hole] = slots[j];
      tags[hole] = tags[j];
      hole = j;
    }
    slots[hole] = Slot{};
    tags[hole] = 0;
    count.store(count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  }

  // Precondition: `hash` is absent. Takes one of the table's max_peers places, or, when the
  // table or this shard is full, the place of an entry it evicts: the table-wide count never
  // passes the limit, even for a moment. Eviction stays inside this shard (its lock is the only
  // one held); only a shard with no entry at all inserts past a full table, which keyed hashing
  // makes vanishingly unlikely.
  Slot& insert(std::uint64_t hash, Stamp now) noexcept {
    const std::uint32_t here = count.load(std::memory_order_relaxed);
    bool placed_in_table = false;
    if (here < capacity) {
      std::size_t seen = tracked->load(std::memory_order_relaxed);
      while (seen < limit) {
        if (tracked->compare_exchange_weak(seen, seen + 1, std::memory_order_relaxed)) {
          placed_in_table = true;
          break;
        }
      }
    }
    if (!placed_in_table) {
      if (here > 0) evict_near(hash, now);
      else tracked->fetch_add(1, std::memory_order_relaxed);
    }
    Slot carried;
    carried.hash = hash;
    Slot* placed = nullptr;
    std::uint32_t i = home(hash);
    for (std::uint32_t d = 0;; ++d, i = next(i)) {
      Slot& slot = slots[i];
      if (tags[i] == 0) {
        slot = carried;
        tags[i] = tag_of(carried.hash);
        if (placed == nullptr) placed = &slot;
        break;
      }
      // Robin Hood order: an entry sits no closer to its home than the one before it, which
      // keeps every entry near its home slot at this load.
      const std::uint32_t theirs = distance(i);
      if (theirs < d) {  // the richer entry moves on; the newcomer (or the one carried) stays
        std::swap(slot, carried);
        tags[i] = tag_of(slot.hash);
        if (placed == nullptr) placed = &slot;
        d = theirs;
      }
    }
    count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return *placed;
  }

  // Victim order: no open window, then fewest strikes, then the window that ends first.
  void evict_near(std::uint64_t hash, Stamp now) noexcept {
    std::uint32_t victim = 0;
    bool chosen = false;
    std::uint32_t examined = 0;
    std::uint32_t i = home(hash);
    for (std::uint32_t visited = 0; visited < size; ++visited, i = next(i)) {
      if (tags[i] == 0) continue;
      if (!chosen || evicts_before(slots[i], slots[victim], now)) {
        victim = i;
        chosen = true;
      }
      if (++examined == eviction_sample) break;
    }
    // Losing a remembered proposal costs little; losing a window or strikes is what counts.
    const Slot& v = slots[victim];
    const bool protective = v.any_window_open(now) || v.counted();
    remove(&slots[victim]);  // the newcomer takes its place in the table-wide count
    if (protective) bump(evictions);
  }

  static bool evicts_before(const Slot& a, const Slot& b, Stamp now) noexcept {
    const bool a_open = a.any_window_open(now), b_open = b.any_window_open(now);
    if (a_open != b_open) return !a_open;
    if (a.total_strikes() != b.total_strikes()) return a.total_strikes() < b.total_strikes();
    return a.time_left(now) < b.time_left(now);
  }

  // A uniform 32-bit word; one randombytes_buf call per sixteen.
  std::uint32_t random_word() noexcept {
    if (random_left == 0) {
      randombytes_buf(random_words, sizeof random_words);
      random_left = 16;
    }
    return random_words[--random_left];
  }
};


// The counters a lock-free answer bumps, per CPU, so two threads answering at once write
// different cache lines; stats() adds them to the shards' counters.
struct alignas(64) NegotiationGuard::Stripe {
  Counter proceeded_outbound{0}, held_outbound{0}, proceeded_inbound{0}, dropped_inbound{0};
};

namespace {
std::uint32_t current_cpu() noexcept {
#if defined(__linux__)
  const int cpu = sched_getcpu();  // glibc reads the kernel's rseq area: no system call
  return cpu < 0 ? 0u : static_cast<std::uint32_t>(cpu);
#else
  return 0;
#endif
}
void count(Counter& counter) noexcept { counter.fetch_add(1, std::memory_order_relaxed); }

// A slot read while a writer may be changing it: whole 8-byte words, never torn; whether the
// words belong together the seqlock's version says afterwards.
template <class T>
IKEGUARD_SEQLOCK_READER void read_racy(const T& shared, T& copy) noexcept {
  static_assert(sizeof(T) % sizeof(std::uint64_t) == 0 && alignof(T) >= alignof(std::uint64_t));
  const auto* from = reinterpret_cast<const std::uint64_t*>(&shared);
  auto* to = reinterpret_cast<unsigned char*>(&copy);
  for (std::size_t i = 0; i < sizeof(T) / sizeof(std::uint64_t); ++i) {
    const std::uint64_t word = __atomic_load_n(from + i, __ATOMIC_RELAXED);
    std::memcpy(to + i * sizeof word, &word, sizeof word);
  }
}
}  // namespace

// Lapsed windows close and lapsed strikes are forgiven: what a call sees first in a slot.
void NegotiationGuard::settle(Slot& slot, std::uint32_t now) const noexcept {
  if (slot.sender_hold() != SenderHold::none && ahead(slot.sender_until, now) <= 0) {
    slot.set_sender_hold(SenderHold::none);
  }
  if (slot.receiver_set() && ahead(slot.receiver_until, now) <= 0) slot.clear_receiver();
  if (slot.counted() && ahead(now, slot.last_failure) >= forgive_ms_) {
    slot.sender_strikes = 0;
    slot.receiver_strikes = 0;
    slot.confirmations = 0;
  }
}

// Settles every slot of the shard, so no stamp grows stale enough to wrap. The stamps are read
// against the time of the shard's last call, at which they were all comparable, however long
// the shard then lay idle; decisions are taken against `now` in 64 bits.
void NegotiationGuard::normalize(Shard& shard, Millis now) const noexcept {
  const Millis reference = shard.last_seen;
  const Stamp at = stamp(reference);
  const auto absolute = [&](Stamp s) { return reference + ahead(s, at); };
  for (std::uint32_t i = 0; i < shard.size; ++i) {
    Slot& slot = shard.slots[i];
    if (slot.hash == 0) continue;
    if (slot.sender_hold() != SenderHold::none) {
      const Millis until = absolute(slot.sender_until);
      if (until <= now) slot.set_sender_hold(SenderHold::none);
      // A clock that went back: no window longer than the cap allows.
      else slot.sender_until = stamp(std::min(until, now + window_cap_ms_));
    }
    if (slot.receiver_set()) {
      const Millis until = absolute(slot.receiver_until);
      if (until <= now) slot.clear_receiver();
      else slot.receiver_until = stamp(std::min(until, now + window_cap_ms_));
    }
    if (slot.counted()) {
      const Millis last = absolute(slot.last_failure);
      if (now - last >= forgive_ms_) {
        slot.sender_strikes = 0;
        slot.receiver_strikes = 0;
        slot.confirmations = 0;
      } else {
        slot.last_failure = stamp(std::min(last, now));
      }
    }
  }
  shard.normalized_at.store(now, std::memory_order_relaxed);
}

NegotiationGuard::NegotiationGuard(PrivateTag, const Policy& policy, Clock& clock,
                                   Transport& transport) noexcept
    : policy_(policy), clock_(clock), transport_(transport) {}

#if IKEGUARD_HAS_EXCEPTIONS
NegotiationGuard::NegotiationGuard(const Policy& policy, Clock& clock, Transport& transport)
    : policy_(policy), clock_(clock), transport_(transport) {
  const Errc status = init();
  if (status == Errc::out_of_memory) throw std::bad_alloc();
  if (status == Errc::crypto_unavailable) throw std::runtime_error(message(status));
  if (status != Errc::ok) throw std::invalid_argument(message(status));
}
#endif

Result<std::unique_ptr<NegotiationGuard>> NegotiationGuard::create(const Policy& policy,
                                                                   Clock& clock,
                                                                   Transport& transport) noexcept {
  if (const Errc invalid = validate(policy); invalid != Errc::ok) return invalid;
  std::unique_ptr<NegotiationGuard> guard(
      new (std::nothrow) NegotiationGuard(PrivateTag{}, policy, clock, transport));
  if (!guard) return Errc::out_of_memory;
  if (const Errc status = guard->init(); status != Errc::ok) return status;
  return guard;
}

Errc NegotiationGuard::init() noexcept {
  if (const Errc invalid = validate(policy_); invalid != Errc::ok) return invalid;
  if (sodium_init() < 0) return Errc::crypto_unavailable;
  randombytes_buf(hash_key_, sizeof hash_key_);
  randombytes_buf(fingerprint_key_, sizeof fingerprint_key_);
  forgive_ms_ = ceil_ms(policy_.forgive_after.count());
  window_cap_ms_ = ceil_ms(static_cast<Ticks>(static_cast<double>(policy_.max_window.count()) *
                                              (1.0 + policy_.jitter)));

  // Shards of at least peers_per_shard entries, up to max_shards: small tables stay compact,
  // and two threads rarely meet on one shard's lock once there are dozens.
  std::size_t shards = 1;
  while (shards < max_shards && policy_.max_peers / (shards * 2) >= peers_per_shard) shards *= 2;
  // A quarter more slots than the even share: a full table is 80% occupied (70% at 7/8 of
  // max_peers), short probes, 41 bytes per peer (a 32-byte slot and a tag byte). A shard may
  // fill 97% of its slots, over a fifth more than its share, before it evicts on its own: with
  // at least 1024 peers per shard that is over seven standard deviations of the hash's spread,
  // so the table-wide count decides.
  const std::size_t even_share = (policy_.max_peers + shards - 1) / shards;
  const std::size_t slots_per_shard = even_share + even_share / 4 + 2;
  const std::size_t shard_capacity =
      shards > 1 ? std::min(policy_.max_peers, slots_per_shard - slots_per_shard / 32 - 1)
                 : policy_.max_peers;

  shards_ = new (std::nothrow) Shard[shards];
  slots_ = allocate_table<Slot>(shards * slots_per_shard);
  tags_ = allocate_table<std::uint8_t>(shards * slots_per_shard);
  std::uint32_t stripes = 1;
  while (stripes < std::min(std::thread::hardware_concurrency(), 1024u)) stripes *= 2;
  stripes_ = new (std::nothrow) Stripe[stripes];
  if (shards_ == nullptr || slots_ == nullptr || tags_ == nullptr || stripes_ == nullptr) {
    delete[] shards_;
    std::free(slots_);
    std::free(tags_);
    delete[] stripes_;
    shards_ = nullptr;
    slots_ = nullptr;
    tags_ = nullptr;
    stripes_ = nullptr;
    return Errc::out_of_memory;
  }
  shard_count_ = static_cast<std::uint32_t>(shards);
  slot_count_ = shards * slots_per_shard;
  stripe_mask_ = stripes - 1;
  const Millis now = floor_ms(clock_.now().time_since_epoch().count());
  for (std::size_t i = 0; i < shards; ++i) {
    Shard& shard = shards_[i];
    shard.slots = slots_ + i * slots_per_shard;
    shard.tags = tags_ + i * slots_per_shard;
    shard.size = static_cast<std::uint32_t>(slots_per_shard);
    shard.capacity = static_cast<std::uint32_t>(shard_capacity);
    shard.tracked = &tracked_;
    shard.limit = policy_.max_peers;
    shard.normalized_at.store(now, std::memory_order_relaxed);
    shard.last_seen = now;
  }
  return Errc::ok;
}

NegotiationGuard::~NegotiationGuard() {
  sodium_memzero(hash_key_, sizeof hash_key_);
  sodium_memzero(fingerprint_key_, sizeof fingerprint_key_);
  delete[] shards_;
  std::free(slots_);  // trivially destructible slots from allocate_table
  std::free(tags_);
  delete[] stripes_;
}

std::uint64_t NegotiationGuard::hash(const PeerKey& peer) const noexcept {
  static_assert(crypto_shorthash_BYTES == sizeof(std::uint64_t));
  unsigned char digest[crypto_shorthash_BYTES];
  crypto_shorthash(digest, reinterpret_cast<const unsigned char*>(&peer), sizeof peer, hash_key_);
  std::uint64_t value;
  std::memcpy(&value, digest, sizeof value);
  return value == 0 ? 1 : value;  // 0 marks an empty slot
}

NegotiationGuard::Shard& NegotiationGuard::shard_for(std::uint64_t hash) const noexcept {
  return shards_[(hash >> 40) & (shard_count_ - 1)];
}

void NegotiationGuard::keep_fresh(Shard& shard, Millis now) const noexcept {
  const Millis normalized = shard.normalized_at.load(std::memory_order_relaxed);
  if (now - normalized >= normalize_every || now < normalized) {
    normalize(shard, now);
  }
  shard.last_seen = now;
}

Duration NegotiationGuard::window_length(Shard& shard, Duration base,
                                         std::uint32_t strikes) const noexcept {
  // max_window caps the sender's window; a receiver window shorter than the sender's keeps that
  // proportion at the cap too, so a guarded sender's next attempt does not arrive while the
  // receiver still drops (step C's T2 outlasting step B's T1, at every strike).
  const double proportion =
      std::min(1.0, static_cast<double>(base.count()) / static_cast<double>(policy_.sender_window.count()));
  const double cap = static_cast<double>(policy_.max_window.count()) * proportion;
  double length = static_cast<double>(base.count()) *
                  std::pow(policy_.backoff, static_cast<double>(strikes > 0 ? strikes - 1 : 0));
  if (!(length < cap)) length = cap;
  if (policy_.jitter > 0.0) {
    // A uniform factor in [1 - jitter, 1 + jitter).
    const double unit = static_cast<double>(shard.random_word()) / 4294967296.0;
    length *= 1.0 + policy_.jitter * (2.0 * unit - 1.0);
  }
  return Duration(std::max<Ticks>(1, static_cast<Ticks>(length)));
}

namespace {
// When a window stored as `until` ends, as the caller's TimePoint.
TimePoint end_of(Stamp until, const Now& now) noexcept { return point_ms(now.ms + ahead(until, now.at)); }
// A window of `length` from now ends on the first millisecond boundary at or after now + length.
Millis window_end(const Now& now, Duration length) noexcept {
  return ceil_ms(add_saturating(now.ns, length));
}
}  // namespace

// The lock-free answer. Most proposals change nothing: a peer not in the table, or one whose
// window holds it. Such an answer is read without the shard's lock, as a seqlock reader: the
// version before, the tags and the slot, the version after; a writer in between (or a slot
// the answer would have to change) sends the call to the locked path, which decides the same
// way. Threads that only read thus never write a shared cache line; only the per-CPU counters.
// The racy reads are whole-word atomic loads of memory the writers change under the lock;
// ThreadSanitizer is told not to instrument them, as it does not model seqlocks.
IKEGUARD_SEQLOCK_READER
bool NegotiationGuard::read_only(Shard& shard, std::uint64_t h, std::int64_t now_ns,
                                 std::int64_t now_ms, bool inbound, const Fingerprint& fingerprint,
                                 Decision& decision) const noexcept {
  const Now now(now_ns, now_ms);
  const std::uint32_t before = shard.version.load(std::memory_order_acquire);
  if ((before & 1u) != 0) return false;
  const Millis normalized = shard.normalized_at.load(std::memory_order_relaxed);
  if (now.ms - normalized >= normalize_every || now.ms < normalized) return false;

  const std::uint8_t tag = Shard::tag_of(h);
  bool found = false;
  Slot slot;
  // Bounded: what a racing writer leaves half-done must not keep a reader looping.
  for (std::uint32_t i = shard.home(h), seen = 0; seen < shard.size; ++seen, i = shard.next(i)) {
    const std::uint8_t t = __atomic_load_n(&shard.tags[i], __ATOMIC_RELAXED);
    if (t == 0) break;
    if (t != tag) continue;
    read_racy(shard.slots[i], slot);
    if (slot.hash == h) {
      found = true;
      break;
    }
  }
  IKEGUARD_FENCE(std::memory_order_acquire);
  if (shard.version.load(std::memory_order_relaxed) != before) return false;

  // Counted on this CPU's stripe, looked up only for an answer given here.
  const auto tally = [this](Counter Stripe::*counter) {
    count(stripes_[current_cpu() & stripe_mask_].*counter);
  };
  if (!found) {
    if (!inbound && fingerprint.known()) return false;  // the locked path remembers it
    decision = {Verdict::proceed, point(now.ns), 0};
    tally(inbound ? &Stripe::proceeded_inbound : &Stripe::proceeded_outbound);
    return true;
  }
  if (slot.unsettled(now.at, forgive_ms_)) return false;
  if (inbound) {
    if (slot.receiver_open(now.at)) {
      if (lifts(fingerprint, slot.receiver_fingerprint)) return false;
      decision = {Verdict::hold, end_of(slot.receiver_until, now), slot.receiver_strikes};
      tally(&Stripe::dropped_inbound);
      return true;
    }
    if (slot.idle(now.at)) return false;  // the locked path reclaims it
    decision = {Verdict::proceed, point(now.ns), slot.receiver_strikes};
    tally(&Stripe::proceeded_inbound);
    return true;
  }
  if (slot.sender_open(now.at)) {
    if (lifts(fingerprint, slot.sender_fingerprint)) return false;
    decision = {Verdict::hold, end_of(slot.sender_until, now), slot.sender_strikes};
    tally(&Stripe::held_outbound);
    return true;
  }
  // The locked path would record a different fingerprint, or reclaim an idle slot.
  if (short_fingerprint(fingerprint) != slot.sender_fingerprint || slot.idle(now.at)) return false;
  decision = {Verdict::proceed, point(now.ns), slot.sender_strikes};
  tally(&Stripe::proceeded_outbound);
  return true;
}

Decision NegotiationGuard::on_outbound_proposal(const PeerKey& peer,
                                                const Fingerprint& fingerprint) noexcept {
  const std::uint64_t h = hash(peer);
  Shard& shard = shard_for(h);
  shard.prefetch(h);
  const Now now(clock_.now());
  if (Decision read; read_only(shard, h, now.ns, now.ms, false, fingerprint, read)) return read;
  Shard::Writer writing(shard);
  keep_fresh(shard, now.ms);
  Slot* slot = shard.find(h);
  if (slot == nullptr) {
    if (fingerprint.known()) shard.insert(h, now.at).sender_fingerprint = short_fingerprint(fingerprint);
    bump(shard.proceeded_outbound);
    return {Verdict::proceed, point(now.ns), 0};
  }
  settle(*slot, now.at);
  if (slot->sender_open(now.at)) {
    if (!lifts(fingerprint, slot->sender_fingerprint)) {
      bump(shard.held_outbound);
      return {Verdict::hold, end_of(slot->sender_until, now), slot->sender_strikes};
    }
    slot->set_sender_hold(SenderHold::none);
    bump(shard.fingerprint_lifts);
  }
  const std::uint32_t offered = short_fingerprint(fingerprint);
  if (offered != slot->sender_fingerprint) {
    slot->confirmations = 0;  // they were about another configuration
    slot->sender_fingerprint = offered;
  }
  const Decision decision{Verdict::proceed, point(now.ns), slot->sender_strikes};
  if (slot->idle(now.at)) shard.erase(slot);
  bump(shard.proceeded_outbound);
  return decision;
}

ErrorOutcome NegotiationGuard::on_inbound_error(const PeerKey& peer, const Notice& notice,
                                                Origin origin) noexcept {
  const std::uint64_t h = hash(peer);
  Shard& shard = shard_for(h);
  shard.prefetch(h);
  const Now now(clock_.now());
  const NotifyClass cls = policy_.notify_classes.classify(notice.version, notice.type);
  Shard::Writer writing(shard);
  keep_fresh(shard, now.ms);
  Slot* slot = shard.find(h);
  if (slot != nullptr) settle(*slot, now.at);
  const std::uint32_t strikes = slot != nullptr ? slot->sender_strikes : 0;

  // RFC 7296 2.21.1: an error in the clear that answers nothing we sent may be forged.
  if (origin == Origin::unsolicited || cls == NotifyClass::ignored) {
    bump(shard.ignored);
    if (origin == Origin::unsolicited) bump(shard.unsolicited);
    return {ErrorAction::ignored, point(now.ns), strikes};
  }
  if (cls == NotifyClass::retry_now) {
    bump(shard.retried_now);
    return {ErrorAction::retry_now, point(now.ns), strikes};
  }

  if (slot == nullptr) slot = &shard.insert(h, now.at);
  const bool awaiting_confirmation =
      cls == NotifyClass::configuration && origin == Origin::answers_request &&
      slot->confirmations + 1u < policy_.unauthenticated_confirmations;
  if (cls == NotifyClass::retry_later || awaiting_confirmation) {
    if (awaiting_confirmation) {
      ++slot->confirmations;
      slot->last_failure = now.at;
      bump(shard.awaiting_confirmation);
    }
    const Stamp until = stamp(window_end(now, policy_.retry_delay));
    if (!slot->sender_open(now.at) || ahead(until, slot->sender_until) > 0) {
      slot->sender_until = until;
      if (slot->sender_hold() != SenderHold::configuration) slot->set_sender_hold(SenderHold::retry);
    }
    bump(shard.retried_later);
    return {ErrorAction::retry_later, end_of(slot->sender_until, now), slot->sender_strikes};
  }

  // A configuration error, trusted or confirmed. Several in-flight requests failing together
  // (one per CHILD_SA, say) are one failure: an open window is not escalated again.
  bump(shard.errors_honoured);
  // The peer is confirmed to refuse this configuration: its later errors act at once, until a
  // success, forgiveness, or a different configuration is sent.
  slot->confirmations = static_cast<std::uint8_t>(policy_.unauthenticated_confirmations - 1);
  if (slot->sender_open(now.at) && slot->sender_hold() == SenderHold::configuration) {
    return {ErrorAction::hold, end_of(slot->sender_until, now), slot->sender_strikes};
  }
  slot->sender_strikes = add_strike(slot->sender_strikes);
  slot->last_failure = now.at;
  const Stamp until =
      stamp(window_end(now, window_length(shard, policy_.sender_window, slot->sender_strikes)));
  if (!slot->sender_open(now.at) || ahead(until, slot->sender_until) > 0) slot->sender_until = until;
  slot->set_sender_hold(SenderHold::configuration);
  return {ErrorAction::hold, end_of(slot->sender_until, now), slot->sender_strikes};
}

Decision NegotiationGuard::on_inbound_proposal(const PeerKey& peer,
                                               const Fingerprint& fingerprint) noexcept {
  const std::uint64_t h = hash(peer);
  Shard& shard = shard_for(h);
  shard.prefetch(h);
  const Now now(clock_.now());
  if (Decision read; read_only(shard, h, now.ns, now.ms, true, fingerprint, read)) return read;
  Shard::Writer writing(shard);
  keep_fresh(shard, now.ms);
  Slot* slot = shard.find(h);
  if (slot == nullptr) {
    bump(shard.proceeded_inbound);
    return {Verdict::proceed, point(now.ns), 0};
  }
  settle(*slot, now.at);
  if (slot->receiver_open(now.at)) {
    if (!lifts(fingerprint, slot->receiver_fingerprint)) {
      bump(shard.dropped_inbound);
      return {Verdict::hold, end_of(slot->receiver_until, now), slot->receiver_strikes};
    }
    slot->clear_receiver();
    bump(shard.fingerprint_lifts);
  }
  const Decision decision{Verdict::proceed, point(now.ns), slot->receiver_strikes};
  if (slot->idle(now.at)) shard.erase(slot);
  bump(shard.proceeded_inbound);
  return decision;
}

Decision NegotiationGuard::on_local_rejection(const PeerKey& peer, const Notice& notice,
                                              const Fingerprint& fingerprint) {
  const std::uint64_t h = hash(peer);
  Shard& shard = shard_for(h);
  shard.prefetch(h);
  const Now now(clock_.now());
  const NotifyClass cls = policy_.notify_classes.classify(notice.version, notice.type);
  Decision decision;
  {
    Shard::Writer writing(shard);
    keep_fresh(shard, now.ms);
    Slot* slot = shard.find(h);
    if (slot != nullptr) settle(*slot, now.at);
    if (cls != NotifyClass::configuration) {
      // The peer is meant to act on it (new KE group, cookie, later retry): no window.
      decision = {Verdict::proceed, point(now.ns), slot != nullptr ? slot->receiver_strikes : 0u};
    } else {
      if (slot == nullptr) slot = &shard.insert(h, now.at);
      if (slot->receiver_open(now.at) && !lifts(fingerprint, slot->receiver_fingerprint)) {
        bump(shard.notices_suppressed);  // at most one notice per window: no reflection
        return {Verdict::hold, end_of(slot->receiver_until, now), slot->receiver_strikes};
      }
      slot->receiver_strikes = add_strike(slot->receiver_strikes);
      slot->last_failure = now.at;
      const Millis until =
          window_end(now, window_length(shard, policy_.receiver_window, slot->receiver_strikes));
      slot->set_receiver(stamp(until));
      slot->receiver_fingerprint = short_fingerprint(fingerprint);
      decision = {Verdict::hold, point_ms(until), slot->receiver_strikes};
    }
    bump(shard.notices_sent);
  }
  transport_.send_notice(peer, notice);
  return decision;
}

void NegotiationGuard::on_established(const PeerKey& peer) noexcept {
  const std::uint64_t h = hash(peer);
  Shard& shard = shard_for(h);
  Shard::Writer writing(shard);
  if (Slot* slot = shard.find(h)) shard.erase(slot);
  bump(shard.established);
}

Fingerprint NegotiationGuard::fingerprint(const void* data, std::size_t size) const noexcept {
  unsigned char digest[crypto_generichash_BYTES_MIN];  // 16: the shortest BLAKE2b libsodium makes
  crypto_generichash(digest, sizeof digest, static_cast<const unsigned char*>(data), size,
                     fingerprint_key_, sizeof fingerprint_key_);
  std::uint64_t value;
  std::memcpy(&value, digest, sizeof value);
  return Fingerprint::from_value(value == 0 ? 1 : value);  // 0 means unknown
}

// ---- Snapshots ---------------------------------------------------------------------------------

namespace {

namespace format = snapshot_format;
using wire::detail::load_u16;
using wire::detail::load_u32;
using wire::detail::load_u64;
using wire::detail::store_u16;
using wire::detail::store_u32;
using wire::detail::store_u64;

constexpr unsigned char snapshot_magic[8] = {'I', 'K', 'E', 'G', 'S', 'N', 'A', 'P'};
constexpr std::size_t nonce_offset = 16;
constexpr std::size_t nonce_size = 16;
constexpr std::size_t keys_offset = 32;
constexpr std::size_t keys_size = 48;  // the SipHash key (16) and the fingerprint key (32)
static_assert(keys_offset + keys_size == format::header_size);
static_assert(crypto_auth_BYTES == format::mac_size);
static_assert(crypto_auth_KEYBYTES == sizeof(SnapshotKey::bytes));

// Two keys from the daemon's one: the MAC key, and a pad per nonce that hides the guard's keys.
void derive_mac_key(const SnapshotKey& key, unsigned char (&out)[crypto_auth_KEYBYTES]) noexcept {
  static constexpr char label[] = "ikeguard snapshot mac key";
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(label), sizeof label - 1,
                     key.bytes.data(), key.bytes.size());
}

void derive_pad(const SnapshotKey& key, const std::uint8_t* nonce,
                unsigned char (&out)[keys_size]) noexcept {
  static constexpr char label[] = "ikeguard snapshot key pad";
  unsigned char message[sizeof label - 1 + nonce_size];
  std::memcpy(message, label, sizeof label - 1);
  std::memcpy(message + sizeof label - 1, nonce, nonce_size);
  crypto_generichash(out, sizeof out, message, sizeof message, key.bytes.data(), key.bytes.size());
}

// One record, decoded and checked.
struct SnapshotRecord {
  std::uint64_t hash = 0;
  std::uint32_t sender_left = 0;    // ms
  std::uint32_t receiver_left = 0;  // ms
  std::uint32_t since_failure = 0;  // ms
  std::uint32_t sender_fingerprint = 0;
  std::uint32_t receiver_fingerprint = 0;
  std::uint8_t sender_strikes = 0;
  std::uint8_t receiver_strikes = 0;
  std::uint8_t confirmations = 0;
  std::uint8_t hold = 0;

  std::uint32_t latest_end() const noexcept { return std::max(sender_left, receiver_left); }
};

// False when the record could not have been written by snapshot().
bool decode_record(const std::uint8_t* p, SnapshotRecord& r) noexcept {
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
  if (r.hash == 0) return false;
  if (r.hold > static_cast<std::uint8_t>(SenderHold::configuration)) return false;
  // A hold kind without a window, or a window without a hold kind, is not a state the guard has.
  if ((r.sender_left == 0) != (r.hold == 0)) return false;
  const bool counted = (r.sender_strikes | r.receiver_strikes | r.confirmations) != 0;
  if (!counted && r.since_failure != 0) return false;
  // snapshot() writes no entry with nothing to remember.
  return r.sender_left != 0 || r.receiver_left != 0 || counted || r.sender_fingerprint != 0;
}

}  // namespace

std::size_t NegotiationGuard::snapshot_bound() const noexcept {
  return format::size_for(policy_.max_peers);
}

Result<std::size_t> NegotiationGuard::snapshot(void* out, std::size_t size,
                                               const SnapshotKey& key) const noexcept {
  if (out == nullptr) return Errc::invalid_argument;
  const Now now(clock_.now());
  // Every shard, in index order (no other call holds two locks): one consistent instant.
  // (A writer: keeping the shards fresh may settle slots.)
  for (std::uint32_t i = 0; i < shard_count_; ++i) {
    shards_[i].mutex.lock();
    shards_[i].begin_write();
  }
  struct Unlock {
    const NegotiationGuard& guard;
    ~Unlock() {
      for (std::uint32_t i = guard.shard_count_; i-- > 0;) {
        guard.shards_[i].end_write();
        guard.shards_[i].mutex.unlock();
      }
    }
  } unlock{*this};
  for (std::uint32_t i = 0; i < shard_count_; ++i) keep_fresh(shards_[i], now.ms);

  // What an entry would say if it were looked at now: lapsed windows and strikes settled.
  Slot copy;
  const auto current = [&](const Slot& slot) {
    if (slot.hash == 0) return false;
    copy = slot;
    settle(copy, now.at);
    return !copy.idle(now.at);
  };
  std::size_t entries = 0;
  for (std::size_t i = 0; i < slot_count_; ++i) {
    if (current(slots_[i])) ++entries;
  }
  const std::size_t total = format::size_for(entries);
  if (size < total) return Errc::snapshot_buffer_too_small;

  auto* p = static_cast<std::uint8_t*>(out);
  std::memcpy(p, snapshot_magic, sizeof snapshot_magic);
  store_u16(p + 8, format::version);
  store_u16(p + 10, static_cast<std::uint16_t>(format::record_size));
  store_u32(p + 12, static_cast<std::uint32_t>(entries));
  randombytes_buf(p + nonce_offset, nonce_size);
  unsigned char pad[keys_size];
  derive_pad(key, p + nonce_offset, pad);
  for (std::size_t i = 0; i < sizeof hash_key_; ++i) {
    p[keys_offset + i] = static_cast<std::uint8_t>(hash_key_[i] ^ pad[i]);
  }
  for (std::size_t i = 0; i < sizeof fingerprint_key_; ++i) {
    p[keys_offset + sizeof hash_key_ + i] =
        static_cast<std::uint8_t>(fingerprint_key_[i] ^ pad[sizeof hash_key_ + i]);
  }
  sodium_memzero(pad, sizeof pad);

  std::uint8_t* record = p + format::header_size;
  for (std::size_t i = 0; i < slot_count_; ++i) {
    if (!current(slots_[i])) continue;
    const auto left = [&](bool open, Stamp until) {
      return open ? static_cast<std::uint32_t>(ahead(until, now.at)) : std::uint32_t{0};
    };
    store_u64(record, copy.hash);
    store_u32(record + 8, left(copy.sender_open(now.at), copy.sender_until));
    store_u32(record + 12, left(copy.receiver_open(now.at), copy.receiver_until));
    store_u32(record + 16,
              copy.counted() ? static_cast<std::uint32_t>(ahead(now.at, copy.last_failure)) : 0u);
    store_u32(record + 20, copy.sender_fingerprint);
    store_u32(record + 24, copy.receiver_fingerprint);
    record[28] = copy.sender_strikes;
    record[29] = copy.receiver_strikes;
    record[30] = copy.confirmations;
    record[31] = static_cast<std::uint8_t>(copy.sender_hold());
    record += format::record_size;
  }

  unsigned char mac_key[crypto_auth_KEYBYTES];
  derive_mac_key(key, mac_key);
  crypto_auth(record, p, total - format::mac_size, mac_key);
  sodium_memzero(mac_key, sizeof mac_key);
  return total;
}

Result<RestoreReport> NegotiationGuard::restore(const void* data, std::size_t size,
                                                const SnapshotKey& key) noexcept {
  if (data == nullptr) return Errc::invalid_argument;
  const auto* p = static_cast<const std::uint8_t*>(data);

  // 1. Everything is checked before anything changes.
  if (std::memcmp(p, snapshot_magic, std::min(size, sizeof snapshot_magic)) != 0) {
    return Errc::snapshot_not_a_snapshot;
  }
  if (size < format::size_for(0)) return Errc::snapshot_truncated;
  if (load_u16(p + 8) != format::version) return Errc::snapshot_unsupported_version;
  if (load_u16(p + 10) != format::record_size) return Errc::snapshot_not_a_snapshot;
  const std::uint32_t count = load_u32(p + 12);
  // The second test catches a size_for() that wrapped (a 32-bit size_t and a huge count).
  if (size != format::size_for(count) ||
      (size - format::size_for(0)) / format::record_size != count) {
    return Errc::snapshot_truncated;
  }
  unsigned char mac_key[crypto_auth_KEYBYTES];
  derive_mac_key(key, mac_key);
  const int verified = crypto_auth_verify(p + size - format::mac_size, p, size - format::mac_size, mac_key);
  sodium_memzero(mac_key, sizeof mac_key);
  if (verified != 0) return Errc::snapshot_unauthenticated;

  const std::uint8_t* records = p + format::header_size;
  SnapshotRecord record;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (!decode_record(records + std::size_t{i} * format::record_size, record)) {
      return Errc::snapshot_malformed;
    }
  }

  // 2. More entries than this guard holds: keep the windows that end latest. `threshold` is the
  // smallest end kept; of the entries ending exactly then, only `at_threshold` are kept.
  std::uint32_t threshold = 0;
  std::size_t at_threshold = count;
  if (count > policy_.max_peers) {
    std::unique_ptr<std::uint32_t[]> ends(new (std::nothrow) std::uint32_t[count]);
    if (!ends) return Errc::out_of_memory;
    for (std::uint32_t i = 0; i < count; ++i) {
      decode_record(records + std::size_t{i} * format::record_size, record);
      ends[i] = record.latest_end();
    }
    const std::size_t keep = policy_.max_peers;
    std::nth_element(ends.get(), ends.get() + (count - keep), ends.get() + count);
    threshold = ends[count - keep];
    std::size_t above = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
      if (ends[i] > threshold) ++above;
    }
    at_threshold = keep - above;
  }

  // 3. Replace the table and the keys under every lock.
  const Now now(clock_.now());
  for (std::uint32_t i = 0; i < shard_count_; ++i) {
    shards_[i].mutex.lock();
    shards_[i].begin_write();
  }
  std::fill(slots_, slots_ + slot_count_, Slot{});
  std::fill(tags_, tags_ + slot_count_, std::uint8_t{0});
  for (std::uint32_t i = 0; i < shard_count_; ++i) {
    shards_[i].count.store(0, std::memory_order_relaxed);
    shards_[i].normalized_at.store(now.ms, std::memory_order_relaxed);
    shards_[i].last_seen = now.ms;
  }
  tracked_.store(0, std::memory_order_relaxed);
  unsigned char pad[keys_size];
  derive_pad(key, p + nonce_offset, pad);
  for (std::size_t i = 0; i < sizeof hash_key_; ++i) {
    hash_key_[i] = static_cast<unsigned char>(p[keys_offset + i] ^ pad[i]);
  }
  for (std::size_t i = 0; i < sizeof fingerprint_key_; ++i) {
    fingerprint_key_[i] =
        static_cast<unsigned char>(p[keys_offset + sizeof hash_key_ + i] ^ pad[sizeof hash_key_ + i]);
  }
  sodium_memzero(pad, sizeof pad);

  const auto capped = [this](std::uint32_t left) {
    return std::min<Millis>(Millis{left}, window_cap_ms_);
  };
  RestoreReport report;
  for (std::uint32_t i = 0; i < count; ++i) {
    decode_record(records + std::size_t{i} * format::record_size, record);
    const std::uint32_t end = record.latest_end();
    if (end < threshold || (end == threshold && at_threshold == 0)) {
      ++report.dropped;
      continue;
    }
    if (end == threshold) --at_threshold;
    Shard& shard = shard_for(record.hash);
    if (shard.find(record.hash) != nullptr) {  // snapshot() never writes a peer twice
      ++report.dropped;
      continue;
    }
    const std::size_t before = tracked_.load(std::memory_order_relaxed);
    Slot& slot = shard.insert(record.hash, now.at);
    if (tracked_.load(std::memory_order_relaxed) == before) ++report.dropped;  // shard overflow
    if (record.sender_left != 0) {
      slot.sender_until = stamp(now.ms + capped(record.sender_left));
      slot.set_sender_hold(static_cast<SenderHold>(record.hold));
    }
    if (record.receiver_left != 0) slot.set_receiver(stamp(now.ms + capped(record.receiver_left)));
    // Longer ago than forgive_after is as good as forgive_after: the strikes lapse when next seen.
    slot.last_failure = stamp(now.ms - std::min<Millis>(Millis{record.since_failure}, forgive_ms_));
    slot.sender_fingerprint = record.sender_fingerprint;
    slot.receiver_fingerprint = record.receiver_fingerprint;
    slot.sender_strikes = record.sender_strikes;
    slot.receiver_strikes = record.receiver_strikes;
    slot.confirmations = record.confirmations;
  }
  report.restored = tracked_.load(std::memory_order_relaxed);
  for (std::uint32_t i = shard_count_; i-- > 0;) {
    shards_[i].end_write();
    shards_[i].mutex.unlock();
  }
  return report;
}

Stats NegotiationGuard::stats() const noexcept {
  Stats total;
  total.capacity = policy_.max_peers;
  for (std::uint32_t i = 0; i < shard_count_; ++i) {
    const Shard& shard = shards_[i];
    const auto read = [](const Counter& c) { return c.load(std::memory_order_relaxed); };
    total.proceeded_outbound += read(shard.proceeded_outbound);
    total.held_outbound += read(shard.held_outbound);
    total.proceeded_inbound += read(shard.proceeded_inbound);
    total.dropped_inbound += read(shard.dropped_inbound);
    total.notices_sent += read(shard.notices_sent);
    total.notices_suppressed += read(shard.notices_suppressed);
    total.errors_honoured += read(shard.errors_honoured);
    total.retried_now += read(shard.retried_now);
    total.retried_later += read(shard.retried_later);
    total.awaiting_confirmation += read(shard.awaiting_confirmation);
    total.ignored += read(shard.ignored);
    total.unsolicited += read(shard.unsolicited);
    total.fingerprint_lifts += read(shard.fingerprint_lifts);
    total.established += read(shard.established);
    total.evictions += read(shard.evictions);
  }
  for (std::uint32_t i = 0; i <= stripe_mask_; ++i) {
    const Stripe& stripe = stripes_[i];
    total.proceeded_outbound += stripe.proceeded_outbound.load(std::memory_order_relaxed);
    total.held_outbound += stripe.held_outbound.load(std::memory_order_relaxed);
    total.proceeded_inbound += stripe.proceeded_inbound.load(std::memory_order_relaxed);
    total.dropped_inbound += stripe.dropped_inbound.load(std::memory_order_relaxed);
  }
  total.peers_tracked = tracked_.load(std::memory_order_relaxed);
  total.table_bytes = sizeof(NegotiationGuard) + shard_count_ * sizeof(Shard) +
                      (stripe_mask_ + std::size_t{1}) * sizeof(Stripe) +
                      slot_count_ * (sizeof(Slot) + sizeof(std::uint8_t));
  return total;
}

}  // namespace ikeguard
