#!/usr/bin/env python3
"""Minimal IKEv2 IKE_SA_INIT prober for the interop tests (standard library only).

  probe_ikev2.py init --port P [--proposal aes128-sha256-x25519[-ecp256...]]
                      [--ke-group x25519] [--no-natd] [--src-port N]
                      [--repeat N] [--timeout S]
      Sends an IKE_SA_INIT request from 127.0.0.1 to 127.0.0.1:P (N times, the
      same bytes) with a random KE of the group's size and a 32-byte nonce;
      prints each response in hex and its payloads. Exit 0 if all were
      answered. Random bytes are a valid X25519 key, but not a valid ECP or
      MODP value: charon answers those with N(NO_PROPOSAL_CHOSEN) once the
      group itself is accepted ("applying DH public value failed").

  probe_ikev2.py responder --port P --mode nopc|drop --seconds S
      Listens on 127.0.0.1:P; prints a timestamped line per IKE_SA_INIT
      request; in nopc mode answers each with N(NO_PROPOSAL_CHOSEN).

charon (like RFC 3948 on port 4500) puts a 4-byte zero Non-ESP marker before
every IKE message whose source and destination ports are both other than 500,
and drops such a message without the marker as if it were ESP: this prober adds
and strips the marker by the same rule. Hex dumps show the IKE message only.
"""
import argparse
import hashlib
import os
import socket
import struct
import sys
import time

IKE_SA_INIT = 34
PT_SA, PT_KE, PT_NONCE, PT_NOTIFY = 33, 34, 40, 41
PT_NAMES = {33: "SA", 34: "KE", 35: "IDi", 36: "IDr", 37: "CERT", 38: "CERTREQ",
            39: "AUTH", 40: "Nonce", 41: "N", 42: "D", 43: "V", 46: "SK"}
NOTIFY_NAMES = {14: "NO_PROPOSAL_CHOSEN", 17: "INVALID_KE_PAYLOAD",
                16388: "NAT_DETECTION_SOURCE_IP", 16389: "NAT_DETECTION_DESTINATION_IP",
                16390: "COOKIE", 16430: "IKEV2_FRAGMENTATION_SUPPORTED",
                16431: "SIGNATURE_HASH_ALGORITHMS", 16404: "MULTIPLE_AUTH_SUPPORTED",
                16406: "REDIRECT_SUPPORTED", 16418: "CHILDLESS_IKEV2_SUPPORTED"}
ENCR = {"aes128": (12, 128), "aes192": (12, 192), "aes256": (12, 256)}
HASH = {"sha1": (2, 2), "sha256": (5, 12), "sha384": (6, 13), "sha512": (7, 14)}  # (prf, integ)
GROUPS = {"modp2048": (14, 256), "ecp256": (19, 64), "ecp384": (20, 96),
          "ecp521": (21, 132), "x25519": (31, 32), "x448": (32, 56)}


def payload(next_type, body):
    return struct.pack("!BBH", next_type, 0, 4 + len(body)) + body


def transform(last, ttype, tid, attrs=b""):
    return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attrs), ttype, 0, tid) + attrs


def sa_body(proposal):
    """proposal: 'encr-hash-group[-group...]' in strongSwan syntax."""
    parts = proposal.split("-")
    encr, keylen = ENCR[parts[0]]
    prf, integ = HASH[parts[1]]
    groups = [GROUPS[g][0] for g in parts[2:]]
    ts = [(1, encr, struct.pack("!HH", 0x800E, keylen)), (2, prf, b""), (3, integ, b"")]
    ts += [(4, g, b"") for g in groups]
    body = b"".join(transform(i == len(ts) - 1, ttype, tid, attrs)
                    for i, (ttype, tid, attrs) in enumerate(ts))
    # one proposal, number 1, protocol IKE, no SPI
    return struct.pack("!BBHBBBB", 0, 0, 8 + len(body), 1, 1, 0, len(ts)) + body


def natd(spi_i, spi_r, addr, port):
    return hashlib.sha1(spi_i + spi_r + socket.inet_aton(addr) + struct.pack("!H", port)).digest()


def build_init(spi_i, proposal, ke_group, natd_ports=None):
    group_id, ke_len = GROUPS[ke_group]
    chain = [(PT_SA, sa_body(proposal)),
             (PT_KE, struct.pack("!HH", group_id, 0) + os.urandom(ke_len)),
             (PT_NONCE, os.urandom(32))]
    if natd_ports:
        src_port, dst_port = natd_ports
        zero = bytes(8)
        chain.append((PT_NOTIFY, struct.pack("!BBH", 0, 0, 16388) + natd(spi_i, zero, "127.0.0.1", src_port)))
        chain.append((PT_NOTIFY, struct.pack("!BBH", 0, 0, 16389) + natd(spi_i, zero, "127.0.0.1", dst_port)))
    body = b""
    for i, (_, b) in enumerate(chain):
        nxt = chain[i + 1][0] if i + 1 < len(chain) else 0
        body += payload(nxt, b)
    hdr = struct.pack("!8s8sBBBBII", spi_i, bytes(8), chain[0][0], 0x20, IKE_SA_INIT, 0x08, 0, 28 + len(body))
    return hdr + body


MARKER = bytes(4)


def needs_marker(port_a, port_b):
    return port_a != 500 and port_b != 500


def unwrap(data, port_a, port_b):
    """The IKE message in a datagram, or None for anything else (ESP)."""
    if needs_marker(port_a, port_b):
        return data[4:] if data[:4] == MARKER else None
    return data


def parse(msg):
    spi_i, spi_r, nxt, ver, exch, flags, mid, length = struct.unpack("!8s8sBBBBII", msg[:28])
    lines = ["SPIi=%s SPIr=%s next=%d version=0x%02x exchange=%d flags=0x%02x msgid=%d length=%d"
             % (spi_i.hex(), spi_r.hex(), nxt, ver, exch, flags, mid, length)]
    off, order = 28, []
    while nxt and off + 4 <= len(msg):
        cur = nxt
        nxt, _, plen = struct.unpack("!BBH", msg[off:off + 4])
        body = msg[off + 4:off + plen]
        name = PT_NAMES.get(cur, str(cur))
        if cur == PT_NOTIFY:
            proto, spisize, ntype = struct.unpack("!BBH", body[:4])
            data = body[4 + spisize:]
            name = "N(%s)" % NOTIFY_NAMES.get(ntype, ntype)
            lines.append("  %s type=%d proto=%d spisize=%d data=%s" % (name, ntype, proto, spisize, data.hex()))
        elif cur == PT_KE:
            lines.append("  KE group=%d data_len=%d" % (struct.unpack("!H", body[:2])[0], len(body) - 4))
        else:
            lines.append("  %s len=%d" % (name, plen))
        order.append(name)
        off += plen
    lines.append("payloads: " + ", ".join(order))
    return "\n".join(lines)


def cmd_init(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", args.src_port))
    src_port = sock.getsockname()[1]
    spi_i = os.urandom(8)
    msg = build_init(spi_i, args.proposal, args.ke_group,
                     None if args.no_natd else (src_port, args.port))
    print("request (%d bytes): %s" % (len(msg), msg.hex()))
    print(parse(msg))
    marker = MARKER if needs_marker(src_port, args.port) else b""
    sock.settimeout(args.timeout)
    answered = 0
    for _ in range(args.repeat):  # the same bytes each time, like a retransmission
        sock.sendto(marker + msg, ("127.0.0.1", args.port))
        try:
            data, peer = sock.recvfrom(65535)
        except socket.timeout:
            print("no response within %.1f s" % args.timeout)
            continue
        resp = unwrap(data, src_port, peer[1])
        if resp is None or len(resp) < 28:
            print("response is not IKE: %s" % data.hex())
            continue
        answered += 1
        print("response (%d bytes) from %s:%d: %s" % (len(resp), peer[0], peer[1], resp.hex()))
        print(parse(resp))
    return 0 if answered == args.repeat else 1


def cmd_responder(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", args.port))
    sock.settimeout(0.2)
    start = time.monotonic()
    count = 0
    while time.monotonic() - start < args.seconds:
        try:
            data, peer = sock.recvfrom(65535)
        except socket.timeout:
            continue
        msg = unwrap(data, args.port, peer[1])
        if msg is None or len(msg) < 28:
            continue
        spi_i, _, _, _, exch, flags, mid, _ = struct.unpack("!8s8sBBBBII", msg[:28])
        if exch != IKE_SA_INIT or flags & 0x20:
            continue
        count += 1
        print("%.3f request #%d from %s:%d SPIi=%s msgid=%d len=%d"
              % (time.monotonic() - start, count, peer[0], peer[1], spi_i.hex(), mid, len(msg)), flush=True)
        if args.mode == "nopc":
            body = payload(0, struct.pack("!BBH", 0, 0, 14))
            hdr = struct.pack("!8s8sBBBBII", spi_i, bytes(8), PT_NOTIFY, 0x20, IKE_SA_INIT, 0x20, mid,
                              28 + len(body))
            marker = MARKER if needs_marker(args.port, peer[1]) else b""
            sock.sendto(marker + hdr + body, peer)
    print("total requests: %d" % count, flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("init")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--proposal", default="aes128-sha256-x25519")
    p.add_argument("--ke-group", default=None, help="group of the KE payload (default: first group)")
    p.add_argument("--src-port", type=int, default=0, help="source port (default: any)")
    p.add_argument("--no-natd", action="store_true", help="omit the NAT detection notifies")
    p.add_argument("--timeout", type=float, default=3.0)
    p.add_argument("--repeat", type=int, default=1, help="send the same request N times")
    p = sub.add_parser("responder")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=["nopc", "drop"], default="nopc")
    p.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    if args.cmd == "init":
        args.ke_group = args.ke_group or args.proposal.split("-")[2]
        return cmd_init(args)
    return cmd_responder(args)


if __name__ == "__main__":
    sys.exit(main())
