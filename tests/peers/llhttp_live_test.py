#!/usr/bin/python3
"""Replay llhttp's strict request test cases against a live httpkit-server.

Reads ../shared/corpora/llhttp/request/*.md (relative to the repo root; see
shared/corpora/README.md for the format), keeps the cases whose meta type is
plain "request" (lenient variants and "pause" cases test opt-in parser
features) and sends each case's bytes in one write on a fresh connection.

Verdicts, per request in the case (llhttp's log says how many requests it
completed before an error, and their methods, versions and headers):

* llhttp rejects the case (`error code=` in its log): the requests before
  the error may be answered 2xx; the failing one must get a 4xx/5xx with
  `Connection: close` followed by a close - or a close without an answer.
  It must never get a 2xx.  When the server just waits for more input, the
  test half-closes (FIN) and the server must then close without a 2xx; such
  cases are listed as "decided after client EOF".
* llhttp accepts the case: every complete request must get a 2xx, in order,
  except where RFC 9110/9112 require (or allow) something else - see
  rfc_expectation() and DELIBERATE_DIFFERENCES below.

Because so many llhttp cases are HTTP/1.1 requests without Host (which RFC
9112 3.2 requires a server to reject with 400), every accepted case with such
a request is also replayed with a `Host:` line inserted after each request
line ("[+Host]" variant), so the parser's acceptance is tested too.

After all cases the server must still be alive and serving.
"""

import json
import os
import re
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402

CORPUS = os.environ.get("LLHTTP_CORPUS",
                        os.path.join(peerlib.REPO_ROOT, "..", "shared", "corpora", "llhttp", "request"))

# Cases skipped entirely, with the reason.
SKIPPED = {
    ("content-length.md", "Content-Length reset when no body is received"):
        "meta skipBody: tests llhttp's on_headers_complete 'skip body' return value; "
        "for a server the second request is simply the (incomplete) body of the first",
}

# Where this test deliberately expects something other than "llhttp accepts
# -> 2xx", and why (printed in the summary).
DELIBERATE_DIFFERENCES = [
    "HTTP/1.1 request without Host -> 4xx + close: RFC 9112 3.2 'A server MUST respond with a 400 "
    "(Bad Request) status code to any HTTP/1.1 request message that lacks a Host header field'",
    "CONNECT -> 4xx/5xx: an origin server is not a tunnel; a 2xx to CONNECT means the connection "
    "became a tunnel (RFC 9110 9.3.6, RFC 9112 6.3), which this server does not do",
    "RTSP/ICE protocol or HTTP/0.9 (no version) -> 4xx/5xx or close: not HTTP/1.x "
    "(RFC 9112 2.3 HTTP-version = \"HTTP/\" DIGIT \".\" DIGIT)",
    "Transfer-Encoding with a coding other than chunked (deflate, chunked) -> 501/400: RFC 9112 6.1 "
    "'A server that receives a request message with a transfer coding it does not understand SHOULD "
    "respond with 501'",
    "Upgrade requests (llhttp pauses) -> 2xx or 101: RFC 9110 7.8 lets a server ignore Upgrade; bytes "
    "after the upgrade request are not checked beyond 'no 2xx'",
    "request-target with characters RFC 3986 does not allow (\" | \\ # ...), asterisk-form with a "
    "method other than OPTIONS, or userinfo in an http URI -> 2xx or 400: RFC 9112 3.2 lets a "
    "server reject an invalid request-line with 400, RFC 9110 4.2.4 says to treat userinfo as an error",
    "ANNOUNCE over HTTP/1.0 -> 2xx or 4xx/5xx + close: llhttp only knows ANNOUNCE for RTSP, but any "
    "token is an HTTP method (RFC 9110 9.1; 501 for an unknown one is also right)",
    "obs-fold (a header line starting with whitespace): RFC 9112 5.2 lets a server either reject "
    "with 400 or replace the fold with SP; llhttp rejects, this test accepts both",
]

HEAD_METHOD, CONNECT_METHOD, OPTIONS_METHOD = 2, 5, 6
QUIET = 0.3          # s without data after which we stop reading
EXPECT_WAIT = 3.0    # s to wait for responses we still expect
CLOSE_WAIT = 3.0     # s to wait for the server to close after our FIN


# --------------------------------------------------------------------------
# Reading the corpus

def decode_input(block):
    """llhttp's test/md-test.ts input transformations, in its order, on bytes."""
    s = block[:-1] if block.endswith(b"\n") else block          # trailing newline
    s = re.sub(rb"\\(\r\n|\r|\n)", b"", s)                        # escaped newlines join lines
    s = re.sub(rb"\r\n|\r|\n", b"\r\n", s)                        # every newline is CRLF
    s = s.replace(b"\\r", b"\r").replace(b"\\n", b"\n").replace(b"\\t", b"\t").replace(b"\\f", b"\f")
    s = re.sub(rb"\\x([0-9a-fA-F]+)", lambda m: bytes([int(m.group(1), 16) & 0xFF]), s)
    s = re.sub(rb"\\([0-7]{1,3})", lambda m: bytes([int(m.group(1), 8) & 0xFF]), s)
    return s


def read_cases(directory):
    meta_re = re.compile(rb"<!-- meta=(\{.*?\}) -->")
    for path in sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith(".md")):
        text = open(path, "rb").read()
        for m in meta_re.finditer(text):
            start = text.index(b"```http\n", m.end()) + len(b"```http\n")
            end = text.index(b"\n```", start - 1) + 1
            log_start = text.index(b"```log\n", end) + len(b"```log\n")
            log_end = text.index(b"```", log_start)
            titles = re.findall(rb"^#+ (.*)$", text[:m.start()], re.M)
            yield dict(file=os.path.basename(path),
                       line=text[:m.start()].count(b"\n") + 1,
                       title=titles[-1].decode("utf-8", "replace").strip() if titles else "?",
                       meta=json.loads(m.group(1)),
                       raw=decode_input(text[start:end]),
                       log=text[log_start:log_end].decode("utf-8", "replace"))


def parse_log(log):
    """Messages (method, version, protocol, url, headers, offsets) and the error, from llhttp's trace."""
    msgs, error = [], None
    cur = None
    field = value = None
    for line in log.splitlines():
        m = re.match(r'off=(\d+) (?:len=\d+ )?(.*)$', line)
        if not m:
            continue
        off, ev = int(m.group(1)), m.group(2)
        span = re.match(r'span\[(\w+)\]="(.*)"$', ev)
        if ev == "message begin":
            cur = dict(begin=off, method=None, version=None, protocol="HTTP", url="", headers=[],
                       version_end=None, headers_done=False, complete=False)
            msgs.append(cur)
        elif span and cur is not None:
            kind, text = span.groups()
            text = text.replace("\\t", "\t").replace("\\f", "\f")  # as md-test.ts does for logs
            if kind == "url":
                cur["url"] += text
            elif kind == "protocol":
                cur["protocol"] = text
            elif kind == "header_field":
                field = (field or "") + text
            elif kind == "header_value":
                value = (value or "") + text
        elif ev == "version complete" and cur is not None:
            cur["version_end"] = off
        elif ev == "header_value complete" and cur is not None:
            cur["headers"].append((field or "", value or ""))
            field = value = None
        elif ev.startswith("headers complete") and cur is not None:
            h = re.search(r"method=(\d+) v=(\d+)/(\d+)", ev)
            cur["method"], cur["version"] = int(h.group(1)), (int(h.group(2)), int(h.group(3)))
            cur["headers_done"] = True
            if field is not None:  # a field with an empty value has no value span
                cur["headers"].append((field, value or ""))
                field = value = None
        elif ev == "message complete" and cur is not None:
            cur["complete"] = True
        elif ev.startswith("error"):
            e = re.match(r'error code=(\d+) reason="(.*)"', ev)
            error = dict(off=off, code=int(e.group(1)), reason=e.group(2))
    return msgs, error


# --------------------------------------------------------------------------
# What the server must do

def header_values(msg, name):
    return [v.strip() for k, v in msg["headers"] if k.lower() == name]


def tokens(msg, name):
    return {t.strip().lower() for v in header_values(msg, name) for t in v.split(",") if t.strip()}


def closes_after(msg):
    """Does this request end the connection (HTTP/1.0 without keep-alive, or Connection: close)?"""
    conn = tokens(msg, "connection")
    if msg["version"] == (1, 0):
        return "keep-alive" not in conn
    return "close" in conn


URI_OK = re.compile(r"^[A-Za-z0-9\-._~%!$&'()*+,;=:@/?\[\]]*$")


def rfc_expectation(msg, has_host):
    """Expected answer for one complete request head: '2xx', 'reject' or
    'either', with the reason when it is not plain 2xx."""
    if msg["protocol"] != "HTTP" or msg["version"] not in ((1, 0), (1, 1)):
        return "reject", "not HTTP/1.0 or HTTP/1.1"
    if msg["method"] == CONNECT_METHOD:
        return "reject", "CONNECT"
    if msg["version"] == (1, 1) and not has_host:
        return "reject", "HTTP/1.1 without Host"
    te = tokens(msg, "transfer-encoding")
    if te and te != {"chunked"}:
        return "reject", "transfer coding other than chunked"
    url = msg["url"]
    if url == "*" and msg["method"] != OPTIONS_METHOD:
        return "either", "asterisk-form with a method other than OPTIONS"
    if not URI_OK.match(url):
        return "either", "request-target has characters RFC 3986 does not allow"
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@", url):
        return "either", "userinfo in an http URI"
    return "2xx", ""


def plan(case, msgs, error, host_added=False):
    """Slots, one per request the server may answer, plus whether the server must close at the end.

    slot kinds: '2xx', 'reject', 'either' (2xx or reject), 'upgrade' (2xx, 101
    or reject), 'pending' (incomplete request: no answer yet), 'rest' (bytes
    after an upgrade: anything but 2xx)."""
    slots, notes = [], []
    must_close = error is not None
    for i, msg in enumerate(msgs):
        failing = error is not None and not msg["complete"]
        if not msg["headers_done"]:
            if failing:
                slots.append(("reject", error["reason"]))
            break
        has_host = host_added or bool(header_values(msg, "host"))
        kind, why = rfc_expectation(msg, has_host)
        if error is not None and error["code"] == 22 and msg["method"] != CONNECT_METHOD and msg["complete"] \
                and "upgrade" in tokens(msg, "connection"):
            slots.append(("upgrade" if kind != "reject" else "reject", why or "Upgrade"))
            if kind != "reject":
                slots.append(("rest", "bytes after an upgrade request"))
                must_close = False
            break
        if failing:
            slots.append(("reject", error["reason"]))
            break
        if not msg["complete"]:
            slots.append(("reject", why) if kind == "reject" else ("pending", "incomplete body"))
            if kind != "reject":
                must_close = False
            break
        slots.append((kind, why))
        if kind == "reject" or closes_after(msg):
            must_close = True
            break
    else:
        if error is not None:   # error after the last message began: the next (garbage) request
            slots.append(("reject", error["reason"]))
    if error is None and not slots:
        must_close = False
    return slots, must_close


def special_cases(case, slots, must_close):
    """Per-case adjustments that a generic rule cannot express."""
    key = (case["file"], case["title"])
    if key == ("invalid.md", "HTTP protocol and ANNOUNCE method"):
        # llhttp only knows ANNOUNCE as an RTSP method; for HTTP any token is a method (RFC 9110
        # 9.1), answered by the handler or refused with 501.  (MKCOLA in "Invalid method" is the
        # same, but that request lacks Host, so it is rejected anyway.)
        return [("either", "ANNOUNCE over HTTP/1.0 is a valid, unknown method")], True
    if key == ("invalid.md", "Spaces before headers"):
        # obs-fold: rejecting is fine, so is unfolding "Foo: bar Content-Length: 38", which makes
        # two bodiless requests - both answered 2xx.
        return [("fold", "obs-fold: reject, or unfold and answer both requests")], False
    return slots, must_close


def insert_host(raw, msgs):
    """The case's bytes with 'Host: llhttp' added after each HTTP/1.1 request line lacking Host."""
    out, last = b"", 0
    for msg in msgs:
        if msg["version_end"] is None or header_values(msg, "host") or msg["version"] != (1, 1):
            continue
        at = msg["version_end"]
        if raw[at:at + 2] != b"\r\n":
            return None
        out += raw[last:at + 2] + b"Host: llhttp\r\n"
        last = at + 2
    return out + raw[last:] if last else None


# --------------------------------------------------------------------------
# Talking to the server

class Response:
    def __init__(self, status, headers):
        self.status = status
        self.headers = headers

    def tokens(self, name):
        return {t.strip().lower() for k, v in self.headers if k == name for t in v.split(",") if t.strip()}


def parse_responses(data, methods):
    """Parse back-to-back responses.  Returns (responses, problem or None).
    methods[i] is the llhttp method code of the i-th request (HEAD has no body)."""
    out, pos = [], 0
    while pos < len(data):
        after_head = bool(out) and len(out) - 1 < len(methods) and methods[len(out) - 1] == HEAD_METHOD
        end = data.find(b"\r\n\r\n", pos)
        m = re.match(rb"HTTP/1\.[01] (\d{3})(?: .*)?$", data[pos:end].split(b"\r\n")[0]) if end >= 0 else None
        if not m and after_head:
            return out, f"bytes after the response to HEAD (a body must not be sent): {data[pos:pos + 60]!r}"
        if end < 0:
            return out, f"incomplete response head: {data[pos:pos + 60]!r}"
        lines = data[pos:end].split(b"\r\n")
        if not m:
            return out, f"not an HTTP/1.x status line: {lines[0][:60]!r}"
        status = int(m.group(1))
        headers = []
        for ln in lines[1:]:
            k, sep, v = ln.partition(b":")
            if not sep:
                return out, f"bad response header line {ln[:60]!r}"
            headers.append((k.strip().lower().decode("latin-1"), v.strip().decode("latin-1")))
        pos = end + 4
        if 100 <= status < 200 and status != 101:
            continue  # interim response (e.g. 100 Continue)
        resp = Response(status, headers)
        out.append(resp)
        method = methods[len(out) - 1] if len(out) - 1 < len(methods) else None
        cl = [v for k, v in headers if k == "content-length"]
        if status == 101:
            return out, None  # protocol switched: the rest is not HTTP/1.1
        if method == HEAD_METHOD or status in (204, 304):
            continue
        if "chunked" in resp.tokens("transfer-encoding"):
            while True:
                eol = data.find(b"\r\n", pos)
                if eol < 0:
                    return out, "incomplete chunked response body"
                size = int(data[pos:eol].split(b";")[0], 16)
                pos = eol + 2 + size + 2
                if size == 0:
                    break  # (this server sends no trailers)
        elif cl:
            pos += int(cl[0])
            if pos > len(data):
                return out, "incomplete response body"
        else:
            pos = len(data)  # body delimited by close
    return out, None


def exchange(port, raw, expected_responses, must_close):
    """Send raw in one write, read what comes back.  Returns (data, how the
    connection ended: 'FIN', 'RST', 'FIN after client EOF', 'open')."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    data, ended = b"", "open"
    try:
        try:
            s.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass
        deadline = time.monotonic() + EXPECT_WAIT
        while True:
            s.settimeout(QUIET)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                if data.count(b"HTTP/1.") >= expected_responses or time.monotonic() > deadline:
                    break
                continue
            except ConnectionResetError:
                ended = "RST"
                break
            if not chunk:
                ended = "FIN"
                break
            data += chunk
        if ended == "open" and must_close:
            # The server is waiting for more input: tell it there is none.
            s.shutdown(socket.SHUT_WR)
            s.settimeout(CLOSE_WAIT)
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        ended = "FIN after client EOF"
                        break
                    data += chunk
            except socket.timeout:
                ended = "open (even after client EOF)"
            except ConnectionResetError:
                ended = "RST after client EOF"
    finally:
        s.close()
    return data, ended


def judge(slots, must_close, responses, problem, ended):
    """List of failure strings (empty: pass)."""
    fails = []
    closed = not ended.startswith("open")
    for i, (kind, why) in enumerate(slots):
        if kind == "fold":
            st = [r.status for r in responses]
            rejected = len(st) == 1 and st[0] >= 400 and "close" in responses[0].tokens("connection")
            if not (rejected or (len(st) == 0 and closed) or st == [200, 200] or
                    (len(st) == 2 and all(200 <= x < 300 for x in st))):
                fails.append(f"obs-fold: got {st}")
            return fails
        if kind == "rest":
            for r in responses[i:]:
                if 200 <= r.status < 300:
                    fails.append(f"2xx to the bytes after an upgrade request ({r.status})")
            return fails
        if i >= len(responses):
            if kind in ("reject", "either", "upgrade") and closed and not problem:
                return fails  # closed without answering: fine
            if kind == "pending":
                continue
            fails.append(f"request {i + 1}: no response ({kind} expected{', ' + why if why else ''})"
                         + (f"; {problem}" if problem else f"; connection {ended}"))
            return fails
        r = responses[i]
        ok2xx = 200 <= r.status < 300
        okrej = r.status >= 400 and "close" in r.tokens("connection")
        if kind == "2xx" and not ok2xx:
            fails.append(f"request {i + 1}: {r.status}, expected 2xx")
        elif kind == "reject" and not okrej:
            fails.append(f"request {i + 1}: {r.status} {'with' if 'close' in r.tokens('connection') else 'without'} "
                         f"Connection: close, expected 4xx/5xx + close ({why})")
        elif kind == "either" and not (ok2xx or okrej):
            fails.append(f"request {i + 1}: {r.status}, expected 2xx or 4xx/5xx + close ({why})")
        elif kind == "upgrade" and not (ok2xx or okrej or r.status == 101):
            fails.append(f"request {i + 1}: {r.status}, expected 2xx, 101 or 4xx/5xx + close")
        elif kind == "pending" and not ok2xx:
            # Answering before the body is complete is allowed (the server then reads or
            # discards the rest); rejecting an incomplete but valid request is not.
            fails.append(f"request {i + 1}: {r.status} before its body arrived, expected 2xx or nothing")
        if r.status == 101:
            return fails
        if r.status >= 400 and i + 1 < len(responses):
            fails.append(f"responses after an error response: {[x.status for x in responses[i + 1:]]}")
            return fails
        if r.status >= 400 and not closed:
            fails.append(f"connection not closed after {r.status}")
            return fails
    if len(responses) > len(slots):
        fails.append(f"unexpected extra responses: {[r.status for r in responses[len(slots):]]}")
    if problem:
        fails.append(problem)
    if must_close and not closed:
        fails.append(f"connection not closed (it is {ended})")
    return fails


def run_case(port, name, raw, msgs, slots, must_close):
    methods = [m["method"] for m in msgs]
    expected = sum(1 for k, _ in slots if k in ("2xx", "reject", "either", "upgrade"))
    data, ended = exchange(port, raw, expected, must_close)
    responses, problem = parse_responses(data, methods)
    fails = judge(slots, must_close, responses, problem, ended)
    want = ",".join(k for k, _ in slots) or "nothing"
    got = ",".join(str(r.status) for r in responses) or "-"
    print(f"{'ok  ' if not fails else 'FAIL'} {name}: want [{want}{' +close' if must_close else ''}] "
          f"got [{got}] conn {ended}" + ("" if not fails else "\n       " + "; ".join(fails)), flush=True)
    return not fails, ended


def main():
    if not os.path.isdir(CORPUS):
        print(f"FAIL - corpus not found: {CORPUS} (shared/ must sit next to the repo)")
        sys.exit(2)
    server = peerlib.Server("--threads", "2").start()
    stats = dict(acc_pass=0, acc_fail=0, rej_pass=0, rej_fail=0, var_pass=0, var_fail=0)
    failed, after_eof, skipped = [], [], []
    for case in read_cases(CORPUS):
        if case["meta"].get("type") != "request" or "pause" in case["meta"]:
            continue
        key = (case["file"], case["title"])
        name = f"{case['file']}:{case['line']} {case['title']}"
        if key in SKIPPED:
            skipped.append(f"{name}: {SKIPPED[key]}")
            continue
        msgs, error = parse_log(case["log"])
        slots, must_close = special_cases(case, *plan(case, msgs, error))
        ok, ended = run_case(server.port, name, case["raw"], msgs, slots, must_close)
        group = "rej" if error else "acc"
        stats[f"{group}_{'pass' if ok else 'fail'}"] += 1
        if not ok:
            failed.append(name)
        if "after client EOF" in ended:
            after_eof.append(name)
        if error is None and any(m["version"] == (1, 1) and not header_values(m, "host") for m in msgs):
            raw2 = insert_host(case["raw"], msgs)
            if raw2 is not None:
                slots2, must_close2 = plan(case, msgs, error, host_added=True)
                ok2, _ = run_case(server.port, name + " [+Host]", raw2, msgs, slots2, must_close2)
                stats[f"var_{'pass' if ok2 else 'fail'}"] += 1
                if not ok2:
                    failed.append(name + " [+Host]")

    alive = server.alive()
    if failed or not alive:
        print("--- server output (tail) ---\n" + server.output_tail())
    rc = server.stop()
    print()
    print("Deliberate differences from llhttp's verdicts:")
    for d in DELIBERATE_DIFFERENCES:
        print(f"  - {d}")
    print("Skipped:")
    for s in skipped:
        print(f"  - {s}")
    print(f"Rejected by llhttp (strict):  {stats['rej_pass']} handled correctly, {stats['rej_fail']} not")
    print(f"Accepted by llhttp (strict):  {stats['acc_pass']} handled correctly, {stats['acc_fail']} not")
    print(f"Accepted cases with Host added: {stats['var_pass']} handled correctly, {stats['var_fail']} not")
    if after_eof:
        print(f"Decided only after the client's EOF (server waited for more input): {len(after_eof)}")
        for n in after_eof:
            print(f"  - {n}")
    print(f"server alive and serving after all cases: {alive}; exit status after SIGTERM: {rc}")
    if failed:
        print(f"FAILED llhttp_live_test: {len(failed)} cases:")
        for n in failed:
            print(f"  - {n}")
    ok = not failed and alive and rc == 0
    print("PASS llhttp_live_test" if ok else "FAILED llhttp_live_test")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
