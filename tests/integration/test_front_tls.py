"""The front over TLS: the handshake in the worker loop, HTTP/1.1 on top,
HSTS and the HTTP->HTTPS redirect. (SNI selection, wildcards, protocol
versions and certificate swaps are tested by the TLS module's suites.)"""
import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

from frontlab import Front  # noqa: E402
from observe_upstream import stream_sha256  # noqa: E402

ROUTES = """[route.app]
host = app.test
target = http://127.0.0.1:9001
redirect_https = true
hsts_max_age = 31536000
"""


def start(lab):
    f = Front(lab)
    up = f.upstream(9001, "a")
    certs = os.path.join(lab.tmpdir, "certs")
    os.makedirs(certs)
    f.start(routes=ROUTES, settings=f'listen_https = "127.0.0.1:8443"\n[tls]\n'
            f'cert_dir = {certs}\nselfsigned_name = app.test\n')
    f.wait_port(8443)
    return f, up


def https(f, *args, check=True):
    return f.curl("-k", "--http1.1", "--resolve", "app.test:8443:127.0.0.1", *args, check=check)


def test_https_proxy_and_hsts(lab):
    f, up = start(lab)
    r = https(f, "-i", "https://app.test:8443/x")
    assert r.stdout.startswith("HTTP/1.1 200")
    assert "Strict-Transport-Security: max-age=31536000" in r.stdout
    assert r.stdout.endswith("a GET /x")
    h = {k.lower(): v for k, v in up.records()[-1]["headers"]}
    assert h["x-forwarded-proto"] == "https"
    # Plain HTTP redirects, and gets no HSTS.
    r = f.curl("-i", "-H", "Host: app.test", f.url("/x?y=1"))
    assert r.stdout.startswith("HTTP/1.1 308")
    assert "Location: https://app.test/x?y=1" in r.stdout
    assert "Strict-Transport-Security" not in r.stdout


def test_https_keepalive_and_large_body(lab):
    f, up = start(lab)
    n = 64 * 1024 * 1024 + 5
    r = f.ns.sh(f"curl -sk --resolve app.test:8443:127.0.0.1 "
                f"https://app.test:8443/big/{n} | sha256sum", timeout=120)
    assert r.stdout.split()[0] == stream_sha256(n)
    data = os.urandom(5 * 1024 * 1024)
    path = os.path.join(lab.tmpdir, "up.bin")
    with open(path, "wb") as fh:
        fh.write(data)
    r = https(f, "--data-binary", f"@{path}", "https://app.test:8443/sum")
    assert r.stdout == hashlib.sha256(data).hexdigest()
    # Several requests on one TLS connection.
    r = https(f, "-v", "https://app.test:8443/1", "https://app.test:8443/2")
    assert "Re-using existing connection" in r.stderr


def test_old_tls_refused(lab):
    f, up = start(lab)
    r = https(f, "--tlsv1.1", "--tls-max", "1.1", "https://app.test:8443/x", check=False)
    assert r.returncode != 0
    assert up.count() == 0
