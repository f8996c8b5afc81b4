// SPDX-License-Identifier: MIT
// list_peers(): which peers the guard holds, why and until when, shard by shard.
#include "support.hpp"

#include <algorithm>
#include <set>
#include <vector>

namespace ikeguard::test {
namespace {

const Notice npc = notice(notify_v2::no_proposal_chosen);

std::vector<HeldPeer> list_all(const NegotiationGuard& guard, bool held_only) {
  std::vector<HeldPeer> all;
  std::vector<HeldPeer> page(guard.list_capacity());
  PeerCursor cursor;
  for (int calls = 0; calls < 1000; ++calls) {
    auto listed = guard.list_peers(page.data(), page.size(), cursor, held_only);
    REQUIRE(listed.ok());
    all.insert(all.end(), page.begin(), page.begin() + static_cast<std::ptrdiff_t>(listed.value().count));
    cursor = listed.value().next;
    if (listed.value().complete) return all;
  }
  FAIL("list_peers never completed");
  return all;
}

const HeldPeer* find(const std::vector<HeldPeer>& list, const PeerKey& key) {
  for (const HeldPeer& p : list) {
    if (p.peer == key) return &p;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("an empty guard lists nothing, complete at once") {
  Fixture f;
  HeldPeer out[4];
  auto listed = f.guard.list_peers(out, 4);
  REQUIRE(listed.ok());
  CHECK(listed.value().count == 0);
  CHECK(listed.value().complete);
}

TEST_CASE("held peers are listed with their addresses, windows, strikes and fingerprints") {
  Fixture f;
  const PeerKey a = peer("198.51.100.7"), b = peer("[2001:db8::9]:4500#3"), c = peer("192.0.2.1");
  f.guard.on_local_rejection(a, npc, Fingerprint::from_value(0xabcdef01));
  f.clock.set(at(10s));
  f.guard.on_inbound_error(b, npc, Origin::authenticated);
  f.guard.on_inbound_error(c, npc, Origin::answers_request);  // unconfirmed: a retry hold
  f.guard.on_outbound_proposal(peer("203.0.113.5"), Fingerprint::from_value(5));  // remembered only

  const std::vector<HeldPeer> held = list_all(f.guard, true);
  REQUIRE(held.size() == 3);
  const HeldPeer* pa = find(held, a);
  REQUIRE(pa != nullptr);
  CHECK(pa->receiver_until == at(30s));
  CHECK(pa->sender_until == TimePoint{});
  CHECK(pa->receiver_strikes == 1);
  CHECK(pa->sender_strikes == 0);
  CHECK(pa->receiver_fingerprint == 0xabcdef01u);
  const HeldPeer* pb = find(held, b);
  REQUIRE(pb != nullptr);
  CHECK(pb->peer.scope() == 3);
  CHECK(pb->peer.port() == 4500);
  CHECK(pb->sender_until == at(70s));
  CHECK_FALSE(pb->sender_retry_only);
  CHECK(pb->sender_strikes == 1);
  const HeldPeer* pc = find(held, c);
  REQUIRE(pc != nullptr);
  CHECK(pc->sender_until == at(12s));
  CHECK(pc->sender_retry_only);
  CHECK(pc->confirmations == 1);

  // Every tracked entry: the remembered proposal too.
  CHECK(list_all(f.guard, false).size() == 4);

  // Once the windows lapse only strikes remain: listed among the tracked, not the held. The
  // entries themselves are not touched by listing.
  f.clock.set(at(200s));
  CHECK(list_all(f.guard, true).empty());
  const std::vector<HeldPeer> tracked = list_all(f.guard, false);
  CHECK(tracked.size() == 4);
  const HeldPeer* later = find(tracked, a);
  REQUIRE(later != nullptr);
  CHECK(later->receiver_until == TimePoint{});
  CHECK(later->receiver_strikes == 1);
  CHECK(later->receiver_fingerprint == 0);  // no window open
  CHECK(f.guard.stats().peers_tracked == 4);
}

TEST_CASE("a large table lists in pages of whole shards: every held peer once") {
  Fixture f(exact_policy(8192));  // several shards
  for (std::uint32_t i = 0; i < 5000; ++i) f.guard.on_local_rejection(nth(i), npc);
  const std::vector<HeldPeer> held = list_all(f.guard, true);
  CHECK(held.size() == 5000);
  std::set<std::uint32_t> seen;
  for (const HeldPeer& p : held) {
    const auto& a = p.peer.address();
    seen.insert((std::uint32_t{a[1]} << 16) | (std::uint32_t{a[2]} << 8) | a[3]);
    CHECK(p.receiver_until == at(30s));
  }
  CHECK(seen.size() == 5000);
  CHECK(*seen.rbegin() == 4999);
}

TEST_CASE("a buffer smaller than a shard is refused; a cursor past the end is invalid") {
  Fixture f(exact_policy(64));
  for (std::uint32_t i = 0; i < 10; ++i) f.guard.on_local_rejection(nth(i), npc);
  HeldPeer out[4];
  CHECK(f.guard.list_peers(out, 4).error() == Errc::buffer_too_small);
  CHECK(f.guard.list_peers(nullptr, 4).error() == Errc::invalid_argument);
  CHECK(f.guard.list_peers(out, 4, PeerCursor{1000}).error() == Errc::invalid_argument);
  CHECK(f.guard.list_capacity() == 64);
}

TEST_CASE("without kept addresses peers are listed with their windows but no address") {
  Policy policy = exact_policy();
  policy.keep_addresses = false;
  Fixture f(policy);
  f.guard.on_local_rejection(peer("198.51.100.7"), npc);
  const std::vector<HeldPeer> held = list_all(f.guard, true);
  REQUIRE(held.size() == 1);
  CHECK(held[0].peer.family() == PeerKey::Family::none);
  CHECK(held[0].receiver_until == at(30s));
}

}  // namespace ikeguard::test
