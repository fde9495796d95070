#!/usr/bin/env python3
"""A private D-Bus session with an unlocked gnome-keyring Secret Service in it.

Prints the bus address on the first line of stdout (the keyring daemon's pid on the
second); stops both daemons, and removes their folder, when its parent process exits,
when stdin closes with --until-stdin-closes, or on SIGTERM.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from lifetime import serve_until_done


def main():
    parent = os.getppid()
    home = tempfile.mkdtemp(prefix="awsrole-secret-service-")
    env = dict(os.environ, HOME=home, XDG_DATA_HOME=f"{home}/share", XDG_RUNTIME_DIR=home)
    # A TERM from whoever started us ends the daemons too (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    daemons = []
    try:
        # Its stderr goes nowhere: a daemon outliving a killed test must not hold the
        # test runner's output open (and its fd-limit complaint is noise).
        bus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
        )
        daemons.append(bus)
        address = bus.stdout.readline().decode().strip()
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        keyring = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )
        daemons.append(keyring)
        keyring.stdin.write(b"test-password")
        keyring.stdin.close()
        # Ready once the service owns its name on the bus.
        for _ in range(100):
            probe = subprocess.run(
                ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                 "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                 "string:org.freedesktop.secrets"],
                env=env, capture_output=True, text=True,
            )
            if "boolean true" in probe.stdout:
                break
            time.sleep(0.05)
        try:
            print(address, flush=True)
            # The daemon's pid on the second line, for tests that stop it (SIGSTOP).
            print(keyring.pid, flush=True)
        except BrokenPipeError:
            # A reader that took only the first line: serve on all the same.
            pass
        serve_until_done(parent)
    finally:
        for daemon in reversed(daemons):
            daemon.terminate()
            try:
                daemon.wait(timeout=5)
            except subprocess.TimeoutExpired:
                daemon.kill()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
