// SPDX-License-Identifier: MIT
// Network byte order, one byte at a time: no unaligned multi-byte loads or stores. Internal to
// the wire codec and the snapshot format; every caller has checked the bounds before calling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ikeguard::wire::detail {

inline std::uint16_t load_u16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

inline std::uint32_t load_u32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

inline std::uint64_t load_u64(const std::uint8_t* p) noexcept {
  return (std::uint64_t{load_u32(p)} << 32) | std::uint64_t{load_u32(p + 4)};
}

inline void store_u16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

inline void store_u32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

inline void store_u64(std::uint8_t* p, std::uint64_t v) noexcept {
  store_u32(p, static_cast<std::uint32_t>(v >> 32));
  store_u32(p + 4, static_cast<std::uint32_t>(v));
}

/// Copies `n` bytes; a no-op for n == 0 (where `from` may be null).
inline void copy_bytes(std::uint8_t* to, const std::uint8_t* from, std::size_t n) noexcept {
  if (n != 0) std::memcpy(to, from, n);
}

/// A view that claims bytes must point at them.
inline bool valid_view(const std::uint8_t* data, std::size_t size) noexcept {
  return size == 0 || data != nullptr;
}

}  // namespace ikeguard::wire::detail
