// SPDX-License-Identifier: MIT
// Edges docs/behaviour.md decides explicitly: one forgiveness clock per peer, forgiveness in
// whole milliseconds, who confirms a peer, which outbound fingerprint is remembered, a retry hold
// longer than T2, forgiveness inside an open window, and a window that ends at the last instant.
#include "support.hpp"

using namespace ikeguard;
using namespace ikeguard::test;

namespace {
const PeerKey responder = PeerKey::ipv4({203, 0, 113, 9});
const PeerKey initiator = PeerKey::ipv4({192, 0, 2, 1});
const Fingerprint offer_a = Fingerprint::from_value(0xa1);
const Fingerprint offer_b = Fingerprint::from_value(0xb2);
const Notice npc = notice(notify_v2::no_proposal_chosen);
}  // namespace

TEST_CASE("a failure in either direction restarts the one forgiveness clock of the peer") {
  Policy policy = exact_policy();  // T1 30 s, T2 60 s
  policy.forgive_after = 100s;
  Fixture f(policy);
  const Decision rejected = f.guard.on_local_rejection(initiator, npc);  // receiver, at 0 s
  REQUIRE(rejected.strikes == 1);
  f.clock.set(at(50s));
  const ErrorOutcome failed = f.guard.on_inbound_error(initiator, npc, Origin::authenticated);
  REQUIRE(failed.action == ErrorAction::hold);
  REQUIRE(failed.strikes == 1);
  // forgive_after after the receiver's failure: the sender's, later, keeps both counted.
  f.clock.set(at(100s));
  const Decision inbound = f.guard.on_inbound_proposal(initiator);
  CHECK(inbound.verdict == Verdict::proceed);
  CHECK(inbound.strikes == 1);
  f.clock.set(at(150s) - 1ns);
  CHECK(f.guard.on_inbound_proposal(initiator).strikes == 1);
  // forgive_after after the last failure: both directions at once.
  f.clock.set(at(150s));
  CHECK(f.guard.on_inbound_proposal(initiator).strikes == 0);
  CHECK(f.guard.on_outbound_proposal(initiator).strikes == 0);
  CHECK(f.guard.stats().peers_tracked == 0);
}

TEST_CASE("forgiveness counts whole milliseconds, and may come before forgive_after has fully passed") {
  Policy policy = exact_policy();
  policy.forgive_after = 100s + 400us;  // 100.001 s in whole milliseconds, rounded up
  Fixture f(policy);
  f.clock.set(at(900us));  // the failure counts from 0 ms, floored
  const Decision rejected = f.guard.on_local_rejection(initiator, npc);
  CHECK(rejected.strikes == 1);
  CHECK(rejected.until == at(30001ms));  // while a window's end rounds up: 30.0009 s -> 30.001 s
  f.clock.set(at(100001ms) - 1ns);  // floored to 100.000 s: not yet
  CHECK(f.guard.on_inbound_proposal(initiator).strikes == 1);
  // Floored to 100.001 s: forgiven, 0.3 ms before forgive_after has passed since the failure.
  f.clock.set(at(100001ms));
  CHECK(f.guard.on_inbound_proposal(initiator).strikes == 0);
}

TEST_CASE("an authenticated configuration error confirms the peer for later unauthenticated ones") {
  Fixture f;  // two confirmations
  const ErrorOutcome trusted = f.guard.on_inbound_error(responder, npc, Origin::authenticated);
  CHECK(trusted.action == ErrorAction::hold);
  CHECK(trusted.until == at(60s));
  CHECK(trusted.strikes == 1);
  f.clock.set(at(60s));
  REQUIRE(f.guard.on_outbound_proposal(responder).verdict == Verdict::proceed);
  // The first one in the clear acts at once: no retry_later, no second one awaited.
  const ErrorOutcome clear = f.guard.on_inbound_error(responder, npc, Origin::answers_request);
  CHECK(clear.action == ErrorAction::hold);
  CHECK(clear.until == at(180s));
  CHECK(clear.strikes == 2);
  CHECK(f.guard.stats().awaiting_confirmation == 0);
  CHECK(f.guard.stats().retried_later == 0);
}

TEST_CASE("a proposal that proceeds remembers its fingerprint, unknown included, and a held one nothing") {
  Fixture f;
  // A proceeding unknown fingerprint forgets the known one: the window it then gets is lifted
  // by none.
  const PeerKey forgot = PeerKey::ipv4({203, 0, 113, 10});
  REQUIRE(f.guard.on_outbound_proposal(forgot, offer_a).verdict == Verdict::proceed);
  CHECK(f.guard.stats().peers_tracked == 1);
  REQUIRE(f.guard.on_outbound_proposal(forgot).verdict == Verdict::proceed);
  CHECK(f.guard.stats().peers_tracked == 0);  // nothing left to remember
  REQUIRE(f.guard.on_inbound_error(forgot, npc, Origin::authenticated).action == ErrorAction::hold);
  const Decision unlifted = f.guard.on_outbound_proposal(forgot, offer_b);
  CHECK(unlifted.verdict == Verdict::hold);
  CHECK(unlifted.until == at(60s));
  // A held proposal, unknown here, leaves offer_a remembered: offer_b still lifts the window.
  REQUIRE(f.guard.on_outbound_proposal(responder, offer_a).verdict == Verdict::proceed);
  REQUIRE(f.guard.on_inbound_error(responder, npc, Origin::authenticated).action == ErrorAction::hold);
  f.clock.set(at(10s));
  const Decision held = f.guard.on_outbound_proposal(responder);
  CHECK(held.verdict == Verdict::hold);
  CHECK(held.until == at(60s));
  CHECK(f.guard.on_outbound_proposal(responder, offer_a).verdict == Verdict::hold);
  const Decision lifted = f.guard.on_outbound_proposal(responder, offer_b);
  CHECK(lifted.verdict == Verdict::proceed);
  CHECK(lifted.strikes == 1);
  CHECK(f.guard.stats().fingerprint_lifts == 1);
}

TEST_CASE("every change of the remembered outbound fingerprint restarts the confirmation count") {
  Fixture f;  // two confirmations, retry_delay 2 s
  struct Change {
    PeerKey peer;
    Fingerprint before, after;
  };
  const Change changes[] = {{PeerKey::ipv4({203, 0, 113, 11}), offer_a, offer_b},
                            {PeerKey::ipv4({203, 0, 113, 12}), offer_a, Fingerprint{}},
                            {PeerKey::ipv4({203, 0, 113, 13}), Fingerprint{}, offer_a}};
  for (const Change& c : changes) {
    REQUIRE(f.guard.on_outbound_proposal(c.peer, c.before).verdict == Verdict::proceed);
    const ErrorOutcome first = f.guard.on_inbound_error(c.peer, npc, Origin::answers_request);
    REQUIRE(first.action == ErrorAction::retry_later);
  }
  f.clock.set(at(2s));  // every retry hold ended
  for (std::size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    const Change& c = changes[i];
    REQUIRE(f.guard.on_outbound_proposal(c.peer, c.after).verdict == Verdict::proceed);
    const ErrorOutcome again = f.guard.on_inbound_error(c.peer, npc, Origin::answers_request);
    CHECK(again.action == ErrorAction::retry_later);  // the first of a new count, not the second
    CHECK(again.until == at(4s));
    CHECK(again.strikes == 0);
  }
  // The same fingerprint again keeps the count: the second error confirms.
  const PeerKey same = PeerKey::ipv4({203, 0, 113, 14});
  REQUIRE(f.guard.on_outbound_proposal(same, offer_a).verdict == Verdict::proceed);
  REQUIRE(f.guard.on_inbound_error(same, npc, Origin::answers_request).action == ErrorAction::retry_later);
  f.clock.set(at(4s));
  REQUIRE(f.guard.on_outbound_proposal(same, offer_a).verdict == Verdict::proceed);
  CHECK(f.guard.on_inbound_error(same, npc, Origin::answers_request).action == ErrorAction::hold);
}

TEST_CASE("opening the sender window keeps a longer retry_later hold, and until says so") {
  Policy policy = exact_policy();  // T2 60 s
  policy.retry_delay = 100s;
  Fixture f(policy);
  const ErrorOutcome transient =
      f.guard.on_inbound_error(responder, notice(notify_v2::temporary_failure), Origin::authenticated);
  CHECK(transient.action == ErrorAction::retry_later);
  CHECK(transient.until == at(100s));
  f.clock.set(at(10s));
  const ErrorOutcome configuration = f.guard.on_inbound_error(responder, npc, Origin::authenticated);
  CHECK(configuration.action == ErrorAction::hold);
  CHECK(configuration.until == at(100s));  // not 70 s: the later end wins
  CHECK(configuration.strikes == 1);
  f.clock.set(at(100s) - 1ns);
  const Decision held = f.guard.on_outbound_proposal(responder);
  CHECK(held.verdict == Verdict::hold);
  CHECK(held.until == at(100s));
  f.clock.set(at(100s));
  CHECK(f.guard.on_outbound_proposal(responder).verdict == Verdict::proceed);
}

TEST_CASE("strikes and confirmations forgiven inside an open window leave the window to its end") {
  Policy policy = exact_policy();  // T1 30 s, T2 60 s, two confirmations
  policy.forgive_after = 10s;
  Fixture f(policy);
  REQUIRE(f.guard.on_local_rejection(initiator, npc).strikes == 1);
  const ErrorOutcome trusted = f.guard.on_inbound_error(responder, npc, Origin::authenticated);
  REQUIRE(trusted.until == at(60s));  // and the peer is confirmed
  f.clock.set(at(10s));
  const Decision dropped = f.guard.on_inbound_proposal(initiator);
  CHECK(dropped.verdict == Verdict::hold);
  CHECK(dropped.until == at(30s));
  CHECK(dropped.strikes == 0);
  const Decision held = f.guard.on_outbound_proposal(responder);
  CHECK(held.verdict == Verdict::hold);
  CHECK(held.until == at(60s));
  CHECK(held.strikes == 0);
  f.clock.set(at(30s) - 1ns);
  CHECK(f.guard.on_inbound_proposal(initiator).verdict == Verdict::hold);
  f.clock.set(at(30s));
  CHECK(f.guard.on_inbound_proposal(initiator).verdict == Verdict::proceed);
  // The next rejection opens a first window again, not an escalated one.
  const Decision again = f.guard.on_local_rejection(initiator, npc);
  CHECK(again.strikes == 1);
  CHECK(again.until == at(60s));
  // The confirmation went too: after the window, an error in the clear awaits one again.
  f.clock.set(at(60s));
  REQUIRE(f.guard.on_outbound_proposal(responder).verdict == Verdict::proceed);
  const ErrorOutcome clear = f.guard.on_inbound_error(responder, npc, Origin::answers_request);
  CHECK(clear.action == ErrorAction::retry_later);
  CHECK(clear.strikes == 0);
}

TEST_CASE("a window that ends at the clock's last instant holds at that instant too") {
  Fixture f;
  f.clock.set(TimePoint::max() - 10s);
  const Decision rejected = f.guard.on_local_rejection(initiator, npc);  // T1 30 s: saturates
  CHECK(rejected.verdict == Verdict::hold);
  CHECK(rejected.until == TimePoint::max());
  f.clock.set(TimePoint::max() - 1ns);
  CHECK(f.guard.on_inbound_proposal(initiator).verdict == Verdict::hold);
  f.clock.set(TimePoint::max());
  const Decision last = f.guard.on_inbound_proposal(initiator);
  CHECK(last.verdict == Verdict::hold);
  CHECK(last.until == TimePoint::max());
  CHECK(last.strikes == 1);
}
