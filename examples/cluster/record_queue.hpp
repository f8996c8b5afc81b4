// SPDX-License-Identifier: MIT
// The records a node's sink has made and its sender thread has not sent yet: a ring of fixed
// capacity that drops the oldest when full, so the deciding thread never waits for the network.
// Not synchronised: RedisChannel holds its lock around every call.
#pragma once

#include "record_fields.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ikeguard_cluster {

using RealClock = std::chrono::steady_clock;

struct QueuedRecord {
  Record bytes{};
  /// When the sink made it: the sender subtracts the time spent queued from its remaining time.
  RealClock::time_point made{};
};

class RecordQueue {
 public:
  /// Allocates the ring once; push and pop allocate nothing.
  explicit RecordQueue(std::size_t capacity) : ring_(capacity == 0 ? 1 : capacity) {}

  /// Appends `record`; when full, the oldest is overwritten and false is returned.
  bool push(const QueuedRecord& record) noexcept {
    bool kept_all = true;
    if (size_ == ring_.size()) {
      head_ = (head_ + 1) % ring_.size();
      --size_;
      kept_all = false;
    }
    ring_[(head_ + size_) % ring_.size()] = record;
    ++size_;
    return kept_all;
  }

  /// Takes the oldest into `out`; false when empty.
  bool pop(QueuedRecord& out) noexcept {
    if (size_ == 0) return false;
    out = ring_[head_];
    head_ = (head_ + 1) % ring_.size();
    --size_;
    return true;
  }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

 private:
  std::vector<QueuedRecord> ring_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace ikeguard_cluster
