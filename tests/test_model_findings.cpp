// SPDX-License-Identifier: MIT
// What fuzz_model (the guard against the reference model of tests/model) found, each reduced to
// exact values under a ManualClock.
#include "support.hpp"

using namespace ikeguard;
using namespace ikeguard::test;

namespace {
const PeerKey responder = PeerKey::ipv4({203, 0, 113, 9});
constexpr Duration two_pow_29_ms = std::chrono::milliseconds(std::int64_t{1} << 29);
}  // namespace

TEST_CASE("a retry hold longer than max_window outlasts the table's normalisation") {
  // validate() allows a retry_delay up to 2^30 ms above a short max_window; the stamps of a shard
  // are normalised every 2^29 ms, which must not cut such a hold short.
  Policy policy = exact_policy();
  policy.receiver_window = 1s;
  policy.sender_window = 1s;
  policy.max_window = 1s;
  policy.retry_delay = max_duration_limit;  // 2^30 ms
  REQUIRE(validate(policy) == Errc::ok);
  Fixture f(policy);
  const ErrorOutcome o = f.guard.on_inbound_error(
      responder, notice(notify_v2::temporary_failure), Origin::answers_request);
  CHECK(o.action == ErrorAction::retry_later);
  CHECK(o.until == at(max_duration_limit));

  f.clock.set(at(two_pow_29_ms + 1ms));  // past the normalisation, within the hold
  const Decision held = f.guard.on_outbound_proposal(responder);
  CHECK(held.verdict == Verdict::hold);
  CHECK(held.until == at(max_duration_limit));
  CHECK(held.strikes == 0);

  f.clock.set(at(max_duration_limit) - 1ns);
  CHECK(f.guard.on_outbound_proposal(responder).verdict == Verdict::hold);
  f.clock.set(at(max_duration_limit));
  CHECK(f.guard.on_outbound_proposal(responder).verdict == Verdict::proceed);
  CHECK(f.guard.stats().held_outbound == 2);
  CHECK(f.guard.stats().proceeded_outbound == 1);
}

TEST_CASE("a configuration error inside the window does not confirm a peer whose strikes lapsed, "
          "across a restart too") {
  // Confirmations lapse forgive_after after the last failure. An error inside an open
  // configuration window is no new failure: once the peer's strikes were forgiven there is no
  // failure left to date a confirmation from. A restart (which keeps no failure time for an
  // entry with nothing counted) must not make one up.
  Policy policy = exact_policy();
  policy.forgive_after = 10s;
  policy.unauthenticated_confirmations = 3;
  Fixture f(policy);
  const Notice refusal = notice(notify_v2::no_proposal_chosen);
  CHECK(f.guard.on_inbound_error(responder, refusal, Origin::authenticated).until == at(60s));
  f.clock.set(at(20s));  // forgiven; the window runs on

  SnapshotKey key;
  key.bytes.fill(0x5a);
  std::vector<unsigned char> saved(f.guard.snapshot_bound());
  const auto written = f.guard.snapshot(saved.data(), saved.size(), key);
  REQUIRE(written.ok());
  auto restored = NegotiationGuard::create_restored(policy, f.clock, f.transport, saved.data(),
                                                    written.value(), key);
  REQUIRE(restored.ok());
  NegotiationGuard& guard = *restored.value();

  const ErrorOutcome inside = guard.on_inbound_error(responder, refusal, Origin::authenticated);
  CHECK(inside.action == ErrorAction::hold);
  CHECK(inside.until == at(60s));
  CHECK(inside.strikes == 0);
  // Not confirmed: an unauthenticated one awaits confirmation, inside the longer window.
  const ErrorOutcome unconfirmed =
      guard.on_inbound_error(responder, refusal, Origin::answers_request);
  CHECK(unconfirmed.action == ErrorAction::retry_later);
  CHECK(unconfirmed.until == at(60s));
  CHECK(unconfirmed.strikes == 0);
  CHECK(guard.stats().awaiting_confirmation == 1);
}
