// SPDX-License-Identifier: MIT
// IKEv2 SA payloads (RFC 7296 3.3): proposals and transforms, parsed, built, and reduced to the
// canonical bytes a daemon fingerprints.
#pragma once

#include <ikeguard/error.hpp>
#include <ikeguard/export.hpp>
#include <ikeguard/wire/bytes.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ikeguard::wire {

/// RFC 7296 3.3.2 transform types.
namespace transform_type {
constexpr std::uint8_t encryption = 1;
constexpr std::uint8_t prf = 2;
constexpr std::uint8_t integrity = 3;
constexpr std::uint8_t key_exchange = 4;  // "DH group"
constexpr std::uint8_t esn = 5;
}  // namespace transform_type

/// IKEv2 transform IDs (IANA "IKEv2 Parameters") that the proposal text knows.
namespace transform_id {
constexpr std::uint16_t encr_aes_cbc = 12;
constexpr std::uint16_t encr_aes_gcm_16 = 20;
constexpr std::uint16_t prf_hmac_sha1 = 2;
constexpr std::uint16_t prf_hmac_sha2_256 = 5;
constexpr std::uint16_t prf_hmac_sha2_384 = 6;
constexpr std::uint16_t prf_hmac_sha2_512 = 7;
constexpr std::uint16_t auth_hmac_sha1_96 = 2;
constexpr std::uint16_t auth_hmac_sha2_256_128 = 12;
constexpr std::uint16_t auth_hmac_sha2_384_192 = 13;
constexpr std::uint16_t auth_hmac_sha2_512_256 = 14;
constexpr std::uint16_t dh_modp1024 = 2;
constexpr std::uint16_t dh_modp2048 = 14;
constexpr std::uint16_t dh_modp3072 = 15;
constexpr std::uint16_t dh_ecp256 = 19;
constexpr std::uint16_t dh_ecp384 = 20;
constexpr std::uint16_t dh_curve25519 = 31;
}  // namespace transform_id

struct Transform {
  std::uint8_t type = 0;
  std::uint16_t id = 0;
  std::uint16_t key_length = 0;  // bits, from the Key Length attribute (14); 0 when absent
};

constexpr std::size_t max_proposals = 16;
constexpr std::size_t max_transforms = 32;

struct Proposal {
  std::uint8_t number = 0;
  std::uint8_t protocol_id = 0;  // 1 IKE, 2 AH, 3 ESP
  std::array<Transform, max_transforms> transforms{};
  std::size_t transform_count = 0;
};

/// The proposals of one SA payload, in the order offered.
struct ProposalList {
  std::array<Proposal, max_proposals> proposals{};
  std::size_t count = 0;
};

/// Parses an SA payload's body (after the generic header). Refuses lengths that overrun,
/// substructure flags other than "last"/"more", counts that disagree with the bytes, and more
/// than max_proposals proposals or max_transforms transforms in one.
IKEGUARD_API Result<ProposalList> parse_sa_payload(Bytes body) noexcept;

/// Parses an IKE proposal written as dash-separated keywords, strongSwan's style:
/// "aes128-sha256-x25519", "aes256gcm16-prfsha384-ecp384", "aes128-sha256-modp2048-x25519".
/// One proposal, protocol IKE, numbered 1; an AEAD needs a PRF keyword (prfsha256 ...).
IKEGUARD_API Result<Proposal> parse_proposal_text(std::string_view text) noexcept;

/// Writes an SA payload body carrying `list` (proposal numbers as given, no SPIs).
IKEGUARD_API Result<std::size_t> build_sa_payload_body(MutableBytes out,
                                                       const ProposalList& list) noexcept;

/// The bytes a daemon fingerprints for what a peer offered: for each proposal its protocol and
/// its transforms (type, ID, key length) in offered order, without proposal numbers or SPIs (which
/// change between attempts of the same configuration). Returns the size written.
IKEGUARD_API Result<std::size_t> canonical_proposals(MutableBytes out,
                                                     const ProposalList& list) noexcept;

}  // namespace ikeguard::wire
