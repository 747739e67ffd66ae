"""upstream_idle_timeout: an upstream that starts a response and then
stalls is cut off, and the client sees an incomplete response (never a
truncated one presented as complete), the upstream connection is closed,
and the access log and the metrics say so. Also what must not be cut: a
client that is slow to take the response (the upstream is then waiting for
the client, not idle) and a long upload that keeps moving (the response
head timeout starts when the request has been sent).

A stall before the head is upstream_header_timeout's:
test_front_proxy.py::test_error_pages_reveal_nothing."""
import hashlib
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

import netlab  # noqa: E402
from frontlab import Front, Upstream, read_response, recv_all, routes  # noqa: E402
from observe_upstream import stream_sha256  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROUTES = routes(("stall", "stall.test", 9020), ("app", "app.test", 9001),
                ("stall-ok", "stall.test", 9001, {"path": "/ok"}))
SETTINGS = ('upstream_idle_timeout = 1s\nupstream_header_timeout = 30s\n'
            'metrics_listen = "127.0.0.1:9100"\n')


def stall_upstream(f, port=9020):
    """tests/lib/stall_upstream.py in the front's namespace; its records()
    are its events."""
    log = os.path.join(f.dir, "stall.jsonl")
    p = f.lab.spawn(f.ns, [sys.executable, os.path.join(HERE, "..", "lib", "stall_upstream.py"),
                           str(port), log], name="stall")
    f.wait_port(port)
    return Upstream(p, log, port)


def closed(stall, path):
    return {"event": "closed", "path": path} in stall.records()


def metric(f, name):
    text = f.curl("http://127.0.0.1:9100/metrics").stdout
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == name and not s.labels:
                return s.value
    raise AssertionError(f"{name} not exported")


def access(f, path):
    return [r for r in f.access_records() if r["path"] == path]


def start(lab, workers=1):
    f = Front(lab)
    stall = stall_upstream(f)
    f.upstream(9001, "a")
    f.start(routes=ROUTES, settings=SETTINGS, workers=workers)
    return f, stall


def h1_cut(f, path):
    """Sends GET path and reads until the hub closes. Returns (head, body)."""
    s = f.connect(timeout=20)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: stall.test\r\n\r\n".encode())
    raw, closed = recv_all(s)
    s.close()
    assert closed, "the hub kept the connection open after the upstream stalled"
    head, body = raw.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), body


def assert_recorded(f, stall, path, body_bytes, timeouts):
    netlab.wait_until(lambda: closed(stall, path), what="the upstream connection closed")
    netlab.wait_until(lambda: access(f, path), what="the access log line")
    rec = access(f, path)[-1]
    assert rec["status"] == 200 and rec["bytes"] == body_bytes, rec
    assert rec["error"] == "upstream_timeout", rec
    assert rec["route"] == "stall" and rec["upstream"] == "127.0.0.1:9020", rec
    assert metric(f, "postern_upstream_timeouts_total") == timeouts
    assert "upstream 127.0.0.1:9020 timed out (idle)" in f.proc.log()


def test_content_length_response_cut_and_connection_closed(lab):
    f, stall = start(lab)
    head, body = h1_cut(f, "/cl")
    assert head.startswith("HTTP/1.1 200") and "Content-Length: 100000" in head
    # Fewer bytes than announced, then the close: curl and every client
    # see a truncated transfer.
    assert body == b"c" * 1000
    assert_recorded(f, stall, "/cl", 1000, 1)
    r = f.curl("-H", "Host: stall.test", f.url("/cl"), "-o", "/dev/null", check=False)
    assert r.returncode == 18, (r.returncode, r.stderr)     # CURLE_PARTIAL_FILE
    # The hub still serves: a complete response on another route.
    assert f.curl("-H", "Host: app.test", f.url("/ok")).stdout == "a GET /ok"


def test_chunked_response_cut_without_the_last_chunk(lab):
    f, stall = start(lab)
    head, body = h1_cut(f, "/chunked")
    assert "Transfer-Encoding: chunked" in head
    # The bytes that came are forwarded, but no terminating chunk follows:
    # the client knows the response is incomplete.
    assert body.count(b"k") == 1000
    assert not body.endswith(b"0\r\n\r\n"), body[-20:]
    assert_recorded(f, stall, "/chunked", 1000, 1)
    r = f.curl("-H", "Host: stall.test", f.url("/chunked"), "-o", "/dev/null", check=False)
    assert r.returncode == 18, (r.returncode, r.stderr)


def test_h2_stream_reset_and_session_kept(lab):
    f, stall = start(lab)
    r = f.curl("--http2-prior-knowledge", "-H", "Host: stall.test", f.url("/cl"),
               "-o", "/dev/null", check=False)
    assert r.returncode == 92, (r.returncode, r.stderr)     # CURLE_HTTP2_STREAM
    assert "INTERNAL_ERROR" in r.stderr, r.stderr
    assert_recorded(f, stall, "/cl", 1000, 1)
    # Two streams on one connection (nghttp sends both at once): the
    # stalled one is reset, the other completes, the session stays.
    r = f.ns.run(["nghttp", "-v", "-H", ":authority: stall.test", f.url("/chunked"),
                  f.url("/ok")], check=False, timeout=30)
    resets = [ln for ln in r.stdout.splitlines() if "recv RST_STREAM" in ln]
    assert len(resets) == 1, r.stdout
    assert "error_code=INTERNAL_ERROR" in r.stdout
    assert "a GET /ok" in r.stdout and "recv GOAWAY" not in r.stdout, r.stdout
    assert_recorded(f, stall, "/chunked", 1000, 2)


def test_slow_client_is_not_an_idle_upstream(lab):
    """The client stops reading for three times upstream_idle_timeout: the
    upstream is paused by the hub (back-pressure), not idle, and the
    response completes intact once the client reads again."""
    f, stall = start(lab)
    n = 32 << 20
    s = f.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.settimeout(30)
    s.connect(f.addr)
    s.sendall(f"GET /big/{n} HTTP/1.1\r\nHost: app.test\r\n\r\n".encode())
    time.sleep(3)   # the stimulus: a client that does not read
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(65536)
    head, first = head.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200") and f"Content-Length: {n}".encode() in head
    h, got, chunk = hashlib.sha256(first), len(first), bytearray(1 << 20)
    while got < n:
        k = s.recv_into(chunk)
        assert k, f"closed after {got} of {n} bytes"
        h.update(memoryview(chunk)[:k])
        got += k
    s.close()
    assert got == n and h.hexdigest() == stream_sha256(n)
    assert metric(f, "postern_upstream_timeouts_total") == 0


def test_slow_upload_longer_than_the_header_timeout(lab):
    """A request body that keeps moving for longer than
    upstream_header_timeout: that timeout starts once the request is sent,
    so the upload completes and is answered."""
    f = Front(lab)
    f.upstream(9001, "a")
    f.start(routes=ROUTES, workers=1,
            settings="upstream_idle_timeout = 2s\nupstream_header_timeout = 2s\n")
    pieces = [os.urandom(1000) for _ in range(12)]
    s = f.connect(timeout=20)
    s.sendall(b"POST /sum HTTP/1.1\r\nHost: app.test\r\nContent-Length: 12000\r\n\r\n")
    for p in pieces:
        s.sendall(p)
        time.sleep(0.3)     # the stimulus: 3.6 s of upload, gaps well under 2 s
    st, h, body, _ = read_response(s)
    s.close()
    assert st == 200, (st, body)
    assert body.decode() == hashlib.sha256(b"".join(pieces)).hexdigest()

