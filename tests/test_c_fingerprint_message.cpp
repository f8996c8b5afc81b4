// SPDX-License-Identifier: MIT
// ikeguard_fingerprint_message(): the fingerprint a receiver gate computes from the datagram
// alone, against strongSwan 5.9.8's packets, messages the codec builds, and malformed input.
// Each expected value is ikeguard_fingerprint() of bytes written out here by hand.
#include <ikeguard/ikeguard.h>

#include "wire_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

using namespace ikeguard::wire;
using namespace ikeguard::test;
using ikeguard::Errc;
using ikeguard::Result;

namespace {

const char* const no_proposal_chosen_pcap = "strongswan-ikev2-NO_PROPOSAL_CHOSEN.pcap";
const char* const invalid_ke_pcap = "strongswan-ikev2-INVALID_KE_PAYLOAD.pcap";
const char* const retransmits_pcap = "strongswan-ikev2-retransmits.pcap";
const char* const ikev1_pcap = "strongswan-ikev1-NO_PROPOSAL_CHOSEN.pcap";

/// A guard with the defaults: fingerprints are keyed by the guard, so every value a test compares
/// comes from this one.
struct Guard {
  Guard() { REQUIRE(ikeguard_create(&handle, nullptr, nullptr, nullptr) == IKEGUARD_OK); }
  ~Guard() { ikeguard_destroy(handle); }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

  std::uint64_t of_message(const ByteVector& datagram) const {
    return ikeguard_fingerprint_message(handle, datagram.data(), datagram.size());
  }
  std::uint64_t of_bytes(const ByteVector& bytes) const {
    return ikeguard_fingerprint(handle, bytes.data(), bytes.size());
  }

  ikeguard_handle* handle = nullptr;
};

/// wire::canonical_proposals of strongSwan's aes128-sha256-modp2048 as it offers it.
const ByteVector aes128_sha256_modp2048 = {1,                 // one proposal
                                           1, 4,              // IKE, four transforms
                                           1, 0, 12, 0, 128,  // ENCR_AES_CBC, 128 bits
                                           3, 0, 12, 0, 0,    // AUTH_HMAC_SHA2_256_128
                                           2, 0, 5, 0, 0,     // PRF_HMAC_SHA2_256
                                           4, 0, 14, 0, 0};   // 2048-bit MODP

/// The body of the SA payload of strongSwan's IKEv1 Main Mode first message, as sent.
const ByteVector ikev1_main_mode_sa = {
    0, 0, 0, 1,                  // DOI: IPsec
    0, 0, 0, 1,                  // situation: identity only
    0, 0, 0, 0x2c, 1, 1, 0, 1,   // proposal 1, last; ISAKMP, no SPI, one transform
    0, 0, 0, 0x24, 1, 1, 0, 0,   // transform 1, last; KEY_IKE
    0x80, 0x01, 0x00, 0x07,      // encryption: AES-CBC
    0x80, 0x0e, 0x00, 0x80,      // key length: 128
    0x80, 0x02, 0x00, 0x04,      // hash: SHA2-256
    0x80, 0x04, 0x00, 0x0e,      // group: 2048-bit MODP
    0x80, 0x03, 0x00, 0x01,      // authentication: pre-shared key
    0x80, 0x0b, 0x00, 0x01,      // life type: seconds
    0x80, 0x0c, 0x3d, 0xe0};     // life duration: 15840

/// An IKE_SA_INIT request built by the codec: new SPI, KE data and nonce around `sa_body`.
ByteVector built_request(const ByteVector& sa_body, std::uint64_t initiator_spi,
                         std::uint8_t filler) {
  const ByteVector ke(256, filler);
  const ByteVector nonce(32, static_cast<std::uint8_t>(filler ^ 0xffu));
  IkeSaInitMessage request;
  request.initiator_spi = initiator_spi;
  request.sa_payload_body = view(sa_body);
  request.ke_group = 14;
  request.ke_data = view(ke);
  request.nonce = view(nonce);
  ByteVector out(28 + 4 + sa_body.size() + 8 + ke.size() + 4 + nonce.size());
  const Result<std::size_t> n = build_ike_sa_init(mutable_view(out), request);
  REQUIRE(n.ok());
  REQUIRE(n.value() == out.size());
  return out;
}

/// The SA payload body strongSwan would send for one proposal text.
ByteVector sa_body_of_text(const char* text) {
  const Result<Proposal> proposal = parse_proposal_text(text);
  REQUIRE(proposal.ok());
  ProposalList list;
  list.proposals[0] = proposal.value();
  list.count = 1;
  ByteVector body(512);
  const Result<std::size_t> n = build_sa_payload_body(mutable_view(body), list);
  REQUIRE(n.ok());
  body.resize(n.value());
  return body;
}

ByteVector sa_body_of(const Datagram& d) {
  const Result<Ikev2Message> m = parse_ikev2(d.bytes());
  REQUIRE(m.ok());
  return to_vector(m->sa);
}

/// An IKEv1 Main Mode first message with `payloads`, the first of type `first_payload`.
ByteVector main_mode(unsigned first_payload, const ByteVector& payloads, std::uint8_t flags = 0) {
  return message(0x10, first_payload, payloads, exchange_v1::identity_protection, flags);
}

ByteVector concat(const ByteVector& a, const ByteVector& b) {
  ByteVector out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

}  // namespace

// ---- IKEv2 ----

TEST_CASE("ikeguard_fingerprint_message of strongSwan's IKE_SA_INIT is that of its canonical proposals") {
  const Guard guard;
  const ByteVector& request = capture(no_proposal_chosen_pcap).at(0).payload;
  const std::uint64_t expected = guard.of_bytes(aes128_sha256_modp2048);
  CHECK(expected != 0);
  CHECK(guard.of_message(request) == expected);
  // The SA payload's body as sent is not what is fingerprinted.
  CHECK(guard.of_bytes(sa_body_of(capture(no_proposal_chosen_pcap).at(0))) != expected);
  // Another guard keys its fingerprints differently.
  const Guard other;
  CHECK(other.of_message(request) == other.of_bytes(aes128_sha256_modp2048));
  CHECK(other.of_message(request) != expected);
}

TEST_CASE("ikeguard_fingerprint_message gives retransmissions and new attempts one value") {
  const Guard guard;
  const auto& packets = capture(retransmits_pcap);
  REQUIRE(packets.size() == 12);
  // Two attempts of one configuration, each sent six times: the second has another SPI (and
  // so other NAT detection hashes), strongSwan keeps its KE data and nonce.
  const Result<Ikev2Message> first = parse_ikev2(packets[0].bytes());
  const Result<Ikev2Message> second = parse_ikev2(packets[6].bytes());
  REQUIRE((first.ok() && second.ok()));
  CHECK(first->initiator_spi != second->initiator_spi);
  CHECK(packets[0].payload != packets[6].payload);
  for (std::size_t i = 0; i < packets.size(); ++i) {
    CAPTURE(i);
    CHECK(guard.of_message(packets[i].payload) == guard.of_bytes(aes128_sha256_modp2048));
  }
}

TEST_CASE("ikeguard_fingerprint_message of the requests around INVALID_KE_PAYLOAD follows their proposals") {
  const Guard guard;
  const auto& packets = capture(invalid_ke_pcap);
  // One SPI, but the retry offers the group the responder asked for first: another order of the
  // transforms, so another proposal and another fingerprint.
  const ByteVector first = {1, 1, 5,
                            1, 0, 12, 1, 0,   // ENCR_AES_CBC, 256 bits
                            3, 0, 13, 0, 0,   // AUTH_HMAC_SHA2_384_192
                            2, 0, 6, 0, 0,    // PRF_HMAC_SHA2_384
                            4, 0, 19, 0, 0,   // ecp256
                            4, 0, 20, 0, 0};  // ecp384
  ByteVector retry = first;
  retry[20] = 20;
  retry[25] = 19;
  CHECK(guard.of_message(packets.at(0).payload) == guard.of_bytes(first));
  CHECK(guard.of_message(packets.at(2).payload) == guard.of_bytes(retry));
  CHECK(guard.of_message(packets.at(0).payload) != guard.of_message(packets.at(2).payload));
  // The response carries the one proposal chosen.
  const ByteVector chosen = {1, 1, 4, 1, 0, 12, 1, 0, 3, 0, 13, 0, 0,
                             2, 0, 6,  0, 0, 4, 0, 20, 0, 0};
  CHECK(guard.of_message(packets.at(3).payload) == guard.of_bytes(chosen));
}

TEST_CASE("ikeguard_fingerprint_message ignores SPIs, proposal numbers, KE data and nonces") {
  const Guard guard;
  const std::uint64_t captured = guard.of_message(capture(no_proposal_chosen_pcap).at(0).payload);
  const ByteVector sa = sa_body_of(capture(no_proposal_chosen_pcap).at(0));
  CHECK(guard.of_message(built_request(sa, 0x0123456789abcdefULL, 0x11)) == captured);
  CHECK(guard.of_message(built_request(sa, 0xfedcba9876543210ULL, 0x22)) == captured);

  ByteVector renumbered = capture(no_proposal_chosen_pcap).at(0).payload;
  REQUIRE(renumbered[28 + 4 + 4] == 1);  // the proposal number
  renumbered[28 + 4 + 4] = 7;
  CHECK(guard.of_message(renumbered) == captured);
}

TEST_CASE("ikeguard_fingerprint_message differs for a request with another proposal") {
  const Guard guard;
  const std::uint64_t captured = guard.of_message(capture(no_proposal_chosen_pcap).at(0).payload);
  const ByteVector aes256 = built_request(sa_body_of_text("aes256-sha256-modp2048"), 1, 0x33);
  CHECK(guard.of_message(aes256) != 0);
  CHECK(guard.of_message(aes256) != captured);
  CHECK(guard.of_message(aes256) ==
        guard.of_bytes({1, 1, 4, 1, 0, 12, 1, 0, 2, 0, 5, 0, 0, 3, 0, 12, 0, 0, 4, 0, 14, 0, 0}));
  // The same transforms in the proposal text's order (PRF before integrity): another offer.
  const ByteVector reordered = built_request(sa_body_of_text("aes128-sha256-modp2048"), 1, 0x33);
  CHECK(guard.of_message(reordered) != captured);
  CHECK(guard.of_message(reordered) ==
        guard.of_bytes({1, 1, 4, 1, 0, 12, 0, 128, 2, 0, 5, 0, 0, 3, 0, 12, 0, 0, 4, 0, 14, 0, 0}));
}

TEST_CASE("ikeguard_fingerprint_message takes the largest SA payload the codec parses") {
  const Guard guard;
  const ProposalList list = largest_proposal_list();
  ByteVector body(16384);
  const Result<std::size_t> body_size = build_sa_payload_body(mutable_view(body), list);
  REQUIRE(body_size.ok());
  body.resize(body_size.value());
  ByteVector canonical(4096);
  const Result<std::size_t> canonical_size = canonical_proposals(mutable_view(canonical), list);
  REQUIRE(canonical_size.ok());
  CHECK(canonical_size.value() == 1 + max_proposals * (2 + 5 * max_transforms));
  canonical.resize(canonical_size.value());
  CHECK(guard.of_message(built_request(body, 1, 0x44)) == guard.of_bytes(canonical));

  // One proposal more than the limits: the SA payload does not parse.
  const std::size_t first_length = (std::size_t{body[2]} << 8) | body[3];
  const ByteVector first_proposal(body.begin(),
                                  body.begin() + static_cast<std::ptrdiff_t>(first_length));
  REQUIRE(first_proposal[0] == 2);  // "more": the copy goes in front
  const ByteVector too_many = concat(first_proposal, body);
  REQUIRE(parse_sa_payload(view(too_many)).error() == Errc::wire_too_many_payloads);
  CHECK(guard.of_message(message(0x20, payload_v2::sa, payload(0, too_many))) == 0);
}

TEST_CASE("ikeguard_fingerprint_message is 0 for an IKEv2 message without an SA payload in the clear") {
  const Guard guard;
  // strongSwan's NO_PROPOSAL_CHOSEN and INVALID_KE_PAYLOAD answers: one Notify.
  CHECK(guard.of_message(capture(no_proposal_chosen_pcap).at(1).payload) == 0);
  CHECK(guard.of_message(capture(invalid_ke_pcap).at(1).payload) == 0);
  // IKE_AUTH and INFORMATIONAL over port 4500: everything inside the SK payload.
  const auto& packets = capture(invalid_ke_pcap);
  for (std::size_t i = 4; i < packets.size(); ++i) {
    CAPTURE(i);
    CHECK(guard.of_message(packets[i].payload) == 0);
  }
  CHECK(guard.of_message(message(0x20, payload_v2::none, {})) == 0);
  // An SA payload whose proposals do not parse (a substructure flag that is neither last nor more).
  ByteVector bad_sa = sa_body_of(capture(no_proposal_chosen_pcap).at(0));
  bad_sa[0] = 1;
  CHECK(guard.of_message(message(0x20, payload_v2::sa, payload(0, bad_sa))) == 0);
}

// ---- IKEv1 ----

TEST_CASE("ikeguard_fingerprint_message of strongSwan's Main Mode first message is that of its SA body as sent") {
  const Guard guard;
  const ByteVector& first = capture(ikev1_pcap).at(0).payload;
  const std::uint64_t expected = guard.of_bytes(ikev1_main_mode_sa);
  CHECK(expected != 0);
  CHECK(guard.of_message(first) == expected);
  // A new attempt: another cookie, the same SA payload.
  ByteVector new_cookie = first;
  for (std::size_t i = 0; i < 8; ++i) new_cookie[i] = static_cast<std::uint8_t>(i);
  CHECK(guard.of_message(new_cookie) == expected);
  // strongSwan's answer, an Informational with NO-PROPOSAL-CHOSEN, has no SA payload.
  CHECK(guard.of_message(capture(ikev1_pcap).at(1).payload) == 0);
}

TEST_CASE("ikeguard_fingerprint_message finds the first IKEv1 SA payload anywhere in the chain") {
  const Guard guard;
  const std::uint64_t expected = guard.of_bytes(ikev1_main_mode_sa);
  const ByteVector vendor_id(16, 0x5a);
  CHECK(guard.of_message(main_mode(payload_v1::sa, payload(0, ikev1_main_mode_sa))) == expected);
  CHECK(guard.of_message(main_mode(payload_v1::vendor_id,
                                   concat(payload(payload_v1::sa, vendor_id),
                                          payload(0, ikev1_main_mode_sa)))) == expected);
  ByteVector modp1536 = ikev1_main_mode_sa;
  modp1536[39] = 5;  // the group attribute
  CHECK(guard.of_message(main_mode(payload_v1::sa, payload(0, modp1536))) ==
        guard.of_bytes(modp1536));
  CHECK(guard.of_message(main_mode(payload_v1::sa, payload(0, modp1536))) != expected);
  // Only the first SA payload counts.
  CHECK(guard.of_message(main_mode(payload_v1::sa,
                                   concat(payload(payload_v1::sa, ikev1_main_mode_sa),
                                          payload(0, modp1536)))) == expected);
  // An empty SA body is fingerprinted as sent: empty.
  CHECK(guard.of_message(main_mode(payload_v1::sa, payload(0, {}))) == guard.of_bytes({}));
}

TEST_CASE("ikeguard_fingerprint_message is 0 for an IKEv1 message without an SA payload in the clear") {
  const Guard guard;
  const ByteVector vendor_id(16, 0x5a);
  CHECK(guard.of_message(main_mode(payload_v1::vendor_id, payload(0, vendor_id))) == 0);
  CHECK(guard.of_message(main_mode(payload_v1::none, {})) == 0);
  // With the E flag every payload is ciphertext.
  CHECK(guard.of_message(
            main_mode(payload_v1::sa, payload(0, ikev1_main_mode_sa), flags_v1::encryption)) == 0);
  // A chain that overruns the message after the SA payload does not parse.
  ByteVector overrun =
      main_mode(payload_v1::sa, payload(payload_v1::vendor_id, ikev1_main_mode_sa));
  CHECK(guard.of_message(overrun) == 0);
  overrun = main_mode(payload_v1::sa, concat(payload(payload_v1::vendor_id, ikev1_main_mode_sa),
                                             ByteVector{0, 0, 0, 8}));
  CHECK(guard.of_message(overrun) == 0);
}

// ---- malformed input and arguments ----

TEST_CASE("ikeguard_fingerprint_message is 0 for every truncation of every captured message") {
  const Guard guard;
  for (const std::string& file : capture_files()) {
    for (const Datagram& d : capture(file)) {
      for (std::size_t size = 0; size < d.payload.size(); ++size) {
        // A copy of exactly `size` bytes: a sanitizer sees any read past them.
        const ByteVector truncated(d.payload.begin(),
                                   d.payload.begin() + static_cast<std::ptrdiff_t>(size));
        CAPTURE(file, d.payload.size(), size);
        CHECK(ikeguard_fingerprint_message(guard.handle, truncated.data(), truncated.size()) == 0);
      }
    }
  }
}

TEST_CASE("ikeguard_fingerprint_message is 0 for a datagram longer than its header says, or unstripped") {
  const Guard guard;
  ByteVector longer = capture(no_proposal_chosen_pcap).at(0).payload;
  longer.push_back(0);
  CHECK(guard.of_message(longer) == 0);
  longer = capture(ikev1_pcap).at(0).payload;
  longer.push_back(0);
  CHECK(guard.of_message(longer) == 0);
  // On port 4500 the daemon strips the non-ESP marker first.
  CHECK(guard.of_message(concat({0, 0, 0, 0}, capture(no_proposal_chosen_pcap).at(0).payload)) == 0);
  // Major versions other than 1 and 2.
  for (const std::uint8_t version : ByteVector{0x00, 0x30, 0xf0}) {
    ByteVector other = capture(no_proposal_chosen_pcap).at(0).payload;
    other[17] = version;
    CAPTURE(version);
    CHECK(guard.of_message(other) == 0);
  }
}

TEST_CASE("ikeguard_fingerprint_message is 0 for a NULL guard or NULL data") {
  const Guard guard;
  const ByteVector& request = capture(no_proposal_chosen_pcap).at(0).payload;
  CHECK(ikeguard_fingerprint_message(nullptr, request.data(), request.size()) == 0);
  CHECK(ikeguard_fingerprint_message(nullptr, nullptr, 0) == 0);
  CHECK(ikeguard_fingerprint_message(guard.handle, nullptr, request.size()) == 0);
  CHECK(ikeguard_fingerprint_message(guard.handle, nullptr, 0) == 0);
  CHECK(ikeguard_fingerprint_message(guard.handle, request.data(), 0) == 0);
  CHECK(ikeguard_fingerprint_message(guard.handle, request.data(), request.size()) != 0);
}
