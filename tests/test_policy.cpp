// SPDX-License-Identifier: MIT
// Policy: defaults, validate(), and how NegotiationGuard::create and the constructor refuse it.
#include "support.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>

using namespace ikeguard;
using namespace ikeguard::test;

namespace {

std::string name_of(Errc code) { return name(code); }

/// validate(), create() and the throwing constructor all refuse `policy` with `expected`.
void check_refused(const Policy& policy, Errc expected) {
  REQUIRE(expected != Errc::ok);
  CHECK(name_of(validate(policy)) == name_of(expected));

  ManualClock clock;
  RecordingTransport transport;
  auto result = NegotiationGuard::create(policy, clock, transport);
  CHECK_FALSE(result.ok());
  CHECK_FALSE(static_cast<bool>(result));
  CHECK(name_of(result.error()) == name_of(expected));
  CHECK(std::string(result.error_message()) == message(expected));

#if IKEGUARD_HAS_EXCEPTIONS
  CHECK_THROWS_MATCHES(NegotiationGuard(policy, clock, transport), std::invalid_argument,
                       Catch::Message(message(expected)));
#endif
}

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
constexpr double infinity = std::numeric_limits<double>::infinity();

constexpr Errc every_errc[] = {
    Errc::ok,
    Errc::invalid_receiver_window,
    Errc::invalid_sender_window,
    Errc::invalid_backoff,
    Errc::invalid_max_window,
    Errc::invalid_confirmations,
    Errc::invalid_retry_delay,
    Errc::invalid_jitter,
    Errc::invalid_forgive_after,
    Errc::invalid_max_peers,
    Errc::out_of_memory,
    Errc::crypto_unavailable,
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Defaults

TEST_CASE("the default Policy validates") {
  CHECK(name_of(validate(Policy{})) == "ok");
}

TEST_CASE("the default Policy has the documented values") {
  const Policy policy;
  CHECK(policy.receiver_window == std::chrono::seconds(30));
  CHECK(policy.sender_window == std::chrono::seconds(60));
  CHECK(policy.backoff == 2.0);
  CHECK(policy.max_window == std::chrono::seconds(300));
  CHECK(policy.unauthenticated_confirmations == 2u);
  CHECK(policy.retry_delay == std::chrono::seconds(2));
  CHECK(policy.jitter == 0.1);
  CHECK(policy.forgive_after == std::chrono::hours(24));
  CHECK(policy.max_peers == 65536u);
  CHECK(policy.notify_classes.override_count() == 0);
  CHECK(max_peers_limit == 1073741824u);
}

TEST_CASE("the boundary values of every member are accepted") {
  Policy policy;
  policy.receiver_window = 1ns;
  policy.sender_window = 1ns;
  policy.max_window = 1ns;  // equal to both windows
  policy.backoff = 1.0;
  policy.unauthenticated_confirmations = 1;
  policy.retry_delay = 1ns;
  policy.jitter = 0.0;
  policy.forgive_after = 1ns;
  policy.max_peers = 1;
  CHECK(name_of(validate(policy)) == "ok");

  policy.jitter = 0.999;
  policy.max_peers = max_peers_limit;
  CHECK(name_of(validate(policy)) == "ok");
}

// ---------------------------------------------------------------------------------------------
// Each invalid member

TEST_CASE("a zero receiver_window is refused as invalid_receiver_window") {
  Policy policy;
  policy.receiver_window = Duration::zero();
  check_refused(policy, Errc::invalid_receiver_window);
}

TEST_CASE("a negative receiver_window is refused as invalid_receiver_window") {
  Policy policy;
  policy.receiver_window = -1ns;
  check_refused(policy, Errc::invalid_receiver_window);
  policy.receiver_window = -30s;
  check_refused(policy, Errc::invalid_receiver_window);
}

TEST_CASE("a zero sender_window is refused as invalid_sender_window") {
  Policy policy;
  policy.sender_window = Duration::zero();
  check_refused(policy, Errc::invalid_sender_window);
}

TEST_CASE("a negative sender_window is refused as invalid_sender_window") {
  Policy policy;
  policy.sender_window = -1ns;
  check_refused(policy, Errc::invalid_sender_window);
  policy.sender_window = -60s;
  check_refused(policy, Errc::invalid_sender_window);
}

TEST_CASE("a backoff below 1 is refused as invalid_backoff") {
  Policy policy;
  policy.backoff = 0.5;
  check_refused(policy, Errc::invalid_backoff);
  policy.backoff = 0.0;
  check_refused(policy, Errc::invalid_backoff);
  policy.backoff = -2.0;
  check_refused(policy, Errc::invalid_backoff);
}

TEST_CASE("a NaN backoff is refused as invalid_backoff") {
  Policy policy;
  policy.backoff = not_a_number;
  check_refused(policy, Errc::invalid_backoff);
}

TEST_CASE("an infinite backoff is refused as invalid_backoff") {
  Policy policy;
  policy.backoff = infinity;
  check_refused(policy, Errc::invalid_backoff);
  policy.backoff = -infinity;
  check_refused(policy, Errc::invalid_backoff);
}

TEST_CASE("a max_window below the receiver_window is refused as invalid_max_window") {
  Policy policy;
  policy.receiver_window = 301s;  // sender_window stays 60 s, below max_window
  check_refused(policy, Errc::invalid_max_window);
}

TEST_CASE("a max_window below the sender_window is refused as invalid_max_window") {
  Policy policy;
  policy.max_window = 45s;  // above receiver_window (30 s), below sender_window (60 s)
  check_refused(policy, Errc::invalid_max_window);
  policy.max_window = 60s - 1ns;
  check_refused(policy, Errc::invalid_max_window);
}

TEST_CASE("zero unauthenticated_confirmations are refused as invalid_confirmations") {
  Policy policy;
  policy.unauthenticated_confirmations = 0;
  check_refused(policy, Errc::invalid_confirmations);
}

TEST_CASE("more than 255 unauthenticated_confirmations are refused as invalid_confirmations") {
  // The per-peer count is 8 bits: 256 confirmations would never be reached.
  Policy policy;
  policy.unauthenticated_confirmations = 255;
  CHECK(validate(policy) == Errc::ok);
  policy.unauthenticated_confirmations = 256;
  check_refused(policy, Errc::invalid_confirmations);
}

TEST_CASE("a zero or negative retry_delay is refused as invalid_retry_delay") {
  Policy policy;
  policy.retry_delay = Duration::zero();
  check_refused(policy, Errc::invalid_retry_delay);
  policy.retry_delay = -2s;
  check_refused(policy, Errc::invalid_retry_delay);
}

TEST_CASE("a negative jitter is refused as invalid_jitter") {
  Policy policy;
  policy.jitter = -0.1;
  check_refused(policy, Errc::invalid_jitter);
}

TEST_CASE("a jitter of 1 or more is refused as invalid_jitter") {
  Policy policy;
  policy.jitter = 1.0;
  check_refused(policy, Errc::invalid_jitter);
  policy.jitter = 1.5;
  check_refused(policy, Errc::invalid_jitter);
  policy.jitter = infinity;
  check_refused(policy, Errc::invalid_jitter);
}

TEST_CASE("a NaN jitter is refused as invalid_jitter") {
  Policy policy;
  policy.jitter = not_a_number;
  check_refused(policy, Errc::invalid_jitter);
}

TEST_CASE("a zero or negative forgive_after is refused as invalid_forgive_after") {
  Policy policy;
  policy.forgive_after = Duration::zero();
  check_refused(policy, Errc::invalid_forgive_after);
  policy.forgive_after = -1h;
  check_refused(policy, Errc::invalid_forgive_after);
}

TEST_CASE("zero max_peers are refused as invalid_max_peers") {
  Policy policy;
  policy.max_peers = 0;
  check_refused(policy, Errc::invalid_max_peers);
}

TEST_CASE("max_peers above max_peers_limit are refused as invalid_max_peers") {
  Policy policy;
  policy.max_peers = max_peers_limit + 1;
  check_refused(policy, Errc::invalid_max_peers);
  policy.max_peers = std::numeric_limits<std::size_t>::max();
  check_refused(policy, Errc::invalid_max_peers);
}

TEST_CASE("validate reports the first invalid member in declaration order") {
  Policy policy;
  policy.max_peers = 0;
  policy.jitter = 2.0;
  CHECK(name_of(validate(policy)) == "invalid_jitter");
  policy.unauthenticated_confirmations = 0;
  CHECK(name_of(validate(policy)) == "invalid_confirmations");
  policy.backoff = not_a_number;
  CHECK(name_of(validate(policy)) == "invalid_backoff");
  policy.sender_window = Duration::zero();
  CHECK(name_of(validate(policy)) == "invalid_sender_window");
  policy.receiver_window = Duration::zero();
  check_refused(policy, Errc::invalid_receiver_window);
}

// ---------------------------------------------------------------------------------------------
// A valid policy

TEST_CASE("create with a valid policy gives a working guard") {
  Policy policy = exact_policy();
  policy.max_peers = 16;
  ManualClock clock;
  RecordingTransport transport;
  auto result = NegotiationGuard::create(policy, clock, transport);
  REQUIRE(result.ok());
  CHECK(static_cast<bool>(result));
  CHECK(name_of(result.error()) == "ok");
  CHECK(std::string(result.error_message()) == "success");
  NegotiationGuard& guard = *result.value();

  CHECK(guard.policy().max_peers == 16u);
  CHECK(guard.stats().capacity == 16u);
  const PeerKey initiator = peer("192.0.2.1");
  const Decision d = guard.on_local_rejection(initiator, notice(notify_v2::no_proposal_chosen));
  CHECK(d.verdict == Verdict::hold);
  CHECK(d.until == at(30s));
  CHECK(transport.sent.size() == 1);
  CHECK(guard.on_inbound_proposal(initiator).verdict == Verdict::hold);
}

TEST_CASE("create with the boundary policy gives a guard for one peer") {
  Policy policy;
  policy.receiver_window = 1s;
  policy.sender_window = 1s;
  policy.max_window = 1s;
  policy.backoff = 1.0;
  policy.unauthenticated_confirmations = 1;
  policy.jitter = 0.0;
  policy.max_peers = 1;
  ManualClock clock;
  RecordingTransport transport;
  auto result = NegotiationGuard::create(policy, clock, transport);
  REQUIRE(result.ok());
  const ErrorOutcome outcome = result.value()->on_inbound_error(
      peer("192.0.2.1"), notice(notify_v2::no_proposal_chosen), Origin::answers_request);
  CHECK(outcome.action == ErrorAction::hold);
  CHECK(outcome.until == at(1s));
}

#if IKEGUARD_HAS_EXCEPTIONS
TEST_CASE("the constructor accepts a valid policy without throwing") {
  ManualClock clock;
  RecordingTransport transport;
  Policy policy = exact_policy();
  policy.max_peers = 8;
  CHECK_NOTHROW(NegotiationGuard(policy, clock, transport));
}
#endif

// ---------------------------------------------------------------------------------------------
// Errc

TEST_CASE("every Errc has a non-empty message and name, all distinct") {
  std::set<std::string> messages;
  std::set<std::string> names;
  for (const Errc code : every_errc) {
    INFO("code " << static_cast<int>(code));
    const std::string text = message(code);
    const std::string id = name(code);
    CHECK_FALSE(text.empty());
    CHECK_FALSE(id.empty());
    CHECK(text != "unknown error");
    CHECK(id != "unknown");
    messages.insert(text);
    names.insert(id);
  }
  CHECK(messages.size() == std::size(every_errc));
  CHECK(names.size() == std::size(every_errc));
}

TEST_CASE("the Errc numbers are the released ones") {
  for (std::size_t i = 0; i < std::size(every_errc); ++i) {
    CHECK(static_cast<std::size_t>(every_errc[i]) == i);
  }
}

TEST_CASE("name gives each Errc's identifier") {
  CHECK(name_of(Errc::ok) == "ok");
  CHECK(name_of(Errc::invalid_receiver_window) == "invalid_receiver_window");
  CHECK(name_of(Errc::invalid_sender_window) == "invalid_sender_window");
  CHECK(name_of(Errc::invalid_backoff) == "invalid_backoff");
  CHECK(name_of(Errc::invalid_max_window) == "invalid_max_window");
  CHECK(name_of(Errc::invalid_confirmations) == "invalid_confirmations");
  CHECK(name_of(Errc::invalid_retry_delay) == "invalid_retry_delay");
  CHECK(name_of(Errc::invalid_jitter) == "invalid_jitter");
  CHECK(name_of(Errc::invalid_forgive_after) == "invalid_forgive_after");
  CHECK(name_of(Errc::invalid_max_peers) == "invalid_max_peers");
  CHECK(name_of(Errc::out_of_memory) == "out_of_memory");
  CHECK(name_of(Errc::crypto_unavailable) == "crypto_unavailable");
}

TEST_CASE("message gives the documented sentence") {
  CHECK(std::string(message(Errc::ok)) == "success");
  CHECK(std::string(message(Errc::invalid_backoff)) == "backoff must be a finite number >= 1");
  CHECK(std::string(message(Errc::invalid_jitter)) == "jitter must be in [0, 1)");
  CHECK(std::string(message(Errc::invalid_max_peers)) == "max_peers must be between 1 and 2^30");
}

TEST_CASE("message and name of a value outside the list say unknown") {
  const auto stray = static_cast<Errc>(200);
  CHECK(std::string(message(stray)) == "unknown error");
  CHECK(name_of(stray) == "unknown");
}

TEST_CASE("max_window, retry_delay and forgive_after above 2^30 ms are refused, at it accepted") {
  // The table stores times as 32-bit milliseconds.
  CHECK(max_duration_limit == std::chrono::milliseconds(1073741824));
  Policy policy;
  policy.max_window = max_duration_limit;
  policy.retry_delay = max_duration_limit;
  policy.forgive_after = max_duration_limit;
  CHECK(validate(policy) == Errc::ok);
  Policy window = policy;
  window.max_window = max_duration_limit + 1ns;
  check_refused(window, Errc::invalid_max_window);
  Policy retry = policy;
  retry.retry_delay = max_duration_limit + 1ns;
  check_refused(retry, Errc::invalid_retry_delay);
  Policy forgive = policy;
  forgive.forgive_after = max_duration_limit + 1ns;
  check_refused(forgive, Errc::invalid_forgive_after);
}
