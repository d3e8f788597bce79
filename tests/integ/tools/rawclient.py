#!/usr/bin/python3
"""rawclient.py - a proxy client that sends exact bytes, for tollgate's
integration tests.

    rawclient.py [--pause SECONDS] [--timeout SECONDS] [--log FILE]
                 TARGET STEP...

TARGET is HOST:PORT or unix:PATH.  The steps run in order:

  s:HEX     send these bytes, in one write;
  b:HEX     send them one byte per write, --pause seconds apart (default
            0.1; TCP_NODELAY is set);
  r:N       read until N more bytes have come (or the end, or the
            timeout);
  p:SECONDS pause;
  a         read until the peer closes (or the timeout).

--timeout (default 10) bounds the whole run.  Every byte read is appended
to --log as hex as it comes, so that a test can watch a client wait.
Prints at the end, as "key: value" lines:
    got: HEX         everything read ("" when nothing)
    end: eof|reset|timeout|done|send-error   how it ended (done: after
                     the last step, the connection still open)
    elapsed: SECONDS
"""

import argparse
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pause", type=float, default=0.1)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--log")
    ap.add_argument("target")
    ap.add_argument("steps", nargs="+")
    a = ap.parse_args()

    if a.target.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(a.target[5:])
    else:
        host, port = a.target.rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    start = time.monotonic()
    deadline = start + a.timeout
    got = b""
    end = "done"

    def read_some():
        nonlocal got
        left = deadline - time.monotonic()
        if left <= 0:
            return "timeout"
        s.settimeout(left)
        try:
            b = s.recv(65536)
        except socket.timeout:
            return "timeout"
        except ConnectionResetError:
            return "reset"
        if not b:
            return "eof"
        got += b
        if a.log:
            with open(a.log, "a") as f:
                f.write(b.hex())
        return None

    for step in a.steps:
        kind, _, arg = step.partition(":")
        if kind in ("s", "b"):
            data = bytes.fromhex(arg)
            try:
                if kind == "s":
                    s.sendall(data)
                else:
                    for i in range(len(data)):
                        s.sendall(data[i:i + 1])
                        time.sleep(a.pause)
            except OSError:
                end = "send-error"
                break
        elif kind == "r":
            want = len(got) + int(arg)
            while len(got) < want:
                r = read_some()
                if r is not None:
                    end = r
                    break
            if end != "done":
                break
        elif kind == "p":
            time.sleep(float(arg))
        elif kind == "a":
            while True:
                r = read_some()
                if r is not None:
                    end = r
                    break
            break
        else:
            sys.exit("rawclient.py: unknown step " + step)
    print("got: " + got.hex())
    print("end: " + end)
    print("elapsed: %.2f" % (time.monotonic() - start))


if __name__ == "__main__":
    main()
