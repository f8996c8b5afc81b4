// SPDX-License-Identifier: MIT
// Helpers shared by the wire codec's tests: byte vectors as views, a writer for hand-made
// messages, and the captures loaded once.
#pragma once

#include "pcap.hpp"
#include "support.hpp"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

namespace ikeguard::test {

using ByteVector = std::vector<std::uint8_t>;

inline wire::Bytes view(const ByteVector& bytes) { return wire::Bytes{bytes.data(), bytes.size()}; }
inline wire::MutableBytes mutable_view(ByteVector& bytes) {
  return wire::MutableBytes{bytes.data(), bytes.size()};
}
inline ByteVector to_vector(wire::Bytes bytes) { return ByteVector(bytes.begin(), bytes.end()); }

/// Appends big-endian fields to a byte vector.
class Writer {
 public:
  Writer& u8(unsigned v) {
    bytes.push_back(static_cast<std::uint8_t>(v));
    return *this;
  }
  Writer& u16(unsigned v) { return u8(v >> 8).u8(v & 0xffu); }
  Writer& u32(std::uint32_t v) { return u16(v >> 16).u16(v & 0xffffu); }
  Writer& u64(std::uint64_t v) {
    return u32(static_cast<std::uint32_t>(v >> 32)).u32(static_cast<std::uint32_t>(v));
  }
  Writer& raw(const ByteVector& v) {
    bytes.insert(bytes.end(), v.begin(), v.end());
    return *this;
  }
  Writer& raw(std::initializer_list<std::uint8_t> v) {
    bytes.insert(bytes.end(), v.begin(), v.end());
    return *this;
  }
  Writer& zeros(std::size_t n) {
    bytes.insert(bytes.end(), n, 0);
    return *this;
  }
  ByteVector bytes;
};

/// A generic payload header (either version: next payload, critical/reserved byte, length) and
/// its body.
inline ByteVector payload(unsigned next, const ByteVector& body, unsigned second_byte = 0) {
  Writer w;
  w.u8(next).u8(second_byte).u16(static_cast<unsigned>(body.size() + 4)).raw(body);
  return w.bytes;
}

/// An IKE header (28 bytes) followed by `payloads`; the length field is the total size unless
/// `length` says otherwise.
inline ByteVector message(std::uint8_t version, unsigned first_payload, const ByteVector& payloads,
                          std::uint8_t exchange = 34, std::uint8_t flags = 0x08,
                          std::uint32_t message_id = 0, std::int64_t length = -1) {
  Writer w;
  w.u64(0x1122334455667788ULL).u64(0).u8(first_payload).u8(version).u8(exchange).u8(flags);
  w.u32(message_id);
  w.u32(length < 0 ? static_cast<std::uint32_t>(28 + payloads.size()) : static_cast<std::uint32_t>(length));
  w.raw(payloads);
  return w.bytes;
}

/// The captures, each read once per test run.
inline const std::vector<Datagram>& capture(const std::string& file) {
  static std::map<std::string, std::vector<Datagram>> loaded;
  auto it = loaded.find(file);
  if (it == loaded.end()) it = loaded.emplace(file, read_pcap(file)).first;
  return it->second;
}

inline const std::vector<std::string>& capture_files() {
  static const std::vector<std::string> files = {
      "strongswan-ikev1-NO_PROPOSAL_CHOSEN.pcap", "strongswan-ikev2-INVALID_KE_PAYLOAD.pcap",
      "strongswan-ikev2-NO_PROPOSAL_CHOSEN.pcap", "strongswan-ikev2-retransmits.pcap"};
  return files;
}

/// The largest proposal list the codec's limits allow: max_proposals proposals of
/// max_transforms transforms each, every transform distinct.
inline wire::ProposalList largest_proposal_list() {
  wire::ProposalList list;
  list.count = wire::max_proposals;
  for (std::size_t i = 0; i < wire::max_proposals; ++i) {
    wire::Proposal& p = list.proposals[i];
    p.number = static_cast<std::uint8_t>(i + 1);
    p.protocol_id = 1;
    p.transform_count = wire::max_transforms;
    for (std::size_t j = 0; j < wire::max_transforms; ++j) {
      p.transforms[j] =
          wire::Transform{1, static_cast<std::uint16_t>(j), static_cast<std::uint16_t>(i * 8)};
    }
  }
  return list;
}

}  // namespace ikeguard::test
