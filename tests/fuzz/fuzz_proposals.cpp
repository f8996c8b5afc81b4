// SPDX-License-Identifier: MIT
// The same input as an SA payload body and as proposal text. What parses must survive
// build_sa_payload_body and parse back with the same canonical bytes; what the text parser
// accepts must follow its grouping rules and build into a body that parses back.
#include <ikeguard/wire/proposal.hpp>

#include "fuzz_check.hpp"

#include <array>
#include <string_view>

using namespace ikeguard;
using namespace ikeguard::wire;
using ikeguard::fuzz::same_bytes;

namespace {

// Large enough for max_proposals proposals of max_transforms transforms, in either form.
constexpr std::size_t body_capacity = max_proposals * (8 + max_transforms * 12);
constexpr std::size_t canonical_capacity = 1 + max_proposals * (2 + max_transforms * 5);

std::array<std::uint8_t, body_capacity> body_a, body_b;
std::array<std::uint8_t, canonical_capacity> canon_a, canon_b;

Bytes canonical(const ProposalList& list, std::array<std::uint8_t, canonical_capacity>& out) {
  const Result<std::size_t> n = canonical_proposals(MutableBytes{out.data(), out.size()}, list);
  IKEGUARD_FUZZ_CHECK(n.ok());
  return Bytes{out.data(), n.value()};
}

Bytes built(const ProposalList& list, std::array<std::uint8_t, body_capacity>& out) {
  const Result<std::size_t> n = build_sa_payload_body(MutableBytes{out.data(), out.size()}, list);
  IKEGUARD_FUZZ_CHECK(n.ok());
  return Bytes{out.data(), n.value()};
}

void check_round_trip(const ProposalList& list) {
  IKEGUARD_FUZZ_CHECK(list.count >= 1 && list.count <= max_proposals);
  const Bytes body = built(list, body_a);
  const Result<ProposalList> back = parse_sa_payload(body);
  IKEGUARD_FUZZ_CHECK(back.ok());
  IKEGUARD_FUZZ_CHECK(back->count == list.count);
  for (std::size_t i = 0; i < list.count; ++i) {
    IKEGUARD_FUZZ_CHECK(back->proposals[i].number == list.proposals[i].number);
    IKEGUARD_FUZZ_CHECK(back->proposals[i].protocol_id == list.proposals[i].protocol_id);
  }
  IKEGUARD_FUZZ_CHECK(same_bytes(canonical(list, canon_a), canonical(back.value(), canon_b)));
  // Building is idempotent from the first rebuild on.
  IKEGUARD_FUZZ_CHECK(same_bytes(body, built(back.value(), body_b)));
}

void check_text(std::string_view text) {
  const Result<Proposal> parsed = parse_proposal_text(text);
  if (!parsed.ok()) {
    IKEGUARD_FUZZ_CHECK(parsed.error() == Errc::wire_invalid_proposal);
    return;
  }
  const Proposal& p = parsed.value();
  IKEGUARD_FUZZ_CHECK(p.number == 1 && p.protocol_id == 1);
  IKEGUARD_FUZZ_CHECK(p.transform_count >= 3 && p.transform_count <= max_transforms);
  // Grouped ENCR, PRF, INTEG, KE, each present except INTEG (absent exactly for an AEAD).
  const std::uint8_t order[] = {transform_type::encryption, transform_type::prf,
                                transform_type::integrity, transform_type::key_exchange};
  std::size_t rank = 0;
  std::size_t seen[4] = {};
  for (std::size_t i = 0; i < p.transform_count; ++i) {
    while (rank < 4 && order[rank] != p.transforms[i].type) ++rank;
    IKEGUARD_FUZZ_CHECK(rank < 4);
    ++seen[rank];
  }
  IKEGUARD_FUZZ_CHECK(seen[0] > 0 && seen[1] > 0 && seen[3] > 0);
  const bool aead = p.transforms[0].id == transform_id::encr_aes_gcm_16;
  IKEGUARD_FUZZ_CHECK(aead == (seen[2] == 0));

  ProposalList list;
  list.proposals[0] = p;
  list.count = 1;
  check_round_trip(list);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Result<ProposalList> parsed = parse_sa_payload(Bytes{data, size});
  if (parsed.ok()) {
    IKEGUARD_FUZZ_CHECK(size >= 8);
    check_round_trip(parsed.value());
  } else {
    IKEGUARD_FUZZ_CHECK(parsed.error() != Errc::ok);
  }
  check_text(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
