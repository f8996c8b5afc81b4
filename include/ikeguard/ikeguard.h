/* SPDX-License-Identifier: MIT */
// ikeguard's C API: the negotiation guard for daemons written in C. C99; usable from C++.
//
// Conventions (zstd's and libuv's):
// - An opaque handle, `ikeguard`, made by ikeguard_create() and freed by ikeguard_destroy().
// - Calls that can fail return an int: IKEGUARD_OK (0), or a negative ikeguard_error_* code;
//   ikeguard_strerror() says what it means. Nothing is thrown or aborted at this boundary.
// - Every pointer parameter is required (NULL gives ikeguard_error_invalid_argument) unless its
//   comment says NULL is accepted.
// - Times are nanoseconds on the guard's clock (the daemon's ikeguard_clock, or the monotonic
//   clock), as uint64_t; durations in the policy are milliseconds.
// - Thread-safety: every call on one handle may run from any thread at once, except
//   ikeguard_destroy() (no other call may still run) and ikeguard_restore() (see there).
#ifndef IKEGUARD_H
#define IKEGUARD_H

#include <ikeguard/errors.h>
#include <ikeguard/export.hpp>   // IKEGUARD_API: plain preprocessor, valid C
#include <ikeguard/version.hpp>  // IKEGUARD_VERSION_MAJOR/MINOR/PATCH, IKEGUARD_VERSION

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sockaddr;  // <sys/socket.h>: the daemon passes what recvfrom() gave it

// --- Version ------------------------------------------------------------------------------

#define IKEGUARD_STRINGIFY_VALUE_(x) #x
#define IKEGUARD_STRINGIFY_(x) IKEGUARD_STRINGIFY_VALUE_(x)
/// "MAJOR.MINOR.PATCH" of the headers compiled against.
#define IKEGUARD_VERSION_STRING               \
  IKEGUARD_STRINGIFY_(IKEGUARD_VERSION_MAJOR) \
  "." IKEGUARD_STRINGIFY_(IKEGUARD_VERSION_MINOR) "." IKEGUARD_STRINGIFY_(IKEGUARD_VERSION_PATCH)

/// IKEGUARD_VERSION of the library linked at run time (may differ from the headers').
IKEGUARD_API unsigned ikeguard_version_number(void);
/// IKEGUARD_VERSION_STRING of the library linked at run time. Static storage.
IKEGUARD_API const char* ikeguard_version_string(void);

// --- Errors -------------------------------------------------------------------------------

/// ikeguard_error_invalid_backoff = -3, ...: the negatives of the C++ Errc numbers.
typedef enum ikeguard_error {
#define IKEGUARD_C_ERROR_(name, number, message) ikeguard_error_##name = -(number),
  IKEGUARD_ERRORS(IKEGUARD_C_ERROR_)
#undef IKEGUARD_C_ERROR_
} ikeguard_error;

/// Success (ikeguard_error_ok).
#define IKEGUARD_OK 0

/// A static sentence for a code from this API (0 or negative): "success",
/// "backoff must be a finite number >= 1", ...; "unknown error" for any other int. Never NULL.
IKEGUARD_API const char* ikeguard_strerror(int code);

// --- Notices and classes ------------------------------------------------------------------

typedef enum ikeguard_ike_version { ikeguard_ikev1 = 1, ikeguard_ikev2 = 2 } ikeguard_ike_version;

/// An IKE error notification: the notify message type (RFC 7296 3.10.1 for IKEv2, RFC 2408
/// 3.14.1 for IKEv1) and the exchange it belongs to (IKEv1 cookies go in the SPI fields).
typedef struct ikeguard_notice {
  ikeguard_ike_version version;
  uint16_t type;
  uint64_t initiator_spi;
  uint64_t responder_spi;
  uint32_t message_id;
} ikeguard_notice;

/// How an error notification reached the daemon: decides how far it is trusted.
typedef enum ikeguard_origin {
  ikeguard_origin_authenticated = 0,    ///< inside an SK (integrity-protected) payload
  ikeguard_origin_answers_request = 1,  ///< in the clear, matching our request's SPI and message ID
  ikeguard_origin_unsolicited = 2       ///< in the clear, matching nothing we sent: ignored
} ikeguard_origin;

/// What a notify type means for retrying.
typedef enum ikeguard_notify_class {
  ikeguard_notify_configuration = 0,  ///< retrying cannot fix it: opens a window
  ikeguard_notify_retry_now = 1,      ///< the protocol defines a corrective action
  ikeguard_notify_retry_later = 2,    ///< transient: retry after the policy's retry delay
  ikeguard_notify_ignored = 3         ///< status, hint, or not about this negotiation
} ikeguard_notify_class;

// --- Policy -------------------------------------------------------------------------------

/// The most notify class overrides a policy holds.
#define IKEGUARD_MAX_NOTIFY_OVERRIDES 32

/// One notify type the daemon classes differently from the default table.
typedef struct ikeguard_notify_override {
  ikeguard_ike_version version;
  uint16_t type;
  ikeguard_notify_class notify_class;
} ikeguard_notify_override;

/// The guard's settings. Fill with ikeguard_policy_init(), change what you need, then create
/// the guard (which validates) or call ikeguard_policy_validate(). Durations are milliseconds
/// and must be positive; one longer than 2^63 - 1 nanoseconds is refused with its field's code.
typedef struct ikeguard_policy {
  uint64_t receiver_window_ms;             ///< T1: drop a rejected peer's proposals; 30000
  uint64_t sender_window_ms;               ///< T2: hold proposals after a config error; 60000
  double backoff;                          ///< growth per consecutive failure, >= 1; 2
  uint64_t max_window_ms;                  ///< cap, >= both windows; 300000
  unsigned unauthenticated_confirmations;  ///< cleartext errors needed to open T2, 1-255; 2
  uint64_t retry_delay_ms;                 ///< hold after a transient error; 2000
  double jitter;                           ///< +/- fraction of each window, [0, 1); 0.1
  uint64_t forgive_after_ms;               ///< strikes lapse after this long; 86400000 (24 h)
  size_t max_peers;                        ///< table capacity, 1 to 2^30; 65536
  /// Overrides of the default notify table (README "Notify classification"); later entries replace
  /// earlier ones for the same version and type. Count above the maximum, an unknown version
  /// or class: ikeguard_error_invalid_argument.
  size_t notify_override_count;
  ikeguard_notify_override notify_overrides[IKEGUARD_MAX_NOTIFY_OVERRIDES];
} ikeguard_policy;

/// Sets every field to the documented default, with no notify overrides. NULL: does nothing.
IKEGUARD_API void ikeguard_policy_init(ikeguard_policy* policy);

/// IKEGUARD_OK, or the code of the first invalid field in declaration order (the same check
/// ikeguard_create() makes).
IKEGUARD_API int ikeguard_policy_validate(const ikeguard_policy* policy);

/// Sets (or replaces) the class of one notify type in policy->notify_overrides.
/// ikeguard_error_invalid_argument, and no change, when the policy already holds
/// IKEGUARD_MAX_NOTIFY_OVERRIDES other overrides or version or notify_class is unknown.
IKEGUARD_API int ikeguard_policy_set_notify_class(ikeguard_policy* policy,
                                                  ikeguard_ike_version version, uint16_t type,
                                                  ikeguard_notify_class notify_class);

/// The class the guard will give a notify type under this policy (override or default):
/// an ikeguard_notify_class (>= 0), or a negative code for an invalid policy or version.
IKEGUARD_API int ikeguard_policy_notify_class(const ikeguard_policy* policy,
                                              ikeguard_ike_version version, uint16_t type);

// --- What the daemon plugs in -------------------------------------------------------------

/// Where the guard reads time. `now` returns nanoseconds since any fixed epoch; it must never
/// go backwards, stay below 2^62 (146 years), and be safe to call from any thread at once.
/// The guard calls it once per call.
typedef struct ikeguard_clock {
  uint64_t (*now)(void* ctx);
  void* ctx;
} ikeguard_clock;

/// How the guard's abnormal-information messages leave (step B): ikeguard_on_local_rejection()
/// calls `send_notice` for a configuration error at most once per receiver window, and for
/// any other notice every time. `peer` is a struct sockaddr_in or sockaddr_in6 of `peer_len`
/// bytes (sin6_scope_id 0); an IPv4-mapped IPv6 peer comes back as sockaddr_in. `scope` is the
/// one the daemon passed. Called outside the guard's locks, so it may call the guard again;
/// from any daemon thread. It must not unwind (longjmp, C++ exception) through the guard.
typedef struct ikeguard_transport {
  void (*send_notice)(void* ctx, const struct sockaddr* peer, size_t peer_len, uint32_t scope,
                      const ikeguard_notice* notice);
  void* ctx;
} ikeguard_transport;

// --- The guard ----------------------------------------------------------------------------

/// The guard: opaque, made by ikeguard_create(). In C it is `ikeguard`; in C++, where
/// `ikeguard` names the C++ API's namespace, the same handle is `ikeguard_handle`, the name
/// the prototypes below use (both languages have it).
#ifdef __cplusplus
struct ikeguard_handle;
#else
typedef struct ikeguard ikeguard;
typedef struct ikeguard ikeguard_handle;
#endif

/// Makes a guard: allocates its peer table once, for policy->max_peers peers; no call
/// allocates afterwards. `policy` NULL: the defaults. `clock` NULL: the monotonic clock
/// (CLOCK_MONOTONIC); otherwise clock->now is required. `transport` NULL, or its send_notice
/// NULL: the guard sends nothing (the daemon sends its own error responses). The structs are
/// copied; their ctx must outlive the guard. On success *out is the guard; on failure NULL,
/// with the invalid policy field's code, ikeguard_error_out_of_memory or
/// ikeguard_error_crypto_unavailable.
IKEGUARD_API int ikeguard_create(ikeguard_handle** out, const ikeguard_policy* policy,
                                 const ikeguard_clock* clock, const ikeguard_transport* transport);

/// Frees the guard. NULL: does nothing.
IKEGUARD_API void ikeguard_destroy(ikeguard_handle* guard);

/// The guard's current time in nanoseconds (what `until_ns` compares with); 0 for NULL.
IKEGUARD_API uint64_t ikeguard_now(const ikeguard_handle* guard);

/// The keyed digest of a proposal and its policy bytes (not the key material): same bytes,
/// same guard, same value; never 0. 0 (unknown) for a NULL guard, or NULL data with size > 0.
IKEGUARD_API uint64_t ikeguard_fingerprint(const ikeguard_handle* guard, const void* data,
                                           size_t size);

/// The fingerprint of what a first negotiation message offers, from the datagram as received
/// (IKE header first: a daemon on port 4500 strips the 4-byte non-ESP marker before). IKEv2
/// (major version 2): ikeguard_fingerprint() of the canonical proposals
/// (wire::canonical_proposals) of its SA payload; IKEv1 (major version 1): of the body of its
/// first SA payload (type 1) as sent. SPIs, cookies, nonces, KE data and message IDs do not
/// count: retransmissions and new attempts of one configuration give the same value, a changed
/// proposal (its transforms or their order) another one. 0 (unknown) for a NULL guard, NULL
/// data, or a message that does not parse or has no SA payload in the clear. Allocates nothing
/// (about 7 KiB of stack).
IKEGUARD_API uint64_t ikeguard_fingerprint_message(const ikeguard_handle* guard, const void* data,
                                                   size_t size);

typedef enum ikeguard_verdict {
  ikeguard_verdict_proceed = 0,  ///< send the proposal, or process the received one
  ikeguard_verdict_hold = 1      ///< outbound: send nothing until until_ns; inbound: drop it
} ikeguard_verdict;

/// The answer to a proposal or a local rejection.
typedef struct ikeguard_decision {
  ikeguard_verdict verdict;
  uint64_t until_ns;  ///< hold: when the window ends; proceed: the time of the decision
  uint32_t strikes;   ///< consecutive failures in this direction
} ikeguard_decision;

typedef enum ikeguard_error_action {
  ikeguard_action_hold = 0,         ///< configuration error: the sender window (T2) is open
  ikeguard_action_retry_now = 1,    ///< corrective error (new KE group, cookie, redirect)
  ikeguard_action_retry_later = 2,  ///< transient, or not yet confirmed: hold until until_ns
  ikeguard_action_ignored = 3       ///< status, hint, or unsolicited: nothing changed
} ikeguard_error_action;

/// The answer to an inbound error notification.
typedef struct ikeguard_error_outcome {
  ikeguard_error_action action;
  uint64_t until_ns;  ///< hold, retry_later: when proposals may resume; else the time of the call
  uint32_t strikes;   ///< sender strikes toward this peer after this error
} ikeguard_error_outcome;

// The five calls. The peer is the address the datagram came from or goes to: a struct
// sockaddr_in or sockaddr_in6 of at least that size in `peer_len`, with a non-zero port
// (otherwise ikeguard_error_unsupported_address_family); IPv4-mapped IPv6 addresses count as
// IPv4. `scope` tells apart peers with one address (a connection id, an interface index,
// a VRF); 0 = none. `fingerprint` is from ikeguard_fingerprint(), 0 = unknown.
// One peer, one key, in all five calls: an error in IKE_AUTH (port 4500 after NAT traversal,
// RFC 7296 2.23) must name the peer its IKE_SA_INIT named, or its window never gates the next
// IKE_SA_INIT. A daemon whose peers may sit behind a NAT (their source port changes between
// attempts) passes the remote address with port 500 for every message, whatever port it
// arrived on: the strongSwan integration (examples/strongswan/) does so.
// On any failure, a given *decision is set to proceed and a given *outcome to ignored, with
// until_ns 0 and strikes 0: what the daemon would do without the guard.

/// Step A: before sending a first negotiation message (IKE_SA_INIT or CREATE_CHILD_SA request;
/// IKEv1 Main, Aggressive or Quick Mode first message). hold: send nothing, allocate no SA
/// state until until_ns. A known fingerprint other than the failed one lifts the window.
IKEGUARD_API int ikeguard_on_outbound_proposal(ikeguard_handle* guard, const struct sockaddr* peer,
                                               size_t peer_len, uint32_t scope,
                                               uint64_t fingerprint, ikeguard_decision* decision);

/// Step C: for every error notification received for a negotiation this side started.
IKEGUARD_API int ikeguard_on_inbound_error(ikeguard_handle* guard, const struct sockaddr* peer,
                                           size_t peer_len, uint32_t scope,
                                           const ikeguard_notice* notice, ikeguard_origin origin,
                                           ikeguard_error_outcome* outcome);

/// The receiver's gate: on a received first negotiation message, before parsing its
/// proposals, allocating state or computing Diffie-Hellman. hold: drop it, answer nothing.
IKEGUARD_API int ikeguard_on_inbound_proposal(ikeguard_handle* guard, const struct sockaddr* peer,
                                              size_t peer_len, uint32_t scope, uint64_t fingerprint,
                                              ikeguard_decision* decision);

/// Step B: the daemon rejects a received negotiation with `notice`. The guard sends it through
/// the transport (at most once per receiver window for a configuration error) and opens the
/// receiver window T1. ikeguard_error_internal_error if the transport unwound through the
/// guard (the window may be open).
IKEGUARD_API int ikeguard_on_local_rejection(ikeguard_handle* guard, const struct sockaddr* peer,
                                             size_t peer_len, uint32_t scope,
                                             const ikeguard_notice* notice, uint64_t fingerprint,
                                             ikeguard_decision* decision);

/// A negotiation with the peer succeeded: forgets its windows, strikes and confirmations.
IKEGUARD_API int ikeguard_on_established(ikeguard_handle* guard, const struct sockaddr* peer,
                                         size_t peer_len, uint32_t scope);

// --- Counters -----------------------------------------------------------------------------

/// Counters since creation (README "Observability"), each exact once the calls it counts
/// have returned.
typedef struct ikeguard_stats {
  uint64_t proceeded_outbound;     ///< on_outbound_proposal answered proceed
  uint64_t held_outbound;          ///< on_outbound_proposal answered hold
  uint64_t proceeded_inbound;      ///< on_inbound_proposal answered proceed
  uint64_t dropped_inbound;        ///< on_inbound_proposal answered hold
  uint64_t notices_sent;           ///< send_notice calls
  uint64_t notices_suppressed;     ///< rejections inside an open receiver window: not sent
  uint64_t errors_honoured;        ///< on_inbound_error answered hold
  uint64_t retried_now;            ///< on_inbound_error answered retry_now
  uint64_t retried_later;          ///< on_inbound_error answered retry_later
  uint64_t awaiting_confirmation;  ///< of retried_later: unauthenticated, not yet confirmed
  uint64_t ignored;                ///< on_inbound_error answered ignored
  uint64_t unsolicited;            ///< of ignored: ikeguard_origin_unsolicited
  uint64_t fingerprint_lifts;      ///< windows lifted by a changed configuration
  uint64_t established;            ///< on_established calls
  uint64_t evictions;              ///< entries with a window or strikes pushed out
  uint64_t peers_tracked;          ///< entries in the table now
  uint64_t capacity;               ///< max_peers
  uint64_t table_bytes;            ///< memory the guard holds (slots, shards, itself); fixed
} ikeguard_stats;

/// Fills *stats. Takes no lock.
IKEGUARD_API int ikeguard_get_stats(const ikeguard_handle* guard, ikeguard_stats* stats);

// --- Surviving a restart ------------------------------------------------------------------

/// Bytes of the daemon's secret that authenticates snapshots (libsodium crypto_auth).
#define IKEGUARD_SNAPSHOT_KEY_BYTES 32

/// The most bytes ikeguard_snapshot() can need for this guard (a full table); 0 for NULL.
IKEGUARD_API size_t ikeguard_snapshot_bound(const ikeguard_handle* guard);

/// Writes the guard's windows (as time still to run), strikes and fingerprints into
/// out[0..size), authenticated under `key`; *written is the bytes used. A buffer of
/// ikeguard_snapshot_bound() bytes always suffices; a smaller one that cannot hold the entries
/// present gives ikeguard_error_snapshot_buffer_too_small. Allocates nothing.
IKEGUARD_API int ikeguard_snapshot(const ikeguard_handle* guard, void* out, size_t size,
                                   const unsigned char key[IKEGUARD_SNAPSHOT_KEY_BYTES],
                                   size_t* written);

typedef struct ikeguard_restore_report {
  size_t restored;  ///< entries now in the table
  size_t dropped;   ///< entries left out, beyond max_peers (those ending soonest go first)
} ikeguard_restore_report;

/// Replaces the guard's table with a snapshot written under `key`; windows resume from now
/// with the time they had left. Anything truncated, altered, of another key or format version
/// is refused with its ikeguard_error_snapshot_* code and the guard is unchanged. It adopts the
/// snapshot's keys (peers' hashes, fingerprints), so call it at daemon start, right after
/// ikeguard_create() and before any other call on the handle, never concurrently with one.
IKEGUARD_API int ikeguard_restore(ikeguard_handle* guard, const void* data, size_t size,
                                  const unsigned char key[IKEGUARD_SNAPSHOT_KEY_BYTES],
                                  ikeguard_restore_report* report);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // IKEGUARD_H
