"""Reload (SIGHUP) and graceful shutdown (SIGTERM) under load."""
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402
from frontlab import Front, read_response  # noqa: E402

ROUTE_A = "[route.app]\nhost = *\ntarget = http://127.0.0.1:9001\n"
ROUTE_B = "[route.app]\nhost = *\ntarget = http://127.0.0.1:9002\n"


class Load:
    """Clients sending keep-alive requests until stopped; every response
    must be a 200 (any failure is recorded)."""
    def __init__(self, f, clients=8):
        self.f, self.stop_, self.ok, self.fail = f, False, 0, []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(clients)]
        for t in self.threads:
            t.start()

    def run(self):
        s = None
        while not self.stop_:
            try:
                if s is None:
                    s = self.f.connect()
                s.sendall(b"GET /load HTTP/1.1\r\nHost: a.test\r\n\r\n")
                st, h, body, rest = read_response(s)
                with self.lock:
                    if st == 200:
                        self.ok += 1
                    else:
                        self.fail.append(st)
                if h.get("connection") == "close":
                    s.close()
                    s = None
            except Exception as e:  # noqa: BLE001 - recorded, asserted on
                with self.lock:
                    self.fail.append(repr(e))
                s = None

    def stop(self):
        self.stop_ = True
        for t in self.threads:
            t.join()

    # A failing assertion still stops the clients before the lab goes away.
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def test_sighup_reload_under_load(lab):
    f = Front(lab)
    a, b = f.upstream(9001, "a"), f.upstream(9002, "b")
    f.start(routes=ROUTE_A)
    with Load(f) as load:
        netlab.wait_until(lambda: load.ok > 200, what="load running")
        for i in range(6):
            before_a, before_b = a.count(), b.count()
            f.reload(routes=ROUTE_B if i % 2 == 0 else ROUTE_A)
            target = b if i % 2 == 0 else a
            # Requests reach the new upstream after the reload.
            netlab.wait_until(lambda: target.count() > (before_b if target is b else before_a) + 50,
                              what="traffic on the new target")
    assert load.fail == [], load.fail[:5]
    assert load.ok > 300


def test_bad_reload_keeps_running_config(lab):
    f = Front(lab)
    a = f.upstream(9001, "a")
    f.start(routes=ROUTE_A)
    with open(f.routes_path, "w") as fh:
        fh.write("[route.x]\nhost = bad host\ntarget = http://127.0.0.1:9001\n")
    f.proc.send_signal(signal.SIGHUP)
    netlab.wait_until(lambda: "keeping the running configuration" in f.proc.log(),
                      what="reload error")
    assert f.curl(f.url("/still")).stdout == "a GET /still"


def test_sigterm_finishes_requests_in_flight(lab):
    f = Front(lab)
    a = f.upstream(9001, "a")
    f.start(routes=ROUTE_A)
    s = f.connect(timeout=20)
    s.sendall(b"GET /slow/1500 HTTP/1.1\r\nHost: a.test\r\n\r\n")
    netlab.wait_until(lambda: a.count() == 1, what="request at the upstream")
    f.proc.send_signal(signal.SIGTERM)
    st, h, body, rest = read_response(s)
    assert st == 200 and body == b"slow"
    assert h.get("connection") == "close"
    assert f.proc.popen.wait(15) == 0
    assert "stopped" in f.proc.log()
