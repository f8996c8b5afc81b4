// SPDX-License-Identifier: MIT
// The C API (ikeguard.h) over NegotiationGuard (and the wire codec, for
// ikeguard_fingerprint_message). Every entry point validates every pointer and value it is given,
// and no exception crosses it ({fmt}'s fmt-c.cc does the same).
#include <ikeguard/ikeguard.h>

#include "c_api_adapters.hpp"
#include "c_api_structs.hpp"

#include <ikeguard/guard.hpp>
#include <ikeguard/wire/ikev1.hpp>
#include <ikeguard/wire/ikev2.hpp>
#include <ikeguard/wire/proposal.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>

#if IKEGUARD_HAS_EXCEPTIONS
#  include <exception>
#endif

// The structs' rules and conversions (c_api_structs.hpp), the daemon's callbacks and addresses
// (c_api_adapters.hpp): the shim's own helpers, used by every entry point below.
using namespace ikeguard::c_api;

namespace {

namespace wire = ikeguard::wire;
using ikeguard::Duration;
using ikeguard::Errc;

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

/// A cluster node as C holds it.
struct ikeguard_cluster_node {
  ikeguard_cluster_node(std::uint64_t id, const ikeguard::ClusterKey& key, std::uint64_t first) noexcept
      : node(id, key, first) {}
  ikeguard::ClusterNode node;
};

/// The handle (`ikeguard` in C): the adapters the guard holds references to, then the guard.
/// From ikeguard_create() both are allocated; from ikeguard_create_in() both live in the
/// caller's buffer, the handle first, so the adapters outlive the guard built after them.
struct ikeguard_handle {
  ikeguard_handle(const ikeguard_clock* c_clock, const ikeguard_transport* c_transport,
                  bool in_buffer, const ikeguard_extras* c_extras = nullptr) noexcept
      : custom_clock(c_clock != nullptr ? *c_clock : ikeguard_clock{}),
        uses_custom_clock(c_clock != nullptr),
        in_caller_memory(in_buffer),
        transport(c_transport),
        event_sink(c_extras != nullptr ? c_extras->events : ikeguard_event_sink{}) {
    if (c_extras == nullptr) return;
    if (c_extras->events.on_event != nullptr) extras.events = &event_sink;
    if (c_extras->cluster != nullptr) extras.cluster = &c_extras->cluster->node;
  }
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
  CEventSink event_sink;
  ikeguard::GuardExtras extras;
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

/// Extras NULL, or within the struct_size rules with its reserved fields zero.
bool valid_extras(const ikeguard_extras* extras) noexcept {
  if (extras == nullptr) return true;
  return size_rules_hold(*extras, extras->struct_size, sizeof(ikeguard_extras)) &&
         extras->reserved == 0 && extras->reserved1 == 0;
}

/// The C++ snapshot key from the daemon's bytes; wiped by the caller with sodium_memzero.
ikeguard::SnapshotKey to_key(const unsigned char* key) noexcept {
  ikeguard::SnapshotKey snapshot_key;
  std::memcpy(snapshot_key.bytes.data(), key, snapshot_key.bytes.size());
  return snapshot_key;
}

// Both calls about a notice: the same checks (and the caller's own, `valid`), then `call` with
// the peer's key and the C++ notice, at the boundary.
template <class Answer, class Call>
int notice_call(ikeguard_handle* guard, const struct sockaddr* peer, size_t peer_len,
                uint32_t scope, const ikeguard_notice* notice, bool valid, Answer* answer,
                Call&& call) {
  fail_open(answer);
  ikeguard::Notice cpp_notice;
  if (guard == nullptr || notice == nullptr || answer == nullptr || !valid ||
      !to_notice(*notice, cpp_notice)) {
    return code(Errc::invalid_argument);
  }
  ikeguard::PeerKey key;
  if (const int status = to_peer(peer, peer_len, scope, key); status != IKEGUARD_OK) return status;
  return boundary([&] {
    to_c(call(*guard->guard, key, cpp_notice), *answer);
    return IKEGUARD_OK;
  });
}

// Both proposal calls: the same arguments, checks and answer.
using ProposalCall = ikeguard::Decision (ikeguard::NegotiationGuard::*)(
    const ikeguard::PeerKey&, const ikeguard::Fingerprint&) noexcept;
int proposal(ProposalCall call, ikeguard_handle* guard, const struct sockaddr* peer,
             size_t peer_len, uint32_t scope, uint64_t fingerprint, ikeguard_decision* decision) {
  fail_open(decision);
  if (guard == nullptr || decision == nullptr) return code(Errc::invalid_argument);
  ikeguard::PeerKey key;
  if (const int status = to_peer(peer, peer_len, scope, key); status != IKEGUARD_OK) return status;
  return boundary([&] {
    to_c(((*guard->guard).*call)(key, ikeguard::Fingerprint::from_value(fingerprint)), *decision);
    return IKEGUARD_OK;
  });
}
}  // namespace

namespace {

// A C burst, a chunk at a time into the C++ burst: its peers converted on the stack (nothing
// allocated), those that are no address left out and answered proceed.
template <bool Inbound>
int proposals(ikeguard_handle* guard, const struct sockaddr_storage* peers, std::size_t count,
              const std::uint32_t* scopes, const std::uint64_t* fingerprints,
              ikeguard_decision* decisions) {
  if (count == 0) return IKEGUARD_OK;
  if (decisions == nullptr) return code(Errc::invalid_argument);
  for (std::size_t i = 0; i < count; ++i) fail_open(&decisions[i]);
  if (guard == nullptr || peers == nullptr) return code(Errc::invalid_argument);
  constexpr std::size_t chunk = 64;
  std::array<ikeguard::PeerKey, chunk> keys;
  std::array<ikeguard::Fingerprint, chunk> offered;
  std::array<ikeguard::Decision, chunk> answers;
  std::array<std::size_t, chunk> index;
  int status = IKEGUARD_OK;
  for (std::size_t base = 0; base < count; base += chunk) {
    const std::size_t end = std::min(count, base + chunk);
    std::size_t n = 0;
    for (std::size_t i = base; i < end; ++i) {
      const auto* address = reinterpret_cast<const sockaddr*>(&peers[i]);
      if (to_peer(address, sizeof peers[i], scopes != nullptr ? scopes[i] : 0, keys[n]) != IKEGUARD_OK) {
        status = code(Errc::unsupported_address_family);
        continue;
      }
      offered[n] = ikeguard::Fingerprint::from_value(fingerprints != nullptr ? fingerprints[i] : 0);
      index[n++] = i;
    }
    ikeguard::NegotiationGuard& g = *guard->guard;
    const ikeguard::Span<const ikeguard::PeerKey> some(keys.data(), n);
    const ikeguard::Span<const ikeguard::Fingerprint> configurations(offered.data(), n);
    const ikeguard::Span<ikeguard::Decision> out(answers.data(), n);
    if (Inbound) g.on_inbound_proposals(some, configurations, out);
    else g.on_outbound_proposals(some, configurations, out);
    for (std::size_t k = 0; k < n; ++k) to_c(answers[k], decisions[index[k]]);
  }
  return status;
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
  return ikeguard_create_ex(out, policy, clock, transport, nullptr);
}

IKEGUARD_API int ikeguard_create_ex(ikeguard_handle** out, const ikeguard_policy* policy,
                                    const ikeguard_clock* clock,
                                    const ikeguard_transport* transport,
                                    const ikeguard_extras* extras) {
  ikeguard::Policy converted;
  if (const int status = begin_create(out, policy, clock, converted); status != IKEGUARD_OK) {
    return status;
  }
  if (!valid_extras(extras)) return code(Errc::invalid_argument);
  return boundary([&]() -> int {
    std::unique_ptr<ikeguard_handle> handle(new (std::nothrow)
                                                ikeguard_handle(clock, transport, false, extras));
    if (!handle) return code(Errc::out_of_memory);
    auto created = ikeguard::NegotiationGuard::create(converted, handle->clock(), handle->transport,
                                                      handle->extras);
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
  return ikeguard_create_restored_ex(out, policy, clock, transport, nullptr, data, size, key, report);
}

IKEGUARD_API int ikeguard_create_restored_ex(ikeguard_handle** out, const ikeguard_policy* policy,
                                             const ikeguard_clock* clock,
                                             const ikeguard_transport* transport,
                                             const ikeguard_extras* extras, const void* data,
                                             size_t size,
                                             const unsigned char key[IKEGUARD_SNAPSHOT_KEY_BYTES],
                                             ikeguard_restore_report* report) {
  if (report != nullptr) *report = ikeguard_restore_report{0, 0};
  ikeguard::Policy converted;
  if (const int status = begin_create(out, policy, clock, converted); status != IKEGUARD_OK) {
    return status;
  }
  if (data == nullptr || key == nullptr || !valid_extras(extras)) return code(Errc::invalid_argument);
  return boundary([&]() -> int {
    std::unique_ptr<ikeguard_handle> handle(new (std::nothrow)
                                                ikeguard_handle(clock, transport, false, extras));
    if (!handle) return code(Errc::out_of_memory);
    ikeguard::SnapshotKey snapshot_key = to_key(key);
    ikeguard::RestoreReport restored;
    auto created = ikeguard::NegotiationGuard::create_restored(
        converted, handle->clock(), handle->transport, data, size, snapshot_key, &restored,
        handle->extras);
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
  return proposal(&ikeguard::NegotiationGuard::on_outbound_proposal, guard, peer, peer_len, scope,
                  fingerprint, decision);
}

IKEGUARD_API int ikeguard_on_inbound_error(ikeguard_handle* guard, const struct sockaddr* peer,
                                           size_t peer_len, uint32_t scope,
                                           const ikeguard_notice* notice, int origin,
                                           ikeguard_error_outcome* outcome) {
  const bool known_origin =
      origin >= ikeguard_origin_authenticated && origin <= ikeguard_origin_unsolicited;
  return notice_call(guard, peer, peer_len, scope, notice, known_origin, outcome,
                     [origin](ikeguard::NegotiationGuard& g, const ikeguard::PeerKey& key,
                              const ikeguard::Notice& n) {
                       return g.on_inbound_error(key, n, static_cast<ikeguard::Origin>(origin));
                     });
}

IKEGUARD_API int ikeguard_on_inbound_proposal(ikeguard_handle* guard, const struct sockaddr* peer,
                                              size_t peer_len, uint32_t scope, uint64_t fingerprint,
                                              ikeguard_decision* decision) {
  return proposal(&ikeguard::NegotiationGuard::on_inbound_proposal, guard, peer, peer_len, scope,
                  fingerprint, decision);
}

IKEGUARD_API int ikeguard_on_inbound_proposals(ikeguard_handle* guard,
                                               const struct sockaddr_storage* peers, size_t count,
                                               const uint32_t* scopes, const uint64_t* fingerprints,
                                               ikeguard_decision* decisions) {
  return proposals<true>(guard, peers, count, scopes, fingerprints, decisions);
}

IKEGUARD_API int ikeguard_on_outbound_proposals(ikeguard_handle* guard,
                                                const struct sockaddr_storage* peers, size_t count,
                                                const uint32_t* scopes, const uint64_t* fingerprints,
                                                ikeguard_decision* decisions) {
  return proposals<false>(guard, peers, count, scopes, fingerprints, decisions);
}

IKEGUARD_API int ikeguard_on_local_rejection(ikeguard_handle* guard, const struct sockaddr* peer,
                                             size_t peer_len, uint32_t scope,
                                             const ikeguard_notice* notice, uint64_t fingerprint,
                                             ikeguard_decision* decision) {
  return notice_call(guard, peer, peer_len, scope, notice, true, decision,
                     [fingerprint](ikeguard::NegotiationGuard& g, const ikeguard::PeerKey& key,
                                   const ikeguard::Notice& n) {
                       return g.on_local_rejection(key, n, ikeguard::Fingerprint::from_value(fingerprint));
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
  return write_stats(guard->guard->stats(), *stats);
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

IKEGUARD_API const char* ikeguard_event_kind_name(int kind) {
  if (kind < 0 || kind >= static_cast<int>(ikeguard::event_kinds)) return "unknown";
  return ikeguard::name(static_cast<ikeguard::EventKind>(kind));
}

IKEGUARD_API int ikeguard_cluster_node_create(ikeguard_cluster_node** out, uint64_t node_id,
                                              const unsigned char key[IKEGUARD_CLUSTER_KEY_BYTES],
                                              uint64_t first_sequence) {
  if (out == nullptr) return code(Errc::invalid_argument);
  *out = nullptr;
  if (key == nullptr || node_id == 0) return code(Errc::invalid_argument);
  return boundary([&]() -> int {
    ikeguard::ClusterKey cluster_key;
    std::memcpy(cluster_key.bytes.data(), key, cluster_key.bytes.size());
    auto* node = new (std::nothrow) ikeguard_cluster_node(node_id, cluster_key, first_sequence);
    sodium_memzero(cluster_key.bytes.data(), cluster_key.bytes.size());
    if (node == nullptr) return code(Errc::out_of_memory);
    *out = node;
    return IKEGUARD_OK;
  });
}

IKEGUARD_API void ikeguard_cluster_node_destroy(ikeguard_cluster_node* node) { delete node; }

IKEGUARD_API size_t ikeguard_cluster_encode(ikeguard_cluster_node* node, const ikeguard_event* event,
                                            void* out, size_t size) {
  ikeguard::Event cpp_event;
  if (node == nullptr || event == nullptr || !from_c(*event, cpp_event)) return 0;
  return node->node.encode(cpp_event, out, size);
}

IKEGUARD_API int ikeguard_cluster_record_origin(const void* record, size_t size, uint64_t* node,
                                                uint64_t* sequence) {
  if (node == nullptr || sequence == nullptr) return code(Errc::invalid_argument);
  *node = 0;
  *sequence = 0;
  const auto origin = ikeguard::ClusterNode::view(record, size);
  if (!origin) return code(origin.error());
  *node = origin.value().node;
  *sequence = origin.value().sequence;
  return IKEGUARD_OK;
}

IKEGUARD_API int ikeguard_apply(ikeguard_handle* guard, const void* record, size_t size,
                                uint64_t age_ns) {
  if (guard == nullptr) return code(Errc::invalid_argument);
  const auto age = Duration(static_cast<Duration::rep>(std::min(age_ns, clock_limit)));
  const auto applied = guard->guard->apply(record, size, age);
  if (!applied) return code(applied.error());
  return static_cast<int>(applied.value());
}

IKEGUARD_API size_t ikeguard_list_capacity(const ikeguard_handle* guard) {
  return guard != nullptr ? guard->guard->list_capacity() : 0;
}

IKEGUARD_API int ikeguard_list_peers(const ikeguard_handle* guard, ikeguard_held_peer* out,
                                     size_t capacity, uint32_t* cursor, int held_only,
                                     size_t* count, int* complete) {
  if (count != nullptr) *count = 0;
  if (complete != nullptr) *complete = 0;
  if (guard == nullptr || out == nullptr || cursor == nullptr || count == nullptr ||
      complete == nullptr) {
    return code(Errc::invalid_argument);
  }
  // Listed into the caller's array as C++ HeldPeers, each then rewritten in place as the C
  // struct of the same size: the caller's memory is all that is used.
  static_assert(sizeof(ikeguard::HeldPeer) == sizeof(ikeguard_held_peer) &&
                alignof(ikeguard::HeldPeer) <= alignof(ikeguard_held_peer));
  auto* staged = reinterpret_cast<ikeguard::HeldPeer*>(static_cast<void*>(out));
  const auto page = guard->guard->list_peers(staged, capacity, ikeguard::PeerCursor{*cursor},
                                             held_only != 0);
  if (!page) return code(page.error());
  for (std::size_t i = 0; i < page.value().count; ++i) {
    ikeguard::HeldPeer held;
    std::memcpy(&held, &staged[i], sizeof held);
    const ikeguard_held_peer converted = to_c(held);
    std::memcpy(&out[i], &converted, sizeof converted);
  }
  const ikeguard::PeerCursor at = page.value().next;
  const std::size_t written = page.value().count;
  *complete = page.value().complete ? 1 : 0;
  *cursor = at.shard;
  *count = written;
  return IKEGUARD_OK;
}

}  // extern "C"
