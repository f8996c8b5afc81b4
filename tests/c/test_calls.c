/* SPDX-License-Identifier: MIT */
// The five calls of the contract through the C API, with a manual clock and a recording
// transport: exact decisions, the sockaddr the transport receives, the counters, and every
// way a call can be refused.
#include "check.h"

#define T0 (1000 * SECOND_NS)

enum {
  NO_PROPOSAL_CHOSEN = 14,
  INVALID_KE_PAYLOAD = 17,
  TEMPORARY_FAILURE = 43,
  INITIAL_CONTACT = 16384
};

typedef struct fixture {
  manual_clock clock;
  recording_transport transport;
  ikeguard* guard;
} fixture;

static void fixture_init(fixture* f, const ikeguard_policy* policy) {
  ikeguard_clock c_clock;
  ikeguard_transport c_transport;
  memset(f, 0, sizeof *f);
  f->clock.now = T0;
  c_clock.now = manual_clock_now;
  c_clock.ctx = &f->clock;
  c_transport.send_notice = recording_transport_send;
  c_transport.ctx = &f->transport;
  if (ikeguard_create(&f->guard, policy, &c_clock, &c_transport) != IKEGUARD_OK) {
    fprintf(stderr, "cannot create the guard\n");
  }
}

static void check_decision(const char* file, int line, ikeguard_decision decision,
                           ikeguard_verdict verdict, uint64_t until_ns, uint32_t strikes) {
  char detail[128];
  ++check_count;
  if (decision.verdict != verdict || decision.until_ns != until_ns || decision.strikes != strikes) {
    snprintf(detail, sizeof detail, "verdict %d until %llu strikes %u", (int)decision.verdict,
             (unsigned long long)decision.until_ns, (unsigned)decision.strikes);
    check_fail(file, line, "decision", detail);
  }
}
#define CHECK_DECISION(decision, verdict, until_ns, strikes) \
  check_decision(__FILE__, __LINE__, decision, verdict, until_ns, strikes)

static void check_outcome(const char* file, int line, ikeguard_error_outcome outcome,
                          ikeguard_error_action action, uint64_t until_ns, uint32_t strikes) {
  char detail[128];
  ++check_count;
  if (outcome.action != action || outcome.until_ns != until_ns || outcome.strikes != strikes) {
    snprintf(detail, sizeof detail, "action %d until %llu strikes %u", (int)outcome.action,
             (unsigned long long)outcome.until_ns, (unsigned)outcome.strikes);
    check_fail(file, line, "outcome", detail);
  }
}
#define CHECK_OUTCOME(outcome, action, until_ns, strikes) \
  check_outcome(__FILE__, __LINE__, outcome, action, until_ns, strikes)

#define SA(address) ((const struct sockaddr*)&(address))

/// The sender's side (steps A and C) toward one responder, every error class, and the counters.
static void test_sender(void) {
  fixture f;
  ikeguard_policy policy = exact_policy();
  const struct sockaddr_in responder = ipv4_peer("203.0.113.9", 500);
  const ikeguard_notice npc = error_notice(NO_PROPOSAL_CHOSEN);
  ikeguard_notice notice;
  ikeguard_decision d;
  ikeguard_error_outcome o;
  ikeguard_stats s;
  uint64_t old_config, new_config;

  fixture_init(&f, &policy);
  ikeguard_stats_init(&s);
  old_config = ikeguard_fingerprint(f.guard, "aes128-sha1-modp1024", 20);
  new_config = ikeguard_fingerprint(f.guard, "aes256gcm16-prfsha384-ecp384", 28);

  // Step A, then an unauthenticated NO_PROPOSAL_CHOSEN: not trusted yet, retry after 2 s.
  CHECK_EQ(
      ikeguard_on_outbound_proposal(f.guard, SA(responder), sizeof responder, 0, old_config, &d),
      IKEGUARD_OK);
  CHECK_DECISION(d, ikeguard_verdict_proceed, 0, 0);
  CHECK_EQ(ikeguard_on_inbound_error(f.guard, SA(responder), sizeof responder, 0, &npc,
                                     ikeguard_origin_answers_request, &o),
           IKEGUARD_OK);
  CHECK_OUTCOME(o, ikeguard_action_retry_later, T0 + 2 * SECOND_NS, 0);
  ikeguard_on_outbound_proposal(f.guard, SA(responder), sizeof responder, 0, old_config, &d);
  CHECK_DECISION(d, ikeguard_verdict_hold, T0 + 2 * SECOND_NS, 0);

  // The second one confirms it: T2 = 60 s opens.
  f.clock.now = T0 + 2 * SECOND_NS;
  ikeguard_on_outbound_proposal(f.guard, SA(responder), sizeof responder, 0, old_config, &d);
  CHECK_DECISION(d, ikeguard_verdict_proceed, 0, 0);
  ikeguard_on_inbound_error(f.guard, SA(responder), sizeof responder, 0, &npc,
                            ikeguard_origin_answers_request, &o);
  CHECK_OUTCOME(o, ikeguard_action_hold, T0 + 62 * SECOND_NS, 1);
  f.clock.now = T0 + 10 * SECOND_NS;
  ikeguard_on_outbound_proposal(f.guard, SA(responder), sizeof responder, 0, old_config, &d);
  CHECK_DECISION(d, ikeguard_verdict_hold, T0 + 62 * SECOND_NS, 1);
  // The sender window does not gate what the peer sends us.
  ikeguard_on_inbound_proposal(f.guard, SA(responder), sizeof responder, 0, 0, &d);
  CHECK_DECISION(d, ikeguard_verdict_proceed, 0, 0);

  // The administrator fixes the configuration: a new fingerprint passes at once.
  ikeguard_on_outbound_proposal(f.guard, SA(responder), sizeof responder, 0, new_config, &d);
  CHECK_DECISION(d, ikeguard_verdict_proceed, 0, 1);
  CHECK_EQ(ikeguard_on_established(f.guard, SA(responder), sizeof responder, 0), IKEGUARD_OK);
  ikeguard_on_outbound_proposal(f.guard, SA(responder), sizeof responder, 0, new_config, &d);
  CHECK_DECISION(d, ikeguard_verdict_proceed, 0, 0);

  // The other classes.
  notice = error_notice(INVALID_KE_PAYLOAD);
  ikeguard_on_inbound_error(f.guard, SA(responder), sizeof responder, 0, &notice,
                            ikeguard_origin_answers_request, &o);
  CHECK_OUTCOME(o, ikeguard_action_retry_now, 0, 0);
  notice = error_notice(INITIAL_CONTACT);
  ikeguard_on_inbound_error(f.guard, SA(responder), sizeof responder, 0, &notice,
                            ikeguard_origin_authenticated, &o);
  CHECK_OUTCOME(o, ikeguard_action_ignored, 0, 0);
  ikeguard_on_inbound_error(f.guard, SA(responder), sizeof responder, 0, &npc,
                            ikeguard_origin_unsolicited, &o);
  CHECK_OUTCOME(o, ikeguard_action_ignored, 0, 0);
  notice = error_notice(TEMPORARY_FAILURE);
  ikeguard_on_inbound_error(f.guard, SA(responder), sizeof responder, 0, &notice,
                            ikeguard_origin_authenticated, &o);
  CHECK_OUTCOME(o, ikeguard_action_retry_later, T0 + 12 * SECOND_NS, 0);

  // An authenticated configuration error (IKEv1 here) acts at once.
  f.clock.now = T0 + 20 * SECOND_NS;
  notice = error_notice(NO_PROPOSAL_CHOSEN);
  notice.version = ikeguard_ikev1;
  ikeguard_on_inbound_error(f.guard, SA(responder), sizeof responder, 0, &notice,
                            ikeguard_origin_authenticated, &o);
  CHECK_OUTCOME(o, ikeguard_action_hold, T0 + 80 * SECOND_NS, 1);

  CHECK_EQ(ikeguard_get_stats(f.guard, &s), IKEGUARD_OK);
  CHECK_EQ(s.proceeded_outbound, 4);
  CHECK_EQ(s.held_outbound, 2);
  CHECK_EQ(s.proceeded_inbound, 1);
  CHECK_EQ(s.dropped_inbound, 0);
  CHECK_EQ(s.notices_sent, 0);
  CHECK_EQ(s.notices_suppressed, 0);
  CHECK_EQ(s.errors_honoured, 2);
  CHECK_EQ(s.retried_now, 1);
  CHECK_EQ(s.retried_later, 2);
  CHECK_EQ(s.awaiting_confirmation, 1);
  CHECK_EQ(s.ignored, 2);
  CHECK_EQ(s.unsolicited, 1);
  CHECK_EQ(s.fingerprint_lifts, 1);
  CHECK_EQ(s.established, 1);
  CHECK_EQ(s.evictions, 0);
  CHECK_EQ(s.peers_tracked, 1);
  CHECK_EQ(s.capacity, 65536);
  CHECK_EQ(f.transport.sent, 0);
  ikeguard_destroy(f.guard);
}

/// The receiver's side (step B and the gate): the transport gets the peer and the notice.
static void test_receiver(void) {
  fixture f;
  ikeguard_policy policy = exact_policy();
  const struct sockaddr_in initiator = ipv4_peer("198.51.100.7", 4500);
  const struct sockaddr_in* sent;
  ikeguard_notice npc = error_notice(NO_PROPOSAL_CHOSEN);
  ikeguard_notice ke = error_notice(INVALID_KE_PAYLOAD);
  ikeguard_decision d;
  ikeguard_stats s;
  uint64_t refused_config, other_config;

  fixture_init(&f, &policy);
  ikeguard_stats_init(&s);
  refused_config = ikeguard_fingerprint(f.guard, "3des-md5-modp768", 16);
  other_config = ikeguard_fingerprint(f.guard, "aes128-sha256-x25519", 20);
  npc.responder_spi = UINT64_C(0xfedcba9876543210);
  npc.message_id = 7;

  CHECK_EQ(
      ikeguard_on_inbound_proposal(f.guard, SA(initiator), sizeof initiator, 3, refused_config, &d),
      IKEGUARD_OK);
  CHECK_DECISION(d, ikeguard_verdict_proceed, 0, 0);
  CHECK_EQ(ikeguard_on_local_rejection(f.guard, SA(initiator), sizeof initiator, 3, &npc,
                                       refused_config, &d),
           IKEGUARD_OK);
  CHECK_DECISION(d, ikeguard_verdict_hold, T0 + 30 * SECOND_NS, 1);

  // The notice went out once, to the initiator's address and port, with the daemon's scope.
  CHECK_EQ(f.transport.sent, 1);
  CHECK_EQ(f.transport.peer_len, sizeof(struct sockaddr_in));
  sent = (const struct sockaddr_in*)&f.transport.peer;
  CHECK_EQ(sent->sin_family, AF_INET);
  CHECK_EQ(ntohs(sent->sin_port), 4500);
  CHECK(memcmp(&sent->sin_addr, &initiator.sin_addr, 4) == 0);
  CHECK_EQ(f.transport.scope, 3);
  CHECK_EQ(f.transport.notice.version, ikeguard_ikev2);
  CHECK_EQ(f.transport.notice.type, NO_PROPOSAL_CHOSEN);
  CHECK(f.transport.notice.initiator_spi == UINT64_C(0x1122334455667788));
  CHECK(f.transport.notice.responder_spi == UINT64_C(0xfedcba9876543210));
  CHECK_EQ(f.transport.notice.message_id, 7);

  // Inside T1: dropped, and a second rejection sends nothing.
  f.clock.now = T0 + 29 * SECOND_NS;
  ikeguard_on_inbound_proposal(f.guard, SA(initiator), sizeof initiator, 3, refused_config, &d);
  CHECK_DECISION(d, ikeguard_verdict_hold, T0 + 30 * SECOND_NS, 1);
  ikeguard_on_local_rejection(f.guard, SA(initiator), sizeof initiator, 3, &npc, refused_config,
                              &d);
  CHECK_DECISION(d, ikeguard_verdict_hold, T0 + 30 * SECOND_NS, 1);
  CHECK_EQ(f.transport.sent, 1);
  // Another scope is another peer; the sender side toward the initiator is not held.
  ikeguard_on_inbound_proposal(f.guard, SA(initiator), sizeof initiator, 0, refused_config, &d);
  CHECK_DECISION(d, ikeguard_verdict_proceed, 0, 0);
  ikeguard_on_outbound_proposal(f.guard, SA(initiator), sizeof initiator, 3, 0, &d);
  CHECK_DECISION(d, ikeguard_verdict_proceed, 0, 0);

  // A corrective notice is sent every time and opens nothing.
  ikeguard_on_local_rejection(f.guard, SA(initiator), sizeof initiator, 0, &ke, 0, &d);
  CHECK_DECISION(d, ikeguard_verdict_proceed, 0, 0);
  CHECK_EQ(f.transport.sent, 2);
  CHECK_EQ(f.transport.notice.type, INVALID_KE_PAYLOAD);
  CHECK_EQ(f.transport.scope, 0);

  // A changed configuration lifts the window; then T1 ends exactly on time.
  ikeguard_on_inbound_proposal(f.guard, SA(initiator), sizeof initiator, 3, other_config, &d);
  CHECK_DECISION(d, ikeguard_verdict_proceed, 0, 1);

  CHECK_EQ(ikeguard_get_stats(f.guard, &s), IKEGUARD_OK);
  CHECK_EQ(s.proceeded_outbound, 1);
  CHECK_EQ(s.held_outbound, 0);
  CHECK_EQ(s.proceeded_inbound, 3);
  CHECK_EQ(s.dropped_inbound, 1);
  CHECK_EQ(s.notices_sent, 2);
  CHECK_EQ(s.notices_suppressed, 1);
  CHECK_EQ(s.errors_honoured, 0);
  CHECK_EQ(s.retried_now, 0);
  CHECK_EQ(s.retried_later, 0);
  CHECK_EQ(s.awaiting_confirmation, 0);
  CHECK_EQ(s.ignored, 0);
  CHECK_EQ(s.unsolicited, 0);
  CHECK_EQ(s.fingerprint_lifts, 1);
  CHECK_EQ(s.established, 0);
  CHECK_EQ(s.evictions, 0);
  CHECK_EQ(s.capacity, 65536);
  ikeguard_destroy(f.guard);
}

/// IPv6 peers reach the transport as sockaddr_in6; IPv4-mapped ones are their IPv4 peer.
static void test_ipv6_peers(void) {
  fixture f;
  ikeguard_policy policy = exact_policy();
  const struct sockaddr_in6 v6 = ipv6_peer("2001:db8::1", 500);
  const struct sockaddr_in6 mapped = ipv6_peer("::ffff:192.0.2.1", 4500);
  const struct sockaddr_in v4 = ipv4_peer("192.0.2.1", 4500);
  const struct sockaddr_in6* sent6;
  const struct sockaddr_in* sent4;
  const ikeguard_notice npc = error_notice(NO_PROPOSAL_CHOSEN);
  ikeguard_decision d;

  fixture_init(&f, &policy);
  CHECK_EQ(ikeguard_on_local_rejection(f.guard, SA(v6), sizeof v6, 0, &npc, 0, &d), IKEGUARD_OK);
  CHECK_DECISION(d, ikeguard_verdict_hold, T0 + 30 * SECOND_NS, 1);
  CHECK_EQ(f.transport.sent, 1);
  CHECK_EQ(f.transport.peer_len, sizeof(struct sockaddr_in6));
  sent6 = (const struct sockaddr_in6*)&f.transport.peer;
  CHECK_EQ(sent6->sin6_family, AF_INET6);
  CHECK_EQ(ntohs(sent6->sin6_port), 500);
  CHECK(memcmp(&sent6->sin6_addr, &v6.sin6_addr, 16) == 0);
  CHECK_EQ(sent6->sin6_scope_id, 0);
  CHECK_EQ(sent6->sin6_flowinfo, 0);
  ikeguard_on_inbound_proposal(f.guard, SA(v6), sizeof v6, 0, 0, &d);
  CHECK_DECISION(d, ikeguard_verdict_hold, T0 + 30 * SECOND_NS, 1);

  // Seen through a dual-stack socket, then through an IPv4 one: one peer.
  CHECK_EQ(ikeguard_on_local_rejection(f.guard, SA(mapped), sizeof mapped, 0, &npc, 0, &d),
           IKEGUARD_OK);
  CHECK_EQ(f.transport.sent, 2);
  CHECK_EQ(f.transport.peer_len, sizeof(struct sockaddr_in));
  sent4 = (const struct sockaddr_in*)&f.transport.peer;
  CHECK_EQ(sent4->sin_family, AF_INET);
  CHECK_EQ(ntohs(sent4->sin_port), 4500);
  CHECK(memcmp(&sent4->sin_addr, &v4.sin_addr, 4) == 0);
  ikeguard_on_inbound_proposal(f.guard, SA(v4), sizeof v4, 0, 0, &d);
  CHECK_DECISION(d, ikeguard_verdict_hold, T0 + 30 * SECOND_NS, 1);

  // A longer buffer (sockaddr_storage, as recvfrom fills it) is fine.
  {
    struct sockaddr_storage storage;
    memset(&storage, 0, sizeof storage);
    memcpy(&storage, &v4, sizeof v4);
    CHECK_EQ(ikeguard_on_inbound_proposal(f.guard, SA(storage), sizeof storage, 0, 0, &d),
             IKEGUARD_OK);
    CHECK_DECISION(d, ikeguard_verdict_hold, T0 + 30 * SECOND_NS, 1);
  }
  ikeguard_destroy(f.guard);
}

/// Calls each of the five with one peer address; all must answer `expected`.
static void check_all_calls(const char* file, int line, ikeguard* guard,
                            const struct sockaddr* peer, size_t peer_len, int expected) {
  const ikeguard_notice npc = error_notice(NO_PROPOSAL_CHOSEN);
  ikeguard_decision d;
  ikeguard_error_outcome o;
  int results[5];
  int i;
  results[0] = ikeguard_on_outbound_proposal(guard, peer, peer_len, 0, 0, &d);
  results[1] =
      ikeguard_on_inbound_error(guard, peer, peer_len, 0, &npc, ikeguard_origin_authenticated, &o);
  results[2] = ikeguard_on_inbound_proposal(guard, peer, peer_len, 0, 0, &d);
  results[3] = ikeguard_on_local_rejection(guard, peer, peer_len, 0, &npc, 0, &d);
  results[4] = ikeguard_on_established(guard, peer, peer_len, 0);
  for (i = 0; i < 5; ++i) {
    char detail[64];
    ++check_count;
    if (results[i] != expected) {
      snprintf(detail, sizeof detail, "call %d answered %d, expected %d", i, results[i], expected);
      check_fail(file, line, "every call refuses the address", detail);
    }
  }
}
#define CHECK_ALL_CALLS(guard, peer, peer_len, expected) \
  check_all_calls(__FILE__, __LINE__, guard, peer, peer_len, expected)

static void test_refused_addresses(void) {
  fixture f;
  ikeguard_policy policy = exact_policy();
  const struct sockaddr_in v4 = ipv4_peer("192.0.2.1", 500);
  const struct sockaddr_in v4_port_0 = ipv4_peer("192.0.2.1", 0);
  const struct sockaddr_in6 v6 = ipv6_peer("2001:db8::1", 500);
  const struct sockaddr_in6 v6_port_0 = ipv6_peer("2001:db8::1", 0);
  struct sockaddr_storage unix_family;
  struct sockaddr_in v4_as_v6;
  ikeguard_stats s;

  fixture_init(&f, &policy);
  ikeguard_stats_init(&s);
  memset(&unix_family, 0, sizeof unix_family);
  unix_family.ss_family = AF_UNIX;
  v4_as_v6 = v4;
  v4_as_v6.sin_family = AF_INET6;

  CHECK_ALL_CALLS(f.guard, SA(unix_family), sizeof unix_family,
                  ikeguard_error_unsupported_address_family);
  CHECK_ALL_CALLS(f.guard, SA(v4), sizeof v4 - 1, ikeguard_error_unsupported_address_family);
  CHECK_ALL_CALLS(f.guard, SA(v4), 1, ikeguard_error_unsupported_address_family);
  CHECK_ALL_CALLS(f.guard, SA(v4), 0, ikeguard_error_unsupported_address_family);
  CHECK_ALL_CALLS(f.guard, SA(v6), sizeof v6 - 1, ikeguard_error_unsupported_address_family);
  CHECK_ALL_CALLS(f.guard, SA(v4_as_v6), sizeof v4_as_v6,
                  ikeguard_error_unsupported_address_family);
  CHECK_ALL_CALLS(f.guard, SA(v4_port_0), sizeof v4_port_0,
                  ikeguard_error_unsupported_address_family);
  CHECK_ALL_CALLS(f.guard, SA(v6_port_0), sizeof v6_port_0,
                  ikeguard_error_unsupported_address_family);
  CHECK_ALL_CALLS(f.guard, NULL, sizeof v4, ikeguard_error_invalid_argument);
  CHECK_ALL_CALLS(NULL, SA(v4), sizeof v4, ikeguard_error_invalid_argument);

  // None of it reached the guard.
  CHECK_EQ(ikeguard_get_stats(f.guard, &s), IKEGUARD_OK);
  CHECK_EQ(s.proceeded_outbound + s.held_outbound + s.proceeded_inbound + s.dropped_inbound, 0);
  CHECK_EQ(s.errors_honoured + s.ignored + s.established + s.notices_sent + s.peers_tracked, 0);
  CHECK_EQ(f.transport.sent, 0);

  // The same guard still works.
  CHECK_ALL_CALLS(f.guard, SA(v4), sizeof v4, IKEGUARD_OK);
  CHECK_EQ(f.transport.sent, 1);
  ikeguard_destroy(f.guard);
}

/// Missing handles, notices and out-structs, bad enums: refused, and the out-structs say
/// what a daemon without the guard would do.
static void test_refused_arguments(void) {
  fixture f;
  ikeguard_policy policy = exact_policy();
  const struct sockaddr_in peer = ipv4_peer("192.0.2.1", 500);
  const ikeguard_notice npc = error_notice(NO_PROPOSAL_CHOSEN);
  ikeguard_notice bad_version = npc;
  ikeguard_decision d;
  ikeguard_error_outcome o;
  ikeguard_stats s;
  const ikeguard_decision held = {.verdict = ikeguard_verdict_hold, .strikes = 5, .until_ns = 5};
  const ikeguard_error_outcome honoured = {
      .action = ikeguard_action_hold, .strikes = 5, .until_ns = 5};

  fixture_init(&f, &policy);
  ikeguard_stats_init(&s);

  d = held;
  CHECK_EQ(ikeguard_on_outbound_proposal(NULL, SA(peer), sizeof peer, 0, 0, &d),
           ikeguard_error_invalid_argument);
  CHECK_DECISION(d, ikeguard_verdict_proceed, 0, 0);
  CHECK_EQ(ikeguard_on_outbound_proposal(f.guard, SA(peer), sizeof peer, 0, 0, NULL),
           ikeguard_error_invalid_argument);
  d = held;
  CHECK_EQ(ikeguard_on_inbound_proposal(NULL, SA(peer), sizeof peer, 0, 0, &d),
           ikeguard_error_invalid_argument);
  CHECK_DECISION(d, ikeguard_verdict_proceed, 0, 0);
  CHECK_EQ(ikeguard_on_inbound_proposal(f.guard, SA(peer), sizeof peer, 0, 0, NULL),
           ikeguard_error_invalid_argument);

  o = honoured;
  CHECK_EQ(ikeguard_on_inbound_error(NULL, SA(peer), sizeof peer, 0, &npc,
                                     ikeguard_origin_authenticated, &o),
           ikeguard_error_invalid_argument);
  CHECK_OUTCOME(o, ikeguard_action_ignored, 0, 0);
  CHECK_EQ(ikeguard_on_inbound_error(f.guard, SA(peer), sizeof peer, 0, NULL,
                                     ikeguard_origin_authenticated, &o),
           ikeguard_error_invalid_argument);
  CHECK_EQ(ikeguard_on_inbound_error(f.guard, SA(peer), sizeof peer, 0, &npc,
                                     ikeguard_origin_authenticated, NULL),
           ikeguard_error_invalid_argument);
  CHECK_EQ(
      ikeguard_on_inbound_error(f.guard, SA(peer), sizeof peer, 0, &npc, 3, &o),
      ikeguard_error_invalid_argument);
  CHECK_EQ(
      ikeguard_on_inbound_error(f.guard, SA(peer), sizeof peer, 0, &npc, -1, &o),
      ikeguard_error_invalid_argument);
  bad_version.version = 0;
  CHECK_EQ(ikeguard_on_inbound_error(f.guard, SA(peer), sizeof peer, 0, &bad_version,
                                     ikeguard_origin_authenticated, &o),
           ikeguard_error_invalid_argument);
  bad_version.version = 3;
  CHECK_EQ(ikeguard_on_inbound_error(f.guard, SA(peer), sizeof peer, 0, &bad_version,
                                     ikeguard_origin_authenticated, &o),
           ikeguard_error_invalid_argument);
  CHECK_OUTCOME(o, ikeguard_action_ignored, 0, 0);

  d = held;
  CHECK_EQ(ikeguard_on_local_rejection(NULL, SA(peer), sizeof peer, 0, &npc, 0, &d),
           ikeguard_error_invalid_argument);
  CHECK_DECISION(d, ikeguard_verdict_proceed, 0, 0);
  CHECK_EQ(ikeguard_on_local_rejection(f.guard, SA(peer), sizeof peer, 0, NULL, 0, &d),
           ikeguard_error_invalid_argument);
  CHECK_EQ(ikeguard_on_local_rejection(f.guard, SA(peer), sizeof peer, 0, &npc, 0, NULL),
           ikeguard_error_invalid_argument);
  CHECK_EQ(ikeguard_on_local_rejection(f.guard, SA(peer), sizeof peer, 0, &bad_version, 0, &d),
           ikeguard_error_invalid_argument);

  CHECK_EQ(ikeguard_on_established(NULL, SA(peer), sizeof peer, 0),
           ikeguard_error_invalid_argument);
  CHECK_EQ(ikeguard_get_stats(NULL, &s), ikeguard_error_invalid_argument);
  CHECK_EQ(ikeguard_get_stats(f.guard, NULL), ikeguard_error_invalid_argument);

  // Nothing happened.
  CHECK_EQ(ikeguard_get_stats(f.guard, &s), IKEGUARD_OK);
  CHECK_EQ(s.proceeded_outbound + s.proceeded_inbound + s.errors_honoured + s.ignored, 0);
  CHECK_EQ(s.notices_sent + s.established + s.peers_tracked, 0);
  CHECK_EQ(f.transport.sent, 0);
  ikeguard_destroy(f.guard);
}

static void test_fingerprint(void) {
  fixture f;
  ikeguard_policy policy = exact_policy();
  uint64_t a, b;
  fixture_init(&f, &policy);
  a = ikeguard_fingerprint(f.guard, "abc", 3);
  b = ikeguard_fingerprint(f.guard, "abd", 3);
  CHECK(a != 0);
  CHECK(b != 0);
  CHECK(a != b);
  CHECK(ikeguard_fingerprint(f.guard, "abc", 3) == a);
  CHECK(ikeguard_fingerprint(f.guard, NULL, 0) != 0);
  CHECK(ikeguard_fingerprint(f.guard, NULL, 0) == ikeguard_fingerprint(f.guard, "", 0));
  CHECK(ikeguard_fingerprint(f.guard, NULL, 3) == 0);
  CHECK(ikeguard_fingerprint(NULL, "abc", 3) == 0);
  ikeguard_destroy(f.guard);
}

/// ikeguard_fingerprint_message on hand-made messages: an IKEv2 IKE_SA_INIT request offering
/// curve25519 alone, and an IKEv1 Main Mode first message (tests/test_c_fingerprint_message.cpp
/// takes strongSwan's captures).
static void test_fingerprint_message(void) {
  static const unsigned char ikev2[48] = {
      0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,  // SPIi
      0, 0, 0, 0, 0, 0, 0, 0,                          // SPIr
      33, 0x20, 34, 0x08,                              // SA first; 2.0; IKE_SA_INIT; I
      0, 0, 0, 0, 0, 0, 0, 48,                         // message ID, length
      0, 0, 0, 20,                                     // SA payload, the last
      0, 0, 0, 16, 1, 1, 0, 1,                         // proposal 1, last: IKE, one transform
      0, 0, 0, 8, 4, 0, 0, 31};                        // transform, last: KE curve25519
  // wire::canonical_proposals: one proposal; IKE, one transform; type 4, ID 31, no key length.
  static const unsigned char canonical[8] = {1, 1, 1, 4, 0, 31, 0, 0};
  static const unsigned char ikev1[44] = {
      0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,  // initiator cookie
      0, 0, 0, 0, 0, 0, 0, 0,                          // responder cookie
      1, 0x10, 2, 0,                                   // SA first; 1.0; Main Mode; in the clear
      0, 0, 0, 0, 0, 0, 0, 44,                         // message ID, length
      0, 0, 0, 16,                                     // SA payload, the last
      0, 0, 0, 1, 0, 0, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd};  // its body, fingerprinted as sent
  fixture f;
  ikeguard_policy policy = exact_policy();
  unsigned char copy[48];
  uint64_t v2, v1;
  size_t size;
  fixture_init(&f, &policy);

  v2 = ikeguard_fingerprint_message(f.guard, ikev2, sizeof ikev2);
  CHECK(v2 != 0);
  CHECK(v2 == ikeguard_fingerprint(f.guard, canonical, sizeof canonical));
  // Another SPI and proposal number: the same offer.
  memcpy(copy, ikev2, sizeof ikev2);
  copy[0] = 0x99;
  copy[36] = 2;
  CHECK(ikeguard_fingerprint_message(f.guard, copy, sizeof ikev2) == v2);
  // Another group: another offer.
  copy[47] = 19;
  CHECK(ikeguard_fingerprint_message(f.guard, copy, sizeof ikev2) != v2);
  CHECK(ikeguard_fingerprint_message(f.guard, copy, sizeof ikev2) != 0);

  v1 = ikeguard_fingerprint_message(f.guard, ikev1, sizeof ikev1);
  CHECK(v1 != 0);
  CHECK(v1 == ikeguard_fingerprint(f.guard, ikev1 + 32, 12));

  for (size = 0; size < sizeof ikev2; ++size) {
    CHECK(ikeguard_fingerprint_message(f.guard, ikev2, size) == 0);
  }
  for (size = 0; size < sizeof ikev1; ++size) {
    CHECK(ikeguard_fingerprint_message(f.guard, ikev1, size) == 0);
  }
  CHECK(ikeguard_fingerprint_message(NULL, ikev2, sizeof ikev2) == 0);
  CHECK(ikeguard_fingerprint_message(f.guard, NULL, sizeof ikev2) == 0);
  CHECK(ikeguard_fingerprint_message(f.guard, NULL, 0) == 0);
  ikeguard_destroy(f.guard);
}

/// The policy's notify overrides reach the guard; a guard without a send function, or
/// without a transport, sends nothing and still opens its windows.
static void test_overrides_and_transports(void) {
  manual_clock clock = {T0};
  recording_transport recorder;
  ikeguard_clock c_clock;
  ikeguard_transport no_function;
  ikeguard_policy policy = exact_policy();
  const struct sockaddr_in peer = ipv4_peer("192.0.2.1", 500);
  const ikeguard_notice temporary = error_notice(TEMPORARY_FAILURE);
  const ikeguard_notice npc = error_notice(NO_PROPOSAL_CHOSEN);
  ikeguard* guard = NULL;
  ikeguard_error_outcome o;
  ikeguard_decision d;
  ikeguard_stats s;

  memset(&recorder, 0, sizeof recorder);
  ikeguard_stats_init(&s);
  c_clock.now = manual_clock_now;
  c_clock.ctx = &clock;
  no_function.send_notice = NULL;
  no_function.ctx = &recorder;
  CHECK_EQ(ikeguard_policy_set_notify_class(&policy, ikeguard_ikev2, TEMPORARY_FAILURE,
                                            ikeguard_notify_configuration),
           IKEGUARD_OK);

  CHECK_EQ(ikeguard_create(&guard, &policy, &c_clock, &no_function), IKEGUARD_OK);
  ikeguard_on_inbound_error(guard, SA(peer), sizeof peer, 0, &temporary,
                            ikeguard_origin_authenticated, &o);
  CHECK_OUTCOME(o, ikeguard_action_hold, T0 + 60 * SECOND_NS, 1);
  ikeguard_on_local_rejection(guard, SA(peer), sizeof peer, 0, &npc, 0, &d);
  CHECK_DECISION(d, ikeguard_verdict_hold, T0 + 30 * SECOND_NS, 1);
  CHECK_EQ(recorder.sent, 0);
  CHECK_EQ(ikeguard_get_stats(guard, &s), IKEGUARD_OK);
  CHECK_EQ(s.errors_honoured, 1);
  CHECK_EQ(s.notices_sent, 1);  // the guard decided to send; the daemon does the sending
  ikeguard_destroy(guard);

  CHECK_EQ(ikeguard_create(&guard, &policy, &c_clock, NULL), IKEGUARD_OK);
  ikeguard_on_local_rejection(guard, SA(peer), sizeof peer, 0, &npc, 0, &d);
  CHECK_DECISION(d, ikeguard_verdict_hold, T0 + 30 * SECOND_NS, 1);
  ikeguard_on_inbound_proposal(guard, SA(peer), sizeof peer, 0, 0, &d);
  CHECK_DECISION(d, ikeguard_verdict_hold, T0 + 30 * SECOND_NS, 1);
  ikeguard_destroy(guard);
}

/// The transport may call the guard again from inside send_notice.
typedef struct reentrant_transport {
  ikeguard* guard;
  int calls;
  int answer;
  ikeguard_decision decision;
} reentrant_transport;

static void reentrant_send(void* ctx, const struct sockaddr* peer, size_t peer_len, uint32_t scope,
                           const ikeguard_notice* notice) {
  reentrant_transport* transport = (reentrant_transport*)ctx;
  (void)notice;
  ++transport->calls;
  transport->answer = ikeguard_on_inbound_proposal(transport->guard, peer, peer_len, scope, 0,
                                                   &transport->decision);
}

static void test_reentrant_transport(void) {
  manual_clock clock = {T0};
  reentrant_transport reentrant;
  ikeguard_clock c_clock;
  ikeguard_transport c_transport;
  ikeguard_policy policy = exact_policy();
  const struct sockaddr_in6 peer = ipv6_peer("2001:db8::7", 500);
  const ikeguard_notice npc = error_notice(NO_PROPOSAL_CHOSEN);
  ikeguard_decision d;

  memset(&reentrant, 0, sizeof reentrant);
  c_clock.now = manual_clock_now;
  c_clock.ctx = &clock;
  c_transport.send_notice = reentrant_send;
  c_transport.ctx = &reentrant;
  CHECK_EQ(ikeguard_create(&reentrant.guard, &policy, &c_clock, &c_transport), IKEGUARD_OK);
  CHECK_EQ(ikeguard_on_local_rejection(reentrant.guard, SA(peer), sizeof peer, 9, &npc, 0, &d),
           IKEGUARD_OK);
  CHECK_EQ(reentrant.calls, 1);
  CHECK_EQ(reentrant.answer, IKEGUARD_OK);
  // The window was open before the notice left: the address handed back is the same peer.
  CHECK_DECISION(reentrant.decision, ikeguard_verdict_hold, T0 + 30 * SECOND_NS, 1);
  ikeguard_destroy(reentrant.guard);
}

/// Bursts: the answers of the single calls, in order; a peer that is no address answered proceed
/// while the others are decided; NULL arrays refused.
static void test_bursts(void) {
  fixture f;
  ikeguard_policy policy = exact_policy();
  const struct sockaddr_in rejected = ipv4_peer("198.51.100.7", 500);
  const ikeguard_notice npc = error_notice(NO_PROPOSAL_CHOSEN);
  struct sockaddr_storage peers[3];
  uint32_t scopes[3] = {0, 0, 5};
  ikeguard_decision d[3];
  ikeguard_stats s;
  uint64_t config;

  fixture_init(&f, &policy);
  ikeguard_stats_init(&s);
  config = ikeguard_fingerprint(f.guard, "aes128-sha1-modp1024", 20);
  ikeguard_on_local_rejection(f.guard, SA(rejected), sizeof rejected, 0, &npc, config, &d[0]);
  memset(peers, 0, sizeof peers);
  memcpy(&peers[0], &rejected, sizeof rejected);
  memcpy(&peers[2], &rejected, sizeof rejected);  // with scope 5: another peer
  peers[1].ss_family = AF_UNIX;                    // no address: answered proceed, not decided
  f.clock.now = T0 + 10 * SECOND_NS;
  CHECK_EQ(ikeguard_on_inbound_proposals(f.guard, peers, 3, scopes, NULL, d),
           ikeguard_error_unsupported_address_family);
  CHECK_DECISION(d[0], ikeguard_verdict_hold, T0 + 30 * SECOND_NS, 1);
  CHECK_DECISION(d[1], ikeguard_verdict_proceed, 0, 0);
  CHECK_DECISION(d[2], ikeguard_verdict_proceed, 0, 0);
  CHECK_EQ(ikeguard_get_stats(f.guard, &s), IKEGUARD_OK);
  CHECK_EQ(s.dropped_inbound, 1);
  CHECK_EQ(s.proceeded_inbound, 1);

  // Outbound, with fingerprints: a known one is remembered, as by the single call.
  peers[1] = peers[0];
  CHECK_EQ(ikeguard_on_outbound_proposals(f.guard, peers, 2, NULL, (const uint64_t[]){config, 0}, d),
           IKEGUARD_OK);
  CHECK_DECISION(d[0], ikeguard_verdict_proceed, 0, 0);
  CHECK_DECISION(d[1], ikeguard_verdict_proceed, 0, 0);
  CHECK_EQ(ikeguard_get_stats(f.guard, &s), IKEGUARD_OK);
  CHECK_EQ(s.proceeded_outbound, 2);

  CHECK_EQ(ikeguard_on_inbound_proposals(NULL, peers, 3, NULL, NULL, d), ikeguard_error_invalid_argument);
  CHECK_DECISION(d[0], ikeguard_verdict_proceed, 0, 0);
  CHECK_EQ(ikeguard_on_inbound_proposals(f.guard, NULL, 3, NULL, NULL, d), ikeguard_error_invalid_argument);
  CHECK_EQ(ikeguard_on_inbound_proposals(f.guard, peers, 3, NULL, NULL, NULL), ikeguard_error_invalid_argument);
  CHECK_EQ(ikeguard_on_outbound_proposals(f.guard, NULL, 0, NULL, NULL, NULL), IKEGUARD_OK);
  ikeguard_destroy(f.guard);
}

int main(void) {
  test_sender();
  test_receiver();
  test_ipv6_peers();
  test_refused_addresses();
  test_refused_arguments();
  test_fingerprint();
  test_fingerprint_message();
  test_overrides_and_transports();
  test_reentrant_transport();
  test_bursts();
  return check_report("c_api.calls");
}
