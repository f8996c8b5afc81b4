// SPDX-License-Identifier: MIT
// What the daemon plugs into the C API, as the guard sees it: its clock and transport callbacks
// as a Clock and a Transport, its socket addresses as PeerKeys and back. Internal to
// src/c_api.cpp.
#pragma once

#include "c_api_structs.hpp"

#include <ikeguard/ikeguard.h>

#include <ikeguard/guard.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <netinet/in.h>
#include <sys/socket.h>

namespace ikeguard::c_api {

// A C clock's reading is capped here (2^62 ns, 146 years): a larger uint64_t would turn into a
// negative time, and a time near the end of the range leaves no room to add a window to it.
constexpr std::uint64_t clock_limit = std::uint64_t{1} << 62;

class CClock final : public ikeguard::Clock {
 public:
  explicit CClock(const ikeguard_clock& clock) noexcept : clock_(clock) {}
  ikeguard::TimePoint now() const noexcept override {
    const std::uint64_t ns = std::min(clock_.now(clock_.ctx), clock_limit);
    return ikeguard::TimePoint(Duration(static_cast<Duration::rep>(ns)));
  }

 private:
  ikeguard_clock clock_;
};

/// The peer as the daemon's sockets see it: sockaddr_in or sockaddr_in6.
struct SocketAddress {
  sockaddr_storage storage{};
  std::size_t length = 0;
};

template <class Address>
void store(SocketAddress& out, const Address& address) noexcept {
  std::memcpy(&out.storage, &address, sizeof address);
  out.length = sizeof address;
}

inline SocketAddress to_sockaddr(const ikeguard::PeerKey& peer) noexcept {
  SocketAddress out;
  if (peer.family() == ikeguard::PeerKey::Family::ipv4) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(peer.port());
    std::memcpy(&in.sin_addr, peer.address().data(), sizeof in.sin_addr);
    store(out, in);
  } else {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(peer.port());
    std::memcpy(&in6.sin6_addr, peer.address().data(), sizeof in6.sin6_addr);
    store(out, in6);
  }
  return out;
}

inline ikeguard_notice to_c(const ikeguard::Notice& notice) noexcept {
  ikeguard_notice out{};
  out.version = static_cast<std::uint8_t>(notice.version);
  out.type = notice.type;
  out.initiator_spi = notice.initiator_spi;
  out.responder_spi = notice.responder_spi;
  out.message_id = notice.message_id;
  return out;
}

class CTransport final : public ikeguard::Transport {
 public:
  explicit CTransport(const ikeguard_transport* transport) noexcept {
    if (transport != nullptr) transport_ = *transport;
  }
  void send_notice(const ikeguard::PeerKey& peer, const ikeguard::Notice& notice) override {
    if (transport_.send_notice == nullptr) return;
    const SocketAddress address = to_sockaddr(peer);
    const ikeguard_notice c_notice = to_c(notice);
    transport_.send_notice(transport_.ctx, reinterpret_cast<const sockaddr*>(&address.storage),
                           address.length, peer.scope(), &c_notice);
  }

 private:
  ikeguard_transport transport_{};
};

/// The peer key from what the daemon's socket gave it.
inline int to_peer(const sockaddr* address, std::size_t length, std::uint32_t scope,
                   ikeguard::PeerKey& out) noexcept {
  if (address == nullptr) return code(Errc::invalid_argument);
  // Read the family only from a buffer long enough to hold it.
  if (length < offsetof(sockaddr, sa_family) + sizeof(sa_family_t)) {
    return code(Errc::unsupported_address_family);
  }
  const auto peer = ikeguard::PeerKey::from_sockaddr(address, length, scope);
  if (!peer) return code(Errc::unsupported_address_family);
  out = *peer;
  return IKEGUARD_OK;
}

/// A time on the guard's clock as C's nanoseconds (an instant before the epoch as 0).
inline std::uint64_t ns(ikeguard::TimePoint t) noexcept {
  return static_cast<std::uint64_t>(std::max<Duration::rep>(0, t.time_since_epoch().count()));
}

/// An event as C sees it.
inline ikeguard_event to_c(const ikeguard::Event& e) noexcept {
  ikeguard_event out{};
  out.struct_size = sizeof out;
  out.kind = static_cast<std::uint8_t>(e.kind);
  out.direction = static_cast<std::uint8_t>(e.direction);
  out.has_notice = e.has_notice ? 1 : 0;
  out.awaiting_confirmation = e.awaiting_confirmation ? 1 : 0;
  out.version = static_cast<std::uint8_t>(e.version);
  out.notify_class = static_cast<std::uint8_t>(e.notify_class);
  out.notify_type = e.notify_type;
  out.strikes = e.strikes;
  out.fingerprint = e.fingerprint;
  out.scope = e.peer.scope();
  out.port = e.peer.port();
  out.family = static_cast<std::uint8_t>(e.peer.family());
  std::memcpy(out.address, e.peer.address().data(), sizeof out.address);
  out.at_ns = ns(e.at);
  out.until_ns = ns(e.until);
  out.remaining_ns = static_cast<std::uint64_t>(std::max<Duration::rep>(0, e.remaining.count()));
  out.count = e.count;
  out.node = e.node;
  return out;
}

/// The C++ event of a C one (for the cluster encoder); false when a field is out of range.
inline bool from_c(const ikeguard_event& in, ikeguard::Event& e) noexcept {
  if (in.struct_size < sizeof(ikeguard_event) || in.kind >= ikeguard::event_kinds ||
      in.direction > 2 || (in.version != 1 && in.version != 2) || in.notify_class > 3) {
    return false;
  }
  e.kind = static_cast<ikeguard::EventKind>(in.kind);
  e.direction = static_cast<ikeguard::Direction>(in.direction);
  e.has_notice = in.has_notice != 0;
  e.awaiting_confirmation = in.awaiting_confirmation != 0;
  e.version = static_cast<ikeguard::IkeVersion>(in.version);
  e.notify_class = static_cast<ikeguard::NotifyClass>(in.notify_class);
  e.notify_type = in.notify_type;
  e.strikes = in.strikes;
  e.fingerprint = in.fingerprint;
  std::array<std::uint8_t, 16> address{};
  std::memcpy(address.data(), in.address, address.size());
  if (in.family == 4) e.peer = ikeguard::PeerKey::ipv4({address[0], address[1], address[2], address[3]}, in.port, in.scope);
  else if (in.family == 6) e.peer = ikeguard::PeerKey::ipv6(address, in.port, in.scope);
  else e.peer = ikeguard::PeerKey{};
  e.at = ikeguard::TimePoint(Duration(static_cast<Duration::rep>(std::min(in.at_ns, clock_limit))));
  e.until = ikeguard::TimePoint(Duration(static_cast<Duration::rep>(std::min(in.until_ns, clock_limit))));
  e.remaining = Duration(static_cast<Duration::rep>(std::min(in.remaining_ns, clock_limit)));
  e.count = in.count;
  e.node = in.node;
  return true;
}

class CEventSink final : public ikeguard::EventSink {
 public:
  explicit CEventSink(const ikeguard_event_sink& sink) noexcept : sink_(sink) {}
  void on_event(const ikeguard::Event& event) noexcept override {
    const ikeguard_event c_event = to_c(event);
    sink_.on_event(sink_.ctx, &c_event);
  }

 private:
  ikeguard_event_sink sink_;
};

/// A listed peer as C sees it.
inline ikeguard_held_peer to_c(const ikeguard::HeldPeer& in) noexcept {
  ikeguard_held_peer out{};
  out.sender_until_ns = ns(in.sender_until);
  out.receiver_until_ns = ns(in.receiver_until);
  out.sender_strikes = in.sender_strikes;
  out.receiver_strikes = in.receiver_strikes;
  out.sender_fingerprint = in.sender_fingerprint;
  out.receiver_fingerprint = in.receiver_fingerprint;
  out.scope = in.peer.scope();
  out.port = in.peer.port();
  out.family = static_cast<std::uint8_t>(in.peer.family());
  out.sender_retry_only = in.sender_retry_only ? 1 : 0;
  std::memcpy(out.address, in.peer.address().data(), sizeof out.address);
  out.confirmations = in.confirmations;
  return out;
}

}  // namespace ikeguard::c_api
