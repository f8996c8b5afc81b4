// SPDX-License-Identifier: MIT
// ClusterNode's bodies (cluster.hpp). The library compiles this once; under IKEGUARD_HEADER_ONLY
// every user includes it.
#pragma once

#include <ikeguard/cluster.hpp>
#include <ikeguard/detail/cluster_record.hpp>
#include <ikeguard/detail/crypto-inl.hpp>
#include <ikeguard/detail/stamps.hpp>

#include <cmath>
#include <limits>

namespace ikeguard {

IKEGUARD_INLINE ClusterNode::ClusterNode(std::uint64_t node_id, const ClusterKey& key,
                                         std::uint64_t first_sequence) noexcept
    : id_(node_id), next_sequence_(first_sequence) {
  (void)detail::crypto_start();  // idempotent; a guard made with this node checks it too
  detail::cluster_subkeys(key.bytes.data(), mac_key_.data(), fingerprint_key_.data());
}

IKEGUARD_INLINE ClusterNode::~ClusterNode() {
  detail::wipe(mac_key_.data(), mac_key_.size());
  detail::wipe(fingerprint_key_.data(), fingerprint_key_.size());
}

namespace detail {
// What record an event makes, if any.
inline bool record_of_event(const Event& event, ClusterRecord& r) noexcept {
  if (event.node != 0 || event.peer.family() == PeerKey::Family::none) return false;
  r.direction = event.direction;
  switch (event.kind) {
    case EventKind::receiver_window_opened:
    case EventKind::sender_window_opened:
    case EventKind::retry_later_set: {
      if (event.remaining <= Duration::zero()) return false;
      r.kind = RecordKind::window;
      r.retry = event.kind == EventKind::retry_later_set;
      const auto ms = (event.remaining.count() + ns_per_ms - 1) / ns_per_ms;
      r.remaining_ms = static_cast<std::uint32_t>(
          std::min<Ticks>(ms, std::numeric_limits<std::uint32_t>::max()));
      break;
    }
    case EventKind::window_lifted: r.kind = RecordKind::lifted; break;
    case EventKind::windows_cleared:
      r.kind = RecordKind::cleared;
      r.direction = Direction::none;
      break;
    default: return false;
  }
  if ((r.kind == RecordKind::cleared) != (r.direction == Direction::none)) return false;
  r.peer = event.peer;
  r.strikes = static_cast<std::uint8_t>(std::min<std::uint32_t>(event.strikes, 255));
  r.version = event.version;
  r.notify_type = event.has_notice ? event.notify_type : 0;
  r.fingerprint = event.fingerprint;
  return true;
}
}  // namespace detail

IKEGUARD_INLINE std::size_t ClusterNode::encode(const Event& event, void* out,
                                                std::size_t size) noexcept {
  detail::ClusterRecord record;
  if (out == nullptr || size < cluster_format::record_size || id_ == 0 ||
      !detail::record_of_event(event, record)) {
    return 0;
  }
  record.node = id_;
  record.sequence = next_sequence_.fetch_add(1, std::memory_order_relaxed);
  auto* p = static_cast<std::uint8_t*>(out);
  detail::encode(record, p);
  detail::cluster_mac(mac_key_.data(), p, detail::cluster_layout::signed_size,
                      p + detail::cluster_layout::signed_size);
  return cluster_format::record_size;
}

IKEGUARD_INLINE Result<RecordView> ClusterNode::view(const void* record, std::size_t size) noexcept {
  if (record == nullptr) return Errc::invalid_argument;
  const auto* p = static_cast<const std::uint8_t*>(record);
  if (size == 0) return Errc::cluster_record_truncated;
  if (p[0] != cluster_format::version) return Errc::cluster_record_unsupported_version;
  if (size != cluster_format::record_size) return Errc::cluster_record_truncated;
  detail::ClusterRecord r;
  if (!detail::decode(p, r)) return Errc::cluster_record_malformed;
  RecordView view;
  view.node = r.node;
  view.sequence = r.sequence;
  view.kind = r.kind;
  view.direction = r.direction;
  view.retry = r.retry;
  view.peer = r.peer;
  if (r.kind == RecordKind::window) view.remaining = std::chrono::milliseconds(r.remaining_ms);
  return view;
}

namespace detail {
// Moves a replay bitmap `by` sequence numbers on: bit i (sequence newest - i) becomes bit i + by.
inline void shift_seen(std::uint64_t* bits, std::size_t words, std::uint64_t by) noexcept {
  if (by >= words * 64) {
    for (std::size_t i = 0; i < words; ++i) bits[i] = 0;
    return;
  }
  const std::size_t whole = static_cast<std::size_t>(by / 64);
  const unsigned part = static_cast<unsigned>(by % 64);
  for (std::size_t i = words; i-- > 0;) {
    std::uint64_t word = i >= whole ? bits[i - whole] << part : 0;
    if (part != 0 && i >= whole + 1) word |= bits[i - whole - 1] >> (64 - part);
    bits[i] = word;
  }
}
}  // namespace detail

IKEGUARD_INLINE Errc ClusterNode::open(const void* record, std::size_t size,
                                       detail::ClusterRecord& out, bool& own) noexcept {
  own = false;
  if (record == nullptr) return Errc::invalid_argument;
  const auto* p = static_cast<const std::uint8_t*>(record);
  if (size == 0) return Errc::cluster_record_truncated;
  if (p[0] != cluster_format::version) return Errc::cluster_record_unsupported_version;
  if (size != cluster_format::record_size) return Errc::cluster_record_truncated;
  if (!detail::cluster_mac_verifies(mac_key_.data(), p, detail::cluster_layout::signed_size,
                                    p + detail::cluster_layout::signed_size)) {
    return Errc::cluster_record_unauthenticated;
  }
  detail::ClusterRecord decoded;
  if (!detail::decode(p, decoded)) return Errc::cluster_record_malformed;
  if (decoded.node == id_) {
    own = true;
    return Errc::ok;
  }
  constexpr std::size_t words = cluster_format::replay_window / 64;
  const std::lock_guard<std::mutex> lock(seen_lock_);
  Seen* seen = nullptr;
  for (std::size_t i = 0; i < origins_; ++i) {
    if (seen_[i].node == decoded.node) seen = &seen_[i];
  }
  if (seen == nullptr) {
    if (origins_ == cluster_format::max_origins) return Errc::cluster_too_many_origins;
    seen = &seen_[origins_++];
    seen->node = decoded.node;
    seen->newest = decoded.sequence;
    seen->bits[0] = 1;
  } else if (decoded.sequence > seen->newest) {
    detail::shift_seen(seen->bits, words, decoded.sequence - seen->newest);
    seen->bits[0] |= 1;
    seen->newest = decoded.sequence;
  } else {
    const std::uint64_t behind = seen->newest - decoded.sequence;
    if (behind >= cluster_format::replay_window) return Errc::cluster_record_replayed;
    std::uint64_t& word = seen->bits[behind / 64];
    const std::uint64_t bit = std::uint64_t{1} << (behind % 64);
    if ((word & bit) != 0) return Errc::cluster_record_replayed;
    word |= bit;
  }
  out = decoded;
  return Errc::ok;
}

}  // namespace ikeguard
