#!/usr/bin/env python3
"""observe_upstream.py PORT LOG [TAG] - an HTTP/1.1 upstream for tests that
records exactly what it received.

Every request is appended to LOG as one JSON line (method, target, version,
headers as a list of [name, value] in arrival order, body length and sha256,
connection number and its index on that connection, "inflight": how many
requests, this one included, the upstream held unanswered on any connection
when this one's head arrived). Answers by path:

  /big/N        N bytes of the test stream (Content-Length)
  /chunked/N    N bytes of the test stream, chunked, with an X-Sum trailer
  /close/N      N bytes, no length: delimited by closing the connection
  /sum          sha256 of the request body (read streaming)
  /echo         the request body back
  /slow/MS      answers after MS milliseconds
  /hold/MS      waits MS milliseconds before recording the request, then
                records in "early" whether bytes of a next request had
                arrived on this connection before this answer was sent
  /flaky        answers (keep-alive), then drops the next request on the
                same connection without a word (a dead pooled connection)
  /status/N     an empty response with status N
  /cookies      200 with two Set-Cookie fields of its own (up_a, up_b)
  anything else 200 "TAG METHOD TARGET"

The test stream is stream_block() repeated; tests compute the same."""
import functools
import hashlib
import json
import os
import select
import socket
import socketserver
import sys
import threading
import time

BLOCK = b"".join(hashlib.sha256(b"postern-%d" % i).digest() for i in range(32768))  # 1 MiB


def stream_block():
    return BLOCK


@functools.lru_cache(maxsize=32)
def stream_sha256(n):
    """SHA-256 of the first n bytes of the test stream (computed once per
    size and process: several tests check the same gigabytes)."""
    h = hashlib.sha256()
    full, rest = divmod(n, len(BLOCK))
    for _ in range(full):
        h.update(BLOCK)
    h.update(BLOCK[:rest])
    return h.hexdigest()


LOCK = threading.Lock()
CONN_SEQ = [0]
INFLIGHT = [0]


def pending(sock, r):
    """Whether bytes beyond the current request are already here."""
    if r.buf:
        return True
    rd, _, _ = select.select([sock], [], [], 0)
    return bool(rd)


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        d = self.sock.recv(1 << 20)
        if not d:
            raise EOFError
        self.buf += d

    def line(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > 1 << 20:
                raise ValueError("line too long")
            self.fill()
        i = self.buf.index(b"\r\n")
        ln, self.buf = self.buf[:i], self.buf[i + 2:]
        return ln

    def exact(self, n, sink):
        while n:
            if not self.buf:
                self.fill()
            take = self.buf[:n]
            self.buf = self.buf[len(take):]
            sink(take)
            n -= len(take)


def read_head(r):
    line = r.line()
    while line == b"":
        line = r.line()
    method, target, version = line.decode("latin-1").split(" ", 2)
    headers = []
    while True:
        ln = r.line()
        if not ln:
            break
        k, v = ln.decode("latin-1").split(":", 1)
        headers.append([k, v.strip()])
    return method, target, version, headers


def hget(headers, name):
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def read_body(r, headers, sink):
    te = hget(headers, "transfer-encoding")
    if te and te.lower() == "chunked":
        trailers = []
        while True:
            size = int(r.line().split(b";")[0], 16)
            if size == 0:
                break
            r.exact(size, sink)
            assert r.line() == b""
        while True:
            ln = r.line()
            if not ln:
                break
            trailers.append(ln.decode("latin-1"))
        return trailers
    cl = hget(headers, "content-length")
    if cl:
        r.exact(int(cl), sink)
    return []


def send_stream(sock, n):
    while n:
        chunk = BLOCK if n >= len(BLOCK) else BLOCK[:n]
        sock.sendall(chunk)
        n -= len(chunk)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        with LOCK:
            CONN_SEQ[0] += 1
            conn = CONN_SEQ[0]
        r = Reader(self.request)
        idx = 0
        flaky = False
        inflight = 0
        try:
            while True:
                method, target, version, headers = read_head(r)
                with LOCK:
                    INFLIGHT[0] += 1
                    inflight = INFLIGHT[0]
                h = hashlib.sha256()
                body = []
                count = [0]

                def sink(b):
                    h.update(b)
                    count[0] += len(b)
                    if target == "/echo":
                        body.append(b)
                trailers = read_body(r, headers, sink)
                early = None
                if target.startswith("/hold/"):
                    time.sleep(int(target.split("?")[0].split("/")[2]) / 1000.0)
                    early = pending(self.request, r)
                rec = {"inflight": inflight, "early": early,
                       "conn": conn, "idx": idx, "method": method, "target": target,
                       "version": version, "headers": headers, "trailers": trailers,
                       "body_len": count[0], "body_sha256": h.hexdigest(),
                       "dropped": flaky}
                with LOCK, open(LOG, "a") as f:
                    f.write(json.dumps(rec) + "\n")
                idx += 1
                if flaky:
                    return
                if not self.respond(method, target, b"".join(body), h.hexdigest()):
                    return
                with LOCK:
                    INFLIGHT[0] -= 1
                inflight = 0
                flaky = target == "/flaky"
        except (EOFError, ConnectionError, ValueError, OSError):
            return
        finally:
            if inflight:
                with LOCK:
                    INFLIGHT[0] -= 1

    def simple(self, status, body, extra=b""):
        self.request.sendall(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n%s\r\n" %
                             (status, len(body), extra) + body)

    def respond(self, method, target, body, sha):
        s = self.request
        parts = target.split("?")[0].split("/")
        if target.startswith("/big/"):
            n = int(parts[2])
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n)
            if method != "HEAD":
                send_stream(s, n)
        elif target.startswith("/chunked/"):
            n = int(parts[2])
            s.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n")
            left = n
            while left:
                c = min(left, 300000)
                s.sendall(b"%x\r\n" % c)
                send_stream_part(s, n - left, c)
                s.sendall(b"\r\n")
                left -= c
            s.sendall(b"0\r\nX-Sum: %s\r\n\r\n" % stream_sha256(n).encode())
        elif target.startswith("/close/"):
            n = int(parts[2])
            s.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
            send_stream(s, n)
            return False
        elif target == "/sum":
            self.simple(200, sha.encode())
        elif target == "/echo":
            self.simple(200, body)
        elif target.startswith("/slow/"):
            time.sleep(int(parts[2]) / 1000.0)
            self.simple(200, b"slow")
        elif target.startswith("/status/"):
            self.simple(int(parts[2]), b"")
        elif target == "/cookies":
            self.simple(200, b"cookies", b"Set-Cookie: up_a=1; Path=/\r\n"
                        b"Set-Cookie: up_b=2; Path=/; HttpOnly\r\n")
        else:
            self.simple(200, ("%s %s %s" % (TAG, method, target)).encode())
        return True


def send_stream_part(sock, off, n):
    """Sends n bytes of the test stream starting at offset off."""
    while n:
        o = off % len(BLOCK)
        chunk = BLOCK[o:o + n]
        sock.sendall(chunk)
        off += len(chunk)
        n -= len(chunk)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def emit(n, out):
    """Writes n bytes of the test stream to a binary file object."""
    while n:
        chunk = BLOCK if n >= len(BLOCK) else BLOCK[:n]
        out.write(chunk)
        n -= len(chunk)


if __name__ == "__main__" and sys.argv[1] == "--emit":
    emit(int(sys.argv[2]), sys.stdout.buffer)
    sys.exit(0)

if __name__ == "__main__":
    port, LOG = int(sys.argv[1]), sys.argv[2]
    TAG = sys.argv[3] if len(sys.argv) > 3 else "up"
    host = os.environ.get("BIND", "127.0.0.1")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    Server.address_family = fam
    srv = Server((host, port), Handler)
    print("listening", flush=True)
    srv.serve_forever()
