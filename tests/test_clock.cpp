// SPDX-License-Identifier: MIT
// Clocks: ManualClock, SteadyClock and the 32-bit TickClock extension.
#include "support.hpp"

#include <chrono>
#include <cstdint>

using namespace ikeguard;
using namespace std::chrono_literals;

namespace {

/// A firmware millisecond counter the test moves by hand.
struct FakeTicks {
  std::uint32_t value = 0;
  static std::uint32_t read(void* context) noexcept {
    return static_cast<const FakeTicks*>(context)->value;
  }
};

TimePoint ms(std::uint64_t milliseconds) {
  return TimePoint(std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(milliseconds)));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ManualClock

TEST_CASE("a default ManualClock starts at the clock's epoch") {
  const ManualClock clock;
  CHECK(clock.now() == TimePoint{});
  CHECK(clock.now().time_since_epoch().count() == 0);
}

TEST_CASE("a ManualClock starts at the given point and stays there until told") {
  const ManualClock clock(TimePoint(90s));
  CHECK(clock.now() == TimePoint(90s));
  CHECK(clock.now() == TimePoint(90s));
}

TEST_CASE("ManualClock::advance moves time forward by exactly the duration") {
  ManualClock clock(TimePoint(10s));
  clock.advance(5s);
  CHECK(clock.now() == TimePoint(15s));
  clock.advance(1ns);
  CHECK(clock.now() == TimePoint(15s + 1ns));
  clock.advance(Duration::zero());
  CHECK(clock.now() == TimePoint(15s + 1ns));
  clock.advance(24h);
  CHECK(clock.now() == TimePoint(24h + 15s + 1ns));
}

TEST_CASE("ManualClock::set moves time to exactly the given point") {
  ManualClock clock;
  clock.set(TimePoint(30s));
  CHECK(clock.now() == TimePoint(30s));
  clock.set(TimePoint(30s) - 1ns);
  CHECK(clock.now() == TimePoint(30s - 1ns));
  clock.advance(2ns);
  CHECK(clock.now() == TimePoint(30s + 1ns));
}

TEST_CASE("a ManualClock answers the same through the Clock interface") {
  ManualClock manual(TimePoint(7s));
  const Clock& clock = manual;
  CHECK(clock.now() == TimePoint(7s));
  manual.advance(3s);
  CHECK(clock.now() == TimePoint(10s));
}

// ---------------------------------------------------------------------------------------------
// SteadyClock

TEST_CASE("SteadyClock never goes back between two reads") {
  const SteadyClock steady;
  const Clock& clock = steady;
  const TimePoint a = clock.now();
  const TimePoint b = clock.now();
  CHECK(b >= a);
}

TEST_CASE("SteadyClock reads std::chrono::steady_clock") {
  const SteadyClock clock;
  const auto before = std::chrono::steady_clock::now();
  const TimePoint read = clock.now();
  const auto after = std::chrono::steady_clock::now();
  CHECK(read >= before);
  CHECK(read <= after);
}

// ---------------------------------------------------------------------------------------------
// TickClock

TEST_CASE("a TickClock starts at the counter's reading in milliseconds") {
  FakeTicks ticks{1234};
  const TickClock clock(&FakeTicks::read, &ticks);
  CHECK(clock.now() == ms(1234));
  CHECK(clock.now() == TimePoint(1234ms));
}

TEST_CASE("a TickClock advances with the counter") {
  FakeTicks ticks{1000};
  const TickClock clock(&FakeTicks::read, &ticks);
  ticks.value = 1001;
  CHECK(clock.now() == ms(1001));
  ticks.value = 61001;
  CHECK(clock.now() == ms(61001));
  CHECK(clock.now() == ms(61001));  // an unchanged counter: the same time
}

TEST_CASE("a TickClock keeps counting exactly across the 2^32 wrap") {
  FakeTicks ticks{0xFFFFFF00u};
  const TickClock clock(&FakeTicks::read, &ticks);
  CHECK(clock.now() == ms(0xFFFFFF00u));
  ticks.value = 0xFFFFFFFFu;
  CHECK(clock.now() == ms(0xFFFFFFFFull));
  ticks.value = 0;
  CHECK(clock.now() == ms(0x100000000ull));
  ticks.value = 0x100u;
  CHECK(clock.now() == ms(0x100000100ull));  // 4294967552 ms
}

TEST_CASE("a TickClock steps straight over the wrap in one reading") {
  FakeTicks ticks{0xFFFFFF00u};
  const TickClock clock(&FakeTicks::read, &ticks);
  ticks.value = 0x00000100u;  // 512 ms later, past the wrap, without a reading in between
  CHECK(clock.now() == ms(0xFFFFFF00ull + 512));
  CHECK(clock.now() - ms(0xFFFFFF00u) == 512ms);
}

TEST_CASE("a TickClock stays exact over several wraps when read often enough") {
  FakeTicks ticks{0xFFFFFFF0u};
  const TickClock clock(&FakeTicks::read, &ticks);
  // Steps of 2^31 - 1 ms: the longest allowed between two readings.
  constexpr std::uint32_t step = 0x7FFFFFFFu;
  std::uint64_t expected = 0xFFFFFFF0u;
  for (int i = 0; i < 11; ++i) {  // 11 steps: just over five wraps
    ticks.value += step;           // unsigned: wraps like the firmware counter
    expected += step;
    INFO("step " << i);
    CHECK(clock.now() == ms(expected));
  }
  CHECK(expected > 5 * 0x100000000ull);
  // Small steps afterwards still land exactly.
  ticks.value += 1;
  CHECK(clock.now() == ms(expected + 1));
}

TEST_CASE("a TickClock never goes back when fed an older reading") {
  FakeTicks ticks{5000};
  const TickClock clock(&FakeTicks::read, &ticks);
  ticks.value = 6000;
  CHECK(clock.now() == ms(6000));
  ticks.value = 5999;  // a racing thread's older reading
  CHECK(clock.now() == ms(6000));
  ticks.value = 0;
  CHECK(clock.now() == ms(6000));
  // The next newer reading continues from the latest one, not from the older one.
  ticks.value = 6500;
  CHECK(clock.now() == ms(6500));
}

TEST_CASE("a TickClock never goes back when fed a reading from before the wrap") {
  FakeTicks ticks{0xFFFFFFF0u};
  const TickClock clock(&FakeTicks::read, &ticks);
  ticks.value = 0x10u;  // past the wrap: 32 ms later
  CHECK(clock.now() == ms(0x100000010ull));
  ticks.value = 0xFFFFFFF8u;  // older, from before the wrap
  CHECK(clock.now() == ms(0x100000010ull));
  ticks.value = 0x20u;
  CHECK(clock.now() == ms(0x100000020ull));
}

// ---------------------------------------------------------------------------------------------
// A guard on a TickClock across the counter's wrap

namespace {
constexpr std::uint64_t wrap_ms = 0x100000000ull;  // 2^32 ms: where the counter reads 0 again
}  // namespace

TEST_CASE("a sender window opened 5 s before the tick counter wraps ends exactly T2 later") {
  FakeTicks ticks{static_cast<std::uint32_t>(wrap_ms - 5000)};
  TickClock clock(&FakeTicks::read, &ticks);
  test::RecordingTransport transport;
  const auto guard = test::make_guard(test::exact_policy(), clock, transport);  // T2 60 s
  const PeerKey responder = test::peer("192.0.2.1");

  const ErrorOutcome opened = guard->on_inbound_error(
      responder, test::notice(notify_v2::no_proposal_chosen), Origin::authenticated);
  CHECK(opened.action == ErrorAction::hold);
  CHECK(opened.until == ms(wrap_ms + 55000));

  ticks.value = 0;  // the wrap
  Decision d = guard->on_outbound_proposal(responder);
  CHECK(d.verdict == Verdict::hold);
  CHECK(d.until == ms(wrap_ms + 55000));

  ticks.value = 54999;
  d = guard->on_outbound_proposal(responder);
  CHECK(d.verdict == Verdict::hold);
  CHECK(d.until == ms(wrap_ms + 55000));

  ticks.value = 55000;  // 60 s after the error, counted across the wrap
  d = guard->on_outbound_proposal(responder);
  CHECK(d.verdict == Verdict::proceed);
  CHECK(d.until == TimePoint{});  // nothing to wait for
  CHECK(d.strikes == 1);
}

TEST_CASE("a receiver window spanning the tick counter's wrap still drops proposals after it") {
  FakeTicks ticks{static_cast<std::uint32_t>(wrap_ms - 10000)};
  TickClock clock(&FakeTicks::read, &ticks);
  test::RecordingTransport transport;
  const auto guard = test::make_guard(test::exact_policy(), clock, transport);  // T1 30 s
  const PeerKey initiator = test::peer("198.51.100.7:500");

  const Decision rejected =
      guard->on_local_rejection(initiator, test::notice(notify_v2::no_proposal_chosen));
  CHECK(rejected.verdict == Verdict::hold);
  CHECK(rejected.until == ms(wrap_ms + 20000));
  CHECK(transport.sent.size() == 1);

  ticks.value = 1;  // 1 ms past the wrap: a raw counter smaller than at the rejection
  Decision d = guard->on_inbound_proposal(initiator);
  CHECK(d.verdict == Verdict::hold);
  CHECK(d.until == ms(wrap_ms + 20000));

  ticks.value = 19999;
  d = guard->on_inbound_proposal(initiator);
  CHECK(d.verdict == Verdict::hold);
  CHECK(d.until == ms(wrap_ms + 20000));

  ticks.value = 20000;
  d = guard->on_inbound_proposal(initiator);
  CHECK(d.verdict == Verdict::proceed);
  CHECK(d.until == TimePoint{});  // nothing to wait for
  CHECK(guard->stats().dropped_inbound == 2);
  CHECK(guard->stats().proceeded_inbound == 1);
}
