// SPDX-License-Identifier: MIT
// NegotiationGuard::restore on arbitrary bytes. The first byte picks how the rest is used:
//   even: the bytes as they come (almost always refused: the MAC must fail cleanly), and
//   odd:  the bytes as a snapshot body (nonce, key, records) that this target seals with the
//         key, so the record checks behind the MAC are what gets fuzzed.
// Either way: no crash, a refusal leaves the guard as it was, and what is accepted is a table the
// guard could hold (within capacity, windows within max_window and jitter) that snapshots again
// to the same entries.
#include <ikeguard/guard.hpp>

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

// The documented MAC: crypto_auth under BLAKE2b-256(key, "ikeguard snapshot mac key").
void seal(std::vector<std::uint8_t>& bytes, const SnapshotKey& key) {
  static constexpr char label[] = "ikeguard snapshot mac key";
  unsigned char mac_key[crypto_auth_KEYBYTES];
  crypto_generichash(mac_key, sizeof mac_key, reinterpret_cast<const unsigned char*>(label),
                     sizeof label - 1, key.bytes.data(), key.bytes.size());
  const std::size_t body = bytes.size() - format::mac_size;
  crypto_auth(bytes.data() + body, bytes.data(), body, mac_key);
}

std::vector<std::uint8_t> sealed_from(const std::uint8_t* data, std::size_t size,
                                      const SnapshotKey& key) {
  constexpr std::size_t secrets = format::header_size - 16;  // nonce and encrypted key
  const std::size_t records = size > secrets ? (size - secrets) / format::record_size : 0;
  std::vector<std::uint8_t> bytes(format::size_for(records), 0);
  const char magic[] = "IKEGSNAP";
  std::copy(magic, magic + 8, bytes.begin());
  bytes[9] = static_cast<std::uint8_t>(format::version);
  bytes[11] = static_cast<std::uint8_t>(format::record_size);
  for (int i = 0; i < 4; ++i) bytes[12 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(records >> (24 - 8 * i));
  std::copy(data, data + std::min(size, secrets + records * format::record_size), bytes.begin() + 16);
  seal(bytes, key);
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
  // State of its own, to see that a refusal changes nothing.
  const auto own = *PeerKey::parse("203.0.113.9");
  const Notice npc{IkeVersion::v2, 14, 1, 0, 0};
  const TimePoint own_until = guard.on_local_rejection(own, npc).until;

  std::vector<std::uint8_t> input =
      sealed ? sealed_from(data, size, key) : std::vector<std::uint8_t>(data, data + size);
  const Result<RestoreReport> restored = guard.restore(input.data(), input.size(), key);
  if (!restored.ok()) {
    IKEGUARD_FUZZ_CHECK(restored.error() != Errc::ok);
    IKEGUARD_FUZZ_CHECK(guard.stats().peers_tracked == 1);
    const Decision d = guard.on_inbound_proposal(own);
    IKEGUARD_FUZZ_CHECK(d.verdict == Verdict::hold && d.until == own_until);
    return 0;
  }

  const RestoreReport report = restored.value();
  const std::size_t count = (input.size() - format::size_for(0)) / format::record_size;
  IKEGUARD_FUZZ_CHECK(report.restored <= capacity);
  IKEGUARD_FUZZ_CHECK(report.restored + report.dropped <= count);
  IKEGUARD_FUZZ_CHECK(guard.stats().peers_tracked == report.restored);

  // Written again, the same entries come back, and no window outlasts what the policy allows.
  std::vector<std::uint8_t> again(guard.snapshot_bound());
  const Result<std::size_t> written = guard.snapshot(again.data(), again.size(), key);
  IKEGUARD_FUZZ_CHECK(written.ok());
  again.resize(written.value());
  ManualClock later(TimePoint(5000s));
  auto second = NegotiationGuard::create(policy, later, transport);
  IKEGUARD_FUZZ_CHECK(second.ok());
  const Result<RestoreReport> back = (*second)->restore(again.data(), again.size(), key);
  IKEGUARD_FUZZ_CHECK(back.ok());
  IKEGUARD_FUZZ_CHECK(back->dropped == 0);
  IKEGUARD_FUZZ_CHECK(back->restored <= report.restored);  // idle entries are not written

  const auto longest = std::chrono::duration_cast<Duration>(policy.max_window * (1.0 + policy.jitter));
  for (std::size_t i = 0; i < back->restored; ++i) {
    const std::uint8_t* record = again.data() + format::header_size + i * format::record_size;
    PeerKey peer;
    if (record[0] == 4) {
      peer = PeerKey::ipv4({record[16], record[17], record[18], record[19]},
                           static_cast<std::uint16_t>((record[4] << 8) | record[5]));
    } else {
      std::array<std::uint8_t, 16> address{};
      std::copy(record + 16, record + 32, address.begin());
      peer = PeerKey::ipv6(address, static_cast<std::uint16_t>((record[4] << 8) | record[5]));
    }
    peer = peer.with_scope((std::uint32_t{record[12]} << 24) | (std::uint32_t{record[13]} << 16) |
                           (std::uint32_t{record[14]} << 8) | record[15]);
    const Decision in = (*second)->on_inbound_proposal(peer);
    if (in.verdict == Verdict::hold) IKEGUARD_FUZZ_CHECK(in.until <= later.now() + longest);
    const Decision out = (*second)->on_outbound_proposal(peer);
    if (out.verdict == Verdict::hold) IKEGUARD_FUZZ_CHECK(out.until <= later.now() + longest);
    (*second)->on_local_rejection(peer, npc);
    (*second)->on_inbound_error(peer, npc, Origin::answers_request);
    (*second)->on_established(peer);
  }
  return 0;
}
