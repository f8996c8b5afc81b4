// SPDX-License-Identifier: MIT
// A daemon-side program written only against the public contract of the design: if it
// compiles and exits 0, the names daemons code against are there and behave as the method says.
#include <ikeguard/format.hpp>  // the fmt formatters of every public type
#include <ikeguard/ikeguard.hpp>

#include <chrono>
#include <cstdio>
#include <string>

namespace {

using namespace std::chrono_literals;
int failures = 0;

void expect(bool ok, const char* what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) ++failures;
}

class CountingTransport : public ikeguard::Transport {
 public:
  void send_notice(const ikeguard::PeerKey&, const ikeguard::Notice&) override { ++sent; }
  int sent = 0;
};

}  // namespace

int main() {
  ikeguard::ManualClock clock;
  CountingTransport transport;
  ikeguard::Policy policy;
  policy.jitter = 0;
  ikeguard::NegotiationGuard guard(policy, clock, transport);

  const auto peer = ikeguard::PeerKey::parse("192.0.2.1:500");
  expect(peer.has_value(), "PeerKey::parse accepts 192.0.2.1:500");
  expect(!ikeguard::PeerKey::parse("192.0.2.300").has_value(), "PeerKey::parse refuses 192.0.2.300");

  ikeguard::Notice npc{ikeguard::IkeVersion::v2, 14, 0x1111, 0, 0};

  // Step B: the receiver rejects, sends once, and drops the peer for T1.
  const ikeguard::Decision rejected = guard.on_local_rejection(*peer, npc);
  expect(transport.sent == 1, "on_local_rejection sends the notice");
  expect(rejected.verdict == ikeguard::Verdict::hold &&
             rejected.until == ikeguard::TimePoint{} + 30s,
         "on_local_rejection opens T1 = 30 s");
  expect(guard.on_inbound_proposal(*peer).verdict == ikeguard::Verdict::hold,
         "on_inbound_proposal drops inside T1");
  guard.on_local_rejection(*peer, npc);
  expect(transport.sent == 1, "a second rejection inside T1 sends nothing");

  // Step C: the sender, told of an authenticated configuration error, holds for T2.
  const auto responder = ikeguard::PeerKey::parse("[2001:db8::1]:4500");
  const ikeguard::Fingerprint fp = guard.fingerprint("aes128-sha256-modp2048", 22);
  expect(guard.on_outbound_proposal(*responder, fp).verdict == ikeguard::Verdict::proceed,
         "on_outbound_proposal proceeds at first");
  const ikeguard::ErrorOutcome outcome =
      guard.on_inbound_error(*responder, npc, ikeguard::Origin::authenticated);
  expect(outcome.action == ikeguard::ErrorAction::hold &&
             outcome.until == ikeguard::TimePoint{} + 60s,
         "an authenticated NO_PROPOSAL_CHOSEN opens T2 = 60 s");
  expect(guard.on_outbound_proposal(*responder, fp).verdict == ikeguard::Verdict::hold,
         "on_outbound_proposal holds inside T2");
  expect(guard.on_inbound_error(*responder, npc, ikeguard::Origin::unsolicited).action ==
             ikeguard::ErrorAction::ignored,
         "an unsolicited error is ignored");
  ikeguard::Notice ke{ikeguard::IkeVersion::v2, 17, 0x2222, 0, 0};
  expect(guard.on_inbound_error(*responder, ke, ikeguard::Origin::answers_request).action ==
             ikeguard::ErrorAction::retry_now,
         "INVALID_KE_PAYLOAD answers retry_now");

  // A changed configuration lifts the window; success forgets the peer.
  const ikeguard::Fingerprint fixed = guard.fingerprint("aes256-sha256-modp2048", 22);
  expect(guard.on_outbound_proposal(*responder, fixed).verdict == ikeguard::Verdict::proceed,
         "a different fingerprint lifts T2");
  guard.on_established(*responder);
  clock.advance(31s);
  expect(guard.on_inbound_proposal(*peer).verdict == ikeguard::Verdict::proceed,
         "T1 ends after 30 s");

  const ikeguard::Stats stats = guard.stats();
  expect(stats.notices_sent == 1 && stats.fingerprint_lifts == 1, "stats count the decisions");
  const std::string line = fmt::format("{} {} {}", *peer, rejected, stats);
  expect(line.rfind("192.0.2.1:500 hold until t=30.000s", 0) == 0, "public types format with fmt");

  std::printf("%d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
