#!/usr/bin/python3 -I
"""manyconns.py IP PORT COUNT SECONDS: open COUNT connections to IP:PORT
at once (non-blocking), send each "ping N\\n" and wait at most SECONDS for
the echo of that line; served connections are held open until the end,
so that all of them are open at once.  Prints one line:
  served=N refused=N reset=N timeout=N
served: its echo came back whole; refused: the connection was refused or
closed before anything was written back (no connect, or reset/EOF with
nothing read); reset: some of the echo came back, then a reset or EOF
cut it short; timeout: nothing happened by the deadline.
"""
import errno
import selectors
import socket
import sys
import time


def main():
    ip, port, count, secs = sys.argv[1], int(sys.argv[2]), int(
        sys.argv[3]), float(sys.argv[4])
    fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
    sel = selectors.DefaultSelector()
    st = {"served": 0, "refused": 0, "reset": 0, "timeout": 0}
    conns = {}
    held = []
    for i in range(count):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setblocking(False)
        r = s.connect_ex((ip, port))
        if r not in (0, errno.EINPROGRESS):
            st["refused"] += 1
            s.close()
            continue
        want = b"ping %d\n" % i
        conns[s] = [want, b"", False]
        sel.register(s, selectors.EVENT_WRITE)
    deadline = time.monotonic() + secs
    while conns and time.monotonic() < deadline:
        for key, ev in sel.select(timeout=0.5):
            s = key.fileobj
            c = conns[s]
            if not c[2]:
                try:
                    s.send(c[0])
                except OSError:
                    st["refused"] += 1
                    sel.unregister(s)
                    s.close()
                    del conns[s]
                    continue
                c[2] = True
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                b = s.recv(256)
            except OSError:
                b = None
            if b:
                c[1] += b
                if c[1] != c[0]:
                    continue
                st["served"] += 1
                sel.unregister(s)
                held.append(s)
                del conns[s]
                continue
            elif c[1]:
                st["reset"] += 1
            else:
                st["refused"] += 1
            sel.unregister(s)
            s.close()
            del conns[s]
    st["timeout"] = len(conns)
    for s in held:
        s.close()
    print(" ".join("%s=%d" % (k, v) for k, v in st.items()), flush=True)


main()
