// SPDX-License-Identifier: MIT
// Test doubles and helpers shared by the test files.
#pragma once

#include <ikeguard/format.hpp>
#include <ikeguard/ikeguard.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ikeguard::test {

using namespace std::chrono_literals;

/// Remembers every notice the guard sends.
class RecordingTransport final : public Transport {
 public:
  struct Sent {
    PeerKey peer;
    Notice notice;
  };
  void send_notice(const PeerKey& peer, const Notice& notice) override {
    sent.push_back({peer, notice});
  }
  std::vector<Sent> sent;
};

/// The documented defaults without jitter, so every window has an exact expected length.
inline Policy exact_policy() {
  Policy policy;
  policy.jitter = 0.0;
  return policy;
}

/// The same, for a table of `max_peers`.
inline Policy exact_policy(std::size_t max_peers) {
  Policy policy = exact_policy();
  policy.max_peers = max_peers;
  return policy;
}

inline PeerKey peer(std::string_view text) {
  const auto key = PeerKey::parse(text);
  REQUIRE(key.has_value());
  return *key;
}

/// The i-th of many distinct peers, 10.x.y.z: for tables filled by the thousand.
inline PeerKey nth(std::uint32_t i) {
  return PeerKey::ipv4({10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8),
                        static_cast<std::uint8_t>(i)});
}

/// Seconds since the ManualClock's epoch, which every test starts from.
inline TimePoint at(Duration since_epoch) { return TimePoint(since_epoch); }

inline Notice notice(std::uint16_t type, IkeVersion version = IkeVersion::v2) {
  Notice n;
  n.version = version;
  n.type = type;
  n.initiator_spi = 0x0123456789abcdefULL;
  n.message_id = 0;
  return n;
}

/// A guard from the validating factory, which every build has (the throwing constructor is
/// left out under -fno-exceptions); the test stops here if `policy` is refused.
inline std::unique_ptr<NegotiationGuard> make_guard(const Policy& policy, Clock& clock,
                                                    Transport& transport) {
  auto created = NegotiationGuard::create(policy, clock, transport);
  INFO("create: " << name(created.error()));
  REQUIRE(created.ok());
  return std::move(created.value());
}

/// A guard under a ManualClock at t=0 and a recording transport.
struct Fixture {
  explicit Fixture(const Policy& policy = exact_policy())
      : owned(make_guard(policy, clock, transport)), guard(*owned) {}
  ManualClock clock;
  RecordingTransport transport;
  std::unique_ptr<NegotiationGuard> owned;
  NegotiationGuard& guard;
};

}  // namespace ikeguard::test

// Failed checks print errors by name, and times and durations the way the library formats them.
namespace Catch {
template <>
struct StringMaker<ikeguard::Errc> {
  static std::string convert(ikeguard::Errc e) { return ikeguard::name(e); }
};
template <>
struct StringMaker<ikeguard::TimePoint> {
  static std::string convert(const ikeguard::TimePoint& t) { return fmt::format("{}", ikeguard::since_epoch(t)); }
};
template <>
struct StringMaker<ikeguard::Duration> {
  static std::string convert(const ikeguard::Duration& d) { return fmt::format("{}ns", d.count()); }
};
}  // namespace Catch
