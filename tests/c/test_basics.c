/* SPDX-License-Identifier: MIT */
// The C API without traffic: version, error strings and names, the policy struct and its
// validation, creating and destroying a guard, and every way creating one fails.
#include "check.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

static void test_version(void) {
  char expected[32];
  snprintf(expected, sizeof expected, "%d.%d.%d", IKEGUARD_VERSION_MAJOR, IKEGUARD_VERSION_MINOR,
           IKEGUARD_VERSION_PATCH);
  CHECK_EQ(ikeguard_version_number(), IKEGUARD_VERSION);
  CHECK_EQ(IKEGUARD_VERSION,
           IKEGUARD_VERSION_MAJOR * 10000 + IKEGUARD_VERSION_MINOR * 100 + IKEGUARD_VERSION_PATCH);
  CHECK_STR(ikeguard_version_string(), expected);
  CHECK_STR(IKEGUARD_VERSION_STRING, expected);
}

static void test_error_codes(void) {
  // Every code of the list: its negative number, the C++ API's message for it, and its name.
#define CHECK_ERROR_CODE(name, number, text)                  \
  CHECK_EQ(ikeguard_error_##name, -(number));                 \
  CHECK_STR(ikeguard_strerror(ikeguard_error_##name), text); \
  CHECK_STR(ikeguard_err_name(ikeguard_error_##name), "ikeguard_error_" #name);
  IKEGUARD_ERRORS(CHECK_ERROR_CODE)
#undef CHECK_ERROR_CODE

  // A few spelled out, so a changed list cannot pass unnoticed.
  CHECK_EQ(IKEGUARD_OK, 0);
  CHECK_EQ(ikeguard_error_ok, 0);
  CHECK_EQ(ikeguard_error_invalid_backoff, -3);
  CHECK_EQ(ikeguard_error_invalid_argument, -20);
  CHECK_EQ(ikeguard_error_unsupported_address_family, -21);
  CHECK_EQ(ikeguard_error_internal_error, -28);
  CHECK_EQ(ikeguard_error_buffer_too_small, -29);
  CHECK_STR(ikeguard_strerror(0), "success");
  CHECK_STR(ikeguard_strerror(-3), "backoff must be a finite number >= 1");
  CHECK_STR(ikeguard_strerror(-21), "the address is neither IPv4 nor IPv6 with a port");
  CHECK_STR(ikeguard_strerror(-28), "an unexpected exception reached the C API boundary");
  CHECK_STR(ikeguard_strerror(-29), "the memory given cannot hold the guard (see estimate_size)");
  CHECK_STR(ikeguard_err_name(0), "ikeguard_error_ok");
  CHECK_STR(ikeguard_err_name(-3), "ikeguard_error_invalid_backoff");
  CHECK_STR(ikeguard_err_name(-20), "ikeguard_error_invalid_argument");
  CHECK_STR(ikeguard_err_name(-29), "ikeguard_error_buffer_too_small");
  CHECK_STR(ikeguard_err_name(-30), "ikeguard_error_cluster_not_configured");
  CHECK_STR(ikeguard_err_name(-34), "ikeguard_error_cluster_record_replayed");
  CHECK_STR(ikeguard_err_name(-36), "ikeguard_error_cluster_too_many_origins");
  CHECK_STR(ikeguard_err_name(-37), "ikeguard_error_snapshot_retired_version");

  // Anything else.
  CHECK_STR(ikeguard_strerror(-38), "unknown error");
  CHECK_STR(ikeguard_strerror(3), "unknown error");
  CHECK_STR(ikeguard_strerror(-1000), "unknown error");
  CHECK_STR(ikeguard_strerror(-2147483647 - 1), "unknown error");
  CHECK_STR(ikeguard_strerror(2147483647), "unknown error");
  CHECK_STR(ikeguard_err_name(-38), "unknown");
  CHECK_STR(ikeguard_err_name(3), "unknown");
  CHECK_STR(ikeguard_err_name(-1000), "unknown");
  CHECK_STR(ikeguard_err_name(-2147483647 - 1), "unknown");
  CHECK_STR(ikeguard_err_name(2147483647), "unknown");
}

static void test_policy_defaults(void) {
  ikeguard_policy policy;
  memset(&policy, 0xa5, sizeof policy);
  ikeguard_policy_init(&policy);
  CHECK_EQ(policy.struct_size, sizeof(ikeguard_policy));
  CHECK_EQ(policy.reserved0 + policy.reserved1 + policy.reserved2, 0);
  CHECK_EQ(policy.receiver_window_ms, 30000);
  CHECK_EQ(policy.sender_window_ms, 60000);
  CHECK(policy.backoff == 2.0);
  CHECK_EQ(policy.max_window_ms, 300000);
  CHECK_EQ(policy.unauthenticated_confirmations, 2);
  CHECK_EQ(policy.retry_delay_ms, 2000);
  CHECK(policy.jitter == 0.1);
  CHECK_EQ(policy.forgive_after_ms, 86400000);
  CHECK_EQ(policy.max_peers, 65536);
  CHECK_EQ(policy.notify_override_count, 0);
  CHECK_EQ(ikeguard_policy_validate(&policy), IKEGUARD_OK);
  ikeguard_policy_init(NULL);  // does nothing, does not crash
}

/// One invalid field at a time: validate and create both name it.
static void expect_invalid(ikeguard_policy policy, int expected, const char* what) {
  ikeguard* guard = (ikeguard*)&policy;  // any non-NULL value: create must reset it
  const int validated = ikeguard_policy_validate(&policy);
  const int created = ikeguard_create(&guard, &policy, NULL, NULL);
  if (validated != expected || created != expected || guard != NULL) {
    fprintf(stderr, "%s: validate %d, create %d, expected %d\n", what, validated, created,
            expected);
  }
  CHECK_EQ(validated, expected);
  CHECK_EQ(created, expected);
  CHECK(guard == NULL);
  ikeguard_destroy(guard);
}

static void test_policy_validation(void) {
  const ikeguard_policy good = exact_policy();
  ikeguard_policy p;
  const uint64_t too_long_ms = UINT64_C(9223372036855);  // just over 2^63 - 1 ns

  p = good;
  p.receiver_window_ms = 0;
  expect_invalid(p, ikeguard_error_invalid_receiver_window, "receiver_window 0");
  p = good;
  p.receiver_window_ms = too_long_ms;
  expect_invalid(p, ikeguard_error_invalid_receiver_window, "receiver_window too long");
  p = good;
  p.receiver_window_ms = UINT64_MAX;
  expect_invalid(p, ikeguard_error_invalid_receiver_window, "receiver_window UINT64_MAX");
  p = good;
  p.sender_window_ms = 0;
  expect_invalid(p, ikeguard_error_invalid_sender_window, "sender_window 0");
  p = good;
  p.sender_window_ms = UINT64_MAX;
  expect_invalid(p, ikeguard_error_invalid_sender_window, "sender_window UINT64_MAX");
  p = good;
  p.backoff = 0.999;
  expect_invalid(p, ikeguard_error_invalid_backoff, "backoff < 1");
  p = good;
  p.backoff = NAN;
  expect_invalid(p, ikeguard_error_invalid_backoff, "backoff NaN");
  p = good;
  p.backoff = INFINITY;
  expect_invalid(p, ikeguard_error_invalid_backoff, "backoff infinite");
  p = good;
  p.max_window_ms = 59999;
  expect_invalid(p, ikeguard_error_invalid_max_window, "max_window < sender_window");
  p = good;
  p.max_window_ms = too_long_ms;
  expect_invalid(p, ikeguard_error_invalid_max_window, "max_window too long");
  p = good;
  p.unauthenticated_confirmations = 0;
  expect_invalid(p, ikeguard_error_invalid_confirmations, "confirmations 0");
  p = good;
  p.unauthenticated_confirmations = 256;
  expect_invalid(p, ikeguard_error_invalid_confirmations, "confirmations 256");
  p = good;
  p.retry_delay_ms = 0;
  expect_invalid(p, ikeguard_error_invalid_retry_delay, "retry_delay 0");
  p = good;
  p.retry_delay_ms = UINT64_MAX;
  expect_invalid(p, ikeguard_error_invalid_retry_delay, "retry_delay UINT64_MAX");
  p = good;
  p.jitter = -0.01;
  expect_invalid(p, ikeguard_error_invalid_jitter, "jitter negative");
  p = good;
  p.jitter = 1.0;
  expect_invalid(p, ikeguard_error_invalid_jitter, "jitter 1");
  p = good;
  p.jitter = NAN;
  expect_invalid(p, ikeguard_error_invalid_jitter, "jitter NaN");
  p = good;
  p.forgive_after_ms = 0;
  expect_invalid(p, ikeguard_error_invalid_forgive_after, "forgive_after 0");
  p = good;
  p.forgive_after_ms = too_long_ms;
  expect_invalid(p, ikeguard_error_invalid_forgive_after, "forgive_after too long");
  p = good;
  p.max_peers = 0;
  expect_invalid(p, ikeguard_error_invalid_max_peers, "max_peers 0");
  p = good;
  p.max_peers = ((size_t)1 << 30) + 1;
  expect_invalid(p, ikeguard_error_invalid_max_peers, "max_peers 2^30 + 1");
  p = good;
  p.notify_override_count = IKEGUARD_MAX_NOTIFY_OVERRIDES + 1;
  expect_invalid(p, ikeguard_error_invalid_argument, "33 notify overrides");
  p = good;
  p.notify_override_count = 1;
  p.notify_overrides[0].version = 3;
  p.notify_overrides[0].type = 14;
  p.notify_overrides[0].notify_class = ikeguard_notify_ignored;
  expect_invalid(p, ikeguard_error_invalid_argument, "override of IKE version 3");
  p.notify_overrides[0].version = ikeguard_ikev2;
  p.notify_overrides[0].notify_class = 4;
  expect_invalid(p, ikeguard_error_invalid_argument, "override to class 4");

  // Several invalid fields: the first in declaration order is named.
  p = good;
  p.jitter = 2.0;
  p.sender_window_ms = 0;
  p.max_peers = 0;
  expect_invalid(p, ikeguard_error_invalid_sender_window, "first invalid field");
  p = good;
  p.max_window_ms = UINT64_MAX;
  p.receiver_window_ms = 0;
  expect_invalid(p, ikeguard_error_invalid_receiver_window, "zero before too long");

  // The limits themselves are fine.
  p = good;
  p.unauthenticated_confirmations = 255;
  p.max_window_ms = UINT64_C(1073741824);  // 2^30 ms: the table keeps 32-bit milliseconds
  p.retry_delay_ms = UINT64_C(1073741824);
  p.forgive_after_ms = UINT64_C(1073741824);
  p.jitter = 0.0;
  p.backoff = 1.0;
  p.max_peers = 1;
  CHECK_EQ(ikeguard_policy_validate(&p), IKEGUARD_OK);
  CHECK_EQ(ikeguard_policy_validate(NULL), ikeguard_error_invalid_argument);
  p.max_window_ms = UINT64_C(1073741825);
  expect_invalid(p, ikeguard_error_invalid_max_window, "max_window one past 2^30 ms");
  p.max_window_ms = UINT64_C(1073741824);
  p.retry_delay_ms = UINT64_C(1073741825);
  expect_invalid(p, ikeguard_error_invalid_retry_delay, "retry_delay one past 2^30 ms");
  p.retry_delay_ms = 2000;
  p.forgive_after_ms = UINT64_C(1073741825);
  expect_invalid(p, ikeguard_error_invalid_forgive_after, "forgive_after one past 2^30 ms");
}

static void test_notify_overrides(void) {
  ikeguard_policy policy = exact_policy();
  int i;

  // Defaults: README's notify table.
  CHECK_EQ(ikeguard_policy_notify_class(&policy, ikeguard_ikev2, 14),
           ikeguard_notify_configuration);
  CHECK_EQ(ikeguard_policy_notify_class(&policy, ikeguard_ikev2, 17), ikeguard_notify_retry_now);
  CHECK_EQ(ikeguard_policy_notify_class(&policy, ikeguard_ikev2, 43), ikeguard_notify_retry_later);
  CHECK_EQ(ikeguard_policy_notify_class(&policy, ikeguard_ikev2, 16384), ikeguard_notify_ignored);
  CHECK_EQ(ikeguard_policy_notify_class(&policy, ikeguard_ikev1, 14),
           ikeguard_notify_configuration);
  CHECK_EQ(ikeguard_policy_notify_class(&policy, ikeguard_ikev1, 16384), ikeguard_notify_ignored);

  // Set, replace.
  CHECK_EQ(
      ikeguard_policy_set_notify_class(&policy, ikeguard_ikev2, 36, ikeguard_notify_configuration),
      IKEGUARD_OK);
  CHECK_EQ(
      ikeguard_policy_set_notify_class(&policy, ikeguard_ikev2, 8300, ikeguard_notify_retry_now),
      IKEGUARD_OK);
  CHECK_EQ(
      ikeguard_policy_set_notify_class(&policy, ikeguard_ikev2, 8300, ikeguard_notify_retry_later),
      IKEGUARD_OK);
  CHECK_EQ(policy.notify_override_count, 2);
  CHECK_EQ(policy.notify_overrides[0].type, 36);
  CHECK_EQ(policy.notify_overrides[1].notify_class, ikeguard_notify_retry_later);
  CHECK_EQ(ikeguard_policy_notify_class(&policy, ikeguard_ikev2, 36),
           ikeguard_notify_configuration);
  CHECK_EQ(ikeguard_policy_notify_class(&policy, ikeguard_ikev2, 8300),
           ikeguard_notify_retry_later);
  CHECK_EQ(ikeguard_policy_notify_class(&policy, ikeguard_ikev1, 36),
           ikeguard_notify_configuration);
  CHECK_EQ(ikeguard_policy_notify_class(&policy, ikeguard_ikev2, 43), ikeguard_notify_retry_later);

  // A full table takes no new type, but still replaces one it holds.
  for (i = 0; policy.notify_override_count < IKEGUARD_MAX_NOTIFY_OVERRIDES; ++i) {
    CHECK_EQ(ikeguard_policy_set_notify_class(&policy, ikeguard_ikev1, (uint16_t)(9000 + i),
                                              ikeguard_notify_ignored),
             IKEGUARD_OK);
  }
  CHECK_EQ(ikeguard_policy_set_notify_class(&policy, ikeguard_ikev2, 40, ikeguard_notify_ignored),
           ikeguard_error_invalid_argument);
  CHECK_EQ(policy.notify_override_count, IKEGUARD_MAX_NOTIFY_OVERRIDES);
  CHECK_EQ(ikeguard_policy_set_notify_class(&policy, ikeguard_ikev2, 36, ikeguard_notify_ignored),
           IKEGUARD_OK);
  CHECK_EQ(ikeguard_policy_notify_class(&policy, ikeguard_ikev2, 36), ikeguard_notify_ignored);
  CHECK_EQ(ikeguard_policy_validate(&policy), IKEGUARD_OK);

  // Bad arguments change nothing.
  CHECK_EQ(ikeguard_policy_set_notify_class(NULL, ikeguard_ikev2, 36, ikeguard_notify_ignored),
           ikeguard_error_invalid_argument);
  policy = exact_policy();
  CHECK_EQ(ikeguard_policy_set_notify_class(&policy, 0, 36,
                                            ikeguard_notify_ignored),
           ikeguard_error_invalid_argument);
  CHECK_EQ(ikeguard_policy_set_notify_class(&policy, ikeguard_ikev2, 36, -1),
           ikeguard_error_invalid_argument);
  CHECK_EQ(policy.notify_override_count, 0);
  policy.notify_override_count = 40;
  CHECK_EQ(ikeguard_policy_set_notify_class(&policy, ikeguard_ikev2, 36, ikeguard_notify_ignored),
           ikeguard_error_invalid_argument);
  CHECK_EQ(ikeguard_policy_notify_class(&policy, ikeguard_ikev2, 36),
           ikeguard_error_invalid_argument);
  policy = exact_policy();
  CHECK_EQ(ikeguard_policy_notify_class(NULL, ikeguard_ikev2, 36), ikeguard_error_invalid_argument);
  CHECK_EQ(ikeguard_policy_notify_class(&policy, 3, 36),
           ikeguard_error_invalid_argument);
  policy.jitter = 1.0;
  CHECK_EQ(ikeguard_policy_notify_class(&policy, ikeguard_ikev2, 36),
           ikeguard_error_invalid_jitter);
}

static uint64_t monotonic_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * SECOND_NS + (uint64_t)now.tv_nsec;
}

static void test_create_and_destroy(void) {
  ikeguard* guard = NULL;
  ikeguard_stats stats;
  ikeguard_policy policy = exact_policy();
  ikeguard_stats_init(&stats);
  manual_clock manual = {42};
  ikeguard_clock c_clock;
  uint64_t before, reading, after;

  // NULL policy, clock and transport: the defaults, the monotonic clock, nothing sent.
  CHECK_EQ(ikeguard_create(&guard, NULL, NULL, NULL), IKEGUARD_OK);
  CHECK(guard != NULL);
  CHECK_EQ(ikeguard_get_stats(guard, &stats), IKEGUARD_OK);
  CHECK_EQ(stats.capacity, 65536);
  CHECK_EQ(stats.peers_tracked, 0);
  before = monotonic_ns();
  reading = ikeguard_now(guard);
  after = monotonic_ns();
  CHECK(before <= reading && reading <= after);
  CHECK_EQ(ikeguard_snapshot_bound(guard), 80 + 65536 * 32 + 32);
  // 32-byte slots and 32 bytes beside each (the address), a quarter more than max_peers: at
  // most 96 bytes per peer at 7/8 full.
  CHECK(stats.table_bytes >= 65536 * (32 + 32));
  CHECK(stats.table_bytes * 7 <= 96 * 8 * 65536);
  ikeguard_destroy(guard);

  // The daemon's clock.
  c_clock.now = manual_clock_now;
  c_clock.ctx = &manual;
  policy.max_peers = 16;
  CHECK_EQ(ikeguard_create(&guard, &policy, &c_clock, NULL), IKEGUARD_OK);
  c_clock.ctx = NULL;  // the guard copied the struct
  CHECK_EQ(ikeguard_now(guard), 42);
  manual.now = 7 * SECOND_NS;
  CHECK_EQ(ikeguard_now(guard), 7 * SECOND_NS);
  manual.now = UINT64_MAX;  // beyond 2^62: read as 2^62
  CHECK_EQ(ikeguard_now(guard), (int64_t)(UINT64_C(1) << 62));
  CHECK_EQ(ikeguard_get_stats(guard, &stats), IKEGUARD_OK);
  CHECK_EQ(stats.capacity, 16);
  ikeguard_destroy(guard);

  // Creating fails without a place for the handle, or with a clock that has no function.
  CHECK_EQ(ikeguard_create(NULL, &policy, NULL, NULL), ikeguard_error_invalid_argument);
  c_clock.now = NULL;
  c_clock.ctx = &manual;
  guard = (ikeguard*)&manual;
  CHECK_EQ(ikeguard_create(&guard, &policy, &c_clock, NULL), ikeguard_error_invalid_argument);
  CHECK(guard == NULL);

  ikeguard_destroy(NULL);
  CHECK_EQ(ikeguard_now(NULL), 0);
  CHECK_EQ(ikeguard_snapshot_bound(NULL), 0);
}

int main(void) {
  test_version();
  test_error_codes();
  test_policy_defaults();
  test_policy_validation();
  test_notify_overrides();
  test_create_and_destroy();
  return check_report("c_api.basics");
}
