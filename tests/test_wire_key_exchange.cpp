// SPDX-License-Identifier: MIT
// Key exchange material for IKE_SA_INIT: X25519 through libsodium, group lengths, randomness.
#include "support.hpp"

#include <ikeguard/wire/key_exchange.hpp>

#include <array>
#include <cstring>

using namespace ikeguard;
using namespace ikeguard::wire;

TEST_CASE("two X25519 key pairs agree on one shared secret") {
  const auto a = X25519KeyPair::generate();
  const auto b = X25519KeyPair::generate();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->public_value().size == 32);
  std::array<std::uint8_t, 32> ab{}, ba{};
  REQUIRE(a->shared_secret(b->public_value(), ab) == Errc::ok);
  REQUIRE(b->shared_secret(a->public_value(), ba) == Errc::ok);
  CHECK(ab == ba);
  CHECK(std::memcmp(a->public_value().data, b->public_value().data, 32) != 0);
}

TEST_CASE("an X25519 public value of the wrong length or of low order is refused") {
  const auto a = X25519KeyPair::generate();
  REQUIRE(a.ok());
  std::array<std::uint8_t, 32> out{};
  const std::array<std::uint8_t, 31> short_value{};
  CHECK(a->shared_secret({short_value.data(), short_value.size()}, out) == Errc::wire_malformed_payload);
  const std::array<std::uint8_t, 32> zero{};  // the identity: a low-order point
  CHECK(a->shared_secret({zero.data(), zero.size()}, out) == Errc::wire_malformed_payload);
}

TEST_CASE("key_exchange_length gives each known group's public value size") {
  CHECK(key_exchange_length(2) == 128);
  CHECK(key_exchange_length(14) == 256);
  CHECK(key_exchange_length(15) == 384);
  CHECK(key_exchange_length(19) == 64);
  CHECK(key_exchange_length(20) == 96);
  CHECK(key_exchange_length(31) == 32);
  CHECK(key_exchange_length(1) == 0);
  CHECK(key_exchange_length(65535) == 0);
}

TEST_CASE("random_bytes fills the buffer with fresh bytes each call") {
  std::array<std::uint8_t, 32> a{}, b{};
  REQUIRE(random_bytes({a.data(), a.size()}) == Errc::ok);
  REQUIRE(random_bytes({b.data(), b.size()}) == Errc::ok);
  CHECK(a != b);
  CHECK(a != std::array<std::uint8_t, 32>{});
}
