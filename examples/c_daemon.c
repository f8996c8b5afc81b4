/* SPDX-License-Identifier: MIT */
// How a daemon written in C hooks ikeguard in: each of its own event handlers asks the guard.
// The "network" is printf and the clock is the daemon's own, driven by the script in main(),
// so a minute of negotiation runs at once. Exits 0 when the guard did what the method says.
#define _POSIX_C_SOURCE 200112L

#include <ikeguard/ikeguard.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

enum { NO_PROPOSAL_CHOSEN = 14 };  // RFC 7296 3.10.1, as the daemon's own headers name it

static ikeguard* guard;
static uint64_t now_ns;  // the daemon's monotonic clock, in nanoseconds
#define SECOND UINT64_C(1000000000)

static uint64_t daemon_clock(void* ctx) {
  (void)ctx;
  return now_ns;
}

static unsigned seconds(uint64_t ns) { return (unsigned)(ns / SECOND); }

static const char* show(const void* peer) {  // an IPv4 peer, in this demo
  static char text[INET_ADDRSTRLEN + 8];
  const struct sockaddr_in* in = (const struct sockaddr_in*)peer;
  char address[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &in->sin_addr, address, sizeof address);
  snprintf(text, sizeof text, "%s:%u", address, (unsigned)ntohs(in->sin_port));
  return text;
}

// The guard's transport: how the daemon sends an error notify to a peer (step B).
static void daemon_send_notify(void* ctx, const struct sockaddr* peer, size_t peer_len,
                               uint32_t scope, const ikeguard_notice* notice) {
  (void)ctx, (void)peer_len, (void)scope;
  printf("t=%2us   -> %s: N(%u) for SPIi %016llx\n", seconds(now_ns), show(peer),
         (unsigned)notice->type, (unsigned long long)notice->initiator_spi);
}

// About to send IKE_SA_INIT to `peer` (step A). Returns 1 if the daemon may send it.
static int daemon_initiate(const struct sockaddr_in* peer, const char* proposal) {
  ikeguard_decision decision;
  const uint64_t config = ikeguard_fingerprint(guard, proposal, strlen(proposal));
  ikeguard_on_outbound_proposal(guard, (const struct sockaddr*)peer, sizeof *peer, 0, config,
                                &decision);
  if (decision.verdict == ikeguard_verdict_hold) {
    printf("t=%2us initiate %s: held until t=%us, no SA allocated\n", seconds(now_ns), proposal,
           seconds(decision.until_ns));
    return 0;
  }
  printf("t=%2us initiate %s: IKE_SA_INIT sent\n", seconds(now_ns), proposal);
  return 1;
}

// Got an error notify answering our IKE_SA_INIT: in the clear, matching our SPI and message ID.
static void daemon_got_error(const struct sockaddr_in* peer, uint16_t type, uint64_t spi) {
  static const char* const actions[] = {"hold", "retry now", "retry later", "ignored"};
  const ikeguard_notice notice = {.version = ikeguard_ikev2, .type = type, .initiator_spi = spi};
  ikeguard_error_outcome outcome;
  ikeguard_on_inbound_error(guard, (const struct sockaddr*)peer, sizeof *peer, 0, &notice,
                            ikeguard_origin_answers_request, &outcome);
  printf("t=%2us   <- %s: N(%u): %s until t=%us\n", seconds(now_ns), show(peer), (unsigned)type,
         actions[outcome.action], seconds(outcome.until_ns));
}

// Got an IKE_SA_INIT request. Returns 1 to process it, 0 to drop it unanswered.
static int daemon_got_ike_sa_init(const struct sockaddr_in* peer, const char* proposal) {
  ikeguard_decision decision;
  const uint64_t config = ikeguard_fingerprint(guard, proposal, strlen(proposal));
  ikeguard_on_inbound_proposal(guard, (const struct sockaddr*)peer, sizeof *peer, 0, config,
                               &decision);
  printf("t=%2us IKE_SA_INIT from %s: %s\n", seconds(now_ns), show(peer),
         decision.verdict == ikeguard_verdict_hold ? "dropped, no DH computed" : "processed");
  return decision.verdict == ikeguard_verdict_proceed;
}

// Rejecting that request: the guard sends the notify once and opens T1.
static void daemon_reject(const struct sockaddr_in* peer, const char* proposal, uint64_t spi) {
  const ikeguard_notice notice = {
      .version = ikeguard_ikev2, .type = NO_PROPOSAL_CHOSEN, .initiator_spi = spi};
  const uint64_t config = ikeguard_fingerprint(guard, proposal, strlen(proposal));
  ikeguard_decision decision;
  ikeguard_on_local_rejection(guard, (const struct sockaddr*)peer, sizeof *peer, 0, &notice, config,
                              &decision);
  printf("t=%2us reject %s: dropping its proposals until t=%us\n", seconds(now_ns), show(peer),
         seconds(decision.until_ns));
}

static void daemon_established(const struct sockaddr_in* peer) {
  ikeguard_on_established(guard, (const struct sockaddr*)peer, sizeof *peer, 0);
  printf("t=%2us IKE SA with %s established\n", seconds(now_ns), show(peer));
}

static struct sockaddr_in address(const char* text, uint16_t port) {
  struct sockaddr_in in;
  memset(&in, 0, sizeof in);
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  inet_pton(AF_INET, text, &in.sin_addr);
  return in;
}

int main(void) {
  const struct sockaddr_in responder = address("203.0.113.9", 500);
  const struct sockaddr_in initiator = address("198.51.100.7", 500);
  const ikeguard_clock clock = {daemon_clock, NULL};
  const ikeguard_transport transport = {daemon_send_notify, NULL};
  ikeguard_policy policy;
  ikeguard_stats stats;
  int sent = 0, processed = 0, status, ok;

  ikeguard_policy_init(&policy);
  ikeguard_stats_init(&stats);
  policy.jitter = 0;  // round numbers for this demo; keep the default jitter in a daemon
  status = ikeguard_create(&guard, &policy, &clock, &transport);
  if (status != IKEGUARD_OK) {
    fprintf(stderr, "ikeguard_create: %s\n", ikeguard_strerror(status));
    return 1;
  }

  // t=0: we initiate toward a responder that refuses our proposal; its unauthenticated
  // NO_PROPOSAL_CHOSEN counts once confirmed. An initiator's proposal we refuse ourselves.
  sent += daemon_initiate(&responder, "aes128-sha1-modp1024");
  daemon_got_error(&responder, NO_PROPOSAL_CHOSEN, 0x1111);
  if (daemon_got_ike_sa_init(&initiator, "3des-md5-modp768")) {
    ++processed;
    daemon_reject(&initiator, "3des-md5-modp768", 0x3333);
  }
  now_ns = 1 * SECOND;  // the initiator retries: dropped for T1
  processed += daemon_got_ike_sa_init(&initiator, "3des-md5-modp768");
  now_ns = 2 * SECOND;  // our retry is refused again: confirmed, T2 holds us
  sent += daemon_initiate(&responder, "aes128-sha1-modp1024");
  daemon_got_error(&responder, NO_PROPOSAL_CHOSEN, 0x2222);
  now_ns = 30 * SECOND;
  sent += daemon_initiate(&responder, "aes128-sha1-modp1024");
  now_ns = 31 * SECOND;  // the administrator fixes our proposal: it goes out at once
  sent += daemon_initiate(&responder, "aes256gcm16-prfsha384-ecp384");
  daemon_established(&responder);
  processed += daemon_got_ike_sa_init(&initiator, "3des-md5-modp768");  // T1 is over

  ikeguard_get_stats(guard, &stats);
  printf(
      "sent %d of 4 IKE_SA_INIT, processed %d of 3; guard: held_outbound=%llu "
      "dropped_inbound=%llu notices_sent=%llu fingerprint_lifts=%llu\n",
      sent, processed, (unsigned long long)stats.held_outbound,
      (unsigned long long)stats.dropped_inbound, (unsigned long long)stats.notices_sent,
      (unsigned long long)stats.fingerprint_lifts);
  // Three requests sent (one held), two processed (one dropped), one notice, one lift.
  ok = sent == 3 && processed == 2 && stats.notices_sent == 1 && stats.fingerprint_lifts == 1;
  ikeguard_destroy(guard);
  return ok ? 0 : 1;
}
