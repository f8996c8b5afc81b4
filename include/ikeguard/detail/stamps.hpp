// SPDX-License-Identifier: MIT
// Time as the peer table stores it: 32-bit millisecond stamps, and the conversions between
// them and the caller's TimePoint. Internal.
#pragma once

#include <ikeguard/clock.hpp>

#include <cstdint>
#include <limits>

namespace ikeguard::detail {

using Ticks = Duration::rep;  // nanoseconds since the clock's epoch
using Millis = std::int64_t;  // milliseconds since the clock's epoch
using Stamp = std::uint32_t;  // Millis modulo 2^32: a time as the table stores it

constexpr Ticks ns_per_ms = 1'000'000;

// Every stamp an entry holds must stay within 2^31 ms of now to compare correctly: windows end
// at most max_window plus jitter (< 2^31 ms, Policy's limit) ahead, and each shard settles its
// entries at least this often (the guard's normalize), so no stale stamp ages past the limit.
constexpr Millis normalize_every = Millis{1} << 29;

inline Millis floor_ms(Ticks t) noexcept {
  Millis q = t / ns_per_ms;
  if (t % ns_per_ms < 0) --q;
  return q;
}

inline Millis ceil_ms(Ticks t) noexcept {
  Millis q = t / ns_per_ms;
  if (t % ns_per_ms > 0) ++q;
  return q;
}

inline TimePoint point(Ticks t) noexcept { return TimePoint(Duration(t)); }

inline TimePoint point_ms(Millis ms) noexcept {
  constexpr Millis most = std::numeric_limits<Ticks>::max() / ns_per_ms;
  constexpr Millis least = std::numeric_limits<Ticks>::min() / ns_per_ms;
  if (ms > most) return TimePoint::max();
  if (ms < least) return TimePoint::min();
  return TimePoint(Duration(ms * ns_per_ms));
}

inline Ticks add_saturating(Ticks a, Duration b) noexcept {
  const Ticks d = b.count();
  if (d > 0 && a > std::numeric_limits<Ticks>::max() - d) return std::numeric_limits<Ticks>::max();
  return a + d;
}

inline Stamp stamp(Millis ms) noexcept {
  return static_cast<Stamp>(static_cast<std::uint64_t>(ms));
}

// How far `to` lies after `from` (negative: before), for stamps within 2^31 ms of each other.
inline Millis ahead(Stamp to, Stamp from) noexcept {
  const std::uint32_t d = to - from;
  return d < 0x80000000u ? Millis{d} : Millis{d} - (Millis{1} << 32);
}

// The time of one call, in every unit the guard uses.
struct Now {
  Ticks ns;
  Millis ms;
  Stamp at;
  explicit Now(TimePoint t) noexcept
      : ns(t.time_since_epoch().count()), ms(floor_ms(ns)), at(stamp(ms)) {}
};

// When a window stored as `until` ends, as the caller's TimePoint.
inline TimePoint end_of(Stamp until, const Now& now) noexcept {
  return point_ms(now.ms + ahead(until, now.at));
}

// A window of `length` from now ends on the first millisecond boundary at or after now + length.
inline Millis window_end(const Now& now, Duration length) noexcept {
  return ceil_ms(add_saturating(now.ns, length));
}

}  // namespace ikeguard::detail
