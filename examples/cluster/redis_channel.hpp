// SPDX-License-Identifier: MIT
// One node's end of the cluster channel: its guard's events go out as records over Redis, and
// the other nodes' records come in and are applied to its guard.
//
//   deciding thread ── on_event ──> [queue, drops oldest] ──> sender thread ──> SET key PX, PUBLISH
//   subscriber thread <── SUBSCRIBE ikeguard:records (and, on every (re)subscription, a resync:
//                         SCAN the keys, GET and PTTL each) ──> guard.apply(record, age)
//
// The sink never blocks on the network: it encodes, and holds a lock only to copy 96 bytes
// into the queue. When Redis is down the guard goes on deciding alone; the sender reconnects
// with backoff, stores and publishes again this node's records still in force, and the
// subscriber resubscribes and resyncs. docs/cluster.md describes the layout in Redis.
#pragma once

#include "own_windows.hpp"
#include "record_fields.hpp"
#include "record_queue.hpp"

#include <ikeguard/ikeguard.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace ikeguard_cluster {

struct ChannelConfig {
  std::string host = "127.0.0.1";
  int port = 6379;
  /// Where every record is published; every node subscribes to it.
  std::string channel = "ikeguard:records";
  /// Keys are <key_prefix><node>:<peer>:<sender|receiver|both>.
  std::string key_prefix = "ikeguard:window:";
  /// Connecting, and every command: no thread waits longer on Redis.
  std::chrono::milliseconds io_timeout{250};
  /// Between attempts to reconnect: doubles from min to max.
  std::chrono::milliseconds backoff_min{50};
  std::chrono::milliseconds backoff_max{2000};
  /// The sender PINGs after this long without a record, to notice a lost Redis (and store this
  /// node's records again once it is back) even when the node has nothing to say.
  std::chrono::milliseconds keepalive{1000};
  /// How long a tombstone (a lift, or a clear) stays stored: at least the longest window it may
  /// have to cancel (Policy::max_window). The same on every node: a resync's age of a tombstone
  /// is this minus its PTTL.
  std::chrono::milliseconds tombstone_ttl{std::chrono::seconds(300)};
  /// Records waiting for the sender; the oldest is dropped when full.
  std::size_t queue_capacity = 1024;
  /// This node's records in force kept for re-storing after an outage (own_windows.hpp).
  std::size_t own_capacity = 4096;
};

// X(name, help): the channel's counters, one list for the struct and the printer.
#define IKEGUARD_CLUSTER_COUNTERS(X)                                                    \
  X(queued, "records the sink queued")                                                  \
  X(dropped_oldest, "records the full queue dropped (the oldest)")                      \
  X(untracked, "records the full own-record table could not keep for re-storing")      \
  X(published, "records published")                                                     \
  X(stored, "records stored under their key")                                           \
  X(expired_unsent, "records whose window ended before they could be sent")             \
  X(send_failures, "commands that failed (Redis down, timeout): the sender reconnects") \
  X(sender_connects, "connections the sender made (the first and every reconnection)")  \
  X(restored, "own records stored again after a (re)connection")                        \
  X(subscriptions, "subscriptions made, each followed by a resync")                     \
  X(resync_records, "records read from the keys by resyncs")                            \
  X(received, "messages received on the channel")                                       \
  X(applied_changed, "records apply() accepted and that changed the table")             \
  X(applied_unchanged, "records apply() accepted that changed nothing")                 \
  X(applied_own, "this node's own records, ignored")                                    \
  X(refused, "records apply() refused (refused_by has the reasons)")

struct ChannelStats {
#define IKEGUARD_CLUSTER_MEMBER(name, help) std::uint64_t name = 0;
  IKEGUARD_CLUSTER_COUNTERS(IKEGUARD_CLUSTER_MEMBER)
#undef IKEGUARD_CLUSTER_MEMBER
  /// Refusals by ikeguard::Errc value.
  std::array<std::uint64_t, 64> refused_by{};
};

/// The sink a guard is given (NegotiationGuard::Extras::events) and the threads that carry its
/// records. Make it, make the guard with it and the same ClusterNode, then start(guard).
class RedisChannel final : public ikeguard::EventSink {
 public:
  /// Allocates the queue and the own-record table; connects nothing yet.
  RedisChannel(ikeguard::ClusterNode& node, ChannelConfig config);
  ~RedisChannel() override;
  RedisChannel(const RedisChannel&) = delete;
  RedisChannel& operator=(const RedisChannel&) = delete;

  /// Starts the sender and subscriber threads; `guard` must outlive stop().
  void start(ikeguard::NegotiationGuard& guard);
  /// Stops both threads (each notices within its poll interval or io_timeout). Idempotent.
  void stop();

  /// Encodes the event (nothing when the node does not share it) and queues it. Never blocks on
  /// the network, never allocates.
  void on_event(const ikeguard::Event& event) noexcept override;

  ChannelStats stats() const noexcept;
  /// The subscriber is subscribed and its resync done: it sees every record from now on.
  bool in_sync() const noexcept { return in_sync_.load(std::memory_order_acquire); }
  /// The sender holds a live connection.
  bool sender_connected() const noexcept {
    return sender_connected_.load(std::memory_order_acquire);
  }
  const ChannelConfig& config() const noexcept { return config_; }

 private:
  struct Counters {
#define IKEGUARD_CLUSTER_ATOMIC(name, help) std::atomic<std::uint64_t> name{0};
    IKEGUARD_CLUSTER_COUNTERS(IKEGUARD_CLUSTER_ATOMIC)
#undef IKEGUARD_CLUSTER_ATOMIC
    std::array<std::atomic<std::uint64_t>, 64> refused_by{};
  };

  void run_sender();
  void run_subscriber();
  // Sleeps `delay` unless stop() is called first; false once stopping.
  bool pause(std::chrono::milliseconds delay);
  void count_apply(const ikeguard::Result<ikeguard::Applied>& result) noexcept;

  ikeguard::ClusterNode& node_;
  ChannelConfig config_;
  ikeguard::NegotiationGuard* guard_ = nullptr;

  mutable std::mutex lock_;  // queue_ and own_
  std::condition_variable wake_;
  RecordQueue queue_;
  OwnWindows own_;
  bool stopping_ = false;

  Counters counters_;
  std::atomic<bool> in_sync_{false};
  std::atomic<bool> sender_connected_{false};
  std::thread sender_;
  std::thread subscriber_;

};

/// A sequence number above every one this node id used before: the wall clock in microseconds.
std::uint64_t first_sequence_from_clock() noexcept;

}  // namespace ikeguard_cluster
