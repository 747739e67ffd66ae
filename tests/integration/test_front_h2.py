"""HTTP/2 downstream: h2c with prior knowledge and h2 over TLS (ALPN),
streams multiplexed onto pooled HTTP/1.1 upstream connections, flow
control end to end (a big upload keeps memory flat), real clients only
(curl, nghttp, h2load)."""
import hashlib
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402
from frontlab import Front  # noqa: E402
from observe_upstream import stream_sha256  # noqa: E402
from test_front_stream import EMIT, RSS_GROWTH_KIB, RssWatch  # noqa: E402

ROUTES = """[route.app]
host = app.test
target = http://127.0.0.1:9001
hsts_max_age = 600
[route.other]
host = *.test
target = http://127.0.0.1:9002
[route.sec]
host = secure.test
target = http://127.0.0.1:9001
redirect_https = true
"""


def start(lab, tls=False):
    f = Front(lab)
    a, b = f.upstream(9001, "a"), f.upstream(9002, "b")
    settings = "upstream_keepalive_max = 1000\n"
    if tls:
        certs = os.path.join(lab.tmpdir, "certs")
        os.makedirs(certs)
        settings += f'listen_https = "127.0.0.1:8443"\n[tls]\ncert_dir = {certs}\n' \
                   'selfsigned_name = app.test\n'
    f.start(routes=ROUTES, settings=settings)
    if tls:
        f.wait_port(8443)
    return f, a, b


def h2c(f, *args, check=True):
    return f.curl("--http2-prior-knowledge", *args, check=check)


def test_h2c_routing_and_bodies(lab):
    f, a, b = start(lab)
    r = h2c(f, "-H", "Host: app.test", "-w", " %{http_version}", f.url("/x?q=1"))
    assert r.stdout == "a GET /x?q=1 2"
    r = h2c(f, "-H", "Host: b.test", f.url("/y"))
    assert r.stdout == "b GET /y"
    r = h2c(f, "-H", "Host: none.example", "-w", "%{http_code}", f.url("/"), check=False)
    assert r.stdout.endswith("404")
    h = {k.lower(): v for k, v in a.records()[-1]["headers"]}
    assert h["host"] == "app.test" and h["x-forwarded-proto"] == "http"
    # Upload with a known length and without (sent chunked upstream).
    data = os.urandom(8 * 1024 * 1024 + 1)
    path = os.path.join(lab.tmpdir, "up.bin")
    with open(path, "wb") as fh:
        fh.write(data)
    r = h2c(f, "-H", "Host: app.test", "--data-binary", f"@{path}", f.url("/sum"))
    assert r.stdout == hashlib.sha256(data).hexdigest()
    assert a.records()[-1]["body_len"] == len(data)
    r = f.ns.sh(f"cat {path} | curl -sS --http2-prior-knowledge -H 'Host: app.test' "
                f"-T - {f.url('/sum')}")
    assert r.stdout == hashlib.sha256(data).hexdigest()
    # Downloads: length-delimited and chunked upstream responses.
    n = 32 * 1024 * 1024 + 7
    for kind in ("big", "chunked"):
        r = f.ns.sh(f"curl -sS --http2-prior-knowledge -H 'Host: app.test' "
                    f"{f.url('/%s/%d' % (kind, n))} | sha256sum", timeout=120)
        assert r.stdout.split()[0] == stream_sha256(n), kind


def test_h2_over_tls_alpn(lab):
    f, a, b = start(lab, tls=True)
    r = f.curl("-k", "--http2", "--resolve", "app.test:8443:127.0.0.1", "-i",
               "-w", "\n%{http_version}", "https://app.test:8443/tls")
    assert r.stdout.startswith("HTTP/2 200")
    assert "strict-transport-security: max-age=600" in r.stdout
    assert r.stdout.endswith("a GET /tls\n2")
    r = f.ns.run(["nghttp", "-nv", "https://127.0.0.1:8443/n", "-H", ":authority: app.test"])
    assert "h2" in r.stdout and ":status: 200" in r.stdout


def test_h2_many_streams_multiplexed(lab):
    f, a, b = start(lab)
    n = 4000
    r = f.ns.run(["h2load", "-n", str(n), "-c", "4", "-m", "100", "-H", ":authority: app.test",
                  f.url("/m")], timeout=300)
    assert re.search(r"requests: %d total, %d started, %d done, %d succeeded, 0 failed"
                     % (n, n, n, n), r.stdout), r.stdout
    assert "%d 2xx" % n in r.stdout
    recs = a.records()
    assert len(recs) == n
    # Streams share pooled upstream connections (one request at a time
    # each): never more connections than streams in flight (4 clients x
    # 100), and they are reused.
    per_conn = {}
    for x in recs:
        per_conn[x["conn"]] = per_conn.get(x["conn"], 0) + 1
    assert len(per_conn) <= 400
    assert max(per_conn.values()) >= 10
    # nghttp: 100 concurrent streams on one connection.
    r = f.ns.run(["nghttp", "-n", "-s", "-m", "100", "-H", ":authority: app.test",
                  f.url("/ng")])
    assert r.stdout.count("/ng") >= 100


@pytest.mark.serial  # 1 GiB upload, RSS
def test_h2_upload_flow_control_flat_rss(lab):
    f, a, b = start(lab)
    f.curl("--http2-prior-knowledge", "-H", "Host: app.test", "-o", "/dev/null",
           f.url("/big/100000"))
    n = netlab.scale(1 << 30)
    base = f.rss_kib()
    w = RssWatch(f)
    r = f.ns.sh(f"/usr/bin/python3 {EMIT} --emit {n} | curl -sS --fail --http2-prior-knowledge "
                f"-H 'Host: app.test' -T - {f.url('/sum')}", timeout=600)
    peak = w.stop()
    assert r.stdout == stream_sha256(n)
    assert peak - base < RSS_GROWTH_KIB, f"RSS grew {peak - base} KiB"


def test_h2c_redirect_https_is_308(lab):
    """A redirect_https route answers cleartext h2 (prior knowledge) with
    the same 308 + Location as HTTP/1.1, and forwards nothing."""
    f, a, b = start(lab)
    r = h2c(f, "-i", "-H", "Host: secure.test", f.url("/a/b?c=d"))
    assert r.stdout.startswith("HTTP/2 308"), r.stdout
    assert "location: https://secure.test/a/b?c=d\n" in r.stdout
    r = f.ns.run(["nghttp", "-nv", "-H", ":authority: secure.test", f.url("/n?x=1")])
    assert ":status: 308" in r.stdout, r.stdout
    assert "location: https://secure.test/n?x=1" in r.stdout
    # The same connection still serves other streams: redirects, then a
    # proxied request.
    r = f.ns.run(["nghttp", "-n", "-s", "-H", ":authority: secure.test", f.url("/1"),
                  f.url("/2"), f.url("/3")])
    assert len(re.findall(r"\s308\s+\d+\s+/[123]\n", r.stdout)) == 3, r.stdout
    assert a.records() == [] and b.records() == []
    assert h2c(f, "-H", "Host: app.test", f.url("/after")).stdout == "a GET /after"
    netlab.wait_until(lambda: sum(1 for x in f.access_records() if x["status"] == 308) >= 5,
                      what="308 lines in the access log")


def test_h2_response_trailers_forwarded(lab):
    """An upstream's chunked-response trailers reach h2 clients as a
    trailing HEADERS frame with END_STREAM, on h2c and on TLS; framing
    fields (the upstream's `Trailer` announcement) do not."""
    f, a, b = start(lab, tls=True)
    n = 3 * 1024 * 1024 + 5
    want = stream_sha256(n)
    for url, curl_h2 in ((f.url(f"/chunked/{n}"), "--http2-prior-knowledge"),
                         (f"https://127.0.0.1:8443/chunked/{n}", "--http2")):
        # nghttp -v: the trailer field arrives in a HEADERS frame that ends
        # the stream, after DATA frames that do not.
        out = f.ns.run(["nghttp", "-nv", "-H", ":authority: app.test", url]).stdout
        m = re.search(r"recv \(stream_id=13\) x-sum: (\w+)\n.*recv HEADERS frame "
                      r"<length=\d+, flags=0x05, stream_id=13>", out)
        assert m and m.group(1) == want, out[-2000:]
        data = re.findall(r"recv DATA frame <length=\d+, flags=(0x\d\d), stream_id=13>", out)
        assert data and set(data) == {"0x00"}, set(data)
        assert "trailer:" not in out.lower()
        # curl: the body intact and the trailer among its headers.
        hdr = os.path.join(lab.tmpdir, "hdr.txt")
        r = f.ns.sh(f"curl -sSk {curl_h2} -H 'Host: app.test' -D {hdr} {url} | sha256sum")
        assert r.stdout.split()[0] == want
        with open(hdr) as fh:
            got = fh.read()
        assert got.startswith("HTTP/2 200") and f"x-sum: {want}" in got, got
