#!/usr/bin/python3
"""httpkit-fetch --max-filesize against a gzip bomb, served for real.

A small gzip body can inflate to any size: 1 GiB of zeros is about 1 MB at
level 9. --max-filesize (curl's flag and exit status 63) bounds the decoded
body: past the limit fetch stops with one line on stderr, having written at
most the limit. Bodies under the limit come out byte for byte; a body whose
Content-Length already says it is over the limit is not fetched at all, as
curl does; and without the flag (curl's default: no limit) the bomb streams
through whole, in bounded memory. fetch's peak RSS comes from wait4().
"""

import gzip
import http.server
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import zlib

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN_DIR = os.environ.get("HTTPKIT_BIN_DIR", os.path.join(REPO_ROOT, "build", "bin"))
if not os.path.isabs(BIN_DIR):
    BIN_DIR = os.path.join(REPO_ROOT, BIN_DIR)
FETCH = os.path.join(BIN_DIR, "httpkit-fetch")

BOMB_SIZE = 1 << 30  # decoded
LIMIT = 10 << 20  # --max-filesize 10M
RSS_BOUND = 32 << 20  # fetch's peak RSS, whatever the body (about 15 MB when measured)
TIMEOUT = 120  # seconds for any one fetch

failures = []
checks = 0


def check(what, ok, detail=""):
    global checks
    checks += 1
    print(("ok   - " if ok else "FAIL - ") + what + (f" ({detail})" if detail else ""), flush=True)
    if not ok:
        failures.append(what)


def make_bomb():
    """BOMB_SIZE zeros, gzip'd at level 9. Each MiB is compressed on its own
    (a full flush between them), so one MiB's deflate bytes, repeated, make
    the whole stream: no GiB is ever compressed or held in memory."""
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # gzip, deflate, no name
    z = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    mib = z.compress(zeros) + z.flush(zlib.Z_FULL_FLUSH)
    assert z.compress(zeros) + z.flush(zlib.Z_FULL_FLUSH) == mib  # the state repeats
    last = z.compress(zeros) + z.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(BOMB_SIZE >> 20):
        crc = zlib.crc32(zeros, crc)
    trailer = crc.to_bytes(4, "little") + (BOMB_SIZE & 0xFFFFFFFF).to_bytes(4, "little")
    return header + mib * ((BOMB_SIZE >> 20) - 1) + last + trailer


def make_text(n):
    """n bytes of varied text (compresses, but not to nothing)."""
    rng = random.Random(6455)
    words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
             for _ in range(5000)]
    out = bytearray()
    while len(out) < n:
        out += rng.choice(words) + (b"\n" if rng.random() < 0.1 else b" ")
    return bytes(out[:n])


TEXT = make_text(3 << 20)
BODIES = {}  # path -> (Content-Encoding or None, bytes, chunked)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        encoding, body, chunked = BODIES.get(self.path, (None, None, False))
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            if chunked:
                for i in range(0, len(body), 65536):
                    piece = body[i:i + 65536]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # fetch stopped reading: expected here

    def log_message(self, *args):
        pass


def peak_rss(pid):
    """VmHWM of a running process (its own: the forked parent's pages, which
    wait4's ru_maxrss would count, are gone after exec), or 0 once it exited."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def fetch(*args, stdout_to=None):
    """Runs httpkit-fetch; returns (exit status, stdout bytes or their count,
    stderr text, the largest VmHWM seen while it ran)."""
    out = subprocess.PIPE if stdout_to is None else stdout_to
    proc = subprocess.Popen([FETCH, *args], stdout=out, stderr=subprocess.PIPE)
    killer = threading.Timer(TIMEOUT, proc.kill)
    killer.start()
    err = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read()))
    reader.start()
    peak = [0]
    done = threading.Event()

    def sample():  # the peak until the last sample; fetch's RSS only grows at its start
        while not done.wait(0.01):
            peak[0] = max(peak[0], peak_rss(proc.pid))

    sampler = threading.Thread(target=sample)
    sampler.start()
    data = bytearray()
    counted = 0
    if stdout_to is None:
        while True:
            chunk = proc.stdout.read(1 << 20)
            if not chunk:
                break
            counted += len(chunk)
            if len(data) < (64 << 20):  # keep what a comparison needs, count the rest
                data += chunk
    reader.join(TIMEOUT)
    # Sample once more before reaping (the process stays readable until then).
    peak[0] = max(peak[0], peak_rss(proc.pid))
    done.set()
    sampler.join()
    proc.wait()
    killer.cancel()
    stdout = bytes(data) if counted == len(data) else counted
    return proc.returncode, stdout, err[0].decode("utf-8", "replace") if err else "", peak[0]


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)  # a fetch that stops early resets


def main():
    if not os.access(FETCH, os.X_OK):
        print(f"missing {FETCH} (build first)")
        sys.exit(2)
    started = time.monotonic()
    bomb = make_bomb()
    print(f"gzip bomb: {len(bomb)} bytes inflating to {BOMB_SIZE} "
          f"(made in {time.monotonic() - started:.1f} s)", flush=True)
    BODIES["/bomb"] = ("gzip", bomb, False)
    BODIES["/text.gz"] = ("gzip", gzip.compress(TEXT, 6), False)
    BODIES["/text.gz.chunked"] = ("gzip", gzip.compress(TEXT, 6), True)
    BODIES["/small"] = (None, b"small body\n", False)
    BODIES["/plain-1025"] = (None, TEXT[:1025], False)
    BODIES["/plain-1024"] = (None, TEXT[:1024], False)
    BODIES["/plain-big"] = (None, TEXT, False)
    BODIES["/chunked-big"] = (None, TEXT, True)

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    with tempfile.TemporaryDirectory(prefix="httpkit-fetch-limit.") as work:
        rc, out, err, _ = fetch(f"{base}/small")
        check("a small body: exit 0, as sent", rc == 0 and out == b"small body\n", f"{rc} {err}")

        # The bomb against the limit.
        target = os.path.join(work, "bomb.out")
        rc, _, err, rss = fetch("--compressed", "--max-filesize", "10M", "-o", target,
                                f"{base}/bomb")
        size = os.path.getsize(target) if os.path.exists(target) else -1
        print(f"bomb, --max-filesize 10M: exit {rc}, wrote {size} bytes, peak RSS {rss >> 10} kB;"
              f" stderr: {err.strip()}", flush=True)
        check("bomb over --max-filesize: exit 63", rc == 63, str(rc))
        check("bomb: one clear line on stderr",
              err.count("\n") == 1 and err.startswith("httpkit-fetch: body too large:")
              and "--max-filesize (10485760 bytes)" in err, err.strip())
        check("bomb: at most the limit written", 0 <= size <= LIMIT, str(size))
        if size >= 0:
            with open(target, "rb") as f:
                check("bomb: what was written is the decoded body's start (zeros)",
                      f.read() == bytes(size))
        check(f"bomb: fetch's peak RSS < {RSS_BOUND >> 20} MiB", rss < RSS_BOUND,
              f"{rss >> 10} kB")

        # Without a limit (curl's default) the bomb streams through whole.
        rc, count, err, rss = fetch("--compressed", f"{base}/bomb")
        count = count if isinstance(count, int) else len(count)
        print(f"bomb, no limit: exit {rc}, {count} bytes out, peak RSS {rss >> 10} kB", flush=True)
        check("bomb without --max-filesize: exit 0, all 1 GiB decoded",
              rc == 0 and count == BOMB_SIZE, f"{rc} {count} {err.strip()}")
        check(f"bomb without --max-filesize: streamed, not buffered (peak RSS"
              f" < {RSS_BOUND >> 20} MiB)", 0 < rss < RSS_BOUND, f"{rss >> 10} kB")

        # Bodies under the limit pass unchanged.
        for path in ("/text.gz", "/text.gz.chunked"):
            rc, out, err, _ = fetch("--compressed", "--max-filesize", "10M", f"{base}{path}")
            check(f"{path} (3 MiB decoded) under the limit: exit 0, byte-identical",
                  rc == 0 and out == TEXT, f"{rc} {len(out)} {err.strip()}")
        rc, out, err, _ = fetch("--max-filesize", str(len(TEXT)), f"{base}/text.gz")
        check("a limit equal to the decoded size passes", rc == 0 and out == TEXT, f"{rc} {err}")
        rc, out, err, _ = fetch("--max-filesize", str(len(TEXT) - 1), f"{base}/text.gz")
        check("one byte less: exit 63, at most the limit written",
              rc == 63 and len(out) <= len(TEXT) - 1 and TEXT.startswith(out),
              f"{rc} {len(out)} {err.strip()}")

        # Identity bodies: an announced length over the limit is refused
        # before a byte is written; an unannounced one stops at the limit.
        rc, out, err, _ = fetch("--max-filesize", "1M", f"{base}/plain-big")
        check("Content-Length over the limit: exit 63, nothing written",
              rc == 63 and out == b"" and "announced 3145728 bytes" in err,
              f"{rc} {len(out)} {err.strip()}")
        rc, out, err, _ = fetch("--max-filesize", "1M", f"{base}/chunked-big")
        check("chunked over the limit: exit 63, at most the limit written",
              rc == 63 and len(out) <= (1 << 20) and TEXT.startswith(out),
              f"{rc} {len(out)} {err.strip()}")
        rc, out, _, _ = fetch("--max-filesize", "1k", f"{base}/plain-1024")
        check("1k: a 1024-byte body passes", rc == 0 and out == TEXT[:1024], str(rc))
        rc, out, _, _ = fetch("--max-filesize", "1k", f"{base}/plain-1025")
        check("1k: a 1025-byte body is refused", rc == 63 and out == b"", str(rc))
        rc, out, _, _ = fetch("--raw", "--max-filesize", "2M", f"{base}/bomb")
        check("--raw: the limit counts the bytes as sent (the bomb is 1 MB)",
              rc == 0 and out == bomb, f"{rc} {len(out)}")
        rc, _, err, _ = fetch("--max-filesize", "10X", f"{base}/small")
        check("a bad size: usage error (exit 2)", rc == 2 and "--max-filesize" in err,
              f"{rc} {err.strip()}")

    server.shutdown()
    print(f"{checks - len(failures)}/{checks} checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
