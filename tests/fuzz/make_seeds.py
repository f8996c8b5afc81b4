#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes seed corpora for the fuzz targets from the captures (classic pcap, Ethernet/IPv4/UDP).

    make_seeds.py CAPTURES_DIR OUT_DIR

OUT_DIR/fuzz_ikev2 and OUT_DIR/fuzz_ikev1 get every UDP payload (the IKE message, the non-ESP
marker of port 4500 stripped) of the matching major version; OUT_DIR/fuzz_proposals gets the
body of each IKEv2 SA payload, found by walking the cleartext payload chain, and a few proposal
strings; OUT_DIR/fuzz_restore gets snapshots of a few entries, sealed and unsealed (the format
of include/ikeguard/snapshot.hpp; the first byte is the target's mode); OUT_DIR/fuzz_model and
OUT_DIR/fuzz_eviction get a few byte patterns (and fuzz_model the input of a finding). One file per distinct
input, named by its SHA-1 as libFuzzer names its own.
Run at fuzz time: the corpora are build output, never committed.
"""
import hashlib
import hmac
import pathlib
import struct
import sys

PROPOSAL_TEXTS = [
    b"aes128-sha256-x25519",
    b"aes256gcm16-prfsha384-ecp384",
    b"aes128-sha256-modp2048-x25519",
    b"aes192-sha1-prfsha512-modp1024-ecp256",
]


def udp_payloads(path):
    """Yields the UDP payload of every IPv4/UDP frame of a classic pcap file."""
    data = path.read_bytes()
    if len(data) < 24:
        raise ValueError(f"{path}: shorter than a pcap header")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        order = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = ">"
    else:
        raise ValueError(f"{path}: not a classic pcap file")
    (linktype,) = struct.unpack(order + "I", data[20:24])
    if linktype != 1:
        raise ValueError(f"{path}: link type {linktype} is not Ethernet")
    offset = 24
    while offset + 16 <= len(data):
        _, _, captured, _ = struct.unpack(order + "IIII", data[offset:offset + 16])
        offset += 16
        frame = data[offset:offset + captured]
        offset += captured
        if len(frame) < 34 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        if ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 0x0F) * 4
        (total,) = struct.unpack(">H", ip[2:4])
        udp = ip[ihl:total]
        if len(udp) < 8:
            continue
        source_port, destination_port, length = struct.unpack(">HHH", udp[:6])
        payload = udp[8:length]
        if 4500 in (source_port, destination_port) and payload[:4] == b"\x00\x00\x00\x00":
            payload = payload[4:]
        yield payload


def ikev2_sa_bodies(message):
    """Yields the body of each SA payload in an IKEv2 message's cleartext chain."""
    if len(message) < 28:
        return
    next_payload, offset = message[16], 28
    while next_payload != 0 and offset + 4 <= len(message):
        (length,) = struct.unpack(">H", message[offset + 2:offset + 4])
        if length < 4 or offset + length > len(message):
            return
        if next_payload == 33:
            yield message[offset + 4:offset + length]
        if next_payload in (46, 53):  # SK, SKF: the rest is encrypted
            return
        next_payload, offset = message[offset], offset + length


def write(directory, data):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)


def snapshot_record(peer_hash, hold=0, confirmations=0, sender_strikes=0, receiver_strikes=0,
                    sender_left=0, receiver_left=0, since_failure=0, sender_fingerprint=0,
                    receiver_fingerprint=0):
    """One 32-byte record; times in milliseconds."""
    return struct.pack(">QIIIIIBBBB", peer_hash, sender_left, receiver_left, since_failure,
                       sender_fingerprint, receiver_fingerprint, sender_strikes, receiver_strikes,
                       confirmations, hold)


SNAPSHOT_RECORDS = [
    snapshot_record(0x0123456789ABCDEF, receiver_strikes=1, receiver_left=30_000,
                    receiver_fingerprint=0x1111),
    snapshot_record(0x1122334455667788, hold=2, confirmations=1, sender_strikes=1,
                    sender_left=60_000, since_failure=5_000, sender_fingerprint=0x2222),
    snapshot_record(0x8877665544332211, sender_fingerprint=0x3333),
]
# More than the fuzz target's guard holds (8): the latest-ending are kept.
CROWD = [snapshot_record(0x1000 + i, receiver_strikes=1, receiver_left=i * 1000)
         for i in range(1, 13)]


def sealed_snapshot(records, key=bytes(i * 7 % 256 for i in range(32))):
    """A complete snapshot under the fuzz target's key, sealed as the format says."""
    header = b"IKEGSNAP" + struct.pack(">HHI", 1, 32, len(records)) + bytes(16) + bytes(48)
    body = header + b"".join(records)
    mac_key = hashlib.blake2b(b"ikeguard snapshot mac key", key=key, digest_size=32).digest()
    return body + hmac.new(mac_key, body, hashlib.sha512).digest()[:32]


def write_snapshot_seeds(out):
    secrets = bytes(range(64))  # nonce and encrypted keys
    write(out, b"\1" + secrets + b"".join(SNAPSHOT_RECORDS))
    write(out, b"\1" + secrets + b"".join(CROWD))
    write(out, b"\0" + sealed_snapshot(SNAPSHOT_RECORDS))
    write(out, b"\0" + sealed_snapshot(CROWD))
    write(out, b"\0" + sealed_snapshot([])[:40])


def cluster_body(kind, direction, node, sequence, strikes=1, remaining=30_000, hold=0,
                 fingerprint=0x42, family=4, address=bytes([198, 51, 100, 7]), port=500, scope=0):
    """The 64 signed bytes of a cluster record (the format is in include/ikeguard/cluster.hpp)."""
    return (struct.pack(">BBBBQQBBHI", 1, kind, direction, hold, node, sequence, family, 0, port,
                        scope) + address.ljust(16, b"\0") +
            struct.pack(">BBHII", strikes, 2, 14, fingerprint, remaining) + bytes(8))


def write_cluster_seeds(out):
    v6 = bytes.fromhex("20010db8000000000000000000000002")
    bodies = [cluster_body(1, 2, 5, 1), cluster_body(1, 1, 5, 2, hold=1, strikes=0, remaining=2_000),
              cluster_body(2, 2, 6, 9), cluster_body(3, 0, 6, 10),
              cluster_body(1, 2, 7, 3, family=6, address=v6, port=4500, scope=3, strikes=4),
              cluster_body(1, 2, 2**64 - 1, 1)]  # the largest node id
    ages = [b"\0\0", b"\x03\xe8", b"\0\0", b"\0\x10", b"\0\0", b"\0\0"]
    write(out, b"\1" + b"".join(age + body for age, body in zip(ages, bodies)))
    write(out, b"\1" + b"\0\0" + bodies[2] + b"\0\0" + bodies[0])
    write(out, b"\0" + bodies[0] + bytes(32))


# fuzz_model reads its input with libFuzzer's FuzzedDataProvider (choices from the end, bytes
# from the front); any bytes make a policy and operations. This one found the normalisation
# cutting a retry hold longer than max_window (test_model_findings.cpp) with the harness as it
# was then (its decoding has grown since); the rest are patterns that reach every operation.
MODEL_FOUND_RETRY_CUT = bytes.fromhex(
    "6041ffff1900ff6b010061400004d591817e0200306000006b6b3f3f3f3f6b010061400004d5916b6b3f3f"
    "3f3f3f3f3f3f6b6b12ffff2bfcff60ff60ff3f3f3f3f3f3f3f3f3f3f3f3f6b6b6b12ffff2bfcff602d0072"
    "129aff2bfcff602d0072ffffff60ffff233f3fe6")


def write_model_seeds(out):
    write(out, MODEL_FOUND_RETRY_CUT)
    write(out, bytes(range(256)))
    write(out, bytes(range(255, -1, -1)))
    for step in (3, 7, 13, 31):
        write(out, bytes((i * step) % 256 for i in range(200)))


def write_eviction_seeds(out):
    for step in (5, 11, 29):
        write(out, bytes((i * step + 1) % 256 for i in range(400)))
    write(out, bytes([0]) * 64 + bytes([255]) * 64)


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    captures, out = pathlib.Path(argv[1]), pathlib.Path(argv[2])
    pcaps = sorted(captures.glob("*.pcap"))
    if not pcaps:
        sys.exit(f"no .pcap files in {captures}")
    for pcap in pcaps:
        for message in udp_payloads(pcap):
            if len(message) < 28:
                continue
            major = message[17] >> 4
            if major == 2:
                write(out / "fuzz_ikev2", message)
                for body in ikev2_sa_bodies(message):
                    write(out / "fuzz_proposals", body)
            elif major == 1:
                write(out / "fuzz_ikev1", message)
    for text in PROPOSAL_TEXTS:
        write(out / "fuzz_proposals", text)
    write_snapshot_seeds(out / "fuzz_restore")
    write_cluster_seeds(out / "fuzz_cluster")
    write_model_seeds(out / "fuzz_model")
    write_eviction_seeds(out / "fuzz_eviction")
    for target in ("fuzz_ikev2", "fuzz_ikev1", "fuzz_proposals", "fuzz_restore", "fuzz_cluster",
                   "fuzz_model", "fuzz_eviction"):
        count = len(list((out / target).iterdir())) if (out / target).is_dir() else 0
        print(f"{target}: {count} seeds")


if __name__ == "__main__":
    main(sys.argv)
