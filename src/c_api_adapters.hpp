// SPDX-License-Identifier: MIT
// What the daemon plugs into the C API, as the guard sees it: its clock and transport callbacks
// as a Clock and a Transport, its socket addresses as PeerKeys and back. Internal to
// src/c_api.cpp.
#pragma once

#include "c_api_structs.hpp"

#include <ikeguard/ikeguard.h>

#include <ikeguard/guard.hpp>

#include <algorithm>
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

}  // namespace ikeguard::c_api
