#!/usr/bin/env python3
"""ws_client.py URL HOST:PORT N - connects to HOST:PORT (the hub) for URL
(whose host name becomes Host and SNI), reads the upstream's greeting,
echoes N messages of growing size (text and binary) and one of 2 MiB, and
prints one JSON line with what came back."""
import asyncio
import hashlib
import json
import socket
import ssl
import sys

import websockets


async def main(url, addr, n):
    ctx = None
    if url.startswith("wss:"):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    out = {"ok": 0}
    host, port = addr.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)))
    async with websockets.connect(url, ssl=ctx, sock=sock, max_size=1 << 24,
                                  server_hostname=url.split("/")[2].split(":")[0]
                                  if ctx else None) as ws:
        out["greeting"] = await ws.recv()
        for i in range(n):
            msg = (b"x%d" % i) * (i * 997 + 1) if i % 2 else "text %d" % i * (i + 1)
            await ws.send(msg)
            back = await ws.recv()
            if back == msg:
                out["ok"] += 1
        big = bytes(range(256)) * 8192
        await ws.send(big)
        out["big"] = hashlib.sha256(await ws.recv()).hexdigest() == hashlib.sha256(big).hexdigest()
    print(json.dumps(out))

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
