"""How the helper daemons (moto, the Secret Service) know when to stop."""
import os
import sys
import time


def serve_until_done(parent):
    """Returns when stdin closes (with --until-stdin-closes: scripts hold a FIFO open)
    or when the parent process exits (test binaries cannot be trusted to clean up)."""
    if "--until-stdin-closes" in sys.argv:
        sys.stdin.read()
        return
    while os.getppid() == parent:
        time.sleep(0.5)
