// SPDX-License-Identifier: MIT
// The proposal calls answer without a lock (a seqlock reader) when the answer changes nothing.
// Whatever they answer must be a state the peer was really in: never a window that was never
// opened, never a strike count that never existed, even while writers move entries around the
// table. Run under TSan in CI.
#include "support.hpp"

#include <array>
#include <atomic>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

using namespace ikeguard;
using namespace ikeguard::test;

namespace {

// Watched peers; the writer acts on peer i only at whole milliseconds t with t % peers == i, and
// every window length is a multiple of `peers` milliseconds, so every end it opens for peer i is
// i modulo `peers`: a window read from another peer's entry (a torn read, a moved slot) shows.
constexpr std::uint32_t peers = 16;
constexpr std::uint32_t writer_steps = peers * 500;  // 8 s of the writer's clock

enum class Side : std::uint8_t { inbound, outbound };

// One answer: a state of one peer in one direction (`until` only for a hold).
struct Seen {
  std::uint32_t peer;
  Side direction;
  Verdict verdict;
  std::uint32_t strikes;
  TimePoint until;
  bool operator<(const Seen& o) const {
    return std::tie(peer, direction, verdict, strikes, until) <
           std::tie(o.peer, o.direction, o.verdict, o.strikes, o.until);
  }
};

Seen seen(std::uint32_t peer, Side direction, const Decision& d) {
  return {peer, direction, d.verdict, d.strikes, d.verdict == Verdict::hold ? d.until : TimePoint{}};
}

Seen seen(std::uint32_t peer, const ErrorOutcome& o) {
  const bool holds = o.action == ErrorAction::hold || o.action == ErrorAction::retry_later;
  return {peer, Side::outbound, holds ? Verdict::hold : Verdict::proceed, o.strikes,
          holds ? o.until : TimePoint{}};
}

PeerKey watched(std::uint32_t i) { return PeerKey::ipv4({198, 51, 100, static_cast<std::uint8_t>(i)}); }
PeerKey churned(std::uint32_t i) { return PeerKey::ipv4({203, 0, 113, static_cast<std::uint8_t>(i)}); }

}  // namespace

TEST_CASE("lock-free proposal answers are states that existed, while writers move entries") {
  Policy policy = exact_policy(24);  // one shard of 32 slots: inserts and erases shift entries
  policy.receiver_window = 80ms;     // multiples of `peers` ms, escalating to caps of 800 ms
  policy.sender_window = 160ms;      // (receiver) and 1600 ms (sender)
  policy.max_window = 1600ms;
  policy.retry_delay = 32ms;
  ManualClock clock;  // advanced by the writer alone
  NullTransport transport;
  const auto owned = make_guard(policy, clock, transport);
  NegotiationGuard& guard = *owned;
  const Notice npc = notice(notify_v2::no_proposal_chosen);
  const Notice transient = notice(notify_v2::temporary_failure);

  // Every thread starts at once, so the readers run while the writers change the table.
  constexpr int reader_count = 2;
  std::atomic<int> waiting{2 + reader_count};
  const auto start_together = [&waiting] {
    waiting.fetch_sub(1, std::memory_order_acq_rel);
    while (waiting.load(std::memory_order_acquire) > 0) std::this_thread::yield();
  };
  std::atomic<bool> done{false};
  // Rounds each reader has completed: the writer lets every reader finish one round of reads
  // per round of its own, so reads interleave with writes however fast the build.
  std::array<std::atomic<std::uint32_t>, reader_count> reader_rounds{};
  const auto readers_caught_up = [&reader_rounds](std::uint32_t round) {
    for (const auto& rounds : reader_rounds) {
      if (rounds.load(std::memory_order_acquire) < round) return false;
    }
    return true;
  };
  std::vector<Seen> existed;  // every answer the writer got: the states that existed
  existed.reserve(writer_steps);
  std::thread writer([&] {
    start_together();
    for (std::uint32_t step = 1; step <= writer_steps; ++step) {
      clock.advance(1ms);
      const std::uint32_t i = step % peers;
      const std::uint32_t round = step / peers;
      if (i == 0) {
        while (!readers_caught_up(round)) std::this_thread::yield();
      }
      const PeerKey p = watched(i);
      const Fingerprint fresh = Fingerprint::from_value(1 + round);  // a new configuration
      const Fingerprint same = Fingerprint::from_value(1 + round / 4 * 4);
      switch (round % 8) {
        case 0: existed.push_back(seen(i, Side::inbound, guard.on_local_rejection(p, npc, fresh))); break;
        case 1: existed.push_back(seen(i, Side::inbound, guard.on_local_rejection(p, npc, same))); break;
        case 2: existed.push_back(seen(i, guard.on_inbound_error(p, npc, Origin::authenticated))); break;
        case 3: existed.push_back(seen(i, Side::outbound, guard.on_outbound_proposal(p, fresh))); break;
        case 4: existed.push_back(seen(i, guard.on_inbound_error(p, transient, Origin::authenticated))); break;
        case 5: existed.push_back(seen(i, guard.on_inbound_error(p, npc, Origin::answers_request))); break;
        case 6: existed.push_back(seen(i, Side::inbound, guard.on_inbound_proposal(p, fresh))); break;
        default:
          if (round % 32 == 7) {
            guard.on_established(p);  // both directions back to no window, no strikes
          } else {
            existed.push_back(seen(i, Side::inbound, guard.on_local_rejection(p, npc, fresh)));
          }
      }
    }
    done.store(true, std::memory_order_release);
  });
  // Inserts, evictions and erases of other peers in the same shard, so the watched entries move.
  std::thread churn([&] {
    start_together();
    for (std::uint32_t j = 0; !done.load(std::memory_order_acquire); ++j) {
      const PeerKey c = churned(j % 24);
      if (j % 5 == 0) {
        guard.on_local_rejection(c, npc, Fingerprint::from_value(j));
      } else {
        guard.on_outbound_proposal(c, Fingerprint::from_value(j + 1));
      }
      if (j % 3 == 0) guard.on_established(churned((j * 7) % 24));
    }
  });
  // Readers: distinct answers only, so memory stays small however long they run.
  std::array<std::set<Seen>, reader_count> observed;
  std::vector<std::thread> readers;
  for (int r = 0; r < reader_count; ++r) {
    readers.emplace_back([&, r] {
      start_together();
      const auto mine = static_cast<std::size_t>(r);
      for (std::uint32_t round = 1; !done.load(std::memory_order_acquire); ++round) {
        for (std::uint32_t i = 0; i < peers; ++i) {
          observed[mine].insert(seen(i, Side::inbound, guard.on_inbound_proposal(watched(i))));
          observed[mine].insert(seen(i, Side::outbound, guard.on_outbound_proposal(watched(i))));
        }
        reader_rounds[mine].store(round, std::memory_order_release);
      }
    });
  }
  writer.join();
  churn.join();
  for (auto& t : readers) t.join();

  // What existed: every answer the writer got, and no window with no strikes (a peer's start,
  // and after a success or an eviction).
  std::set<Seen> holds;
  std::set<std::tuple<std::uint32_t, Side, std::uint32_t>> strikes;
  for (std::uint32_t i = 0; i < peers; ++i) {
    strikes.insert({i, Side::inbound, 0});
    strikes.insert({i, Side::outbound, 0});
  }
  for (const Seen& s : existed) {
    strikes.insert({s.peer, s.direction, s.strikes});
    if (s.verdict == Verdict::hold) holds.insert(s);
  }
  std::size_t held = 0, proceeded = 0;
  for (const auto& distinct : observed) {
    for (const Seen& s : distinct) {
      CAPTURE(s.peer, static_cast<int>(s.direction), s.strikes);
      if (s.verdict == Verdict::hold) {
        ++held;
        CAPTURE(s.until);
        CHECK(holds.count(s) == 1);
      } else {
        ++proceeded;
        CHECK(strikes.count({s.peer, s.direction, s.strikes}) == 1);
      }
    }
  }
  // The writer's own answers include holds, so windows were open while the readers ran.
  INFO("distinct answers read: " << held << " holds, " << proceeded << " proceeds");
  CHECK(holds.size() > peers);
  CHECK(held + proceeded > 0);
}
