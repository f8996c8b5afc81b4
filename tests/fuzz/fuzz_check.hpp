// SPDX-License-Identifier: MIT
// Invariant checks for the fuzz targets: a failed one aborts, which libFuzzer reports as a crash.
#pragma once

#include <ikeguard/wire/bytes.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#define IKEGUARD_FUZZ_CHECK(condition)                                                   \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)

namespace ikeguard::fuzz {

/// `part` lies within `whole` (an empty part anywhere in or at the end of it).
inline bool within(wire::Bytes whole, wire::Bytes part) noexcept {
  if (part.size == 0) return true;
  if (part.data == nullptr || whole.data == nullptr) return false;
  const auto begin = reinterpret_cast<std::uintptr_t>(whole.data);
  const auto at = reinterpret_cast<std::uintptr_t>(part.data);
  return at >= begin && at - begin <= whole.size && part.size <= whole.size - (at - begin);
}

inline bool same_bytes(wire::Bytes a, wire::Bytes b) noexcept {
  return a.size == b.size && (a.size == 0 || std::memcmp(a.data, b.data, a.size) == 0);
}

inline std::uint16_t load_u16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

}  // namespace ikeguard::fuzz
