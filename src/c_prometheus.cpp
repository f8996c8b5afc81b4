// SPDX-License-Identifier: MIT
// ikeguard_stats_prometheus(): the C API's Prometheus text of a counters struct, apart from the
// rest of the C shim (c_api.cpp) because it needs no guard.
#include <ikeguard/ikeguard.h>
#include <ikeguard/prometheus.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>

static_assert(ikeguard::prometheus_max_bytes + 1 <= IKEGUARD_PROMETHEUS_MAX_BYTES,
              "IKEGUARD_PROMETHEUS_MAX_BYTES must hold the longest text and its NUL");

extern "C" int ikeguard_stats_prometheus(const ikeguard_stats* stats, char* out, size_t size) {
  if (stats == nullptr || (out == nullptr && size != 0)) return ikeguard_error_invalid_argument;
  // Read no further than the caller's struct: a program built with an older header passed a
  // shorter one. Its counters are the prefix that ends inside struct_size.
  std::uint32_t struct_size = 0;
  std::memcpy(&struct_size, stats, sizeof struct_size);
  if (struct_size < offsetof(ikeguard_stats, proceeded_outbound) ||
      struct_size > IKEGUARD_STRUCT_SIZE_MAX) {
    return ikeguard_error_invalid_argument;
  }
  constexpr std::size_t first = offsetof(ikeguard_stats, proceeded_outbound);
  std::size_t known = (struct_size - first) / sizeof(std::uint64_t);
  if (known > ikeguard::detail::prometheus_metric_count) known = ikeguard::detail::prometheus_metric_count;
  std::uint64_t values[ikeguard::detail::prometheus_metric_count] = {};
  std::memcpy(values, reinterpret_cast<const unsigned char*>(stats) + first,
              known * sizeof(std::uint64_t));

  // Room for the NUL: the text goes in only if it fits before it.
  const std::size_t room = size == 0 ? 0 : size - 1;
  const std::size_t needed = ikeguard::detail::write_prometheus_values(values, known, out, room);
  if (size != 0) out[needed <= room ? needed : 0] = '\0';
  return static_cast<int>(needed);  // at most prometheus_max_bytes: far below INT_MAX
}
