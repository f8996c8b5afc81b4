// SPDX-License-Identifier: MIT
// Who the guard keeps windows for: an IP address, a UDP port and an optional scope.
#pragma once

#include <ikeguard/export.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <type_traits>

#include <netinet/in.h>
#include <sys/socket.h>

namespace ikeguard {

/// An IKE peer: IPv4 or IPv6 address, UDP port, and an optional scope (a connection id,
/// an interface index for link-local peers, a VRF: whatever the daemon needs to tell two
/// peers with the same address apart; 0 = none). Trivially copyable, 24 bytes, no heap.
///
/// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) become IPv4 keys, so a peer seen through a
/// dual-stack socket and through an IPv4 one is the same peer.
class IKEGUARD_API PeerKey {
 public:
  enum class Family : std::uint8_t { none = 0, ipv4 = 4, ipv6 = 6 };

  /// IKE's port (RFC 7296 2.11), used when text gives none.
  static constexpr std::uint16_t default_port = 500;
  /// The longest text `to_chars` writes: "[" 45-char IPv6 "]:" port "#" scope.
  static constexpr std::size_t max_text_length = 1 + 45 + 2 + 5 + 1 + 10;

  /// Family::none: no peer. Never equal to a parsed key.
  constexpr PeerKey() noexcept = default;

  static PeerKey ipv4(const std::array<std::uint8_t, 4>& address,
                      std::uint16_t port = default_port, std::uint32_t scope = 0) noexcept {
    PeerKey key;
    key.family_ = Family::ipv4;
    std::memcpy(key.address_.data(), address.data(), 4);
    key.port_ = port;
    key.scope_ = scope;
    return key;
  }

  static PeerKey ipv6(const std::array<std::uint8_t, 16>& address,
                      std::uint16_t port = default_port, std::uint32_t scope = 0) noexcept {
    static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(address.data(), mapped, sizeof mapped) == 0) {
      return ipv4({address[12], address[13], address[14], address[15]}, port, scope);
    }
    PeerKey key;
    key.family_ = Family::ipv6;
    key.address_ = address;
    key.port_ = port;
    key.scope_ = scope;
    return key;
  }

  /// "192.0.2.1", "192.0.2.1:4500", "2001:db8::1", "[2001:db8::1]:4500", each optionally
  /// followed by "#<scope>" (decimal, 32 bits). Port 500 when absent; port 0 is refused.
  /// Anything malformed gives std::nullopt; never a partial key.
  static std::optional<PeerKey> parse(std::string_view text) noexcept;

  /// From a received datagram's source: sockaddr_in or sockaddr_in6 of at least `length`
  /// bytes. Other families, short lengths, a null pointer or port 0 give std::nullopt.
  static std::optional<PeerKey> from_sockaddr(const sockaddr* address, std::size_t length,
                                              std::uint32_t scope = 0) noexcept {
    if (address == nullptr) return std::nullopt;
    // Copied out: `address` need not be aligned for the family's structure.
    if (address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
      sockaddr_in in{};
      std::memcpy(&in, address, sizeof in);
      return from_socket_address(in.sin_addr, in.sin_port, scope);
    }
    if (address->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
      sockaddr_in6 in6{};
      std::memcpy(&in6, address, sizeof in6);
      return from_socket_address(in6.sin6_addr, in6.sin6_port, scope);
    }
    return std::nullopt;
  }

  constexpr Family family() const noexcept { return family_; }
  constexpr std::uint16_t port() const noexcept { return port_; }
  constexpr std::uint32_t scope() const noexcept { return scope_; }
  /// Network byte order; an IPv4 address is in the first 4 bytes, the rest zero.
  constexpr const std::array<std::uint8_t, 16>& address() const noexcept { return address_; }

  PeerKey with_scope(std::uint32_t scope) const noexcept {
    PeerKey key = *this;
    key.scope_ = scope;
    return key;
  }

  /// Writes the canonical text (RFC 5952 for IPv6; port always shown; "#scope" when non-zero)
  /// without a terminator; returns its length. Family::none writes "none".
  std::size_t to_chars(char (&out)[max_text_length]) const noexcept;

  friend bool operator==(const PeerKey& a, const PeerKey& b) noexcept {
    return std::memcmp(&a, &b, sizeof(PeerKey)) == 0;
  }
  friend bool operator!=(const PeerKey& a, const PeerKey& b) noexcept { return !(a == b); }

 private:
  /// The key for an in_addr or in6_addr and a port in network byte order; port 0 is no peer.
  template <class InAddr>
  static std::optional<PeerKey> from_socket_address(const InAddr& address,
                                                    std::uint16_t network_port,
                                                    std::uint32_t scope) noexcept {
    const std::uint16_t port = ntohs(network_port);
    if (port == 0) return std::nullopt;
    std::array<std::uint8_t, sizeof(InAddr)> bytes{};
    std::memcpy(bytes.data(), &address, bytes.size());
    if constexpr (std::is_same_v<InAddr, in_addr>) {
      return ipv4(bytes, port, scope);
    } else {
      static_assert(std::is_same_v<InAddr, in6_addr>);
      return ipv6(bytes, port, scope);
    }
  }

  std::array<std::uint8_t, 16> address_{};
  std::uint32_t scope_ = 0;
  std::uint16_t port_ = 0;
  Family family_ = Family::none;
  [[maybe_unused]] std::uint8_t reserved_ = 0;  // keeps the object free of padding: hashed and compared as bytes
};

static_assert(sizeof(PeerKey) == 24, "PeerKey is hashed as its 24 bytes");
static_assert(std::has_unique_object_representations_v<PeerKey>, "no padding in PeerKey");
static_assert(std::is_trivially_copyable_v<PeerKey>);

namespace detail {

constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Decimal without sign or leading zeros ("0" itself is fine), at most `limit`.
inline bool parse_decimal(std::string_view text, std::uint64_t limit, std::uint64_t& value) noexcept {
  if (text.empty() || text.size() > 10) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > limit) return false;
  value = v;
  return true;
}

/// Strict dotted quad: four decimal parts 0-255 without leading zeros (which some parsers
/// read as octal).
inline bool parse_ipv4(std::string_view text, std::uint8_t* out) noexcept {
  for (int part = 0; part < 4; ++part) {
    const std::size_t dot = text.find('.');
    const bool last = part == 3;
    if (last != (dot == std::string_view::npos)) return false;
    std::uint64_t value = 0;
    if (!parse_decimal(text.substr(0, dot), 255, value)) return false;
    out[part] = static_cast<std::uint8_t>(value);
    if (!last) text.remove_prefix(dot + 1);
  }
  return true;
}

/// RFC 4291 2.2 text forms: eight groups, one "::" for a run of zero groups, and an
/// optional dotted-quad tail.
inline bool parse_ipv6(std::string_view text, std::array<std::uint8_t, 16>& out) noexcept {
  std::uint16_t groups[8] = {};
  int count = 0;
  int gap = -1;  // index in `groups` where "::" stands
  std::size_t i = 0;
  if (text.size() >= 2 && text[0] == ':' && text[1] == ':') {
    gap = 0;
    i = 2;
  } else if (!text.empty() && text[0] == ':') {
    return false;
  }
  if (text.empty()) return false;
  while (i < text.size()) {
    if (count == 8) return false;
    const std::size_t next_colon = text.find(':', i);
    const std::string_view field = text.substr(i, next_colon == std::string_view::npos
                                                      ? std::string_view::npos
                                                      : next_colon - i);
    if (field.find('.') != std::string_view::npos) {
      // A dotted quad ends the address and fills two groups.
      if (next_colon != std::string_view::npos || count > 6) return false;
      std::uint8_t quad[4];
      if (!parse_ipv4(field, quad)) return false;
      groups[count++] = static_cast<std::uint16_t>(quad[0] << 8 | quad[1]);
      groups[count++] = static_cast<std::uint16_t>(quad[2] << 8 | quad[3]);
      i = text.size();
      break;
    }
    if (field.empty() || field.size() > 4) return false;
    unsigned value = 0;
    for (char c : field) {
      const int digit = hex_value(c);
      if (digit < 0) return false;
      value = value << 4 | static_cast<unsigned>(digit);
    }
    groups[count++] = static_cast<std::uint16_t>(value);
    i += field.size();
    if (i == text.size()) break;
    ++i;  // the ':'
    if (i < text.size() && text[i] == ':') {
      if (gap != -1) return false;
      gap = count;
      ++i;
    } else if (i == text.size()) {
      return false;  // a single trailing ':'
    }
  }
  if (gap == -1) {
    if (count != 8) return false;
  } else {
    if (count > 7) return false;  // "::" stands for at least one group
    const int tail = count - gap;
    for (int k = 0; k < tail; ++k) groups[7 - k] = groups[count - 1 - k];
    for (int k = gap; k < 8 - tail; ++k) groups[k] = 0;
  }
  for (int k = 0; k < 8; ++k) {
    out[static_cast<std::size_t>(2 * k)] = static_cast<std::uint8_t>(groups[k] >> 8);
    out[static_cast<std::size_t>(2 * k + 1)] = static_cast<std::uint8_t>(groups[k] & 0xff);
  }
  return true;
}

inline std::size_t write_decimal(char* out, std::uint32_t value) noexcept {
  char digits[10];
  std::size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (std::size_t k = 0; k < n; ++k) out[k] = digits[n - 1 - k];
  return n;
}

}  // namespace detail

inline std::optional<PeerKey> PeerKey::parse(std::string_view text) noexcept {
  std::uint32_t scope = 0;
  if (const std::size_t hash = text.rfind('#'); hash != std::string_view::npos) {
    std::uint64_t value = 0;
    if (!detail::parse_decimal(text.substr(hash + 1), 0xffffffffu, value)) return std::nullopt;
    scope = static_cast<std::uint32_t>(value);
    text = text.substr(0, hash);
  }

  std::string_view host = text;
  std::string_view port_text;
  bool bracketed = false;
  if (!text.empty() && text[0] == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return std::nullopt;
      port_text = rest.substr(1);
      if (port_text.empty()) return std::nullopt;
    }
    bracketed = true;
  } else if (const std::size_t colon = text.find(':');
             colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    host = text.substr(0, colon);  // exactly one ':' is IPv4 with a port
    port_text = text.substr(colon + 1);
    if (port_text.empty()) return std::nullopt;
  }

  std::uint16_t port = default_port;
  if (!port_text.empty()) {
    std::uint64_t value = 0;
    if (!detail::parse_decimal(port_text, 65535, value) || value == 0) return std::nullopt;
    port = static_cast<std::uint16_t>(value);
  }

  if (!bracketed && host.find(':') == std::string_view::npos) {
    std::array<std::uint8_t, 4> bytes{};
    if (!detail::parse_ipv4(host, bytes.data())) return std::nullopt;
    return ipv4(bytes, port, scope);
  }
  std::array<std::uint8_t, 16> bytes{};
  if (!detail::parse_ipv6(host, bytes)) return std::nullopt;
  return ipv6(bytes, port, scope);
}

inline std::size_t PeerKey::to_chars(char (&out)[max_text_length]) const noexcept {
  std::size_t n = 0;
  if (family_ == Family::none) {
    std::memcpy(out, "none", 4);
    return 4;
  }
  if (family_ == Family::ipv4) {
    for (int k = 0; k < 4; ++k) {
      if (k != 0) out[n++] = '.';
      n += detail::write_decimal(out + n, address_[static_cast<std::size_t>(k)]);
    }
  } else {
    std::uint16_t groups[8];
    for (int k = 0; k < 8; ++k) {
      groups[k] = static_cast<std::uint16_t>(address_[static_cast<std::size_t>(2 * k)] << 8 |
                                             address_[static_cast<std::size_t>(2 * k + 1)]);
    }
    // RFC 5952 4.2: compress the longest run of two or more zero groups, the first on a tie.
    int best_start = -1, best_length = 1;
    for (int k = 0; k < 8;) {
      if (groups[k] != 0) {
        ++k;
        continue;
      }
      int end = k;
      while (end < 8 && groups[end] == 0) ++end;
      if (end - k > best_length) {
        best_start = k;
        best_length = end - k;
      }
      k = end;
    }
    static constexpr char hex[] = "0123456789abcdef";
    out[n++] = '[';
    for (int k = 0; k < 8; ++k) {
      if (k == best_start) {
        out[n++] = ':';
        out[n++] = ':';
        k += best_length - 1;
        continue;
      }
      if (k != 0 && k != best_start + best_length) out[n++] = ':';
      bool leading = true;
      for (int shift = 12; shift >= 0; shift -= 4) {
        const unsigned digit = (static_cast<unsigned>(groups[k]) >> shift) & 0xfu;
        if (leading && digit == 0 && shift != 0) continue;
        leading = false;
        out[n++] = hex[digit];
      }
    }
    out[n++] = ']';
  }
  out[n++] = ':';
  n += detail::write_decimal(out + n, port_);
  if (scope_ != 0) {
    out[n++] = '#';
    n += detail::write_decimal(out + n, scope_);
  }
  return n;
}

}  // namespace ikeguard
