"""tlslab - certificates made by tests (with the openssl tool) and TLS
clients that run inside a test namespace.

    ca = CA(dir)                                   # a test root CA
    crt, key = ca.issue("a.test", ["a.test"])      # leaf (+ AIA OCSP url)
    fp = fingerprint(crt)                          # sha256 of the DER
    served(ns_name, ("127.0.0.1", 8443), "a.test") # what a client gets
"""
import hashlib
import os
import socket
import ssl
import subprocess

from frontlab import ns_socket, read_head


def _run(*argv):
    subprocess.run(argv, check=True, capture_output=True, timeout=60)


class CA:
    """A root CA in `d`, EC P-256, made with the openssl command."""

    def __init__(self, d, name="Postern Test CA"):
        self.dir = d
        self.crt = os.path.join(d, "ca.crt")
        self.key = os.path.join(d, "ca.key")
        self.serial = 0x1000
        _run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.key,
             "-out", self.crt, "-days", "30", "-subj", f"/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self.issued = []	# (serial hex, subject, not_after openssl text)

    def issue(self, tag, names, ocsp_url=None, days=30):
        """Issues a leaf for `names`; returns (chain path, key path). The
        chain file holds the leaf then the CA (as a server sends it)."""
        self.serial += 1
        leaf = os.path.join(self.dir, f"{tag}.leaf.crt")
        crt = os.path.join(self.dir, f"{tag}.crt")
        key = os.path.join(self.dir, f"{tag}.key")
        csr = os.path.join(self.dir, f"{tag}.csr")
        ext = os.path.join(self.dir, f"{tag}.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=" + ",".join("DNS:" + n for n in names) + "\n")
            f.write("basicConstraints=critical,CA:FALSE\n")
            f.write("extendedKeyUsage=serverAuth\n")
            if ocsp_url:
                f.write(f"authorityInfoAccess=OCSP;URI:{ocsp_url}\n")
        _run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out",
             csr, "-subj", f"/CN={names[0]}")
        _run("openssl", "x509", "-req", "-in", csr, "-CA", self.crt,
             "-CAkey", self.key, "-set_serial", str(self.serial), "-days",
             str(days), "-extfile", ext, "-out", leaf)
        with open(crt, "w") as out, open(leaf) as a, open(self.crt) as b:
            out.write(a.read() + b.read())
        self.issued.append(("%X" % self.serial, f"/CN={names[0]}", leaf))
        return crt, key

    def ocsp_index(self, path):
        """Writes an `openssl ocsp -index` file listing every issued leaf
        as valid."""
        lines = []
        for serial, subject, leaf in self.issued:
            end = subprocess.run(["openssl", "x509", "-in", leaf, "-noout",
                                  "-enddate", "-dateopt", "iso_8601"],
                                 check=True, capture_output=True, text=True)
            # notAfter=2026-12-24 22:00:00Z -> 261224220000Z
            d = end.stdout.strip().split("=", 1)[1]
            stamp = d[2:4] + d[5:7] + d[8:10] + d[11:13] + d[14:16] + d[17:19] + "Z"
            lines.append(f"V\t{stamp}\t\t{serial}\tunknown\t{subject}\n")
        with open(path, "w") as f:
            f.writelines(lines)


def selfsigned(d, tag, names, days=30, san=True):
    """A self-signed P-256 certificate for `names` (the first is the CN,
    and all are DNS subjectAltNames unless not `san`), valid for `days`.
    Returns the paths of D/TAG.crt and D/TAG.key."""
    crt = os.path.join(d, f"{tag}.crt")
    key = os.path.join(d, f"{tag}.key")
    sans = ["-addext", "subjectAltName=" + ",".join("DNS:" + n for n in names)] if san else []
    _run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
         "-days", str(days), "-subj", f"/CN={names[0]}", *sans)
    return crt, key


def selfsigned_pem(d, name, days, san=True):
    """selfsigned() for one name, as PEM text: (certificate, key)."""
    crt, key = selfsigned(d, name, [name], days, san)
    with open(crt) as c, open(key) as k:
        return c.read(), k.read()


def fingerprint(crt_path):
    """SHA-256 of the first certificate's DER in a PEM file."""
    with open(crt_path) as f:
        pem = f.read()
    first = pem[:pem.index("-----END CERTIFICATE-----") + 25]
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(first)).hexdigest()


def client_ctx(cafile=None, minv=None, maxv=None, alpn=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cafile:
        ctx.load_verify_locations(cafile)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if minv:
        ctx.minimum_version = minv
    if maxv:
        ctx.maximum_version = maxv
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def connect(ns_name, addr, sni, ctx=None, session=None, timeout=10):
    """A TLS connection from inside the namespace; returns the SSLSocket."""
    s = ns_socket(ns_name)
    s.settimeout(timeout)
    s.connect(addr)
    ctx = ctx or client_ctx()
    return ctx.wrap_socket(s, server_hostname=sni, session=session)


def served(ns_name, addr, sni, ctx=None):
    """The SHA-256 fingerprint of the certificate served for `sni` (None:
    no SNI)."""
    t = connect(ns_name, addr, sni, ctx)
    try:
        return hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest()
    finally:
        t.close()


def get(t, host, path="/"):
    """One HTTP/1.1 request on an established TLS socket; returns
    (status, body bytes). Reads until the response is complete."""
    t.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    status, hdrs, rest = read_head(t)
    n = int(hdrs.get("content-length", 0))
    while len(rest) < n:
        d = t.recv(65536)
        if not d:
            raise EOFError(rest)
        rest += d
    return status, rest[:n]


def s_client(ns, addr, *args, timeout=20):
    """Runs openssl s_client inside `ns` (a netlab.Netns) with stdin closed;
    returns the CompletedProcess (never raises on a failed handshake)."""
    host, port = addr
    return ns.run(["openssl", "s_client", "-connect", f"{host}:{port}", *args],
                  check=False, timeout=timeout, stdin=subprocess.DEVNULL)


def socket_closed(s):
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, socket.timeout, ssl.SSLError):
        return True
