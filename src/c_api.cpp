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
  out.version = static_cast<ikeguard_ike_version>(notice.version);
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

/// The integer a C enum field or argument holds. C callers may store any int in one; reading it
/// as the enum type in C++ would be undefined for values outside the enumeration.
template <class Enum>
int raw(const Enum& value) noexcept {
  std::underlying_type_t<Enum> bits;
  std::memcpy(&bits, &value, sizeof bits);
  return static_cast<int>(bits);
}

bool valid_version(int version) noexcept {
  return version == ikeguard_ikev1 || version == ikeguard_ikev2;
}

bool valid_class(int notify_class) noexcept {
  return notify_class >= ikeguard_notify_configuration && notify_class <= ikeguard_notify_ignored;
}

/// The C++ notice; false for an unknown IKE version.
bool to_notice(const ikeguard_notice& in, ikeguard::Notice& out) noexcept {
  const int version = raw(in.version);
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

/// The C++ policy, or the code of the first invalid field in declaration order.
int to_policy(const ikeguard_policy& in, ikeguard::Policy& out) noexcept {
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
  policy.max_peers = in.max_peers;
  if (const Errc invalid = ikeguard::validate(policy); invalid != Errc::ok) return code(invalid);

  if (in.notify_override_count > IKEGUARD_MAX_NOTIFY_OVERRIDES) {
    return code(Errc::invalid_argument);
  }
  for (std::size_t i = 0; i < in.notify_override_count; ++i) {
    const ikeguard_notify_override& o = in.notify_overrides[i];
    const int version = raw(o.version);
    const int notify_class = raw(o.notify_class);
    if (!valid_version(version) || !valid_class(notify_class)) return code(Errc::invalid_argument);
    policy.notify_classes.set(static_cast<ikeguard::IkeVersion>(version), o.type,
                              static_cast<ikeguard::NotifyClass>(notify_class));
  }
  out = policy;
  return IKEGUARD_OK;
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
  out.verdict = static_cast<ikeguard_verdict>(in.verdict);
  out.until_ns = to_ns(in.until);
  out.strikes = in.strikes;
}

void fail_open(ikeguard_decision* decision) noexcept {
  if (decision != nullptr) *decision = ikeguard_decision{ikeguard_verdict_proceed, 0, 0};
}

void fail_open(ikeguard_error_outcome* outcome) noexcept {
  if (outcome != nullptr) *outcome = ikeguard_error_outcome{ikeguard_action_ignored, 0, 0};
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

/// The handle (`ikeguard` in C): the guard and the adapters it holds references to.
struct ikeguard_handle {
  ikeguard_handle(const ikeguard_clock* c_clock, const ikeguard_transport* c_transport) noexcept
      : custom_clock(c_clock != nullptr ? *c_clock : ikeguard_clock{}),
        uses_custom_clock(c_clock != nullptr),
        transport(c_transport) {}

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
  CTransport transport;
  std::unique_ptr<ikeguard::NegotiationGuard> guard;
};

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

IKEGUARD_API void ikeguard_policy_init(ikeguard_policy* policy) {
  if (policy == nullptr) return;
  const ikeguard::Policy defaults;
  *policy = ikeguard_policy{};
  policy->receiver_window_ms = to_ms(defaults.receiver_window);
  policy->sender_window_ms = to_ms(defaults.sender_window);
  policy->backoff = defaults.backoff;
  policy->max_window_ms = to_ms(defaults.max_window);
  policy->unauthenticated_confirmations = defaults.unauthenticated_confirmations;
  policy->retry_delay_ms = to_ms(defaults.retry_delay);
  policy->jitter = defaults.jitter;
  policy->forgive_after_ms = to_ms(defaults.forgive_after);
  policy->max_peers = defaults.max_peers;
  policy->notify_override_count = 0;
}

IKEGUARD_API int ikeguard_policy_validate(const ikeguard_policy* policy) {
  if (policy == nullptr) return code(Errc::invalid_argument);
  ikeguard::Policy converted;
  return to_policy(*policy, converted);
}

IKEGUARD_API int ikeguard_policy_set_notify_class(ikeguard_policy* policy,
                                                  ikeguard_ike_version version, uint16_t type,
                                                  ikeguard_notify_class notify_class) {
  const int new_version = raw(version);
  const int new_class = raw(notify_class);
  if (policy == nullptr || !valid_version(new_version) || !valid_class(new_class) ||
      policy->notify_override_count > IKEGUARD_MAX_NOTIFY_OVERRIDES) {
    return code(Errc::invalid_argument);
  }
  for (std::size_t i = 0; i < policy->notify_override_count; ++i) {
    ikeguard_notify_override& o = policy->notify_overrides[i];
    if (raw(o.version) == new_version && o.type == type) {
      o.notify_class = static_cast<ikeguard_notify_class>(new_class);
      return IKEGUARD_OK;
    }
  }
  if (policy->notify_override_count == IKEGUARD_MAX_NOTIFY_OVERRIDES) {
    return code(Errc::invalid_argument);
  }
  policy->notify_overrides[policy->notify_override_count++] =
      ikeguard_notify_override{static_cast<ikeguard_ike_version>(new_version), type,
                               static_cast<ikeguard_notify_class>(new_class)};
  return IKEGUARD_OK;
}

IKEGUARD_API int ikeguard_policy_notify_class(const ikeguard_policy* policy,
                                              ikeguard_ike_version version, uint16_t type) {
  const int asked = raw(version);
  if (policy == nullptr || !valid_version(asked)) return code(Errc::invalid_argument);
  ikeguard::Policy converted;
  if (const int status = to_policy(*policy, converted); status != IKEGUARD_OK) return status;
  return static_cast<int>(
      converted.notify_classes.classify(static_cast<ikeguard::IkeVersion>(asked), type));
}

IKEGUARD_API int ikeguard_create(ikeguard_handle** out, const ikeguard_policy* policy,
                                 const ikeguard_clock* clock, const ikeguard_transport* transport) {
  if (out == nullptr) return code(Errc::invalid_argument);
  *out = nullptr;
  if (clock != nullptr && clock->now == nullptr) return code(Errc::invalid_argument);
  return boundary([&]() -> int {
    ikeguard::Policy converted;
    if (policy != nullptr) {
      if (const int status = to_policy(*policy, converted); status != IKEGUARD_OK) return status;
    }
    std::unique_ptr<ikeguard_handle> handle(new (std::nothrow) ikeguard_handle(clock, transport));
    if (!handle) return code(Errc::out_of_memory);
    auto created =
        ikeguard::NegotiationGuard::create(converted, handle->clock(), handle->transport);
    if (!created) return code(created.error());
    handle->guard = std::move(created.value());
    *out = handle.release();
    return IKEGUARD_OK;
  });
}

IKEGUARD_API void ikeguard_destroy(ikeguard_handle* guard) { delete guard; }

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
                                           const ikeguard_notice* notice, ikeguard_origin origin,
                                           ikeguard_error_outcome* outcome) {
  fail_open(outcome);
  const int how = raw(origin);
  ikeguard::Notice cpp_notice;
  if (guard == nullptr || notice == nullptr || outcome == nullptr ||
      !to_notice(*notice, cpp_notice) || how < ikeguard_origin_authenticated ||
      how > ikeguard_origin_unsolicited) {
    return code(Errc::invalid_argument);
  }
  ikeguard::PeerKey key;
  if (const int status = to_peer(peer, peer_len, scope, key); status != IKEGUARD_OK) return status;
  return boundary([&] {
    const ikeguard::ErrorOutcome result =
        guard->guard->on_inbound_error(key, cpp_notice, static_cast<ikeguard::Origin>(how));
    outcome->action = static_cast<ikeguard_error_action>(result.action);
    outcome->until_ns = to_ns(result.until);
    outcome->strikes = result.strikes;
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
  const ikeguard::Stats s = guard->guard->stats();
  stats->proceeded_outbound = s.proceeded_outbound;
  stats->held_outbound = s.held_outbound;
  stats->proceeded_inbound = s.proceeded_inbound;
  stats->dropped_inbound = s.dropped_inbound;
  stats->notices_sent = s.notices_sent;
  stats->notices_suppressed = s.notices_suppressed;
  stats->errors_honoured = s.errors_honoured;
  stats->retried_now = s.retried_now;
  stats->retried_later = s.retried_later;
  stats->awaiting_confirmation = s.awaiting_confirmation;
  stats->ignored = s.ignored;
  stats->unsolicited = s.unsolicited;
  stats->fingerprint_lifts = s.fingerprint_lifts;
  stats->established = s.established;
  stats->evictions = s.evictions;
  stats->peers_tracked = s.peers_tracked;
  stats->capacity = s.capacity;
  stats->table_bytes = s.table_bytes;
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
  ikeguard::SnapshotKey snapshot_key;
  std::memcpy(snapshot_key.bytes.data(), key, snapshot_key.bytes.size());
  const auto result = guard->guard->snapshot(out, size, snapshot_key);
  sodium_memzero(snapshot_key.bytes.data(), snapshot_key.bytes.size());
  if (!result) return code(result.error());
  *written = result.value();
  return IKEGUARD_OK;
}

IKEGUARD_API int ikeguard_restore(ikeguard_handle* guard, const void* data, size_t size,
                                  const unsigned char key[IKEGUARD_SNAPSHOT_KEY_BYTES],
                                  ikeguard_restore_report* report) {
  if (report != nullptr) *report = ikeguard_restore_report{0, 0};
  if (guard == nullptr || data == nullptr || key == nullptr || report == nullptr) {
    return code(Errc::invalid_argument);
  }
  ikeguard::SnapshotKey snapshot_key;
  std::memcpy(snapshot_key.bytes.data(), key, snapshot_key.bytes.size());
  ikeguard::RestoreReport done;
  auto result = ikeguard::NegotiationGuard::create_restored(guard->guard->policy(), guard->clock(),
                                                  guard->transport, data, size, snapshot_key, &done);
  sodium_memzero(snapshot_key.bytes.data(), snapshot_key.bytes.size());
  if (!result) return code(result.error());
  guard->guard = std::move(result).value();
  report->restored = done.restored;
  report->dropped = done.dropped;
  return IKEGUARD_OK;
}

}  // extern "C"
