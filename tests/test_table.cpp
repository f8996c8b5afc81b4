// SPDX-License-Identifier: MIT
// Bounded memory: capacity, reclaiming, and who is evicted from a full table.
#include "support.hpp"

using namespace ikeguard;
using namespace ikeguard::test;

namespace {
const Notice npc = notice(notify_v2::no_proposal_chosen);
}  // namespace

TEST_CASE("the table never tracks more than max_peers peers") {
  Fixture f(exact_policy(4));
  for (std::uint32_t i = 0; i < 10; ++i) f.guard.on_local_rejection(nth(i), npc);
  const Stats stats = f.guard.stats();
  CHECK(stats.peers_tracked == 4);
  CHECK(stats.capacity == 4);
  CHECK(stats.evictions == 6);
  CHECK(stats.notices_sent == 10);
}

TEST_CASE("a sharded table fills to exactly max_peers before it evicts") {
  Fixture f(exact_policy(100000));
  for (std::uint32_t i = 0; i < 100000; ++i) f.guard.on_local_rejection(nth(i), npc);
  CHECK(f.guard.stats().peers_tracked == 100000);
  CHECK(f.guard.stats().evictions == 0);
  for (std::uint32_t i = 100000; i < 100100; ++i) f.guard.on_local_rejection(nth(i), npc);
  CHECK(f.guard.stats().peers_tracked == 100000);
  CHECK(f.guard.stats().evictions == 100);
  // Every peer still tracked is still held.
  std::uint64_t held = 0;
  for (std::uint32_t i = 0; i < 100100; ++i) {
    if (f.guard.on_inbound_proposal(nth(i)).verdict == Verdict::hold) ++held;
  }
  CHECK(held == 100000);
}

TEST_CASE("a full table evicts an entry with no open window first") {
  Fixture f(exact_policy(3));
  f.guard.on_local_rejection(nth(1), npc);  // until 30 s
  f.clock.set(at(10s));
  f.guard.on_local_rejection(nth(2), npc);  // until 40 s
  f.clock.set(at(20s));
  f.guard.on_local_rejection(nth(3), npc);  // until 50 s
  f.clock.set(at(35s));                     // peer 1's window has lapsed; its strike remains
  f.guard.on_local_rejection(nth(4), npc);
  CHECK(f.guard.stats().evictions == 1);
  CHECK(f.guard.on_inbound_proposal(nth(2)).verdict == Verdict::hold);
  CHECK(f.guard.on_inbound_proposal(nth(3)).verdict == Verdict::hold);
  CHECK(f.guard.on_inbound_proposal(nth(4)).verdict == Verdict::hold);
  // Peer 1 was forgotten: its next rejection starts again at one strike.
  CHECK(f.guard.on_local_rejection(nth(1), npc).strikes == 1);
}

TEST_CASE("among open windows a full table evicts the fewest strikes, then the soonest end") {
  Fixture f(exact_policy(3));
  // Peer 1: a repeat offender, three strikes, window open until 90 + 120 = 210 s.
  f.guard.on_local_rejection(nth(1), npc);
  f.clock.set(at(30s));
  f.guard.on_local_rejection(nth(1), npc);
  f.clock.set(at(90s));
  CHECK(f.guard.on_local_rejection(nth(1), npc).strikes == 3);
  // Peers 2 and 3: one strike each; peer 2's window ends first.
  f.guard.on_local_rejection(nth(2), npc);  // until 120 s
  f.clock.set(at(100s));
  f.guard.on_local_rejection(nth(3), npc);  // until 130 s
  f.guard.on_local_rejection(nth(4), npc);
  CHECK(f.guard.stats().evictions == 1);
  CHECK(f.guard.on_inbound_proposal(nth(2)).verdict == Verdict::proceed);
  CHECK(f.guard.on_inbound_proposal(nth(1)).verdict == Verdict::hold);
  CHECK(f.guard.on_inbound_proposal(nth(3)).verdict == Verdict::hold);
  CHECK(f.guard.on_inbound_proposal(nth(4)).verdict == Verdict::hold);
}

TEST_CASE("a flood of one-off rejections cannot evict a repeat offender") {
  Fixture f(exact_policy(64));
  const PeerKey offender = peer("198.51.100.66");
  f.guard.on_local_rejection(offender, npc);
  f.clock.set(at(30s));
  f.guard.on_local_rejection(offender, npc);
  f.clock.set(at(90s));
  const Decision escalated = f.guard.on_local_rejection(offender, npc);  // until 210 s
  REQUIRE(escalated.strikes == 3);
  for (std::uint32_t i = 0; i < 20000; ++i) f.guard.on_local_rejection(nth(i), npc);
  CHECK(f.guard.stats().evictions >= 20000 - 63);
  const Decision d = f.guard.on_inbound_proposal(offender);
  CHECK(d.verdict == Verdict::hold);
  CHECK(d.until == at(210s));
  CHECK(d.strikes == 3);
}

TEST_CASE("an entry with nothing left to remember is reclaimed") {
  Policy policy = exact_policy(16);
  policy.forgive_after = std::chrono::hours(1);
  Fixture f(policy);
  f.guard.on_local_rejection(nth(1), npc);
  f.clock.set(at(30s));
  // The window lapsed but the strike is remembered for escalation.
  CHECK(f.guard.on_inbound_proposal(nth(1)).strikes == 1);
  CHECK(f.guard.stats().peers_tracked == 1);
  f.clock.set(at(std::chrono::hours(1)));
  CHECK(f.guard.on_inbound_proposal(nth(1)).strikes == 0);
  CHECK(f.guard.stats().peers_tracked == 0);
}

TEST_CASE("inbound proposals from unknown peers never enter the table") {
  Fixture f(exact_policy(8));
  for (std::uint32_t i = 0; i < 1000; ++i) {
    CHECK(f.guard.on_inbound_proposal(nth(i), f.guard.fingerprint(&i, sizeof i)).verdict ==
          Verdict::proceed);
  }
  CHECK(f.guard.stats().peers_tracked == 0);
  CHECK(f.guard.stats().proceeded_inbound == 1000);
}

TEST_CASE("an outbound proposal is remembered only when its fingerprint is known") {
  Fixture f(exact_policy(8));
  f.guard.on_outbound_proposal(nth(1));
  CHECK(f.guard.stats().peers_tracked == 0);
  f.guard.on_outbound_proposal(nth(1), f.guard.fingerprint("p", 1));
  CHECK(f.guard.stats().peers_tracked == 1);
  f.guard.on_established(nth(1));
  CHECK(f.guard.stats().peers_tracked == 0);
}

TEST_CASE("a full table pushes out a remembered proposal first, not counted as an eviction") {
  Fixture f(exact_policy(2));
  f.guard.on_outbound_proposal(nth(1), f.guard.fingerprint("a", 1));
  f.guard.on_local_rejection(nth(2), npc);
  f.guard.on_local_rejection(nth(3), npc);
  const Stats stats = f.guard.stats();
  CHECK(stats.peers_tracked == 2);
  CHECK(stats.evictions == 0);
  CHECK(f.guard.on_inbound_proposal(nth(2)).verdict == Verdict::hold);
  CHECK(f.guard.on_inbound_proposal(nth(3)).verdict == Verdict::hold);
}

TEST_CASE("entries erased from a crowded table leave every other entry reachable") {
  // Many insertions and erasures in one small shard exercise backward-shift deletion.
  Fixture f(exact_policy(48));
  for (std::uint32_t round = 0; round < 50; ++round) {
    for (std::uint32_t i = 0; i < 48; ++i) f.guard.on_local_rejection(nth(round * 7 + i), npc);
    for (std::uint32_t i = 0; i < 48; i += 3) f.guard.on_established(nth(round * 7 + i));
    for (std::uint32_t i = 0; i < 48; ++i) {
      const Verdict expected = i % 3 == 0 ? Verdict::proceed : Verdict::hold;
      REQUIRE(f.guard.on_inbound_proposal(nth(round * 7 + i)).verdict == expected);
    }
    for (std::uint32_t i = 0; i < 48; ++i) f.guard.on_established(nth(round * 7 + i));
    REQUIRE(f.guard.stats().peers_tracked == 0);
  }
}

TEST_CASE("the table holds at most 48 bytes per peer at 7/8 of its capacity without addresses, 96 with them") {
  // From 100 K peers; a table of a thousand carries about a kilobyte of fixed parts besides.
  // Each slot is 32 bytes and a tag; keeping the address and failure times adds 32 bytes a slot (46 a peer at 7/8), apart.
  for (const bool addresses : {false, true}) {
    for (const std::size_t capacity : {std::size_t{114286}, std::size_t{1142858}}) {
      ikeguard::Policy policy = exact_policy(capacity);
      policy.keep_addresses = addresses;
      Fixture f(policy);
      const std::uint64_t bytes = f.guard.stats().table_bytes;
      INFO("max_peers " << capacity << (addresses ? " with" : " without") << " addresses: " << bytes << " bytes");
      CHECK(bytes * 8 <= (addresses ? 96u : 48u) * 7 * capacity);  // bytes / (capacity * 7/8)
      CHECK(bytes * 8 > (addresses ? 88u : 40u) * 7 * capacity);
      for (std::uint32_t i = 0; i < capacity; ++i) f.guard.on_local_rejection(nth(i), npc);
      CHECK(f.guard.stats().table_bytes == bytes);
    }
  }
}
