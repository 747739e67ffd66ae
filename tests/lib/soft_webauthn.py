"""A software WebAuthn authenticator for the tests: an implementation of
the client and authenticator side independent of the hub's C verifier
(keys and signatures from python3-cryptography, CBOR written here), so
the passkey ceremonies can be driven, and bent, from Python."""
import base64
import hashlib
import json
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

UP, UV, AT = 0x01, 0x04, 0x40


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def cbor(v):
    """Canonical-enough CBOR for the types WebAuthn uses."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | ai]) + n.to_bytes(size, "big")
        raise ValueError(n)
    if v is None:
        return b"\xf6"
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        return head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(type(v))


class Authenticator:
    """One credential (a passkey) of algorithm `alg` (-7 ES256, -8 EdDSA,
    -257 RS256) with its signature counter."""

    def __init__(self, alg=-7):
        self.alg = alg
        if alg == -7:
            self.key = ec.generate_private_key(ec.SECP256R1())
        elif alg == -8:
            self.key = ed25519.Ed25519PrivateKey.generate()
        else:
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.cred_id = os.urandom(32)
        self.counter = 0
        self.user_handle = None

    def cose(self):
        pub = self.key.public_key()
        if self.alg == -7:
            n = pub.public_numbers()
            return {1: 2, 3: -7, -1: 1, -2: n.x.to_bytes(32, "big"), -3: n.y.to_bytes(32, "big")}
        if self.alg == -8:
            raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return {1: 1, 3: -8, -1: 6, -2: raw}
        n = pub.public_numbers()
        return {1: 3, 3: -257, -1: n.n.to_bytes(256, "big"), -2: n.e.to_bytes(3, "big")}

    def sign(self, data):
        if self.alg == -7:
            return self.key.sign(data, ec.ECDSA(hashes.SHA256()))
        if self.alg == -8:
            return self.key.sign(data)
        return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def authdata(self, rp_id, flags, counter, attested=False):
        ad = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + \
            counter.to_bytes(4, "big")
        if attested:
            ad += bytes(16) + len(self.cred_id).to_bytes(2, "big") + self.cred_id + \
                cbor(self.cose())
        return ad

    @staticmethod
    def client_data(typ, challenge, origin):
        return json.dumps({"type": typ, "challenge": challenge, "origin": origin,
                           "crossOrigin": False}).encode()

    def register(self, opts, origin, name="key", rp_id=None, flags=UP | UV | AT,
                 typ="webauthn.create", challenge=None, fmt="none"):
        """The body of POST /passkey/register for creation options `opts`."""
        cd = self.client_data(typ, challenge or opts["challenge"], origin)
        ad = self.authdata(rp_id or opts["rp"]["id"], flags, self.counter, attested=True)
        att = cbor({"fmt": fmt, "attStmt": {}, "authData": ad})
        self.user_handle = unb64u(opts["user"]["id"])
        return {"name": name, "id": b64u(self.cred_id), "clientDataJSON": b64u(cd),
                "attestationObject": b64u(att)}

    def assertion(self, opts, origin, rp_id=None, flags=UP | UV, counter=None,
                  challenge=None, typ="webauthn.get", user_handle=None, rd=""):
        """The body of POST /login/passkey for request options `opts`."""
        if counter is None:
            self.counter += 1
            counter = self.counter
        cd = self.client_data(typ, challenge or opts["challenge"], origin)
        ad = self.authdata(rp_id or opts["rpId"], flags, counter)
        sig = self.sign(ad + hashlib.sha256(cd).digest())
        uh = self.user_handle if user_handle is None else user_handle
        return {"id": b64u(self.cred_id), "clientDataJSON": b64u(cd),
                "authenticatorData": b64u(ad), "signature": b64u(sig),
                "userHandle": b64u(uh) if uh else None, "rd": rd}
