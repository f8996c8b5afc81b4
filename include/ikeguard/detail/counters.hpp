// SPDX-License-Identifier: MIT
// The guard's counters, generated from IKEGUARD_COUNTERS (counters.h): a set per shard, written
// under its lock, and a set per CPU (a stripe) for the answers given without a lock. Internal.
#pragma once

#include <ikeguard/counters.h>
#include <ikeguard/export.hpp>

#if defined(__linux__) && defined(__GLIBC__) && (defined(__x86_64__) || defined(__aarch64__)) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#include <sys/rseq.h>
#define IKEGUARD_RSEQ_CPU 1
#else
#define IKEGUARD_RSEQ_CPU 0
#endif
#if defined(__linux__)
#include <sched.h>
#endif

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ikeguard::detail {

#define IKEGUARD_COUNTER_ENUM(name, help) name,
#define IKEGUARD_GAUGE_NONE(name, help)
enum class Count : std::uint8_t { IKEGUARD_COUNTERS(IKEGUARD_COUNTER_ENUM, IKEGUARD_GAUGE_NONE) };
#undef IKEGUARD_COUNTER_ENUM

#define IKEGUARD_COUNTER_ONE(name, help) +1
constexpr std::size_t count_kinds = 0 IKEGUARD_COUNTERS(IKEGUARD_COUNTER_ONE, IKEGUARD_GAUGE_NONE);
#undef IKEGUARD_COUNTER_ONE
#undef IKEGUARD_GAUGE_NONE

// Read without a lock by stats(); written with relaxed atomics.
struct alignas(64) CounterSet {
  std::atomic<std::uint64_t> values[count_kinds] = {};

  // Under the shard's lock: the only writer, so no read-modify-write is needed.
  void bump(Count c) noexcept {
    auto& v = values[static_cast<std::size_t>(c)];
    v.store(v.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // From any thread (a stripe is shared by the threads on one CPU, and a thread may move).
  void add(Count c, std::uint64_t n = 1) noexcept {
    values[static_cast<std::size_t>(c)].fetch_add(n, std::memory_order_relaxed);
  }
  std::uint64_t get(Count c) const noexcept {
    return values[static_cast<std::size_t>(c)].load(std::memory_order_relaxed);
  }
};

// The CPU this thread runs on, 0 where the system cannot say: glibc's sched_getcpu().
inline std::uint32_t current_cpu_from_system() noexcept {
#if defined(__linux__)
  const int cpu = sched_getcpu();
  return cpu < 0 ? 0u : static_cast<std::uint32_t>(cpu);
#else
  return 0;
#endif
}

// The same, read where the kernel keeps it up to date for this thread (its rseq area, which glibc
// 2.35 and later registers for every thread): two loads, where sched_getcpu() is a call into libc
// that reads the same field. Every lock-free answer pays for it.
IKEGUARD_ALWAYS_INLINE std::uint32_t current_cpu() noexcept {
#if IKEGUARD_RSEQ_CPU
  if (__rseq_size != 0) {
    const char* thread;
#if defined(__x86_64__)
    __asm__("mov %%fs:0, %0" : "=r"(thread));  // the thread pointer: its TCB's first word
#else
    thread = static_cast<const char*>(__builtin_thread_pointer());
#endif
    const auto* area = reinterpret_cast<const struct rseq*>(thread + __rseq_offset);
    return __atomic_load_n(&area->cpu_id, __ATOMIC_RELAXED);
  }
#endif
  return current_cpu_from_system();
}

// One CounterSet per CPU (a power of two of them), so two threads answering at once write
// different cache lines.
class Stripes {
 public:
  // How many for this machine, and the bytes they take (asks the system: not for a hot path).
  static std::uint32_t count_for_machine() noexcept;
  static std::size_t bytes_for_machine() noexcept { return count_for_machine() * sizeof(CounterSet); }
  // The bytes these stripes hold.
  std::size_t bytes() const noexcept { return (std::size_t{mask_} + 1) * sizeof(CounterSet); }

  // In `memory` of bytes(), 64-aligned, owned by the caller.
  void build(void* memory) noexcept;
  ~Stripes();

  CounterSet& here() noexcept { return sets_[current_cpu() & mask_]; }
  template <class F>
  void for_each(F&& f) const noexcept {
    for (std::uint32_t i = 0; i <= mask_; ++i) f(sets_[i]);
  }

 private:
  CounterSet* sets_ = nullptr;
  std::uint32_t mask_ = 0;
};

}  // namespace ikeguard::detail
