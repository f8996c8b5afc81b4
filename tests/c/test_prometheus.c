/* SPDX-License-Identifier: MIT */
// ikeguard_stats_prometheus() from C: a guard's counters as Prometheus text, sized first with a
// NULL buffer as snprintf is, a buffer too small, and arguments it refuses.
#include "check.h"

#include <stdlib.h>

enum { NO_PROPOSAL_CHOSEN = 14 };

static void test_a_guards_counters(void) {
  manual_clock clock = {0};
  ikeguard_clock c_clock;
  ikeguard_policy policy;
  ikeguard* guard = NULL;
  struct sockaddr_in peer;
  ikeguard_notice notice;
  ikeguard_decision decision;
  ikeguard_stats stats = IKEGUARD_STATS_INIT;
  char* text;
  int needed;

  ikeguard_policy_init(&policy);
  policy.max_peers = 64;
  c_clock.now = manual_clock_now;
  c_clock.ctx = &clock;
  CHECK_EQ(ikeguard_create(&guard, &policy, &c_clock, NULL), IKEGUARD_OK);
  memset(&peer, 0, sizeof peer);
  peer.sin_family = AF_INET;
  peer.sin_port = htons(500);
  inet_pton(AF_INET, "198.51.100.7", &peer.sin_addr);
  memset(&notice, 0, sizeof notice);
  notice.version = ikeguard_ikev2;
  notice.type = NO_PROPOSAL_CHOSEN;
  CHECK_EQ(ikeguard_on_local_rejection(guard, (const struct sockaddr*)&peer, sizeof peer, 0,
                                       &notice, 0, &decision),
           IKEGUARD_OK);
  CHECK_EQ(ikeguard_on_inbound_proposal(guard, (const struct sockaddr*)&peer, sizeof peer, 0, 0,
                                        &decision),
           IKEGUARD_OK);
  CHECK_EQ(ikeguard_get_stats(guard, &stats), IKEGUARD_OK);

  needed = ikeguard_stats_prometheus(&stats, NULL, 0);
  CHECK(needed > 0);
  text = (char*)malloc((size_t)needed + 1);
  CHECK_EQ(ikeguard_stats_prometheus(&stats, text, (size_t)needed + 1), needed);
  CHECK_EQ(strlen(text), needed);
  CHECK(strstr(text, "# HELP ikeguard_dropped_inbound_total on_inbound_proposal answered hold\n"
                     "# TYPE ikeguard_dropped_inbound_total counter\n"
                     "ikeguard_dropped_inbound_total 1\n") != NULL);
  CHECK(strstr(text, "\nikeguard_notices_sent_total 1\n") != NULL);
  CHECK(strstr(text, "# TYPE ikeguard_peers_tracked gauge\nikeguard_peers_tracked 1\n") != NULL);
  CHECK(strstr(text, "\nikeguard_capacity 64\n") != NULL);

  /* One byte short of the NUL: an empty string, never a cut text. */
  memset(text, '#', (size_t)needed + 1);
  CHECK_EQ(ikeguard_stats_prometheus(&stats, text, (size_t)needed), needed);
  CHECK_EQ(text[0], '\0');
  CHECK_EQ(text[1], '#');
  free(text);
  ikeguard_destroy(guard);
}

static void test_a_static_buffer_always_suffices(void) {
  ikeguard_stats stats = IKEGUARD_STATS_INIT;
  char buffer[IKEGUARD_PROMETHEUS_MAX_BYTES];
  memset(&stats.proceeded_outbound, 0xff, sizeof stats - 8);  /* every counter at its largest */
  CHECK(ikeguard_stats_prometheus(&stats, buffer, sizeof buffer) < IKEGUARD_PROMETHEUS_MAX_BYTES);
  CHECK(strstr(buffer, "\nikeguard_evictions_total 18446744073709551615\n") != NULL);
}

static void test_refusals(void) {
  ikeguard_stats stats = IKEGUARD_STATS_INIT;
  char buffer[8];
  CHECK_EQ(ikeguard_stats_prometheus(NULL, buffer, sizeof buffer), ikeguard_error_invalid_argument);
  CHECK_EQ(ikeguard_stats_prometheus(&stats, NULL, sizeof buffer), ikeguard_error_invalid_argument);
  stats.struct_size = 0;
  CHECK_EQ(ikeguard_stats_prometheus(&stats, buffer, sizeof buffer), ikeguard_error_invalid_argument);
}

int main(void) {
  test_a_guards_counters();
  test_a_static_buffer_always_suffices();
  test_refusals();
  return check_report("c_api.prometheus");
}
