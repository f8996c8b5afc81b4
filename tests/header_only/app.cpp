// SPDX-License-Identifier: MIT
// A vendor's program built with no library of ours: the guard's bodies come from the headers
// (IKEGUARD_HEADER_ONLY), compiled by the vendor's own compiler command. Steps A, B and C, a
// snapshot and a restored guard, and a guard in static memory; exits 0 when each answers as
// the method says.
#include <ikeguard/ikeguard.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <new>
#include <string>
#include <vector>

#ifndef IKEGUARD_HEADER_ONLY
#error "this program checks the header-only build"
#endif

namespace {

using namespace std::chrono_literals;
int failures = 0;

void expect(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAILED: %s\n", what);
    ++failures;
  }
}

struct CountingTransport final : ikeguard::Transport {
  void send_notice(const ikeguard::PeerKey&, const ikeguard::Notice&) override { ++sent; }
  int sent = 0;
};

}  // namespace

int main() {
  ikeguard::ManualClock clock;
  CountingTransport transport;
  ikeguard::Policy policy;
  policy.jitter = 0.0;
  policy.max_peers = 1024;
  ikeguard::NegotiationGuard guard(policy, clock, transport);
  const auto peer = *ikeguard::PeerKey::parse("192.0.2.1:500");
  const ikeguard::Notice npc{ikeguard::IkeVersion::v2, 14, 1, 0, 0};

  expect(guard.on_outbound_proposal(peer).verdict == ikeguard::Verdict::proceed, "A: proceed");
  expect(guard.on_local_rejection(peer, npc).until == ikeguard::TimePoint(30s), "B: T1 is 30 s");
  expect(transport.sent == 1, "B: one notice sent");
  expect(guard.on_inbound_proposal(peer).verdict == ikeguard::Verdict::hold, "B: dropped in T1");
  const auto outcome = guard.on_inbound_error(peer, npc, ikeguard::Origin::authenticated);
  expect(outcome.action == ikeguard::ErrorAction::hold && outcome.until == ikeguard::TimePoint(60s),
         "C: T2 is 60 s");
  expect(std::string(ikeguard::notify_name(ikeguard::IkeVersion::v2, 14)) == "NO_PROPOSAL_CHOSEN",
         "the notify table's names");

  ikeguard::SnapshotKey key;
  key.bytes.fill(7);
  std::vector<unsigned char> bytes(guard.snapshot_bound());
  const auto written = guard.snapshot(bytes.data(), bytes.size(), key);
  expect(written.ok(), "snapshot");
  ikeguard::RestoreReport report;
  const auto restored = ikeguard::NegotiationGuard::create_restored(
      policy, clock, transport, bytes.data(), written.ok() ? written.value() : 0, key, &report);
  expect(restored.ok() && report.restored == 1, "create_restored");
  if (restored.ok()) {
    expect((*restored)->on_outbound_proposal(peer).until == ikeguard::TimePoint(60s),
           "the restored guard holds T2");
  }

  const std::size_t need = ikeguard::NegotiationGuard::estimate_size(policy);
  std::unique_ptr<unsigned char[]> arena(new unsigned char[need]);
  const auto in_place = ikeguard::NegotiationGuard::create_in(arena.get(), need, policy, clock, transport);
  expect(in_place.ok(), "create_in");
  if (in_place.ok()) {
    expect(in_place.value()->on_local_rejection(peer, npc).verdict == ikeguard::Verdict::hold,
           "the guard in static memory opens T1");
    std::destroy_at(in_place.value());
  }
  std::printf("%d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
