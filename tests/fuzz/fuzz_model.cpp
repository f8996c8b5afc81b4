// SPDX-License-Identifier: MIT
// The real guard against the reference model (tests/model/reference_guard.hpp), written from the
// documentation alone. The input is a policy drawn across the whole valid range of every member,
// a clock (a ManualClock starting anywhere, or a wrapping 32-bit TickClock the harness drives),
// then operations on a few peers: the five calls, bursts of proposals decided at one instant,
// snapshots restored into a new guard, and clock advances from nanoseconds to weeks, past the
// table's 2^29 ms normalisation again and again. After every operation every answer, every
// notice sent and every counter must agree; on a mismatch the operations so far and both answers
// are printed and the target aborts.
#include <ikeguard/ikeguard.hpp>

#include "../model/reference_guard.hpp"
#include "fuzz_check.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using namespace ikeguard;

namespace {

constexpr std::int64_t ms_ns = 1000000;
constexpr std::int64_t limit_ms = std::int64_t{1} << 30;  // max_duration_limit

// ---- what the harness did, for the report ------------------------------------------------------

std::vector<std::string> journal;

void note(const char* format, ...) __attribute__((format(printf, 1, 2)));
void note(const char* format, ...) {
  char line[256];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  journal.emplace_back(line);
}

[[noreturn]] void diverged(const char* what, const std::string& guard, const std::string& model) {
  std::fprintf(stderr, "fuzz_model: the guard and the model disagree: %s\n", what);
  std::fprintf(stderr, "operations:\n");
  for (const std::string& line : journal) std::fprintf(stderr, "  %s\n", line.c_str());
  std::fprintf(stderr, "guard: %s\nmodel: %s\n", guard.c_str(), model.c_str());
  std::abort();
}

std::string ns(TimePoint t) {
  if (t == TimePoint::max()) return "max";
  return std::to_string(t.time_since_epoch().count()) + "ns";
}

std::string text(const Decision& d) {
  return std::string(d.verdict == Verdict::hold ? "hold" : "proceed") + " until " + ns(d.until) +
         " strikes " + std::to_string(d.strikes);
}

std::string text(const ErrorOutcome& o) {
  static const char* const names[] = {"hold", "retry_now", "retry_later", "ignored"};
  return std::string(names[static_cast<int>(o.action)]) + " until " + ns(o.until) + " strikes " +
         std::to_string(o.strikes);
}

// ---- the alphabet ------------------------------------------------------------------------------

const std::array<PeerKey, 8>& peers() {
  static const std::array<PeerKey, 8> keys = {
      *PeerKey::parse("192.0.2.1"),        *PeerKey::parse("192.0.2.1:4500"),
      *PeerKey::parse("198.51.100.7"),     *PeerKey::parse("192.0.2.1#3"),
      *PeerKey::parse("2001:db8::1"),      *PeerKey::parse("[2001:db8::1]:4500"),
      *PeerKey::parse("[fe80::1]:500#2"),  *PeerKey::parse("[2001:db8:ffff::7]:500")};
  return keys;
}

// Unknown, and known values that differ in every byte and every half (the table keeps 32 bits).
constexpr std::array<std::uint64_t, 4> fingerprints = {0, 0x1111111122222222u, 0x3333333344444444u,
                                                       0x5555555566666666u};

struct NoticeType {
  IkeVersion version;
  std::uint16_t type;
};
// Every class: configuration, retry_now, retry_later, ignored/status, and types no table names.
constexpr std::array<NoticeType, 16> notice_types = {{
    {IkeVersion::v2, notify_v2::no_proposal_chosen},
    {IkeVersion::v2, notify_v2::authentication_failed},
    {IkeVersion::v2, notify_v2::ts_unacceptable},
    {IkeVersion::v2, notify_v2::invalid_ke_payload},
    {IkeVersion::v2, notify_v2::cookie},
    {IkeVersion::v2, notify_v2::temporary_failure},
    {IkeVersion::v2, notify_v2::no_additional_sas},
    {IkeVersion::v2, notify_v2::invalid_ike_spi},
    {IkeVersion::v2, 16404},  // a status type
    {IkeVersion::v2, 9999},   // unassigned error: configuration by default
    {IkeVersion::v2, 60000},  // unassigned status
    {IkeVersion::v1, notify_v1::no_proposal_chosen},
    {IkeVersion::v1, notify_v1::invalid_id_information},
    {IkeVersion::v1, notify_v1::address_notification},
    {IkeVersion::v1, notify_v1::first_status},
    {IkeVersion::v1, 8191},
}};

// ---- drawing the policy ------------------------------------------------------------------------

// A duration in [1 ns, most_ns], spread over every order of magnitude.
Duration draw_duration(FuzzedDataProvider& in, std::int64_t most_ns) {
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: {  // any nanosecond count, log-spread
      const int bits = in.ConsumeIntegralInRange<int>(0, 50);
      const std::int64_t top = std::min<std::int64_t>(most_ns, std::int64_t{1} << bits);
      return Duration(in.ConsumeIntegralInRange<std::int64_t>(1, std::max<std::int64_t>(1, top)));
    }
    case 1: {  // whole milliseconds, log-spread
      const int bits = in.ConsumeIntegralInRange<int>(0, 30);
      const std::int64_t top = std::min<std::int64_t>(most_ns / ms_ns, std::int64_t{1} << bits);
      if (top < 1) return Duration(most_ns);
      return Duration(in.ConsumeIntegralInRange<std::int64_t>(1, top) * ms_ns);
    }
    case 2: {  // the documented defaults and extremes
      static constexpr std::int64_t presets[] = {
          2'000'000'000, 30'000'000'000, 60'000'000'000, 300'000'000'000, 86'400'000'000'000,
          limit_ms * ms_ns, ms_ns, 1};
      return Duration(std::min(most_ns, presets[in.ConsumeIntegralInRange<int>(0, 7)]));
    }
    default:
      return Duration(most_ns);
  }
}

Policy draw_policy(FuzzedDataProvider& in) {
  Policy p;
  const std::int64_t limit = limit_ms * ms_ns;
  p.max_window = draw_duration(in, limit);
  p.receiver_window = draw_duration(in, p.max_window.count());
  p.sender_window = draw_duration(in, p.max_window.count());
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
    case 0: p.backoff = 1.0; break;
    case 1: p.backoff = 2.0; break;
    case 2: p.backoff = in.ConsumeFloatingPointInRange<double>(1.0, 4.0); break;
    case 3: p.backoff = in.ConsumeFloatingPointInRange<double>(1.0, 1e300); break;
    default: p.backoff = 1.5; break;
  }
  const unsigned small = in.ConsumeIntegralInRange<unsigned>(0, 7);
  p.unauthenticated_confirmations =
      small < 6 ? 1 + small % 3 : in.ConsumeIntegralInRange<unsigned>(1, 255);
  p.retry_delay = draw_duration(in, limit);
  p.jitter = in.ConsumeBool() ? 0.0 : in.ConsumeFloatingPointInRange<double>(0.0, 0.999);
  p.forgive_after = draw_duration(in, limit);
  p.max_peers = 4096;  // at most 8 peers: nothing is ever evicted
  p.keep_addresses = in.ConsumeBool();
  const int overrides = in.ConsumeIntegralInRange<int>(0, 3);
  for (int i = 0; i < overrides; ++i) {
    const NoticeType& t = notice_types[in.ConsumeIntegralInRange<std::size_t>(0, 15)];
    const int cls = in.ConsumeIntegralInRange<int>(0, 3);
    p.notify_classes.set(t.version, t.type, static_cast<NotifyClass>(cls));
    note("override v%d type %u: class %d", static_cast<int>(t.version), unsigned{t.type}, cls);
  }
  return p;
}

// ---- the clocks ----------------------------------------------------------------------------------

std::uint32_t ticks_now = 0;
std::uint32_t read_ticks(void*) noexcept { return ticks_now; }

struct Transcript final : Transport {
  std::vector<std::pair<PeerKey, Notice>> sent;
  void send_notice(const PeerKey& peer, const Notice& notice) override {
    sent.emplace_back(peer, notice);
  }
};

bool same_notice(const Notice& a, const Notice& b) {
  return a.version == b.version && a.type == b.type && a.initiator_spi == b.initiator_spi &&
         a.responder_spi == b.responder_spi && a.message_id == b.message_id;
}

class Harness {
 public:
  Harness(const Policy& policy, bool ticks, TimePoint start, std::uint32_t first_tick)
      : policy_(policy), ticking_(ticks), manual_(std::make_unique<ManualClock>(start)),
        model_(policy) {
    if (ticking_) {
      ticks_now = first_tick;
      tick_clock_ = std::make_unique<TickClock>(&read_ticks, nullptr);
    }
    guard_ = make_guard();
    table_bytes_ = guard_->stats().table_bytes;
    model_.set_adopt_end([this](TimePoint lowest, TimePoint highest) {
      if (!(adopted_ >= lowest && adopted_ <= highest)) {
        diverged("a jittered window ends outside the documented bounds", ns(adopted_),
                 "between " + ns(lowest) + " and " + ns(highest));
      }
      return adopted_;
    });
  }

  TimePoint now() const {
    return ticking_ ? tick_clock_->now() : manual_->now();
  }

  void advance(Duration by) {
    if (ticking_) {
      // Whole milliseconds; at most 2^31 - 1 between readings, as TickClock requires.
      std::int64_t ms = by.count() / ms_ns;
      ms = std::min<std::int64_t>(ms, (std::int64_t{1} << 31) - 1);
      ticks_now += static_cast<std::uint32_t>(ms);
      (void)tick_clock_->now();  // the reading TickClock needs at least every 2^31 ms
      note("advance %" PRId64 " ms (tick %" PRIu32 ")", ms, ticks_now);
      return;
    }
    const std::int64_t at = manual_->now().time_since_epoch().count();
    const std::int64_t room = TimePoint::max().time_since_epoch().count() - at;
    const std::int64_t step = std::min(room, by.count());
    manual_->advance(Duration(step));
    note("advance %" PRId64 " ns", step);
  }

  void outbound(std::size_t peer, std::uint64_t fp) {
    note("on_outbound_proposal(peer %zu, fp %" PRIx64 ")", peer, fp);
    const Decision g = guard_->on_outbound_proposal(peers()[peer], Fingerprint::from_value(fp));
    adopted_ = g.until;
    const Decision m = model_.on_outbound_proposal(now(), peers()[peer], Fingerprint::from_value(fp));
    compare(g, m, "on_outbound_proposal");
  }

  void inbound(std::size_t peer, std::uint64_t fp) {
    note("on_inbound_proposal(peer %zu, fp %" PRIx64 ")", peer, fp);
    const Decision g = guard_->on_inbound_proposal(peers()[peer], Fingerprint::from_value(fp));
    adopted_ = g.until;
    const Decision m = model_.on_inbound_proposal(now(), peers()[peer], Fingerprint::from_value(fp));
    compare(g, m, "on_inbound_proposal");
  }

  void error(std::size_t peer, const Notice& notice, Origin origin) {
    note("on_inbound_error(peer %zu, v%d type %u, origin %d)", peer,
         static_cast<int>(notice.version), unsigned{notice.type}, static_cast<int>(origin));
    const ErrorOutcome g = guard_->on_inbound_error(peers()[peer], notice, origin);
    adopted_ = g.until;
    const ErrorOutcome m = model_.on_inbound_error(now(), peers()[peer], notice, origin);
    journal.back() += ": " + text(g);
    if (g.action != m.action || g.until != m.until || g.strikes != m.strikes) {
      diverged("on_inbound_error answered differently", text(g), text(m));
    }
  }

  void rejection(std::size_t peer, const Notice& notice, std::uint64_t fp) {
    note("on_local_rejection(peer %zu, v%d type %u, fp %" PRIx64 ")", peer,
         static_cast<int>(notice.version), unsigned{notice.type}, fp);
    const Decision g =
        guard_->on_local_rejection(peers()[peer], notice, Fingerprint::from_value(fp));
    adopted_ = g.until;
    const Decision m =
        model_.on_local_rejection(now(), peers()[peer], notice, Fingerprint::from_value(fp));
    compare(g, m, "on_local_rejection");
  }

  void established(std::size_t peer) {
    note("on_established(peer %zu)", peer);
    guard_->on_established(peers()[peer]);
    model_.on_established(peers()[peer]);
  }

  // N proposals about one peer decided at one instant. The only place that decides a burst, so
  // it can move to NegotiationGuard's batch calls.
  // A burst through the guard's burst calls, element by element through the model's single
  // calls: the guard's answers must be the single calls' in order at one instant.
  void decide_burst(bool inbound_side, const std::vector<std::pair<std::size_t, std::uint64_t>>& burst) {
    note("burst of %zu %s proposals", burst.size(), inbound_side ? "inbound" : "outbound");
    std::vector<PeerKey> keys;
    std::vector<Fingerprint> offered;
    for (const auto& [peer, fp] : burst) {
      keys.push_back(peers()[peer]);
      offered.push_back(Fingerprint::from_value(fp));
      journal.back() += " (peer " + std::to_string(peer) + ", fp " + std::to_string(fp) + ")";
    }
    std::vector<Decision> answers(burst.size());
    const Errc status = inbound_side ? guard_->on_inbound_proposals(keys, offered, answers)
                                     : guard_->on_outbound_proposals(keys, offered, answers);
    if (status != Errc::ok) diverged("a burst was refused", name(status), "ok");
    for (std::size_t i = 0; i < burst.size(); ++i) {
      adopted_ = answers[i].until;
      const Decision m = inbound_side
                             ? model_.on_inbound_proposal(now(), keys[i], offered[i])
                             : model_.on_outbound_proposal(now(), keys[i], offered[i]);
      compare(answers[i], m, inbound_side ? "on_inbound_proposals" : "on_outbound_proposals");
    }
  }

  // Snapshot, then a guard restored from it: on the same clock, or (ManualClock only) on a new
  // clock that starts at `start_ms`, both instants whole milliseconds.
  void restart(bool new_clock, std::int64_t start_ms) {
    if (ticking_ || model_.any_saturated(now())) new_clock = false;
    if (new_clock) {
      const std::int64_t at = manual_->now().time_since_epoch().count();
      const std::int64_t to_ms = at % ms_ns == 0 ? 0 : ms_ns - at % ms_ns;
      if (to_ms > 0) advance(Duration(to_ms));
      if (manual_->now().time_since_epoch().count() % ms_ns != 0) new_clock = false;  // at max
    }
    const TimePoint before = now();
    if (new_clock) {
      note("snapshot, create_restored on a clock starting at %" PRId64 " ms", start_ms);
    } else {
      note("snapshot, create_restored");
    }
    SnapshotKey key;
    key.bytes.fill(0x42);
    std::vector<unsigned char> buffer(guard_->snapshot_bound());
    const Result<std::size_t> written = guard_->snapshot(buffer.data(), buffer.size(), key);
    IKEGUARD_FUZZ_CHECK(written.ok());
    std::unique_ptr<ManualClock> next;
    if (new_clock) next = std::make_unique<ManualClock>(TimePoint(std::chrono::milliseconds(start_ms)));
    Clock& restored_clock = next ? static_cast<Clock&>(*next) : clock();
    RestoreReport report;
    auto restored = NegotiationGuard::create_restored(policy_, restored_clock, transcript_,
                                                      buffer.data(), written.value(), key, &report);
    IKEGUARD_FUZZ_CHECK(restored.ok());
    IKEGUARD_FUZZ_CHECK(report.dropped == 0);
    guard_ = std::move(restored).value();  // the old guard ends before its clock
    if (next) manual_ = std::move(next);
    model_.restart(before, now());
  }

  // After every operation: the notices sent and every counter.
  void check_counters() {
    const auto& expected = model_.sent();
    if (transcript_.sent.size() != expected.size()) {
      diverged("a different number of notices was sent", std::to_string(transcript_.sent.size()),
               std::to_string(expected.size()));
    }
    for (std::size_t i = 0; i < expected.size(); ++i) {
      if (transcript_.sent[i].first != expected[i].first ||
          !same_notice(transcript_.sent[i].second, expected[i].second)) {
        diverged("a different notice was sent", "notice " + std::to_string(i), "");
      }
    }
    transcript_.sent.clear();
    model_.clear_sent();

    const Stats g = guard_->stats();
    const Stats& m = model_.counters();
#define IKEGUARD_MODEL_COUNTER(name, help)                                               \
    if (g.name != m.name) {                                                               \
      diverged("counter " #name " differs", std::to_string(g.name), std::to_string(m.name)); \
    }
#define IKEGUARD_MODEL_GAUGE(name, help)
    IKEGUARD_COUNTERS(IKEGUARD_MODEL_COUNTER, IKEGUARD_MODEL_GAUGE)
#undef IKEGUARD_MODEL_COUNTER
#undef IKEGUARD_MODEL_GAUGE
    if (g.capacity != policy_.max_peers) diverged("capacity", std::to_string(g.capacity), "");
    if (g.table_bytes != table_bytes_) diverged("table_bytes changed", "", "");
    const std::size_t least = model_.least_tracked(now());
    const std::size_t most = model_.most_tracked();
    if (g.peers_tracked < least || g.peers_tracked > most) {
      diverged("peers_tracked outside what the model allows", std::to_string(g.peers_tracked),
               std::to_string(least) + ".." + std::to_string(most));
    }
  }

 private:
  Clock& clock() { return ticking_ ? static_cast<Clock&>(*tick_clock_) : *manual_; }

  std::unique_ptr<NegotiationGuard> make_guard() {
    auto made = NegotiationGuard::create(policy_, clock(), transcript_);
    IKEGUARD_FUZZ_CHECK(made.ok());
    return std::move(made).value();
  }

  void compare(const Decision& g, const Decision& m, const char* call) {
    journal.back() += ": " + text(g);
    if (g.verdict != m.verdict || g.until != m.until || g.strikes != m.strikes) {
      diverged((std::string(call) + " answered differently").c_str(), text(g), text(m));
    }
  }

  Policy policy_;
  bool ticking_;
  std::unique_ptr<ManualClock> manual_;
  std::unique_ptr<TickClock> tick_clock_;
  Transcript transcript_;
  std::unique_ptr<NegotiationGuard> guard_;
  model::ReferenceGuard model_;
  std::uint64_t table_bytes_ = 0;
  TimePoint adopted_{};
};

Duration draw_advance(FuzzedDataProvider& in, const Policy& p) {
  switch (in.ConsumeIntegralInRange<int>(0, 5)) {
    case 0:  // nanoseconds to a few milliseconds
      return Duration(in.ConsumeIntegralInRange<std::int64_t>(0, 5 * ms_ns));
    case 1: {  // whole milliseconds, log-spread up to about 25 days
      const int bits = in.ConsumeIntegralInRange<int>(0, 31);
      return Duration(in.ConsumeIntegralInRange<std::int64_t>(0, (std::int64_t{1} << bits) - 1) *
                      ms_ns);
    }
    case 2: {  // one of the policy's durations, give or take a nanosecond or a millisecond
      const Duration bases[] = {p.retry_delay, p.forgive_after, p.sender_window,
                                p.receiver_window, p.max_window};
      const Duration base = bases[in.ConsumeIntegralInRange<int>(0, 4)];
      static constexpr std::int64_t nudges[] = {0, 1, -1, ms_ns, -ms_ns};
      return std::max(Duration::zero(), base + Duration(nudges[in.ConsumeIntegralInRange<int>(0, 4)]));
    }
    case 3:  // past the 2^29 ms normalisation
      return Duration(((std::int64_t{1} << 29) + in.ConsumeIntegralInRange<std::int64_t>(-2, 2)) *
                      ms_ns);
    case 4:  // days
      return std::chrono::hours(24) * in.ConsumeIntegralInRange<int>(1, 24);
    default:  // any nanosecond count up to about 25 days
      return Duration(in.ConsumeIntegralInRange<std::int64_t>(0, (std::int64_t{1} << 31) * ms_ns));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  journal.clear();
  const Policy policy = draw_policy(in);
  if (validate(policy) != Errc::ok) return 0;
  const bool ticks = in.ConsumeIntegralInRange<int>(0, 3) == 0;
  TimePoint start{};
  std::uint32_t first_tick = 0;
  if (ticks) {
    first_tick = in.ConsumeBool() ? in.ConsumeIntegral<std::uint32_t>()
                                  : 0xffffffffu - in.ConsumeIntegralInRange<std::uint32_t>(0, 100000);
  } else {
    switch (in.ConsumeIntegralInRange<int>(0, 3)) {
      case 0: break;
      case 1: start = TimePoint(Duration(in.ConsumeIntegralInRange<std::int64_t>(0, std::int64_t{1} << 62))); break;
      case 2: start = TimePoint(std::chrono::milliseconds(in.ConsumeIntegral<std::uint32_t>())); break;
      default:  // near the clock's last instant: windows saturate
        start = TimePoint::max() - Duration(in.ConsumeIntegralInRange<std::int64_t>(
                                       0, std::int64_t{1} << 50));
        break;
    }
  }
  {
    const Policy& p = policy;
    note("policy T1 %" PRId64 " T2 %" PRId64 " backoff %.17g max %" PRId64
         " confirmations %u retry %" PRId64 " jitter %.17g forgive %" PRId64 " (ns)",
         static_cast<std::int64_t>(p.receiver_window.count()),
         static_cast<std::int64_t>(p.sender_window.count()), p.backoff,
         static_cast<std::int64_t>(p.max_window.count()), p.unauthenticated_confirmations,
         static_cast<std::int64_t>(p.retry_delay.count()), p.jitter,
         static_cast<std::int64_t>(p.forgive_after.count()));
    note("clock %s, start %" PRId64 " ns, first tick %" PRIu32, ticks ? "TickClock" : "ManualClock",
         static_cast<std::int64_t>(start.time_since_epoch().count()), first_tick);
  }
  Harness h(policy, ticks, start, first_tick);

  int operations = 0;
  while (in.remaining_bytes() > 0 && operations++ < 200) {
    const std::size_t peer = in.ConsumeIntegralInRange<std::size_t>(0, peers().size() - 1);
    const auto fp = [&] { return fingerprints[in.ConsumeIntegralInRange<std::size_t>(0, 3)]; };
    const auto notice = [&] {
      const NoticeType& t = notice_types[in.ConsumeIntegralInRange<std::size_t>(0, 15)];
      Notice n;
      n.version = t.version;
      n.type = t.type;
      n.initiator_spi = in.ConsumeIntegral<std::uint8_t>();
      n.message_id = in.ConsumeIntegral<std::uint8_t>();
      return n;
    };
    switch (in.ConsumeIntegralInRange<int>(0, 12)) {
      case 0:
      case 1: h.outbound(peer, fp()); break;
      case 2:
      case 3: {
        const Notice n = notice();
        h.error(peer, n, static_cast<Origin>(in.ConsumeIntegralInRange<int>(0, 2)));
        break;
      }
      case 4: h.inbound(peer, fp()); break;
      case 5:
      case 6: {
        const Notice n = notice();
        h.rejection(peer, n, fp());
        break;
      }
      case 7: h.established(peer); break;
      case 8: {
        const bool inbound_side = in.ConsumeBool();
        std::vector<std::pair<std::size_t, std::uint64_t>> burst(
            in.ConsumeIntegralInRange<std::size_t>(1, 40));
        for (auto& [who, f] : burst) {
          who = in.ConsumeIntegralInRange<std::size_t>(0, peers().size() - 1);
          f = fp();
        }
        h.decide_burst(inbound_side, burst);
        break;
      }
      case 9: {
        const bool new_clock = in.ConsumeBool();
        h.restart(new_clock, in.ConsumeIntegralInRange<std::int64_t>(0, std::int64_t{1} << 42));
        break;
      }
      default: h.advance(draw_advance(in, policy)); break;
    }
    h.check_counters();
  }
  return 0;
}
