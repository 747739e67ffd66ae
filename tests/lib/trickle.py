"""trickle - a slow TCP stream that must survive for a given time.

    python3 trickle.py recv ADDR PORT          -> prints "bytes=N sha256=H"
    python3 trickle.py send ADDR PORT SECONDS  -> prints "bytes=N sha256=H"

The sender writes 4 KiB every 50 ms for SECONDS over one connection (so a
connection that breaks fails the sender), then closes. Both ends print
what they saw, for the test to compare. Run each end inside a namespace."""
import hashlib
import socket
import sys
import time

from xfer import recv  # the receiving end is the same


def send(addr, port, seconds):
    c = socket.create_connection((addr, port), timeout=30)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, 20000)
    h, n, i = hashlib.sha256(), 0, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        block = i.to_bytes(8, "big") * 512
        c.sendall(block)
        h.update(block)
        n += len(block)
        i += 1
        time.sleep(0.05)
    c.shutdown(socket.SHUT_WR)
    c.recv(1)
    c.close()
    print(f"bytes={n} sha256={h.hexdigest()}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "recv":
        recv(sys.argv[2], int(sys.argv[3]))
    else:
        send(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
