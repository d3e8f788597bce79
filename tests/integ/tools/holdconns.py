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
  flood    TARGET as for http: rounds of COUNT connections opened at once,
           each sending "GET / HTTP/1.1" with a Host of ARG; a round ends
           when the other side has closed them all (or after 30 s), and
           the next begins, until SECONDS or stdin closes.  Prints "ready"
           after the first round was sent, then "rounds=N conns=M".
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


def hold(socks, secs, until_all=False):
    """Wait SECONDS or until stdin closes; the closed ones.  With
    until_all, also until every one is closed; None when stdin closed."""
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
                    return None if until_all else closed
                continue
            try:
                data = fds[fd].recv(4096)
            except OSError:
                data = b""
            if not data:
                closed.add(fd)
                poller.unregister(fd)
        if until_all and len(closed) == len(socks):
            break
    return closed


def connect_all(target, count):
    """COUNT non-blocking connections to TARGET (IP:PORT, [IPv6]:PORT)."""
    host, port = target.rsplit(":", 1)
    family = socket.AF_INET6 if host.startswith("[") else socket.AF_INET
    host = host.strip("[]")
    socks = []
    for i in range(count):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((host, int(port)))
        except BlockingIOError:
            pass
        socks.append(s)
    return socks


def send_request(s, name):
    """Once s is connected (5 s at most), a request for name."""
    p = select.poll()
    p.register(s.fileno(), select.POLLOUT)
    p.poll(5000)
    try:
        s.send(("GET / HTTP/1.1\r\nHost: %s\r\n\r\n" % name).encode())
    except OSError:
        pass


def flood(target, count, secs, name):
    """Rounds of COUNT requests at once until SECONDS or stdin closes."""
    deadline = time.monotonic() + secs
    rounds = conns = 0
    while time.monotonic() < deadline:
        socks = connect_all(target, count)
        for s in socks:
            send_request(s, name)
        conns += len(socks)
        rounds += 1
        if rounds == 1:
            print("ready", flush=True)
        left = min(30, max(0, deadline - time.monotonic()))
        gone = hold(socks, left, until_all=True)
        for s in socks:
            s.close()
        if gone is None:
            break
    print("rounds=%d conns=%d" % (rounds, conns), flush=True)


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
    if mode == "flood":
        flood(target, count, secs, arg)
        return
    socks = connect_all(target, count)
    # Connected (the redirect answers at once), then say what is to say.
    if mode == "http":
        for i, s in enumerate(socks):
            send_request(s, arg.format(i))
    print("ready", flush=True)
    closed = hold(socks, secs)
    print("open=%d reset=%d" % (len(socks) - len(closed), len(closed)),
          flush=True)


main()
