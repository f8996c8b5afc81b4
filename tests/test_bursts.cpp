// SPDX-License-Identifier: MIT
// Burst decisions (on_inbound_proposals, on_outbound_proposals): the answers of the single calls,
// element by element in order at one instant; the clock read at most once.
#include "support.hpp"

#include <array>
#include <atomic>
#include <random>
#include <vector>

using namespace ikeguard;
using namespace ikeguard::test;

namespace {

// A ManualClock that counts its readings.
class CountingClock final : public Clock {
 public:
  TimePoint now() const noexcept override {
    reads.fetch_add(1, std::memory_order_relaxed);
    return time.now();
  }
  ManualClock time;
  mutable std::atomic<int> reads{0};
};

bool same(const Decision& a, const Decision& b) {
  return a.verdict == b.verdict && a.until == b.until && a.strikes == b.strikes;
}

bool same(const Stats& a, const Stats& b) {
#define IKEGUARD_SAME_MEMBER(name, help) &&a.name == b.name
  return true IKEGUARD_COUNTERS(IKEGUARD_SAME_MEMBER, IKEGUARD_SAME_MEMBER);
#undef IKEGUARD_SAME_MEMBER
}

// Two guards brought to the same state by the same calls: one answers bursts, the other the
// same elements one call at a time.
struct Twins {
  explicit Twins(Policy policy) : burst(make_guard(policy, clock, sent_burst)),
                                  single(make_guard(policy, clock, sent_single)) {}
  template <class F>
  void both(F&& f) {
    f(*burst);
    f(*single);
  }
  ManualClock clock;
  RecordingTransport sent_burst, sent_single;
  std::unique_ptr<NegotiationGuard> burst, single;
};

const std::array<const char*, 6> peer_texts = {"192.0.2.1", "192.0.2.2", "198.51.100.7:4500",
                                               "[2001:db8::1]", "[2001:db8::2]:4500", "203.0.113.9#4"};

}  // namespace

TEST_CASE("a burst answers what the single calls answer, in order, at that instant") {
  std::mt19937 random(7);
  Twins twins(exact_policy(1024));
  const auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(random); };
  std::vector<Fingerprint> configurations = {Fingerprint{}, twins.burst->fingerprint("a", 1),
                                             twins.burst->fingerprint("b", 1)};
  // The single guard has other keys: its fingerprints of the same bytes differ, so each guard
  // is given its own.
  std::vector<Fingerprint> single_configurations = {Fingerprint{}, twins.single->fingerprint("a", 1),
                                                    twins.single->fingerprint("b", 1)};
  for (int round = 0; round < 400; ++round) {
    const PeerKey peer = test::peer(peer_texts[pick(peer_texts.size())]);
    const std::size_t c = pick(3);
    switch (pick(5)) {
      case 0:
        twins.burst->on_local_rejection(peer, notice(notify_v2::no_proposal_chosen), configurations[c]);
        twins.single->on_local_rejection(peer, notice(notify_v2::no_proposal_chosen), single_configurations[c]);
        break;
      case 1:
        twins.both([&](NegotiationGuard& g) {
          g.on_inbound_error(peer, notice(notify_v2::no_proposal_chosen), Origin::authenticated);
        });
        break;
      case 2:
        twins.both([&](NegotiationGuard& g) {
          g.on_inbound_error(peer, notice(notify_v2::temporary_failure), Origin::authenticated);
        });
        break;
      case 3: twins.both([&](NegotiationGuard& g) { g.on_established(peer); }); break;
      default: twins.clock.advance(std::chrono::milliseconds(pick(40000)));
    }
    // A burst of up to 70 elements (over two chunks of the prefetch window), about the peers
    // above and some the table never held.
    const std::size_t n = pick(71);
    std::vector<PeerKey> peers(n);
    std::vector<Fingerprint> mine(n), theirs(n);
    for (std::size_t i = 0; i < n; ++i) {
      peers[i] = pick(4) == 0 ? nth(static_cast<std::uint32_t>(pick(1000)))
                              : test::peer(peer_texts[pick(peer_texts.size())]);
      const std::size_t k = pick(3);
      mine[i] = configurations[k];
      theirs[i] = single_configurations[k];
    }
    const bool inbound = pick(2) == 0;
    std::vector<Decision> answers(n);
    const Errc status = inbound ? twins.burst->on_inbound_proposals(peers, mine, answers)
                                : twins.burst->on_outbound_proposals(peers, mine, answers);
    REQUIRE(status == Errc::ok);
    for (std::size_t i = 0; i < n; ++i) {
      const Decision expected = inbound ? twins.single->on_inbound_proposal(peers[i], theirs[i])
                                        : twins.single->on_outbound_proposal(peers[i], theirs[i]);
      INFO("round " << round << ", element " << i << " of " << n << (inbound ? " inbound" : " outbound"));
      REQUIRE(same(answers[i], expected));
    }
    REQUIRE(same(twins.burst->stats(), twins.single->stats()));
  }
  CHECK(twins.sent_burst.sent.size() == twins.sent_single.sent.size());
}

TEST_CASE("an outbound burst remembers a configuration for the elements after it") {
  ManualClock clock;
  RecordingTransport transport;
  const auto guard = make_guard(exact_policy(), clock, transport);
  const PeerKey responder = peer("192.0.2.1");
  const Fingerprint a = guard->fingerprint("a", 1);
  guard->on_outbound_proposal(responder, a);
  guard->on_inbound_error(responder, notice(notify_v2::no_proposal_chosen), Origin::authenticated);
  // Held for configuration a; b lifts it; the third element, a again, is sent too: b is now the
  // last proposal sent, and the window stays lifted.
  const Fingerprint b = guard->fingerprint("b", 1);
  const std::array<PeerKey, 3> peers = {responder, responder, responder};
  const std::array<Fingerprint, 3> configurations = {a, b, a};
  std::array<Decision, 3> answers{};
  REQUIRE(guard->on_outbound_proposals(peers, configurations, answers) == Errc::ok);
  CHECK(answers[0].verdict == Verdict::hold);
  CHECK(answers[0].until == at(60s));
  CHECK(answers[0].strikes == 1);
  CHECK(answers[1].verdict == Verdict::proceed);
  CHECK(answers[1].strikes == 1);
  CHECK(answers[2].verdict == Verdict::proceed);
  const Stats stats = guard->stats();
  CHECK(stats.held_outbound == 1);
  CHECK(stats.proceeded_outbound == 3);  // the first single call, and two of the burst
  CHECK(stats.fingerprint_lifts == 1);
}

TEST_CASE("a burst with mismatched sizes is refused and decides nothing") {
  ManualClock clock;
  RecordingTransport transport;
  const auto guard = make_guard(exact_policy(), clock, transport);
  const std::array<PeerKey, 2> peers = {peer("192.0.2.1"), peer("192.0.2.2")};
  const std::array<Fingerprint, 1> one_fingerprint = {Fingerprint{}};
  std::array<Decision, 2> answers{};
  answers[0].strikes = answers[1].strikes = 77;  // a mark: untouched
  std::array<Decision, 1> too_few{};
  CHECK(guard->on_inbound_proposals(peers, one_fingerprint, answers) == Errc::invalid_argument);
  CHECK(guard->on_outbound_proposals(peers, {}, too_few) == Errc::invalid_argument);
  CHECK(guard->on_inbound_proposals(Span<const PeerKey>(nullptr, 2), {}, answers) == Errc::invalid_argument);
  CHECK(guard->on_inbound_proposals(peers, {}, Span<Decision>(nullptr, 2)) == Errc::invalid_argument);
  CHECK(answers[0].strikes == 77);
  CHECK(answers[1].strikes == 77);
  const Stats stats = guard->stats();
  CHECK(stats.proceeded_inbound + stats.proceeded_outbound == 0);
  // Empty bursts are fine, and so is a longer decisions span.
  CHECK(guard->on_inbound_proposals({}, {}, {}) == Errc::ok);
  std::array<Decision, 5> more{};
  CHECK(guard->on_inbound_proposals(peers, {}, more) == Errc::ok);
  CHECK(guard->stats().proceeded_inbound == 2);
}

TEST_CASE("a proposal about a peer the table does not hold is answered without reading the clock") {
  CountingClock clock;
  RecordingTransport transport;
  const auto guard = make_guard(exact_policy(), clock, transport);
  const PeerKey stranger = peer("203.0.113.1");
  const int at_construction = clock.reads;  // the guard starts its shards' clocks
  const Decision inbound = guard->on_inbound_proposal(stranger, guard->fingerprint("x", 1));
  const Decision outbound = guard->on_outbound_proposal(stranger);
  CHECK(clock.reads == at_construction);
  CHECK(inbound.verdict == Verdict::proceed);
  CHECK(inbound.until == TimePoint{});
  CHECK(inbound.strikes == 0);
  CHECK(outbound.verdict == Verdict::proceed);
  CHECK(outbound.until == TimePoint{});
  // A known fingerprint outbound is remembered: that needs the time.
  guard->on_outbound_proposal(stranger, guard->fingerprint("x", 1));
  CHECK(clock.reads == at_construction + 1);
  CHECK(guard->stats().proceeded_inbound == 1);
  CHECK(guard->stats().proceeded_outbound == 2);
}

TEST_CASE("a burst reads the clock once, and not at all when it holds no peer the table holds") {
  CountingClock clock;
  RecordingTransport transport;
  const auto guard = make_guard(exact_policy(), clock, transport);
  std::vector<PeerKey> peers;
  for (std::uint32_t i = 0; i < 100; ++i) peers.push_back(nth(i));
  std::vector<Decision> answers(peers.size());
  const int at_construction = clock.reads;
  REQUIRE(guard->on_inbound_proposals(peers, {}, answers) == Errc::ok);
  CHECK(clock.reads == at_construction);
  for (const Decision& d : answers) CHECK(d.verdict == Verdict::proceed);

  for (std::uint32_t i = 0; i < 100; i += 3) guard->on_local_rejection(nth(i), notice(notify_v2::no_proposal_chosen));
  const int before = clock.reads;
  clock.time.advance(10s);
  REQUIRE(guard->on_inbound_proposals(peers, {}, answers) == Errc::ok);
  CHECK(clock.reads == before + 1);
  for (std::uint32_t i = 0; i < 100; ++i) {
    INFO("peer " << i);
    CHECK(answers[i].verdict == (i % 3 == 0 ? Verdict::hold : Verdict::proceed));
    CHECK(answers[i].until == (i % 3 == 0 ? at(30s) : TimePoint{}));
  }
  CHECK(guard->stats().dropped_inbound == 34);
  CHECK(guard->stats().proceeded_inbound == 166);
}
