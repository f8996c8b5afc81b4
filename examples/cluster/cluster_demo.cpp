// SPDX-License-Identifier: MIT
//
// Three guarded nodes of one VPN cluster sharing their windows over Redis: a redis-server of its
// own on a free loopback port, nodes A and B from the start, C joining later.
//
//   1. A rejects a peer's proposal (NO_PROPOSAL_CHOSEN): its receiver window opens and the
//      record goes out on the channel.
//   2. B, which never saw that peer fail, drops the peer's next proposal: the measured time
//      from A's rejection to B's first hold is printed.
//   3. C starts afterwards and learns the open window from the stored keys (its resync).
//
// Usage: cluster_demo [--nodes A,B,C] [--key FILE]
//   --nodes  the three non-zero node ids (default 1,2,3)
//   --key    a 32-byte cluster key file (default: a random key for this run)
// Exits non-zero unless B and C both hold the peer.
#include "cluster_member.hpp"
#include "redis_server.hpp"

#include <ikeguard/ikeguard.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
using ikeguard_cluster::ClusterMember;
using Clock = std::chrono::steady_clock;

bool parse_nodes(const char* text, std::uint64_t (&ids)[3]) {
  char* end = nullptr;
  for (int i = 0; i < 3; ++i) {
    ids[i] = std::strtoull(text, &end, 10);
    if (end == text || ids[i] == 0) return false;
    if (i < 2) {
      if (*end != ',') return false;
      text = end + 1;
    }
  }
  return *end == '\0' && ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2];
}

// Polls `member`'s guard with the peer's next proposal until it holds, or `timeout` passes.
bool holds(ClusterMember& member, const ikeguard::PeerKey& peer) {
  return member.guard().on_inbound_proposal(peer).verdict == ikeguard::Verdict::hold;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t ids[3] = {1, 2, 3};
  ikeguard::ClusterKey key;
  bool have_key = false;
  for (int i = 1; i < argc; ++i) {
    std::string error;
    if (std::strcmp(argv[i], "--nodes") == 0 && i + 1 < argc) {
      if (!parse_nodes(argv[++i], ids)) {
        std::fprintf(stderr, "--nodes: three distinct non-zero ids, A,B,C\n");
        return 2;
      }
    } else if (std::strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
      if (!ikeguard_cluster::read_cluster_key(argv[++i], key, error)) {
        std::fprintf(stderr, "--key %s\n", error.c_str());
        return 2;
      }
      have_key = true;
    } else {
      std::fprintf(stderr, "usage: %s [--nodes A,B,C] [--key FILE]\n", argv[0]);
      return 2;
    }
  }
  if (!have_key && !ikeguard_cluster::random_cluster_key(key)) {
    std::perror("getrandom");
    return 1;
  }

  ikeguard_cluster::RedisServer redis;
  if (!redis.running()) {
    std::fprintf(stderr, "redis-server: %s\n", redis.error().c_str());
    return 1;
  }
  std::printf("redis-server on 127.0.0.1:%d (its own, temporary)\n", redis.port());

  ikeguard_cluster::ChannelConfig config;
  config.port = redis.port();
  ikeguard::SteadyClock clock;
  auto a = std::make_unique<ClusterMember>(ids[0], key, config, clock);
  auto b = std::make_unique<ClusterMember>(ids[1], key, config, clock);
  if (!a->ok() || !b->ok() || !a->wait_in_sync(5s) || !b->wait_in_sync(5s)) {
    std::fprintf(stderr, "nodes A and B did not connect to Redis\n");
    return 1;
  }

  const ikeguard::PeerKey peer = *ikeguard::PeerKey::parse("198.51.100.7");
  const bool b_before = holds(*b, peer);
  ikeguard::Notice notice;
  notice.type = ikeguard::notify_v2::no_proposal_chosen;
  const auto rejected_at = Clock::now();
  const ikeguard::Decision rejection = a->guard().on_local_rejection(peer, notice);
  bool b_after = false;
  while (!(b_after = holds(*b, peer)) && Clock::now() - rejected_at < 5s) {
    std::this_thread::sleep_for(100us);
  }
  const auto latency = std::chrono::duration<double, std::milli>(Clock::now() - rejected_at);

  const auto c_started = Clock::now();
  auto c = std::make_unique<ClusterMember>(ids[2], key, config, clock);
  const bool c_synced = c->ok() && c->wait_in_sync(5s);
  const auto c_sync = std::chrono::duration<double, std::milli>(Clock::now() - c_started);
  const bool c_after = c_synced && holds(*c, peer);

  char text[ikeguard::PeerKey::max_text_length];
  const std::size_t length = peer.to_chars(text);
  std::printf("\npeer %.*s proposes NO_PROPOSAL_CHOSEN-worthy suites to every node\n\n",
              static_cast<int>(length), text);
  std::printf("%-6s %-8s %-42s %-9s %-8s %-8s\n", "node", "id", "what happened", "decision",
              "notices", "applied");
  auto row = [](const char* name, ClusterMember& member, const char* what, bool hold) {
    const ikeguard::Stats stats = member.guard().stats();
    std::printf("%-6s %-8llu %-42s %-9s %-8llu %-8llu\n", name,
                static_cast<unsigned long long>(member.node().id()), what,
                hold ? "hold" : "proceed", static_cast<unsigned long long>(member.notices_sent()),
                static_cast<unsigned long long>(stats.records_applied));
  };
  row("A", *a, "rejected it: NO_PROPOSAL_CHOSEN, T1 opened",
      rejection.verdict == ikeguard::Verdict::hold);
  std::printf("%-6s %-8s %-42s %-9s\n", "B", "", "before A's rejection", b_before ? "hold" : "proceed");
  row("B", *b, "next proposal, after A's record", b_after);
  row("C", *c, "joined later, resynced from the keys", c_after);
  std::printf("\nA's rejection to B's first hold: %.2f ms; C's start to in sync: %.2f ms\n",
              latency.count(), c_sync.count());

  c.reset();
  b.reset();
  a.reset();
  redis.kill();
  std::printf("redis-server stopped\n");
  const bool ok = !b_before && b_after && c_after;
  if (!ok) std::fprintf(stderr, "FAILED: B and C should both hold the peer\n");
  return ok ? 0 : 1;
}
