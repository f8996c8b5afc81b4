// SPDX-License-Identifier: MIT
// The C API (ikeguard.h) over NegotiationGuard (and the wire codec, for
// ikeguard_fingerprint_message). Every entry point validates every pointer and value it is given,
// and no exception crosses it ({fmt}'s fmt-c.cc does the same).
#include <ikeguard/ikeguard.h>

#include <ikeguard/guard.hpp>
#include <ikeguard/wire/ikev1.hpp>
#include <ikeguard/wire/ikev2.hpp>
#include <ikeguard/wire/proposal.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <type_traits>

#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>

#if IKEGUARD_HAS_EXCEPTIONS
#  include <exception>
#endif

namespace {

namespace wire = ikeguard::wire;
using ikeguard::Duration;
using ikeguard::Errc;

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

// The layout of every struct in ikeguard.h is the contract: the same on every ABI (LP64, ILP32
// with its 4-byte-aligned uint64_t, -fshort-enums), so each size and offset is pinned here.
static_assert(sizeof(ikeguard_notice) == 24 && alignof(ikeguard_notice) <= 8);
static_assert(offsetof(ikeguard_notice, version) == 0);
static_assert(offsetof(ikeguard_notice, reserved) == 1);
static_assert(offsetof(ikeguard_notice, type) == 2);
static_assert(offsetof(ikeguard_notice, message_id) == 4);
static_assert(offsetof(ikeguard_notice, initiator_spi) == 8);
static_assert(offsetof(ikeguard_notice, responder_spi) == 16);

static_assert(sizeof(ikeguard_notify_override) == 4);
static_assert(offsetof(ikeguard_notify_override, version) == 0);
static_assert(offsetof(ikeguard_notify_override, notify_class) == 1);
static_assert(offsetof(ikeguard_notify_override, type) == 2);

static_assert(sizeof(ikeguard_policy) == 216);
static_assert(offsetof(ikeguard_policy, struct_size) == 0);
static_assert(offsetof(ikeguard_policy, reserved0) == 4);
static_assert(offsetof(ikeguard_policy, receiver_window_ms) == 8);
static_assert(offsetof(ikeguard_policy, sender_window_ms) == 16);
static_assert(offsetof(ikeguard_policy, backoff) == 24);
static_assert(offsetof(ikeguard_policy, max_window_ms) == 32);
static_assert(offsetof(ikeguard_policy, unauthenticated_confirmations) == 40);
static_assert(offsetof(ikeguard_policy, reserved1) == 44);
static_assert(offsetof(ikeguard_policy, retry_delay_ms) == 48);
static_assert(offsetof(ikeguard_policy, jitter) == 56);
static_assert(offsetof(ikeguard_policy, forgive_after_ms) == 64);
static_assert(offsetof(ikeguard_policy, max_peers) == 72);
static_assert(offsetof(ikeguard_policy, notify_override_count) == 80);
static_assert(offsetof(ikeguard_policy, reserved2) == 84);
static_assert(offsetof(ikeguard_policy, notify_overrides) == 88);
static_assert(IKEGUARD_POLICY_MIN_SIZE == offsetof(ikeguard_policy, notify_override_count));
static_assert(sizeof(double) == 8 && std::numeric_limits<double>::is_iec559);

static_assert(sizeof(ikeguard_decision) == 16);
static_assert(offsetof(ikeguard_decision, verdict) == 0);
static_assert(offsetof(ikeguard_decision, reserved) == 1);
static_assert(offsetof(ikeguard_decision, strikes) == 4);
static_assert(offsetof(ikeguard_decision, until_ns) == 8);

static_assert(sizeof(ikeguard_error_outcome) == 16);
static_assert(offsetof(ikeguard_error_outcome, action) == 0);
static_assert(offsetof(ikeguard_error_outcome, reserved) == 1);
static_assert(offsetof(ikeguard_error_outcome, strikes) == 4);
static_assert(offsetof(ikeguard_error_outcome, until_ns) == 8);

static_assert(sizeof(ikeguard_restore_report) == 16);
static_assert(offsetof(ikeguard_restore_report, restored) == 0);
static_assert(offsetof(ikeguard_restore_report, dropped) == 8);

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
static_assert(sizeof(ikeguard_stats) == 152);
static_assert(IKEGUARD_STRUCT_SIZE_MAX >= sizeof(ikeguard_policy) &&
              IKEGUARD_STRUCT_SIZE_MAX <= std::numeric_limits<std::uint32_t>::max());

constexpr int code(Errc error) noexcept { return -static_cast<int>(error); }

// A C clock's reading is capped here (2^62 ns, 146 years): a larger uint64_t would turn into a
// negative time, and a time near the end of the range leaves no room to add a window to it.
constexpr std::uint64_t clock_limit = std::uint64_t{1} << 62;

class CClock final : public ikeguard::Clock {
 public:
  explicit CClock(const ikeguard_clock& clock) noexcept : clock_(clock) {}
  ikeguard::TimePoint now() const noexcept override {
    const std::uint64_t ns = std::min(clock_.now(clock_.ctx), clock_limit);
    return ikeguard::TimePoint(Duration(static_cast<Duration::rep>(ns)));
  }

 private:
  ikeguard_clock clock_;
};

/// The peer as the daemon's sockets see it: sockaddr_in or sockaddr_in6.
struct SocketAddress {
  sockaddr_storage storage{};
  std::size_t length = 0;
};

SocketAddress to_sockaddr(const ikeguard::PeerKey& peer) noexcept {
  SocketAddress out;
  if (peer.family() == ikeguard::PeerKey::Family::ipv4) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(peer.port());
    std::memcpy(&in.sin_addr, peer.address().data(), 4);
    std::memcpy(&out.storage, &in, sizeof in);
    out.length = sizeof in;
  } else {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(peer.port());
    std::memcpy(&in6.sin6_addr, peer.address().data(), 16);
    std::memcpy(&out.storage, &in6, sizeof in6);
    out.length = sizeof in6;
  }
  return out;
}

ikeguard_notice to_c(const ikeguard::Notice& notice) noexcept {
  ikeguard_notice out{};
  out.version = static_cast<std::uint8_t>(notice.version);
  out.type = notice.type;
  out.initiator_spi = notice.initiator_spi;
  out.responder_spi = notice.responder_spi;
  out.message_id = notice.message_id;
  return out;
}

class CTransport final : public ikeguard::Transport {
 public:
  explicit CTransport(const ikeguard_transport* transport) noexcept {
    if (transport != nullptr) transport_ = *transport;
  }
  void send_notice(const ikeguard::PeerKey& peer, const ikeguard::Notice& notice) override {
    if (transport_.send_notice == nullptr) return;
    const SocketAddress address = to_sockaddr(peer);
    const ikeguard_notice c_notice = to_c(notice);
    transport_.send_notice(transport_.ctx, reinterpret_cast<const sockaddr*>(&address.storage),
                           address.length, peer.scope(), &c_notice);
  }

 private:
  ikeguard_transport transport_{};
};

bool valid_version(int version) noexcept {
  return version == ikeguard_ikev1 || version == ikeguard_ikev2;
}

bool valid_class(int notify_class) noexcept {
  return notify_class >= ikeguard_notify_configuration && notify_class <= ikeguard_notify_ignored;
}

/// The C++ notice; false for an unknown IKE version.
bool to_notice(const ikeguard_notice& in, ikeguard::Notice& out) noexcept {
  const int version = in.version;
  if (!valid_version(version)) return false;
  out = ikeguard::Notice{static_cast<ikeguard::IkeVersion>(version), in.type, in.initiator_spi,
                         in.responder_spi, in.message_id};
  return true;
}

/// Milliseconds to the C++ duration; false when it does not fit (more than 2^63 - 1 ns).
bool to_duration(std::uint64_t ms, Duration& out) noexcept {
  constexpr auto most =
      static_cast<std::uint64_t>(std::numeric_limits<Duration::rep>::max() / 1000000);
  if (ms > most) return false;
  out = std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(ms));
  return true;
}

std::uint64_t to_ms(Duration duration) noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(duration).count());
}

// A policy's struct_size is read in steps of whole fields (ikeguard.h): the fields up to
// max_peers are one step (IKEGUARD_POLICY_MIN_SIZE), the notify overrides the next.
constexpr std::size_t policy_steps[] = {IKEGUARD_POLICY_MIN_SIZE, sizeof(ikeguard_policy)};

/// The bytes of a caller's policy this library reads: the largest step inside struct_size.
std::size_t known_policy_bytes(std::size_t struct_size) noexcept {
  std::size_t known = 0;
  for (const std::size_t step : policy_steps) {
    if (step <= struct_size) known = step;
  }
  return known;
}

bool all_zero(const unsigned char* bytes, std::size_t size) noexcept {
  return std::all_of(bytes, bytes + size, [](unsigned char byte) { return byte == 0; });
}

ikeguard_policy default_policy() noexcept {
  const ikeguard::Policy defaults;
  ikeguard_policy policy{};
  policy.struct_size = sizeof policy;
  policy.receiver_window_ms = to_ms(defaults.receiver_window);
  policy.sender_window_ms = to_ms(defaults.sender_window);
  policy.backoff = defaults.backoff;
  policy.max_window_ms = to_ms(defaults.max_window);
  policy.unauthenticated_confirmations = defaults.unauthenticated_confirmations;
  policy.retry_delay_ms = to_ms(defaults.retry_delay);
  policy.jitter = defaults.jitter;
  policy.forgive_after_ms = to_ms(defaults.forgive_after);
  policy.max_peers = defaults.max_peers;
  policy.notify_override_count = 0;
  return policy;
}

/// The caller's policy as this library's struct: the fields inside its struct_size, defaults
/// for the rest. invalid_argument for a struct_size outside the rules, a non-zero byte in a tail
/// this library does not know, or a non-zero reserved field.
int read_policy(const ikeguard_policy& in, ikeguard_policy& out) noexcept {
  const std::size_t size = in.struct_size;
  if (size < IKEGUARD_POLICY_MIN_SIZE || size > IKEGUARD_STRUCT_SIZE_MAX) {
    return code(Errc::invalid_argument);
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(&in);
  if (size > sizeof(ikeguard_policy) &&
      !all_zero(bytes + sizeof(ikeguard_policy), size - sizeof(ikeguard_policy))) {
    return code(Errc::invalid_argument);
  }
  out = default_policy();
  std::memcpy(&out, bytes, known_policy_bytes(size));
  out.struct_size = sizeof out;
  if (out.reserved0 != 0 || out.reserved1 != 0 || out.reserved2 != 0) {
    return code(Errc::invalid_argument);
  }
  return IKEGUARD_OK;
}

/// The C++ policy: invalid_argument as read_policy() says, or the code of the first invalid
/// field in declaration order.
int to_policy(const ikeguard_policy& caller, ikeguard::Policy& out) noexcept {
  ikeguard_policy in;
  if (const int status = read_policy(caller, in); status != IKEGUARD_OK) return status;
  ikeguard::Policy policy;
  // A duration too long for the C++ type becomes zero: refused at its own field, in order.
  const auto duration = [](std::uint64_t ms) {
    Duration converted{};
    return to_duration(ms, converted) ? converted : Duration::zero();
  };
  policy.receiver_window = duration(in.receiver_window_ms);
  policy.sender_window = duration(in.sender_window_ms);
  policy.backoff = in.backoff;
  policy.max_window = duration(in.max_window_ms);
  policy.unauthenticated_confirmations = in.unauthenticated_confirmations;
  policy.retry_delay = duration(in.retry_delay_ms);
  policy.jitter = in.jitter;
  policy.forgive_after = duration(in.forgive_after_ms);
  // Beyond the limit is refused as max_peers; min() keeps it so where size_t is 32 bits.
  policy.max_peers = static_cast<std::size_t>(
      std::min<std::uint64_t>(in.max_peers, std::uint64_t{ikeguard::max_peers_limit} + 1));
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
int to_policy_or_defaults(const ikeguard_policy* in, ikeguard::Policy& out) noexcept {
  if (in == nullptr) {
    out = ikeguard::Policy{};
    return IKEGUARD_OK;
  }
  return to_policy(*in, out);
}

/// The peer key from what the daemon's socket gave it.
int to_peer(const sockaddr* address, std::size_t length, std::uint32_t scope,
            ikeguard::PeerKey& out) noexcept {
  if (address == nullptr) return code(Errc::invalid_argument);
  // Read the family only from a buffer long enough to hold it.
  if (length < offsetof(sockaddr, sa_family) + sizeof(sa_family_t)) {
    return code(Errc::unsupported_address_family);
  }
  const auto peer = ikeguard::PeerKey::from_sockaddr(address, length, scope);
  if (!peer) return code(Errc::unsupported_address_family);
  out = *peer;
  return IKEGUARD_OK;
}

std::uint64_t to_ns(ikeguard::TimePoint time) noexcept {
  const Duration::rep ns = time.time_since_epoch().count();
  return ns < 0 ? 0 : static_cast<std::uint64_t>(ns);
}

void to_c(const ikeguard::Decision& in, ikeguard_decision& out) noexcept {
  out = ikeguard_decision{};
  out.verdict = static_cast<std::uint8_t>(in.verdict);
  out.strikes = in.strikes;
  out.until_ns = to_ns(in.until);
}

void to_c(const ikeguard::ErrorOutcome& in, ikeguard_error_outcome& out) noexcept {
  out = ikeguard_error_outcome{};
  out.action = static_cast<std::uint8_t>(in.action);
  out.strikes = in.strikes;
  out.until_ns = to_ns(in.until);
}

void fail_open(ikeguard_decision* decision) noexcept {
  if (decision == nullptr) return;
  *decision = ikeguard_decision{};
  decision->verdict = ikeguard_verdict_proceed;
}

void fail_open(ikeguard_error_outcome* outcome) noexcept {
  if (outcome == nullptr) return;
  *outcome = ikeguard_error_outcome{};
  outcome->action = ikeguard_action_ignored;
}

/// Runs `body`; an exception that escapes it becomes a code here, at the boundary.
template <class Body>
int boundary(Body&& body) noexcept {
#if IKEGUARD_HAS_EXCEPTIONS
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return code(Errc::out_of_memory);
  } catch (...) {
    return code(Errc::internal_error);
  }
#else
  return body();
#endif
}

// The canonical proposals of the largest SA payload the codec parses: a count byte, then per
// proposal two bytes and five per transform (wire::canonical_proposals).
constexpr std::size_t max_canonical_size =
    1 + wire::max_proposals * (2 + 5 * wire::max_transforms);

/// What ikeguard_fingerprint_message() fingerprints in `message`: for IKEv2 the canonical
/// proposals of its SA payload, written into `scratch`; for IKEv1 the body of its first SA
/// payload, a view into `message`. Empty data (nullptr) when there is nothing to fingerprint.
wire::Bytes offered_bytes(wire::Bytes message, wire::MutableBytes scratch) noexcept {
  if (message.data == nullptr || message.size < wire::ike_header_size) return {};
  switch (message.data[17] >> 4) {  // the major version
    case 1: {
      const auto parsed = wire::parse_ikev1(message);  // encrypted: no payload parsed, no sa
      return parsed ? parsed->sa : wire::Bytes{};
    }
    case 2: {
      const auto parsed = wire::parse_ikev2(message);
      if (!parsed || parsed->sa.data == nullptr) return {};
      const auto proposals = wire::parse_sa_payload(parsed->sa);
      if (!proposals) return {};
      const auto written = wire::canonical_proposals(scratch, proposals.value());
      if (!written) return {};
      return {scratch.data, written.value()};
    }
    default:
      return {};
  }
}

}  // namespace

/// The handle (`ikeguard` in C): the adapters the guard holds references to, then the guard.
/// From ikeguard_create() both are allocated; from ikeguard_create_in() both live in the
/// caller's buffer, the handle first, so the adapters outlive the guard built after them.
struct ikeguard_handle {
  ikeguard_handle(const ikeguard_clock* c_clock, const ikeguard_transport* c_transport,
                  bool in_buffer) noexcept
      : custom_clock(c_clock != nullptr ? *c_clock : ikeguard_clock{}),
        uses_custom_clock(c_clock != nullptr),
        in_caller_memory(in_buffer),
        transport(c_transport) {}
  ~ikeguard_handle() {
    if (in_caller_memory && guard != nullptr) std::destroy_at(guard);
  }
  ikeguard_handle(const ikeguard_handle&) = delete;
  ikeguard_handle& operator=(const ikeguard_handle&) = delete;

  ikeguard::Clock& clock() noexcept {
    if (uses_custom_clock) return custom_clock;
    return steady_clock;
  }
  const ikeguard::Clock& clock() const noexcept {
    if (uses_custom_clock) return custom_clock;
    return steady_clock;
  }

  ikeguard::SteadyClock steady_clock;
  CClock custom_clock;
  bool uses_custom_clock;
  bool in_caller_memory;  // made by ikeguard_create_in(): nothing to free
  CTransport transport;
  std::unique_ptr<ikeguard::NegotiationGuard> owned_guard;  // empty when in_caller_memory
  ikeguard::NegotiationGuard* guard = nullptr;
};

namespace {

// ikeguard_create_in()'s buffer: the handle at the first suitably aligned address, then the
// guard's own region (NegotiationGuard::create_in aligns inside it).
constexpr std::size_t handle_span =
    (sizeof(ikeguard_handle) + alignof(std::max_align_t) - 1) / alignof(std::max_align_t) *
    alignof(std::max_align_t);
constexpr std::size_t handle_slack = alignof(ikeguard_handle) - 1;

std::size_t estimate_in_buffer(const ikeguard::Policy& policy) noexcept {
  const std::size_t guard_bytes = ikeguard::NegotiationGuard::estimate_size(policy);
  if (guard_bytes == 0) return 0;
  return handle_slack + handle_span + guard_bytes;
}

/// The checks every create call makes first: a place for the handle (reset to NULL), a clock
/// with a function, a valid policy.
int begin_create(ikeguard_handle** out, const ikeguard_policy* policy, const ikeguard_clock* clock,
                 ikeguard::Policy& converted) noexcept {
  if (out == nullptr) return code(Errc::invalid_argument);
  *out = nullptr;
  if (clock != nullptr && clock->now == nullptr) return code(Errc::invalid_argument);
  return to_policy_or_defaults(policy, converted);
}

/// The C++ snapshot key from the daemon's bytes; wiped by the caller with sodium_memzero.
ikeguard::SnapshotKey to_key(const unsigned char* key) noexcept {
  ikeguard::SnapshotKey snapshot_key;
  std::memcpy(snapshot_key.bytes.data(), key, snapshot_key.bytes.size());
  return snapshot_key;
}

}  // namespace

extern "C" {

IKEGUARD_API unsigned ikeguard_version_number(void) { return IKEGUARD_VERSION; }

IKEGUARD_API const char* ikeguard_version_string(void) { return IKEGUARD_VERSION_STRING; }

IKEGUARD_API const char* ikeguard_strerror(int code) {
  switch (code) {
#define IKEGUARD_C_STRERROR_(name, number, text) \
  case -(number):                                \
    return text;
    IKEGUARD_ERRORS(IKEGUARD_C_STRERROR_)
#undef IKEGUARD_C_STRERROR_
    default:
      return "unknown error";
  }
}

IKEGUARD_API const char* ikeguard_err_name(int code) {
  switch (code) {
#define IKEGUARD_C_ERR_NAME_(name, number, text) \
  case -(number):                                \
    return "ikeguard_error_" #name;
    IKEGUARD_ERRORS(IKEGUARD_C_ERR_NAME_)
#undef IKEGUARD_C_ERR_NAME_
    default:
      return "unknown";
  }
}

IKEGUARD_API void ikeguard_policy_init_sized(ikeguard_policy* policy, size_t struct_size) {
  if (policy == nullptr || struct_size < IKEGUARD_POLICY_MIN_SIZE ||
      struct_size > IKEGUARD_STRUCT_SIZE_MAX) {
    return;
  }
  ikeguard_policy defaults = default_policy();
  defaults.struct_size = static_cast<std::uint32_t>(struct_size);
  auto* bytes = reinterpret_cast<unsigned char*>(policy);
  const std::size_t known = known_policy_bytes(struct_size);
  std::memcpy(bytes, &defaults, known);
  std::memset(bytes + known, 0, struct_size - known);
}

IKEGUARD_API int ikeguard_policy_validate(const ikeguard_policy* policy) {
  if (policy == nullptr) return code(Errc::invalid_argument);
  ikeguard::Policy converted;
  return to_policy(*policy, converted);
}

IKEGUARD_API int ikeguard_policy_set_notify_class(ikeguard_policy* policy, int version,
                                                  uint16_t type, int notify_class) {
  if (policy == nullptr || !valid_version(version) || !valid_class(notify_class)) {
    return code(Errc::invalid_argument);
  }
  ikeguard_policy known;
  if (read_policy(*policy, known) != IKEGUARD_OK ||
      known_policy_bytes(policy->struct_size) < sizeof(ikeguard_policy) ||
      policy->notify_override_count > IKEGUARD_MAX_NOTIFY_OVERRIDES) {
    return code(Errc::invalid_argument);
  }
  for (std::size_t i = 0; i < policy->notify_override_count; ++i) {
    ikeguard_notify_override& o = policy->notify_overrides[i];
    if (o.version == version && o.type == type) {
      o.notify_class = static_cast<std::uint8_t>(notify_class);
      return IKEGUARD_OK;
    }
  }
  if (policy->notify_override_count == IKEGUARD_MAX_NOTIFY_OVERRIDES) {
    return code(Errc::invalid_argument);
  }
  ikeguard_notify_override& added = policy->notify_overrides[policy->notify_override_count++];
  added.version = static_cast<std::uint8_t>(version);
  added.notify_class = static_cast<std::uint8_t>(notify_class);
  added.type = type;
  return IKEGUARD_OK;
}

IKEGUARD_API int ikeguard_policy_notify_class(const ikeguard_policy* policy, int version,
                                              uint16_t type) {
  if (policy == nullptr || !valid_version(version)) return code(Errc::invalid_argument);
  ikeguard::Policy converted;
  if (const int status = to_policy(*policy, converted); status != IKEGUARD_OK) return status;
  return static_cast<int>(
      converted.notify_classes.classify(static_cast<ikeguard::IkeVersion>(version), type));
}

IKEGUARD_API int ikeguard_create(ikeguard_handle** out, const ikeguard_policy* policy,
                                 const ikeguard_clock* clock, const ikeguard_transport* transport) {
  ikeguard::Policy converted;
  if (const int status = begin_create(out, policy, clock, converted); status != IKEGUARD_OK) {
    return status;
  }
  return boundary([&]() -> int {
    std::unique_ptr<ikeguard_handle> handle(new (std::nothrow)
                                                ikeguard_handle(clock, transport, false));
    if (!handle) return code(Errc::out_of_memory);
    auto created =
        ikeguard::NegotiationGuard::create(converted, handle->clock(), handle->transport);
    if (!created) return code(created.error());
    handle->owned_guard = std::move(created.value());
    handle->guard = handle->owned_guard.get();
    *out = handle.release();
    return IKEGUARD_OK;
  });
}

IKEGUARD_API size_t ikeguard_estimate_size(const ikeguard_policy* policy) {
  ikeguard::Policy converted;
  if (to_policy_or_defaults(policy, converted) != IKEGUARD_OK) return 0;
  return estimate_in_buffer(converted);
}

IKEGUARD_API int ikeguard_create_in(ikeguard_handle** out, void* buffer, size_t size,
                                    const ikeguard_policy* policy, const ikeguard_clock* clock,
                                    const ikeguard_transport* transport) {
  ikeguard::Policy converted;
  if (const int status = begin_create(out, policy, clock, converted); status != IKEGUARD_OK) {
    return status;
  }
  if (buffer == nullptr) return code(Errc::invalid_argument);
  // Checked before a byte is written, so a short buffer is left as it was.
  const std::size_t needed = estimate_in_buffer(converted);
  if (needed == 0 || size < needed) return code(Errc::buffer_too_small);

  void* start = buffer;
  std::size_t space = size;
  if (std::align(alignof(ikeguard_handle), sizeof(ikeguard_handle), start, space) == nullptr) {
    return code(Errc::buffer_too_small);
  }
  auto* handle = ::new (start) ikeguard_handle(clock, transport, true);
  unsigned char* guard_region = static_cast<unsigned char*>(start) + handle_span;
  const std::size_t guard_size = space - handle_span;
  auto created = ikeguard::NegotiationGuard::create_in(guard_region, guard_size, converted,
                                                       handle->clock(), handle->transport);
  if (!created) {
    std::destroy_at(handle);
    return code(created.error());
  }
  handle->guard = created.value();
  *out = handle;
  return IKEGUARD_OK;
}

IKEGUARD_API int ikeguard_create_restored(ikeguard_handle** out, const ikeguard_policy* policy,
                                          const ikeguard_clock* clock,
                                          const ikeguard_transport* transport, const void* data,
                                          size_t size,
                                          const unsigned char key[IKEGUARD_SNAPSHOT_KEY_BYTES],
                                          ikeguard_restore_report* report) {
  if (report != nullptr) *report = ikeguard_restore_report{0, 0};
  ikeguard::Policy converted;
  if (const int status = begin_create(out, policy, clock, converted); status != IKEGUARD_OK) {
    return status;
  }
  if (data == nullptr || key == nullptr) return code(Errc::invalid_argument);
  return boundary([&]() -> int {
    std::unique_ptr<ikeguard_handle> handle(new (std::nothrow)
                                                ikeguard_handle(clock, transport, false));
    if (!handle) return code(Errc::out_of_memory);
    ikeguard::SnapshotKey snapshot_key = to_key(key);
    ikeguard::RestoreReport restored;
    auto created = ikeguard::NegotiationGuard::create_restored(
        converted, handle->clock(), handle->transport, data, size, snapshot_key, &restored);
    sodium_memzero(snapshot_key.bytes.data(), snapshot_key.bytes.size());
    if (!created) return code(created.error());
    handle->owned_guard = std::move(created.value());
    handle->guard = handle->owned_guard.get();
    if (report != nullptr) *report = ikeguard_restore_report{restored.restored, restored.dropped};
    *out = handle.release();
    return IKEGUARD_OK;
  });
}

IKEGUARD_API void ikeguard_destroy(ikeguard_handle* guard) {
  if (guard == nullptr) return;
  if (guard->in_caller_memory) {
    std::destroy_at(guard);  // and the guard inside the buffer; nothing to free
  } else {
    delete guard;
  }
}

IKEGUARD_API uint64_t ikeguard_now(const ikeguard_handle* guard) {
  if (guard == nullptr) return 0;
  return to_ns(guard->clock().now());
}

IKEGUARD_API uint64_t ikeguard_fingerprint(const ikeguard_handle* guard, const void* data,
                                           size_t size) {
  if (guard == nullptr || (data == nullptr && size != 0)) return 0;
  static const unsigned char empty = 0;
  return guard->guard->fingerprint(data != nullptr ? data : &empty, size).value();
}

IKEGUARD_API uint64_t ikeguard_fingerprint_message(const ikeguard_handle* guard, const void* data,
                                                   size_t size) {
  if (guard == nullptr || data == nullptr) return 0;
  // Every call below is noexcept and allocates nothing: the scratch buffer is on the stack.
  std::array<std::uint8_t, max_canonical_size> scratch;
  const wire::Bytes offered =
      offered_bytes(wire::Bytes{static_cast<const std::uint8_t*>(data), size},
                    wire::MutableBytes{scratch.data(), scratch.size()});
  if (offered.data == nullptr) return 0;
  return guard->guard->fingerprint(offered.data, offered.size).value();
}

IKEGUARD_API int ikeguard_on_outbound_proposal(ikeguard_handle* guard, const struct sockaddr* peer,
                                               size_t peer_len, uint32_t scope,
                                               uint64_t fingerprint, ikeguard_decision* decision) {
  fail_open(decision);
  if (guard == nullptr || decision == nullptr) return code(Errc::invalid_argument);
  ikeguard::PeerKey key;
  if (const int status = to_peer(peer, peer_len, scope, key); status != IKEGUARD_OK) return status;
  return boundary([&] {
    to_c(guard->guard->on_outbound_proposal(key, ikeguard::Fingerprint::from_value(fingerprint)),
         *decision);
    return IKEGUARD_OK;
  });
}

IKEGUARD_API int ikeguard_on_inbound_error(ikeguard_handle* guard, const struct sockaddr* peer,
                                           size_t peer_len, uint32_t scope,
                                           const ikeguard_notice* notice, int origin,
                                           ikeguard_error_outcome* outcome) {
  fail_open(outcome);
  ikeguard::Notice cpp_notice;
  if (guard == nullptr || notice == nullptr || outcome == nullptr ||
      !to_notice(*notice, cpp_notice) || origin < ikeguard_origin_authenticated ||
      origin > ikeguard_origin_unsolicited) {
    return code(Errc::invalid_argument);
  }
  ikeguard::PeerKey key;
  if (const int status = to_peer(peer, peer_len, scope, key); status != IKEGUARD_OK) return status;
  return boundary([&] {
    to_c(guard->guard->on_inbound_error(key, cpp_notice, static_cast<ikeguard::Origin>(origin)),
         *outcome);
    return IKEGUARD_OK;
  });
}

IKEGUARD_API int ikeguard_on_inbound_proposal(ikeguard_handle* guard, const struct sockaddr* peer,
                                              size_t peer_len, uint32_t scope, uint64_t fingerprint,
                                              ikeguard_decision* decision) {
  fail_open(decision);
  if (guard == nullptr || decision == nullptr) return code(Errc::invalid_argument);
  ikeguard::PeerKey key;
  if (const int status = to_peer(peer, peer_len, scope, key); status != IKEGUARD_OK) return status;
  return boundary([&] {
    to_c(guard->guard->on_inbound_proposal(key, ikeguard::Fingerprint::from_value(fingerprint)),
         *decision);
    return IKEGUARD_OK;
  });
}

IKEGUARD_API int ikeguard_on_local_rejection(ikeguard_handle* guard, const struct sockaddr* peer,
                                             size_t peer_len, uint32_t scope,
                                             const ikeguard_notice* notice, uint64_t fingerprint,
                                             ikeguard_decision* decision) {
  fail_open(decision);
  ikeguard::Notice cpp_notice;
  if (guard == nullptr || notice == nullptr || decision == nullptr ||
      !to_notice(*notice, cpp_notice)) {
    return code(Errc::invalid_argument);
  }
  ikeguard::PeerKey key;
  if (const int status = to_peer(peer, peer_len, scope, key); status != IKEGUARD_OK) return status;
  return boundary([&] {
    to_c(guard->guard->on_local_rejection(key, cpp_notice,
                                          ikeguard::Fingerprint::from_value(fingerprint)),
         *decision);
    return IKEGUARD_OK;
  });
}

IKEGUARD_API int ikeguard_on_established(ikeguard_handle* guard, const struct sockaddr* peer,
                                         size_t peer_len, uint32_t scope) {
  if (guard == nullptr) return code(Errc::invalid_argument);
  ikeguard::PeerKey key;
  if (const int status = to_peer(peer, peer_len, scope, key); status != IKEGUARD_OK) return status;
  guard->guard->on_established(key);
  return IKEGUARD_OK;
}

IKEGUARD_API int ikeguard_get_stats(const ikeguard_handle* guard, ikeguard_stats* stats) {
  if (guard == nullptr || stats == nullptr) return code(Errc::invalid_argument);
  const std::size_t size = stats->struct_size;
  if (size < stats_header_size || size > IKEGUARD_STRUCT_SIZE_MAX) {
    return code(Errc::invalid_argument);
  }
  const ikeguard::Stats counted = guard->guard->stats();
  ikeguard_stats full{};
  full.struct_size = stats->struct_size;
  full.reserved = stats->reserved;
#define IKEGUARD_C_COPY_COUNTER(name, help) full.name = counted.name;
  IKEGUARD_COUNTERS(IKEGUARD_C_COPY_COUNTER, IKEGUARD_C_COPY_COUNTER)
#undef IKEGUARD_C_COPY_COUNTER
  // The counters that end inside struct_size, then zeros up to it: never a byte past it.
  const std::size_t whole_counters =
      std::min(counter_count, (size - stats_header_size) / sizeof(std::uint64_t));
  const std::size_t written = stats_header_size + whole_counters * sizeof(std::uint64_t);
  auto* bytes = reinterpret_cast<unsigned char*>(stats);
  std::memcpy(bytes, &full, written);
  std::memset(bytes + written, 0, size - written);
  return IKEGUARD_OK;
}

IKEGUARD_API size_t ikeguard_snapshot_bound(const ikeguard_handle* guard) {
  if (guard == nullptr) return 0;
  return guard->guard->snapshot_bound();
}

IKEGUARD_API int ikeguard_snapshot(const ikeguard_handle* guard, void* out, size_t size,
                                   const unsigned char key[IKEGUARD_SNAPSHOT_KEY_BYTES],
                                   size_t* written) {
  if (written != nullptr) *written = 0;
  if (guard == nullptr || out == nullptr || key == nullptr || written == nullptr) {
    return code(Errc::invalid_argument);
  }
  ikeguard::SnapshotKey snapshot_key = to_key(key);
  const auto result = guard->guard->snapshot(out, size, snapshot_key);
  sodium_memzero(snapshot_key.bytes.data(), snapshot_key.bytes.size());
  if (!result) return code(result.error());
  *written = result.value();
  return IKEGUARD_OK;
}

}  // extern "C"
