"""Request smuggling and malformed input: every ambiguity the parser
rejects, sent as raw bytes through a real socket. Each case asserts the
status, that the hub closed the connection, and that the observing
upstream saw no request at all: not the bad one, and not the request
smuggled behind it."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402
from frontlab import Front, recv_all  # noqa: E402

ROUTES = """[route.app]
host = app.test
target = http://127.0.0.1:9001
"""

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: app.test\r\n\r\n"

CHUNKED = b"Transfer-Encoding: chunked\r\n"
GET = b"GET / HTTP/1.1"


def req(head=b"", body=b"", line=b"POST / HTTP/1.1"):
    """Raw bytes of a request to app.test: `line`, Host, the header lines
    in `head` (each with its CRLF), the blank line, then `body`."""
    return line + b"\r\nHost: app.test\r\n" + head + b"\r\n" + body


# name -> (raw request head+body, expected status)
CASES = {
    "cl_and_te": (req(b"Content-Length: 4\r\n" + CHUNKED, b"0\r\n\r\n"), 400),
    "te_and_cl": (req(CHUNKED + b"Content-Length: 4\r\n", b"0\r\n\r\n"), 400),
    "duplicate_cl_same": (req(b"Content-Length: 3\r\nContent-Length: 3\r\n", b"abc"), 400),
    "duplicate_cl_conflict": (req(b"Content-Length: 3\r\nContent-Length: 40\r\n", b"abc"), 400),
    "cl_list": (req(b"Content-Length: 3, 3\r\n", b"abc"), 400),
    "cl_sign": (req(b"Content-Length: +3\r\n", b"abc"), 400),
    "cl_hex": (req(b"Content-Length: 0x3\r\n", b"abc"), 400),
    "te_chunked_not_last": (req(b"Transfer-Encoding: chunked, identity\r\n", b"0\r\n\r\n"), 400),
    "te_chunked_twice": (req(CHUNKED + CHUNKED, b"0\r\n\r\n"), 400),
    "te_chunked_twice_list": (req(b"Transfer-Encoding: chunked, chunked\r\n", b"0\r\n\r\n"), 400),
    "te_on_http10": (req(CHUNKED, b"0\r\n\r\n", line=b"POST / HTTP/1.0"), 400),
    "te_space_before_colon": (req(b"Transfer-Encoding : chunked\r\n", b"0\r\n\r\n"), 400),
    "te_obs_fold": (req(b"Transfer-Encoding:\r\n chunked\r\n", b"0\r\n\r\n"), 400),
    "obs_fold": (req(b"X-A: a\r\n\tb\r\n", line=GET), 400),
    "nul_in_header": (req(b"X-A: a\x00b\r\n", line=GET), 400),
    "nul_in_target": (req(line=b"GET /a\x00b HTTP/1.1"), 400),
    "bare_cr_in_header": (req(b"X-A: a\rb\r\n", line=GET), 400),
    "bare_lf_line_end": (req(b"X-A: a\nX-B: b\r\n", line=GET), 400),
    "bad_token_char": (req(b"X\"A: a\r\n", line=GET), 400),
    "bad_method_char": (req(line=b"G{T / HTTP/1.1"), 400),
    "duplicate_host": (req(b"Host: evil.test\r\n", line=GET), 400),
    "missing_host": (b"GET / HTTP/1.1\r\n\r\n", 400),
    "absolute_uri_host_mismatch": (req(line=b"GET http://evil.test/ HTTP/1.1"), 400),
    "chunk_size_negative": (req(CHUNKED, b"-1\r\nx\r\n0\r\n\r\n"), 400),
    "chunk_size_hex_prefix": (req(CHUNKED, b"0x1\r\nx\r\n0\r\n\r\n"), 400),
    "chunk_size_space": (req(CHUNKED, b"1 \r\nx\r\n0\r\n\r\n"), 400),
    "chunk_size_overflow": (req(CHUNKED, b"10000000000000001\r\nx\r\n0\r\n\r\n"), 400),
    "chunk_data_overrun": (req(CHUNKED, b"1\r\nxy\r\n0\r\n\r\n"), 400),
    "chunk_bare_lf": (req(CHUNKED, b"1\nx\r\n0\r\n\r\n"), 400),
    "http2_version_in_h1": (req(line=b"GET / HTTP/2.0"), 505),
    # docs/front.md: statuses other than 400 the parser answers with.
    "connect_method": (b"CONNECT app.test:443 HTTP/1.1\r\nHost: app.test:443\r\n\r\n", 405),
    "expect_unknown": (req(b"Expect: fast\r\n", line=GET), 417),
    "te_other_coding": (req(b"Transfer-Encoding: gzip\r\n", b"abc"), 501),
}


@pytest.fixture
def front(lab):
    f = Front(lab)
    up = f.upstream(9001, "app")
    f.start(routes=ROUTES, workers=1, settings='metrics_listen = "127.0.0.1:9100"\n')
    return f, up


def test_good_request_reaches_upstream(front):
    """The control case: the same setup forwards a clean request."""
    f, up = front
    s = f.connect()
    s.sendall(b"GET /ok HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
    data, closed = recv_all(s)
    assert data.startswith(b"HTTP/1.1 200"), data
    assert [r["target"] for r in up.records()] == ["/ok"]


def settled(f, up):
    """What the upstream got besides a follow-up request sent on a new
    connection after the hub closed the bad one: once the follow-up has
    arrived, anything the hub forwarded of the bad connection (same
    worker, same upstream pool) arrived before it, so an empty answer
    means nothing was forwarded, not "not yet"."""
    s = f.connect()
    s.sendall(b"GET /settle HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
    data, _ = recv_all(s)
    assert data.startswith(b"HTTP/1.1 200"), data[:200]
    recs = netlab.wait_until(
        lambda: [r for r in up.records() if r["target"] == "/settle"] and up.records(),
        what="the follow-up request at the upstream")
    return [r["target"] for r in recs if r["target"] != "/settle"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_rejected(front, name):
    f, up = front
    raw, status = CASES[name]
    s = f.connect()
    s.sendall(raw + SMUGGLED)
    data, closed = recv_all(s)
    assert data.startswith(b"HTTP/1.1 %d " % status), data[:200]
    assert b"Connection: close" in data
    assert closed, "the hub must close the connection after a rejected request"
    # The reply is the hub's own fixed page: one response, nothing after it.
    assert data.count(b"HTTP/1.1 ") == 1
    assert settled(f, up) == [], "the upstream must see neither request"


def test_rejections_are_counted(front):
    f, up = front
    for name in ("cl_and_te", "duplicate_host", "obs_fold"):
        s = f.connect()
        s.sendall(CASES[name][0])
        recv_all(s)
    m = f.curl("http://127.0.0.1:9100/metrics").stdout
    assert "postern_requests_malformed_total 3" in m, m
