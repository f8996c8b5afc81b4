// SPDX-License-Identifier: MIT
// No call allocates after construction: this binary counts every operator new.
#define CATCH_CONFIG_MAIN
#include "support.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<long> allocations{0};
}

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace ikeguard;
using namespace ikeguard::test;

namespace {
// Counts notices without a container that could grow.
class CountingTransport final : public Transport {
 public:
  void send_notice(const PeerKey&, const Notice&) override { ++sent; }
  long sent = 0;
};
}  // namespace

TEST_CASE("no call allocates after construction, even with the table full and evicting") {
  ManualClock clock;
  CountingTransport transport;
  Policy policy;  // with jitter: its random words are refilled without allocating
  policy.max_peers = 64;
  auto created = NegotiationGuard::create(policy, clock, transport);
  REQUIRE(created.ok());
  NegotiationGuard& guard = **created;

  const long before = allocations.load();
  for (std::uint32_t i = 0; i < 20000; ++i) {
    const PeerKey p = PeerKey::ipv4({10, static_cast<std::uint8_t>(i >> 16),
                                     static_cast<std::uint8_t>(i >> 8),
                                     static_cast<std::uint8_t>(i)});
    const Fingerprint fp = guard.fingerprint(&i, sizeof i);
    guard.on_outbound_proposal(p, fp);
    guard.on_inbound_proposal(p, fp);
    guard.on_inbound_error(p, notice(notify_v2::no_proposal_chosen), Origin::answers_request);
    guard.on_inbound_error(p, notice(notify_v2::no_proposal_chosen), Origin::authenticated);
    guard.on_inbound_error(p, notice(notify_v2::temporary_failure), Origin::authenticated);
    guard.on_local_rejection(p, notice(notify_v2::no_proposal_chosen), fp);
    if (i % 7 == 0) guard.on_established(p);
    clock.advance(std::chrono::milliseconds(250));
  }
  const Stats stats = guard.stats();
  const long after = allocations.load();

  CHECK(after - before == 0);
  CHECK(stats.peers_tracked <= 64);
  CHECK(stats.evictions > 0);
  CHECK(transport.sent > 0);
}
