#!/usr/bin/python3
"""A python3-websockets echo server for the WebSocket client tests.

Usage: ws_echo_server.py PORTFILE LOGFILE

Listens on 127.0.0.1, on a port the kernel picks, and writes that port to
PORTFILE once it listens. Echoes every message; "close-me" makes it close
with 4000; "ping-me" makes it send a ping and wait for the pong (its
payload must be the ping's) before the echo. Logs the negotiated
extensions of each connection and each ping's outcome: "PONG ok", or
"PONG FAIL: why". A failed ping also closes that connection with 1011,
is printed to stderr, and makes the server exit 1 when it is stopped
(SIGTERM or SIGINT); otherwise it exits 0.
"""
import asyncio
import os
import signal
import sys

import websockets
from websockets.frames import Opcode

PORTFILE = sys.argv[1]
LOG = sys.argv[2]
PING = b"hi"
PONG_TIMEOUT = 5  # seconds; a loopback pong takes milliseconds

failures = 0


class Protocol(websockets.WebSocketServerProtocol):
    """Keeps the payload of every pong, so that a wrong one can be told
    from none (the library itself only ever matches pongs to pings)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pongs = asyncio.Queue()

    async def read_frame(self, max_size):
        frame = await super().read_frame(max_size)
        if frame.opcode == Opcode.PONG:
            self.pongs.put_nowait(frame.data)
        return frame


def log(line):
    with open(LOG, "a") as f:
        f.write(line + "\n")


async def ping_problem(ws):
    """Pings; returns what went wrong, or None when the right pong came."""
    try:
        waiter = await ws.ping(PING)
    except websockets.ConnectionClosed:
        return "the connection closed before the ping went"
    # Our own pong queue decides; a close fails the library's waiter, quietly.
    waiter.add_done_callback(lambda f: f.cancelled() or f.exception())
    pong = asyncio.ensure_future(ws.pongs.get())
    closed = asyncio.ensure_future(ws.wait_closed())
    done, _ = await asyncio.wait(
        {pong, closed}, timeout=PONG_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
    )
    for task in (pong, closed):
        task.cancel()
    if pong in done:
        payload = pong.result()
        return None if payload == PING else f"pong payload {payload!r}, ping was {PING!r}"
    if closed in done:
        return "the connection closed before a pong came"
    return f"no pong within {PONG_TIMEOUT} s"


async def handler(ws, path=None):
    global failures
    ext = ",".join(e.name for e in ws.extensions) or "none"
    log(f"OPEN extensions={ext}")
    async for message in ws:
        if message == "close-me":
            await ws.close(4000, "asked to")
            return
        if message == "ping-me":
            problem = await ping_problem(ws)
            if problem:
                failures += 1
                log(f"PONG FAIL: {problem}")
                print(f"ws_echo_server.py: PONG FAIL: {problem}", file=sys.stderr, flush=True)
                await ws.close(1011, "pong check failed")
                return
            log("PONG ok")
        await ws.send(message)


async def main():
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    # No keepalive pings: their pongs would mix with the one checked.
    async with websockets.serve(
        handler,
        "127.0.0.1",
        0,
        max_size=8 << 20,
        ping_interval=None,
        create_protocol=Protocol,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        with open(PORTFILE + ".tmp", "w") as f:
            f.write(f"{port}\n")
        os.rename(PORTFILE + ".tmp", PORTFILE)  # never seen half-written
        await stop
    return 1 if failures else 0


sys.exit(asyncio.run(main()))
