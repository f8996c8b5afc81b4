// SPDX-License-Identifier: MIT
// The IKEv2 codec against strongSwan 5.9.8's packets, malformed input, and its own builders.
#include "wire_support.hpp"

using namespace ikeguard;
using namespace ikeguard::wire;
using namespace ikeguard::test;

namespace {

const char* const no_proposal_chosen_pcap = "strongswan-ikev2-NO_PROPOSAL_CHOSEN.pcap";
const char* const invalid_ke_pcap = "strongswan-ikev2-INVALID_KE_PAYLOAD.pcap";
const char* const retransmits_pcap = "strongswan-ikev2-retransmits.pcap";

Ikev2Message parsed(const Datagram& d) {
  const Result<Ikev2Message> r = parse_ikev2(d.bytes());
  REQUIRE(r.error() == Errc::ok);
  return r.value();
}

Ikev2Message parsed(const ByteVector& bytes) {
  const Result<Ikev2Message> r = parse_ikev2(view(bytes));
  REQUIRE(r.error() == Errc::ok);
  return r.value();
}

// The result views the bytes: they must outlive it.
Ikev2Message parsed(ByteVector&&) = delete;

Errc parse_error(const ByteVector& bytes) { return parse_ikev2(view(bytes)).error(); }

std::vector<std::uint16_t> notify_types(const Ikev2Message& m) {
  std::vector<std::uint16_t> types;
  for (std::size_t i = 0; i < m.notify_count; ++i) types.push_back(m.notifies[i].type);
  return types;
}

/// A Notify payload body: protocol ID, SPI size, type, SPI, data.
ByteVector notify_body(std::uint16_t type, const ByteVector& data = {}, const ByteVector& spi = {},
                       std::uint8_t protocol = 0) {
  Writer w;
  w.u8(protocol).u8(static_cast<unsigned>(spi.size())).u16(type).raw(spi).raw(data);
  return w.bytes;
}

ByteVector nonce_body() { return ByteVector(32, 0xab); }

/// `count` payloads of type `type`, chained, the last one ending the chain.
ByteVector chain_of(std::size_t count, std::uint8_t type, const ByteVector& body) {
  ByteVector out;
  for (std::size_t i = 0; i < count; ++i) {
    const ByteVector p = payload(i + 1 == count ? 0u : type, body);
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

/// Builds a message with `build` into a buffer of `size` bytes.
template <class Build>
Result<std::size_t> build_into(std::size_t size, Build&& build) {
  ByteVector out(size);
  return build(MutableBytes{out.data(), out.size()});
}

}  // namespace

// ---- strongSwan's packets ----

TEST_CASE("strongSwan's IKE_SA_INIT request parses with its SPIs, flags and payloads") {
  const Ikev2Message m = parsed(capture(no_proposal_chosen_pcap).at(0));
  CHECK(m.initiator_spi == 0x2f71fb116011d944ULL);
  CHECK(m.responder_spi == 0);
  CHECK(m.first_payload == payload_v2::sa);
  CHECK(m.exchange_type == exchange_v2::ike_sa_init);
  CHECK(m.flags == flags_v2::initiator);
  CHECK(m.is_initiator());
  CHECK_FALSE(m.is_response());
  CHECK(m.message_id == 0);
  CHECK(m.length == 464);
  CHECK(m.payload_count == 8);  // SA, KE, Ni and five notifies
  CHECK_FALSE(m.encrypted);
  CHECK(m.sa.size == 44);
  CHECK(m.ke.size == 260);
  CHECK(m.nonce.size == 32);
  CHECK(m.ke_group() == std::optional<std::uint16_t>(transform_id::dh_modp2048));
  CHECK(notify_types(m) == std::vector<std::uint16_t>{16388, 16389, 16430, 16431, 16406});
  CHECK(m.notifies_seen == 5);
  CHECK(to_vector(m.notifies[0].data) ==
        ByteVector{0x2d, 0xa6, 0xd1, 0xf2, 0x2f, 0x0e, 0xea, 0x91, 0x96, 0xd6,
                   0x1e, 0xe6, 0xa2, 0xc9, 0xc2, 0xad, 0xa7, 0xfb, 0x4d, 0x17});
  CHECK(m.notifies[1].data.size == 20);
  CHECK(to_vector(m.notifies[3].data) == ByteVector{0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00, 0x05});
  for (std::size_t i = 0; i < m.notify_count; ++i) {
    CHECK(m.notifies[i].protocol_id == 0);
    CHECK(m.notifies[i].spi.empty());
  }
  CHECK_FALSE(m.error_notice().has_value());
}

TEST_CASE("strongSwan's NO_PROPOSAL_CHOSEN answer gives the notice for the initiator's SPI") {
  const Ikev2Message m = parsed(capture(no_proposal_chosen_pcap).at(1));
  CHECK(m.initiator_spi == 0x2f71fb116011d944ULL);
  CHECK(m.responder_spi == 0);
  CHECK(m.first_payload == payload_v2::notify);
  CHECK(m.exchange_type == exchange_v2::ike_sa_init);
  CHECK(m.flags == flags_v2::response);
  CHECK(m.is_response());
  CHECK_FALSE(m.is_initiator());
  CHECK(m.message_id == 0);
  CHECK(m.length == 36);
  CHECK(m.payload_count == 1);
  REQUIRE(m.notify_count == 1);
  CHECK(m.notifies[0].type == notify_v2::no_proposal_chosen);
  CHECK(m.notifies[0].protocol_id == 0);
  CHECK(m.notifies[0].spi.empty());
  CHECK(m.notifies[0].data.empty());
  CHECK_FALSE(m.ke_group().has_value());
  const std::optional<Notice> notice = m.error_notice();
  REQUIRE(notice.has_value());
  CHECK(notice->version == IkeVersion::v2);
  CHECK(notice->type == 14);
  CHECK(notice->initiator_spi == 0x2f71fb116011d944ULL);
  CHECK(notice->responder_spi == 0);
  CHECK(notice->message_id == 0);
}

TEST_CASE("strongSwan's INVALID_KE_PAYLOAD answer names ecp384 in its two data bytes") {
  const auto& packets = capture(invalid_ke_pcap);
  REQUIRE(packets.size() == 10);
  const Ikev2Message request = parsed(packets.at(0));
  CHECK(request.initiator_spi == 0x91f2762b3de200e8ULL);
  CHECK(request.ke_group() == std::optional<std::uint16_t>(transform_id::dh_ecp256));
  CHECK(request.ke.size == 4 + 64);

  const Ikev2Message answer = parsed(packets.at(1));
  CHECK(answer.initiator_spi == 0x91f2762b3de200e8ULL);
  CHECK(answer.responder_spi == 0);
  CHECK(answer.exchange_type == exchange_v2::ike_sa_init);
  CHECK(answer.flags == flags_v2::response);
  CHECK(answer.length == 38);
  REQUIRE(answer.notify_count == 1);
  CHECK(answer.notifies[0].type == notify_v2::invalid_ke_payload);
  CHECK(to_vector(answer.notifies[0].data) == ByteVector{0x00, 0x14});
  CHECK(((answer.notifies[0].data.data[0] << 8) | answer.notifies[0].data.data[1]) ==
        transform_id::dh_ecp384);
  const std::optional<Notice> notice = answer.error_notice();
  REQUIRE(notice.has_value());
  CHECK(notice->type == 17);
  CHECK(notice->initiator_spi == 0x91f2762b3de200e8ULL);

  const Ikev2Message retry = parsed(packets.at(2));
  CHECK(retry.initiator_spi == 0x91f2762b3de200e8ULL);
  CHECK(retry.ke_group() == std::optional<std::uint16_t>(transform_id::dh_ecp384));
  CHECK(retry.ke.size == 4 + 96);
  CHECK(retry.length == 312);
}

TEST_CASE("strongSwan's IKE_SA_INIT response carries the responder SPI and the chosen group") {
  const Ikev2Message m = parsed(capture(invalid_ke_pcap).at(3));
  CHECK(m.initiator_spi == 0x91f2762b3de200e8ULL);
  CHECK(m.responder_spi == 0x719e3e3ef688bb77ULL);
  CHECK(m.exchange_type == exchange_v2::ike_sa_init);
  CHECK(m.flags == flags_v2::response);
  CHECK(m.payload_count == 9);
  CHECK(m.ke_group() == std::optional<std::uint16_t>(transform_id::dh_ecp384));
  CHECK(notify_types(m) == std::vector<std::uint16_t>{16388, 16389, 16430, 16431, 16418, 16404});
  CHECK_FALSE(m.error_notice().has_value());
}

TEST_CASE("IKE_AUTH and INFORMATIONAL messages over port 4500 end at their SK payload") {
  const auto& packets = capture(invalid_ke_pcap);
  struct Expected {
    std::size_t index;
    std::uint8_t exchange;
    std::uint8_t flags;
    std::uint32_t message_id;
    std::uint32_t length;
  };
  const Expected expected[] = {
      {4, exchange_v2::ike_auth, 0x08, 1, 328},      {5, exchange_v2::ike_auth, 0x20, 1, 184},
      {6, exchange_v2::informational, 0x00, 0, 88},  {7, exchange_v2::informational, 0x28, 0, 88},
      {8, exchange_v2::informational, 0x08, 2, 88},  {9, exchange_v2::informational, 0x20, 2, 88},
  };
  for (const Expected& e : expected) {
    CAPTURE(e.index);
    const Datagram& d = packets.at(e.index);
    CHECK((d.source_port == 4500 && d.destination_port == 4500));
    const Ikev2Message m = parsed(d);
    CHECK(m.initiator_spi == 0x91f2762b3de200e8ULL);
    CHECK(m.responder_spi == 0x719e3e3ef688bb77ULL);
    CHECK(m.first_payload == payload_v2::encrypted);
    CHECK(m.exchange_type == e.exchange);
    CHECK(m.flags == e.flags);
    CHECK(m.message_id == e.message_id);
    CHECK(m.length == e.length);
    CHECK(m.encrypted);
    CHECK(m.payload_count == 1);
    CHECK(m.notifies_seen == 0);
    CHECK_FALSE(m.error_notice().has_value());
  }
}

TEST_CASE("retransmitted IKE_SA_INIT requests are byte-identical within one attempt") {
  const auto& packets = capture(retransmits_pcap);
  REQUIRE(packets.size() == 12);
  for (std::size_t i = 0; i < packets.size(); ++i) {
    CAPTURE(i);
    const Ikev2Message m = parsed(packets[i]);
    CHECK(m.initiator_spi == (i < 6 ? 0x3991ff670ee5e858ULL : 0x535c4aa1eda87d48ULL));
    CHECK(m.exchange_type == exchange_v2::ike_sa_init);
    CHECK(m.flags == flags_v2::initiator);
    CHECK(m.message_id == 0);
    CHECK(m.length == 464);
    CHECK(packets[i].payload == packets[i < 6 ? 0 : 6].payload);
  }
  CHECK(packets[0].payload != packets[6].payload);
}

TEST_CASE("every truncation of every captured message is refused as truncated") {
  for (const std::string& file : capture_files()) {
    for (const Datagram& d : capture(file)) {
      for (std::size_t size = 0; size < d.payload.size(); ++size) {
        CAPTURE(file, d.payload.size(), size);
        const Result<Ikev2Message> r = parse_ikev2(Bytes{d.payload.data(), size});
        // IKEv1 messages fail on their version once the header is complete.
        const bool v1 = d.payload[17] == 0x10;
        CHECK(r.error() == (v1 && size >= ike_header_size ? Errc::wire_bad_version : Errc::wire_truncated));
      }
    }
  }
}

TEST_CASE("a captured message with one byte more than its header length is refused") {
  ByteVector bytes = capture(no_proposal_chosen_pcap).at(0).payload;
  bytes.push_back(0);
  CHECK(parse_error(bytes) == Errc::wire_bad_length);
}

// ---- malformed input ----

TEST_CASE("an empty or absent message is truncated") {
  CHECK(parse_ikev2(Bytes{}).error() == Errc::wire_truncated);
  CHECK(parse_ikev2(Bytes{nullptr, 40}).error() == Errc::wire_truncated);
}

TEST_CASE("a header-only message with no payloads parses") {
  const ByteVector bytes = message(0x20, 0, {});
  const Ikev2Message m = parsed(bytes);
  CHECK(m.payload_count == 0);
  CHECK(m.length == 28);
  CHECK(m.initiator_spi == 0x1122334455667788ULL);
}

TEST_CASE("a major version other than 2 is refused and the minor version is ignored") {
  CHECK(parse_error(message(0x10, 0, {})) == Errc::wire_bad_version);
  CHECK(parse_error(message(0x30, 0, {})) == Errc::wire_bad_version);
  CHECK(parse_error(message(0x00, 0, {})) == Errc::wire_bad_version);
  CHECK(parse_error(message(0x21, 0, {})) == Errc::ok);
}

TEST_CASE("a header length other than the datagram's size is refused") {
  const ByteVector body = payload(0, nonce_body());
  CHECK(parse_error(message(0x20, 40, body, 34, 8, 0, 28 + 36 + 1)) == Errc::wire_truncated);
  CHECK(parse_error(message(0x20, 40, body, 34, 8, 0, 0xffffffff)) == Errc::wire_truncated);
  CHECK(parse_error(message(0x20, 40, body, 34, 8, 0, 28 + 36 - 1)) == Errc::wire_bad_length);
  CHECK(parse_error(message(0x20, 0, {}, 34, 8, 0, 27)) == Errc::wire_bad_length);
  CHECK(parse_error(message(0x20, 0, {}, 34, 8, 0, 0)) == Errc::wire_bad_length);
}

TEST_CASE("a payload length of 0 to 3 is refused") {
  for (unsigned length = 0; length < 4; ++length) {
    CAPTURE(length);
    Writer w;
    w.u8(0).u8(0).u16(length).zeros(4);
    CHECK(parse_error(message(0x20, payload_v2::nonce, w.bytes)) == Errc::wire_bad_length);
  }
}

TEST_CASE("a payload length past the end of the message is refused") {
  ByteVector p = payload(0, nonce_body());
  p[3] = static_cast<std::uint8_t>(p[3] + 1);
  CHECK(parse_error(message(0x20, payload_v2::nonce, p)) == Errc::wire_bad_length);
  p[2] = 0xff;
  p[3] = 0xff;
  CHECK(parse_error(message(0x20, payload_v2::nonce, p)) == Errc::wire_bad_length);
}

TEST_CASE("a payload chain that announces a payload past the end is truncated") {
  // The Nonce names a Notify as next, and the message ends.
  CHECK(parse_error(message(0x20, payload_v2::nonce, payload(payload_v2::notify, nonce_body()))) ==
        Errc::wire_truncated);
  // Only part of the next generic header is there.
  ByteVector p = payload(payload_v2::notify, nonce_body());
  p.push_back(0);
  p.push_back(0);
  CHECK(parse_error(message(0x20, payload_v2::nonce, p)) == Errc::wire_truncated);
}

TEST_CASE("a payload chain that ends before the message does is refused") {
  ByteVector p = payload(0, nonce_body());
  p.insert(p.end(), 8, 0);
  CHECK(parse_error(message(0x20, payload_v2::nonce, p)) == Errc::wire_bad_length);
  CHECK(parse_error(message(0x20, 0, ByteVector(4, 0))) == Errc::wire_bad_length);
}

TEST_CASE("max_payloads payloads parse and one more is refused") {
  const ByteVector bytes =
      message(0x20, payload_v2::vendor_id, chain_of(max_payloads, payload_v2::vendor_id, {1, 2, 3}));
  const Ikev2Message m = parsed(bytes);
  CHECK(m.payload_count == 64);
  CHECK(parse_error(message(0x20, payload_v2::vendor_id,
                            chain_of(max_payloads + 1, payload_v2::vendor_id, {1, 2, 3}))) ==
        Errc::wire_too_many_payloads);
}

TEST_CASE("an unknown payload marked critical is refused") {
  CHECK(parse_error(message(0x20, 200, payload(0, {1, 2, 3, 4}, 0x80))) ==
        Errc::wire_unknown_critical_payload);
  CHECK(parse_error(message(0x20, 49, payload(0, {}, 0x80))) == Errc::wire_unknown_critical_payload);
  CHECK(parse_error(message(0x20, 1, payload(0, {}, 0xff))) == Errc::wire_unknown_critical_payload);
}

TEST_CASE("an unknown payload without the critical bit is skipped") {
  ByteVector payloads = payload(payload_v2::notify, {9, 9, 9}, 0x7f);
  const ByteVector n = payload(0, notify_body(notify_v2::no_proposal_chosen));
  payloads.insert(payloads.end(), n.begin(), n.end());
  const ByteVector bytes = message(0x20, 200, payloads);
  const Ikev2Message m = parsed(bytes);
  CHECK(m.payload_count == 2);
  REQUIRE(m.notify_count == 1);
  CHECK(m.notifies[0].type == notify_v2::no_proposal_chosen);
}

TEST_CASE("a known payload marked critical is parsed as usual") {
  const ByteVector bytes = message(0x20, payload_v2::nonce, payload(0, nonce_body(), 0x80));
  const Ikev2Message m = parsed(bytes);
  CHECK(m.nonce.size == 32);
}

TEST_CASE("a Notify body shorter than its fixed part and SPI is malformed") {
  for (std::size_t size = 0; size < 4; ++size) {
    CAPTURE(size);
    CHECK(parse_error(message(0x20, payload_v2::notify, payload(0, ByteVector(size, 0)))) ==
          Errc::wire_malformed_payload);
  }
  ByteVector body = notify_body(notify_v2::invalid_spi, {}, {1, 2, 3, 4}, 3);
  body.pop_back();  // SPI size 4, three bytes of SPI
  CHECK(parse_error(message(0x20, payload_v2::notify, payload(0, body))) ==
        Errc::wire_malformed_payload);
  CHECK(parse_error(message(0x20, payload_v2::notify, payload(0, {0, 0xff, 0, 11}))) ==
        Errc::wire_malformed_payload);
}

TEST_CASE("a Notify with an SPI separates the SPI from the data") {
  const ByteVector bytes = message(
      0x20, payload_v2::notify, payload(0, notify_body(notify_v2::invalid_spi, {7, 8}, {1, 2, 3, 4}, 3)));
  const Ikev2Message m = parsed(bytes);
  REQUIRE(m.notify_count == 1);
  CHECK(m.notifies[0].protocol_id == 3);
  CHECK(m.notifies[0].type == notify_v2::invalid_spi);
  CHECK(to_vector(m.notifies[0].spi) == ByteVector{1, 2, 3, 4});
  CHECK(to_vector(m.notifies[0].data) == ByteVector{7, 8});
}

TEST_CASE("a KE body under 4 bytes or an SA body under 8 bytes is malformed") {
  for (std::size_t size = 0; size < 4; ++size) {
    CAPTURE(size);
    CHECK(parse_error(message(0x20, payload_v2::ke, payload(0, ByteVector(size, 0)))) ==
          Errc::wire_malformed_payload);
  }
  for (std::size_t size = 0; size < 8; ++size) {
    CAPTURE(size);
    CHECK(parse_error(message(0x20, payload_v2::sa, payload(0, ByteVector(size, 0)))) ==
          Errc::wire_malformed_payload);
  }
  const ByteVector bytes = message(0x20, payload_v2::ke, payload(0, {0, 31, 0, 0}));
  const Ikev2Message m = parsed(bytes);
  CHECK(m.ke_group() == std::optional<std::uint16_t>(31));
  CHECK(m.ke.size == 4);
}

TEST_CASE("only the first SA, KE and Nonce are kept, and later ones are still checked") {
  ByteVector payloads = payload(payload_v2::ke, {0, 19, 0, 0, 1});
  const ByteVector second = payload(0, {0, 20, 0, 0, 2, 2});
  payloads.insert(payloads.end(), second.begin(), second.end());
  const ByteVector bytes = message(0x20, payload_v2::ke, payloads);
  const Ikev2Message m = parsed(bytes);
  CHECK(m.ke_group() == std::optional<std::uint16_t>(19));
  CHECK(m.ke.size == 5);

  ByteVector bad = payload(payload_v2::ke, {0, 19, 0, 0});
  const ByteVector short_ke = payload(0, {0, 20});
  bad.insert(bad.end(), short_ke.begin(), short_ke.end());
  CHECK(parse_error(message(0x20, payload_v2::ke, bad)) == Errc::wire_malformed_payload);
}

TEST_CASE("notifies past max_notifies are counted but not kept") {
  const ByteVector bytes =
      message(0x20, payload_v2::notify, chain_of(20, payload_v2::notify, notify_body(16388)));
  const Ikev2Message m = parsed(bytes);
  CHECK(m.notify_count == max_notifies);
  CHECK(m.notifies_seen == 20);
  CHECK(m.payload_count == 20);
}

TEST_CASE("error_notice skips status notifies and takes the first error type") {
  ByteVector payloads = payload(payload_v2::notify, notify_body(notify_v2::cookie, {1, 2, 3, 4}));
  for (const std::uint16_t type : {notify_v2::authentication_failed, notify_v2::no_proposal_chosen}) {
    const ByteVector p = payload(type == notify_v2::no_proposal_chosen ? 0u : payload_v2::notify,
                                 notify_body(type));
    payloads.insert(payloads.end(), p.begin(), p.end());
  }
  const ByteVector bytes = message(0x20, payload_v2::notify, payloads, exchange_v2::ike_auth, 0x20, 7);
  const std::optional<Notice> notice = parsed(bytes).error_notice();
  REQUIRE(notice.has_value());
  CHECK(notice->type == notify_v2::authentication_failed);
  CHECK(notice->message_id == 7);
  CHECK(notice->initiator_spi == 0x1122334455667788ULL);
  CHECK(notice->responder_spi == 0);
}

TEST_CASE("an SK payload ends the chain whatever its next payload names") {
  ByteVector sk = payload(payload_v2::idi, ByteVector(40, 0x5a));  // "IDi" inside: not parsed
  ByteVector payloads = payload(payload_v2::encrypted, notify_body(16430));
  payloads.insert(payloads.end(), sk.begin(), sk.end());
  const ByteVector bytes = message(0x20, payload_v2::notify, payloads, exchange_v2::ike_auth);
  const Ikev2Message m = parsed(bytes);
  CHECK(m.encrypted);
  CHECK(m.payload_count == 2);
  CHECK(m.notifies_seen == 1);
  const ByteVector skf = message(0x20, payload_v2::encrypted_fragment, payload(payload_v2::idi, {1, 2, 3, 4}));
  CHECK(parsed(skf).encrypted);
}

TEST_CASE("an SK payload that is not the last one in the message is refused") {
  ByteVector payloads = payload(payload_v2::idi, ByteVector(16, 0));
  const ByteVector trailing = payload(0, nonce_body());
  payloads.insert(payloads.end(), trailing.begin(), trailing.end());
  CHECK(parse_error(message(0x20, payload_v2::encrypted, payloads)) == Errc::wire_bad_length);
}

// ---- builders ----

TEST_CASE("build_ike_sa_init_error reproduces strongSwan's INVALID_KE_PAYLOAD answer byte for byte") {
  const Datagram& answer = capture(invalid_ke_pcap).at(1);
  ByteVector out(64);
  const std::uint8_t group[] = {0x00, 0x14};
  const Result<std::size_t> n = build_ike_sa_init_error(mutable_view(out), 0x91f2762b3de200e8ULL,
                                                        notify_v2::invalid_ke_payload, Bytes{group, 2});
  REQUIRE(n.error() == Errc::ok);
  out.resize(n.value());
  CHECK(out == answer.payload);
}

TEST_CASE("build_ike_sa_init_error reproduces strongSwan's NO_PROPOSAL_CHOSEN answer byte for byte") {
  ByteVector out(36);
  const Result<std::size_t> n =
      build_ike_sa_init_error(mutable_view(out), 0x2f71fb116011d944ULL, notify_v2::no_proposal_chosen);
  REQUIRE(n.error() == Errc::ok);
  CHECK(n.value() == 36);
  CHECK(out == capture(no_proposal_chosen_pcap).at(1).payload);
}

TEST_CASE("build_ike_sa_init_error parses back as a responder's IKE_SA_INIT with one Notify") {
  ByteVector out(100);
  const ByteVector data = {0xde, 0xad, 0xbe, 0xef, 0x01};
  const Result<std::size_t> n =
      build_ike_sa_init_error(mutable_view(out), 0x0123456789abcdefULL, 24, view(data));
  REQUIRE(n.error() == Errc::ok);
  CHECK(n.value() == 28 + 8 + 5);
  out.resize(n.value());
  const Ikev2Message m = parsed(out);
  CHECK(m.initiator_spi == 0x0123456789abcdefULL);
  CHECK(m.responder_spi == 0);
  CHECK(m.first_payload == payload_v2::notify);
  CHECK(out[17] == 0x20);
  CHECK(m.exchange_type == exchange_v2::ike_sa_init);
  CHECK(m.flags == flags_v2::response);
  CHECK(m.message_id == 0);
  CHECK(m.length == 41);
  CHECK(m.payload_count == 1);
  REQUIRE(m.notify_count == 1);
  CHECK(m.notifies[0].protocol_id == 0);
  CHECK(m.notifies[0].spi.empty());
  CHECK(m.notifies[0].type == 24);
  CHECK(to_vector(m.notifies[0].data) == data);
}

TEST_CASE("build_informational_notify sets the I flag only when sent by the initiator") {
  for (const bool from_initiator : {true, false}) {
    CAPTURE(from_initiator);
    ByteVector out(64);
    const ByteVector data = {1, 2};
    const Result<std::size_t> n =
        build_informational_notify(mutable_view(out), 0xaaaaaaaabbbbbbbbULL, 0xccccccccddddddddULL,
                                   0x01020304, from_initiator, notify_v2::invalid_syntax, view(data));
    REQUIRE(n.error() == Errc::ok);
    CHECK(n.value() == 38);
    out.resize(n.value());
    const Ikev2Message m = parsed(out);
    CHECK(m.initiator_spi == 0xaaaaaaaabbbbbbbbULL);
    CHECK(m.responder_spi == 0xccccccccddddddddULL);
    CHECK(m.exchange_type == exchange_v2::informational);
    CHECK(m.flags == (from_initiator ? 0x08 : 0x00));
    CHECK_FALSE(m.is_response());
    CHECK(m.message_id == 0x01020304);
    REQUIRE(m.notify_count == 1);
    CHECK(m.notifies[0].type == notify_v2::invalid_syntax);
    CHECK(to_vector(m.notifies[0].data) == data);
    const std::optional<Notice> notice = m.error_notice();
    REQUIRE(notice.has_value());
    CHECK(notice->responder_spi == 0xccccccccddddddddULL);
    CHECK(notice->message_id == 0x01020304);
  }
}

TEST_CASE("the one-Notify builders refuse every buffer smaller than the message") {
  const ByteVector data = {5, 6, 7};
  for (std::size_t size = 0; size < 39; ++size) {
    CAPTURE(size);
    CHECK(build_into(size, [&](MutableBytes out) {
            return build_ike_sa_init_error(out, 1, 14, view(data));
          }).error() == Errc::wire_buffer_too_small);
    CHECK(build_into(size, [&](MutableBytes out) {
            return build_informational_notify(out, 1, 2, 3, true, 14, view(data));
          }).error() == Errc::wire_buffer_too_small);
  }
  CHECK(build_into(39, [&](MutableBytes out) { return build_ike_sa_init_error(out, 1, 14, view(data)); })
            .value() == 39);
  CHECK(build_into(39, [&](MutableBytes out) {
          return build_informational_notify(out, 1, 2, 3, true, 14, view(data));
        }).value() == 39);
  CHECK(build_ike_sa_init_error(MutableBytes{nullptr, 100}, 1, 14).error() == Errc::wire_buffer_too_small);
}

TEST_CASE("notify data too large for one payload is refused") {
  const ByteVector largest(65535 - 8, 0x11);
  ByteVector out(28 + 65535);
  CHECK(build_ike_sa_init_error(mutable_view(out), 1, 14, view(largest)).value() == 28 + 65535);
  const ByteVector too_large(65535 - 7, 0x11);
  CHECK(build_ike_sa_init_error(mutable_view(out), 1, 14, view(too_large)).error() ==
        Errc::wire_bad_length);
  CHECK(build_informational_notify(mutable_view(out), 1, 2, 3, false, 14, view(too_large)).error() ==
        Errc::wire_bad_length);
}

namespace {

struct SaInitParts {
  ByteVector sa;
  ByteVector ke = ByteVector(64, 0x42);
  ByteVector nonce = ByteVector(32, 0x17);
  ByteVector nat_source = ByteVector(20, 0xa1);
  ByteVector nat_destination = ByteVector(20, 0xb2);

  SaInitParts() {
    const Result<Proposal> proposal = parse_proposal_text("aes128-sha256-ecp256");
    REQUIRE(proposal.ok());
    ProposalList list;
    list.proposals[0] = proposal.value();
    list.count = 1;
    sa.resize(256);
    const Result<std::size_t> n = build_sa_payload_body(mutable_view(sa), list);
    REQUIRE(n.ok());
    sa.resize(n.value());
  }

  IkeSaInitMessage request() const {
    IkeSaInitMessage r;
    r.initiator_spi = 0xfedcba9876543210ULL;
    r.sa_payload_body = view(sa);
    r.ke_group = transform_id::dh_ecp256;
    r.ke_data = view(ke);
    r.nonce = view(nonce);
    r.nat_source = view(nat_source);
    r.nat_destination = view(nat_destination);
    return r;
  }
};

}  // namespace

TEST_CASE("build_ike_sa_init parses back with SA, KE, Nonce and both NAT notifies") {
  const SaInitParts parts;
  ByteVector out(1024);
  const Result<std::size_t> n = build_ike_sa_init(mutable_view(out), parts.request());
  REQUIRE(n.error() == Errc::ok);
  const std::size_t expected = 28 + (4 + parts.sa.size()) + (8 + 64) + (4 + 32) + 2 * (8 + 20);
  CHECK(n.value() == expected);
  out.resize(n.value());
  const Ikev2Message m = parsed(out);
  CHECK(m.initiator_spi == 0xfedcba9876543210ULL);
  CHECK(m.responder_spi == 0);
  CHECK(m.first_payload == payload_v2::sa);
  CHECK(out[17] == 0x20);
  CHECK(m.exchange_type == exchange_v2::ike_sa_init);
  CHECK(m.flags == flags_v2::initiator);
  CHECK(m.message_id == 0);
  CHECK(m.payload_count == 5);
  CHECK(to_vector(m.sa) == parts.sa);
  CHECK(m.ke_group() == std::optional<std::uint16_t>(transform_id::dh_ecp256));
  CHECK(to_vector(Bytes{m.ke.data + 4, m.ke.size - 4}) == parts.ke);
  CHECK(to_vector(m.nonce) == parts.nonce);
  CHECK(notify_types(m) == std::vector<std::uint16_t>{16388, 16389});
  CHECK(to_vector(m.notifies[0].data) == parts.nat_source);
  CHECK(to_vector(m.notifies[1].data) == parts.nat_destination);
  // The payload chain in order: SA -> KE -> Nonce -> N -> N -> none.
  const std::size_t sa_at = 28, ke_at = sa_at + 4 + parts.sa.size(), nonce_at = ke_at + 72;
  CHECK(out[sa_at] == payload_v2::ke);
  CHECK(out[ke_at] == payload_v2::nonce);
  CHECK(out[nonce_at] == payload_v2::notify);
  CHECK(out[nonce_at + 36] == payload_v2::notify);
  CHECK(out[nonce_at + 36 + 28] == payload_v2::none);
}

TEST_CASE("build_ike_sa_init leaves out empty NAT detection data") {
  const SaInitParts parts;
  IkeSaInitMessage request = parts.request();
  request.nat_source = {};
  request.nat_destination = {};
  ByteVector out(1024);
  const Result<std::size_t> n = build_ike_sa_init(mutable_view(out), request);
  REQUIRE(n.ok());
  out.resize(n.value());
  const Ikev2Message m = parsed(out);
  CHECK(m.payload_count == 3);
  CHECK(m.notifies_seen == 0);
  CHECK(out[28 + 4 + parts.sa.size() + 72] == payload_v2::none);

  request.nat_destination = view(parts.nat_destination);
  out.assign(1024, 0);
  const Result<std::size_t> one = build_ike_sa_init(mutable_view(out), request);
  REQUIRE(one.ok());
  out.resize(one.value());
  CHECK(notify_types(parsed(out)) == std::vector<std::uint16_t>{16389});
}

TEST_CASE("build_ike_sa_init rebuilds strongSwan's request up to its NAT detection notifies") {
  const Datagram& captured = capture(no_proposal_chosen_pcap).at(0);
  const Ikev2Message original = parsed(captured);
  IkeSaInitMessage request;
  request.initiator_spi = original.initiator_spi;
  request.sa_payload_body = original.sa;
  request.ke_group = original.ke_group().value_or(0);
  request.ke_data = Bytes{original.ke.data + 4, original.ke.size - 4};
  request.nonce = original.nonce;
  request.nat_source = original.notifies[0].data;
  request.nat_destination = original.notifies[1].data;
  ByteVector out(1024);
  const Result<std::size_t> n = build_ike_sa_init(mutable_view(out), request);
  REQUIRE(n.ok());
  REQUIRE(n.value() == 28 + 48 + 264 + 36 + 28 + 28);
  out.resize(n.value());
  // The header up to the length, which counts strongSwan's three further notifies.
  CHECK(ByteVector(out.begin(), out.begin() + 24) ==
        ByteVector(captured.payload.begin(), captured.payload.begin() + 24));
  // Every payload byte but the last notify's next-payload field.
  const std::size_t last_notify_at = n.value() - 28;
  CHECK(ByteVector(out.begin() + 28, out.begin() + static_cast<std::ptrdiff_t>(last_notify_at)) ==
        ByteVector(captured.payload.begin() + 28,
                   captured.payload.begin() + static_cast<std::ptrdiff_t>(last_notify_at)));
  CHECK(ByteVector(out.begin() + static_cast<std::ptrdiff_t>(last_notify_at) + 1, out.end()) ==
        ByteVector(captured.payload.begin() + static_cast<std::ptrdiff_t>(last_notify_at) + 1,
                   captured.payload.begin() + static_cast<std::ptrdiff_t>(n.value())));
  CHECK(out[last_notify_at] == payload_v2::none);
  CHECK(captured.payload[last_notify_at] == payload_v2::notify);
}

TEST_CASE("build_ike_sa_init refuses every buffer smaller than the message") {
  const SaInitParts parts;
  const IkeSaInitMessage request = parts.request();
  const std::size_t needed = 28 + (4 + parts.sa.size()) + 72 + 36 + 56;
  for (std::size_t size = 0; size < needed; ++size) {
    CAPTURE(size);
    CHECK(build_into(size, [&](MutableBytes out) { return build_ike_sa_init(out, request); })
              .error() == Errc::wire_buffer_too_small);
  }
  CHECK(build_into(needed, [&](MutableBytes out) { return build_ike_sa_init(out, request); })
            .value() == needed);
}

TEST_CASE("build_ike_sa_init refuses parts a responder could not accept") {
  const SaInitParts parts;
  ByteVector out(2048);
  const auto refused = [&](const IkeSaInitMessage& r) {
    return build_ike_sa_init(mutable_view(out), r).error();
  };
  for (const std::size_t size : {std::size_t{0}, std::size_t{15}, std::size_t{257}}) {
    CAPTURE(size);
    const ByteVector nonce(size, 1);
    IkeSaInitMessage r = parts.request();
    r.nonce = view(nonce);
    CHECK(refused(r) == Errc::wire_malformed_payload);
  }
  for (const std::size_t size : {std::size_t{16}, std::size_t{256}}) {
    const ByteVector nonce(size, 1);
    IkeSaInitMessage r = parts.request();
    r.nonce = view(nonce);
    CHECK(refused(r) == Errc::ok);
  }
  const ByteVector nineteen(19, 0);
  IkeSaInitMessage r = parts.request();
  r.nat_source = view(nineteen);
  CHECK(refused(r) == Errc::wire_malformed_payload);
  r = parts.request();
  r.nat_destination = view(nineteen);
  CHECK(refused(r) == Errc::wire_malformed_payload);
  r = parts.request();
  r.ke_data = {};
  CHECK(refused(r) == Errc::wire_malformed_payload);
  r = parts.request();
  r.sa_payload_body = {};
  CHECK(refused(r) == Errc::wire_malformed_payload);
  const ByteVector bad_sa = {2, 0, 0, 8, 1, 1, 0, 0};  // "more proposals", and none follows
  r = parts.request();
  r.sa_payload_body = view(bad_sa);
  CHECK(refused(r) == Errc::wire_malformed_payload);
  r = parts.request();
  r.nonce = Bytes{nullptr, 32};
  CHECK(refused(r) == Errc::wire_malformed_payload);
  const ByteVector huge_ke(65535 - 7, 0);
  r = parts.request();
  r.ke_data = view(huge_ke);
  CHECK(refused(r) == Errc::wire_bad_length);
}
