// SPDX-License-Identifier: MIT
// Key exchange material for the IKE_SA_INIT requests the codec builds (RFC 7296 3.4).
#pragma once

#include <ikeguard/error.hpp>
#include <ikeguard/export.hpp>
#include <ikeguard/wire/bytes.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace ikeguard::wire {

/// The length in bytes of a group's public value (RFC 7296 3.4; RFC 5903 for ECP, RFC 8031 for
/// Curve25519), or 0 for a group the codec does not know.
constexpr std::size_t key_exchange_length(std::uint16_t group) noexcept {
  switch (group) {
    case 2: return 128;   // modp1024
    case 14: return 256;  // modp2048
    case 15: return 384;  // modp3072
    case 19: return 64;   // ecp256: x || y
    case 20: return 96;   // ecp384
    case 31: return 32;   // curve25519
    default: return 0;
  }
}

/// An X25519 key pair (RFC 8031): the public value goes into the KE payload. The secret is
/// wiped when the object is destroyed.
class IKEGUARD_API X25519KeyPair {
 public:
  static constexpr std::uint16_t group = 31;

  /// A fresh random key pair (libsodium crypto_scalarmult_curve25519_base).
  static Result<X25519KeyPair> generate() noexcept;
  ~X25519KeyPair();
  X25519KeyPair(const X25519KeyPair&) = default;
  X25519KeyPair& operator=(const X25519KeyPair&) = default;

  Bytes public_value() const noexcept { return {public_.data(), public_.size()}; }

  /// The shared secret with a peer's 32-byte public value; an error for a wrong length or a
  /// low-order point (an all-zero result).
  Errc shared_secret(Bytes peer_public, std::array<std::uint8_t, 32>& out) const noexcept;

 private:
  X25519KeyPair() noexcept = default;
  std::array<std::uint8_t, 32> secret_{};
  std::array<std::uint8_t, 32> public_{};
};

/// Fills `out` with random bytes (libsodium randombytes_buf): nonces (RFC 7296 3.9 wants at
/// least 16, and half the PRF key size) and SPIs. Errc::crypto_unavailable, and `out`
/// untouched, when libsodium cannot start.
IKEGUARD_API Errc random_bytes(MutableBytes out) noexcept;

}  // namespace ikeguard::wire
