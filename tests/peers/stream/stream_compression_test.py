#!/usr/bin/python3
"""curl --compressed against streamed output behind wrap_compression: for
each coding curl decodes (gzip, deflate, br, zstd), server-sent events on
an HTTP channel, each event decoded by curl as it arrives (the server
flushes its encoder at every send), and a generated StreamBody."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import peerlib  # noqa: E402

checks = peerlib.Checks("stream_compression")
CODINGS = ["gzip", "deflate", "br", "zstd"]


class StreamServer(peerlib.Server):
    def binary(self):
        return os.path.join(os.path.dirname(peerlib.server_binary()), "stream_peer_server")


def curl(port, path, coding):
    return subprocess.Popen(
        ["curl", "-sS", "-N", "--compressed", "--max-time", str(peerlib.scaled(20)),
         "-H", f"Accept-Encoding: {coding}", "-D", "-", f"http://127.0.0.1:{port}{path}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def split_head(output):
    head, _, body = output.partition(b"\r\n\r\n")
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode()] = value.strip().decode()
    return headers, body


def event(i):
    return f"event: tick\nid: {i}\ndata: event {i}\n\n".encode()


def sse(port, coding):
    proc = curl(port, "/events", coding)
    start = time.monotonic()
    seen = b""
    first_at = None
    os.set_blocking(proc.stdout.fileno(), False)
    while proc.poll() is None or first_at is None:
        chunk = proc.stdout.read() or b""
        seen += chunk
        if first_at is None and event(0) in seen:
            first_at = time.monotonic() - start
        if proc.poll() is not None:
            seen += proc.stdout.read() or b""
            break
        time.sleep(0.01)
    seen += proc.stdout.read() or b""
    headers, body = split_head(seen)
    checks.check(f"{coding}: SSE sent with Content-Encoding: {coding}",
                 headers.get("content-encoding") == coding, str(headers))
    checks.check(f"{coding}: SSE chunked, no Content-Length",
                 headers.get("transfer-encoding") == "chunked" and "content-length" not in headers)
    expected = b": stream opened\n\n" + b"".join(event(i) for i in range(5))
    checks.check(f"{coding}: curl decoded every event", body == expected, repr(body[:300]))
    # Events 1..4 come 400 ms after event 0: event 0 must be decoded well before.
    checks.check(f"{coding}: the first event decoded on arrival",
                 first_at is not None and first_at < 0.35, f"after {first_at}s")
    checks.check(f"{coding}: curl exited cleanly", proc.returncode == 0,
                 proc.stderr.read().decode(errors="replace"))


def stream(port, coding):
    proc = curl(port, "/stream", coding)
    out, err = proc.communicate(timeout=peerlib.scaled(30))
    headers, body = split_head(out)
    expected = "".join(f"line {i} of the generated stream\n" for i in range(20000)).encode()
    checks.check(f"{coding}: stream body sent with Content-Encoding: {coding}",
                 headers.get("content-encoding") == coding, str(headers))
    checks.check(f"{coding}: curl decoded the stream body", body == expected,
                 f"{len(body)} bytes, expected {len(expected)}; {err.decode(errors='replace')}")


def main():
    features = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout
    server = StreamServer().start()
    for coding in CODINGS:
        need = {"gzip": "libz", "deflate": "libz", "br": "brotli", "zstd": "zstd"}[coding]
        if not checks.check(f"curl decodes {coding} ({need} in its features)", need in features):
            continue
        sse(server.port, coding)
        stream(server.port, coding)


peerlib.run(main, checks)
