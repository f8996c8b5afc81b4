// SPDX-License-Identifier: MIT
// NegotiationGuard::create_restored on arbitrary bytes. The first byte picks how the rest is used:
//   even: the bytes as they come (almost always refused: the MAC must fail cleanly), and
//   odd:  the bytes as a snapshot body (nonce, key, records) that this target seals with the
//         key, so the record checks behind the MAC are what gets fuzzed.
// Either way: no crash, a refusal leaves the guard as it was, and what is accepted is a table the
// guard could hold (within capacity, windows within max_window and jitter) that snapshots again
// to the same entries.
#include <ikeguard/guard.hpp>

#include "../snapshot_seal.hpp"
#include "fuzz_check.hpp"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

using namespace ikeguard;

namespace {

using namespace std::chrono_literals;
namespace format = snapshot_format;

class NoTransport final : public Transport {
 public:
  void send_notice(const PeerKey&, const Notice&) override {}
};

SnapshotKey fuzz_key() {
  SnapshotKey key;
  for (std::size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<unsigned char>(i * 7);
  return key;
}

std::vector<std::uint8_t> sealed_from(const std::uint8_t* data, std::size_t size,
                                      const SnapshotKey& key) {
  constexpr std::size_t secrets = format::header_size - 16;  // nonce and encrypted keys
  const std::size_t records = size > secrets ? (size - secrets) / format::record_size : 0;
  std::vector<std::uint8_t> bytes(format::size_for(records), 0);
  const char magic[] = "IKEGSNAP";
  std::copy(magic, magic + 8, bytes.begin());
  bytes[9] = static_cast<std::uint8_t>(format::version);
  bytes[11] = static_cast<std::uint8_t>(format::record_size);
  for (int i = 0; i < 4; ++i) bytes[12 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(records >> (24 - 8 * i));
  std::copy(data, data + std::min(size, secrets + records * format::record_size), bytes.begin() + 16);
  test::seal_snapshot(bytes, key);
  return bytes;
}

constexpr std::size_t capacity = 8;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const SnapshotKey key = fuzz_key();
  if (size == 0) return 0;
  const bool sealed = (data[0] & 1) != 0;
  ++data;
  --size;

  ManualClock clock(TimePoint(1000s));
  NoTransport transport;
  Policy policy;
  policy.max_peers = capacity;
  auto created = NegotiationGuard::create(policy, clock, transport);
  IKEGUARD_FUZZ_CHECK(created.ok());
  NegotiationGuard& guard = **created;
  // A guard with state of its own, to see that a refusal changes nothing.
  const auto own = *PeerKey::parse("203.0.113.9");
  const Notice npc{IkeVersion::v2, 14, 1, 0, 0};
  const TimePoint own_until = guard.on_local_rejection(own, npc).until;

  std::vector<std::uint8_t> input =
      sealed ? sealed_from(data, size, key) : std::vector<std::uint8_t>(data, data + size);
  RestoreReport report;
  auto restored = NegotiationGuard::create_restored(policy, clock, transport, input.data(),
                                                    input.size(), key, &report);
  if (!restored.ok()) {
    IKEGUARD_FUZZ_CHECK(restored.error() != Errc::ok);
    IKEGUARD_FUZZ_CHECK(guard.stats().peers_tracked == 1);
    const Decision d = guard.on_inbound_proposal(own);
    IKEGUARD_FUZZ_CHECK(d.verdict == Verdict::hold && d.until == own_until);
    return 0;
  }
  NegotiationGuard& first = **restored;
  const std::size_t count = (input.size() - format::size_for(0)) / format::record_size;
  IKEGUARD_FUZZ_CHECK(report.restored <= capacity);
  IKEGUARD_FUZZ_CHECK(report.restored + report.dropped <= count);
  IKEGUARD_FUZZ_CHECK(first.stats().peers_tracked == report.restored);

  // Written again, the same entries come back, and no window outlasts what the policy allows.
  std::vector<std::uint8_t> again(first.snapshot_bound());
  const Result<std::size_t> written = first.snapshot(again.data(), again.size(), key);
  IKEGUARD_FUZZ_CHECK(written.ok());
  again.resize(written.value());
  ManualClock later(TimePoint(5000s));
  RestoreReport back_report;
  auto second = NegotiationGuard::create_restored(policy, later, transport, again.data(),
                                                  again.size(), key, &back_report);
  IKEGUARD_FUZZ_CHECK(second.ok());
  const RestoreReport* back = &back_report;
  IKEGUARD_FUZZ_CHECK(back->dropped == 0);
  IKEGUARD_FUZZ_CHECK(back->restored <= report.restored);  // idle entries are not written

  // No restored window outlasts what the policy allows: max_window plus jitter, in milliseconds.
  std::vector<std::uint8_t> third((*second)->snapshot_bound());
  const Result<std::size_t> rewritten = (*second)->snapshot(third.data(), third.size(), key);
  IKEGUARD_FUZZ_CHECK(rewritten.ok());
  const auto cap_ms = std::chrono::duration_cast<std::chrono::milliseconds>(policy.max_window).count();
  const auto longest = static_cast<std::uint32_t>(cap_ms + cap_ms / 10 + 1);  // jitter 0.1
  for (std::size_t i = 0; i < back->restored; ++i) {
    const std::uint8_t* record = third.data() + format::header_size + i * format::record_size;
    const auto u32 = [](const std::uint8_t* p) {
      return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
    };
    IKEGUARD_FUZZ_CHECK(u32(record + 8) <= longest);
    IKEGUARD_FUZZ_CHECK(u32(record + 12) <= longest);
  }
  // And the restored guard answers every call.
  (*second)->on_inbound_proposal(own);
  (*second)->on_outbound_proposal(own);
  (*second)->on_local_rejection(own, npc);
  (*second)->on_inbound_error(own, npc, Origin::answers_request);
  (*second)->on_established(own);
  return 0;
}
