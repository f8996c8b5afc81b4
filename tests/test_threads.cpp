// SPDX-License-Identifier: MIT
// Every call from many threads at once: no lost update, no torn state (run under TSan in CI).
#include "support.hpp"

#include <atomic>
#include <thread>
#include <vector>

using namespace ikeguard;
using namespace ikeguard::test;

namespace {
class CountingTransport final : public Transport {
 public:
  void send_notice(const PeerKey&, const Notice&) override {
    sent.fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<std::uint64_t> sent{0};
};
}  // namespace

TEST_CASE("concurrent calls on overlapping peers keep the counters equal to the calls made") {
  Policy policy;
  policy.max_peers = 256;
  ManualClock clock;
  CountingTransport transport;
  const auto owned = make_guard(policy, clock, transport);
  NegotiationGuard& guard = *owned;

  constexpr int threads = 4;
  constexpr std::uint32_t rounds = 5000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (std::uint32_t i = 0; i < rounds; ++i) {
        const PeerKey p = PeerKey::ipv4({10, 0, static_cast<std::uint8_t>(i % 3),
                                         static_cast<std::uint8_t>((i * 7 + static_cast<std::uint32_t>(t)) % 400 % 256)});
        const Fingerprint fp = Fingerprint::from_value(1 + i % 2);
        guard.on_outbound_proposal(p, fp);
        guard.on_inbound_proposal(p, fp);
        guard.on_inbound_error(p, notice(notify_v2::no_proposal_chosen),
                               i % 2 ? Origin::authenticated : Origin::answers_request);
        guard.on_local_rejection(p, notice(notify_v2::no_proposal_chosen), fp);
        if (i % 11 == 0) guard.on_established(p);
        if (t == 0 && i % 100 == 0) clock.advance(std::chrono::seconds(7));
        (void)guard.stats();
      }
    });
  }
  for (auto& w : workers) w.join();

  const Stats s = guard.stats();
  const std::uint64_t calls = std::uint64_t{threads} * rounds;
  CHECK(s.proceeded_outbound + s.held_outbound == calls);
  CHECK(s.proceeded_inbound + s.dropped_inbound == calls);
  CHECK(s.errors_honoured + s.retried_later + s.retried_now + s.ignored == calls);
  CHECK(s.notices_sent + s.notices_suppressed == calls);
  CHECK(s.notices_sent == transport.sent.load());
  CHECK(s.established == threads * ((rounds + 10) / 11));
  CHECK(s.peers_tracked <= 256);
}
