"""The front as an HTTP/1.1 reverse proxy, against observing upstreams and
nginx: routing, keep-alive, pipelining, chunked both ways, forwarding
headers, error pages, retries of dead pooled connections."""
import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402
from frontlab import Front, Prefixed, read_response, recv_all  # noqa: E402
from observe_upstream import stream_sha256  # noqa: E402

ROUTES = """[route.exact]
host = app.test
target = http://127.0.0.1:9001

[route.exact-api]
host = app.test
path = /api
strip_prefix = true
target = http://127.0.0.1:9003/v2

[route.wild]
host = *.test
target = http://127.0.0.1:9002

[route.deep-wild]
host = *.deep.test
target = http://127.0.0.1:9003
"""


def front_a(lab, **start):
    """A front serving ROUTES with upstream "a" on 9001, started with
    `start` (workers, settings). Returns the front and the upstream."""
    f = Front(lab)
    a = f.upstream(9001, "a")
    f.start(routes=ROUTES, **start)
    return f, a


def get(f, host, path, *extra):
    r = f.curl("-H", f"Host: {host}", *extra, "-w", "\n%{http_code}", f.url(path))
    body, code = r.stdout.rsplit("\n", 1)
    return int(code), body


def test_routing_host_wildcard_path(lab):
    f = Front(lab)
    a, b, c = f.upstream(9001, "a"), f.upstream(9002, "b"), f.upstream(9003, "c")
    f.start(routes=ROUTES)
    assert get(f, "app.test", "/x") == (200, "a GET /x")
    assert get(f, "APP.test:8080", "/y") == (200, "a GET /y")  # case, port ignored
    # Longest prefix on a segment boundary, prefix stripped, base prepended.
    assert get(f, "app.test", "/api/users?id=1") == (200, "c GET /v2/users?id=1")
    assert get(f, "app.test", "/api") == (200, "c GET /v2/")
    assert get(f, "app.test", "/apix") == (200, "a GET /apix")
    # Wildcard, and the nearest wildcard wins.
    assert get(f, "other.test", "/z") == (200, "b GET /z")
    assert get(f, "a.deep.test", "/z") == (200, "c GET /z")
    # No route: a 404 of the hub's own; nothing forwarded.
    before = a.count() + b.count() + c.count()
    code, body = get(f, "nothing.example", "/")
    assert code == 404 and "Not Found" in body
    assert a.count() + b.count() + c.count() == before


def test_keepalive_downstream_and_upstream(lab):
    f, a = front_a(lab, workers=1)
    s = f.connect()
    for i in range(5):
        s.sendall(b"GET /k%d HTTP/1.1\r\nHost: app.test\r\n\r\n" % i)
        st, h, body, rest = read_response(s)
        assert st == 200 and body == b"a GET /k%d" % i
        assert h.get("connection") != "close"
    recs = a.records()
    assert [r["target"] for r in recs] == ["/k%d" % i for i in range(5)]
    # One pooled upstream connection carried all five.
    assert len({r["conn"] for r in recs}) == 1


def test_pipelining_one_at_a_time(lab):
    f, a = front_a(lab, workers=1)
    s = f.connect()
    # /hold/300 makes the upstream sit on its answer and then look whether
    # the next request is already there: a hub that forwarded pipelined
    # requests before the previous answer (on the same upstream
    # connection, or on another one) is seen ("early", "inflight").
    targets = ["/hold/300?p%d" % i if i in (0, 4) else "/p%d" % i for i in range(10)]
    reqs = b"".join(b"GET %s HTTP/1.1\r\nHost: app.test\r\n\r\n" % t.encode() for t in targets)
    s.sendall(reqs + b"POST /echo HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\n\r\nhello"
              + b"GET /last HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
    bodies = []
    rest = b""
    for i in range(12):
        st, h, body, rest = read_response(Prefixed(s, rest))
        bodies.append(body)
    assert bodies[:10] == [b"a GET %s" % t.encode() for t in targets]
    assert bodies[10] == b"hello"
    assert bodies[11] == b"a GET /last"
    # The upstream got each request once, in order, never two at a time
    # (each request on the pooled connection followed the previous answer).
    recs = a.records()
    assert [r["target"] for r in recs] == targets + ["/echo", "/last"]
    assert [r["inflight"] for r in recs] == [1] * 12, recs
    assert [r["early"] for r in recs if r["target"].startswith("/hold/")] == [False, False], recs


def test_chunked_upload_and_download(lab):
    f, a = front_a(lab)
    data = os.urandom(3 * 1024 * 1024 + 7)
    path = os.path.join(lab.tmpdir, "up.bin")
    with open(path, "wb") as fh:
        fh.write(data)
    # curl sends a body of unknown length chunked.
    r = f.curl("-H", "Host: app.test", "-H", "Transfer-Encoding: chunked",
               "--data-binary", f"@{path}", f.url("/sum"))
    assert r.stdout == hashlib.sha256(data).hexdigest()
    rec = a.records()[-1]
    assert rec["body_len"] == len(data)
    # Chunked download, with the trailer forwarded.
    n = 5 * 1024 * 1024 + 3
    s = f.connect()
    s.sendall(b"GET /chunked/%d HTTP/1.1\r\nHost: app.test\r\nTE: trailers\r\n\r\n" % n)
    st, h, body, rest = read_response(s)
    assert st == 200 and h["transfer-encoding"] == "chunked"
    assert hashlib.sha256(body).hexdigest() == stream_sha256(n)
    assert f"X-Sum: {stream_sha256(n)}" in h["_trailers"]


def test_request_trailers_forwarded(lab):
    f, a = front_a(lab)
    s = f.connect()
    s.sendall(b"POST /sum HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"5\r\nhello\r\n0\r\nX-Check: 42\r\nContent-Length: 99\r\n\r\n")
    st, h, body, rest = read_response(s)
    assert body == hashlib.sha256(b"hello").hexdigest().encode()
    rec = a.records()[-1]
    # Framing fields never pass in a trailer.
    assert rec["trailers"] == ["X-Check: 42"]


def test_expect_100_continue(lab):
    f, a = front_a(lab)
    s = f.connect()
    s.sendall(b"PUT /sum HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\n"
              b"Expect: 100-continue\r\n\r\n")
    interim = s.recv(100)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    s.sendall(b"hello")
    st, h, body, rest = read_response(s)
    assert st == 200 and body == hashlib.sha256(b"hello").hexdigest().encode()
    # The hub answered the expectation; the upstream never saw it.
    assert not any(k.lower() == "expect" for k, v in a.records()[-1]["headers"])


def hdrs(rec):
    out = {}
    for k, v in rec["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def test_forwarding_headers_set_by_hub(lab):
    f, a = front_a(lab)
    s = f.connect()
    s.sendall(b"GET /h HTTP/1.1\r\nHost: app.test\r\nX-Forwarded-For: 6.6.6.6\r\n"
              b"X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\nForwarded: for=6.6.6.6\r\n"
              b"X-Request-Id: forged\r\nConnection: keep-alive, X-Hop\r\nX-Hop: secret\r\n"
              b"Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\n"
              b"Upgrade: h2c\r\nX-Kept: yes\r\n\r\n")
    read_response(s)
    h = hdrs(a.records()[-1])
    assert h["host"] == ["app.test"]
    assert h["x-forwarded-for"] == ["127.0.0.1"]
    assert h["x-forwarded-proto"] == ["http"]
    assert h["x-forwarded-host"] == ["app.test"]
    assert h["forwarded"] == ['for=127.0.0.1;host="app.test";proto=http']
    assert len(h["x-request-id"]) == 1 and h["x-request-id"][0] != "forged"
    assert len(h["x-request-id"][0]) == 32
    for hop in ("connection", "x-hop", "keep-alive", "proxy-connection", "te", "upgrade"):
        assert hop not in h, hop
    assert h["x-kept"] == ["yes"]
    # The access log line carries the same request id.
    netlab.wait_until(lambda: f.access_records(), what="access log")
    rec = f.access_records()[-1]
    assert rec["request_id"] == h["x-request-id"][0]
    assert rec["route"] == "exact" and rec["status"] == 200 and rec["path"] == "/h"
    assert rec["upstream"] == "127.0.0.1:9001" and rec["method"] == "GET"


def test_trusted_proxy_values_kept(lab):
    f, a = front_a(lab, settings="trusted_proxies = 127.0.0.0/8\n")
    s = f.connect()
    s.sendall(b"GET /t HTTP/1.1\r\nHost: app.test\r\nX-Forwarded-For: 203.0.113.9\r\n"
              b"Forwarded: for=203.0.113.9\r\nX-Request-Id: abc-123\r\n\r\n")
    read_response(s)
    h = hdrs(a.records()[-1])
    assert h["x-forwarded-for"] == ["203.0.113.9, 127.0.0.1"]
    assert h["forwarded"] == ['for=203.0.113.9, for=127.0.0.1;host="app.test";proto=http']
    assert h["x-request-id"] == ["abc-123"]


def test_error_pages_reveal_nothing(lab):
    f = Front(lab)
    a = f.upstream(9001, "a")
    routes = ROUTES + """
[route.down]
host = down.test
target = http://127.0.0.1:9999
"""
    f.start(routes=routes, settings="upstream_header_timeout = 1s\n")
    code, body = get(f, "down.test", "/")
    assert code == 502
    assert body == "502 Bad Gateway\n"
    assert "9999" not in body and "127.0.0.1" not in body
    # An upstream that answers too late: 504.
    code, body = get(f, "app.test", "/slow/3000")
    assert code == 504 and body == "504 Gateway Timeout\n"
    # An upstream answering garbage: 502.
    r = f.curl("-i", "-H", "Host: down.test", f.url("/"))
    assert "Server" not in r.stdout and "nginx" not in r.stdout


def pooled_flaky(lab):
    """One worker, and a client connection whose first request (/flaky)
    went through: the upstream drops the pooled connection's next
    request without answering. Returns the front, the upstream and the
    client socket."""
    f, a = front_a(lab, workers=1)
    s = f.connect()
    s.sendall(b"GET /flaky HTTP/1.1\r\nHost: app.test\r\n\r\n")
    assert read_response(s)[0] == 200
    return f, a, s


def test_dead_pooled_connection_is_retried(lab):
    f, a, s = pooled_flaky(lab)
    # The pooled connection now drops the next request without answering:
    # an idempotent request is replayed on a new connection.
    s.sendall(b"GET /after HTTP/1.1\r\nHost: app.test\r\n\r\n")
    st, h, body, rest = read_response(s)
    assert st == 200 and body == b"a GET /after"
    recs = a.records()
    assert [(r["target"], r["dropped"]) for r in recs] == [
        ("/flaky", False), ("/after", True), ("/after", False)]
    assert recs[1]["conn"] == recs[0]["conn"] and recs[2]["conn"] != recs[0]["conn"]


def test_post_on_dead_pooled_connection_is_not_replayed(lab):
    f, a, s = pooled_flaky(lab)
    s.sendall(b"POST /once HTTP/1.1\r\nHost: app.test\r\nContent-Length: 2\r\n\r\nhi")
    st, h, body, rest = read_response(s)
    assert st == 502
    assert [r["target"] for r in a.records()] == ["/flaky", "/once"]


def test_nginx_upstream_large_file(lab):
    f = Front(lab)
    root = os.path.join(lab.tmpdir, "www")
    os.makedirs(root)
    data = os.urandom(20 * 1024 * 1024)
    with open(os.path.join(root, "f.bin"), "wb") as fh:
        fh.write(data)
    f.nginx(9005, root)
    f.start(routes="[route.n]\nhost = *\ntarget = http://127.0.0.1:9005\n")
    out = os.path.join(lab.tmpdir, "got.bin")
    f.curl("-o", out, f.url("/f.bin"), "-H", "Host: files.test")
    with open(out, "rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == hashlib.sha256(data).hexdigest()
    # HEAD keeps the length, sends no body, and the connection stays usable.
    r = f.curl("-I", f.url("/f.bin"), f.url("/f.bin"))
    assert r.stdout.count("Content-Length: %d" % len(data)) == 2


def test_redirect_to_https_and_hsts(lab):
    f = Front(lab)
    f.upstream(9001, "a")
    f.start(routes="""[route.r]
host = secure.test
target = http://127.0.0.1:9001
redirect_https = true
hsts_max_age = 600
""")
    r = f.curl("-i", "-H", "Host: secure.test", f.url("/a/b?c=d"))
    assert r.stdout.startswith("HTTP/1.1 308")
    assert "Location: https://secure.test/a/b?c=d" in r.stdout


def test_upstream_connect_timeout_is_504(lab):
    """An upstream that never completes the TCP handshake (its accept
    queue is full, so the kernel drops the SYNs): 504 after
    upstream_connect_timeout, nothing internal in the page."""
    f = Front(lab)
    lst = f.socket()
    lst.bind(("127.0.0.1", 9010))
    lst.listen(0)
    # Fill the accept queue (never accepted): later SYNs are dropped.
    fillers = []
    for _ in range(3):
        s = f.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", 9010))
        fillers.append(s)
    f.start(routes="[route.stuck]\nhost = stuck.test\ntarget = http://127.0.0.1:9010\n",
            settings="upstream_connect_timeout = 1s\n", workers=1)
    code, body = get(f, "stuck.test", "/")
    assert code == 504 and body == "504 Gateway Timeout\n"
    netlab.wait_until(lambda: "connect to 127.0.0.1:9010 timed out" in f.proc.log(),
                      what="the reason in the daemon log")
    for s in fillers + [lst]:
        s.close()
