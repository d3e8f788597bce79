#!/usr/bin/python3
"""holdclient.py - open many TCP connections and keep them open, idle.

usage: holdclient.py HOST PORT [-n 10000] [--procs 10] [--hold 120]
                     [--window 64] [--message TEXT]

Forks --procs processes that together open -n connections to HOST:PORT
(tgb-httpd --hold, which reads and never answers).  Each connection sends
--message right after connecting (an HTTP request by default, so a proxy
in between finishes its peek and connects onward at once), then stays
idle.  At most --window connects are in flight per process.

Several processes rather than one: a desktop's connections are spread
over many programs, and a proxy that maps sockets to processes through
/proc/PID/fd pays for every descriptor of the owning process.

Prints "open N failed F seconds S" on stdout once every process has
finished connecting (N: connections that connected and sent the message),
then holds them until SIGTERM arrives or --hold seconds have passed, and
exits.
"""
import argparse
import ctypes
import errno
import os
import resource
import selectors
import signal
import socket
import sys
import time


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def die_with_parent():
    """prctl(PR_SET_PDEATHSIG, SIGTERM): no orphan keeps its sockets."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def opener(host, port, n, window, message, connect_timeout, wfd, hold):
    """Child: open n connections; report "ok failed" on wfd; then hold."""
    raise_nofile(n + 64)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sel = selectors.DefaultSelector()
    held, failed, started = [], 0, 0
    pending = {}
    while started < n or pending:
        while started < n and len(pending) < window:
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setblocking(False)
            started += 1
            rc = s.connect_ex((host, port))
            if rc not in (0, errno.EINPROGRESS):
                failed += 1
                s.close()
                continue
            pending[s.fileno()] = (s, time.monotonic())
            sel.register(s, selectors.EVENT_WRITE)
        for key, _ in sel.select(timeout=0.5):
            s, _t = pending.pop(key.fd)
            sel.unregister(s)
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err != 0:
                failed += 1
                s.close()
                continue
            try:
                s.send(message)
            except OSError:
                failed += 1
                s.close()
                continue
            held.append(s)
        now = time.monotonic()
        for fd, (s, t) in list(pending.items()):
            if now - t > connect_timeout:
                del pending[fd]
                sel.unregister(s)
                s.close()
                failed += 1
    os.write(wfd, b"%d %d\n" % (len(held), failed))
    os.close(wfd)
    # Hold until the parent ends us, and never much past its own --hold.
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    deadline = time.monotonic() + hold + 60
    while time.monotonic() < deadline:
        time.sleep(1.0)
    os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--procs", type=int, default=10)
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--hold", type=float, default=120.0)
    ap.add_argument("--connect-timeout", type=float, default=15.0)
    ap.add_argument("--message",
                    default="GET / HTTP/1.1\r\nHost: hold.test\r\n\r\n")
    a = ap.parse_args()
    message = a.message.encode().decode("unicode_escape").encode("latin-1")
    procs = max(1, min(a.procs, a.n))
    t0 = time.monotonic()
    children = []
    for i in range(procs):
        share = a.n // procs + (1 if i < a.n % procs else 0)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            die_with_parent()
            try:
                opener(a.host, a.port, share, a.window, message,
                       a.connect_timeout, w, a.hold)
            finally:
                os._exit(1)
        os.close(w)
        children.append((pid, r))

    def stop(*_):
        for pid, _r in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid, _r in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    ok = failed = 0
    for pid, r in children:
        data = b""
        while True:
            chunk = os.read(r, 64)
            if not chunk:
                break
            data += chunk
        os.close(r)
        parts = data.split()
        if len(parts) == 2:
            ok += int(parts[0])
            failed += int(parts[1])
        else:
            failed += 1
    print("open %d failed %d seconds %.2f" % (ok, failed,
                                                 time.monotonic() - t0),
          flush=True)
    deadline = time.monotonic() + a.hold
    while time.monotonic() < deadline:
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    stop()


if __name__ == "__main__":
    main()
