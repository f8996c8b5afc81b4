// SPDX-License-Identifier: MIT
// Writes a guard's counters as <dir>/ikeguard.prom the way docs/operating.md tells a daemon to:
// the text into a temporary file in the same directory, then rename() over the old one, so
// node_exporter's textfile collector never reads half a file. Known calls make known counters:
// one rejection (a notice sent), two proposals dropped inside its window, one proceeded.
// Usage: ikeguard_write_prometheus <dir>
#include <ikeguard/ikeguard.hpp>
#include <ikeguard/prometheus.hpp>

#include <cstdio>
#include <memory>
#include <string>

namespace {

class NoTransport final : public ikeguard::Transport {
 public:
  void send_notice(const ikeguard::PeerKey&, const ikeguard::Notice&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <dir>\n", argv[0]);
    return 2;
  }
  ikeguard::ManualClock clock;
  NoTransport transport;
  ikeguard::Policy policy;
  policy.max_peers = 1024;
  auto created = ikeguard::NegotiationGuard::create(policy, clock, transport);
  if (!created.ok()) return 1;
  ikeguard::NegotiationGuard& guard = *created.value();
  const ikeguard::PeerKey peer = *ikeguard::PeerKey::parse("198.51.100.7:500");
  ikeguard::Notice notice;
  notice.type = ikeguard::notify_v2::no_proposal_chosen;
  guard.on_local_rejection(peer, notice);
  guard.on_inbound_proposal(peer);
  guard.on_inbound_proposal(peer);
  guard.on_outbound_proposal(*ikeguard::PeerKey::parse("203.0.113.9:500"));

  char text[ikeguard::prometheus_max_bytes];
  const std::size_t size = ikeguard::write_prometheus(guard.stats(), text, sizeof text);
  const std::string dir = argv[1];
  const std::string temporary = dir + "/ikeguard.prom.tmp";
  std::FILE* file = std::fopen(temporary.c_str(), "w");
  if (file == nullptr) return 1;
  const bool written = std::fwrite(text, 1, size, file) == size;
  if (std::fclose(file) != 0 || !written) return 1;
  return std::rename(temporary.c_str(), (dir + "/ikeguard.prom").c_str()) == 0 ? 0 : 1;
}
