// SPDX-License-Identifier: MIT
// The peer table on its own, with no IKE in it: layout, Robin Hood placement and backward-shift
// erasure, the table-wide limit and bounded eviction, the seqlock reader, and the writers.
#include <ikeguard/detail/peer_table-inl.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <vector>

namespace {

struct Value {
  std::uint64_t weight;
  std::uint64_t payload;
};

struct ReadMostly {
  std::atomic<bool> ok{true};
};

struct Locked {
  std::uint64_t writes = 0;
};

using Table = ikeguard::detail::PeerTable<Value, ReadMostly, Locked>;
using Shard = Table::Shard;

// The eviction order of these tests: the lowest weight goes first.
constexpr auto lowest_weight = [](const Value& a, const Value& b) { return a.weight < b.weight; };
constexpr auto shard_ok = [](const ReadMostly& r) { return r.ok.load(std::memory_order_relaxed); };

// The table in memory of its own, 64-byte aligned, as a caller provides it: the table is
// declared after the memory, so it is destroyed before the memory is freed.
struct OwnedTable {
  explicit OwnedTable(std::size_t max_entries)
      : memory(std::aligned_alloc(64, Table::layout(max_entries).bytes)) {
    REQUIRE(memory != nullptr);
    table.build(max_entries, memory.get());
  }
  std::unique_ptr<void, ikeguard::detail::FreeMemory> memory;
  Table table;
};

// The low 32 bits of a hash whose home is `slot` in a shard of `slots` slots (the home is the
// low half times the slot count, shifted down 32 bits).
std::uint64_t low_for(std::size_t slot, std::size_t slots) {
  return ((std::uint64_t{slot} << 32) + slots - 1) / slots;
}

// A hash from its parts: `high` (bits 46 and up) tells keys apart, `shard` (bits 40-45) picks
// the shard in a table of up to 64, `tag` is bits 32-39, `low` the home slot's bits.
std::uint64_t make_hash(std::uint64_t high, std::uint64_t shard, std::uint64_t tag, std::uint64_t low) {
  return high << 46 | shard << 40 | tag << 32 | low;
}

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

// Inserts an absent key under its shard's lock and stores its value.
Table::Inserted put(const Table& table, std::uint64_t hash, Value value) {
  Shard& shard = table.shard_for(hash);
  const Shard::Writer writing(shard);
  REQUIRE(shard.find(hash) == nullptr);
  Table::Inserted inserted = shard.insert(hash, {}, lowest_weight);
  REQUIRE(inserted.entry != nullptr);
  CHECK(inserted.entry->hash == hash);
  inserted.entry->value = value;
  inserted.entry = nullptr;  // not to be used once the lock is gone
  return inserted;
}

// Finds a key under its shard's lock.
bool holds(const Table& table, std::uint64_t hash, Value* value = nullptr) {
  Shard& shard = table.shard_for(hash);
  const Shard::Writer writing(shard);
  const Table::Entry* entry = shard.find(hash);
  if (entry == nullptr) return false;
  if (value != nullptr) *value = entry->value;
  return true;
}

// Erases a key the table holds, under its shard's lock.
void remove(const Table& table, std::uint64_t hash) {
  Shard& shard = table.shard_for(hash);
  const Shard::Writer writing(shard);
  Table::Entry* entry = shard.find(hash);
  REQUIRE(entry != nullptr);
  shard.erase(entry);
}

// The keys for_each visits in one shard.
std::vector<std::uint64_t> visited(Shard& shard) {
  std::vector<std::uint64_t> keys;
  const Shard::Writer writing(shard);
  shard.for_each([&](Table::Entry& entry) { keys.push_back(entry.hash); });
  return keys;
}

// The slot of a key relative to another's, by address: both lie in one shard's slot array.
std::ptrdiff_t slot_offset(const Table& table, std::uint64_t hash, std::uint64_t from) {
  Shard& shard = table.shard_for(hash);
  const Shard::Writer writing(shard);
  const Table::Entry* a = shard.find(hash);
  const Table::Entry* b = shard.find(from);
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  return a - b;
}

}  // namespace

TEST_CASE("layout gives one shard below 2048 entries and doubles up to 64 shards", "[peer_table]") {
  CHECK(Table::layout(1).shards == 1);
  CHECK(Table::layout(1000).shards == 1);
  CHECK(Table::layout(2047).shards == 1);
  CHECK(Table::layout(2048).shards == 2);
  CHECK(Table::layout(4095).shards == 2);
  CHECK(Table::layout(4096).shards == 4);
  CHECK(Table::layout(std::size_t{1} << 16).shards == 64);
  CHECK(Table::layout(std::size_t{1} << 20).shards == 64);
  CHECK(Table::layout(std::size_t{1} << 30).shards == 64);

  // The even share, a quarter more, and two.
  CHECK(Table::layout(1).slots_per_shard == 3);
  CHECK(Table::layout(1000).slots_per_shard == 1252);
  CHECK(Table::layout(2048).slots_per_shard == 1282);
  CHECK(Table::layout(std::size_t{1} << 20).slots_per_shard == 20482);

  // One shard holds the whole limit; a shard of many holds 97% of its slots.
  CHECK(Table::layout(1).shard_capacity == 1);
  CHECK(Table::layout(1000).shard_capacity == 1000);
  CHECK(Table::layout(2048).shard_capacity == 1241);
  CHECK(Table::layout(std::size_t{1} << 20).shard_capacity == 19841);
}

TEST_CASE("every layout has a power-of-two shard count, room past the even share and whole lines",
          "[peer_table]") {
  for (const std::size_t max_entries :
       {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{63}, std::size_t{1000}, std::size_t{2047},
        std::size_t{2048}, std::size_t{3000}, std::size_t{65535}, std::size_t{100000}, std::size_t{1} << 24}) {
    CAPTURE(max_entries);
    const ikeguard::detail::TableLayout shape = Table::layout(max_entries);
    CHECK(shape.shards >= 1);
    CHECK(shape.shards <= 64);
    CHECK((shape.shards & (shape.shards - 1)) == 0);
    const std::size_t even_share = (max_entries + shape.shards - 1) / shape.shards;
    CHECK(shape.slots_per_shard > even_share);
    CHECK(shape.shard_capacity >= even_share);
    CHECK(shape.shard_capacity < shape.slots_per_shard);
    CHECK(shape.bytes % 64 == 0);
    const std::size_t needed = shape.shards * sizeof(Shard) +
                               shape.shards * shape.slots_per_shard * (sizeof(Table::Entry) + 1);
    CHECK(shape.bytes >= needed);
    CHECK(shape.bytes < needed + 64);
  }
}

TEST_CASE("a table built in caller-provided memory reports its layout and starts empty", "[peer_table]") {
  const std::size_t max_entries = 5000;
  const ikeguard::detail::TableLayout shape = Table::layout(max_entries);
  void* memory = std::aligned_alloc(64, shape.bytes);
  REQUIRE(memory != nullptr);
  {
    Table table;
    table.build(max_entries, memory);
    CHECK(table.shard_count() == 4);
    CHECK(table.bytes() == shape.bytes);
    CHECK(table.size() == 0);
    for (std::uint32_t i = 0; i < table.shard_count(); ++i) {
      CHECK(table.shard(i).entries() == 0);
      CHECK(visited(table.shard(i)).empty());
    }
    // The shard is bits 40 and up of the hash.
    CHECK(&table.shard_for(make_hash(1, 0, 9, 5)) == &table.shard(0));
    CHECK(&table.shard_for(make_hash(1, 3, 9, 5)) == &table.shard(3));
    CHECK(&table.shard_for(make_hash(1, 7, 9, 5)) == &table.shard(3));
    const std::uint64_t hash = make_hash(2, 1, 9, 12345);
    put(table, hash, {4, 44});
    Value value{};
    CHECK(holds(table, hash, &value));
    CHECK(value.weight == 4);
    CHECK(value.payload == 44);
    CHECK(table.size() == 1);
    CHECK(table.shard(1).entries() == 1);
  }  // the table is gone before its memory
  std::free(memory);
}

TEST_CASE("allocate_table_memory gives 64-byte aligned memory a table builds in", "[peer_table]") {
  for (const std::size_t max_entries : {std::size_t{100}, std::size_t{200000}}) {
    CAPTURE(max_entries);
    const std::size_t bytes = Table::layout(max_entries).bytes;
    const std::unique_ptr<void, ikeguard::detail::FreeMemory> memory(
        ikeguard::detail::allocate_table_memory(bytes));
    REQUIRE(memory != nullptr);
    CHECK(reinterpret_cast<std::uintptr_t>(memory.get()) % 64 == 0);
    Table table;
    table.build(max_entries, memory.get());
    std::uint64_t state = 7;
    for (int i = 0; i < 100; ++i) {
      const std::uint64_t hash = splitmix(state) | 1;
      put(table, hash, {std::uint64_t(i), hash});
    }
    CHECK(table.size() == 100);
  }
}

TEST_CASE("an inserted key is found with its value and an absent key is not", "[peer_table]") {
  OwnedTable owned(1000);
  const Table& table = owned.table;
  const std::uint64_t a = make_hash(1, 0, 0x21, low_for(17, 1252));
  const std::uint64_t b = make_hash(2, 0, 0x22, low_for(900, 1252));
  const Table::Inserted first = put(table, a, {10, 100});
  CHECK_FALSE(first.evicted);
  put(table, b, {20, 200});

  Value value{};
  REQUIRE(holds(table, a, &value));
  CHECK(value.weight == 10);
  CHECK(value.payload == 100);
  REQUIRE(holds(table, b, &value));
  CHECK(value.weight == 20);
  CHECK(value.payload == 200);

  // Absent: another home, the same home with another tag, the same home and tag.
  CHECK_FALSE(holds(table, make_hash(1, 0, 0x21, low_for(18, 1252))));
  CHECK_FALSE(holds(table, make_hash(1, 0, 0x99, low_for(17, 1252))));
  CHECK_FALSE(holds(table, make_hash(3, 0, 0x21, low_for(17, 1252))));
  CHECK(table.size() == 2);
  CHECK(table.shard(0).entries() == 2);
}

TEST_CASE("keys whose tag byte is 0 or 1 at one home slot are told apart", "[peer_table]") {
  OwnedTable owned(100);
  const Table& table = owned.table;
  const std::uint64_t zero = make_hash(1, 0, 0, 5);
  const std::uint64_t one = make_hash(1, 0, 1, 5);
  put(table, zero, {1, 1});
  CHECK_FALSE(holds(table, one));
  put(table, one, {2, 2});
  Value value{};
  REQUIRE(holds(table, zero, &value));
  CHECK(value.payload == 1);
  REQUIRE(holds(table, one, &value));
  CHECK(value.payload == 2);
  remove(table, zero);
  CHECK_FALSE(holds(table, zero));
  REQUIRE(holds(table, one, &value));
  CHECK(value.payload == 2);
}

TEST_CASE("forty keys with the same home slot and tag are all found", "[peer_table]") {
  OwnedTable owned(100);  // one shard of 127 slots
  const Table& table = owned.table;
  REQUIRE(table.shard_count() == 1);
  std::vector<std::uint64_t> keys;
  for (std::uint64_t k = 1; k <= 40; ++k) keys.push_back(make_hash(k, 0, 0x77, low_for(10, 127)));
  for (std::size_t i = 0; i < keys.size(); ++i) put(table, keys[i], {i, keys[i]});
  CHECK(table.size() == 40);
  CHECK(table.shard(0).entries() == 40);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    CAPTURE(i);
    Value value{};
    REQUIRE(holds(table, keys[i], &value));
    CHECK(value.weight == i);
    CHECK(value.payload == keys[i]);
    Value copy{};
    CHECK(table.shard(0).read(keys[i], copy, shard_ok) == Table::Read::found);
    CHECK(copy.payload == keys[i]);
    // One run from the home slot on, in the order of insertion.
    CHECK(slot_offset(table, keys[i], keys[0]) == static_cast<std::ptrdiff_t>(i));
  }
  CHECK_FALSE(holds(table, make_hash(41, 0, 0x77, low_for(10, 127))));
  Value copy{};
  CHECK(table.shard(0).read(make_hash(41, 0, 0x77, low_for(10, 127)), copy, shard_ok) == Table::Read::absent);
}

TEST_CASE("erasing any key of a run at one home slot leaves every other key found and the run whole",
          "[peer_table]") {
  // The first, a middle and the last of the run, and every other position too; a run at the
  // shard's last slot wraps around to its first.
  for (const std::size_t home : {std::size_t{10}, std::size_t{126}}) {
    for (std::size_t erased = 0; erased < 12; ++erased) {
      CAPTURE(home, erased);
      OwnedTable owned(100);  // one shard of 127 slots
      const Table& table = owned.table;
      std::vector<std::uint64_t> keys;
      for (std::uint64_t k = 1; k <= 12; ++k) keys.push_back(make_hash(k, 0, 0x77, low_for(home, 127)));
      for (std::size_t i = 0; i < keys.size(); ++i) put(table, keys[i], {i, keys[i]});
      remove(table, keys[erased]);
      CHECK_FALSE(holds(table, keys[erased]));
      CHECK(table.size() == 11);
      CHECK(table.shard(0).entries() == 11);
      CHECK(visited(table.shard(0)).size() == 11);
      const std::uint64_t first = erased == 0 ? keys[1] : keys[0];
      std::ptrdiff_t expected = 0;
      for (std::size_t i = 0; i < keys.size(); ++i) {
        if (i == erased) continue;
        CAPTURE(i);
        Value value{};
        REQUIRE(holds(table, keys[i], &value));
        CHECK(value.payload == keys[i]);
        // Backward shift, no tombstone: the rest close up behind the home slot. Offsets are
        // taken by address, so in the wrapped run they are measured within the slot array.
        if (home == 10) CHECK(slot_offset(table, keys[i], first) == expected);
        ++expected;
      }
      // The key erased can be inserted again, and then it is found.
      put(table, keys[erased], {99, 99});
      CHECK(holds(table, keys[erased]));
      CHECK(table.size() == 12);
    }
  }
}

TEST_CASE("erasing any key of a cluster of neighbouring homes leaves every other key found", "[peer_table]") {
  // Homes 20, 20, 21, 20, 22, 21, 23, 23, 25, 20: Robin Hood displaces some past others.
  const std::size_t homes[] = {20, 20, 21, 20, 22, 21, 23, 23, 25, 20};
  const std::size_t count = sizeof homes / sizeof homes[0];
  for (std::size_t erased = 0; erased < count; ++erased) {
    CAPTURE(erased);
    OwnedTable owned(100);
    const Table& table = owned.table;
    std::vector<std::uint64_t> keys;
    for (std::size_t i = 0; i < count; ++i) {
      keys.push_back(make_hash(i + 1, 0, 0x30 + i % 3, low_for(homes[i], 127)));
      put(table, keys[i], {i, keys[i]});
    }
    for (std::size_t i = 0; i < count; ++i) CHECK(holds(table, keys[i]));
    remove(table, keys[erased]);
    CHECK_FALSE(holds(table, keys[erased]));
    CHECK(table.size() == count - 1);
    CHECK(table.shard(0).entries() == count - 1);
    for (std::size_t i = 0; i < count; ++i) {
      if (i == erased) continue;
      CAPTURE(i);
      Value value{};
      REQUIRE(holds(table, keys[i], &value));
      CHECK(value.payload == keys[i]);
      Value copy{};
      CHECK(table.shard(0).read(keys[i], copy, shard_ok) == Table::Read::found);
    }
  }
}

TEST_CASE("erase decrements the table's size and the shard's count", "[peer_table]") {
  OwnedTable owned(5000);  // four shards
  const Table& table = owned.table;
  std::vector<std::uint64_t> keys;
  for (std::uint64_t i = 0; i < 12; ++i) {
    keys.push_back(make_hash(i + 1, i % 4, 0x40, low_for(100 + i, 1564)));
    put(table, keys.back(), {i, i});
  }
  CHECK(table.size() == 12);
  for (std::uint32_t s = 0; s < 4; ++s) CHECK(table.shard(s).entries() == 3);
  remove(table, keys[0]);
  CHECK(table.size() == 11);
  CHECK(table.shard(0).entries() == 2);
  remove(table, keys[5]);
  remove(table, keys[9]);
  CHECK(table.size() == 9);
  CHECK(table.shard(1).entries() == 1);
  CHECK(table.shard(2).entries() == 3);
  CHECK(table.shard(3).entries() == 3);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i != 0 && i != 5 && i != 9) remove(table, keys[i]);
  }
  CHECK(table.size() == 0);
  for (std::uint32_t s = 0; s < 4; ++s) CHECK(table.shard(s).entries() == 0);
}

TEST_CASE("a one-entry table evicts its entry for the next", "[peer_table]") {
  OwnedTable owned(1);
  const Table& table = owned.table;
  REQUIRE(table.shard_count() == 1);
  const std::uint64_t a = make_hash(1, 0, 0x11, 3);
  const std::uint64_t b = make_hash(2, 0, 0x12, 4);
  CHECK_FALSE(put(table, a, {5, 55}).evicted);
  CHECK(table.size() == 1);
  const Table::Inserted second = put(table, b, {6, 66});
  CHECK(second.evicted);
  CHECK(second.victim.weight == 5);
  CHECK(second.victim.payload == 55);
  CHECK(table.size() == 1);
  CHECK(table.shard(0).entries() == 1);
  CHECK_FALSE(holds(table, a));
  Value value{};
  REQUIRE(holds(table, b, &value));
  CHECK(value.payload == 66);
}

TEST_CASE("a full small shard evicts the lowest-ranked of all its entries", "[peer_table]") {
  // 20 entries: fewer than the 32 eviction compares, so every entry is a candidate.
  OwnedTable owned(20);
  const Table& table = owned.table;
  std::map<std::uint64_t, std::uint64_t> by_weight;  // weight -> hash
  std::uint64_t state = 42;
  for (std::uint64_t i = 0; i < 20; ++i) {
    const std::uint64_t hash = splitmix(state) | 1;
    const std::uint64_t weight = (i * 7) % 20 * 10 + 100;  // 100..290, scrambled
    CHECK_FALSE(put(table, hash, {weight, hash}).evicted);
    by_weight[weight] = hash;
  }
  REQUIRE(table.size() == 20);
  for (std::uint64_t n = 0; n < 15; ++n) {
    CAPTURE(n);
    const std::uint64_t hash = splitmix(state) | 1;
    const std::uint64_t weight = 105 + n * 20;  // between the others: some newcomers go too
    const auto lowest = by_weight.begin();
    const Table::Inserted inserted = put(table, hash, {weight, hash});
    CHECK(inserted.evicted);
    CHECK(inserted.victim.weight == lowest->first);
    CHECK(inserted.victim.payload == lowest->second);
    CHECK_FALSE(holds(table, lowest->second));
    by_weight.erase(lowest);
    by_weight[weight] = hash;
    CHECK(table.size() == 20);
    CHECK(table.shard(0).entries() == 20);
  }
  std::set<std::uint64_t> expected;
  for (const auto& [weight, hash] : by_weight) {
    Value value{};
    REQUIRE(holds(table, hash, &value));
    CHECK(value.weight == weight);
    expected.insert(hash);
  }
  const std::vector<std::uint64_t> keys = visited(table.shard(0));
  CHECK(std::set<std::uint64_t>(keys.begin(), keys.end()) == expected);
  CHECK(keys.size() == 20);
}

TEST_CASE("over its limit a sharded table evicts the lowest-ranked of the 32 entries from the newcomer's home",
          "[peer_table]") {
  // 2048 entries: two shards of 1282 slots. Each shard holds 1024 keys, key j at home slot j,
  // so slots 0..1023 are full, each key at its home; the table is at its limit.
  OwnedTable owned(2048);
  const Table& table = owned.table;
  REQUIRE(table.shard_count() == 2);
  const std::size_t slots = 1282;
  std::uint64_t keys[2][1024];
  std::uint64_t weights[2][1024];
  for (std::uint64_t s = 0; s < 2; ++s) {
    for (std::uint64_t j = 0; j < 1024; ++j) {
      keys[s][j] = make_hash(1, s, 0x50, low_for(j, slots));
      weights[s][j] = s * 1024 + (j * 37) % 1024 + 1;  // distinct, scrambled
      CHECK_FALSE(put(table, keys[s][j], {weights[s][j], keys[s][j]}).evicted);
    }
  }
  REQUIRE(table.size() == 2048);
  REQUIRE(table.shard(0).entries() == 1024);
  REQUIRE(table.shard(1).entries() == 1024);

  // Newcomers at homes 0, 64, 128, ... 960 of each shard: the candidates are the 32 keys at
  // homes w*64 .. w*64+31, untouched by the insertions before.
  std::set<std::uint64_t> evicted;
  for (std::uint64_t w = 0; w < 16; ++w) {
    for (std::uint64_t s = 0; s < 2; ++s) {
      CAPTURE(w, s);
      std::size_t lowest = w * 64;
      for (std::size_t j = w * 64; j < w * 64 + 32; ++j) {
        if (weights[s][j] < weights[s][lowest]) lowest = j;
      }
      const std::uint64_t hash = make_hash(2, s, 0x50, low_for(w * 64, slots));
      const Table::Inserted inserted = put(table, hash, {1000000 + w, hash});
      CHECK(inserted.evicted);
      CHECK(inserted.victim.weight == weights[s][lowest]);
      CHECK(inserted.victim.payload == keys[s][lowest]);
      CHECK_FALSE(holds(table, keys[s][lowest]));
      CHECK(holds(table, hash));
      evicted.insert(keys[s][lowest]);
      CHECK(table.size() == 2048);
      CHECK(table.shard_for(hash).entries() == 1024);
    }
  }
  CHECK(evicted.size() == 32);
  for (std::size_t s = 0; s < 2; ++s) {
    for (std::size_t j = 0; j < 1024; ++j) {
      if (evicted.count(keys[s][j]) == 0) CHECK(holds(table, keys[s][j]));
    }
  }
}

TEST_CASE("a table given more distinct keys than its limit holds exactly its limit", "[peer_table]") {
  const std::size_t limit = 5000;  // four shards
  OwnedTable owned(limit);
  const Table& table = owned.table;
  REQUIRE(table.shard_count() == 4);
  std::map<std::uint64_t, std::uint64_t> held;  // hash -> weight
  std::uint64_t state = 2024;
  std::size_t evictions = 0;
  for (std::size_t i = 0; i < limit + 500; ++i) {
    std::uint64_t hash = splitmix(state);
    while (hash == 0 || held.count(hash) != 0) hash = splitmix(state);
    const std::uint64_t weight = splitmix(state) % 1000000;
    const Table::Inserted inserted = put(table, hash, {weight, hash});
    if (i < limit) {
      CHECK_FALSE(inserted.evicted);
    } else {
      CHECK(inserted.evicted);
    }
    if (inserted.evicted) {
      ++evictions;
      // The victim was held, with the value it was given, and is held no more.
      const auto victim = held.find(inserted.victim.payload);
      REQUIRE(victim != held.end());
      CHECK(victim->second == inserted.victim.weight);
      CHECK(&table.shard_for(victim->first) == &table.shard_for(hash));
      CHECK_FALSE(holds(table, victim->first));
      held.erase(victim);
    }
    held[hash] = weight;
    REQUIRE(table.size() == std::min(i + 1, limit));
  }
  CHECK(evictions == 500);
  CHECK(held.size() == limit);
  std::size_t counted = 0;
  std::set<std::uint64_t> visited_keys;
  for (std::uint32_t s = 0; s < table.shard_count(); ++s) {
    counted += table.shard(s).entries();
    for (const std::uint64_t k : visited(table.shard(s))) visited_keys.insert(k);
  }
  CHECK(counted == limit);
  CHECK(visited_keys.size() == limit);
  for (const auto& [hash, weight] : held) {
    Value value{};
    REQUIRE(holds(table, hash, &value));
    CHECK(value.weight == weight);
    CHECK(visited_keys.count(hash) == 1);
  }
}

TEST_CASE("read copies a held value, reports a missing key absent, and defers to the shard_ok predicate",
          "[peer_table]") {
  OwnedTable owned(5000);  // four shards
  const Table& table = owned.table;
  const std::uint64_t held = make_hash(1, 2, 0x61, low_for(300, 1564));
  const std::uint64_t missing = make_hash(2, 2, 0x61, low_for(300, 1564));
  put(table, held, {31, 3100});
  Shard& shard = table.shard(2);
  REQUIRE(&table.shard_for(held) == &shard);

  Value copy{};
  CHECK(shard.read(held, copy, shard_ok) == Table::Read::found);
  CHECK(copy.weight == 31);
  CHECK(copy.payload == 3100);
  copy = Value{};
  CHECK(shard.read(missing, copy, shard_ok) == Table::Read::absent);

  // The predicate sees this shard's ReadMostly and, saying no, makes every read contended.
  shard.read_mostly().ok.store(false);
  CHECK(shard.read(held, copy, shard_ok) == Table::Read::contended);
  CHECK(shard.read(missing, copy, shard_ok) == Table::Read::contended);
  Value other{};
  const std::uint64_t elsewhere = make_hash(3, 1, 0x61, 7);
  put(table, elsewhere, {1, 1});
  CHECK(table.shard(1).read(elsewhere, other, shard_ok) == Table::Read::found);
  shard.read_mostly().ok.store(true);
  copy = Value{};
  CHECK(shard.read(held, copy, shard_ok) == Table::Read::found);
  CHECK(copy.payload == 3100);
}

TEST_CASE("read is contended while a writer holds the shard and works again once it is gone",
          "[peer_table]") {
  OwnedTable owned(5000);  // four shards
  const Table& table = owned.table;
  const std::uint64_t here = make_hash(1, 0, 0x61, 42);
  const std::uint64_t there = make_hash(1, 3, 0x61, 42);
  put(table, here, {1, 11});
  put(table, there, {2, 22});
  Value copy{};
  {
    const Shard::Writer writing(table.shard(0));
    CHECK(table.shard(0).read(here, copy, shard_ok) == Table::Read::contended);
    CHECK(table.shard(0).read(make_hash(9, 0, 0x61, 42), copy, shard_ok) == Table::Read::contended);
    // Another shard reads on.
    CHECK(table.shard(3).read(there, copy, shard_ok) == Table::Read::found);
    CHECK(copy.payload == 22);
  }
  copy = Value{};
  CHECK(table.shard(0).read(here, copy, shard_ok) == Table::Read::found);
  CHECK(copy.payload == 11);
  // A writer that changed the value: the reader sees the new one after it.
  {
    Shard& shard = table.shard(0);
    const Shard::Writer writing(shard);
    shard.find(here)->value.payload = 12;
  }
  CHECK(table.shard(0).read(here, copy, shard_ok) == Table::Read::found);
  CHECK(copy.payload == 12);
}

TEST_CASE("for_each visits exactly the occupied entries", "[peer_table]") {
  OwnedTable owned(1000);
  const Table& table = owned.table;
  std::map<std::uint64_t, std::uint64_t> held;  // hash -> payload
  std::uint64_t state = 5;
  std::vector<std::uint64_t> order;
  for (std::uint64_t i = 0; i < 300; ++i) {
    const std::uint64_t hash = splitmix(state) | 1;
    put(table, hash, {i, i * 3});
    held[hash] = i * 3;
    order.push_back(hash);
  }
  for (std::size_t i = 0; i < order.size(); i += 3) {
    remove(table, order[i]);
    held.erase(order[i]);
  }
  std::map<std::uint64_t, std::uint64_t> seen;
  std::size_t calls = 0;
  {
    Shard& shard = table.shard(0);
    const Shard::Writer writing(shard);
    shard.for_each([&](Table::Entry& entry) {
      ++calls;
      seen[entry.hash] = entry.value.payload;
    });
  }
  CHECK(calls == 200);
  CHECK(seen == held);
  CHECK(table.shard(0).entries() == 200);

  // Entries it hands out can be changed in place.
  {
    Shard& shard = table.shard(0);
    const Shard::Writer writing(shard);
    shard.for_each([](Table::Entry& entry) { entry.value.weight = 7; });
  }
  for (const auto& entry : held) {
    Value value{};
    REQUIRE(holds(table, entry.first, &value));
    CHECK(value.weight == 7);
  }
}

TEST_CASE("AllWriters holds every shard until it is gone", "[peer_table]") {
  OwnedTable owned(1 << 16);  // 64 shards
  const Table& table = owned.table;
  REQUIRE(table.shard_count() == 64);
  std::vector<std::uint64_t> keys;
  for (std::uint64_t s = 0; s < 64; ++s) {
    keys.push_back(make_hash(1, s, 0x70, low_for(s, 1282)));
    put(table, keys.back(), {s, s});
  }
  Value copy{};
  {
    const Table::AllWriters writing(table);
    for (std::uint64_t s = 0; s < 64; ++s) {
      CAPTURE(s);
      CHECK(table.shard_for(keys[s]).read(keys[s], copy, shard_ok) == Table::Read::contended);
    }
    // Under it, the entries may be read and changed through the shards directly.
    for (std::uint32_t s = 0; s < 64; ++s) {
      table.shard(s).for_each([](Table::Entry& entry) { entry.value.payload += 100; });
    }
  }
  for (std::uint64_t s = 0; s < 64; ++s) {
    CAPTURE(s);
    copy = Value{};
    CHECK(table.shard_for(keys[s]).read(keys[s], copy, shard_ok) == Table::Read::found);
    CHECK(copy.payload == s + 100);
    // Each shard's lock is free again.
    CHECK(holds(table, keys[s]));
  }
}
