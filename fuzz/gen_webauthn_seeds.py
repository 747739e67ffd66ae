#!/usr/bin/python3
"""Writes the seed corpora of fuzz/fuzz_webauthn_{client,authdata,cbor}.c:
clientDataJSON, authenticatorData and CBOR (attestationObject, COSE keys)
from the tests' software authenticator (tests/lib/soft_webauthn.py), one
credential per algorithm (EdDSA, ES256, RS256)."""
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import soft_webauthn as w  # noqa: E402

ORIGIN, RP = "https://hub.test", "hub.test"


def write(name, seeds):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for k, v in seeds.items():
        with open(os.path.join(d, k), "wb") as f:
            f.write(v)


def main():
    client, authdata, cb = {}, {}, {}
    chal = w.b64u(bytes(32))
    client["create"] = w.Authenticator.client_data("webauthn.create", chal, ORIGIN)
    client["get"] = w.Authenticator.client_data("webauthn.get", chal, ORIGIN)
    client["cross_origin"] = b'{"type":"webauthn.get","challenge":"' + chal.encode() + \
        b'","origin":"https://hub.test","crossOrigin":true,"topOrigin":"https://x.test"}'
    for alg, name in ((-8, "eddsa"), (-7, "es256"), (-257, "rs256")):
        a = w.Authenticator(alg)
        reg = a.authdata(RP, w.UP | w.UV | w.AT, 0, attested=True)
        authdata[f"registration_{name}"] = reg
        authdata[f"assertion_{name}"] = a.authdata(RP, w.UP | w.UV, 7)
        cb[f"attestation_{name}"] = b"\0" + w.cbor({"fmt": "none", "attStmt": {}, "authData": reg})
        cb[f"cose_{name}"] = b"\1" + w.cbor(a.cose())
    ext = w.cbor({"credProtect": 2})
    authdata["extensions"] = hashlib.sha256(RP.encode()).digest() + bytes([0x85]) + \
        bytes(4) + ext
    cb["walk_nested"] = b"\2" + w.cbor([{1: [b"x", "y", -3]}, True, None])
    write("fuzz_webauthn_client", client)
    write("fuzz_webauthn_authdata", authdata)
    write("fuzz_webauthn_cbor", cb)


if __name__ == "__main__":
    main()
