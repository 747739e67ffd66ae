"""Streaming through the front: multi-gigabyte bodies both ways keep the
hub's memory flat, and clients that vanish mid-response leave nothing
behind.

Sizes go through netlab.scale (2 GiB in the release pass). The memory
bound: the hub's RSS may grow at most RSS_GROWTH_KIB above its idle
baseline during a transfer; the buffers of one proxied exchange are a few
hundred KiB, so a body that were held in memory would exceed it by far."""
import hashlib
import os
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402
from frontlab import Front, read_response  # noqa: E402
from observe_upstream import BLOCK, stream_sha256  # noqa: E402

pytestmark = pytest.mark.serial  # 2 GiB transfers, RSS and descriptor counts

RSS_GROWTH_KIB = 48 * 1024
GIB = 1 << 30
ROUTES = "[route.app]\nhost = *\ntarget = http://127.0.0.1:9001\n"
HERE = os.path.dirname(os.path.abspath(__file__))
EMIT = os.path.join(HERE, "..", "lib", "observe_upstream.py")
ASAN_NO_QUARANTINE = "detect_leaks=1:abort_on_error=0:quarantine_size_mb=0"


class RssWatch:
    """Samples the hub's RSS in the background; .peak in KiB."""
    def __init__(self, front):
        self.front, self.peak, self.stop_ = front, front.rss_kib(), False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop_:
            try:
                self.peak = max(self.peak, self.front.rss_kib())
            except OSError:
                return
            time.sleep(0.05)

    def stop(self):
        self.stop_ = True
        self.t.join()
        return self.peak


def warm(f):
    # One small exchange so pools and lazily grown buffers exist.
    f.curl("-o", "/dev/null", f.url("/big/1000000"))


def start_front(lab, **start):
    """A front serving ROUTES with upstream "a" on 9001, started with
    `start`; returns both."""
    f = Front(lab)
    up = f.upstream(9001, "a")
    f.start(routes=ROUTES, **start)
    return f, up


def flat_rss_start(lab):
    """A warmed front for one big transfer: the front, its upstream, the
    size (2 GiB, scaled), the idle RSS and a watcher of the peak from
    now on."""
    f, up = start_front(lab)
    warm(f)
    return f, up, netlab.scale(2 * GIB), f.rss_kib(), RssWatch(f)


def check_flat(base, peak):
    assert peak - base < RSS_GROWTH_KIB, f"RSS grew {peak - base} KiB"


def check_nothing_left(f, base_fds, base_rss):
    """After clients vanished mid-response: every socket of theirs closed
    (up and down), only the metrics scrape open, RSS back near idle."""
    netlab.wait_until(lambda: f.fd_count() <= base_fds, timeout=20,
                      what=f"fds back to {base_fds} (now {f.fd_count()})")
    m = f.curl("http://127.0.0.1:9100/metrics").stdout
    assert "postern_connections_open 1\n" in m  # the scrape itself
    assert f.rss_kib() - base_rss < 8 * 1024, (base_rss, f.rss_kib())


def test_2gib_download_flat_rss(lab):
    f, up, n, base, w = flat_rss_start(lab)
    r = f.ns.sh(f"curl -sS --fail {f.url('/big/%d' % n)} | sha256sum", timeout=600)
    peak = w.stop()
    assert r.stdout.split()[0] == stream_sha256(n)
    check_flat(base, peak)


def test_2gib_chunked_download(lab):
    f, up = start_front(lab)
    n = netlab.scale(GIB) + 12345
    r = f.ns.sh(f"curl -sS --fail {f.url('/chunked/%d' % n)} | sha256sum", timeout=600)
    assert r.stdout.split()[0] == stream_sha256(n)


def test_2gib_upload_content_length_flat_rss(lab):
    f, up, n, base, w = flat_rss_start(lab)
    s = f.connect(timeout=120)
    s.sendall(b"PUT /sum HTTP/1.1\r\nHost: up.test\r\nContent-Length: %d\r\n\r\n" % n)
    left = n
    while left:
        c = BLOCK if left >= len(BLOCK) else BLOCK[:left]
        s.sendall(c)
        left -= len(c)
    st, h, body, rest = read_response(s)
    peak = w.stop()
    assert st == 200 and body.decode() == stream_sha256(n)
    assert up.records()[-1]["body_len"] == n
    check_flat(base, peak)


def test_2gib_upload_chunked_flat_rss(lab):
    f, up, n, base, w = flat_rss_start(lab)
    r = f.ns.sh(f"/usr/bin/python3 {EMIT} --emit {n} | curl -sS --fail -T - {f.url('/sum')}",
                timeout=600)
    peak = w.stop()
    assert r.stdout == stream_sha256(n)
    rec = up.records()[-1]
    assert rec["body_len"] == n and ["transfer-encoding", "chunked"] in \
        [[k.lower(), v] for k, v in rec["headers"]]
    check_flat(base, peak)


def test_client_disconnect_mid_response_leaks_nothing(lab):
    # ASan's quarantine would hold freed buffers and look like growth
    # (leaks are LeakSanitizer's job at exit); no effect on release builds.
    f, _ = start_front(lab, workers=1, settings='metrics_listen = "127.0.0.1:9100"\n',
                       env={"ASAN_OPTIONS": ASAN_NO_QUARANTINE})
    warm(f)
    # Let the idle pooled connection count toward the baseline too.
    base_fds, base_rss = f.idle_fd_count(), f.rss_kib()
    for i in range(40):
        s = f.connect()
        path = b"/big/%d" % (1 << 30) if i % 2 else b"/chunked/%d" % (1 << 30)
        s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: a.test\r\n\r\n")
        got = 0
        while got < 3 * 1024 * 1024:
            got += len(s.recv(1 << 20))
        s.close()
    # Every downstream and upstream socket of those exchanges is closed.
    check_nothing_left(f, base_fds, base_rss)
    # The hub still works.
    assert f.curl(f.url("/x")).stdout == "a GET /x"


def test_tls_and_h2_clients_disconnect_mid_response_leak_nothing(lab):
    """The same over TLS: HTTP/1.1 and HTTP/2 clients (curl) that stop
    reading and close mid-download leave no socket, stream or buffer."""
    certs = os.path.join(lab.tmpdir, "certs")
    os.makedirs(certs)
    f, _ = start_front(lab, workers=1,
                       settings='metrics_listen = "127.0.0.1:9100"\n'
                       'listen_https = "127.0.0.1:8443"\n'
                       f'[tls]\ncert_dir = {certs}\nselfsigned_name = a.test\n',
                       env={"ASAN_OPTIONS": ASAN_NO_QUARANTINE})
    f.wait_port(8443)
    url = "https://127.0.0.1:8443"
    for proto in ("--http1.1", "--http2"):
        f.ns.sh(f"curl -sk {proto} -o /dev/null {url}/big/1000000")
    base_fds, base_rss = f.idle_fd_count([f.port, 8443]), f.rss_kib()
    for i in range(20):
        proto = "--http2" if i % 2 else "--http1.1"
        kind = "big" if i % 4 < 2 else "chunked"
        # head takes 3 MiB and exits; curl dies on the broken pipe and
        # its connection (and stream) go with it.
        r = f.ns.sh(f"curl -sk {proto} {url}/{kind}/{1 << 30} | head -c 3145728 | wc -c",
                    timeout=120)
        assert r.stdout.strip() == "3145728"
    check_nothing_left(f, base_fds, base_rss)
    assert f.ns.sh(f"curl -sk --http2 {url}/x").stdout == "a GET /x"
