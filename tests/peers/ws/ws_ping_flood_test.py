#!/usr/bin/python3
"""A peer that floods httpkit-server's /ws with pings and never reads.

Every ping obliges a pong (RFC 6455 §5.5.2), so a peer that sends pings and
never reads would make the server queue pongs without end. The server must
keep its memory bounded whatever the peer sends (§5.5.3 lets it answer only
the latest of the pings it has not answered yet; TCP lets it stop reading a
peer that does not read), give the memory back once the peer leaves, and
serve every other connection meanwhile.

The server's resident set (VmRSS of /proc/PID/status) is sampled while
300,000 pings with 125-byte payloads (the largest a control frame carries,
so the most pong bytes per ping: 39 MB of pings, 38 MB of pongs) go in.
"""

import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import peerlib  # noqa: E402
from rawws import (OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, RawWebSocket,  # noqa: E402
                   close_payload, frame)

PINGS = 300_000
BATCH = 2_000  # pings per send (262 kB)
GROWTH_LIMIT = 8 << 20  # bytes of RSS the flood may add, at any time
LEFT_LIMIT = 4 << 20  # ...and may leave behind once the peer is gone
# A sanitized server's memory says nothing about the server (shadow memory,
# quarantine); its run still checks behaviour. Its waits are longer.
SANITIZED = "HTTPKIT_TIMEOUT_SCALE" in os.environ
SCALE = int(os.environ.get("HTTPKIT_TIMEOUT_SCALE", "1"))
STALL = 3.0 * SCALE  # seconds without a byte taken: the server stopped reading

checks = peerlib.Checks("ws_ping_flood")


def rss(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field}")


def reset_peak(pid):
    """Restarts VmHWM (the peak RSS) at the current RSS, so that it catches
    the peak between samples too (proc(5), clear_refs "5")."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Reader:
    """Server frames from a socket, read in bulk (hundreds of thousands of
    them: no re-slicing of one growing buffer per frame)."""

    def __init__(self, sock, leftover=b""):
        self.sock = sock
        self.buf = bytearray(leftover)
        self.pos = 0

    def _fill(self, n, deadline):
        while len(self.buf) - self.pos < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout
            self.sock.settimeout(left)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError
            if self.pos > (1 << 20):
                del self.buf[:self.pos]
                self.pos = 0
            self.buf += chunk

    def frame(self, deadline):
        self._fill(2, deadline)
        b0, b1 = self.buf[self.pos], self.buf[self.pos + 1]
        n, head = b1 & 0x7F, 2
        if n == 126:
            self._fill(4, deadline)
            n, head = struct.unpack_from("!H", self.buf, self.pos + 2)[0], 4
        elif n == 127:
            self._fill(10, deadline)
            n, head = struct.unpack_from("!Q", self.buf, self.pos + 2)[0], 10
        self._fill(head + n, deadline)
        payload = bytes(self.buf[self.pos + head:self.pos + head + n])
        self.pos += head + n
        return b0 & 0x0F, payload


def flood(server, ws):
    """Sends the pings without reading; returns (pings sent, peak RSS, the
    rest of a batch the server did not take when it stopped reading)."""
    ping = frame(OP_PING, b"p" * 125)
    last = frame(OP_PING, b"the last ping".ljust(125, b"."))
    pid = server.proc.pid
    sock = ws.sock
    sock.setblocking(False)
    peak = rss(pid)
    sent_pings = 0
    stalled = False
    while sent_pings < PINGS and not stalled:
        count = min(BATCH, PINGS - sent_pings)
        data = memoryview(ping * (count - 1) + (last if sent_pings + count == PINGS else ping))
        while data:
            _, writable, _ = select.select([], [sock], [], STALL)
            if not writable:
                stalled = True  # backpressure: the server stopped reading us
                break
            try:
                data = data[sock.send(data):]
            except BlockingIOError:
                continue
            peak = max(peak, rss(pid))
        if not data:
            sent_pings += count
    peak = max(peak, rss(pid))
    sock.setblocking(True)
    return sent_pings, peak, bytes(data) if stalled else b""


def served_meanwhile(port):
    other = RawWebSocket(port)
    try:
        other.send(frame(OP_TEXT, b"are you there?"))
        got = other.read_frame(timeout=5.0 * SCALE)
        other.send(frame(OP_CLOSE, close_payload(1000)))
        return got == (True, OP_TEXT, b"are you there?"), repr(got)
    finally:
        other.close()


def main():
    server = peerlib.Server("--threads", "1").start()
    pid = server.proc.pid
    # Warm up the paths the flood takes (a ping, an echo) before the baseline.
    warm = RawWebSocket(server.port)
    warm.send(frame(OP_PING, b"warm") + frame(OP_TEXT, b"warm"))
    checks.check("warm-up: pong", warm.read_frame() == (True, OP_PONG, b"warm"))
    checks.check("warm-up: echo", warm.read_frame() == (True, OP_TEXT, b"warm"))
    warm.close()
    base = rss(pid)
    exact_peak = reset_peak(pid)

    ws = RawWebSocket(server.port)
    started = time.monotonic()
    sent, peak, rest = flood(server, ws)
    stalled = sent < PINGS
    if exact_peak:
        peak = max(peak, rss(pid, "VmHWM"))
    took = time.monotonic() - started
    print(f"flood: {sent} of {PINGS} pings taken in {took:.1f} s"
          f"{' (then the server stopped reading)' if stalled else ''}; RSS {base >> 10} kB before,"
          f" peak {peak >> 10} kB (+{(peak - base) >> 10} kB)", flush=True)
    checks.check("the server took the pings or stopped reading (no error)",
                 sent == PINGS or stalled, f"{sent} pings")
    ok, detail = served_meanwhile(server.port)
    checks.check("another WebSocket is served while the flooder does not read", ok, detail)
    checks.check("plain HTTP is served meanwhile", server.alive())
    if not SANITIZED:
        checks.check(f"RSS growth during the flood < {GROWTH_LIMIT >> 20} MiB",
                     peak - base < GROWTH_LIMIT, f"+{(peak - base) >> 10} kB")

    # The flooder starts reading: it gets pongs (at least the one for its
    # latest ping, §5.5.3), then its connection works as before.
    reader = Reader(ws.sock, ws.buffer)
    deadline = time.monotonic() + 60 * SCALE
    pongs, last_pong, opcode = 0, None, None
    try:
        ws.send(rest + frame(OP_TEXT, b"after the flood"))
        while True:
            opcode, payload = reader.frame(deadline)
            if opcode != OP_PONG:
                break
            pongs += 1
            last_pong = payload
    except (EOFError, OSError) as e:
        opcode, payload = None, repr(e)
    print(f"the flooder read {pongs} pongs for {sent} pings", flush=True)
    if sent == PINGS:
        checks.check("the last pong answers the last ping",
                     last_pong == b"the last ping".ljust(125, b"."), repr(last_pong)[:60])
    checks.check("at most one pong per ping", 0 < pongs <= sent, str(pongs))
    checks.check("then the flooder's own echo arrives",
                 (opcode, payload) == (OP_TEXT, b"after the flood"), f"{opcode} {payload!r}"[:80])
    ws.close()

    # The peer has left: what the flood cost must come back.
    deadline = time.monotonic() + 10 * SCALE
    left = rss(pid) - base
    while left >= LEFT_LIMIT and time.monotonic() < deadline:
        time.sleep(0.1)  # polling the server's RSS, not ordering events
        left = rss(pid) - base
    print(f"after the flooder left: RSS {(base + left) >> 10} kB (+{left >> 10} kB)", flush=True)
    if not SANITIZED:
        checks.check(f"RSS after the flooder left < base + {LEFT_LIMIT >> 20} MiB",
                     left < LEFT_LIMIT, f"+{left >> 10} kB")
    ok, detail = served_meanwhile(server.port)
    checks.check("the server still echoes", ok, detail)
    status = server.stop()
    checks.check("server exits 0 on SIGTERM", status == 0, str(status))


if __name__ == "__main__":
    peerlib.run(main, checks)
