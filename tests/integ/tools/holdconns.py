#!/usr/bin/python3 -I
"""holdconns.py MODE TARGET COUNT SECONDS [ARG]: open COUNT connections and
hold them for SECONDS (or, when stdin is a pipe, until it closes),
then print what became of them.

  control  TARGET is a unix socket path (tollgated's control socket): a
           connection that is told something (an ERR) and closed within
           a second counts as refused; prints "held=N refused=M" and the
           first ERR line.
  http     TARGET is IP:PORT or [IPv6]:PORT: each connection sends "GET / HTTP/1.1" with
           a Host of ARG formatted with its number (n{}.test), so that each
           is a prompt of its own, then waits.
  silent   TARGET is IP:PORT: connections that send nothing.
For http and silent prints "open=N reset=M" at the end: how many were
still open, and how many the other side had closed or reset.
Prints "ready" (flushed) once every connection was opened.
"""
import os
import select
import socket
import stat
import sys
import time


def hold(socks, secs):
    """Wait SECONDS or until stdin closes; count the closed ones."""
    deadline = time.monotonic() + secs
    closed = set()
    poller = select.poll()
    for i, s in enumerate(socks):
        poller.register(s.fileno(), select.POLLIN)
    # Only a pipe says when to let go (not /dev/null, always at its end).
    if stat.S_ISFIFO(os.fstat(sys.stdin.fileno()).st_mode):
        poller.register(sys.stdin.fileno(), select.POLLIN | select.POLLHUP)
    fds = {s.fileno(): s for s in socks}
    while time.monotonic() < deadline:
        left = max(0, deadline - time.monotonic())
        for fd, ev in poller.poll(min(left, 0.5) * 1000):
            if fd == sys.stdin.fileno():
                if not sys.stdin.buffer.read1(1):
                    return closed
                continue
            try:
                data = fds[fd].recv(4096)
            except OSError:
                data = b""
            if not data:
                closed.add(fd)
                poller.unregister(fd)
    return closed


def main():
    mode, target, count, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        float(sys.argv[4])
    arg = sys.argv[5] if len(sys.argv) > 5 else ""
    socks = []
    if mode == "control":
        held, refused, first = [], 0, ""
        for _ in range(count):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(target)
            socks.append(s)
        time.sleep(0.5)
        for s in socks:
            s.setblocking(False)
            try:
                data = s.recv(4096)
            except BlockingIOError:
                held.append(s)
                continue
            refused += 1
            if data and not first:
                first = data.decode("utf-8", "replace").strip()
            s.close()
        print("held=%d refused=%d" % (len(held), refused))
        print(first, flush=True)
        print("ready", flush=True)
        hold(held, secs)
        return
    host, port = target.rsplit(":", 1)
    family = socket.AF_INET6 if host.startswith("[") else socket.AF_INET
    host = host.strip("[]")
    for i in range(count):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((host, int(port)))
        except BlockingIOError:
            pass
        socks.append(s)
    # Connected (the redirect answers at once), then say what is to say.
    for i, s in enumerate(socks):
        if mode != "http":
            continue
        p = select.poll()
        p.register(s.fileno(), select.POLLOUT)
        p.poll(5000)
        if mode == "http":
            name = arg.format(i)
            try:
                s.send(("GET / HTTP/1.1\r\nHost: %s\r\n\r\n" % name)
                       .encode())
            except OSError:
                pass
    print("ready", flush=True)
    closed = hold(socks, secs)
    print("open=%d reset=%d" % (len(socks) - len(closed), len(closed)),
          flush=True)


main()
