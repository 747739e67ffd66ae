"""h2client - a raw HTTP/2 client (python3-h2) for the front's tests.

    c = Client(f, window=1 << 20)            # f: a frontlab.Front
    sid = c.get("/x")                         # or c.request("POST", ..., end_stream=False)
    c.until(lambda: c.of(h2.events.StreamEnded, sid), what="the answer")

It never acknowledges received DATA, so it opens no flow-control window
unless a test does it (c.h2.acknowledge_received_data, then c.flush())."""
import socket
import ssl

import h2.config
import h2.connection
import h2.events
import h2.settings
from h2.settings import SettingCodes

import netlab


class Client:
    """An h2 client on a socket inside the front's namespace. It never
    acknowledges received DATA, so it opens no window unless told to."""

    def __init__(self, f, window, rcvbuf=None, tls=None):
        """tls: (addr, sni) for h2 over TLS (ALPN h2, certificate not
        checked) instead of h2c on f.addr."""
        self.sock = f.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect(tls[0] if tls else f.addr)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
            ctx.set_alpn_protocols(["h2"])
            self.sock = ctx.wrap_socket(self.sock, server_hostname=tls[1])
            assert self.sock.selected_alpn_protocol() == "h2"
        self.sock.settimeout(0.2)
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.h2.local_settings = h2.settings.Settings(client=True, initial_values={
            SettingCodes.MAX_CONCURRENT_STREAMS: 100,
            SettingCodes.ENABLE_PUSH: 0,
            SettingCodes.INITIAL_WINDOW_SIZE: window,
        })
        self.h2.initiate_connection()
        self.events, self.closed = [], False
        self.data = {}
        self.flush()

    def flush(self):
        out = self.h2.data_to_send()
        if out:
            self.sock.sendall(out)

    def get(self, path, authority="app.test"):
        return self.request("GET", path, authority=authority)

    def request(self, method, path, authority="app.test", headers=(), end_stream=True):
        """Opens a stream; with end_stream False its body is still to come
        (send_data)."""
        sid = self.h2.get_next_available_stream_id()
        scheme = "https" if isinstance(self.sock, ssl.SSLSocket) else "http"
        self.h2.send_headers(sid, [(":method", method), (":scheme", scheme),
                                   (":authority", authority), (":path", path),
                                   *headers], end_stream=end_stream)
        self.flush()
        return sid

    def send_data(self, sid, data, end_stream=False):
        self.h2.send_data(sid, data, end_stream=end_stream)
        self.flush()

    def poll(self):
        """Reads what has arrived (without opening any window)."""
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            return
        except ConnectionResetError:
            d = b""
        if not d:
            self.closed = True
            return
        for ev in self.h2.receive_data(d):
            self.events.append(ev)
            if isinstance(ev, h2.events.DataReceived):
                self.data[ev.stream_id] = self.data.get(ev.stream_id, 0) + len(ev.data)
        self.flush()

    def until(self, cond, what, timeout=30):
        def step():
            if not self.closed:
                self.poll()
            return cond()
        netlab.wait_until(step, timeout=timeout, interval=0.05, what=what)

    def of(self, kind, sid=None):
        return [e for e in self.events if isinstance(e, kind) and
                (sid is None or getattr(e, "stream_id", None) == sid)]
