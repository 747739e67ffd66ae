#!/usr/bin/env python3
"""stall_upstream.py PORT LOG - an HTTP/1.1 upstream that starts a response
and then stops sending, for the upstream idle timeout's tests.

By request path:
  /cl      head with Content-Length: 100000, then 1000 bytes, then nothing
  /chunked head with Transfer-Encoding: chunked, one 1000-byte chunk, then
           nothing (no terminating chunk)
  /head    nothing at all (stalls before the head)

The connection is then held open until the peer closes it. LOG gets one
JSON line per event: {"event": "request", "path": P} when a request head
arrived, {"event": "closed", "path": P} when the peer closed the
connection (recv returned EOF or a reset)."""
import json
import socket
import sys
import threading

LOCK = threading.Lock()


def log(path, event, target):
    with LOCK, open(path, "a") as f:
        f.write(json.dumps({"event": event, "path": target}) + "\n")


def serve(conn, log_path):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = conn.recv(65536)
        if not d:
            conn.close()
            return
        buf += d
    target = buf.split(b"\r\n", 1)[0].split(b" ")[1].decode()
    log(log_path, "request", target)
    if target == "/cl":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"c" * 1000)
    elif target == "/chunked":
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"3e8\r\n" + b"k" * 1000 + b"\r\n")
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass
    log(log_path, "closed", target)
    conn.close()


def accept_forever(port, serve_conn, log_path):
    """Listens on 127.0.0.1:port and runs serve_conn(conn, log_path) in a
    thread per connection (also bad_upstream.py's loop)."""
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", port))
    lst.listen(64)
    while True:
        conn, _ = lst.accept()
        threading.Thread(target=serve_conn, args=(conn, log_path), daemon=True).start()


def main():
    accept_forever(int(sys.argv[1]), serve, sys.argv[2])


if __name__ == "__main__":
    main()
