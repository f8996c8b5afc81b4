// SPDX-License-Identifier: MIT
// fmt formatters for every public type: fmt::format("{}", peer), "{}" for a Decision, an Event
// as one log line, etc. Times print as seconds since the guard clock's epoch ("t=90.000s"),
// which is what a ManualClock-driven test or a log line relative to daemon start needs; lengths
// of time as people write them ("30s", "2m30s", "1.5s", "850ms"). A bare TimePoint
// (std::chrono::steady_clock::time_point) gets no formatter of ours: it is not our type;
// wrap it with since_epoch(), and a Duration with human().
#pragma once

#include <ikeguard/error.hpp>
#include <ikeguard/events.hpp>
#include <ikeguard/fingerprint.hpp>
#include <ikeguard/guard.hpp>
#include <ikeguard/notify.hpp>
#include <ikeguard/peer_key.hpp>
#include <ikeguard/policy.hpp>
#include <ikeguard/snapshot.hpp>

#include <fmt/core.h>
#include <fmt/format.h>

#include <chrono>
#include <string_view>

namespace ikeguard {

constexpr std::string_view to_string(IkeVersion v) noexcept {
  return v == IkeVersion::v1 ? "IKEv1" : "IKEv2";
}
constexpr std::string_view to_string(Origin o) noexcept {
  switch (o) {
    case Origin::authenticated: return "authenticated";
    case Origin::answers_request: return "answers_request";
    case Origin::unsolicited: return "unsolicited";
  }
  return "invalid";
}
constexpr std::string_view to_string(NotifyClass c) noexcept {
  switch (c) {
    case NotifyClass::configuration: return "configuration";
    case NotifyClass::retry_now: return "retry_now";
    case NotifyClass::retry_later: return "retry_later";
    case NotifyClass::ignored: return "ignored";
  }
  return "invalid";
}
constexpr std::string_view to_string(Verdict v) noexcept {
  return v == Verdict::hold ? "hold" : "proceed";
}
constexpr std::string_view to_string(ErrorAction a) noexcept {
  switch (a) {
    case ErrorAction::hold: return "hold";
    case ErrorAction::retry_now: return "retry_now";
    case ErrorAction::retry_later: return "retry_later";
    case ErrorAction::ignored: return "ignored";
  }
  return "invalid";
}
constexpr std::string_view to_string(Errc e) noexcept { return name(e); }
constexpr std::string_view to_string(EventKind k) noexcept { return name(k); }
constexpr std::string_view to_string(Direction d) noexcept { return name(d); }

/// A TimePoint to format as seconds since its clock's epoch: fmt::format("{}", since_epoch(t)).
struct SinceEpoch {
  TimePoint time;
};
constexpr SinceEpoch since_epoch(TimePoint time) noexcept { return SinceEpoch{time}; }

/// A Duration to format the way people write one: fmt::format("{}", human(d)) gives "30s".
struct HumanDuration {
  Duration duration;
};
constexpr HumanDuration human(Duration duration) noexcept { return HumanDuration{duration}; }

namespace detail {
/// Seconds with millisecond precision, the sign kept: "90.000s", "-0.500s".
template <class Out>
Out format_seconds(Out out, Duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  const auto magnitude = ms < 0 ? -ms : ms;
  return fmt::format_to(out, "{}{}.{:03}s", ms < 0 ? "-" : "", magnitude / 1000, magnitude % 1000);
}

/// A length of time as people write it, exact to the millisecond from one second up:
/// "0s", "850ms", "1.5s", "30s", "2m30s", "1h5m", "-2s"; under a millisecond "250us", "40ns".
/// Hours are the largest unit ("48h"); fractions of a second are cut, not rounded.
template <class Out>
Out format_duration(Out out, Duration d) {
  const auto count = d.count();
  if (count < 0) *out++ = '-';
  // The magnitude in unsigned arithmetic: -min() does not fit the signed type.
  const unsigned long long ns =
      count < 0 ? 0ull - static_cast<unsigned long long>(count) : static_cast<unsigned long long>(count);
  if (ns == 0) return fmt::format_to(out, "0s");
  if (ns < 1000ull) return fmt::format_to(out, "{}ns", ns);
  if (ns < 1000000ull) return fmt::format_to(out, "{}us", ns / 1000ull);
  if (ns < 1000000000ull) return fmt::format_to(out, "{}ms", ns / 1000000ull);
  const unsigned long long ms = ns / 1000000ull;
  const unsigned long long hours = ms / 3600000ull;
  const unsigned long long minutes = ms / 60000ull % 60ull;
  const unsigned long long seconds = ms / 1000ull % 60ull;
  const unsigned long long fraction = ms % 1000ull;
  if (hours != 0) out = fmt::format_to(out, "{}h", hours);
  if (minutes != 0) out = fmt::format_to(out, "{}m", minutes);
  if (fraction != 0) {
    // Without trailing zeros: 500 -> ".5", 250 -> ".25", 5 -> ".005".
    if (fraction % 100 == 0) return fmt::format_to(out, "{}.{}s", seconds, fraction / 100);
    if (fraction % 10 == 0) return fmt::format_to(out, "{}.{:02}s", seconds, fraction / 10);
    return fmt::format_to(out, "{}.{:03}s", seconds, fraction);
  }
  if (seconds != 0) out = fmt::format_to(out, "{}s", seconds);
  return out;
}

/// The notify an event carries: its registered name, else "notify <type>".
template <class Out>
Out format_event_notice(Out out, const Event& e) {
  const char* type_name = notify_name(e.version, e.notify_type);
  if (type_name != nullptr) return fmt::format_to(out, "{}", type_name);
  return fmt::format_to(out, "notify {}", e.notify_type);
}

/// "sender ", "receiver ", or nothing for Direction::none.
constexpr std::string_view direction_prefix(Direction d) noexcept {
  switch (d) {
    case Direction::sender: return "sender ";
    case Direction::receiver: return "receiver ";
    case Direction::none: break;
  }
  return "";
}

/// What happened, after the peer: "receiver window opened for 30s (strikes 1, ...)".
template <class Out>
Out format_event_body(Out out, const Event& e) {
  const std::string_view dir = direction_prefix(e.direction);
  switch (e.kind) {
    case EventKind::receiver_window_opened:
    case EventKind::sender_window_opened:
      out = fmt::format_to(out, "{}window {} ", dir, e.strikes > 1 ? "escalated to" : "opened for");
      out = format_duration(out, e.remaining);
      out = fmt::format_to(out, " (strikes {}", e.strikes);
      if (e.has_notice) out = format_event_notice(fmt::format_to(out, ", "), e);
      return fmt::format_to(out, ")");
    case EventKind::retry_later_set:
      out = fmt::format_to(out, "retry_later set for ");
      out = format_duration(out, e.remaining);
      out = fmt::format_to(out, " ({}",
                           e.awaiting_confirmation ? "awaiting confirmation" : "transient");
      if (e.has_notice) out = format_event_notice(fmt::format_to(out, ", "), e);
      return fmt::format_to(out, ")");
    case EventKind::window_lifted:
      return fmt::format_to(out, "{}window lifted by fingerprint 0x{:08x}", dir, e.fingerprint);
    case EventKind::window_lapsed:
    case EventKind::strikes_forgiven:
      out = fmt::format_to(out, "{}{} (noticed at {}, {} ", dir,
                           e.kind == EventKind::window_lapsed ? "window lapsed" : "strikes forgiven",
                           since_epoch(e.at),
                           e.kind == EventKind::window_lapsed ? "ended" : "due");
      out = format_duration(out, e.at - e.until);
      return fmt::format_to(out, " ago)");
    case EventKind::windows_cleared:
      return fmt::format_to(out, "windows cleared (negotiation established)");
    case EventKind::notice_sent:
      out = fmt::format_to(out, "notice sent");
      if (e.has_notice) out = format_event_notice(fmt::format_to(out, " "), e);
      return out;
    case EventKind::notice_suppressed:
      out = fmt::format_to(out, "notice suppressed");
      if (e.has_notice) out = format_event_notice(fmt::format_to(out, " "), e);
      return fmt::format_to(out, " (first in window, until {})", since_epoch(e.until));
    case EventKind::unsolicited_ignored:
      out = fmt::format_to(out, "{} unsolicited error{} ignored", e.count, e.count == 1 ? "" : "s");
      if (e.has_notice) {
        out = fmt::format_to(out, "{}", e.count == 1 ? " (" : " (latest ");
        out = fmt::format_to(format_event_notice(out, e), ")");
      }
      return out;
    case EventKind::entry_evicted:
      out = fmt::format_to(out, "entry evicted (");
      if (e.remaining > Duration::zero()) {
        out = format_duration(fmt::format_to(out, "{}window ", dir), e.remaining);
        out = fmt::format_to(out, " left, ");
      }
      return fmt::format_to(out, "strikes {})", e.strikes);
    case EventKind::snapshot_restored:
      return fmt::format_to(out, "snapshot restored ({} entr{})", e.count,
                            e.count == 1 ? "y" : "ies");
  }
  return fmt::format_to(out, "event {}", static_cast<unsigned>(e.kind));
}

/// An answer of the guard: "<what> until t=90.000s, strikes 1" when it holds something until a
/// time, else "<what>, strikes 1". Decision and ErrorOutcome.
template <class Out, class What>
Out format_answer(Out out, What what, bool until_applies, TimePoint until, std::uint32_t strikes) {
  if (until_applies) {
    return fmt::format_to(out, "{} until {}, strikes {}", what, since_epoch(until), strikes);
  }
  return fmt::format_to(out, "{}, strikes {}", what, strikes);
}

/// A formatter taking no format spec, for the compound types below.
struct plain_formatter {
  constexpr auto parse(fmt::format_parse_context& ctx) -> decltype(ctx.begin()) {
    return ctx.begin();
  }
};
}  // namespace detail

}  // namespace ikeguard

#define IKEGUARD_ENUM_FORMATTER(Type)                                            \
  template <>                                                                    \
  struct fmt::formatter<Type> : fmt::formatter<std::string_view> {               \
    template <class Context>                                                     \
    auto format(Type value, Context& ctx) const -> decltype(ctx.out()) {         \
      return fmt::formatter<std::string_view>::format(ikeguard::to_string(value), ctx); \
    }                                                                            \
  };

IKEGUARD_ENUM_FORMATTER(ikeguard::IkeVersion)
IKEGUARD_ENUM_FORMATTER(ikeguard::Origin)
IKEGUARD_ENUM_FORMATTER(ikeguard::NotifyClass)
IKEGUARD_ENUM_FORMATTER(ikeguard::Verdict)
IKEGUARD_ENUM_FORMATTER(ikeguard::ErrorAction)
IKEGUARD_ENUM_FORMATTER(ikeguard::Errc)
IKEGUARD_ENUM_FORMATTER(ikeguard::EventKind)
IKEGUARD_ENUM_FORMATTER(ikeguard::Direction)
#undef IKEGUARD_ENUM_FORMATTER

/// "192.0.2.1:500", "[2001:db8::1]:4500#7"; honours width and alignment ("{:>24}").
template <>
struct fmt::formatter<ikeguard::PeerKey> : fmt::formatter<std::string_view> {
  template <class Context>
  auto format(const ikeguard::PeerKey& peer, Context& ctx) const -> decltype(ctx.out()) {
    char text[ikeguard::PeerKey::max_text_length];
    const std::size_t length = peer.to_chars(text);
    return fmt::formatter<std::string_view>::format(std::string_view(text, length), ctx);
  }
};

/// "unknown" or 16 hex digits.
template <>
struct fmt::formatter<ikeguard::Fingerprint> : ikeguard::detail::plain_formatter {
  template <class Context>
  auto format(const ikeguard::Fingerprint& fp, Context& ctx) const -> decltype(ctx.out()) {
    if (!fp.known()) return fmt::format_to(ctx.out(), "unknown");
    return fmt::format_to(ctx.out(), "{:016x}", fp.value());
  }
};

/// "IKEv2 NO_PROPOSAL_CHOSEN(14) spi=0123456789abcdef/0000000000000000 mid=0"
template <>
struct fmt::formatter<ikeguard::Notice> : ikeguard::detail::plain_formatter {
  template <class Context>
  auto format(const ikeguard::Notice& n, Context& ctx) const -> decltype(ctx.out()) {
    const char* type_name = ikeguard::notify_name(n.version, n.type);
    return fmt::format_to(ctx.out(), "{} {}({}) spi={:016x}/{:016x} mid={}", n.version,
                          type_name != nullptr ? type_name : "notify", n.type, n.initiator_spi,
                          n.responder_spi, n.message_id);
  }
};

/// "t=90.000s"
template <>
struct fmt::formatter<ikeguard::SinceEpoch> : ikeguard::detail::plain_formatter {
  template <class Context>
  auto format(const ikeguard::SinceEpoch& t, Context& ctx) const -> decltype(ctx.out()) {
    auto out = fmt::format_to(ctx.out(), "t=");
    return ikeguard::detail::format_seconds(out, t.time.time_since_epoch());
  }
};

/// "30s", "2m30s", "1.5s", "850ms": see detail::format_duration.
template <>
struct fmt::formatter<ikeguard::HumanDuration> : ikeguard::detail::plain_formatter {
  template <class Context>
  auto format(const ikeguard::HumanDuration& d, Context& ctx) const -> decltype(ctx.out()) {
    return ikeguard::detail::format_duration(ctx.out(), d.duration);
  }
};

/// One log line, without a newline: "ikeguard: 198.51.100.7:500 receiver window opened for 30s
/// (strikes 1, NO_PROPOSAL_CHOSEN)". A peer the table does not know prints as "unknown peer";
/// snapshot_restored names none; a change a cluster record made ends "from node N".
/// docs/operating.md lists the line of every kind. Allocates nothing of its own.
template <>
struct fmt::formatter<ikeguard::Event> : ikeguard::detail::plain_formatter {
  template <class Context>
  auto format(const ikeguard::Event& e, Context& ctx) const -> decltype(ctx.out()) {
    auto out = fmt::format_to(ctx.out(), "ikeguard: ");
    if (e.kind != ikeguard::EventKind::snapshot_restored) {
      if (e.peer.family() == ikeguard::PeerKey::Family::none) {
        out = fmt::format_to(out, "unknown peer ");
      } else {
        out = fmt::format_to(out, "{} ", e.peer);
      }
    }
    out = ikeguard::detail::format_event_body(out, e);
    if (e.node != 0) out = fmt::format_to(out, " from node {}", e.node);
    return out;
  }
};

/// "hold until t=90.000s, strikes 1" or "proceed, strikes 0"
template <>
struct fmt::formatter<ikeguard::Decision> : ikeguard::detail::plain_formatter {
  template <class Context>
  auto format(const ikeguard::Decision& d, Context& ctx) const -> decltype(ctx.out()) {
    const bool until_applies = d.verdict == ikeguard::Verdict::hold;
    return ikeguard::detail::format_answer(ctx.out(), d.verdict, until_applies, d.until, d.strikes);
  }
};

/// "hold until t=60.000s, strikes 1", "retry_now, strikes 0"
template <>
struct fmt::formatter<ikeguard::ErrorOutcome> : ikeguard::detail::plain_formatter {
  template <class Context>
  auto format(const ikeguard::ErrorOutcome& o, Context& ctx) const -> decltype(ctx.out()) {
    const bool until_applies =
        o.action == ikeguard::ErrorAction::hold || o.action == ikeguard::ErrorAction::retry_later;
    return ikeguard::detail::format_answer(ctx.out(), o.action, until_applies, o.until, o.strikes);
  }
};

/// One line of name=value pairs, in declaration order.
template <>
struct fmt::formatter<ikeguard::Stats> : ikeguard::detail::plain_formatter {
  template <class Context>
  auto format(const ikeguard::Stats& s, Context& ctx) const -> decltype(ctx.out()) {
    // Every entry of IKEGUARD_COUNTERS, in its order: "name=value", space-separated.
    auto out = ctx.out();
    const char* separator = "";
#define IKEGUARD_FORMAT_COUNTER(name, help)                        \
  out = fmt::format_to(out, "{}" #name "={}", separator, s.name); \
  separator = " ";
    IKEGUARD_COUNTERS(IKEGUARD_FORMAT_COUNTER, IKEGUARD_FORMAT_COUNTER)
#undef IKEGUARD_FORMAT_COUNTER
    return out;
  }
};

/// "restored=3 dropped=1". SnapshotKey has no formatter: it is a secret.
template <>
struct fmt::formatter<ikeguard::RestoreReport> : ikeguard::detail::plain_formatter {
  template <class Context>
  auto format(const ikeguard::RestoreReport& r, Context& ctx) const -> decltype(ctx.out()) {
    return fmt::format_to(ctx.out(), "restored={} dropped={}", r.restored, r.dropped);
  }
};

/// "receiver_window=30.000s sender_window=60.000s backoff=2 ..."
template <>
struct fmt::formatter<ikeguard::Policy> : ikeguard::detail::plain_formatter {
  template <class Context>
  auto format(const ikeguard::Policy& p, Context& ctx) const -> decltype(ctx.out()) {
    using ikeguard::detail::format_seconds;
    auto out = fmt::format_to(ctx.out(), "receiver_window=");
    out = format_seconds(out, p.receiver_window);
    out = fmt::format_to(out, " sender_window=");
    out = format_seconds(out, p.sender_window);
    out = fmt::format_to(out, " backoff={} max_window=", p.backoff);
    out = format_seconds(out, p.max_window);
    out = fmt::format_to(out, " unauthenticated_confirmations={} retry_delay=",
                         p.unauthenticated_confirmations);
    out = format_seconds(out, p.retry_delay);
    out = fmt::format_to(out, " jitter={} forgive_after=", p.jitter);
    out = format_seconds(out, p.forgive_after);
    return fmt::format_to(out, " max_peers={} notify_overrides={}", p.max_peers,
                          p.notify_classes.override_count());
  }
};
