"""Starts one of the example programs (chat, async_examples) the way
peerlib.Server starts httpkit-server: on a port the kernel picks (--port 0,
read back from its start line), stopped by PID at exit."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import peerlib  # noqa: E402


class ExampleServer(peerlib.Server):
    def __init__(self, name, *args):
        super().__init__(*args)
        self.name = name

    def binary(self):
        return os.path.join(os.path.dirname(peerlib.server_binary()), self.name)
