#!/usr/bin/python3
"""A listener whose backlog is full and which never accepts: connects to it
hang in SYN_SENT, which is how the connect-timeout test gets a slow connect.

Usage: silent_listener.py PORT
"""
import signal
import socket
import sys
import time

port = int(sys.argv[1])
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(0)
fillers = []
for _ in range(4):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    fillers.append(s)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
while True:
    time.sleep(1)
