// SPDX-License-Identifier: MIT
// SipHash (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012), computed inline:
// the peer table's keyed hash. Internal.
//
// The table names a peer by SipHash-1-3 of its 24-byte PeerKey under a random 128-bit key per
// guard: one compression round per 8-byte word and three to finish, where SipHash-2-4 has two and
// four. It stays a keyed function whose outputs an attacker who does not know the key cannot
// predict, so spoofed source addresses cannot be chosen to collide in one slot (the flooding
// attack SipHash was designed against); the rounds it drops are the margin against
// cryptanalysis of SipHash as a MAC, which this use does not need: nothing is authenticated
// with it and its outputs are never shown. Rust's standard HashMap and CPython's str hash use
// the same variant for the same purpose. On a peer's fixed-size words the whole function unrolls into
// rounds of adds, rotations and XORs on registers: no call, no loop, no table.
#pragma once

#include <ikeguard/export.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ikeguard::detail {

struct SipKey {
  std::uint64_t k0 = 0;
  std::uint64_t k1 = 0;
};

// Little-endian, as the specification reads its key and message words, on any host.
inline std::uint64_t load_le64(const unsigned char* p) noexcept {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
#else
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
#endif
}

inline std::uint32_t load_le32(const unsigned char* p) noexcept {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
#else
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
#endif
}

inline SipKey sip_key(const unsigned char (&bytes)[16]) noexcept {
  return {load_le64(bytes), load_le64(bytes + 8)};
}

namespace sip {
constexpr std::uint64_t rotl(std::uint64_t x, int b) noexcept { return (x << b) | (x >> (64 - b)); }

struct State {
  std::uint64_t v0, v1, v2, v3;
  explicit State(const SipKey& key) noexcept
      : v0(key.k0 ^ 0x736f6d6570736575ull), v1(key.k1 ^ 0x646f72616e646f6dull),
        v2(key.k0 ^ 0x6c7967656e657261ull), v3(key.k1 ^ 0x7465646279746573ull) {}
  void round() noexcept {
    v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
    v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
  }
  template <int Rounds>
  void absorb(std::uint64_t m) noexcept {
    v3 ^= m;
    for (int i = 0; i < Rounds; ++i) round();
    v0 ^= m;
  }
  // The last word (the remaining bytes, the length's low byte at the top), then the output.
  template <int CompressionRounds, int FinalizationRounds>
  std::uint64_t finish(std::uint64_t last) noexcept {
    absorb<CompressionRounds>(last);
    v2 ^= 0xff;
    for (int i = 0; i < FinalizationRounds; ++i) round();
    return v0 ^ v1 ^ v2 ^ v3;
  }
};
}  // namespace sip

// SipHash-c-d of a message given as words: `count` whole little-endian 8-byte words, then
// `last`, the remaining bytes with the message length's low byte at the top (how the
// specification ends every message). For callers that hold their message in registers.
template <int CompressionRounds, int FinalizationRounds>
IKEGUARD_ALWAYS_INLINE std::uint64_t siphash_words(const SipKey& key, const std::uint64_t* words,
                                                   std::size_t count, std::uint64_t last) noexcept {
  sip::State s(key);
  for (std::size_t i = 0; i < count; ++i) s.absorb<CompressionRounds>(words[i]);
  return s.finish<CompressionRounds, FinalizationRounds>(last);
}

// The last word of a message of `size` bytes whose final size % 8 bytes start at `tail`.
inline std::uint64_t sip_last_word(const unsigned char* tail, std::size_t size) noexcept {
  std::uint64_t last = static_cast<std::uint64_t>(size & 0xff) << 56;
  for (std::size_t i = size % 8; i > 0; --i) last |= std::uint64_t{tail[i - 1]} << (8 * (i - 1));
  return last;
}

// SipHash-c-d of `size` bytes, as the specification defines it (its reference vectors are in
// the tests).
template <int CompressionRounds, int FinalizationRounds>
inline std::uint64_t siphash(const SipKey& key, const unsigned char* in, std::size_t size) noexcept {
  sip::State s(key);
  const std::size_t words = size / 8;
  for (std::size_t i = 0; i < words; ++i) s.absorb<CompressionRounds>(load_le64(in + 8 * i));
  return s.finish<CompressionRounds, FinalizationRounds>(sip_last_word(in + 8 * words, size));
}

}  // namespace ikeguard::detail
