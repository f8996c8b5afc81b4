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

/// What NegotiationGuard::create_restored() did.
struct RestoreReport {
  std::size_t restored = 0;  ///< entries now in the table
  std::size_t dropped = 0;   ///< entries left out: beyond max_peers (those ending soonest go first)
};

/// The snapshot format, version 2. Every integer is in network byte order (big-endian).
///
///   header   8  magic "IKEGSNAP"
///            2  format version (2; version 1, written before 0.3, named peers by SipHash-2-4
///               and is refused with Errc::snapshot_retired_version)
///            2  record size (32)
///            4  record count
///           16  random nonce
///           48  the guard's keys (SipHash-1-3 16, fingerprint 32), encrypted under a pad derived
///               from the daemon's key and the nonce, so the restored guard knows its peers by
///               the same hashes and fingerprints computed before a restart still match
///   records     count x 32 bytes, each:
///            8  the peer's keyed hash, SipHash-1-3 (the table knows peers by it alone; never 0)
///            4  sender window: milliseconds still to run (0: not open)
///            4  receiver window: milliseconds still to run (0: not open)
///            4  milliseconds since the last failure (0 when nothing is counted)
///            4  fingerprint of the last proposal sent (32 bits; 0: unknown)
///            4  fingerprint the receiver window rejected (32 bits; 0: unknown)
///            1  sender strikes   1  receiver strikes   1  pending confirmations
///            1  sender hold kind (0 none, 1 retry, 2 configuration)
///   mac     32  crypto_auth over everything before it
///
/// Keys: the MAC key is BLAKE2b-256 keyed with the daemon's key over "ikeguard snapshot mac key";
/// the pad is BLAKE2b-384 keyed with it over "ikeguard snapshot key pad" + nonce.
///
/// Windows are stored as the time they still had to run, so the clock after a restart may
/// start anywhere; the time the daemon was down is not subtracted (a window restored is at
/// most as long as it was, and never longer than the restoring guard's max_window allows).
namespace snapshot_format {
constexpr std::uint16_t version = 2;
constexpr std::size_t header_size = 80;
constexpr std::size_t record_size = 32;
constexpr std::size_t mac_size = 32;

/// Bytes a snapshot of `entries` tracked peers takes.
constexpr std::size_t size_for(std::size_t entries) noexcept {
  return header_size + entries * record_size + mac_size;
}
}  // namespace snapshot_format

}  // namespace ikeguard
