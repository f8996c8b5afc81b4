/* SPDX-License-Identifier: MIT */
// FROZEN: do not update this file when include/ikeguard/ikeguard.h changes.
//
// It stands for the ikeguard.h of an older release, the one a daemon binary in the field was
// compiled against, trimmed to what test_abi_previous_layout.c uses. Its versioned structs are
// the previous layout: ikeguard_policy ends at max_peers (no notify overrides yet) and
// ikeguard_stats ends at capacity (no table_bytes yet). The program built with it is linked
// with today's library, which must accept the shorter policy (the missing fields take their
// defaults) and write no byte past the shorter stats.
//
// It is self-contained on purpose: including today's errors.h or counters.h would let today's
// lists leak into what is meant to be an old binary.
#ifndef IKEGUARD_H
#define IKEGUARD_H

#define IKEGUARD_PREVIOUS_RELEASE_HEADER 1

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sockaddr;

#define IKEGUARD_OK 0
typedef enum ikeguard_error {
  ikeguard_error_ok = 0,
  ikeguard_error_invalid_argument = -20
} ikeguard_error;

const char* ikeguard_strerror(int code);

typedef enum ikeguard_ike_version { ikeguard_ikev1 = 1, ikeguard_ikev2 = 2 } ikeguard_ike_version;

typedef struct ikeguard_notice {
  uint8_t version;
  uint8_t reserved;
  uint16_t type;
  uint32_t message_id;
  uint64_t initiator_spi;
  uint64_t responder_spi;
} ikeguard_notice;

typedef enum ikeguard_origin {
  ikeguard_origin_authenticated = 0,
  ikeguard_origin_answers_request = 1,
  ikeguard_origin_unsolicited = 2
} ikeguard_origin;

typedef enum ikeguard_notify_class {
  ikeguard_notify_configuration = 0,
  ikeguard_notify_retry_now = 1,
  ikeguard_notify_retry_later = 2,
  ikeguard_notify_ignored = 3
} ikeguard_notify_class;

/// The previous layout: 80 bytes.
typedef struct ikeguard_policy {
  uint32_t struct_size;
  uint32_t reserved0;
  uint64_t receiver_window_ms;
  uint64_t sender_window_ms;
  double backoff;
  uint64_t max_window_ms;
  uint32_t unauthenticated_confirmations;
  uint32_t reserved1;
  uint64_t retry_delay_ms;
  double jitter;
  uint64_t forgive_after_ms;
  uint64_t max_peers;
} ikeguard_policy;

void ikeguard_policy_init_sized(ikeguard_policy* policy, size_t struct_size);
static inline void ikeguard_policy_init(ikeguard_policy* policy) {
  ikeguard_policy_init_sized(policy, sizeof *policy);
}
int ikeguard_policy_validate(const ikeguard_policy* policy);
int ikeguard_policy_notify_class(const ikeguard_policy* policy, int version, uint16_t type);

typedef struct ikeguard_clock {
  uint64_t (*now)(void* ctx);
  void* ctx;
} ikeguard_clock;

typedef struct ikeguard_transport {
  void (*send_notice)(void* ctx, const struct sockaddr* peer, size_t peer_len, uint32_t scope,
                      const ikeguard_notice* notice);
  void* ctx;
} ikeguard_transport;

struct ikeguard_handle;
typedef struct ikeguard_handle ikeguard_handle;
#ifndef __cplusplus
typedef struct ikeguard_handle ikeguard;
#endif

int ikeguard_create(ikeguard_handle** out, const ikeguard_policy* policy,
                    const ikeguard_clock* clock, const ikeguard_transport* transport);
size_t ikeguard_estimate_size(const ikeguard_policy* policy);
void ikeguard_destroy(ikeguard_handle* guard);

typedef enum ikeguard_verdict {
  ikeguard_verdict_proceed = 0,
  ikeguard_verdict_hold = 1
} ikeguard_verdict;

typedef struct ikeguard_decision {
  uint8_t verdict;
  uint8_t reserved[3];
  uint32_t strikes;
  uint64_t until_ns;
} ikeguard_decision;

typedef enum ikeguard_error_action {
  ikeguard_action_hold = 0,
  ikeguard_action_retry_now = 1,
  ikeguard_action_retry_later = 2,
  ikeguard_action_ignored = 3
} ikeguard_error_action;

typedef struct ikeguard_error_outcome {
  uint8_t action;
  uint8_t reserved[3];
  uint32_t strikes;
  uint64_t until_ns;
} ikeguard_error_outcome;

int ikeguard_on_inbound_error(ikeguard_handle* guard, const struct sockaddr* peer,
                              size_t peer_len, uint32_t scope, const ikeguard_notice* notice,
                              int origin, ikeguard_error_outcome* outcome);
int ikeguard_on_inbound_proposal(ikeguard_handle* guard, const struct sockaddr* peer,
                                 size_t peer_len, uint32_t scope, uint64_t fingerprint,
                                 ikeguard_decision* decision);
int ikeguard_on_local_rejection(ikeguard_handle* guard, const struct sockaddr* peer,
                                size_t peer_len, uint32_t scope, const ikeguard_notice* notice,
                                uint64_t fingerprint, ikeguard_decision* decision);

/// The previous layout: 144 bytes, the counters up to capacity.
typedef struct ikeguard_stats {
  uint32_t struct_size;
  uint32_t reserved;
  uint64_t proceeded_outbound;
  uint64_t held_outbound;
  uint64_t proceeded_inbound;
  uint64_t dropped_inbound;
  uint64_t notices_sent;
  uint64_t notices_suppressed;
  uint64_t errors_honoured;
  uint64_t retried_now;
  uint64_t retried_later;
  uint64_t awaiting_confirmation;
  uint64_t ignored;
  uint64_t unsolicited;
  uint64_t fingerprint_lifts;
  uint64_t established;
  uint64_t evictions;
  uint64_t peers_tracked;
  uint64_t capacity;
} ikeguard_stats;

static inline void ikeguard_stats_init(ikeguard_stats* stats) {
  if (stats == NULL) return;
  memset(stats, 0, sizeof *stats);
  stats->struct_size = sizeof *stats;
}
int ikeguard_get_stats(const ikeguard_handle* guard, ikeguard_stats* stats);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // IKEGUARD_H
