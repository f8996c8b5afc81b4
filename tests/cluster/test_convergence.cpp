// SPDX-License-Identifier: MIT
// Records delivered in different orders, with duplicates, converge: three fresh guards given the
// same records end with the same table. No Redis: the records go straight to apply(), which is
// what the channel does with every message.
#include "cluster_support.hpp"

#include <ikeguard/ikeguard.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

using namespace cluster_test;

namespace {

// A sink that keeps every record its node makes.
class RecordingSink final : public ikeguard::EventSink {
 public:
  explicit RecordingSink(ikeguard::ClusterNode& node) : node_(node) {}
  void on_event(const ikeguard::Event& event) noexcept override {
    ikeguard_cluster::Record record{};
    if (node_.encode(event, record.data(), record.size()) != 0) records.push_back(record);
  }
  std::vector<ikeguard_cluster::Record> records;

 private:
  ikeguard::ClusterNode& node_;
};

class NullTransport final : public ikeguard::Transport {
 public:
  void send_notice(const ikeguard::PeerKey&, const ikeguard::Notice&) override {}
};

struct Node {
  Node(std::uint64_t id, ikeguard::Clock& clock, const ikeguard::Policy& policy)
      : cluster(id, key_of(0x5a), 1), sink(cluster) {
    ikeguard::NegotiationGuard::Extras extras;
    extras.events = &sink;
    extras.cluster = &cluster;
    auto created = ikeguard::NegotiationGuard::create(policy, clock, transport, extras);
    REQUIRE(created.ok());
    guard = std::move(created.value());
  }
  ikeguard::ClusterNode cluster;
  RecordingSink sink;
  NullTransport transport;
  std::unique_ptr<ikeguard::NegotiationGuard> guard;
};

ikeguard::Fingerprint fingerprint_of(ikeguard::NegotiationGuard& guard, const char* text) {
  return guard.fingerprint(text, std::strlen(text));
}

}  // namespace

TEST_CASE("records delivered in any order, duplicated, leave every node with the same table") {
  ikeguard::Policy policy;
  policy.jitter = 0.0;
  ikeguard::ManualClock clock;
  Node first(5, clock, policy);
  Node second(6, clock, policy);
  const auto rejected = no_proposal_chosen();
  const auto authenticated = ikeguard::Origin::authenticated;

  // Windows opened, escalated, lifted and cleared on two origins, for overlapping peers.
  for (std::uint32_t i = 0; i < 8; ++i) {
    first.guard->on_local_rejection(nth(i), rejected, fingerprint_of(*first.guard, "suite-a"));
  }
  for (std::uint32_t i = 4; i < 12; ++i) second.guard->on_inbound_error(nth(i), rejected, authenticated);
  clock.advance(31s);  // T1 (30 s) ended: the next rejection escalates
  for (std::uint32_t i = 0; i < 4; ++i) {
    first.guard->on_local_rejection(nth(i), rejected, fingerprint_of(*first.guard, "suite-a"));
  }
  second.guard->on_local_rejection(nth(2), rejected);
  // A changed configuration lifts peer 1's receiver window on the first node.
  first.guard->on_inbound_proposal(nth(1), fingerprint_of(*first.guard, "suite-b"));
  // Peers 5 and 6 established with the second node: forgotten there.
  second.guard->on_established(nth(5));
  second.guard->on_established(nth(6));
  clock.advance(1s);
  first.guard->on_local_rejection(nth(6), rejected);  // after the clear: stays

  std::vector<ikeguard_cluster::Record> records = first.sink.records;
  records.insert(records.end(), second.sink.records.begin(), second.sink.records.end());
  REQUIRE(records.size() >= 20);

  // Three receivers: in order; reversed with every record twice; shuffled with duplicates.
  std::vector<std::vector<ikeguard_cluster::Record>> deliveries(3);
  deliveries[0] = records;
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    deliveries[1].push_back(*it);
    deliveries[1].push_back(*it);
  }
  deliveries[2] = records;
  deliveries[2].insert(deliveries[2].end(), records.begin(), records.begin() + 7);
  std::mt19937 shuffle(20240611);
  std::shuffle(deliveries[2].begin(), deliveries[2].end(), shuffle);

  std::vector<std::unique_ptr<Node>> receivers;
  std::vector<std::vector<ikeguard::HeldPeer>> tables;
  constexpr auto arrival_spread = 3ms;
  for (std::size_t r = 0; r < deliveries.size(); ++r) {
    clock.advance(1ms);  // each receiver gets them a little later
    receivers.push_back(std::make_unique<Node>(11 + r, clock, policy));
    std::size_t applied = 0;
    std::size_t replayed = 0;
    for (const auto& record : deliveries[r]) {
      const auto result = receivers.back()->guard->apply(record.data(), record.size());
      if (result.ok()) {
        ++applied;
      } else {
        CHECK(result.error() == ikeguard::Errc::cluster_record_replayed);
        ++replayed;
      }
    }
    CHECK(applied == records.size());
    CHECK(replayed == deliveries[r].size() - records.size());
    tables.push_back(table_of(*receivers.back()->guard));
  }

  REQUIRE_FALSE(tables[0].empty());
  std::size_t held = 0;
  for (const auto& entry : tables[0]) {
    if (entry.receiver_until != ikeguard::TimePoint{} || entry.sender_until != ikeguard::TimePoint{}) {
      ++held;
    }
  }
  CHECK(held >= 8);
  auto close = [&](ikeguard::TimePoint x, ikeguard::TimePoint y) {
    if ((x == ikeguard::TimePoint{}) != (y == ikeguard::TimePoint{})) return false;
    return (x > y ? x - y : y - x) <= arrival_spread;
  };
  for (std::size_t r = 1; r < tables.size(); ++r) {
    INFO("receiver " << r);
    auto show = [](const std::vector<ikeguard::HeldPeer>& table) {
      std::string text;
      for (const auto& entry : table) {
        char peer[ikeguard::PeerKey::max_text_length];
        text.append(peer, entry.peer.to_chars(peer));
        text += " s" + std::to_string(entry.sender_strikes) + " r" +
                std::to_string(entry.receiver_strikes) + (entry.sender_until != ikeguard::TimePoint{} ? " S" : "") +
                (entry.receiver_until != ikeguard::TimePoint{} ? " R" : "") + "; ";
      }
      return text;
    };
    INFO("in order: " << show(tables[0]));
    INFO("this one: " << show(tables[r]));
    REQUIRE(tables[r].size() == tables[0].size());
    for (std::size_t i = 0; i < tables[0].size(); ++i) {
      const auto& x = tables[0][i];
      const auto& y = tables[r][i];
      INFO("entry " << i);
      CHECK(x.peer == y.peer);
      CHECK(close(x.sender_until, y.sender_until));
      CHECK(close(x.receiver_until, y.receiver_until));
      CHECK(x.sender_strikes == y.sender_strikes);
      CHECK(x.receiver_strikes == y.receiver_strikes);
      CHECK(x.sender_fingerprint == y.sender_fingerprint);
      CHECK(x.receiver_fingerprint == y.receiver_fingerprint);
      CHECK(x.sender_retry_only == y.sender_retry_only);
      CHECK(x.confirmations == y.confirmations);
    }
  }
}
