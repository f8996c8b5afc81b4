// SPDX-License-Identifier: MIT
// One node of a cluster as a daemon would assemble it: its ClusterNode, its RedisChannel, and a
// guard given both. Used by the demo and the tests; a daemon writes the same few lines.
#pragma once

#include "redis_channel.hpp"

#include <ikeguard/ikeguard.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace ikeguard_cluster {

/// Counts the notices a guard would send; a daemon's Transport sends them.
class CountingTransport final : public ikeguard::Transport {
 public:
  void send_notice(const ikeguard::PeerKey&, const ikeguard::Notice&) override {
    sent.fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<std::uint64_t> sent{0};
};

class ClusterMember {
 public:
  /// `node_id` non-zero; records numbered from the wall clock (first_sequence_from_clock). On a
  /// policy the guard refuses, ok() is false and error() says why. Threads start at once.
  ClusterMember(std::uint64_t node_id, const ikeguard::ClusterKey& key, ChannelConfig config,
                ikeguard::Clock& clock, const ikeguard::Policy& policy = {})
      : node_(node_id, key, first_sequence_from_clock()), channel_(node_, std::move(config)) {
    ikeguard::NegotiationGuard::Extras extras;
    extras.events = &channel_;
    extras.cluster = &node_;
    auto created = ikeguard::NegotiationGuard::create(policy, clock, transport_, extras);
    if (!created) {
      error_ = created.error();
      return;
    }
    guard_ = std::move(created.value());
    channel_.start(*guard_);
  }
  ~ClusterMember() { channel_.stop(); }
  ClusterMember(const ClusterMember&) = delete;
  ClusterMember& operator=(const ClusterMember&) = delete;

  bool ok() const noexcept { return guard_ != nullptr; }
  ikeguard::Errc error() const noexcept { return error_; }
  ikeguard::NegotiationGuard& guard() noexcept { return *guard_; }
  RedisChannel& channel() noexcept { return channel_; }
  ikeguard::ClusterNode& node() noexcept { return node_; }
  std::uint64_t notices_sent() const noexcept {
    return transport_.sent.load(std::memory_order_relaxed);
  }

  /// Polls until the subscriber is subscribed and resynced, or `timeout` passes.
  bool wait_in_sync(std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!channel_.in_sync()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

 private:
  ikeguard::ClusterNode node_;
  RedisChannel channel_;
  CountingTransport transport_;
  std::unique_ptr<ikeguard::NegotiationGuard> guard_;
  ikeguard::Errc error_ = ikeguard::Errc::ok;
};

/// Reads a cluster key: a file of exactly 32 bytes. False, with `error`, otherwise.
bool read_cluster_key(const std::string& path, ikeguard::ClusterKey& key, std::string& error);
/// 32 random bytes from the system (getrandom): for a demo, where no key was distributed.
bool random_cluster_key(ikeguard::ClusterKey& key);

}  // namespace ikeguard_cluster
