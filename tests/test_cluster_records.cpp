// SPDX-License-Identifier: MIT
// Cluster records without a channel: what encode() makes, what apply() accepts, refuses and
// merges, with exact times on each node's own ManualClock.
#include "support.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <vector>

namespace ikeguard::test {
namespace {

using Record = std::array<unsigned char, cluster_format::record_size>;

const Notice npc = notice(notify_v2::no_proposal_chosen);

ClusterKey key_of(unsigned char seed) {
  ClusterKey key;
  for (std::size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<unsigned char>(seed + i);
  return key;
}

// A node: its guard, and the records its events make.
struct Node final : EventSink {
  Node(std::uint64_t id, const ClusterKey& key, const Policy& policy = exact_policy())
      : cluster(id, key, 1) {
    GuardExtras extras;
    extras.events = this;
    extras.cluster = &cluster;
    auto made = NegotiationGuard::create(policy, clock, transport, extras);
    REQUIRE(made.ok());
    guard = std::move(made.value());
  }
  void on_event(const Event& event) noexcept override {
    events.push_back(event);
    Record record{};
    if (cluster.encode(event, record.data(), record.size()) == record.size()) records.push_back(record);
  }
  std::vector<Record> take() { return std::exchange(records, {}); }

  ManualClock clock;
  RecordingTransport transport;
  ClusterNode cluster;
  std::unique_ptr<NegotiationGuard> guard;
  std::vector<Event> events;
  std::vector<Record> records;
};

Result<Applied> apply_to(Node& node, const Record& record, Duration age = {}) {
  return node.guard->apply(record.data(), record.size(), age);
}

// The record's signed bytes changed and signed again under `key`, as a node running other code
// with the cluster key could.
Record resigned(Record record, const ClusterKey& key, std::size_t at, unsigned char value) {
  record[at] = value;
  unsigned char mac_key[crypto_auth_KEYBYTES], fingerprint_key[32];
  static const char context[crypto_kdf_CONTEXTBYTES] = {'i', 'k', 'e', 'g', 'c', 'l', 's', 't'};
  REQUIRE(crypto_kdf_derive_from_key(mac_key, sizeof mac_key, 1, context, key.bytes.data()) == 0);
  REQUIRE(crypto_kdf_derive_from_key(fingerprint_key, sizeof fingerprint_key, 2, context, key.bytes.data()) == 0);
  crypto_auth(record.data() + 64, record.data(), 64, mac_key);
  return record;
}

const PeerKey alice = *PeerKey::parse("198.51.100.7");
const PeerKey bob = *PeerKey::parse("[2001:db8::2]:4500#9");

}  // namespace

TEST_CASE("a window opened on one node holds on another, from when the record arrives") {
  const ClusterKey key = key_of(1);
  Node a(1, key), b(2, key);
  a.clock.set(at(100s));
  b.clock.set(at(7s));  // the nodes' clocks have nothing in common
  a.guard->on_local_rejection(alice, npc, Fingerprint::from_value(0x42));
  const std::vector<Record> records = a.take();
  REQUIRE(records.size() == 1);  // the window; notice_sent is not shared
  CHECK(records[0][0] == 1);
  CHECK(records[0][1] == 1);
  CHECK(records[0][2] == 2);

  REQUIRE(apply_to(b, records[0]).value() == Applied::changed);
  const Decision held = b.guard->on_inbound_proposal(alice);
  CHECK(held.verdict == Verdict::hold);
  CHECK(held.until == at(37s));
  CHECK(held.strikes == 1);
  // The fingerprint came along: another configuration lifts the window on b too.
  CHECK(b.guard->on_inbound_proposal(alice, Fingerprint::from_value(0x42)).verdict == Verdict::hold);
  REQUIRE(b.events.size() >= 1);
  const Event& opened = b.events[0];
  CHECK(opened.kind == EventKind::receiver_window_opened);
  CHECK(opened.node == 1);
  CHECK(opened.peer == alice);
  CHECK(opened.notify_type == notify_v2::no_proposal_chosen);
  CHECK(b.records.empty());  // never sent on again
  CHECK(b.guard->stats().records_applied == 1);
}

TEST_CASE("a sender window and a retry hold travel as such, an IPv6 peer with its scope") {
  const ClusterKey key = key_of(1);
  Node a(1, key), b(2, key);
  a.guard->on_inbound_error(bob, npc, Origin::authenticated);
  a.guard->on_inbound_error(alice, notice(notify_v2::temporary_failure), Origin::authenticated);
  const std::vector<Record> records = a.take();
  REQUIRE(records.size() == 2);
  for (const Record& r : records) REQUIRE(apply_to(b, r).ok());
  const Decision to_bob = b.guard->on_outbound_proposal(bob);
  CHECK(to_bob.verdict == Verdict::hold);
  CHECK(to_bob.until == at(60s));
  const Decision to_alice = b.guard->on_outbound_proposal(alice);
  CHECK(to_alice.verdict == Verdict::hold);
  CHECK(to_alice.until == at(2s));
  HeldPeer out[64];
  auto listed = b.guard->list_peers(out, 64);
  REQUIRE(listed.ok());
  REQUIRE(listed.value().count == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    if (out[i].peer == alice) CHECK(out[i].sender_retry_only);
    else CHECK(out[i].peer == bob);
  }
}

TEST_CASE("a record's age shortens the window it opens; one that ran out on the way changes nothing") {
  const ClusterKey key = key_of(1);
  Node a(1, key), b(2, key);
  a.guard->on_local_rejection(alice, npc);
  a.guard->on_local_rejection(bob, npc);
  const std::vector<Record> records = a.take();
  REQUIRE(records.size() == 2);
  CHECK(apply_to(b, records[0], 10s).value() == Applied::changed);
  CHECK(b.guard->on_inbound_proposal(alice).until == at(20s));
  CHECK(apply_to(b, records[1], 30s).value() == Applied::unchanged);
  CHECK(b.guard->on_inbound_proposal(bob).verdict == Verdict::proceed);
}

TEST_CASE("windows merge by the latest end and the most strikes, in either order") {
  const ClusterKey key = key_of(1);
  Node a(1, key);
  a.guard->on_local_rejection(alice, npc);
  a.clock.set(at(40s));
  a.guard->on_local_rejection(alice, npc);  // escalated: strikes 2, 60 s
  const std::vector<Record> records = a.take();
  REQUIRE(records.size() == 2);
  for (const bool reversed : {false, true}) {
    Node b(2, key);
    b.clock.set(at(40s));
    const Duration first_age = 40s;  // the first record was made 40 s before the second
    if (reversed) {
      REQUIRE(apply_to(b, records[1]).ok());
      REQUIRE(apply_to(b, records[0], first_age).ok());
    } else {
      REQUIRE(apply_to(b, records[0], first_age).ok());
      REQUIRE(apply_to(b, records[1]).ok());
    }
    const Decision d = b.guard->on_inbound_proposal(alice);
    CHECK(d.until == at(100s));
    CHECK(d.strikes == 2);
  }
}

TEST_CASE("a lift or a success removes an older window in any order; a newer window stays") {
  const ClusterKey key = key_of(1);
  Node a(1, key);
  const Fingerprint first = Fingerprint::from_value(1), second = Fingerprint::from_value(2);
  a.guard->on_local_rejection(alice, npc, first);
  a.clock.set(at(1s));
  a.guard->on_inbound_proposal(alice, second);  // lifts
  a.clock.set(at(2s));
  a.guard->on_local_rejection(bob, npc);
  a.clock.set(at(3s));
  a.guard->on_established(bob);
  const std::vector<Record> records = a.take();
  REQUIRE(records.size() == 4);  // alice's window and lift, bob's window and clear
  CHECK(records[1][1] == 2);
  CHECK(records[3][1] == 3);

  for (const bool reversed : {false, true}) {
    Node b(2, key);
    b.clock.set(at(3s));
    const Duration ages[4] = {3s, 2s, 1s, 0s};
    for (std::size_t n = 0; n < 4; ++n) {
      const std::size_t i = reversed ? 3 - n : n;
      REQUIRE(apply_to(b, records[i], ages[i]).ok());
    }
    CHECK(b.guard->on_inbound_proposal(alice).verdict == Verdict::proceed);
    CHECK(b.guard->on_inbound_proposal(bob).verdict == Verdict::proceed);
    HeldPeer out[64];
    auto listed = b.guard->list_peers(out, 64, {}, /*held_only=*/false);
    REQUIRE(listed.ok());
    // alice's strikes stay (a lift is not a success); bob is forgotten.
    REQUIRE(listed.value().count == 1);
    CHECK(out[0].peer == alice);
    CHECK(out[0].receiver_strikes == 1);
  }

  // A window opened after the lift stays open.
  Node c(3, key);
  c.clock.set(at(10s));
  a.clock.set(at(10s));
  a.guard->on_local_rejection(alice, npc, second);
  const std::vector<Record> later = a.take();
  REQUIRE(later.size() == 1);
  REQUIRE(apply_to(c, records[1], 9s).ok());
  REQUIRE(apply_to(c, later[0]).ok());
  CHECK(c.guard->on_inbound_proposal(alice).verdict == Verdict::hold);
}

TEST_CASE("forged, altered, truncated, foreign-key, future-version and replayed records are refused") {
  const ClusterKey key = key_of(1);
  Node a(1, key), b(2, key), stranger(3, key_of(99));
  a.guard->on_local_rejection(alice, npc);
  stranger.guard->on_local_rejection(alice, npc);
  const Record good = a.take().at(0);
  const Record foreign = stranger.take().at(0);

  Record mac_flipped = good;
  mac_flipped[80] ^= 1;
  Record body_flipped = good;
  body_flipped[52] ^= 0x40;  // a longer window
  Record future = good;
  future[0] = 2;
  CHECK(apply_to(b, mac_flipped).error() == Errc::cluster_record_unauthenticated);
  CHECK(apply_to(b, body_flipped).error() == Errc::cluster_record_unauthenticated);
  CHECK(apply_to(b, foreign).error() == Errc::cluster_record_unauthenticated);
  CHECK(apply_to(b, future).error() == Errc::cluster_record_unsupported_version);
  CHECK(b.guard->apply(good.data(), good.size() - 1).error() == Errc::cluster_record_truncated);
  CHECK(b.guard->apply(good.data(), 0).error() == Errc::cluster_record_truncated);
  CHECK(b.guard->apply(nullptr, good.size()).error() == Errc::invalid_argument);
  CHECK(b.guard->stats().records_refused == 7);
  CHECK(b.guard->stats().peers_tracked == 0);

  REQUIRE(apply_to(b, good).value() == Applied::changed);
  CHECK(apply_to(b, good).error() == Errc::cluster_record_replayed);
  CHECK(b.guard->stats().records_refused == 8);
  CHECK(b.guard->stats().records_applied == 1);

  // Its own record is ignored by the node that made it.
  CHECK(apply_to(a, good).value() == Applied::own);
}

TEST_CASE("a record signed with the key but out of range is malformed") {
  const ClusterKey key = key_of(1);
  Node a(1, key), b(2, key);
  a.guard->on_local_rejection(alice, npc);
  const Record good = a.take().at(0);
  CHECK(apply_to(b, resigned(good, key, 1, 9)).error() == Errc::cluster_record_malformed);   // kind
  CHECK(apply_to(b, resigned(good, key, 20, 5)).error() == Errc::cluster_record_malformed);  // family
  CHECK(apply_to(b, resigned(good, key, 60, 1)).error() == Errc::cluster_record_malformed);  // reserved
  // The helper signs as encode() does: the unchanged record still applies.
  CHECK(apply_to(b, resigned(good, key, 1, 1)).value() == Applied::changed);
}

TEST_CASE("reordering within the replay window is accepted once; older records are replays") {
  const ClusterKey key = key_of(1);
  Node a(1, key), b(2, key);
  for (std::uint32_t i = 0; i < 1100; ++i) a.guard->on_local_rejection(nth(i), npc);
  const std::vector<Record> records = a.take();
  REQUIRE(records.size() == 1100);
  REQUIRE(apply_to(b, records[1099]).ok());
  CHECK(apply_to(b, records[1099 - 1023]).ok());
  CHECK(apply_to(b, records[1099 - 1023]).error() == Errc::cluster_record_replayed);
  CHECK(apply_to(b, records[1099 - 1024]).error() == Errc::cluster_record_replayed);
  CHECK(apply_to(b, records[0]).error() == Errc::cluster_record_replayed);
  CHECK(apply_to(b, records[1000]).ok());
  auto origin = ClusterNode::view(records[1000].data(), records[1000].size());
  REQUIRE(origin.ok());
  CHECK(origin.value().node == 1);
  CHECK(origin.value().sequence == 1001);  // numbered from first_sequence 1
  CHECK(origin.value().kind == RecordKind::window);
  CHECK(origin.value().direction == Direction::receiver);
  CHECK(origin.value().peer == nth(1000));
  CHECK(origin.value().remaining == 30s);
  CHECK(ClusterNode::view(records[0].data(), 95).error() == Errc::cluster_record_truncated);
}

TEST_CASE("a node tracks at most max_origins other nodes") {
  const ClusterKey key = key_of(1);
  Node b(1000, key);
  for (std::uint64_t id = 1; id <= cluster_format::max_origins + 1; ++id) {
    Node other(id, key);
    other.guard->on_local_rejection(nth(static_cast<std::uint32_t>(id)), npc);
    const Record record = other.take().at(0);
    if (id <= cluster_format::max_origins) CHECK(apply_to(b, record).ok());
    else CHECK(apply_to(b, record).error() == Errc::cluster_too_many_origins);
  }
}

TEST_CASE("fingerprints agree across a cluster's nodes, and only there") {
  const ClusterKey key = key_of(1);
  Node a(1, key), b(2, key), stranger(3, key_of(2));
  const char proposal[] = "aes256gcm16-prfsha384-ecp384";
  CHECK(a.guard->fingerprint(proposal, sizeof proposal) == b.guard->fingerprint(proposal, sizeof proposal));
  CHECK_FALSE(a.guard->fingerprint(proposal, sizeof proposal) ==
              stranger.guard->fingerprint(proposal, sizeof proposal));
}

TEST_CASE("a guard without a cluster node refuses records; events a record made are never encoded") {
  Fixture f;
  Record record{};
  CHECK(f.guard.apply(record.data(), record.size()).error() == Errc::cluster_not_configured);
  ClusterNode node(5, key_of(1), 1);
  Event event;
  event.kind = EventKind::receiver_window_opened;
  event.direction = Direction::receiver;
  event.peer = alice;
  event.remaining = 30s;
  CHECK(node.encode(event, record.data(), record.size()) == record.size());
  event.node = 7;
  CHECK(node.encode(event, record.data(), record.size()) == 0);
  event.node = 0;
  CHECK(node.encode(event, record.data(), record.size() - 1) == 0);
  event.kind = EventKind::notice_sent;
  CHECK(node.encode(event, record.data(), record.size()) == 0);
  event.kind = EventKind::receiver_window_opened;
  event.peer = PeerKey{};
  CHECK(node.encode(event, record.data(), record.size()) == 0);
}

}  // namespace ikeguard::test

namespace ikeguard::test {

// Found by fuzz_cluster: a success between an older retry hold and a newer receiver window must
// clear the hold and keep the window, whichever order the three records arrive in; the entry's
// one time of last failure (the window's) hid the older hold from the success.
TEST_CASE("a success clears, per direction, only what happened before it, in any order") {
  const ClusterKey key = key_of(1);
  Policy slow_retry = exact_policy();
  slow_retry.retry_delay = 10s;
  Node a(1, key, slow_retry);
  a.guard->on_inbound_error(alice, notice(notify_v2::temporary_failure), Origin::authenticated);
  a.clock.set(at(1s));
  a.guard->on_established(alice);  // clears the hold...
  a.clock.set(at(2s));
  a.guard->on_local_rejection(alice, npc);  // ...before this window opened
  const std::vector<Record> records = a.take();
  REQUIRE(records.size() == 3);  // hold, clear, window
  const Duration ages[3] = {2s, 1s, 0s};
  const std::size_t orders[][3] = {{0, 1, 2}, {2, 1, 0}, {1, 2, 0}, {2, 0, 1}, {1, 0, 2}, {0, 2, 1}};
  for (const auto& order : orders) {
    Node b(2, key);
    b.clock.set(at(2s));
    for (const std::size_t i : order) REQUIRE(apply_to(b, records[i], ages[i]).ok());
    INFO("order " << order[0] << order[1] << order[2]);
    CHECK(b.guard->on_outbound_proposal(alice).verdict == Verdict::proceed);
    const Decision inbound = b.guard->on_inbound_proposal(alice);
    CHECK(inbound.verdict == Verdict::hold);
    CHECK(inbound.until == at(32s));
    CHECK(inbound.strikes == 1);
  }
}

}  // namespace ikeguard::test

namespace ikeguard::test {

// Found by fuzz_cluster after the one above: a success between an older, longer window and a
// newer, shorter one (of other nodes) left the longer end when delivered in order and the
// shorter one otherwise. The direction now merges as one state (latest failure, latest end,
// most strikes, latest success), what a success hides being kept, so every order agrees.
TEST_CASE("windows from before and after a success merge the same way in any order") {
  const ClusterKey key = key_of(1);
  Policy long_window = exact_policy();
  long_window.receiver_window = 100s;
  Node a(1, key, long_window), b(2, key), c(3, key);
  a.guard->on_local_rejection(alice, npc, Fingerprint::from_value(7));  // t=0: until 100 s
  c.guard->on_local_rejection(alice, npc);
  c.take();
  c.clock.set(at(1s));
  c.guard->on_established(alice);  // t=1 s: a success
  b.clock.set(at(2s));
  b.guard->on_local_rejection(alice, npc, Fingerprint::from_value(9));  // t=2 s: until 32 s
  const Record records[3] = {a.take().at(0), c.take().at(0), b.take().at(0)};
  const Duration ages[3] = {2s, 1s, 0s};
  const std::size_t orders[][3] = {{0, 1, 2}, {2, 1, 0}, {1, 2, 0}, {2, 0, 1}, {1, 0, 2}, {0, 2, 1}};
  for (const auto& order : orders) {
    Node d(4, key);
    d.clock.set(at(2s));
    for (const std::size_t i : order) REQUIRE(apply_to(d, records[i], ages[i]).ok());
    INFO("order " << order[0] << order[1] << order[2]);
    const Decision held = d.guard->on_inbound_proposal(alice);
    CHECK(held.verdict == Verdict::hold);
    CHECK(held.until == at(100s));  // a failure came after the success: the latest end holds
    CHECK(held.strikes == 1);
    // The configuration of the window that ends last.
    CHECK(d.guard->on_inbound_proposal(alice, Fingerprint::from_value(7)).verdict == Verdict::hold);
  }
}

}  // namespace ikeguard::test

namespace ikeguard::test {

TEST_CASE("a cluster node's guard in the caller's memory counts its tombstones in estimate_size") {
  const ClusterKey key = key_of(1);
  ClusterNode node(2, key, 1);
  GuardExtras extras;
  extras.cluster = &node;
  const Policy policy = exact_policy(4096);
  const std::size_t plain = NegotiationGuard::estimate_size(policy);
  const std::size_t with_cluster = NegotiationGuard::estimate_size(policy, extras);
  CHECK(with_cluster > plain);
  std::vector<unsigned char> arena(with_cluster);
  ManualClock clock;
  RecordingTransport transport;
  CHECK(NegotiationGuard::create_in(arena.data(), plain, policy, clock, transport, extras).error() ==
        Errc::buffer_too_small);
  auto made = NegotiationGuard::create_in(arena.data(), arena.size(), policy, clock, transport, extras);
  REQUIRE(made.ok());
  NegotiationGuard& guard = *made.value();
  Node a(1, key);
  a.guard->on_local_rejection(alice, npc);
  a.clock.set(at(1s));
  a.guard->on_established(alice);
  const std::vector<Record> records = a.take();
  REQUIRE(records.size() == 2);
  CHECK(guard.apply(records[1].data(), records[1].size(), 0s).value() == Applied::unchanged);  // remembered
  CHECK(guard.apply(records[0].data(), records[0].size(), 1s).value() == Applied::unchanged);  // hidden
  CHECK(guard.on_inbound_proposal(alice).verdict == Verdict::proceed);
  CHECK(guard.stats().table_bytes > NegotiationGuard::estimate_size(policy) / 2);
  std::destroy_at(made.value());
}

}  // namespace ikeguard::test
