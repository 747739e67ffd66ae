"""HTTP/2 streams whose request body stalls: body_timeout per stream.

A real HTTP/2 client (python3-h2) opens a stream with HEADERS but no
END_STREAM and then sends no more of its body. As on HTTP/1.1 the hub
gives up after body_timeout: a 408 while no response has started (a
RST_STREAM once one has), the stream's upstream connection is closed, the
access log has the line, and the connection's other streams go on. Also
the h2 side of the 431 for a head too large to forward."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import h2.errors  # noqa: E402
import h2.events  # noqa: E402

import netlab  # noqa: E402
from frontlab import Front, routes  # noqa: E402
from h2client import Client  # noqa: E402

ROUTES = routes(("app", "app.test", 9001), ("early", "early.test", 9002), ("any", "*", 9001))

# An upstream that answers each request at once, before its body, and then
# holds the response open (one chunk, never the last).
EARLY = r"""
import socket, sys, threading
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 9002)); ls.listen(16)
def serve(s):
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(65536)
        if not d:
            return
        head += d
    s.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nearly\r\n")
    while s.recv(65536):
        pass
    print("closed", flush=True)
while True:
    threading.Thread(target=serve, args=(ls.accept()[0],), daemon=True).start()
"""


def start(lab):
    f = Front(lab)
    up = f.upstream(9001, "a")
    early = lab.spawn(f.ns, ["/usr/bin/python3", "-c", EARLY], name="early")
    f.wait_port(9002)
    f.start(routes=ROUTES, workers=1,
            settings="body_timeout = 1s\nsend_timeout = 60s\nmax_header_bytes = 4k\n")
    return f, up, early


def upstream_conns(f, port):
    r = f.ns.run(["ss", "-Htn", "state", "established", f"( dport = :{port} )"])
    return len([x for x in r.stdout.splitlines() if x.strip()])


def status_of(c, sid):
    return dict(c.of(h2.events.ResponseReceived, sid)[0].headers)[":status"]


def test_h2_stalled_body_is_408_and_the_session_goes_on(lab):
    f, up, _ = start(lab)
    c = Client(f, window=1 << 20)
    sid = c.request("POST", "/sum", headers=[("content-length", "100")], end_stream=False)
    c.send_data(sid, b"abc")
    c.until(lambda: upstream_conns(f, 9001) == 1, what="the upstream connection")
    c.until(lambda: c.of(h2.events.StreamEnded, sid), what="the 408", timeout=30)
    assert status_of(c, sid) == "408"
    assert c.data[sid] == len(b"408 Request Timeout\n")
    netlab.wait_until(lambda: upstream_conns(f, 9001) == 0, what="upstream connection closed")
    assert up.count() == 0, "the upstream never got a complete request"
    assert not c.closed and not c.of(h2.events.ConnectionTerminated)
    # The connection goes on, also for a body that keeps coming.
    s2 = c.request("POST", "/sum", headers=[("content-length", "3")], end_stream=False)
    s3 = c.get("/x")
    c.send_data(s2, b"xyz", end_stream=True)
    c.until(lambda: c.of(h2.events.StreamEnded, s2) and c.of(h2.events.StreamEnded, s3),
            what="the next streams answered")
    assert status_of(c, s2) == "200" and status_of(c, s3) == "200"
    netlab.wait_until(lambda: [r for r in f.access_records() if r["status"] == 408],
                      what="the access log line")
    rec = [r for r in f.access_records() if r["status"] == 408][0]
    assert rec["path"] == "/sum" and rec["route"] == "app"


def test_h2_stalled_body_after_the_response_started_is_reset(lab):
    f, _, early = start(lab)
    c = Client(f, window=1 << 20)
    sid = c.request("POST", "/up", authority="early.test",
                    headers=[("content-length", "100")], end_stream=False)
    c.send_data(sid, b"abc")
    c.until(lambda: c.data.get(sid) == 5, what="the response started")
    assert status_of(c, sid) == "200"
    c.until(lambda: c.of(h2.events.StreamReset, sid), what="RST_STREAM", timeout=30)
    assert c.of(h2.events.StreamReset, sid)[0].error_code == h2.errors.ErrorCodes.CANCEL
    netlab.wait_until(lambda: "closed" in early.log(), what="the upstream connection closed")
    assert not c.closed
    s2 = c.get("/after")
    c.until(lambda: c.of(h2.events.StreamEnded, s2), what="the next stream answered")
    assert status_of(c, s2) == "200"


def test_h2_head_too_large_to_forward_is_431(lab):
    """The h2 side of test_front_limits' long Host: 431, nothing upstream."""
    f, up, _ = start(lab)
    c = Client(f, window=1 << 20)
    host = "h" * 2300 + ".test"
    sid = c.request("GET", "/big", authority=host, headers=[("x-pad", "p" * 2000)])
    c.until(lambda: c.of(h2.events.StreamEnded, sid), what="the answer")
    assert status_of(c, sid) == "431"
    assert up.count() == 0 and "no resources" not in f.proc.log()


def test_h2_stalled_admin_body_is_408(lab):
    """An admin request (the hub's own hostname, /api/) buffers its body
    before the control thread sees it: a body that stalls there gets the
    same 408, and the session goes on. (The admin API answers over TLS
    only: h2 over TLS.)"""
    f = Front(lab)
    f.upstream(9001, "a")
    f.start(routes=ROUTES, workers=1,
            settings='body_timeout = 1s\nsend_timeout = 60s\nhostname = "hub.test"\n'
                     'listen_https = "127.0.0.1:8443"\n[tls]\nselfsigned_name = hub.test\n')
    f.wait_port(8443)
    c = Client(f, window=1 << 20, tls=(("127.0.0.1", 8443), "hub.test"))
    sid = c.request("POST", "/api/v1/routes", authority="hub.test",
                    headers=[("content-type", "application/json"),
                             ("content-length", "100")], end_stream=False)
    c.send_data(sid, b"{")
    c.until(lambda: c.of(h2.events.StreamEnded, sid), what="the 408", timeout=30)
    assert status_of(c, sid) == "408"
    assert not c.closed and not c.of(h2.events.ConnectionTerminated)
    s2 = c.get("/after")
    c.until(lambda: c.of(h2.events.StreamEnded, s2), what="the next stream answered")
    assert status_of(c, s2) == "200"


def test_h2_path_with_non_ascii_bytes_is_400(lab):
    """Found by fuzz_h2_headers: nghttp2 lets a :path with bytes above 0x7e
    through, and it went into the upstream's request line, where the h1
    front answers the same target with 400. Now h2 refuses it too, and the
    session goes on."""
    f, up, _ = start(lab)
    c = Client(f, window=1 << 20)
    sid = c.get("/caf\u00e9")
    c.until(lambda: c.of(h2.events.StreamEnded, sid), what="the answer")
    assert status_of(c, sid) == "400"
    ok = c.get("/cafe")
    c.until(lambda: c.of(h2.events.StreamEnded, ok), what="the second answer")
    assert status_of(c, ok) == "200"
    assert up.count() == 1
