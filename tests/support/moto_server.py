#!/usr/bin/env python3
"""A moto server on a free loopback port, with its request recorder on.

Prints the port on the first line of stdout, then serves until its parent process
exits (tests cannot be trusted to run destructors), or until stdin closes when
--until-stdin-closes is given (the demo script).
"""
import logging
import os
import shutil
import tempfile
import urllib.request

os.environ["MOTO_ENABLE_RECORDING"] = "True"
# The recorder writes to a file, by default ./moto_recording: shared by every moto
# started from the same directory, so parallel servers would read each other's calls.
RECORDING_DIR = tempfile.mkdtemp(prefix="awsrole-moto-")
os.environ["MOTO_RECORDER_FILEPATH"] = os.path.join(RECORDING_DIR, "recording")

from lifetime import serve_until_done  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402


def main():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    parent = os.getppid()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server._server.server_port
    url = f"http://127.0.0.1:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/recorder/start-recording", method="POST")).read()
    print(port, flush=True)
    try:
        serve_until_done(parent)
    finally:
        server.stop()
        shutil.rmtree(RECORDING_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
