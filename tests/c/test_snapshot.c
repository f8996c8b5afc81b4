/* SPDX-License-Identifier: MIT */
// Snapshot and restore through the C API: a daemon stops with windows open and starts again
// on a clock with another base, its guard made from the snapshot (ikeguard_create_restored);
// what is refused, and that a refusal makes no guard.
#include "check.h"

#include <stdlib.h>

enum { NO_PROPOSAL_CHOSEN = 14 };

static const unsigned char daemon_key[IKEGUARD_SNAPSHOT_KEY_BYTES] = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

#define SA(address) ((const struct sockaddr*)&(address))
#define HEADER 80
#define RECORD 32
#define MAC 32

static ikeguard* make_guard(manual_clock* clock, size_t max_peers) {
  ikeguard_policy policy = exact_policy();
  ikeguard_clock c_clock;
  ikeguard* guard = NULL;
  policy.max_peers = max_peers;
  c_clock.now = manual_clock_now;
  c_clock.ctx = clock;
  if (ikeguard_create(&guard, &policy, &c_clock, NULL) != IKEGUARD_OK) {
    fprintf(stderr, "cannot create the guard\n");
    exit(2);
  }
  return guard;
}

/// ikeguard_create_restored() with make_guard()'s policy and clock; *guard is the result.
static int restore(ikeguard** guard, manual_clock* clock, size_t max_peers, const void* data,
                   size_t size, const unsigned char* key, ikeguard_restore_report* report) {
  ikeguard_policy policy = exact_policy();
  ikeguard_clock c_clock;
  policy.max_peers = max_peers;
  c_clock.now = manual_clock_now;
  c_clock.ctx = clock;
  return ikeguard_create_restored(guard, &policy, &c_clock, NULL, data, size, key, report);
}

static ikeguard_decision inbound(ikeguard* guard, const struct sockaddr* peer, size_t len) {
  ikeguard_decision d;
  ikeguard_on_inbound_proposal(guard, peer, len, 0, 0, &d);
  return d;
}

static ikeguard_decision outbound(ikeguard* guard, const struct sockaddr* peer, size_t len,
                                  uint64_t fingerprint) {
  ikeguard_decision d;
  ikeguard_on_outbound_proposal(guard, peer, len, 0, fingerprint, &d);
  return d;
}

int main(void) {
  manual_clock before = {1000 * SECOND_NS};
  manual_clock after = {5 * SECOND_NS};
  const struct sockaddr_in initiator = ipv4_peer("198.51.100.7", 500);
  const struct sockaddr_in6 responder = ipv6_peer("2001:db8::9", 4500);
  const ikeguard_notice npc = error_notice(NO_PROPOSAL_CHOSEN);
  unsigned char other_key[IKEGUARD_SNAPSHOT_KEY_BYTES];
  unsigned char buffer[HEADER + 8 * RECORD + MAC];
  unsigned char altered[sizeof buffer];
  ikeguard *stopping, *starting, *small = NULL, *restarted = NULL;
  ikeguard_decision d;
  ikeguard_error_outcome o;
  ikeguard_restore_report report;
  ikeguard_stats s;
  size_t written = 99;
  uint64_t config;

  // The daemon runs: a receiver window toward the initiator (T1 = 30 s), a sender window
  // toward the responder (T2 = 60 s) with a remembered configuration.
  stopping = make_guard(&before, 8);
  config = ikeguard_fingerprint(stopping, "aes128-sha1-modp1024", 20);
  outbound(stopping, SA(responder), sizeof responder, config);
  ikeguard_on_local_rejection(stopping, SA(initiator), sizeof initiator, 0, &npc, 0, &d);
  ikeguard_on_inbound_error(stopping, SA(responder), sizeof responder, 0, &npc,
                            ikeguard_origin_authenticated, &o);
  CHECK_EQ(o.action, ikeguard_action_hold);
  CHECK_EQ(ikeguard_snapshot_bound(stopping), HEADER + 8 * RECORD + MAC);

  // It stops 10 s later.
  before.now += 10 * SECOND_NS;
  CHECK_EQ(ikeguard_snapshot(stopping, buffer, HEADER + 2 * RECORD + MAC - 1, daemon_key, &written),
           ikeguard_error_snapshot_buffer_too_small);
  CHECK_EQ(written, 0);
  CHECK_EQ(ikeguard_snapshot(stopping, buffer, sizeof buffer, daemon_key, &written), IKEGUARD_OK);
  CHECK_EQ(written, HEADER + 2 * RECORD + MAC);
  CHECK(memcmp(buffer, "IKEGSNAP", 8) == 0);

  CHECK_EQ(ikeguard_snapshot(NULL, buffer, sizeof buffer, daemon_key, &written),
           ikeguard_error_invalid_argument);
  CHECK_EQ(ikeguard_snapshot(stopping, NULL, sizeof buffer, daemon_key, &written),
           ikeguard_error_invalid_argument);
  CHECK_EQ(ikeguard_snapshot(stopping, buffer, sizeof buffer, NULL, &written),
           ikeguard_error_invalid_argument);
  CHECK_EQ(ikeguard_snapshot(stopping, buffer, sizeof buffer, daemon_key, NULL),
           ikeguard_error_invalid_argument);
  CHECK_EQ(ikeguard_snapshot(stopping, buffer, sizeof buffer, daemon_key, &written), IKEGUARD_OK);

  // The daemon starts again, on a clock that begins at 5 s. Everything wrong is refused, and
  // no guard is made.
  starting = (ikeguard*)&after;  // any non-NULL value: a refusal resets it
  memcpy(other_key, daemon_key, sizeof other_key);
  other_key[0] ^= 1;
  report.restored = report.dropped = 7;
  CHECK_EQ(restore(&starting, &after, 8, buffer, written, other_key, &report),
           ikeguard_error_snapshot_unauthenticated);
  CHECK(starting == NULL);
  CHECK_EQ(report.restored, 0);
  CHECK_EQ(report.dropped, 0);
  CHECK_EQ(restore(&starting, &after, 8, buffer, written - 1, daemon_key, &report),
           ikeguard_error_snapshot_truncated);
  CHECK_EQ(restore(&starting, &after, 8, buffer, 10, daemon_key, &report),
           ikeguard_error_snapshot_truncated);
  memcpy(altered, buffer, written);
  altered[0] = 'X';
  CHECK_EQ(restore(&starting, &after, 8, altered, written, daemon_key, &report),
           ikeguard_error_snapshot_not_a_snapshot);
  memcpy(altered, buffer, written);
  altered[9] = 3;  // format version 3
  CHECK_EQ(restore(&starting, &after, 8, altered, written, daemon_key, &report),
           ikeguard_error_snapshot_unsupported_version);
  memcpy(altered, buffer, written);
  altered[HEADER + 33] ^= 0x40;  // a window's remaining time
  CHECK_EQ(restore(&starting, &after, 8, altered, written, daemon_key, &report),
           ikeguard_error_snapshot_unauthenticated);
  CHECK(starting == NULL);
  CHECK_EQ(ikeguard_create_restored(NULL, NULL, NULL, NULL, buffer, written, daemon_key, &report),
           ikeguard_error_invalid_argument);
  CHECK_EQ(restore(&starting, &after, 8, NULL, written, daemon_key, &report),
           ikeguard_error_invalid_argument);
  CHECK_EQ(restore(&starting, &after, 8, buffer, written, NULL, &report),
           ikeguard_error_invalid_argument);
  // A policy or clock that ikeguard_create() refuses is refused here the same way.
  {
    ikeguard_policy bad = exact_policy();
    ikeguard_clock no_function = {NULL, NULL};
    bad.backoff = 0.5;
    CHECK_EQ(ikeguard_create_restored(&starting, &bad, NULL, NULL, buffer, written, daemon_key,
                                      &report),
             ikeguard_error_invalid_backoff);
    CHECK_EQ(ikeguard_create_restored(&starting, NULL, &no_function, NULL, buffer, written,
                                      daemon_key, &report),
             ikeguard_error_invalid_argument);
    CHECK(starting == NULL);
  }
  // The daemon falls back to a fresh guard: it knows nothing.
  starting = make_guard(&after, 8);
  ikeguard_stats_init(&s);
  CHECK_EQ(ikeguard_get_stats(starting, &s), IKEGUARD_OK);
  CHECK_EQ(s.peers_tracked, 0);
  d = inbound(starting, SA(initiator), sizeof initiator);
  CHECK_EQ(d.verdict, ikeguard_verdict_proceed);
  ikeguard_destroy(starting);

  // The real thing: both windows resume with the time they had left (20 s and 50 s).
  CHECK_EQ(restore(&starting, &after, 8, buffer, written, daemon_key, &report), IKEGUARD_OK);
  CHECK_EQ(report.restored, 2);
  CHECK_EQ(report.dropped, 0);
  d = inbound(starting, SA(initiator), sizeof initiator);
  CHECK_EQ(d.verdict, ikeguard_verdict_hold);
  CHECK_EQ(d.until_ns, 25 * SECOND_NS);
  CHECK_EQ(d.strikes, 1);
  d = outbound(starting, SA(responder), sizeof responder, config);
  CHECK_EQ(d.verdict, ikeguard_verdict_hold);
  CHECK_EQ(d.until_ns, 55 * SECOND_NS);
  CHECK_EQ(d.strikes, 1);
  // Fingerprints made before the restart still match the remembered configuration.
  CHECK(ikeguard_fingerprint(starting, "aes128-sha1-modp1024", 20) == config);
  // Counters start at zero; the table holds the restored entries.
  CHECK_EQ(ikeguard_get_stats(starting, &s), IKEGUARD_OK);
  CHECK_EQ(s.peers_tracked, 2);
  CHECK_EQ(s.notices_sent + s.errors_honoured, 0);

  // Without a report, and with the defaults (NULL policy and clock): restored all the same.
  CHECK_EQ(
      ikeguard_create_restored(&restarted, NULL, NULL, NULL, buffer, written, daemon_key, NULL),
      IKEGUARD_OK);
  CHECK(restarted != NULL);
  CHECK_EQ(ikeguard_get_stats(restarted, &s), IKEGUARD_OK);
  CHECK_EQ(s.peers_tracked, 2);
  ikeguard_destroy(restarted);

  // A smaller guard keeps the window that ends latest.
  CHECK_EQ(restore(&small, &after, 1, buffer, written, daemon_key, &report), IKEGUARD_OK);
  CHECK_EQ(report.restored, 1);
  CHECK_EQ(report.dropped, 1);
  d = inbound(small, SA(initiator), sizeof initiator);
  CHECK_EQ(d.verdict, ikeguard_verdict_proceed);
  d = outbound(small, SA(responder), sizeof responder, config);
  CHECK_EQ(d.verdict, ikeguard_verdict_hold);
  CHECK_EQ(d.until_ns, 55 * SECOND_NS);

  ikeguard_destroy(small);
  ikeguard_destroy(starting);
  ikeguard_destroy(stopping);
  return check_report("c_api.snapshot");
}
