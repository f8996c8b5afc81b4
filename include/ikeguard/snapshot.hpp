// SPDX-License-Identifier: MIT
// Saving the guard's windows and strikes across a daemon restart.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace ikeguard {

/// The daemon's secret for snapshot MACs (libsodium crypto_auth: HMAC-SHA-512-256, 32-byte key).
/// Keep it where the daemon keeps its other secrets; a snapshot restores only under the key it
/// was written with.
struct SnapshotKey {
  std::array<unsigned char, 32> bytes{};
};

/// What restore() did.
struct RestoreReport {
  std::size_t restored = 0;  ///< entries now in the table
  std::size_t dropped = 0;   ///< entries left out: beyond max_peers (those ending soonest go first)
};

/// The snapshot format, version 1. Every integer is in network byte order (big-endian).
///
///   header   8  magic "IKEGSNAP"
///            2  format version (1)
///            2  record size (72)
///            4  record count
///           16  random nonce
///           32  the guard's fingerprint key, encrypted under a pad derived from the daemon's
///               key and the nonce (fingerprints computed before a restart stay valid after it)
///   records     count x 72 bytes, each:
///            1  address family (4 or 6)      1  sender hold kind (0 none, 1 retry, 2 config)
///            1  pending confirmations        1  zero
///            2  port    2  sender strikes    2  receiver strikes    2  zero
///            4  scope  16  address (IPv4: the first 4 bytes, the rest zero)
///            8  sender window: nanoseconds still to run (0: not open)
///            8  receiver window: nanoseconds still to run (0: not open)
///            8  nanoseconds since the last failure (all ones: none counted)
///            8  fingerprint of the last proposal sent   8  fingerprint the receiver rejected
///   mac     32  crypto_auth over everything before it
///
/// Keys: the MAC key is BLAKE2b-256 keyed with the daemon's key over "ikeguard snapshot mac key";
/// the pad is BLAKE2b-256 keyed with it over "ikeguard snapshot fingerprint key pad" + nonce.
///
/// Windows are stored as the time they still had to run, so the clock after a restart may
/// start anywhere; the time the daemon was down is not subtracted (a window restored is at
/// most as long as it was, and never longer than the restoring guard's max_window allows).
namespace snapshot_format {
constexpr std::uint16_t version = 1;
constexpr std::size_t header_size = 64;
constexpr std::size_t record_size = 72;
constexpr std::size_t mac_size = 32;

/// Bytes a snapshot of `entries` tracked peers takes.
constexpr std::size_t size_for(std::size_t entries) noexcept {
  return header_size + entries * record_size + mac_size;
}
}  // namespace snapshot_format

}  // namespace ikeguard
