#!/usr/bin/python3
"""Replay llhttp's request test cases against a live httpkit-server.

Reads ../shared/corpora/llhttp/request/*.md (relative to the repo root; see
shared/corpora/README.md for the format) and sends each case's bytes in one
write on a fresh connection: the strict cases (meta type "request") and the
lenient ones ("request-lenient-*", which llhttp accepts only with an opt-in
flag, so a strict server rejects them where strict llhttp does; see
LENIENT_STRICT_STOP). "pause" and "skipBody" cases test llhttp's callback
API, "request-finish" cases its llhttp_finish() at EOF; they are skipped.

Per request of a case (llhttp's log says how many requests it completed
before an error, and their methods, versions and headers):

* Requests llhttp completed get a 2xx, in order, except where RFC 9110/9112
  require or allow something else (rfc_expectation(), DELIBERATE_DIFFERENCES).
* The request llhttp rejects gets the README's definite answer: a 4xx (or
  501/505) with `Connection: close`, and then the server closes the
  connection by itself. The client never half-closes, so a close that needs
  the client's FIN fails, and so does a close without an answer, or an
  answer only after the server's timeout (it had the bytes to decide on).
* A request the case leaves incomplete (a head or body still to come) gets
  408 with `Connection: close` and a close once the server's header or body
  timeout has run, not before; the wait is bounded by that timeout.
* Bytes after an Upgrade request the server did not switch for are read as
  HTTP: a definite rejection, or 408 + close after the header timeout.

Many llhttp cases are HTTP/1.1 requests without Host (which RFC 9112 3.2
requires a server to reject with 400), so every case with such a request is
also replayed with a `Host:` line inserted after its request line ("[+Host]"
variant): the rejection must then come for what the case is about.

Every wait is a multiple of CASE_WAIT, scaled by HTTPKIT_TIMEOUT_SCALE (an
ASan-built server is several times slower). After all cases the server must
still be alive and serving, exit 0 on SIGTERM and print no sanitizer report.
"""

import concurrent.futures
import copy
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections import Counter

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402

CORPUS = os.environ.get("LLHTTP_CORPUS",
                        os.path.join(peerlib.REPO_ROOT, "..", "shared", "corpora", "llhttp", "request"))

# The one per-case wait: for an answer the server can give from the bytes it
# has, or for its close after that answer. Every other wait derives from it.
CASE_WAIT = peerlib.scaled(3.0)
QUIET = CASE_WAIT / 10  # silence after the expected answers that says no more will come

# The server's own deadlines for an incomplete request (ServerOptions'
# header_timeout and body_timeout). httpkit-server has no option for them, so
# the defaults run, and the cases that end in one run in parallel. If its
# --help ever lists --header-timeout / --body-timeout (milliseconds), they
# are set to SHORT_TIMEOUT instead.
DEFAULT_HEADER_TIMEOUT, DEFAULT_BODY_TIMEOUT = 30.0, 60.0
SHORT_TIMEOUT = peerlib.scaled(2.0)
TIMER_SLACK = 0.9  # a 408 earlier than this share of the timeout was not the timeout's

# Cases skipped entirely, with the reason.
SKIPPED = {
    ("content-length.md", "Content-Length reset when no body is received"):
        "meta skipBody: tests llhttp's on_headers_complete 'skip body' return value; "
        "for a server the second request is simply the (incomplete) body of the first",
}

# Where strict llhttp stops in each lenient case: the requests it completes
# before it rejects the next. The reasons (and which of these RFC 9112 would
# let a server accept; httpkit rejects them all) are in kLenientVerdicts of
# tests/http/llhttp_corpus_test.cpp; checked against Node 20's llhttp 9.3.1.
LENIENT_STRICT_STOP = {
    ("connection.md", "Resetting flags when keep-alive is off (1.0, lenient)"): 1,
    ("connection.md", "CRLF between requests, explicit `close` (lenient)"): 1,
    ("connection.md", "Multiple tokens with folding"): 0,
    ("connection.md", "Multiple tokens with folding, LWS, and CRLF"): 0,
    ("connection.md", "Invalid whitespace token with `Connection` header field (lenient)"): 0,
    ("content-length.md", "Invalid whitespace token with `Content-Length` header field (lenient)"): 0,
    ("content-length.md",
     "No error on simultaneous `Content-Length` and `Transfer-Encoding: identity` (lenient)"): 0,
    ("content-length.md", "Missing CRLF-CRLF before body (lenient)"): 0,
    ("invalid.md", "Headers separated by dummy characters (lenient)"): 0,
    ("invalid.md", "Only LFs present (lenient)"): 0,
    ("invalid.md", "Spaces before headers (lenient)"): 0,
    ("lenient-header-value-relaxed.md", "Control char in header value (relaxed)"): 0,
    ("lenient-header-value-relaxed.md", "LF in header value should be rejected even with relaxed flag"): 0,
    ("lenient-header-value-relaxed.md",
     "CR without LF in header value should be rejected even with relaxed flag"): 0,
    ("lenient-header-value-relaxed.md", "Space after start line must still fail"): 0,
    ("lenient-headers.md", "Header value (lenient)"): 0,
    ("lenient-headers.md", "Second request header value (lenient)"): 1,
    ("lenient-headers.md", "Empty headers separated by CR (lenient)"): 0,
    ("lenient-version.md", "Invalid HTTP version (lenient)"): 0,
    ("sample.md", "Line folding in header value with CRLF"): 0,
    ("sample.md", "No LF after CR (lenient)"): 0,
    ("sample.md", "X-SSL-Nonsense"): 0,
    ("transfer-encoding.md", "POST with `Transfer-Encoding` and `Content-Length` (lenient)"): 0,
    ("transfer-encoding.md", "POST with `chunked` before other transfer-coding (lenient)"): 0,
    ("transfer-encoding.md", "POST with `chunked` and duplicate transfer-encoding (lenient)"): 0,
    ("transfer-encoding.md", "Invalid OBS fold after chunked value"): 0,
    ("transfer-encoding.md", "Chunk header not terminated by CRLF (lenient)"): 0,
    ("transfer-encoding.md", "Chunk data not terminated by CRLF (lenient)"): 0,
    ("transfer-encoding.md", "Space after chunk header (lenient)"): 0,
}

# Where this test deliberately expects something other than llhttp's
# verdict, and why (printed in the summary).
DELIBERATE_DIFFERENCES = [
    "HTTP/1.1 request without Host -> 400 + close: RFC 9112 3.2 'A server MUST respond with a 400 "
    "(Bad Request) status code to any HTTP/1.1 request message that lacks a Host header field'",
    "CONNECT -> 4xx/5xx + close: an origin server is not a tunnel; a 2xx to CONNECT means the "
    "connection became a tunnel (RFC 9110 9.3.6, RFC 9112 6.3), which this server does not do",
    "RTSP/ICE protocol or HTTP/0.9 (no version) -> 4xx/5xx + close: not HTTP/1.x "
    "(RFC 9112 2.3 HTTP-version = \"HTTP/\" DIGIT \".\" DIGIT)",
    "Transfer-Encoding with a coding other than chunked (deflate, chunked) -> 501/400 + close: RFC "
    "9112 6.1 'A server that receives a request message with a transfer coding it does not "
    "understand SHOULD respond with 501'",
    "Upgrade requests (llhttp pauses) -> 2xx or 101: RFC 9110 7.8 lets a server ignore Upgrade; the "
    "bytes after an upgrade request it ignored are read as HTTP (here: rejected, 4xx/5xx + close)",
    "request-target with characters RFC 3986 does not allow (\" | \\ # ...), asterisk-form with a "
    "method other than OPTIONS, or userinfo in an http URI -> 2xx or 400 + close: RFC 9112 3.2 lets "
    "a server reject an invalid request-line with 400, RFC 9110 4.2.4 says to treat userinfo as an "
    "error",
    "ANNOUNCE over HTTP/1.0 -> 2xx or 4xx/5xx + close: llhttp only knows ANNOUNCE for RTSP, but any "
    "token is an HTTP method (RFC 9110 9.1; 501 for an unknown one is also right)",
    "lenient cases: rejected where strict llhttp rejects them, including the ones RFC 9112 would "
    "let a server accept (obs-fold, bare CR as SP, bare LF, CTLs in values; see the unit test)",
]

HEAD_METHOD, CONNECT_METHOD, OPTIONS_METHOD = 2, 5, 6


# --------------------------------------------------------------------------
# Reading the corpus

def decode_input(block):
    """llhttp's test/md-test.ts input transformations, in its order, on bytes."""
    s = block[:-1] if block.endswith(b"\n") else block          # trailing newline
    s = re.sub(rb"\\(\r\n|\r|\n)", b"", s)                        # escaped newlines join lines
    s = re.sub(rb"\r\n|\r|\n", b"\r\n", s)                        # every newline is CRLF
    s = s.replace(b"\\r", b"\r").replace(b"\\n", b"\n").replace(b"\\t", b"\t").replace(b"\\f", b"\f")
    # \xNN is the character U+00NN of a JavaScript string, which llhttp's
    # runner sends UTF-8 encoded (its logged offsets show it): send the same.
    s = re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)).encode("utf-8"), s)
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
            cur = dict(begin=off, end=None, method=None, version=None, protocol="HTTP", url="",
                       headers=[], version_end=None, headers_done=False, complete=False)
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
            cur["end"] = off
        elif ev.startswith("error"):
            e = re.match(r'error code=(\d+) reason="(.*)"', ev)
            error = dict(off=off, code=int(e.group(1)), reason=e.group(2))
    return msgs, error


def strict_view(case, msgs):
    """A lenient case as strict llhttp sees it: the requests it completes,
    then the one it rejects (LENIENT_STRICT_STOP), and the error."""
    stop = LENIENT_STRICT_STOP[(case["file"], case["title"])]
    view = copy.deepcopy(msgs[:stop + 1])
    if len(view) > stop:
        view[stop]["complete"] = False
    return view, dict(off=None, code=None, reason=f"llhttp accepts it only as {case['meta']['type']}")


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


# Slot kinds, one per answer the server owes:
#   '2xx'      a 2xx
#   'reject'   a definite rejection: 4xx (not 408) or 501/505, Connection: close, at once
#   'either'   a 2xx or a definite rejection
#   'upgrade'  a 2xx, 101 or a definite rejection
#   'rest'     bytes after an upgrade request the server ignored: a definite
#              rejection, or 408 + close after the header timeout
#   'head'     an incomplete head: 408 + close after the header timeout
#   'body'     an incomplete body: 408 + close after the body timeout
TIMED = {"head": "header", "rest": "header", "body": "body"}


def plan(msgs, error, raw_len, hosted=frozenset()):
    """(slots, must_close): the answers the server owes for the case, and
    whether it must then close the connection by itself. `hosted`: indices
    of the requests a Host line was added to."""
    slots = []
    must_close = True
    for i, msg in enumerate(msgs):
        failing = error is not None and not msg["complete"]
        if not msg["headers_done"]:
            slots.append(("reject", error["reason"]) if failing else ("head", "incomplete head"))
            break
        has_host = i in hosted or bool(header_values(msg, "host"))
        kind, why = rfc_expectation(msg, has_host)
        if error is not None and error["code"] == 22 and msg["method"] != CONNECT_METHOD and msg["complete"] \
                and "upgrade" in tokens(msg, "connection"):
            if kind == "reject":
                slots.append((kind, why))
            else:
                slots.append(("upgrade", why or "Upgrade"))
                if msg["end"] is not None and msg["end"] < raw_len:
                    slots.append(("rest", "bytes after an upgrade request"))
                else:
                    must_close = False
            break
        if failing:
            slots.append(("reject", error["reason"]))
            break
        if not msg["complete"]:
            slots.append((kind, why) if kind == "reject" else ("body", "incomplete body"))
            break
        slots.append((kind, why))
        if kind == "reject" or closes_after(msg):
            break
    else:
        if error is not None:   # error after the last message began: the next (garbage) request
            slots.append(("reject", error["reason"]))
        else:
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
    return slots, must_close


def insert_host(raw, msgs):
    """(bytes, indices): the case with 'Host: llhttp' added after each HTTP/1.1
    request line that lacks Host, and which requests got one; None if none did.
    A request line followed by whitespace is left alone: the line after it
    would otherwise turn from whitespace after the start line into obs-fold."""
    out, last, hosted = b"", 0, set()
    for i, msg in enumerate(msgs):
        if msg["version_end"] is None or header_values(msg, "host") or msg["version"] not in (None, (1, 1)):
            continue
        at = msg["version_end"]
        if raw[at:at + 2] != b"\r\n" or raw[at + 2:at + 3] in (b" ", b"\t"):
            continue
        out += raw[last:at + 2] + b"Host: llhttp\r\n"
        last = at + 2
        hosted.add(i)
    return (out + raw[last:], frozenset(hosted)) if hosted else (None, None)


# --------------------------------------------------------------------------
# Talking to the server

class Response:
    def __init__(self, status, headers, start):
        self.status = status
        self.headers = headers
        self.start = start  # offset of its status line in the received bytes

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
        start, pos = pos, end + 4
        if 100 <= status < 200 and status != 101:
            continue  # interim response (e.g. 100 Continue)
        resp = Response(status, headers, start)
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


def exchange(port, raw, methods, expected, must_close, wait):
    """Send raw in one write and read until the server closes or `wait` s
    have passed (or, when no close is due, the expected answers are in and
    QUIET s pass). The client never half-closes. Returns (data, arrivals,
    ended): arrivals are (seconds since the send, bytes received so far);
    ended is 'FIN', 'RST' or 'open'."""
    data, arrivals, ended = b"", [], "open"
    with peerlib.RawSocket(port, timeout=CASE_WAIT) as s:
        t0 = time.monotonic()
        s.send(raw)  # False if it answered and closed before taking every byte: read what it said
        deadline = t0 + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            answered = not must_close and len(parse_responses(data, methods)[0]) >= expected
            try:
                chunk = s.recv_some(time.monotonic() + (min(QUIET, left) if answered else left))
            except socket.timeout:
                if answered:
                    break
                continue
            except ConnectionResetError:
                ended = "RST"
                break
            if not chunk:
                ended = "FIN"
                break
            data += chunk
            arrivals.append((time.monotonic() - t0, len(data)))
    return data, arrivals, ended


def arrival(resp, arrivals):
    """Seconds from the send to the chunk that brought the response's first byte."""
    return next(t for t, size in arrivals if size > resp.start)


def definite_rejection(r):
    """The README's answer to bad input: 4xx (408 is the timeout's) or 501/505, with close."""
    return ((400 <= r.status < 500 and r.status != 408) or r.status in (501, 505)) \
        and "close" in r.tokens("connection")


def judge(slots, must_close, responses, problem, arrivals, ended, timeouts):
    """List of failure strings (empty: pass)."""
    fails = []
    closed = ended != "open"
    for i, (kind, why) in enumerate(slots):
        owed = f"{kind}{', ' + why if why else ''}"
        if i >= len(responses):
            how = "closed without an answer" if closed else "still open, no answer"
            fails.append(f"request {i + 1}: {how} ({owed})" + (f"; {problem}" if problem else ""))
            return fails
        r = responses[i]
        at = arrival(r, arrivals)
        ok2xx = 200 <= r.status < 300
        rejected = definite_rejection(r)
        timeout = timeouts.get(TIMED.get(kind))
        timed_out = r.status == 408 and "close" in r.tokens("connection") and timeout is not None \
            and at >= TIMER_SLACK * timeout
        conn = "with" if "close" in r.tokens("connection") else "without"
        if kind == "2xx" and not ok2xx:
            fails.append(f"request {i + 1}: {r.status}, expected 2xx")
        elif kind == "reject" and not rejected:
            fails.append(f"request {i + 1}: {r.status} {conn} Connection: close after {at:.1f} s, "
                         f"expected 4xx/501/505 + close at once ({why})")
        elif kind == "either" and not (ok2xx or rejected):
            fails.append(f"request {i + 1}: {r.status} {conn} Connection: close, expected 2xx or "
                         f"4xx/501/505 + close ({why})")
        elif kind == "upgrade" and not (ok2xx or rejected or r.status == 101):
            fails.append(f"request {i + 1}: {r.status}, expected 2xx, 101 or 4xx/501/505 + close")
        elif kind == "rest" and not (rejected or timed_out):
            fails.append(f"request {i + 1}: {r.status} {conn} Connection: close after {at:.1f} s, "
                         f"expected 4xx/501/505 + close, or 408 + close after the header timeout "
                         f"({timeout:g} s)")
        elif kind in ("head", "body") and not timed_out:
            fails.append(f"request {i + 1}: {r.status} {conn} Connection: close after {at:.1f} s, "
                         f"expected 408 + close after the {TIMED[kind]} timeout ({timeout:g} s)")
        if r.status == 101:
            return fails  # the rest is not HTTP
        if r.status >= 400:
            if i + 1 < len(responses):
                fails.append(f"responses after {r.status}: {[x.status for x in responses[i + 1:]]}")
            elif not closed:
                fails.append(f"connection not closed after {r.status}")
            return fails
    if len(responses) > len(slots):
        fails.append(f"unexpected extra responses: {[r.status for r in responses[len(slots):]]}")
    if problem:
        fails.append(problem)
    if must_close and not closed:
        fails.append("the server did not close the connection by itself")
    if not must_close and closed:
        fails.append(f"the server closed a keep-alive connection ({ended})")
    return fails


def run_case(port, run, timeouts):
    """One exchange and its verdict: (ok, line to print, ended, statuses)."""
    slots, must_close = run["slots"], run["must_close"]
    timed = [timeouts[TIMED[k]] for k, _ in slots if k in TIMED]
    wait = CASE_WAIT + (max(timed) if timed else 0)
    data, arrivals, ended = exchange(port, run["raw"], run["methods"], len(slots), must_close, wait)
    responses, problem = parse_responses(data, run["methods"])
    fails = judge(slots, must_close, responses, problem, arrivals, ended, timeouts)
    want = ",".join(k for k, _ in slots) or "nothing"
    got = ",".join(f"{r.status}@{arrival(r, arrivals):.1f}s" for r in responses) or "-"
    line = (f"{'ok  ' if not fails else 'FAIL'} {run['name']}: want [{want}{' +close' if must_close else ''}] "
            f"got [{got}] conn {ended}" + ("" if not fails else "\n       " + "; ".join(fails)))
    return not fails, line, ended, [r.status for r in responses]


# --------------------------------------------------------------------------

def server_timeouts():
    """Server arguments and the header/body timeouts they give."""
    try:
        usage = subprocess.run([peerlib.server_binary(), "--help"], capture_output=True,
                               timeout=peerlib.scaled(10.0)).stdout
    except (OSError, subprocess.TimeoutExpired):
        usage = b""
    if b"--header-timeout" in usage and b"--body-timeout" in usage:
        ms = str(int(SHORT_TIMEOUT * 1000))
        return ["--header-timeout", ms, "--body-timeout", ms], dict(header=SHORT_TIMEOUT, body=SHORT_TIMEOUT)
    return [], dict(header=DEFAULT_HEADER_TIMEOUT, body=DEFAULT_BODY_TIMEOUT)


def build_runs():
    """The exchanges to make, in corpus order, and the cases skipped."""
    runs, skipped, unknown_lenient = [], [], []
    seen_lenient = set()
    for case in read_cases(CORPUS):
        key = (case["file"], case["title"])
        name = f"{case['file']}:{case['line']} {case['title']}"
        ctype = case["meta"].get("type", "")
        if "pause" in case["meta"]:
            continue  # llhttp's pause API; not counted
        if key in SKIPPED:
            skipped.append(f"{name}: {SKIPPED[key]}")
            continue
        msgs, error = parse_log(case["log"])
        if ctype == "request":
            group = "accepted" if not error else "handover" if error["code"] == 22 else "rejected"
        elif ctype.startswith("request-lenient-"):
            group = "lenient"
            seen_lenient.add(key)
            if key not in LENIENT_STRICT_STOP:
                unknown_lenient.append(name)
                continue
            msgs, error = strict_view(case, msgs)
        else:
            skipped.append(f"{name}: type {ctype} (llhttp_finish() at EOF, not bytes)")
            continue
        raw_len = len(case["raw"])
        slots, must_close = special_cases(case, *plan(msgs, error, raw_len))
        methods = [m["method"] for m in msgs]
        runs.append(dict(name=name, group=group, raw=case["raw"], methods=methods, slots=slots,
                         must_close=must_close))
        raw2, hosted = insert_host(case["raw"], msgs)
        if raw2 is not None:
            slots2, must_close2 = plan(msgs, error, raw_len, hosted)
            runs.append(dict(name=name + " [+Host]", group=group + "+Host", raw=raw2, methods=methods,
                             slots=slots2, must_close=must_close2))
    stale = [f"{f} / {t}" for f, t in LENIENT_STRICT_STOP if (f, t) not in seen_lenient]
    return runs, skipped, unknown_lenient, stale


def main():
    if not os.path.isdir(CORPUS):
        print(f"FAIL - corpus not found: {CORPUS} (shared/ must sit next to the repo)")
        sys.exit(2)
    runs, skipped, unknown_lenient, stale = build_runs()
    timeout_args, timeouts = server_timeouts()
    server = peerlib.Server("--threads", "2", *timeout_args).start()
    timed_runs = sum(1 for r in runs if any(k in TIMED for k, _ in r["slots"]))
    print(f"{len(runs)} exchanges; {timed_runs} end in an incomplete request and wait for the server's "
          f"timeout (header {timeouts['header']:g} s, body {timeouts['body']:g} s"
          f"{'' if timeout_args else ': httpkit-server has no option to shorten them'}), in parallel",
          flush=True)

    # In parallel, so that the exchanges waiting for a server timeout overlap.
    workers = max(8, timed_runs + 4)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda r: run_case(server.port, r, timeouts), runs))

    stats = Counter()
    failed, closes, rejections, timed_out = [], Counter(), Counter(), []
    for run, (ok, line, ended, statuses) in zip(runs, results):
        print(line)
        stats[(run["group"], ok)] += 1
        if not ok:
            failed.append(run["name"])
        closes[ended] += 1
        rejections.update(s for s in statuses if s >= 400 and s != 408)
        if 408 in statuses:
            timed_out.append(run["name"])

    alive = server.alive()
    rc = server.stop()  # its output is complete once it has exited
    report = server.sanitizer_report()
    if failed or not alive or report:
        print("--- server output (tail) ---\n" + (report or server.output_tail()))
    print()
    print("Deliberate differences from llhttp's verdicts:")
    for d in DELIBERATE_DIFFERENCES:
        print(f"  - {d}")
    print("Skipped:")
    for s in skipped:
        print(f"  - {s}")
    for group, what in (("accepted", "Strict cases llhttp accepts"),
                        ("handover", "Strict, llhttp hands over (Upgrade)"),
                        ("rejected", "Strict cases llhttp rejects"),
                        ("lenient", "Lenient cases (strict llhttp rejects)")):
        print(f"{what + ':':40s} {stats[(group, True)]:3d} answered as required, {stats[(group, False)]} not;"
              f" with Host added: {stats[(group + '+Host', True)]} as required, "
              f"{stats[(group + '+Host', False)]} not")
    print(f"Definite rejections (4xx/501/505 + Connection: close): {sum(rejections.values())} "
          f"({', '.join(f'{s} x{n}' for s, n in sorted(rejections.items()))})")
    print(f"Incomplete requests answered 408 + close by the server's timeout: {len(timed_out)}")
    for n in timed_out:
        print(f"  - {n}")
    print(f"Connections closed by the server: {closes['FIN']} with FIN, {closes['RST']} with RST; "
          f"left open (keep-alive): {closes['open']}")
    ok = not failed and alive and rc == 0 and not report and not unknown_lenient and not stale
    for n in unknown_lenient:
        print(f"FAIL - lenient case without a strict stop point (add it to LENIENT_STRICT_STOP): {n}")
    for n in stale:
        print(f"FAIL - LENIENT_STRICT_STOP names no lenient case: {n}")
    print(f"server alive and serving after all cases: {alive}; exit status after SIGTERM: {rc}; "
          f"sanitizer report: {'yes' if report else 'none'}")
    if failed:
        print(f"FAILED llhttp_live_test: {len(failed)} exchanges:")
        for n in failed:
            print(f"  - {n}")
    print("PASS llhttp_live_test" if ok else "FAILED llhttp_live_test")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
