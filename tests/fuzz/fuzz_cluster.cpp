// SPDX-License-Identifier: MIT
// NegotiationGuard::apply on arbitrary cluster records. The first byte picks how the rest is used:
//   even: chunks of 96 bytes as they come, and a last short one (almost always refused: the MAC
//         must fail cleanly and change nothing);
//   odd:  chunks of 66 bytes: a 2-byte age in milliseconds and the 64 signed bytes of a record,
//         which this target signs with the cluster key, so the checks behind the MAC are fuzzed.
// Then: a refusal changes nothing; nothing accepted makes a window longer than the policy allows
// or a table larger than its capacity; and the accepted records, applied in reverse order to a
// second guard, leave the same table (apply is commutative), each origin's sequence numbers
// being used once as a real node uses them.
#include <ikeguard/guard.hpp>

#include "fuzz_check.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <memory>
#include <set>
#include <utility>
#include <vector>

using namespace ikeguard;

namespace {

using namespace std::chrono_literals;
using Record = std::array<std::uint8_t, cluster_format::record_size>;

class NoTransport final : public Transport {
 public:
  void send_notice(const PeerKey&, const Notice&) override {}
};

ClusterKey fuzz_key() {
  ClusterKey key;
  for (std::size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<unsigned char>(i * 5 + 1);
  return key;
}

// Signs 64 bytes as encode() does: HMAC-SHA-512-256 under the key derived for records.
Record signed_record(const std::uint8_t* body, const ClusterKey& key) {
  Record record{};
  std::copy(body, body + 64, record.begin());
  unsigned char mac_key[crypto_auth_KEYBYTES];
  static const char context[crypto_kdf_CONTEXTBYTES] = {'i', 'k', 'e', 'g', 'c', 'l', 's', 't'};
  crypto_kdf_derive_from_key(mac_key, sizeof mac_key, 1, context, key.bytes.data());
  crypto_auth(record.data() + 64, record.data(), 64, mac_key);
  return record;
}

constexpr std::size_t capacity = 64;  // more than the records of one input: nothing is evicted
constexpr std::uint64_t own_id = 1;

struct Guarded {
  Guarded(const Policy& policy, const ClusterKey& key) : clock(TimePoint(1000s)), node(own_id, key, 1) {
    GuardExtras extras;
    extras.cluster = &node;
    auto made = NegotiationGuard::create(policy, clock, transport, extras);
    IKEGUARD_FUZZ_CHECK(made.ok());
    guard = std::move(made.value());
  }
  ManualClock clock;
  NoTransport transport;
  ClusterNode node;
  std::unique_ptr<NegotiationGuard> guard;
};

std::vector<HeldPeer> table_of(const NegotiationGuard& guard) {
  std::vector<HeldPeer> out(guard.list_capacity());
  auto listed = guard.list_peers(out.data(), out.size(), {}, /*held_only=*/false);
  IKEGUARD_FUZZ_CHECK(listed.ok() && listed.value().complete);
  out.resize(listed.value().count);
  const auto key = [](const HeldPeer& p) {
    return std::make_tuple(p.peer.family(), p.peer.address(), p.peer.port(), p.peer.scope());
  };
  std::sort(out.begin(), out.end(), [&](const HeldPeer& a, const HeldPeer& b) { return key(a) < key(b); });
  return out;
}

bool same(const HeldPeer& a, const HeldPeer& b) {
  return a.peer == b.peer && a.sender_until == b.sender_until && a.receiver_until == b.receiver_until &&
         a.sender_strikes == b.sender_strikes && a.receiver_strikes == b.receiver_strikes &&
         a.sender_fingerprint == b.sender_fingerprint && a.receiver_fingerprint == b.receiver_fingerprint &&
         a.sender_retry_only == b.sender_retry_only && a.confirmations == b.confirmations;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ClusterKey key = fuzz_key();
  if (size == 0) return 0;
  const bool sign = (data[0] & 1) != 0;
  ++data;
  --size;

  Policy policy;
  policy.max_peers = capacity;
  policy.jitter = 0.0;  // both guards' own windows alike
  Guarded first(policy, key);
  NegotiationGuard& guard = *first.guard;
  // A window of its own, to see that a refusal changes nothing.
  const auto own = *PeerKey::parse("203.0.113.9");
  const Notice npc{IkeVersion::v2, 14, 1, 0, 0};
  const TimePoint own_until = guard.on_local_rejection(own, npc).until;
  const TimePoint now = first.clock.now();
  const Duration longest = std::chrono::duration_cast<Duration>(policy.max_window * (1.0 + policy.jitter)) + 1ms;

  std::vector<std::pair<Record, Duration>> accepted;
  std::set<std::pair<std::uint64_t, std::uint64_t>> origins;
  const std::size_t chunk = sign ? 66 : cluster_format::record_size;
  // At most 16 records: fewer peers than the table holds and than a shard remembers lifts, so
  // neither eviction nor a forgotten lift makes the order matter.
  for (std::size_t at = 0, n = 0; at < size && n < 16; at += chunk, ++n) {
    const std::size_t length = std::min(chunk, size - at);
    Record record{};
    Duration age{};
    std::size_t record_size = length;
    if (sign) {
      if (length < 66) break;
      age = std::chrono::milliseconds((std::uint32_t{data[at]} << 8) | data[at + 1]);
      record = signed_record(data + at + 2, key);
      record_size = record.size();
    } else {
      std::copy(data + at, data + at + length, record.begin());
    }
    const Stats before = guard.stats();
    const std::vector<HeldPeer> table_before = table_of(guard);
    auto origin = ClusterNode::view(record.data(), record_size);
    const bool reused = origin.ok() && origins.count({origin.value().node, origin.value().sequence}) != 0;
    const Result<Applied> applied = guard.apply(record.data(), record_size, age);
    const Stats after = guard.stats();
    if (!applied.ok()) {
      IKEGUARD_FUZZ_CHECK(after.records_refused == before.records_refused + 1);
      const std::vector<HeldPeer> table_after = table_of(guard);
      IKEGUARD_FUZZ_CHECK(table_after.size() == table_before.size());
      for (std::size_t i = 0; i < table_after.size(); ++i) IKEGUARD_FUZZ_CHECK(same(table_after[i], table_before[i]));
      continue;
    }
    IKEGUARD_FUZZ_CHECK(!reused);  // one record per (node, sequence): a repeat is a replay
    if (applied.value() == Applied::own) {
      IKEGUARD_FUZZ_CHECK(after.records_applied == before.records_applied);
      continue;
    }
    IKEGUARD_FUZZ_CHECK(after.records_applied == before.records_applied + 1);
    origins.insert({origin.value().node, origin.value().sequence});
    accepted.emplace_back(record, age);
  }
  // Whatever was applied: within capacity, no window past what the policy allows.
  const std::vector<HeldPeer> forward = table_of(guard);
  IKEGUARD_FUZZ_CHECK(guard.stats().peers_tracked <= capacity);
  for (const HeldPeer& p : forward) {
    IKEGUARD_FUZZ_CHECK(p.sender_until <= now + longest);
    IKEGUARD_FUZZ_CHECK(p.receiver_until <= now + longest);
  }
  const Decision mine = guard.on_inbound_proposal(own);
  IKEGUARD_FUZZ_CHECK(mine.until >= own_until || mine.verdict == Verdict::proceed);

  // The same records in reverse order, on a guard holding the same window of its own; unless an
  // origin's accepted numbers lie further apart than the replay window, which would refuse the
  // older ones seen after the newer.
  for (const auto& [node, sequence] : origins) {
    // The last of this node's numbers (node + 1 would wrap for the largest id).
    const auto newest = origins.upper_bound({node, std::numeric_limits<std::uint64_t>::max()});
    if (std::prev(newest)->second - sequence >= cluster_format::replay_window) return 0;
  }
  Guarded second(policy, key);
  second.guard->on_local_rejection(own, npc);
  for (auto it = accepted.rbegin(); it != accepted.rend(); ++it) {
    IKEGUARD_FUZZ_CHECK(second.guard->apply(it->first.data(), it->first.size(), it->second).ok());
  }
  const std::vector<HeldPeer> backward = table_of(*second.guard);
  IKEGUARD_FUZZ_CHECK(backward.size() == forward.size());
  for (std::size_t i = 0; i < forward.size(); ++i) IKEGUARD_FUZZ_CHECK(same(forward[i], backward[i]));
  return 0;
}
