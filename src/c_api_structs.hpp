// SPDX-License-Identifier: MIT
// The C API's structs (ikeguard.h) against the C++ types: their layout, pinned; the versioned
// structs read and written within their struct_size; values converted both ways. Internal to
// src/c_api.cpp.
#pragma once

#include <ikeguard/ikeguard.h>

#include <ikeguard/guard.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

namespace ikeguard::c_api {

constexpr int code(Errc error) noexcept { return -static_cast<int>(error); }

// The C enums mirror the C++ ones value for value, so converting is a cast after a range check.
static_assert(IKEGUARD_MAX_NOTIFY_OVERRIDES == ikeguard::NotifyTable::max_overrides);
static_assert(ikeguard_ikev1 == static_cast<int>(ikeguard::IkeVersion::v1));
static_assert(ikeguard_ikev2 == static_cast<int>(ikeguard::IkeVersion::v2));
static_assert(ikeguard_origin_authenticated == static_cast<int>(ikeguard::Origin::authenticated));
static_assert(ikeguard_origin_answers_request ==
              static_cast<int>(ikeguard::Origin::answers_request));
static_assert(ikeguard_origin_unsolicited == static_cast<int>(ikeguard::Origin::unsolicited));
static_assert(ikeguard_notify_configuration ==
              static_cast<int>(ikeguard::NotifyClass::configuration));
static_assert(ikeguard_notify_retry_now == static_cast<int>(ikeguard::NotifyClass::retry_now));
static_assert(ikeguard_notify_retry_later == static_cast<int>(ikeguard::NotifyClass::retry_later));
static_assert(ikeguard_notify_ignored == static_cast<int>(ikeguard::NotifyClass::ignored));
static_assert(ikeguard_verdict_proceed == static_cast<int>(ikeguard::Verdict::proceed));
static_assert(ikeguard_verdict_hold == static_cast<int>(ikeguard::Verdict::hold));
static_assert(ikeguard_action_hold == static_cast<int>(ikeguard::ErrorAction::hold));
static_assert(ikeguard_action_retry_now == static_cast<int>(ikeguard::ErrorAction::retry_now));
static_assert(ikeguard_action_retry_later == static_cast<int>(ikeguard::ErrorAction::retry_later));
static_assert(ikeguard_action_ignored == static_cast<int>(ikeguard::ErrorAction::ignored));
static_assert(IKEGUARD_SNAPSHOT_KEY_BYTES == sizeof(ikeguard::SnapshotKey::bytes));

// The layout of every struct in ikeguard.h is the contract (c_api_layout.h).
#define IKEGUARD_LAYOUT(condition) static_assert(condition, #condition)
#include "c_api_layout.h"
#undef IKEGUARD_LAYOUT
static_assert(sizeof(double) == 8 && std::numeric_limits<double>::is_iec559);
static_assert(alignof(ikeguard_notice) <= 8);

// ikeguard_stats: the header, then one uint64_t per IKEGUARD_COUNTERS entry in list order, as
// ikeguard::Stats holds them.
constexpr std::size_t stats_header_size = 8;
static_assert(offsetof(ikeguard_stats, struct_size) == 0);
static_assert(offsetof(ikeguard_stats, reserved) == 4);
enum class CounterIndex : std::size_t {
#define IKEGUARD_C_COUNTER_INDEX(name, help) name,
  IKEGUARD_COUNTERS(IKEGUARD_C_COUNTER_INDEX, IKEGUARD_C_COUNTER_INDEX)
#undef IKEGUARD_C_COUNTER_INDEX
  count
};
constexpr std::size_t counter_count = static_cast<std::size_t>(CounterIndex::count);
#define IKEGUARD_C_COUNTER_OFFSET(name, help)                         \
  static_assert(offsetof(ikeguard_stats, name) ==                      \
                stats_header_size + 8 * static_cast<std::size_t>(CounterIndex::name)); \
  static_assert(sizeof(ikeguard_stats::name) == 8);
IKEGUARD_COUNTERS(IKEGUARD_C_COUNTER_OFFSET, IKEGUARD_C_COUNTER_OFFSET)
#undef IKEGUARD_C_COUNTER_OFFSET
static_assert(sizeof(ikeguard_stats) == stats_header_size + 8 * counter_count);
static_assert(sizeof(ikeguard::Stats) == 8 * counter_count);
static_assert(IKEGUARD_STRUCT_SIZE_MAX >= sizeof(ikeguard_policy) &&
              IKEGUARD_STRUCT_SIZE_MAX <= std::numeric_limits<std::uint32_t>::max());

inline bool valid_version(int version) noexcept {
  return version == ikeguard_ikev1 || version == ikeguard_ikev2;
}

inline bool valid_class(int notify_class) noexcept {
  return notify_class >= ikeguard_notify_configuration && notify_class <= ikeguard_notify_ignored;
}

/// The C++ notice; false for an unknown IKE version.
inline bool to_notice(const ikeguard_notice& in, ikeguard::Notice& out) noexcept {
  const int version = in.version;
  if (!valid_version(version)) return false;
  out = ikeguard::Notice{static_cast<ikeguard::IkeVersion>(version), in.type, in.initiator_spi,
                         in.responder_spi, in.message_id};
  return true;
}

/// Milliseconds to the C++ duration; false when it does not fit (more than 2^63 - 1 ns).
inline bool to_duration(std::uint64_t ms, Duration& out) noexcept {
  constexpr auto most =
      static_cast<std::uint64_t>(std::numeric_limits<Duration::rep>::max() / 1000000);
  if (ms > most) return false;
  out = std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(ms));
  return true;
}

inline std::uint64_t to_ms(Duration duration) noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(duration).count());
}

// A policy's struct_size is read in steps of whole fields (ikeguard.h): the fields up to
// max_peers are one step (IKEGUARD_POLICY_MIN_SIZE), the notify overrides the next (0.2's
// whole struct), keep_addresses with its padding the next.
constexpr std::size_t policy_steps[] = {IKEGUARD_POLICY_MIN_SIZE,
                                        offsetof(ikeguard_policy, keep_addresses),
                                        sizeof(ikeguard_policy)};

/// The bytes of a caller's policy this library reads: the largest step inside struct_size.
inline std::size_t known_policy_bytes(std::size_t struct_size) noexcept {
  std::size_t known = 0;
  for (const std::size_t step : policy_steps) {
    if (step <= struct_size) known = step;
  }
  return known;
}

inline bool all_zero(const unsigned char* bytes, std::size_t size) noexcept {
  return std::all_of(bytes, bytes + size, [](unsigned char byte) { return byte == 0; });
}

// The policy's fields that both structs hold under one name: durations (milliseconds in C,
// `name_ms`) and values. max_peers and the notify overrides are converted on their own.
#define IKEGUARD_POLICY_FIELDS(DURATION, VALUE)                                          \
  DURATION(receiver_window) DURATION(sender_window) VALUE(backoff) DURATION(max_window) \
  VALUE(unauthenticated_confirmations) DURATION(retry_delay) VALUE(jitter)              \
  DURATION(forgive_after)

inline ikeguard_policy default_policy() noexcept {
  const ikeguard::Policy defaults;
  ikeguard_policy policy{};
  policy.struct_size = sizeof policy;
#define IKEGUARD_C_DURATION(name) policy.name##_ms = to_ms(defaults.name);
#define IKEGUARD_C_VALUE(name) policy.name = defaults.name;
  IKEGUARD_POLICY_FIELDS(IKEGUARD_C_DURATION, IKEGUARD_C_VALUE)
#undef IKEGUARD_C_DURATION
#undef IKEGUARD_C_VALUE
  policy.max_peers = defaults.max_peers;
  policy.notify_override_count = 0;
  policy.keep_addresses = defaults.keep_addresses ? 1 : 0;
  return policy;
}

/// A caller's versioned struct `in` of struct_size `size` passes the size rules (ikeguard.h):
/// at least `least`, at most IKEGUARD_STRUCT_SIZE_MAX, and zeros in any tail beyond what this
/// library's struct `T` holds.
template <class T>
bool size_rules_hold(const T& in, std::size_t size, std::size_t least) noexcept {
  if (size < least || size > IKEGUARD_STRUCT_SIZE_MAX) return false;
  const auto* bytes = reinterpret_cast<const unsigned char*>(&in);
  return size <= sizeof(T) || all_zero(bytes + sizeof(T), size - sizeof(T));
}

/// The caller's policy as this library's struct: the fields inside its struct_size, defaults
/// for the rest. invalid_argument for a struct_size outside the rules, a non-zero byte in a tail
/// this library does not know, or a non-zero reserved field.
inline int read_policy(const ikeguard_policy& in, ikeguard_policy& out) noexcept {
  const std::size_t size = in.struct_size;
  if (!size_rules_hold(in, size, IKEGUARD_POLICY_MIN_SIZE)) return code(Errc::invalid_argument);
  const auto* bytes = reinterpret_cast<const unsigned char*>(&in);
  out = default_policy();
  std::memcpy(&out, bytes, known_policy_bytes(size));
  out.struct_size = sizeof out;
  if (out.reserved0 != 0 || out.reserved1 != 0 || out.reserved2 != 0 || out.reserved3 != 0 ||
      out.keep_addresses > 1) {
    return code(Errc::invalid_argument);
  }
  return IKEGUARD_OK;
}

/// The C++ policy: invalid_argument as read_policy() says, or the code of the first invalid
/// field in declaration order.
inline int to_policy(const ikeguard_policy& caller, ikeguard::Policy& out) noexcept {
  ikeguard_policy in;
  if (const int status = read_policy(caller, in); status != IKEGUARD_OK) return status;
  ikeguard::Policy policy;
  // A duration too long for the C++ type becomes zero: refused at its own field, in order.
  const auto duration = [](std::uint64_t ms) {
    Duration converted{};
    return to_duration(ms, converted) ? converted : Duration::zero();
  };
#define IKEGUARD_CPP_DURATION(name) policy.name = duration(in.name##_ms);
#define IKEGUARD_CPP_VALUE(name) policy.name = in.name;
  IKEGUARD_POLICY_FIELDS(IKEGUARD_CPP_DURATION, IKEGUARD_CPP_VALUE)
#undef IKEGUARD_CPP_DURATION
#undef IKEGUARD_CPP_VALUE
  // Beyond the limit is refused as max_peers; min() keeps it so where size_t is 32 bits.
  policy.max_peers = static_cast<std::size_t>(
      std::min<std::uint64_t>(in.max_peers, std::uint64_t{ikeguard::max_peers_limit} + 1));
  policy.keep_addresses = in.keep_addresses != 0;
  if (const Errc invalid = ikeguard::validate(policy); invalid != Errc::ok) return code(invalid);

  if (in.notify_override_count > IKEGUARD_MAX_NOTIFY_OVERRIDES) {
    return code(Errc::invalid_argument);
  }
  for (std::size_t i = 0; i < in.notify_override_count; ++i) {
    const ikeguard_notify_override& o = in.notify_overrides[i];
    if (!valid_version(o.version) || !valid_class(o.notify_class)) {
      return code(Errc::invalid_argument);
    }
    policy.notify_classes.set(static_cast<ikeguard::IkeVersion>(o.version), o.type,
                              static_cast<ikeguard::NotifyClass>(o.notify_class));
  }
  out = policy;
  return IKEGUARD_OK;
}

/// to_policy() of a policy that may be NULL (the defaults).
inline int to_policy_or_defaults(const ikeguard_policy* in, ikeguard::Policy& out) noexcept {
  if (in == nullptr) {
    out = ikeguard::Policy{};
    return IKEGUARD_OK;
  }
  return to_policy(*in, out);
}

inline std::uint64_t to_ns(ikeguard::TimePoint time) noexcept {
  const Duration::rep ns = time.time_since_epoch().count();
  return ns < 0 ? 0 : static_cast<std::uint64_t>(ns);
}

inline void to_c(const ikeguard::Decision& in, ikeguard_decision& out) noexcept {
  out = ikeguard_decision{};
  out.verdict = static_cast<std::uint8_t>(in.verdict);
  out.strikes = in.strikes;
  out.until_ns = to_ns(in.until);
}

inline void to_c(const ikeguard::ErrorOutcome& in, ikeguard_error_outcome& out) noexcept {
  out = ikeguard_error_outcome{};
  out.action = static_cast<std::uint8_t>(in.action);
  out.strikes = in.strikes;
  out.until_ns = to_ns(in.until);
}

inline void fail_open(ikeguard_decision* decision) noexcept {
  if (decision == nullptr) return;
  *decision = ikeguard_decision{};
  decision->verdict = ikeguard_verdict_proceed;
}

inline void fail_open(ikeguard_error_outcome* outcome) noexcept {
  if (outcome == nullptr) return;
  *outcome = ikeguard_error_outcome{};
  outcome->action = ikeguard_action_ignored;
}

/// Writes `counted` into the caller's stats within its struct_size (ikeguard.h): the counters
/// that end inside it, zeros for the rest, never a byte past it. invalid_argument (nothing
/// written) for a struct_size outside the rules.
inline int write_stats(const Stats& counted, ikeguard_stats& caller) noexcept {
  const std::size_t size = caller.struct_size;
  if (size < stats_header_size || size > IKEGUARD_STRUCT_SIZE_MAX) {
    return code(Errc::invalid_argument);
  }
  ikeguard_stats full{};
  full.struct_size = caller.struct_size;
  full.reserved = caller.reserved;
#define IKEGUARD_C_COPY_COUNTER(name, help) full.name = counted.name;
  IKEGUARD_COUNTERS(IKEGUARD_C_COPY_COUNTER, IKEGUARD_C_COPY_COUNTER)
#undef IKEGUARD_C_COPY_COUNTER
  const std::size_t whole_counters =
      std::min(counter_count, (size - stats_header_size) / sizeof(std::uint64_t));
  const std::size_t written = stats_header_size + whole_counters * sizeof(std::uint64_t);
  auto* bytes = reinterpret_cast<unsigned char*>(&caller);
  std::memcpy(bytes, &full, written);
  std::memset(bytes + written, 0, size - written);
  return IKEGUARD_OK;
}

}  // namespace ikeguard::c_api
