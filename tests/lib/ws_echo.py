#!/usr/bin/env python3
"""ws_echo.py PORT - a WebSocket echo server (python3-websockets) that
also pushes one unsolicited message first, to show both directions.
Listens on 127.0.0.1, or on the address in $BIND."""
import asyncio
import os
import sys

import websockets


async def echo(ws, path=None):
    await ws.send("hello from upstream")
    async for msg in ws:
        await ws.send(msg)


async def main(port):
    async with websockets.serve(echo, os.environ.get("BIND", "127.0.0.1"), port, max_size=1 << 24):
        print("listening", flush=True)
        await asyncio.Future()

asyncio.run(main(int(sys.argv[1])))
