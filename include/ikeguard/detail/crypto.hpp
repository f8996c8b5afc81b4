// SPDX-License-Identifier: MIT
// The guard's keyed functions: the hash that names a peer in the table (SipHash-1-3, inline,
// siphash.hpp), and everything it asks of libsodium: its random keys, fingerprints, random words
// for jitter, the snapshot's and cluster records' MACs and key pad. libsodium's are declarations
// only: sodium.h is included by the bodies (crypto-inl.hpp), which the library compiles once, so
// it never reaches a daemon's headers. Internal.
#pragma once

#include <ikeguard/export.hpp>
#include <ikeguard/peer_key.hpp>
#include <ikeguard/snapshot.hpp>
#include <ikeguard/detail/siphash.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ikeguard::detail {

// The guard's secrets, random per guard (or adopted from a snapshot).
struct GuardKeys {
  unsigned char peer[16];         // SipHash-1-3 key for peer keys
  unsigned char fingerprint[32];  // BLAKE2b key for fingerprints
};
constexpr std::size_t guard_keys_size = sizeof(GuardKeys::peer) + sizeof(GuardKeys::fingerprint);

// libsodium is ready; false when it cannot start.
IKEGUARD_INLINE bool crypto_start() noexcept;
IKEGUARD_INLINE void random_bytes(void* out, std::size_t size) noexcept;
IKEGUARD_INLINE void wipe(void* data, std::size_t size) noexcept;
IKEGUARD_INLINE void generate(GuardKeys& keys) noexcept;

// The peer's name in the table: SipHash-1-3 under the guard's key of the peer's bytes, never 0
// (0 marks an empty slot). The bytes are the PeerKey's 24 for IPv6, and for IPv4, whose address
// bytes after the fourth are always zero, 12: the 4 address bytes, then the key's last 8 (scope,
// port, family, a zero), so the common case hashes two words instead of four. The lengths differ,
// and SipHash hashes the length, so the two kinds of keys never share an input. Inline: it is on
// every call's path.
IKEGUARD_ALWAYS_INLINE std::uint64_t peer_hash(const GuardKeys& keys, const PeerKey& peer) noexcept {
  static_assert(sizeof(PeerKey) == 24, "16 address bytes, then scope, port, family and a zero");
  const auto* bytes = reinterpret_cast<const unsigned char*>(&peer);
  // The message's words read straight from the key, never through a buffer: a word assembled in
  // memory from two stores would wait for both to land before it could be read back.
  const std::uint64_t end = load_le64(bytes + 16);  // scope, port, family, a zero
  std::uint64_t value;
  if (peer.family() == PeerKey::Family::ipv4) {
    const std::uint64_t first = std::uint64_t{load_le32(bytes)} | (end << 32);  // address, scope
    value = siphash_words<1, 3>(sip_key(keys.peer), &first, 1, (end >> 32) | (std::uint64_t{12} << 56));
  } else {
    const std::uint64_t words[3] = {load_le64(bytes), load_le64(bytes + 8), end};
    value = siphash_words<1, 3>(sip_key(keys.peer), words, 3, std::uint64_t{24} << 56);
  }
  return value == 0 ? 1 : value;
}
// 64 bits of the keyed BLAKE2b digest of `data`, never 0 (0 means unknown).
IKEGUARD_INLINE std::uint64_t fingerprint_of(const GuardKeys& keys, const void* data,
                                             std::size_t size) noexcept;

// Uniform 32-bit words, drawn from the system's generator a block at a time.
class RandomWords {
 public:
  IKEGUARD_INLINE std::uint32_t next() noexcept;

 private:
  std::uint32_t words_[16] = {};
  std::uint32_t left_ = 0;
};

// Snapshots (snapshot.hpp has the format): a MAC over `size` bytes under a key derived from
// the daemon's, and the pad that hides the guard's keys in the header. The pad is XORed in and
// out, so one function does both.
constexpr std::size_t snapshot_nonce_size = 16;
IKEGUARD_INLINE void snapshot_mac(const SnapshotKey& key, const std::uint8_t* data, std::size_t size,
                                  std::uint8_t* mac) noexcept;
IKEGUARD_INLINE bool snapshot_mac_verifies(const SnapshotKey& key, const std::uint8_t* data,
                                           std::size_t size, const std::uint8_t* mac) noexcept;
IKEGUARD_INLINE void snapshot_key_pad(const SnapshotKey& key, const std::uint8_t* nonce,
                                      const std::uint8_t* in, std::uint8_t* out) noexcept;

// Cluster records (cluster.hpp): two keys derived from the cluster's, one for the records' MAC,
// one for fingerprints, so every node keys its fingerprints alike; and the MAC itself.
constexpr std::size_t cluster_mac_size = 32;
IKEGUARD_INLINE void cluster_subkeys(const unsigned char* cluster_key, unsigned char* mac_key,
                                     unsigned char* fingerprint_key) noexcept;
IKEGUARD_INLINE void cluster_mac(const unsigned char* mac_key, const std::uint8_t* data,
                                 std::size_t size, std::uint8_t* mac) noexcept;
IKEGUARD_INLINE bool cluster_mac_verifies(const unsigned char* mac_key, const std::uint8_t* data,
                                          std::size_t size, const std::uint8_t* mac) noexcept;

}  // namespace ikeguard::detail

#ifdef IKEGUARD_HEADER_ONLY
#include <ikeguard/detail/crypto-inl.hpp>
#endif
