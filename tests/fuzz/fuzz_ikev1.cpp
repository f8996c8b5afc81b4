// SPDX-License-Identifier: MIT
// parse_ikev1 on arbitrary datagrams: no crash, no read outside the input, and what parses obeys
// the documented limits; a parsed error notification rebuilt by the builder parses back the same;
// ikeguard_fingerprint_message() is the fingerprint of the body of the first SA payload.
#include <ikeguard/wire/ikev1.hpp>
#include <ikeguard/wire/ikev2.hpp>

#include "fuzz_check.hpp"
#include "fuzz_fingerprint.hpp"

#include <array>

using namespace ikeguard;
using namespace ikeguard::wire;
using ikeguard::fuzz::load_u16;
using ikeguard::fuzz::same_bytes;
using ikeguard::fuzz::within;

namespace {

/// ikeguard_fingerprint_message of an ISAKMP message: ikeguard_fingerprint of the body of its
/// first SA payload as sent; 0 when it does not parse, is encrypted or has no SA payload.
void check_fingerprint_message(Bytes input, const Result<Ikev1Message>& parsed) {
  const ikeguard_handle* const guard = fuzz::c_guard();
  const std::uint64_t value = ikeguard_fingerprint_message(guard, input.data, input.size);
  if (fuzz::major_version(input) == 2) return;  // an IKEv2 message: fuzz_ikev2 checks it
  std::uint64_t expected = 0;
  if (parsed.ok() && !parsed->encrypted) {
    // The chain parsed: every payload header is inside the message.
    std::size_t offset = isakmp_header_size;
    for (std::uint8_t type = parsed->first_payload; type != payload_v1::none;) {
      IKEGUARD_FUZZ_CHECK(input.size - offset >= 4);
      const std::size_t length = load_u16(input.data + offset + 2);
      IKEGUARD_FUZZ_CHECK(length >= 4 && length <= input.size - offset);
      if (type == payload_v1::sa) {
        IKEGUARD_FUZZ_CHECK(parsed->sa.data == input.data + offset + 4);
        IKEGUARD_FUZZ_CHECK(parsed->sa.size == length - 4);
        expected = ikeguard_fingerprint(guard, input.data + offset + 4, length - 4);
        IKEGUARD_FUZZ_CHECK(expected != 0);
        break;
      }
      type = input.data[offset];
      offset += length;
    }
    if (expected == 0) IKEGUARD_FUZZ_CHECK(parsed->sa.data == nullptr);
  }
  IKEGUARD_FUZZ_CHECK(value == expected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input{data, size};
  const Result<Ikev1Message> parsed = parse_ikev1(input);
  check_fingerprint_message(input, parsed);
  if (!parsed.ok()) {
    IKEGUARD_FUZZ_CHECK(parsed.error() != Errc::ok);
    return 0;
  }
  const Ikev1Message& m = parsed.value();
  IKEGUARD_FUZZ_CHECK(size >= isakmp_header_size);
  IKEGUARD_FUZZ_CHECK(m.length == size);
  IKEGUARD_FUZZ_CHECK(m.payload_count <= max_payloads);
  IKEGUARD_FUZZ_CHECK(m.notification_count <= m.notifications.size());
  IKEGUARD_FUZZ_CHECK(m.notification_count <= m.notifications_seen);
  IKEGUARD_FUZZ_CHECK(m.notifications_seen <= m.payload_count);
  IKEGUARD_FUZZ_CHECK(m.encrypted == ((m.flags & flags_v1::encryption) != 0));
  if (m.encrypted) IKEGUARD_FUZZ_CHECK(m.payload_count == 0);

  for (std::size_t i = 0; i < m.notification_count; ++i) {
    const NotificationPayload& n = m.notifications[i];
    IKEGUARD_FUZZ_CHECK(within(input, n.spi));
    IKEGUARD_FUZZ_CHECK(within(input, n.data));

    std::array<std::uint8_t, 512> out{};
    const Result<std::size_t> built = build_ikev1_informational(
        MutableBytes{out.data(), out.size()}, m.initiator_cookie, m.responder_cookie, n.type, n.data);
    if (!built.ok()) {
      IKEGUARD_FUZZ_CHECK(built.error() == Errc::wire_buffer_too_small);
      IKEGUARD_FUZZ_CHECK(n.data.size > out.size() - isakmp_header_size - 12);
      continue;
    }
    const Result<Ikev1Message> back = parse_ikev1(Bytes{out.data(), built.value()});
    IKEGUARD_FUZZ_CHECK(back.ok());
    IKEGUARD_FUZZ_CHECK(back->initiator_cookie == m.initiator_cookie);
    IKEGUARD_FUZZ_CHECK(back->responder_cookie == m.responder_cookie);
    IKEGUARD_FUZZ_CHECK(back->exchange_type == exchange_v1::informational);
    IKEGUARD_FUZZ_CHECK(back->notification_count == 1);
    IKEGUARD_FUZZ_CHECK(back->notifications[0].type == n.type);
    IKEGUARD_FUZZ_CHECK(same_bytes(back->notifications[0].data, n.data));
  }

  if (const std::optional<Notice> notice = m.error_notice()) {
    IKEGUARD_FUZZ_CHECK(notice->version == IkeVersion::v1);
    IKEGUARD_FUZZ_CHECK(notice->type < notify_v1::first_status);
    IKEGUARD_FUZZ_CHECK(notice->initiator_spi == m.initiator_cookie);
    IKEGUARD_FUZZ_CHECK(notice->responder_spi == m.responder_cookie);
    IKEGUARD_FUZZ_CHECK(notice->message_id == m.message_id);
  }
  return 0;
}
