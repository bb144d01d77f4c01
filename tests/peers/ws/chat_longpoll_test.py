#!/usr/bin/python3
"""The chat example's protocol without a browser: long-polls that wait, time
out empty, and lose nothing between two polls; WebSocket clients and pollers
seeing each other's messages; bad posts refused."""

import asyncio
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_server import ExampleServer  # noqa: E402
import peerlib  # noqa: E402

import websockets  # noqa: E402

checks = peerlib.Checks("chat_longpoll")


def poll(port, since, timeout=40):
    """(batch, seconds) of GET /poll?since=SINCE."""
    start = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/poll?since={since}",
                                timeout=timeout) as r:
        return json.load(r), time.monotonic() - start


def post(port, name, text):
    """(status, body) of POST /send."""
    body = urllib.parse.urlencode({"name": name, "text": text}).encode()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/send", data=body, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def texts(batch):
    return [m["text"] for m in batch["messages"]]


def default_timeout_case(port, results):
    """Runs beside the rest: a poll on a room with no traffic (its own
    server) ends empty after the default ~25 s."""
    try:
        results["batch"], results["took"] = poll(port, 0)
    except Exception as e:  # reported by the caller
        results["error"] = repr(e)


def long_poll_cases(port):
    batch, took = poll(port, 0)
    checks.check("empty room: the poll times out empty (--poll-timeout-ms 1000)",
                 batch == {"messages": [], "last": 0} and 0.9 <= took < 3,
                 f"{batch} after {took:.2f} s")

    # A waiting poll is answered by the next post, at once.
    result = {}
    waiter = threading.Thread(target=lambda: result.update(zip(("batch", "took"), poll(port, 0))))
    waiter.start()
    time.sleep(0.3)
    status, body = post(port, "alice", "first")
    waiter.join(10)
    checks.check("POST /send: 200 with the id", status == 200 and json.loads(body) == {"id": 1},
                 repr((status, body)))
    checks.check("a waiting poll is answered by the post, before its timeout",
                 texts(result.get("batch", {"messages": []})) == ["first"] and
                 result["took"] < 0.9, repr(result))

    # Three posts while nobody polls: the next poll gets all three, in order.
    for text in ("second", "third", "fourth ✓"):
        post(port, "bob", text)
    batch, took = poll(port, 1)
    checks.check("no message lost between polls: all after the cursor, in order",
                 texts(batch) == ["second", "third", "fourth ✓"] and batch["last"] == 4,
                 repr(batch))
    checks.check("each message carries id, name and text",
                 batch["messages"][0] == {"id": 2, "name": "bob", "text": "second"},
                 repr(batch["messages"][0]))
    batch, _ = poll(port, 0)
    checks.check("since=0: the backlog", [m["id"] for m in batch["messages"]] == [1, 2, 3, 4],
                 repr(batch))
    batch, _ = poll(port, 99)
    checks.check("a cursor past the last id (a restarted server) gets the backlog",
                 len(batch["messages"]) == 4, repr(batch))

    for name, text, why in (("x", "", "empty text"), ("x", "y" * 2001, "text over 2000 bytes"),
                            ("n" * 41, "hi", "name over 40 bytes")):
        status, _ = post(port, name, text)
        checks.check(f"POST /send refused: {why}", status == 400, str(status))
    body = b"name=x&text=%FF%FE"
    req = urllib.request.Request(f"http://127.0.0.1:{port}/send", data=body)
    try:
        status = urllib.request.urlopen(req, timeout=5).status
    except urllib.error.HTTPError as e:
        status = e.code
    checks.check("POST /send refused: text not UTF-8", status == 400, str(status))
    batch, _ = poll(port, 4)
    checks.check("refused posts never reach the room", batch["messages"] == [], repr(batch))


async def websocket_cases(port):
    uri = f"ws://127.0.0.1:{port}/ws"
    async with websockets.connect(uri) as a, websockets.connect(uri, compression=None) as b:
        backlog = json.loads(await asyncio.wait_for(a.recv(), 5))
        checks.check("a WebSocket client gets the backlog on joining",
                     [m["id"] for m in backlog["messages"]] == [1, 2, 3, 4], repr(backlog))
        await asyncio.wait_for(b.recv(), 5)

        # A poller waits while a WebSocket client posts.
        loop = asyncio.get_running_loop()
        waiting = loop.run_in_executor(None, poll, port, 4)
        await asyncio.sleep(0.3)
        await a.send(urllib.parse.urlencode({"name": "ws-alice", "text": "over WebSocket"}))
        live_a = json.loads(await asyncio.wait_for(a.recv(), 5))
        live_b = json.loads(await asyncio.wait_for(b.recv(), 5))
        polled, _ = await asyncio.wait_for(waiting, 10)
        checks.check("a WebSocket post reaches both WebSocket clients",
                     texts(live_a) == texts(live_b) == ["over WebSocket"], repr((live_a, live_b)))
        checks.check("a WebSocket post reaches the waiting poller",
                     texts(polled) == ["over WebSocket"] and polled["messages"][0]["id"] == 5,
                     repr(polled))

        status, _ = await loop.run_in_executor(None, post, port, "poller", "over HTTP")
        live_a = json.loads(await asyncio.wait_for(a.recv(), 5))
        live_b = json.loads(await asyncio.wait_for(b.recv(), 5))
        checks.check("an HTTP post reaches the WebSocket clients",
                     status == 200 and texts(live_a) == texts(live_b) == ["over HTTP"],
                     repr((live_a, live_b)))

        await a.send("text=")
        refusal = json.loads(await asyncio.wait_for(a.recv(), 5))
        checks.check("an empty WebSocket post is refused to its sender only",
                     refusal.get("error") == "text is empty", repr(refusal))

        # Many posts from many clients at once: every client sees every one.
        senders = [await websockets.connect(uri) for _ in range(20)]
        for s in senders:
            await asyncio.wait_for(s.recv(), 5)  # backlog
        await asyncio.gather(*(s.send(f"text=burst+{i}") for i, s in enumerate(senders)))
        seen = set()
        while len(seen) < 20:
            batch = json.loads(await asyncio.wait_for(b.recv(), 10))
            seen.update(texts(batch))
        checks.check("20 clients post at once: a listener sees all 20",
                     seen == {f"burst {i}" for i in range(20)}, f"{len(seen)} seen")
        batch, _ = await loop.run_in_executor(None, poll, port, 6)
        checks.check("... and so does a poller, each once, ids consecutive",
                     sorted(texts(batch)) == sorted(f"burst {i}" for i in range(20)) and
                     [m["id"] for m in batch["messages"]] == list(range(7, 27)), repr(batch))
        for s in senders:
            await s.close()


def main():
    quiet = ExampleServer("chat").start()  # default timeout, no traffic
    slow = {}
    slow_thread = threading.Thread(target=default_timeout_case, args=(quiet.port, slow))
    slow_thread.start()

    server = ExampleServer("chat", "--poll-timeout-ms", "1000").start()
    long_poll_cases(server.port)
    asyncio.run(websocket_cases(server.port))
    page = urllib.request.urlopen(f"http://127.0.0.1:{server.port}/", timeout=5)
    html = page.read()
    checks.check("GET / serves the self-contained page",
                 page.headers.get_content_type() == "text/html" and b"new WebSocket(" in html and
                 b"/poll?since=" in html and b"<script src" not in html, page.headers["content-type"])
    status = server.stop()
    checks.check("chat exits 0 on SIGTERM", status == 0, str(status))

    slow_thread.join(40)
    checks.check("default poll timeout: an empty answer after ~25 s",
                 slow.get("batch") == {"messages": [], "last": 0} and
                 24 <= slow.get("took", 0) < 30, repr(slow))
    quiet.stop()


if __name__ == "__main__":
    peerlib.run(main, checks)
