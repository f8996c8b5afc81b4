// SPDX-License-Identifier: MIT
// No call allocates after construction. This binary replaces the global operator new and, on
// glibc outside sanitizers, malloc and its relatives, so an allocation anywhere under a guard
// call (libstdc++, libsodium, fmt, the guard) is counted.
#define CATCH_CONFIG_MAIN
#include "support.hpp"

#include <ikeguard/ikeguard.h>
#include <ikeguard/json_sink.hpp>
#include <ikeguard/prometheus.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

// Sanitizers own malloc (their interceptors must see every block), so under one only operator
// new is counted.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#  define IKEGUARD_TEST_SANITIZED 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
      __has_feature(memory_sanitizer)
#    define IKEGUARD_TEST_SANITIZED 1
#  endif
#endif
#if defined(__GLIBC__) && !defined(IKEGUARD_TEST_SANITIZED)
#  define IKEGUARD_TEST_COUNTS_MALLOC 1
#else
#  define IKEGUARD_TEST_COUNTS_MALLOC 0
#endif

namespace {
std::atomic<long> new_calls{0};
std::atomic<long> malloc_calls{0};  // malloc, calloc, realloc and the aligned ones
}  // namespace

void* operator new(std::size_t size) {
  new_calls.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  new_calls.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

#if IKEGUARD_TEST_COUNTS_MALLOC
// glibc's own entry points, which its documented malloc replacement may forward to. Every
// function that hands out a block is replaced, so none escapes the count; free stays glibc's
// in effect (it is replaced only to keep the set the glibc manual asks for).
extern "C" {
void* __libc_malloc(std::size_t size) noexcept;
void* __libc_calloc(std::size_t count, std::size_t size) noexcept;
void* __libc_realloc(void* p, std::size_t size) noexcept;
void* __libc_memalign(std::size_t alignment, std::size_t size) noexcept;
void* __libc_valloc(std::size_t size) noexcept;
void* __libc_pvalloc(std::size_t size) noexcept;
void __libc_free(void* p) noexcept;

void* malloc(std::size_t size) noexcept {
  malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) noexcept {
  malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(count, size);
}
void* realloc(void* p, std::size_t size) noexcept {
  malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, size);
}
void* memalign(std::size_t alignment, std::size_t size) noexcept {
  malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) noexcept {
  malloc_calls.fetch_add(1, std::memory_order_relaxed);
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* p = __libc_memalign(alignment, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
void* valloc(std::size_t size) noexcept {
  malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_valloc(size);
}
void* pvalloc(std::size_t size) noexcept {
  malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_pvalloc(size);
}
void free(void* p) noexcept { __libc_free(p); }
}
#endif

using namespace ikeguard;
using namespace ikeguard::test;

namespace {

const char* what_is_counted() {
#if IKEGUARD_TEST_COUNTS_MALLOC
  return "counting operator new and malloc, calloc, realloc, memalign, aligned_alloc, "
         "posix_memalign, valloc, pvalloc";
#elif defined(IKEGUARD_TEST_SANITIZED)
  return "counting operator new only: built under a sanitizer, which owns malloc";
#else
  return "counting operator new only: malloc is replaced on glibc only";
#endif
}

struct Allocations {
  long news = 0;
  long mallocs = 0;
};

Allocations allocations_so_far() {
  return {new_calls.load(std::memory_order_relaxed), malloc_calls.load(std::memory_order_relaxed)};
}

// Counts notices without a container that could grow.
class CountingTransport final : public Transport {
 public:
  void send_notice(const PeerKey&, const Notice&) override { ++sent; }
  long sent = 0;
};

Notice make_notice(IkeVersion version, std::uint16_t type, std::uint32_t message_id) {
  Notice n = notice(type, version);
  n.message_id = message_id;
  return n;
}

// Every class of notify, both IKE versions, and a type the policy overrides.
constexpr std::uint16_t vendor_type = 8300;
const std::array<Notice, 14> every_class = {
    make_notice(IkeVersion::v2, notify_v2::no_proposal_chosen, 0),         // configuration
    make_notice(IkeVersion::v2, notify_v2::authentication_failed, 1),      // configuration
    make_notice(IkeVersion::v2, notify_v2::ts_unacceptable, 2),            // configuration
    make_notice(IkeVersion::v2, notify_v2::invalid_ke_payload, 0),         // retry_now
    make_notice(IkeVersion::v2, notify_v2::cookie, 0),                     // retry_now
    make_notice(IkeVersion::v2, notify_v2::redirect, 0),                   // retry_now
    make_notice(IkeVersion::v2, notify_v2::temporary_failure, 3),          // retry_later
    make_notice(IkeVersion::v2, notify_v2::no_additional_sas, 4),          // retry_later
    make_notice(IkeVersion::v2, vendor_type, 5),                           // overridden
    make_notice(IkeVersion::v2, notify_v2::first_status, 0),               // ignored
    make_notice(IkeVersion::v1, notify_v1::no_proposal_chosen, 0),         // configuration
    make_notice(IkeVersion::v1, notify_v1::invalid_id_information, 0),     // configuration
    make_notice(IkeVersion::v1, notify_v1::address_notification, 0),      // ignored
    make_notice(IkeVersion::v1, notify_v1::first_status, 0),               // ignored
};
constexpr std::array<Origin, 3> every_origin = {Origin::authenticated, Origin::answers_request,
                                                Origin::unsolicited};

constexpr std::size_t peer_count = 200;  // more than the table holds: it fills and evicts
constexpr std::size_t capacity = 64;

std::array<PeerKey, peer_count> make_peers() {
  std::array<PeerKey, peer_count> peers{};
  for (std::size_t i = 0; i < peer_count; ++i) {
    const auto low = static_cast<std::uint8_t>(i);
    if (i % 4 == 3) {
      peers[i] = PeerKey::ipv6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, low},
                               4500, static_cast<std::uint32_t>(i % 3));
    } else {
      peers[i] = PeerKey::ipv4({10, 1, static_cast<std::uint8_t>(i >> 8), low},
                               static_cast<std::uint16_t>(i % 2 ? 500 : 4500));
    }
  }
  return peers;
}

}  // namespace

TEST_CASE("the allocation counters see every allocation function") {
  WARN(what_is_counted());
  void* volatile sink = nullptr;  // volatile: the compiler may not drop an unused allocation

  Allocations before = allocations_so_far();
  sink = ::operator new(16);
  ::operator delete(sink);
  CHECK(allocations_so_far().news - before.news == 1);

#if IKEGUARD_TEST_COUNTS_MALLOC
  before = allocations_so_far();
  sink = std::malloc(16);
  sink = std::realloc(sink, 32);
  std::free(sink);
  sink = std::calloc(2, 16);
  std::free(sink);
  sink = std::aligned_alloc(64, 64);
  std::free(sink);
  void* aligned = nullptr;
  const int status = posix_memalign(&aligned, 64, 64);
  sink = aligned;
  std::free(sink);
  sink = strdup("inside glibc");  // a shared library's own malloc call is counted too
  std::free(sink);
  const Allocations after = allocations_so_far();
  CHECK(status == 0);
  CHECK(after.mallocs - before.mallocs == 6);
  CHECK(after.news == before.news);
#endif
}

TEST_CASE("no call allocates after construction in a long run over a full, evicting table") {
  WARN(what_is_counted());
  ManualClock clock;
  CountingTransport transport;
  Policy policy;  // jitter 0.1: its random words are refilled without allocating
  policy.max_peers = capacity;
  policy.forgive_after = std::chrono::minutes(30);
  REQUIRE(policy.notify_classes.set(IkeVersion::v2, vendor_type, NotifyClass::retry_later));

  const Allocations at_start = allocations_so_far();
  auto created = NegotiationGuard::create(policy, clock, transport);
  REQUIRE(created.ok());
  NegotiationGuard& guard = **created;
  const Allocations constructed = allocations_so_far();

  // Everything the run needs, prepared before counting starts.
  const std::array<PeerKey, peer_count> peers = make_peers();
  const PeerKey offender = PeerKey::ipv4({192, 0, 2, 66});
  const Notice npc = make_notice(IkeVersion::v2, notify_v2::no_proposal_chosen, 0);
  std::vector<unsigned char> snapshot_buffer(guard.snapshot_bound());
  SnapshotKey snapshot_key;
  snapshot_key.bytes.fill(0x5a);
  unsigned char configuration[48] = {'a', 'e', 's', '1', '2', '8'};

  // Results kept in plain variables and checked after the run: Catch's assertions allocate.
  std::uint64_t offender_rounds = 0, offender_rounds_as_expected = 0;
  std::uint64_t snapshots_written = 0, snapshots_refused_small = 0;
  std::uint64_t unknown_fingerprints = 0;
  Stats mid_run{};

  const Allocations before = allocations_so_far();
  constexpr std::uint32_t rounds = 100000;
  for (std::uint32_t i = 0; i < rounds; ++i) {
    const PeerKey& p = peers[(i * 7) % peer_count];
    configuration[8] = static_cast<unsigned char>(i % 3);  // three configurations, in turn
    const Fingerprint fp = guard.fingerprint(configuration, sizeof configuration);
    if (!fp.known()) ++unknown_fingerprints;

    guard.on_outbound_proposal(p);  // unknown fingerprint
    guard.on_outbound_proposal(p, fp);
    guard.on_inbound_error(p, every_class[i % every_class.size()],
                           every_origin[(i / every_class.size()) % every_origin.size()]);
    guard.on_inbound_proposal(p);
    guard.on_inbound_proposal(p, fp);
    // Twice: the second is suppressed where the first opened a receiver window.
    guard.on_local_rejection(p, every_class[(i * 5) % every_class.size()], fp);
    guard.on_local_rejection(p, every_class[(i * 5) % every_class.size()], fp);
    if (i % 13 == 0) guard.on_established(p);
    if (i % 64 == 0) mid_run = guard.stats();
    if (i % 5000 == 0) {
      const auto written = guard.snapshot(snapshot_buffer.data(), snapshot_buffer.size(),
                                          snapshot_key);
      if (written.ok()) ++snapshots_written;
      if (guard.snapshot(snapshot_buffer.data(), 8, snapshot_key).error() ==
          Errc::snapshot_buffer_too_small) {
        ++snapshots_refused_small;
      }
    }

    if (i % 7500 == 0) {
      // A repeat offender: its window opens, closes when it ends, escalates on the next
      // failure, and its strikes lapse after forgive_after without one.
      ++offender_rounds;
      const ErrorOutcome first = guard.on_inbound_error(offender, npc, Origin::authenticated);
      const Decision during = guard.on_outbound_proposal(offender);
      clock.set(first.until);
      const Decision after = guard.on_outbound_proposal(offender);
      const ErrorOutcome second = guard.on_inbound_error(offender, npc, Origin::authenticated);
      clock.set(second.until + policy.forgive_after + std::chrono::seconds(1));
      const ErrorOutcome forgiven = guard.on_inbound_error(offender, npc, Origin::authenticated);
      if (first.action == ErrorAction::hold && during.verdict == Verdict::hold &&
          after.verdict == Verdict::proceed && second.action == ErrorAction::hold &&
          second.strikes == first.strikes + 1 && forgiven.action == ErrorAction::hold &&
          forgiven.strikes == 1) {
        ++offender_rounds_as_expected;
      }
    }
    clock.advance(std::chrono::milliseconds(250 + i % 700));  // windows open and end
  }
  const Stats stats = guard.stats();
  const Allocations after = allocations_so_far();

  INFO(what_is_counted());
  CHECK(constructed.news - at_start.news > 0);  // the counters are live: the table was counted
  CHECK(after.news - before.news == 0);
  CHECK(after.mallocs - before.mallocs == 0);

  // The run went where it was meant to.
  CHECK(unknown_fingerprints == 0);
  CHECK(offender_rounds == (rounds + 7499) / 7500);
  CHECK(offender_rounds_as_expected == offender_rounds);
  CHECK(snapshots_written == (rounds + 4999) / 5000);
  CHECK(snapshots_refused_small == (rounds + 4999) / 5000);
  CHECK(mid_run.proceeded_outbound > 0);
  CHECK(stats.proceeded_outbound + stats.held_outbound == 2 * rounds + 2 * offender_rounds);
  CHECK(stats.held_outbound > 0);
  CHECK(stats.proceeded_inbound + stats.dropped_inbound == 2 * rounds);
  CHECK(stats.proceeded_inbound > 0);
  CHECK(stats.dropped_inbound > 0);
  CHECK(stats.notices_sent > 0);
  CHECK(stats.notices_suppressed > 0);
  CHECK(stats.notices_sent + stats.notices_suppressed == 2 * rounds);
  CHECK(stats.errors_honoured > 0);
  CHECK(stats.retried_now > 0);
  CHECK(stats.retried_later > 0);
  CHECK(stats.awaiting_confirmation > 0);
  CHECK(stats.ignored > 0);
  CHECK(stats.unsolicited > 0);
  CHECK(stats.fingerprint_lifts > 0);
  CHECK(stats.established == (rounds + 12) / 13);
  CHECK(stats.evictions > 0);
  CHECK(stats.peers_tracked <= capacity);
  CHECK(stats.capacity == capacity);
  CHECK(transport.sent == static_cast<long>(stats.notices_sent));
}

TEST_CASE("ikeguard_fingerprint_message allocates nothing") {
  WARN(what_is_counted());
  ikeguard_handle* c_guard = nullptr;
  REQUIRE(ikeguard_create(&c_guard, nullptr, nullptr, nullptr) == IKEGUARD_OK);

  // An IKEv2 request offering two proposals, and an IKEv1 Main Mode first message.
  wire::ProposalList list;
  list.proposals[0] = wire::parse_proposal_text("aes128-sha256-modp2048").value();
  list.proposals[1] = wire::parse_proposal_text("aes256gcm16-prfsha384-ecp384").value();
  list.proposals[1].number = 2;
  list.count = 2;
  std::array<std::uint8_t, 256> sa{};
  const Result<std::size_t> sa_size = wire::build_sa_payload_body({sa.data(), sa.size()}, list);
  REQUIRE(sa_size.ok());
  const std::array<std::uint8_t, 256> ke{};
  const std::array<std::uint8_t, 32> nonce{};
  wire::IkeSaInitMessage request;
  request.initiator_spi = 1;
  request.sa_payload_body = {sa.data(), sa_size.value()};
  request.ke_group = 14;
  request.ke_data = {ke.data(), ke.size()};
  request.nonce = {nonce.data(), nonce.size()};
  std::array<std::uint8_t, 1024> ikev2{};
  const Result<std::size_t> ikev2_size = wire::build_ike_sa_init({ikev2.data(), ikev2.size()},
                                                                 request);
  REQUIRE(ikev2_size.ok());
  const std::array<std::uint8_t, 40> ikev1 = {
      1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0,  // cookies
      1, 0x10, 2, 0, 0, 0, 0, 0, 0, 0, 0, 40,          // SA first, 1.0, Main Mode, length
      0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 1};            // SA payload: DOI, situation

  std::uint64_t known = 0, unknown = 0;
  const Allocations before = allocations_so_far();
  for (int i = 0; i < 1000; ++i) {
    const std::size_t cut = static_cast<std::size_t>(i) % ikev2_size.value();
    known += ikeguard_fingerprint_message(c_guard, ikev2.data(), ikev2_size.value()) != 0;
    known += ikeguard_fingerprint_message(c_guard, ikev1.data(), ikev1.size()) != 0;
    unknown += ikeguard_fingerprint_message(c_guard, ikev2.data(), cut) == 0;
  }
  const Allocations after = allocations_so_far();
  ikeguard_destroy(c_guard);

  INFO(what_is_counted());
  CHECK(after.news - before.news == 0);
  CHECK(after.mallocs - before.mallocs == 0);
  CHECK(known == 2000);
  CHECK(unknown == 1000);
}

TEST_CASE("a guard built in the caller's memory never allocates, from its creation to its end") {
  WARN(what_is_counted());
  ManualClock clock;
  CountingTransport transport;
  Policy policy;
  policy.max_peers = capacity;
  // Everything the run needs, prepared before counting starts.
  const std::size_t need = NegotiationGuard::estimate_size(policy);
  std::vector<unsigned char> arena(need + 1);  // +1: create_in aligns within an odd start
  std::vector<unsigned char> snapshot_buffer(snapshot_format::size_for(capacity));
  const std::array<PeerKey, peer_count> peers = make_peers();
  const Notice npc = make_notice(IkeVersion::v2, notify_v2::no_proposal_chosen, 0);
  SnapshotKey snapshot_key;
  snapshot_key.bytes.fill(0x5a);
  unsigned char configuration[16] = {'a', 'e', 's'};
  (void)NegotiationGuard::estimate_size(policy);  // the first call's one-time work, if any

  std::uint64_t holds = 0, created_ok = 0, snapshot_ok = 0;
  Stats stats{};
  const Allocations before = allocations_so_far();
  auto created = NegotiationGuard::create_in(arena.data() + 1, need, policy, clock, transport);
  if (created.ok()) {
    ++created_ok;
    NegotiationGuard& guard = *created.value();
    for (std::uint32_t i = 0; i < 2000; ++i) {
      const PeerKey& p = peers[i % peer_count];
      const Fingerprint fp = guard.fingerprint(configuration, sizeof configuration);
      if (guard.on_outbound_proposal(p, fp).verdict == Verdict::hold) ++holds;
      guard.on_inbound_error(p, npc, every_origin[i % every_origin.size()]);
      if (guard.on_inbound_proposal(p).verdict == Verdict::hold) ++holds;
      guard.on_local_rejection(p, every_class[i % every_class.size()], fp);
      if (i % 5 == 0) guard.on_established(p);
      clock.advance(std::chrono::milliseconds(700));
    }
    snapshot_ok = guard.snapshot(snapshot_buffer.data(), snapshot_buffer.size(), snapshot_key).ok();
    stats = guard.stats();
    std::destroy_at(&guard);
  }
  const Allocations after = allocations_so_far();

  CHECK(created_ok == 1);
  CHECK(snapshot_ok == 1);
  CHECK(holds > 0);
  CHECK(stats.capacity == capacity);
  CHECK(stats.notices_sent > 0);
  CHECK(after.news == before.news);
  CHECK(after.mallocs == before.mallocs);
}

TEST_CASE("create_in refuses a buffer smaller than estimate_size, writing nothing") {
  ManualClock clock;
  CountingTransport transport;
  Policy policy;
  policy.max_peers = capacity;
  const std::size_t need = NegotiationGuard::estimate_size(policy);
  REQUIRE(need > 0);
  std::vector<unsigned char> arena(need, 0xee);
  CHECK(NegotiationGuard::create_in(arena.data(), need - 1, policy, clock, transport).error() ==
        Errc::buffer_too_small);
  CHECK(std::all_of(arena.begin(), arena.end(), [](unsigned char b) { return b == 0xee; }));
  policy.max_peers = 0;
  CHECK(NegotiationGuard::estimate_size(policy) == 0);
  CHECK(NegotiationGuard::create_in(arena.data(), need, policy, clock, transport).error() ==
        Errc::invalid_max_peers);
}

TEST_CASE("the JSON-lines sink allocates nothing per event written or dropped") {
  WARN(what_is_counted());
  const int fd = ::open("/dev/null", O_WRONLY);
  REQUIRE(fd >= 0);
  JsonLinesOptions options;
  options.lines_per_second = 4;  // about 8 of each kind a second arrive: half are dropped
  options.source = "vpn \"east\"\n";  // escaped at construction
  // Every kind, every field that can be present, an IPv6 peer with a scope.
  std::array<Event, event_kinds> events{};
  for (unsigned k = 0; k < event_kinds; ++k) {
    Event& e = events[k];
    e.kind = static_cast<EventKind>(k);
    e.direction = k % 2 ? Direction::sender : Direction::receiver;
    e.has_notice = true;
    e.awaiting_confirmation = true;
    e.notify_type = notify_v2::no_proposal_chosen;
    e.strikes = 3;
    e.fingerprint = 0xdeadbeef;
    e.peer = PeerKey::ipv6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}, 4500, 9);
    e.remaining = std::chrono::seconds(30);
    e.count = 2;
    e.node = 5;
  }
  {
    JsonLinesSink sink(fd, options);
    const Allocations before = allocations_so_far();
    for (int i = 0; i < 2000; ++i) {
      Event e = events[static_cast<std::size_t>(i) % event_kinds];
      e.at = TimePoint(std::chrono::milliseconds(i * 10));  // 100 a second, of 12 kinds
      e.until = e.at + e.remaining;
      sink.on_event(e);
    }
    const Allocations after = allocations_so_far();
    INFO(what_is_counted());
    CHECK(after.news - before.news == 0);
    CHECK(after.mallocs - before.mallocs == 0);
    CHECK(sink.lines_written() > 0);
    CHECK(sink.lines_dropped() > 0);
    CHECK(sink.lines_written() + sink.lines_dropped() == 2000);
    CHECK(sink.write_errors() == 0);
  }
  ::close(fd);
}

TEST_CASE("the Prometheus text allocates nothing in C++ or in C") {
  WARN(what_is_counted());
  Stats stats;
  stats.notices_sent = 12345;
  ikeguard_stats c_stats = IKEGUARD_STATS_INIT;
  c_stats.notices_sent = 12345;
  static char text[IKEGUARD_PROMETHEUS_MAX_BYTES];
  const Allocations before = allocations_so_far();
  const std::size_t needed = write_prometheus(stats, text, sizeof text);
  const int c_needed = ikeguard_stats_prometheus(&c_stats, text, sizeof text);
  const Allocations after = allocations_so_far();
  INFO(what_is_counted());
  CHECK(after.news - before.news == 0);
  CHECK(after.mallocs - before.mallocs == 0);
  CHECK(needed > 0);
  CHECK(static_cast<std::size_t>(c_needed) == needed);
}

// ---- With an event sink and a cluster node attached ---------------------------------------------
// The events, listing and cluster paths allocate nothing either. Each sink below keeps what it
// receives in fixed arrays, so an allocation counted is the guard's (or the ClusterNode's).

namespace {

// Counts events by kind.
class CountingSink final : public EventSink {
 public:
  void on_event(const Event& event) noexcept override {
    const auto kind = static_cast<unsigned>(event.kind);
    ++by_kind[kind < event_kinds ? kind : 0];
    ++total;
  }
  // Every kind a running guard emits: all but snapshot_restored, which only create_restored()
  // emits (and that allocates the guard by design).
  bool saw_every_running_kind() const noexcept {
    for (unsigned kind = 0; kind < event_kinds; ++kind) {
      if (static_cast<EventKind>(kind) != EventKind::snapshot_restored && by_kind[kind] == 0) return false;
    }
    return true;
  }
  std::array<long, event_kinds> by_kind{};
  long total = 0;
};

using ClusterRecordBytes = std::array<unsigned char, cluster_format::record_size>;

// A cluster daemon's sink: turns each event into a record (ClusterNode::encode) and keeps up to
// a fixed number of them, as a daemon would queue them for its channel.
class EncodingSink final : public EventSink {
 public:
  explicit EncodingSink(ClusterNode& node) : node_(node) {}
  void on_event(const Event& event) noexcept override {
    ++events;
    ClusterRecordBytes& slot = records[stored < records.size() ? stored : records.size() - 1];
    if (node_.encode(event, slot.data(), slot.size()) != slot.size()) {
      ++not_shared;
    } else if (stored < records.size()) {
      ++stored;
    } else {
      ++overflowed;
    }
  }
  std::array<ClusterRecordBytes, 4096> records{};
  std::size_t stored = 0;
  long events = 0, not_shared = 0, overflowed = 0;

 private:
  ClusterNode& node_;
};

ClusterKey test_cluster_key() {
  ClusterKey key;
  for (std::size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<unsigned char>(0x30 + i);
  return key;
}

// A run of the calls that emit every kind of event a running guard has: rejections (sent and
// suppressed notices, receiver windows), errors of every class and origin (sender windows,
// retry_later, unsolicited), lifts by a changed configuration in both directions, lapses,
// forgiven strikes, successes, and evictions from a full table of `capacity`. Returns how many
// rounds ended as expected for the repeat offender (see the long run above).
std::uint64_t emit_every_kind(NegotiationGuard& guard, ManualClock& clock,
                              const std::array<PeerKey, peer_count>& peers, std::uint32_t rounds,
                              const Policy& policy) noexcept {
  const PeerKey offender = PeerKey::ipv4({192, 0, 2, 66});
  const Notice npc = make_notice(IkeVersion::v2, notify_v2::no_proposal_chosen, 0);
  unsigned char configuration[16] = {'a', 'e', 's', '1', '2', '8'};
  std::uint64_t offender_as_expected = 0;
  for (std::uint32_t i = 0; i < rounds; ++i) {
    const PeerKey& p = peers[(i * 7) % peer_count];
    configuration[8] = static_cast<unsigned char>(i % 3);  // three configurations: lifts
    const Fingerprint fp = guard.fingerprint(configuration, sizeof configuration);
    guard.on_outbound_proposal(p, fp);
    guard.on_inbound_error(p, every_class[i % every_class.size()],
                           every_origin[(i / every_class.size()) % every_origin.size()]);
    guard.on_inbound_proposal(p, fp);
    guard.on_local_rejection(p, every_class[(i * 5) % every_class.size()], fp);
    guard.on_local_rejection(p, every_class[(i * 5) % every_class.size()], fp);
    if (i % 13 == 0) guard.on_established(p);
    if (i % 500 == 0) {
      // Opened, lapsed, escalated, then forgiven after forgive_after without a failure.
      const ErrorOutcome first = guard.on_inbound_error(offender, npc, Origin::authenticated);
      clock.set(first.until);
      guard.on_outbound_proposal(offender);
      const ErrorOutcome second = guard.on_inbound_error(offender, npc, Origin::authenticated);
      clock.set(second.until + policy.forgive_after + std::chrono::seconds(1));
      const ErrorOutcome forgiven = guard.on_inbound_error(offender, npc, Origin::authenticated);
      if (first.action == ErrorAction::hold && second.strikes == first.strikes + 1 &&
          forgiven.strikes == 1) {
        ++offender_as_expected;
      }
    }
    clock.advance(std::chrono::milliseconds(250 + i % 700));  // windows open and end
  }
  return offender_as_expected;
}

}  // namespace

TEST_CASE("with an event sink attached, no call that emits events allocates") {
  WARN(what_is_counted());
  ManualClock clock;
  CountingTransport transport;
  CountingSink sink;
  Policy policy;
  policy.max_peers = capacity;
  policy.forgive_after = std::chrono::minutes(30);
  REQUIRE(policy.notify_classes.set(IkeVersion::v2, vendor_type, NotifyClass::retry_later));
  GuardExtras extras;
  extras.events = &sink;
  auto created = NegotiationGuard::create(policy, clock, transport, extras);
  REQUIRE(created.ok());
  NegotiationGuard& guard = **created;
  const std::array<PeerKey, peer_count> peers = make_peers();
  constexpr std::uint32_t rounds = 20000;

  const Allocations before = allocations_so_far();
  const std::uint64_t offender_as_expected = emit_every_kind(guard, clock, peers, rounds, policy);
  const Stats stats = guard.stats();
  const Allocations after = allocations_so_far();

  INFO(what_is_counted());
  CHECK(after.news - before.news == 0);
  CHECK(after.mallocs - before.mallocs == 0);
  // The run emitted what it was meant to.
  CHECK(offender_as_expected == (rounds + 499) / 500);
  CHECK(sink.saw_every_running_kind());
  CHECK(sink.by_kind[static_cast<unsigned>(EventKind::notice_sent)] ==
        static_cast<long>(stats.notices_sent));
  CHECK(stats.evictions > 0);
  CHECK(transport.sent == static_cast<long>(stats.notices_sent));
}

TEST_CASE("list_peers into the caller's buffer allocates nothing") {
  WARN(what_is_counted());
  ManualClock clock;
  CountingTransport transport;
  CountingSink sink;
  Policy policy;
  policy.max_peers = 4096;  // a table of several shards, listed in several pages
  GuardExtras extras;
  extras.events = &sink;
  auto created = NegotiationGuard::create(policy, clock, transport, extras);
  REQUIRE(created.ok());
  NegotiationGuard& guard = **created;
  const Notice npc = make_notice(IkeVersion::v2, notify_v2::no_proposal_chosen, 0);
  // Receiver windows, sender windows, and entries that only remember a proposal sent.
  for (std::uint32_t i = 0; i < 3000; ++i) {
    const PeerKey p = PeerKey::ipv4({10, 2, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)});
    if (i % 3 == 0) guard.on_local_rejection(p, npc);
    else if (i % 3 == 1) guard.on_inbound_error(p, npc, Origin::authenticated);
    else guard.on_outbound_proposal(p, Fingerprint::from_value(0x1000 + i));
  }
  // The smallest buffer that always lists a shard: a listing takes several pages.
  std::vector<HeldPeer> buffer(guard.list_capacity());
  const Stats stats = guard.stats();

  std::size_t listed_held = 0, listed_all = 0, pages = 0, refused = 0;
  bool complete_held = false, complete_all = false;
  const Allocations before = allocations_so_far();
  for (int pass = 0; pass < 100; ++pass) {
    for (const bool held_only : {true, false}) {
      PeerCursor cursor;
      std::size_t listed = 0;
      bool complete = false;
      while (!complete) {
        const Result<PeerPage> page = guard.list_peers(buffer.data(), buffer.size(), cursor, held_only);
        if (!page.ok()) break;
        listed += page.value().count;
        cursor = page.value().next;
        complete = page.value().complete;
        ++pages;
      }
      if (pass == 0) {
        (held_only ? listed_held : listed_all) = listed;
        (held_only ? complete_held : complete_all) = complete;
      }
    }
    if (guard.list_peers(nullptr, buffer.size()).error() == Errc::invalid_argument) ++refused;
    if (guard.list_peers(buffer.data(), 0).error() == Errc::buffer_too_small) ++refused;
  }
  const Allocations after = allocations_so_far();

  INFO(what_is_counted());
  CHECK(after.news - before.news == 0);
  CHECK(after.mallocs - before.mallocs == 0);
  CHECK(complete_held);
  CHECK(complete_all);
  CHECK(listed_held > 0);
  CHECK(listed_all > listed_held);  // the remembered proposals have no window
  CHECK(listed_all <= stats.peers_tracked);
  CHECK(pages > 400);  // more than one page per listing
  CHECK(refused == 200);
}

TEST_CASE("ClusterNode::encode and apply, of records accepted and refused, allocate nothing") {
  WARN(what_is_counted());
  const ClusterKey key = test_cluster_key();
  Policy policy;
  policy.max_peers = capacity;
  policy.forgive_after = std::chrono::minutes(30);
  REQUIRE(policy.notify_classes.set(IkeVersion::v2, vendor_type, NotifyClass::retry_later));

  // Node 1 makes records, node 2 applies them; a guard without a node refuses them.
  auto node_a = std::make_unique<ClusterNode>(1, key, 1);
  auto node_b = std::make_unique<ClusterNode>(2, key, 1);
  auto sink_a = std::make_unique<EncodingSink>(*node_a);
  auto sink_b = std::make_unique<EncodingSink>(*node_b);
  ManualClock clock_a, clock_b;
  CountingTransport transport_a, transport_b;
  GuardExtras extras_a, extras_b;
  extras_a.events = sink_a.get();
  extras_a.cluster = node_a.get();
  extras_b.events = sink_b.get();
  extras_b.cluster = node_b.get();
  auto made_a = NegotiationGuard::create(policy, clock_a, transport_a, extras_a);
  auto made_b = NegotiationGuard::create(policy, clock_b, transport_b, extras_b);
  auto made_c = NegotiationGuard::create(policy, clock_b, transport_b);
  REQUIRE(made_a.ok());
  REQUIRE(made_b.ok());
  REQUIRE(made_c.ok());
  NegotiationGuard& a = **made_a;
  NegotiationGuard& b = **made_b;
  NegotiationGuard& no_cluster = **made_c;
  // More origins than node 2 tracks, each with one record made from an event written by hand.
  std::vector<std::unique_ptr<ClusterNode>> others;
  for (std::uint64_t id = 100; id < 100 + cluster_format::max_origins; ++id) {
    others.push_back(std::make_unique<ClusterNode>(id, key, 1));
  }
  const std::array<PeerKey, peer_count> peers = make_peers();

  std::size_t a_records = 0;
  long changed = 0, unchanged = 0, own = 0, other = 0;
  long truncated = 0, unsupported = 0, unauthenticated = 0, replayed = 0, invalid = 0;
  long not_configured = 0, too_many_origins = 0, others_accepted = 0;
  std::size_t foreign_encoded = 0;
  const Allocations before = allocations_so_far();
  // Node 1's events, every shared kind among them (windows, retry_later, lifts, successes),
  // each turned into a record by its sink.
  emit_every_kind(a, clock_a, peers, 600, policy);
  a_records = sink_a->stored;
  for (std::size_t i = 0; i < a_records; ++i) {
    ClusterRecordBytes record = sink_a->records[i];
    const auto tally = [&](const Result<Applied>& applied) {
      if (applied.ok()) {
        if (applied.value() == Applied::changed) ++changed;
        else if (applied.value() == Applied::unchanged) ++unchanged;
        else ++own;
        return;
      }
      switch (applied.error()) {
        case Errc::cluster_record_truncated: ++truncated; break;
        case Errc::cluster_record_unsupported_version: ++unsupported; break;
        case Errc::cluster_record_unauthenticated: ++unauthenticated; break;
        case Errc::cluster_record_replayed: ++replayed; break;
        case Errc::invalid_argument: ++invalid; break;
        case Errc::cluster_not_configured: ++not_configured; break;
        default: ++other; break;
      }
    };
    // Refused first, each for its own reason, and nothing changes; then applied once (some
    // after time in transit), then replayed; and ignored by the node that made it.
    tally(b.apply(record.data(), record.size() - 1));
    tally(b.apply(nullptr, record.size()));
    record[80] ^= 1;
    tally(b.apply(record.data(), record.size()));
    record[80] ^= 1;
    record[0] = 2;
    tally(b.apply(record.data(), record.size()));
    record[0] = cluster_format::version;
    tally(no_cluster.apply(record.data(), record.size()));
    tally(b.apply(record.data(), record.size(), std::chrono::milliseconds(i % 3 == 0 ? 1500 : 0)));
    tally(b.apply(record.data(), record.size()));
    tally(a.apply(record.data(), record.size()));
    clock_b.advance(std::chrono::milliseconds(300));
  }
  // Records from more origins than node 2 remembers: the last is refused.
  Event event;
  event.kind = EventKind::receiver_window_opened;
  event.direction = Direction::receiver;
  event.strikes = 1;
  event.remaining = std::chrono::seconds(30);
  ClusterRecordBytes record{};
  for (std::size_t i = 0; i < others.size(); ++i) {
    event.peer = peers[i];
    if (others[i]->encode(event, record.data(), record.size()) == record.size()) ++foreign_encoded;
    const Result<Applied> applied = b.apply(record.data(), record.size());
    if (applied.ok()) ++others_accepted;
    else if (applied.error() == Errc::cluster_too_many_origins) ++too_many_origins;
  }
  const Stats stats_b = b.stats();
  const Allocations after = allocations_so_far();

  INFO(what_is_counted());
  CHECK(after.news - before.news == 0);
  CHECK(after.mallocs - before.mallocs == 0);
  // The run went where it was meant to.
  const auto n = static_cast<long>(a_records);
  CHECK(sink_a->overflowed == 0);
  CHECK(a_records > 100);
  CHECK(sink_a->not_shared > 0);  // notices, lapses, evictions, unsolicited: not shared
  CHECK(changed > 0);
  CHECK(changed + unchanged == n);
  CHECK(own == n);
  CHECK(other == 0);
  CHECK(truncated == n);
  CHECK(invalid == n);
  CHECK(unauthenticated == n);
  CHECK(unsupported == n);
  CHECK(not_configured == n);
  CHECK(replayed == n);
  CHECK(sink_b->events > 0);
  CHECK(sink_b->stored == 0);  // events a record made are never encoded again
  CHECK(foreign_encoded == others.size());
  // Node 2 remembers node 1 and max_origins - 1 others.
  CHECK(others_accepted == static_cast<long>(cluster_format::max_origins) - 1);
  CHECK(too_many_origins == 1);
  CHECK(stats_b.records_applied == static_cast<std::uint64_t>(n + others_accepted));
}

TEST_CASE("a guard built in the caller's memory with an event sink never allocates") {
  WARN(what_is_counted());
  ManualClock clock;
  CountingTransport transport;
  CountingSink sink;
  Policy policy;
  policy.max_peers = capacity;
  policy.forgive_after = std::chrono::minutes(30);
  REQUIRE(policy.notify_classes.set(IkeVersion::v2, vendor_type, NotifyClass::retry_later));
  GuardExtras extras;
  extras.events = &sink;
  // Everything the run needs, prepared before counting starts.
  const std::size_t need = NegotiationGuard::estimate_size(policy);
  std::vector<unsigned char> arena(need + 1);  // +1: create_in aligns within an odd start
  std::vector<HeldPeer> listing(capacity);
  const std::array<PeerKey, peer_count> peers = make_peers();
  (void)NegotiationGuard::estimate_size(policy);  // the first call's one-time work, if any

  std::uint64_t created_ok = 0, offender_as_expected = 0;
  std::size_t listed = 0;
  Stats stats{};
  const Allocations before = allocations_so_far();
  auto created = NegotiationGuard::create_in(arena.data() + 1, need, policy, clock, transport, extras);
  if (created.ok()) {
    ++created_ok;
    NegotiationGuard& guard = *created.value();
    offender_as_expected = emit_every_kind(guard, clock, peers, 5000, policy);
    const Result<PeerPage> page = guard.list_peers(listing.data(), listing.size(), {}, false);
    if (page.ok()) listed = page.value().count;
    stats = guard.stats();
    std::destroy_at(&guard);
  }
  const Allocations after = allocations_so_far();

  INFO(what_is_counted());
  CHECK(after.news == before.news);
  CHECK(after.mallocs == before.mallocs);
  CHECK(created_ok == 1);
  CHECK(offender_as_expected == 10);
  CHECK(sink.saw_every_running_kind());
  CHECK(listed > 0);
  CHECK(stats.evictions > 0);
  CHECK(sink.by_kind[static_cast<unsigned>(EventKind::notice_sent)] ==
        static_cast<long>(stats.notices_sent));
}
