// SPDX-License-Identifier: MIT
// Views of wire bytes: C++17 has no std::span.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ikeguard::wire {

/// A read-only view of bytes owned by someone else (the received datagram, usually).
struct Bytes {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;

  constexpr bool empty() const noexcept { return size == 0; }
  constexpr const std::uint8_t* begin() const noexcept { return data; }
  constexpr const std::uint8_t* end() const noexcept { return data + size; }
};

/// A caller's output buffer; builders write into it and never beyond `size`.
struct MutableBytes {
  std::uint8_t* data = nullptr;
  std::size_t size = 0;
};

}  // namespace ikeguard::wire
