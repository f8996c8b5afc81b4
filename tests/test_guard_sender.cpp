// SPDX-License-Identifier: MIT
// Step C: the sender's window (T2), error classification and trust in unauthenticated errors.
#include "support.hpp"

using namespace ikeguard;
using namespace ikeguard::test;

namespace {
const PeerKey responder = PeerKey::ipv4({203, 0, 113, 9});
}

TEST_CASE("an authenticated configuration error opens the sender window for T2") {
  Fixture f;
  const ErrorOutcome o =
      f.guard.on_inbound_error(responder, notice(notify_v2::no_proposal_chosen), Origin::authenticated);
  CHECK(o.action == ErrorAction::hold);
  CHECK(o.until == at(60s));
  CHECK(o.strikes == 1);
  CHECK(f.guard.stats().errors_honoured == 1);
}

TEST_CASE("outbound proposals hold until the sender window ends") {
  Fixture f;
  f.guard.on_inbound_error(responder, notice(notify_v2::authentication_failed), Origin::authenticated);
  f.clock.set(at(60s) - 1ns);
  const Decision held = f.guard.on_outbound_proposal(responder);
  CHECK(held.verdict == Verdict::hold);
  CHECK(held.until == at(60s));
  CHECK(held.strikes == 1);
  f.clock.set(at(60s));
  const Decision after = f.guard.on_outbound_proposal(responder);
  CHECK(after.verdict == Verdict::proceed);
  CHECK(after.strikes == 1);
  CHECK(f.guard.stats().held_outbound == 1);
  CHECK(f.guard.stats().proceeded_outbound == 1);
}

TEST_CASE("the sender window does not drop inbound proposals from that peer") {
  Fixture f;
  f.guard.on_inbound_error(responder, notice(notify_v2::no_proposal_chosen), Origin::authenticated);
  CHECK(f.guard.on_inbound_proposal(responder).verdict == Verdict::proceed);
}

TEST_CASE("every configuration error of the table opens the sender window") {
  const std::uint16_t types[] = {notify_v2::unsupported_critical_payload, notify_v2::invalid_syntax,
                                 notify_v2::no_proposal_chosen,          notify_v2::authentication_failed,
                                 notify_v2::single_pair_required,        notify_v2::failed_cp_required,
                                 notify_v2::ts_unacceptable,             notify_v2::invalid_selectors,
                                 12345};
  for (const std::uint16_t type : types) {
    Fixture f;
    CAPTURE(type);
    CHECK(f.guard.on_inbound_error(responder, notice(type), Origin::authenticated).action ==
          ErrorAction::hold);
  }
}

TEST_CASE("IKEv1 NO-PROPOSAL-CHOSEN opens the sender window like its IKEv2 counterpart") {
  Fixture f;
  const ErrorOutcome o = f.guard.on_inbound_error(
      responder, notice(notify_v1::no_proposal_chosen, IkeVersion::v1), Origin::authenticated);
  CHECK(o.action == ErrorAction::hold);
  CHECK(o.until == at(60s));
}

TEST_CASE("errors with a corrective action answer retry_now and open nothing") {
  Fixture f;
  for (const std::uint16_t type : {notify_v2::invalid_ke_payload, notify_v2::cookie,
                                   notify_v2::invalid_major_version, notify_v2::redirect}) {
    CAPTURE(type);
    const ErrorOutcome o = f.guard.on_inbound_error(responder, notice(type), Origin::answers_request);
    CHECK(o.action == ErrorAction::retry_now);
    CHECK(o.until == at(0s));
    CHECK(o.strikes == 0);
  }
  CHECK(f.guard.on_outbound_proposal(responder).verdict == Verdict::proceed);
  CHECK(f.guard.stats().retried_now == 4);
  CHECK(f.guard.stats().peers_tracked == 0);
}

TEST_CASE("a transient error answers retry_later and holds outbound proposals for retry_delay") {
  Fixture f;
  const ErrorOutcome o =
      f.guard.on_inbound_error(responder, notice(notify_v2::temporary_failure), Origin::authenticated);
  CHECK(o.action == ErrorAction::retry_later);
  CHECK(o.until == at(2s));
  CHECK(o.strikes == 0);
  f.clock.advance(1s);
  CHECK(f.guard.on_outbound_proposal(responder).verdict == Verdict::hold);
  f.clock.advance(1s);
  CHECK(f.guard.on_outbound_proposal(responder).verdict == Verdict::proceed);
}

TEST_CASE("status notifies and hints are ignored and change nothing") {
  Fixture f;
  for (const std::uint16_t type : {notify_v2::invalid_ike_spi, notify_v2::invalid_spi,
                                   notify_v2::invalid_message_id, std::uint16_t{16388}}) {
    CAPTURE(type);
    CHECK(f.guard.on_inbound_error(responder, notice(type), Origin::authenticated).action ==
          ErrorAction::ignored);
  }
  CHECK(f.guard.on_outbound_proposal(responder).verdict == Verdict::proceed);
  CHECK(f.guard.stats().ignored == 4);
  CHECK(f.guard.stats().unsolicited == 0);
}

TEST_CASE("an unsolicited configuration error is ignored however often it comes") {
  Fixture f;
  for (int i = 0; i < 100; ++i) {
    const ErrorOutcome o =
        f.guard.on_inbound_error(responder, notice(notify_v2::no_proposal_chosen), Origin::unsolicited);
    CHECK(o.action == ErrorAction::ignored);
  }
  CHECK(f.guard.on_outbound_proposal(responder).verdict == Verdict::proceed);
  CHECK(f.guard.stats().ignored == 100);
  CHECK(f.guard.stats().unsolicited == 100);
  CHECK(f.guard.stats().peers_tracked == 0);
}

TEST_CASE("the first unauthenticated configuration error answers retry_later for retry_delay") {
  Fixture f;
  const ErrorOutcome o = f.guard.on_inbound_error(responder, notice(notify_v2::no_proposal_chosen),
                                                  Origin::answers_request);
  CHECK(o.action == ErrorAction::retry_later);
  CHECK(o.until == at(2s));
  CHECK(o.strikes == 0);
  CHECK(f.guard.on_outbound_proposal(responder).verdict == Verdict::hold);
  CHECK(f.guard.stats().awaiting_confirmation == 1);
}

TEST_CASE("the second consecutive unauthenticated configuration error opens T2") {
  Fixture f;
  f.guard.on_inbound_error(responder, notice(notify_v2::no_proposal_chosen), Origin::answers_request);
  f.clock.set(at(2s));
  CHECK(f.guard.on_outbound_proposal(responder).verdict == Verdict::proceed);
  const ErrorOutcome o = f.guard.on_inbound_error(responder, notice(notify_v2::no_proposal_chosen),
                                                  Origin::answers_request);
  CHECK(o.action == ErrorAction::hold);
  CHECK(o.until == at(62s));
  CHECK(o.strikes == 1);
}

TEST_CASE("unauthenticated_confirmations 1 acts on the first unauthenticated error") {
  Policy policy = exact_policy();
  policy.unauthenticated_confirmations = 1;
  Fixture f(policy);
  const ErrorOutcome o = f.guard.on_inbound_error(responder, notice(notify_v2::no_proposal_chosen),
                                                  Origin::answers_request);
  CHECK(o.action == ErrorAction::hold);
  CHECK(o.until == at(60s));
}

TEST_CASE("three confirmations need three consecutive unauthenticated errors") {
  Policy policy = exact_policy();
  policy.unauthenticated_confirmations = 3;
  Fixture f(policy);
  const Notice npc = notice(notify_v2::no_proposal_chosen);
  CHECK(f.guard.on_inbound_error(responder, npc, Origin::answers_request).action ==
        ErrorAction::retry_later);
  f.clock.set(at(2s));
  CHECK(f.guard.on_inbound_error(responder, npc, Origin::answers_request).action ==
        ErrorAction::retry_later);
  f.clock.set(at(4s));
  const ErrorOutcome third = f.guard.on_inbound_error(responder, npc, Origin::answers_request);
  CHECK(third.action == ErrorAction::hold);
  CHECK(third.until == at(64s));
}

TEST_CASE("sending another configuration restarts the count of unauthenticated errors") {
  Fixture f;
  const Notice npc = notice(notify_v2::no_proposal_chosen);
  f.guard.on_outbound_proposal(responder, f.guard.fingerprint("one", 3));
  f.guard.on_inbound_error(responder, npc, Origin::answers_request);
  f.clock.set(at(2s));
  f.guard.on_outbound_proposal(responder, f.guard.fingerprint("two", 3));
  CHECK(f.guard.on_inbound_error(responder, npc, Origin::answers_request).action ==
        ErrorAction::retry_later);
}

TEST_CASE("an authenticated error acts at once even with confirmations pending") {
  Fixture f;
  f.guard.on_inbound_error(responder, notice(notify_v2::no_proposal_chosen), Origin::answers_request);
  const ErrorOutcome o = f.guard.on_inbound_error(responder, notice(notify_v2::ts_unacceptable),
                                                  Origin::authenticated);
  CHECK(o.action == ErrorAction::hold);
  CHECK(o.until == at(60s));
  CHECK(o.strikes == 1);
}

TEST_CASE("errors for several requests in flight open one window, not an escalation") {
  Fixture f;
  const Notice npc = notice(notify_v2::no_proposal_chosen);
  f.guard.on_inbound_error(responder, npc, Origin::authenticated);
  f.clock.advance(1s);
  const ErrorOutcome again = f.guard.on_inbound_error(responder, npc, Origin::authenticated);
  CHECK(again.action == ErrorAction::hold);
  CHECK(again.until == at(60s));
  CHECK(again.strikes == 1);
}

TEST_CASE("a different known fingerprint lifts the sender window at once") {
  Fixture f;
  const Fingerprint broken = f.guard.fingerprint("aes128-sha1-modp1024", 20);
  const Fingerprint fixed = f.guard.fingerprint("aes256-sha384-ecp384", 20);
  f.guard.on_outbound_proposal(responder, broken);
  f.guard.on_inbound_error(responder, notice(notify_v2::no_proposal_chosen), Origin::authenticated);
  f.clock.advance(5s);
  CHECK(f.guard.on_outbound_proposal(responder, broken).verdict == Verdict::hold);
  CHECK(f.guard.on_outbound_proposal(responder, Fingerprint{}).verdict == Verdict::hold);
  const Decision d = f.guard.on_outbound_proposal(responder, fixed);
  CHECK(d.verdict == Verdict::proceed);
  CHECK(d.strikes == 1);
  CHECK(f.guard.stats().fingerprint_lifts == 1);
}

TEST_CASE("the sender window remembers the last proposal sent, not an earlier one") {
  Fixture f;
  const Fingerprint first = f.guard.fingerprint("first", 5);
  const Fingerprint second = f.guard.fingerprint("second", 6);
  f.guard.on_outbound_proposal(responder, first);
  f.guard.on_outbound_proposal(responder, second);
  f.guard.on_inbound_error(responder, notice(notify_v2::no_proposal_chosen), Origin::authenticated);
  CHECK(f.guard.on_outbound_proposal(responder, second).verdict == Verdict::hold);
  CHECK(f.guard.on_outbound_proposal(responder, first).verdict == Verdict::proceed);
}

TEST_CASE("on_established clears the windows and the strikes of a peer") {
  Fixture f;
  f.guard.on_inbound_error(responder, notice(notify_v2::no_proposal_chosen), Origin::authenticated);
  f.guard.on_local_rejection(responder, notice(notify_v2::no_proposal_chosen));
  f.guard.on_established(responder);
  const Decision out = f.guard.on_outbound_proposal(responder);
  CHECK(out.verdict == Verdict::proceed);
  CHECK(out.strikes == 0);
  CHECK(f.guard.on_inbound_proposal(responder).verdict == Verdict::proceed);
  const ErrorOutcome next =
      f.guard.on_inbound_error(responder, notice(notify_v2::no_proposal_chosen), Origin::authenticated);
  CHECK(next.until == at(60s));
  CHECK(next.strikes == 1);
  CHECK(f.guard.stats().established == 1);
}

TEST_CASE("255 confirmations need 255 consecutive unauthenticated errors") {
  Policy policy = exact_policy();
  policy.unauthenticated_confirmations = 255;
  Fixture f(policy);
  const Notice npc = notice(notify_v2::no_proposal_chosen);
  for (int i = 1; i < 255; ++i) {
    REQUIRE(f.guard.on_inbound_error(responder, npc, Origin::answers_request).action ==
            ErrorAction::retry_later);
  }
  CHECK(f.guard.on_inbound_error(responder, npc, Origin::answers_request).action == ErrorAction::hold);
}

TEST_CASE("once confirmed, a peer's later unauthenticated errors open the window at once") {
  Fixture f;
  const Notice npc = notice(notify_v2::no_proposal_chosen);
  f.guard.on_inbound_error(responder, npc, Origin::answers_request);
  f.clock.set(at(2s));
  REQUIRE(f.guard.on_inbound_error(responder, npc, Origin::answers_request).action == ErrorAction::hold);
  f.clock.set(at(62s));
  const ErrorOutcome next = f.guard.on_inbound_error(responder, npc, Origin::answers_request);
  CHECK(next.action == ErrorAction::hold);
  CHECK(next.strikes == 2);
  CHECK(next.until == at(62s + 120s));
}

TEST_CASE("after a success the next unauthenticated error needs confirming again") {
  Fixture f;
  const Notice npc = notice(notify_v2::no_proposal_chosen);
  f.guard.on_inbound_error(responder, npc, Origin::answers_request);
  f.guard.on_inbound_error(responder, npc, Origin::answers_request);
  f.guard.on_established(responder);
  CHECK(f.guard.on_inbound_error(responder, npc, Origin::answers_request).action ==
        ErrorAction::retry_later);
}

TEST_CASE("a configuration error after a lapsed window and a transient error escalates again") {
  // Once the first window has ended, a retry delay in between must not pass for it.
  Fixture f;
  const PeerKey responder = peer("198.51.100.7");
  const Notice npc = notice(notify_v2::no_proposal_chosen);
  CHECK(f.guard.on_inbound_error(responder, npc, Origin::authenticated).until == at(60s));
  f.clock.set(at(61s));
  const ErrorOutcome transient =
      f.guard.on_inbound_error(responder, notice(notify_v2::temporary_failure), Origin::authenticated);
  CHECK(transient.action == ErrorAction::retry_later);
  CHECK(transient.until == at(63s));
  f.clock.set(at(62s));
  const ErrorOutcome again = f.guard.on_inbound_error(responder, npc, Origin::authenticated);
  CHECK(again.action == ErrorAction::hold);
  CHECK(again.strikes == 2);
  CHECK(again.until == at(182s));
}
