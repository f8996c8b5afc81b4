// SPDX-License-Identifier: MIT
// What the cluster tests share: a redis-server of their own, nodes configured to notice an
// outage quickly, polling with a deadline, a raw publisher, and a guard's table as a list.
#pragma once

#include "cluster_member.hpp"
#include "redis_server.hpp"

#include <ikeguard/ikeguard.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace cluster_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Millis = std::chrono::duration<double, std::milli>;

/// The channel's settings for a test: the server's port, reconnection within 100 ms.
inline ikeguard_cluster::ChannelConfig config_for(const ikeguard_cluster::RedisServer& redis) {
  ikeguard_cluster::ChannelConfig config;
  config.port = redis.port();
  config.io_timeout = 200ms;
  config.backoff_min = 10ms;
  config.backoff_max = 100ms;
  config.keepalive = 100ms;
  return config;
}

inline ikeguard::ClusterKey key_of(unsigned char fill) {
  ikeguard::ClusterKey key;
  key.bytes.fill(fill);
  return key;
}

/// The i-th peer, 10.x.y.z.
inline ikeguard::PeerKey nth(std::uint32_t i) {
  return ikeguard::PeerKey::ipv4({10, static_cast<std::uint8_t>(i >> 16),
                                  static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)});
}

inline ikeguard::Notice no_proposal_chosen() {
  ikeguard::Notice notice;
  notice.type = ikeguard::notify_v2::no_proposal_chosen;
  notice.initiator_spi = 0x0123456789abcdefULL;
  return notice;
}

/// Polls `done()` until it is true or `timeout` passes; the time it took, or a negative value.
template <class Done>
Millis wait_until(Done&& done, std::chrono::milliseconds timeout) {
  const auto start = Clock::now();
  for (;;) {
    if (done()) return Clock::now() - start;
    if (Clock::now() - start > timeout) return Millis(-1);
    std::this_thread::sleep_for(50us);
  }
}

inline bool holds_inbound(ikeguard::NegotiationGuard& guard, const ikeguard::PeerKey& peer) {
  return guard.on_inbound_proposal(peer).verdict == ikeguard::Verdict::hold;
}

/// Every entry of the table (held_only false), in the order of their peers' bytes.
inline std::vector<ikeguard::HeldPeer> table_of(const ikeguard::NegotiationGuard& guard) {
  std::vector<ikeguard::HeldPeer> all;
  std::vector<ikeguard::HeldPeer> page(guard.list_capacity());
  ikeguard::PeerCursor cursor;
  for (;;) {
    auto listed = guard.list_peers(page.data(), page.size(), cursor, false);
    REQUIRE(listed.ok());
    all.insert(all.end(), page.begin(), page.begin() + static_cast<std::ptrdiff_t>(listed->count));
    if (listed->complete) break;
    cursor = listed->next;
  }
  std::sort(all.begin(), all.end(), [](const ikeguard::HeldPeer& a, const ikeguard::HeldPeer& b) {
    return std::memcmp(&a.peer, &b.peer, sizeof a.peer) < 0;
  });
  return all;
}

/// Publishes raw bytes on the records channel, as anyone with access to Redis could.
void publish_raw(int port, const std::string& channel, const void* bytes, std::size_t size);

}  // namespace cluster_test
