// SPDX-License-Identifier: MIT
// The guard's events: one for every change of state, with exact fields, delivered after the
// lock, and none where nothing changed.
#include "support.hpp"

#include <vector>

namespace ikeguard::test {
namespace {

using K = EventKind;

struct RecordingSink final : EventSink {
  void on_event(const Event& event) noexcept override { events.push_back(event); }
  std::vector<K> kinds() const {
    std::vector<K> out;
    for (const Event& e : events) out.push_back(e.kind);
    return out;
  }
  std::vector<Event> take() { return std::exchange(events, {}); }
  std::vector<Event> events;
};

struct EventFixture {
  explicit EventFixture(const Policy& policy = exact_policy()) {
    GuardExtras extras;
    extras.events = &sink;
    auto made = NegotiationGuard::create(policy, clock, transport, extras);
    REQUIRE(made.ok());
    owned = std::move(made.value());
  }
  NegotiationGuard& guard() { return *owned; }
  ManualClock clock;
  RecordingTransport transport;
  RecordingSink sink;
  std::unique_ptr<NegotiationGuard> owned;
};

const Notice npc = notice(notify_v2::no_proposal_chosen);
const PeerKey alice = *PeerKey::parse("198.51.100.7");
const PeerKey bob = *PeerKey::parse("[2001:db8::2]:4500");

}  // namespace

TEST_CASE("a rejection opens the receiver window and sends a notice: two events with every field") {
  EventFixture f;
  f.clock.set(at(5s));
  const Fingerprint offered = Fingerprint::from_value(0x1111222233334444ULL);
  f.guard().on_local_rejection(alice, npc, offered);
  const std::vector<Event> events = f.sink.take();
  REQUIRE(events.size() == 2);
  const Event& opened = events[0];
  CHECK(opened.kind == K::receiver_window_opened);
  CHECK(opened.direction == Direction::receiver);
  CHECK(opened.peer == alice);
  CHECK(opened.has_notice);
  CHECK(opened.version == IkeVersion::v2);
  CHECK(opened.notify_type == notify_v2::no_proposal_chosen);
  CHECK(opened.notify_class == NotifyClass::configuration);
  CHECK(opened.strikes == 1);
  CHECK(opened.fingerprint == 0x33334444u);
  CHECK(opened.at == at(5s));
  CHECK(opened.until == at(35s));
  CHECK(opened.remaining == 30s);
  CHECK(opened.count == 1);
  CHECK(opened.node == 0);
  const Event& sent = events[1];
  CHECK(sent.kind == K::notice_sent);
  CHECK(sent.direction == Direction::receiver);
  CHECK(sent.peer == alice);
  CHECK(sent.notify_type == notify_v2::no_proposal_chosen);
  CHECK(sent.strikes == 1);
  CHECK(sent.at == at(5s));
  CHECK(f.transport.sent.size() == 1);
}

TEST_CASE("inside a window only the first suppressed notice is an event; a new window resets it") {
  EventFixture f;
  f.guard().on_local_rejection(alice, npc);
  f.sink.take();
  f.clock.set(at(1s));
  f.guard().on_local_rejection(alice, npc);
  const std::vector<Event> first = f.sink.take();
  REQUIRE(first.size() == 1);
  CHECK(first[0].kind == K::notice_suppressed);
  CHECK(first[0].until == at(30s));
  CHECK(first[0].remaining == 29s);
  CHECK(first[0].strikes == 1);
  for (int i = 0; i < 100; ++i) f.guard().on_local_rejection(alice, npc);
  CHECK(f.sink.events.empty());
  CHECK(f.guard().stats().notices_suppressed == 101);

  // The window lapsed unseen; the next rejection notices it, then opens the escalated one.
  f.clock.set(at(40s));
  f.guard().on_local_rejection(alice, npc);
  REQUIRE(f.sink.kinds() == std::vector<K>{K::window_lapsed, K::receiver_window_opened, K::notice_sent});
  const Event& lapsed = f.sink.events[0];
  CHECK(lapsed.direction == Direction::receiver);
  CHECK(lapsed.at == at(40s));
  CHECK(lapsed.until == at(30s));  // when it ended, not when it was noticed
  CHECK(lapsed.remaining == Duration::zero());
  CHECK(f.sink.events[1].strikes == 2);
  CHECK(f.sink.events[1].until == at(100s));
  f.sink.take();
  f.clock.set(at(41s));
  f.guard().on_local_rejection(alice, npc);
  CHECK(f.sink.kinds() == std::vector<K>{K::notice_suppressed});
}

TEST_CASE("a transient rejection sends a notice and opens nothing: one event") {
  EventFixture f;
  f.guard().on_local_rejection(alice, notice(notify_v2::invalid_ke_payload));
  REQUIRE(f.sink.kinds() == std::vector<K>{K::notice_sent});
  CHECK(f.sink.events[0].notify_class == NotifyClass::retry_now);
  CHECK(f.sink.events[0].strikes == 0);
}

TEST_CASE("inbound errors: T2 opened, retry_later set (awaiting confirmation or transient), nothing for retry_now") {
  EventFixture f;
  f.guard().on_inbound_error(alice, npc, Origin::answers_request);
  REQUIRE(f.sink.kinds() == std::vector<K>{K::retry_later_set});
  CHECK(f.sink.events[0].awaiting_confirmation);
  CHECK(f.sink.events[0].direction == Direction::sender);
  CHECK(f.sink.events[0].until == at(2s));
  CHECK(f.sink.events[0].strikes == 0);
  f.sink.take();

  f.guard().on_inbound_error(alice, npc, Origin::answers_request);  // confirmed: T2
  REQUIRE(f.sink.kinds() == std::vector<K>{K::sender_window_opened});
  CHECK(f.sink.events[0].until == at(60s));
  CHECK(f.sink.events[0].remaining == 60s);
  CHECK(f.sink.events[0].strikes == 1);
  CHECK(f.sink.events[0].notify_type == notify_v2::no_proposal_chosen);
  f.sink.take();

  f.guard().on_inbound_error(alice, npc, Origin::authenticated);  // the same window: no change
  CHECK(f.sink.events.empty());

  f.guard().on_inbound_error(bob, notice(notify_v2::temporary_failure), Origin::authenticated);
  REQUIRE(f.sink.kinds() == std::vector<K>{K::retry_later_set});
  CHECK_FALSE(f.sink.events[0].awaiting_confirmation);
  CHECK(f.sink.events[0].peer == bob);
  f.sink.take();

  f.guard().on_inbound_error(bob, notice(notify_v2::invalid_ke_payload), Origin::authenticated);
  CHECK(f.sink.events.empty());
}

TEST_CASE("a changed fingerprint lifts a window: window_lifted with the new fingerprint") {
  EventFixture f;
  f.guard().on_local_rejection(alice, npc, Fingerprint::from_value(1));
  f.sink.take();
  f.clock.set(at(3s));
  CHECK(f.guard().on_inbound_proposal(alice, Fingerprint::from_value(1)).verdict == Verdict::hold);
  CHECK(f.sink.events.empty());  // a hold changes nothing
  CHECK(f.guard().on_inbound_proposal(alice, Fingerprint::from_value(2)).verdict == Verdict::proceed);
  REQUIRE(f.sink.kinds() == std::vector<K>{K::window_lifted});
  CHECK(f.sink.events[0].direction == Direction::receiver);
  CHECK(f.sink.events[0].fingerprint == 2);
  CHECK(f.sink.events[0].strikes == 1);
  CHECK(f.sink.events[0].at == at(3s));
}

TEST_CASE("success clears a held peer: windows_cleared; an untracked one makes no event") {
  EventFixture f;
  f.guard().on_established(alice);
  CHECK(f.sink.events.empty());
  f.guard().on_inbound_error(alice, npc, Origin::authenticated);
  f.guard().on_local_rejection(alice, npc);
  f.sink.take();
  f.guard().on_established(alice);
  REQUIRE(f.sink.kinds() == std::vector<K>{K::windows_cleared});
  CHECK(f.sink.events[0].strikes == 2);
  CHECK(f.sink.events[0].peer == alice);
}

TEST_CASE("forgiveness is noticed lazily, by the next call about the peer") {
  Policy policy = exact_policy();
  policy.forgive_after = 1h;
  EventFixture f(policy);
  f.guard().on_inbound_error(alice, npc, Origin::authenticated);
  f.sink.take();
  f.clock.set(at(2h));
  f.guard().on_outbound_proposal(alice);
  REQUIRE(f.sink.kinds() == std::vector<K>{K::window_lapsed, K::strikes_forgiven});
  CHECK(f.sink.events[0].direction == Direction::sender);
  CHECK(f.sink.events[0].until == at(60s));
  CHECK(f.sink.events[1].strikes == 1);
  CHECK(f.sink.events[1].at == at(2h));
  CHECK(f.sink.events[1].until == at(1h));  // when they were due: forgive_after after the error
  CHECK(f.sink.events[1].remaining == Duration::zero());
}

TEST_CASE("unsolicited errors: at most one event a second, counting the ones it stands for") {
  EventFixture f;
  const Notice forged = notice(notify_v2::authentication_failed);
  f.guard().on_inbound_error(alice, forged, Origin::unsolicited);
  REQUIRE(f.sink.kinds() == std::vector<K>{K::unsolicited_ignored});
  CHECK(f.sink.events[0].count == 1);
  CHECK(f.sink.events[0].notify_type == notify_v2::authentication_failed);
  f.sink.take();
  for (int i = 0; i < 9; ++i) {
    f.clock.set(at(100ms * i));
    f.guard().on_inbound_error(i % 2 != 0 ? alice : bob, forged, Origin::unsolicited);
  }
  CHECK(f.sink.events.empty());
  f.clock.set(at(1s));
  f.guard().on_inbound_error(bob, forged, Origin::unsolicited);
  REQUIRE(f.sink.kinds() == std::vector<K>{K::unsolicited_ignored});
  CHECK(f.sink.events[0].count == 10);
  CHECK(f.sink.events[0].peer == bob);
  CHECK(f.guard().stats().unsolicited == 11);
}

TEST_CASE("a full table's eviction names the evicted peer, its strikes and window") {
  Policy policy = exact_policy(8);
  EventFixture f(policy);
  for (std::uint32_t i = 0; i < 8; ++i) f.guard().on_local_rejection(nth(i), npc);
  f.guard().on_established(nth(3));  // room for one
  f.guard().on_local_rejection(nth(8), npc);
  f.sink.take();
  f.clock.set(at(1s));
  f.guard().on_local_rejection(nth(9), npc);
  const std::vector<Event> events = f.sink.take();
  REQUIRE(events.size() == 3);
  CHECK(events[0].kind == K::entry_evicted);
  const PeerKey victim = events[0].peer;
  CHECK(victim.family() == PeerKey::Family::ipv4);
  CHECK(victim != nth(9));
  CHECK(events[0].strikes == 1);
  CHECK(events[0].until == at(30s));
  CHECK(events[0].remaining == 29s);
  CHECK(events[1].kind == K::receiver_window_opened);
  CHECK(events[1].peer == nth(9));
  // The evicted peer is no longer held; every other one still is.
  CHECK(f.guard().on_inbound_proposal(victim).verdict == Verdict::proceed);
  CHECK(f.guard().stats().evictions == 1);
}

TEST_CASE("without kept addresses an evicted entry's event has no peer") {
  Policy policy = exact_policy(4);
  policy.keep_addresses = false;
  EventFixture f(policy);
  for (std::uint32_t i = 0; i < 5; ++i) f.guard().on_local_rejection(nth(i), npc);
  REQUIRE(f.sink.events.size() == 11);
  CHECK(f.sink.events[8].kind == K::entry_evicted);
  CHECK(f.sink.events[8].peer.family() == PeerKey::Family::none);
}

TEST_CASE("a restore is one event with the entries it restored") {
  ManualClock clock;
  RecordingTransport transport;
  auto first = make_guard(exact_policy(), clock, transport);
  for (std::uint32_t i = 0; i < 5; ++i) first->on_local_rejection(nth(i), npc);
  SnapshotKey key;
  key.bytes[0] = 7;
  std::vector<unsigned char> bytes(first->snapshot_bound());
  auto written = first->snapshot(bytes.data(), bytes.size(), key);
  REQUIRE(written.ok());
  RecordingSink sink;
  GuardExtras extras;
  extras.events = &sink;
  clock.set(at(2s));
  auto restored = NegotiationGuard::create_restored(exact_policy(), clock, transport, bytes.data(),
                                                    written.value(), key, nullptr, extras);
  REQUIRE(restored.ok());
  REQUIRE(sink.kinds() == std::vector<K>{K::snapshot_restored});
  CHECK(sink.events[0].count == 5);
  CHECK(sink.events[0].at == at(2s));
  CHECK(sink.events[0].peer.family() == PeerKey::Family::none);
}

TEST_CASE("events are delivered after the guard's locks: a sink may call the guard back") {
  struct Reentrant final : EventSink {
    NegotiationGuard* guard = nullptr;
    std::vector<Verdict> seen;
    std::size_t listed = 0;
    void on_event(const Event& event) noexcept override {
      // Both take the locks of the peer's shard (list_peers takes every shard's): called
      // under one of them, they would deadlock.
      seen.push_back(guard->on_inbound_proposal(event.peer).verdict);
      HeldPeer out[64];
      auto page = guard->list_peers(out, 64);
      if (page.ok()) listed += page.value().count;
    }
  } sink;
  ManualClock clock;
  RecordingTransport transport;
  GuardExtras extras;
  extras.events = &sink;
  auto made = NegotiationGuard::create(exact_policy(64), clock, transport, extras);
  REQUIRE(made.ok());
  sink.guard = made.value().get();
  made.value()->on_local_rejection(alice, npc);
  CHECK(sink.seen == std::vector<Verdict>{Verdict::hold, Verdict::hold});
  CHECK(sink.listed == 2);
}

TEST_CASE("proposals that change nothing make no event, with or without a window") {
  EventFixture f;
  for (int i = 0; i < 10; ++i) {
    f.guard().on_inbound_proposal(nth(static_cast<std::uint32_t>(i)));
    f.guard().on_outbound_proposal(nth(static_cast<std::uint32_t>(i)));
  }
  f.guard().on_local_rejection(alice, npc);
  f.sink.take();
  for (int i = 0; i < 10; ++i) f.guard().on_inbound_proposal(alice);
  CHECK(f.sink.events.empty());
}

}  // namespace ikeguard::test
