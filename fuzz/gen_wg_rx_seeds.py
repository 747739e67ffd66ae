#!/usr/bin/python3
"""Writes the seed corpus of fuzz/fuzz_wg_rx.c into fuzz/corpus/fuzz_wg_rx/:
valid messages of every type from tests/vectors/wg_handshake.py (whose keys
the harness's devices use), framed for each of the harness's modes."""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "vectors"))
import wg_handshake as v  # noqa: E402


def frame(*msgs):
    return b"".join(struct.pack("<H", len(m)) + m for m in msgs)


def main():
    init, resp, data = v.build()
    cookie = struct.pack("<II", 3, 0x11223344) + bytes(range(24)) + bytes(32)
    ipv4 = bytes.fromhex("4500001c0000400040110000") + bytes([10, 0, 0, 1, 10, 0, 0, 2]) \
        + bytes.fromhex("0035003500080000")
    ipv6 = bytes.fromhex("6000000000081140") + bytes(15) + b"\1" + bytes(15) + b"\2" \
        + bytes.fromhex("0035003500080000")
    seeds = {
        "raw_initiation": b"\0" + frame(init),
        "raw_all_types": b"\0" + frame(init, resp, cookie, data),
        "raw_short": b"\0" + frame(init[:100], data[:20], b"\4\0\0\0"),
        "handshake_clean": b"\1",
        "handshake_flip": b"\1" + bytes(40) + b"\x80" + bytes(60),
        "inner_v4": b"\2" + ipv4,
        "inner_v6": b"\2" + ipv6,
        "inner_bad_len": b"\2" + ipv4[:2] + b"\xff\xff" + ipv4[4:],
        "cookie_clean": b"\3",
        "cookie_flip": b"\3" + bytes(10) + b"\1",
        "data_counter0": b"\4" + struct.pack("<Q", 0) + bytes(48),
        "data_far": b"\4" + struct.pack("<Q", 1 << 62) + bytes(16),
    }
    out = os.path.join(HERE, "corpus", "fuzz_wg_rx")
    os.makedirs(out, exist_ok=True)
    for name, blob in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main()
