// SPDX-License-Identifier: MIT
#include <ikeguard/wire/key_exchange.hpp>

#include <sodium.h>

namespace ikeguard::wire {

Result<X25519KeyPair> X25519KeyPair::generate() noexcept {
  if (sodium_init() < 0) return Errc::crypto_unavailable;
  X25519KeyPair pair;
  randombytes_buf(pair.secret_.data(), pair.secret_.size());
  if (crypto_scalarmult_curve25519_base(pair.public_.data(), pair.secret_.data()) != 0) {
    return Errc::crypto_unavailable;
  }
  return pair;
}

X25519KeyPair::~X25519KeyPair() { sodium_memzero(secret_.data(), secret_.size()); }

Errc X25519KeyPair::shared_secret(Bytes peer_public, std::array<std::uint8_t, 32>& out) const noexcept {
  if (peer_public.size != crypto_scalarmult_curve25519_BYTES) return Errc::wire_malformed_payload;
  // libsodium refuses low-order points (the result would be all zeros).
  if (crypto_scalarmult_curve25519(out.data(), secret_.data(), peer_public.data) != 0) {
    return Errc::wire_malformed_payload;
  }
  return Errc::ok;
}

Errc random_bytes(MutableBytes out) noexcept {
  if (sodium_init() < 0) return Errc::crypto_unavailable;
  randombytes_buf(out.data, out.size);
  return Errc::ok;
}

}  // namespace ikeguard::wire
