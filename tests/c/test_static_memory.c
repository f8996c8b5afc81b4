/* SPDX-License-Identifier: MIT */
// Firmware's static arena (zstd's static context): a guard built by ikeguard_create_in() in a
// static buffer, used through every call and destroyed, with the allocation counter at zero
// from the first call into the library on. This program replaces malloc and its relatives
// (glibc, outside sanitizers), which operator new and libsodium also reach, so any allocation
// under a call is counted; it frees nothing, either.
#include "check.h"

#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define IKEGUARD_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define IKEGUARD_TEST_SANITIZED 1
#endif
#endif
#if defined(__GLIBC__) && !defined(IKEGUARD_TEST_SANITIZED)
#define IKEGUARD_TEST_COUNTS_MALLOC 1
#else
#define IKEGUARD_TEST_COUNTS_MALLOC 0
#endif

static long allocations;  // blocks handed out
static long releases;     // non-NULL blocks freed

#if IKEGUARD_TEST_COUNTS_MALLOC
// glibc's own entry points, which its documented malloc replacement may forward to.
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* p, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
void* __libc_valloc(size_t size);
void* __libc_pvalloc(size_t size);
void __libc_free(void* p);
// Declared here: C99's <stdlib.h> has neither, and <malloc.h> is glibc's alone.
void* aligned_alloc(size_t alignment, size_t size);
void* memalign(size_t alignment, size_t size);
void* valloc(size_t size);
void* pvalloc(size_t size);

void* malloc(size_t size) {
  ++allocations;
  return __libc_malloc(size);
}
void* calloc(size_t count, size_t size) {
  ++allocations;
  return __libc_calloc(count, size);
}
void* realloc(void* p, size_t size) {
  ++allocations;
  return __libc_realloc(p, size);
}
void* memalign(size_t alignment, size_t size) {
  ++allocations;
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(size_t alignment, size_t size) {
  ++allocations;
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, size_t alignment, size_t size) {
  void* p;
  ++allocations;
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return 22;  // EINVAL
  p = __libc_memalign(alignment, size);
  if (p == NULL) return 12;  // ENOMEM
  *out = p;
  return 0;
}
void* valloc(size_t size) {
  ++allocations;
  return __libc_valloc(size);
}
void* pvalloc(size_t size) {
  ++allocations;
  return __libc_pvalloc(size);
}
void free(void* p) {
  if (p != NULL) ++releases;
  __libc_free(p);
}
#endif

enum { NO_PROPOSAL_CHOSEN = 14, INVALID_KE_PAYLOAD = 17, TEMPORARY_FAILURE = 43 };

#define T0 (1000 * SECOND_NS)
#define SA(address) ((const struct sockaddr*)&(address))
#define ARENA_BYTES (8u << 20)
#define PATTERN 0x5a

static unsigned char arena[ARENA_BYTES];
static unsigned char snapshot[4096];
static const unsigned char snapshot_key[IKEGUARD_SNAPSHOT_KEY_BYTES] = {7};

// An IKEv1 Main Mode first message: what ikeguard_fingerprint_message() reads.
static const unsigned char ikev1_message[44] = {
    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,   // initiator cookie
    0,    0,    0,    0,    0,    0,    0,    0,      // responder cookie
    1,    0x10, 2,    0,                              // SA first; 1.0; Main Mode; in the clear
    0,    0,    0,    0,    0,    0,    0,    44,     // message ID, length
    0,    0,    0,    16,                             // SA payload, the last
    0,    0,    0,    1,    0,    0,    0,    1,    0xaa, 0xbb, 0xcc, 0xdd};  // its body

/// What the run saw, checked after it: checks and their messages may allocate.
typedef struct results {
  size_t estimate, estimate_defaults, written;
  int short_buffer, short_buffer_untouched, created, recreated, calls_ok, stats_ok, snapshot_ok;
  int overridden_class;
  uint64_t now, fingerprint, message_fingerprint;
  ikeguard_decision rejected, dropped, held, after_established;
  ikeguard_error_outcome honoured, temporary, unsolicited;
  ikeguard_stats stats;
  const char* name;
  const char* message;
} results;

static int untouched(const unsigned char* bytes, size_t size) {
  size_t i;
  for (i = 0; i < size; ++i) {
    if (bytes[i] != PATTERN) return 0;
  }
  return 1;
}

static void run(results* r, manual_clock* clock, recording_transport* transport) {
  const ikeguard_clock c_clock = {manual_clock_now, clock};
  const ikeguard_transport c_transport = {recording_transport_send, transport};
  const struct sockaddr_in peer = ipv4_peer("192.0.2.1", 500);
  const struct sockaddr_in6 other = ipv6_peer("2001:db8::1", 4500);
  const ikeguard_notice npc = error_notice(NO_PROPOSAL_CHOSEN);
  const ikeguard_notice ke = error_notice(INVALID_KE_PAYLOAD);
  const ikeguard_notice temporary = error_notice(TEMPORARY_FAILURE);
  unsigned char* const buffer = arena + 1;  // any alignment will do
  ikeguard_policy policy;
  ikeguard* guard = NULL;
  ikeguard_decision d;
  int ok = 1;

  ikeguard_policy_init(&policy);
  policy.jitter = 0;
  policy.max_peers = 64;
  ok &= ikeguard_policy_set_notify_class(&policy, ikeguard_ikev2, 8300,
                                         ikeguard_notify_configuration) == IKEGUARD_OK;
  ok &= ikeguard_policy_validate(&policy) == IKEGUARD_OK;
  r->overridden_class = ikeguard_policy_notify_class(&policy, ikeguard_ikev2, 8300);
  r->estimate = ikeguard_estimate_size(&policy);
  r->estimate_defaults = ikeguard_estimate_size(NULL);

  memset(arena, PATTERN, sizeof arena);
  r->short_buffer =
      ikeguard_create_in(&guard, buffer, r->estimate - 1, &policy, &c_clock, &c_transport);
  r->short_buffer_untouched = untouched(arena, sizeof arena);
  r->created = ikeguard_create_in(&guard, buffer, sizeof arena - 1, &policy, &c_clock,
                                  &c_transport);
  if (r->created != IKEGUARD_OK) return;

  r->now = ikeguard_now(guard);
  r->fingerprint = ikeguard_fingerprint(guard, "aes128-sha256-modp2048", 22);
  r->message_fingerprint = ikeguard_fingerprint_message(guard, ikev1_message, sizeof ikev1_message);

  ok &= ikeguard_on_local_rejection(guard, SA(peer), sizeof peer, 0, &npc, r->fingerprint,
                                    &r->rejected) == IKEGUARD_OK;
  ok &= ikeguard_on_local_rejection(guard, SA(peer), sizeof peer, 0, &ke, 0, &d) == IKEGUARD_OK;
  ok &= ikeguard_on_inbound_proposal(guard, SA(peer), sizeof peer, 0, r->fingerprint,
                                     &r->dropped) == IKEGUARD_OK;
  ok &= ikeguard_on_outbound_proposal(guard, SA(other), sizeof other, 7, r->fingerprint, &d) ==
        IKEGUARD_OK;
  ok &= ikeguard_on_inbound_error(guard, SA(other), sizeof other, 7, &npc,
                                  ikeguard_origin_authenticated, &r->honoured) == IKEGUARD_OK;
  ok &= ikeguard_on_outbound_proposal(guard, SA(other), sizeof other, 7, r->fingerprint,
                                      &r->held) == IKEGUARD_OK;
  ok &= ikeguard_on_inbound_error(guard, SA(peer), sizeof peer, 0, &temporary,
                                  ikeguard_origin_answers_request, &r->temporary) == IKEGUARD_OK;
  ok &= ikeguard_on_inbound_error(guard, SA(peer), sizeof peer, 0, &npc,
                                  ikeguard_origin_unsolicited, &r->unsolicited) == IKEGUARD_OK;
  ok &= ikeguard_on_established(guard, SA(other), sizeof other, 7) == IKEGUARD_OK;
  ok &= ikeguard_on_outbound_proposal(guard, SA(other), sizeof other, 7, r->fingerprint,
                                      &r->after_established) == IKEGUARD_OK;
  // A refused call allocates nothing either.
  ok &= ikeguard_on_established(guard, NULL, sizeof peer, 0) == ikeguard_error_invalid_argument;
  r->calls_ok = ok;

  ikeguard_stats_init(&r->stats);
  r->stats_ok = ikeguard_get_stats(guard, &r->stats) == IKEGUARD_OK;
  r->snapshot_ok = ikeguard_snapshot_bound(guard) <= sizeof snapshot &&
                   ikeguard_snapshot(guard, snapshot, sizeof snapshot, snapshot_key,
                                     &r->written) == IKEGUARD_OK;
  r->name = ikeguard_err_name(r->short_buffer);
  r->message = ikeguard_strerror(r->short_buffer);
  ikeguard_destroy(guard);

  // The buffer is the caller's again: another guard goes in it.
  r->recreated = ikeguard_create_in(&guard, buffer, sizeof arena - 1, &policy, &c_clock, NULL);
  ikeguard_destroy(guard);
}

int main(void) {
  manual_clock clock = {T0};
  recording_transport transport;
  results r;
  long allocations_before, releases_before, allocations_after, releases_after;

  memset(&transport, 0, sizeof transport);
  memset(&r, 0, sizeof r);
  allocations_before = allocations;
  releases_before = releases;
  run(&r, &clock, &transport);
  allocations_after = allocations;
  releases_after = releases;

#if IKEGUARD_TEST_COUNTS_MALLOC
  printf("allocations counted: malloc, calloc, realloc and the aligned ones\n");
  CHECK_EQ(allocations_after - allocations_before, 0);
  CHECK_EQ(releases_after - releases_before, 0);
  {
    // The counters are live. volatile: the compiler may not drop the pair.
    const long allocations_now = allocations, releases_now = releases;
    void* volatile block = malloc(16);
    free(block);
    CHECK_EQ(allocations - allocations_now, 1);
    CHECK_EQ(releases - releases_now, 1);
  }
#else
  printf("allocations not counted: malloc is replaced on glibc outside sanitizers only\n");
  (void)allocations_before, (void)releases_before, (void)allocations_after, (void)releases_after;
#endif

  // The run went where it was meant to.
  CHECK(r.estimate > 0);
  CHECK(r.estimate < ARENA_BYTES);
  CHECK(r.estimate_defaults > r.estimate);
  CHECK_EQ(r.short_buffer, ikeguard_error_buffer_too_small);
  CHECK(r.short_buffer_untouched);
  CHECK_STR(r.name, "ikeguard_error_buffer_too_small");
  CHECK_STR(r.message, "the memory given cannot hold the guard (see estimate_size)");
  CHECK_EQ(r.created, IKEGUARD_OK);
  CHECK_EQ(r.recreated, IKEGUARD_OK);
  CHECK_EQ(r.overridden_class, ikeguard_notify_configuration);
  CHECK(r.calls_ok);
  CHECK_EQ(r.now, T0);
  CHECK(r.fingerprint != 0);
  CHECK(r.message_fingerprint != 0);
  CHECK_EQ(r.rejected.verdict, ikeguard_verdict_hold);
  CHECK_EQ(r.rejected.until_ns, T0 + 30 * SECOND_NS);
  CHECK_EQ(r.dropped.verdict, ikeguard_verdict_hold);
  CHECK_EQ(r.honoured.action, ikeguard_action_hold);
  CHECK_EQ(r.honoured.until_ns, T0 + 60 * SECOND_NS);
  CHECK_EQ(r.held.verdict, ikeguard_verdict_hold);
  CHECK_EQ(r.temporary.action, ikeguard_action_retry_later);
  CHECK_EQ(r.unsolicited.action, ikeguard_action_ignored);
  CHECK_EQ(r.after_established.verdict, ikeguard_verdict_proceed);
  CHECK_EQ(transport.sent, 2);  // NO_PROPOSAL_CHOSEN, then INVALID_KE_PAYLOAD
  CHECK(r.stats_ok);
  CHECK_EQ(r.stats.notices_sent, 2);
  CHECK_EQ(r.stats.dropped_inbound, 1);
  CHECK_EQ(r.stats.errors_honoured, 1);
  CHECK_EQ(r.stats.established, 1);
  CHECK_EQ(r.stats.capacity, 64);
  CHECK(r.stats.table_bytes > 0);
  CHECK(r.stats.table_bytes <= r.estimate);
  CHECK(r.snapshot_ok);
  CHECK(r.written > 0);

  // Refused before a byte is written.
  {
    ikeguard* guard = (ikeguard*)arena;
    ikeguard_policy bad;
    ikeguard_policy_init(&bad);
    bad.backoff = 0;
    CHECK_EQ(ikeguard_create_in(NULL, arena, sizeof arena, NULL, NULL, NULL),
             ikeguard_error_invalid_argument);
    CHECK_EQ(ikeguard_create_in(&guard, NULL, sizeof arena, NULL, NULL, NULL),
             ikeguard_error_invalid_argument);
    CHECK(guard == NULL);
    CHECK_EQ(ikeguard_create_in(&guard, arena, sizeof arena, &bad, NULL, NULL),
             ikeguard_error_invalid_backoff);
    CHECK_EQ(ikeguard_estimate_size(&bad), 0);
    CHECK_EQ(ikeguard_create_in(&guard, arena, 0, NULL, NULL, NULL),
             ikeguard_error_buffer_too_small);
    CHECK(guard == NULL);
  }
  return check_report("c_api.static_memory");
}
