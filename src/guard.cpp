// SPDX-License-Identifier: MIT
// The guard's table and decisions. Everything that touches libsodium lives here, so sodium.h
// never reaches a daemon's headers.
#include <ikeguard/guard.hpp>

#include "wire/endian.hpp"

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>

namespace ikeguard {

namespace {

using Ticks = Duration::rep;  // nanoseconds since the clock's epoch

constexpr Ticks never = std::numeric_limits<Ticks>::min();
constexpr std::uint16_t strike_limit = std::numeric_limits<std::uint16_t>::max();
// On a full table, eviction compares this many occupied slots near the newcomer's home slot
// (all of them in a small shard): bounded work per insertion whatever the table size.
constexpr std::uint32_t eviction_sample = 32;
constexpr std::size_t peers_per_shard_before_splitting = 2048;
constexpr std::uint32_t max_shards = 64;

Ticks ticks(TimePoint t) noexcept { return t.time_since_epoch().count(); }
TimePoint point(Ticks t) noexcept { return TimePoint(Duration(t)); }

Ticks add_saturating(Ticks a, Duration b) noexcept {
  const Ticks d = b.count();
  if (d > 0 && a > std::numeric_limits<Ticks>::max() - d) return std::numeric_limits<Ticks>::max();
  return a + d;
}

std::uint16_t add_strike(std::uint16_t strikes) noexcept {
  return strikes == strike_limit ? strikes : static_cast<std::uint16_t>(strikes + 1);
}

std::size_t next_power_of_two(std::size_t n) noexcept {
  std::size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

// Counters are written under the shard's lock and read without it by stats().
using Counter = std::atomic<std::uint64_t>;
void bump(Counter& counter) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

bool lifts(const Fingerprint& offered, std::uint64_t remembered) noexcept {
  return offered.known() && remembered != 0 && offered.value() != remembered;
}

enum class SenderHold : std::uint8_t { none, retry, configuration };

}  // namespace

struct NegotiationGuard::Slot {
  std::uint64_t hash = 0;  // 0: empty
  PeerKey peer;
  Ticks sender_until = never;    // open while now < sender_until
  Ticks receiver_until = never;  // open while now < receiver_until
  Ticks last_failure = never;    // valid while any strike or confirmation is counted
  std::uint64_t sender_fingerprint = 0;    // last proposal sent (0: unknown)
  std::uint64_t receiver_fingerprint = 0;  // the proposal the receiver window rejected
  std::uint16_t sender_strikes = 0;
  std::uint16_t receiver_strikes = 0;
  std::uint8_t confirmations = 0;  // unauthenticated configuration errors seen, unconfirmed
  SenderHold sender_hold = SenderHold::none;

  bool any_window_open(Ticks now) const noexcept {
    return now < sender_until || now < receiver_until;
  }
  std::uint32_t total_strikes() const noexcept {
    return std::uint32_t{sender_strikes} + receiver_strikes;
  }
  // Nothing worth keeping: its slot is reclaimed.
  bool idle(Ticks now) const noexcept {
    return !any_window_open(now) && sender_strikes == 0 && receiver_strikes == 0 &&
           confirmations == 0 && sender_fingerprint == 0;
  }
};

struct alignas(64) NegotiationGuard::Shard {
  std::mutex mutex;
  Slot* slots = nullptr;
  std::uint32_t mask = 0;      // slot count - 1
  std::uint32_t capacity = 0;  // entries this shard can hold (more than its even share)
  std::atomic<std::uint32_t> count{0};
  // The whole table's entry count and limit (Policy::max_peers), shared by all shards, so the
  // table fills to max_peers before anything is evicted however the hashes fall.
  std::atomic<std::size_t>* tracked = nullptr;
  std::size_t limit = 0;
  // Random words for jitter, refilled from randombytes_buf a block at a time.
  std::uint32_t random_words[16] = {};
  std::uint32_t random_left = 0;

  Counter proceeded_outbound{0}, held_outbound{0}, proceeded_inbound{0}, dropped_inbound{0},
      notices_sent{0}, notices_suppressed{0}, errors_honoured{0}, retried_now{0},
      retried_later{0}, awaiting_confirmation{0}, ignored{0}, unsolicited{0},
      fingerprint_lifts{0}, established{0}, evictions{0};

  std::uint32_t home(std::uint64_t hash) const noexcept {
    return static_cast<std::uint32_t>(hash) & mask;
  }
  std::uint32_t next(std::uint32_t i) const noexcept { return (i + 1) & mask; }

  Slot* find(std::uint64_t hash, const PeerKey& peer) noexcept {
    for (std::uint32_t i = home(hash);; i = next(i)) {
      Slot& slot = slots[i];
      if (slot.hash == 0) return nullptr;
      if (slot.hash == hash && slot.peer == peer) return &slot;
    }
  }

  // Backward-shift deletion keeps linear probing free of tombstones.
  void erase(Slot* victim) noexcept {
    auto hole = static_cast<std::uint32_t>(victim - slots);
    for (std::uint32_t j = next(hole);; j = next(j)) {
      if (slots[j].hash == 0) break;
      const std::uint32_t want = home(slots[j].hash);
      // Slot j may fill the hole unless its home lies cyclically in (hole, j].
      const bool stays = hole <= j ? (hole < want && want <= j) : (hole < want || want <= j);
      if (!stays) {
        slots[hole] = slots[j];
        hole = j;
      }
    }
    slots[hole] = Slot{};
    count.store(count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    tracked->fetch_sub(1, std::memory_order_relaxed);
  }

  // Precondition: `peer` is absent. Evicts first when the table or the shard is full. Eviction
  // stays inside this shard (its lock is the only one held); only a shard with no entry at all
  // inserts past a full table, which keyed hashing makes vanishingly unlikely.
  Slot& insert(std::uint64_t hash, const PeerKey& peer, Ticks now) noexcept {
    const std::size_t before = tracked->fetch_add(1, std::memory_order_relaxed);
    const std::uint32_t here = count.load(std::memory_order_relaxed);
    if (here >= capacity || (before >= limit && here > 0)) evict_near(hash, now);
    std::uint32_t i = home(hash);
    while (slots[i].hash != 0) i = next(i);
    Slot& slot = slots[i];
    slot = Slot{};
    slot.hash = hash;
    slot.peer = peer;
    count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return slot;
  }

  // Victim order: no open window, then fewest strikes, then the window that ends first.
  void evict_near(std::uint64_t hash, Ticks now) noexcept {
    Slot* victim = nullptr;
    std::uint32_t examined = 0;
    std::uint32_t i = home(hash);
    for (std::uint32_t visited = 0; visited <= mask; ++visited, i = next(i)) {
      Slot& candidate = slots[i];
      if (candidate.hash == 0) continue;
      if (victim == nullptr || evicts_before(candidate, *victim, now)) victim = &candidate;
      if (++examined == eviction_sample) break;
    }
    // Losing a remembered proposal costs little; losing a window or strikes is what counts.
    const bool protective = victim->any_window_open(now) || victim->total_strikes() != 0 ||
                            victim->confirmations != 0;
    erase(victim);
    if (protective) bump(evictions);
  }

  static bool evicts_before(const Slot& a, const Slot& b, Ticks now) noexcept {
    const bool a_open = a.any_window_open(now), b_open = b.any_window_open(now);
    if (a_open != b_open) return !a_open;
    if (a.total_strikes() != b.total_strikes()) return a.total_strikes() < b.total_strikes();
    return std::max(a.sender_until, a.receiver_until) < std::max(b.sender_until, b.receiver_until);
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

void NegotiationGuard::forgive(Slot& slot, Ticks now) const noexcept {
  if ((slot.sender_strikes | slot.receiver_strikes | slot.confirmations) != 0 &&
      now - slot.last_failure >= policy_.forgive_after.count()) {
    slot.sender_strikes = 0;
    slot.receiver_strikes = 0;
    slot.confirmations = 0;
  }
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

  std::size_t shards = 1;
  while (shards < max_shards && policy_.max_peers / (shards * 2) >= peers_per_shard_before_splitting) {
    shards *= 2;
  }
  // A shard may hold a quarter more than its even share, so the table reaches max_peers before
  // any shard overflows; slots keep the load at or under about 5/8 for short linear probes.
  const std::size_t even_share = (policy_.max_peers + shards - 1) / shards;
  const std::size_t shard_capacity =
      std::min(policy_.max_peers, even_share + even_share / 4 + (shards > 1 ? 16 : 0));
  const std::size_t slots_per_shard = next_power_of_two(shard_capacity + shard_capacity / 2 + 1);

  shards_ = new (std::nothrow) Shard[shards];
  slots_ = new (std::nothrow) Slot[shards * slots_per_shard]();
  if (shards_ == nullptr || slots_ == nullptr) {
    delete[] shards_;
    delete[] slots_;
    shards_ = nullptr;
    slots_ = nullptr;
    return Errc::out_of_memory;
  }
  shard_count_ = static_cast<std::uint32_t>(shards);
  for (std::size_t i = 0; i < shards; ++i) {
    Shard& shard = shards_[i];
    shard.slots = slots_ + i * slots_per_shard;
    shard.mask = static_cast<std::uint32_t>(slots_per_shard - 1);
    shard.capacity = static_cast<std::uint32_t>(shard_capacity);
    shard.tracked = &tracked_;
    shard.limit = policy_.max_peers;
  }
  return Errc::ok;
}

NegotiationGuard::~NegotiationGuard() {
  sodium_memzero(hash_key_, sizeof hash_key_);
  sodium_memzero(fingerprint_key_, sizeof fingerprint_key_);
  delete[] shards_;
  delete[] slots_;
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
  if (length >= static_cast<double>(std::numeric_limits<Ticks>::max())) return Duration::max();
  return Duration(std::max<Ticks>(1, static_cast<Ticks>(length)));
}

Decision NegotiationGuard::on_outbound_proposal(const PeerKey& peer,
                                                const Fingerprint& fingerprint) noexcept {
  const Ticks now = ticks(clock_.now());
  const std::uint64_t h = hash(peer);
  Shard& shard = shard_for(h);
  std::lock_guard<std::mutex> lock(shard.mutex);
  Slot* slot = shard.find(h, peer);
  if (slot == nullptr) {
    if (fingerprint.known()) shard.insert(h, peer, now).sender_fingerprint = fingerprint.value();
    bump(shard.proceeded_outbound);
    return {Verdict::proceed, point(now), 0};
  }
  forgive(*slot, now);
  if (now < slot->sender_until) {
    if (!lifts(fingerprint, slot->sender_fingerprint)) {
      bump(shard.held_outbound);
      return {Verdict::hold, point(slot->sender_until), slot->sender_strikes};
    }
    slot->sender_until = never;
    slot->sender_hold = SenderHold::none;
    bump(shard.fingerprint_lifts);
  }
  if (fingerprint.value() != slot->sender_fingerprint) {
    slot->confirmations = 0;  // they were about another configuration
    slot->sender_fingerprint = fingerprint.value();
  }
  const Decision decision{Verdict::proceed, point(now), slot->sender_strikes};
  if (slot->idle(now)) shard.erase(slot);
  bump(shard.proceeded_outbound);
  return decision;
}

ErrorOutcome NegotiationGuard::on_inbound_error(const PeerKey& peer, const Notice& notice,
                                                Origin origin) noexcept {
  const Ticks now = ticks(clock_.now());
  const NotifyClass cls = policy_.notify_classes.classify(notice.version, notice.type);
  const std::uint64_t h = hash(peer);
  Shard& shard = shard_for(h);
  std::lock_guard<std::mutex> lock(shard.mutex);
  Slot* slot = shard.find(h, peer);
  if (slot != nullptr) forgive(*slot, now);
  const std::uint32_t strikes = slot != nullptr ? slot->sender_strikes : 0;

  // RFC 7296 2.21.1: an error in the clear that answers nothing we sent may be forged.
  if (origin == Origin::unsolicited || cls == NotifyClass::ignored) {
    bump(shard.ignored);
    if (origin == Origin::unsolicited) bump(shard.unsolicited);
    return {ErrorAction::ignored, point(now), strikes};
  }
  if (cls == NotifyClass::retry_now) {
    bump(shard.retried_now);
    return {ErrorAction::retry_now, point(now), strikes};
  }

  if (slot == nullptr) slot = &shard.insert(h, peer, now);
  const bool awaiting_confirmation =
      cls == NotifyClass::configuration && origin == Origin::answers_request &&
      slot->confirmations + 1u < policy_.unauthenticated_confirmations;
  if (cls == NotifyClass::retry_later || awaiting_confirmation) {
    if (awaiting_confirmation) {
      ++slot->confirmations;
      slot->last_failure = now;
      bump(shard.awaiting_confirmation);
    }
    const Ticks until = add_saturating(now, policy_.retry_delay);
    if (until > slot->sender_until) {
      slot->sender_until = until;
      if (slot->sender_hold != SenderHold::configuration) slot->sender_hold = SenderHold::retry;
    }
    bump(shard.retried_later);
    return {ErrorAction::retry_later, point(slot->sender_until), slot->sender_strikes};
  }

  // A configuration error, trusted or confirmed. Several in-flight requests failing together
  // (one per CHILD_SA, say) are one failure: an open window is not escalated again.
  bump(shard.errors_honoured);
  // The peer is confirmed to refuse this configuration: its later errors act at once, until a
  // success, forgiveness, or a different configuration is sent.
  slot->confirmations = static_cast<std::uint8_t>(policy_.unauthenticated_confirmations - 1);
  if (now < slot->sender_until && slot->sender_hold == SenderHold::configuration) {
    return {ErrorAction::hold, point(slot->sender_until), slot->sender_strikes};
  }
  slot->sender_strikes = add_strike(slot->sender_strikes);
  slot->last_failure = now;
  const Ticks until =
      add_saturating(now, window_length(shard, policy_.sender_window, slot->sender_strikes));
  slot->sender_until = std::max(slot->sender_until, until);
  slot->sender_hold = SenderHold::configuration;
  return {ErrorAction::hold, point(slot->sender_until), slot->sender_strikes};
}

Decision NegotiationGuard::on_inbound_proposal(const PeerKey& peer,
                                               const Fingerprint& fingerprint) noexcept {
  const Ticks now = ticks(clock_.now());
  const std::uint64_t h = hash(peer);
  Shard& shard = shard_for(h);
  std::lock_guard<std::mutex> lock(shard.mutex);
  Slot* slot = shard.find(h, peer);
  if (slot == nullptr) {
    bump(shard.proceeded_inbound);
    return {Verdict::proceed, point(now), 0};
  }
  forgive(*slot, now);
  if (now < slot->receiver_until) {
    if (!lifts(fingerprint, slot->receiver_fingerprint)) {
      bump(shard.dropped_inbound);
      return {Verdict::hold, point(slot->receiver_until), slot->receiver_strikes};
    }
    slot->receiver_until = never;
    bump(shard.fingerprint_lifts);
  }
  const Decision decision{Verdict::proceed, point(now), slot->receiver_strikes};
  if (slot->idle(now)) shard.erase(slot);
  bump(shard.proceeded_inbound);
  return decision;
}

Decision NegotiationGuard::on_local_rejection(const PeerKey& peer, const Notice& notice,
                                              const Fingerprint& fingerprint) {
  const Ticks now = ticks(clock_.now());
  const NotifyClass cls = policy_.notify_classes.classify(notice.version, notice.type);
  const std::uint64_t h = hash(peer);
  Shard& shard = shard_for(h);
  Decision decision;
  {
    std::lock_guard<std::mutex> lock(shard.mutex);
    Slot* slot = shard.find(h, peer);
    if (slot != nullptr) forgive(*slot, now);
    if (cls != NotifyClass::configuration) {
      // The peer is meant to act on it (new KE group, cookie, later retry): no window.
      decision = {Verdict::proceed, point(now), slot != nullptr ? slot->receiver_strikes : 0u};
    } else {
      if (slot == nullptr) slot = &shard.insert(h, peer, now);
      if (now < slot->receiver_until && !lifts(fingerprint, slot->receiver_fingerprint)) {
        bump(shard.notices_suppressed);  // at most one notice per window: no reflection
        return {Verdict::hold, point(slot->receiver_until), slot->receiver_strikes};
      }
      slot->receiver_strikes = add_strike(slot->receiver_strikes);
      slot->last_failure = now;
      slot->receiver_until =
          add_saturating(now, window_length(shard, policy_.receiver_window, slot->receiver_strikes));
      slot->receiver_fingerprint = fingerprint.value();
      decision = {Verdict::hold, point(slot->receiver_until), slot->receiver_strikes};
    }
    bump(shard.notices_sent);
  }
  transport_.send_notice(peer, notice);
  return decision;
}

void NegotiationGuard::on_established(const PeerKey& peer) noexcept {
  const std::uint64_t h = hash(peer);
  Shard& shard = shard_for(h);
  std::lock_guard<std::mutex> lock(shard.mutex);
  if (Slot* slot = shard.find(h, peer)) shard.erase(slot);
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
constexpr std::size_t nonce_size = 16;
constexpr std::size_t key_offset = 32;  // after magic, version, record size, count, nonce
constexpr std::uint64_t no_failure = ~std::uint64_t{0};
static_assert(key_offset + 32 == format::header_size);
static_assert(crypto_auth_BYTES == format::mac_size);
static_assert(crypto_auth_KEYBYTES == sizeof(SnapshotKey::bytes));

// Two keys from the daemon's one: the MAC key, and a pad per nonce that hides the fingerprint key.
void derive_mac_key(const SnapshotKey& key, unsigned char (&out)[crypto_auth_KEYBYTES]) noexcept {
  static constexpr char label[] = "ikeguard snapshot mac key";
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(label), sizeof label - 1,
                     key.bytes.data(), key.bytes.size());
}

void derive_pad(const SnapshotKey& key, const std::uint8_t* nonce, unsigned char (&out)[32]) noexcept {
  static constexpr char label[] = "ikeguard snapshot fingerprint key pad";
  unsigned char message[sizeof label - 1 + nonce_size];
  std::memcpy(message, label, sizeof label - 1);
  std::memcpy(message + sizeof label - 1, nonce, nonce_size);
  crypto_generichash(out, sizeof out, message, sizeof message, key.bytes.data(), key.bytes.size());
}

// One record, decoded and checked.
struct SnapshotRecord {
  PeerKey peer;
  std::uint8_t hold = 0;
  std::uint8_t confirmations = 0;
  std::uint16_t sender_strikes = 0;
  std::uint16_t receiver_strikes = 0;
  std::uint64_t sender_remaining = 0;
  std::uint64_t receiver_remaining = 0;
  std::uint64_t since_failure = no_failure;
  std::uint64_t sender_fingerprint = 0;
  std::uint64_t receiver_fingerprint = 0;

  std::uint64_t latest_end() const noexcept { return std::max(sender_remaining, receiver_remaining); }
};

bool all_zero(const std::uint8_t* p, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

// False when the record could not have been written by snapshot().
bool decode_record(const std::uint8_t* p, SnapshotRecord& record) noexcept {
  const std::uint8_t family = p[0];
  record.hold = p[1];
  record.confirmations = p[2];
  if (p[3] != 0 || load_u16(p + 10) != 0) return false;
  if (record.hold > static_cast<std::uint8_t>(SenderHold::configuration)) return false;
  const std::uint16_t port = load_u16(p + 4);
  record.sender_strikes = load_u16(p + 6);
  record.receiver_strikes = load_u16(p + 8);
  const std::uint32_t scope = load_u32(p + 12);
  const std::uint8_t* address = p + 16;
  if (family == 4) {
    if (!all_zero(address + 4, 12)) return false;
    record.peer = PeerKey::ipv4({address[0], address[1], address[2], address[3]}, port, scope);
  } else if (family == 6) {
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), address, bytes.size());
    record.peer = PeerKey::ipv6(bytes, port, scope);
    if (record.peer.family() != PeerKey::Family::ipv6) return false;  // v4-mapped: never written
  } else {
    return false;
  }
  record.sender_remaining = load_u64(p + 32);
  record.receiver_remaining = load_u64(p + 40);
  record.since_failure = load_u64(p + 48);
  record.sender_fingerprint = load_u64(p + 56);
  record.receiver_fingerprint = load_u64(p + 64);
  const auto limit = static_cast<std::uint64_t>(std::numeric_limits<Ticks>::max());
  if (record.sender_remaining > limit || record.receiver_remaining > limit) return false;
  if (record.since_failure != no_failure && record.since_failure > limit) return false;
  // A hold kind without a window, or a window without a hold kind, is not a state the guard has.
  if ((record.sender_remaining == 0) != (record.hold == 0)) return false;
  const bool counted = record.sender_strikes != 0 || record.receiver_strikes != 0 ||
                       record.confirmations != 0;
  if (counted != (record.since_failure != no_failure)) return false;
  const bool remembers = record.sender_remaining != 0 || record.receiver_remaining != 0 ||
                         counted || record.sender_fingerprint != 0;
  return remembers;  // snapshot() writes no entry with nothing to remember
}

}  // namespace

std::size_t NegotiationGuard::snapshot_bound() const noexcept {
  return format::size_for(policy_.max_peers);
}

Result<std::size_t> NegotiationGuard::snapshot(void* out, std::size_t size,
                                               const SnapshotKey& key) const noexcept {
  if (out == nullptr) return Errc::invalid_argument;
  const Ticks now = ticks(clock_.now());
  // Every shard, in index order (no other call holds two locks): one consistent instant.
  for (std::uint32_t i = 0; i < shard_count_; ++i) shards_[i].mutex.lock();
  struct Unlock {
    const NegotiationGuard& guard;
    ~Unlock() {
      for (std::uint32_t i = guard.shard_count_; i-- > 0;) guard.shards_[i].mutex.unlock();
    }
  } unlock{*this};

  // What an entry would say if it were looked at now: lapsed strikes forgiven, idle ones skipped.
  const auto current = [&](const Slot& slot, Slot& copy) {
    if (slot.hash == 0) return false;
    copy = slot;
    forgive(copy, now);
    if (now >= copy.sender_until) {
      copy.sender_until = never;
      copy.sender_hold = SenderHold::none;
    }
    if (now >= copy.receiver_until) copy.receiver_until = never;
    return !copy.idle(now);
  };
  const std::size_t slot_count = std::size_t{shard_count_} * (std::size_t{shards_[0].mask} + 1);
  std::size_t entries = 0;
  Slot copy;
  for (std::size_t i = 0; i < slot_count; ++i) if (current(slots_[i], copy)) ++entries;
  const std::size_t total = format::size_for(entries);
  if (size < total) return Errc::snapshot_buffer_too_small;

  auto* p = static_cast<std::uint8_t*>(out);
  std::memcpy(p, snapshot_magic, sizeof snapshot_magic);
  store_u16(p + 8, format::version);
  store_u16(p + 10, static_cast<std::uint16_t>(format::record_size));
  store_u32(p + 12, static_cast<std::uint32_t>(entries));
  randombytes_buf(p + 16, nonce_size);
  unsigned char pad[32];
  derive_pad(key, p + 16, pad);
  for (std::size_t i = 0; i < sizeof pad; ++i) {
    p[key_offset + i] = static_cast<std::uint8_t>(fingerprint_key_[i] ^ pad[i]);
  }
  sodium_memzero(pad, sizeof pad);

  std::uint8_t* record = p + format::header_size;
  const auto remaining = [now](Ticks until) {
    return until > now ? static_cast<std::uint64_t>(until - now) : std::uint64_t{0};
  };
  for (std::size_t i = 0; i < slot_count; ++i) {
    if (!current(slots_[i], copy)) continue;
    std::memset(record, 0, format::record_size);
    const PeerKey& peer = copy.peer;
    record[0] = peer.family() == PeerKey::Family::ipv4 ? 4 : 6;
    record[1] = static_cast<std::uint8_t>(copy.sender_hold);
    record[2] = copy.confirmations;
    store_u16(record + 4, peer.port());
    store_u16(record + 6, copy.sender_strikes);
    store_u16(record + 8, copy.receiver_strikes);
    store_u32(record + 12, peer.scope());
    std::memcpy(record + 16, peer.address().data(), peer.family() == PeerKey::Family::ipv4 ? 4 : 16);
    store_u64(record + 32, remaining(copy.sender_until));
    store_u64(record + 40, remaining(copy.receiver_until));
    const bool counted = (copy.sender_strikes | copy.receiver_strikes | copy.confirmations) != 0;
    const Ticks since = copy.last_failure == never ? 0 : now - copy.last_failure;
    store_u64(record + 48, counted ? static_cast<std::uint64_t>(since) : no_failure);
    store_u64(record + 56, copy.sender_fingerprint);
    store_u64(record + 64, copy.receiver_fingerprint);
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
  std::uint64_t threshold = 0;
  std::size_t at_threshold = count;
  if (count > policy_.max_peers) {
    std::unique_ptr<std::uint64_t[]> ends(new (std::nothrow) std::uint64_t[count]);
    if (!ends) return Errc::out_of_memory;
    for (std::uint32_t i = 0; i < count; ++i) {
      decode_record(records + std::size_t{i} * format::record_size, record);
      ends[i] = record.latest_end();
    }
    const std::size_t keep = policy_.max_peers;
    std::nth_element(ends.get(), ends.get() + (count - keep), ends.get() + count);
    threshold = ends[count - keep];
    std::size_t above = 0;
    for (std::uint32_t i = 0; i < count; ++i) if (ends[i] > threshold) ++above;
    at_threshold = keep - above;
  }

  // 3. Replace the table under every lock.
  const Ticks now = ticks(clock_.now());
  const double stretch = 1.0 + policy_.jitter;
  const double cap_ticks = static_cast<double>(policy_.max_window.count()) * stretch;
  const auto cap = [cap_ticks](std::uint64_t remaining) {
    const double r = static_cast<double>(remaining);
    return r > cap_ticks ? static_cast<std::uint64_t>(cap_ticks) : remaining;
  };
  for (std::uint32_t i = 0; i < shard_count_; ++i) shards_[i].mutex.lock();
  const std::size_t slot_count = std::size_t{shard_count_} * (std::size_t{shards_[0].mask} + 1);
  std::fill(slots_, slots_ + slot_count, Slot{});
  for (std::uint32_t i = 0; i < shard_count_; ++i) shards_[i].count.store(0, std::memory_order_relaxed);
  tracked_.store(0, std::memory_order_relaxed);
  unsigned char pad[32];
  derive_pad(key, p + 16, pad);
  for (std::size_t i = 0; i < sizeof pad; ++i) {
    fingerprint_key_[i] = static_cast<unsigned char>(p[key_offset + i] ^ pad[i]);
  }
  sodium_memzero(pad, sizeof pad);

  RestoreReport report;
  for (std::uint32_t i = 0; i < count; ++i) {
    decode_record(records + std::size_t{i} * format::record_size, record);
    const std::uint64_t end = record.latest_end();
    if (end < threshold || (end == threshold && at_threshold == 0)) {
      ++report.dropped;
      continue;
    }
    if (end == threshold) --at_threshold;
    const std::uint64_t h = hash(record.peer);
    Shard& shard = shard_for(h);
    if (shard.find(h, record.peer) != nullptr) {  // snapshot() never writes a peer twice
      ++report.dropped;
      continue;
    }
    const std::size_t before = tracked_.load(std::memory_order_relaxed);
    Slot& slot = shard.insert(h, record.peer, now);
    if (tracked_.load(std::memory_order_relaxed) == before) ++report.dropped;  // shard overflow
    const std::uint64_t sender = cap(record.sender_remaining);
    const std::uint64_t receiver = cap(record.receiver_remaining);
    slot.sender_until = sender != 0 ? add_saturating(now, Duration(static_cast<Ticks>(sender))) : never;
    slot.receiver_until =
        receiver != 0 ? add_saturating(now, Duration(static_cast<Ticks>(receiver))) : never;
    slot.sender_hold = static_cast<SenderHold>(record.hold);
    // Longer ago than forgive_after is as good as forgive_after: the strikes lapse when next seen.
    const auto forgive_ticks = static_cast<std::uint64_t>(policy_.forgive_after.count());
    slot.last_failure = record.since_failure != no_failure
                            ? now - static_cast<Ticks>(std::min(record.since_failure, forgive_ticks))
                            : never;
    slot.sender_fingerprint = record.sender_fingerprint;
    slot.receiver_fingerprint = record.receiver_fingerprint;
    slot.sender_strikes = record.sender_strikes;
    slot.receiver_strikes = record.receiver_strikes;
    slot.confirmations = record.confirmations;
  }
  report.restored = tracked_.load(std::memory_order_relaxed);
  for (std::uint32_t i = shard_count_; i-- > 0;) shards_[i].mutex.unlock();
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
  total.peers_tracked = tracked_.load(std::memory_order_relaxed);
  return total;
}

}  // namespace ikeguard
