// SPDX-License-Identifier: MIT
// A small table (max_peers 1..64) under many peers: eviction's documented rules as properties.
// Around every call that may insert, the whole table is listed (list_peers, every entry), so
// what a call pushed out is exactly what is missing afterwards. Checked:
//   - peers_tracked never exceeds capacity, nor falls below the entries listed;
//   - a call that records something new about its peer leaves the peer in the table;
//   - only a call that inserts removes another entry, at most one, and only from a full table;
//   - `evictions` counts exactly the pushed-out entries that held a window, strikes or a pending
//     confirmation (not one that only remembered the last proposal sent);
//   - docs/behaviour.md: candidates are the first 32 occupied slots from the newcomer's home slot
//     (all of a small shard). A table of at most 32 entries is one shard (the table is sharded
//     only by the thousand), so there every entry is a candidate, and the one pushed out comes
//     first in the documented order: no open window before an open one, then the fewest strikes
//     of both directions. So a repeat offender is never evicted while a one-off entry remains.
//     In a larger table, at least 32 entries (the candidates) do not come before the one pushed
//     out.
// Time stays far below forgive_after (24 h), so no strike lapses unseen.
#include <ikeguard/ikeguard.hpp>

#include "fuzz_check.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

using namespace ikeguard;
using namespace std::chrono_literals;

namespace {

constexpr std::uint32_t peer_count = 200;

PeerKey nth(std::uint32_t i) {
  return PeerKey::ipv4({10, 1, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)});
}

std::uint32_t index_of(const PeerKey& key) {
  const auto& a = key.address();
  return (std::uint32_t{a[2]} << 8) | a[3];
}

struct Entry {
  std::uint32_t peer = 0;
  bool open = false;
  std::uint32_t strikes = 0;
  bool remembers_failure = false;  // a window, strikes or a pending confirmation
};

std::vector<HeldPeer> page;

std::vector<Entry> listing(const NegotiationGuard& guard, TimePoint now) {
  page.resize(std::max<std::size_t>(guard.list_capacity(), guard.policy().max_peers) + 1);
  std::vector<Entry> out;
  PeerCursor cursor{};
  for (;;) {
    const Result<PeerPage> listed = guard.list_peers(page.data(), page.size(), cursor, false);
    IKEGUARD_FUZZ_CHECK(listed.ok());
    for (std::size_t i = 0; i < listed.value().count; ++i) {
      const HeldPeer& p = page[i];
      Entry e;
      e.peer = index_of(p.peer);
      const bool sender_open = p.sender_until != TimePoint{} && now < p.sender_until;
      const bool receiver_open = p.receiver_until != TimePoint{} && now < p.receiver_until;
      e.open = sender_open || receiver_open;
      e.strikes = p.sender_strikes + p.receiver_strikes;
      e.remembers_failure = e.open || e.strikes > 0 || p.confirmations > 0;
      out.push_back(e);
    }
    if (listed.value().complete) break;
    cursor = listed.value().next;
  }
  return out;
}

const Entry* find(const std::vector<Entry>& entries, std::uint32_t peer) {
  for (const Entry& e : entries) {
    if (e.peer == peer) return &e;
  }
  return nullptr;
}

// The first in the documented order: no open window first, then the fewest strikes.
bool comes_before(const Entry& a, const Entry& b) {
  if (a.open != b.open) return !a.open;
  return a.strikes < b.strikes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  Policy policy;
  policy.max_peers = in.ConsumeIntegralInRange<std::size_t>(1, 64);
  policy.jitter = in.ConsumeBool() ? 0.0 : 0.1;
  policy.unauthenticated_confirmations = in.ConsumeIntegralInRange<unsigned>(1, 3);
  policy.keep_addresses = true;  // list_peers names the peers
  ManualClock clock;
  NullTransport transport;
  auto made = NegotiationGuard::create(policy, clock, transport);
  IKEGUARD_FUZZ_CHECK(made.ok());
  NegotiationGuard& guard = *made.value();
  const bool every_entry_a_candidate = policy.max_peers <= 32;

  Notice refusal;
  refusal.type = notify_v2::no_proposal_chosen;
  Notice transient;
  transient.type = notify_v2::temporary_failure;

  int operations = 0;
  while (in.remaining_bytes() > 0 && operations++ < 300) {
    // A few repeat offenders among many one-off peers.
    const std::uint32_t peer = in.ConsumeBool() ? in.ConsumeIntegralInRange<std::uint32_t>(0, 3)
                                                : in.ConsumeIntegralInRange<std::uint32_t>(0, peer_count - 1);
    const PeerKey key = nth(peer);
    const TimePoint now = clock.now();
    const std::vector<Entry> before = listing(guard, now);
    const Stats stats_before = guard.stats();
    const std::uint64_t evictions_before = stats_before.evictions;
    // Entries not listed remember nothing: they come first in the eviction order.
    const bool unlisted_before = stats_before.peers_tracked > before.size();
    const Fingerprint fp = Fingerprint::from_value(0x0101010101010101u * (1 + (peer & 3)));
    bool records = false;  // the call records something new about `peer`: it must be kept
    bool may_insert = false;
    const int op = in.ConsumeIntegralInRange<int>(0, 7);
    if (std::getenv("FUZZ_EVICTION_TRACE") != nullptr) {
      std::fprintf(stderr, "op %d peer %u at %" PRId64 " ns\n", op, peer,
                   static_cast<std::int64_t>(now.time_since_epoch().count()));
    }
    switch (op) {
      case 0:
        records = guard.on_outbound_proposal(key, fp).verdict == Verdict::proceed;
        may_insert = true;
        break;
      case 1:
        guard.on_outbound_proposal(key);
        break;
      case 2:
        guard.on_inbound_proposal(key, fp);
        break;
      case 3:
        guard.on_local_rejection(key, refusal, fp);
        records = may_insert = true;
        break;
      case 4: {
        const auto origin = in.ConsumeBool() ? Origin::authenticated : Origin::answers_request;
        guard.on_inbound_error(key, in.ConsumeBool() ? refusal : transient, origin);
        records = may_insert = true;
        break;
      }
      case 5:
        guard.on_established(key);
        break;
      default:
        clock.advance(std::chrono::milliseconds(in.ConsumeIntegralInRange<int>(0, 90'000)));
        break;
    }

    const Stats stats = guard.stats();
    const std::vector<Entry> after = listing(guard, clock.now());
    IKEGUARD_FUZZ_CHECK(stats.capacity == policy.max_peers);
    IKEGUARD_FUZZ_CHECK(stats.peers_tracked <= stats.capacity);
    // list_peers() leaves out an entry with nothing left to remember (a lapsed hold, no
    // strikes), which stays counted until it is next looked at.
    IKEGUARD_FUZZ_CHECK(after.size() <= stats.peers_tracked);
    if (records) IKEGUARD_FUZZ_CHECK(find(after, peer) != nullptr);

    if (clock.now() != now) continue;  // an advance: lapsed holds drop out of the listing
    std::vector<Entry> gone;
    for (const Entry& e : before) {
      if (e.peer != peer && find(after, e.peer) == nullptr) gone.push_back(e);
    }
    const std::uint64_t counted = stats.evictions - evictions_before;
    if (!may_insert) {
      IKEGUARD_FUZZ_CHECK(gone.empty());  // only an insertion pushes another entry out
      IKEGUARD_FUZZ_CHECK(counted == 0);
      continue;
    }
    IKEGUARD_FUZZ_CHECK(gone.size() <= 1);
    if (gone.empty()) {
      IKEGUARD_FUZZ_CHECK(counted == 0);
      continue;
    }
    const Entry& evicted = gone.front();
    // Only a full table evicts, to make room for a newcomer.
    IKEGUARD_FUZZ_CHECK(stats_before.peers_tracked == policy.max_peers);
    IKEGUARD_FUZZ_CHECK(find(before, peer) == nullptr);
    IKEGUARD_FUZZ_CHECK(counted == (evicted.remembers_failure ? 1u : 0u));
    if (!every_entry_a_candidate) {
      // The candidates are 32 occupied slots, the entry pushed out first in order among them:
      // at least 32 entries (itself included) do not come before it.
      std::size_t not_before = 0;
      for (const Entry& other : before) not_before += comes_before(other, evicted) ? 0 : 1;
      // Entries not listed (nothing left to remember) tie with an evicted entry that had no
      // window and no strikes, and may have been among its candidates; one with a window or
      // strikes had none of them as candidates, or one of those would have gone instead.
      if (!evicted.open && evicted.strikes == 0) {
        not_before += static_cast<std::size_t>(stats_before.peers_tracked) - before.size();
      }
      IKEGUARD_FUZZ_CHECK(not_before >= 32);
      continue;
    }
    if (unlisted_before) IKEGUARD_FUZZ_CHECK(!evicted.open && evicted.strikes == 0);
    for (const Entry& other : before) {
      if (other.peer == evicted.peer) continue;
      if (comes_before(other, evicted)) {
        std::fprintf(stderr,
                     "evicted peer %u (open %d, strikes %u) while peer %u (open %d, strikes %u) "
                     "came first, in a table of %zu\n",
                     evicted.peer, evicted.open, evicted.strikes, other.peer, other.open,
                     other.strikes, policy.max_peers);
        IKEGUARD_FUZZ_CHECK(!comes_before(other, evicted));
      }
    }
  }
  return 0;
}
