"""An upstream whose response a proxy must not trust (tests/lib/
bad_upstream.py), through the front to HTTP/1.1 and HTTP/2 clients.

docs/front.md: "Response heads from upstreams get the same strictness (a
bad one is a 502)", and an exchange that did not end cleanly never pools
its upstream connection. Each case checks the client's answer and then
that the next request on the same route went to a new upstream connection
and got its own answer (a reused connection would hand it the bytes the
bad upstream sent after its response: "smuggled")."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import h2.events  # noqa: E402
import netlab  # noqa: E402
from frontlab import Front, Upstream, read_response, recv_all  # noqa: E402
from h2client import Client  # noqa: E402

ROUTES = "[route.bad]\nhost = bad.test\ntarget = http://127.0.0.1:9001\n"
PROTOS = ["h1", "h2"]
HERE = os.path.join(os.path.dirname(__file__), "..", "lib")


class BadUpstream(Upstream):
    def __init__(self, f, port=9001):
        log = os.path.join(f.dir, f"bad-{port}.jsonl")
        proc = f.lab.spawn(f.ns, ["/usr/bin/python3", os.path.join(HERE, "bad_upstream.py"),
                                  str(port), log], name="bad-up")
        f.wait_port(port)
        super().__init__(proc, log, port)

    def conn_of(self, path):
        """The connection number that carried the (last) request for path."""
        recs = [r["conn"] for r in self.records() if r.get("path") == path]
        assert recs, (path, self.records())
        return recs[-1]

    def closed(self, conn):
        return any(r.get("closed") and r["conn"] == conn for r in self.records())


def start(lab):
    f = Front(lab)
    up = BadUpstream(f)
    # One worker: one upstream pool, which every request below would share.
    f.start(routes=ROUTES, workers=1)
    return f, up


def ask(f, proto, path, method="GET", body=b""):
    """One request on a new client connection: (status, body bytes)."""
    if proto == "h1":
        s = f.connect(timeout=30)
        head = f"{method} {path} HTTP/1.1\r\nHost: bad.test\r\n"
        if body:
            head += f"Content-Length: {len(body)}\r\n"
        s.sendall(head.encode() + b"\r\n" + body)
        st, _, data, rest = read_response(s)
        s.close()
        return st, data + rest
    c = Client(f, window=1 << 20)
    headers = [("content-length", str(len(body)))] if body else []
    sid = c.request(method, path, authority="bad.test", headers=headers,
                    end_stream=not body)
    if body:
        c.send_data(sid, body, end_stream=True)
    c.until(lambda: c.of(h2.events.StreamEnded, sid) or c.of(h2.events.StreamReset, sid),
            what="the answer")
    resp = c.of(h2.events.ResponseReceived, sid)
    assert resp, c.events
    status = int(dict(resp[0].headers)[":status"])
    data = b"".join(e.data for e in c.of(h2.events.DataReceived, sid))
    c.sock.close()
    return status, data


def assert_not_reused(f, up, proto, bad_path):
    """The connection the bad response came on is closed by the hub and a
    next request gets a new connection and its own answer."""
    bad = up.conn_of(bad_path)
    netlab.wait_until(lambda: up.closed(bad), what=f"the hub closing upstream conn {bad}")
    st, data = ask(f, proto, "/ok-next")
    nxt = up.conn_of("/ok-next")
    assert nxt != bad
    assert (st, data) == (200, f"ok /ok-next conn {nxt}".encode())


MALFORMED = ["no-colon", "status", "nul", "fold", "space-colon", "two-cl", "cl-te"]


@pytest.mark.parametrize("proto", PROTOS)
def test_malformed_response_head_is_502_and_connection_dropped(lab, proto):
    f, up = start(lab)
    # A good exchange first, so that a pooled connection exists.
    assert ask(f, proto, "/ok-first")[0] == 200
    for name in MALFORMED:
        st, data = ask(f, proto, f"/bad/{name}")
        assert (st, data) == (502, b"502 Bad Gateway\n"), (name, st, data)
        assert_not_reused(f, up, proto, f"/bad/{name}")
    netlab.wait_until(lambda: len(bad_lines(f)) == len(MALFORMED), what="the access log")
    assert all(r["status"] == 502 and r["error"] == "upstream_error"
               for r in bad_lines(f)), bad_lines(f)


def bad_lines(f):
    return [r for r in f.access_records() if r["path"].startswith("/bad/")]


def test_bad_chunk_size_after_the_head_cuts_the_response_h1(lab):
    """The head was good and has gone out: the body is cut so the client
    cannot take it for complete (no last chunk, the connection closed)."""
    f, up = start(lab)
    s = f.connect(timeout=30)
    s.sendall(b"GET /bad/chunk-size HTTP/1.1\r\nHost: bad.test\r\n\r\n")
    data, closed = recv_all(s)
    assert data.startswith(b"HTTP/1.1 200 "), data
    assert closed and not data.endswith(b"0\r\n\r\n"), data
    assert_not_reused(f, up, "h1", "/bad/chunk-size")
    netlab.wait_until(lambda: bad_lines(f), what="the access log")
    assert bad_lines(f)[0]["error"] == "upstream_error"


def test_bad_chunk_size_after_the_head_cuts_the_response_h2(lab):
    f, up = start(lab)
    c = Client(f, window=1 << 20)
    sid = c.get("/bad/chunk-size", authority="bad.test")
    c.until(lambda: c.of(h2.events.StreamEnded, sid) or c.of(h2.events.StreamReset, sid),
            what="the stream's end")
    assert c.of(h2.events.StreamReset, sid) and not c.of(h2.events.StreamEnded, sid), c.events
    assert_not_reused(f, up, "h2", "/bad/chunk-size")


@pytest.mark.parametrize("proto", PROTOS)
@pytest.mark.parametrize("name,status", [("past-cl", 200), ("204-body", 204),
                                         ("304-body", 304), ("204-cl", 204)])
def test_bytes_after_a_complete_response_are_not_the_next_answer(lab, proto, name, status):
    """The response itself is complete and is forwarded; what follows it
    on the connection belongs to no request: the connection is closed,
    never pooled."""
    f, up = start(lab)
    st, data = ask(f, proto, f"/bad/{name}")
    assert st == status
    assert data == (b"ok" if status == 200 else b"")
    assert_not_reused(f, up, proto, f"/bad/{name}")


@pytest.mark.parametrize("proto", PROTOS)
def test_unsolicited_bytes_on_an_idle_pooled_connection_close_it(lab, proto):
    f, up = start(lab)
    assert ask(f, proto, "/idle-junk") == (200, b"ok")
    assert_not_reused(f, up, proto, "/idle-junk")


def test_early_response_before_the_body_was_read_h1(lab):
    """The upstream answers 413 after the head, reads none of the body and
    closes. The client gets that answer; the rest of its body is never
    taken for a request (the hub closes the client connection), and the
    next request gets a new upstream connection."""
    f, up = start(lab)
    s = f.connect(timeout=30)
    s.sendall(b"POST /early HTTP/1.1\r\nHost: bad.test\r\nContent-Length: 100000\r\n\r\n")
    st, _, data, _ = read_response(s)
    assert (st, data) == (413, b"big\n")
    # What would be a second request if the hub read the body as requests.
    smuggle = b"GET /ok-smuggled HTTP/1.1\r\nHost: bad.test\r\n\r\n"
    try:
        s.sendall(smuggle * (100000 // len(smuggle)))
    except (BrokenPipeError, ConnectionResetError):
        pass
    rest, closed = recv_all(s)
    assert closed and b"ok-smuggled" not in rest, rest
    assert all(r.get("path") != "/ok-smuggled" for r in up.records())
    assert_not_reused(f, up, "h1", "/early")


def test_early_response_before_the_body_was_read_h2(lab):
    """The same on an h2 stream: the client gets the 413 and the end of
    the stream; the session goes on and the next stream is answered."""
    f, up = start(lab)
    c = Client(f, window=1 << 20)
    sid = c.request("POST", "/early", authority="bad.test",
                    headers=[("content-length", "100000")], end_stream=False)
    c.until(lambda: c.of(h2.events.StreamEnded, sid) or c.of(h2.events.StreamReset, sid),
            what="the early answer")
    resp = c.of(h2.events.ResponseReceived, sid)
    assert resp and dict(resp[0].headers)[":status"] == "413", c.events
    assert b"".join(e.data for e in c.of(h2.events.DataReceived, sid)) == b"big\n"
    sid2 = c.get("/ok-after", authority="bad.test")
    c.until(lambda: c.of(h2.events.StreamEnded, sid2), what="the next stream")
    assert dict(c.of(h2.events.ResponseReceived, sid2)[0].headers)[":status"] == "200"
    assert up.conn_of("/ok-after") != up.conn_of("/early")
    assert not c.closed



@pytest.mark.parametrize("proto", PROTOS)
def test_no_content_length_on_a_204(lab, proto):
    """An upstream 204 that claims a length goes out without it (RFC 9110
    s8.6): HTTP/1.1 clients would wait for a body, HTTP/2 clients call the
    response malformed."""
    f, up = start(lab)
    args = ["--http1.1"] if proto == "h1" else ["--http2-prior-knowledge"]
    r = f.curl(*args, "-sS", "-D", "-", "-o", "/dev/null", "-H", "Host: bad.test",
               f.url("/bad/204-cl"), check=False)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.lower().splitlines()
    assert lines[0].split()[1] == "204"
    assert not [ln for ln in lines if ln.startswith("content-length")], r.stdout
