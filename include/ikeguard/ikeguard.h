/* SPDX-License-Identifier: MIT */
// ikeguard's C API: the negotiation guard for daemons written in C. C99; usable from C++.
//
// Conventions (zstd's and libuv's):
// - An opaque handle, `ikeguard` (`struct ikeguard_handle`), made by ikeguard_create(),
//   ikeguard_create_in() or ikeguard_create_restored() and ended by ikeguard_destroy().
// - Calls that can fail return an int: IKEGUARD_OK (0), or a negative ikeguard_error_* code;
//   ikeguard_strerror() says what it means. Nothing is thrown or aborted at this boundary.
// - Every pointer parameter is required (NULL gives ikeguard_error_invalid_argument) unless its
//   comment says NULL is accepted.
// - Times are nanoseconds on the guard's clock (the daemon's ikeguard_clock, or the monotonic
//   clock), as uint64_t; durations in the policy are milliseconds.
// - Thread-safety: every call on one handle may run from any thread at once, except
//   ikeguard_destroy() (no other call may still run).
// - The ABI (docs/c-api.md): every struct has the same layout on every platform and with every
//   compiler flag (fixed-width fields, explicit padding, no enum-typed field: -fshort-enums
//   changes nothing); the enums below only name the values those fields and int parameters
//   hold. ikeguard_policy and ikeguard_stats begin with `struct_size`, so a program built
//   against an older or a newer header works with this library (see there).
#ifndef IKEGUARD_H
#define IKEGUARD_H

#include <ikeguard/counters.h>  // IKEGUARD_COUNTERS: the members of ikeguard_stats
#include <ikeguard/errors.h>    // IKEGUARD_ERRORS: the ikeguard_error_* codes
#include <ikeguard/export.hpp>  // IKEGUARD_API: plain preprocessor, valid C
#include <ikeguard/version.hpp> // IKEGUARD_VERSION_MAJOR/MINOR/PATCH, IKEGUARD_VERSION

#include <stddef.h>
#include <stdint.h>
#include <string.h>  // memset, which ikeguard_stats_init uses

#ifdef __cplusplus
extern "C" {
#endif

struct sockaddr;  // <sys/socket.h>: the daemon passes what recvfrom() gave it
struct sockaddr_storage;  // <sys/socket.h>: what recvmmsg() fills, for the burst calls

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

/// The code's enumerator name, for logs: "ikeguard_error_ok", "ikeguard_error_invalid_backoff",
/// ...; "unknown" for any other int. Static storage, never NULL.
IKEGUARD_API const char* ikeguard_err_name(int code);

// --- Notices and classes ------------------------------------------------------------------

/// The IKE major version: the values of ikeguard_notice.version and of `version` parameters.
typedef enum ikeguard_ike_version { ikeguard_ikev1 = 1, ikeguard_ikev2 = 2 } ikeguard_ike_version;

/// An IKE error notification: the notify message type (RFC 7296 3.10.1 for IKEv2, RFC 2408
/// 3.14.1 for IKEv1) and the exchange it belongs to (IKEv1 cookies go in the SPI fields).
/// 24 bytes. Set `reserved` to 0 (the guard ignores it, and writes 0 in the notices it sends).
typedef struct ikeguard_notice {
  uint8_t version;  ///< an ikeguard_ike_version
  uint8_t reserved;
  uint16_t type;
  uint32_t message_id;
  uint64_t initiator_spi;
  uint64_t responder_spi;
} ikeguard_notice;

/// How an error notification reached the daemon, which decides how far it is trusted: the
/// values of ikeguard_on_inbound_error()'s `origin`.
typedef enum ikeguard_origin {
  ikeguard_origin_authenticated = 0,    ///< inside an SK (integrity-protected) payload
  ikeguard_origin_answers_request = 1,  ///< in the clear, matching our request's SPI and message ID
  ikeguard_origin_unsolicited = 2       ///< in the clear, matching nothing we sent: ignored
} ikeguard_origin;

/// What a notify type means for retrying: the values of ikeguard_notify_override.notify_class
/// and of ikeguard_policy_notify_class()'s answer.
typedef enum ikeguard_notify_class {
  ikeguard_notify_configuration = 0,  ///< retrying cannot fix it: opens a window
  ikeguard_notify_retry_now = 1,      ///< the protocol defines a corrective action
  ikeguard_notify_retry_later = 2,    ///< transient: retry after the policy's retry delay
  ikeguard_notify_ignored = 3         ///< status, hint, or not about this negotiation
} ikeguard_notify_class;

// --- Policy -------------------------------------------------------------------------------

/// The most notify class overrides a policy holds.
#define IKEGUARD_MAX_NOTIFY_OVERRIDES 32

/// One notify type the daemon classes differently from the default table. 4 bytes.
typedef struct ikeguard_notify_override {
  uint8_t version;       ///< an ikeguard_ike_version
  uint8_t notify_class;  ///< an ikeguard_notify_class
  uint16_t type;
} ikeguard_notify_override;

/// The guard's settings, a versioned struct (224 bytes in this release). Fill it with
/// ikeguard_policy_init(), change what you need, then create the guard (which validates) or
/// call ikeguard_policy_validate(). Durations are milliseconds and must be positive; one longer
/// than 2^63 - 1 nanoseconds is refused with its field's code.
///
/// `struct_size` is sizeof(ikeguard_policy) in the header the program was built with;
/// ikeguard_policy_init() sets it. The library reads only what lies inside it:
/// - from IKEGUARD_POLICY_MIN_SIZE (every field up to max_peers) up to the library's own size:
///   each field that ends inside struct_size is read, the others take their defaults (the
///   notify overrides count as one field: notify_override_count and the whole array). A program
///   built against an older header gets the defaults of the fields added since.
/// - larger than the library's own size (a newer header): accepted when every byte the library
///   does not know is zero, as the defaults of fields added later are, and refused with
///   ikeguard_error_invalid_argument otherwise: the program asked for something this library
///   cannot do (the Linux kernel's copy_struct_from_user() rule).
/// - below IKEGUARD_POLICY_MIN_SIZE or above IKEGUARD_STRUCT_SIZE_MAX, or a non-zero
///   `reserved` field: ikeguard_error_invalid_argument.
typedef struct ikeguard_policy {
  uint32_t struct_size;                    ///< sizeof(ikeguard_policy): ikeguard_policy_init()
  uint32_t reserved0;                      ///< 0
  uint64_t receiver_window_ms;             ///< T1: drop a rejected peer's proposals; 30000
  uint64_t sender_window_ms;               ///< T2: hold proposals after a config error; 60000
  double backoff;                          ///< growth per consecutive failure, >= 1; 2
  uint64_t max_window_ms;                  ///< cap, >= both windows; 300000
  uint32_t unauthenticated_confirmations;  ///< cleartext errors needed to open T2, 1-255; 2
  uint32_t reserved1;                      ///< 0
  uint64_t retry_delay_ms;                 ///< hold after a transient error; 2000
  double jitter;                           ///< +/- fraction of each window, [0, 1); 0.1
  uint64_t forgive_after_ms;               ///< strikes lapse after this long; 86400000 (24 h)
  uint64_t max_peers;                      ///< table capacity, 1 to 2^30; 65536
  /// Overrides of the default notify table (docs/notify.md); later entries replace earlier
  /// ones for the same version and type. Count above the maximum, an unknown version or
  /// class: ikeguard_error_invalid_argument.
  uint32_t notify_override_count;
  uint32_t reserved2;  ///< 0
  ikeguard_notify_override notify_overrides[IKEGUARD_MAX_NOTIFY_OVERRIDES];
  /// 1: keep each tracked peer's address and failure times (32 bytes a slot), so
  /// ikeguard_list_peers() and eviction events name it (Policy::keep_addresses); 0: 46 bytes
  /// less per peer at 7/8 full, no addresses. 1 (since 0.3).
  uint32_t keep_addresses;
  uint32_t reserved3;  ///< 0
} ikeguard_policy;

/// The smallest policy struct_size accepted: every field up to and including max_peers.
#define IKEGUARD_POLICY_MIN_SIZE 80
/// The largest struct_size of a versioned struct: a larger one is not a struct a header of
/// this library made, and is refused before a byte of it is read.
#define IKEGUARD_STRUCT_SIZE_MAX 4096

/// Fills the first `struct_size` bytes at `policy`: the documented default of every field that
/// ends inside them, no notify overrides, zeros for the rest (fields a newer header added, which
/// this library does not know), and struct_size. Called by ikeguard_policy_init() with the
/// program's sizeof(ikeguard_policy). NULL, or a size outside [IKEGUARD_POLICY_MIN_SIZE,
/// IKEGUARD_STRUCT_SIZE_MAX]: writes nothing.
IKEGUARD_API void ikeguard_policy_init_sized(ikeguard_policy* policy, size_t struct_size);

/// Sets every field to the documented default, with no notify overrides, and struct_size to
/// the size of the struct this program was compiled with (inline for that reason: the library
/// never writes more than the program's struct holds). NULL: does nothing.
static inline void ikeguard_policy_init(ikeguard_policy* policy) {
  ikeguard_policy_init_sized(policy, sizeof *policy);
}

/// IKEGUARD_OK, or ikeguard_error_invalid_argument for a struct_size or reserved field the
/// struct_size rules refuse, or else the code of the first invalid field in declaration order
/// (the same check ikeguard_create() makes).
IKEGUARD_API int ikeguard_policy_validate(const ikeguard_policy* policy);

/// Sets (or replaces) the class of one notify type (`version` an ikeguard_ike_version,
/// `notify_class` an ikeguard_notify_class) in policy->notify_overrides.
/// ikeguard_error_invalid_argument, and no change, when the policy already holds
/// IKEGUARD_MAX_NOTIFY_OVERRIDES other overrides, its struct_size does not hold the overrides,
/// or version or notify_class is unknown.
IKEGUARD_API int ikeguard_policy_set_notify_class(ikeguard_policy* policy, int version,
                                                  uint16_t type, int notify_class);

/// The class the guard will give a notify type under this policy (override or default):
/// an ikeguard_notify_class (>= 0), or a negative code for an invalid policy or version.
IKEGUARD_API int ikeguard_policy_notify_class(const ikeguard_policy* policy, int version,
                                              uint16_t type);

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

/// The guard: opaque, `struct ikeguard_handle` in C and C++. C also names it `ikeguard`; in C++
/// `ikeguard` is the C++ API's namespace, so the prototypes below use `ikeguard_handle`, which
/// both languages have.
struct ikeguard_handle;
typedef struct ikeguard_handle ikeguard_handle;
#ifndef __cplusplus
typedef struct ikeguard_handle ikeguard;
#endif

/// Makes a guard: allocates its peer table once, for policy->max_peers peers; no call
/// allocates afterwards. `policy` NULL: the defaults. `clock` NULL: the monotonic clock
/// (CLOCK_MONOTONIC); otherwise clock->now is required. `transport` NULL, or its send_notice
/// NULL: the guard sends nothing (the daemon sends its own error responses). The structs are
/// copied; their ctx must outlive the guard. On success *out is the guard; on failure NULL,
/// with ikeguard_error_invalid_argument, the invalid policy field's code,
/// ikeguard_error_out_of_memory or ikeguard_error_crypto_unavailable.
IKEGUARD_API int ikeguard_create(ikeguard_handle** out, const ikeguard_policy* policy,
                                 const ikeguard_clock* clock, const ikeguard_transport* transport);

/// The bytes ikeguard_create_in() needs for `policy` (NULL: the defaults): the handle, the
/// guard, its table and counters, and room to align them. 0 for an invalid policy. The same on
/// every call in one process, so a firmware build can size a static buffer once.
IKEGUARD_API size_t ikeguard_estimate_size(const ikeguard_policy* policy);

/// ikeguard_create(), inside the caller's memory (zstd's static context): the handle, its clock
/// and transport adapters and the guard are built in buffer[0..size), which may have any
/// alignment and must hold ikeguard_estimate_size(policy) bytes. Nothing is allocated, by this
/// call or any later one; ikeguard_destroy() ends the guard and frees nothing, after which the
/// buffer may be reused. The buffer must stay in place while the guard lives.
/// ikeguard_error_buffer_too_small (nothing written) when `size` is short; NULL buffer:
/// ikeguard_error_invalid_argument; otherwise as ikeguard_create().
IKEGUARD_API int ikeguard_create_in(ikeguard_handle** out, void* buffer, size_t size,
                                    const ikeguard_policy* policy, const ikeguard_clock* clock,
                                    const ikeguard_transport* transport);

/// Ends the guard and frees what ikeguard_create() or ikeguard_create_restored() allocated
/// (a guard from ikeguard_create_in() frees nothing: its buffer is the caller's). NULL: does
/// nothing.
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

/// The values of ikeguard_decision.verdict.
typedef enum ikeguard_verdict {
  ikeguard_verdict_proceed = 0,  ///< send the proposal, or process the received one
  ikeguard_verdict_hold = 1      ///< outbound: send nothing until until_ns; inbound: drop it
} ikeguard_verdict;

/// The answer to a proposal or a local rejection. 16 bytes.
typedef struct ikeguard_decision {
  uint8_t verdict;  ///< an ikeguard_verdict
  uint8_t reserved[3];
  uint32_t strikes;   ///< consecutive failures in this direction
  uint64_t until_ns;  ///< hold: when the window ends; proceed: 0, nothing to wait for
} ikeguard_decision;

/// The values of ikeguard_error_outcome.action.
typedef enum ikeguard_error_action {
  ikeguard_action_hold = 0,         ///< configuration error: the sender window (T2) is open
  ikeguard_action_retry_now = 1,    ///< corrective error (new KE group, cookie, redirect)
  ikeguard_action_retry_later = 2,  ///< transient, or not yet confirmed: hold until until_ns
  ikeguard_action_ignored = 3       ///< status, hint, or unsolicited: nothing changed
} ikeguard_error_action;

/// The answer to an inbound error notification. 16 bytes.
typedef struct ikeguard_error_outcome {
  uint8_t action;  ///< an ikeguard_error_action
  uint8_t reserved[3];
  uint32_t strikes;   ///< sender strikes toward this peer after this error
  uint64_t until_ns;  ///< hold, retry_later: when proposals may resume; else 0
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
/// `origin` is an ikeguard_origin.
IKEGUARD_API int ikeguard_on_inbound_error(ikeguard_handle* guard, const struct sockaddr* peer,
                                           size_t peer_len, uint32_t scope,
                                           const ikeguard_notice* notice, int origin,
                                           ikeguard_error_outcome* outcome);

/// The receiver's gate: on a received first negotiation message, before parsing its
/// proposals, allocating state or computing Diffie-Hellman. hold: drop it, answer nothing.
IKEGUARD_API int ikeguard_on_inbound_proposal(ikeguard_handle* guard, const struct sockaddr* peer,
                                              size_t peer_len, uint32_t scope, uint64_t fingerprint,
                                              ikeguard_decision* decision);

/// The receiver's gate for a burst of received first messages, as recvmmsg() fills them:
/// `decisions[i]` is what ikeguard_on_inbound_proposal() answers for `peers[i]` (a
/// sockaddr_in or sockaddr_in6 in its sockaddr_storage, as recvmmsg's msg_name), `scopes[i]`
/// and `fingerprints[i]`, called for each in order at one instant. `scopes` and `fingerprints`
/// may be NULL (all 0). Every peer is hashed and its slot prefetched before the first
/// decision, so the table's memory is fetched in parallel; the clock is read once per 64
/// peers. A peer that is not an address with a port gets proceed (what the daemon would do
/// without the guard), the others are decided, and the call returns
/// ikeguard_error_unsupported_address_family; NULL guard, peers or decisions with count > 0:
/// ikeguard_error_invalid_argument, deciding nothing. Allocates nothing.
IKEGUARD_API int ikeguard_on_inbound_proposals(ikeguard_handle* guard,
                                               const struct sockaddr_storage* peers, size_t count,
                                               const uint32_t* scopes, const uint64_t* fingerprints,
                                               ikeguard_decision* decisions);

/// Step A for a burst of proposals about to be sent: ikeguard_on_outbound_proposal() for each
/// element in order at one instant, as ikeguard_on_inbound_proposals().
IKEGUARD_API int ikeguard_on_outbound_proposals(ikeguard_handle* guard,
                                                const struct sockaddr_storage* peers, size_t count,
                                                const uint32_t* scopes, const uint64_t* fingerprints,
                                                ikeguard_decision* decisions);

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

/// Counters since creation (docs/c-api.md), each exact once the calls it counts have returned:
/// one uint64_t per entry of IKEGUARD_COUNTERS (<ikeguard/counters.h>, which says what each
/// counts), in its order; new counters are only ever added at the end. A versioned struct (168
/// bytes in this release): set struct_size with ikeguard_stats_init() or IKEGUARD_STATS_INIT.
/// ikeguard_get_stats() writes at most struct_size bytes: the counters that end inside it, and
/// zeros for any bytes it does not know (counters of a newer header read 0).
typedef struct ikeguard_stats {
  uint32_t struct_size;  ///< sizeof(ikeguard_stats); set by ikeguard_stats_init()
  uint32_t reserved;     ///< left as it is
#define IKEGUARD_C_STATS_MEMBER_(name, help) uint64_t name;
  IKEGUARD_COUNTERS(IKEGUARD_C_STATS_MEMBER_, IKEGUARD_C_STATS_MEMBER_)
#undef IKEGUARD_C_STATS_MEMBER_
} ikeguard_stats;

/// Zeroes *stats and sets struct_size to the size of the struct this program was compiled
/// with. NULL: does nothing.
static inline void ikeguard_stats_init(ikeguard_stats* stats) {
  if (stats == NULL) return;
  memset(stats, 0, sizeof *stats);
  stats->struct_size = sizeof *stats;
}

/// The same as an initializer: `ikeguard_stats stats = IKEGUARD_STATS_INIT;`.
#ifdef __cplusplus
#define IKEGUARD_STATS_INIT                 \
  ([]() noexcept {                          \
    ikeguard_stats initial_{};              \
    initial_.struct_size = sizeof initial_; \
    return initial_;                        \
  }())
#else
#define IKEGUARD_STATS_INIT {.struct_size = sizeof(ikeguard_stats)}
#endif

/// Fills *stats (see ikeguard_stats for what is written). Takes no lock.
/// ikeguard_error_invalid_argument for a NULL argument, or a struct_size below 8 or above
/// IKEGUARD_STRUCT_SIZE_MAX (nothing written).
IKEGUARD_API int ikeguard_get_stats(const ikeguard_handle* guard, ikeguard_stats* stats);

/// Writes *stats in the Prometheus text exposition format (docs/operating.md) into out, as
/// snprintf does: returns the length of the text (without the terminating NUL), and writes the
/// whole text and a NUL only when that length is less than `size`; otherwise it writes only a
/// NUL at out[0] (when size > 0), never a cut text. Call it with out NULL and size 0 to learn
/// the size, or give IKEGUARD_PROMETHEUS_MAX_BYTES. One metric per counter that ends inside
/// stats->struct_size (a program built with an older header exports the counters it knows);
/// counters are ikeguard_<name>_total (counter), gauges ikeguard_<name> (gauge), with
/// counters.h's help text. Allocates nothing, takes no lock.
/// ikeguard_error_invalid_argument for a NULL stats, a NULL out with a non-zero size, or a
/// struct_size below 8 or above IKEGUARD_STRUCT_SIZE_MAX (nothing written).
IKEGUARD_API int ikeguard_stats_prometheus(const ikeguard_stats* stats, char* out, size_t size);

/// A buffer this large holds what ikeguard_stats_prometheus() writes, whatever the values,
/// its NUL included (checked by the library's build against the text's exact bound).
#define IKEGUARD_PROMETHEUS_MAX_BYTES 8192

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

/// What ikeguard_create_restored() found in the snapshot. 16 bytes.
typedef struct ikeguard_restore_report {
  uint64_t restored;  ///< entries now in the table
  uint64_t dropped;   ///< entries left out, beyond max_peers (those ending soonest go first)
} ikeguard_restore_report;

/// ikeguard_create(), starting from a snapshot written under `key` (at daemon start, in place of
/// a fresh guard): windows resume from now with the time they had left, and the guard adopts
/// the snapshot's keys, so peers' hashes and fingerprints computed before the restart still
/// match. Everything is checked before a guard is made: anything truncated, altered, of another
/// key or format version is refused with its ikeguard_error_snapshot_* code and *out is NULL;
/// the daemon then makes a fresh guard with ikeguard_create(). `report` may be NULL; when given
/// it is zeroed, and filled on success. Otherwise as ikeguard_create().
IKEGUARD_API int ikeguard_create_restored(ikeguard_handle** out, const ikeguard_policy* policy,
                                          const ikeguard_clock* clock,
                                          const ikeguard_transport* transport, const void* data,
                                          size_t size,
                                          const unsigned char key[IKEGUARD_SNAPSHOT_KEY_BYTES],
                                          ikeguard_restore_report* report);

// --- Events -------------------------------------------------------------------------------

/// What changed (C++ ikeguard::EventKind, docs/operating.md): the values of ikeguard_event.kind.
typedef enum ikeguard_event_kind {
  ikeguard_event_receiver_window_opened = 0,
  ikeguard_event_sender_window_opened = 1,
  ikeguard_event_retry_later_set = 2,
  ikeguard_event_window_lifted = 3,
  ikeguard_event_window_lapsed = 4,
  ikeguard_event_strikes_forgiven = 5,
  ikeguard_event_windows_cleared = 6,
  ikeguard_event_notice_sent = 7,
  ikeguard_event_notice_suppressed = 8,
  ikeguard_event_unsolicited_ignored = 9,
  ikeguard_event_entry_evicted = 10,
  ikeguard_event_snapshot_restored = 11
} ikeguard_event_kind;

/// Which window an event is about: the values of ikeguard_event.direction.
typedef enum ikeguard_direction {
  ikeguard_direction_none = 0,
  ikeguard_direction_sender = 1,
  ikeguard_direction_receiver = 2
} ikeguard_direction;

/// One change of state (C++ ikeguard::Event, whose comments say what each field holds). 88
/// bytes in this release; `struct_size` is the library's size, and fields added later go at
/// the end, so a program reads only what its header knows. Times are ns on the guard's clock.
/// The peer: `family` 4 or 6 (0: unknown), `address` (IPv4 in its first 4 bytes), `port`,
/// `scope`.
typedef struct ikeguard_event {
  uint32_t struct_size;
  uint8_t kind;                   ///< an ikeguard_event_kind
  uint8_t direction;              ///< an ikeguard_direction
  uint8_t has_notice;             ///< 1: version, notify_class and notify_type are the call's
  uint8_t awaiting_confirmation;  ///< retry_later_set: an unauthenticated error, unconfirmed
  uint8_t version;                ///< an ikeguard_ike_version
  uint8_t notify_class;           ///< an ikeguard_notify_class
  uint16_t notify_type;
  uint32_t strikes;
  uint32_t fingerprint;  ///< the table's 32 bits of the configuration; 0 unknown
  uint32_t scope;
  uint16_t port;
  uint8_t family;
  uint8_t reserved0;
  uint8_t address[16];
  uint32_t reserved1;
  uint64_t at_ns;         ///< when the change was made or noticed
  uint64_t until_ns;      ///< the window's end (or when it ended); else at_ns
  uint64_t remaining_ns;  ///< until_ns - at_ns for a window still open; else 0
  uint64_t count;         ///< unsolicited_ignored: how many; snapshot_restored: entries; else 1
  uint64_t node;          ///< non-zero: the cluster node whose record made the change
} ikeguard_event;

/// Where events go: `on_event` is called on the thread that made the guard call, after the
/// guard released its locks (so it may call the guard), and must not unwind through it. The
/// event lives for the call only. NULL on_event: no events.
typedef struct ikeguard_event_sink {
  void (*on_event)(void* ctx, const ikeguard_event* event);
  void* ctx;
} ikeguard_event_sink;

/// "receiver_window_opened", ...: the name an ikeguard_event_kind has in logs and JSON;
/// "unknown" for any other int. Static storage.
IKEGUARD_API const char* ikeguard_event_kind_name(int kind);

// --- Clusters -------------------------------------------------------------------------------

#define IKEGUARD_CLUSTER_KEY_BYTES 32
#define IKEGUARD_CLUSTER_RECORD_BYTES 96

/// This node of a cluster (C++ ikeguard::ClusterNode): its id, the cluster key, its records'
/// numbering and the replay state of the other nodes. Opaque.
typedef struct ikeguard_cluster_node ikeguard_cluster_node;

/// `node_id` non-zero and unique in the cluster; `first_sequence` above every number this id
/// used before (the wall clock in microseconds). Allocates about 10 KB.
IKEGUARD_API int ikeguard_cluster_node_create(ikeguard_cluster_node** out, uint64_t node_id,
                                              const unsigned char key[IKEGUARD_CLUSTER_KEY_BYTES],
                                              uint64_t first_sequence);
/// After every guard made with it is destroyed. NULL: does nothing.
IKEGUARD_API void ikeguard_cluster_node_destroy(ikeguard_cluster_node* node);

/// The record of `event` in `out` (IKEGUARD_CLUSTER_RECORD_BYTES), to send to the other nodes:
/// returns the bytes written, or 0 when the event is not shared (see cluster.hpp), was made by
/// another node's record, or `size` is too small. Safe from any thread.
IKEGUARD_API size_t ikeguard_cluster_encode(ikeguard_cluster_node* node, const ikeguard_event* event,
                                            void* out, size_t size);

/// The node and sequence number a record claims, unauthenticated (to order a resync).
IKEGUARD_API int ikeguard_cluster_record_origin(const void* record, size_t size, uint64_t* node,
                                                uint64_t* sequence);

/// What ikeguard_apply() did with an authentic record: its non-negative answers.
typedef enum ikeguard_applied {
  ikeguard_applied_changed = 0,
  ikeguard_applied_unchanged = 1,
  ikeguard_applied_own = 2
} ikeguard_applied;

/// Applies another node's record (C++ NegotiationGuard::apply): an ikeguard_applied (>= 0), or
/// a negative code: ikeguard_error_cluster_* for a refused record (nothing changed),
/// ikeguard_error_cluster_not_configured for a guard made without a node. `age_ns`: how long
/// the record spent in transit or storage, when known (else 0).
IKEGUARD_API int ikeguard_apply(ikeguard_handle* guard, const void* record, size_t size,
                                uint64_t age_ns);

// --- Extras at creation ---------------------------------------------------------------------

/// What a guard may be given besides its policy, clock and transport: a versioned struct (40
/// bytes on 64-bit targets in this release; it holds pointers, like ikeguard_clock) with the
/// struct_size rules of ikeguard_policy. Fill it with ikeguard_extras_init().
typedef struct ikeguard_extras {
  uint32_t struct_size;
  uint32_t reserved;           ///< 0
  ikeguard_event_sink events;  ///< on_event NULL: no events
  ikeguard_cluster_node* cluster;  ///< NULL: not a cluster node
  uint64_t reserved1;              ///< 0
} ikeguard_extras;

static inline void ikeguard_extras_init(ikeguard_extras* extras) {
  if (extras == NULL) return;
  memset(extras, 0, sizeof *extras);
  extras->struct_size = sizeof *extras;
}

/// ikeguard_create() with extras (NULL: none); the structs are copied, their ctx and the
/// cluster node must outlive the guard.
IKEGUARD_API int ikeguard_create_ex(ikeguard_handle** out, const ikeguard_policy* policy,
                                    const ikeguard_clock* clock,
                                    const ikeguard_transport* transport,
                                    const ikeguard_extras* extras);

/// ikeguard_create_restored() with extras (NULL: none): a snapshot_restored event is delivered
/// before it returns.
IKEGUARD_API int ikeguard_create_restored_ex(ikeguard_handle** out, const ikeguard_policy* policy,
                                             const ikeguard_clock* clock,
                                             const ikeguard_transport* transport,
                                             const ikeguard_extras* extras, const void* data,
                                             size_t size,
                                             const unsigned char key[IKEGUARD_SNAPSHOT_KEY_BYTES],
                                             ikeguard_restore_report* report);

// --- Listing held peers ---------------------------------------------------------------------

/// One tracked peer (C++ ikeguard::HeldPeer). 64 bytes. A window not open has until_ns 0.
typedef struct ikeguard_held_peer {
  uint64_t sender_until_ns;
  uint64_t receiver_until_ns;
  uint32_t sender_strikes;
  uint32_t receiver_strikes;
  uint32_t sender_fingerprint;    ///< of the open sender window; 0 unknown or none
  uint32_t receiver_fingerprint;  ///< of the open receiver window; 0 unknown or none
  uint32_t scope;
  uint16_t port;
  uint8_t family;  ///< 4 or 6; 0 when the guard keeps no addresses
  uint8_t sender_retry_only;
  uint8_t address[16];
  uint8_t confirmations;
  uint8_t reserved[7];
} ikeguard_held_peer;

/// The most entries one call may need room for: a buffer this large always lists a shard.
IKEGUARD_API size_t ikeguard_list_capacity(const ikeguard_handle* guard);

/// Lists tracked peers (C++ list_peers): from shard *cursor (start with 0), whole shards into
/// out[0..capacity), each copied under its lock. On success *count entries were written,
/// *cursor is where the next call goes on, and *complete is 1 once every shard is listed.
/// `held_only` 1: peers with a window open; 0: every entry. ikeguard_error_buffer_too_small when
/// the next shard does not fit in an empty buffer. Allocates nothing.
IKEGUARD_API int ikeguard_list_peers(const ikeguard_handle* guard, ikeguard_held_peer* out,
                                     size_t capacity, uint32_t* cursor, int held_only,
                                     size_t* count, int* complete);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // IKEGUARD_H
