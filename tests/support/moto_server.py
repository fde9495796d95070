#!/usr/bin/env python3
"""A moto server on a free loopback port, with its request recorder on, behind a front
that checks every SigV4 signature (sigv4_front.py): a wrong secret or session token
fails the call as it would at AWS.

Prints the front's port on the first line of stdout, then serves until its parent
process exits (tests cannot be trusted to run destructors), or until stdin closes when
--until-stdin-closes is given (the demo script, the conformance runner).
--known-key ID:SECRET (repeatable) adds a fixed long-term key the front accepts, for
callers that sign with keys moto never issued (the conformance runner's static keys).
--unchecked serves moto without the front (the benchmark: it times clients, not checks).
"""
import logging
import os
import shutil
import socketserver
import sys
import tempfile
import threading
import urllib.request

os.environ["MOTO_ENABLE_RECORDING"] = "True"
# The recorder writes to a file, by default ./moto_recording: shared by every moto
# started from the same directory, so parallel servers would read each other's calls.
RECORDING_DIR = tempfile.mkdtemp(prefix="awsrole-moto-")
os.environ["MOTO_RECORDER_FILEPATH"] = os.path.join(RECORDING_DIR, "recording")

import sigv4_front  # noqa: E402
from lifetime import serve_until_done  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402


def known_keys(argv):
    keys = {}
    for i, arg in enumerate(argv):
        if arg == "--known-key":
            key, _, secret = argv[i + 1].partition(":")
            keys[key] = secret
    return keys


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    parent = os.getppid()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    backend = server._server.server_port
    urllib.request.urlopen(urllib.request.Request(
        f"http://127.0.0.1:{backend}/moto-api/recorder/start-recording", method="POST")).read()
    front = None
    if "--unchecked" not in sys.argv:
        front = Server(("127.0.0.1", 0), sigv4_front.handler(backend, known_keys(sys.argv)))
        threading.Thread(target=front.serve_forever, daemon=True).start()
    print(front.server_address[1] if front else backend, flush=True)
    try:
        serve_until_done(parent)
    finally:
        if front:
            front.shutdown()
        server.stop()
        shutil.rmtree(RECORDING_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
