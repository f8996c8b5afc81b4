// SPDX-License-Identifier: MIT
//
// Two IKEv2 peers in one process, talking real UDP over 127.0.0.1: an initiator whose proposal
// the responder cannot accept, real IKE_SA_INIT requests built by ikeguard's codec, and the
// responder's real N(NO_PROPOSAL_CHOSEN). Time is virtual (a ManualClock driven by the timers of
// the two peers), so hours of a persistent mismatch run in well under a second, and every
// figure is a count, the same on every run but for the guard's jitter.
//
// The same scenario runs twice, guard off and guard on. Guard off, the initiator behaves as
// libreswan 4.10 was measured to on a real mismatch: it ignores the unauthenticated error,
// retransmits after 0.5, 0.5, 1, 2, 4, 8, 16 and 32 s, and starts a new attempt every 64 s,
// forever; the responder answers every request, as strongSwan does, allocating and freeing a
// half-open IKE SA each time. Guard on, both daemons ask their NegotiationGuard.
//
// Then the initiator's configuration is fixed mid-run, and the changed fingerprint lifts both
// windows at once.
#include <ikeguard/format.hpp>
#include <ikeguard/ikeguard.hpp>
#include <ikeguard/wire/ikev2.hpp>
#include <ikeguard/wire/key_exchange.hpp>
#include <ikeguard/wire/proposal.hpp>

#include <fmt/core.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace {

using namespace std::chrono_literals;
using ikeguard::Duration;
using ikeguard::TimePoint;
namespace wire = ikeguard::wire;

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

template <class T>
T check(ikeguard::Result<T> result, const char* what) {
  if (!result) {
    std::fprintf(stderr, "%s: %s\n", what, result.error_message());
    std::exit(1);
  }
  return std::move(result).value();
}

// What the table compares, both directions added up.
struct Counters {
  std::uint64_t requests_sent = 0;          // IKE_SA_INIT requests, retransmissions included
  std::uint64_t error_notices_sent = 0;     // N(NO_PROPOSAL_CHOSEN) responses
  std::uint64_t half_open_allocations = 0;  // responder: IKE SA state created for a request
  std::uint64_t proposal_parses = 0;        // responder: SA payloads parsed and matched
  std::uint64_t requests_dropped = 0;       // responder: dropped by its guard before parsing
  std::uint64_t bytes_on_wire = 0;          // UDP payload bytes, both directions
  std::uint64_t exchanges_completed = 0;    // IKE_SA_INIT answered with SA, KE, Nr
};

// A non-blocking UDP socket bound to 127.0.0.1 on a port the kernel picks.
class UdpSocket {
 public:
  UdpSocket() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    if (fd_ < 0) die("socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) die("bind");
    socklen_t length = sizeof address_;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&address_), &length) != 0) die("getsockname");
    if (::fcntl(fd_, F_SETFL, O_NONBLOCK) != 0) die("fcntl");
  }
  ~UdpSocket() { ::close(fd_); }
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  const sockaddr_in& address() const { return address_; }
  ikeguard::PeerKey key() const {
    return *ikeguard::PeerKey::from_sockaddr(reinterpret_cast<const sockaddr*>(&address_),
                                             sizeof address_);
  }

  void send_to(const sockaddr_in& to, wire::Bytes datagram, Counters& counters) {
    const ssize_t sent = ::sendto(fd_, datagram.data, datagram.size, 0,
                                  reinterpret_cast<const sockaddr*>(&to), sizeof to);
    if (sent != static_cast<ssize_t>(datagram.size)) die("sendto");
    counters.bytes_on_wire += datagram.size;
  }

  // One pending datagram, if any (loopback delivers before sendto returns).
  std::optional<std::size_t> receive(std::uint8_t* buffer, std::size_t size, sockaddr_in& from) {
    socklen_t length = sizeof from;
    const ssize_t got =
        ::recvfrom(fd_, buffer, size, 0, reinterpret_cast<sockaddr*>(&from), &length);
    if (got < 0) return std::nullopt;
    return static_cast<std::size_t>(got);
  }

 private:
  int fd_ = -1;
  sockaddr_in address_{};
};

// Sends the guard's abnormal-information message as a real IKE_SA_INIT error response.
class UdpNoticeTransport final : public ikeguard::Transport {
 public:
  UdpNoticeTransport(UdpSocket& socket, Counters& counters) : socket_(socket), counters_(counters) {}
  void send_notice(const ikeguard::PeerKey& peer, const ikeguard::Notice& notice) override {
    std::array<std::uint8_t, 64> buffer{};
    const std::size_t size = check(
        wire::build_ike_sa_init_error({buffer.data(), buffer.size()}, notice.initiator_spi, notice.type),
        "build_ike_sa_init_error");
    sockaddr_in to{};
    to.sin_family = AF_INET;
    std::memcpy(&to.sin_addr, peer.address().data(), 4);
    to.sin_port = htons(peer.port());
    socket_.send_to(to, {buffer.data(), size}, counters_);
    ++counters_.error_notices_sent;
  }

 private:
  UdpSocket& socket_;
  Counters& counters_;
};

bool same_suite(const wire::Proposal& a, const wire::Proposal& b) {
  if (a.protocol_id != b.protocol_id || a.transform_count != b.transform_count) return false;
  for (std::size_t i = 0; i < a.transform_count; ++i) {
    const wire::Transform& x = a.transforms[i];
    const wire::Transform& y = b.transforms[i];
    if (x.type != y.type || x.id != y.id || x.key_length != y.key_length) return false;
  }
  return true;
}

// The responder daemon: accepts one IKE suite and nothing else.
class Responder {
 public:
  Responder(std::string_view accepted, ikeguard::NegotiationGuard* guard, UdpSocket& socket,
            Counters& counters)
      : accepted_(check(wire::parse_proposal_text(accepted), "responder proposal")),
        guard_(guard),
        socket_(socket),
        counters_(counters) {}

  void on_datagram(wire::Bytes datagram, const sockaddr_in& from) {
    const auto parsed = wire::parse_ikev2(datagram);
    if (!parsed || parsed->exchange_type != wire::exchange_v2::ike_sa_init || parsed->is_response()) {
      return;
    }
    const ikeguard::PeerKey peer =
        *ikeguard::PeerKey::from_sockaddr(reinterpret_cast<const sockaddr*>(&from), sizeof from);
    // IKE_SA_INIT proposals carry no SPIs, so the SA payload's bytes identify the configuration.
    ikeguard::Fingerprint offered;
    if (guard_ != nullptr) {
      offered = guard_->fingerprint(parsed->sa.data, parsed->sa.size);
      if (guard_->on_inbound_proposal(peer, offered).verdict == ikeguard::Verdict::hold) {
        ++counters_.requests_dropped;  // no state, no parse, no DH, no answer
        return;
      }
    }
    ++counters_.half_open_allocations;
    ++counters_.proposal_parses;
    const auto proposals = wire::parse_sa_payload(parsed->sa);
    const wire::Proposal* chosen = nullptr;
    if (proposals) {
      for (std::size_t i = 0; i < proposals->count; ++i) {
        if (same_suite(proposals->proposals[i], accepted_)) chosen = &proposals->proposals[i];
      }
    }
    if (chosen == nullptr) {
      ikeguard::Notice notice;
      notice.version = ikeguard::IkeVersion::v2;
      notice.type = ikeguard::notify_v2::no_proposal_chosen;
      notice.initiator_spi = parsed->initiator_spi;
      if (guard_ != nullptr) {
        guard_->on_local_rejection(peer, notice, offered);  // sends it through the transport
      } else {
        UdpNoticeTransport(socket_, counters_).send_notice(peer, notice);
      }
      return;  // the half-open SA is freed
    }
    answer(*parsed, *chosen, from);
    if (guard_ != nullptr) guard_->on_established(peer);  // here: after IKE_SA_INIT; a daemon, after IKE_AUTH
  }

 private:
  void answer(const wire::Ikev2Message& request, const wire::Proposal& chosen, const sockaddr_in& to) {
    wire::ProposalList list;
    list.proposals[0] = chosen;
    list.count = 1;
    std::array<std::uint8_t, 512> sa{};
    const std::size_t sa_size = check(wire::build_sa_payload_body({sa.data(), sa.size()}, list), "SA");
    const auto keys = check(wire::X25519KeyPair::generate(), "X25519");
    std::array<std::uint8_t, 32> nonce{};
    wire::random_bytes({nonce.data(), nonce.size()});
    std::uint64_t responder_spi = 0;
    wire::random_bytes({reinterpret_cast<std::uint8_t*>(&responder_spi), sizeof responder_spi});

    wire::IkeSaInitMessage response;
    response.initiator_spi = request.initiator_spi;
    response.responder_spi = responder_spi | 1;
    response.response = true;
    response.sa_payload_body = {sa.data(), sa_size};
    response.ke_group = wire::X25519KeyPair::group;
    response.ke_data = keys.public_value();
    response.nonce = {nonce.data(), nonce.size()};
    std::array<std::uint8_t, 1024> buffer{};
    const std::size_t size =
        check(wire::build_ike_sa_init({buffer.data(), buffer.size()}, response), "response");
    socket_.send_to(to, {buffer.data(), size}, counters_);
  }

  wire::Proposal accepted_;
  ikeguard::NegotiationGuard* guard_;
  UdpSocket& socket_;
  Counters& counters_;
};

// The initiator daemon: libreswan's measured schedule, optionally asking its guard.
class Initiator {
 public:
  // Gaps before each retransmission; 32 s after the last one the attempt times out, and a new
  // attempt starts every 64 s.
  static constexpr std::array<Duration, 7> retransmit_gaps = {500ms, 500ms, 1s, 2s, 4s, 8s, 16s};
  static constexpr Duration attempt_period = 64s;

  Initiator(ikeguard::ManualClock& clock, ikeguard::NegotiationGuard* guard, UdpSocket& socket,
            const sockaddr_in& responder, Counters& counters)
      : clock_(clock), guard_(guard), socket_(socket), responder_(responder), counters_(counters) {
    const auto key = ikeguard::PeerKey::from_sockaddr(reinterpret_cast<const sockaddr*>(&responder),
                                                      sizeof responder);
    responder_key_ = *key;
  }

  void configure(std::string_view proposal) {
    wire::ProposalList list;
    list.proposals[0] = check(wire::parse_proposal_text(proposal), "initiator proposal");
    list.count = 1;
    sa_size_ = check(wire::build_sa_payload_body({sa_.data(), sa_.size()}, list), "SA");
    proposal_ = proposal;
  }

  // The next moment this peer has something to do.
  TimePoint next_event() const { return next_event_; }
  bool established() const { return established_; }
  std::string_view proposal() const { return proposal_; }

  void on_timer() {
    const TimePoint now = clock_.now();
    if (established_) {
      next_event_ = TimePoint::max();
      return;
    }
    if (in_flight_ && retransmits_done_ < retransmit_gaps.size() && now >= next_retransmit_) {
      send_request();
      next_retransmit_ = now + (retransmits_done_ + 1 < retransmit_gaps.size()
                                    ? retransmit_gaps[retransmits_done_ + 1]
                                    : Duration::max() / 4);
      ++retransmits_done_;
    } else if (now >= next_attempt_) {
      start_attempt();
    }
    schedule();
  }

  // Starts a new attempt now, as a daemon does when its configuration is reloaded.
  void start_attempt() {
    const TimePoint now = clock_.now();
    in_flight_ = false;
    next_attempt_ = now + attempt_period;
    if (guard_ != nullptr) {
      const auto fp = guard_->fingerprint(sa_.data(), sa_size_);
      const ikeguard::Decision d = guard_->on_outbound_proposal(responder_key_, fp);
      if (d.verdict == ikeguard::Verdict::hold) {
        next_attempt_ = d.until;  // nothing sent, nothing allocated until then
        schedule();
        return;
      }
    }
    wire::random_bytes({reinterpret_cast<std::uint8_t*>(&spi_), sizeof spi_});
    spi_ |= 1;
    build_request();
    in_flight_ = true;
    retransmits_done_ = 0;
    next_retransmit_ = now + retransmit_gaps[0];
    send_request();
    schedule();
  }

  void on_datagram(wire::Bytes datagram) {
    const auto parsed = wire::parse_ikev2(datagram);
    if (!parsed || !parsed->is_response() || parsed->exchange_type != wire::exchange_v2::ike_sa_init) {
      return;
    }
    // RFC 7296 2.21.1: an error in the clear counts only if it answers our outstanding request.
    const bool answers = in_flight_ && parsed->initiator_spi == spi_ && parsed->message_id == 0;
    if (const auto notice = parsed->error_notice()) {
      if (guard_ == nullptr) return;  // libreswan ignores it and keeps retransmitting
      const auto origin = answers ? ikeguard::Origin::answers_request : ikeguard::Origin::unsolicited;
      const ikeguard::ErrorOutcome outcome = guard_->on_inbound_error(responder_key_, *notice, origin);
      if (outcome.action == ikeguard::ErrorAction::hold ||
          outcome.action == ikeguard::ErrorAction::retry_later) {
        in_flight_ = false;  // this attempt is over; the next one waits for the guard
        next_attempt_ = outcome.until;
      }
      schedule();
      return;
    }
    if (answers && !parsed->sa.empty() && !parsed->ke.empty() && !parsed->nonce.empty()) {
      established_ = true;
      in_flight_ = false;
      ++counters_.exchanges_completed;
      if (guard_ != nullptr) guard_->on_established(responder_key_);
      schedule();
    }
  }

 private:
  void build_request() {
    const auto keys = check(wire::X25519KeyPair::generate(), "X25519");
    std::array<std::uint8_t, 32> nonce{};
    wire::random_bytes({nonce.data(), nonce.size()});
    wire::IkeSaInitMessage request;
    request.initiator_spi = spi_;
    request.sa_payload_body = {sa_.data(), sa_size_};
    request.ke_group = wire::X25519KeyPair::group;
    request.ke_data = keys.public_value();
    request.nonce = {nonce.data(), nonce.size()};
    request_size_ = check(wire::build_ike_sa_init({request_.data(), request_.size()}, request), "request");
  }

  void send_request() {
    socket_.send_to(responder_, {request_.data(), request_size_}, counters_);
    ++counters_.requests_sent;
  }

  void schedule() {
    next_event_ = next_attempt_;
    if (in_flight_ && retransmits_done_ < retransmit_gaps.size()) {
      next_event_ = std::min(next_event_, next_retransmit_);
    }
    if (established_) next_event_ = TimePoint::max();
  }

  ikeguard::ManualClock& clock_;
  ikeguard::NegotiationGuard* guard_;
  UdpSocket& socket_;
  sockaddr_in responder_;
  ikeguard::PeerKey responder_key_;
  Counters& counters_;
  std::string_view proposal_;
  std::array<std::uint8_t, 512> sa_{};
  std::size_t sa_size_ = 0;
  std::array<std::uint8_t, 1024> request_{};
  std::size_t request_size_ = 0;
  std::uint64_t spi_ = 0;
  bool in_flight_ = false;
  bool established_ = false;
  std::size_t retransmits_done_ = 0;
  TimePoint next_retransmit_{};
  TimePoint next_attempt_{};
  TimePoint next_event_{};
};

constexpr std::string_view broken_proposal = "aes128-sha256-x25519";
constexpr std::string_view accepted_proposal = "aes256gcm16-prfsha384-x25519";

struct RunResult {
  Counters counters;
  std::optional<Duration> fix_to_success;  // when a fix was scheduled
};

// Runs the scenario for `length` of virtual time; `fix_at`, if set, fixes the initiator's
// proposal then.
RunResult run(bool guarded, Duration length, std::optional<Duration> fix_at) {
  ikeguard::ManualClock clock;
  UdpSocket initiator_socket;
  UdpSocket responder_socket;
  RunResult result;
  Counters& counters = result.counters;

  UdpNoticeTransport notices(responder_socket, counters);
  ikeguard::NullTransport no_notices;
  ikeguard::Policy policy;  // the defaults: T1 30 s, T2 60 s, backoff 2, cap 300 s, jitter 0.1
  std::optional<ikeguard::NegotiationGuard> initiator_guard, responder_guard;
  if (guarded) {
    initiator_guard.emplace(policy, clock, no_notices);
    responder_guard.emplace(policy, clock, notices);
  }

  Responder responder(accepted_proposal, guarded ? &*responder_guard : nullptr, responder_socket,
                      counters);
  Initiator initiator(clock, guarded ? &*initiator_guard : nullptr, initiator_socket,
                      responder_socket.address(), counters);
  initiator.configure(broken_proposal);

  std::array<std::uint8_t, 2048> buffer{};
  const auto deliver = [&] {
    // Loopback has queued every datagram by the time sendto returns: drain both sockets.
    for (bool any = true; any;) {
      any = false;
      sockaddr_in from{};
      while (const auto size = responder_socket.receive(buffer.data(), buffer.size(), from)) {
        responder.on_datagram({buffer.data(), *size}, from);
        any = true;
      }
      while (const auto size = initiator_socket.receive(buffer.data(), buffer.size(), from)) {
        initiator.on_datagram({buffer.data(), *size});
        any = true;
      }
    }
  };

  const TimePoint end = TimePoint{} + length;
  std::optional<TimePoint> fixed_at;
  initiator.start_attempt();
  deliver();
  for (;;) {
    TimePoint next = initiator.next_event();
    const bool fix_due = fix_at && !fixed_at && TimePoint{} + *fix_at <= next;
    if (fix_due) next = TimePoint{} + *fix_at;
    if (next >= end || initiator.established()) break;
    clock.set(next);
    if (fix_due) {
      fixed_at = clock.now();
      initiator.configure(accepted_proposal);
      initiator.start_attempt();  // a configuration reload initiates at once
    } else {
      initiator.on_timer();
    }
    deliver();
  }
  if (fixed_at && initiator.established()) result.fix_to_success = clock.now() - *fixed_at;
  return result;
}

double per_hour(std::uint64_t count, Duration length) {
  return static_cast<double>(count) * 3600.0 / std::chrono::duration<double>(length).count();
}

}  // namespace

int main(int argc, char** argv) {
  // Virtual hours to simulate (default 6): a persistent mismatch, long enough to reach the cap.
  const long hours = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 6;
  if (hours < 1 || hours > 1000) {
    std::fprintf(stderr, "usage: %s [hours 1..1000]\n", argv[0]);
    return 2;
  }
  const Duration length = std::chrono::hours(hours);
  const auto wall_start = std::chrono::steady_clock::now();
  const RunResult off = run(false, length, std::nullopt);
  const RunResult on = run(true, length, std::nullopt);

  fmt::print("A persistent mismatch over {} simulated hour(s): the initiator offers {}, the\n"
             "responder accepts only {}. Real IKE_SA_INIT datagrams over 127.0.0.1.\n\n",
             hours, broken_proposal, accepted_proposal);
  fmt::print("{:<34} {:>12} {:>12} {:>9}   {:>10} {:>10}\n", "", "guard off", "guard on", "off/on",
             "off/hour", "on/hour");
  const auto row = [&](const char* name, std::uint64_t a, std::uint64_t b) {
    const std::string ratio = a == 0 || b == 0 ? std::string("-")
                                               : fmt::format("{:.1f}x", static_cast<double>(a) /
                                                                            static_cast<double>(b));
    fmt::print("{:<34} {:>12} {:>12} {:>9}   {:>10.1f} {:>10.1f}\n", name, a, b, ratio,
               per_hour(a, length), per_hour(b, length));
  };
  row("IKE_SA_INIT requests sent", off.counters.requests_sent, on.counters.requests_sent);
  row("error notices sent", off.counters.error_notices_sent, on.counters.error_notices_sent);
  row("responder half-open SA allocations", off.counters.half_open_allocations,
      on.counters.half_open_allocations);
  row("responder proposal parses", off.counters.proposal_parses, on.counters.proposal_parses);
  row("requests dropped by the responder", off.counters.requests_dropped,
      on.counters.requests_dropped);
  row("bytes on the wire (UDP payload)", off.counters.bytes_on_wire, on.counters.bytes_on_wire);

  // The fix: half an hour into a guarded mismatch, the administrator corrects the initiator.
  const RunResult fixed = run(true, std::chrono::hours(1), 30min);
  fmt::print("\nGuard on, the initiator's proposal fixed at 30 min (both windows open, escalated):\n");
  if (fixed.fix_to_success) {
    fmt::print("  fix to a completed IKE_SA_INIT exchange: {:.3f} s simulated "
               "(the changed fingerprint lifted both windows)\n",
               std::chrono::duration<double>(*fixed.fix_to_success).count());
  } else {
    fmt::print("  no exchange completed after the fix\n");
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  fmt::print("\n({} + 1 simulated hours took {:.2f} s of wall time)\n", 2 * hours, wall);

  const bool ok = on.counters.requests_sent * 10 <= off.counters.requests_sent &&
                  on.counters.half_open_allocations * 10 <= off.counters.half_open_allocations &&
                  fixed.fix_to_success.has_value() && fixed.fix_to_success->count() == 0;
  return ok ? 0 : 1;
}
