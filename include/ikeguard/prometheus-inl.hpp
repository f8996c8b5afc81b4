// SPDX-License-Identifier: MIT
// The Prometheus text exposition's bodies (prometheus.hpp).
#pragma once

#include <ikeguard/prometheus.hpp>

namespace ikeguard {

namespace detail {

inline std::size_t prometheus_text(PrometheusWriter& w, const std::uint64_t* values,
                                   std::size_t known) noexcept {
  for (std::size_t i = 0; i < known && i < prometheus_metric_count; ++i) {
    const PrometheusMetric& m = prometheus_metrics[i];
    w.text("# HELP ");
    w.metric_name(m);
    w.byte(' ');
    w.help(m.help);
    w.text("\n# TYPE ");
    w.metric_name(m);
    w.text(m.counter ? " counter\n" : " gauge\n");
    w.metric_name(m);
    w.byte(' ');
    w.decimal(values[i]);
    w.byte('\n');
  }
  return w.used();
}

IKEGUARD_INLINE std::size_t write_prometheus_values(const std::uint64_t* values, std::size_t known,
                                                    char* out, std::size_t size) noexcept {
  // Measured first, so a text that does not fit leaves the buffer untouched.
  PrometheusWriter measure(nullptr, false);
  const std::size_t needed = prometheus_text(measure, values, known);
  if (needed <= size && out != nullptr) {
    PrometheusWriter write(out, true);
    prometheus_text(write, values, known);
  }
  return needed;
}

}  // namespace detail

IKEGUARD_INLINE std::size_t write_prometheus(const Stats& stats, char* out,
                                             std::size_t size) noexcept {
#define IKEGUARD_PROMETHEUS_VALUE(name, help) stats.name,
  const std::uint64_t values[] = {IKEGUARD_COUNTERS(IKEGUARD_PROMETHEUS_VALUE, IKEGUARD_PROMETHEUS_VALUE)};
#undef IKEGUARD_PROMETHEUS_VALUE
  return detail::write_prometheus_values(values, detail::prometheus_metric_count, out, size);
}

}  // namespace ikeguard
