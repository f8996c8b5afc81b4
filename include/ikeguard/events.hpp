// SPDX-License-Identifier: MIT
// What the guard tells an operator: one structured Event for every change of state, delivered
// to an optional EventSink.
#pragma once

#include <ikeguard/clock.hpp>
#include <ikeguard/export.hpp>
#include <ikeguard/notify.hpp>
#include <ikeguard/peer_key.hpp>

#include <cstdint>

namespace ikeguard {

/// What changed. New kinds go at the end; the numbers are stable (logs and the C API use them).
enum class EventKind : std::uint8_t {
  receiver_window_opened = 0,  ///< step B: T1 opened (strikes 1) or escalated (strikes > 1)
  sender_window_opened = 1,    ///< step C: T2 opened or escalated
  retry_later_set = 2,         ///< a transient error, or an unauthenticated one awaiting confirmation
  window_lifted = 3,           ///< a changed configuration (fingerprint) lifted a window
  window_lapsed = 4,           ///< a window's end passed: noticed lazily, see Event::at
  strikes_forgiven = 5,        ///< forgive_after passed since the last failure: noticed lazily
  windows_cleared = 6,         ///< on_established forgot a peer that had windows or strikes
  notice_sent = 7,             ///< an error notification went out through the Transport
  notice_suppressed = 8,       ///< the first rejection inside an open receiver window: no notice
  unsolicited_ignored = 9,     ///< unsolicited errors ignored; at most one event a second
  entry_evicted = 10,          ///< a full table pushed out an entry with a window or strikes
  snapshot_restored = 11,      ///< create_restored loaded a snapshot (count: entries restored)
};
/// One more than the largest EventKind.
constexpr unsigned event_kinds = 12;

/// Which of the peer's windows an event is about.
enum class Direction : std::uint8_t {
  none = 0,      ///< both, or neither (notices, evictions, restores)
  sender = 1,    ///< this side's proposals toward the peer (T2)
  receiver = 2,  ///< the peer's proposals toward this side (T1)
};

/// One change of state. Trivially copyable; it points to nothing, so a sink may copy it.
///
/// Lapses are noticed lazily: the guard does not run timers, so a window whose end passed, or
/// strikes forgive_after forgave, are reported by the first call that looks at the peer (or
/// when the peer's shard is normalised, every 2^29 ms): `at` is then the time it was noticed
/// and `until` the time it happened.
struct Event {
  EventKind kind = EventKind::notice_sent;
  Direction direction = Direction::none;
  /// The notify type the call carried (notice_sent, notice_suppressed, windows opened by an
  /// error, retry_later_set, unsolicited_ignored); has_notice false when none did.
  bool has_notice = false;
  /// retry_later_set: the error was unauthenticated and awaits confirmation, not transient.
  bool awaiting_confirmation = false;
  IkeVersion version = IkeVersion::v2;
  NotifyClass notify_class = NotifyClass::ignored;
  std::uint16_t notify_type = 0;
  /// Consecutive failures in `direction` after the change (both directions' sum when none).
  std::uint32_t strikes = 0;
  /// The configuration the window is about, as the table keeps it: the low 32 bits of the
  /// Fingerprint (0: unknown). window_lifted: the one that lifted it.
  std::uint32_t fingerprint = 0;
  /// The peer. Family::none only when the table does not know its address (an entry restored
  /// from a snapshot without addresses).
  PeerKey peer{};
  /// The guard's clock when the change was made or noticed.
  TimePoint at{};
  /// When the window ends (opened, set, suppressed-in, evicted-with) or ended (lapsed);
  /// otherwise equal to `at`.
  TimePoint until{};
  /// until - at for a window still open; zero otherwise.
  Duration remaining{};
  /// unsolicited_ignored: how many since the last such event (this one included);
  /// snapshot_restored: entries restored; entry_evicted, and the rest: 1.
  std::uint64_t count = 1;
  /// Non-zero when a cluster record (ClusterNode) made the change: the node that sent it.
  /// Such events are never turned into records again.
  std::uint64_t node = 0;
};

/// Receives the guard's events. Called on the thread that made the call, after the guard let
/// go of every lock, so it may call the guard; never called while an earlier call on the same
/// thread is still inside the sink. The guard allocates nothing to deliver an event; a sink
/// that must not slow the daemon queues or drops (the JSON-lines sink rate-limits).
class IKEGUARD_API EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_event(const Event& event) noexcept = 0;
};

/// "receiver_window_opened", ...: the kind's name in logs and JSON; "unknown" otherwise.
constexpr const char* name(EventKind kind) noexcept {
  switch (kind) {
    case EventKind::receiver_window_opened: return "receiver_window_opened";
    case EventKind::sender_window_opened: return "sender_window_opened";
    case EventKind::retry_later_set: return "retry_later_set";
    case EventKind::window_lifted: return "window_lifted";
    case EventKind::window_lapsed: return "window_lapsed";
    case EventKind::strikes_forgiven: return "strikes_forgiven";
    case EventKind::windows_cleared: return "windows_cleared";
    case EventKind::notice_sent: return "notice_sent";
    case EventKind::notice_suppressed: return "notice_suppressed";
    case EventKind::unsolicited_ignored: return "unsolicited_ignored";
    case EventKind::entry_evicted: return "entry_evicted";
    case EventKind::snapshot_restored: return "snapshot_restored";
  }
  return "unknown";
}

/// "none", "sender", "receiver".
constexpr const char* name(Direction direction) noexcept {
  switch (direction) {
    case Direction::none: return "none";
    case Direction::sender: return "sender";
    case Direction::receiver: return "receiver";
  }
  return "unknown";
}

}  // namespace ikeguard
