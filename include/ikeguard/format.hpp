// SPDX-License-Identifier: MIT
// fmt formatters for every public type: fmt::format("{}", peer), "{}" for a Decision, etc.
// Times print as seconds since the guard clock's epoch ("t=90.000s"), which is what a
// ManualClock-driven test or a log line relative to daemon start needs. A bare TimePoint
// (std::chrono::steady_clock::time_point) gets no formatter of ours: it is not our type;
// wrap it with since_epoch().
#pragma once

#include <ikeguard/error.hpp>
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

/// A TimePoint to format as seconds since its clock's epoch: fmt::format("{}", since_epoch(t)).
struct SinceEpoch {
  TimePoint time;
};
constexpr SinceEpoch since_epoch(TimePoint time) noexcept { return SinceEpoch{time}; }

namespace detail {
/// Seconds with millisecond precision, the sign kept: "90.000s", "-0.500s".
template <class Out>
Out format_seconds(Out out, Duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  const auto magnitude = ms < 0 ? -ms : ms;
  return fmt::format_to(out, "{}{}.{:03}s", ms < 0 ? "-" : "", magnitude / 1000, magnitude % 1000);
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
