// SPDX-License-Identifier: MIT
// A tiny reader of classic pcap files (not pcapng), for the captures in tests/data/captures:
// Ethernet, IPv4, UDP. Frames of any other kind (the ICMP port-unreachables of a capture, ARP)
// are skipped; a 4-byte zero non-ESP marker is stripped on port 4500 (RFC 3948 2.2).
#pragma once

#include <ikeguard/wire/bytes.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#ifndef IKEGUARD_TEST_DATA_DIR
#  error "IKEGUARD_TEST_DATA_DIR must name tests/data"
#endif

namespace ikeguard::test {

/// One UDP datagram of a capture, its payload being the IKE message.
struct Datagram {
  std::uint32_t ts_sec = 0;
  std::uint32_t ts_usec = 0;
  std::array<std::uint8_t, 4> source{};
  std::array<std::uint8_t, 4> destination{};
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::vector<std::uint8_t> payload;

  wire::Bytes bytes() const { return wire::Bytes{payload.data(), payload.size()}; }
};

/// The path of a file in tests/data/captures.
inline std::string capture_path(const std::string& file) {
  return std::string(IKEGUARD_TEST_DATA_DIR) + "/captures/" + file;
}

namespace pcap_detail {

[[noreturn]] inline void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

inline std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

inline std::uint32_t u32(const std::uint8_t* p, bool big_endian) {
  const std::uint32_t b0 = p[0], b1 = p[1], b2 = p[2], b3 = p[3];
  return big_endian ? (b0 << 24) | (b1 << 16) | (b2 << 8) | b3
                    : (b3 << 24) | (b2 << 16) | (b1 << 8) | b0;
}

constexpr std::size_t file_header_size = 24;
constexpr std::size_t record_header_size = 16;
constexpr std::size_t ethernet_header_size = 14;
constexpr std::size_t udp_header_size = 8;
constexpr std::uint32_t linktype_ethernet = 1;
constexpr std::uint16_t ethertype_ipv4 = 0x0800;
constexpr std::uint8_t ip_protocol_udp = 17;
constexpr std::uint16_t nat_t_port = 4500;

}  // namespace pcap_detail

/// Every UDP datagram of a capture in tests/data/captures, in file order.
inline std::vector<Datagram> read_pcap(const std::string& file) {
  using namespace pcap_detail;
  const std::string path = capture_path(file);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open");
  const std::vector<std::uint8_t> d((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
  if (d.size() < file_header_size) fail(path, "shorter than a pcap file header");

  // The magic, read big-endian: microsecond or nanosecond timestamps, either byte order.
  const std::uint32_t magic = u32(d.data(), true);
  bool big_endian = false;
  bool nanoseconds = false;
  switch (magic) {
    case 0xa1b2c3d4: big_endian = true; break;
    case 0xd4c3b2a1: big_endian = false; break;
    case 0xa1b23c4d: big_endian = true; nanoseconds = true; break;
    case 0x4d3cb2a1: big_endian = false; nanoseconds = true; break;
    default: fail(path, "not a classic pcap file");
  }
  if (u32(d.data() + 20, big_endian) != linktype_ethernet) fail(path, "link type is not Ethernet");

  std::vector<Datagram> datagrams;
  std::size_t offset = file_header_size;
  while (offset < d.size()) {
    if (d.size() - offset < record_header_size) fail(path, "truncated record header");
    const std::uint8_t* const r = d.data() + offset;
    Datagram datagram;
    datagram.ts_sec = u32(r, big_endian);
    datagram.ts_usec = u32(r + 4, big_endian) / (nanoseconds ? 1000u : 1u);
    const std::size_t captured = u32(r + 8, big_endian);
    offset += record_header_size;
    if (d.size() - offset < captured) fail(path, "truncated record");
    const std::uint8_t* const frame = d.data() + offset;
    offset += captured;

    if (captured < ethernet_header_size + 20) continue;
    if (be16(frame + 12) != ethertype_ipv4) continue;
    const std::uint8_t* const ip = frame + ethernet_header_size;
    const std::size_t ip_available = captured - ethernet_header_size;
    if ((ip[0] >> 4) != 4) continue;
    const std::size_t ihl = std::size_t{ip[0] & 0x0fu} * 4;
    const std::size_t ip_total = be16(ip + 2);
    if (ihl < 20 || ip_total < ihl || ip_total > ip_available) fail(path, "bad IPv4 header");
    if (ip[9] != ip_protocol_udp) continue;
    if (ip_total - ihl < udp_header_size) fail(path, "truncated UDP header");
    const std::uint8_t* const udp = ip + ihl;
    const std::size_t udp_length = be16(udp + 4);
    if (udp_length < udp_header_size || udp_length > ip_total - ihl) fail(path, "bad UDP length");

    std::copy(ip + 12, ip + 16, datagram.source.begin());
    std::copy(ip + 16, ip + 20, datagram.destination.begin());
    datagram.source_port = be16(udp);
    datagram.destination_port = be16(udp + 2);
    const std::uint8_t* payload = udp + udp_header_size;
    std::size_t payload_size = udp_length - udp_header_size;
    if ((datagram.source_port == nat_t_port || datagram.destination_port == nat_t_port) &&
        payload_size >= 4 && payload[0] == 0 && payload[1] == 0 && payload[2] == 0 && payload[3] == 0) {
      payload += 4;
      payload_size -= 4;
    }
    datagram.payload.assign(payload, payload + payload_size);
    datagrams.push_back(std::move(datagram));
  }
  return datagrams;
}

}  // namespace ikeguard::test
