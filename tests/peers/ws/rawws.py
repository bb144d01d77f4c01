"""A raw-socket WebSocket client for tests that must send what no library
will: every byte of every frame is ours (RFC 6455 §5.2)."""

import base64
import hashlib
import os
import socket
import struct
import time

from peerlib import RawSocket, scaled  # the importer puts tests/peers on sys.path

# How long a read waits for the server, scaled for a sanitized server.
IO_TIMEOUT = scaled(5.0)

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def frame(opcode, payload=b"", fin=True, rsv=0, mask=True, length=None, length_form=None):
    """One frame. `rsv` is the three RSV bits (0b100 = RSV1). `length` lies
    about the payload length; `length_form` (7, 16 or 64) forces an encoding,
    minimal or not."""
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    form = length_form or (7 if n < 126 else 16 if n <= 0xFFFF else 64)
    mask_bit = 0x80 if mask else 0
    if form == 7:
        head += bytes([mask_bit | n])
    elif form == 16:
        head += bytes([mask_bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + reason


def handshake_request(port, key=None, extra=None, method="GET", version="13", upgrade=True,
                      connection="Upgrade", http="HTTP/1.1", path="/ws"):
    key = key if key is not None else base64.b64encode(os.urandom(16)).decode()
    lines = [f"{method} {path} {http}", f"Host: 127.0.0.1:{port}"]
    if upgrade:
        lines.append("Upgrade: websocket")
    if connection:
        lines.append(f"Connection: {connection}")
    lines += [f"Sec-WebSocket-Key: {key}", f"Sec-WebSocket-Version: {version}"]
    lines += extra or []
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), key


def expected_accept(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


class RawWebSocket(RawSocket):
    """A RawSocket (peerlib) that has done the opening handshake."""

    def __init__(self, port, extensions=None, timeout=IO_TIMEOUT):
        super().__init__(port, timeout=timeout)
        extra = [f"Sec-WebSocket-Extensions: {extensions}"] if extensions else []
        request, key = handshake_request(port, extra=extra)
        self.send(request)
        status, headers = self.read_head(timeout)
        if status != 101 or headers.get("sec-websocket-accept") != expected_accept(key):
            raise RuntimeError(f"handshake failed: {status} {headers}")
        self.headers = headers

    def read_frame(self, timeout=IO_TIMEOUT):
        """(fin, opcode, payload) of the next server frame."""
        deadline = time.monotonic() + timeout
        self.fill(2, deadline)
        b0, b1 = self.buffer[0], self.buffer[1]
        if b1 & 0x80:
            raise RuntimeError("the server masked a frame")
        n, pos = b1 & 0x7F, 2
        if n == 126:
            self.fill(4, deadline)
            n, pos = struct.unpack("!H", self.buffer[2:4])[0], 4
        elif n == 127:
            self.fill(10, deadline)
            n, pos = struct.unpack("!Q", self.buffer[2:10])[0], 10
        self.fill(pos + n, deadline)
        payload = self.buffer[pos:pos + n]
        self.buffer = self.buffer[pos + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def read_until_close(self, timeout=IO_TIMEOUT):
        """The server's close frame as (code or None, reason bytes), with the
        frames before it; (None, None) when the connection ended without one."""
        deadline = time.monotonic() + timeout
        before = []
        try:
            while True:
                fin, opcode, payload = self.read_frame(max(0.01, deadline - time.monotonic()))
                if opcode == OP_CLOSE:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                    return code, payload[2:], before
                before.append((fin, opcode, payload))
        except (EOFError, ConnectionResetError, socket.timeout, OSError):
            return None, None, before

    def closed_by_peer(self, timeout=IO_TIMEOUT):
        """True once the server closes the TCP connection (EOF or reset)."""
        return super().closed_by_peer(timeout)[0]
