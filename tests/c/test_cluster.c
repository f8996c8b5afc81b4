/* SPDX-License-Identifier: MIT */
// Events, cluster records and the list of held peers through the C API: an event sink that
// encodes each event as a record, another node that applies them, and exact fields throughout.
#include "check.h"

#define T0 (1000 * SECOND_NS)
#define MAX_EVENTS 16

enum { NO_PROPOSAL_CHOSEN = 14 };

typedef struct node {
  manual_clock clock;
  ikeguard_cluster_node* cluster;
  ikeguard* guard;
  ikeguard_event events[MAX_EVENTS];
  size_t event_count;
  unsigned char records[MAX_EVENTS][IKEGUARD_CLUSTER_RECORD_BYTES];
  size_t record_count;
} node;

static void on_event(void* ctx, const ikeguard_event* event) {
  node* n = (node*)ctx;
  if (n->event_count == MAX_EVENTS) return;
  n->events[n->event_count++] = *event;
  if (ikeguard_cluster_encode(n->cluster, event, n->records[n->record_count],
                              IKEGUARD_CLUSTER_RECORD_BYTES) == IKEGUARD_CLUSTER_RECORD_BYTES) {
    ++n->record_count;
  }
}

static int node_init(node* n, uint64_t id, const unsigned char* key) {
  ikeguard_clock c_clock;
  ikeguard_extras extras;
  ikeguard_policy policy;
  memset(n, 0, sizeof *n);
  ikeguard_policy_init(&policy);
  policy.jitter = 0;  // exact windows
  n->clock.now = T0;
  c_clock.now = manual_clock_now;
  c_clock.ctx = &n->clock;
  if (ikeguard_cluster_node_create(&n->cluster, id, key, 1) != IKEGUARD_OK) return -1;
  ikeguard_extras_init(&extras);
  extras.events.on_event = on_event;
  extras.events.ctx = n;
  extras.cluster = n->cluster;
  return ikeguard_create_ex(&n->guard, &policy, &c_clock, NULL, &extras);
}

static void node_end(node* n) {
  ikeguard_destroy(n->guard);
  ikeguard_cluster_node_destroy(n->cluster);
}

int main(void) {
  unsigned char key[IKEGUARD_CLUSTER_KEY_BYTES];
  unsigned char other_key[IKEGUARD_CLUSTER_KEY_BYTES];
  node a, b;
  ikeguard_notice npc;
  ikeguard_decision decision;
  struct sockaddr_in alice = ipv4_peer("198.51.100.7", 500);
  ikeguard_held_peer listed[256];
  uint32_t cursor = 0;
  size_t count = 0;
  int complete = 0;
  uint64_t origin_node = 0, origin_sequence = 0;
  unsigned char forged[IKEGUARD_CLUSTER_RECORD_BYTES];
  ikeguard_stats stats = IKEGUARD_STATS_INIT;
  ikeguard_extras bad_extras;
  ikeguard* refused = NULL;
  size_t i;

  memset(key, 7, sizeof key);
  memset(other_key, 8, sizeof other_key);
  memset(&npc, 0, sizeof npc);
  npc.version = ikeguard_ikev2;
  npc.type = NO_PROPOSAL_CHOSEN;
  CHECK_EQ(node_init(&a, 1, key), IKEGUARD_OK);
  CHECK_EQ(node_init(&b, 2, key), IKEGUARD_OK);
  b.clock.now = 5 * SECOND_NS;

  // A rejection on a: two events, one record.
  CHECK_EQ(ikeguard_on_local_rejection(a.guard, (const struct sockaddr*)&alice, sizeof alice, 0,
                                       &npc, 0x42, &decision),
           IKEGUARD_OK);
  CHECK_EQ(a.event_count, 2);
  CHECK_EQ(a.events[0].struct_size, sizeof(ikeguard_event));
  CHECK_EQ(a.events[0].kind, ikeguard_event_receiver_window_opened);
  CHECK_EQ(a.events[0].direction, ikeguard_direction_receiver);
  CHECK_EQ(a.events[0].has_notice, 1);
  CHECK_EQ(a.events[0].notify_type, NO_PROPOSAL_CHOSEN);
  CHECK_EQ(a.events[0].notify_class, ikeguard_notify_configuration);
  CHECK_EQ(a.events[0].strikes, 1);
  CHECK_EQ(a.events[0].fingerprint, 0x42);
  CHECK_EQ(a.events[0].family, 4);
  CHECK_EQ(a.events[0].port, 500);
  CHECK(memcmp(a.events[0].address, "\xc6\x33\x64\x07", 4) == 0);
  CHECK_EQ(a.events[0].at_ns, T0);
  CHECK_EQ(a.events[0].until_ns, T0 + 30 * SECOND_NS);
  CHECK_EQ(a.events[0].remaining_ns, 30 * SECOND_NS);
  CHECK_EQ(a.events[0].node, 0);
  CHECK_EQ(a.events[1].kind, ikeguard_event_notice_sent);
  CHECK_STR(ikeguard_event_kind_name(a.events[0].kind), "receiver_window_opened");
  CHECK_STR(ikeguard_event_kind_name(12), "unknown");
  CHECK_EQ(a.record_count, 1);
  CHECK_EQ(ikeguard_cluster_record_origin(a.records[0], IKEGUARD_CLUSTER_RECORD_BYTES, &origin_node,
                                          &origin_sequence),
           IKEGUARD_OK);
  CHECK_EQ(origin_node, 1);
  CHECK_EQ(origin_sequence, 1);

  // b applies it, 10 s after it was made: the window ends 20 s after b's now.
  CHECK_EQ(ikeguard_apply(b.guard, a.records[0], IKEGUARD_CLUSTER_RECORD_BYTES, 10 * SECOND_NS),
           ikeguard_applied_changed);
  CHECK_EQ(ikeguard_on_inbound_proposal(b.guard, (const struct sockaddr*)&alice, sizeof alice, 0, 0,
                                        &decision),
           IKEGUARD_OK);
  CHECK_EQ(decision.verdict, ikeguard_verdict_hold);
  CHECK_EQ(decision.until_ns, 25 * SECOND_NS);
  CHECK_EQ(b.event_count, 1);
  CHECK_EQ(b.events[0].node, 1);
  CHECK_EQ(b.record_count, 0);  // never sent on
  CHECK_EQ(ikeguard_apply(b.guard, a.records[0], IKEGUARD_CLUSTER_RECORD_BYTES, 0),
           ikeguard_error_cluster_record_replayed);
  CHECK_EQ(ikeguard_apply(a.guard, a.records[0], IKEGUARD_CLUSTER_RECORD_BYTES, 0),
           ikeguard_applied_own);
  memcpy(forged, a.records[0], sizeof forged);
  forged[70] ^= 1;
  CHECK_EQ(ikeguard_apply(b.guard, forged, sizeof forged, 0), ikeguard_error_cluster_record_unauthenticated);
  CHECK_EQ(ikeguard_apply(b.guard, forged, sizeof forged - 1, 0), ikeguard_error_cluster_record_truncated);
  CHECK_EQ(ikeguard_get_stats(b.guard, &stats), IKEGUARD_OK);
  CHECK_EQ(stats.records_applied, 1);
  CHECK_EQ(stats.records_refused, 3);

  // b lists alice, with the window the record opened.
  CHECK(ikeguard_list_capacity(b.guard) >= 1);
  CHECK_EQ(ikeguard_list_peers(b.guard, listed, 256, &cursor, 1, &count, &complete), IKEGUARD_OK);
  CHECK_EQ(count, 1);
  CHECK_EQ(complete, 1);
  CHECK_EQ(listed[0].family, 4);
  CHECK_EQ(listed[0].port, 500);
  CHECK(memcmp(listed[0].address, "\xc6\x33\x64\x07", 4) == 0);
  CHECK_EQ(listed[0].receiver_until_ns, 25 * SECOND_NS);
  CHECK_EQ(listed[0].sender_until_ns, 0);
  CHECK_EQ(listed[0].receiver_strikes, 1);
  CHECK_EQ(listed[0].receiver_fingerprint, 0x42);
  for (i = 1; i < 8; ++i) CHECK_EQ(listed[0].reserved[i - 1], 0);
  CHECK_EQ(ikeguard_list_peers(b.guard, listed, 0, &cursor, 1, &count, &complete), IKEGUARD_OK);
  CHECK_EQ(count, 0);  // from the end: nothing more, complete
  CHECK_EQ(complete, 1);
  cursor = 1000;
  CHECK_EQ(ikeguard_list_peers(b.guard, listed, 256, &cursor, 1, &count, &complete),
           ikeguard_error_invalid_argument);  // past the last shard
  cursor = 0;
  CHECK_EQ(ikeguard_list_peers(b.guard, NULL, 4, &cursor, 1, &count, &complete),
           ikeguard_error_invalid_argument);

  // Success on a clears alice on b as well.
  a.event_count = 0;
  CHECK_EQ(ikeguard_on_established(a.guard, (const struct sockaddr*)&alice, sizeof alice, 0), IKEGUARD_OK);
  CHECK_EQ(a.events[0].kind, ikeguard_event_windows_cleared);
  CHECK_EQ(a.record_count, 2);
  CHECK_EQ(ikeguard_apply(b.guard, a.records[1], IKEGUARD_CLUSTER_RECORD_BYTES, 0), ikeguard_applied_changed);
  CHECK_EQ(ikeguard_on_inbound_proposal(b.guard, (const struct sockaddr*)&alice, sizeof alice, 0, 0,
                                        &decision),
           IKEGUARD_OK);
  CHECK_EQ(decision.verdict, ikeguard_verdict_proceed);

  // Extras with a non-zero reserved field, or a guard without a node, refuse.
  ikeguard_extras_init(&bad_extras);
  bad_extras.reserved = 1;
  CHECK_EQ(ikeguard_create_ex(&refused, NULL, NULL, NULL, &bad_extras), ikeguard_error_invalid_argument);
  CHECK(refused == NULL);
  CHECK_EQ(ikeguard_create_ex(&refused, NULL, NULL, NULL, NULL), IKEGUARD_OK);
  CHECK_EQ(ikeguard_apply(refused, a.records[0], IKEGUARD_CLUSTER_RECORD_BYTES, 0),
           ikeguard_error_cluster_not_configured);
  ikeguard_destroy(refused);
  {
    ikeguard_cluster_node* unnamed = b.cluster;  // overwritten with NULL on refusal
    CHECK_EQ(ikeguard_cluster_node_create(&unnamed, 0, other_key, 1), ikeguard_error_invalid_argument);
    CHECK(unnamed == NULL);
  }

  // A policy may keep no addresses: listed peers then have none; other values are refused.
  {
    ikeguard_policy policy;
    ikeguard* plain = NULL;
    ikeguard_policy_init(&policy);
    CHECK_EQ(policy.keep_addresses, 1);
    policy.keep_addresses = 2;
    CHECK_EQ(ikeguard_policy_validate(&policy), ikeguard_error_invalid_argument);
    policy.keep_addresses = 0;
    CHECK_EQ(ikeguard_create(&plain, &policy, NULL, NULL), IKEGUARD_OK);
    CHECK_EQ(ikeguard_on_local_rejection(plain, (const struct sockaddr*)&alice, sizeof alice, 0, &npc,
                                         0, &decision),
             IKEGUARD_OK);
    cursor = 0;
    CHECK_EQ(ikeguard_list_peers(plain, listed, 256, &cursor, 1, &count, &complete), IKEGUARD_OK);
    CHECK_EQ(count, 1);
    CHECK_EQ(listed[0].family, 0);
    CHECK_EQ(listed[0].receiver_strikes, 1);
    ikeguard_destroy(plain);
  }

  node_end(&a);
  node_end(&b);
  return check_report("c_api.cluster");
}
