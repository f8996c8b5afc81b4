/* SPDX-License-Identifier: MIT */
// The one list of the guard's counters, in plain C so that the C++ Stats, the guard's internal
// counters, stats(), the C API's ikeguard_stats and its copy, and the formatters are all
// generated from it.
#ifndef IKEGUARD_COUNTERS_H
#define IKEGUARD_COUNTERS_H

// COUNTER(name, help): a count of events since the guard was made, only ever growing.
// GAUGE(name, help): a value now.
// New entries go at the end: the C struct's layout follows this order.
#define IKEGUARD_COUNTERS(COUNTER, GAUGE)                                                      \
  COUNTER(proceeded_outbound, "on_outbound_proposal answered proceed")                       \
  COUNTER(held_outbound, "on_outbound_proposal answered hold")                               \
  COUNTER(proceeded_inbound, "on_inbound_proposal answered proceed")                         \
  COUNTER(dropped_inbound, "on_inbound_proposal answered hold")                              \
  COUNTER(notices_sent, "notices sent through the transport")                                \
  COUNTER(notices_suppressed, "rejections inside an open receiver window: no notice sent")   \
  COUNTER(errors_honoured, "on_inbound_error answered hold (T2 opened or open)")              \
  COUNTER(retried_now, "on_inbound_error answered retry_now")                                \
  COUNTER(retried_later, "on_inbound_error answered retry_later")                            \
  COUNTER(awaiting_confirmation, "of retried_later: unauthenticated, not yet confirmed")     \
  COUNTER(ignored, "on_inbound_error answered ignored")                                      \
  COUNTER(unsolicited, "of ignored: unsolicited errors")                                     \
  COUNTER(fingerprint_lifts, "windows lifted by a changed configuration")                    \
  COUNTER(established, "on_established calls")                                               \
  COUNTER(evictions, "entries with a window or strikes pushed out of a full table")          \
  GAUGE(peers_tracked, "entries in the table now")                                           \
  GAUGE(capacity, "the most entries the table holds (max_peers)")                           \
  GAUGE(table_bytes, "memory the guard holds: table, shards, itself; fixed")                \
  COUNTER(records_applied, "cluster records from other nodes accepted by apply()")           \
  COUNTER(records_refused, "cluster records apply() refused (forged, replayed, malformed)")

#endif  // IKEGUARD_COUNTERS_H
