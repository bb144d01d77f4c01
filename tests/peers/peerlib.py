"""Shared helpers for the Python peer tests (run with /usr/bin/python3).

Starts httpkit-server on a loopback port the kernel picks, waits until it answers,
and stops it by PID at exit (atexit plus SIGTERM/SIGINT handlers), so a
failing or interrupted test never leaves a server behind.
"""

import atexit
import os
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
sys.path.insert(0, os.path.join(REPO_ROOT, "scripts", "lib"))
import benchmark_text  # noqa: E402  (reads apps/common/benchmark_text.hpp)

SENTENCE = benchmark_text.SENTENCE
FULL_TEXT = benchmark_text.TEXT


def expected_body(length=None):
    """The handler's body for ?length=LENGTH (None: no parameter)."""
    return benchmark_text.body(length)


def server_binary():
    bin_dir = os.environ.get("HTTPKIT_BIN_DIR", "build/bin")
    if not os.path.isabs(bin_dir):
        bin_dir = os.path.join(REPO_ROOT, bin_dir)
    return os.path.join(bin_dir, "httpkit-server")


class RawSocket:
    """The raw-socket client every Python peer uses: a TCP connection to
    127.0.0.1:port whose reads all have a deadline, plus a buffer of what was
    read past the last answer. Sends what no library would; reads a response
    byte for byte, so the framing itself is checked."""

    def __init__(self, port, timeout=None, host="127.0.0.1"):
        self.timeout = scaled(5.0) if timeout is None else timeout
        self.sock = socket.create_connection((host, port), timeout=self.timeout)
        self.buffer = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def send(self, data):
        """Sends every byte; False (not an error) when the server already
        closed or reset: it may stop reading once it has decided."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def _deadline(self, timeout):
        return time.monotonic() + (self.timeout if timeout is None else timeout)

    def recv_some(self, deadline):
        """One read of what arrives before the deadline (b"" on EOF); raises
        socket.timeout when nothing does."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("deadline passed")
        self.sock.settimeout(left)
        try:
            return self.sock.recv(65536)
        finally:
            self.sock.settimeout(self.timeout)  # for a caller that reads the socket itself

    def fill(self, n, deadline):
        """Reads until the buffer holds n bytes; EOFError if the peer closes."""
        while len(self.buffer) < n:
            chunk = self.recv_some(deadline)
            if not chunk:
                raise EOFError("connection closed")
            self.buffer += chunk

    def take(self, n):
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def read_exactly(self, n, timeout=None):
        self.fill(n, self._deadline(timeout))
        return self.take(n)

    def read_until(self, marker, timeout=None):
        """The bytes up to and including marker; EOFError if the peer closes first."""
        deadline = self._deadline(timeout)
        while marker not in self.buffer:
            chunk = self.recv_some(deadline)
            if not chunk:
                raise EOFError("connection closed")
            self.buffer += chunk
        return self.take(self.buffer.index(marker) + len(marker))

    def read_line(self, timeout=None):
        """The next CRLF-terminated line, without its CRLF."""
        return self.read_until(b"\r\n", timeout)[:-2]

    def read_head(self, timeout=None):
        """(status, {lower-case name: first value}) of the next response
        head, or (None, {}) when none is complete before the deadline or the close."""
        try:
            head = self.read_until(b"\r\n\r\n", timeout)
        except (EOFError, socket.timeout, ConnectionResetError):
            return None, {}
        lines = head[:-4].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        try:
            return int(parts[1]), headers
        except (IndexError, ValueError):
            return None, headers

    def read_until_close(self, timeout=None):
        """Everything until the peer closes (EOF or reset) or the deadline."""
        deadline = self._deadline(timeout)
        try:
            while True:
                chunk = self.recv_some(deadline)
                if not chunk:
                    break
                self.buffer += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return self.take(len(self.buffer))

    def closed_by_peer(self, timeout=None, more_allowed=True):
        """(closed, how): "FIN" or "RST" once the peer closes within timeout;
        (False, why) otherwise. What it still sends is dropped, or with
        more_allowed=False is itself the failure."""
        wait = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + wait
        try:
            while True:
                extra = self.recv_some(deadline)
                if not extra:
                    return True, "FIN"
                if not more_allowed:
                    return False, f"sent more bytes: {extra[:80]!r}"
        except socket.timeout:
            return False, f"still open after {wait}s"
        except (ConnectionResetError, OSError):
            return True, "RST"


def http_get_status(port, timeout=3.0):
    """Status code of a plain GET / on a fresh connection, or None."""
    try:
        with RawSocket(port, timeout=timeout) as s:
            s.send(b"GET / HTTP/1.1\r\nHost: peer\r\nConnection: close\r\n\r\n")
            line = s.read_line().split(b" ", 2)
            return int(line[1]) if len(line) >= 2 and line[0].startswith(b"HTTP/") else None
    except (OSError, ValueError, EOFError):
        return None


# Every Server made by this process, so that Checks.finish() can look at
# their output for sanitizer reports (see SANITIZER_MARKS).
_servers = []

# What ASan, LSan and UBSan print when they find something. A sanitized
# server that reports and goes on (or a leak found at exit) fails the test.
SANITIZER_MARKS = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer", b"runtime error:")


# What httpkit-server and the examples print once they listen:
# "Server started. listen at 127.0.0.1:PORT", "... chat at http://127.0.0.1:PORT/".
STARTED_LINE = re.compile(rb"^Server started\.[^\n]*:(\d+)/?\r?$", re.M)


class Server:
    """One httpkit-server process on 127.0.0.1:<a port the kernel picks>."""

    def __init__(self, *args):
        _servers.append(self)
        self.args = list(args)
        self.proc = None
        self.port = None
        self.log = tempfile.NamedTemporaryFile(prefix="httpkit-peer-", suffix=".log", delete=False)
        atexit.register(self._remove_log)
        atexit.register(self.stop)  # atexit runs in reverse: stop first, then remove the log

    def binary(self):
        return server_binary()

    def start(self, timeout=None):
        """Start on --port 0 and read the port the kernel chose back from the
        server's "Server started. ... ADDR:PORT" line: no port search, no
        race with other listeners, never a port an outgoing connection holds.
        Waits (bounded, scaled) until the server answers."""
        binary = self.binary()
        name = os.path.basename(binary)
        if not os.access(binary, os.X_OK):
            raise SystemExit(f"FAIL - {name} not found: {binary} (set HTTPKIT_BIN_DIR)")
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--bind", "127.0.0.1", *self.args],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + (scaled(10.0) if timeout is None else timeout)
        while time.monotonic() < deadline and self.proc.poll() is None:
            if self.port is None:
                with open(self.log.name, "rb") as f:
                    m = STARTED_LINE.search(f.read())
                self.port = int(m.group(1)) if m else None
            if self.port is not None and self.probe(timeout=1.0) is not None:
                print(f"started {name} pid {self.proc.pid} on 127.0.0.1:{self.port} "
                      f"{' '.join(self.args)}", flush=True)
                return self
            time.sleep(0.1)
        tail = self.output_tail()
        self.stop()
        raise SystemExit(f"FAIL - {name} did not come up on a free port; its output:\n{tail}")

    def probe(self, timeout=3.0):
        """The status of GET / on the server's port, or None (no answer)."""
        return http_get_status(self.port, timeout=timeout)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None and self.probe() == 200

    def rss_kib(self):
        """The server process's resident set, KiB."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

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
