"""HTTP/2 clients that never open their flow-control windows (issue 10).

The attack: SETTINGS_INITIAL_WINDOW_SIZE = 0, then 128 streams for a
10 MB file on each of 40 connections from one address. Before the fix the
hub opened an upstream connection per stream, buffered about 240 KiB for
each, grew by more than a gigabyte and kept it. Now (docs/front.md,
"HTTP/2", "Streams the client does not read"):
- a stream whose window is closed holds at most H2_PARK bytes and its
  upstream is not read further (back-pressure);
- each connection runs at most `h2_upstream_streams` exchanges at once
  (the others wait), one client address at most
  `h2_upstream_streams_per_ip` (beyond that, REFUSED_STREAM);
- memory goes back to the system once the burst is over.
Bounds asserted: hub RSS delta, upstream connections, descriptors; and a
client from another address gets its 200s (h1 and h2) during the attack.
No timing is asserted; conditions are waited for."""
import os
import select
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import h2.errors  # noqa: E402
import h2.events  # noqa: E402

import netlab  # noqa: E402
from frontlab import Front  # noqa: E402
from h2client import Client  # noqa: E402

pytestmark = pytest.mark.serial

CONNS = 40
STREAMS = 128
PER_CONN = 32           # h2_upstream_streams default (docs/front.md)
PER_IP = 256            # h2_upstream_streams_per_ip default
NGINX_PORT = 9001
BIG = 10 * 1000 * 1000
RSS_BOUND_KIB = 64 * 1024
ASAN = "/asan/" in netlab.postern_bin()

ROUTES = f"""[route.app]
host = app.test
target = http://127.0.0.1:{NGINX_PORT}
"""


def upstream_conns(f):
    """The hub's established connections to nginx."""
    r = f.ns.run(["ss", "-Htn", "state", "established", f"( dport = :{NGINX_PORT} )"])
    return len([x for x in r.stdout.splitlines() if x.strip()])


def fds(f):
    """The hub's descriptors (entries whose readlink succeeded)."""
    d = f"/proc/{f.proc.pid}/fd"
    n = 0
    for e in os.listdir(d):
        try:
            os.readlink(os.path.join(d, e))
            n += 1
        except OSError:
            pass
    return n


def idle(f):
    """Only the listeners on the hub's port, nothing in their accept queues
    (docs/testing.md: a baseline must not race wait_port's probe)."""
    r = f.ns.run(["ss", "-Htn", "state", "all", f"( sport = :{f.port} )"])
    lines = [x.split() for x in r.stdout.splitlines() if x.strip()]
    return lines and all(x[0] == "LISTEN" and x[1] == "0" for x in lines)


def start(lab):
    f = Front(lab)
    root = os.path.join(lab.tmpdir, "www")
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "big"), "wb") as out:
        out.write(os.urandom(1 << 20) * (BIG // (1 << 20)) + b"x" * (BIG % (1 << 20)))
    with open(os.path.join(root, "small"), "wb") as out:
        out.write(b"hello\n")
    f.nginx(NGINX_PORT, root)
    # send_timeout far beyond the test: the attack holds while measured.
    f.start(routes=ROUTES, workers=2, settings="send_timeout = 600s\n")
    return f


def other_client_served(f):
    """A client from another address (127.0.0.2) gets its answers, over
    HTTP/1.1 and HTTP/2 (prior knowledge)."""
    for extra in ([], ["--http2-prior-knowledge"]):
        r = f.curl("--interface", "127.0.0.2", *extra, "-o", "/dev/null",
                   "-w", "%{http_code} %{size_download}", "-H", "Host: app.test",
                   f.url("/small"), timeout=60)
        assert r.stdout.split() == ["200", "6"], (extra, r.stdout)


def attack(f):
    clients = []
    for _ in range(CONNS):
        c = Client(f, window=0)
        c.until(lambda c=c: c.of(h2.events.RemoteSettingsChanged), what="server settings")
        for _ in range(STREAMS):
            c.get("/big")
        clients.append(c)
    return clients


def per_client(clients):
    """Reads what has arrived (only sockets with bytes waiting: a poll of
    an idle one waits for its timeout) and lists (response heads, refused
    streams) for each client connection."""
    live = [c for c in clients if not c.closed]
    ready, _, _ = select.select([c.sock for c in live], [], [], 0) if live else ([], 0, 0)
    for c in live:
        if c.sock in ready:
            c.poll()
    return [(len(c.of(h2.events.ResponseReceived)),
             sum(1 for e in c.of(h2.events.StreamReset)
                 if e.error_code == h2.errors.ErrorCodes.REFUSED_STREAM))
            for c in clients]


def tally(clients):
    """Response heads and refused streams over all client connections."""
    counts = per_client(clients)
    return sum(h for h, _ in counts), sum(r for _, r in counts)


def test_h2_zero_window_attack_is_bounded(lab):
    f = start(lab)
    other_client_served(f)          # warm: threads, pools, TLS-less paths
    netlab.wait_until(lambda: idle(f), what="hub idle")
    netlab.wait_until(lambda: upstream_conns(f) <= 2, timeout=60, what="pool idle")
    base_rss, base_fds, base_up = f.rss_kib(), fds(f), upstream_conns(f)

    clients = attack(f)
    peak = [0, 0, 0]                # rss, upstream connections, fds

    def settled():
        counts = per_client(clients)
        heads = sum(h for h, _ in counts)
        peak[0] = max(peak[0], f.rss_kib())
        peak[1] = max(peak[1], upstream_conns(f))
        peak[2] = max(peak[2], fds(f))
        # Over a bound already: no need to wait (wait_until reports it).
        assert heads <= PER_IP and peak[1] <= PER_IP + base_up + 2, (heads, peak)
        if not ASAN:
            assert peak[0] - base_rss < RSS_BOUND_KIB, (peak, base_rss)
        # Every address slot is in use, and every stream of a connection
        # that holds none was refused. (A connection that holds a slot
        # queues its other streams instead; how the slots split between
        # the connections depends on how the two workers interleave.)
        return heads >= PER_IP and all(r == STREAMS for h, r in counts if h == 0)
    try:
        netlab.wait_until(settled, timeout=180, interval=0.2, what="the attack at its peak")
    except TimeoutError:
        raise AssertionError(f"not settled: heads/refused {tally(clients)}, peak {peak}, "
                             f"upstream {upstream_conns(f)}")
    other_client_served(f)
    settled()
    heads, refused = tally(clients)
    assert heads == PER_IP, heads               # no response started beyond the bound
    assert refused >= STREAMS, refused          # whole connections were turned away
    # The attack's exchanges, the pooled ones, the other client's two.
    assert peak[1] <= PER_IP + base_up + 2, (peak, base_up)
    # Client connections, the upstream ones, the other client's, a margin.
    assert peak[2] <= base_fds + CONNS + PER_IP + 4, (peak, base_fds)
    assert not any(c.closed for c in clients)   # the attacker was not cut off early
    print(f"rss base {base_rss} KiB peak {peak[0]} KiB; upstream peak {peak[1]}; "
          f"fds base {base_fds} peak {peak[2]}")
    if not ASAN:                    # ASan's shadow and quarantine inflate RSS
        assert peak[0] - base_rss < RSS_BOUND_KIB, (peak[0], base_rss)

    for c in clients:
        c.sock.close()
    # Everything goes back: upstream connections, descriptors, memory.
    netlab.wait_until(lambda: upstream_conns(f) <= 4 and fds(f) <= base_fds + 4,
                      timeout=60, what="connections released")
    if not ASAN:
        netlab.wait_until(lambda: f.rss_kib() - base_rss < 16 * 1024, timeout=60,
                          what=f"memory returned (base {base_rss} KiB)")
    other_client_served(f)


def send_body(c, sid, body):
    for off in range(0, len(body), 16384):
        part = body[off:off + 16384]
        c.until(lambda: c.h2.local_flow_control_window(sid) >= len(part),
                what="the hub's window")
        c.send_data(sid, part, end_stream=off + 16384 >= len(body))


def upstream_conns_on(f, port):
    r = f.ns.run(["ss", "-Htn", "state", "established", f"( dport = :{port} )"])
    return len([x for x in r.stdout.splitlines() if x.strip()])


def test_h2_streams_beyond_the_slots_wait_and_complete(lab):
    """h2_upstream_streams = 2. Two uploads whose bodies are withheld hold
    both slots: GETs sent then wait (no upstream connection, no answer),
    while further uploads do not wait (their un-acknowledged DATA would
    close the connection window to the running ones) and complete. Once
    the first bodies arrive, everything completes intact, with at most
    the two slots plus the two uploads upstream at once."""
    import hashlib
    f = Front(lab)
    f.upstream(9001, "a")
    f.start(routes=ROUTES.replace(str(NGINX_PORT), "9001"), workers=1,
            settings="h2_upstream_streams = 2\n")
    c = Client(f, window=1 << 20)
    c.h2.increment_flow_control_window(1 << 24)
    c.flush()
    bodies = {}
    for i in range(4):
        bodies[c.request("POST", "/sum", end_stream=False)] = os.urandom(100_000 + i)
    first, late = list(bodies)[:2], list(bodies)[2:]
    peak = [0]

    def up():
        peak[0] = max(peak[0], upstream_conns_on(f, 9001))
        return peak[0]
    netlab.wait_until(lambda: up() >= 4, what="four uploads upstream")
    gets = [c.get(f"/x{i}") for i in range(4)]
    for sid in late:
        send_body(c, sid, bodies[sid])
    c.until(lambda: up() and all(c.of(h2.events.StreamEnded, s) for s in late),
            what="the late uploads answered")
    # The GETs were sent before the late uploads' bodies: they wait for
    # the slots the first two uploads hold.
    assert not any(c.of(h2.events.ResponseReceived, s) for s in gets)
    for sid in first:
        send_body(c, sid, bodies[sid])
    every = list(bodies) + gets
    c.until(lambda: up() and all(c.of(h2.events.StreamEnded, s) for s in every),
            what="every stream answered", timeout=60)
    assert peak[0] <= 4, peak
    got = {}
    for e in c.of(h2.events.DataReceived):
        got[e.stream_id] = got.get(e.stream_id, b"") + e.data
    for sid, body in bodies.items():
        assert got[sid] == hashlib.sha256(body).hexdigest().encode(), sid
    for i, sid in enumerate(gets):
        assert got[sid] == f"a GET /x{i}".encode()
