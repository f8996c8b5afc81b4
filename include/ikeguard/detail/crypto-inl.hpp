// SPDX-License-Identifier: MIT
// The bodies of crypto.hpp: the guard's only use of libsodium.
#pragma once

#include <ikeguard/detail/crypto.hpp>

#include <sodium.h>

#include <cstring>

namespace ikeguard::detail {

static_assert(crypto_auth_BYTES == snapshot_format::mac_size);
static_assert(crypto_auth_KEYBYTES == sizeof(SnapshotKey::bytes));

IKEGUARD_INLINE bool crypto_start() noexcept { return sodium_init() >= 0; }

IKEGUARD_INLINE void random_bytes(void* out, std::size_t size) noexcept { randombytes_buf(out, size); }

IKEGUARD_INLINE void wipe(void* data, std::size_t size) noexcept { sodium_memzero(data, size); }

IKEGUARD_INLINE void generate(GuardKeys& keys) noexcept {
  randombytes_buf(keys.peer, sizeof keys.peer);
  randombytes_buf(keys.fingerprint, sizeof keys.fingerprint);
}

IKEGUARD_INLINE std::uint64_t fingerprint_of(const GuardKeys& keys, const void* data,
                                             std::size_t size) noexcept {
  unsigned char digest[crypto_generichash_BYTES_MIN];  // 16: the shortest BLAKE2b libsodium makes
  crypto_generichash(digest, sizeof digest, static_cast<const unsigned char*>(data), size,
                     keys.fingerprint, sizeof keys.fingerprint);
  std::uint64_t value;
  std::memcpy(&value, digest, sizeof value);
  return value == 0 ? 1 : value;
}

IKEGUARD_INLINE std::uint32_t RandomWords::next() noexcept {
  if (left_ == 0) {
    randombytes_buf(words_, sizeof words_);
    left_ = 16;
  }
  return words_[--left_];
}

namespace snapshot_keys {
// Two keys from the daemon's one, each BLAKE2b keyed with it over a label: the MAC key, and a
// pad per nonce that hides the guard's keys.
inline void derive(const SnapshotKey& key, const char* label, const std::uint8_t* nonce,
                   unsigned char* out, std::size_t out_size) noexcept {
  const std::size_t label_size = std::strlen(label);
  unsigned char message[64];
  std::memcpy(message, label, label_size);
  const std::size_t nonce_size = nonce != nullptr ? snapshot_nonce_size : 0;
  if (nonce != nullptr) std::memcpy(message + label_size, nonce, nonce_size);
  crypto_generichash(out, out_size, message, label_size + nonce_size, key.bytes.data(),
                     key.bytes.size());
}
constexpr const char* mac_label = "ikeguard snapshot mac key";
constexpr const char* pad_label = "ikeguard snapshot key pad";
}  // namespace snapshot_keys

IKEGUARD_INLINE void snapshot_mac(const SnapshotKey& key, const std::uint8_t* data, std::size_t size,
                                  std::uint8_t* mac) noexcept {
  unsigned char mac_key[crypto_auth_KEYBYTES];
  snapshot_keys::derive(key, snapshot_keys::mac_label, nullptr, mac_key, sizeof mac_key);
  crypto_auth(mac, data, size, mac_key);
  sodium_memzero(mac_key, sizeof mac_key);
}

IKEGUARD_INLINE bool snapshot_mac_verifies(const SnapshotKey& key, const std::uint8_t* data,
                                           std::size_t size, const std::uint8_t* mac) noexcept {
  unsigned char mac_key[crypto_auth_KEYBYTES];
  snapshot_keys::derive(key, snapshot_keys::mac_label, nullptr, mac_key, sizeof mac_key);
  const bool verified = crypto_auth_verify(mac, data, size, mac_key) == 0;
  sodium_memzero(mac_key, sizeof mac_key);
  return verified;
}

IKEGUARD_INLINE void snapshot_key_pad(const SnapshotKey& key, const std::uint8_t* nonce,
                                      const std::uint8_t* in, std::uint8_t* out) noexcept {
  unsigned char pad[guard_keys_size];
  snapshot_keys::derive(key, snapshot_keys::pad_label, nonce, pad, sizeof pad);
  for (std::size_t i = 0; i < sizeof pad; ++i) out[i] = static_cast<std::uint8_t>(in[i] ^ pad[i]);
  sodium_memzero(pad, sizeof pad);
}

IKEGUARD_INLINE void cluster_subkeys(const unsigned char* cluster_key, unsigned char* mac_key,
                                     unsigned char* fingerprint_key) noexcept {
  static_assert(crypto_kdf_KEYBYTES == 32 && crypto_auth_KEYBYTES == 32);
  static constexpr char context[crypto_kdf_CONTEXTBYTES] = {'i', 'k', 'e', 'g', 'c', 'l', 's', 't'};
  crypto_kdf_derive_from_key(mac_key, crypto_auth_KEYBYTES, 1, context, cluster_key);
  crypto_kdf_derive_from_key(fingerprint_key, sizeof(GuardKeys::fingerprint), 2, context, cluster_key);
}

IKEGUARD_INLINE void cluster_mac(const unsigned char* mac_key, const std::uint8_t* data,
                                 std::size_t size, std::uint8_t* mac) noexcept {
  static_assert(crypto_auth_BYTES == cluster_mac_size);
  crypto_auth(mac, data, size, mac_key);
}

IKEGUARD_INLINE bool cluster_mac_verifies(const unsigned char* mac_key, const std::uint8_t* data,
                                          std::size_t size, const std::uint8_t* mac) noexcept {
  return crypto_auth_verify(mac, data, size, mac_key) == 0;
}

}  // namespace ikeguard::detail
