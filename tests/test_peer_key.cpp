// SPDX-License-Identifier: MIT
// PeerKey: parsing, sockaddr conversion, canonical text and equality.
#include "support.hpp"

#include <arpa/inet.h>
#include <sys/un.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

using namespace ikeguard;
using namespace ikeguard::test;

namespace {

using Bytes16 = std::array<std::uint8_t, 16>;

/// The 16 address bytes a PeerKey holds for an IPv4 address: the 4 bytes, then zeros.
Bytes16 v4_bytes(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return Bytes16{a, b, c, d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
}

/// Builds 16 bytes from eight 16-bit groups, as written in IPv6 text.
Bytes16 v6_bytes(const std::array<std::uint16_t, 8>& groups) {
  Bytes16 bytes{};
  for (std::size_t k = 0; k < 8; ++k) {
    bytes[2 * k] = static_cast<std::uint8_t>(groups[k] >> 8);
    bytes[2 * k + 1] = static_cast<std::uint8_t>(groups[k] & 0xffu);
  }
  return bytes;
}

std::string text(const PeerKey& key) {
  char out[PeerKey::max_text_length];
  const std::size_t length = key.to_chars(out);
  return std::string(out, length);
}

std::string text6(const std::array<std::uint16_t, 8>& groups, std::uint16_t port = 500) {
  return text(PeerKey::ipv6(v6_bytes(groups), port));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// parse: accepted forms

TEST_CASE("an IPv4 address without a port gets port 500") {
  const auto key = PeerKey::parse("192.0.2.1");
  REQUIRE(key.has_value());
  CHECK(key->family() == PeerKey::Family::ipv4);
  CHECK(key->address() == v4_bytes(192, 0, 2, 1));
  CHECK(key->port() == 500);
  CHECK(key->scope() == 0);
  CHECK(PeerKey::default_port == 500);
}

TEST_CASE("an IPv4 address with a port keeps that port") {
  const auto key = PeerKey::parse("198.51.100.254:4500");
  REQUIRE(key.has_value());
  CHECK(key->family() == PeerKey::Family::ipv4);
  CHECK(key->address() == v4_bytes(198, 51, 100, 254));
  CHECK(key->port() == 4500);
  CHECK(key->scope() == 0);
}

TEST_CASE("the extreme IPv4 octets and ports are accepted") {
  const auto key = PeerKey::parse("255.0.255.0:65535");
  REQUIRE(key.has_value());
  CHECK(key->address() == v4_bytes(255, 0, 255, 0));
  CHECK(key->port() == 65535);
  const auto one = PeerKey::parse("10.0.0.1:1");
  REQUIRE(one.has_value());
  CHECK(one->port() == 1);
}

TEST_CASE("a bracketed IPv6 address with a port keeps that port") {
  const auto key = PeerKey::parse("[2001:db8::1]:4500");
  REQUIRE(key.has_value());
  CHECK(key->family() == PeerKey::Family::ipv6);
  CHECK(key->address() == v6_bytes({0x2001, 0x0db8, 0, 0, 0, 0, 0, 1}));
  CHECK(key->port() == 4500);
  CHECK(key->scope() == 0);
}

TEST_CASE("a bracketed IPv6 address without a port gets port 500") {
  const auto key = PeerKey::parse("[2001:db8::1]");
  REQUIRE(key.has_value());
  CHECK(key->family() == PeerKey::Family::ipv6);
  CHECK(key->address() == v6_bytes({0x2001, 0x0db8, 0, 0, 0, 0, 0, 1}));
  CHECK(key->port() == 500);
}

TEST_CASE("a bare IPv6 address gets port 500") {
  const auto key = PeerKey::parse("2001:db8:0:1:2:3:4:5");
  REQUIRE(key.has_value());
  CHECK(key->family() == PeerKey::Family::ipv6);
  CHECK(key->address() == v6_bytes({0x2001, 0x0db8, 0, 1, 2, 3, 4, 5}));
  CHECK(key->port() == 500);
}

TEST_CASE("IPv6 hex groups are read case-insensitively and with leading zeros") {
  const auto upper = PeerKey::parse("2001:DB8:00AB:0:0:0:0:FFFF");
  REQUIRE(upper.has_value());
  CHECK(upper->address() == v6_bytes({0x2001, 0x0db8, 0x00ab, 0, 0, 0, 0, 0xffff}));
  const auto lower = PeerKey::parse("2001:db8:ab::ffff");
  REQUIRE(lower.has_value());
  CHECK(*upper == *lower);
}

TEST_CASE("the unspecified IPv6 address :: parses to sixteen zero bytes") {
  const auto key = PeerKey::parse("::");
  REQUIRE(key.has_value());
  CHECK(key->family() == PeerKey::Family::ipv6);
  CHECK(key->address() == Bytes16{});
  CHECK(key->port() == 500);
}

TEST_CASE("the IPv6 loopback ::1 parses with only the last byte set") {
  const auto key = PeerKey::parse("::1");
  REQUIRE(key.has_value());
  CHECK(key->family() == PeerKey::Family::ipv6);
  CHECK(key->address() == v6_bytes({0, 0, 0, 0, 0, 0, 0, 1}));
}

TEST_CASE("a :: at the end or in the middle stands for the missing zero groups") {
  const auto trailing = PeerKey::parse("fe80::");
  REQUIRE(trailing.has_value());
  CHECK(trailing->address() == v6_bytes({0xfe80, 0, 0, 0, 0, 0, 0, 0}));
  const auto one_group = PeerKey::parse("1:2:3:4:5:6:7::");
  REQUIRE(one_group.has_value());
  CHECK(one_group->address() == v6_bytes({1, 2, 3, 4, 5, 6, 7, 0}));
  const auto leading_one_group = PeerKey::parse("::2:3:4:5:6:7:8");
  REQUIRE(leading_one_group.has_value());
  CHECK(leading_one_group->address() == v6_bytes({0, 2, 3, 4, 5, 6, 7, 8}));
  const auto middle = PeerKey::parse("1:2::7:8");
  REQUIRE(middle.has_value());
  CHECK(middle->address() == v6_bytes({1, 2, 0, 0, 0, 0, 7, 8}));
}

TEST_CASE("an IPv6 address may end in a dotted quad") {
  const auto nat64 = PeerKey::parse("64:ff9b::192.0.2.33");
  REQUIRE(nat64.has_value());
  CHECK(nat64->family() == PeerKey::Family::ipv6);
  CHECK(nat64->address() == v6_bytes({0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0221}));
  const auto full = PeerKey::parse("1:2:3:4:5:6:10.20.30.40");
  REQUIRE(full.has_value());
  CHECK(full->address() == v6_bytes({1, 2, 3, 4, 5, 6, 0x0a14, 0x1e28}));
  const auto compat = PeerKey::parse("[::1.2.3.4]:4500");
  REQUIRE(compat.has_value());
  CHECK(compat->family() == PeerKey::Family::ipv6);
  CHECK(compat->address() == v6_bytes({0, 0, 0, 0, 0, 0, 0x0102, 0x0304}));
  CHECK(compat->port() == 4500);
}

TEST_CASE("an IPv4-mapped IPv6 address becomes an IPv4 key") {
  const auto dotted = PeerKey::parse("::ffff:192.0.2.1");
  REQUIRE(dotted.has_value());
  CHECK(dotted->family() == PeerKey::Family::ipv4);
  CHECK(dotted->address() == v4_bytes(192, 0, 2, 1));
  CHECK(dotted->port() == 500);
  CHECK(*dotted == *PeerKey::parse("192.0.2.1"));

  const auto hex = PeerKey::parse("[::FFFF:c000:0201]:4500#9");
  REQUIRE(hex.has_value());
  CHECK(hex->family() == PeerKey::Family::ipv4);
  CHECK(hex->address() == v4_bytes(192, 0, 2, 1));
  CHECK(hex->port() == 4500);
  CHECK(hex->scope() == 9);
  CHECK(*hex == *PeerKey::parse("192.0.2.1:4500#9"));
}

TEST_CASE("a #scope suffix sets the scope on every form") {
  const auto v4 = PeerKey::parse("192.0.2.1#7");
  REQUIRE(v4.has_value());
  CHECK(v4->scope() == 7);
  CHECK(v4->port() == 500);
  CHECK(v4->address() == v4_bytes(192, 0, 2, 1));

  const auto v4_port = PeerKey::parse("192.0.2.1:4500#12");
  REQUIRE(v4_port.has_value());
  CHECK(v4_port->scope() == 12);
  CHECK(v4_port->port() == 4500);

  const auto bare6 = PeerKey::parse("fe80::1#3");
  REQUIRE(bare6.has_value());
  CHECK(bare6->family() == PeerKey::Family::ipv6);
  CHECK(bare6->address() == v6_bytes({0xfe80, 0, 0, 0, 0, 0, 0, 1}));
  CHECK(bare6->scope() == 3);
  CHECK(bare6->port() == 500);

  const auto bracketed = PeerKey::parse("[fe80::1]:4500#4294967295");
  REQUIRE(bracketed.has_value());
  CHECK(bracketed->scope() == 4294967295u);
  CHECK(bracketed->port() == 4500);

  const auto bracketed_no_port = PeerKey::parse("[fe80::1]#1");
  REQUIRE(bracketed_no_port.has_value());
  CHECK(bracketed_no_port->scope() == 1);
  CHECK(bracketed_no_port->port() == 500);
}

TEST_CASE("scope #0 is the same key as no scope") {
  const auto zero = PeerKey::parse("192.0.2.1#0");
  REQUIRE(zero.has_value());
  CHECK(zero->scope() == 0);
  CHECK(*zero == *PeerKey::parse("192.0.2.1"));
}

// ---------------------------------------------------------------------------------------------
// parse: malformed input

TEST_CASE("every malformed peer text gives std::nullopt") {
  static constexpr std::string_view malformed[] = {
      // empty and lone punctuation
      "", ":", "::::", "[]", "[]:500", "#1", "[", "]", ".",
      // ports
      "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536", "192.0.2.1:99999", "192.0.2.1:0500",
      "192.0.2.1:00", "192.0.2.1:+500", "192.0.2.1:-1", "192.0.2.1: 500", "192.0.2.1:5x",
      "192.0.2.1:12345678901", "192.0.2.1:500:600", "[::1]:", "[::1]:0", "[::1]:65536",
      "[::1]:0500",
      // IPv4 bodies
      "01.2.3.4", "1.2.3.04", "00.0.0.0", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256",
      "1.2.3.999", "1..2.3", ".1.2.3", "1.2.3.4.", "a.b.c.d", "1.2.3.4 ", " 1.2.3.4",
      "1.2.3.-4", "4294967297.0.0.0",
      // IPv6 bodies
      "1::2::3", "::1::", "1:2:3:4:5:6:7:8:9", "::1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::8",
      "12345::1", "1:2:3:4:5:6:7:10000", "1:2:3:4:5:6:7:8:", "1::2:", "fe80::1:", ":1::2",
      ":1:2:3:4:5:6:7:8", ":::1", "1:::2", "1:2:3:4:5:6:7", "g::1", "::1g", "fe80::1%eth0",
      "1.2.3.4::", "1.2.3.4:5::", "::1.2.3", "::1.2.3.4.5", "::256.0.0.1", "::ffff:1.2.3.04",
      "1:2:3:4:5:6:7:1.2.3.4", "::1:2:3:4:5:6:1.2.3.4", "::1.2.3.4:5",
      // brackets
      "[::1", "[::1:500", "::1]", "::1]:500", "[1.2.3.4]", "[1.2.3.4]:500", "[::1]x",
      "[::1]500", "[::1]]", "[::1]:500x", "[::1]:500]", "[[::1]]", "[::1] ", "[::1]:5:00",
      "[192.0.2.1:500]",
      // scope
      "192.0.2.1#", "192.0.2.1#x", "192.0.2.1#-1", "192.0.2.1#+1", "192.0.2.1#01",
      "192.0.2.1#4294967296", "192.0.2.1#99999999999", "192.0.2.1#1#2", "192.0.2.1#1:500",
      "[::1]:500#", "[::1#3]", "[::1]#3x", "fe80::1#eth0", "192.0.2.1# 1",
  };
  for (const std::string_view input : malformed) {
    INFO("input: \"" << std::string(input) << "\"");
    CHECK_FALSE(PeerKey::parse(input).has_value());
  }
}

// ---------------------------------------------------------------------------------------------
// from_sockaddr

TEST_CASE("from_sockaddr reads a sockaddr_in's address and port") {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(4500);
  REQUIRE(inet_pton(AF_INET, "203.0.113.9", &in.sin_addr) == 1);
  const auto key = PeerKey::from_sockaddr(reinterpret_cast<const sockaddr*>(&in), sizeof in);
  REQUIRE(key.has_value());
  CHECK(key->family() == PeerKey::Family::ipv4);
  CHECK(key->address() == v4_bytes(203, 0, 113, 9));
  CHECK(key->port() == 4500);
  CHECK(key->scope() == 0);
  CHECK(*key == *PeerKey::parse("203.0.113.9:4500"));
}

TEST_CASE("from_sockaddr reads a sockaddr_in6 and applies the given scope") {
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(500);
  REQUIRE(inet_pton(AF_INET6, "2001:db8::77", &in6.sin6_addr) == 1);
  const auto key =
      PeerKey::from_sockaddr(reinterpret_cast<const sockaddr*>(&in6), sizeof in6, 42);
  REQUIRE(key.has_value());
  CHECK(key->family() == PeerKey::Family::ipv6);
  CHECK(key->address() == v6_bytes({0x2001, 0x0db8, 0, 0, 0, 0, 0, 0x77}));
  CHECK(key->port() == 500);
  CHECK(key->scope() == 42);
  CHECK(*key == *PeerKey::parse("[2001:db8::77]:500#42"));
}

TEST_CASE("from_sockaddr turns a v4-mapped sockaddr_in6 into the IPv4 key") {
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(4500);
  REQUIRE(inet_pton(AF_INET6, "::ffff:198.51.100.7", &in6.sin6_addr) == 1);
  const auto key = PeerKey::from_sockaddr(reinterpret_cast<const sockaddr*>(&in6), sizeof in6);
  REQUIRE(key.has_value());
  CHECK(key->family() == PeerKey::Family::ipv4);
  CHECK(key->address() == v4_bytes(198, 51, 100, 7));
  CHECK(key->port() == 4500);

  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(4500);
  REQUIRE(inet_pton(AF_INET, "198.51.100.7", &in.sin_addr) == 1);
  const auto direct = PeerKey::from_sockaddr(reinterpret_cast<const sockaddr*>(&in), sizeof in);
  REQUIRE(direct.has_value());
  CHECK(*key == *direct);
}

TEST_CASE("from_sockaddr accepts a sockaddr_storage longer than the address") {
  sockaddr_storage storage{};
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(500);
  REQUIRE(inet_pton(AF_INET, "192.0.2.200", &in.sin_addr) == 1);
  std::memcpy(&storage, &in, sizeof in);
  const auto key =
      PeerKey::from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), sizeof storage);
  REQUIRE(key.has_value());
  CHECK(*key == *PeerKey::parse("192.0.2.200"));
}

TEST_CASE("from_sockaddr refuses a length shorter than the family's sockaddr") {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(500);
  REQUIRE(inet_pton(AF_INET, "192.0.2.1", &in.sin_addr) == 1);
  const auto* as_v4 = reinterpret_cast<const sockaddr*>(&in);
  CHECK(PeerKey::from_sockaddr(as_v4, sizeof in).has_value());
  CHECK_FALSE(PeerKey::from_sockaddr(as_v4, sizeof in - 1).has_value());
  CHECK_FALSE(PeerKey::from_sockaddr(as_v4, 0).has_value());

  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(500);
  REQUIRE(inet_pton(AF_INET6, "2001:db8::1", &in6.sin6_addr) == 1);
  const auto* as_v6 = reinterpret_cast<const sockaddr*>(&in6);
  CHECK(PeerKey::from_sockaddr(as_v6, sizeof in6).has_value());
  CHECK_FALSE(PeerKey::from_sockaddr(as_v6, sizeof in6 - 1).has_value());
  CHECK_FALSE(PeerKey::from_sockaddr(as_v6, sizeof(sockaddr_in)).has_value());
}

TEST_CASE("from_sockaddr refuses a null pointer") {
  CHECK_FALSE(PeerKey::from_sockaddr(nullptr, sizeof(sockaddr_in6)).has_value());
  CHECK_FALSE(PeerKey::from_sockaddr(nullptr, 0).has_value());
}

TEST_CASE("from_sockaddr refuses an AF_UNIX address") {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, "/run/ike.sock", sizeof "/run/ike.sock");
  CHECK_FALSE(PeerKey::from_sockaddr(reinterpret_cast<const sockaddr*>(&un), sizeof un).has_value());
}

TEST_CASE("from_sockaddr refuses port 0 for both families") {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = 0;
  REQUIRE(inet_pton(AF_INET, "192.0.2.1", &in.sin_addr) == 1);
  CHECK_FALSE(PeerKey::from_sockaddr(reinterpret_cast<const sockaddr*>(&in), sizeof in).has_value());

  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = 0;
  REQUIRE(inet_pton(AF_INET6, "2001:db8::1", &in6.sin6_addr) == 1);
  CHECK_FALSE(
      PeerKey::from_sockaddr(reinterpret_cast<const sockaddr*>(&in6), sizeof in6).has_value());
}

// ---------------------------------------------------------------------------------------------
// to_chars

TEST_CASE("to_chars writes IPv4 keys as dotted quad, port and non-zero scope") {
  CHECK(text(PeerKey::ipv4({192, 0, 2, 1})) == "192.0.2.1:500");
  CHECK(text(PeerKey::ipv4({0, 0, 0, 0}, 1)) == "0.0.0.0:1");
  CHECK(text(PeerKey::ipv4({255, 255, 255, 255}, 65535, 4294967295u)) ==
        "255.255.255.255:65535#4294967295");
  CHECK(text(PeerKey::ipv4({10, 0, 0, 1}, 4500, 7)) == "10.0.0.1:4500#7");
}

TEST_CASE("to_chars writes IPv6 keys bracketed, in lowercase, without leading zeros") {
  CHECK(text6({0x2001, 0x0db8, 0x00ab, 0x0c0d, 0xEF01, 0x000f, 0x0100, 0xABCD}) ==
        "[2001:db8:ab:c0d:ef01:f:100:abcd]:500");
  CHECK(text(PeerKey::ipv6(v6_bytes({0xfe80, 0, 0, 0, 0, 0, 0, 1}), 4500, 3)) ==
        "[fe80::1]:4500#3");
}

TEST_CASE("to_chars compresses the longest run of zero groups") {
  CHECK(text6({0, 0, 0, 0, 0, 0, 0, 0}) == "[::]:500");
  CHECK(text6({0, 0, 0, 0, 0, 0, 0, 1}) == "[::1]:500");
  CHECK(text6({1, 0, 0, 0, 0, 0, 0, 0}) == "[1::]:500");
  CHECK(text6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1}) == "[2001:db8::1]:500");
  CHECK(text6({1, 0, 0, 2, 0, 0, 0, 3}) == "[1:0:0:2::3]:500");
  CHECK(text6({1, 0, 0, 0, 2, 0, 0, 3}) == "[1::2:0:0:3]:500");
  CHECK(text6({1, 2, 3, 4, 5, 6, 0, 0}) == "[1:2:3:4:5:6::]:500");
  CHECK(text6({0, 0, 3, 4, 5, 6, 7, 8}) == "[::3:4:5:6:7:8]:500");
}

TEST_CASE("to_chars compresses the first of two equally long zero runs") {
  CHECK(text6({1, 0, 0, 2, 0, 0, 3, 4}) == "[1::2:0:0:3:4]:500");
  CHECK(text6({0x2001, 0xdb8, 0, 0, 1, 0, 0, 1}) == "[2001:db8::1:0:0:1]:500");
  CHECK(text6({0, 0, 1, 1, 1, 1, 0, 0}) == "[::1:1:1:1:0:0]:500");
}

TEST_CASE("to_chars does not compress a single zero group") {
  CHECK(text6({0x2001, 0xdb8, 0, 1, 1, 1, 1, 1}) == "[2001:db8:0:1:1:1:1:1]:500");
  CHECK(text6({0, 1, 2, 3, 4, 5, 6, 7}) == "[0:1:2:3:4:5:6:7]:500");
  CHECK(text6({1, 2, 3, 4, 5, 6, 7, 0}) == "[1:2:3:4:5:6:7:0]:500");
  CHECK(text6({1, 0, 2, 0, 3, 0, 4, 0}) == "[1:0:2:0:3:0:4:0]:500");
}

TEST_CASE("to_chars fits the longest key in max_text_length") {
  const PeerKey longest = PeerKey::ipv6(
      v6_bytes({0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xfffe}), 65535,
      4294967295u);
  const std::string written = text(longest);
  CHECK(written == "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe]:65535#4294967295");
  CHECK(written.size() <= PeerKey::max_text_length);
}

TEST_CASE("to_chars writes none for a default-constructed key") {
  CHECK(text(PeerKey{}) == "none");
}

TEST_CASE("parsing a key's canonical text gives back the same key") {
  const PeerKey keys[] = {
      PeerKey::ipv4({192, 0, 2, 1}),
      PeerKey::ipv4({203, 0, 113, 255}, 4500, 17),
      PeerKey::ipv4({0, 0, 0, 0}, 1, 4294967295u),
      PeerKey::ipv6(v6_bytes({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1}), 4500),
      PeerKey::ipv6(v6_bytes({0xfe80, 0, 0, 0, 0x0211, 0x22ff, 0xfe33, 0x4455}), 500, 2),
      PeerKey::ipv6(v6_bytes({0, 0, 0, 0, 0, 0, 0, 0}), 65535),
      PeerKey::ipv6(v6_bytes({1, 0, 0, 2, 0, 0, 3, 4}), 500),
      PeerKey::ipv6(v6_bytes({0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff}),
                    1, 1),
  };
  for (const PeerKey& key : keys) {
    const std::string written = text(key);
    INFO("text: " << written);
    const auto parsed = PeerKey::parse(written);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == key);
    CHECK(text(*parsed) == written);
  }
}

TEST_CASE("parsing then writing gives the canonical text") {
  CHECK(text(peer("2001:DB8:0:0:0:0:0:1")) == "[2001:db8::1]:500");
  CHECK(text(peer("[2001:0db8:0000:0000:0001:0000:0000:0001]:4500")) ==
        "[2001:db8::1:0:0:1]:4500");
  CHECK(text(peer("::ffff:192.0.2.1#5")) == "192.0.2.1:500#5");
  CHECK(text(peer("64:ff9b::192.0.2.33")) == "[64:ff9b::c000:221]:500");
}

// ---------------------------------------------------------------------------------------------
// equality

TEST_CASE("keys are equal exactly when family, address, port and scope are equal") {
  const PeerKey base = peer("192.0.2.1:500");
  CHECK(base == peer("192.0.2.1"));
  CHECK_FALSE(base != peer("192.0.2.1"));
  CHECK(base != peer("192.0.2.1:4500"));
  CHECK(base != peer("192.0.2.1#1"));
  CHECK(base != peer("192.0.2.2"));
  CHECK(base.with_scope(1) == peer("192.0.2.1#1"));
  CHECK(base.with_scope(1).with_scope(0) == base);

  const PeerKey v6 = peer("[2001:db8::1]:500");
  CHECK(v6 == peer("2001:db8::1"));
  CHECK(v6 != peer("[2001:db8::1]:501"));
  CHECK(v6 != peer("[2001:db8::1]:500#2"));
  CHECK(peer("[2001:db8::1]#2") != peer("[2001:db8::1]#3"));
}

TEST_CASE("an IPv4 key differs from the IPv6 key with the same leading bytes") {
  // 192.0.2.1 and c000:201:: share their first four bytes.
  CHECK(peer("192.0.2.1") != peer("c000:201::"));
  CHECK(peer("0.0.0.0") != peer("::"));
}

TEST_CASE("a default-constructed key equals no parsed key") {
  const PeerKey none;
  CHECK(none.family() == PeerKey::Family::none);
  CHECK(none == PeerKey{});
  CHECK(none != peer("0.0.0.0:1"));
  CHECK(none != peer("::"));
}
