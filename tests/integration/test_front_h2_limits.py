"""HTTP/2 limits (docs/front.md: at most 128 concurrent streams, a 256 KiB
stream window, header lists up to 64 KiB) and h2 requests that must not
become something else when the hub forwards them as HTTP/1.1 (CR/LF/NUL
in fields, connection-specific fields, content-length mismatches,
pseudo-header misuse). python3-h2 with its own checks off plays the
client; the upstream logs what reached it."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import h2.events  # noqa: E402
from h2.errors import ErrorCodes  # noqa: E402
from h2.settings import SettingCodes  # noqa: E402
from hyperframe.frame import ContinuationFrame, DataFrame, HeadersFrame  # noqa: E402

import netlab  # noqa: E402
from frontlab import Front  # noqa: E402
from h2client import Client  # noqa: E402
from test_front_bad_upstream import BadUpstream  # noqa: E402

ROUTES = "[route.app]\nhost = app.test\ntarget = http://127.0.0.1:9001\n"
BASE = [(":method", "GET"), (":scheme", "http"), (":authority", "app.test")]


def raw_client(f):
    """A client that sends fields exactly as given (no checks, no
    normalisation), as an attacker's would."""
    c = Client(f, window=1 << 20)
    c.h2.config.validate_outbound_headers = False
    c.h2.config.normalize_outbound_headers = False
    return c


def ended(c, sid):
    return (c.of(h2.events.StreamEnded, sid) or c.of(h2.events.StreamReset, sid)
            or c.of(h2.events.ConnectionTerminated) or c.closed)


def outcome(c, sid):
    """("status", N) or ("reset", error code) for stream sid."""
    c.until(lambda: ended(c, sid), what=f"stream {sid}'s end")
    rst = c.of(h2.events.StreamReset, sid)
    if rst:
        return ("reset", rst[0].error_code)
    resp = c.of(h2.events.ResponseReceived, sid)
    assert resp, c.events
    return ("status", int(dict(resp[0].headers)[":status"]))


def still_serves(c, f):
    """The session goes on after a stream error: a good request works."""
    sid = c.get("/after")
    assert outcome(c, sid) == ("status", 200)


def sysctl_max(name):
    """The largest socket buffer net.ipv4.<name> lets the kernel grow to."""
    with open(f"/proc/sys/net/ipv4/{name}") as fh:
        return int(fh.read().split()[2])


def settings_of(c):
    c.until(lambda: c.of(h2.events.RemoteSettingsChanged), what="the hub's SETTINGS")
    return c.h2.remote_settings


# ---- limits ----

def test_h2_advertised_settings(lab):
    f = Front(lab)
    f.upstream(9001, "a")
    f.start(routes=ROUTES, workers=1)
    rs = settings_of(Client(f, window=1 << 20))
    assert rs.max_concurrent_streams == 128
    assert rs.initial_window_size == 256 << 10
    assert rs.max_header_list_size == 32 << 10  # max_header_bytes' default


def open_posts(c, n, prefix):
    """n POST streams whose bodies (5 bytes) are still to come."""
    return [c.request("POST", f"{prefix}{i}", headers=[("content-length", "5")],
                      end_stream=False) for i in range(n)]


def test_h2_128_concurrent_streams_served_and_the_129th_refused(lab):
    f = Front(lab)
    up = BadUpstream(f)
    f.start(routes=ROUTES, workers=1)
    c = Client(f, window=1 << 20)
    settings_of(c)
    sids = open_posts(c, 128, "/ok-a")
    # All 128 are open at once: each request head reached the upstream
    # while every body was still to come.
    netlab.wait_until(lambda: len([r for r in up.records() if "path" in r]) == 128,
                      timeout=60, what="128 request heads upstream")
    for sid in sids:
        c.send_data(sid, b"hello", end_stream=True)
    c.until(lambda: all(c.of(h2.events.StreamEnded, s) for s in sids), timeout=60,
            what="128 answers")
    assert all(outcome(c, s)[1] == 200 for s in sids)
    # A 129th concurrent stream (the client ignoring the hub's SETTINGS).
    c2 = Client(f, window=1 << 20)
    settings_of(c2)
    open_posts(c2, 128, "/ok-b")
    netlab.wait_until(lambda: len([r for r in up.records() if r.get("path", "").startswith(
        "/ok-b")]) == 128, timeout=60, what="128 more request heads upstream")
    c2.h2.remote_settings[SettingCodes.MAX_CONCURRENT_STREAMS] = 1000
    c2.h2.remote_settings.acknowledge()
    extra = c2.request("POST", "/ok-extra", headers=[("content-length", "5")], end_stream=False)
    c2.until(lambda: ended(c2, extra), what="the refusal")
    gone = c2.of(h2.events.ConnectionTerminated)
    # nghttp2 treats it as a connection error: GOAWAY PROTOCOL_ERROR
    # naming stream 255 (the 128th) as the last one it took.
    assert gone and gone[0].error_code == ErrorCodes.PROTOCOL_ERROR, c2.events
    assert gone[0].last_stream_id == extra - 2
    assert not [r for r in up.records() if r.get("path") == "/ok-extra"]


def stuck_upstream(f, port=9010):
    """A listener whose accept queue is full: the hub's connect never
    completes, so nothing of a request body can leave the hub."""
    lst = f.socket()
    lst.bind(("127.0.0.1", port))
    lst.listen(0)
    fillers = []
    for _ in range(3):
        s = f.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        fillers.append(s)
    return [lst] + fillers


def send_raw_data(c, sid, n):
    """n body bytes on sid in one write, whatever the window says."""
    raw = b"".join(DataFrame(sid, data=b"x" * min(16384, n - off)).serialize()
                   for off in range(0, n, 16384))
    c.sock.sendall(raw)


def test_h2_stream_window_is_256k_and_enforced(lab):
    """The hub grants 256 KiB per stream and nothing more while the
    upstream takes nothing: a stream may send exactly that, a stream that
    sends one byte more is reset with FLOW_CONTROL_ERROR (the hub buffers
    no more than the window), and the session goes on."""
    f = Front(lab)
    held = stuck_upstream(f)
    f.start(routes="[route.stuck]\nhost = app.test\ntarget = http://127.0.0.1:9010\n"
            "[route.ok]\nhost = ok.test\ntarget = http://127.0.0.1:9001\n", workers=1,
            settings="upstream_connect_timeout = 120s\n")
    f.upstream(9001, "a")
    c = Client(f, window=1 << 20)
    assert settings_of(c).initial_window_size == 256 << 10
    win = 256 << 10
    fits = c.request("POST", "/fits", headers=[("content-length", str(win + 1))],
                     end_stream=False)
    send_raw_data(c, fits, win)
    over = c.request("POST", "/over", headers=[("content-length", str(win + 1))],
                     end_stream=False)
    send_raw_data(c, over, win + 1)
    c.until(lambda: c.of(h2.events.StreamReset, over), what="the over-window stream reset")
    assert c.of(h2.events.StreamReset, over)[0].error_code == ErrorCodes.FLOW_CONTROL_ERROR
    # Frames arrive in order: had `fits` been refused, it would show by now.
    assert not c.of(h2.events.StreamReset, fits)
    # No stream window was opened meanwhile, so `over` really overran it.
    assert not [e for e in c.of(h2.events.WindowUpdated) if e.stream_id in (fits, over)]
    sid = c.get("/after", authority="ok.test")
    assert outcome(c, sid) == ("status", 200)
    for s in held:
        s.close()


def header_list(total):
    """About `total` bytes of fields (name + value), in 1000-byte fields."""
    return [(f"x-h{i:03d}", "v" * 994) for i in range(total // 1000)]


def test_h2_header_list_limits(lab):
    """The session advertises max_header_bytes (32k by default) as its
    header list size. A list within it reaches the upstream whole; one
    over it gets 431, as HTTP/1.1 answers a head too large, and never
    reaches the upstream."""
    f = Front(lab)
    a = f.upstream(9001, "a")
    f.start(routes=ROUTES, workers=1)
    c = Client(f, window=1 << 20)
    sid = c.request("GET", "/list-20k", headers=header_list(20000))
    assert outcome(c, sid) == ("status", 200)
    got = [k for k, v in a.records()[-1]["headers"] if k.startswith("x-h")]
    assert len(got) == 20
    for total in (34000, 70000):
        c = Client(f, window=1 << 20)
        sid = c.request("GET", f"/list-{total}", headers=header_list(total))
        assert outcome(c, sid) == ("status", 431), total
        assert not [r for r in a.records() if r["target"] == f"/list-{total}"]


def test_h2_header_list_follows_max_header_bytes(lab):
    """Raised to 64k, the whole header list of 56k is taken (the stream's
    arena is max_header_bytes, not a fixed size below it)."""
    f = Front(lab)
    a = f.upstream(9001, "a")
    f.start(routes=ROUTES, workers=1, settings="max_header_bytes = 64k\n")
    c = Client(f, window=1 << 20)
    sid = c.request("GET", "/list-56k", headers=header_list(56000))
    assert outcome(c, sid) == ("status", 200)
    assert settings_of(c).max_header_list_size == 64 << 10
    got = [k for k, v in a.records()[-1]["headers"] if k.startswith("x-h")]
    assert len(got) == 56


# ---- h2 -> h1 downgrade ----

RESET = ("reset", ErrorCodes.PROTOCOL_ERROR)

FIELDS = {
    # CR, LF, NUL in a value: a forwarded line break would start a new
    # field (or request) upstream.
    "crlf-value": ([("x-a", "v\r\nx-injected: 1")], RESET),
    "lf-value": ([("x-a", "v\nx-injected: 1")], RESET),
    "cr-value": ([("x-a", "v\rx")], RESET),
    "nul-value": ([("x-a", "v\x00x")], RESET),
    "upper-name": ([("X-Upper", "1")], RESET),
    "space-name": ([("x a", "1")], RESET),
    "colon-name": ([("x:a", "1")], RESET),
    # Connection-specific fields do not exist in h2 (RFC 9113 8.2.2).
    "transfer-encoding": ([("transfer-encoding", "chunked")], RESET),
    "connection": ([("connection", "keep-alive")], RESET),
    "keep-alive": ([("keep-alive", "5")], RESET),
    "upgrade": ([("upgrade", "websocket")], RESET),
    "te-gzip": ([("te", "gzip")], RESET),
    "content-length-twice": ([("content-length", "0"), ("content-length", "0")], RESET),
    "content-length-signed": ([("content-length", "+0")], RESET),
}


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_h2_bad_field_never_reaches_the_upstream(lab, name):
    extra, want = FIELDS[name]
    f = Front(lab)
    a = f.upstream(9001, "a")
    f.start(routes=ROUTES, workers=1)
    c = raw_client(f)
    sid = c.h2.get_next_available_stream_id()
    c.h2.send_headers(sid, BASE + [(":path", f"/{name}")] + extra, end_stream=True)
    c.flush()
    assert outcome(c, sid) == want
    still_serves(c, f)
    assert [r["target"] for r in a.records()] == ["/after"]


PSEUDO = {
    "path-space": ([(":path", "/a b")], RESET),
    "path-crlf": ([(":path", "/a\r\nx-injected: 1")], RESET),
    "path-relative": ([(":path", "a")], RESET),
    "path-absolute": ([(":path", "http://evil.test/")], RESET),
    "path-missing": ([], RESET),
    "path-twice": ([(":path", "/p1"), (":path", "/p2")], RESET),
    "method-with-target": ([(":path", "/m")], RESET, "GET /evil HTTP/1.1"),
    "authority-crlf": ([(":path", "/a")], RESET, None, "app.test\r\nx-injected: 1"),
    "authority-slash": ([(":path", "/a")], RESET, None, "app.test/evil"),
    "authority-userinfo": ([(":path", "/a")], ("status", 400), None, "evil@app.test"),
    "pseudo-after-field": ([("x-a", "1"), (":path", "/a")], RESET),
    "pseudo-unknown": ([(":path", "/a"), (":foo", "1")], RESET),
    "pseudo-status": ([(":path", "/a"), (":status", "200")], RESET),
    "options-star": ([(":path", "*")], ("status", 400), "OPTIONS"),
}


@pytest.mark.parametrize("name", sorted(PSEUDO))
def test_h2_pseudo_header_misuse_never_reaches_the_upstream(lab, name):
    spec = PSEUDO[name] + (None, None)
    fields, want, method, authority = spec[0], spec[1], spec[2], spec[3]
    f = Front(lab)
    a = f.upstream(9001, "a")
    f.start(routes=ROUTES, workers=1)
    c = raw_client(f)
    sid = c.h2.get_next_available_stream_id()
    head = [(":method", method or "GET"), (":scheme", "http"),
            (":authority", authority or "app.test")] + fields
    c.h2.send_headers(sid, head, end_stream=True)
    c.flush()
    assert outcome(c, sid) == want
    still_serves(c, f)
    assert [r["target"] for r in a.records()] == ["/after"]


def test_h2_connect_is_refused(lab):
    """CONNECT is not proxied: 405, the answer HTTP/1.1 gets
    (test_front_smuggling's connect_method), and the session goes on."""
    f = Front(lab)
    a = f.upstream(9001, "a")
    f.start(routes=ROUTES, workers=1)
    c = raw_client(f)
    sid = c.h2.get_next_available_stream_id()
    c.h2.send_headers(sid, [(":method", "CONNECT"), (":authority", "app.test:80")],
                      end_stream=True)
    c.flush()
    assert outcome(c, sid) == ("status", 405)
    still_serves(c, f)
    assert [r["target"] for r in a.records()] == ["/after"]


def test_h2_host_field_cannot_override_authority(lab):
    """:authority routes and becomes the one Host upstream; a `host` field
    that names the same authority (any case) is not forwarded beside it, one
    that differs makes the request malformed (400: RFC 9113 section 8.3.1)
    and a second `host` resets the stream (nghttp2), te: trailers is not forwarded (hop-by-hop), and
    `host` alone routes."""
    f = Front(lab)
    a = f.upstream(9001, "a")
    f.start(routes=ROUTES, workers=1)
    c = raw_client(f)

    def send(fields):
        sid = c.h2.get_next_available_stream_id()
        c.h2.send_headers(sid, fields, end_stream=True)
        c.flush()
        return outcome(c, sid)

    assert send(BASE + [(":path", "/h"), ("host", "APP.test"), ("te", "trailers")]) == \
        ("status", 200)
    hosts = [v for k, v in a.records()[-1]["headers"] if k.lower() == "host"]
    assert hosts == ["app.test"]
    assert not [k for k, v in a.records()[-1]["headers"] if k.lower() == "te"]
    seen = a.count()
    assert send(BASE + [(":path", "/other"), ("host", "other.test")]) == ("status", 400)
    assert send(BASE + [(":path", "/twice"), ("host", "app.test"), ("host", "app.test")]) == \
        RESET
    only = [(":method", "GET"), (":scheme", "http")]
    assert send(only + [(":path", "/two"), ("host", "app.test"), ("host", "other.test")]) == \
        RESET
    assert a.count() == seen
    assert send(only + [(":path", "/h2"), ("host", "app.test")]) == ("status", 200)
    assert a.records()[-1]["target"] == "/h2"


SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: app.test\r\n\r\n"


@pytest.mark.parametrize("name,length,body", [
    # More DATA than content-length: the rest would be a request upstream.
    ("longer", 5, b"hello" + SMUGGLED),
    # Less DATA than content-length, then END_STREAM: the upstream would
    # wait for bytes the next request on the connection would supply.
    ("shorter", 100, b"hello")])
def test_h2_content_length_mismatch_is_reset_and_nothing_smuggled(lab, name, length, body):
    f = Front(lab)
    a = f.upstream(9001, "a")
    f.start(routes=ROUTES, workers=1)
    c = raw_client(f)
    sid = c.request("POST", f"/sum-{name}", headers=[("content-length", str(length))],
                    end_stream=False)
    send_raw_data_end(c, sid, body)
    assert outcome(c, sid) == RESET
    still_serves(c, f)
    # The upstream got no complete request but the one after, on a
    # connection of its own (the half-sent one was closed, not pooled).
    recs = a.records()
    assert [r["target"] for r in recs] == ["/after"], recs


def send_raw_data_end(c, sid, body):
    c.sock.sendall(DataFrame(sid, data=body, flags=["END_STREAM"]).serialize())


def test_h2_rapid_reset_flood_ends_the_connection(lab):
    """CVE-2023-44487: a client that opens streams and resets them at once
    is bounded by no concurrency limit; the hub (nghttp2's reset rate
    limit: a burst of 1000, then 33 a second) ends such a connection with
    a GOAWAY whose last stream comes long before the 2500th, and goes on
    serving others. The client sends far faster than 33 a second even on
    a loaded machine."""
    f = Front(lab)
    a = f.upstream(9001, "a")
    f.start(routes=ROUTES, workers=1)
    c = Client(f, window=1 << 20)
    settings_of(c)
    sent = 0
    try:
        while sent < 5000 and not c.closed and not c.of(h2.events.ConnectionTerminated):
            for _ in range(100):
                sid = c.h2.get_next_available_stream_id()
                c.h2.send_headers(sid, BASE + [(":path", f"/r{sid}")], end_stream=True)
                c.h2.reset_stream(sid)
            sent += 100
            c.flush()
            c.poll()
    except OSError:
        pass    # the hub closed while a batch was on its way
    c.until(lambda: c.closed or c.of(h2.events.ConnectionTerminated), what="GOAWAY")
    gone = c.of(h2.events.ConnectionTerminated)
    # The GOAWAY names the last stream the hub took: the bound holds on
    # what the hub processed, however many streams the client managed
    # to put in the socket buffers before the GOAWAY reached it.
    assert gone, (sent, c.events[-3:])
    assert gone[0].last_stream_id < 2 * 2500, (sent, gone[0])
    assert a.count() < 2500
    c2 = Client(f, window=1 << 20)
    still_serves(c2, f)


@pytest.mark.parametrize("fragment", [b"", b"@\x03x-a\x01b"], ids=["empty", "field"])
def test_h2_continuation_flood_ends_the_connection(lab, fragment):
    """CVE-2024-27316 class: a HEADERS frame that never ends, followed by
    CONTINUATION frames without end (empty ones, or each adding a field):
    the hub closes the connection after a bounded number (the header list
    limit, nghttp2's count of CONTINUATION frames) and goes on serving
    others; nothing reached the upstream.

    The flood is longer than the kernel can buffer between the two ends
    (twice the tcp_rmem and tcp_wmem maxima), so the client cannot finish
    sending it unless the hub reads all of it: a hub that closes after a
    bounded number of frames makes the send fail, however late it gets
    to read (a shorter flood once fitted in the buffers of a loaded
    machine before the hub had read a byte)."""
    f = Front(lab)
    a = f.upstream(9001, "a")
    f.start(routes=ROUTES, workers=1)
    c = Client(f, window=1 << 20)
    settings_of(c)
    head = HeadersFrame(1, data=c.h2.encoder.encode(BASE + [(":path", "/flood")]))
    head.flags.add("END_STREAM")
    batch = ContinuationFrame(1, data=fragment).serialize() * 1000
    flood = 2 * (sysctl_max("tcp_rmem") + sysctl_max("tcp_wmem"))
    sent = 0
    c.sock.settimeout(60)   # a hub that stops reading would fail the test
    try:
        c.sock.sendall(head.serialize())
        while sent < flood:
            c.sock.sendall(batch)
            sent += len(batch)
    except (BrokenPipeError, ConnectionResetError):
        pass    # closed by the hub
    assert sent < flood, (sent, flood)
    # Closed, not just stalled: what is left to read ends (GOAWAY first).
    try:
        while c.sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    still_serves(Client(f, window=1 << 20), f)
    assert [r["target"] for r in a.records()] == ["/after"]
