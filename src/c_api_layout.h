/* SPDX-License-Identifier: MIT */
// The layout of every struct in ikeguard.h, which is the contract: the same on every ABI (LP64,
// ILP32 with its 4-byte-aligned uint64_t, -fshort-enums). One list, checked by the library's
// own build (c_api_structs.hpp) and, for other targets, by tests/c/layout_targets.c; the includer
// defines IKEGUARD_LAYOUT(condition) as its language's static assertion.
#ifndef IKEGUARD_C_API_LAYOUT_H
#define IKEGUARD_C_API_LAYOUT_H

#include <ikeguard/ikeguard.h>

#include <stddef.h>

IKEGUARD_LAYOUT(sizeof(ikeguard_notice) == 24);
IKEGUARD_LAYOUT(offsetof(ikeguard_notice, version) == 0);
IKEGUARD_LAYOUT(offsetof(ikeguard_notice, reserved) == 1);
IKEGUARD_LAYOUT(offsetof(ikeguard_notice, type) == 2);
IKEGUARD_LAYOUT(offsetof(ikeguard_notice, message_id) == 4);
IKEGUARD_LAYOUT(offsetof(ikeguard_notice, initiator_spi) == 8);
IKEGUARD_LAYOUT(offsetof(ikeguard_notice, responder_spi) == 16);

IKEGUARD_LAYOUT(sizeof(ikeguard_notify_override) == 4);
IKEGUARD_LAYOUT(offsetof(ikeguard_notify_override, version) == 0);
IKEGUARD_LAYOUT(offsetof(ikeguard_notify_override, notify_class) == 1);
IKEGUARD_LAYOUT(offsetof(ikeguard_notify_override, type) == 2);

IKEGUARD_LAYOUT(sizeof(ikeguard_policy) == 224);
IKEGUARD_LAYOUT(offsetof(ikeguard_policy, keep_addresses) == 216);
IKEGUARD_LAYOUT(offsetof(ikeguard_policy, struct_size) == 0);
IKEGUARD_LAYOUT(offsetof(ikeguard_policy, reserved0) == 4);
IKEGUARD_LAYOUT(offsetof(ikeguard_policy, receiver_window_ms) == 8);
IKEGUARD_LAYOUT(offsetof(ikeguard_policy, sender_window_ms) == 16);
IKEGUARD_LAYOUT(offsetof(ikeguard_policy, backoff) == 24);
IKEGUARD_LAYOUT(offsetof(ikeguard_policy, max_window_ms) == 32);
IKEGUARD_LAYOUT(offsetof(ikeguard_policy, unauthenticated_confirmations) == 40);
IKEGUARD_LAYOUT(offsetof(ikeguard_policy, reserved1) == 44);
IKEGUARD_LAYOUT(offsetof(ikeguard_policy, retry_delay_ms) == 48);
IKEGUARD_LAYOUT(offsetof(ikeguard_policy, jitter) == 56);
IKEGUARD_LAYOUT(offsetof(ikeguard_policy, forgive_after_ms) == 64);
IKEGUARD_LAYOUT(offsetof(ikeguard_policy, max_peers) == 72);
IKEGUARD_LAYOUT(offsetof(ikeguard_policy, notify_override_count) == 80);
IKEGUARD_LAYOUT(offsetof(ikeguard_policy, reserved2) == 84);
IKEGUARD_LAYOUT(offsetof(ikeguard_policy, notify_overrides) == 88);
IKEGUARD_LAYOUT(IKEGUARD_POLICY_MIN_SIZE == offsetof(ikeguard_policy, notify_override_count));

IKEGUARD_LAYOUT(sizeof(ikeguard_decision) == 16);
IKEGUARD_LAYOUT(offsetof(ikeguard_decision, verdict) == 0);
IKEGUARD_LAYOUT(offsetof(ikeguard_decision, reserved) == 1);
IKEGUARD_LAYOUT(offsetof(ikeguard_decision, strikes) == 4);
IKEGUARD_LAYOUT(offsetof(ikeguard_decision, until_ns) == 8);

IKEGUARD_LAYOUT(sizeof(ikeguard_error_outcome) == 16);
IKEGUARD_LAYOUT(offsetof(ikeguard_error_outcome, action) == 0);
IKEGUARD_LAYOUT(offsetof(ikeguard_error_outcome, reserved) == 1);
IKEGUARD_LAYOUT(offsetof(ikeguard_error_outcome, strikes) == 4);
IKEGUARD_LAYOUT(offsetof(ikeguard_error_outcome, until_ns) == 8);

IKEGUARD_LAYOUT(sizeof(ikeguard_restore_report) == 16);
IKEGUARD_LAYOUT(offsetof(ikeguard_restore_report, restored) == 0);
IKEGUARD_LAYOUT(offsetof(ikeguard_restore_report, dropped) == 8);
IKEGUARD_LAYOUT(sizeof(ikeguard_stats) == 168);
IKEGUARD_LAYOUT(offsetof(ikeguard_stats, proceeded_outbound) == 8);
IKEGUARD_LAYOUT(offsetof(ikeguard_stats, table_bytes) == 144);
IKEGUARD_LAYOUT(offsetof(ikeguard_stats, records_refused) == 160);

IKEGUARD_LAYOUT(sizeof(ikeguard_event) == 88);
IKEGUARD_LAYOUT(offsetof(ikeguard_event, kind) == 4);
IKEGUARD_LAYOUT(offsetof(ikeguard_event, notify_type) == 10);
IKEGUARD_LAYOUT(offsetof(ikeguard_event, strikes) == 12);
IKEGUARD_LAYOUT(offsetof(ikeguard_event, scope) == 20);
IKEGUARD_LAYOUT(offsetof(ikeguard_event, address) == 28);
IKEGUARD_LAYOUT(offsetof(ikeguard_event, at_ns) == 48);
IKEGUARD_LAYOUT(offsetof(ikeguard_event, node) == 80);
IKEGUARD_LAYOUT(sizeof(ikeguard_held_peer) == 64);
IKEGUARD_LAYOUT(offsetof(ikeguard_held_peer, sender_strikes) == 16);
IKEGUARD_LAYOUT(offsetof(ikeguard_held_peer, scope) == 32);
IKEGUARD_LAYOUT(offsetof(ikeguard_held_peer, address) == 40);
IKEGUARD_LAYOUT(offsetof(ikeguard_held_peer, confirmations) == 56);

#endif  // IKEGUARD_C_API_LAYOUT_H
