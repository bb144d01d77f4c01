#!/usr/bin/python3
"""Malformed WebSocket frames and handshakes, sent raw to httpkit-server's /ws.

One connection per case. Each case asserts the exact close code of the
server's close frame (RFC 6455 §7.4.1) and that the server then closes the
TCP connection. Then the handshake failures, and finally that the server is
still alive and echoes.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import peerlib  # noqa: E402
from rawws import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT,  # noqa: E402
                   RawWebSocket, close_payload, frame, handshake_request)

PROTOCOL_ERROR, INVALID_PAYLOAD, MESSAGE_TOO_BIG = 1002, 1007, 1009
MAX_WS = 4 << 20  # the server's default max_ws

checks = peerlib.Checks("ws_malformed")

# name -> (expected close code, the bytes to send after the handshake)
FRAME_CASES = {
    "unmasked client frame": (PROTOCOL_ERROR, frame(OP_TEXT, b"hello", mask=False)),
    **{f"reserved opcode 0x{op:X}": (PROTOCOL_ERROR, frame(op, b"x"))
       for op in (0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF)},
    "fragmented control frame (ping, FIN=0)": (PROTOCOL_ERROR, frame(OP_PING, b"p", fin=False)),
    "ping with a 126-byte payload": (PROTOCOL_ERROR, frame(OP_PING, b"p" * 126)),
    "close with a 126-byte payload": (PROTOCOL_ERROR,
                                      frame(OP_CLOSE, close_payload(1000, b"r" * 124))),
    "RSV1 without negotiated deflate": (PROTOCOL_ERROR, frame(OP_TEXT, b"x", rsv=0b100)),
    "RSV2": (PROTOCOL_ERROR, frame(OP_TEXT, b"x", rsv=0b010)),
    "RSV3": (PROTOCOL_ERROR, frame(OP_TEXT, b"x", rsv=0b001)),
    "continuation without a started message": (PROTOCOL_ERROR, frame(OP_CONT, b"x")),
    "new text frame inside a fragmented message": (
        PROTOCOL_ERROR, frame(OP_TEXT, b"a", fin=False) + frame(OP_TEXT, b"b")),
    "new binary frame inside a fragmented message": (
        PROTOCOL_ERROR, frame(OP_BINARY, b"a", fin=False) + frame(OP_BINARY, b"b")),
    "invalid UTF-8 in a text message (0xFF)": (INVALID_PAYLOAD, frame(OP_TEXT, b"ok\xff")),
    "overlong UTF-8 encoding": (INVALID_PAYLOAD, frame(OP_TEXT, b"\xc0\xaf")),
    "UTF-8 encoded surrogate": (INVALID_PAYLOAD, frame(OP_TEXT, b"\xed\xa0\x80")),
    "code point past U+10FFFF": (INVALID_PAYLOAD, frame(OP_TEXT, b"\xf4\x90\x80\x80")),
    "invalid UTF-8 split across fragments": (
        INVALID_PAYLOAD,
        # Fragment 1 ends in the first byte of κ (valid so far); fragment 2
        # goes on with a byte that cannot continue it.
        frame(OP_TEXT, b"hello \xce", fin=False) + frame(OP_CONT, b"A world")),
    "truncated UTF-8 at the end of a message": (INVALID_PAYLOAD, frame(OP_TEXT, b"euro \xe2\x82")),
    "truncated UTF-8 at the end of a fragmented message": (
        INVALID_PAYLOAD, frame(OP_TEXT, b"euro ", fin=False) + frame(OP_CONT, b"\xe2\x82")),
    "non-minimal 16-bit length": (PROTOCOL_ERROR, frame(OP_TEXT, b"short", length_form=16)),
    "non-minimal 64-bit length": (PROTOCOL_ERROR, frame(OP_BINARY, b"b" * 200, length_form=64)),
    "64-bit length with the MSB set": (PROTOCOL_ERROR,
                                       frame(OP_BINARY, b"", length=(1 << 63) | 16)[:14]),
    "oversized message announced in the header (4 MiB + 1)": (
        MESSAGE_TOO_BIG, frame(OP_BINARY, b"", length=MAX_WS + 1)[:14]),
    "oversized fragmented message (3 MiB, then 2 MiB announced)": (
        MESSAGE_TOO_BIG,
        frame(OP_BINARY, b"\x00" * (3 << 20), fin=False)
        + frame(OP_CONT, b"", length=2 << 20)[:14]),
    "close frame with a 1-byte payload": (PROTOCOL_ERROR, frame(OP_CLOSE, b"\x03")),
    **{f"close with invalid code {code}": (PROTOCOL_ERROR, frame(OP_CLOSE, close_payload(code)))
       for code in (0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 5000, 65535)},
    "close with an invalid UTF-8 reason": (INVALID_PAYLOAD,
                                           frame(OP_CLOSE, close_payload(1000, b"bad \xff"))),
}


def frame_case(port, name, expected, data):
    ws = RawWebSocket(port)
    try:
        ws.send(data)
        code, reason, _ = ws.read_until_close()
        checks.check(f"{name}: close {expected}", code == expected,
                     f"got {code} {reason!r}" if code != expected else repr(reason))
        checks.check(f"{name}: then the server closes the connection", ws.closed_by_peer())
    finally:
        ws.close()


def valid_control_between_fragments(port):
    """Sanity: a ping between two fragments is answered and the message
    still arrives whole (§5.4), so the cases above fail for their defect."""
    ws = RawWebSocket(port)
    try:
        ws.send(frame(OP_TEXT, b"frag", fin=False) + frame(OP_PING, b"mid")
                + frame(OP_CONT, b"mented \xce", fin=False) + frame(OP_CONT, b"\xba"))
        got = [ws.read_frame(), ws.read_frame()]
        checks.check("ping between fragments: pong with the payload",
                     (True, OP_PONG, b"mid") in got, repr(got))
        checks.check("ping between fragments: message reassembled (UTF-8 split at a fragment)",
                     (True, OP_TEXT, "fragmented κ".encode()) in got, repr(got))
        ws.send(frame(OP_CLOSE, close_payload(4000, b"done")))
        code, _, _ = ws.read_until_close()
        checks.check("client close 4000: echoed", code == 4000, str(code))
        checks.check("client close 4000: then the server closes", ws.closed_by_peer())
    finally:
        ws.close()


def handshake(port, **kwargs):
    request, _ = handshake_request(port, **kwargs)
    with peerlib.RawSocket(port, timeout=peerlib.scaled(5.0)) as s:
        s.send(request)
        return s.read_head()


def handshake_cases(port):
    status, headers = handshake(port, version="8")
    checks.check("version 8: 426", status == 426, str(status))
    checks.check("version 8: answer names Sec-WebSocket-Version: 13",
                 headers.get("sec-websocket-version") == "13", repr(headers))
    for key in ("dG9vIHNob3J0", "not base64 at all!!!!!!!", ""):
        status, _ = handshake(port, key=key)
        checks.check(f"bad key {key!r}: 400", status == 400, str(status))
    status, headers = handshake(port, upgrade=False)
    checks.check("no Upgrade header: a plain HTTP answer, not 101",
                 status is not None and status != 101,
                 f"status {status}" + (" (no answer in 5 s)" if status is None else ""))
    status, _ = handshake(port, connection=None)
    checks.check("no Connection: upgrade: 400", status == 400, str(status))
    status, _ = handshake(port, method="POST")
    checks.check("POST upgrade: 400", status == 400, str(status))
    status, _ = handshake(port, http="HTTP/1.0")
    checks.check("HTTP/1.0 upgrade: 400", status == 400, str(status))


def still_echoes(port):
    ws = RawWebSocket(port)
    try:
        ws.send(frame(OP_TEXT, b"still alive"))
        got = ws.read_frame()
        checks.check("after all cases: the server still echoes", got == (True, OP_TEXT,
                                                                        b"still alive"), repr(got))
        ws.send(frame(OP_CLOSE, close_payload(1000)))
        code, _, _ = ws.read_until_close()
        checks.check("after all cases: clean close", code == 1000, str(code))
    finally:
        ws.close()


def main():
    server = peerlib.Server().start()
    for name, (expected, data) in FRAME_CASES.items():
        try:
            frame_case(server.port, name, expected, data)
        except Exception as e:  # one broken case must not hide the others
            checks.check(f"{name}: ran", False, f"{type(e).__name__}: {e}")
    valid_control_between_fragments(server.port)
    handshake_cases(server.port)
    still_echoes(server.port)
    checks.check("server still answers HTTP", server.alive())
    status = server.stop()
    checks.check("server exits 0 on SIGTERM", status == 0, str(status))


if __name__ == "__main__":
    peerlib.run(main, checks)
