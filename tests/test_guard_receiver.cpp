// SPDX-License-Identifier: MIT
// Step B: the receiver's window (T1) and its abnormal-information message.
#include "support.hpp"

using namespace ikeguard;
using namespace ikeguard::test;

TEST_CASE("a local rejection sends the notice once and opens the receiver window for T1") {
  Fixture f;
  const PeerKey initiator = peer("192.0.2.1:500");
  const Decision d = f.guard.on_local_rejection(initiator, notice(notify_v2::no_proposal_chosen));
  CHECK(d.verdict == Verdict::hold);
  CHECK(d.until == at(30s));
  CHECK(d.strikes == 1);
  REQUIRE(f.transport.sent.size() == 1);
  CHECK(f.transport.sent[0].peer == initiator);
  CHECK(f.transport.sent[0].notice.type == notify_v2::no_proposal_chosen);
  CHECK(f.transport.sent[0].notice.initiator_spi == 0x0123456789abcdefULL);
}

TEST_CASE("inbound proposals are dropped while the receiver window is open") {
  Fixture f;
  const PeerKey initiator = peer("192.0.2.1");
  f.guard.on_local_rejection(initiator, notice(notify_v2::no_proposal_chosen));
  f.clock.advance(29s);
  const Decision d = f.guard.on_inbound_proposal(initiator);
  CHECK(d.verdict == Verdict::hold);
  CHECK(d.until == at(30s));
  CHECK(d.strikes == 1);
  CHECK(f.guard.stats().dropped_inbound == 1);
}

TEST_CASE("the receiver window ends exactly at T1") {
  Fixture f;
  const PeerKey initiator = peer("192.0.2.1");
  f.guard.on_local_rejection(initiator, notice(notify_v2::no_proposal_chosen));
  f.clock.set(at(30s) - 1ns);
  CHECK(f.guard.on_inbound_proposal(initiator).verdict == Verdict::hold);
  f.clock.set(at(30s));
  const Decision d = f.guard.on_inbound_proposal(initiator);
  CHECK(d.verdict == Verdict::proceed);
  CHECK(d.strikes == 1);
}

TEST_CASE("a second rejection inside the window sends nothing and keeps the window") {
  Fixture f;
  const PeerKey initiator = peer("192.0.2.1");
  f.guard.on_local_rejection(initiator, notice(notify_v2::no_proposal_chosen));
  f.clock.advance(10s);
  const Decision d = f.guard.on_local_rejection(initiator, notice(notify_v2::no_proposal_chosen));
  CHECK(d.verdict == Verdict::hold);
  CHECK(d.until == at(30s));
  CHECK(d.strikes == 1);
  CHECK(f.transport.sent.size() == 1);
  CHECK(f.guard.stats().notices_sent == 1);
  CHECK(f.guard.stats().notices_suppressed == 1);
}

TEST_CASE("the receiver window does not hold outbound proposals to the same peer") {
  Fixture f;
  const PeerKey other = peer("192.0.2.1");
  f.guard.on_local_rejection(other, notice(notify_v2::no_proposal_chosen));
  const Decision d = f.guard.on_outbound_proposal(other);
  CHECK(d.verdict == Verdict::proceed);
  CHECK(d.strikes == 0);
}

TEST_CASE("a window toward one peer leaves other peers, ports and scopes alone") {
  Fixture f;
  f.guard.on_local_rejection(peer("192.0.2.1:500"), notice(notify_v2::no_proposal_chosen));
  CHECK(f.guard.on_inbound_proposal(peer("192.0.2.2:500")).verdict == Verdict::proceed);
  CHECK(f.guard.on_inbound_proposal(peer("192.0.2.1:4500")).verdict == Verdict::proceed);
  CHECK(f.guard.on_inbound_proposal(peer("192.0.2.1:500#3")).verdict == Verdict::proceed);
  CHECK(f.guard.on_inbound_proposal(peer("192.0.2.1:500")).verdict == Verdict::hold);
}

TEST_CASE("a rejection with a corrective notice is sent but opens no window") {
  Fixture f;
  const PeerKey initiator = peer("192.0.2.1");
  const Decision d = f.guard.on_local_rejection(initiator, notice(notify_v2::invalid_ke_payload));
  CHECK(d.verdict == Verdict::proceed);
  CHECK(f.transport.sent.size() == 1);
  CHECK(f.guard.on_inbound_proposal(initiator).verdict == Verdict::proceed);
  CHECK(f.guard.stats().peers_tracked == 0);
}

TEST_CASE("consecutive rejections escalate the receiver window by the backoff factor") {
  Fixture f;
  const PeerKey initiator = peer("192.0.2.1");
  const Notice npc = notice(notify_v2::no_proposal_chosen);
  CHECK(f.guard.on_local_rejection(initiator, npc).until == at(30s));
  f.clock.set(at(30s));
  CHECK(f.guard.on_local_rejection(initiator, npc).until == at(30s + 60s));
  f.clock.set(at(90s));
  const Decision third = f.guard.on_local_rejection(initiator, npc);
  CHECK(third.until == at(90s + 120s));
  CHECK(third.strikes == 3);
  CHECK(f.transport.sent.size() == 3);
}

TEST_CASE("a different known fingerprint lifts the receiver window at once") {
  Fixture f;
  const PeerKey initiator = peer("192.0.2.1");
  const Fingerprint old_config = f.guard.fingerprint("aes128-sha256-modp1024", 22);
  const Fingerprint new_config = f.guard.fingerprint("aes256-sha256-modp2048", 22);
  f.guard.on_local_rejection(initiator, notice(notify_v2::no_proposal_chosen), old_config);
  f.clock.advance(1s);
  CHECK(f.guard.on_inbound_proposal(initiator, old_config).verdict == Verdict::hold);
  const Decision lifted = f.guard.on_inbound_proposal(initiator, new_config);
  CHECK(lifted.verdict == Verdict::proceed);
  CHECK(f.guard.stats().fingerprint_lifts == 1);
  // The window is gone: the old configuration is no longer held either.
  CHECK(f.guard.on_inbound_proposal(initiator, old_config).verdict == Verdict::proceed);
}

TEST_CASE("an unknown fingerprint never lifts the receiver window") {
  Fixture f;
  const PeerKey initiator = peer("192.0.2.1");
  const Fingerprint config = f.guard.fingerprint("proposal", 8);
  f.guard.on_local_rejection(initiator, notice(notify_v2::no_proposal_chosen), config);
  CHECK(f.guard.on_inbound_proposal(initiator, Fingerprint{}).verdict == Verdict::hold);
  CHECK(f.guard.stats().fingerprint_lifts == 0);
}

TEST_CASE("a window opened without a fingerprint is lifted by no fingerprint") {
  Fixture f;
  const PeerKey initiator = peer("192.0.2.1");
  f.guard.on_local_rejection(initiator, notice(notify_v2::no_proposal_chosen));
  CHECK(f.guard.on_inbound_proposal(initiator, f.guard.fingerprint("x", 1)).verdict ==
        Verdict::hold);
}

TEST_CASE("a rejection of a changed configuration inside the window sends a new notice") {
  Fixture f;
  const PeerKey initiator = peer("192.0.2.1");
  const Fingerprint first = f.guard.fingerprint("first", 5);
  const Fingerprint second = f.guard.fingerprint("second", 6);
  f.guard.on_local_rejection(initiator, notice(notify_v2::no_proposal_chosen), first);
  f.clock.advance(5s);
  const Decision d = f.guard.on_local_rejection(initiator, notice(notify_v2::ts_unacceptable), second);
  CHECK(d.strikes == 2);
  CHECK(d.until == at(5s + 60s));
  REQUIRE(f.transport.sent.size() == 2);
  CHECK(f.transport.sent[1].notice.type == notify_v2::ts_unacceptable);
}
