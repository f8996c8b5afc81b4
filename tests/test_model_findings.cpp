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
