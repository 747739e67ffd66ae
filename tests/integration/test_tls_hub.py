"""TLS on the real `postern hub`: SNI (exact, wildcard, default), versions
refused and accepted, ALPN, session resumption, certificates swapped under
load with no failed request, OCSP stapling from a real responder."""
import hashlib
import os
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402
import tlslab  # noqa: E402
from frontlab import Front  # noqa: E402

HTTPS = ("127.0.0.1", 8443)

ROUTES = """[route.a]
host = a.test
target = http://127.0.0.1:9001

[route.wild]
host = *.wild.test
target = http://127.0.0.1:9002
"""


class Hub:
    """A hub with an https listener and certificates in [cert.*] files."""

    def __init__(self, lab):
        self.lab = lab
        self.front = Front(lab)
        self.dir = lab.tmpdir
        self.ca = tlslab.CA(self.dir)
        self.certs = {}

    def cert(self, tag, names, **kw):
        self.certs[tag] = self.ca.issue(tag, names, **kw)
        return self.certs[tag]

    def start(self, tls="", workers=2):
        sections = "".join(f"[cert.{t}]\ncert = {c}\nkey = {k}\n"
                           for t, (c, k) in self.certs.items())
        settings = f'listen_https = "{HTTPS[0]}:{HTTPS[1]}"\n{sections}'
        if tls:
            settings += f"[tls]\n{tls}\n"
        self.front.start(routes=ROUTES, settings=settings, workers=workers)
        self.front.wait_port(HTTPS[1])
        return self

    def fp(self, tag):
        return tlslab.fingerprint(self.certs[tag][0])

    def served(self, sni, ctx=None):
        return tlslab.served(self.front.ns.name, HTTPS, sni, ctx)

    def verified_ctx(self, **kw):
        return tlslab.client_ctx(cafile=self.ca.crt, **kw)


def test_sni_exact_wildcard_default(lab):
    h = Hub(lab)
    h.front.upstream(9001, "a")
    h.front.upstream(9002, "w")
    h.cert("a", ["a.test"])
    h.cert("wild", ["*.wild.test"])
    h.cert("dflt", ["default.test"])
    h.start(tls="cert_default = default.test")
    assert h.served("a.test") == h.fp("a")
    assert h.served("A.Test") == h.fp("a")
    assert h.served("x.wild.test") == h.fp("wild")
    assert h.served("X.WILD.TEST") == h.fp("wild")
    # One label only: neither the bare domain nor two labels deep.
    assert h.served("wild.test") == h.fp("dflt")
    assert h.served("a.b.wild.test") == h.fp("dflt")
    assert h.served("unknown.example") == h.fp("dflt")
    assert h.served(None) == h.fp("dflt")
    # curl verifies the chain and the name, and gets through to the route.
    for host, tag in (("a.test", "a"), ("x.wild.test", "w")):
        r = h.front.curl("--cacert", h.ca.crt, "--resolve",
                         f"{host}:{HTTPS[1]}:{HTTPS[0]}", "-w", "\n%{http_code}",
                         f"https://{host}:{HTTPS[1]}/p")
        body, code = r.stdout.rsplit("\n", 1)
        assert (code, body) == ("200", f"{tag} GET /p")
    # s_client -servername agrees (subject of the served certificate).
    r = tlslab.s_client(h.front.ns, HTTPS, "-servername", "y.wild.test")
    assert "subject=CN = *.wild.test" in r.stdout
    r = tlslab.s_client(h.front.ns, HTTPS, "-noservername")
    assert "subject=CN = default.test" in r.stdout


def test_versions_old_refused_by_the_server(lab):
    h = Hub(lab)
    h.cert("a", ["a.test"])
    h.start()
    for flag in ("-tls1", "-tls1_1"):
        # SECLEVEL=0 lets Debian's client offer TLS 1.0/1.1 at all: the
        # refusal must come from the server, as a protocol_version alert.
        r = tlslab.s_client(h.front.ns, HTTPS, "-servername", "a.test", flag,
                            "-cipher", "DEFAULT@SECLEVEL=0")
        out = r.stdout + r.stderr
        assert r.returncode != 0
        assert "alert protocol version" in out, out
        assert "no protocols available" not in out
    for flag, proto in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
        r = tlslab.s_client(h.front.ns, HTTPS, "-servername", "a.test", flag)
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"Protocol  : {proto}" in r.stdout or f"New, {proto}" in r.stdout
    # A TLS 1.2 client offering only CBC or static-RSA suites: refused.
    r = tlslab.s_client(h.front.ns, HTTPS, "-servername", "a.test", "-tls1_2",
                        "-cipher", "ECDHE-ECDSA-AES128-SHA:AES128-GCM-SHA256@SECLEVEL=0")
    assert r.returncode != 0


def alpn_get(h, offer):
    """Connects offering `offer`; returns (negotiated protocol, response)
    for an HTTP/1.1 exchange, or (protocol, None) when it is not h1."""
    t = tlslab.connect(h.front.ns.name, HTTPS, "a.test", h.verified_ctx(alpn=offer))
    try:
        proto = t.selected_alpn_protocol()
        if proto in (None, "http/1.1"):
            return proto, tlslab.get(t, "a.test", "/alpn")
        return proto, None
    finally:
        t.close()


def test_alpn(lab):
    h = Hub(lab)
    h.front.upstream(9001, "a")
    h.cert("a", ["a.test"])
    h.start()
    # Server preference: h2 first, whatever the client's order.
    assert alpn_get(h, ["http/1.1", "h2"])[0] == "h2"
    assert alpn_get(h, ["http/1.1"]) == ("http/1.1", (200, b"a GET /alpn"))
    # No ALPN, or nothing in common: no protocol, HTTP/1.1.
    assert alpn_get(h, None) == (None, (200, b"a GET /alpn"))
    assert alpn_get(h, ["spdy/3"]) == (None, (200, b"a GET /alpn"))
    for version in ("--http2", "--http1.1"):
        r = h.front.curl("--cacert", h.ca.crt, "--resolve",
                         f"a.test:{HTTPS[1]}:{HTTPS[0]}", version, "-o", "/dev/null",
                         "-w", "%{http_code} %{http_version}",
                         f"https://a.test:{HTTPS[1]}/")
        assert r.stdout == ("200 2" if version == "--http2" else "200 1.1")


def test_alpn_configured_http1_only(lab):
    h = Hub(lab)
    h.front.upstream(9001, "a")
    h.cert("a", ["a.test"])
    h.start(tls="alpn = http/1.1")
    assert alpn_get(h, ["h2", "http/1.1"]) == ("http/1.1", (200, b"a GET /alpn"))


def resumed_after(h, version):
    ctx = h.verified_ctx(minv=version, maxv=version)
    t = tlslab.connect(h.front.ns.name, HTTPS, "a.test", ctx)
    tlslab.get(t, "a.test", "/first")	# brings TLS 1.3 tickets in
    sess = t.session
    t.close()
    t = tlslab.connect(h.front.ns.name, HTTPS, "a.test", ctx, session=sess)
    ok = t.session_reused and tlslab.get(t, "a.test", "/again")[0] == 200
    t.close()
    return ok


def test_session_resumption(lab):
    h = Hub(lab)
    h.front.upstream(9001, "a")
    h.cert("a", ["a.test"])
    h.start(workers=2)
    # Tickets are shared by the workers: whichever worker accepts the
    # second connection decrypts the ticket.
    for _ in range(3):
        assert resumed_after(h, ssl.TLSVersion.TLSv1_3)
        assert resumed_after(h, ssl.TLSVersion.TLSv1_2)


def tickets_in(h, *args):
    """One request over openssl s_client (TLS 1.3); returns (reused, number
    of NewSessionTicket messages the hub sent)."""
    req = "GET /t HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"
    r = h.front.ns.run(["openssl", "s_client", "-connect", f"{HTTPS[0]}:{HTTPS[1]}",
                        "-servername", "a.test", "-tls1_3", "-ign_eof", "-msg",
                        *args], check=False, timeout=20, input=req)
    assert "HTTP/1.1 200" in r.stdout, r.stdout[-2000:]
    return "Reused, TLSv1.3" in r.stdout, r.stdout.count(", NewSessionTicket")


def test_tls13_ticket_chain(lab):
    """A full handshake brings two tickets (parallel connections), every
    resumption one fresh ticket for the one it spent, and a resumption
    from a resumed connection's ticket works: a client never falls back
    to a full handshake while it keeps the newest ticket."""
    h = Hub(lab)
    h.front.upstream(9001, "a")
    h.cert("a", ["a.test"])
    h.start(workers=1)
    sess = [os.path.join(h.dir, f"sess{i}") for i in range(4)]
    assert tickets_in(h, "-sess_out", sess[0]) == (False, 2)
    for i in range(1, 4):
        assert tickets_in(h, "-sess_in", sess[i - 1], "-sess_out", sess[i]) == (True, 1)


def test_certificate_swap_under_load(lab):
    h = Hub(lab)
    h.front.upstream(9001, "a")
    crt, key = h.cert("a", ["a.test"])
    h.start(workers=2)
    old_fp = h.fp("a")
    stop = threading.Event()
    stats = {"ok": 0, "fail": [], "fps": set()}
    lock = threading.Lock()
    ctx = h.verified_ctx()

    def load():
        while not stop.is_set():
            try:
                t = tlslab.connect(h.front.ns.name, HTTPS, "a.test", ctx)
                fp = hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest()
                status, body = tlslab.get(t, "a.test", "/load")
                t.close()
                with lock:
                    if status == 200 and body == b"a GET /load":
                        stats["ok"] += 1
                        stats["fps"].add(fp)
                    else:
                        stats["fail"].append(status)
            except Exception as e:  # noqa: BLE001 - every failure counts
                with lock:
                    stats["fail"].append(repr(e))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for th in threads:
        th.start()
    try:
        netlab.wait_until(lambda: stats["ok"] >= 50, timeout=30, what="load running")
        fps = [old_fp]
        for i in range(3):
            # New certificate (same name, same CA), swapped in by a reload.
            ncrt, nkey = h.ca.issue(f"a{i}", ["a.test"])
            os.rename(ncrt, crt)
            os.rename(nkey, key)
            fps.append(tlslab.fingerprint(crt))
            h.front.reload()
            before = stats["ok"]
            netlab.wait_until(lambda: stats["ok"] >= before + 30, timeout=30,
                              what="requests after the swap")
            # A new connection gets the new certificate.
            assert h.served("a.test") == fps[-1]
    finally:
        stop.set()
        for th in threads:
            th.join()
    print("swap under load:", stats["ok"], "requests,", len(stats["fps"]), "certificates seen")
    assert stats["fail"] == []
    assert stats["ok"] > 100
    # Every certificate was served while the load ran.
    assert set(fps) <= stats["fps"] | {fps[0]}
    assert fps[-1] in stats["fps"]


def test_ocsp_stapling_from_real_responder(lab):
    h = Hub(lab)
    port = 8888
    h.cert("a", ["a.test"], ocsp_url=f"http://127.0.0.1:{port}/")
    index = os.path.join(h.dir, "index.txt")
    h.ca.ocsp_index(index)
    rlog = None
    responder = lab.spawn(h.front.ns, [
        "openssl", "ocsp", "-index", index, "-port", str(port), "-rsigner",
        h.ca.crt, "-rkey", h.ca.key, "-CA", h.ca.crt, "-nmin", "30"],
        name="ocsp")
    rlog = responder.log
    netlab.wait_until(lambda: "waiting for OCSP client connections" in rlog(),
                      what="OCSP responder")
    h.start()

    def stapled():
        r = tlslab.s_client(h.front.ns, HTTPS, "-servername", "a.test", "-status")
        return "OCSP Response Status: successful" in r.stdout and r.stdout

    out = netlab.wait_until(stapled, timeout=30, what="a stapled OCSP response")
    assert "Cert Status: good" in out
    assert "Serial Number: %X" % h.ca.serial in out
    # Clients that do not ask get no staple.
    r = tlslab.s_client(h.front.ns, HTTPS, "-servername", "a.test")
    assert "OCSP response" not in r.stdout
