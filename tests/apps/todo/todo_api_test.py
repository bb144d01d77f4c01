#!/usr/bin/python3
"""The todo example over HTTP, against the real binary: the REST API (CRUD,
statuses, JSON error bodies), the SSE feed of changes, compression, the
static page and the access log with its SIGUSR1 reopen. Standard library
only (http.client), so it runs wherever python3 does.

    HTTPKIT_BIN_DIR=build/bin tests/apps/todo/todo_api_test.py
"""

import gzip
import http.client
import json
import os
import signal
import socket
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "peers", "ws"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "peers"))
from example_server import ExampleServer  # noqa: E402
import peerlib  # noqa: E402

checks = peerlib.Checks("todo_api")
TIMEOUT = peerlib.scaled(10)


def request(port, method, path, body=None, headers=None):
    """(status, headers as a lower-case dict, body bytes) on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def as_json(body):
    try:
        return json.loads(body)
    except ValueError:
        return None


def is_error(status, headers, body, want):
    """`want` status with a JSON {"error": "..."} body."""
    doc = as_json(body)
    return (status == want and headers.get("content-type", "").startswith("application/json")
            and isinstance(doc, dict) and isinstance(doc.get("error"), str) and doc["error"])


class SseReader:
    """GET /api/events, kept open; reads events as they come."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.sock.sendall(b"GET /api/events HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n")
        self.buf = b""
        self.head = self._until(b"\r\n\r\n")

    def _until(self, marker):
        deadline = time.monotonic() + TIMEOUT
        while marker not in self.buf:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {marker!r} in {self.buf[-300:]!r}")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("SSE stream closed")
            self.buf += chunk
        part, self.buf = self.buf.split(marker, 1)
        return part

    def event(self):
        """The next event as {field: value}, skipping comments. The body is
        chunked; chunk-size lines are dropped (each event is one chunk)."""
        while True:
            raw = self._until(b"\n\n")
            fields = {}
            for line in raw.split(b"\r\n")[-1].split(b"\n"):
                if not line or line.startswith(b":"):
                    continue
                name, _, value = line.decode().partition(":")
                fields[name] = value[1:] if value.startswith(" ") else value
            if fields:
                return fields

    def close(self):
        self.sock.close()


def crud(port):
    status, headers, body = request(port, "GET", "/api/todos")
    checks.check("GET /api/todos: 200 with [] at first",
                 status == 200 and as_json(body) == [] and
                 headers.get("content-type") == "application/json" and
                 headers.get("todo-version") == "0", repr((status, headers, body)))

    status, headers, body = request(port, "POST", "/api/todos", {"title": "buy milk"})
    created = as_json(body) or {}
    checks.check("POST /api/todos: 201, the todo, Location",
                 status == 201 and created.get("title") == "buy milk" and
                 created.get("done") is False and isinstance(created.get("id"), int) and
                 headers.get("location") == f"/api/todos/{created.get('id')}",
                 repr((status, headers.get("location"), body)))
    tid = created.get("id")

    status, _, body = request(port, "GET", f"/api/todos/{tid}")
    checks.check("GET /api/todos/ID: 200 with it", status == 200 and as_json(body) == created,
                 repr((status, body)))

    status, _, body = request(port, "PATCH", f"/api/todos/{tid}", {"done": True})
    checks.check("PATCH done: 200, done, title kept",
                 status == 200 and as_json(body) == dict(created, done=True), repr((status, body)))
    status, _, body = request(port, "PATCH", f"/api/todos/{tid}",
                              {"title": "buy oat milk ✓"},
                              {"Content-Type": "application/json; charset=UTF-8"})
    checks.check("PATCH title (UTF-8, charset parameter): 200",
                 status == 200 and as_json(body) == dict(created, done=True, title="buy oat milk ✓"),
                 repr((status, body)))

    request(port, "POST", "/api/todos", {"title": "second"})
    status, headers, body = request(port, "GET", "/api/todos")
    titles = [t["title"] for t in as_json(body) or []]
    checks.check("GET /api/todos: both, in creation order, Todo-Version counts the changes",
                 status == 200 and titles == ["buy oat milk ✓", "second"] and
                 headers.get("todo-version") == "4", repr((titles, headers.get("todo-version"))))

    status, _, body = request(port, "DELETE", f"/api/todos/{tid}")
    checks.check("DELETE /api/todos/ID: 204, no body", status == 204 and body == b"",
                 repr((status, body)))
    status, headers, body = request(port, "GET", f"/api/todos/{tid}")
    checks.check("GET a deleted todo: 404 JSON error", is_error(status, headers, body, 404),
                 repr((status, body)))
    status, headers, body = request(port, "DELETE", f"/api/todos/{tid}")
    checks.check("DELETE it again: 404", is_error(status, headers, body, 404), repr((status, body)))
    return tid


def errors(port, gone_id):
    cases = [
        ("bad JSON", "POST", "/api/todos", b'{"title": ', {"Content-Type": "application/json"}, 400),
        ("not an object", "POST", "/api/todos", [1, 2], None, 400),
        ("missing title", "POST", "/api/todos", {"name": "x"}, None, 400),
        ("empty title", "POST", "/api/todos", {"title": "  "}, None, 400),
        ("title not a string", "POST", "/api/todos", {"title": 5}, None, 400),
        ("oversized title", "POST", "/api/todos", {"title": "x" * 201}, None, 400),
        ("invalid UTF-8", "POST", "/api/todos", b'{"title": "\xff\xfe"}',
         {"Content-Type": "application/json"}, 400),
        ("form body on POST", "POST", "/api/todos", b"title=x",
         {"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ("no Content-Type on POST", "POST", "/api/todos", b'{"title":"x"}', {}, 415),
        ("text/plain on PATCH", "PATCH", "/api/todos/2", b'{"done":true}',
         {"Content-Type": "text/plain"}, 415),
        ("done not a boolean", "PATCH", "/api/todos/2", {"done": "yes"}, None, 400),
        ("PATCH an unknown id", "PATCH", f"/api/todos/{gone_id}", {"done": True}, None, 404),
        ("GET a non-numeric id", "GET", "/api/todos/abc", None, None, 404),
        ("GET a huge id", "GET", "/api/todos/99999999999999999999999", None, None, 404),
    ]
    for what, method, path, body, headers, want in cases:
        status, hdrs, answer = request(port, method, path, body, headers)
        checks.check(f"{what}: {want} with a JSON error", is_error(status, hdrs, answer, want),
                     repr((status, answer[:200])))
    _, _, body = request(port, "GET", "/api/todos")
    checks.check("nothing was stored by the refused requests",
                 [t["title"] for t in as_json(body)] == ["second"], repr(body))

    status, headers, _ = request(port, "PUT", "/api/todos/2", {"done": True})
    allow = headers.get("allow", "")
    checks.check("PUT /api/todos/ID: 405 from the router, Allow lists PATCH and DELETE",
                 status == 405 and "PATCH" in allow and "DELETE" in allow, repr((status, allow)))
    status, headers, _ = request(port, "DELETE", "/api/todos")
    checks.check("DELETE /api/todos: 405", status == 405 and "POST" in headers.get("allow", ""),
                 repr((status, headers.get("allow"))))


def events(port):
    a, b = SseReader(port), SseReader(port)
    try:
        checks.check("GET /api/events: 200 text/event-stream",
                     a.head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in a.head,
                     repr(a.head))
        _, _, body = request(port, "POST", "/api/todos", {"title": "from the feed"})
        created = as_json(body)
        for name, reader in (("first", a), ("second", b)):
            ev = reader.event()
            checks.check(f"the {name} listener receives the created event",
                         ev.get("event") == "created" and json.loads(ev.get("data", "null")) == created
                         and ev.get("id", "").isdigit(), repr(ev))
        request(port, "PATCH", f"/api/todos/{created['id']}", {"done": True})
        request(port, "DELETE", f"/api/todos/{created['id']}")
        ev1, ev2 = a.event(), a.event()
        checks.check("then updated and deleted, in order, with increasing ids",
                     (ev1.get("event"), ev2.get("event")) == ("updated", "deleted") and
                     json.loads(ev1["data"])["done"] is True and
                     int(ev2["id"]) == int(ev1["id"]) + 1, repr((ev1, ev2)))
    finally:
        a.close()
        b.close()


def compression(port):
    for i in range(12):  # enough todos for a list past the minimum size
        request(port, "POST", "/api/todos", {"title": f"compressible todo number {i}"})
    _, _, plain = request(port, "GET", "/api/todos")
    for coding, decode in (("gzip", gzip.decompress), ("deflate", zlib.decompress)):
        status, headers, body = request(port, "GET", "/api/todos", headers={"Accept-Encoding": coding})
        checks.check(f"GET /api/todos with Accept-Encoding: {coding}: compressed, same JSON",
                     status == 200 and headers.get("content-encoding") == coding and
                     "accept-encoding" in headers.get("vary", "").lower() and
                     len(body) < len(plain) and decode(body) == plain,
                     repr((status, headers.get("content-encoding"), len(body), len(plain))))
    status, headers, body = request(port, "GET", "/app.js", headers={"Accept-Encoding": "gzip"})
    checks.check("a static file (app.js) is compressed too",
                 status == 200 and headers.get("content-encoding") == "gzip" and
                 b"EventSource" in gzip.decompress(body), repr((status, headers)))


def static_files(port):
    status, headers, body = request(port, "GET", "/")
    checks.check("GET /: index.html", status == 200 and
                 headers.get("content-type", "").startswith("text/html") and
                 b'<script src="app.js">' in body, repr((status, headers.get("content-type"))))
    for path, ctype in (("/style.css", "text/css"), ("/app.js", "javascript")):
        status, headers, _ = request(port, "GET", path)
        checks.check(f"GET {path}: 200 {ctype}", status == 200 and ctype in headers.get("content-type", ""),
                     repr((status, headers.get("content-type"))))
    status, _, _ = request(port, "GET", "/../CMakeLists.txt")
    checks.check("no way out of public/", status in (400, 403, 404), repr(status))
    status, headers, _ = request(port, "GET", "/", headers={"X-Request-Id": "todo-test-42"})
    checks.check("a sane X-Request-Id is echoed", headers.get("x-request-id") == "todo-test-42",
                 repr(headers.get("x-request-id")))
    status, headers, _ = request(port, "GET", "/api/todos")
    checks.check("otherwise one is generated", len(headers.get("x-request-id", "")) >= 16,
                 repr(headers.get("x-request-id")))


def access_log(server, log_path):
    request(server.port, "GET", "/api/todos", headers={"X-Request-Id": "logged-id-1"})

    def wait_for(path, needle):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if os.path.exists(path) and needle in open(path, "rb").read():
                return True
            time.sleep(0.1)
        return False

    checks.check("--access-log: a combined-format line with the request id",
                 wait_for(log_path, b'"GET /api/todos HTTP/1.1" 200') and
                 wait_for(log_path, b"logged-id-1"), repr(open(log_path, "rb").read()[-300:])
                 if os.path.exists(log_path) else "no log file")
    os.rename(log_path, log_path + ".1")
    server.proc.send_signal(signal.SIGUSR1)
    time.sleep(0.3)
    request(server.port, "GET", "/style.css")
    checks.check("SIGUSR1 reopens it: the next line goes to a new file",
                 wait_for(log_path, b'"GET /style.css HTTP/1.1"'),
                 "no new log file" if not os.path.exists(log_path) else "")


def main():
    logdir = tempfile.mkdtemp(prefix="httpkit-todo-")
    log_path = os.path.join(logdir, "access.log")
    # Handlers on a worker pool, as in a service that does real work in them.
    server = ExampleServer("todo", "--threads", "2", "--workers", "4",
                           "--access-log", log_path).start()
    try:
        gone = crud(server.port)
        errors(server.port, gone)
        events(server.port)
        compression(server.port)
        static_files(server.port)
        access_log(server, log_path)
        checks.check("todo exits 0 on SIGTERM", server.stop() == 0)
    finally:
        for name in os.listdir(logdir):
            os.unlink(os.path.join(logdir, name))
        os.rmdir(logdir)


peerlib.run(main, checks)
