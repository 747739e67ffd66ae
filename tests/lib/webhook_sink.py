"""webhook_sink - an HTTP receiver for webhook tests, listening on
127.0.0.1 inside a test's network namespace (the hub's), run on a thread
of the test process. It records every request and answers by a plan.

    sink = Sink(ns_name)                 # sink.port, sink.url("/x")
    sink.plan["/x"] = [500, 500, 200]    # statuses in turn; the last repeats
    sink.requests("/x")                  # [(headers dict lower-cased, body bytes)]
    sink.close()

A plan entry may be an int, (status, {header: value}) or (status, {header:
value}, body bytes). `delay` holds a
response back for that many seconds (a receiver that is slow, so a
delivery is in flight when the hub is killed)."""
import http.server
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from frontlab import ns_socket  # noqa: E402


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        sink = self.server.sink
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n else b""
        hdrs = {k.lower(): v for k, v in self.headers.items()}
        with sink.lock:
            got = sink.got.setdefault(self.path, [])
            got.append((hdrs, body))
            plan = sink.plan.get(self.path, [200])
            step = plan[min(len(got) - 1, len(plan) - 1)]
        if sink.delay:
            sink.release.wait(sink.delay)
        step = (step, {}, b"") if isinstance(step, int) else tuple(step) + (b"",) * (3 - len(step))
        status, extra, out = step[:3]
        self.send_response(status)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        try:
            self.wfile.write(out)
        except OSError:
            pass    # the hub stops reading a long answer


class Sink:
    def __init__(self, ns_name, delay=0.0):
        self.lock = threading.Lock()
        self.got = {}
        self.plan = {}
        self.delay = delay
        self.release = threading.Event()
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler,
                                              bind_and_activate=False)
        srv.socket.close()
        srv.socket = ns_socket(ns_name)
        srv.socket.setsockopt(__import__("socket").SOL_SOCKET,
                              __import__("socket").SO_REUSEADDR, 1)
        srv.socket.bind(("127.0.0.1", 0))
        srv.server_address = srv.socket.getsockname()
        srv.socket.listen(64)
        srv.daemon_threads = True
        srv.sink = self
        self.srv = srv
        self.port = srv.server_address[1]
        self.thread = threading.Thread(target=srv.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def requests(self, path):
        with self.lock:
            return list(self.got.get(path, []))

    def close(self):
        self.release.set()
        self.srv.shutdown()
        self.srv.server_close()
