// SPDX-License-Identifier: MIT
// fmt output of every public type.
#include "support.hpp"

#include <ikeguard/format.hpp>

#include <fmt/format.h>

#include <chrono>
#include <string>

using namespace ikeguard;
using namespace ikeguard::test;

// ---------------------------------------------------------------------------------------------
// PeerKey

TEST_CASE("a PeerKey formats as its canonical text") {
  CHECK(fmt::format("{}", peer("192.0.2.1")) == "192.0.2.1:500");
  CHECK(fmt::format("{}", peer("192.0.2.1:4500")) == "192.0.2.1:4500");
  CHECK(fmt::format("{}", peer("2001:DB8:0:0:0:0:0:1")) == "[2001:db8::1]:500");
  CHECK(fmt::format("{}", peer("[2001:db8::1]:4500#7")) == "[2001:db8::1]:4500#7");
  CHECK(fmt::format("{}", peer("10.1.2.3#4294967295")) == "10.1.2.3:500#4294967295");
  CHECK(fmt::format("{}", peer("::ffff:198.51.100.7")) == "198.51.100.7:500");
  CHECK(fmt::format("{}", PeerKey{}) == "none");
}

TEST_CASE("a PeerKey honours width and alignment") {
  const PeerKey key = peer("192.0.2.1");  // 13 characters
  CHECK(fmt::format("{:>20}", key) == "       192.0.2.1:500");
  CHECK(fmt::format("{:<20}|", key) == "192.0.2.1:500       |");
  CHECK(fmt::format("{:^17}", key) == "  192.0.2.1:500  ");
  CHECK(fmt::format("{:*>16}", key) == "***192.0.2.1:500");
  CHECK(fmt::format("{:20}|", key) == "192.0.2.1:500       |");  // strings align left by default
  CHECK(fmt::format("{:5}", key) == "192.0.2.1:500");          // never truncated
  CHECK(fmt::format("{:>24}", peer("[fe80::1]:4500#3")) == "        [fe80::1]:4500#3");
}

// ---------------------------------------------------------------------------------------------
// Fingerprint

TEST_CASE("an unknown Fingerprint formats as unknown") {
  CHECK(fmt::format("{}", Fingerprint{}) == "unknown");
  CHECK(fmt::format("{}", Fingerprint::from_value(0)) == "unknown");
}

TEST_CASE("a known Fingerprint formats as 16 lowercase hex digits") {
  CHECK(fmt::format("{}", Fingerprint::from_value(0x0123456789ABCDEFull)) == "0123456789abcdef");
  CHECK(fmt::format("{}", Fingerprint::from_value(0xffull)) == "00000000000000ff");
  CHECK(fmt::format("{}", Fingerprint::from_value(0xFFFFFFFFFFFFFFFFull)) == "ffffffffffffffff");
}

// ---------------------------------------------------------------------------------------------
// Notice

TEST_CASE("a Notice of a known type formats with the type's name") {
  CHECK(fmt::format("{}", notice(notify_v2::no_proposal_chosen)) ==
        "IKEv2 NO_PROPOSAL_CHOSEN(14) spi=0123456789abcdef/0000000000000000 mid=0");

  Notice v1;
  v1.version = IkeVersion::v1;
  v1.type = notify_v1::no_proposal_chosen;
  v1.initiator_spi = 0xfedcba9876543210ull;
  v1.responder_spi = 0x1ull;
  v1.message_id = 4294967295u;
  CHECK(fmt::format("{}", v1) ==
        "IKEv1 NO-PROPOSAL-CHOSEN(14) spi=fedcba9876543210/0000000000000001 mid=4294967295");
}

TEST_CASE("a Notice of an unknown type formats as notify and its number") {
  Notice n = notice(12345);
  n.message_id = 7;
  CHECK(fmt::format("{}", n) ==
        "IKEv2 notify(12345) spi=0123456789abcdef/0000000000000000 mid=7");
  CHECK(fmt::format("{}", Notice{}) ==
        "IKEv2 notify(0) spi=0000000000000000/0000000000000000 mid=0");
}

// ---------------------------------------------------------------------------------------------
// Enums

TEST_CASE("every enum value formats as its name") {
  CHECK(fmt::format("{}", IkeVersion::v1) == "IKEv1");
  CHECK(fmt::format("{}", IkeVersion::v2) == "IKEv2");

  CHECK(fmt::format("{}", Origin::authenticated) == "authenticated");
  CHECK(fmt::format("{}", Origin::answers_request) == "answers_request");
  CHECK(fmt::format("{}", Origin::unsolicited) == "unsolicited");

  CHECK(fmt::format("{}", NotifyClass::configuration) == "configuration");
  CHECK(fmt::format("{}", NotifyClass::retry_now) == "retry_now");
  CHECK(fmt::format("{}", NotifyClass::retry_later) == "retry_later");
  CHECK(fmt::format("{}", NotifyClass::ignored) == "ignored");

  CHECK(fmt::format("{}", Verdict::proceed) == "proceed");
  CHECK(fmt::format("{}", Verdict::hold) == "hold");

  CHECK(fmt::format("{}", ErrorAction::hold) == "hold");
  CHECK(fmt::format("{}", ErrorAction::retry_now) == "retry_now");
  CHECK(fmt::format("{}", ErrorAction::retry_later) == "retry_later");
  CHECK(fmt::format("{}", ErrorAction::ignored) == "ignored");
}

TEST_CASE("every Errc formats as its identifier") {
  CHECK(fmt::format("{}", Errc::ok) == "ok");
  CHECK(fmt::format("{}", Errc::invalid_receiver_window) == "invalid_receiver_window");
  CHECK(fmt::format("{}", Errc::invalid_sender_window) == "invalid_sender_window");
  CHECK(fmt::format("{}", Errc::invalid_backoff) == "invalid_backoff");
  CHECK(fmt::format("{}", Errc::invalid_max_window) == "invalid_max_window");
  CHECK(fmt::format("{}", Errc::invalid_confirmations) == "invalid_confirmations");
  CHECK(fmt::format("{}", Errc::invalid_retry_delay) == "invalid_retry_delay");
  CHECK(fmt::format("{}", Errc::invalid_jitter) == "invalid_jitter");
  CHECK(fmt::format("{}", Errc::invalid_forgive_after) == "invalid_forgive_after");
  CHECK(fmt::format("{}", Errc::invalid_max_peers) == "invalid_max_peers");
  CHECK(fmt::format("{}", Errc::out_of_memory) == "out_of_memory");
  CHECK(fmt::format("{}", Errc::crypto_unavailable) == "crypto_unavailable");
}

TEST_CASE("enum values honour width and alignment") {
  CHECK(fmt::format("{:>8}|", Verdict::hold) == "    hold|");
  CHECK(fmt::format("{:<12}|", NotifyClass::ignored) == "ignored     |");
  CHECK(fmt::format("{:^7}", IkeVersion::v1) == " IKEv1 ");
}

// ---------------------------------------------------------------------------------------------
// TimePoint

TEST_CASE("a TimePoint wrapped in since_epoch formats as seconds since the epoch with milliseconds") {
  CHECK(fmt::format("{}", since_epoch(at(90s))) == "t=90.000s");
  CHECK(fmt::format("{}", since_epoch(TimePoint{})) == "t=0.000s");
  CHECK(fmt::format("{}", since_epoch(at(1ms))) == "t=0.001s");
  CHECK(fmt::format("{}", since_epoch(at(60s + 250ms))) == "t=60.250s");
  CHECK(fmt::format("{}", since_epoch(at(24h))) == "t=86400.000s");
  CHECK(fmt::format("{}", since_epoch(at(1s + 999999999ns))) == "t=1.999s");  // below a millisecond: cut
}

TEST_CASE("a TimePoint before the epoch wrapped in since_epoch formats with a minus sign") {
  CHECK(fmt::format("{}", since_epoch(at(-500ms))) == "t=-0.500s");
  CHECK(fmt::format("{}", since_epoch(at(-90s))) == "t=-90.000s");
  CHECK(fmt::format("{}", since_epoch(at(-1s - 5ms))) == "t=-1.005s");
}

// ---------------------------------------------------------------------------------------------
// Decision and ErrorOutcome

TEST_CASE("a hold Decision formats with its end and strikes") {
  const Decision d{Verdict::hold, at(90s), 1};
  CHECK(fmt::format("{}", d) == "hold until t=90.000s, strikes 1");
}

TEST_CASE("a proceed Decision formats with its strikes only") {
  const Decision d{Verdict::proceed, at(5s), 0};
  CHECK(fmt::format("{}", d) == "proceed, strikes 0");
  const Decision after{Verdict::proceed, at(5s), 3};
  CHECK(fmt::format("{}", after) == "proceed, strikes 3");
}

TEST_CASE("an ErrorOutcome formats each action") {
  CHECK(fmt::format("{}", ErrorOutcome{ErrorAction::hold, at(60s), 1}) ==
        "hold until t=60.000s, strikes 1");
  CHECK(fmt::format("{}", ErrorOutcome{ErrorAction::retry_later, at(2s), 0}) ==
        "retry_later until t=2.000s, strikes 0");
  CHECK(fmt::format("{}", ErrorOutcome{ErrorAction::retry_now, at(7s), 0}) ==
        "retry_now, strikes 0");
  CHECK(fmt::format("{}", ErrorOutcome{ErrorAction::ignored, at(7s), 2}) ==
        "ignored, strikes 2");
}

TEST_CASE("a guard's answers format as the documented examples") {
  Fixture f;
  const PeerKey responder = peer("192.0.2.1");
  CHECK(fmt::format("{}", f.guard.on_inbound_error(responder, notice(notify_v2::no_proposal_chosen),
                                                   Origin::authenticated)) ==
        "hold until t=60.000s, strikes 1");
  f.clock.set(at(30s));
  CHECK(fmt::format("{}", f.guard.on_outbound_proposal(responder)) ==
        "hold until t=60.000s, strikes 1");
  f.clock.set(at(90s));
  CHECK(fmt::format("{}", f.guard.on_outbound_proposal(responder)) == "proceed, strikes 1");
}

// ---------------------------------------------------------------------------------------------
// Stats and Policy

TEST_CASE("a default Stats formats every counter as zero") {
  CHECK(fmt::format("{}", Stats{}) ==
        "proceeded_outbound=0 held_outbound=0 proceeded_inbound=0 dropped_inbound=0 "
        "notices_sent=0 notices_suppressed=0 errors_honoured=0 retried_now=0 "
        "retried_later=0 awaiting_confirmation=0 ignored=0 unsolicited=0 "
        "fingerprint_lifts=0 established=0 evictions=0 peers_tracked=0 capacity=0 "
        "table_bytes=0 records_applied=0 records_refused=0");
}

TEST_CASE("Stats format each counter under its own name") {
  Stats s;
  s.proceeded_outbound = 1;
  s.held_outbound = 2;
  s.proceeded_inbound = 3;
  s.dropped_inbound = 4;
  s.notices_sent = 5;
  s.notices_suppressed = 6;
  s.errors_honoured = 7;
  s.retried_now = 8;
  s.retried_later = 9;
  s.awaiting_confirmation = 10;
  s.ignored = 11;
  s.unsolicited = 12;
  s.fingerprint_lifts = 13;
  s.established = 14;
  s.evictions = 15;
  s.peers_tracked = 16;
  s.capacity = 18446744073709551615ull;
  s.table_bytes = 19;
  s.records_applied = 20;
  s.records_refused = 21;
  CHECK(fmt::format("{}", s) ==
        "proceeded_outbound=1 held_outbound=2 proceeded_inbound=3 dropped_inbound=4 "
        "notices_sent=5 notices_suppressed=6 errors_honoured=7 retried_now=8 "
        "retried_later=9 awaiting_confirmation=10 ignored=11 unsolicited=12 "
        "fingerprint_lifts=13 established=14 evictions=15 peers_tracked=16 "
        "capacity=18446744073709551615 table_bytes=19 records_applied=20 records_refused=21");
}

TEST_CASE("the default Policy formats with the documented values") {
  CHECK(fmt::format("{}", Policy{}) ==
        "receiver_window=30.000s sender_window=60.000s backoff=2 max_window=300.000s "
        "unauthenticated_confirmations=2 retry_delay=2.000s jitter=0.1 "
        "forgive_after=86400.000s max_peers=65536 notify_overrides=0");
}

TEST_CASE("a changed Policy formats its values and override count") {
  Policy policy;
  policy.receiver_window = 1500ms;
  policy.backoff = 1.5;
  policy.jitter = 0.0;
  policy.max_peers = 1;
  REQUIRE(policy.notify_classes.set(IkeVersion::v2, notify_v2::cookie, NotifyClass::ignored));
  REQUIRE(policy.notify_classes.set(IkeVersion::v1, 14, NotifyClass::ignored));
  CHECK(fmt::format("{}", policy) ==
        "receiver_window=1.500s sender_window=60.000s backoff=1.5 max_window=300.000s "
        "unauthenticated_confirmations=2 retry_delay=2.000s jitter=0 "
        "forgive_after=86400.000s max_peers=1 notify_overrides=2");
}

TEST_CASE("a RestoreReport formats what was restored and what was dropped") {
  RestoreReport report;
  report.restored = 65536;
  report.dropped = 12;
  CHECK(fmt::format("{}", report) == "restored=65536 dropped=12");
}
