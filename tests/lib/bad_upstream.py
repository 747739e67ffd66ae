#!/usr/bin/env python3
"""bad_upstream.py PORT LOG - an HTTP/1.1 upstream that answers some paths
with a response a proxy must not trust, for the front's 502 tests.

Every connection gets a number (1, 2, ...). Each request head is logged
as {"conn": N, "path": P}; the peer closing the connection as
{"conn": N, "closed": true}. By path:

  /ok...          200, body "ok PATH conn N" (keep-alive); reads a
                  Content-Length body first
  /bad/NAME       the canned answer RESPONSES[NAME], then serves the
                  connection on as if nothing happened: a proxy that
                  reused it would hand the bytes that follow a complete
                  response (SMUGGLED) to the next client
  /idle-junk      200 "ok", then 100 ms later an unsolicited response on
                  what is by then the proxy's idle pooled connection
  /early          answers 413 right after the head, without reading the
                  request's body, then closes

The connection stays open (serving on) until the peer closes it."""
import json
import socket
import sys
import threading
import time

from stall_upstream import accept_forever

LOCK = threading.Lock()
SEQ = [0]

# A whole response after the one asked for: whoever reads it as the answer
# to the next request was desynchronised.
SMUGGLED = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled"

RESPONSES = {
    # A field line without a colon.
    "no-colon": b"HTTP/1.1 200 OK\r\nNo colon here\r\nContent-Length: 2\r\n\r\nok",
    # Status code of four digits.
    "status": b"HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok",
    # NUL inside a field value.
    "nul": b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nok",
    # obs-fold continuation line.
    "fold": b"HTTP/1.1 200 OK\r\nX-A: a\r\n  folded\r\nContent-Length: 2\r\n\r\nok",
    # Space between the field name and the colon.
    "space-colon": b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
    # Two different lengths.
    "two-cl": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 30\r\n\r\nok",
    # Content-Length and Transfer-Encoding together (the chunked framing
    # would end after "ok"; the length covers the smuggled response).
    "cl-te": (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"2\r\nok\r\n0\r\n\r\n" % (len(b"2\r\nok\r\n0\r\n\r\n") + len(SMUGGLED))
              + SMUGGLED),
    # A bad chunk size.
    "chunk-size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+2\r\nok\r\n0\r\n\r\n",
    # Bytes past Content-Length.
    "past-cl": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + SMUGGLED,
    # A response that never has a body, followed by bytes.
    "204-body": b"HTTP/1.1 204 No Content\r\n\r\n" + SMUGGLED,
    "304-body": b"HTTP/1.1 304 Not Modified\r\n\r\n" + SMUGGLED,
    # A 204 that claims a body it must not have.
    "204-cl": b"HTTP/1.1 204 No Content\r\nContent-Length: 8\r\n\r\nsmuggled",
}


def log(path, rec):
    with LOCK, open(path, "a") as f:
        f.write(json.dumps(rec) + "\n")


def read_head(conn, buf):
    while b"\r\n\r\n" not in buf:
        d = conn.recv(65536)
        if not d:
            raise EOFError
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1]
    length = 0
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    return path, length, rest


def answer(conn, n, path, length, rest):
    """Answers one request; returns the bytes read past it, or None to
    close the connection."""
    if path == "/early":
        conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\n"
                     b"Connection: close\r\n\r\nbig\n")
        return None
    while len(rest) < length:
        d = conn.recv(65536)
        if not d:
            raise EOFError
        rest += d
    rest = rest[length:]
    if path.startswith("/bad/"):
        conn.sendall(RESPONSES[path[len("/bad/"):]])
    elif path == "/idle-junk":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        time.sleep(0.1)
        conn.sendall(SMUGGLED)
    else:
        body = f"ok {path} conn {n}".encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    return rest


def serve(conn, log_path):
    with LOCK:
        SEQ[0] += 1
        n = SEQ[0]
    buf = b""
    try:
        while True:
            path, length, rest = read_head(conn, buf)
            log(log_path, {"conn": n, "path": path})
            buf = answer(conn, n, path, length, rest)
            if buf is None:
                conn.shutdown(socket.SHUT_WR)
                while conn.recv(65536):
                    pass
                break
    except (EOFError, ConnectionResetError, BrokenPipeError):
        pass
    finally:
        log(log_path, {"conn": n, "closed": True})
        conn.close()


def main():
    accept_forever(int(sys.argv[1]), serve, sys.argv[2])


if __name__ == "__main__":
    main()
