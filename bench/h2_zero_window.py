#!/usr/bin/python3
"""h2_zero_window.py HOST PORT CONNS STREAMS PATH HOLD - the zero-window
attack of issue 10, for bench/h2_zero_window.sh.

Opens CONNS TLS connections (ALPN h2) that announce
SETTINGS_INITIAL_WINDOW_SIZE = 0 and never open a window, opens STREAMS
streams for PATH on each, prints "ready" once every stream is sent, holds
everything open for HOLD seconds (reading what arrives, acknowledging
nothing), then prints what it saw and closes:
    heads=N refused=N reset=N closed=N"""
import select
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
from h2.settings import SettingCodes


def connect(host, port, ctx):
    s = ctx.wrap_socket(socket.create_connection((host, port)), server_hostname="bench.test")
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    c.local_settings = h2.settings.Settings(client=True, initial_values={
        SettingCodes.ENABLE_PUSH: 0, SettingCodes.INITIAL_WINDOW_SIZE: 0})
    c.initiate_connection()
    s.sendall(c.data_to_send())
    return s, c


class Tally:
    def __init__(self):
        self.heads = self.refused = self.reset = self.closed = 0
        self.settings = False

    def feed(self, s, c):
        """Reads what s has; returns False once it is closed."""
        try:
            d = s.recv(65536)
        except (ssl.SSLWantReadError, BlockingIOError):
            return True
        except OSError:
            d = b""
        if not d:
            self.closed += 1
            return False
        try:
            events = c.receive_data(d)
        except h2.exceptions.ProtocolError:
            self.closed += 1
            return False
        for ev in events:
            if isinstance(ev, h2.events.RemoteSettingsChanged):
                self.settings = True
            elif isinstance(ev, h2.events.ResponseReceived):
                self.heads += 1
            elif isinstance(ev, h2.events.StreamReset):
                if ev.error_code == h2.errors.ErrorCodes.REFUSED_STREAM:
                    self.refused += 1
                else:
                    self.reset += 1
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.closed += 1
                return False
        out = c.data_to_send()
        if out:
            s.sendall(out)
        return True


def main():
    host, port, conns, streams, path, hold = sys.argv[1:7]
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    tally, live = Tally(), {}
    for _ in range(int(conns)):
        s, c = connect(host, int(port), ctx)
        # The server's SETTINGS first: its stream limit applies.
        tally.settings = False
        while not tally.settings and tally.feed(s, c):
            pass
        n = min(int(streams), c.remote_settings.max_concurrent_streams)
        for _ in range(n):
            sid = c.get_next_available_stream_id()
            c.send_headers(sid, [(":method", "GET"), (":scheme", "https"),
                                 (":authority", "bench.test"), (":path", path)],
                           end_stream=True)
        s.sendall(c.data_to_send())
        s.setblocking(False)
        live[s] = c
    print("ready", flush=True)
    end = time.monotonic() + float(hold)
    while live and time.monotonic() < end:
        r, _, _ = select.select(list(live), [], [], 0.2)
        for s in r:
            if not tally.feed(s, live[s]):
                del live[s]
    print(f"heads={tally.heads} refused={tally.refused} reset={tally.reset} "
          f"closed={tally.closed}", flush=True)
    for s in live:
        s.close()


if __name__ == "__main__":
    main()
