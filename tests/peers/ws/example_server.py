"""Starts one of the example programs (chat, async_examples) the way
peerlib.Server starts httpkit-server: a random free loopback port, stopped
by PID at exit."""

import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import peerlib  # noqa: E402


class ExampleServer(peerlib.Server):
    def __init__(self, name, *args):
        super().__init__(*args)
        self.name = name

    def binary(self):
        return os.path.join(os.path.dirname(peerlib.server_binary()), self.name)

    def start(self, attempts=8, timeout=10.0):
        binary = self.binary()
        if not os.access(binary, os.X_OK):
            raise SystemExit(f"FAIL - example not found: {binary} (set HTTPKIT_BIN_DIR)")
        for _ in range(attempts):
            port = random.randint(20000, 30000)
            if peerlib.port_in_use(port):
                continue
            self.proc = subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", *self.args],
                stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                if peerlib.http_get_status(port, timeout=1.0) is not None:
                    self.port = port
                    print(f"started {self.name} pid {self.proc.pid} on 127.0.0.1:{port}",
                          flush=True)
                    return self
                time.sleep(0.1)
            self.stop()
        raise SystemExit(f"FAIL - could not start {binary}")
