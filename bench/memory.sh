#!/usr/bin/env bash
# Server memory per idle keep-alive connection: httpkit-server vs nginx.
#
# For each server: start it, open --warmup connections (one GET each, full
# 200 response read) so one-time allocations are not billed per connection,
# let it settle and record the total RSS of all its processes (sum of VmRSS
# over the server process and its descendants); then open the remaining
# connections up to --connections, again one complete GET each, hold them
# all idle, let it settle, record RSS again, and verify every connection got
# its full 200 and is still open (each client peeks at each socket).
# Printed: RSS growth / (connections - warmup) in bytes per connection.
# Kernel memory is shown beside it: the growth of the kernel's slab
# (/proc/meminfo) over the same connections, per connection, for both ends
# together (client and server sockets both live on this machine). It is
# much the same for every server (see shared/MACHINE.md) and noisier, since
# the whole machine's slab moves with it.
#
# --websocket measures httpkit's idle WebSocket connections instead, twice:
# plain, and with permessage-deflate negotiated (client_no_context_takeover
# and server_no_context_takeover offered). Each connection upgrades on /ws
# (the 101 and its Sec-WebSocket-Accept checked), echoes one masked text
# message (the echo checked), and is then held idle. There is no nginx row:
# nginx has no WebSocket endpoint of its own to compare with.
#
# --tls measures idle keep-alive HTTPS connections (one GET each, then
# idle), httpkit vs nginx, both with the same ECDSA P-256 certificate of a
# test CA (scripts/lib/certs.sh) and TLS 1.2 and 1.3 enabled, in two
# populations: the clients negotiate TLS 1.3 (where httpkit may drop its
# OpenSSL session after the handshake), then TLS 1.2 (where it keeps it).
# The clients speak TLS with Python's ssl module (verifying against the CA);
# defaults become 4000 connections, 400 warm-up.
#
# One process may hold < 20000 descriptors here (ulimit -n 20000), so the
# client is several forked /usr/bin/python3 processes (--clients), each with
# its own source address 127.0.0.(10+i).
#
# Usage: bench/memory.sh [--connections N] [--warmup W] [--clients K]
#                        [--settle S] [--server httpkit|nginx|both]
#                        [--server-args "ARGS"] [--bin-dir DIR] [--websocket]
#                        [--tls [--tls-versions 1.3,1.2]]
#   defaults: 20000 connections, 2000 warm-up, 4 clients, 3 s settle, both
#   servers, httpkit args "--threads 2", plus "--processes K" when the
#   connections do not fit one process (K = ceil(connections / 16000): a
#   process holds < 20000 descriptors and SO_REUSEPORT spreads connections
#   over the loops unevenly).

set -euo pipefail
REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-}" in -h|--help) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
exec /usr/bin/python3 - "$REPO_ROOT" "$@" <<'PYEOF'
import argparse
import atexit
import base64
import hashlib
import errno
import os
import random
import re
import selectors
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import zlib

REPO_ROOT = sys.argv[1]
p = argparse.ArgumentParser(prog="bench/memory.sh")
p.add_argument("--connections", type=int, default=None)
p.add_argument("--warmup", type=int, default=None)
p.add_argument("--clients", type=int, default=4)
p.add_argument("--settle", type=float, default=3.0)
p.add_argument("--server", choices=["httpkit", "nginx", "both"], default="both")
p.add_argument("--server-args", default=None)
p.add_argument("--bin-dir", default=os.environ.get("HTTPKIT_BIN_DIR", "build/bin"))
p.add_argument("--websocket", action="store_true",
               help="idle WebSocket connections to httpkit, without and with permessage-deflate")
p.add_argument("--tls", action="store_true",
               help="idle keep-alive HTTPS connections (ECDSA P-256), TLS 1.3 then TLS 1.2")
p.add_argument("--tls-versions", default="1.3,1.2",
               help="with --tls: the populations, in order (1.3, 1.2)")
args = p.parse_args(sys.argv[2:])
if args.tls and args.websocket:
    sys.exit("--tls and --websocket: one or the other")
if args.connections is None:
    args.connections = 4000 if args.tls else 20000
if args.warmup is None:
    args.warmup = 400 if args.tls else 2000
TLS_VERSIONS = [v.strip() for v in args.tls_versions.split(",") if v.strip()]
if args.tls and (not TLS_VERSIONS or any(v not in ("1.2", "1.3") for v in TLS_VERSIONS)):
    sys.exit("--tls-versions: 1.3 and/or 1.2")
if not 0 <= args.warmup < args.connections:
    sys.exit("--warmup must be smaller than --connections")
# One process holds < 20000 descriptors (ulimit -n), and SO_REUSEPORT spreads
# connections over the loops only roughly, so beyond ~16000 connections
# httpkit runs as several processes - like nginx with its 2 workers.
PER_PROCESS = 16000
if args.server_args is None:
    procs = -(-args.connections // PER_PROCESS)
    args.server_args = "--threads 2" + (f" --processes {procs}" if procs > 1 else "")
BIN_DIR = args.bin_dir if os.path.isabs(args.bin_dir) else os.path.join(REPO_ROOT, args.bin_dir)
WORK = tempfile.mkdtemp(prefix="httpkit-mem.")
IP_BIND_ADDRESS_NO_PORT = 24  # let connect() pick the port per destination
sys.path.insert(0, os.path.join(REPO_ROOT, "scripts", "lib"))
import benchmark_text  # noqa: E402  (reads apps/common/benchmark_text.hpp)
BODY = benchmark_text.body(1024)
NGINX_LIB = os.path.join(REPO_ROOT, "scripts", "lib", "nginx.sh")
started = []  # (Popen) servers we started, stopped by PID at exit
CERTS = os.path.join(WORK, "certs")
CERT = os.path.join(CERTS, "localhost-ec.pem")
KEY = os.path.join(CERTS, "localhost-ec.key")
CA = os.path.join(CERTS, "ca.pem")


def make_certs():
    subprocess.run(["bash", "-c", 'source "$0"; make_test_certs "$1"',
                    os.path.join(REPO_ROOT, "scripts", "lib", "certs.sh"), CERTS], check=True)


def client_context(version):
    """A verifying client context pinned to one TLS version ("1.2" or "1.3")."""
    ctx = ssl.create_default_context(cafile=CA)
    v = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
    ctx.minimum_version = ctx.maximum_version = v
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cleanup():
    for proc in started:
        stop(proc)
    subprocess.run(["rm", "-rf", WORK])


atexit.register(cleanup)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
signal.signal(signal.SIGINT, lambda *a: sys.exit(130))


# ---------------------------------------------------------------- servers

def free_port():
    """For nginx, which cannot report a port it chose: below the kernel's
    ephemeral range (32768-60999), where no outgoing connection holds one."""
    while True:
        port = random.randint(10000, 29999)
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port


def answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as raw:
            s = client_context("1.2").wrap_socket(raw, server_hostname="localhost") if args.tls else raw
            s.sendall(b"GET / HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n")
            return s.recv(12).startswith(b"HTTP/1.")
    except OSError:
        return False


def start(cmd, port, log, proc=None):
    if proc is None:
        proc = subprocess.Popen(cmd, stdout=open(log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        started.append(proc)
    for _ in range(100):
        if proc.poll() is not None:
            break
        if answers(port):
            return proc
        time.sleep(0.1)
    sys.exit(f"server did not start: {' '.join(cmd)}\n" + open(log, errors="replace").read()[-2000:])


def start_httpkit():
    # --port 0: the kernel picks the port, read back from the start line.
    binary = os.path.join(BIN_DIR, "httpkit-server")
    if not os.access(binary, os.X_OK):
        sys.exit(f"httpkit-server not found at {binary} (build it, pass --bin-dir, or use --server nginx)")
    tls = ["--tls-cert", CERT, "--tls-key", KEY] if args.tls else []
    cmd = [binary, "--port", "0", "--bind", "127.0.0.1", *tls, *shlex.split(args.server_args)]
    log = os.path.join(WORK, "httpkit.log")
    port = None
    proc = subprocess.Popen(cmd, stdout=open(log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    started.append(proc)
    for _ in range(100):
        m = re.search(rb"listen at [^\s]+:(\d+)", open(log, "rb").read())
        if m or proc.poll() is not None:
            port = int(m.group(1)) if m else None
            break
        time.sleep(0.1)
    if port is None:
        sys.exit("httpkit-server did not start\n" + open(log, errors="replace").read()[-2000:])
    return start(cmd, port, log, proc), port


def start_nginx():
    # scripts/lib/nginx.sh's benchmark config (as bench/throughput.sh), plus
    # reuseport so the 2 workers share the connections evenly (each worker
    # is capped by ulimit -n too).
    port = free_port()
    d = tempfile.mkdtemp(dir=WORK, prefix="nginx.")  # one per row
    with open(os.path.join(WORK, "body"), "wb") as f:
        f.write(BODY)
    listen, lines = "backlog=4096 reuseport", ""
    if args.tls:
        listen = "ssl " + listen
        lines = subprocess.run(["bash", "-c", 'source "$0"; nginx_tls_lines "$1" "$2"', NGINX_LIB, CERT, KEY],
                               check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run(["bash", "-c", 'source "$0"; nginx_bench_conf "$@"', NGINX_LIB,
                    d, str(port), "2", os.path.join(WORK, "body"), listen, lines], check=True)
    cmd = ["bash", "-c", 'source "$0"; nginx_exec "$1"', NGINX_LIB, d]  # exec: the PID is nginx's
    return start(cmd, port, os.path.join(d, "stdout.log")), port


def tree_rss(root):
    """Sum of VmRSS (bytes) of root and all its descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    total, todo, procs = 0, [root], 0
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            m = re.search(r"^VmRSS:\s+(\d+) kB", open(f"/proc/{pid}/status").read(), re.M)
            if m:
                total += int(m.group(1)) * 1024
                procs += 1
        except OSError:
            pass
    return total, procs


# ---------------------------------------------------------------- clients

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WS_MESSAGE = b"hello, idle websocket"


def upgrade_request(deflate):
    """A WebSocket upgrade with a fresh key, and the Sec-WebSocket-Accept it must get."""
    key = base64.b64encode(os.urandom(16))
    accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
    offer = (b"Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; "
             b"server_no_context_takeover\r\n" if deflate else b"")
    return (b"GET /ws HTTP/1.1\r\nHost: mem\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n" + offer + b"\r\n"), accept


def masked_text_frame(payload):
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + body


def client_main(idx, port, mode, cmd_r, rep_w):
    """One client process: obeys 'open N', 'check' and 'exit' lines from the parent."""
    src = f"127.0.0.{10 + idx}"
    held = []
    cmds = os.fdopen(cmd_r, "r")
    reply = os.fdopen(rep_w, "w", buffering=1)
    for line in cmds:
        word = line.split()
        if word[0] == "open":
            ok, failed, reasons = open_connections(int(word[1]), src, port, mode, held)
            reply.write(f"{ok} {failed} {';'.join(sorted(reasons))[:300]}\n")
        elif word[0] == "check":
            still = 0
            for s in held:
                try:
                    # socket.socket.recv: the bytes on the wire, past an SSLSocket's own recv
                    still += 1 if socket.socket.recv(s, 1, socket.MSG_PEEK) else 0  # data: unexpected, but open
                except BlockingIOError:
                    still += 1
                except OSError:
                    pass
            reply.write(f"{still}\n")
        elif word[0] == "exit":
            break
    for s in held:
        s.close()
    os._exit(0)


def ws_step(s, buf, st, deflate):
    """Advances one WebSocket connection: None while incomplete, True when it
    is upgraded and has echoed, or a string saying what was wrong."""
    if st["phase"] == "head":
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = buf[:end].decode("latin-1").lower()
        if not head.startswith("http/1.1 101 "):
            return f"no 101: {buf[:30]!r}"
        if f"sec-websocket-accept: {st['accept'].decode().lower()}" not in head:
            return "wrong Sec-WebSocket-Accept"
        if deflate and "permessage-deflate" not in head:
            return "permessage-deflate not agreed"
        if not deflate and "sec-websocket-extensions" in head:
            return "an extension agreed that was not offered"
        s.send(masked_text_frame(WS_MESSAGE))
        st["phase"] = "echo"
        st["buf"] = buf[end + 4:]
        return ws_step(s, b"", st, deflate)
    frame = st["buf"] + buf
    st["buf"] = frame
    if len(frame) < 2:
        return None
    opcode, length = frame[0] & 0x0F, frame[1] & 0x7F
    if opcode != 1 or frame[1] & 0x80 or length > 125:
        return f"unexpected echo frame {frame[:4]!r}"
    if len(frame) < 2 + length:
        return None
    if len(frame) > 2 + length:
        return "bytes after the echo"
    compressed = bool(frame[0] & 0x40)
    if compressed and not deflate:
        return "compressed echo without deflate"
    payload = frame[2:]
    if compressed:
        payload = zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")
    return True if payload == WS_MESSAGE else f"wrong echo {payload[:30]!r}"


def open_connections(count, src, port, mode, held, in_flight=200, deadline_s=180):
    """Open count connections, one exchange each (a GET, or a WebSocket
    upgrade and one echo), checking each answer whole; keep them."""
    websocket = mode.startswith("ws")
    deflate = mode == "ws-deflate"
    tls_ctx = client_context(mode[len("tls"):]) if mode.startswith("tls") else None
    handshaking = set()
    request = b"GET / HTTP/1.1\r\nHost: mem\r\n\r\n"
    sel = selectors.DefaultSelector()
    state = {}
    ws_state = {}
    ok = failed = started_n = 0
    reasons = set()
    deadline = time.monotonic() + deadline_s

    def fail(s, why):
        nonlocal failed
        failed += 1
        reasons.add(why)
        sel.unregister(s)
        state.pop(s)
        handshaking.discard(s)
        s.close()

    def send_first(s):
        if websocket:
            upgrade, ws_state[s]["accept"] = upgrade_request(deflate)
            s.send(upgrade)  # small: fits the empty send buffer
        else:
            s.send(request)
        sel.modify(s, selectors.EVENT_READ)

    def handshake(s):
        try:
            s.do_handshake()
        except ssl.SSLWantReadError:
            sel.modify(s, selectors.EVENT_READ)
            return
        except ssl.SSLWantWriteError:
            sel.modify(s, selectors.EVENT_WRITE)
            return
        except (ssl.SSLError, OSError) as e:
            fail(s, f"TLS handshake: {e}")
            return
        handshaking.discard(s)
        send_first(s)

    while (started_n < count or state) and time.monotonic() < deadline:
        while started_n < count and len(state) < in_flight:
            s = socket.socket()
            s.setblocking(False)
            s.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            try:
                s.bind((src, 0))
                rc = s.connect_ex(("127.0.0.1", port))
            except OSError as e:
                s.close()
                failed += 1
                started_n += 1
                reasons.add(f"connect: {e.strerror}")
                continue
            started_n += 1
            if rc not in (0, errno.EINPROGRESS):
                s.close()
                failed += 1
                reasons.add(f"connect: {os.strerror(rc)}")
                continue
            state[s] = b""
            sel.register(s, selectors.EVENT_WRITE)
            if websocket:
                ws_state[s] = {"phase": "head"}
        for key, ev in sel.select(timeout=1.0):
            s = key.fileobj
            if s in handshaking:
                handshake(s)
                continue
            if ev & selectors.EVENT_WRITE:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    fail(s, f"connect: {os.strerror(err)}")
                    continue
                if tls_ctx:
                    sel.unregister(s)
                    data = state.pop(s)
                    s = tls_ctx.wrap_socket(s, server_hostname="localhost", do_handshake_on_connect=False)
                    state[s] = data
                    sel.register(s, selectors.EVENT_WRITE)
                    handshaking.add(s)
                    handshake(s)
                    continue
                send_first(s)
                continue
            try:
                data = s.recv(65536)
                while tls_ctx and s.pending():
                    data += s.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                continue  # a record without application data (a session ticket)
            except OSError as e:
                fail(s, f"recv: {e.strerror}")
                continue
            if not data:
                fail(s, "closed before a full response")
                continue
            if websocket:
                verdict = ws_step(s, state[s] + data, ws_state[s], deflate)
                if verdict is None:
                    state[s] = b"" if ws_state[s]["phase"] == "echo" else state[s] + data
                    continue
                sel.unregister(s)
                state.pop(s)
                ws_state.pop(s)
                if verdict is True:
                    ok += 1
                    held.append(s)
                else:
                    failed += 1
                    reasons.add(verdict)
                    s.close()
                continue
            buf = state[s] + data
            state[s] = buf
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                continue
            m = re.search(rb"\r\ncontent-length:\s*(\d+)", buf[:end], re.I)
            if not m:
                fail(s, "response without Content-Length")
                continue
            if len(buf) < end + 4 + int(m.group(1)):
                continue
            sel.unregister(s)
            state.pop(s)
            if buf.startswith(b"HTTP/1.1 200 ") and len(buf) == end + 4 + int(m.group(1)):
                ok += 1
                held.append(s)
            else:
                failed += 1
                reasons.add(f"bad response {buf[:20]!r}")
                s.close()
    for s in list(state):
        fail(s, "timeout")
    failed += count - started_n
    return ok, failed, reasons


class Clients:
    def __init__(self, n, port, mode):
        self.procs = []
        for i in range(n):
            cmd_r, cmd_w = os.pipe()
            rep_r, rep_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    os.close(cmd_w)
                    os.close(rep_r)
                    client_main(i, port, mode, cmd_r, rep_w)
                finally:
                    os._exit(1)
            os.close(cmd_r)
            os.close(rep_w)
            self.procs.append((pid, os.fdopen(cmd_w, "w", buffering=1), os.fdopen(rep_r, "r")))

    def ask_all(self, lines):
        for (_, w, _), line in zip(self.procs, lines):
            w.write(line + "\n")
        return [r.readline().strip() for _, _, r in self.procs]

    def open(self, total):
        n = len(self.procs)
        shares = [total // n + (1 if i < total % n else 0) for i in range(n)]
        answers_ = self.ask_all([f"open {k}" for k in shares])
        ok = sum(int(a.split()[0]) for a in answers_)
        failed = sum(int(a.split()[1]) for a in answers_)
        why = {a.split(" ", 2)[2] for a in answers_ if len(a.split(" ", 2)) > 2 and a.split(" ", 2)[2]}
        return ok, failed, why

    def still_open(self):
        return sum(int(a) for a in self.ask_all(["check"] * len(self.procs)))

    def close(self):
        for pid, w, r in self.procs:
            try:
                w.write("exit\n")
                w.close()
            except OSError:
                pass
        for pid, _, _ in self.procs:
            os.waitpid(pid, 0)


# ---------------------------------------------------------------- measuring

def slab_bytes():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("Slab:"):
                return int(line.split()[1]) * 1024
    return 0


def measure(name, mode="http"):
    """One row: `name` is the server, `mode` http, ws or ws-deflate."""
    proc, port = start_httpkit() if name.startswith("httpkit") else start_nginx()
    print(f"[{name}] pid {proc.pid} on 127.0.0.1:{port}", flush=True)
    time.sleep(0.5)
    rss0, procs = tree_rss(proc.pid)
    clients = Clients(args.clients, port, mode)
    done_what = "upgraded and echoed" if mode.startswith("ws") else "with a full 200"
    try:
        t = time.monotonic()
        ok1, failed1, why1 = clients.open(args.warmup)
        print(f"[{name}] warm-up: {ok1} connections {done_what}, {failed1} failed "
              f"({time.monotonic() - t:.1f}s)", flush=True)
        time.sleep(args.settle)
        rss1, _ = tree_rss(proc.pid)
        slab1 = slab_bytes()
        t = time.monotonic()
        ok2, failed2, why2 = clients.open(args.connections - args.warmup)
        print(f"[{name}] +{ok2} connections {done_what}, {failed2} failed "
              f"({time.monotonic() - t:.1f}s)", flush=True)
        time.sleep(args.settle)
        rss2, procs = tree_rss(proc.pid)
        slab2 = slab_bytes()
        held = clients.still_open()
        alive = proc.poll() is None
    finally:
        clients.close()
    stop(proc)
    started.remove(proc)
    ok = ok1 + ok2
    per_conn = (rss2 - rss1) / max(1, ok2)
    slab_per_conn = (slab2 - slab1) / max(1, ok2)
    problems = []
    if ok != args.connections:
        problems.append(f"only {ok} of {args.connections} connections got a full 200 "
                        f"({'; '.join(sorted(why1 | why2))})")
    if held != ok:
        problems.append(f"only {held} of {ok} connections still open at measurement time")
    if not alive:
        problems.append("server died")
    return dict(name=name, procs=procs, rss0=rss0, rss1=rss1, rss2=rss2, ok=ok, held=held,
                measured=ok2, per_conn=per_conn, slab_per_conn=slab_per_conn, problems=problems)


def mib(b):
    return f"{b / 1048576:.1f} MiB"


def main():
    if args.websocket:
        rows = [("httpkit ws", "ws"), ("httpkit ws+deflate", "ws-deflate")]
    elif args.tls:
        make_certs()
        servers = ["httpkit", "nginx"] if args.server == "both" else [args.server]
        rows = [(f"{n} TLS {v}", "tls" + v) for v in TLS_VERSIONS for n in servers]
    else:
        rows = [(n, "http") for n in (["httpkit", "nginx"] if args.server == "both" else [args.server])]
    kind = "idle WebSocket" if args.websocket else "keep-alive HTTPS" if args.tls else "keep-alive"
    print(f"memory: {args.connections} {kind} connections ({args.warmup} warm-up), "
          f"{args.clients} client processes, settle {args.settle}s", flush=True)
    if any(n.startswith("httpkit") for n, _ in rows):
        print(f"httpkit-server args: {args.server_args}", flush=True)
    results = [measure(n, mode) for n, mode in rows]
    print()
    print(f"{'server':18} | {'procs':>5} | {'RSS idle':>10} | {'RSS warm':>10} | {'RSS held':>10} | "
          f"{'held open':>11} | {'bytes/conn':>10} | {'kernel/conn':>11}")
    print("-" * 109)
    for r in results:
        print(f"{r['name']:18} | {r['procs']:>5} | {mib(r['rss0']):>10} | {mib(r['rss1']):>10} | "
              f"{mib(r['rss2']):>10} | {r['held']:>5}/{args.connections:<5} | {r['per_conn']:>10.0f} | "
              f"{r['slab_per_conn']:>11.0f}")
    print(f"(bytes/conn = (RSS held - RSS warm) / the {args.connections - args.warmup} connections opened "
          f"after the warm-up; RSS summed over all server processes; kernel/conn = the growth of the "
          f"kernel's slab over the same connections, both ends of each)")
    if not args.websocket and not args.tls and len(results) == 2 and results[1]["per_conn"] > 0:
        print(f"httpkit/nginx per-connection ratio: {results[0]['per_conn'] / results[1]['per_conn']:.2f}")
    if args.tls and args.server == "both":
        for i in range(0, len(results) - 1, 2):
            if results[i + 1]["per_conn"] > 0:
                print(f"{results[i]['name']} / {results[i + 1]['name']} per-connection ratio: "
                      f"{results[i]['per_conn'] / results[i + 1]['per_conn']:.2f}")
        print(f"TLS: ECDSA P-256 leaf of a test CA (scripts/lib/certs.sh), verified by the clients "
              f"(Python ssl, {ssl.OPENSSL_VERSION}); each row's clients allow only its version")
    bad = [f"{r['name']}: {p}" for r in results for p in r["problems"]]
    for b in bad:
        print(f"PROBLEM {b}")
    sys.exit(1 if bad else 0)


main()
PYEOF
