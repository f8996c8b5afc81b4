// SPDX-License-Identifier: MIT
// Seals a snapshot as include/ikeguard/snapshot.hpp documents it, independently of the
// library: for tests and the fuzz target that edit snapshots on purpose and need a valid MAC.
#pragma once

#include <ikeguard/snapshot.hpp>

#include <sodium.h>

#include <vector>

namespace ikeguard::test {

/// Recomputes the last snapshot_format::mac_size bytes of `bytes`: crypto_auth over the rest,
/// under BLAKE2b-256 keyed with `key` over "ikeguard snapshot mac key".
inline void seal_snapshot(std::vector<unsigned char>& bytes, const SnapshotKey& key) {
  static constexpr char label[] = "ikeguard snapshot mac key";
  unsigned char mac_key[crypto_auth_KEYBYTES];
  crypto_generichash(mac_key, sizeof mac_key, reinterpret_cast<const unsigned char*>(label),
                     sizeof label - 1, key.bytes.data(), key.bytes.size());
  const std::size_t body = bytes.size() - snapshot_format::mac_size;
  crypto_auth(bytes.data() + body, bytes.data(), body, mac_key);
}

}  // namespace ikeguard::test
