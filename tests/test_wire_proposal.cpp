// SPDX-License-Identifier: MIT
// SA payloads: strongSwan's proposals, malformed substructures, the proposal text, and the
// canonical bytes a daemon fingerprints.
#include "wire_support.hpp"

#include <algorithm>
#include <tuple>

using namespace ikeguard;
using namespace ikeguard::wire;
using namespace ikeguard::test;

namespace {

using T = std::tuple<unsigned, unsigned, unsigned>;  // type, ID, key length

std::vector<T> transforms_of(const Proposal& p) {
  std::vector<T> out;
  for (std::size_t i = 0; i < p.transform_count; ++i) {
    out.emplace_back(p.transforms[i].type, p.transforms[i].id, p.transforms[i].key_length);
  }
  return out;
}

ByteVector sa_body_of(const Datagram& d) {
  const Result<Ikev2Message> m = parse_ikev2(d.bytes());
  REQUIRE(m.ok());
  REQUIRE(m->sa.size > 0);
  return to_vector(m->sa);
}

ProposalList parsed(const ByteVector& body) {
  const Result<ProposalList> r = parse_sa_payload(view(body));
  REQUIRE(r.error() == Errc::ok);
  return r.value();
}

Errc parse_error(const ByteVector& body) { return parse_sa_payload(view(body)).error(); }

Proposal text(std::string_view s) {
  const Result<Proposal> r = parse_proposal_text(s);
  REQUIRE(r.error() == Errc::ok);
  return r.value();
}

ByteVector canonical(const ProposalList& list) {
  ByteVector out(4096);
  const Result<std::size_t> n = canonical_proposals(mutable_view(out), list);
  REQUIRE(n.error() == Errc::ok);
  out.resize(n.value());
  return out;
}

ByteVector built(const ProposalList& list) {
  ByteVector out(8192);
  const Result<std::size_t> n = build_sa_payload_body(mutable_view(out), list);
  REQUIRE(n.error() == Errc::ok);
  out.resize(n.value());
  return out;
}

ProposalList list_of(std::initializer_list<Proposal> proposals) {
  ProposalList list;
  for (const Proposal& p : proposals) list.proposals[list.count++] = p;
  return list;
}

/// A transform substructure: flag, reserved, length, type, reserved, ID, attributes.
ByteVector transform_sub(unsigned flag, unsigned type, unsigned id, const ByteVector& attributes = {}) {
  Writer w;
  w.u8(flag).u8(0).u16(static_cast<unsigned>(8 + attributes.size())).u8(type).u8(0).u16(id).raw(attributes);
  return w.bytes;
}

ByteVector key_length(unsigned bits) { return Writer().u16(0x800e).u16(bits).bytes; }

/// A proposal substructure with the given transforms (already encoded) and claimed count.
ByteVector proposal(unsigned flag, unsigned number, unsigned count, const ByteVector& transforms,
                    const ByteVector& spi = {}, unsigned protocol = 1) {
  Writer w;
  w.u8(flag).u8(0).u16(static_cast<unsigned>(8 + spi.size() + transforms.size()));
  w.u8(number).u8(protocol).u8(static_cast<unsigned>(spi.size())).u8(count).raw(spi).raw(transforms);
  return w.bytes;
}

ByteVector concat(std::initializer_list<ByteVector> parts) {
  ByteVector out;
  for (const ByteVector& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

/// aes128 (CBC) - sha256 - prfsha256 - modp2048 in strongSwan's wire order, 4 transforms.
ByteVector four_transforms() {
  return concat({transform_sub(3, 1, 12, key_length(128)), transform_sub(3, 3, 12), transform_sub(3, 2, 5),
                 transform_sub(0, 4, 14)});
}

}  // namespace

// ---- strongSwan's SA payloads ----

TEST_CASE("strongSwan's IKE_SA_INIT request offers aes128-sha256-modp2048 in one proposal") {
  const ProposalList list = parsed(sa_body_of(capture("strongswan-ikev2-NO_PROPOSAL_CHOSEN.pcap").at(0)));
  REQUIRE(list.count == 1);
  CHECK(list.proposals[0].number == 1);
  CHECK(list.proposals[0].protocol_id == 1);
  CHECK(transforms_of(list.proposals[0]) ==
        std::vector<T>{{1, 12, 128}, {3, 12, 0}, {2, 5, 0}, {4, 14, 0}});
}

TEST_CASE("the captured proposal has the transforms of its proposal text, in another order") {
  const ProposalList list = parsed(sa_body_of(capture("strongswan-ikev2-retransmits.pcap").at(0)));
  std::vector<T> captured = transforms_of(list.proposals[0]);
  std::vector<T> from_text = transforms_of(text("aes128-sha256-modp2048"));
  CHECK(captured != from_text);
  std::sort(captured.begin(), captured.end());
  std::sort(from_text.begin(), from_text.end());
  CHECK(captured == from_text);
}

TEST_CASE("strongSwan's proposals around INVALID_KE_PAYLOAD offer two groups and the answer picks one") {
  const auto& packets = capture("strongswan-ikev2-INVALID_KE_PAYLOAD.pcap");
  const ProposalList first = parsed(sa_body_of(packets.at(0)));
  REQUIRE(first.count == 1);
  CHECK(transforms_of(first.proposals[0]) ==
        std::vector<T>{{1, 12, 256}, {3, 13, 0}, {2, 6, 0}, {4, 19, 0}, {4, 20, 0}});
  // The retry puts the group the responder asked for first.
  const ProposalList retry = parsed(sa_body_of(packets.at(2)));
  REQUIRE(retry.count == 1);
  CHECK(transforms_of(retry.proposals[0]) ==
        std::vector<T>{{1, 12, 256}, {3, 13, 0}, {2, 6, 0}, {4, 20, 0}, {4, 19, 0}});
  CHECK(canonical(first) != canonical(retry));
  const ProposalList chosen = parsed(sa_body_of(packets.at(3)));
  REQUIRE(chosen.count == 1);
  CHECK(transforms_of(chosen.proposals[0]) ==
        std::vector<T>{{1, 12, 256}, {3, 13, 0}, {2, 6, 0}, {4, 20, 0}});
}

TEST_CASE("the canonical bytes of strongSwan's proposal are exact") {
  const ProposalList list = parsed(sa_body_of(capture("strongswan-ikev2-NO_PROPOSAL_CHOSEN.pcap").at(0)));
  CHECK(canonical(list) == ByteVector{1,                  // one proposal
                                      1, 4,               // IKE, four transforms
                                      1, 0, 12, 0, 128,   // ENCR_AES_CBC, 128 bits
                                      3, 0, 12, 0, 0,     // AUTH_HMAC_SHA2_256_128
                                      2, 0, 5, 0, 0,      // PRF_HMAC_SHA2_256
                                      4, 0, 14, 0, 0});   // 2048-bit MODP
}

TEST_CASE("both connection attempts of the retransmit capture have the same canonical proposals") {
  const auto& packets = capture("strongswan-ikev2-retransmits.pcap");
  CHECK(canonical(parsed(sa_body_of(packets.at(0)))) == canonical(parsed(sa_body_of(packets.at(6)))));
}

TEST_CASE("build_sa_payload_body rewrites strongSwan's SA bodies byte for byte") {
  for (const std::string& file : capture_files()) {
    for (const Datagram& d : capture(file)) {
      const Result<Ikev2Message> m = parse_ikev2(d.bytes());
      if (!m.ok() || m->sa.empty()) continue;
      CAPTURE(file);
      const ByteVector body = to_vector(m->sa);
      CHECK(built(parsed(body)) == body);
    }
  }
}

TEST_CASE("every truncation of a captured SA body is refused") {
  const ByteVector body = sa_body_of(capture("strongswan-ikev2-INVALID_KE_PAYLOAD.pcap").at(0));
  for (std::size_t size = 0; size < body.size(); ++size) {
    CAPTURE(size);
    CHECK(parse_sa_payload(Bytes{body.data(), size}).error() != Errc::ok);
  }
}

// ---- canonical form ----

TEST_CASE("canonical proposals ignore proposal numbers and SPIs") {
  const ByteVector a = concat({proposal(2, 1, 4, four_transforms()),
                               proposal(0, 2, 1, transform_sub(0, 1, 20, key_length(256)))});
  const ByteVector b = concat({proposal(2, 7, 4, four_transforms(), {1, 2, 3, 4, 5, 6, 7, 8}),
                               proposal(0, 9, 1, transform_sub(0, 1, 20, key_length(256)), {9, 9, 9, 9})});
  const ProposalList la = parsed(a);
  const ProposalList lb = parsed(b);
  CHECK(la.proposals[0].number == 1);
  CHECK(lb.proposals[0].number == 7);
  CHECK(canonical(la) == canonical(lb));
  CHECK(canonical(la).size() == 1 + (2 + 4 * 5) + (2 + 5));
}

TEST_CASE("canonical proposals differ when the protocol, a key length or the order differs") {
  const ProposalList base = parsed(proposal(0, 1, 4, four_transforms()));
  const ProposalList esp = parsed(proposal(0, 1, 4, four_transforms(), {1, 2, 3, 4}, 3));
  const ProposalList aes256 = parsed(proposal(
      0, 1, 4,
      concat({transform_sub(3, 1, 12, key_length(256)), transform_sub(3, 3, 12), transform_sub(3, 2, 5),
              transform_sub(0, 4, 14)})));
  const ProposalList reordered = parsed(proposal(
      0, 1, 4,
      concat({transform_sub(3, 1, 12, key_length(128)), transform_sub(3, 2, 5), transform_sub(3, 3, 12),
              transform_sub(0, 4, 14)})));
  CHECK(canonical(base) != canonical(esp));
  CHECK(canonical(base) != canonical(aes256));
  CHECK(canonical(base) != canonical(reordered));
}

TEST_CASE("canonical_proposals refuses every buffer smaller than its bytes") {
  const ProposalList list = parsed(proposal(0, 1, 4, four_transforms()));
  const std::size_t needed = 1 + 2 + 4 * 5;
  for (std::size_t size = 0; size < needed; ++size) {
    CAPTURE(size);
    ByteVector out(size);
    CHECK(canonical_proposals(mutable_view(out), list).error() == Errc::wire_buffer_too_small);
  }
  ByteVector out(needed);
  CHECK(canonical_proposals(mutable_view(out), list).value() == needed);
}

// ---- building ----

TEST_CASE("build_sa_payload_body output parses back to the same proposals") {
  Proposal esp = text("aes256gcm16-prfsha384-ecp384");
  esp.number = 2;
  esp.protocol_id = 3;
  const ProposalList list = list_of({text("aes128-sha256-modp2048-x25519"), esp});
  const ByteVector body = built(list);
  const ProposalList back = parsed(body);
  REQUIRE(back.count == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    CHECK(back.proposals[i].number == list.proposals[i].number);
    CHECK(back.proposals[i].protocol_id == list.proposals[i].protocol_id);
    CHECK(transforms_of(back.proposals[i]) == transforms_of(list.proposals[i]));
  }
  CHECK(body.size() == (8 + 12 + 8 + 8 + 8 + 8) + (8 + 12 + 8 + 8));
  CHECK(body[0] == 2);  // more proposals
  CHECK(body[52] == 0);  // the second, last proposal
}

TEST_CASE("build_sa_payload_body refuses every buffer smaller than the body") {
  const ProposalList list = list_of({text("aes128-sha256-x25519")});
  const std::size_t needed = 8 + 12 + 8 + 8 + 8;
  for (std::size_t size = 0; size < needed; ++size) {
    CAPTURE(size);
    ByteVector out(size);
    CHECK(build_sa_payload_body(mutable_view(out), list).error() == Errc::wire_buffer_too_small);
  }
  ByteVector out(needed);
  CHECK(build_sa_payload_body(mutable_view(out), list).value() == needed);
}

TEST_CASE("build_sa_payload_body and canonical_proposals refuse a list outside the limits") {
  ByteVector out(8192);
  ProposalList empty;
  CHECK(build_sa_payload_body(mutable_view(out), empty).error() == Errc::wire_invalid_proposal);
  CHECK(canonical_proposals(mutable_view(out), empty).error() == Errc::wire_invalid_proposal);
  ProposalList too_many = list_of({text("aes128-sha256-x25519")});
  too_many.count = max_proposals + 1;
  CHECK(build_sa_payload_body(mutable_view(out), too_many).error() == Errc::wire_invalid_proposal);
  CHECK(canonical_proposals(mutable_view(out), too_many).error() == Errc::wire_invalid_proposal);
  ProposalList wide = list_of({text("aes128-sha256-x25519")});
  wide.proposals[0].transform_count = max_transforms + 1;
  CHECK(build_sa_payload_body(mutable_view(out), wide).error() == Errc::wire_invalid_proposal);
  CHECK(canonical_proposals(mutable_view(out), wide).error() == Errc::wire_invalid_proposal);
}

TEST_CASE("the largest list the limits allow builds and parses back") {
  const ProposalList list = largest_proposal_list();
  const ByteVector body = built(list);
  CHECK(canonical(parsed(body)) == canonical(list));
}

// ---- malformed SA bodies ----

TEST_CASE("an SA body shorter than one proposal header is malformed") {
  for (std::size_t size = 0; size < 8; ++size) {
    CHECK(parse_error(ByteVector(size, 0)) == Errc::wire_malformed_payload);
  }
  CHECK(parse_sa_payload(Bytes{nullptr, 8}).error() == Errc::wire_malformed_payload);
}

TEST_CASE("a proposal whose transform count disagrees with its bytes is malformed") {
  CHECK(parse_error(proposal(0, 1, 4, four_transforms())) == Errc::ok);
  for (const unsigned count : {0u, 1u, 3u, 5u, 32u}) {
    CAPTURE(count);
    CHECK(parse_error(proposal(0, 1, count, four_transforms())) == Errc::wire_malformed_payload);
  }
  // The count and bytes agree but the "last" flag comes early, or never.
  CHECK(parse_error(proposal(0, 1, 2, concat({transform_sub(0, 1, 12), transform_sub(0, 4, 14)}))) ==
        Errc::wire_malformed_payload);
  CHECK(parse_error(proposal(0, 1, 2, concat({transform_sub(3, 1, 12), transform_sub(3, 4, 14)}))) ==
        Errc::wire_malformed_payload);
}

TEST_CASE("a transform length under 8 is refused") {
  for (unsigned length = 0; length < 8; ++length) {
    CAPTURE(length);
    ByteVector t = transform_sub(0, 4, 14);
    t[2] = 0;
    t[3] = static_cast<std::uint8_t>(length);
    CHECK(parse_error(proposal(0, 1, 1, t)) == Errc::wire_bad_length);
  }
}

TEST_CASE("a transform length past its proposal is refused") {
  ByteVector t = transform_sub(0, 4, 14);
  t[3] = 9;
  CHECK(parse_error(proposal(0, 1, 1, t)) == Errc::wire_bad_length);
}

TEST_CASE("a proposal length under its header and SPI or past the body is refused") {
  ByteVector p = proposal(0, 1, 1, transform_sub(0, 4, 14), {1, 2, 3, 4});
  p[3] = 11;  // under 8 + SPI size 4
  CHECK(parse_error(p) == Errc::wire_bad_length);
  p[3] = 7;
  CHECK(parse_error(p) == Errc::wire_bad_length);
  p[3] = static_cast<std::uint8_t>(p.size() + 1);
  CHECK(parse_error(p) == Errc::wire_bad_length);
}

TEST_CASE("substructure flags other than last and more are malformed") {
  for (const unsigned flag : {1u, 3u, 0x80u}) {
    CAPTURE(flag);
    CHECK(parse_error(proposal(flag, 1, 4, four_transforms())) == Errc::wire_malformed_payload);
  }
  for (const unsigned flag : {1u, 2u}) {
    CAPTURE(flag);
    CHECK(parse_error(proposal(0, 1, 1, transform_sub(flag, 4, 14))) == Errc::wire_malformed_payload);
  }
}

TEST_CASE("a proposal chain must end with its last proposal at the end of the body") {
  // "more" and nothing follows.
  CHECK(parse_error(proposal(2, 1, 4, four_transforms())) == Errc::wire_truncated);
  // "last" and bytes follow.
  ByteVector p = proposal(0, 1, 4, four_transforms());
  p.push_back(0);
  CHECK(parse_error(p) == Errc::wire_bad_length);
}

TEST_CASE("more than max_proposals proposals or max_transforms transforms are refused") {
  ByteVector sixteen, seventeen;
  for (unsigned i = 0; i < 17; ++i) {
    const ByteVector t = transform_sub(0, 4, 14);
    if (i < 16) {
      const ByteVector p = proposal(i == 15 ? 0u : 2u, i + 1, 1, t);
      sixteen.insert(sixteen.end(), p.begin(), p.end());
    }
    const ByteVector p = proposal(i == 16 ? 0u : 2u, i + 1, 1, t);
    seventeen.insert(seventeen.end(), p.begin(), p.end());
  }
  CHECK(parsed(sixteen).count == 16);
  CHECK(parse_error(seventeen) == Errc::wire_too_many_payloads);

  const auto transforms = [](unsigned count) {
    ByteVector out;
    for (unsigned i = 0; i < count; ++i) {
      const ByteVector t = transform_sub(i + 1 == count ? 0u : 3u, 4, i);
      out.insert(out.end(), t.begin(), t.end());
    }
    return out;
  };
  CHECK(parsed(proposal(0, 1, 32, transforms(32))).proposals[0].transform_count == 32);
  CHECK(parse_error(proposal(0, 1, 33, transforms(33))) == Errc::wire_too_many_payloads);
}

TEST_CASE("transform attributes are walked: the Key Length is kept, others skipped, overruns refused") {
  // A TLV attribute of 3 bytes, then the Key Length.
  const ByteVector attrs = concat({Writer().u16(0x0011).u16(3).raw({1, 2, 3}).bytes, key_length(192)});
  const ProposalList list = parsed(proposal(0, 1, 1, transform_sub(0, 1, 12, attrs)));
  CHECK(transforms_of(list.proposals[0]) == std::vector<T>{{1, 12, 192}});

  // A TLV attribute whose length runs past the transform.
  CHECK(parse_error(proposal(0, 1, 1, transform_sub(0, 1, 12, Writer().u16(0x0011).u16(5).raw({1, 2, 3}).bytes))) ==
        Errc::wire_malformed_payload);
  // Half an attribute header.
  CHECK(parse_error(proposal(0, 1, 1, transform_sub(0, 1, 12, {0x80, 0x0e}))) == Errc::wire_malformed_payload);
  // The Key Length in TLV form, and twice.
  CHECK(parse_error(proposal(0, 1, 1, transform_sub(0, 1, 12, Writer().u16(0x000e).u16(2).u16(128).bytes))) ==
        Errc::wire_malformed_payload);
  CHECK(parse_error(proposal(0, 1, 1, transform_sub(0, 1, 12, concat({key_length(128), key_length(256)})))) ==
        Errc::wire_malformed_payload);
}

// ---- proposal text ----

TEST_CASE("the proposal text examples give exact transform lists") {
  const Proposal a = text("aes128-sha256-x25519");
  CHECK(a.number == 1);
  CHECK(a.protocol_id == 1);
  CHECK(transforms_of(a) == std::vector<T>{{1, 12, 128}, {2, 5, 0}, {3, 12, 0}, {4, 31, 0}});
  CHECK(transforms_of(text("aes256gcm16-prfsha384-ecp384")) ==
        std::vector<T>{{1, 20, 256}, {2, 6, 0}, {4, 20, 0}});
  CHECK(transforms_of(text("aes128-sha256-modp2048-x25519")) ==
        std::vector<T>{{1, 12, 128}, {2, 5, 0}, {3, 12, 0}, {4, 14, 0}, {4, 31, 0}});
}

TEST_CASE("every proposal keyword names its transform") {
  CHECK(transforms_of(text("aes192-sha1-modp1024")) ==
        std::vector<T>{{1, 12, 192}, {2, 2, 0}, {3, 2, 0}, {4, 2, 0}});
  CHECK(transforms_of(text("aes256-sha384-modp3072")) ==
        std::vector<T>{{1, 12, 256}, {2, 6, 0}, {3, 13, 0}, {4, 15, 0}});
  CHECK(transforms_of(text("aes256-sha512-ecp256")) ==
        std::vector<T>{{1, 12, 256}, {2, 7, 0}, {3, 14, 0}, {4, 19, 0}});
  CHECK(transforms_of(text("aes128gcm16-prfsha1-curve25519")) ==
        std::vector<T>{{1, 20, 128}, {2, 2, 0}, {4, 31, 0}});
  CHECK(transforms_of(text("aes128gcm16-prfsha256-prfsha512-x25519")) ==
        std::vector<T>{{1, 20, 128}, {2, 5, 0}, {2, 7, 0}, {4, 31, 0}});
}

TEST_CASE("the proposal text groups transforms by type and keeps the keywords' order within one") {
  CHECK(transforms_of(text("x25519-sha384-ecp256-aes256-sha256-aes128")) ==
        std::vector<T>{{1, 12, 256}, {1, 12, 128}, {2, 6, 0}, {2, 5, 0}, {3, 13, 0}, {3, 12, 0},
                       {4, 31, 0}, {4, 19, 0}});
}

TEST_CASE("an explicit PRF keyword replaces the PRFs the integrity keywords imply") {
  CHECK(transforms_of(text("aes128-sha256-prfsha512-ecp256")) ==
        std::vector<T>{{1, 12, 128}, {2, 7, 0}, {3, 12, 0}, {4, 19, 0}});
}

TEST_CASE("a repeated keyword adds its transform once") {
  CHECK(transforms_of(text("aes128-aes128-sha256-sha256-x25519-curve25519")) ==
        std::vector<T>{{1, 12, 128}, {2, 5, 0}, {3, 12, 0}, {4, 31, 0}});
}

TEST_CASE("proposal texts missing a transform type or naming unknown keywords are refused") {
  for (const char* bad : {"", "-", "aes128", "sha256-modp2048", "aes128-sha256", "aes128-modp2048",
                          "aes128-prfsha256-modp2048", "aes128gcm16-x25519",
                          "aes128gcm16-sha256-x25519", "aes128gcm16-sha256-prfsha256-x25519",
                          "aes128gcm16-aes128-prfsha256-x25519", "aes128-sha256-modp2048-",
                          "-aes128-sha256-modp2048", "aes128--sha256-modp2048", "AES128-sha256-modp2048",
                          "aes128-sha256-modp2048 ", "3des-sha1-modp1024", "aes192gcm16-prfsha256-x25519",
                          "aes128-sha256-modp2048-esn"}) {
    CAPTURE(bad);
    CHECK(parse_proposal_text(bad).error() == Errc::wire_invalid_proposal);
  }
}

TEST_CASE("a proposal text parses into an SA body that parses back to it") {
  for (const char* s : {"aes128-sha256-x25519", "aes256gcm16-prfsha384-ecp384",
                        "aes128-sha256-modp2048-x25519", "aes192-sha1-sha512-modp3072-ecp384"}) {
    CAPTURE(s);
    const ProposalList list = list_of({text(s)});
    const ProposalList back = parsed(built(list));
    REQUIRE(back.count == 1);
    CHECK(transforms_of(back.proposals[0]) == transforms_of(list.proposals[0]));
    CHECK(canonical(back) == canonical(list));
  }
}
