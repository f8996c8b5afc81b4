// SPDX-License-Identifier: MIT
// Nodes sharing windows over a real redis-server (one per test case, on a free loopback port):
// propagation, a late joiner, an outage, and records that must be refused. Time is the real
// steady clock: what is measured is the channel. Every wait polls against a generous deadline
// and the measured time is printed.
#include "cluster_support.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

using namespace cluster_test;
using ikeguard::Verdict;
using ikeguard_cluster::ClusterMember;
using ikeguard_cluster::RedisServer;

namespace {

std::unique_ptr<ClusterMember> member(std::uint64_t id, const RedisServer& redis,
                                      ikeguard::Clock& clock, std::size_t queue_capacity = 1024) {
  auto config = config_for(redis);
  config.queue_capacity = queue_capacity;
  auto made = std::make_unique<ClusterMember>(id, key_of(0x5a), config, clock);
  REQUIRE(made->ok());
  REQUIRE(made->wait_in_sync(5s));
  return made;
}

// A window record as node `from` would make it for `peer`.
ikeguard_cluster::Record window_record(ikeguard::ClusterNode& from, const ikeguard::PeerKey& peer,
                                       ikeguard::TimePoint now) {
  ikeguard::Event event;
  event.kind = ikeguard::EventKind::receiver_window_opened;
  event.direction = ikeguard::Direction::receiver;
  event.has_notice = true;
  event.notify_class = ikeguard::NotifyClass::configuration;
  event.notify_type = ikeguard::notify_v2::no_proposal_chosen;
  event.strikes = 1;
  event.peer = peer;
  event.at = now;
  event.remaining = 60s;
  event.until = now + event.remaining;
  ikeguard_cluster::Record record{};
  REQUIRE(from.encode(event, record.data(), record.size()) == record.size());
  return record;
}

bool same_entries(const std::vector<ikeguard::HeldPeer>& a, const std::vector<ikeguard::HeldPeer>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof a[i]) != 0) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("a peer rejected on one node is dropped by another within 2 s") {
  RedisServer redis;
  REQUIRE(redis.running());
  ikeguard::SteadyClock clock;
  auto a = member(1, redis, clock);
  auto b = member(2, redis, clock);

  constexpr std::uint32_t peers = 200;
  std::vector<double> latencies;
  for (std::uint32_t i = 0; i < peers; ++i) {
    const auto peer = nth(i);
    REQUIRE_FALSE(holds_inbound(b->guard(), peer));
    const auto start = Clock::now();
    REQUIRE(a->guard().on_local_rejection(peer, no_proposal_chosen()).verdict == Verdict::hold);
    Millis latency(-1);
    while (Clock::now() - start < 2s) {
      if (holds_inbound(b->guard(), peer)) {
        latency = Clock::now() - start;
        break;
      }
      std::this_thread::sleep_for(20us);
    }
    INFO("peer " << i);
    REQUIRE(latency.count() >= 0);
    latencies.push_back(latency.count());
  }
  std::sort(latencies.begin(), latencies.end());
  std::printf("propagation A on_local_rejection -> B holds, %u peers: median %.3f ms, "
              "p99 %.3f ms, max %.3f ms\n",
              peers, latencies[latencies.size() / 2], latencies[latencies.size() * 99 / 100],
              latencies.back());
  CHECK(latencies.back() < 2000.0);
  CHECK(b->guard().stats().records_applied == peers);
  CHECK(a->channel().stats().dropped_oldest == 0);
}

TEST_CASE("a node started later learns the open windows from the stored keys") {
  RedisServer redis;
  REQUIRE(redis.running());
  ikeguard::SteadyClock clock;
  auto a = member(1, redis, clock);
  auto b = member(2, redis, clock);

  // Receiver windows for peers 0..19, sender windows for 100..104, then peer 0 established.
  for (std::uint32_t i = 0; i < 20; ++i) a->guard().on_local_rejection(nth(i), no_proposal_chosen());
  for (std::uint32_t i = 100; i < 105; ++i) {
    const auto outcome =
        b->guard().on_inbound_error(nth(i), no_proposal_chosen(), ikeguard::Origin::authenticated);
    REQUIRE(outcome.action == ikeguard::ErrorAction::hold);
  }
  a->guard().on_established(nth(0));
  const Millis spread = wait_until(
      [&] {
        for (std::uint32_t i = 1; i < 20; ++i) {
          if (!holds_inbound(b->guard(), nth(i))) return false;
        }
        for (std::uint32_t i = 100; i < 105; ++i) {
          if (a->guard().on_outbound_proposal(nth(i)).verdict != Verdict::hold) return false;
        }
        return !holds_inbound(b->guard(), nth(0));
      },
      5s);
  REQUIRE(spread.count() >= 0);

  const auto start = Clock::now();
  auto c = member(3, redis, clock);
  const Millis joined = Clock::now() - start;
  std::printf("late joiner: in sync %.3f ms after it started (%llu records from the keys)\n",
              joined.count(),
              static_cast<unsigned long long>(c->channel().stats().resync_records));
  for (std::uint32_t i = 1; i < 20; ++i) {
    INFO("peer " << i);
    CHECK(holds_inbound(c->guard(), nth(i)));
  }
  for (std::uint32_t i = 100; i < 105; ++i) {
    INFO("peer " << i);
    CHECK(c->guard().on_outbound_proposal(nth(i)).verdict == Verdict::hold);
  }
  CHECK_FALSE(holds_inbound(c->guard(), nth(0)));
  CHECK(c->channel().stats().refused == 0);
}

TEST_CASE("nodes decide alone while Redis is down and catch up once it is back") {
  RedisServer redis;
  REQUIRE(redis.running());
  ikeguard::SteadyClock clock;
  constexpr std::size_t queue_capacity = 16;
  auto a = member(1, redis, clock, queue_capacity);
  auto b = member(2, redis, clock);

  a->guard().on_local_rejection(nth(0), no_proposal_chosen());
  REQUIRE(wait_until([&] { return holds_inbound(b->guard(), nth(0)); }, 2s).count() >= 0);

  redis.kill();
  // Every node goes on deciding; A's records queue up and the oldest are dropped.
  constexpr std::uint32_t during = 100;
  Millis slowest(0);
  auto timed = [&](auto&& call) {
    const auto start = Clock::now();
    call();
    slowest = std::max(slowest, Millis(Clock::now() - start));
  };
  for (std::uint32_t i = 1; i <= during; ++i) {
    timed([&] {
      CHECK(a->guard().on_local_rejection(nth(i), no_proposal_chosen()).verdict == Verdict::hold);
    });
    timed([&] { CHECK(holds_inbound(a->guard(), nth(i))); });
    timed([&] { CHECK_FALSE(holds_inbound(b->guard(), nth(i))); });
    timed([&] { CHECK(holds_inbound(b->guard(), nth(0))); });
  }
  const auto outage = a->channel().stats();
  std::printf("outage: slowest decision %.3f ms over %u calls; A queued %llu, dropped oldest %llu\n",
              slowest.count(), during * 4, static_cast<unsigned long long>(outage.queued),
              static_cast<unsigned long long>(outage.dropped_oldest));
  CHECK(slowest.count() < 50.0);
  // At most one record left the queue before the sender found Redis gone.
  CHECK(outage.dropped_oldest >= during - queue_capacity - 1);

  REQUIRE(redis.restart());
  const Millis caught_up = wait_until(
      [&] {
        for (std::uint32_t i = 1; i <= during; ++i) {
          if (!holds_inbound(b->guard(), nth(i))) return false;
        }
        return true;
      },
      10s);
  std::printf("after the restart, B held all %u windows A opened during the outage in %.3f ms\n",
              during, caught_up.count());
  REQUIRE(caught_up.count() >= 0);
  CHECK(a->channel().stats().sender_connects >= 2);
  CHECK(b->channel().stats().subscriptions >= 2);

  // The restarted Redis had lost every key; A stored its windows again, the older one too.
  auto c = member(3, redis, clock);
  for (std::uint32_t i = 0; i <= during; ++i) {
    INFO("peer " << i);
    CHECK(holds_inbound(c->guard(), nth(i)));
  }
}

TEST_CASE("forged, truncated, foreign-key and replayed records are refused and change nothing") {
  RedisServer redis;
  REQUIRE(redis.running());
  ikeguard::SteadyClock clock;
  auto a = member(1, redis, clock);
  auto b = member(2, redis, clock);
  const std::string channel = b->channel().config().channel;

  // A node of the cluster (same key) whose records the test publishes itself.
  ikeguard::ClusterNode insider(77, key_of(0x5a), ikeguard_cluster::first_sequence_from_clock());
  ikeguard::ClusterNode outsider(78, key_of(0xa5), ikeguard_cluster::first_sequence_from_clock());
  const auto valid = window_record(insider, nth(1), clock.now());
  publish_raw(redis.port(), channel, valid.data(), valid.size());
  REQUIRE(wait_until([&] { return holds_inbound(b->guard(), nth(1)); }, 2s).count() >= 0);

  const auto before = table_of(b->guard());
  const auto refused_before = b->guard().stats().records_refused;
  const auto channel_before = b->channel().stats();

  auto forged = window_record(insider, nth(2), clock.now());
  forged[70] ^= 0x01;  // a byte of the MAC
  const auto truncated = window_record(insider, nth(3), clock.now());
  const auto foreign = window_record(outsider, nth(4), clock.now());
  publish_raw(redis.port(), channel, forged.data(), forged.size());
  publish_raw(redis.port(), channel, truncated.data(), 60);
  publish_raw(redis.port(), channel, foreign.data(), foreign.size());
  publish_raw(redis.port(), channel, valid.data(), valid.size());  // replayed
  // The channel delivers in order: once a valid record sent after them is applied, all four
  // have been handled.
  const auto marker = window_record(insider, nth(5), clock.now());
  publish_raw(redis.port(), channel, marker.data(), marker.size());
  REQUIRE(wait_until([&] { return holds_inbound(b->guard(), nth(5)); }, 2s).count() >= 0);

  CHECK(b->guard().stats().records_refused == refused_before + 4);
  const auto after = b->channel().stats();
  using ikeguard::Errc;
  auto refused = [&](Errc code) {
    const auto index = static_cast<std::size_t>(code);
    return after.refused_by[index] - channel_before.refused_by[index];
  };
  CHECK(refused(Errc::cluster_record_unauthenticated) == 2);
  CHECK(refused(Errc::cluster_record_truncated) == 1);
  CHECK(refused(Errc::cluster_record_replayed) == 1);
  CHECK(after.refused - channel_before.refused == 4);

  auto table = table_of(b->guard());
  table.erase(std::remove_if(table.begin(), table.end(),
                             [&](const ikeguard::HeldPeer& entry) { return entry.peer == nth(5); }),
              table.end());
  CHECK(same_entries(table, before));
  for (std::uint32_t i = 2; i <= 4; ++i) CHECK_FALSE(holds_inbound(b->guard(), nth(i)));
}
