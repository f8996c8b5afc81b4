// SPDX-License-Identifier: MIT
// The one list of ikeguard's error values, in plain C so that both the C++ API (error.hpp:
// enum class Errc, message(), name()) and the C API (ikeguard.h: negative ikeguard_error_*
// codes, ikeguard_strerror()) are generated from it.
#ifndef IKEGUARD_ERRORS_H
#define IKEGUARD_ERRORS_H

// X(name, number, message). Numbers are stable once released; the C API returns -number.
#define IKEGUARD_ERRORS(X)                                                                \
  X(ok, 0, "success")                                                                     \
  X(invalid_receiver_window, 1, "receiver_window (T1) must be positive")                 \
  X(invalid_sender_window, 2, "sender_window (T2) must be positive")                     \
  X(invalid_backoff, 3, "backoff must be a finite number >= 1")                           \
  X(invalid_max_window, 4, "max_window must be at least both windows and at most 2^30 ms")  \
  X(invalid_confirmations, 5, "unauthenticated_confirmations must be between 1 and 255") \
  X(invalid_retry_delay, 6, "retry_delay must be positive and at most 2^30 ms")         \
  X(invalid_jitter, 7, "jitter must be in [0, 1)")                                        \
  X(invalid_forgive_after, 8, "forgive_after must be positive and at most 2^30 ms")     \
  X(invalid_max_peers, 9, "max_peers must be between 1 and 2^30")                         \
  X(out_of_memory, 10, "cannot allocate memory (the peer table, or restore's index)")     \
  X(crypto_unavailable, 11, "libsodium failed to initialise")                            \
  X(wire_truncated, 12, "message shorter than its headers say")                          \
  X(wire_bad_length, 13, "a length field is inconsistent with the message")              \
  X(wire_bad_version, 14, "not an IKE message of the expected version")                  \
  X(wire_too_many_payloads, 15, "more payloads than a negotiation message can carry")    \
  X(wire_unknown_critical_payload, 16, "an unknown payload is marked critical")          \
  X(wire_malformed_payload, 17, "a payload's contents do not fit its type")              \
  X(wire_buffer_too_small, 18, "the output buffer cannot hold the message")              \
  X(wire_invalid_proposal, 19, "the proposal text names no known transform set")         \
  X(invalid_argument, 20, "a required argument is missing or out of range")              \
  X(unsupported_address_family, 21, "the address is neither IPv4 nor IPv6 with a port")  \
  X(snapshot_buffer_too_small, 22, "the buffer cannot hold the snapshot")                 \
  X(snapshot_truncated, 23, "the snapshot is shorter or longer than its header says")    \
  X(snapshot_not_a_snapshot, 24, "not an ikeguard snapshot")                              \
  X(snapshot_unsupported_version, 25, "the snapshot's format version is not supported")  \
  X(snapshot_unauthenticated, 26, "the snapshot's MAC does not verify: altered, or another key") \
  X(snapshot_malformed, 27, "a snapshot record is invalid")                               \
  X(internal_error, 28, "an unexpected exception reached the C API boundary")              \
  X(buffer_too_small, 29, "the memory given cannot hold the guard (see estimate_size)")       \
  X(cluster_not_configured, 30, "the guard was made without a ClusterNode")                  \
  X(cluster_record_truncated, 31, "a cluster record is shorter or longer than its version's size") \
  X(cluster_record_unsupported_version, 32, "the cluster record's format version is not supported") \
  X(cluster_record_unauthenticated, 33, "the cluster record's MAC does not verify: forged, altered, or another cluster's key") \
  X(cluster_record_replayed, 34, "the cluster record was seen before, or is older than its origin's replay window") \
  X(cluster_record_malformed, 35, "a cluster record field is invalid")                         \
  X(cluster_too_many_origins, 36, "records from more nodes than a ClusterNode tracks")                       \
  X(snapshot_retired_version, 37, "the snapshot was written by ikeguard 0.2 or earlier, whose peer hash (SipHash-2-4) this version no longer uses: start without it")

#endif  // IKEGUARD_ERRORS_H
