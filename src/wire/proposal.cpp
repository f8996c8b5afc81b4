// SPDX-License-Identifier: MIT
// SA payload substructures (RFC 7296 3.3): proposals, transforms, the Key Length attribute.
#include <ikeguard/wire/proposal.hpp>

#include <ikeguard/detail/endian.hpp>

namespace ikeguard::wire {
namespace {

using detail::load_u16;
using detail::store_u16;

constexpr std::uint8_t last_substructure = 0;
constexpr std::uint8_t more_proposals = 2;
constexpr std::uint8_t more_transforms = 3;
constexpr std::size_t proposal_header_size = 8;
constexpr std::size_t transform_header_size = 8;
constexpr std::size_t attribute_header_size = 4;
constexpr std::uint16_t attribute_format_tv = 0x8000;
constexpr std::uint16_t attribute_key_length = 14;
constexpr std::uint8_t protocol_ike = 1;

/// Parses the attributes of one transform; only the Key Length is kept.
Errc parse_attributes(const std::uint8_t* p, std::size_t size, Transform& transform) noexcept {
  bool have_key_length = false;
  std::size_t offset = 0;
  while (offset < size) {
    if (size - offset < attribute_header_size) return Errc::wire_malformed_payload;
    const std::uint16_t word = load_u16(p + offset);
    const std::uint16_t type = static_cast<std::uint16_t>(word & ~attribute_format_tv);
    const std::uint16_t value = load_u16(p + offset + 2);
    if ((word & attribute_format_tv) != 0) {
      if (type == attribute_key_length) {
        // A second Key Length would make the transform mean two things.
        if (have_key_length) return Errc::wire_malformed_payload;
        have_key_length = true;
        transform.key_length = value;
      }
      offset += attribute_header_size;
    } else {
      // RFC 7296 3.3.5: the Key Length is TV only.
      if (type == attribute_key_length) return Errc::wire_malformed_payload;
      if (size - offset - attribute_header_size < value) return Errc::wire_malformed_payload;
      offset += attribute_header_size + value;
    }
  }
  return Errc::ok;
}

/// Parses the `count` transforms that must fill [p, p + size) exactly.
Errc parse_transforms(const std::uint8_t* p, std::size_t size, std::size_t count,
                      Proposal& proposal) noexcept {
  std::size_t offset = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (size - offset < transform_header_size) return Errc::wire_malformed_payload;
    const std::uint8_t* const t = p + offset;
    const std::uint8_t flag = t[0];
    if (flag != last_substructure && flag != more_transforms) return Errc::wire_malformed_payload;
    // The flags must agree with the count: "more" on all but the last one.
    if ((flag == last_substructure) != (i + 1 == count)) return Errc::wire_malformed_payload;
    const std::size_t length = load_u16(t + 2);
    if (length < transform_header_size) return Errc::wire_bad_length;
    if (length > size - offset) return Errc::wire_bad_length;
    Transform& transform = proposal.transforms[proposal.transform_count++];
    transform.type = t[4];
    transform.id = load_u16(t + 6);
    const Errc error = parse_attributes(t + transform_header_size, length - transform_header_size,
                                        transform);
    if (error != Errc::ok) return error;
    offset += length;
  }
  if (offset != size) return Errc::wire_malformed_payload;  // bytes the count leaves over
  return Errc::ok;
}

std::size_t transform_size(const Transform& transform) noexcept {
  return transform_header_size + (transform.key_length != 0 ? attribute_header_size : 0);
}

std::size_t proposal_size(const Proposal& proposal) noexcept {
  std::size_t size = proposal_header_size;
  for (std::size_t i = 0; i < proposal.transform_count; ++i) size += transform_size(proposal.transforms[i]);
  return size;
}

bool list_fits_limits(const ProposalList& list) noexcept {
  if (list.count == 0 || list.count > max_proposals) return false;
  for (std::size_t i = 0; i < list.count; ++i) {
    if (list.proposals[i].transform_count > max_transforms) return false;
  }
  return true;
}

// ---- proposal text ----

struct Keyword {
  std::string_view text;
  std::uint8_t type;
  std::uint16_t id;
  std::uint16_t key_length;
  std::uint16_t implied_prf;  // for integrity keywords: the PRF of the same hash
};

constexpr Keyword keywords[] = {
    {"aes128", transform_type::encryption, transform_id::encr_aes_cbc, 128, 0},
    {"aes192", transform_type::encryption, transform_id::encr_aes_cbc, 192, 0},
    {"aes256", transform_type::encryption, transform_id::encr_aes_cbc, 256, 0},
    {"aes128gcm16", transform_type::encryption, transform_id::encr_aes_gcm_16, 128, 0},
    {"aes256gcm16", transform_type::encryption, transform_id::encr_aes_gcm_16, 256, 0},
    {"sha1", transform_type::integrity, transform_id::auth_hmac_sha1_96, 0, transform_id::prf_hmac_sha1},
    {"sha256", transform_type::integrity, transform_id::auth_hmac_sha2_256_128, 0,
     transform_id::prf_hmac_sha2_256},
    {"sha384", transform_type::integrity, transform_id::auth_hmac_sha2_384_192, 0,
     transform_id::prf_hmac_sha2_384},
    {"sha512", transform_type::integrity, transform_id::auth_hmac_sha2_512_256, 0,
     transform_id::prf_hmac_sha2_512},
    {"prfsha1", transform_type::prf, transform_id::prf_hmac_sha1, 0, 0},
    {"prfsha256", transform_type::prf, transform_id::prf_hmac_sha2_256, 0, 0},
    {"prfsha384", transform_type::prf, transform_id::prf_hmac_sha2_384, 0, 0},
    {"prfsha512", transform_type::prf, transform_id::prf_hmac_sha2_512, 0, 0},
    {"modp1024", transform_type::key_exchange, transform_id::dh_modp1024, 0, 0},
    {"modp2048", transform_type::key_exchange, transform_id::dh_modp2048, 0, 0},
    {"modp3072", transform_type::key_exchange, transform_id::dh_modp3072, 0, 0},
    {"ecp256", transform_type::key_exchange, transform_id::dh_ecp256, 0, 0},
    {"ecp384", transform_type::key_exchange, transform_id::dh_ecp384, 0, 0},
    {"x25519", transform_type::key_exchange, transform_id::dh_curve25519, 0, 0},
    {"curve25519", transform_type::key_exchange, transform_id::dh_curve25519, 0, 0},
};

const Keyword* find_keyword(std::string_view token) noexcept {
  for (const Keyword& keyword : keywords) {
    if (keyword.text == token) return &keyword;
  }
  return nullptr;
}

/// Appends a transform unless the same one is already there (a repeated keyword, or an implied
/// PRF that another integrity keyword implied already). False when the proposal is full.
bool add_transform(Proposal& proposal, std::uint8_t type, std::uint16_t id,
                   std::uint16_t key_length) noexcept {
  for (std::size_t i = 0; i < proposal.transform_count; ++i) {
    const Transform& t = proposal.transforms[i];
    if (t.type == type && t.id == id && t.key_length == key_length) return true;
  }
  if (proposal.transform_count == proposal.transforms.size()) return false;
  proposal.transforms[proposal.transform_count++] = Transform{type, id, key_length};
  return true;
}

/// Calls f(keyword) for each dash-separated token; false on an empty or unknown token.
template <class F>
bool for_each_keyword(std::string_view text, F&& f) noexcept {
  std::size_t start = 0;
  while (true) {
    const std::size_t dash = text.find('-', start);
    const std::string_view token =
        text.substr(start, dash == std::string_view::npos ? std::string_view::npos : dash - start);
    const Keyword* keyword = find_keyword(token);
    if (keyword == nullptr) return false;
    if (!f(*keyword)) return false;
    if (dash == std::string_view::npos) return true;
    start = dash + 1;
  }
}

}  // namespace

Result<ProposalList> parse_sa_payload(Bytes body) noexcept {
  if (body.data == nullptr || body.size < proposal_header_size) return Errc::wire_malformed_payload;
  ProposalList list;
  std::size_t offset = 0;
  while (true) {
    if (list.count == max_proposals) return Errc::wire_too_many_payloads;
    // The previous proposal said "more": a proposal header must follow.
    if (body.size - offset < proposal_header_size) return Errc::wire_truncated;
    const std::uint8_t* const p = body.data + offset;
    const std::uint8_t flag = p[0];
    if (flag != last_substructure && flag != more_proposals) return Errc::wire_malformed_payload;
    const std::size_t length = load_u16(p + 2);
    const std::size_t spi_size = p[6];
    const std::size_t transform_count = p[7];
    if (length < proposal_header_size + spi_size) return Errc::wire_bad_length;
    if (length > body.size - offset) return Errc::wire_bad_length;
    if (transform_count > max_transforms) return Errc::wire_too_many_payloads;

    Proposal& proposal = list.proposals[list.count++];
    proposal.number = p[4];
    proposal.protocol_id = p[5];
    const std::size_t transforms_at = proposal_header_size + spi_size;
    const Errc error = parse_transforms(p + transforms_at, length - transforms_at, transform_count,
                                        proposal);
    if (error != Errc::ok) return error;
    offset += length;

    if (flag == last_substructure) {
      if (offset != body.size) return Errc::wire_bad_length;  // bytes after the last proposal
      return list;
    }
  }
}

Result<Proposal> parse_proposal_text(std::string_view text) noexcept {
  // Collected per type first, then emitted grouped: ENCR, PRF, INTEG, KE.
  Proposal encryption, prf, integrity, key_exchange, implied_prf;
  bool aead = false, cbc = false;
  const bool parsed = for_each_keyword(text, [&](const Keyword& k) noexcept {
    switch (k.type) {
      case transform_type::encryption:
        if (k.id == transform_id::encr_aes_gcm_16) {
          aead = true;
        } else {
          cbc = true;
        }
        return add_transform(encryption, k.type, k.id, k.key_length);
      case transform_type::integrity:
        return add_transform(integrity, k.type, k.id, 0) &&
               add_transform(implied_prf, transform_type::prf, k.implied_prf, 0);
      case transform_type::prf:
        return add_transform(prf, k.type, k.id, 0);
      default:
        return add_transform(key_exchange, k.type, k.id, 0);
    }
  });
  if (!parsed) return Errc::wire_invalid_proposal;
  // RFC 7296 3.3: AEAD and non-AEAD ciphers go in separate proposals; an AEAD has no integrity
  // transform; every other cipher needs one.
  if (aead && (cbc || integrity.transform_count != 0)) return Errc::wire_invalid_proposal;
  if (!aead && integrity.transform_count == 0) return Errc::wire_invalid_proposal;
  if (prf.transform_count == 0) prf = implied_prf;
  if (encryption.transform_count == 0 || prf.transform_count == 0 ||
      key_exchange.transform_count == 0) {
    return Errc::wire_invalid_proposal;
  }

  Proposal proposal;
  proposal.number = 1;
  proposal.protocol_id = protocol_ike;
  for (const Proposal* group : {&encryption, &prf, &integrity, &key_exchange}) {
    for (std::size_t i = 0; i < group->transform_count; ++i) {
      if (proposal.transform_count == proposal.transforms.size()) return Errc::wire_invalid_proposal;
      proposal.transforms[proposal.transform_count++] = group->transforms[i];
    }
  }
  return proposal;
}

Result<std::size_t> build_sa_payload_body(MutableBytes out, const ProposalList& list) noexcept {
  if (!list_fits_limits(list)) return Errc::wire_invalid_proposal;
  std::size_t total = 0;
  for (std::size_t i = 0; i < list.count; ++i) total += proposal_size(list.proposals[i]);
  if (out.data == nullptr || out.size < total) return Errc::wire_buffer_too_small;

  std::uint8_t* p = out.data;
  for (std::size_t i = 0; i < list.count; ++i) {
    const Proposal& proposal = list.proposals[i];
    p[0] = i + 1 == list.count ? last_substructure : more_proposals;
    p[1] = 0;
    store_u16(p + 2, static_cast<std::uint16_t>(proposal_size(proposal)));
    p[4] = proposal.number;
    p[5] = proposal.protocol_id;
    p[6] = 0;  // SPI size
    p[7] = static_cast<std::uint8_t>(proposal.transform_count);
    p += proposal_header_size;
    for (std::size_t j = 0; j < proposal.transform_count; ++j) {
      const Transform& transform = proposal.transforms[j];
      const std::size_t size = transform_size(transform);
      p[0] = j + 1 == proposal.transform_count ? last_substructure : more_transforms;
      p[1] = 0;
      store_u16(p + 2, static_cast<std::uint16_t>(size));
      p[4] = transform.type;
      p[5] = 0;
      store_u16(p + 6, transform.id);
      if (transform.key_length != 0) {
        store_u16(p + 8, static_cast<std::uint16_t>(attribute_format_tv | attribute_key_length));
        store_u16(p + 10, transform.key_length);
      }
      p += size;
    }
  }
  return total;
}

// The canonical form: one byte with the number of proposals, then per proposal its protocol ID
// and number of transforms (one byte each), then per transform its type (one byte), ID and key
// length (two bytes each, big-endian). The counts keep every list's bytes distinct.
Result<std::size_t> canonical_proposals(MutableBytes out, const ProposalList& list) noexcept {
  if (!list_fits_limits(list)) return Errc::wire_invalid_proposal;
  std::size_t total = 1;
  for (std::size_t i = 0; i < list.count; ++i) total += 2 + 5 * list.proposals[i].transform_count;
  if (out.data == nullptr || out.size < total) return Errc::wire_buffer_too_small;

  std::uint8_t* p = out.data;
  *p++ = static_cast<std::uint8_t>(list.count);
  for (std::size_t i = 0; i < list.count; ++i) {
    const Proposal& proposal = list.proposals[i];
    *p++ = proposal.protocol_id;
    *p++ = static_cast<std::uint8_t>(proposal.transform_count);
    for (std::size_t j = 0; j < proposal.transform_count; ++j) {
      const Transform& transform = proposal.transforms[j];
      p[0] = transform.type;
      store_u16(p + 1, transform.id);
      store_u16(p + 3, transform.key_length);
      p += 5;
    }
  }
  return total;
}

}  // namespace ikeguard::wire
