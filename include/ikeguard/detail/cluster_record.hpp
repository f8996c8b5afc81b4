// SPDX-License-Identifier: MIT
// A cluster record's fields (the format is in cluster.hpp) and their encoding. Internal.
#pragma once

#include <ikeguard/cluster.hpp>
#include <ikeguard/detail/endian.hpp>
#include <ikeguard/events.hpp>
#include <ikeguard/notify.hpp>
#include <ikeguard/peer_key.hpp>

#include <array>
#include <cstdint>
#include <cstring>

namespace ikeguard::detail {

using wire::detail::load_u16;
using wire::detail::load_u32;
using wire::detail::load_u64;
using wire::detail::store_u16;
using wire::detail::store_u32;
using wire::detail::store_u64;

using ikeguard::RecordKind;

struct ClusterRecord {
  RecordKind kind = RecordKind::window;
  Direction direction = Direction::none;
  bool retry = false;  // a sender window held for retry_later, not a configuration error
  std::uint64_t node = 0;
  std::uint64_t sequence = 0;
  PeerKey peer{};
  std::uint8_t strikes = 0;
  IkeVersion version = IkeVersion::v2;
  std::uint16_t notify_type = 0;
  std::uint32_t fingerprint = 0;
  std::uint32_t remaining_ms = 0;
};

namespace cluster_layout {
constexpr std::size_t signed_size = 64;  // bytes 0-63: what the MAC covers
static_assert(signed_size + 32 == cluster_format::record_size);
}  // namespace cluster_layout

inline void encode(const ClusterRecord& r, std::uint8_t* p) noexcept {
  std::memset(p, 0, cluster_layout::signed_size);
  p[0] = cluster_format::version;
  p[1] = static_cast<std::uint8_t>(r.kind);
  p[2] = static_cast<std::uint8_t>(r.direction);
  p[3] = r.retry ? 1 : 0;
  store_u64(p + 4, r.node);
  store_u64(p + 12, r.sequence);
  p[20] = static_cast<std::uint8_t>(r.peer.family());
  store_u16(p + 22, r.peer.port());
  store_u32(p + 24, r.peer.scope());
  std::memcpy(p + 28, r.peer.address().data(), 16);
  p[44] = r.strikes;
  p[45] = static_cast<std::uint8_t>(r.version);
  store_u16(p + 46, r.notify_type);
  store_u32(p + 48, r.fingerprint);
  store_u32(p + 52, r.remaining_ms);
}

// The signed bytes as a record, or false when a field is out of its range (the MAC verified:
// only a node with the key, running other code, writes such a record).
inline bool decode(const std::uint8_t* p, ClusterRecord& r) noexcept {
  const std::uint8_t kind = p[1], direction = p[2], hold = p[3], family = p[20], version = p[45];
  if (kind < 1 || kind > 3 || direction > 2 || hold > 1 || p[21] != 0) return false;
  if ((kind == 3) != (direction == 0)) return false;  // cleared: both; the others: one
  if (hold == 1 && !(kind == 1 && direction == 1)) return false;
  if (version != 1 && version != 2) return false;
  for (std::size_t i = 56; i < cluster_layout::signed_size; ++i) {
    if (p[i] != 0) return false;
  }
  const std::uint16_t port = load_u16(p + 22);
  const std::uint32_t scope = load_u32(p + 24);
  std::array<std::uint8_t, 16> address{};
  std::memcpy(address.data(), p + 28, 16);
  if (family == 4) {
    for (std::size_t i = 4; i < 16; ++i) {
      if (address[i] != 0) return false;
    }
    r.peer = PeerKey::ipv4({address[0], address[1], address[2], address[3]}, port, scope);
  } else if (family == 6) {
    r.peer = PeerKey::ipv6(address, port, scope);
    if (r.peer.family() != PeerKey::Family::ipv6) return false;  // a mapped IPv4 is sent as 4
  } else {
    return false;
  }
  if (port == 0) return false;
  r.kind = static_cast<RecordKind>(kind);
  r.direction = static_cast<Direction>(direction);
  r.retry = hold == 1;
  r.node = load_u64(p + 4);
  r.sequence = load_u64(p + 12);
  r.strikes = p[44];
  r.version = static_cast<IkeVersion>(version);
  r.notify_type = load_u16(p + 46);
  r.fingerprint = load_u32(p + 48);
  r.remaining_ms = load_u32(p + 52);
  if (r.node == 0) return false;
  if (r.kind == RecordKind::window && r.remaining_ms == 0) return false;
  return true;
}

}  // namespace ikeguard::detail
