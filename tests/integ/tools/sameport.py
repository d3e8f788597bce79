#!/usr/bin/python3
"""sameport.py SERVER HOLD_PORT HTTP_PORT NAME: two TCP connections from
one source port, as the kernel allows when their destinations differ: the
first to SERVER:HOLD_PORT, held open silent, the second to
SERVER:HTTP_PORT asking http://NAME/.  After the redirect both would be
SRC:P -> tollgated's port, so conntrack gives the second another source
port.  Prints "pid=N port=P" and then the second's status line."""
import socket
import sys

server, hold, http, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
fam = socket.AF_INET6 if ":" in server else socket.AF_INET


def sock():
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(10)
    return s


a = sock()
a.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", 0))
port = a.getsockname()[1]
a.connect((server, hold))
b = sock()
b.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", port))
print("pid=%d port=%d" % (__import__("os").getpid(), port), flush=True)
try:
    b.connect((server, http))
    b.sendall(b"GET / HTTP/1.0\r\nHost: " + name.encode() + b"\r\n\r\n")
    data = b""
    while True:
        d = b.recv(4096)
        if not d:
            break
        data += d
    print(data.split(b"\r\n", 1)[0].decode(errors="replace"))
except OSError as e:
    print("error: %s" % e)
a.close()
