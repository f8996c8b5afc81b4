// SPDX-License-Identifier: MIT
// The few fields of a cluster record (the format is documented in <ikeguard/cluster.hpp>) that
// the channel reads without opening it: which key it is stored under and for how long. The
// guard authenticates the record when it applies it; nothing here is trusted.
#pragma once

#include <ikeguard/cluster.hpp>
#include <ikeguard/peer_key.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ikeguard_cluster {

using Record = std::array<unsigned char, ikeguard::cluster_format::record_size>;

using ikeguard::RecordKind;

/// Which of the peer's entries a record replaces in the store: a window or its lift replaces
/// that direction's; a clear (both directions) has its own.
enum class Slot : std::uint8_t { sender = 1, receiver = 2, both = 3 };

struct RecordFields {
  RecordKind kind = RecordKind::window;
  Slot slot = Slot::both;
  ikeguard::PeerKey peer{};
  /// What the window still had to run when the record was made (0 for a tombstone).
  std::chrono::milliseconds remaining{0};
};

inline std::uint32_t read_be32(const unsigned char* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

inline void write_be32(unsigned char* p, std::uint32_t value) noexcept {
  p[0] = static_cast<unsigned char>(value >> 24);
  p[1] = static_cast<unsigned char>(value >> 16);
  p[2] = static_cast<unsigned char>(value >> 8);
  p[3] = static_cast<unsigned char>(value);
}

/// The fields as ClusterNode::view() reads them (unauthenticated); false for a record it refuses.
inline bool read_fields(const Record& record, RecordFields& out) noexcept {
  const auto view = ikeguard::ClusterNode::view(record.data(), record.size());
  if (!view) return false;
  out.kind = view->kind;
  out.slot = view->kind == RecordKind::cleared              ? Slot::both
             : view->direction == ikeguard::Direction::sender ? Slot::sender
                                                              : Slot::receiver;
  out.peer = view->peer;
  out.remaining = std::chrono::duration_cast<std::chrono::milliseconds>(view->remaining);
  return true;
}

inline const char* slot_name(Slot slot) noexcept {
  switch (slot) {
    case Slot::sender: return "sender";
    case Slot::receiver: return "receiver";
    case Slot::both: return "both";
  }
  return "both";
}

/// "<prefix><node>:<peer>:<slot>", e.g. "ikeguard:window:7:192.0.2.1:500:receiver".
inline std::string store_key(const std::string& prefix, std::uint64_t node,
                             const RecordFields& fields) {
  char peer[ikeguard::PeerKey::max_text_length];
  const std::size_t length = fields.peer.to_chars(peer);
  std::string key = prefix;
  key += std::to_string(node);
  key += ':';
  key.append(peer, length);
  key += ':';
  key += slot_name(fields.slot);
  return key;
}

}  // namespace ikeguard_cluster
