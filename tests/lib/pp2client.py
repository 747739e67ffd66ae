#!/usr/bin/python3
"""pp2client - plays the hub's side of a stream to a Postern agent.

Builds the stream header of src/agent/agent_proto.h (PROXY v2 + Postern
TLVs) independently of the C encoder, sends it and an optional payload,
and reports what came back as one JSON line:
    {"status": 0, "bytes": N, "sha256": "...", "head": "first bytes"}

    pp2client.py AGENT_ADDR:PORT TARGET [options]
    TARGET is ADDR:PORT, [V6]:PORT or NAME:PORT.
"""
import argparse
import hashlib
import ipaddress
import json
import socket
import struct
import sys

SIG = b"\r\n\r\n\x00\r\nQUIT\n"
PROTO_VERSION = 1
TLV_TARGET_HOST, TLV_PARAMS, TLV_TLS_NAME = 0xE0, 0xE1, 0xE2
F_TLS, F_TLS_NO_VERIFY, F_PROXY_V2 = 1, 2, 4
STATUS = ["ok", "protocol_error", "not_allowed", "dns_failed", "refused",
          "unreachable", "timeout", "tls_failed", "busy"]


def tlv(t, v):
    return bytes([t]) + struct.pack(">H", len(v)) + v


def split_hostport(s):
    if s.startswith("["):
        host, _, port = s[1:].partition("]:")
    else:
        host, _, port = s.rpartition(":")
    return host, int(port)


def header(client, target, flags=0, tls_name=None, local=False, version=PROTO_VERSION):
    if local:
        return SIG + bytes([0x20, 0x00]) + b"\x00\x00"
    chost, cport = client
    thost, tport = target
    cip = ipaddress.ip_address(chost)
    try:
        tip, name = ipaddress.ip_address(thost), None
    except ValueError:
        tip = ipaddress.ip_address("0.0.0.0" if cip.version == 4 else "::")
        name = thost
    if cip.version != tip.version:
        raise SystemExit("client and target families differ")
    fam = 0x11 if cip.version == 4 else 0x21
    addrs = cip.packed + tip.packed + struct.pack(">HH", cport, tport)
    tl = tlv(TLV_PARAMS, bytes([version, flags]))
    if name:
        tl += tlv(TLV_TARGET_HOST, name.encode())
    if tls_name:
        tl += tlv(TLV_TLS_NAME, tls_name.encode())
    body = addrs + tl
    return SIG + bytes([0x21, fam]) + struct.pack(">H", len(body)) + body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("agent")
    ap.add_argument("target", nargs="?")
    ap.add_argument("--client", default=None, help="client ADDR:PORT to claim")
    ap.add_argument("--flags", default="", help="tls,noverify,proxy")
    ap.add_argument("--tls-name")
    ap.add_argument("--local", action="store_true", help="LOCAL probe")
    ap.add_argument("--proto-version", type=int, default=PROTO_VERSION)
    ap.add_argument("--raw-header", help="hex bytes sent instead of a header")
    ap.add_argument("--send", default="", help="payload (\\r\\n escapes)")
    ap.add_argument("--head", type=int, default=300)
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    flags = 0
    for f in filter(None, a.flags.split(",")):
        flags |= {"tls": F_TLS, "noverify": F_TLS_NO_VERIFY, "proxy": F_PROXY_V2}[f]
    ahost, aport = split_hostport(a.agent)
    fam = socket.AF_INET6 if ":" in ahost else socket.AF_INET
    tfam6 = bool(a.target) and a.target.startswith("[")
    client = split_hostport(a.client) if a.client else (
        "2001:db8::7" if tfam6 else "203.0.113.7", 40000)
    if a.raw_header:
        hdr = bytes.fromhex(a.raw_header)
    else:
        hdr = header(client, split_hostport(a.target) if a.target else None,
                     flags, a.tls_name, a.local, a.proto_version)
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(a.timeout)
    s.connect((ahost, aport))
    s.sendall(hdr + a.send.encode().decode("unicode_escape").encode("latin-1"))
    first = s.recv(1)
    out = {"status": first[0] if first else None,
           "status_name": STATUS[first[0]] if first and first[0] < len(STATUS) else None}
    h, n, head = hashlib.sha256(), 0, b""
    body_h, body_n, in_body, pend = hashlib.sha256(), 0, False, b""
    while True:
        try:
            d = s.recv(1 << 16)
        except ConnectionResetError:
            out["reset"] = True
            break
        if not d:
            break
        h.update(d)
        n += len(d)
        if len(head) < a.head:
            head += d[:a.head - len(head)]
        if in_body:
            body_h.update(d)
            body_n += len(d)
        else:
            pend += d
            i = pend.find(b"\r\n\r\n")
            if i >= 0:
                in_body = True
                body_h.update(pend[i + 4:])
                body_n += len(pend) - i - 4
                pend = b""
    out.update(bytes=n, sha256=h.hexdigest(), head=head.decode("latin-1"),
               body_bytes=body_n, body_sha256=body_h.hexdigest())
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
