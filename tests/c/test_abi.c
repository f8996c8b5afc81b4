/* SPDX-License-Identifier: MIT */
// The C ABI: every struct's size and offsets (the same on every platform, and with
// -fshort-enums: this file is compiled both ways, c_api.abi and c_api.abi_short_enums), and the
// struct_size rules of the versioned structs, ikeguard_policy and ikeguard_stats, with sizes
// smaller and larger than this header's.
#include "check.h"

enum { NO_PROPOSAL_CHOSEN = 14, TEMPORARY_FAILURE = 43 };

#define SA(address) ((const struct sockaddr*)&(address))
#define OFFSET(type, field) ((long long)offsetof(type, field))

static void test_layout(void) {
  // What -fshort-enums changes: the enums themselves, never a struct.
#ifdef IKEGUARD_TEST_SHORT_ENUMS
  CHECK_EQ(sizeof(ikeguard_verdict), 1);
  CHECK_EQ(sizeof(ikeguard_origin), 1);
#else
  CHECK_EQ(sizeof(ikeguard_verdict), sizeof(int));
#endif

  CHECK_EQ(sizeof(ikeguard_notice), 24);
  CHECK_EQ(OFFSET(ikeguard_notice, version), 0);
  CHECK_EQ(OFFSET(ikeguard_notice, type), 2);
  CHECK_EQ(OFFSET(ikeguard_notice, message_id), 4);
  CHECK_EQ(OFFSET(ikeguard_notice, initiator_spi), 8);
  CHECK_EQ(OFFSET(ikeguard_notice, responder_spi), 16);

  CHECK_EQ(sizeof(ikeguard_notify_override), 4);
  CHECK_EQ(OFFSET(ikeguard_notify_override, notify_class), 1);
  CHECK_EQ(OFFSET(ikeguard_notify_override, type), 2);

  CHECK_EQ(sizeof(ikeguard_policy), 224);
  CHECK_EQ(OFFSET(ikeguard_policy, keep_addresses), 216);
  CHECK_EQ(OFFSET(ikeguard_policy, struct_size), 0);
  CHECK_EQ(OFFSET(ikeguard_policy, receiver_window_ms), 8);
  CHECK_EQ(OFFSET(ikeguard_policy, sender_window_ms), 16);
  CHECK_EQ(OFFSET(ikeguard_policy, backoff), 24);
  CHECK_EQ(OFFSET(ikeguard_policy, max_window_ms), 32);
  CHECK_EQ(OFFSET(ikeguard_policy, unauthenticated_confirmations), 40);
  CHECK_EQ(OFFSET(ikeguard_policy, retry_delay_ms), 48);
  CHECK_EQ(OFFSET(ikeguard_policy, jitter), 56);
  CHECK_EQ(OFFSET(ikeguard_policy, forgive_after_ms), 64);
  CHECK_EQ(OFFSET(ikeguard_policy, max_peers), 72);
  CHECK_EQ(OFFSET(ikeguard_policy, notify_override_count), 80);
  CHECK_EQ(OFFSET(ikeguard_policy, notify_overrides), 88);
  CHECK_EQ(IKEGUARD_POLICY_MIN_SIZE, 80);

  CHECK_EQ(sizeof(ikeguard_decision), 16);
  CHECK_EQ(OFFSET(ikeguard_decision, verdict), 0);
  CHECK_EQ(OFFSET(ikeguard_decision, strikes), 4);
  CHECK_EQ(OFFSET(ikeguard_decision, until_ns), 8);
  CHECK_EQ(sizeof(ikeguard_error_outcome), 16);
  CHECK_EQ(OFFSET(ikeguard_error_outcome, action), 0);
  CHECK_EQ(OFFSET(ikeguard_error_outcome, strikes), 4);
  CHECK_EQ(OFFSET(ikeguard_error_outcome, until_ns), 8);
  CHECK_EQ(sizeof(ikeguard_restore_report), 16);

  CHECK_EQ(sizeof(ikeguard_stats), 168);
  CHECK_EQ(OFFSET(ikeguard_stats, proceeded_outbound), 8);
  CHECK_EQ(OFFSET(ikeguard_stats, evictions), 8 + 14 * 8);
  CHECK_EQ(OFFSET(ikeguard_stats, table_bytes), 8 + 17 * 8);
  CHECK_EQ(OFFSET(ikeguard_stats, records_applied), 8 + 18 * 8);
  CHECK_EQ(OFFSET(ikeguard_stats, records_refused), 8 + 19 * 8);
}

/// The calls work from a program built with other enum sizes: the enums only name values.
static void test_calls(void) {
  manual_clock clock = {1000 * SECOND_NS};
  const ikeguard_clock c_clock = {manual_clock_now, &clock};
  ikeguard_policy policy = exact_policy();
  const struct sockaddr_in peer = ipv4_peer("192.0.2.1", 500);
  const ikeguard_notice npc = error_notice(NO_PROPOSAL_CHOSEN);
  ikeguard* guard = NULL;
  ikeguard_decision d;
  ikeguard_error_outcome o;

  CHECK_EQ(ikeguard_policy_set_notify_class(&policy, ikeguard_ikev2, TEMPORARY_FAILURE,
                                            ikeguard_notify_configuration),
           IKEGUARD_OK);
  CHECK_EQ(ikeguard_create(&guard, &policy, &c_clock, NULL), IKEGUARD_OK);
  CHECK_EQ(ikeguard_on_inbound_error(guard, SA(peer), sizeof peer, 0, &npc,
                                     ikeguard_origin_authenticated, &o),
           IKEGUARD_OK);
  CHECK_EQ(o.action, ikeguard_action_hold);
  CHECK_EQ(o.strikes, 1);
  CHECK_EQ(o.until_ns, 1060 * SECOND_NS);
  CHECK_EQ(ikeguard_on_local_rejection(guard, SA(peer), sizeof peer, 0, &npc, 0, &d), IKEGUARD_OK);
  CHECK_EQ(d.verdict, ikeguard_verdict_hold);
  CHECK_EQ(d.strikes, 1);
  CHECK_EQ(d.until_ns, 1030 * SECOND_NS);
  CHECK_EQ(ikeguard_policy_notify_class(&policy, ikeguard_ikev2, TEMPORARY_FAILURE),
           ikeguard_notify_configuration);
  ikeguard_destroy(guard);
}

/// Every call that reads a policy refuses it with `expected`.
static void expect_policy_refused(const ikeguard_policy* policy, int expected, const char* what) {
  static unsigned char arena[64];
  ikeguard* guard = (ikeguard*)arena;
  const int results[4] = {ikeguard_policy_validate(policy),
                          ikeguard_create(&guard, policy, NULL, NULL),
                          ikeguard_policy_notify_class(policy, ikeguard_ikev2, 14),
                          ikeguard_create_in(&guard, arena, sizeof arena, policy, NULL, NULL)};
  int i;
  for (i = 0; i < 4; ++i) {
    if (results[i] != expected) fprintf(stderr, "%s: call %d gave %d\n", what, i, results[i]);
    CHECK_EQ(results[i], expected);
  }
  CHECK(guard == NULL);
  CHECK_EQ(ikeguard_estimate_size(policy), 0);
}

/// A newer header's policy: this one, and a field this library does not know.
typedef struct newer_policy {
  ikeguard_policy known;
  uint64_t added_later;
} newer_policy;

static void test_policy_sizes(void) {
  ikeguard_policy policy;
  newer_policy newer;
  uint64_t storage[50];  // aligned as the structs are
  unsigned char* const bytes = (unsigned char*)storage;
  const size_t bytes_size = sizeof storage;
  size_t i;
  int untouched;

  // The smallest size: the fields up to max_peers. The overrides past it are not read.
  policy = exact_policy();
  CHECK_EQ(ikeguard_policy_set_notify_class(&policy, ikeguard_ikev2, TEMPORARY_FAILURE,
                                            ikeguard_notify_configuration),
           IKEGUARD_OK);
  policy.struct_size = IKEGUARD_POLICY_MIN_SIZE;
  CHECK_EQ(ikeguard_policy_validate(&policy), IKEGUARD_OK);
  CHECK_EQ(ikeguard_policy_notify_class(&policy, ikeguard_ikev2, TEMPORARY_FAILURE),
           ikeguard_notify_retry_later);
  // Nor can one be set there.
  CHECK_EQ(ikeguard_policy_set_notify_class(&policy, ikeguard_ikev2, 36, ikeguard_notify_ignored),
           ikeguard_error_invalid_argument);
  CHECK_EQ(policy.notify_override_count, 1);
  // A size that ends inside the overrides reads none of them either.
  policy.struct_size = IKEGUARD_POLICY_MIN_SIZE + 20;
  CHECK_EQ(ikeguard_policy_notify_class(&policy, ikeguard_ikev2, TEMPORARY_FAILURE),
           ikeguard_notify_retry_later);
  policy.struct_size = sizeof policy;
  CHECK_EQ(ikeguard_policy_notify_class(&policy, ikeguard_ikev2, TEMPORARY_FAILURE),
           ikeguard_notify_configuration);

  // Too small, or too large to be a header's struct; non-zero reserved fields.
  policy = exact_policy();
  policy.struct_size = IKEGUARD_POLICY_MIN_SIZE - 1;
  expect_policy_refused(&policy, ikeguard_error_invalid_argument, "struct_size 79");
  policy.struct_size = 0;
  expect_policy_refused(&policy, ikeguard_error_invalid_argument, "struct_size 0");
  policy.struct_size = IKEGUARD_STRUCT_SIZE_MAX + 1;
  expect_policy_refused(&policy, ikeguard_error_invalid_argument, "struct_size 4097");
  policy = exact_policy();
  policy.reserved0 = 1;
  expect_policy_refused(&policy, ikeguard_error_invalid_argument, "reserved0");
  policy = exact_policy();
  policy.reserved1 = 1;
  expect_policy_refused(&policy, ikeguard_error_invalid_argument, "reserved1");
  policy = exact_policy();
  policy.reserved2 = 1;
  expect_policy_refused(&policy, ikeguard_error_invalid_argument, "reserved2");
  // The struct_size check comes before the fields.
  policy = exact_policy();
  policy.struct_size = 8;
  policy.backoff = 0;
  expect_policy_refused(&policy, ikeguard_error_invalid_argument, "struct_size before fields");

  // A newer header's struct: accepted while what this library does not know is zero.
  memset(&newer, 0xff, sizeof newer);
  ikeguard_policy_init_sized(&newer.known, sizeof newer);
  CHECK_EQ(newer.known.struct_size, sizeof newer);
  CHECK(newer.added_later == 0);
  newer.known.jitter = 0;
  CHECK_EQ(ikeguard_policy_validate(&newer.known), IKEGUARD_OK);
  CHECK(ikeguard_estimate_size(&newer.known) == ikeguard_estimate_size(NULL));
  newer.added_later = 1;
  expect_policy_refused(&newer.known, ikeguard_error_invalid_argument, "non-zero unknown tail");

  // ikeguard_policy_init_sized writes struct_size bytes and no more.
  memset(bytes, 0xa5, bytes_size);
  ikeguard_policy_init_sized((ikeguard_policy*)bytes, IKEGUARD_POLICY_MIN_SIZE);
  memcpy(&policy, bytes, sizeof policy);
  CHECK_EQ(policy.struct_size, IKEGUARD_POLICY_MIN_SIZE);
  CHECK_EQ(policy.receiver_window_ms, 30000);
  CHECK_EQ(policy.max_peers, 65536);
  untouched = 1;
  for (i = IKEGUARD_POLICY_MIN_SIZE; i < bytes_size; ++i) untouched &= bytes[i] == 0xa5;
  CHECK(untouched);
  memset(bytes, 0xa5, bytes_size);
  ikeguard_policy_init_sized((ikeguard_policy*)bytes, 300);
  untouched = 1;
  for (i = sizeof(ikeguard_policy); i < 300; ++i) untouched &= bytes[i] == 0;
  for (i = 300; i < bytes_size; ++i) untouched &= bytes[i] == 0xa5;
  CHECK(untouched);
  // Sizes it refuses: nothing written.
  memset(bytes, 0xa5, bytes_size);
  ikeguard_policy_init_sized((ikeguard_policy*)bytes, IKEGUARD_POLICY_MIN_SIZE - 1);
  ikeguard_policy_init_sized(NULL, sizeof policy);
  untouched = 1;
  for (i = 0; i < bytes_size; ++i) untouched &= bytes[i] == 0xa5;
  CHECK(untouched);
}

/// A newer header's counters: these, and one this library does not have.
typedef struct newer_stats {
  ikeguard_stats known;
  uint64_t added_later;
} newer_stats;

static void test_stats_sizes(void) {
  manual_clock clock = {SECOND_NS};
  const ikeguard_clock c_clock = {manual_clock_now, &clock};
  ikeguard_policy policy = exact_policy();
  const struct sockaddr_in peer = ipv4_peer("192.0.2.1", 500);
  ikeguard* guard = NULL;
  ikeguard_decision d;
  ikeguard_stats from_initializer = IKEGUARD_STATS_INIT;
  uint64_t storage[25];  // aligned as the structs are
  unsigned char* const bytes = (unsigned char*)storage;
  const size_t bytes_size = sizeof storage;
  ikeguard_stats stats;
  newer_stats newer;
  uint32_t size;
  size_t i;
  int untouched;

  policy.max_peers = 16;
  CHECK_EQ(ikeguard_create(&guard, &policy, &c_clock, NULL), IKEGUARD_OK);
  ikeguard_on_outbound_proposal(guard, SA(peer), sizeof peer, 0, 0, &d);
  ikeguard_on_outbound_proposal(guard, SA(peer), sizeof peer, 0, 0, &d);

  CHECK_EQ(from_initializer.struct_size, sizeof from_initializer);
  CHECK_EQ(from_initializer.reserved + from_initializer.proceeded_outbound, 0);
  CHECK_EQ(ikeguard_get_stats(guard, &from_initializer), IKEGUARD_OK);
  CHECK_EQ(from_initializer.proceeded_outbound, 2);
  ikeguard_stats_init(&stats);
  CHECK_EQ(stats.struct_size, sizeof stats);
  CHECK_EQ(ikeguard_get_stats(guard, &stats), IKEGUARD_OK);
  CHECK_EQ(stats.struct_size, sizeof stats);
  CHECK_EQ(stats.proceeded_outbound, 2);
  CHECK_EQ(stats.capacity, 16);
  CHECK(stats.table_bytes > 0);

  // Sizes refused: nothing written.
  for (size = 0; size < 8; size += 4) {
    memset(bytes, 0xa5, bytes_size);
    memcpy(bytes, &size, sizeof size);
    CHECK_EQ(ikeguard_get_stats(guard, (ikeguard_stats*)bytes), ikeguard_error_invalid_argument);
    untouched = 1;
    for (i = 4; i < bytes_size; ++i) untouched &= bytes[i] == 0xa5;
    CHECK(untouched);
  }
  size = IKEGUARD_STRUCT_SIZE_MAX + 1;
  memcpy(bytes, &size, sizeof size);
  CHECK_EQ(ikeguard_get_stats(guard, (ikeguard_stats*)bytes), ikeguard_error_invalid_argument);

  // A shorter struct: the counters that fit whole, zeros for a part of one, nothing after.
  memset(bytes, 0xa5, bytes_size);
  size = 8 + 2 * 8 + 6;
  memcpy(bytes, &size, sizeof size);
  CHECK_EQ(ikeguard_get_stats(guard, (ikeguard_stats*)bytes), IKEGUARD_OK);
  memcpy(&stats, bytes, 8 + 2 * 8);
  CHECK_EQ(stats.struct_size, size);
  CHECK_EQ(stats.proceeded_outbound, 2);
  CHECK_EQ(stats.held_outbound, 0);
  untouched = 1;
  for (i = 24; i < size; ++i) untouched &= bytes[i] == 0;
  for (i = size; i < bytes_size; ++i) untouched &= bytes[i] == 0xa5;
  CHECK(untouched);

  // A newer header's struct: counters this library does not have read 0.
  memset(&newer, 0xff, sizeof newer);
  newer.known.struct_size = sizeof newer;
  CHECK_EQ(ikeguard_get_stats(guard, &newer.known), IKEGUARD_OK);
  CHECK_EQ(newer.known.struct_size, sizeof newer);
  CHECK_EQ(newer.known.proceeded_outbound, 2);
  CHECK_EQ(newer.known.capacity, 16);
  CHECK(newer.added_later == 0);

  ikeguard_stats_init(NULL);  // does nothing, does not crash
  ikeguard_destroy(guard);
}

int main(void) {
  test_layout();
  test_calls();
  test_policy_sizes();
  test_stats_sizes();
#ifdef IKEGUARD_TEST_SHORT_ENUMS
  return check_report("c_api.abi_short_enums");
#else
  return check_report("c_api.abi");
#endif
}
