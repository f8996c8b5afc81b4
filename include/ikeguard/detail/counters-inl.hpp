// SPDX-License-Identifier: MIT
// The per-CPU counter stripes' bodies (counters.hpp).
#pragma once

#include <ikeguard/detail/counters.hpp>
#include <ikeguard/export.hpp>

#include <algorithm>
#include <new>
#include <thread>

namespace ikeguard::detail {

IKEGUARD_INLINE std::uint32_t Stripes::count_for_machine() noexcept {
  std::uint32_t stripes = 1;
  while (stripes < std::min(std::thread::hardware_concurrency(), 1024u)) stripes *= 2;
  return stripes;
}

IKEGUARD_INLINE void Stripes::build(void* memory) noexcept {
  const std::uint32_t count = count_for_machine();
  sets_ = static_cast<CounterSet*>(memory);
  for (std::uint32_t i = 0; i < count; ++i) new (&sets_[i]) CounterSet();  // no array cookie
  mask_ = count - 1;
}

IKEGUARD_INLINE Stripes::~Stripes() {
  if (sets_ == nullptr) return;
  for (std::uint32_t i = 0; i <= mask_; ++i) sets_[i].~CounterSet();
}

}  // namespace ikeguard::detail
