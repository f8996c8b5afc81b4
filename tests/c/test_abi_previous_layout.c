/* SPDX-License-Identifier: MIT */
// A daemon binary built against an older release's ikeguard.h (previous_release/, frozen: a
// policy without notify overrides, stats without table_bytes) runs with today's library. Its
// shorter structs must work: the library reads no policy byte past struct_size (the fields the
// old header lacks take their defaults) and writes no stats byte past it.
#include "check.h"

#ifndef IKEGUARD_PREVIOUS_RELEASE_HEADER
#error "built against today's ikeguard.h: the include path must put previous_release/ first"
#endif

enum { NO_PROPOSAL_CHOSEN = 14, TEMPORARY_FAILURE = 43 };

#define T0 (1000 * SECOND_NS)
#define SA(address) ((const struct sockaddr*)&(address))
#define CANARY 0xa5

/// A struct of the old layout with bytes after it, as its neighbour in the daemon's memory.
typedef struct old_policy_in_memory {
  ikeguard_policy policy;
  unsigned char after[160];
} old_policy_in_memory;

typedef struct old_stats_in_memory {
  ikeguard_stats stats;
  unsigned char after[64];
} old_stats_in_memory;

static int all_bytes(const unsigned char* bytes, size_t size, unsigned char value) {
  size_t i;
  for (i = 0; i < size; ++i) {
    if (bytes[i] != value) return 0;
  }
  return 1;
}

int main(void) {
  manual_clock clock = {T0};
  const ikeguard_clock c_clock = {manual_clock_now, &clock};
  const struct sockaddr_in peer = ipv4_peer("192.0.2.1", 500);
  const ikeguard_notice npc = error_notice(NO_PROPOSAL_CHOSEN);
  const ikeguard_notice temporary = error_notice(TEMPORARY_FAILURE);
  old_policy_in_memory p;
  old_stats_in_memory s;
  ikeguard* guard = NULL;
  ikeguard_decision d;
  ikeguard_error_outcome o;

  CHECK_EQ(sizeof(ikeguard_policy), 80);
  CHECK_EQ(sizeof(ikeguard_stats), 144);

  // The old program's ikeguard_policy_init(): defaults for its fields, not a byte more.
  memset(&p, CANARY, sizeof p);
  ikeguard_policy_init(&p.policy);
  CHECK_EQ(p.policy.struct_size, 80);
  CHECK_EQ(p.policy.receiver_window_ms, 30000);
  CHECK_EQ(p.policy.sender_window_ms, 60000);
  CHECK(p.policy.backoff == 2.0);
  CHECK_EQ(p.policy.max_window_ms, 300000);
  CHECK_EQ(p.policy.unauthenticated_confirmations, 2);
  CHECK_EQ(p.policy.retry_delay_ms, 2000);
  CHECK(p.policy.jitter == 0.1);
  CHECK_EQ(p.policy.forgive_after_ms, 86400000);
  CHECK_EQ(p.policy.max_peers, 65536);
  CHECK(all_bytes(p.after, sizeof p.after, CANARY));

  // What follows the old struct is not read: as today's notify_override_count, 0xffffffff would
  // be refused, and as an override it would class TEMPORARY_FAILURE as a configuration error.
  memset(p.after, 0xff, sizeof p.after);
  p.policy.receiver_window_ms = 10000;
  p.policy.jitter = 0;
  CHECK_EQ(ikeguard_policy_validate(&p.policy), IKEGUARD_OK);
  CHECK_EQ(ikeguard_policy_notify_class(&p.policy, ikeguard_ikev2, TEMPORARY_FAILURE),
           ikeguard_notify_retry_later);
  CHECK_EQ(ikeguard_policy_notify_class(&p.policy, ikeguard_ikev2, NO_PROPOSAL_CHOSEN),
           ikeguard_notify_configuration);
  CHECK(ikeguard_estimate_size(&p.policy) > 0);
  CHECK_EQ(ikeguard_create(&guard, &p.policy, &c_clock, NULL), IKEGUARD_OK);
  CHECK(guard != NULL);

  // The guard follows the old policy's fields (T1 = 10 s, no jitter) and the default classes.
  CHECK_EQ(ikeguard_on_local_rejection(guard, SA(peer), sizeof peer, 0, &npc, 0, &d), IKEGUARD_OK);
  CHECK_EQ(d.verdict, ikeguard_verdict_hold);
  CHECK_EQ(d.until_ns, T0 + 10 * SECOND_NS);
  CHECK_EQ(ikeguard_on_inbound_proposal(guard, SA(peer), sizeof peer, 0, 0, &d), IKEGUARD_OK);
  CHECK_EQ(d.verdict, ikeguard_verdict_hold);
  CHECK_EQ(ikeguard_on_inbound_error(guard, SA(peer), sizeof peer, 0, &temporary,
                                     ikeguard_origin_authenticated, &o),
           IKEGUARD_OK);
  CHECK_EQ(o.action, ikeguard_action_retry_later);
  CHECK_EQ(o.until_ns, T0 + 2 * SECOND_NS);
  CHECK_EQ(ikeguard_on_inbound_error(guard, SA(peer), sizeof peer, 0, &npc,
                                     ikeguard_origin_authenticated, &o),
           IKEGUARD_OK);
  CHECK_EQ(o.action, ikeguard_action_hold);
  CHECK_EQ(o.until_ns, T0 + 60 * SECOND_NS);

  // The old stats: every counter it knows, and not a byte past it (table_bytes is not written).
  memset(&s, CANARY, sizeof s);
  ikeguard_stats_init(&s.stats);
  CHECK_EQ(ikeguard_get_stats(guard, &s.stats), IKEGUARD_OK);
  CHECK(all_bytes(s.after, sizeof s.after, CANARY));
  CHECK_EQ(s.stats.struct_size, 144);
  CHECK_EQ(s.stats.notices_sent, 1);  // decided by the guard; without a transport, not sent
  CHECK_EQ(s.stats.dropped_inbound, 1);
  CHECK_EQ(s.stats.retried_later, 1);
  CHECK_EQ(s.stats.errors_honoured, 1);
  CHECK_EQ(s.stats.peers_tracked, 1);
  CHECK_EQ(s.stats.capacity, 65536);

  ikeguard_destroy(guard);
  return check_report("c_api.abi_previous_layout");
}
