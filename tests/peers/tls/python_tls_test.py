#!/usr/bin/python3
"""Python's ssl module and python3-websockets against httpkit-server over TLS.

Checks: verification against the test CA (and failure without it, with the
wrong name, or with an untrusted chain), TLS 1.3 and 1.2 with ALPN http/1.1,
GET / and ?length= bodies, many requests on one keep-alive connection,
pipelining, a 4 MiB upload, session resumption (1.3 tickets and 1.2), the RSA
certificate, wss:// echo on /ws (text, binary, 1 MiB, with and without
permessage-deflate, several clients at once), and mTLS when the server has a
flag for it.
Run with /usr/bin/python3; HTTPKIT_BIN_DIR points at the built httpkit-server.
"""

import asyncio
import http.client
import os
import random
import socket
import ssl
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tlslib  # noqa: E402
from tlslib import peerlib, scaled  # noqa: E402

import websockets  # noqa: E402

checks = peerlib.Checks("python_tls")
MIB = 1 << 20


def _named(port, ctx, host):
    """HTTPSConnection to 127.0.0.1 that sends SNI and checks the name `host`."""
    conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=scaled(10.0))
    conn._create_connection = lambda addr, timeout=None, source=None: socket.create_connection(
        ("127.0.0.1", addr[1]), timeout, source)
    return conn


def handshake(port, ctx, host="localhost", session=None):
    raw = socket.create_connection(("127.0.0.1", port), timeout=scaled(5.0))
    return ctx.wrap_socket(raw, server_hostname=host, session=session)


def fetch_on(sock, target="/"):
    """GET target on an open TLS socket (Connection: close) -> (status, body)."""
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def test_verification(port, certs):
    ctx = tlslib.client_context(certs)
    with handshake(port, ctx) as s:
        checks.check("verified against the test CA (localhost)", True, s.version())
        cert = s.getpeercert()
        subject = dict(x[0] for x in cert["subject"])
        checks.check("the served certificate is the ECDSA localhost one",
                     subject.get("commonName") == "localhost", repr(subject))
    with handshake(port, ctx, host="127.0.0.1") as s:
        checks.check("verified by IP address (SAN IP:127.0.0.1)", s.version() is not None)
    failures = {
        "no test CA": (ssl.create_default_context(), "localhost"),
        "wrong host name": (ctx, "wrong.test"),
    }
    for what, (c, host) in failures.items():
        try:
            with handshake(port, c, host=host):
                ok, detail = False, "handshake succeeded"
        except ssl.SSLCertVerificationError as e:
            ok, detail = True, e.verify_message
        checks.check(f"verification fails with {what}", ok, detail)


def test_versions_and_alpn(port, certs):
    for version, name in ((ssl.TLSVersion.TLSv1_3, "TLSv1.3"), (ssl.TLSVersion.TLSv1_2, "TLSv1.2")):
        ctx = tlslib.client_context(certs, minimum_version=version, maximum_version=version)
        with handshake(port, ctx) as s:
            checks.check(f"{name} negotiated", s.version() == name, s.version())
            checks.check(f"{name}: ALPN http/1.1 selected", s.selected_alpn_protocol() == "http/1.1",
                         repr(s.selected_alpn_protocol()))
            cipher = s.cipher()[0]
            checks.check(f"{name}: an AEAD cipher ({cipher})",
                         any(x in cipher for x in ("GCM", "CHACHA20")), cipher)
            status, body = fetch_on(s, "/")
            checks.check(f"{name}: GET / -> 200 and the handler's text",
                         status == 200 and body == peerlib.expected_body(),
                         f"{status}, {len(body)} bytes")
    ctx = tlslib.client_context(certs, alpn=None)
    with handshake(port, ctx) as s:
        checks.check("no ALPN offered: none selected, still served",
                     s.selected_alpn_protocol() is None and fetch_on(s, "/?length=3")[0] == 200)


def test_keepalive_and_bodies(port, certs):
    ctx = tlslib.client_context(certs)
    conn = _named(port, ctx, "localhost")
    ok = True
    sockets = set()
    for i, length in enumerate([1, 100, 1024, 5000, 10240, 99999, 7] * 5):
        conn.request("GET", f"/?length={length}")
        r = conn.getresponse()
        body = r.read()
        sockets.add(id(conn.sock))
        if r.status != 200 or body != peerlib.expected_body(length):
            ok = False
            checks.check(f"keep-alive request {i} (length={length})", False, f"{r.status}, {len(body)} B")
            break
    checks.check("35 requests on one keep-alive TLS connection, bodies exact",
                 ok and len(sockets) == 1, f"{len(sockets)} connection(s)")

    big = random.Random(5).randbytes(4 * MIB)
    conn.request("POST", "/?length=11", body=big, headers={"Content-Type": "application/octet-stream"})
    r = conn.getresponse()
    body = r.read()
    checks.check("POST of 4 MiB over TLS answered 200", r.status == 200 and body == peerlib.expected_body(11),
                 f"{r.status}")
    conn.request("GET", "/?length=8")
    r = conn.getresponse()
    checks.check("and the connection goes on after it", r.status == 200 and r.read() == peerlib.expected_body(8))
    conn.request("GET", "/?length=abc")
    r = conn.getresponse()
    r.read()
    checks.check("a bad ?length over TLS is 400, as over plain HTTP", r.status == 400, f"{r.status}")
    conn.close()

    # Pipelining: ten requests in one write, ten answers in order.
    with handshake(port, ctx) as s:
        s.sendall(b"".join(f"GET /?length={n} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()
                           for n in range(1, 11)))
        want = b"".join(peerlib.expected_body(n) for n in range(1, 11))
        data = b""
        s.settimeout(scaled(5.0))
        while data.count(b"HTTP/1.1 200") < 10 or not data.endswith(peerlib.expected_body(10)):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        bodies = b"".join(part.split(b"\r\n\r\n", 1)[1] for part in data.split(b"HTTP/1.1 ")[1:])
        checks.check("ten pipelined requests answered in order", bodies == want, f"{data.count(b'HTTP/1.1 200')} answers")


def test_resumption(port, certs):
    for version, name in ((ssl.TLSVersion.TLSv1_3, "TLSv1.3"), (ssl.TLSVersion.TLSv1_2, "TLSv1.2")):
        ctx = tlslib.client_context(certs, minimum_version=version, maximum_version=version)
        with handshake(port, ctx) as s:
            fetch_on(s, "/?length=2")  # reading lets the 1.3 tickets in
            session = s.session
        checks.check(f"{name}: the server gave a session to resume",
                     session is not None and session.has_ticket, repr(session))
        with handshake(port, ctx, session=session) as s:
            reused = s.session_reused
            status, _ = fetch_on(s, "/?length=2")
        checks.check(f"{name}: the session is resumed", reused and status == 200, f"reused={reused}")


def test_rsa(port, certs):
    ctx = tlslib.client_context(certs, maximum_version=ssl.TLSVersion.TLSv1_2)
    with handshake(port, ctx) as s:
        subject = dict(x[0] for x in s.getpeercert()["subject"])
        cipher = s.cipher()[0]
        status, body = fetch_on(s, "/?length=5")
    checks.check("the RSA-2048 server: verified and served over TLS 1.2",
                 status == 200 and body == peerlib.expected_body(5), repr(subject))
    checks.check("the RSA-2048 server: an ECDHE-RSA AEAD cipher", cipher.startswith("ECDHE-RSA-")
                 and ("GCM" in cipher or "CHACHA20" in cipher), cipher)
    with handshake(port, tlslib.client_context(certs)) as s:
        status, _ = fetch_on(s, "/?length=5")
        checks.check("the RSA-2048 server over TLS 1.3", s.version() == "TLSv1.3" and status == 200,
                     s.version())


async def ws_cases(port, certs):
    ctx = tlslib.client_context(certs, alpn=None)
    url = f"wss://localhost:{port}/ws"
    for compression in ("deflate", None):
        mode = compression or "no deflate"
        async with websockets.connect(url, ssl=ctx, compression=compression, max_size=8 * MIB,
                                      ping_interval=None, open_timeout=scaled(10.0)) as ws:
            for msg in ("hello over wss", "héllo ✓ 𝄞", "", bytes(range(256)) * 8,
                        "x" * MIB, random.Random(3).randbytes(MIB)):
                await ws.send(msg)
                got = await asyncio.wait_for(ws.recv(), scaled(20.0))
                if got != msg:
                    checks.check(f"[wss, {mode}] echo of {type(msg).__name__} of {len(msg)}", False,
                                 f"got {type(got).__name__} of {len(got)}")
                    break
            else:
                checks.check(f"[wss, {mode}] text, binary and 1 MiB messages echoed exactly", True)
            pong = await ws.ping(b"p")
            await asyncio.wait_for(pong, scaled(5.0))
            checks.check(f"[wss, {mode}] ping answered", True)
        checks.check(f"[wss, {mode}] close handshake: code 1000", ws.close_code == 1000, repr(ws.close_code))

    # Several clients at once, interleaved: each gets its own messages back.
    async def chat(i):
        async with websockets.connect(url, ssl=ctx, ping_interval=None) as ws:
            for j in range(20):
                await ws.send(f"client {i} message {j}")
                if await asyncio.wait_for(ws.recv(), scaled(10.0)) != f"client {i} message {j}":
                    return False
            return True
    results = await asyncio.gather(*(chat(i) for i in range(20)), return_exceptions=True)
    checks.check("[wss] 20 clients x 20 messages at once, each echoed to its sender",
                 all(r is True for r in results), repr([r for r in results if r is not True][:3]))

    # /ws without an upgrade over TLS answers as over plain HTTP.
    with handshake(port, tlslib.client_context(certs)) as s:
        status, _ = fetch_on(s, "/ws")
    checks.check("GET /ws without Upgrade over TLS: 400", status == 400, f"{status}")


def mtls_server(certs, verify):
    server = tlslib.TLSServer(certs, "--tls-client-ca", os.path.join(certs, "ca.pem"),
                              "--tls-client-verify", verify)
    server.ctx = client_context_with(certs, "client")  # the readiness probe has a certificate
    return server.start()


def client_context_with(certs, name):
    ctx = tlslib.client_context(certs)
    ctx.load_cert_chain(os.path.join(certs, f"{name}.pem"), os.path.join(certs, f"{name}.key"))
    return ctx


def mtls_get(port, ctx, version=None):
    """(True, status) when served, (False, why) when refused."""
    if version:
        ctx.minimum_version = ctx.maximum_version = version
    try:
        with handshake(port, ctx) as s:
            status, _ = fetch_on(s, "/?length=4")
        return True, status
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError, IndexError) as e:
        return False, str(e)[:100]


def test_mtls(certs):
    if not tlslib.has_option("--tls-client-ca"):
        checks.check("httpkit-server has --tls-client-ca (mTLS)", False, "not in --help")
        return
    server = mtls_server(certs, "required")
    for version, name in ((ssl.TLSVersion.TLSv1_3, "TLS 1.3"), (ssl.TLSVersion.TLSv1_2, "TLS 1.2")):
        served, detail = mtls_get(server.port, client_context_with(certs, "client"), version)
        checks.check(f"[mTLS required, {name}] a client certificate of the CA: served 200",
                     served and detail == 200, detail)
        served, detail = mtls_get(server.port, tlslib.client_context(certs), version)
        checks.check(f"[mTLS required, {name}] no client certificate: refused", not served, detail)
        served, detail = mtls_get(server.port, client_context_with(certs, "untrusted"), version)
        checks.check(f"[mTLS required, {name}] a certificate of another CA: refused", not served, detail)
    checks.check("[mTLS required] server alive", server.alive())
    checks.check("[mTLS required] SIGTERM: exit 0", server.stop() == 0)

    server = mtls_server(certs, "optional")
    served, detail = mtls_get(server.port, tlslib.client_context(certs))
    checks.check("[mTLS optional] no client certificate: served 200", served and detail == 200, detail)
    served, detail = mtls_get(server.port, client_context_with(certs, "client"))
    checks.check("[mTLS optional] a client certificate of the CA: served 200", served and detail == 200, detail)
    served, detail = mtls_get(server.port, client_context_with(certs, "untrusted"))
    checks.check("[mTLS optional] a certificate of another CA: refused", not served, detail)
    checks.check("[mTLS optional] SIGTERM: exit 0", server.stop() == 0)


def main():
    certs = tlslib.make_certs()
    server = tlslib.TLSServer(certs, "--threads", "2").start()
    test_verification(server.port, certs)
    test_versions_and_alpn(server.port, certs)
    test_keepalive_and_bodies(server.port, certs)
    test_resumption(server.port, certs)
    asyncio.run(ws_cases(server.port, certs))
    checks.check("server alive after it all", server.alive())
    checks.check("SIGTERM: exit 0", server.stop() == 0)

    rsa = tlslib.TLSServer(certs, "--tls-cert", os.path.join(certs, "localhost-rsa.pem"),
                           "--tls-key", os.path.join(certs, "localhost-rsa.key")).start()
    test_rsa(rsa.port, certs)
    test_resumption(rsa.port, certs)
    checks.check("RSA server: SIGTERM exit 0", rsa.stop() == 0)
    test_mtls(certs)


if __name__ == "__main__":
    peerlib.run(main, checks)
