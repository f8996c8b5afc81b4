// SPDX-License-Identifier: MIT
// The C API's boundary: a C++ exception thrown inside it (here by a transport callback written
// in C++) comes out as an error code, never as an exception a C caller cannot catch.
// The C API itself is tested from C in tests/c/.
#include <ikeguard/ikeguard.h>
#include <ikeguard/ikeguard.hpp>

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>

namespace {

struct Throwing {
  int calls = 0;
  bool bad_alloc = false;
};

void throwing_send(void* ctx, const sockaddr*, std::size_t, std::uint32_t, const ikeguard_notice*) {
  auto& transport = *static_cast<Throwing*>(ctx);
  ++transport.calls;
  if (transport.bad_alloc) throw std::bad_alloc();
  throw std::runtime_error("the daemon's send failed");
}

std::uint64_t fixed_now(void*) { return 1'000'000; }  // 1 ms: windows end on ms boundaries

struct Fixture {
  Fixture() {
    ikeguard_policy policy;
    ikeguard_policy_init(&policy);
    policy.jitter = 0;
    const ikeguard_clock clock{fixed_now, nullptr};
    const ikeguard_transport transport{throwing_send, &throwing};
    REQUIRE(ikeguard_create(&guard, &policy, &clock, &transport) == IKEGUARD_OK);
    peer.sin_family = AF_INET;
    peer.sin_port = htons(500);
    peer.sin_addr.s_addr = htonl(0xc0000201);  // 192.0.2.1
  }
  ~Fixture() { ikeguard_destroy(guard); }
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;

  int reject(ikeguard_decision& decision) {
    ikeguard_notice notice{};
    notice.version = ikeguard_ikev2;
    notice.type = 14;
    notice.initiator_spi = 1;
    return ikeguard_on_local_rejection(guard, reinterpret_cast<const sockaddr*>(&peer), sizeof peer,
                                       0, &notice, 0, &decision);
  }

  Throwing throwing;
  ikeguard_handle* guard = nullptr;
  sockaddr_in peer{};
};

}  // namespace

#if IKEGUARD_HAS_EXCEPTIONS
TEST_CASE("an exception from the transport becomes internal_error at the C boundary") {
  Fixture f;
  ikeguard_decision decision{};
  decision.verdict = ikeguard_verdict_hold;
  decision.strikes = 5;
  decision.until_ns = 5;
  CHECK(f.reject(decision) == ikeguard_error_internal_error);
  CHECK(f.throwing.calls == 1);
  // What a daemon without the guard would do.
  CHECK(decision.verdict == ikeguard_verdict_proceed);
  CHECK(decision.until_ns == 0);
  CHECK(decision.strikes == 0);
  // The guard opened the window before sending, and still works.
  ikeguard_decision inbound{};
  CHECK(ikeguard_on_inbound_proposal(f.guard, reinterpret_cast<const sockaddr*>(&f.peer),
                                     sizeof f.peer, 0, 0, &inbound) == IKEGUARD_OK);
  CHECK(inbound.verdict == ikeguard_verdict_hold);
  CHECK(inbound.until_ns == 1'000'000 + 30'000'000'000u);
}

TEST_CASE("std::bad_alloc from the transport becomes out_of_memory at the C boundary") {
  Fixture f;
  f.throwing.bad_alloc = true;
  ikeguard_decision decision{};
  CHECK(f.reject(decision) == ikeguard_error_out_of_memory);
  CHECK(f.throwing.calls == 1);
  CHECK(decision.verdict == ikeguard_verdict_proceed);
}
#endif

TEST_CASE("ikeguard.h and the C++ headers can be used in one translation unit") {
  // `ikeguard` names the C++ namespace here; the C handle is ikeguard_handle, the same
  // `struct ikeguard_handle` as in C.
  ikeguard_handle* guard = nullptr;
  struct ikeguard_handle** same_type = &guard;
  CHECK(same_type == &guard);
  CHECK(ikeguard_create(&guard, nullptr, nullptr, nullptr) == IKEGUARD_OK);
  CHECK(guard != nullptr);
  ikeguard_stats stats = IKEGUARD_STATS_INIT;
  CHECK(stats.struct_size == sizeof stats);
  CHECK(ikeguard_get_stats(guard, &stats) == IKEGUARD_OK);
  CHECK(stats.capacity == 65536);
  ikeguard_destroy(guard);
  CHECK(ikeguard_error_snapshot_malformed == -static_cast<int>(ikeguard::Errc::snapshot_malformed));
}
