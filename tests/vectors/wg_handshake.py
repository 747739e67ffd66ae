#!/usr/bin/python3
"""An independent computation of one WireGuard handshake, for the
known-answer test in tests/unit/test_wg_noise.c.

Written from the WireGuard paper (section 5.4) with Python's hashlib
BLAKE2s, hmac and the `cryptography` package's X25519 and ChaCha20-Poly1305,
sharing no code with Postern. Run it to print the C arrays the test embeds:

    python3 tests/vectors/wg_handshake.py
"""
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey)
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

RAW = serialization.Encoding.Raw
PUBRAW = serialization.PublicFormat.Raw


def h(*parts):
    return hashlib.blake2s(b"".join(parts)).digest()


def mac(key, data):
    return hashlib.blake2s(data, key=key, digest_size=16).digest()


def hm(key, data):
    return hmac.new(key, data, hashlib.blake2s).digest()


def kdf(ck, data, n):
    prk = hm(ck, data)
    out, t = [], b""
    for i in range(1, n + 1):
        t = hm(prk, t + bytes([i]))
        out.append(t)
    return out


def pub(priv):
    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(RAW, PUBRAW)


def dh(priv, pubkey):
    return X25519PrivateKey.from_private_bytes(priv).exchange(
        X25519PublicKey.from_public_bytes(pubkey))


def aead(key, ctr, plain, ad):
    return ChaCha20Poly1305(key).encrypt(b"\0" * 4 + struct.pack("<Q", ctr), plain, ad)


def seq(start, n=32):
    return bytes((start + i) & 0xff for i in range(n))


# Fixed inputs (the test uses the same).
S_I = seq(0x10)          # initiator static private key
S_R = seq(0x40)          # responder static private key
E_I = seq(0x70)          # initiator ephemeral
E_R = seq(0xa0)          # responder ephemeral
PSK = seq(0xd0)
TAI = bytes.fromhex("400000006553f1000c000000")
IDX_I, IDX_R = 0x11223344, 0x55667788
PLAIN = b"hello, wireguard"  # 16 bytes: no padding


def build():
    """Returns (initiation, response, first data message) and keys."""
    spub_i, spub_r = pub(S_I), pub(S_R)
    ck = h(b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s")
    hh = h(ck, b"WireGuard v1 zx2c4 Jason@zx2c4.com")
    hh = h(hh, spub_r)
    # Initiation.
    epub_i = pub(E_I)
    ck, = kdf(ck, epub_i, 1)
    hh = h(hh, epub_i)
    ck, k = kdf(ck, dh(E_I, spub_r), 2)
    enc_static = aead(k, 0, spub_i, hh)
    hh = h(hh, enc_static)
    ck, k = kdf(ck, dh(S_I, spub_r), 2)
    enc_ts = aead(k, 0, TAI, hh)
    hh = h(hh, enc_ts)
    init = struct.pack("<II", 1, IDX_I) + epub_i + enc_static + enc_ts
    init += mac(h(b"mac1----", spub_r), init) + b"\0" * 16
    # Response.
    epub_r = pub(E_R)
    ck, = kdf(ck, epub_r, 1)
    hh = h(hh, epub_r)
    ck, = kdf(ck, dh(E_R, epub_i), 1)
    ck, = kdf(ck, dh(E_R, spub_i), 1)
    ck, t, k = kdf(ck, PSK, 3)
    hh = h(hh, t)
    enc_nothing = aead(k, 0, b"", hh)
    hh = h(hh, enc_nothing)
    resp = struct.pack("<III", 2, IDX_R, IDX_I) + epub_r + enc_nothing
    resp += mac(h(b"mac1----", spub_i), resp) + b"\0" * 16
    # Transport: initiator -> responder, counter 0.
    t_send_i, t_recv_i = kdf(ck, b"", 2)
    data = struct.pack("<IIQ", 4, IDX_R, 0) + aead(t_send_i, 0, PLAIN, b"")
    build.keys = (t_send_i, t_recv_i)
    return init, resp, data


def main():
    init, resp, data = build()
    t_send_i, t_recv_i = build.keys

    def arr(name, b):
        hx = ", ".join(f"0x{x:02x}" for x in b)
        print(f"static const uint8_t {name}[{len(b)}] = {{ {hx} }};")

    arr("kat_initiation", init)
    arr("kat_response", resp)
    arr("kat_data", data)
    arr("kat_send_i", t_send_i)
    arr("kat_recv_i", t_recv_i)


if __name__ == "__main__":
    main()
