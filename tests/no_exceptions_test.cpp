// SPDX-License-Identifier: MIT
// Built with -fno-exceptions -fno-rtti, as firmware builds are: the validating factory reports
// every bad policy as a value, and the guard works without exceptions. Plain main (Catch2 v2
// needs exceptions); exits non-zero on the first failure.
#include <ikeguard/ikeguard.hpp>

#include <chrono>
#include <cstdio>

static_assert(IKEGUARD_HAS_EXCEPTIONS == 0, "this test must be built with -fno-exceptions");

namespace {
int failures = 0;
void expect(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAIL %s\n", what);
    ++failures;
  }
}
}  // namespace

int main() {
  using namespace std::chrono_literals;
  ikeguard::ManualClock clock;
  ikeguard::NullTransport transport;

  ikeguard::Policy bad;
  bad.backoff = 0.5;
  auto refused = ikeguard::NegotiationGuard::create(bad, clock, transport);
  expect(!refused.ok(), "backoff 0.5 is refused");
  expect(refused.error() == ikeguard::Errc::invalid_backoff, "with invalid_backoff");

  bad = ikeguard::Policy{};
  bad.max_peers = 0;
  expect(ikeguard::NegotiationGuard::create(bad, clock, transport).error() ==
             ikeguard::Errc::invalid_max_peers,
         "max_peers 0 is refused with invalid_max_peers");

  ikeguard::Policy policy;
  policy.jitter = 0;
  auto created = ikeguard::NegotiationGuard::create(policy, clock, transport);
  expect(created.ok(), "a valid policy gives a guard");
  if (!created.ok()) return 1;
  ikeguard::NegotiationGuard& guard = **created;
  const auto peer = ikeguard::PeerKey::ipv4({192, 0, 2, 1});
  ikeguard::Notice npc;
  npc.type = ikeguard::notify_v2::no_proposal_chosen;
  const auto outcome = guard.on_inbound_error(peer, npc, ikeguard::Origin::authenticated);
  expect(outcome.action == ikeguard::ErrorAction::hold, "a configuration error holds");
  expect(outcome.until == ikeguard::TimePoint(60s), "for T2");
  expect(guard.on_outbound_proposal(peer).verdict == ikeguard::Verdict::hold, "outbound holds");

  std::printf("%d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
