"""xfer - a TCP bulk transfer whose both ends print the SHA-256 they saw.

    python3 xfer.py recv ADDR PORT        -> prints "bytes=N sha256=H"
    python3 xfer.py send ADDR PORT BYTES  -> prints "bytes=N sha256=H"
    python3 xfer.py udprecv ADDR PORT     -> prints "listening", then on
        the datagram "END" "datagrams=N intact=N ordered=1|0"
    python3 xfer.py udpsend ADDR PORT COUNT SIZE -> bursts of 32 datagrams
        (8-byte sequence number + pattern), then "END"; the receiver
        acknowledges each datagram's sequence number and the sender waits
        for a burst's last one before the next burst (up to 5 s), so
        nothing is lost to a full queue and every datagram must arrive

The sender streams BYTES of a fixed pseudo-random pattern (1 MiB from a
seeded generator, repeated with a counter so no two blocks are equal).
Run each end inside a namespace (Netns.argv)."""
import hashlib
import random
import socket
import sys
import time


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


def udp_payload(seq, size):
    head = seq.to_bytes(8, "big")
    return head + bytes((seq * 7 + i) & 255 for i in range(size - 8))


def udprecv(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((addr, port))
    print("listening", flush=True)
    n = intact = 0
    last = -1
    ordered = 1
    while True:
        d, peer = s.recvfrom(65535)
        if d == b"END":
            break
        seq = int.from_bytes(d[:8], "big")
        s.sendto(d[:8], peer)
        n += 1
        intact += d == udp_payload(seq, len(d))
        ordered &= seq > last
        last = seq
    print(f"datagrams={n} intact={intact} ordered={ordered}", flush=True)


def udpsend(addr, port, count, size):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    payloads = [udp_payload(i, size) for i in range(count)]
    for i in range(0, count, 32):
        burst = payloads[i:i + 32]
        for p in burst:
            s.sendto(p, (addr, port))
        want = i + len(burst) - 1
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                if int.from_bytes(s.recv(64)[:8], "big") >= want:
                    break
            except socket.timeout:
                pass
    for _ in range(5):
        s.sendto(b"END", (addr, port))
        time.sleep(0.05)
    print(f"sent={count}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "recv":
        recv(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "udprecv":
        udprecv(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "udpsend":
        udpsend(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
