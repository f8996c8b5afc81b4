/* SPDX-License-Identifier: MIT */
// A C daemon's view of an installed ikeguard: built by the C compiler with nothing but
// `pkg-config --cflags --libs ikeguard`. Exits 0 when the C API is there and behaves.
#define _POSIX_C_SOURCE 200112L

#include <ikeguard/ikeguard.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static int failures;

static void expect(int ok, const char* what) {
  printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) ++failures;
}

static uint64_t now_ns = 1000000; /* 1 ms: windows end on millisecond boundaries */
static uint64_t read_clock(void* ctx) {
  (void)ctx;
  return now_ns;
}

static int notices;
static void count_notice(void* ctx, const struct sockaddr* peer, size_t peer_len, uint32_t scope,
                         const ikeguard_notice* notice) {
  (void)ctx, (void)peer, (void)peer_len, (void)scope, (void)notice;
  ++notices;
}

int main(void) {
  const ikeguard_clock clock = {read_clock, NULL};
  const ikeguard_transport transport = {count_notice, NULL};
  const ikeguard_notice npc = {.version = ikeguard_ikev2, .type = 14, .initiator_spi = 0x1111};
  struct sockaddr_in peer;
  ikeguard_policy policy;
  ikeguard* guard = NULL;
  ikeguard_decision decision;
  ikeguard_error_outcome outcome;
  ikeguard_stats stats;

  memset(&peer, 0, sizeof peer);
  peer.sin_family = AF_INET;
  peer.sin_port = htons(500);
  inet_pton(AF_INET, "192.0.2.1", &peer.sin_addr);

  expect(ikeguard_version_number() == IKEGUARD_VERSION, "the library is the headers' version");
  expect(strcmp(ikeguard_version_string(), IKEGUARD_VERSION_STRING) == 0, "version string");
  ikeguard_policy_init(&policy);
  policy.jitter = 0;
  policy.backoff = 0.5;
  expect(ikeguard_create(&guard, &policy, &clock, &transport) == ikeguard_error_invalid_backoff &&
             guard == NULL,
         "an invalid policy is refused with its code");
  expect(strcmp(ikeguard_strerror(ikeguard_error_invalid_backoff),
                "backoff must be a finite number >= 1") == 0,
         "ikeguard_strerror names the problem");
  policy.backoff = 2;
  expect(ikeguard_create(&guard, &policy, &clock, &transport) == IKEGUARD_OK, "ikeguard_create");

  expect(ikeguard_on_local_rejection(guard, (const struct sockaddr*)&peer, sizeof peer, 0, &npc, 0,
                                     &decision) == IKEGUARD_OK &&
             decision.verdict == ikeguard_verdict_hold &&
             decision.until_ns == 1000000 + UINT64_C(30000000000) && notices == 1,
         "a rejection sends the notice and opens T1 = 30 s");
  expect(ikeguard_on_inbound_proposal(guard, (const struct sockaddr*)&peer, sizeof peer, 0, 0,
                                      &decision) == IKEGUARD_OK &&
             decision.verdict == ikeguard_verdict_hold,
         "the peer's next proposal is dropped");
  expect(ikeguard_on_inbound_error(guard, (const struct sockaddr*)&peer, sizeof peer, 0, &npc,
                                   ikeguard_origin_authenticated, &outcome) == IKEGUARD_OK &&
             outcome.action == ikeguard_action_hold &&
             outcome.until_ns == 1000000 + UINT64_C(60000000000),
         "an authenticated NO_PROPOSAL_CHOSEN opens T2 = 60 s");
  expect(ikeguard_on_outbound_proposal(guard, (const struct sockaddr*)&peer, sizeof peer, 0, 0,
                                       &decision) == IKEGUARD_OK &&
             decision.verdict == ikeguard_verdict_hold,
         "our next proposal is held");
  expect(ikeguard_on_established(guard, (const struct sockaddr*)&peer, sizeof peer, 0) ==
                 IKEGUARD_OK &&
             ikeguard_on_outbound_proposal(guard, (const struct sockaddr*)&peer, sizeof peer, 0, 0,
                                           &decision) == IKEGUARD_OK &&
             decision.verdict == ikeguard_verdict_proceed,
         "success clears the windows");
  ikeguard_stats_init(&stats);
  expect(ikeguard_get_stats(guard, &stats) == IKEGUARD_OK && stats.notices_sent == 1 &&
             stats.dropped_inbound == 1 && stats.errors_honoured == 1,
         "the counters, through a struct of this header's size");
  expect(strcmp(ikeguard_err_name(ikeguard_error_invalid_backoff),
                "ikeguard_error_invalid_backoff") == 0,
         "ikeguard_err_name names the code");
  peer.sin_family = AF_UNIX;
  expect(ikeguard_on_established(guard, (const struct sockaddr*)&peer, sizeof peer, 0) ==
             ikeguard_error_unsupported_address_family,
         "an address of another family is refused");
  ikeguard_destroy(guard);
  ikeguard_destroy(NULL);
  return failures == 0 ? 0 : 1;
}
