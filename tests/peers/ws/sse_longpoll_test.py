#!/usr/bin/python3
"""The async examples over plain HTTP: a long-poll answered late from another
thread, a chunked stream whose framing is checked byte by byte, and the
server-sent-events clock."""

import concurrent.futures
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_server import ExampleServer  # noqa: E402
import peerlib  # noqa: E402

checks = peerlib.Checks("sse_longpoll")


class HttpReader(peerlib.RawSocket):
    """A response read off a raw socket, so the framing itself is checked."""

    def head(self):
        status, headers = self.read_head()
        if status is None:
            raise EOFError("no complete response head")
        return status, headers

    def exactly(self, n):
        return self.read_exactly(n)

    def chunk(self):
        """The next chunk's data (b"" for the last chunk), checking its CRLFs."""
        size_line = self.read_line()
        size = int(size_line.split(b";")[0], 16)
        data = self.read_exactly(size)
        if size == 0:
            if self.read_line() != b"":  # no trailers expected
                raise ValueError("trailer after the last chunk")
        elif self.read_exactly(2) != b"\r\n":
            raise ValueError(f"chunk of {size} not followed by CRLF")
        return data

    def until_close(self):
        return self.read_until_close()


def connect(port, timeout=10):
    return HttpReader(port, timeout=timeout)


def get(port, target, timeout=10):
    """(status, headers, body, seconds) of one GET with Connection: close."""
    start = time.monotonic()
    with connect(port, timeout) as s:
        s.send(f"GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        reader = s
        status, headers = reader.head()
        if "content-length" in headers:
            body = reader.exactly(int(headers["content-length"]))
        else:
            body = reader.until_close()
        return status, headers, body, time.monotonic() - start


def long_poll_cases(port):
    status, headers, body, took = get(port, "/poll?delay=1500")
    checks.check("long-poll: 200", status == 200, str(status))
    checks.check("long-poll: answered after the delay, not before", 1.4 <= took < 5,
                 f"{took:.2f} s")
    checks.check("long-poll: a Content-Length response", headers.get("content-length") ==
                 str(len(body)), repr(headers))
    checks.check("long-poll: body from the answering thread",
                 body.startswith(b"answered after 1500 ms on thread"), repr(body))

    # 50 polls wait at once: none blocks a loop, so all end in about one delay.
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        results = list(pool.map(lambda _: get(port, "/poll?delay=1000"), range(50)))
    took = time.monotonic() - start
    checks.check("50 concurrent long-polls all answered 200",
                 all(r[0] == 200 for r in results), str([r[0] for r in results]))
    checks.check("50 concurrent long-polls wait together, not in turn", took < 4, f"{took:.2f} s")


def stream_cases(port):
    with connect(port) as s:
        s.send(b"GET /stream?parts=5&interval=150 HTTP/1.1\r\nHost: t\r\n\r\n")
        reader = s
        start = time.monotonic()
        status, headers = reader.head()
        checks.check("stream: 200", status == 200, str(status))
        checks.check("stream: Transfer-Encoding: chunked, no Content-Length",
                     headers.get("transfer-encoding") == "chunked" and
                     "content-length" not in headers, repr(headers))
        parts, arrivals = [], []
        while True:
            data = reader.chunk()
            if not data:
                break
            parts.append(data)
            arrivals.append(time.monotonic() - start)
        expected = [f"part {i} of 5\n".encode() for i in range(1, 6)]
        checks.check("stream: every part, in order, one chunk each, then the last chunk",
                     parts == expected, repr(parts))
        checks.check("stream: parts arrive over time, not at once",
                     len(arrivals) == 5 and arrivals[-1] - arrivals[0] >= 0.45,
                     ", ".join(f"{a:.2f}" for a in arrivals))
        # The body ended cleanly, so the connection serves the next request.
        # A one-part stream sends everything at once: a Content-Length response.
        s.send(b"GET /stream?parts=1 HTTP/1.1\r\nHost: t\r\n\r\n")
        status, headers = reader.head()
        body = reader.exactly(int(headers.get("content-length", "0")))
        checks.check("stream: keep-alive: the next request on the connection is served",
                     status == 200 and body == b"part 1 of 1\n", repr((status, body)))
        checks.check("stream: a one-part stream is a Content-Length response, not chunked",
                     "transfer-encoding" not in headers, repr(headers))

    with connect(port) as s:  # HTTP/1.0 has no chunks: the close ends the body
        s.send(b"GET /stream?parts=3&interval=50 HTTP/1.0\r\n\r\n")
        reader = s
        status, headers = reader.head()
        body = reader.until_close()
        checks.check("stream over HTTP/1.0: close-delimited body with every part",
                     status == 200 and "transfer-encoding" not in headers and
                     body == b"part 1 of 3\npart 2 of 3\npart 3 of 3\n", repr((headers, body)))


def parse_events(text):
    """Server-sent events (the WHATWG rules, enough of them): a list of
    {field: value} per event, comments dropped."""
    events = []
    for block in text.split("\n\n"):
        event = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            event[field] = event[field] + "\n" + value if field in event else value
        if event:
            events.append(event)
    return events


def clock_cases(port):
    with connect(port) as s:
        s.send(b"GET /clock HTTP/1.1\r\nHost: t\r\n\r\n")
        reader = s
        status, headers = reader.head()
        checks.check("clock: 200", status == 200, str(status))
        checks.check("clock: Content-Type text/event-stream",
                     headers.get("content-type", "").startswith("text/event-stream"),
                     repr(headers.get("content-type")))
        checks.check("clock: Cache-Control: no-cache", headers.get("cache-control") == "no-cache",
                     repr(headers.get("cache-control")))
        checks.check("clock: chunked", headers.get("transfer-encoding") == "chunked")
        stream = b""
        deadline = time.monotonic() + 2.5
        s.timeout = 0.2
        while time.monotonic() < deadline:
            try:
                stream += reader.chunk()
            except socket.timeout:
                continue
        text = stream.decode("utf-8")
        events = parse_events(text)
        data_lines = re.findall(r"^data: (.*)$", text, re.M)
        checks.check("clock: at least 2 events in 2.5 s", len(events) >= 2, f"{len(events)}: {text!r}")
        checks.check("clock: each event has a data: line with an ISO time",
                     events and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
                                                 e.get("data", "")) for e in events) and
                     len(data_lines) == len(events), repr(events))
        ids = [int(e["id"]) for e in events if "id" in e]
        checks.check("clock: ids count up", ids == list(range(1, len(ids) + 1)) and ids, repr(ids))


def main():
    server = ExampleServer("async_examples").start()
    long_poll_cases(server.port)
    stream_cases(server.port)
    clock_cases(server.port)
    checks.check("async_examples still answers", server.alive())
    status = server.stop()
    checks.check("async_examples exits 0 on SIGTERM", status == 0, str(status))


if __name__ == "__main__":
    peerlib.run(main, checks)
