"""WebSocket (and any Upgrade) through the front: a byte tunnel both ways,
with the python3-websockets client and server, over HTTP and HTTPS."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402
from frontlab import Front, read_response, recv_all, routes  # noqa: E402

LIB = os.path.join(os.path.dirname(__file__), "..", "lib")
ROUTES = routes(("ws", "ws.test", 9010), ("plain", "plain.test", 9001))


def start(lab, tls=False):
    f = Front(lab)
    f.lab.spawn(f.ns, ["/usr/bin/python3", os.path.join(LIB, "ws_echo.py"), "9010"], name="ws")
    f.wait_port(9010)
    f.upstream(9001, "a")
    settings = ""
    if tls:
        certs = os.path.join(lab.tmpdir, "certs")
        os.makedirs(certs)
        settings = f'listen_https = "127.0.0.1:8443"\n[tls]\ncert_dir = {certs}\n' \
                   'selfsigned_name = ws.test\n'
    f.start(routes=ROUTES, settings=settings)
    if tls:
        f.wait_port(8443)
    return f


def client(f, url, addr):
    r = f.ns.run(["/usr/bin/python3", os.path.join(LIB, "ws_client.py"), url, addr, "40"],
                 timeout=60)
    return json.loads(r.stdout)


def test_websocket_echo_both_ways(lab):
    f = start(lab)
    out = client(f, "ws://ws.test:8080/chat?room=1", "127.0.0.1:8080")
    assert out == {"ok": 40, "greeting": "hello from upstream", "big": True}
    netlab.wait_until(lambda: [r for r in f.access_records() if r["route"] == "ws"],
                      what="access log line")
    rec = [r for r in f.access_records() if r["route"] == "ws"]
    assert rec[-1]["status"] == 101


def test_websocket_over_tls(lab):
    f = start(lab, tls=True)
    out = client(f, "wss://ws.test:8443/chat", "127.0.0.1:8443")
    assert out == {"ok": 40, "greeting": "hello from upstream", "big": True}


def test_websocket_echo_by_host(lab):
    f = start(lab)
    s = f.connect()
    # A raw handshake shows the 101 and the tunnel, then the client library.
    s.sendall(b"GET /chat HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head = data.split(b"\r\n\r\n")[0].decode()
    assert head.startswith("HTTP/1.1 101")
    assert "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head
    assert "Upgrade: websocket" in head


def test_plain_request_still_works_after_upgrade_declined(lab):
    f = start(lab)
    s = f.connect()
    # The upstream ignores Upgrade: an ordinary response, keep-alive holds.
    s.sendall(b"GET /x HTTP/1.1\r\nHost: plain.test\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\n")
    st, h, body, rest = read_response(s)
    assert st == 200 and body == b"a GET /x"
    s.sendall(b"GET /y HTTP/1.1\r\nHost: plain.test\r\nConnection: close\r\n\r\n")
    data, closed = recv_all(s)
    assert b"a GET /y" in data
