#!/usr/bin/python3
"""A python3-websockets echo server for the WebSocket client tests.

Usage: ws_echo_server.py PORT LOGFILE

Echoes every message; "close-me" makes it close with 4000; "ping-me" makes
it send a ping first. Logs the negotiated extensions of each connection.
"""
import asyncio
import sys

import websockets

PORT = int(sys.argv[1])
LOG = sys.argv[2]


async def handler(ws, path=None):
    with open(LOG, "a") as f:
        ext = ",".join(e.name for e in ws.extensions) or "none"
        f.write(f"OPEN extensions={ext}\n")
    async for message in ws:
        if message == "close-me":
            await ws.close(4000, "asked to")
            return
        if message == "ping-me":
            await ws.ping(b"hi")
        await ws.send(message)


async def main():
    async with websockets.serve(handler, "127.0.0.1", PORT, max_size=8 << 20):
        await asyncio.Future()


asyncio.run(main())
