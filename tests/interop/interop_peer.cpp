// SPDX-License-Identifier: MIT
//
// interop_peer: an IKEv2 peer for the interop tests against a real IKE daemon, written the way a
// daemon integrates ikeguard and using nothing but its public API: the wire codec to build and
// parse IKE_SA_INIT messages, a NegotiationGuard on a SteadyClock (real time), and a Transport
// that sends the guard's abnormal-information message over the same UDP socket.
//
//   interop_peer initiate --port P --proposal TEXT [--ke-group G] [--t2-ms N]
//                         [--retry-delay-ms N] [--run-ms N] [--attempt-every-ms N]
//       Every attempt-every-ms (default 500) for run-ms (default 5000), unless a request is
//       still awaiting its answer (for up to 2 s; there are no retransmissions), asks its guard
//       (on_outbound_proposal) and, unless told to hold, sends an IKE_SA_INIT request from
//       127.0.0.1 (an ephemeral port) to 127.0.0.1:P with a fresh SPIi. Every answer goes
//       through parse_ikev2; an error notify goes to on_inbound_error (answers_request when its
//       SPIi is the outstanding request's, unsolicited otherwise). INVALID_KE_PAYLOAD earns
//       retry_now: the request is rebuilt at once with the group the peer names. A response
//       with SA, KE and Nr completes the exchange: on_established, and the program stops.
//       Ends with one line
//         requests_sent=.. errors=.. held=.. retried_now=.. established=0|1 window_until_ms=..
//       (window_until_ms: when the last sender window (T2) opened ends, in ms since the start;
//       0 if none opened) and one line "guard_stats: <Stats>".
//
//   interop_peer respond --port P --accept TEXT [--t1-ms N] [--run-ms N]
//       Listens on 127.0.0.1:P for run-ms (default 30000), or until SIGTERM/SIGINT. Each
//       IKE_SA_INIT request passes the receiver gate (on_inbound_proposal) before anything
//       else: held, it is dropped without an answer. Otherwise a half-open SA is counted, the
//       proposals are parsed, and one whose transforms equal TEXT's (in any order) is answered
//       with SA, KE (X25519) and Nr, or with N(INVALID_KE_PAYLOAD) naming X25519 when the KE is
//       for another group; anything else is rejected with on_local_rejection
//       (NO_PROPOSAL_CHOSEN), whose Transport sends the IKE_SA_INIT error response. A
//       retransmitted request counts, and passes the gate, like any other. Ends with
//         requests=.. dropped=.. allocations=.. notices_sent=.. answered=..
//       and one line "guard_stats: <Stats>".
//
// When neither UDP port of a datagram is 500, IKE messages carry a 4-byte zero non-ESP marker
// (RFC 3948 2.2): both modes add it to what they send and require it on what they receive by
// that rule. Progress goes to stderr, one line per event, timed from the program's start.
//
// Placeholder key exchange values: only X25519 (group 31) gets a real key pair. For any other
// group the initiator sends key_exchange_length(group) random bytes, which are not a valid
// public value (random bytes are no ECP point, and no DH is ever computed here). Use such a
// group only as the first KE of a proposal whose accepted group is X25519, so that the peer
// rejects it by group (INVALID_KE_PAYLOAD) before it looks at the value.
#include <ikeguard/format.hpp>
#include <ikeguard/ikeguard.hpp>
#include <ikeguard/wire/ikev2.hpp>
#include <ikeguard/wire/key_exchange.hpp>
#include <ikeguard/wire/proposal.hpp>

#include <fmt/core.h>
#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace wire = ikeguard::wire;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

constexpr std::uint16_t ike_port = 500;
constexpr std::array<std::uint8_t, 4> non_esp_marker = {0, 0, 0, 0};
// How long the initiator waits for the answer to a request before a later attempt may replace it.
constexpr std::chrono::seconds response_timeout{2};

volatile std::sig_atomic_t stop_requested = 0;

void on_stop_signal(int) { stop_requested = 1; }

[[noreturn]] void die(std::string_view what) {
  fmt::print(stderr, "interop_peer: error: {}\n", what);
  std::exit(1);
}

[[noreturn]] void die_errno(std::string_view what) {
  fmt::print(stderr, "interop_peer: error: {}: {}\n", what, std::strerror(errno));
  std::exit(1);
}

[[noreturn]] void usage(std::string_view problem) {
  fmt::print(stderr,
             "interop_peer: {}\n"
             "usage: interop_peer initiate --port P --proposal TEXT [--ke-group G] [--t2-ms N]\n"
             "                             [--retry-delay-ms N] [--run-ms N] "
             "[--attempt-every-ms N]\n"
             "       interop_peer respond --port P --accept TEXT [--t1-ms N] [--run-ms N]\n",
             problem);
  std::exit(2);
}

template <class T>
T check(ikeguard::Result<T> result, std::string_view what) {
  if (!result) die(fmt::format("{}: {}", what, result.error_message()));
  return std::move(result).value();
}

// Milliseconds since the program started, for log lines and the summary.
class Elapsed {
 public:
  explicit Elapsed(ikeguard::TimePoint start) : start_(start) {}
  long long ms(ikeguard::TimePoint t) const {
    return static_cast<long long>(std::chrono::duration_cast<Ms>(t - start_).count());
  }
  ikeguard::TimePoint start() const { return start_; }

 private:
  ikeguard::TimePoint start_;
};

template <class... Args>
void log_event(const ikeguard::Clock& clock, const Elapsed& elapsed,
               fmt::format_string<Args...> format, Args&&... args) {
  fmt::print(stderr, "[{:>6} ms] {}\n", elapsed.ms(clock.now()),
             fmt::format(format, std::forward<Args>(args)...));
  std::fflush(stderr);
}

// ---------------------------------------------------------------------------------------------
// Command line

struct Options {
  std::string mode;
  std::optional<std::uint16_t> port;
  std::string proposal;  // initiate: offered; respond: accepted
  std::optional<std::uint16_t> ke_group;
  long long t1_ms = 30000;
  long long t2_ms = 60000;
  long long retry_delay_ms = 2000;
  std::optional<long long> run_ms;
  long long attempt_every_ms = 500;
};

long long parse_number(std::string_view flag, const char* text, long long low, long long high) {
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < low || value > high) {
    usage(fmt::format("{} wants a number in [{}, {}], not '{}'", flag, low, high, text));
  }
  return value;
}

std::uint16_t parse_group(const char* text) {
  static constexpr std::pair<std::string_view, std::uint16_t> names[] = {
      {"modp1024", wire::transform_id::dh_modp1024}, {"modp2048", wire::transform_id::dh_modp2048},
      {"modp3072", wire::transform_id::dh_modp3072}, {"ecp256", wire::transform_id::dh_ecp256},
      {"ecp384", wire::transform_id::dh_ecp384},     {"x25519", wire::transform_id::dh_curve25519},
      {"curve25519", wire::transform_id::dh_curve25519}};
  for (const auto& [name, id] : names) {
    if (name == text) return id;
  }
  return static_cast<std::uint16_t>(parse_number("--ke-group", text, 1, 65535));
}

Options parse_options(int argc, char** argv) {
  if (argc < 2) usage("no mode given");
  Options options;
  options.mode = argv[1];
  if (options.mode != "initiate" && options.mode != "respond") {
    usage(fmt::format("unknown mode '{}'", options.mode));
  }
  const bool initiate = options.mode == "initiate";
  for (int i = 2; i < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) usage(fmt::format("{} wants a value", flag));
    const char* value = argv[i + 1];
    if (flag == "--port") {
      options.port = static_cast<std::uint16_t>(parse_number(flag, value, 1, 65535));
    } else if (flag == "--run-ms") {
      options.run_ms = parse_number(flag, value, 1, 3600 * 1000);
    } else if (initiate && flag == "--proposal") {
      options.proposal = value;
    } else if (initiate && flag == "--ke-group") {
      options.ke_group = parse_group(value);
    } else if (initiate && flag == "--t2-ms") {
      options.t2_ms = parse_number(flag, value, 1, 24LL * 3600 * 1000);
    } else if (initiate && flag == "--retry-delay-ms") {
      options.retry_delay_ms = parse_number(flag, value, 1, 3600 * 1000);
    } else if (initiate && flag == "--attempt-every-ms") {
      options.attempt_every_ms = parse_number(flag, value, 1, 3600 * 1000);
    } else if (!initiate && flag == "--accept") {
      options.proposal = value;
    } else if (!initiate && flag == "--t1-ms") {
      options.t1_ms = parse_number(flag, value, 1, 24LL * 3600 * 1000);
    } else {
      usage(fmt::format("unknown option '{}' for {}", flag, options.mode));
    }
  }
  if (!options.port) usage("--port is required");
  if (options.proposal.empty()) usage(initiate ? "--proposal is required" : "--accept is required");
  return options;
}

// The guard's policy for this peer: real windows, no jitter (so the tests can count), and a cap
// high enough that escalation never shortens a window below what was asked for.
ikeguard::Policy make_policy(const Options& options) {
  ikeguard::Policy policy;
  policy.receiver_window = Ms(options.t1_ms);
  policy.sender_window = Ms(options.t2_ms);
  policy.retry_delay = Ms(options.retry_delay_ms);
  policy.max_window = std::max<ikeguard::Duration>(
      std::chrono::seconds(300), 16 * std::max(policy.receiver_window, policy.sender_window));
  policy.jitter = 0.0;
  policy.unauthenticated_confirmations = 2;
  const ikeguard::Errc valid = ikeguard::validate(policy);
  if (valid != ikeguard::Errc::ok) usage(fmt::format("invalid policy: {}", ikeguard::message(valid)));
  return policy;
}

// ---------------------------------------------------------------------------------------------
// UDP on 127.0.0.1, with the non-ESP marker when neither port is 500

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  return address;
}

struct Datagram {
  std::size_t size = 0;  // of the IKE message, marker removed
  sockaddr_in from{};
};

class UdpSocket {
 public:
  explicit UdpSocket(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) die_errno("socket");
    sockaddr_in address = loopback(port);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      die_errno(fmt::format("bind 127.0.0.1:{}", port));
    }
    socklen_t length = sizeof address;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      die_errno("getsockname");
    }
    port_ = ntohs(address.sin_port);
  }
  ~UdpSocket() { ::close(fd_); }
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  std::uint16_t port() const { return port_; }

  static bool marked(std::uint16_t a, std::uint16_t b) { return a != ike_port && b != ike_port; }

  void send_to(const sockaddr_in& to, wire::Bytes ike) {
    std::array<std::uint8_t, 4 + 2048> datagram{};
    std::size_t size = 0;
    if (marked(port_, ntohs(to.sin_port))) {
      std::memcpy(datagram.data(), non_esp_marker.data(), non_esp_marker.size());
      size = non_esp_marker.size();
    }
    if (ike.size > datagram.size() - size) die("message too large");
    std::memcpy(datagram.data() + size, ike.data, ike.size);
    size += ike.size;
    const ssize_t sent = ::sendto(fd_, datagram.data(), size, 0,
                                  reinterpret_cast<const sockaddr*>(&to), sizeof to);
    if (sent != static_cast<ssize_t>(size)) die_errno("sendto");
  }

  // Waits until `deadline` for one IKE message; the marker, where the rule wants one, is checked
  // and removed. A datagram without it is not IKE (ESP, to a daemon) and is skipped.
  std::optional<Datagram> receive(std::uint8_t* buffer, std::size_t capacity,
                                  Clock::time_point deadline) {
    for (;;) {
      if (stop_requested != 0) return std::nullopt;
      const auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
      if (left < 0) return std::nullopt;
      pollfd watched{};
      watched.fd = fd_;
      watched.events = POLLIN;
      // At most 100 ms per wait, so that a stop signal is seen promptly.
      const int ready = ::poll(&watched, 1, static_cast<int>(std::min<long long>(left + 1, 100)));
      if (ready < 0) {
        if (errno == EINTR) continue;
        die_errno("poll");
      }
      if (ready == 0) continue;
      Datagram datagram;
      socklen_t length = sizeof datagram.from;
      const ssize_t got = ::recvfrom(fd_, buffer, capacity, 0,
                                     reinterpret_cast<sockaddr*>(&datagram.from), &length);
      if (got < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        die_errno("recvfrom");
      }
      std::size_t size = static_cast<std::size_t>(got);
      if (marked(port_, ntohs(datagram.from.sin_port))) {
        if (size < non_esp_marker.size() ||
            std::memcmp(buffer, non_esp_marker.data(), non_esp_marker.size()) != 0) {
          fmt::print(stderr, "skipped a {}-byte datagram without the non-ESP marker\n", size);
          continue;
        }
        size -= non_esp_marker.size();
        std::memmove(buffer, buffer + non_esp_marker.size(), size);
      }
      datagram.size = size;
      return datagram;
    }
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

ikeguard::PeerKey peer_of(const sockaddr_in& address) {
  const auto key =
      ikeguard::PeerKey::from_sockaddr(reinterpret_cast<const sockaddr*>(&address), sizeof address);
  if (!key) die("peer address has no port");
  return *key;
}

std::string spi_text(std::uint64_t spi) { return fmt::format("{:016x}", spi); }

std::uint64_t random_spi() {
  std::array<std::uint8_t, 8> bytes{};
  if (wire::random_bytes({bytes.data(), bytes.size()}) != ikeguard::Errc::ok) die("random_bytes");
  std::uint64_t spi = 0;
  for (std::uint8_t b : bytes) spi = spi << 8 | b;
  return spi == 0 ? 1 : spi;
}

std::vector<std::uint16_t> offered_groups(const wire::Proposal& proposal) {
  std::vector<std::uint16_t> groups;
  for (std::size_t i = 0; i < proposal.transform_count; ++i) {
    if (proposal.transforms[i].type == wire::transform_type::key_exchange) {
      groups.push_back(proposal.transforms[i].id);
    }
  }
  return groups;
}

// ---------------------------------------------------------------------------------------------
// initiate

class Initiator {
 public:
  Initiator(const Options& options, ikeguard::SteadyClock& clock, const Elapsed& elapsed)
      : clock_(clock),
        elapsed_(elapsed),
        guard_(make_policy(options), clock, no_notices_),
        socket_(0),
        responder_(loopback(*options.port)),
        responder_key_(peer_of(responder_)),
        attempt_every_(Ms(options.attempt_every_ms)),
        run_for_(Ms(options.run_ms.value_or(5000))) {
    list_.proposals[0] = check(wire::parse_proposal_text(options.proposal), "--proposal");
    list_.count = 1;
    sa_size_ = check(wire::build_sa_payload_body({sa_.data(), sa_.size()}, list_), "SA payload");
    // The configuration a window remembers: what this side offers, as it goes on the wire.
    fingerprint_ = guard_.fingerprint(sa_.data(), sa_size_);
    groups_ = offered_groups(list_.proposals[0]);
    if (groups_.empty()) usage("--proposal offers no key exchange group");
    first_group_ = options.ke_group.value_or(groups_.front());
    if (std::find(groups_.begin(), groups_.end(), first_group_) == groups_.end()) {
      usage(fmt::format("--ke-group {} is not offered by the proposal", first_group_));
    }
    if (wire::key_exchange_length(first_group_) == 0) {
      usage(fmt::format("no public value length known for group {}", first_group_));
    }
  }

  int run() {
    log_event(clock_, elapsed_, "initiator on 127.0.0.1:{} -> {}, offering {} (KE group {})",
              socket_.port(), responder_key_, fmt::join(groups_, ","), first_group_);
    const Clock::time_point start = Clock::now();
    const Clock::time_point end = start + run_for_;
    Clock::time_point next_attempt = start;
    std::array<std::uint8_t, 4096> buffer{};
    while (!established_ && stop_requested == 0) {
      const Clock::time_point now = Clock::now();
      if (now >= end) break;
      if (now >= next_attempt) {
        start_attempt();
        while (next_attempt <= now) next_attempt += attempt_every_;
        continue;
      }
      const auto got = socket_.receive(buffer.data(), buffer.size(), std::min(next_attempt, end));
      if (got) on_datagram({buffer.data(), got->size}, got->from);
    }
    fmt::print("requests_sent={} errors={} held={} retried_now={} established={} "
               "window_until_ms={}\n",
               requests_sent_, errors_, held_, retried_now_, established_ ? 1 : 0,
               window_until_ms_);
    fmt::print("guard_stats: {}\n", guard_.stats());
    std::fflush(stdout);
    return 0;
  }

 private:
  // Step A: a new negotiation, if the guard lets it go.
  void start_attempt() {
    if (outstanding_) {
      // One negotiation at a time: a request still waiting for its answer is left alone for
      // response_timeout (this peer does not retransmit), then given up.
      if (Clock::now() - sent_at_ < response_timeout) return;
      log_event(clock_, elapsed_, "attempt with SPIi {} unanswered: abandoned", spi_text(spi_));
      outstanding_ = false;
    }
    const ikeguard::Decision decision = guard_.on_outbound_proposal(responder_key_, fingerprint_);
    if (decision.verdict == ikeguard::Verdict::hold) {
      ++held_;
      log_event(clock_, elapsed_, "guard: hold until {} ms (strikes {}): nothing sent",
                elapsed_.ms(decision.until), decision.strikes);
      return;
    }
    spi_ = random_spi();
    retries_ = 0;
    send_request(first_group_);
  }

  // Builds and sends the IKE_SA_INIT request of the current attempt with a KE for `group`.
  void send_request(std::uint16_t group) {
    std::array<std::uint8_t, 512> ke{};
    wire::Bytes ke_value;
    if (group == wire::X25519KeyPair::group) {
      keys_.emplace(check(wire::X25519KeyPair::generate(), "X25519"));
      ke_value = keys_->public_value();
    } else {
      // A placeholder, not a public value: see the comment at the top of this file.
      const std::size_t length = wire::key_exchange_length(group);
      if (length == 0 || length > ke.size()) die(fmt::format("cannot build a KE for group {}", group));
      if (wire::random_bytes({ke.data(), length}) != ikeguard::Errc::ok) die("random_bytes");
      ke_value = {ke.data(), length};
      keys_.reset();
    }
    std::array<std::uint8_t, 32> nonce{};
    if (wire::random_bytes({nonce.data(), nonce.size()}) != ikeguard::Errc::ok) die("random_bytes");

    wire::IkeSaInitMessage request;
    request.initiator_spi = spi_;
    request.sa_payload_body = {sa_.data(), sa_size_};
    request.ke_group = group;
    request.ke_data = ke_value;
    request.nonce = {nonce.data(), nonce.size()};
    std::array<std::uint8_t, 1024> message{};
    const std::size_t size =
        check(wire::build_ike_sa_init({message.data(), message.size()}, request), "IKE_SA_INIT");
    socket_.send_to(responder_, {message.data(), size});
    ++requests_sent_;
    outstanding_ = true;
    sent_at_ = Clock::now();
    current_group_ = group;
    log_event(clock_, elapsed_, "sent IKE_SA_INIT request #{} SPIi {} KE group {} ({} bytes)",
              requests_sent_, spi_text(spi_), group, size);
  }

  void on_datagram(wire::Bytes datagram, const sockaddr_in& from) {
    const auto parsed = wire::parse_ikev2(datagram);
    if (!parsed) {
      log_event(clock_, elapsed_, "unparsable {}-byte message from {}: {}", datagram.size,
                peer_of(from), parsed.error_message());
      return;
    }
    if (parsed->exchange_type != wire::exchange_v2::ike_sa_init || !parsed->is_response()) {
      log_event(clock_, elapsed_, "ignored exchange {} flags {:#04x}", parsed->exchange_type,
                parsed->flags);
      return;
    }
    // RFC 7296 2.21.1: an error in the clear counts only when it answers our outstanding request.
    const bool answers = outstanding_ && parsed->initiator_spi == spi_ && parsed->message_id == 0;

    if (const auto notice = parsed->error_notice()) {
      ++errors_;
      const ikeguard::Origin origin =
          answers ? ikeguard::Origin::answers_request : ikeguard::Origin::unsolicited;
      const ikeguard::ErrorOutcome outcome = guard_.on_inbound_error(responder_key_, *notice, origin);
      log_event(clock_, elapsed_, "received {} ({}) -> {} until {} ms, strikes {}", *notice, origin,
                outcome.action, elapsed_.ms(outcome.until), outcome.strikes);
      switch (outcome.action) {
        case ikeguard::ErrorAction::hold:
          outstanding_ = false;  // step C: nothing new until the window ends
          window_until_ms_ = elapsed_.ms(outcome.until);
          break;
        case ikeguard::ErrorAction::retry_later:
          outstanding_ = false;  // the next attempt asks the guard, which holds until then
          break;
        case ikeguard::ErrorAction::retry_now:
          retry_now(*parsed, notice->type);
          break;
        case ikeguard::ErrorAction::ignored:
          break;
      }
      return;
    }
    if (answers && !parsed->sa.empty() && !parsed->ke.empty() && !parsed->nonce.empty()) {
      outstanding_ = false;
      established_ = true;
      guard_.on_established(responder_key_);  // here after IKE_SA_INIT; a daemon, after IKE_AUTH
      log_event(clock_, elapsed_, "IKE_SA_INIT completed: SPIr {} KE group {}",
                spi_text(parsed->responder_spi), parsed->ke_group().value_or(0));
      return;
    }
    log_event(clock_, elapsed_, "ignored a response that {}", answers ? "lacks SA, KE or Nr"
                                                                      : "answers nothing outstanding");
  }

  // The protocol's corrective action. Only INVALID_KE_PAYLOAD is implemented: the request is
  // rebuilt at once with the group the responder asks for, if this side offered it.
  void retry_now(const wire::Ikev2Message& message, std::uint16_t type) {
    if (type != ikeguard::notify_v2::invalid_ke_payload) {
      log_event(clock_, elapsed_, "no corrective action implemented for notify {}", type);
      outstanding_ = false;
      return;
    }
    std::optional<std::uint16_t> wanted;
    for (std::size_t i = 0; i < message.notify_count; ++i) {
      const wire::NotifyPayload& n = message.notifies[i];
      if (n.type == type && n.data.size >= 2) {
        wanted = static_cast<std::uint16_t>(n.data.data[0] << 8 | n.data.data[1]);
        break;
      }
    }
    const bool offered =
        wanted && std::find(groups_.begin(), groups_.end(), *wanted) != groups_.end();
    // RFC 7296 1.2: the group must be one we offered; a second correction means a broken peer.
    if (!offered || *wanted == current_group_ || retries_ >= 1) {
      log_event(clock_, elapsed_, "INVALID_KE_PAYLOAD asks for group {}: not acted upon",
                wanted.value_or(0));
      outstanding_ = false;
      return;
    }
    // The corrected request is an IKE_SA_INIT request like any: it asks the guard first.
    const ikeguard::Decision decision = guard_.on_outbound_proposal(responder_key_, fingerprint_);
    if (decision.verdict == ikeguard::Verdict::hold) {
      ++held_;
      outstanding_ = false;
      log_event(clock_, elapsed_, "guard: hold the corrected request until {} ms",
                elapsed_.ms(decision.until));
      return;
    }
    ++retries_;
    ++retried_now_;
    send_request(*wanted);  // same SPIi: the same attempt, corrected
  }

  const ikeguard::SteadyClock& clock_;
  const Elapsed& elapsed_;
  ikeguard::NullTransport no_notices_;  // an initiator sends no abnormal-information messages
  ikeguard::NegotiationGuard guard_;
  UdpSocket socket_;
  sockaddr_in responder_;
  ikeguard::PeerKey responder_key_;
  Clock::duration attempt_every_;
  Clock::duration run_for_;

  wire::ProposalList list_;
  std::array<std::uint8_t, 512> sa_{};
  std::size_t sa_size_ = 0;
  ikeguard::Fingerprint fingerprint_;
  std::vector<std::uint16_t> groups_;
  std::uint16_t first_group_ = 0;

  std::uint64_t spi_ = 0;
  std::uint16_t current_group_ = 0;
  std::optional<wire::X25519KeyPair> keys_;  // the current request's, for the DH a daemon does
  bool outstanding_ = false;
  Clock::time_point sent_at_{};
  bool established_ = false;
  unsigned retries_ = 0;

  std::uint64_t requests_sent_ = 0;
  std::uint64_t errors_ = 0;
  std::uint64_t held_ = 0;
  std::uint64_t retried_now_ = 0;
  long long window_until_ms_ = 0;
};

// ---------------------------------------------------------------------------------------------
// respond

// Step B's abnormal-information message as the IKE_SA_INIT error response (RFC 7296 2.21.1).
class SocketTransport final : public ikeguard::Transport {
 public:
  SocketTransport(UdpSocket& socket, const ikeguard::Clock& clock, const Elapsed& elapsed)
      : socket_(socket), clock_(clock), elapsed_(elapsed) {}

  void send_notice(const ikeguard::PeerKey& peer, const ikeguard::Notice& notice) override {
    if (peer.family() != ikeguard::PeerKey::Family::ipv4) die("IPv4 peers only");
    // INVALID_KE_PAYLOAD names the group this responder computes (RFC 7296 3.10.1).
    const std::array<std::uint8_t, 2> wanted_group = {0, wire::X25519KeyPair::group & 0xff};
    const wire::Bytes data = notice.type == ikeguard::notify_v2::invalid_ke_payload
                                 ? wire::Bytes{wanted_group.data(), wanted_group.size()}
                                 : wire::Bytes{};
    std::array<std::uint8_t, 64> message{};
    const std::size_t size = check(
        wire::build_ike_sa_init_error({message.data(), message.size()}, notice.initiator_spi,
                                      notice.type, data),
        "IKE_SA_INIT error");
    sockaddr_in to{};
    to.sin_family = AF_INET;
    std::memcpy(&to.sin_addr, peer.address().data(), 4);
    to.sin_port = htons(peer.port());
    socket_.send_to(to, {message.data(), size});
    ++sent_;
    log_event(clock_, elapsed_, "sent {} to {}", notice, peer);
  }

  std::uint64_t sent() const { return sent_; }

 private:
  UdpSocket& socket_;
  const ikeguard::Clock& clock_;
  const Elapsed& elapsed_;
  std::uint64_t sent_ = 0;
};

// The proposal's transforms, sorted: two proposals match when these are equal (a multiset).
std::vector<std::array<std::uint16_t, 3>> transform_set(const wire::Proposal& proposal) {
  std::vector<std::array<std::uint16_t, 3>> set;
  for (std::size_t i = 0; i < proposal.transform_count; ++i) {
    const wire::Transform& t = proposal.transforms[i];
    set.push_back({t.type, t.id, t.key_length});
  }
  std::sort(set.begin(), set.end());
  return set;
}

class Responder {
 public:
  Responder(const Options& options, ikeguard::SteadyClock& clock, const Elapsed& elapsed)
      : clock_(clock),
        elapsed_(elapsed),
        socket_(*options.port),
        transport_(socket_, clock, elapsed),
        guard_(make_policy(options), clock, transport_),
        run_for_(Ms(options.run_ms.value_or(30000))) {
    accepted_ = check(wire::parse_proposal_text(options.proposal), "--accept");
    accepted_set_ = transform_set(accepted_);
    const std::vector<std::uint16_t> groups = offered_groups(accepted_);
    if (groups != std::vector<std::uint16_t>{wire::X25519KeyPair::group}) {
      usage("--accept must name exactly one key exchange group, x25519: the responder computes "
            "X25519 only");
    }
  }

  int run() {
    log_event(clock_, elapsed_, "responder listening on 127.0.0.1:{}, accepting {}",
              socket_.port(), accepted_text());
    const Clock::time_point end = Clock::now() + run_for_;
    std::array<std::uint8_t, 4096> buffer{};
    while (stop_requested == 0 && Clock::now() < end) {
      const auto got = socket_.receive(buffer.data(), buffer.size(), end);
      if (got) on_datagram({buffer.data(), got->size}, got->from);
    }
    if (stop_requested != 0) log_event(clock_, elapsed_, "stopped by a signal");
    fmt::print("requests={} dropped={} allocations={} notices_sent={} answered={}\n", requests_,
               dropped_, allocations_, transport_.sent(), answered_);
    fmt::print("guard_stats: {}\n", guard_.stats());
    std::fflush(stdout);
    return 0;
  }

 private:
  std::string accepted_text() const {
    std::vector<std::string> parts;
    for (const auto& t : accepted_set_) parts.push_back(fmt::format("{}:{}:{}", t[0], t[1], t[2]));
    return fmt::format("transforms {}", fmt::join(parts, " "));
  }

  void on_datagram(wire::Bytes datagram, const sockaddr_in& from) {
    const ikeguard::PeerKey peer = peer_of(from);
    const auto parsed = wire::parse_ikev2(datagram);
    if (!parsed) {
      log_event(clock_, elapsed_, "unparsable {}-byte message from {}: {}", datagram.size, peer,
                parsed.error_message());
      return;
    }
    if (parsed->exchange_type != wire::exchange_v2::ike_sa_init || parsed->is_response() ||
        !parsed->is_initiator()) {
      log_event(clock_, elapsed_, "ignored exchange {} flags {:#04x} from {}",
                parsed->exchange_type, parsed->flags, peer);
      return;
    }
    ++requests_;
    // The receiver's gate, before parsing proposals, allocating state or computing DH. An
    // IKE_SA_INIT proposal carries no SPI, so its SA payload's bytes identify the configuration.
    const ikeguard::Fingerprint offered = guard_.fingerprint(parsed->sa.data, parsed->sa.size);
    const ikeguard::Decision gate = guard_.on_inbound_proposal(peer, offered);
    if (gate.verdict == ikeguard::Verdict::hold) {
      ++dropped_;
      log_event(clock_, elapsed_, "request #{} SPIi {} from {}: dropped (window until {} ms)",
                requests_, spi_text(parsed->initiator_spi), peer, elapsed_.ms(gate.until));
      return;
    }
    ++allocations_;  // a daemon creates its half-open IKE SA here
    log_event(clock_, elapsed_, "request #{} SPIi {} from {}: half-open SA, KE group {}", requests_,
              spi_text(parsed->initiator_spi), peer, parsed->ke_group().value_or(0));

    const wire::Proposal* chosen = nullptr;
    const auto proposals = wire::parse_sa_payload(parsed->sa);
    if (proposals) {
      for (std::size_t i = 0; i < proposals->count && chosen == nullptr; ++i) {
        const wire::Proposal& candidate = proposals->proposals[i];
        if (candidate.protocol_id == accepted_.protocol_id &&
            transform_set(candidate) == accepted_set_) {
          chosen = &candidate;
        }
      }
    }
    ikeguard::Notice notice;
    notice.version = ikeguard::IkeVersion::v2;
    notice.initiator_spi = parsed->initiator_spi;
    if (chosen == nullptr) {
      notice.type = ikeguard::notify_v2::no_proposal_chosen;
      // Step B: sent through the transport (once per window) and T1 opened.
      const ikeguard::Decision d = guard_.on_local_rejection(peer, notice, offered);
      log_event(clock_, elapsed_, "no proposal chosen: receiver window until {} ms (strikes {})",
                elapsed_.ms(d.until), d.strikes);
      return;  // the half-open SA is freed
    }
    if (parsed->ke_group() != std::optional<std::uint16_t>(wire::X25519KeyPair::group)) {
      notice.type = ikeguard::notify_v2::invalid_ke_payload;
      guard_.on_local_rejection(peer, notice, offered);  // sent; the peer is meant to retry
      return;
    }
    answer(*parsed, *chosen, from);
    guard_.on_established(peer);  // here after IKE_SA_INIT; a daemon, after IKE_AUTH
  }

  void answer(const wire::Ikev2Message& request, const wire::Proposal& chosen, const sockaddr_in& to) {
    wire::ProposalList list;
    list.proposals[0] = chosen;
    list.count = 1;
    std::array<std::uint8_t, 512> sa{};
    const std::size_t sa_size = check(wire::build_sa_payload_body({sa.data(), sa.size()}, list), "SA");
    const auto keys = check(wire::X25519KeyPair::generate(), "X25519");
    std::array<std::uint8_t, 32> nonce{};
    if (wire::random_bytes({nonce.data(), nonce.size()}) != ikeguard::Errc::ok) die("random_bytes");

    wire::IkeSaInitMessage response;
    response.initiator_spi = request.initiator_spi;
    response.responder_spi = random_spi();
    response.response = true;
    response.sa_payload_body = {sa.data(), sa_size};
    response.ke_group = wire::X25519KeyPair::group;
    response.ke_data = keys.public_value();
    response.nonce = {nonce.data(), nonce.size()};
    std::array<std::uint8_t, 1024> message{};
    const std::size_t size =
        check(wire::build_ike_sa_init({message.data(), message.size()}, response), "IKE_SA_INIT");
    socket_.send_to(to, {message.data(), size});
    ++answered_;
    log_event(clock_, elapsed_, "answered SPIi {} with SA, KE, Nr", spi_text(request.initiator_spi));
  }

  const ikeguard::SteadyClock& clock_;
  const Elapsed& elapsed_;
  UdpSocket socket_;
  SocketTransport transport_;
  ikeguard::NegotiationGuard guard_;
  Clock::duration run_for_;
  wire::Proposal accepted_;
  std::vector<std::array<std::uint16_t, 3>> accepted_set_;

  std::uint64_t requests_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t allocations_ = 0;
  std::uint64_t answered_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
  ikeguard::SteadyClock clock;
  const Elapsed elapsed(clock.now());
  if (options.mode == "initiate") return Initiator(options, clock, elapsed).run();
  return Responder(options, clock, elapsed).run();
}
