#!/usr/bin/python3
"""The forward proxy of the client's tests.

Usage: proxy.py PORT LOGFILE [--auth USER:PASSWORD] [--tls CERT KEY] [--forward]

Answers CONNECT host:port with 200 and relays bytes both ways (names
ending in .test are on loopback). --auth wants Proxy-Authorization: Basic
and answers 407 otherwise. --tls makes it an https:// proxy: TLS to the
proxy itself, logged as "TLS <version>" per connection. --forward also
takes absolute-form http:// requests and forwards them to the origin; else
any method but CONNECT gets 405. Logs one line per request: "TUNNEL
host:port", "FORWARD METHOD url", "REFUSED", "DENIED" or "FAILED".
"""
import argparse
import asyncio
import base64
import ssl
from urllib.parse import urlsplit

parser = argparse.ArgumentParser()
parser.add_argument("port", type=int)
parser.add_argument("log")
parser.add_argument("--auth")
parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
parser.add_argument("--forward", action="store_true")
ARGS = parser.parse_args()


def log(line):
    with open(ARGS.log, "a") as f:
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


async def answer(writer, status, extra=""):
    writer.write(f"HTTP/1.1 {status}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n"
                 .encode())
    await writer.drain()
    writer.close()


def loopback(host):
    return "127.0.0.1" if host.endswith(".test") else host


async def tunnel(reader, writer, target):
    host, _, port = target.rpartition(":")
    try:
        up_reader, up_writer = await asyncio.open_connection(loopback(host.strip("[]")), int(port))
    except Exception as e:
        log(f"FAILED CONNECT {target} {e}")
        await answer(writer, "502 Bad Gateway")
        return
    log(f"TUNNEL {target}")
    writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
    await writer.drain()
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def forward(reader, writer, method, target, version, header_lines):
    """One request per connection: sent on in origin form with
    Connection: close, the answer relayed until the origin closes."""
    url = urlsplit(target)
    if url.scheme != "http" or not url.hostname:
        log(f"REFUSED {method} {target}")
        await answer(writer, "400 Bad Request")
        return
    try:
        up_reader, up_writer = await asyncio.open_connection(loopback(url.hostname),
                                                             url.port or 80)
    except Exception as e:
        log(f"FAILED {method} {target} {e}")
        await answer(writer, "502 Bad Gateway")
        return
    log(f"FORWARD {method} {target}")
    path = (url.path or "/") + ("?" + url.query if url.query else "")
    out = [f"{method} {path} {version}"]
    for line in header_lines:
        name = line.split(":", 1)[0].strip().lower()
        if line and name not in ("connection", "proxy-authorization", "keep-alive"):
            out.append(line)
    out.append("Connection: close")
    up_writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
    await up_writer.drain()
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def handle(reader, writer):
    if ARGS.tls:
        tls = writer.get_extra_info("ssl_object")
        log(f"TLS {tls.version() if tls else 'none'}")
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    except Exception:
        writer.close()
        return
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = (lines[0].split(" ") + ["", ""])[:3]
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if ARGS.auth:
        want = "Basic " + base64.b64encode(ARGS.auth.encode()).decode()
        if headers.get("proxy-authorization") != want:
            log(f"DENIED {method} {target}")
            await answer(writer, "407 Proxy Authentication Required",
                         'Proxy-Authenticate: Basic realm="test"\r\n')
            return
    if method == "CONNECT":
        await tunnel(reader, writer, target)
    elif ARGS.forward:
        await forward(reader, writer, method, target, version, lines[1:])
    else:
        log(f"REFUSED {method} {target}")
        await answer(writer, "405 Method Not Allowed")


async def main():
    ctx = None
    if ARGS.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*ARGS.tls)
    server = await asyncio.start_server(handle, "127.0.0.1", ARGS.port, ssl=ctx)
    async with server:
        await server.serve_forever()


asyncio.run(main())
