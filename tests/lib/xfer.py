"""xfer - a TCP bulk transfer whose both ends print the SHA-256 they saw.

    python3 xfer.py recv ADDR PORT        -> prints "bytes=N sha256=H"
    python3 xfer.py send ADDR PORT BYTES  -> prints "bytes=N sha256=H"

The sender streams BYTES of a fixed pseudo-random pattern (1 MiB from a
seeded generator, repeated with a counter so no two blocks are equal).
Run each end inside a namespace (Netns.argv)."""
import hashlib
import random
import socket
import sys


def pattern_blocks(total):
    rnd = random.Random(0x5057)
    base = bytes(rnd.getrandbits(8) for _ in range(1 << 16)) * 16
    i = 0
    sent = 0
    while sent < total:
        block = i.to_bytes(8, "big") + base[8:]
        block = block[:min(len(block), total - sent)]
        yield block
        sent += len(block)
        i += 1


def recv(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1)
    print("listening", flush=True)
    c, _ = s.accept()
    h = hashlib.sha256()
    n = 0
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    print(f"bytes={n} sha256={h.hexdigest()}", flush=True)


def send(addr, port, total):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    c = socket.socket(fam, socket.SOCK_STREAM)
    c.connect((addr, port))
    h = hashlib.sha256()
    n = 0
    for b in pattern_blocks(total):
        c.sendall(b)
        h.update(b)
        n += len(b)
    c.shutdown(socket.SHUT_WR)
    c.recv(1)
    c.close()
    print(f"bytes={n} sha256={h.hexdigest()}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "recv":
        recv(sys.argv[2], int(sys.argv[3]))
    else:
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
