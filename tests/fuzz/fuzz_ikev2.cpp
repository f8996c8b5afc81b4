// SPDX-License-Identifier: MIT
// parse_ikev2 on arbitrary datagrams: no crash, no read outside the input, and what parses obeys
// the documented limits; a parsed error notify rebuilt by the builders parses back the same;
// ikeguard_fingerprint_message() is the fingerprint of the canonical proposals of its SA payload.
#include <ikeguard/wire/ikev2.hpp>
#include <ikeguard/wire/proposal.hpp>

#include "fuzz_check.hpp"
#include "fuzz_fingerprint.hpp"

#include <array>

using namespace ikeguard;
using namespace ikeguard::wire;
using ikeguard::fuzz::load_u16;
using ikeguard::fuzz::same_bytes;
using ikeguard::fuzz::within;

namespace {

void check_rebuilt_notify(const Ikev2Message& m, const NotifyPayload& n) {
  std::array<std::uint8_t, 1024> out{};
  const MutableBytes buffer{out.data(), out.size()};
  const Result<std::size_t> built = build_informational_notify(
      buffer, m.initiator_spi, m.responder_spi, m.message_id, m.is_initiator(), n.type, n.data);
  if (!built.ok()) {
    // Only data too large for this buffer is refused.
    IKEGUARD_FUZZ_CHECK(built.error() == Errc::wire_buffer_too_small);
    IKEGUARD_FUZZ_CHECK(n.data.size > out.size() - ike_header_size - 8);
    return;
  }
  const Result<Ikev2Message> back = parse_ikev2(Bytes{out.data(), built.value()});
  IKEGUARD_FUZZ_CHECK(back.ok());
  IKEGUARD_FUZZ_CHECK(back->initiator_spi == m.initiator_spi);
  IKEGUARD_FUZZ_CHECK(back->responder_spi == m.responder_spi);
  IKEGUARD_FUZZ_CHECK(back->message_id == m.message_id);
  IKEGUARD_FUZZ_CHECK(back->exchange_type == exchange_v2::informational);
  IKEGUARD_FUZZ_CHECK(back->notify_count == 1);
  IKEGUARD_FUZZ_CHECK(back->notifies[0].type == n.type);
  IKEGUARD_FUZZ_CHECK(same_bytes(back->notifies[0].data, n.data));
  IKEGUARD_FUZZ_CHECK(back->error_notice().has_value() == (n.type < notify_v2::first_status));
}

/// ikeguard_fingerprint_message of an IKEv2 message: ikeguard_fingerprint of the canonical
/// proposals of its SA payload; 0 when it does not parse, has no SA payload or one that does not.
void check_fingerprint_message(Bytes input, const Result<Ikev2Message>& parsed) {
  const ikeguard_handle* const guard = fuzz::c_guard();
  const std::uint64_t value = ikeguard_fingerprint_message(guard, input.data, input.size);
  if (fuzz::major_version(input) == 1) return;  // an ISAKMP message: fuzz_ikev1 checks it
  std::uint64_t expected = 0;
  if (parsed.ok() && parsed->sa.data != nullptr) {
    const Result<ProposalList> proposals = parse_sa_payload(parsed->sa);
    if (proposals.ok()) {
      std::array<std::uint8_t, 1 + max_proposals * (2 + 5 * max_transforms)> canonical;
      const Result<std::size_t> n =
          canonical_proposals(MutableBytes{canonical.data(), canonical.size()}, proposals.value());
      IKEGUARD_FUZZ_CHECK(n.ok());
      expected = ikeguard_fingerprint(guard, canonical.data(), n.value());
      IKEGUARD_FUZZ_CHECK(expected != 0);
    }
  }
  IKEGUARD_FUZZ_CHECK(value == expected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input{data, size};
  const Result<Ikev2Message> parsed = parse_ikev2(input);
  check_fingerprint_message(input, parsed);
  if (!parsed.ok()) {
    IKEGUARD_FUZZ_CHECK(parsed.error() != Errc::ok);
    return 0;
  }
  const Ikev2Message& m = parsed.value();
  IKEGUARD_FUZZ_CHECK(size >= ike_header_size);
  IKEGUARD_FUZZ_CHECK(m.length == size);
  IKEGUARD_FUZZ_CHECK(m.payload_count <= max_payloads);
  IKEGUARD_FUZZ_CHECK(m.notify_count <= max_notifies);
  IKEGUARD_FUZZ_CHECK(m.notify_count == (m.notifies_seen < max_notifies ? m.notifies_seen : max_notifies));
  IKEGUARD_FUZZ_CHECK(m.notifies_seen <= m.payload_count);
  IKEGUARD_FUZZ_CHECK(m.encrypted || m.payload_count == 0 || m.first_payload != payload_v2::none);

  for (std::size_t i = 0; i < m.notify_count; ++i) {
    const NotifyPayload& n = m.notifies[i];
    IKEGUARD_FUZZ_CHECK(within(input, n.spi));
    IKEGUARD_FUZZ_CHECK(within(input, n.data));
    check_rebuilt_notify(m, n);
  }
  IKEGUARD_FUZZ_CHECK(within(input, m.sa) && within(input, m.ke) && within(input, m.nonce));

  const std::optional<std::uint16_t> group = m.ke_group();
  IKEGUARD_FUZZ_CHECK(group.has_value() == (m.ke.data != nullptr));
  if (group) IKEGUARD_FUZZ_CHECK(*group == load_u16(m.ke.data));

  if (const std::optional<Notice> notice = m.error_notice()) {
    IKEGUARD_FUZZ_CHECK(notice->type < notify_v2::first_status);
    IKEGUARD_FUZZ_CHECK(notice->initiator_spi == m.initiator_spi);
    // The responder's answer to a request: it carries the notify and parses back.
    std::array<std::uint8_t, 64> out{};
    const Result<std::size_t> built =
        build_ike_sa_init_error(MutableBytes{out.data(), out.size()}, m.initiator_spi, notice->type);
    IKEGUARD_FUZZ_CHECK(built.ok() && built.value() == ike_header_size + 8);
    const Result<Ikev2Message> back = parse_ikev2(Bytes{out.data(), built.value()});
    IKEGUARD_FUZZ_CHECK(back.ok() && back->is_response() && !back->is_initiator());
    IKEGUARD_FUZZ_CHECK(back->error_notice().has_value() && back->error_notice()->type == notice->type);
  }

  if (m.sa.data != nullptr) {
    const Result<ProposalList> proposals = parse_sa_payload(m.sa);
    IKEGUARD_FUZZ_CHECK(proposals.ok() || proposals.error() != Errc::ok);
  }
  return 0;
}
