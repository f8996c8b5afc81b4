// SPDX-License-Identifier: MIT
// The Prometheus text exposition of Stats (prometheus.hpp) and its C form: exact text, buffers
// too small, and HELP escaping.
#include "support.hpp"

#include <ikeguard/ikeguard.h>
#include <ikeguard/prometheus.hpp>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

using namespace ikeguard;

namespace {

// Every member its position in IKEGUARD_COUNTERS, from 1.
Stats numbered_stats() {
  Stats s;
  std::uint64_t next = 1;
#define IKEGUARD_TEST_NUMBER(name, help) s.name = next++;
  IKEGUARD_COUNTERS(IKEGUARD_TEST_NUMBER, IKEGUARD_TEST_NUMBER)
#undef IKEGUARD_TEST_NUMBER
  return s;
}

const std::string numbered_text =
        "# HELP ikeguard_proceeded_outbound_total on_outbound_proposal answered proceed\n"
        "# TYPE ikeguard_proceeded_outbound_total counter\n"
        "ikeguard_proceeded_outbound_total 1\n"
        "# HELP ikeguard_held_outbound_total on_outbound_proposal answered hold\n"
        "# TYPE ikeguard_held_outbound_total counter\n"
        "ikeguard_held_outbound_total 2\n"
        "# HELP ikeguard_proceeded_inbound_total on_inbound_proposal answered proceed\n"
        "# TYPE ikeguard_proceeded_inbound_total counter\n"
        "ikeguard_proceeded_inbound_total 3\n"
        "# HELP ikeguard_dropped_inbound_total on_inbound_proposal answered hold\n"
        "# TYPE ikeguard_dropped_inbound_total counter\n"
        "ikeguard_dropped_inbound_total 4\n"
        "# HELP ikeguard_notices_sent_total notices sent through the transport\n"
        "# TYPE ikeguard_notices_sent_total counter\n"
        "ikeguard_notices_sent_total 5\n"
        "# HELP ikeguard_notices_suppressed_total rejections inside an open receiver window: no notice sent\n"
        "# TYPE ikeguard_notices_suppressed_total counter\n"
        "ikeguard_notices_suppressed_total 6\n"
        "# HELP ikeguard_errors_honoured_total on_inbound_error answered hold (T2 opened or open)\n"
        "# TYPE ikeguard_errors_honoured_total counter\n"
        "ikeguard_errors_honoured_total 7\n"
        "# HELP ikeguard_retried_now_total on_inbound_error answered retry_now\n"
        "# TYPE ikeguard_retried_now_total counter\n"
        "ikeguard_retried_now_total 8\n"
        "# HELP ikeguard_retried_later_total on_inbound_error answered retry_later\n"
        "# TYPE ikeguard_retried_later_total counter\n"
        "ikeguard_retried_later_total 9\n"
        "# HELP ikeguard_awaiting_confirmation_total of retried_later: unauthenticated, not yet confirmed\n"
        "# TYPE ikeguard_awaiting_confirmation_total counter\n"
        "ikeguard_awaiting_confirmation_total 10\n"
        "# HELP ikeguard_ignored_total on_inbound_error answered ignored\n"
        "# TYPE ikeguard_ignored_total counter\n"
        "ikeguard_ignored_total 11\n"
        "# HELP ikeguard_unsolicited_total of ignored: unsolicited errors\n"
        "# TYPE ikeguard_unsolicited_total counter\n"
        "ikeguard_unsolicited_total 12\n"
        "# HELP ikeguard_fingerprint_lifts_total windows lifted by a changed configuration\n"
        "# TYPE ikeguard_fingerprint_lifts_total counter\n"
        "ikeguard_fingerprint_lifts_total 13\n"
        "# HELP ikeguard_established_total on_established calls\n"
        "# TYPE ikeguard_established_total counter\n"
        "ikeguard_established_total 14\n"
        "# HELP ikeguard_evictions_total entries with a window or strikes pushed out of a full table\n"
        "# TYPE ikeguard_evictions_total counter\n"
        "ikeguard_evictions_total 15\n"
        "# HELP ikeguard_peers_tracked entries in the table now\n"
        "# TYPE ikeguard_peers_tracked gauge\n"
        "ikeguard_peers_tracked 16\n"
        "# HELP ikeguard_capacity the most entries the table holds (max_peers)\n"
        "# TYPE ikeguard_capacity gauge\n"
        "ikeguard_capacity 17\n"
        "# HELP ikeguard_table_bytes memory the guard holds: table, shards, itself; fixed\n"
        "# TYPE ikeguard_table_bytes gauge\n"
        "ikeguard_table_bytes 18\n"
        "# HELP ikeguard_records_applied_total cluster records from other nodes accepted by apply()\n"
        "# TYPE ikeguard_records_applied_total counter\n"
        "ikeguard_records_applied_total 19\n"
        "# HELP ikeguard_records_refused_total cluster records apply() refused (forged, replayed, malformed)\n"
        "# TYPE ikeguard_records_refused_total counter\n"
        "ikeguard_records_refused_total 20\n";

std::string exposition(const Stats& s) {
  std::string text(write_prometheus(s, nullptr, 0), '\0');
  CHECK(write_prometheus(s, text.data(), text.size()) == text.size());
  return text;
}

}  // namespace

TEST_CASE("Stats are exposed as one counter or gauge per entry of IKEGUARD_COUNTERS") {
  CHECK(exposition(numbered_stats()) == numbered_text);
}

TEST_CASE("the largest values are written in full and fit prometheus_max_bytes") {
  Stats s;
#define IKEGUARD_TEST_MAX(name, help) s.name = ~std::uint64_t{0};
  IKEGUARD_COUNTERS(IKEGUARD_TEST_MAX, IKEGUARD_TEST_MAX)
#undef IKEGUARD_TEST_MAX
  const std::string text = exposition(s);
  CHECK(text.find("\nikeguard_table_bytes 18446744073709551615\n") != std::string::npos);
  CHECK(text.size() <= prometheus_max_bytes);
  CHECK(prometheus_max_bytes + 1 <= IKEGUARD_PROMETHEUS_MAX_BYTES);
}

TEST_CASE("a buffer one byte short is left untouched, and the size needed is returned") {
  const Stats s = numbered_stats();
  const std::size_t needed = write_prometheus(s, nullptr, 0);
  REQUIRE(needed == numbered_text.size());
  std::vector<char> buffer(needed - 1, '#');
  CHECK(write_prometheus(s, buffer.data(), buffer.size()) == needed);
  CHECK(std::string(buffer.begin(), buffer.end()) == std::string(needed - 1, '#'));
  // Exactly the size needed: written whole.
  buffer.assign(needed, '#');
  CHECK(write_prometheus(s, buffer.data(), buffer.size()) == needed);
  CHECK(std::string(buffer.begin(), buffer.end()) == numbered_text);
}

TEST_CASE("help texts escape backslash and newline as the exposition format asks") {
  detail::PrometheusWriter measure(nullptr, false);
  measure.help("a\\b\nc \"d\"");
  std::string text(measure.used(), '\0');
  detail::PrometheusWriter write(text.data(), true);
  write.help("a\\b\nc \"d\"");
  CHECK(text == "a\\\\b\\nc \"d\"");
}

TEST_CASE("the C function writes the same text and its NUL") {
  ikeguard_stats c_stats = IKEGUARD_STATS_INIT;
  std::uint64_t next = 1;
#define IKEGUARD_TEST_NUMBER(name, help) c_stats.name = next++;
  IKEGUARD_COUNTERS(IKEGUARD_TEST_NUMBER, IKEGUARD_TEST_NUMBER)
#undef IKEGUARD_TEST_NUMBER
  const int needed = ikeguard_stats_prometheus(&c_stats, nullptr, 0);
  REQUIRE(needed == static_cast<int>(numbered_text.size()));
  std::vector<char> buffer(static_cast<std::size_t>(needed) + 1, '#');
  CHECK(ikeguard_stats_prometheus(&c_stats, buffer.data(), buffer.size()) == needed);
  CHECK(std::string(buffer.data()) == numbered_text);
  // No room for the NUL: an empty string, not a cut text.
  buffer.assign(static_cast<std::size_t>(needed), '#');
  CHECK(ikeguard_stats_prometheus(&c_stats, buffer.data(), buffer.size()) == needed);
  CHECK(buffer[0] == '\0');
  CHECK(buffer[1] == '#');
}

TEST_CASE("the C function exports only the counters an older struct holds") {
  ikeguard_stats c_stats = IKEGUARD_STATS_INIT;
  c_stats.table_bytes = 7;
  c_stats.records_applied = 9;
  c_stats.struct_size = offsetof(ikeguard_stats, table_bytes) + 8;  // a release before records_*
  char buffer[IKEGUARD_PROMETHEUS_MAX_BYTES];
  const int written = ikeguard_stats_prometheus(&c_stats, buffer, sizeof buffer);
  REQUIRE(written > 0);
  const std::string text(buffer);
  CHECK(text.size() == static_cast<std::size_t>(written));
  const std::string tail = "# TYPE ikeguard_table_bytes gauge\nikeguard_table_bytes 7\n";
  CHECK(text.compare(text.size() - tail.size(), tail.size(), tail) == 0);
  CHECK(text.find("records_applied") == std::string::npos);
}

TEST_CASE("the C function refuses what it cannot read") {
  ikeguard_stats c_stats = IKEGUARD_STATS_INIT;
  char buffer[16];
  CHECK(ikeguard_stats_prometheus(nullptr, buffer, sizeof buffer) == ikeguard_error_invalid_argument);
  CHECK(ikeguard_stats_prometheus(&c_stats, nullptr, 1) == ikeguard_error_invalid_argument);
  c_stats.struct_size = 4;
  CHECK(ikeguard_stats_prometheus(&c_stats, buffer, sizeof buffer) == ikeguard_error_invalid_argument);
  c_stats.struct_size = IKEGUARD_STRUCT_SIZE_MAX + 8;
  CHECK(ikeguard_stats_prometheus(&c_stats, buffer, sizeof buffer) == ikeguard_error_invalid_argument);
  // A struct of only its header holds no counter: an empty text.
  c_stats.struct_size = 8;
  buffer[0] = '#';
  CHECK(ikeguard_stats_prometheus(&c_stats, buffer, sizeof buffer) == 0);
  CHECK(buffer[0] == '\0');
}
