"""Shared helpers for the TLS peer tests (run with /usr/bin/python3).

- make_certs(): the test CA and leaves of scripts/lib/certs.sh in a temporary
  directory (removed at exit).
- TLSServer: httpkit-server with --tls-cert/--tls-key on --port 0 (HTTPS on
  that port), started and probed over TLS, stopped by PID at exit.
- client_context(): an ssl client context trusting the test CA.
- Tls13Conn: a TLS 1.3 connection whose handshake OpenSSL (ssl.SSLObject over
  memory BIOs) does, and whose records after the handshake this file
  protects itself from the traffic secrets (RFC 8446 §5.2, §7.1-7.3, via the
  key log), so a test can send what no TLS library sends: alerts mid-request,
  KeyUpdate floods, corrupted tags, oversized or replayed records.
"""

import atexit
import hashlib
import hmac
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import peerlib  # noqa: E402

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305  # noqa: E402

REPO_ROOT = peerlib.REPO_ROOT
scaled = peerlib.scaled


def make_certs():
    """Directory with ca.pem, localhost-ec.pem/.key, localhost-rsa, sni, other,
    client, expired, untrusted (scripts/lib/certs.sh)."""
    d = tempfile.mkdtemp(prefix="httpkit-tls-certs-")
    atexit.register(shutil.rmtree, d, True)
    subprocess.run(["bash", "-c", 'source "$0"; make_test_certs "$1"',
                    os.path.join(REPO_ROOT, "scripts", "lib", "certs.sh"), d], check=True)
    return d


def server_help():
    try:
        return subprocess.run([peerlib.server_binary(), "--help"], capture_output=True,
                              text=True, timeout=10).stdout
    except OSError:
        return ""


def has_option(name):
    return re.search(r"(^|[\s,])" + re.escape(name) + r"\b", server_help()) is not None


def client_context(certs, alpn=("http/1.1",), **kw):
    ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def tls_status(port, ctx, host="localhost", timeout=3.0):
    """Status code of GET / (Connection: close) over a fresh TLS connection, or None."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: " + host.encode() + b"\r\nConnection: close\r\n\r\n")
                data = b""
                while b"\r\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                parts = data.split(b" ", 2)
                return int(parts[1]) if len(parts) >= 2 and parts[0].startswith(b"HTTP/") else None
    except (OSError, ValueError, ssl.SSLError):
        return None


class TLSServer(peerlib.Server):
    """httpkit-server whose --port is HTTPS: certs' localhost-ec unless the
    args name a --tls-cert themselves."""

    def __init__(self, certs, *args):
        args = list(args)
        if "--tls-cert" not in args:
            args = ["--tls-cert", os.path.join(certs, "localhost-ec.pem"),
                    "--tls-key", os.path.join(certs, "localhost-ec.key"), *args]
        super().__init__(*args)
        self.certs = certs
        self.ctx = client_context(certs)

    def probe(self, timeout=3.0):
        return tls_status(self.port, self.ctx, timeout=timeout)


class HealthyClient:
    """One TLS keep-alive connection that must keep being served while the
    hostile cases run: get() sends a GET and reads its 200 and full body."""

    def __init__(self, port, certs):
        self.port = port
        self.ctx = client_context(certs)
        raw = socket.create_connection(("127.0.0.1", port), timeout=scaled(5.0))
        self.sock = self.ctx.wrap_socket(raw, server_hostname="localhost")
        self.buf = b""
        self.served = 0

    def _fill(self, marker=None, n=None):
        while (marker is not None and marker not in self.buf) or (n is not None and len(self.buf) < n):
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("healthy connection closed by the server")
            self.buf += chunk

    def get(self, length=100):
        self.sock.sendall(f"GET /?length={length} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        self._fill(marker=b"\r\n\r\n")
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status = int(head.split(b" ", 2)[1])
        m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        n = int(m.group(1)) if m else 0
        self._fill(n=n)
        body, self.buf = self.buf[:n], self.buf[n:]
        ok = status == 200 and body == peerlib.expected_body(length)
        if ok:
            self.served += 1
        return ok

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# --- a TLS 1.3 record layer of our own (RFC 8446), for crafted records ------

CT_CHANGE_CIPHER_SPEC, CT_ALERT, CT_HANDSHAKE, CT_APPLICATION_DATA = 20, 21, 22, 23
HS_NEW_SESSION_TICKET, HS_KEY_UPDATE = 4, 24

SUITES = {
    "TLS_AES_128_GCM_SHA256": (AESGCM, 16, hashlib.sha256),
    "TLS_AES_256_GCM_SHA384": (AESGCM, 32, hashlib.sha384),
    "TLS_CHACHA20_POLY1305_SHA256": (ChaCha20Poly1305, 32, hashlib.sha256),
}


def hkdf_expand_label(hash_fn, secret, label, context, length):
    full = b"tls13 " + label
    info = struct.pack(">HB", length, len(full)) + full + bytes([len(context)]) + context
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(secret, block + info + bytes([i]), hash_fn).digest()
        out += block
        i += 1
    return out[:length]


class Direction:
    """Keys, IV and sequence number of one direction (RFC 8446 §5.3, §7.3)."""

    def __init__(self, suite, secret):
        self.aead_cls, self.key_len, self.hash_fn = SUITES[suite]
        self.set_secret(secret)

    def set_secret(self, secret):
        self.secret = secret
        self.aead = self.aead_cls(hkdf_expand_label(self.hash_fn, secret, b"key", b"", self.key_len))
        self.iv = hkdf_expand_label(self.hash_fn, secret, b"iv", b"", 12)
        self.seq = 0

    def update(self):  # §7.2: application_traffic_secret_N+1
        n = self.hash_fn().digest_size
        self.set_secret(hkdf_expand_label(self.hash_fn, self.secret, b"traffic upd", b"", n))

    def nonce(self):
        return bytes(a ^ b for a, b in zip(self.iv, self.seq.to_bytes(12, "big")))

    def seal(self, content_type, data, padding=0):
        inner = data + bytes([content_type]) + b"\x00" * padding
        header = struct.pack(">BHH", CT_APPLICATION_DATA, 0x0303, len(inner) + 16)
        record = header + self.aead.encrypt(self.nonce(), inner, header)
        self.seq += 1
        return record

    def open(self, header, body):
        inner = self.aead.decrypt(self.nonce(), body, header)
        self.seq += 1
        i = len(inner)
        while i > 0 and inner[i - 1] == 0:
            i -= 1
        if i == 0:
            raise ValueError("record without a content type")
        return inner[i - 1], inner[:i - 1]


class Tls13Conn:
    """TLS 1.3 to 127.0.0.1:port: OpenSSL shakes hands, then we hold the keys.

    send_record(ct, data) protects and sends one record; raw(bytes) sends bytes
    as they are; recv_app() returns decrypted application data (and handles
    the server's NewSessionTicket and KeyUpdate messages); closed() tells how
    the server ended the connection."""

    def __init__(self, port, certs, host="localhost", timeout=None):
        self.timeout = scaled(5.0) if timeout is None else timeout
        self.keylog = tempfile.NamedTemporaryFile(prefix="httpkit-keylog-", delete=False)
        self.keylog.close()
        atexit.register(lambda p=self.keylog.name: os.path.exists(p) and os.unlink(p))
        ctx = client_context(certs)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.keylog_filename = self.keylog.name
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.incoming, self.outgoing, server_hostname=host)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=self.timeout)
        self.alerts = []  # (level, description) the server sent
        self.app_data = b""  # every byte of application data the server sent
        self.buf = b""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                if time.monotonic() > deadline:
                    raise TimeoutError("handshake")
                data = self.sock.recv(65536)
                if not data:
                    raise EOFError("server closed during the handshake")
                self.incoming.write(data)
        self._flush()
        if self.incoming.pending:
            raise RuntimeError("server bytes left over after the handshake")
        suite = self.obj.cipher()[0]
        secrets = {}
        with open(self.keylog.name) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3:
                    secrets[parts[0]] = bytes.fromhex(parts[2])
        os.unlink(self.keylog.name)
        self.suite = suite
        self.tx = Direction(suite, secrets["CLIENT_TRAFFIC_SECRET_0"])
        self.rx = Direction(suite, secrets["SERVER_TRAFFIC_SECRET_0"])

    def _flush(self):
        out = self.outgoing.read()
        if out:
            self.sock.sendall(out)

    def raw(self, data):
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def send_record(self, content_type, data, padding=0):
        return self.raw(self.tx.seal(content_type, data, padding))

    def send_app(self, data):
        ok = True
        for i in range(0, len(data), 16384):
            ok = self.send_record(CT_APPLICATION_DATA, data[i:i + 16384]) and ok
        return ok

    def key_update(self, requested=False):
        """Sends KeyUpdate and moves to the next client secret."""
        ok = self.send_record(CT_HANDSHAKE, bytes([HS_KEY_UPDATE, 0, 0, 1, 1 if requested else 0]))
        self.tx.update()
        return ok

    def _read_record(self, deadline):
        while len(self.buf) < 5 or len(self.buf) < 5 + struct.unpack(">H", self.buf[3:5])[0]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no record before the deadline")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        n = struct.unpack(">H", self.buf[3:5])[0]
        header, body, self.buf = self.buf[:5], self.buf[5:5 + n], self.buf[5 + n:]
        return header, body

    def recv_app(self, want=None, timeout=None):
        """Application data until `want` (bytes) is in it, or one record's worth
        when want is None. Raises EOFError when the server closes (its alerts
        are in self.alerts)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        data = b""
        while True:
            header, body = self._read_record(deadline)
            if header[0] == CT_CHANGE_CIPHER_SPEC:
                continue
            if header[0] == CT_ALERT:  # a plaintext alert (the server failed to decrypt, say)
                self.alerts.append(tuple(body[:2]))
                continue
            ct, plain = self.rx.open(header, body)
            if ct == CT_ALERT:
                self.alerts.append(tuple(plain[:2]))
                continue
            if ct == CT_HANDSHAKE:
                while plain:
                    kind, length = plain[0], int.from_bytes(plain[1:4], "big")
                    if kind == HS_KEY_UPDATE:
                        self.rx.update()
                    plain = plain[4 + length:]
                continue
            if ct == CT_APPLICATION_DATA:
                self.app_data += plain
                data += plain
                if want is None or want in data:
                    return data

    def request(self, target="/", extra=b"", timeout=None):
        """Sends GET target and returns (status, body) of the answer."""
        self.send_app(f"GET {target} HTTP/1.1\r\nHost: localhost\r\n".encode() + extra + b"\r\n")
        data = self.recv_app(b"\r\n\r\n", timeout)
        head, rest = data.split(b"\r\n\r\n", 1)
        m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        n = int(m.group(1)) if m else 0
        while len(rest) < n:
            rest += self.recv_app(None, timeout)
        return int(head.split(b" ", 2)[1]), rest[:n]

    def closed(self, timeout=None):
        """(True, how) once the server closes, reading and decrypting what
        comes before (its alerts are kept); (False, why) otherwise."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        try:
            while True:
                self.recv_app(b"\x00never\x00", max(0.01, deadline - time.monotonic()))
        except EOFError:
            return True, "FIN" + (f" after alerts {self.alerts}" if self.alerts else "")
        except (ConnectionResetError, BrokenPipeError):
            return True, "RST" + (f" after alerts {self.alerts}" if self.alerts else "")
        except socket.timeout:
            return False, f"still open after {timeout if timeout is not None else self.timeout}s"
        except Exception as e:  # noqa: BLE001 - a record we cannot open: not a close
            return False, f"{type(e).__name__}: {e}"

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
