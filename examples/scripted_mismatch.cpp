// SPDX-License-Identifier: MIT
//
// Read this first. Two IKE daemons disagree: the initiator offers a suite the responder does
// not accept. Both link ikeguard; this program plays both daemons' parts against one manual
// clock and prints every decision the guards make:
//
//   A. the initiator asks its guard before sending IKE_SA_INIT;
//   B. the responder rejects the proposal: its guard sends N(NO_PROPOSAL_CHOSEN) once and
//      drops the initiator's further proposals for T1;
//   C. the initiator's guard, told of the error, holds new proposals for T2;
//
// then the administrator fixes the initiator's proposal and the changed fingerprint lifts
// both windows at once.
#include <ikeguard/format.hpp>
#include <ikeguard/ikeguard.hpp>

#include <fmt/core.h>

#include <chrono>
#include <string_view>

namespace {

using namespace std::chrono_literals;
using ikeguard::Verdict;

// What a daemon's transport does: here, print the abnormal-information message instead of
// putting it on the wire, and remember it for the other side to "receive".
class PrintingTransport final : public ikeguard::Transport {
 public:
  void send_notice(const ikeguard::PeerKey& peer, const ikeguard::Notice& notice) override {
    fmt::print("    responder -> {}: {}\n", peer, notice);
    last = notice;
    pending = true;
  }
  ikeguard::Notice last;
  bool pending = false;
};

}  // namespace

int main() {
  ikeguard::ManualClock clock;           // a daemon passes ikeguard::SteadyClock
  ikeguard::NullTransport nothing_to_send;  // the initiator's guard never sends notices
  PrintingTransport wire;

  ikeguard::Policy policy;               // T1 = 30 s, T2 = 60 s, backoff 2, cap 300 s ...
  policy.jitter = 0.0;                   // ... without jitter, so the printed times are round
  fmt::print("policy: {}\n\n", policy);

  ikeguard::NegotiationGuard initiator_guard(policy, clock, nothing_to_send);
  ikeguard::NegotiationGuard responder_guard(policy, clock, wire);

  const auto initiator = *ikeguard::PeerKey::parse("198.51.100.7:500");  // as the responder sees it
  const auto responder = *ikeguard::PeerKey::parse("[2001:db8::1]:500");  // as the initiator sees it

  // A daemon fingerprints the bytes of its proposal and policy, never its keys. Each side uses
  // its own guard (the keys differ), the initiator for what it sends, the responder for what it
  // received.
  std::string_view proposal = "IKE:aes128-sha1-modp1024";
  const auto accepted = [](std::string_view p) { return p == "IKE:aes256gcm16-prfsha384-ecp384"; };

  bool fixed = false;
  for (int attempt = 1; attempt <= 10; ++attempt) {
    if (!fixed && clock.now() >= ikeguard::TimePoint(50s)) {
      proposal = "IKE:aes256gcm16-prfsha384-ecp384";
      fixed = true;
      fmt::print("{} the administrator fixes the initiator's proposal\n",
                 ikeguard::since_epoch(clock.now()));
    }
    fmt::print("{} attempt {} with {}\n", ikeguard::since_epoch(clock.now()), attempt, proposal);
    const auto sent_fp = initiator_guard.fingerprint(proposal.data(), proposal.size());

    // Step A: before building IKE_SA_INIT and allocating a half-open SA.
    const auto outbound = initiator_guard.on_outbound_proposal(responder, sent_fp);
    fmt::print("    initiator on_outbound_proposal: {}\n", outbound);
    if (outbound.verdict == Verdict::hold) {
      // Nothing sent, no SA allocated. A daemon would arm a timer for outbound.until; here the
      // administrator looks at the logs first.
      clock.advance(20s);
      continue;
    }

    // The responder's gate, before parsing proposals, allocating state or computing DH.
    const auto received_fp = responder_guard.fingerprint(proposal.data(), proposal.size());
    const auto inbound = responder_guard.on_inbound_proposal(initiator, received_fp);
    fmt::print("    responder on_inbound_proposal: {}\n", inbound);
    if (inbound.verdict == Verdict::hold) {
      // Dropped silently; the initiator retransmits until its own timeout.
      clock.advance(10s);
      continue;
    }

    if (accepted(proposal)) {
      fmt::print("    IKE_SA_INIT succeeded\n");
      responder_guard.on_established(initiator);
      initiator_guard.on_established(responder);
      break;
    }

    // Step B: the responder cannot accept; its guard sends N(NO_PROPOSAL_CHOSEN) once.
    ikeguard::Notice npc;
    npc.version = ikeguard::IkeVersion::v2;
    npc.type = ikeguard::notify_v2::no_proposal_chosen;
    npc.initiator_spi = 0x1122334455667788ULL;
    const auto rejected = responder_guard.on_local_rejection(initiator, npc, received_fp);
    fmt::print("    responder on_local_rejection: {}\n", rejected);

    // Step C: the error reaches the initiator in the clear, answering its own request
    // (matching SPI and message ID). The first one only earns a short retry; the second,
    // confirming it, opens T2.
    if (wire.pending) {
      wire.pending = false;
      const auto outcome =
          initiator_guard.on_inbound_error(responder, wire.last, ikeguard::Origin::answers_request);
      fmt::print("    initiator on_inbound_error: {}\n", outcome);
      if (outcome.action == ikeguard::ErrorAction::retry_later) clock.set(outcome.until);
    } else {
      clock.advance(10s);
    }
  }

  fmt::print("\ninitiator guard: {}\nresponder guard: {}\n", initiator_guard.stats(),
             responder_guard.stats());
  return 0;
}
