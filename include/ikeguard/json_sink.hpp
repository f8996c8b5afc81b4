// SPDX-License-Identifier: MIT
// JsonLinesSink: the guard's events as one JSON object per line on a file descriptor, for log
// pipelines (journald through a pipe or socket, ELK or Loki through a file). Header-only; needs
// fmt (CMake target ikeguard::format). POSIX.
#pragma once

#include <ikeguard/events.hpp>
#include <ikeguard/format.hpp>

#include <fmt/compile.h>
#include <fmt/format.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <climits>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string_view>

namespace ikeguard {

/// How a JsonLinesSink writes.
struct JsonLinesOptions {
  /// At most this many lines of each EventKind per one-second bucket of Event::at (the guard's
  /// clock, not the wall clock); the rest are dropped and counted, and the next line of that
  /// kind says how many in "suppressed". 0: no limit.
  std::uint32_t lines_per_second = 50;
  /// When not empty, every line carries it as "source" (a daemon or node name). UTF-8; at most
  /// JsonLinesSink::max_source_length bytes are kept, cut at a character boundary.
  std::string_view source{};
};

namespace detail {

/// `text` as the inside of a JSON string (RFC 8259 7): quote, backslash and control characters
/// escaped; other bytes, UTF-8 included, as they are.
template <class Out>
Out json_escape(Out out, std::string_view text) {
  constexpr char hex[] = "0123456789abcdef";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"': *out++ = '\\'; *out++ = '"'; continue;
      case '\\': *out++ = '\\'; *out++ = '\\'; continue;
      case '\n': *out++ = '\\'; *out++ = 'n'; continue;
      case '\r': *out++ = '\\'; *out++ = 'r'; continue;
      case '\t': *out++ = '\\'; *out++ = 't'; continue;
      default: break;
    }
    if (byte < 0x20 || byte == 0x7f) {
      for (const char e : {'\\', 'u', '0', '0'}) *out++ = e;
      *out++ = hex[byte >> 4];
      *out++ = hex[byte & 0xf];
    } else {
      *out++ = c;
    }
  }
  return out;
}

/// The address part of a peer's canonical text: "192.0.2.1:500#3" -> "192.0.2.1",
/// "[2001:db8::1]:4500" -> "2001:db8::1".
constexpr std::string_view address_of(std::string_view peer_text) noexcept {
  if (!peer_text.empty() && peer_text.front() == '[') {
    return peer_text.substr(1, peer_text.find(']') - 1);
  }
  return peer_text.substr(0, peer_text.find(':'));
}

/// Writes the whole of data[0..size) to fd: EINTR retried, a short write continued.
/// MSG_NOSIGNAL for a socket, so a reader gone away is an error, not SIGPIPE. False on error.
inline bool write_all(int fd, bool socket, const char* data, std::size_t size) noexcept {
  while (size > 0) {
    const ssize_t n = socket ? ::send(fd, data, size, MSG_NOSIGNAL) : ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace detail

/// Writes each event as one JSON object and a newline to a file descriptor it does not own
/// (docs/operating.md lists the fields). For journald, ELK, Loki, or a file `jq` reads.
///
/// - One write(2) per line, and every line is shorter than PIPE_BUF: lines written at once by
///   several threads, or several processes on one O_APPEND file or pipe, never interleave.
///   A short write (a disk filling up, a signal mid-write to a file) is continued by a second
///   write, the only case where a line takes two; EINTR is retried.
/// - Allocates nothing, at construction or per event: each line is formatted into a buffer on
///   the stack that holds the longest line there can be (max_line_length).
/// - Never throws (on_event is noexcept): a failed write is counted in write_errors() and the
///   line is lost. A socket is written with MSG_NOSIGNAL; for a pipe the daemon must ignore
///   SIGPIPE (as daemons do), or a reader that went away ends the process.
/// - A flood cannot fill a disk: at most options.lines_per_second lines of each kind per second
///   of the guard's clock; the rest are counted per kind, and the next line of that kind carries
///   "suppressed": how many were dropped since the last one written.
/// - Thread-safe: on_event may run on any number of threads at once; the accessors too.
class JsonLinesSink final : public EventSink {
 public:
  /// The most bytes of JsonLinesOptions::source kept.
  static constexpr std::size_t max_source_length = 64;
  /// No line (newline included) is longer: the fields at their widest, and a source of
  /// max_source_length control characters, each escaped to six bytes.
  static constexpr std::size_t max_line_length = 1536;
#ifdef PIPE_BUF
  static_assert(max_line_length <= PIPE_BUF, "a line must be written to a pipe in one piece");
#endif

  /// Writes to `fd`, which must stay open while the sink is used (the caller closes it).
  explicit JsonLinesSink(int fd, const JsonLinesOptions& options = {}) noexcept
      : fd_(fd), lines_per_second_(options.lines_per_second) {
    struct stat status {};
    socket_ = ::fstat(fd, &status) == 0 && S_ISSOCK(status.st_mode);
    std::string_view source = options.source.substr(0, max_source_length);
    if (source.size() < options.source.size()) {
      // Cut before a UTF-8 continuation byte, not inside a character.
      while (!source.empty() &&
             (static_cast<unsigned char>(options.source[source.size()]) & 0xc0) == 0x80) {
        source.remove_suffix(1);
      }
    }
    source_length_ = static_cast<std::size_t>(
        detail::json_escape(source_.data(), source) - source_.data());
    has_source_ = !source.empty();
  }

  JsonLinesSink(const JsonLinesSink&) = delete;
  JsonLinesSink& operator=(const JsonLinesSink&) = delete;

  void on_event(const Event& event) noexcept override {
    std::uint64_t suppressed = 0;
    if (!admit(event, suppressed)) return;
    fmt::basic_memory_buffer<char, max_line_length> line;
    format_line(line, event, suppressed);
    if (detail::write_all(fd_, socket_, line.data(), line.size())) {
      lines_written_.fetch_add(1, std::memory_order_relaxed);
    } else {
      write_errors_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  /// The line on_event writes for `event`, newline included, appended to `out` (a
  /// fmt::memory_buffer or basic_memory_buffer); `suppressed` > 0 adds that field. For tests and
  /// for daemons that write lines themselves.
  template <std::size_t inline_size>
  void format_line(fmt::basic_memory_buffer<char, inline_size>& out, const Event& e,
                   std::uint64_t suppressed = 0) const {
    // Formats compiled (FMT_COMPILE) and fmt's own iterator over its buffer: no format string
    // is parsed per event, nothing is copied char by char.
    auto it = fmt::format_to(fmt::appender(out),
                             FMT_COMPILE(R"({{"time_ns":{},"event":"{}","direction":"{}")"),
                             e.at.time_since_epoch().count(), name(e.kind), name(e.direction));
    if (e.peer.family() != PeerKey::Family::none) {
      char text[PeerKey::max_text_length];
      const std::string_view peer(text, e.peer.to_chars(text));
      it = detail::json_escape(fmt::format_to(it, FMT_COMPILE(R"(,"peer":")")), peer);
      it = detail::json_escape(fmt::format_to(it, FMT_COMPILE(R"(","address":")")),
                               detail::address_of(peer));
      it = fmt::format_to(it, FMT_COMPILE(R"(","port":{},"scope":{})"), e.peer.port(),
                          e.peer.scope());
    }
    if (e.has_notice) {
      it = fmt::format_to(it, FMT_COMPILE(R"(,"ike_version":{})"),
                          static_cast<unsigned>(e.version));
      if (const char* type_name = notify_name(e.version, e.notify_type)) {
        it = detail::json_escape(fmt::format_to(it, FMT_COMPILE(R"(,"notify":")")), type_name);
        *it++ = '"';
      }
      it = fmt::format_to(it, FMT_COMPILE(R"(,"notify_type":{},"notify_class":"{}")"),
                          e.notify_type, to_string(e.notify_class));
    }
    it = fmt::format_to(it, FMT_COMPILE(R"(,"strikes":{})"), e.strikes);
    if (e.fingerprint != 0) {
      it = fmt::format_to(it, FMT_COMPILE(R"(,"fingerprint":"{:08x}")"), e.fingerprint);
    }
    it = fmt::format_to(it, FMT_COMPILE(R"(,"until_ns":{},"remaining_ms":{},"count":{})"),
                        e.until.time_since_epoch().count(),
                        std::chrono::duration_cast<std::chrono::milliseconds>(e.remaining).count(),
                        e.count);
    if (e.node != 0) it = fmt::format_to(it, FMT_COMPILE(R"(,"node":{})"), e.node);
    if (e.kind == EventKind::retry_later_set) {
      it = fmt::format_to(it, FMT_COMPILE(R"(,"awaiting_confirmation":{})"),
                          e.awaiting_confirmation);
    }
    if (suppressed != 0) it = fmt::format_to(it, FMT_COMPILE(R"(,"suppressed":{})"), suppressed);
    if (has_source_) {
      it = fmt::format_to(it, FMT_COMPILE(R"(,"source":"{}")"),
                          std::string_view(source_.data(), source_length_));
    }
    fmt::format_to(it, FMT_COMPILE("}}\n"));
  }

  /// Lines written whole.
  std::uint64_t lines_written() const noexcept {
    return lines_written_.load(std::memory_order_relaxed);
  }
  /// Lines the rate limit dropped, of one kind (kinds this release does not know share one count).
  std::uint64_t lines_dropped(EventKind kind) const noexcept {
    return kinds_[slot(kind)].dropped.load(std::memory_order_relaxed);
  }
  /// Lines the rate limit dropped, of every kind.
  std::uint64_t lines_dropped() const noexcept {
    std::uint64_t total = 0;
    for (const KindLimit& k : kinds_) total += k.dropped.load(std::memory_order_relaxed);
    return total;
  }
  /// Lines lost to a failed write (a closed descriptor, a full disk, a reader gone).
  std::uint64_t write_errors() const noexcept {
    return write_errors_.load(std::memory_order_relaxed);
  }

 private:
  // The rate limit of one kind: a one-second bucket of the guard's clock.
  struct KindLimit {
    std::mutex mutex;
    std::int64_t second = std::numeric_limits<std::int64_t>::min();  // the bucket counted
    std::uint32_t lines = 0;                  // lines admitted in that bucket
    std::uint64_t unreported = 0;             // dropped since the last line admitted
    std::atomic<std::uint64_t> dropped{0};    // dropped in all
  };

  static std::size_t slot(EventKind kind) noexcept {
    const auto index = static_cast<std::size_t>(kind);
    return index < event_kinds ? index : event_kinds;
  }

  // Whether the limit lets `e` through; if so, `suppressed` is what its kind dropped since.
  bool admit(const Event& e, std::uint64_t& suppressed) noexcept {
    if (lines_per_second_ == 0) return true;
    KindLimit& k = kinds_[slot(e.kind)];
    const std::int64_t second =
        std::chrono::floor<std::chrono::seconds>(e.at.time_since_epoch()).count();
    std::lock_guard<std::mutex> lock(k.mutex);
    // Events from threads a little behind count in the bucket already open.
    if (second > k.second) {
      k.second = second;
      k.lines = 0;
    }
    if (k.lines >= lines_per_second_) {
      ++k.unreported;
      k.dropped.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    ++k.lines;
    suppressed = k.unreported;
    k.unreported = 0;
    return true;
  }

  int fd_;
  bool socket_ = false;
  bool has_source_ = false;
  std::uint32_t lines_per_second_;
  std::array<char, max_source_length * 6> source_{};  // escaped: at most six bytes a byte
  std::size_t source_length_ = 0;
  std::array<KindLimit, event_kinds + 1> kinds_{};  // the last: kinds this release does not know
  std::atomic<std::uint64_t> lines_written_{0};
  std::atomic<std::uint64_t> write_errors_{0};
};

}  // namespace ikeguard
