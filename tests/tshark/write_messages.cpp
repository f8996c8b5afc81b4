// SPDX-License-Identifier: MIT
// Writes every message the codec builds into a classic pcap file (Ethernet, IPv4, UDP 500), so
// that an independent dissector (tshark) can check they are well formed.
//
//   write_messages OUT.pcap
#include <ikeguard/wire/ikev1.hpp>
#include <ikeguard/wire/ikev2.hpp>
#include <ikeguard/wire/key_exchange.hpp>
#include <ikeguard/wire/proposal.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

namespace wire = ikeguard::wire;

void put16(std::vector<std::uint8_t>& v, std::uint16_t x) {
  v.push_back(static_cast<std::uint8_t>(x >> 8));
  v.push_back(static_cast<std::uint8_t>(x));
}

void put32le(std::vector<std::uint8_t>& v, std::uint32_t x) {
  for (int i = 0; i < 4; ++i) v.push_back(static_cast<std::uint8_t>(x >> (8 * i)));
}

// One Ethernet + IPv4 + UDP frame around an IKE message, 192.0.2.1:500 <-> 192.0.2.2:500.
std::vector<std::uint8_t> frame(wire::Bytes ike, bool from_initiator) {
  std::vector<std::uint8_t> f;
  const std::array<std::uint8_t, 6> a = {0x02, 0, 0, 0, 0, 1}, b = {0x02, 0, 0, 0, 0, 2};
  const auto& dst = from_initiator ? b : a;
  const auto& src = from_initiator ? a : b;
  f.insert(f.end(), dst.begin(), dst.end());
  f.insert(f.end(), src.begin(), src.end());
  put16(f, 0x0800);
  const std::size_t ip_start = f.size();
  const auto total = static_cast<std::uint16_t>(20 + 8 + ike.size);
  f.insert(f.end(), {0x45, 0x00});
  put16(f, total);
  f.insert(f.end(), {0x00, 0x00, 0x40, 0x00, 64, 17, 0x00, 0x00});
  const std::array<std::uint8_t, 4> ia = {192, 0, 2, 1}, ib = {192, 0, 2, 2};
  const auto& isrc = from_initiator ? ia : ib;
  const auto& idst = from_initiator ? ib : ia;
  f.insert(f.end(), isrc.begin(), isrc.end());
  f.insert(f.end(), idst.begin(), idst.end());
  std::uint32_t sum = 0;
  for (std::size_t i = ip_start; i < ip_start + 20; i += 2) {
    sum += static_cast<std::uint32_t>(f[i] << 8 | f[i + 1]);
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  const auto checksum = static_cast<std::uint16_t>(~sum);
  f[ip_start + 10] = static_cast<std::uint8_t>(checksum >> 8);
  f[ip_start + 11] = static_cast<std::uint8_t>(checksum);
  put16(f, 500);
  put16(f, 500);
  put16(f, static_cast<std::uint16_t>(8 + ike.size));
  put16(f, 0);  // no UDP checksum (allowed over IPv4)
  f.insert(f.end(), ike.data, ike.data + ike.size);
  return f;
}

template <class T>
T must(ikeguard::Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "%s: %s\n", what, r.error_message());
    std::exit(1);
  }
  return std::move(r).value();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT.pcap\n", argv[0]);
    return 2;
  }
  std::vector<std::vector<std::uint8_t>> frames;
  std::array<std::uint8_t, 2048> buffer{};
  const wire::MutableBytes out{buffer.data(), buffer.size()};
  const auto add = [&](std::size_t size, bool from_initiator) {
    frames.push_back(frame({buffer.data(), size}, from_initiator));
  };

  // IKE_SA_INIT request: two proposals, X25519 KE, nonce, NAT detection.
  wire::ProposalList offered;
  offered.proposals[0] = must(wire::parse_proposal_text("aes128-sha256-x25519"), "proposal 1");
  offered.proposals[1] = must(wire::parse_proposal_text("aes256gcm16-prfsha384-ecp384-x25519"), "proposal 2");
  offered.proposals[1].number = 2;
  offered.count = 2;
  std::array<std::uint8_t, 512> sa{};
  const std::size_t sa_size = must(wire::build_sa_payload_body({sa.data(), sa.size()}, offered), "SA");
  const auto keys = must(wire::X25519KeyPair::generate(), "X25519");
  std::array<std::uint8_t, 32> nonce{};
  std::array<std::uint8_t, 20> nat_source{}, nat_destination{};
  wire::random_bytes({nonce.data(), nonce.size()});
  wire::random_bytes({nat_source.data(), nat_source.size()});
  wire::random_bytes({nat_destination.data(), nat_destination.size()});
  wire::IkeSaInitMessage request;
  request.initiator_spi = 0x0102030405060708ULL;
  request.sa_payload_body = {sa.data(), sa_size};
  request.ke_group = wire::X25519KeyPair::group;
  request.ke_data = keys.public_value();
  request.nonce = {nonce.data(), nonce.size()};
  request.nat_source = {nat_source.data(), nat_source.size()};
  request.nat_destination = {nat_destination.data(), nat_destination.size()};
  add(must(wire::build_ike_sa_init(out, request), "request"), true);

  // The responder's N(NO_PROPOSAL_CHOSEN) and N(INVALID_KE_PAYLOAD) (data: the group it wants).
  add(must(wire::build_ike_sa_init_error(out, request.initiator_spi, 14), "NO_PROPOSAL_CHOSEN"), false);
  const std::array<std::uint8_t, 2> group = {0x00, 0x1f};
  add(must(wire::build_ike_sa_init_error(out, request.initiator_spi, 17, {group.data(), group.size()}),
           "INVALID_KE_PAYLOAD"),
      false);

  // The responder's acceptance: one proposal, its KE and nonce.
  wire::ProposalList chosen;
  chosen.proposals[0] = offered.proposals[0];
  chosen.count = 1;
  const std::size_t chosen_size =
      must(wire::build_sa_payload_body({sa.data(), sa.size()}, chosen), "chosen SA");
  const auto responder_keys = must(wire::X25519KeyPair::generate(), "X25519");
  wire::IkeSaInitMessage response = request;
  response.response = true;
  response.responder_spi = 0x1112131415161718ULL;
  response.sa_payload_body = {sa.data(), chosen_size};
  response.ke_data = responder_keys.public_value();
  add(must(wire::build_ike_sa_init(out, response), "response"), false);

  // An INFORMATIONAL request with a Notify, and IKEv1's Informational NO-PROPOSAL-CHOSEN.
  add(must(wire::build_informational_notify(out, request.initiator_spi, response.responder_spi, 1,
                                            false, 14),
           "INFORMATIONAL"),
      false);
  add(must(wire::build_ikev1_informational(out, 0x2122232425262728ULL, 0x3132333435363738ULL, 14),
           "IKEv1 Informational"),
      false);

  std::vector<std::uint8_t> file;
  put32le(file, 0xa1b2c3d4);
  file.insert(file.end(), {2, 0, 4, 0});  // version 2.4, little-endian fields
  put32le(file, 0);
  put32le(file, 0);
  put32le(file, 65535);
  put32le(file, 1);  // LINKTYPE_ETHERNET
  std::uint32_t second = 1;
  for (const auto& f : frames) {
    put32le(file, second++);
    put32le(file, 0);
    put32le(file, static_cast<std::uint32_t>(f.size()));
    put32le(file, static_cast<std::uint32_t>(f.size()));
    file.insert(file.end(), f.begin(), f.end());
  }
  std::FILE* handle = std::fopen(argv[1], "wb");
  if (handle == nullptr || std::fwrite(file.data(), 1, file.size(), handle) != file.size() ||
      std::fclose(handle) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  std::printf("%zu messages written\n", frames.size());
  return 0;
}
