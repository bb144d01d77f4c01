#!/usr/bin/python3
"""python3-websockets (Debian) against httpkit-server's /ws echo.

Checks text and binary echo, 1 MiB messages, fragmented messages, ping/pong,
the close handshake with codes, permessage-deflate on, off and with each
negotiable parameter, and many concurrent clients.
Run with /usr/bin/python3; HTTPKIT_BIN_DIR points at the built httpkit-server.
"""

import asyncio
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import peerlib  # noqa: E402

import websockets  # noqa: E402
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory  # noqa: E402

MIB = 1 << 20
checks = peerlib.Checks("ws_python")


def connect(port, **kwargs):
    kwargs.setdefault("max_size", 8 * MIB)
    kwargs.setdefault("ping_interval", None)  # our pings only, where a case asks
    kwargs.setdefault("open_timeout", 10)
    kwargs.setdefault("close_timeout", 10)
    return websockets.connect(f"ws://127.0.0.1:{port}/ws", **kwargs)


async def echo(ws, message, timeout=30):
    await ws.send(message)
    return await asyncio.wait_for(ws.recv(), timeout)


def extensions_header(ws):
    return ws.response_headers.get("Sec-WebSocket-Extensions")


async def echo_cases(port, compression):
    mode = "deflate" if compression else "no deflate"
    async with connect(port, compression=compression) as ws:
        header = extensions_header(ws)
        if compression:
            checks.check(f"[{mode}] permessage-deflate negotiated",
                         header is not None and header.startswith("permessage-deflate"), header)
            checks.check(f"[{mode}] client agreed the extension", len(ws.extensions) == 1,
                         repr(ws.extensions))
        else:
            checks.check(f"[{mode}] no extension header without an offer", header is None,
                         repr(header))

        got = await echo(ws, "hello, httpkit")
        checks.check(f"[{mode}] text echo", got == "hello, httpkit", repr(got))
        unicode_text = "héllo wörld ✓ 𝄞 日本語"
        got = await echo(ws, unicode_text)
        checks.check(f"[{mode}] multi-byte UTF-8 text echo", got == unicode_text, repr(got))
        got = await echo(ws, "")
        checks.check(f"[{mode}] empty text echo", got == "", repr(got))

        blob = bytes(range(256)) * 16
        got = await echo(ws, blob)
        checks.check(f"[{mode}] binary echo stays binary", isinstance(got, bytes) and got == blob,
                     f"{type(got).__name__} of {len(got)}")

        big_text = ("0123456789abcdef" * (MIB // 16))
        got = await echo(ws, big_text)
        checks.check(f"[{mode}] 1 MiB text echo", got == big_text, f"{len(got)} chars")
        big_binary = random.Random(7).randbytes(MIB)  # incompressible
        got = await echo(ws, big_binary)
        checks.check(f"[{mode}] 1 MiB random binary echo", got == big_binary, f"{len(got)} bytes")

        got = await echo(ws, ["frag", "mented ", "text ✓"])
        checks.check(f"[{mode}] fragmented text reassembled", got == "fragmented text ✓", repr(got))
        got = await echo(ws, [b"\x00\x01", b"", b"\x02" * 70000])
        checks.check(f"[{mode}] fragmented binary reassembled",
                     got == b"\x00\x01" + b"\x02" * 70000, f"{len(got)} bytes")

        pong = await ws.ping(b"are you there")
        try:
            await asyncio.wait_for(pong, 10)
            checks.check(f"[{mode}] ping answered with a pong carrying the payload", True)
        except asyncio.TimeoutError:
            checks.check(f"[{mode}] ping answered with a pong carrying the payload", False,
                         "no pong in 10 s")
        got = await echo(ws, "after ping")
        checks.check(f"[{mode}] echo after a ping", got == "after ping", repr(got))

        # Many messages in flight at once come back in order.
        for i in range(100):
            await ws.send(f"burst {i}")
        burst = [await asyncio.wait_for(ws.recv(), 10) for _ in range(100)]
        checks.check(f"[{mode}] 100 pipelined messages echoed in order",
                     burst == [f"burst {i}" for i in range(100)])

        await ws.close(code=1000)
        checks.check(f"[{mode}] close 1000 echoed", ws.close_code == 1000, str(ws.close_code))


async def close_code_cases(port):
    async with connect(port) as ws:
        await echo(ws, "x")
        await ws.close(code=4000, reason="bye for now")
        checks.check("close 4000 with a reason: server echoes 4000", ws.close_code == 4000,
                     f"{ws.close_code} {ws.close_reason!r}")
    async with connect(port, compression=None) as ws:
        await ws.close(code=3001, reason="")
        checks.check("close 3001 echoed", ws.close_code == 3001, str(ws.close_code))
    async with connect(port) as ws:
        await ws.close(code=1001, reason="going away")
        checks.check("close 1001 echoed", ws.close_code == 1001, str(ws.close_code))


async def negotiation_cases(port):
    """Each permessage-deflate parameter of RFC 7692 is agreed and then works."""
    offers = {
        "server_no_context_takeover": dict(server_no_context_takeover=True),
        "client_no_context_takeover": dict(client_no_context_takeover=True),
        "server_max_window_bits=10": dict(server_max_window_bits=10),
        "client_max_window_bits=9": dict(client_max_window_bits=9),
        "all four": dict(server_no_context_takeover=True, client_no_context_takeover=True,
                         server_max_window_bits=11, client_max_window_bits=11),
    }
    for name, params in offers.items():
        factory = ClientPerMessageDeflateFactory(**params)
        async with connect(port, compression=None, extensions=[factory]) as ws:
            header = extensions_header(ws) or ""
            wanted = [p for p in ("server_no_context_takeover", "client_no_context_takeover")
                      if params.get(p)]
            if "server_max_window_bits" in params:
                wanted.append(f"server_max_window_bits={params['server_max_window_bits']}")
            ok = header.startswith("permessage-deflate") and all(w in header for w in wanted)
            checks.check(f"deflate offer {name}: agreed", ok, header)
            text = "compress me " * 5000
            results = [await echo(ws, text) for _ in range(3)]  # context reuse (or not)
            checks.check(f"deflate offer {name}: echo works", all(r == text for r in results))
            await ws.close()


async def concurrent_clients(port, clients=200, messages=5):
    async def one(i):
        async with connect(port, compression="deflate" if i % 2 else None) as ws:
            for m in range(messages):
                payload = f"client {i} message {m} " + "x" * (i * 13 % 500)
                if await echo(ws, payload) != payload:
                    return False
            return True

    results = await asyncio.gather(*(one(i) for i in range(clients)), return_exceptions=True)
    failures = [r for r in results if r is not True]
    checks.check(f"{clients} concurrent clients x {messages} echoes (half with deflate)",
                 not failures, f"{len(failures)} failed: {failures[:3]!r}")


async def main():
    server = peerlib.Server().start()
    await echo_cases(server.port, compression="deflate")
    await echo_cases(server.port, compression=None)
    await close_code_cases(server.port)
    await negotiation_cases(server.port)
    await concurrent_clients(server.port)
    checks.check("server still answers HTTP", server.alive())
    status = server.stop()
    checks.check("server exits 0 on SIGTERM", status == 0, str(status))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as e:  # a crash of the test itself counts as a failure
        checks.check("test ran to the end", False, f"{type(e).__name__}: {e}")
    checks.finish()
