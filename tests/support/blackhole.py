#!/usr/bin/env python3
"""An address where a connection is never accepted, as 169.254.169.254 is off EC2 (the
packets go nowhere): a loopback listener whose accept queue is full, so the kernel
drops every further SYN and a connect waits until the client's own timeout.
Usage: blackhole.py; prints its port, serves until its parent exits."""
import socket

from lifetime import serve_until_done
import os

listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(0)
port = listener.getsockname()[1]
# Fill the queue (a backlog of 0 holds one); never accept.
fillers = []
for _ in range(3):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    fillers.append(s)
print(port, flush=True)
serve_until_done(os.getppid())
