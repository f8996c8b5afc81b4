// SPDX-License-Identifier: MIT
// JsonLinesSink (json_sink.hpp): the exact lines it writes to a pipe or a file, its rate limit
// on the guard's clock, escaping, and write errors that are counted, not fatal.
#include "support.hpp"

#include <ikeguard/json_sink.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

using namespace ikeguard;
using namespace ikeguard::test;

namespace {

// A pipe whose read end never blocks: drain() returns what the sink wrote so far.
struct Pipe {
  Pipe() {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    read_end = fds[0];
    write_end = fds[1];
    REQUIRE(::fcntl(read_end, F_SETFL, O_NONBLOCK) == 0);
  }
  ~Pipe() {
    ::close(read_end);
    if (write_end >= 0) ::close(write_end);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  std::string drain() const {
    std::string text;
    char chunk[4096];
    for (;;) {
      const ssize_t n = ::read(read_end, chunk, sizeof chunk);
      if (n <= 0) break;
      text.append(chunk, static_cast<std::size_t>(n));
    }
    return text;
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    const std::string text = drain();
    std::size_t start = 0;
    for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
      result.push_back(text.substr(start, end - start));
    }
    CHECK(start == text.size());  // nothing after the last newline: every line is whole
    return result;
  }

  int read_end = -1;
  int write_end = -1;
};

Event window_opened(TimePoint when) {
  Event e;
  e.kind = EventKind::receiver_window_opened;
  e.direction = Direction::receiver;
  e.has_notice = true;
  e.version = IkeVersion::v2;
  e.notify_type = notify_v2::no_proposal_chosen;
  e.notify_class = NotifyClass::configuration;
  e.strikes = 1;
  e.fingerprint = 0x00c0ffee;
  e.peer = peer("198.51.100.7");
  e.at = when;
  e.until = when + 30s;
  e.remaining = 30s;
  return e;
}

Event notice_sent(TimePoint when) {
  Event e;
  e.kind = EventKind::notice_sent;
  e.direction = Direction::receiver;
  e.has_notice = true;
  e.notify_type = notify_v2::no_proposal_chosen;
  e.notify_class = NotifyClass::configuration;
  e.peer = peer("198.51.100.7");
  e.at = when;
  e.until = when;
  return e;
}

// The line window_opened(at(100s)) gives, without its newline, with `extra` fields at the end.
std::string opened_line(std::int64_t at_seconds, const std::string& extra = "") {
  const std::string at_ns = std::to_string(at_seconds) + "000000000";
  const std::string until_ns = std::to_string(at_seconds + 30) + "000000000";
  return R"({"time_ns":)" + at_ns +
         R"(,"event":"receiver_window_opened","direction":"receiver",)"
         R"("peer":"198.51.100.7:500","address":"198.51.100.7","port":500,"scope":0,)"
         R"("ike_version":2,"notify":"NO_PROPOSAL_CHOSEN","notify_type":14,)"
         R"("notify_class":"configuration","strikes":1,"fingerprint":"00c0ffee",)"
         R"("until_ns":)" + until_ns + R"(,"remaining_ms":30000,"count":1)" + extra + "}";
}

std::string sent_line(std::int64_t at_seconds, const std::string& extra = "") {
  const std::string ns = std::to_string(at_seconds) + "000000000";
  return R"({"time_ns":)" + ns +
         R"(,"event":"notice_sent","direction":"receiver",)"
         R"("peer":"198.51.100.7:500","address":"198.51.100.7","port":500,"scope":0,)"
         R"("ike_version":2,"notify":"NO_PROPOSAL_CHOSEN","notify_type":14,)"
         R"("notify_class":"configuration","strikes":0,"until_ns":)" + ns +
         R"(,"remaining_ms":0,"count":1)" + extra + "}";
}

}  // namespace

TEST_CASE("a window opened is written as one JSON line with every field that applies") {
  Pipe pipe;
  JsonLinesSink sink(pipe.write_end);
  sink.on_event(window_opened(at(100s)));
  CHECK(pipe.lines() == std::vector<std::string>{opened_line(100)});
  CHECK(sink.lines_written() == 1);
  CHECK(sink.lines_dropped() == 0);
  CHECK(sink.write_errors() == 0);
}

TEST_CASE("an event without a notify, fingerprint or peer leaves those fields out") {
  Pipe pipe;
  JsonLinesSink sink(pipe.write_end);
  Event e;
  e.kind = EventKind::snapshot_restored;
  e.at = at(5s);
  e.until = e.at;
  e.count = 3;
  sink.on_event(e);
  CHECK(pipe.lines() == std::vector<std::string>{
                            R"({"time_ns":5000000000,"event":"snapshot_restored","direction":"none",)"
                            R"("strikes":0,"until_ns":5000000000,"remaining_ms":0,"count":3})"});
}

TEST_CASE("retry_later_set says whether it awaits confirmation, and a record's node is named") {
  Pipe pipe;
  JsonLinesSink sink(pipe.write_end);
  Event e;
  e.kind = EventKind::retry_later_set;
  e.direction = Direction::sender;
  e.has_notice = true;
  e.awaiting_confirmation = true;
  e.version = IkeVersion::v1;
  e.notify_type = 8300;  // no name: notify is left out, notify_type stays
  e.notify_class = NotifyClass::retry_later;
  e.peer = peer("[2001:db8::7]:4500#12");
  e.at = at(std::chrono::milliseconds(1500));
  e.until = e.at + 2s;
  e.remaining = 2s;
  e.node = 9;
  sink.on_event(e);
  CHECK(pipe.lines() ==
        std::vector<std::string>{
            R"({"time_ns":1500000000,"event":"retry_later_set","direction":"sender",)"
            R"("peer":"[2001:db8::7]:4500#12","address":"2001:db8::7","port":4500,"scope":12,)"
            R"("ike_version":1,"notify_type":8300,"notify_class":"retry_later","strikes":0,)"
            R"("until_ns":3500000000,"remaining_ms":2000,"count":1,"node":9,)"
            R"("awaiting_confirmation":true})"});
}

TEST_CASE("the rate limit writes N lines of a kind per second and reports the rest next time") {
  Pipe pipe;
  JsonLinesOptions options;
  options.lines_per_second = 3;
  JsonLinesSink sink(pipe.write_end, options);
  // 3 + 2 of one kind inside second 100, and one of another kind, which has its own limit.
  for (const auto ms : {100000, 100100, 100200, 100300, 100999}) {
    sink.on_event(window_opened(at(std::chrono::milliseconds(ms))));
  }
  sink.on_event(notice_sent(at(100s)));
  CHECK(sink.lines_written() == 4);
  CHECK(sink.lines_dropped(EventKind::receiver_window_opened) == 2);
  CHECK(sink.lines_dropped(EventKind::notice_sent) == 0);
  CHECK(sink.lines_dropped() == 2);
  // The next second: the first line of the kind carries what was dropped, the second does not.
  sink.on_event(window_opened(at(101s)));
  sink.on_event(window_opened(at(101s)));

  const std::vector<std::string> lines = pipe.lines();
  REQUIRE(lines.size() == 6);
  CHECK(lines[0].rfind(R"({"time_ns":100000000000,"event":"receiver_window_opened")", 0) == 0);
  CHECK(lines[1].rfind(R"({"time_ns":100100000000,"event":"receiver_window_opened")", 0) == 0);
  CHECK(lines[2].rfind(R"({"time_ns":100200000000,"event":"receiver_window_opened")", 0) == 0);
  CHECK(lines[3] == sent_line(100));
  CHECK(lines[4] == opened_line(101, R"(,"suppressed":2)"));
  CHECK(lines[5] == opened_line(101));
  CHECK(sink.lines_written() == 6);
  CHECK(sink.lines_dropped() == 2);
}

TEST_CASE("an event a little behind the current second counts in that second") {
  Pipe pipe;
  JsonLinesOptions options;
  options.lines_per_second = 1;
  JsonLinesSink sink(pipe.write_end, options);
  sink.on_event(window_opened(at(101s)));
  sink.on_event(window_opened(at(100s)));  // another thread's, stamped earlier: dropped
  CHECK(sink.lines_written() == 1);
  CHECK(sink.lines_dropped() == 1);
  CHECK(pipe.lines().size() == 1);
}

TEST_CASE("a limit of zero writes every line") {
  Pipe pipe;
  JsonLinesOptions options;
  options.lines_per_second = 0;
  JsonLinesSink sink(pipe.write_end, options);
  for (int i = 0; i < 100; ++i) sink.on_event(window_opened(at(100s)));  // 40 KB: the pipe holds them
  CHECK(sink.lines_written() == 100);
  CHECK(sink.lines_dropped() == 0);
  CHECK(pipe.lines().size() == 100);
}

TEST_CASE("the source is escaped once and added to every line") {
  Pipe pipe;
  JsonLinesOptions options;
  options.source = "vpn \"east\"\\1\n\t\x01\x7f caf\xc3\xa9";
  JsonLinesSink sink(pipe.write_end, options);
  sink.on_event(window_opened(at(100s)));
  CHECK(pipe.lines() ==
        std::vector<std::string>{opened_line(
            100, R"(,"source":"vpn \"east\"\\1\n\t\u0001\u007f caf)" "\xc3\xa9\"")});
}

TEST_CASE("JSON escaping covers quote, backslash and every control character") {
  std::string all;
  for (int c = 0; c < 0x20; ++c) all.push_back(static_cast<char>(c));
  all += "\"\\/ok";
  std::string escaped;
  detail::json_escape(std::back_inserter(escaped), all);
  CHECK(escaped ==
        R"(\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\t\n\u000b\u000c\r\u000e\u000f)"
        R"(\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d)"
        R"(\u001e\u001f\"\\/ok)");
}

TEST_CASE("a long source is cut to 64 bytes at a character boundary") {
  Pipe pipe;
  JsonLinesOptions options;
  const std::string source = std::string(63, 'a') + "\xc3\xa9" + "tail";  // é straddles byte 64
  options.source = source;
  JsonLinesSink sink(pipe.write_end, options);
  sink.on_event(window_opened(at(100s)));
  CHECK(pipe.lines() ==
        std::vector<std::string>{opened_line(100, R"(,"source":")" + std::string(63, 'a') + "\"")});
}

TEST_CASE("the longest line there can be fits max_line_length and PIPE_BUF") {
  JsonLinesOptions options;
  const std::string source(JsonLinesSink::max_source_length, '\x01');
  options.source = source;
  JsonLinesSink sink(-1, options);
  Event e;
  e.kind = EventKind::receiver_window_opened;
  e.direction = Direction::receiver;
  e.has_notice = true;
  e.awaiting_confirmation = true;
  e.notify_type = 16430;  // IKEV2_FRAGMENTATION_SUPPORTED: the longest name
  REQUIRE(std::string(notify_name(IkeVersion::v2, e.notify_type)) == "IKEV2_FRAGMENTATION_SUPPORTED");
  e.notify_class = NotifyClass::configuration;
  e.strikes = 0xffffffffu;
  e.fingerprint = 0xffffffffu;
  e.peer = PeerKey::ipv6({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                          0xff, 0xff, 0xff, 0xff},
                         65535, 0xffffffffu);
  e.at = TimePoint(Duration::min());
  e.until = TimePoint(Duration::min());
  e.remaining = Duration::min();
  e.count = ~std::uint64_t{0};
  e.node = ~std::uint64_t{0};
  fmt::memory_buffer line;
  sink.format_line(line, e, ~std::uint64_t{0});
  INFO(fmt::to_string(line));
  CHECK(line.size() <= JsonLinesSink::max_line_length);
  CHECK(line.size() <= PIPE_BUF);
  // The kind with the longest name, for the same bound.
  e.kind = EventKind::retry_later_set;
  fmt::memory_buffer retry;
  sink.format_line(retry, e, ~std::uint64_t{0});
  CHECK(retry.size() <= JsonLinesSink::max_line_length);
}

TEST_CASE("a closed descriptor counts a write error and nothing else happens") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::close(fds[0]);
  ::close(fds[1]);
  JsonLinesSink sink(fds[1]);
  sink.on_event(window_opened(at(100s)));
  sink.on_event(window_opened(at(100s)));
  CHECK(sink.write_errors() == 2);
  CHECK(sink.lines_written() == 0);
}

TEST_CASE("a socket whose reader went away counts a write error instead of raising SIGPIPE") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  ::close(fds[1]);
  JsonLinesSink sink(fds[0]);
  sink.on_event(window_opened(at(100s)));
  ::close(fds[0]);
  CHECK(sink.write_errors() == 1);
  CHECK(sink.lines_written() == 0);
}

TEST_CASE("lines from many threads on an O_APPEND file never interleave") {
  char path[] = "/tmp/ikeguard_json_sink_XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::unlink(path);
  REQUIRE(::fcntl(fd, F_SETFL, O_APPEND) == 0);
  JsonLinesOptions options;
  options.lines_per_second = 0;
  JsonLinesSink sink(fd, options);
  constexpr int threads = 4, per_thread = 250;
  // Made here: Catch's assertions (inside the helpers) are not for other threads.
  std::vector<Event> events;
  for (int t = 0; t < threads; ++t) events.push_back(window_opened(at(std::chrono::seconds(100 + t))));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&sink, &events, t] {
      for (int i = 0; i < per_thread; ++i) sink.on_event(events[static_cast<std::size_t>(t)]);
    });
  }
  for (std::thread& w : workers) w.join();
  REQUIRE(::lseek(fd, 0, SEEK_SET) == 0);
  std::string text;
  char chunk[65536];
  for (ssize_t n; (n = ::read(fd, chunk, sizeof chunk)) > 0;) text.append(chunk, static_cast<std::size_t>(n));
  ::close(fd);
  std::size_t seen[threads] = {};
  std::size_t start = 0, malformed = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    const std::string l = text.substr(start, end - start);
    bool known = false;
    for (int t = 0; t < threads; ++t) {
      if (l == opened_line(100 + t)) {
        ++seen[t];
        known = true;
      }
    }
    malformed += known ? 0 : 1;
  }
  CHECK(start == text.size());
  CHECK(malformed == 0);
  for (int t = 0; t < threads; ++t) CHECK(seen[t] == per_thread);
  CHECK(sink.lines_written() == threads * per_thread);
}

TEST_CASE("a guard's own events, through the JSON sink and the log formatter, end to end") {
  Pipe pipe;
  JsonLinesSink json(pipe.write_end);
  struct Both final : EventSink {
    explicit Both(EventSink& next) : next_(next) {}
    void on_event(const Event& event) noexcept override {
      log.push_back(fmt::format("{}", event));
      next_.on_event(event);
    }
    EventSink& next_;
    std::vector<std::string> log;
  } sink(json);
  ManualClock clock(at(100s));
  RecordingTransport transport;
  GuardExtras extras;
  extras.events = &sink;
  auto made = NegotiationGuard::create(exact_policy(), clock, transport, extras);
  REQUIRE(made.ok());
  NegotiationGuard& guard = *made.value();
  const PeerKey alice = peer("198.51.100.7");
  guard.on_local_rejection(alice, notice(notify_v2::no_proposal_chosen));
  clock.set(at(101s));
  guard.on_local_rejection(alice, notice(notify_v2::no_proposal_chosen));
  guard.on_established(alice);
  CHECK(sink.log == std::vector<std::string>{
                        "ikeguard: 198.51.100.7:500 receiver window opened for 30s (strikes 1, NO_PROPOSAL_CHOSEN)",
                        "ikeguard: 198.51.100.7:500 notice sent NO_PROPOSAL_CHOSEN",
                        "ikeguard: 198.51.100.7:500 notice suppressed NO_PROPOSAL_CHOSEN (first in window, until t=130.000s)",
                        "ikeguard: 198.51.100.7:500 windows cleared (negotiation established)"});
  const std::vector<std::string> lines = pipe.lines();
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].find(R"("event":"receiver_window_opened")") != std::string::npos);
  CHECK(lines[0].find(R"("peer":"198.51.100.7:500")") != std::string::npos);
  CHECK(lines[0].find(R"("remaining_ms":30000)") != std::string::npos);
  CHECK(lines[2].find(R"("event":"notice_suppressed")") != std::string::npos);
  CHECK(lines[3].find(R"("event":"windows_cleared")") != std::string::npos);
}
