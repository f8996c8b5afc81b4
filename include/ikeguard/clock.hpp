// SPDX-License-Identifier: MIT
// Where the guard reads time. One virtual call per decision; every implementation is thread-safe.
#pragma once

#include <ikeguard/export.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace ikeguard {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::steady_clock::time_point;

/// A monotonic time source. `now()` must never go backwards and must be safe to call from any
/// thread at once. The guard only compares and subtracts TimePoints read from one Clock.
class IKEGUARD_API Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const noexcept = 0;
};

/// The default: std::chrono::steady_clock.
class IKEGUARD_API SteadyClock final : public Clock {
 public:
  TimePoint now() const noexcept override { return std::chrono::steady_clock::now(); }
};

/// Time that moves only when told to: for tests and simulations. Starts at `start`
/// (the clock's epoch by default). Thread-safe; `advance` with a negative duration and
/// `set` to an earlier point are the caller's responsibility (a Clock must not go back).
class IKEGUARD_API ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{}) noexcept
      : ns_(start.time_since_epoch().count()) {}

  TimePoint now() const noexcept override {
    return TimePoint(Duration(ns_.load(std::memory_order_acquire)));
  }
  void advance(Duration by) noexcept { ns_.fetch_add(by.count(), std::memory_order_acq_rel); }
  void set(TimePoint to) noexcept {
    ns_.store(to.time_since_epoch().count(), std::memory_order_release);
  }

 private:
  std::atomic<Duration::rep> ns_;
};

/// A firmware tick counter: a 32-bit millisecond count that wraps every 49.7 days, extended
/// here to a 64-bit monotonic time. `read(context)` returns the raw counter. Correct across
/// any number of wraps provided `now()` is called more often than every 2^31 ms (24.8 days),
/// which a guard in use does on every call. A reading older than the latest one seen (a
/// racing thread) returns the latest time, so time never goes back.
class IKEGUARD_API TickClock final : public Clock {
 public:
  using ReadTicks = std::uint32_t (*)(void* context) noexcept;

  TickClock(ReadTicks read, void* context) noexcept
      : read_(read), context_(context), extended_(read(context)) {}

  TimePoint now() const noexcept override {
    const std::uint32_t raw = read_(context_);
    std::uint64_t seen = extended_.load(std::memory_order_acquire);
    for (;;) {
      const auto delta = static_cast<std::int32_t>(raw - static_cast<std::uint32_t>(seen));
      if (delta <= 0) return to_time_point(seen);
      const std::uint64_t next = seen + static_cast<std::uint64_t>(delta);
      if (extended_.compare_exchange_weak(seen, next, std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
        return to_time_point(next);
      }
    }
  }

 private:
  static TimePoint to_time_point(std::uint64_t ms) noexcept {
    return TimePoint(std::chrono::duration_cast<Duration>(
        std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(ms))));
  }

  ReadTicks read_;
  void* context_;
  mutable std::atomic<std::uint64_t> extended_;  // milliseconds; low 32 bits = last raw tick
};

}  // namespace ikeguard
