/* SPDX-License-Identifier: MIT */
// ikeguard.h's structs have one layout on every ABI: check_layout_targets.cmake compiles this
// file (C11, for _Static_assert; nothing is linked or run) for 32- and 64-bit, little- and
// big-endian targets, each with and without -fshort-enums. src/c_api.cpp pins the same numbers
// for the library's own build.
#include <ikeguard/ikeguard.h>

#define LAYOUT(condition) _Static_assert(condition, #condition)

LAYOUT(sizeof(ikeguard_notice) == 24);
LAYOUT(offsetof(ikeguard_notice, version) == 0);
LAYOUT(offsetof(ikeguard_notice, type) == 2);
LAYOUT(offsetof(ikeguard_notice, message_id) == 4);
LAYOUT(offsetof(ikeguard_notice, initiator_spi) == 8);
LAYOUT(offsetof(ikeguard_notice, responder_spi) == 16);

LAYOUT(sizeof(ikeguard_notify_override) == 4);
LAYOUT(offsetof(ikeguard_notify_override, notify_class) == 1);
LAYOUT(offsetof(ikeguard_notify_override, type) == 2);

LAYOUT(sizeof(ikeguard_policy) == 216);
LAYOUT(offsetof(ikeguard_policy, receiver_window_ms) == 8);
LAYOUT(offsetof(ikeguard_policy, sender_window_ms) == 16);
LAYOUT(offsetof(ikeguard_policy, backoff) == 24);
LAYOUT(offsetof(ikeguard_policy, max_window_ms) == 32);
LAYOUT(offsetof(ikeguard_policy, unauthenticated_confirmations) == 40);
LAYOUT(offsetof(ikeguard_policy, retry_delay_ms) == 48);
LAYOUT(offsetof(ikeguard_policy, jitter) == 56);
LAYOUT(offsetof(ikeguard_policy, forgive_after_ms) == 64);
LAYOUT(offsetof(ikeguard_policy, max_peers) == 72);
LAYOUT(offsetof(ikeguard_policy, notify_override_count) == 80);
LAYOUT(offsetof(ikeguard_policy, notify_overrides) == 88);

LAYOUT(sizeof(ikeguard_decision) == 16);
LAYOUT(offsetof(ikeguard_decision, strikes) == 4);
LAYOUT(offsetof(ikeguard_decision, until_ns) == 8);
LAYOUT(sizeof(ikeguard_error_outcome) == 16);
LAYOUT(offsetof(ikeguard_error_outcome, strikes) == 4);
LAYOUT(offsetof(ikeguard_error_outcome, until_ns) == 8);
LAYOUT(sizeof(ikeguard_restore_report) == 16);
LAYOUT(offsetof(ikeguard_restore_report, dropped) == 8);

LAYOUT(sizeof(ikeguard_stats) == 152);
LAYOUT(offsetof(ikeguard_stats, proceeded_outbound) == 8);
LAYOUT(offsetof(ikeguard_stats, table_bytes) == 144);
