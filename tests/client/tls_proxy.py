#!/usr/bin/python3
"""An https:// proxy for the client's tests: TLS to the proxy itself, then
CONNECT tunnels (for https origins) or absolute-form requests forwarded to
the origin (for http ones), as connect_proxy.py does in the clear.

Usage: tls_proxy.py PORT LOGFILE CERT KEY

Logs one line per request: "TUNNEL host:port", "FORWARD METHOD url", and
"TLS <version>" once per accepted connection (so a test sees TLS was used).
"""
import asyncio
import ssl
import sys
from urllib.parse import urlsplit

PORT = int(sys.argv[1])
LOG = sys.argv[2]
CERT, KEY = sys.argv[3], sys.argv[4]


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
    except (ConnectionError, ssl.SSLError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def answer(writer, status):
    writer.write(f"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    writer.close()


async def handle(reader, writer):
    tls = writer.get_extra_info("ssl_object")
    log(f"TLS {tls.version() if tls else 'none'}")
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    except Exception:
        writer.close()
        return
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = (lines[0].split(" ") + ["", ""])[:3]
    if method == "CONNECT":
        host, _, port = target.rpartition(":")
        host = host.strip("[]")
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
        except Exception as e:
            log(f"FAILED CONNECT {target} {e}")
            await answer(writer, "502 Bad Gateway")
            return
        log(f"TUNNEL {target}")
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        return
    url = urlsplit(target)
    if url.scheme != "http" or not url.hostname:
        log(f"REFUSED {method} {target}")
        await answer(writer, "400 Bad Request")
        return
    # One request per connection: forwarded in origin form with
    # Connection: close, the answer relayed until the origin closes.
    try:
        up_reader, up_writer = await asyncio.open_connection(url.hostname, url.port or 80)
    except Exception as e:
        log(f"FAILED {method} {target} {e}")
        await answer(writer, "502 Bad Gateway")
        return
    log(f"FORWARD {method} {target}")
    path = url.path or "/"
    if url.query:
        path += "?" + url.query
    out = [f"{method} {path} {version}"]
    for line in lines[1:]:
        name = line.split(":", 1)[0].strip().lower()
        if line and name not in ("connection", "proxy-authorization", "keep-alive"):
            out.append(line)
    out.append("Connection: close")
    up_writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
    await up_writer.drain()
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)
    server = await asyncio.start_server(handle, "127.0.0.1", PORT, ssl=ctx)
    async with server:
        await server.serve_forever()


asyncio.run(main())
