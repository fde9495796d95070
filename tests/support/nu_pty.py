#!/usr/bin/env python3
"""Drives a real interactive nushell under a pseudo-terminal for the tests.

nushell's line editor asks the terminal where the cursor is (ESC [6n) and waits for
the answer, which a plain pty harness never gives; this driver answers it. Usage:
nu_pty.py NU_BINARY, with the environment nu should get. One request per stdin line,
one answer per stdout line:

  LINE <text>      types <text> and Enter at the next prompt   -> OK
  ANSWER <text>    types <text> and Enter now (a program asks)  -> OK
  EXPECT <text>    waits up to 20 s for <text> in the output   -> OK | FAIL <what was seen>
  VALUE <expr>     prints the nu expression's value            -> VALUE <value> | FAIL …
"""
import os
import pty
import re
import select
import sys
import time

CURSOR_QUERY = b"\x1b[6n"


class Nu:
    def __init__(self, binary):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execv(binary, [binary, "--no-config-file", "--no-std-lib"])
        self.buf = b""
        self.seen = 0
        self.counter = 0
        # Prompts drawn (each asks where the cursor is) and prompts typed into: a line
        # typed before its prompt is drawn can be eaten by the cursor-position read.
        self.prompts = 0
        self.typed = 0

    def pump(self, timeout):
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return
        if CURSOR_QUERY in data:
            os.write(self.fd, b"\x1b[1;1R" * data.count(CURSOR_QUERY))
            self.prompts += 1
        self.buf += data

    def line(self, text):
        end = time.time() + 20
        while self.prompts <= self.typed and time.time() < end:
            self.pump(0.05)
        # Let the line editor finish drawing its prompt.
        quiet = time.time() + 0.1
        while time.time() < quiet:
            self.pump(0.02)
        self.typed = self.prompts
        os.write(self.fd, text.encode() + b"\r")

    def wait_for(self, pattern, timeout=20.0):
        end = time.time() + timeout
        while time.time() < end:
            match = pattern.search(self.buf, self.seen)
            if match:
                self.seen = match.end()
                return match
            self.pump(0.05)
        return None

    def tail(self):
        return self.buf[-400:].decode(errors="replace").replace("\n", "\\n")


def main():
    nu = Nu(sys.argv[1])
    time.sleep(0.2)
    for request in sys.stdin:
        verb, _, arg = request.rstrip("\n").partition(" ")
        if verb == "LINE":
            nu.line(arg)
            answer = "OK"
        elif verb == "ANSWER":
            # A reply to a program's own question (an MFA code): no prompt to wait for.
            os.write(nu.fd, arg.encode() + b"\r")
            answer = "OK"
        elif verb == "EXPECT":
            found = nu.wait_for(re.compile(re.escape(arg.encode())))
            answer = "OK" if found else f"FAIL {nu.tail()}"
        elif verb == "VALUE":
            nu.counter += 1
            tag = f"R{nu.counter}x"
            nu.line(f"print ('@' + '@{tag} ' + ({arg} | into string))")
            found = nu.wait_for(re.compile(rb"@@" + tag.encode() + rb" ([^\r\n]*)"))
            answer = f"VALUE {found.group(1).decode(errors='replace')}" if found else f"FAIL {nu.tail()}"
        else:
            answer = f"FAIL unknown request {verb}"
        print(answer, flush=True)
    os.kill(nu.pid, 9)


if __name__ == "__main__":
    main()
