/* SPDX-License-Identifier: MIT */
// A minimal check framework and the test doubles the C API tests share: a manual clock, a
// recording transport and peer addresses. Each test file is one program; main() returns
// check_report().
#ifndef IKEGUARD_TESTS_C_CHECK_H
#define IKEGUARD_TESTS_C_CHECK_H

// inet_pton and friends under -std=c99, as a C daemon asks for them. Include this file first.
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200112L
#endif

#include <ikeguard/ikeguard.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static int check_count;
static int check_failures;

static inline void check_fail(const char* file, int line, const char* expression,
                              const char* detail) {
  ++check_failures;
  fprintf(stderr, "%s:%d: FAILED: %s%s%s\n", file, line, expression, detail[0] ? ": " : "", detail);
}

#define CHECK(condition)                                              \
  do {                                                                \
    ++check_count;                                                    \
    if (!(condition)) check_fail(__FILE__, __LINE__, #condition, ""); \
  } while (0)

/// Integers of any type up to 64 bits, compared and printed as signed 64-bit values
/// (every value these tests compare fits).
#define CHECK_EQ(actual, expected)                                                        \
  do {                                                                                    \
    const long long check_actual_ = (long long)(actual);                                  \
    const long long check_expected_ = (long long)(expected);                              \
    ++check_count;                                                                        \
    if (check_actual_ != check_expected_) {                                               \
      char check_detail_[96];                                                             \
      snprintf(check_detail_, sizeof check_detail_, "%lld, expected %lld", check_actual_, \
               check_expected_);                                                          \
      check_fail(__FILE__, __LINE__, #actual " == " #expected, check_detail_);            \
    }                                                                                     \
  } while (0)

#define CHECK_STR(actual, expected)                                        \
  do {                                                                     \
    const char* check_actual_ = (actual);                                  \
    ++check_count;                                                         \
    if (check_actual_ == NULL || strcmp(check_actual_, (expected)) != 0) { \
      check_fail(__FILE__, __LINE__, #actual " == " #expected,             \
                 check_actual_ == NULL ? "(null)" : check_actual_);        \
    }                                                                      \
  } while (0)

static inline int check_report(const char* program) {
  printf("%s: %d checks, %d failed\n", program, check_count, check_failures);
  return check_failures == 0 ? 0 : 1;
}

#define SECOND_NS UINT64_C(1000000000)

/// Time that moves only when the test says so.
typedef struct manual_clock {
  uint64_t now;
} manual_clock;

static inline uint64_t manual_clock_now(void* ctx) { return ((const manual_clock*)ctx)->now; }

/// Remembers the notices the guard sends, the last one in full.
typedef struct recording_transport {
  int sent;
  struct sockaddr_storage peer;
  size_t peer_len;
  uint32_t scope;
  ikeguard_notice notice;
} recording_transport;

static inline void recording_transport_send(void* ctx, const struct sockaddr* peer, size_t peer_len,
                                            uint32_t scope, const ikeguard_notice* notice) {
  recording_transport* transport = (recording_transport*)ctx;
  ++transport->sent;
  memset(&transport->peer, 0, sizeof transport->peer);
  memcpy(&transport->peer, peer, peer_len <= sizeof transport->peer ? peer_len : 0);
  transport->peer_len = peer_len;
  transport->scope = scope;
  transport->notice = *notice;
}

static inline struct sockaddr_in ipv4_peer(const char* address, uint16_t port) {
  struct sockaddr_in in;
  memset(&in, 0, sizeof in);
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  if (inet_pton(AF_INET, address, &in.sin_addr) != 1) fprintf(stderr, "bad address %s\n", address);
  return in;
}

static inline struct sockaddr_in6 ipv6_peer(const char* address, uint16_t port) {
  struct sockaddr_in6 in6;
  memset(&in6, 0, sizeof in6);
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(port);
  if (inet_pton(AF_INET6, address, &in6.sin6_addr) != 1) {
    fprintf(stderr, "bad address %s\n", address);
  }
  return in6;
}

static inline ikeguard_notice error_notice(uint16_t type) {
  ikeguard_notice notice;
  memset(&notice, 0, sizeof notice);
  notice.version = ikeguard_ikev2;
  notice.type = type;
  notice.initiator_spi = UINT64_C(0x1122334455667788);
  notice.responder_spi = 0;
  notice.message_id = 0;
  return notice;
}

/// The documented defaults without jitter, so every window has an exact length.
static inline ikeguard_policy exact_policy(void) {
  ikeguard_policy policy;
  ikeguard_policy_init(&policy);
  policy.jitter = 0.0;
  return policy;
}

#endif  // IKEGUARD_TESTS_C_CHECK_H
