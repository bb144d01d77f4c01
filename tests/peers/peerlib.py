"""Shared helpers for the Python peer tests (run with /usr/bin/python3).

Starts httpkit-server on a random free loopback port, waits until it answers,
and stops it by PID at exit (atexit plus SIGTERM/SIGINT handlers), so a
failing or interrupted test never leaves a server behind.
"""

import atexit
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

# Waits are multiplied by HTTPKIT_TIMEOUT_SCALE: a sanitized server is
# several times slower, and a wait must fail on a hang, not on ASan.
TIMEOUT_SCALE = float(os.environ.get("HTTPKIT_TIMEOUT_SCALE", "1"))


def scaled(seconds):
    return seconds * TIMEOUT_SCALE


REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SENTENCE = (b"http-kit is a http server & client written from scrach for high "
            b"performance clojure web applications, support async and websocket")
FULL_TEXT = SENTENCE * 200


def expected_body(length=None):
    """The handler's body for ?length=LENGTH (None: no parameter)."""
    n = 1024 if length is None else max(1, min(10240, int(length)))
    return FULL_TEXT[:n]


def server_binary():
    bin_dir = os.environ.get("HTTPKIT_BIN_DIR", "build/bin")
    if not os.path.isabs(bin_dir):
        bin_dir = os.path.join(REPO_ROOT, bin_dir)
    return os.path.join(bin_dir, "httpkit-server")


def port_in_use(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def http_get_status(port, timeout=3.0):
    """Status code of a plain GET / on a fresh connection, or None."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: peer\r\nConnection: close\r\n\r\n")
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            parts = data.split(b" ", 2)
            return int(parts[1]) if len(parts) >= 2 and parts[0].startswith(b"HTTP/") else None
    except (OSError, ValueError):
        return None


# Every Server made by this process, so that Checks.finish() can look at
# their output for sanitizer reports (see SANITIZER_MARKS).
_servers = []

# What ASan, LSan and UBSan print when they find something. A sanitized
# server that reports and goes on (or a leak found at exit) fails the test.
SANITIZER_MARKS = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer", b"runtime error:")


class Server:
    """One httpkit-server process on 127.0.0.1:<random port>."""

    def __init__(self, *args):
        _servers.append(self)
        self.args = list(args)
        self.proc = None
        self.port = None
        self.log = tempfile.NamedTemporaryFile(prefix="httpkit-peer-", suffix=".log", delete=False)
        atexit.register(self._remove_log)
        atexit.register(self.stop)  # atexit runs in reverse: stop first, then remove the log

    def start(self, attempts=8, timeout=10.0):
        binary = server_binary()
        if not os.access(binary, os.X_OK):
            raise SystemExit(f"FAIL - server binary not found: {binary} (set HTTPKIT_BIN_DIR)")
        for _ in range(attempts):
            port = random.randint(20000, 30000)
            if port_in_use(port):
                continue
            self.proc = subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", *self.args],
                stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                if http_get_status(port, timeout=1.0) is not None:
                    self.port = port
                    print(f"started httpkit-server pid {self.proc.pid} on 127.0.0.1:{port}", flush=True)
                    return self
                time.sleep(0.1)
            self.stop()  # died (port raced away) or never answered: retry elsewhere
        raise SystemExit("FAIL - could not start httpkit-server")

    def start_on_free_port(self, timeout=None):
        """Start on --port 0 and read the port the kernel chose back from the
        server's "listen at ADDR:PORT" line: no port search, no race with
        other listeners. Waits (bounded, scaled) until the server answers."""
        binary = server_binary()
        if not os.access(binary, os.X_OK):
            raise SystemExit(f"FAIL - server binary not found: {binary} (set HTTPKIT_BIN_DIR)")
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--bind", "127.0.0.1", *self.args],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + (scaled(10.0) if timeout is None else timeout)
        while time.monotonic() < deadline and self.proc.poll() is None:
            if self.port is None:
                with open(self.log.name, "rb") as f:
                    m = re.search(rb"listen at [^\s]+:(\d+)", f.read())
                self.port = int(m.group(1)) if m else None
            if self.port is not None and http_get_status(self.port, timeout=1.0) is not None:
                print(f"started httpkit-server pid {self.proc.pid} on 127.0.0.1:{self.port}", flush=True)
                return self
            time.sleep(0.1)
        tail = self.output_tail()
        self.stop()
        raise SystemExit(f"FAIL - httpkit-server did not come up on a free port; its output:\n{tail}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None and http_get_status(self.port) == 200

    def stop(self):
        """SIGTERM by PID, bounded wait, then SIGKILL. Returns the exit status."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def _remove_log(self):
        try:
            os.unlink(self.log.name)
        except OSError:
            pass

    def sanitizer_report(self):
        """The server's output from the first sanitizer report on, or ''."""
        try:
            with open(self.log.name, "rb") as f:
                out = f.read()
        except OSError:
            return ""
        starts = [out.find(m) for m in SANITIZER_MARKS if m in out]
        return out[min(starts):][:4000].decode("utf-8", "replace") if starts else ""

    def output_tail(self, n=20):
        try:
            with open(self.log.name, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""


def _exit_on_signal(signum, frame):
    sys.exit(128 + signum)  # runs atexit handlers, which stop the server


signal.signal(signal.SIGTERM, _exit_on_signal)
signal.signal(signal.SIGINT, _exit_on_signal)


class Checks:
    """Counts assertions and prints one line per check."""

    def __init__(self, name):
        self.name = name
        self.total = 0
        self.failed = []

    def check(self, what, ok, detail=""):
        self.total += 1
        if ok:
            print(f"ok   - {what}" + (f" ({detail})" if detail else ""), flush=True)
        else:
            print(f"FAIL - {what}" + (f": {detail}" if detail else ""), flush=True)
            self.failed.append(what)
        return ok

    def finish(self):
        for server in _servers:
            server.stop()  # its output is complete only once it has exited
            report = server.sanitizer_report()
            self.check("no sanitizer report in the server's output", not report,
                       "\n" + report if report else "")
        if not self.failed:
            print(f"PASS {self.name}: {self.total} checks")
            sys.exit(0)
        print(f"FAILED {self.name}: {len(self.failed)} of {self.total} checks failed:")
        for f in self.failed:
            print(f"  - {f}")
        sys.exit(1)


def run(main, checks):
    """Runs a test's main(): an exception is one failed check, not a lost
    summary; then the checks decide the exit status."""
    try:
        main()
    except Exception as e:  # noqa: BLE001 - reported, not swallowed
        checks.check("test ran to the end", False, f"{type(e).__name__}: {e}")
    checks.finish()
