// SPDX-License-Identifier: MIT
// Snapshots: the windows and strikes survive a restart; nothing else gets in.
#include "snapshot_seal.hpp"
#include "support.hpp"

#include <sodium.h>

#include <cstring>
#include <string>
#include <vector>

using namespace ikeguard;
using namespace ikeguard::test;

namespace {

const Notice npc = notice(notify_v2::no_proposal_chosen);

SnapshotKey key_of(unsigned char fill) {
  SnapshotKey key;
  key.bytes.fill(fill);
  return key;
}
const SnapshotKey daemon_key = key_of(0x5a);

std::vector<unsigned char> take(const NegotiationGuard& guard, const SnapshotKey& key = daemon_key) {
  std::vector<unsigned char> bytes(guard.snapshot_bound());
  const auto written = guard.snapshot(bytes.data(), bytes.size(), key);
  REQUIRE(written.ok());
  bytes.resize(written.value());
  return bytes;
}

// A guard born from a snapshot (create_restored), on a clock of its own that reads `start`.
struct Restored {
  explicit Restored(const std::vector<unsigned char>& bytes, const Policy& policy = exact_policy(),
                    Duration start = Duration::zero())
      : owned(make(bytes, policy, start)), guard(*owned) {}
  ManualClock clock;
  RecordingTransport transport;
  RestoreReport report;
  std::unique_ptr<NegotiationGuard> owned;
  NegotiationGuard& guard;

 private:
  std::unique_ptr<NegotiationGuard> make(const std::vector<unsigned char>& bytes,
                                         const Policy& policy, Duration start) {
    clock.set(at(start));
    auto made = NegotiationGuard::create_restored(policy, clock, transport, bytes.data(),
                                                  bytes.size(), daemon_key, &report);
    REQUIRE(made.ok());
    return std::move(made).value();
  }
};

// Recomputes the MAC the way the format documents it: a snapshot a test edits on purpose.
void seal(std::vector<unsigned char>& bytes) { seal_snapshot(bytes, daemon_key); }

constexpr std::size_t record_at(std::size_t i) {
  return snapshot_format::header_size + i * snapshot_format::record_size;
}

// Two peers with state of every kind: a receiver window, a sender window, strikes.
struct TwoPeers {
  TwoPeers() {
    REQUIRE(f.guard.on_local_rejection(peer("192.0.2.1"), npc).until == at(30s));
    REQUIRE(f.guard.on_inbound_error(peer("[2001:db8::2]:4500"), npc, Origin::authenticated).until ==
            at(60s));
  }
  Fixture f;
};

}  // namespace

TEST_CASE("a snapshot is the documented size: header, one record per entry, MAC") {
  TwoPeers two;
  CHECK(snapshot_format::size_for(0) == 112);
  CHECK(two.f.guard.snapshot_bound() == snapshot_format::size_for(65536));
  const auto bytes = take(two.f.guard);
  CHECK(bytes.size() == 112 + 2 * 32);
  CHECK(std::memcmp(bytes.data(), "IKEGSNAP", 8) == 0);
  CHECK(bytes[8] == 0);
  CHECK(bytes[9] == 2);   // version
  CHECK(bytes[11] == 32);  // record size
  CHECK(bytes[15] == 2);   // records
}

TEST_CASE("an idle guard's snapshot holds no record and restores to an empty table") {
  Fixture f;
  const auto bytes = take(f.guard);
  CHECK(bytes.size() == snapshot_format::size_for(0));
  Restored g(bytes);
  const RestoreReport report = g.report;
  CHECK(report.restored == 0);
  CHECK(report.dropped == 0);
  CHECK(g.guard.stats().peers_tracked == 0);
}

TEST_CASE("restored windows run for the time they had left, on a clock with another base") {
  TwoPeers two;
  two.f.clock.advance(10s);
  const auto bytes = take(two.f.guard);

  Restored g(bytes, exact_policy(), 1000s);
  const RestoreReport report = g.report;
  CHECK(report.restored == 2);
  CHECK(report.dropped == 0);
  const Decision in = g.guard.on_inbound_proposal(peer("192.0.2.1"));
  CHECK(in.verdict == Verdict::hold);
  CHECK(in.until == at(1020s));
  CHECK(in.strikes == 1);
  const Decision out = g.guard.on_outbound_proposal(peer("[2001:db8::2]:4500"));
  CHECK(out.verdict == Verdict::hold);
  CHECK(out.until == at(1050s));
  CHECK(out.strikes == 1);
  g.clock.set(at(1050s));
  CHECK(g.guard.on_outbound_proposal(peer("[2001:db8::2]:4500")).verdict == Verdict::proceed);
}

TEST_CASE("restored strikes escalate the next window") {
  TwoPeers two;
  two.f.clock.advance(40s);  // the receiver window has ended; its strike remains
  const auto bytes = take(two.f.guard);
  Restored g(bytes);
  CHECK(g.guard.on_inbound_proposal(peer("192.0.2.1")).verdict == Verdict::proceed);
  const Decision again = g.guard.on_local_rejection(peer("192.0.2.1"), npc);
  CHECK(again.strikes == 2);
  CHECK(again.until == at(60s));
}

TEST_CASE("the time since the last failure carries over, so strikes lapse on schedule") {
  Fixture f;
  f.guard.on_local_rejection(peer("192.0.2.1"), npc);
  f.clock.advance(23h);
  const auto bytes = take(f.guard);

  Restored soon(bytes);
  soon.clock.advance(30min);  // 23.5 h after the failure: still counted
  CHECK(soon.guard.on_local_rejection(peer("192.0.2.1"), npc).strikes == 2);

  Restored late(bytes);
  late.clock.advance(1h);  // 24 h after the failure: forgiven
  CHECK(late.guard.on_local_rejection(peer("192.0.2.1"), npc).strikes == 1);
}

TEST_CASE("a pending unauthenticated confirmation survives a restart") {
  Fixture f;
  const PeerKey responder = peer("198.51.100.7");
  CHECK(f.guard.on_inbound_error(responder, npc, Origin::answers_request).action ==
        ErrorAction::retry_later);
  f.clock.advance(5s);  // the retry delay has passed
  const auto bytes = take(f.guard);
  Restored g(bytes);
  const ErrorOutcome second = g.guard.on_inbound_error(responder, npc, Origin::answers_request);
  CHECK(second.action == ErrorAction::hold);
  CHECK(second.until == at(60s));
  CHECK(second.strikes == 1);
}

TEST_CASE("fingerprints made before a restart still match after it, and a new one lifts") {
  Fixture f;
  const char offered[] = "aes128-sha256-modp2048";
  const Fingerprint before = f.guard.fingerprint(offered, sizeof offered);
  f.guard.on_local_rejection(peer("192.0.2.1"), npc, before);
  const auto bytes = take(f.guard);

  Restored g(bytes);
  CHECK(g.guard.fingerprint(offered, sizeof offered) == before);
  CHECK(g.guard.on_inbound_proposal(peer("192.0.2.1"), before).verdict == Verdict::hold);
  const char fixed[] = "aes256gcm16-prfsha384-x25519";
  CHECK(g.guard.on_inbound_proposal(peer("192.0.2.1"), g.guard.fingerprint(fixed, sizeof fixed))
            .verdict == Verdict::proceed);
  CHECK(g.guard.stats().fingerprint_lifts == 1);
}

TEST_CASE("restore replaces the table: entries the snapshot lacks are gone") {
  TwoPeers two;
  const auto bytes = take(two.f.guard);
  Restored g(bytes);
  CHECK(g.guard.stats().peers_tracked == 2);
  CHECK(g.guard.on_inbound_proposal(peer("203.0.113.9")).verdict == Verdict::proceed);
}

TEST_CASE("a restored window is no longer than the restoring guard's max_window") {
  Policy patient = exact_policy();
  patient.receiver_window = 1000s;
  patient.sender_window = 1000s;
  patient.max_window = 3600s;
  Fixture f(patient);
  f.guard.on_local_rejection(peer("192.0.2.1"), npc);  // 1000 s
  const auto bytes = take(f.guard);

  Restored g(bytes);  // max_window 300 s, no jitter
  CHECK(g.guard.on_inbound_proposal(peer("192.0.2.1")).until == at(300s));
}

TEST_CASE("a full table round-trips entry for entry") {
  constexpr std::uint32_t capacity = 20000;
  Fixture f(exact_policy(capacity));
  for (std::uint32_t i = 0; i < capacity; ++i) {
    f.clock.set(at(std::chrono::milliseconds(i)));
    f.guard.on_local_rejection(nth(i), npc);
  }
  REQUIRE(f.guard.stats().peers_tracked == capacity);
  const auto bytes = take(f.guard);
  CHECK(bytes.size() == snapshot_format::size_for(capacity));
  CHECK(bytes.size() == f.guard.snapshot_bound());

  // Restored at the instant the snapshot was taken (the last rejection's time).
  Restored g(bytes, exact_policy(capacity), std::chrono::milliseconds(capacity - 1));
  const RestoreReport report = g.report;
  CHECK(report.restored == capacity);
  CHECK(report.dropped == 0);
  CHECK(g.guard.stats().peers_tracked == capacity);
  std::uint32_t exact = 0;
  for (std::uint32_t i = 0; i < capacity; ++i) {
    const Decision d = g.guard.on_inbound_proposal(nth(i));
    if (d.verdict == Verdict::hold && d.strikes == 1 &&
        d.until == at(30s + std::chrono::milliseconds(i))) {
      ++exact;
    }
  }
  CHECK(exact == capacity);
}

TEST_CASE("a snapshot larger than the guard keeps the windows that end latest") {
  Fixture f(exact_policy(10));
  for (std::uint32_t i = 0; i < 10; ++i) {
    f.clock.set(at(std::chrono::seconds(i)));
    f.guard.on_local_rejection(nth(i), npc);  // ends at 30 + i s
  }
  const auto bytes = take(f.guard);
  Restored g(bytes, exact_policy(6), 9s);
  const RestoreReport report = g.report;
  CHECK(report.restored == 6);
  CHECK(report.dropped == 4);
  CHECK(g.guard.stats().peers_tracked == 6);
  for (std::uint32_t i = 0; i < 4; ++i) {
    CHECK(g.guard.on_inbound_proposal(nth(i)).verdict == Verdict::proceed);
  }
  for (std::uint32_t i = 4; i < 10; ++i) {
    CHECK(g.guard.on_inbound_proposal(nth(i)).until == at(std::chrono::seconds(30 + i)));
  }
}

TEST_CASE("a buffer too small for the entries present is refused, the bound always fits") {
  TwoPeers two;
  std::vector<unsigned char> bytes(snapshot_format::size_for(2) - 1, 0xee);
  const auto refused = two.f.guard.snapshot(bytes.data(), bytes.size(), daemon_key);
  CHECK(refused.error() == Errc::snapshot_buffer_too_small);
  CHECK(std::all_of(bytes.begin(), bytes.end(), [](unsigned char b) { return b == 0xee; }));
  bytes.resize(snapshot_format::size_for(2));
  CHECK(two.f.guard.snapshot(bytes.data(), bytes.size(), daemon_key).value() == bytes.size());
}

TEST_CASE("snapshot and restore refuse a null buffer") {
  Fixture f;
  CHECK(f.guard.snapshot(nullptr, 1000, daemon_key).error() == Errc::invalid_argument);
  CHECK(NegotiationGuard::create_restored(exact_policy(), f.clock, f.transport, nullptr, 1000,
                                          daemon_key)
            .error() == Errc::invalid_argument);
}

namespace {
// A guard with state of its own, to show a refused snapshot changes nothing.
struct Target {
  Target() { f.guard.on_local_rejection(peer("203.0.113.9"), npc); }
  void check_untouched() {
    CHECK(f.guard.stats().peers_tracked == 1);
    const Decision d = f.guard.on_inbound_proposal(peer("203.0.113.9"));
    CHECK(d.verdict == Verdict::hold);
    CHECK(d.until == at(30s));
  }
  Errc restore(const unsigned char* data, std::size_t size, const SnapshotKey& key = daemon_key) {
    return NegotiationGuard::create_restored(f.guard.policy(), f.clock, f.transport, data, size, key)
        .error();
  }
  Fixture f;
};
}  // namespace

TEST_CASE("a snapshot under another key is refused and changes nothing") {
  TwoPeers two;
  const auto bytes = take(two.f.guard);
  Target target;
  CHECK(target.restore(bytes.data(), bytes.size(), key_of(0x5b)) == Errc::snapshot_unauthenticated);
  target.check_untouched();
}

TEST_CASE("every truncation of a snapshot, and a byte too many, is refused") {
  TwoPeers two;
  auto bytes = take(two.f.guard);
  Target target;
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    INFO("size " << size);
    CHECK(target.restore(bytes.data(), size) == Errc::snapshot_truncated);
  }
  bytes.push_back(0);
  CHECK(target.restore(bytes.data(), bytes.size()) == Errc::snapshot_truncated);
  target.check_untouched();
}

TEST_CASE("every single-byte corruption of a small snapshot is refused with its reason") {
  TwoPeers two;
  const auto original = take(two.f.guard);
  Target target;
  std::size_t refused = 0;
  for (std::size_t at_byte = 0; at_byte < original.size(); ++at_byte) {
    for (const int flip : {0x01, 0x80, 0xff}) {
      auto bytes = original;
      bytes[at_byte] = static_cast<unsigned char>(bytes[at_byte] ^ flip);
      Errc expected = Errc::snapshot_unauthenticated;
      if (at_byte < 8) expected = Errc::snapshot_not_a_snapshot;
      else if (at_byte < 10) expected = Errc::snapshot_unsupported_version;
      else if (at_byte < 12) expected = Errc::snapshot_not_a_snapshot;
      else if (at_byte < 16) expected = Errc::snapshot_truncated;
      INFO("byte " << at_byte << " ^ " << flip);
      CHECK(target.restore(bytes.data(), bytes.size()) == expected);
      ++refused;
    }
  }
  CHECK(refused == 3 * original.size());
  target.check_untouched();
}

TEST_CASE("a snapshot of another format version is refused as such") {
  TwoPeers two;
  auto bytes = take(two.f.guard);
  bytes[9] = 3;
  seal(bytes);
  Target target;
  CHECK(target.restore(bytes.data(), bytes.size()) == Errc::snapshot_unsupported_version);
  target.check_untouched();
}

TEST_CASE("a version 1 snapshot, whose peers were hashed with SipHash-2-4, is refused by name") {
  TwoPeers two;
  auto bytes = take(two.f.guard);
  bytes[9] = 1;
  seal(bytes);
  Target target;
  const Errc refused = target.restore(bytes.data(), bytes.size());
  CHECK(refused == Errc::snapshot_retired_version);
  CHECK(std::string(message(refused)).find("SipHash-2-4") != std::string::npos);
  target.check_untouched();
}

TEST_CASE("a record the guard could not have written is refused even with a valid MAC") {
  TwoPeers two;
  const auto original = take(two.f.guard);
  {
    auto sealed = original;  // the test's MAC computation matches the format's
    seal(sealed);
    Target target;
    CHECK(target.restore(sealed.data(), sealed.size()) == Errc::ok);
  }
  // Records follow table order: the sender's record is the one with a hold kind (byte 31).
  const std::size_t sender = original[record_at(0) + 31] == 2 ? record_at(0) : record_at(1);
  const std::size_t receiver = sender == record_at(0) ? record_at(1) : record_at(0);
  REQUIRE(original[receiver + 31] == 0);
  struct Edit {
    const char* what;
    std::size_t offset;
    std::size_t length;
    unsigned char value;
  };
  const Edit edits[] = {
      {"hash 0, which marks an empty slot", receiver, 8, 0},
      {"hold kind 3", sender + 31, 1, 3},
      {"sender window open without a hold kind", sender + 31, 1, 0},
      {"hold kind without a sender window", receiver + 31, 1, 2},
      {"nothing to remember", receiver + 8, 24, 0},
  };
  for (const Edit& edit : edits) {
    INFO(edit.what);
    auto bytes = original;
    std::memset(bytes.data() + edit.offset, edit.value, edit.length);
    seal(bytes);
    Target target;
    CHECK(target.restore(bytes.data(), bytes.size()) == Errc::snapshot_malformed);
    target.check_untouched();
  }
  {
    INFO("a time of failure with nothing counted");
    auto bytes = original;
    bytes[receiver + 29] = 0;  // no receiver strikes
    bytes[receiver + 19] = 1;  // but one millisecond since a failure
    seal(bytes);
    Target target;
    CHECK(target.restore(bytes.data(), bytes.size()) == Errc::snapshot_malformed);
    target.check_untouched();
  }
}
