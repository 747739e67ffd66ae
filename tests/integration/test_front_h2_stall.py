"""HTTP/2 clients that hold their output back: send_timeout on h2.

A real HTTP/2 client (python3-h2) that keeps its connection open and
reads, but never opens its flow-control windows, or that stops reading
altogether. The hub must give up on that output after send_timeout and
release what it holds for it: the stream is reset (stream window closed),
the session ends with GOAWAY (connection window closed), or the connection
is closed (the socket takes nothing). Each time the upstream connection
that fed the response is closed."""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import h2.errors  # noqa: E402
import h2.events  # noqa: E402

import netlab  # noqa: E402
from frontlab import Front  # noqa: E402
from h2client import Client  # noqa: E402

pytestmark = pytest.mark.serial  # send_timeout stalls, descriptor counts

ROUTES = """[route.app]
host = app.test
target = http://127.0.0.1:9001
"""
BIG = 1 << 30   # never finished: the test ends long before


def start(lab, send_timeout="2s"):
    f = Front(lab)
    up = f.upstream(9001, "a")
    f.start(routes=ROUTES, workers=1,
            settings=f"send_timeout = {send_timeout}\nupstream_keepalive_max = 100\n")
    return f, up


def upstream_conns(f):
    """The hub's established connections to the upstream."""
    r = f.ns.run(["ss", "-Htn", "state", "established", "( dport = :9001 )"])
    return len([x for x in r.stdout.splitlines() if x.strip()])


def test_h2_stream_window_closed_is_reset_after_send_timeout(lab):
    """Stream window 1 KiB, never updated: the stream that waits is reset
    (CANCEL) after send_timeout, its upstream connection is closed, and the
    connection still serves other streams."""
    f, up = start(lab)
    c = Client(f, window=1024)
    sid = c.get(f"/big/{BIG}")
    c.until(lambda: c.data.get(sid, 0) == 1024 and upstream_conns(f) == 1,
            what="the stream's window used up, its upstream connected")
    c.until(lambda: c.of(h2.events.StreamReset, sid), what="RST_STREAM", timeout=30)
    assert c.of(h2.events.StreamReset, sid)[0].error_code == h2.errors.ErrorCodes.CANCEL
    assert c.data[sid] == 1024
    netlab.wait_until(lambda: upstream_conns(f) == 0, what="upstream connection closed")
    assert not c.closed and not c.of(h2.events.ConnectionTerminated)
    # The connection goes on: a small response fits the window.
    sid2 = c.get("/x")
    c.until(lambda: c.of(h2.events.StreamEnded, sid2), what="the next stream answered")
    assert c.data[sid2] == len("a GET /x")
    assert c.of(h2.events.ResponseReceived, sid2)[0].headers[0] == (":status", "200")


def test_h2_connection_window_closed_ends_session_after_send_timeout(lab):
    """Stream windows open (1 MiB) but the connection window (64 KiB) never
    updated: after send_timeout the hub sends GOAWAY and closes, and the
    upstream connections of both waiting streams are closed."""
    f, up = start(lab)
    c = Client(f, window=1 << 20)
    s1, s3 = c.get(f"/big/{BIG}"), c.get(f"/big/{BIG}")
    c.until(lambda: c.data.get(s1, 0) + c.data.get(s3, 0) == 65535 and
            upstream_conns(f) == 2, what="the connection window used up")
    c.until(lambda: c.closed, what="the connection closed", timeout=30)
    gone = c.of(h2.events.ConnectionTerminated)
    assert gone and gone[0].error_code == h2.errors.ErrorCodes.ENHANCE_YOUR_CALM
    netlab.wait_until(lambda: upstream_conns(f) == 0, what="upstream connections closed")


def test_h2_client_not_reading_is_closed_after_send_timeout(lab):
    """Windows wide open, then the client stops reading its socket: the
    hub's output stops moving, and after send_timeout the connection and
    its upstream connection are closed (fds back to where they were)."""
    f, up = start(lab)
    base = f.idle_fd_count()
    c = Client(f, window=(1 << 31) - 1, rcvbuf=65536)
    c.h2.increment_flow_control_window((1 << 31) - 1 - 65535)
    sid = c.get(f"/big/{BIG}")
    c.until(lambda: c.data.get(sid, 0) > 0, what="the response started")
    # From here on nothing is read: socket buffers and the hub's output
    # buffer fill, then nothing moves.
    netlab.wait_until(lambda: upstream_conns(f) == 1, what="upstream connected")
    netlab.wait_until(lambda: f.fd_count() <= base and upstream_conns(f) == 0,
                      timeout=60, what=f"fds back to {base}")
    r = f.ns.run(["ss", "-Htn", "state", "established", "( sport = :8080 )"])
    assert r.stdout.strip() == "", r.stdout
    c.sock.close()


def test_h2_slow_reader_within_send_timeout_completes(lab):
    """A client that opens its window a little at a time, each pause well
    inside send_timeout but all of them together longer than it, is never
    cut off: send_timeout counts from the last progress, and the body
    arrives whole. (The pauses are the slow client being tested, not a
    wait for a condition.)"""
    f, up = start(lab, send_timeout="3s")
    c = Client(f, window=16384)
    steps = 12
    n = 16384 * steps
    sid = c.get(f"/big/{n}")
    for i in range(steps):
        c.until(lambda: c.data.get(sid, 0) >= 16384 * (i + 1), what=f"window {i} used")
        assert not c.of(h2.events.StreamReset, sid) and not c.closed
        time.sleep(0.4)
        c.h2.acknowledge_received_data(16384, sid)
        c.flush()
    c.until(lambda: c.of(h2.events.StreamEnded, sid), what="the end of the body")
    assert c.data[sid] == n and not c.of(h2.events.StreamReset, sid)


def test_h2_stream_cut_by_send_timeout_logs_what_the_client_got(lab):
    """The upstream's whole 8 KiB answer is in the hub when the client's
    stream window (0) never opens: the stream is reset after send_timeout
    and its access-log line says 0 bytes went out and why, not 200 with
    the upstream's byte count. A stream that completes logs every byte."""
    f, up = start(lab)
    c = Client(f, window=0)
    sid = c.get("/big/8192")
    c.until(lambda: c.of(h2.events.StreamReset, sid), what="RST_STREAM", timeout=30)
    netlab.wait_until(lambda: [r for r in f.access_records() if r["path"] == "/big/8192"],
                      what="the access log line")
    rec = [r for r in f.access_records() if r["path"] == "/big/8192"][0]
    assert rec["bytes"] == 0 and rec["error"] == "send_timeout", rec
    c2 = Client(f, window=1 << 20)
    sid2 = c2.get("/big/4096")
    c2.until(lambda: c2.of(h2.events.StreamEnded, sid2), what="the second answer")
    netlab.wait_until(lambda: [r for r in f.access_records() if r["path"] == "/big/4096"],
                      what="the second access log line")
    rec = [r for r in f.access_records() if r["path"] == "/big/4096"][0]
    assert rec["status"] == 200 and rec["bytes"] == 4096 and not rec.get("error"), rec


def test_h2_resets_in_flight_are_summed_up_not_logged_one_by_one(lab):
    """A rapid-reset client: 100 streams, each reset once its request
    reached the upstream. The access log gets the first 32 of them and the
    daemon log one line with the count when the connection ends (a flood
    of resets would otherwise write a line per stream)."""
    f, up = start(lab)
    c = Client(f, window=1 << 20)
    for rnd in range(5):
        sids = [c.get("/slow/5000") for _ in range(20)]
        c.until(lambda: up.count() >= 20 * (rnd + 1), what=f"round {rnd} upstream")
        for sid in sids:
            c.h2.reset_stream(sid)
        c.flush()
    c.sock.close()
    netlab.wait_until(lambda: "100 streams in flight reset by the client" in f.proc.log(),
                      what="the summary line")
    lines = [r for r in f.access_records() if r["path"] == "/slow/5000"]
    assert len(lines) == 32, len(lines)
