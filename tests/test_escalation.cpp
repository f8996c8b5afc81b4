// SPDX-License-Identifier: MIT
// Escalate, then forgive: window growth, the cap, jitter, and strikes that lapse.
#include "support.hpp"

#include <cmath>

using namespace ikeguard;
using namespace ikeguard::test;

namespace {
const PeerKey responder = PeerKey::ipv4({203, 0, 113, 9});

// Opens the sender window once more, at the moment the previous one ends; returns it.
ErrorOutcome fail_again(Fixture& f) {
  const Decision d = f.guard.on_outbound_proposal(responder);
  if (d.verdict == Verdict::hold) f.clock.set(d.until);
  return f.guard.on_inbound_error(responder, notice(notify_v2::no_proposal_chosen),
                                  Origin::authenticated);
}
}  // namespace

TEST_CASE("consecutive configuration errors grow the sender window T, 2T, 4T up to the cap") {
  Fixture f;
  // 60, 120, 240, then capped at 300 s.
  const Duration expected[] = {60s, 120s, 240s, 300s, 300s};
  std::uint32_t strikes = 0;
  for (const Duration length : expected) {
    const TimePoint start = f.clock.now();
    const ErrorOutcome o = fail_again(f);
    ++strikes;
    CHECK(o.strikes == strikes);
    CHECK(o.until - f.clock.now() == length);
    CHECK(f.clock.now() >= start);
  }
}

TEST_CASE("a backoff of 1 keeps every window at T") {
  Policy policy = exact_policy();
  policy.backoff = 1.0;
  Fixture f(policy);
  for (int i = 0; i < 5; ++i) {
    const ErrorOutcome o = fail_again(f);
    CHECK(o.until - f.clock.now() == 60s);
  }
}

TEST_CASE("a backoff of 1.5 grows the receiver window by half each time") {
  Policy policy = exact_policy();
  policy.backoff = 1.5;
  policy.max_window = 600s;  // the receiver's cap is 600 * 30 / 60 = 300 s
  Fixture f(policy);
  const Notice npc = notice(notify_v2::no_proposal_chosen);
  // Windows end on a millisecond boundary, rounded up: 227.8125 s becomes 227.813 s.
  const Duration expected[] = {30s, 45s, 67500ms, 101250ms, 151875ms, 227813ms, 300s};
  for (const Duration length : expected) {
    const Decision d = f.guard.on_local_rejection(responder, npc);
    CHECK(d.until - f.clock.now() == length);
    f.clock.set(d.until);
  }
}

TEST_CASE("jitter keeps every window within the configured fraction and varies it") {
  Policy policy;  // jitter 0.1
  ManualClock clock;
  RecordingTransport transport;
  bool varied = false;
  Duration first{};
  for (int i = 0; i < 200; ++i) {
    const auto guard = make_guard(policy, clock, transport);
    const ErrorOutcome o = guard->on_inbound_error(
        responder, notice(notify_v2::no_proposal_chosen), Origin::authenticated);
    const Duration length = o.until - clock.now();
    CHECK(length >= 54s);
    CHECK(length <= 66s);
    if (i == 0) first = length;
    if (length != first) varied = true;
  }
  CHECK(varied);
}

TEST_CASE("jitter applies after the cap, so no window exceeds max_window by more than jitter") {
  Policy policy;
  policy.jitter = 0.5;
  policy.max_window = 100s;
  Fixture f(policy);
  for (int i = 0; i < 12; ++i) {
    const ErrorOutcome o = fail_again(f);
    CHECK(o.until - f.clock.now() <= 150s);
    CHECK(o.until - f.clock.now() >= 30s);
  }
}

TEST_CASE("strikes lapse after forgive_after without a failure") {
  Policy policy = exact_policy();
  policy.forgive_after = std::chrono::hours(1);
  Fixture f(policy);
  fail_again(f);
  fail_again(f);
  CHECK(fail_again(f).strikes == 3);
  const TimePoint last_failure = f.clock.now();
  f.clock.set(last_failure + std::chrono::hours(1) - 1ns);
  CHECK(f.guard.on_outbound_proposal(responder).strikes == 3);
  f.clock.set(last_failure + std::chrono::hours(1));
  const Decision d = f.guard.on_outbound_proposal(responder);
  CHECK(d.verdict == Verdict::proceed);
  CHECK(d.strikes == 0);
  const ErrorOutcome o = f.guard.on_inbound_error(responder, notice(notify_v2::no_proposal_chosen),
                                                  Origin::authenticated);
  CHECK(o.strikes == 1);
  CHECK(o.until - f.clock.now() == 60s);
}

TEST_CASE("a lifted window keeps its strikes, so the old configuration escalates if retried") {
  Fixture f;
  const Fingerprint broken = f.guard.fingerprint("broken", 6);
  const Fingerprint other = f.guard.fingerprint("other", 5);
  f.guard.on_outbound_proposal(responder, broken);
  f.guard.on_inbound_error(responder, notice(notify_v2::no_proposal_chosen), Origin::authenticated);
  CHECK(f.guard.on_outbound_proposal(responder, other).verdict == Verdict::proceed);
  const ErrorOutcome o = f.guard.on_inbound_error(responder, notice(notify_v2::no_proposal_chosen),
                                                  Origin::authenticated);
  CHECK(o.strikes == 2);
  CHECK(o.until == at(120s));
}

TEST_CASE("strikes saturate at 255 instead of wrapping") {
  Policy policy = exact_policy();
  policy.receiver_window = 1ms;
  policy.sender_window = 1ms;
  policy.max_window = 1ms;
  Fixture f(policy);
  const Notice npc = notice(notify_v2::no_proposal_chosen);
  Decision d;
  for (int i = 0; i < 300; ++i) {
    d = f.guard.on_local_rejection(responder, npc);
    CHECK(d.until == f.clock.now() + 1ms);
    f.clock.advance(1ms);
  }
  CHECK(d.strikes == 255);
}

TEST_CASE("a window shorter than a millisecond lasts until the next millisecond boundary") {
  Policy policy = exact_policy();
  policy.receiver_window = 1ns;
  policy.sender_window = 1ns;
  policy.max_window = 1ns;
  Fixture f(policy);
  f.clock.set(at(10s + 400us));
  const Decision d = f.guard.on_local_rejection(responder, notice(notify_v2::no_proposal_chosen));
  CHECK(d.until == at(10s + 1ms));
  f.clock.set(at(10s + 1ms) - 1ns);
  CHECK(f.guard.on_inbound_proposal(responder).verdict == Verdict::hold);
  f.clock.set(at(10s + 1ms));
  CHECK(f.guard.on_inbound_proposal(responder).verdict == Verdict::proceed);
}

TEST_CASE("a window that would pass the end of time ends at the clock's last instant") {
  Policy policy = exact_policy();
  policy.max_window = max_duration_limit;
  policy.backoff = 1e300;
  Fixture f(policy);
  f.clock.set(TimePoint(Duration::max() - 10s));
  fail_again(f);
  f.clock.advance(1s);
  const ErrorOutcome o = f.guard.on_inbound_error(responder, notice(notify_v2::no_proposal_chosen),
                                                  Origin::authenticated);
  CHECK(o.action == ErrorAction::hold);
  CHECK(o.until == TimePoint::max());
}

TEST_CASE("windows and strikes stay exact across weeks of a shard's clock, long past 2^32 ms") {
  Policy policy = exact_policy();
  policy.max_window = max_duration_limit;
  policy.forgive_after = max_duration_limit;
  Fixture f(policy);
  const Notice npc = notice(notify_v2::no_proposal_chosen);
  const PeerKey quiet = peer("198.51.100.99");
  f.guard.on_local_rejection(quiet, npc);  // one strike, window until 30 s, then silence
  // 60 days later (past the 2^32 ms wrap): the old window must not look open again, and the
  // strike has lapsed (forgive_after is about 12.4 days).
  f.clock.set(at(std::chrono::hours(24 * 60)));
  CHECK(f.guard.on_inbound_proposal(quiet).verdict == Verdict::proceed);
  const Decision again = f.guard.on_local_rejection(quiet, npc);
  CHECK(again.strikes == 1);
  CHECK(again.until == at(std::chrono::hours(24 * 60) + 30s));
  // A window opened just before 2^32 ms ends exactly where expected after it.
  const auto wrap = std::chrono::milliseconds(std::int64_t{1} << 32);
  f.clock.set(at(wrap - 10s));
  const Decision spanning = f.guard.on_local_rejection(responder, npc);
  CHECK(spanning.until == at(wrap + 20s));
  f.clock.set(at(wrap + 20s) - 1ns);
  CHECK(f.guard.on_inbound_proposal(responder).until == at(wrap + 20s));
  f.clock.set(at(wrap + 20s));
  CHECK(f.guard.on_inbound_proposal(responder).verdict == Verdict::proceed);
}

TEST_CASE("the receiver window's cap keeps T1's proportion of T2, so it ends before the sender's") {
  Fixture f;  // T1 30 s, T2 60 s, max_window 300 s: the receiver's cap is 150 s
  const Notice npc = notice(notify_v2::no_proposal_chosen);
  const Duration expected[] = {30s, 60s, 120s, 150s, 150s};
  for (const Duration length : expected) {
    const Decision d = f.guard.on_local_rejection(responder, npc);
    CHECK(d.until - f.clock.now() == length);
    f.clock.set(d.until);
  }
}

TEST_CASE("a receiver window longer than the sender's is capped at max_window itself") {
  Policy policy = exact_policy();
  policy.receiver_window = 120s;
  policy.sender_window = 60s;
  Fixture f(policy);
  const Notice npc = notice(notify_v2::no_proposal_chosen);
  const Duration expected[] = {120s, 240s, 300s, 300s};
  for (const Duration length : expected) {
    const Decision d = f.guard.on_local_rejection(responder, npc);
    CHECK(d.until - f.clock.now() == length);
    f.clock.set(d.until);
  }
}
