// SPDX-License-Identifier: MIT
// The IKEv1 (ISAKMP) codec against strongSwan 5.9.8's packets, malformed input, and its builder.
#include "wire_support.hpp"

using namespace ikeguard;
using namespace ikeguard::wire;
using namespace ikeguard::test;

namespace {

const char* const ikev1_pcap = "strongswan-ikev1-NO_PROPOSAL_CHOSEN.pcap";

Ikev1Message parsed(const ByteVector& bytes) {
  const Result<Ikev1Message> r = parse_ikev1(view(bytes));
  REQUIRE(r.error() == Errc::ok);
  return r.value();
}

// The result views the bytes: they must outlive it.
Ikev1Message parsed(ByteVector&&) = delete;

Errc parse_error(const ByteVector& bytes) { return parse_ikev1(view(bytes)).error(); }

/// A Notification payload body: DOI, protocol ID, SPI size, type, SPI, data.
ByteVector notification_body(std::uint16_t type, const ByteVector& spi = {}, const ByteVector& data = {}) {
  Writer w;
  w.u32(1).u8(1).u8(static_cast<unsigned>(spi.size())).u16(type).raw(spi).raw(data);
  return w.bytes;
}

ByteVector v1(unsigned first_payload, const ByteVector& payloads, std::uint8_t flags = 0,
              std::int64_t length = -1) {
  return message(0x10, first_payload, payloads, exchange_v1::informational, flags, 0, length);
}

}  // namespace

TEST_CASE("strongSwan's Main Mode first message parses with its cookie, SA and vendor IDs") {
  const auto& packets = capture(ikev1_pcap);
  REQUIRE(packets.size() == 2);
  const Result<Ikev1Message> r = parse_ikev1(packets[0].bytes());
  REQUIRE(r.error() == Errc::ok);
  const Ikev1Message& m = r.value();
  CHECK(m.initiator_cookie == 0xa98d271078e9a8a9ULL);
  CHECK(m.responder_cookie == 0);
  CHECK(m.first_payload == payload_v1::sa);
  CHECK(m.exchange_type == exchange_v1::identity_protection);
  CHECK(m.flags == 0);
  CHECK(m.message_id == 0);
  CHECK(m.length == 180);
  CHECK_FALSE(m.encrypted);
  CHECK(m.payload_count == 6);  // SA and five vendor IDs
  CHECK(m.sa.data == packets[0].bytes().data + 28 + 4);
  CHECK(m.sa.size == 52);
  CHECK(m.notification_count == 0);
  CHECK(m.notifications_seen == 0);
  CHECK_FALSE(m.error_notice().has_value());
}

TEST_CASE("strongSwan's Informational with NO-PROPOSAL-CHOSEN gives the notice with both cookies") {
  const Result<Ikev1Message> r = parse_ikev1(capture(ikev1_pcap).at(1).bytes());
  REQUIRE(r.error() == Errc::ok);
  const Ikev1Message& m = r.value();
  CHECK(m.initiator_cookie == 0xa98d271078e9a8a9ULL);
  CHECK(m.responder_cookie == 0x79d130a5e2c8a74bULL);
  CHECK(m.first_payload == payload_v1::notification);
  CHECK(m.exchange_type == exchange_v1::informational);
  CHECK(m.flags == 0);
  CHECK(m.message_id == 0xe9eb340aU);
  CHECK(m.length == 56);
  CHECK(m.payload_count == 1);
  REQUIRE(m.notification_count == 1);
  CHECK(m.notifications_seen == 1);
  const NotificationPayload& n = m.notifications[0];
  CHECK(n.doi == 1);
  CHECK(n.protocol_id == 1);
  CHECK(n.type == notify_v1::no_proposal_chosen);
  // strongSwan names the ISAKMP SA by its two cookies.
  CHECK(to_vector(n.spi) == ByteVector{0xa9, 0x8d, 0x27, 0x10, 0x78, 0xe9, 0xa8, 0xa9,
                                       0x79, 0xd1, 0x30, 0xa5, 0xe2, 0xc8, 0xa7, 0x4b});
  CHECK(n.data.empty());
  const std::optional<Notice> notice = m.error_notice();
  REQUIRE(notice.has_value());
  CHECK(notice->version == IkeVersion::v1);
  CHECK(notice->type == 14);
  CHECK(notice->initiator_spi == 0xa98d271078e9a8a9ULL);
  CHECK(notice->responder_spi == 0x79d130a5e2c8a74bULL);
  CHECK(notice->message_id == 0xe9eb340aU);
}

TEST_CASE("every truncation of every captured message is refused by the IKEv1 parser") {
  for (const std::string& file : capture_files()) {
    for (const Datagram& d : capture(file)) {
      for (std::size_t size = 0; size < d.payload.size(); ++size) {
        CAPTURE(file, d.payload.size(), size);
        const Result<Ikev1Message> r = parse_ikev1(Bytes{d.payload.data(), size});
        const bool v2 = d.payload[17] == 0x20;
        CHECK(r.error() ==
              (v2 && size >= isakmp_header_size ? Errc::wire_bad_version : Errc::wire_truncated));
      }
    }
  }
}

TEST_CASE("an IKEv2 message is not an ISAKMP message") {
  CHECK(parse_ikev1(capture("strongswan-ikev2-NO_PROPOSAL_CHOSEN.pcap").at(1).bytes()).error() ==
        Errc::wire_bad_version);
  CHECK(parse_error(message(0x20, 0, {})) == Errc::wire_bad_version);
  CHECK(parse_error(message(0x11, 0, {})) == Errc::ok);
}

TEST_CASE("an empty or absent ISAKMP message is truncated") {
  CHECK(parse_ikev1(Bytes{}).error() == Errc::wire_truncated);
  CHECK(parse_ikev1(Bytes{nullptr, 56}).error() == Errc::wire_truncated);
}

TEST_CASE("with the E flag only the header is reported") {
  const ByteVector bytes = v1(payload_v1::hash, ByteVector(13, 0xee), flags_v1::encryption);
  const Ikev1Message m = parsed(bytes);
  CHECK(m.encrypted);
  CHECK(m.payload_count == 0);
  CHECK(m.notifications_seen == 0);
  CHECK(m.first_payload == payload_v1::hash);
  CHECK(m.length == 41);
  CHECK(parse_error(v1(payload_v1::hash, ByteVector(13, 0xee), flags_v1::encryption, 40)) ==
        Errc::wire_bad_length);
}

TEST_CASE("an ISAKMP header length other than the datagram's size is refused") {
  const ByteVector p = payload(0, notification_body(14));
  const auto size = static_cast<std::int64_t>(28 + p.size());
  CHECK(parse_error(v1(payload_v1::notification, p, 0, size + 1)) == Errc::wire_truncated);
  CHECK(parse_error(v1(payload_v1::notification, p, 0, size - 1)) == Errc::wire_bad_length);
  CHECK(parse_error(v1(0, {}, 0, 20)) == Errc::wire_bad_length);
}

TEST_CASE("an ISAKMP payload length of 0 to 3 or past the end is refused") {
  for (unsigned length = 0; length < 4; ++length) {
    CAPTURE(length);
    Writer w;
    w.u8(0).u8(0).u16(length).zeros(4);
    CHECK(parse_error(v1(payload_v1::vendor_id, w.bytes)) == Errc::wire_bad_length);
  }
  ByteVector p = payload(0, {1, 2, 3, 4});
  p[3] = static_cast<std::uint8_t>(p[3] + 1);
  CHECK(parse_error(v1(payload_v1::vendor_id, p)) == Errc::wire_bad_length);
}

TEST_CASE("an ISAKMP payload chain must end exactly at the end of the message") {
  CHECK(parse_error(v1(payload_v1::vendor_id, payload(payload_v1::notification, {1, 2, 3, 4}))) ==
        Errc::wire_truncated);
  ByteVector p = payload(0, {1, 2, 3, 4});
  p.push_back(0);
  CHECK(parse_error(v1(payload_v1::vendor_id, p)) == Errc::wire_bad_length);
}

TEST_CASE("more than max_payloads ISAKMP payloads are refused") {
  const auto chain = [](std::size_t count) {
    ByteVector out;
    for (std::size_t i = 0; i < count; ++i) {
      const ByteVector p = payload(i + 1 == count ? 0u : payload_v1::vendor_id, {7});
      out.insert(out.end(), p.begin(), p.end());
    }
    return out;
  };
  const ByteVector most = v1(payload_v1::vendor_id, chain(max_payloads));
  CHECK(parsed(most).payload_count == 64);
  CHECK(parse_error(v1(payload_v1::vendor_id, chain(max_payloads + 1))) == Errc::wire_too_many_payloads);
}

TEST_CASE("a Notification body shorter than its fixed part and SPI is malformed") {
  for (std::size_t size = 0; size < 8; ++size) {
    CAPTURE(size);
    CHECK(parse_error(v1(payload_v1::notification, payload(0, ByteVector(size, 0)))) ==
          Errc::wire_malformed_payload);
  }
  ByteVector body = notification_body(14, ByteVector(16, 0xcc));
  body.pop_back();
  CHECK(parse_error(v1(payload_v1::notification, payload(0, body))) == Errc::wire_malformed_payload);
}

TEST_CASE("the SA payload is skipped whole and unknown payload types are skipped") {
  ByteVector payloads = payload(20, {0, 1, 2, 3});  // an SA body with junk proposals, then NAT-D
  ByteVector nat_d = payload(payload_v1::notification, ByteVector(20, 0x33));
  const ByteVector n = payload(0, notification_body(notify_v1::invalid_id_information, {}, {9}));
  payloads.insert(payloads.end(), nat_d.begin(), nat_d.end());
  payloads.insert(payloads.end(), n.begin(), n.end());
  const ByteVector bytes = v1(payload_v1::sa, payloads);
  const Ikev1Message m = parsed(bytes);
  CHECK(m.payload_count == 3);
  CHECK(to_vector(m.sa) == (ByteVector{0, 1, 2, 3}));
  REQUIRE(m.notification_count == 1);
  CHECK(m.notifications[0].type == 18);
  CHECK(m.notifications[0].spi.empty());
  CHECK(to_vector(m.notifications[0].data) == ByteVector{9});
}

TEST_CASE("IKEv1 error_notice skips status notifications") {
  ByteVector payloads = payload(payload_v1::notification, notification_body(24578));  // INITIAL-CONTACT
  const ByteVector n = payload(0, notification_body(notify_v1::authentication_failed));
  payloads.insert(payloads.end(), n.begin(), n.end());
  const ByteVector bytes = v1(payload_v1::notification, payloads);
  const std::optional<Notice> notice = parsed(bytes).error_notice();
  REQUIRE(notice.has_value());
  CHECK(notice->type == 24);
  const ByteVector status_only = v1(payload_v1::notification, payload(0, notification_body(24578)));
  CHECK_FALSE(parsed(status_only).error_notice().has_value());
}

TEST_CASE("ISAKMP notifications past 16 are counted but not kept") {
  ByteVector payloads;
  for (int i = 0; i < 17; ++i) {
    const ByteVector p = payload(i == 16 ? 0u : payload_v1::notification, notification_body(16384));
    payloads.insert(payloads.end(), p.begin(), p.end());
  }
  const ByteVector bytes = v1(payload_v1::notification, payloads);
  const Ikev1Message m = parsed(bytes);
  CHECK(m.notification_count == 16);
  CHECK(m.notifications_seen == 17);
}

TEST_CASE("build_ikev1_informational parses back as an Informational with one Notification") {
  ByteVector out(64);
  const ByteVector data = {0xab, 0xcd};
  const Result<std::size_t> n = build_ikev1_informational(
      mutable_view(out), 0xa98d271078e9a8a9ULL, 0x79d130a5e2c8a74bULL, notify_v1::no_proposal_chosen,
      view(data));
  REQUIRE(n.error() == Errc::ok);
  CHECK(n.value() == 28 + 12 + 2);
  out.resize(n.value());
  const Ikev1Message m = parsed(out);
  CHECK(out[17] == 0x10);
  CHECK(m.initiator_cookie == 0xa98d271078e9a8a9ULL);
  CHECK(m.responder_cookie == 0x79d130a5e2c8a74bULL);
  CHECK(m.first_payload == payload_v1::notification);
  CHECK(m.exchange_type == exchange_v1::informational);
  CHECK(m.flags == 0);
  CHECK(m.message_id == 0);
  CHECK(m.length == 42);
  CHECK(m.payload_count == 1);
  REQUIRE(m.notification_count == 1);
  CHECK(m.notifications[0].doi == 1);
  CHECK(m.notifications[0].protocol_id == 1);
  CHECK(m.notifications[0].type == 14);
  CHECK(m.notifications[0].spi.empty());
  CHECK(to_vector(m.notifications[0].data) == data);
  const std::optional<Notice> notice = m.error_notice();
  REQUIRE(notice.has_value());
  CHECK(notice->type == 14);
  CHECK(notice->responder_spi == 0x79d130a5e2c8a74bULL);
}

TEST_CASE("build_ikev1_informational refuses every buffer smaller than the message") {
  for (std::size_t size = 0; size < 40; ++size) {
    CAPTURE(size);
    ByteVector out(size);
    CHECK(build_ikev1_informational(mutable_view(out), 1, 2, 14).error() == Errc::wire_buffer_too_small);
  }
  ByteVector out(40);
  CHECK(build_ikev1_informational(mutable_view(out), 1, 2, 14).value() == 40);
  CHECK(build_ikev1_informational(MutableBytes{nullptr, 40}, 1, 2, 14).error() ==
        Errc::wire_buffer_too_small);
}

TEST_CASE("build_ikev1_informational refuses data too large for one payload") {
  ByteVector out(70000);
  const ByteVector largest(65535 - 12, 0);
  CHECK(build_ikev1_informational(mutable_view(out), 1, 2, 14, view(largest)).value() == 28 + 65535);
  const ByteVector too_large(65535 - 11, 0);
  CHECK(build_ikev1_informational(mutable_view(out), 1, 2, 14, view(too_large)).error() ==
        Errc::wire_bad_length);
  CHECK(build_ikev1_informational(mutable_view(out), 1, 2, 14, Bytes{nullptr, 3}).error() ==
        Errc::wire_malformed_payload);
}
