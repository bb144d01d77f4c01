#!/usr/bin/python3
"""A small HTTP CONNECT proxy for the client's tunnel tests.

Usage: connect_proxy.py PORT LOGFILE [USER:PASSWORD]

Answers CONNECT host:port with 200 and relays bytes both ways; with
credentials it wants Proxy-Authorization: Basic and answers 407 otherwise.
Refuses every other method with 405. Logs one line per request.
"""
import asyncio
import base64
import sys

PORT = int(sys.argv[1])
LOG = sys.argv[2]
CREDS = sys.argv[3] if len(sys.argv) > 3 else None


def log(line):
    with open(LOG, "a") as f:
        f.write(line + "\n")


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(reader, writer):
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    except Exception:
        writer.close()
        return
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = (lines[0].split(" ") + ["", ""])[:3]
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if method != "CONNECT":
        log(f"REFUSED {method} {target}")
        writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()
        return
    if CREDS:
        want = "Basic " + base64.b64encode(CREDS.encode()).decode()
        if headers.get("proxy-authorization") != want:
            log(f"DENIED CONNECT {target}")
            writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                         b"Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
    host, _, port = target.rpartition(":")
    host = host.strip("[]")
    if host.endswith(".test"):  # test names live on loopback
        host = "127.0.0.1"
    try:
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
    except Exception as e:
        log(f"FAILED CONNECT {target} {e}")
        writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()
        return
    log(f"TUNNEL {target}")
    writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
    await writer.drain()
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", PORT)
    async with server:
        await server.serve_forever()


asyncio.run(main())
