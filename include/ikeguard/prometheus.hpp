// SPDX-License-Identifier: MIT
// The guard's Stats in the Prometheus text exposition format (version 0.0.4), for a scraper or
// node_exporter's textfile collector. Needs neither fmt nor a heap: the text is written into the
// caller's buffer. Generated from IKEGUARD_COUNTERS, so a new counter is exported with no edit
// here.
#pragma once

#include <ikeguard/counters.h>
#include <ikeguard/export.hpp>
#include <ikeguard/guard.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ikeguard {

namespace detail {

/// One entry of IKEGUARD_COUNTERS as the exposition names it.
struct PrometheusMetric {
  const char* name;  ///< the counters.h name: "proceeded_outbound"
  const char* help;  ///< its help text, unescaped
  bool counter;      ///< COUNTER (ikeguard_<name>_total) or GAUGE (ikeguard_<name>)
};

#define IKEGUARD_PROMETHEUS_COUNTER(name, help) PrometheusMetric{#name, help, true},
#define IKEGUARD_PROMETHEUS_GAUGE(name, help) PrometheusMetric{#name, help, false},
/// Every entry, in IKEGUARD_COUNTERS order (the order of Stats and of ikeguard_stats).
constexpr PrometheusMetric prometheus_metrics[] = {
    IKEGUARD_COUNTERS(IKEGUARD_PROMETHEUS_COUNTER, IKEGUARD_PROMETHEUS_GAUGE)};
#undef IKEGUARD_PROMETHEUS_COUNTER
#undef IKEGUARD_PROMETHEUS_GAUGE
constexpr std::size_t prometheus_metric_count =
    sizeof prometheus_metrics / sizeof prometheus_metrics[0];

constexpr std::size_t length(const char* text) noexcept {
  std::size_t n = 0;
  while (text[n] != '\0') ++n;
  return n;
}

/// The most bytes the text of the first `known` metrics can take: every help text escaped at
/// twice its length, every value at 20 digits.
constexpr std::size_t prometheus_bound(std::size_t known) noexcept {
  std::size_t total = 0;
  for (std::size_t i = 0; i < known && i < prometheus_metric_count; ++i) {
    const PrometheusMetric& m = prometheus_metrics[i];
    // "ikeguard_" name ["_total"], three times: HELP, TYPE and the sample.
    const std::size_t metric = 9 + length(m.name) + (m.counter ? 6 : 0);
    total += 7 + metric + 1 + 2 * length(m.help) + 1;           // "# HELP " ... " " help "\n"
    total += 7 + metric + 1 + (m.counter ? 7 : 5) + 1;           // "# TYPE " ... " counter\n"
    total += metric + 1 + 20 + 1;                                // name " " value "\n"
  }
  return total;
}

/// Appends to `out` while counting what the text takes; writes only when `writing`.
class PrometheusWriter {
 public:
  PrometheusWriter(char* out, bool writing) noexcept : out_(out), writing_(writing) {}

  void text(const char* s, std::size_t n) noexcept {
    if (writing_) std::memcpy(out_ + used_, s, n);
    used_ += n;
  }
  void text(const char* s) noexcept { text(s, length(s)); }
  void byte(char c) noexcept { text(&c, 1); }
  // The exposition format escapes a HELP text's backslashes and line feeds, nothing else.
  void help(const char* s) noexcept {
    for (; *s != '\0'; ++s) {
      if (*s == '\\') text("\\\\", 2);
      else if (*s == '\n') text("\\n", 2);
      else byte(*s);
    }
  }
  void decimal(std::uint64_t value) noexcept {
    char digits[20];
    std::size_t n = 0;
    do {
      digits[sizeof digits - 1 - n++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    text(digits + sizeof digits - n, n);
  }
  void metric_name(const PrometheusMetric& m) noexcept {
    text("ikeguard_");
    text(m.name);
    if (m.counter) text("_total");
  }
  std::size_t used() const noexcept { return used_; }

 private:
  char* out_;
  bool writing_;
  std::size_t used_ = 0;
};

/// write_prometheus() from the values in IKEGUARD_COUNTERS order, of which the first `known`
/// are present (the C API passes fewer when the program's ikeguard_stats is an older one);
/// the others are left out of the text. Internal: not exported.
std::size_t write_prometheus_values(const std::uint64_t* values, std::size_t known,
                                                 char* out, std::size_t size) noexcept;

}  // namespace detail

/// A buffer of this many bytes holds the text write_prometheus() writes, whatever the values.
constexpr std::size_t prometheus_max_bytes = detail::prometheus_bound(detail::prometheus_metric_count);

/// Writes the Prometheus text exposition of `stats` into out[0..size), for every entry of
/// IKEGUARD_COUNTERS in its order: "# HELP" (counters.h's help text, backslash and newline
/// escaped), "# TYPE", and the sample. A COUNTER is `ikeguard_<name>_total` of type counter, a
/// GAUGE `ikeguard_<name>` of type gauge:
///
///     # HELP ikeguard_notices_sent_total notices sent through the transport
///     # TYPE ikeguard_notices_sent_total counter
///     ikeguard_notices_sent_total 3
///
/// Returns the bytes the text takes. It is written, whole, only when that is at most `size`;
/// otherwise nothing is written (ask with size 0, or give prometheus_max_bytes). The text ends
/// with a newline; no NUL is added. `out` may be null when `size` is 0. Allocates nothing,
/// takes no lock, never fails.
IKEGUARD_API std::size_t write_prometheus(const Stats& stats, char* out, std::size_t size) noexcept;

}  // namespace ikeguard

#ifdef IKEGUARD_HEADER_ONLY
#include <ikeguard/prometheus-inl.hpp>
#endif
