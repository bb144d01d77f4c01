#!/usr/bin/python3
"""Bad TLS input against httpkit-server's HTTPS port, each case answered and
contained while a healthy keep-alive TLS connection (and fresh ones) keep
being served.

Cases: garbage and truncated ClientHellos, an oversized record header, a
stalled handshake (closed by the handshake timeout), a silent connection,
plain HTTP on the TLS port (400 and close), alerts mid-request (fatal,
close_notify, a plaintext one), a corrupted tag, a replayed record, an
oversized and an empty inner plaintext, KeyUpdates (a few, one requested,
answered by the server's own; a bad one; a flood), floods of 16 KB records
into the request size limits (413, 431) with the server's RSS bounded,
records that bring no request bytes (idle and body deadlines run on).
The records after the handshake are made by tlslib.Tls13Conn from the traffic
secrets, so the test sends what no TLS library would.
Run with /usr/bin/python3; HTTPKIT_BIN_DIR points at the built httpkit-server.
"""

import os
import random
import select
import socket
import ssl
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tlslib  # noqa: E402
from tlslib import peerlib, scaled  # noqa: E402

checks = peerlib.Checks("hostile_tls")
MIB = 1 << 20
HANDSHAKE_TIMEOUT_MS = 1500
# Against the ASan server (waits scaled), freed memory sits in ASan's
# quarantine (256 MiB by default) and RSS says little: the bounds widen to
# that, and LeakSanitizer at exit is the check.
RSS_SLACK = 1 if peerlib.TIMEOUT_SCALE <= 1 else 16


def handshake_timeout_option():
    """The server's flag for the handshake timeout (ms), from its --help."""
    for name in ("--tls-handshake-timeout", "--handshake-timeout"):
        if tlslib.has_option(name):
            return name
    return None


def client_hello(host="localhost"):
    """The bytes of a real ClientHello record (OpenSSL's, via memory BIOs)."""
    ctx = tlslib.client_context(CERTS)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=host)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def raw(port, timeout=None):
    return peerlib.RawSocket(port, timeout=timeout)


def contained(what):
    """The healthy connection and a fresh one are still served."""
    try:
        ok = HEALTHY.get(length=1000)
    except Exception as e:  # noqa: BLE001
        ok, what = False, f"{what}: {type(e).__name__}: {e}"
    checks.check(f"[{what}] the held keep-alive TLS connection is still served", ok)
    status = tlslib.tls_status(PORT, CTX)
    checks.check(f"[{what}] a new TLS connection is served", status == 200, f"status {status}")


def closed_raw(s, what, timeout=None):
    """The server closes s (it may send an alert first: a 0x15 record)."""
    wait = scaled(5.0) if timeout is None else timeout
    got = b""
    deadline = time.monotonic() + wait
    how = f"still open after {wait}s"
    try:
        while True:
            chunk = s.recv_some(deadline)
            if not chunk:
                how = "FIN"
                break
            got += chunk
    except socket.timeout:
        how = f"still open after {wait}s"
    except (ConnectionResetError, OSError):
        how = "RST"
    closed = how in ("FIN", "RST")
    alert = f", after {len(got)} bytes (first {got[:7].hex()})" if got else ""
    checks.check(f"[{what}] the server closes the connection", closed, how + alert)
    if got:
        checks.check(f"[{what}] what it sent first is a TLS alert record", got[0] == 0x15,
                     got[:16].hex())
    return closed


# --- before and during the handshake ---------------------------------------

def case_garbage_client_hello():
    rng = random.Random(11)
    body = bytes(rng.getrandbits(8) for _ in range(2000))
    with raw(PORT) as s:
        s.send(b"\x16\x03\x01" + struct.pack(">H", len(body)) + body)
        closed_raw(s, "random bytes in a handshake record")
    contained("garbage ClientHello")
    # A ClientHello message header whose contents are random.
    inner = b"\x01" + (1996).to_bytes(3, "big") + b"\x03\x03" + bytes(rng.getrandbits(8) for _ in range(1994))
    with raw(PORT) as s:
        s.send(b"\x16\x03\x01" + struct.pack(">H", len(inner)) + inner)
        closed_raw(s, "a ClientHello of random fields")
    contained("ClientHello of random fields")
    # Random bytes starting 0x16 without any record structure.
    with raw(PORT) as s:
        s.send(b"\x16" + bytes(rng.getrandbits(8) for _ in range(300)))
        closed_raw(s, "0x16 then noise")
    contained("0x16 then noise")


def case_truncated_client_hello():
    hello = client_hello()
    with raw(PORT) as s:
        s.send(hello[: len(hello) // 2])
        s.sock.shutdown(socket.SHUT_WR)
        closed_raw(s, "half a ClientHello, then FIN", timeout=scaled(3.0))
    contained("truncated ClientHello")
    # A ClientHello whose inner length says more than its record holds.
    body = hello[5:]
    lie = body[:1] + (len(body) + 500).to_bytes(3, "big") + body[4:]
    with raw(PORT) as s:
        s.send(hello[:5] + lie)
        s.sock.shutdown(socket.SHUT_WR)
        closed_raw(s, "ClientHello longer than its record, then FIN", timeout=scaled(3.0))
    contained("ClientHello longer than its record")


def case_oversized_record_header():
    with raw(PORT) as s:
        s.send(b"\x16\x03\x01\xff\xff" + b"\x01" * 100)
        closed_raw(s, "a handshake record claiming 65535 bytes")
    contained("oversized record header")


def case_stalled_handshake():
    option = handshake_timeout_option()
    limit = HANDSHAKE_TIMEOUT_MS / 1000 if option else 10.0
    hello = client_hello()
    start = time.monotonic()
    with raw(PORT, timeout=scaled(limit + 5)) as s, raw(PORT, timeout=scaled(limit + 5)) as silent:
        s.send(hello[: len(hello) // 2])
        ok = closed_raw(s, f"half a ClientHello, then nothing ({limit:.1f} s timeout)",
                        timeout=scaled(limit + 5))
        took = time.monotonic() - start
        if ok:
            checks.check("[stalled handshake] closed no earlier than the handshake timeout",
                         took >= limit * 0.8, f"after {took:.2f}s")
            checks.check("[stalled handshake] closed within the handshake timeout (+ slack)",
                         took <= scaled(limit + 3), f"after {took:.2f}s")
        # A connection that never sent a byte is closed by then too.
        closed_raw(silent, "a connection that sends nothing", timeout=scaled(3.0))
    contained("stalled handshake")


def case_plain_http():
    with raw(PORT) as s:
        s.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        status, headers = s.read_head()
        checks.check("[plain HTTP on the TLS port] answered 400", status == 400, f"status {status}")
        checks.check("[plain HTTP on the TLS port] with Connection: close",
                     headers.get("connection", "").lower() == "close", repr(headers.get("connection")))
        closed, how = s.closed_by_peer(timeout=scaled(3.0))
        checks.check("[plain HTTP on the TLS port] then closed", closed, how)
    # Plain HTTP in pieces: the first bytes alone are no request yet.
    with raw(PORT) as s:
        s.send(b"GE")
        time.sleep(0.2)
        s.send(b"T /?length=5 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        status, _ = s.read_head()
        checks.check("[plain HTTP in two pieces] answered 400", status == 400, f"status {status}")
    contained("plain HTTP on the TLS port")


# --- after the handshake: records of our own --------------------------------

def conn():
    return tlslib.Tls13Conn(PORT, CERTS)


def closed_tls(c, what, timeout=None):
    closed, how = c.closed(scaled(5.0) if timeout is None else timeout)
    checks.check(f"[{what}] the server closes the connection", closed, how)
    return closed


PARTIAL = b"GET /?length=10 HTTP/1.1\r\nHost: localhost\r\n"


def case_our_record_layer_works():
    """The crafted-record machinery itself against the server: a normal request."""
    c = conn()
    status, body = c.request("/?length=77")
    checks.check(f"[own record layer, {c.suite}] GET answered 200 with the body",
                 status == 200 and body == peerlib.expected_body(77), f"status {status}")
    # A request split over many tiny records, with padding.
    req = b"GET /?length=9 HTTP/1.1\r\nHost: localhost\r\n\r\n"
    for i in range(len(req)):
        c.send_record(tlslib.CT_APPLICATION_DATA, req[i:i + 1], padding=i % 7)
    data = c.recv_app(b"\r\n\r\n" + peerlib.expected_body(9))
    checks.check("[own record layer] a request one byte per record (padded) is answered 200",
                 data.startswith(b"HTTP/1.1 200"), data[:40])
    # Zero-length application data records are allowed (RFC 8446 5.4 only
    # forbids empty handshake and alert records).
    c.send_record(tlslib.CT_APPLICATION_DATA, b"")
    status, _ = c.request("/?length=3")
    checks.check("[own record layer] an empty application data record is ignored", status == 200,
                 f"status {status}")
    c.close()


def case_alert_mid_request():
    c = conn()
    c.send_app(PARTIAL)
    c.send_record(tlslib.CT_ALERT, bytes([2, 10]))  # fatal unexpected_message
    if closed_tls(c, "fatal alert after half a request"):
        checks.check("[fatal alert mid-request] no HTTP answer to the half request",
                     not c.app_data, c.app_data[:40])
    c.close()
    contained("fatal alert mid-request")

    c = conn()
    c.send_app(PARTIAL)
    c.send_record(tlslib.CT_ALERT, bytes([1, 0]))  # close_notify
    closed_tls(c, "close_notify after half a request", timeout=scaled(3.0))
    c.close()
    contained("close_notify mid-request")

    # close_notify after a whole request: the answer may still come (RFC 8446
    # 6.1 closes only the client's direction), then the close.
    c = conn()
    c.send_app(b"GET /?length=10 HTTP/1.1\r\nHost: localhost\r\n\r\n")
    c.send_record(tlslib.CT_ALERT, bytes([1, 0]))
    closed_tls(c, "close_notify after a whole request", timeout=scaled(3.0))
    c.close()
    contained("close_notify after a request")

    # An alert in the clear after the handshake (TLS 1.3 protects alerts).
    c = conn()
    c.send_app(PARTIAL)
    c.raw(b"\x15\x03\x03\x00\x02\x02\x28")
    closed_tls(c, "a plaintext fatal alert mid-request")
    c.close()
    contained("plaintext alert mid-request")


def case_corrupted_tag():
    c = conn()
    c.send_app(PARTIAL)
    record = bytearray(c.tx.seal(tlslib.CT_APPLICATION_DATA, b"\r\n"))
    record[-1] ^= 0x01  # the tag's last byte
    c.raw(bytes(record))
    if closed_tls(c, "a record with a corrupted tag"):
        checks.check("[corrupted tag] answered with bad_record_mac (alert 20) or nothing",
                     all(a == (2, 20) for a in c.alerts), repr(c.alerts))
    c.close()
    contained("corrupted tag")

    c = conn()
    record = bytearray(c.tx.seal(tlslib.CT_APPLICATION_DATA, PARTIAL + b"\r\n"))
    record[10] ^= 0x80  # a ciphertext byte
    c.raw(bytes(record))
    closed_tls(c, "a record with a flipped ciphertext bit")
    c.close()
    contained("flipped ciphertext bit")

    # A replayed record: its sequence number is past, so its nonce is wrong.
    c = conn()
    record = c.tx.seal(tlslib.CT_APPLICATION_DATA, b"GET /?length=4 HTTP/1.1\r\nHost: localhost\r\n\r\n")
    c.raw(record)
    data = c.recv_app(b"\r\n\r\n" + peerlib.expected_body(4))
    checks.check("[replay] the original record is answered", data.startswith(b"HTTP/1.1 200"), data[:30])
    c.app_data = b""
    c.raw(record)
    if closed_tls(c, "a replayed record"):
        checks.check("[replay] not answered a second time", b"HTTP/1.1" not in c.app_data,
                     c.app_data[:30])
    c.close()
    contained("replayed record")


def case_bad_plaintext_lengths():
    c = conn()
    c.send_record(tlslib.CT_APPLICATION_DATA, b"x" * (16384 + 1))  # RFC 8446 5.4: record_overflow
    if closed_tls(c, "an inner plaintext of 2^14 + 1 bytes"):
        checks.check("[record overflow] alert record_overflow (22) or none",
                     all(a == (2, 22) for a in c.alerts), repr(c.alerts))
    c.close()
    contained("record overflow")

    c = conn()
    c.raw(b"\x17\x03\x03" + struct.pack(">H", 16384 + 256 + 1) + b"\x00" * (16384 + 257))
    closed_tls(c, "a ciphertext of 2^14 + 257 bytes")
    c.close()
    contained("oversized ciphertext")

    c = conn()
    inner_all_zero = b"\x00" * 32  # no content type at all
    header = struct.pack(">BHH", 23, 0x0303, len(inner_all_zero) + 16)
    c.raw(header + c.tx.aead.encrypt(c.tx.nonce(), inner_all_zero, header))
    c.tx.seq += 1
    closed_tls(c, "an inner plaintext that is all padding")
    c.close()
    contained("all-padding record")

    c = conn()
    c.raw(b"\x18\x03\x03\x00\x10" + b"\x00" * 16)  # content type 24 (heartbeat)
    closed_tls(c, "a record of an unknown outer content type")
    c.close()
    contained("unknown content type")

    c = conn()
    c.send_record(tlslib.CT_HANDSHAKE, b"")  # RFC 8446 5.1: empty handshake records are forbidden
    closed_tls(c, "an empty handshake record")
    c.close()
    contained("empty handshake record")


def case_key_update():
    c = conn()
    c.key_update(requested=False)
    status, body = c.request("/?length=50")
    checks.check("[KeyUpdate] a request after one KeyUpdate is answered 200",
                 status == 200 and body == peerlib.expected_body(50), f"status {status}")
    c.key_update(requested=True)
    c.key_update(requested=False)
    before = c.rx.secret
    status, body = c.request("/?length=60")
    checks.check("[KeyUpdate] update_requested: the answer comes 200",
                 status == 200 and body == peerlib.expected_body(60), f"status {status}")
    checks.check("[KeyUpdate] update_requested: the server updated its own keys first",
                 c.rx.secret != before)
    # A KeyUpdate and a request in one flight, then many requests: the
    # sequence numbers of both directions stay right.
    for i in range(20):
        c.key_update(requested=(i % 3 == 0))
        status, _ = c.request(f"/?length={i + 1}")
        if status != 200:
            break
    checks.check("[KeyUpdate] 20 KeyUpdates, each followed by a request, all answered 200",
                 status == 200, f"status {status} at {i}")
    c.close()
    contained("KeyUpdate")

    c = conn()
    c.send_record(tlslib.CT_HANDSHAKE, bytes([tlslib.HS_KEY_UPDATE, 0, 0, 1, 2]))
    if closed_tls(c, "a KeyUpdate with request_update 2"):
        checks.check("[bad KeyUpdate] alert illegal_parameter (47) or none",
                     all(a == (2, 47) for a in c.alerts), repr(c.alerts))
    c.close()
    # A KeyUpdate that is not the last message of its record (RFC 8446 5.1).
    c = conn()
    c.send_record(tlslib.CT_HANDSHAKE, bytes([tlslib.HS_KEY_UPDATE, 0, 0, 1, 0]) * 2)
    closed_tls(c, "two KeyUpdates in one record (a key change inside a record)")
    c.close()
    contained("bad KeyUpdate")

    # The flood: 10,000 KeyUpdates in a row, 1,000 of them requesting one
    # back. The server may cut the peer off (OpenSSL stops at 32 in a row),
    # or go on; either way bounded, and if it goes on it still answers.
    rss0 = SERVER.rss_kib()
    c = conn()
    sent = 0
    for i in range(10000):
        if not c.key_update(requested=(i % 10 == 0)):
            break
        sent += 1
    try:
        status, body = c.request("/?length=30", timeout=scaled(10.0))
        outcome = f"answered {status} after {sent} KeyUpdates"
        ok = status == 200 and body == peerlib.expected_body(30)
    except (EOFError, ConnectionResetError, BrokenPipeError) as e:
        outcome = f"closed after {sent} KeyUpdates sent ({type(e).__name__}; alerts {c.alerts})"
        ok = True
    except Exception as e:  # noqa: BLE001
        outcome, ok = f"{type(e).__name__}: {e}", False
    checks.check("[KeyUpdate flood] the connection is answered correctly or closed", ok, outcome)
    c.close()
    grew = SERVER.rss_kib() - rss0
    checks.check(f"[KeyUpdate flood] server RSS grew less than {16 * RSS_SLACK} MiB",
                 grew < 16 * 1024 * RSS_SLACK, f"{grew} KiB")
    contained("KeyUpdate flood")


def flood(c, data_iter, stop):
    """Sends records from data_iter until done, stopped, or the server closes."""
    sent = 0
    try:
        for piece in data_iter:
            if stop.is_set() or not c.send_app(piece):
                break
            sent += len(piece)
    except OSError:
        pass
    return sent


def flood_case(what, head, pieces, want_status):
    rss0 = SERVER.rss_kib()
    c = conn()
    stop = threading.Event()
    result = {}
    sender = threading.Thread(target=lambda: result.update(sent=flood(c, [head, *pieces], stop)))
    start = time.monotonic()
    sender.start()
    status = None
    try:
        data = c.recv_app(b"\r\n\r\n", timeout=scaled(30.0))
        status = int(data.split(b" ", 2)[1])
    except Exception as e:  # noqa: BLE001
        data = f"{type(e).__name__}: {e}".encode()
    checks.check(f"[{what}] answered {want_status}", status == want_status, data[:60])
    closed = closed_tls(c, what, timeout=scaled(10.0))
    stop.set()
    sender.join(scaled(30.0))
    took = time.monotonic() - start
    c.close()
    grew = SERVER.rss_kib() - rss0
    sent = result.get("sent", 0)
    print(f"     {what}: {sent / MIB:.1f} MiB sent before the close, {took:.1f}s", flush=True)
    if closed:
        checks.check(f"[{what}] the flood was cut off well before its end",
                     sent < 90 * MIB, f"{sent / MIB:.1f} MiB sent")
    checks.check(f"[{what}] server RSS grew less than {48 * RSS_SLACK} MiB",
                 grew < 48 * 1024 * RSS_SLACK, f"{grew} KiB")
    contained(what)


def case_record_floods():
    chunk = b"x" * 16384
    # A chunked body at full speed in 16 KB records: over max_body (8 MiB) -> 413.
    chunk_frame = b"4000\r\n" + chunk + b"\r\n"
    head = b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
    for i in range(4):  # repeated: see the head flood below
        flood_case(f"100 MB chunked body in 16 KB records, run {i + 1}", head,
                   (chunk_frame for _ in range(6400)), 413)
    # The same with Content-Length: the limit is known from the head.
    head = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 104857600\r\n\r\n"
    flood_case("Content-Length 100 MB body in 16 KB records", head, (chunk for _ in range(6400)), 413)
    # A head that never ends, 16 KB per record: over max_head (64 KiB) -> 431.
    # Eight times: the close after the answer races with the records still
    # arriving (seen: about one run in ten stays open, not reading, until
    # header_timeout; the chunked 413 likewise).
    head = b"GET / HTTP/1.1\r\nHost: localhost\r\n"
    field = b"X-Flood: " + b"a" * (16384 - 11) + b"\r\n"
    for i in range(8):
        flood_case(f"a head of 16 KB header fields, run {i + 1}", head, (field for _ in range(6400)), 431)


def case_truncated_record():
    c = conn()
    record = c.tx.seal(tlslib.CT_APPLICATION_DATA, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    c.raw(record[:20])
    c.sock.shutdown(socket.SHUT_WR)
    closed_tls(c, "half a record, then FIN", timeout=scaled(3.0))
    c.close()
    contained("truncated record")


def case_records_without_bytes():
    """Records that bring no request bytes (empty application data, KeyUpdate)
    are no progress: the keep-alive and body deadlines run on through them,
    or a peer could hold a connection for ever at 22 bytes a second. A server
    of its own, with short deadlines."""
    limit = 1.5
    server = tlslib.TLSServer(CERTS, "--threads", "1", "--idle-timeout", str(int(limit * 1000)),
                              "--body-timeout", str(int(limit * 1000))).start()
    try:
        for what in ("idle keep-alive", "request body"):
            c = tlslib.Tls13Conn(server.port, CERTS)
            if what == "idle keep-alive":
                status, _ = c.request("/?length=5")
                checks.check("[records without bytes] the first request is answered 200",
                             status == 200, f"status {status}")
            else:
                c.send_app(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc")
            start = time.monotonic()
            answered = None  # when the server's close (or 408) began to arrive
            i = 0
            while time.monotonic() - start < scaled(limit * 4):
                sent = c.key_update() if i % 4 == 3 else c.send_record(tlslib.CT_APPLICATION_DATA, b"")
                i += 1
                readable, _, _ = select.select([c.sock], [], [], 0.2)
                if readable and sent:
                    try:
                        c.recv_app(None, timeout=0.05)
                    except socket.timeout:
                        continue  # the session tickets, not an answer
                    except (EOFError, OSError):
                        pass
                if readable or not sent:
                    answered = time.monotonic() - start
                    break
            closed, how = c.closed(scaled(3.0))
            checks.check(f"[records without bytes, {what}] closed by its {limit:.1f} s deadline",
                         closed and answered is not None and limit * 0.8 <= answered <= scaled(limit + 2),
                         f"{how}; {i} records; began after "
                         + (f"{answered:.2f}s" if answered is not None else f"none in {scaled(limit * 4):.1f}s"))
            if what == "request body":
                checks.check("[records without bytes, request body] answered 408",
                             c.app_data.startswith(b"HTTP/1.1 408"), c.app_data[:40])
            c.close()
    finally:
        server.stop()
    contained("records without bytes")


def main():
    global CERTS, SERVER, PORT, CTX, HEALTHY
    CERTS = tlslib.make_certs()
    args = ["--threads", "2"]
    option = handshake_timeout_option()
    if option:
        args += [option, str(HANDSHAKE_TIMEOUT_MS)]
    else:
        print("     (no handshake timeout flag in httpkit-server --help: the default applies)")
    SERVER = tlslib.TLSServer(CERTS, *args).start()
    PORT = SERVER.port
    CTX = tlslib.client_context(CERTS)
    HEALTHY = tlslib.HealthyClient(PORT, CERTS)
    checks.check("the healthy connection is served before anything", HEALTHY.get(length=10))

    for case in (case_garbage_client_hello, case_truncated_client_hello, case_oversized_record_header,
                 case_stalled_handshake, case_plain_http, case_our_record_layer_works,
                 case_alert_mid_request, case_corrupted_tag, case_bad_plaintext_lengths,
                 case_key_update, case_record_floods, case_truncated_record,
                 case_records_without_bytes):
        print(f"# {case.__name__}", flush=True)
        try:
            case()
        except Exception as e:  # noqa: BLE001 - one failed check, then the next case
            checks.check(f"{case.__name__} ran to the end", False, f"{type(e).__name__}: {e}")
        if SERVER.proc.poll() is not None:
            checks.check("the server is still running", False, f"exit {SERVER.proc.returncode}")
            print(SERVER.output_tail(40))
            return
    checks.check(f"the healthy connection was served throughout ({HEALTHY.served} requests)",
                 HEALTHY.get(length=5))
    HEALTHY.close()
    code = SERVER.stop()
    checks.check("SIGTERM: the server exits 0", code == 0, f"exit {code}")


if __name__ == "__main__":
    peerlib.run(main, checks)
