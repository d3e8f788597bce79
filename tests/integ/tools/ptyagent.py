#!/usr/bin/python3 -I
"""ptyagent.py SECONDS AGENT-ARGV... -- [WAIT-REGEX KEY]... DONE-REGEX

What a guarded program can do with its own user's prompt agent: run it
(tollgate-prompt --tty) in a pseudo-terminal of its own, 100x30, and for
each WAIT-REGEX KEY pair wait until the screen text (escape sequences
taken out) matches WAIT-REGEX since the last key, then press KEY; then wait
for DONE-REGEX.  Prints "screen: TEXT" (what matched) and "pressed KEY"
for each key, and "done: TEXT" when
DONE-REGEX came, or "timeout: ..." with the text since the last key; the
agent is ended (SIGTERM) either way.  Exit status 0 when done, else 1.
"""
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

ANSI = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")


def main():
    secs = float(sys.argv[1])
    sep = sys.argv.index("--")
    argv, steps = sys.argv[2:sep], sys.argv[sep + 1:]
    done_re = re.compile(steps[-1])
    pairs = [(re.compile(steps[i]), steps[i + 1])
             for i in range(0, len(steps) - 1, 2)]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, dict(os.environ, TERM="xterm-256color"))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    deadline = time.monotonic() + secs
    seen = b""
    rc = 1
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                text = ANSI.sub(b" ", seen).decode("utf-8", "replace")
                print("timeout: ..." + " ".join(text.split())[-600:])
                break
            r, _, _ = select.select([fd], [], [], min(left, 0.2))
            if r:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    print("timeout: the agent closed its terminal")
                    break
                seen += data
            text = ANSI.sub(b" ", seen).decode("utf-8", "replace")
            if pairs and pairs[0][0].search(text):
                print("screen: " + " ".join(text.split())[-1500:])
                os.write(fd, pairs[0][1].encode())
                print("pressed " + pairs[0][1], flush=True)
                pairs.pop(0)
                seen = b""
            elif not pairs and done_re.search(text):
                print("done: " + " ".join(text.split())[-300:])
                rc = 0
                break
    finally:
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if os.waitpid(pid, os.WNOHANG)[0] != 0:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    sys.exit(rc)


main()
