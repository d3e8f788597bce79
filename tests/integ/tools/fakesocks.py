#!/usr/bin/python3
"""fakesocks.py - a hostile SOCKS5 server for tollgate's integration tests.

    fakesocks.py ADDR PORT MODE LOG

Listens on ADDR:PORT and serves every client on a thread of its own.  It
answers the greeting as a SOCKS5 server does (username/password when the
client offers it, and then accepts any; else no authentication), and
then, by MODE:

  silent    reads the CONNECT request and never answers it (the
            connection is held until the client closes it);
  garbage   answers the request with an HTTP status line, not SOCKS5;
  close     closes the connection right after the method selection;
  f0        answers the request with Tor's extended code 0xF0 (onion
            service descriptor not found).

Each request read is appended to LOG as one line:
    mode=MODE user=USERNAME dst=NAME:PORT
("-" for no username; the address in text when the request held one).
"""

import socket
import sys
import threading


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        b = s.recv(n - len(data))
        if not b:
            raise EOFError("closed")
        data += b
    return data


def read_request(s):
    head = recv_exact(s, 4)
    if head[0] != 5:
        raise ValueError("not SOCKS5")
    atyp = head[3]
    if atyp == 1:
        dst = socket.inet_ntop(socket.AF_INET, recv_exact(s, 4))
    elif atyp == 4:
        dst = socket.inet_ntop(socket.AF_INET6, recv_exact(s, 16))
    elif atyp == 3:
        n = recv_exact(s, 1)[0]
        dst = recv_exact(s, n).decode("ascii", "replace")
    else:
        raise ValueError("address type %d" % atyp)
    port = int.from_bytes(recv_exact(s, 2), "big")
    return "%s:%d" % (dst, port)


def serve(s, mode, log, lock):
    user = "-"
    try:
        ver, nmethods = recv_exact(s, 2)
        methods = recv_exact(s, nmethods)
        if ver != 5:
            return
        method = 2 if 2 in methods else 0
        s.sendall(bytes([5, method]))
        if mode == "close":
            with lock, open(log, "a") as f:
                f.write("mode=%s user=- dst=-\n" % mode)
            return
        if method == 2:
            recv_exact(s, 1)
            user = recv_exact(s, recv_exact(s, 1)[0]).decode("utf-8", "replace")
            recv_exact(s, recv_exact(s, 1)[0])
            s.sendall(b"\x01\x00")
        dst = read_request(s)
        with lock, open(log, "a") as f:
            f.write("mode=%s user=%s dst=%s\n" % (mode, user or "-", dst))
        if mode == "silent":
            while s.recv(4096):
                pass
        elif mode == "garbage":
            s.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
        elif mode == "f0":
            s.sendall(b"\x05\xf0\x00\x01\x00\x00\x00\x00\x00\x00")
    except (OSError, EOFError, ValueError):
        pass
    finally:
        s.close()


def main():
    addr, port, mode, log = sys.argv[1:5]
    if mode not in ("silent", "garbage", "close", "f0"):
        sys.exit("fakesocks.py: unknown mode " + mode)
    lock = threading.Lock()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, int(port)))
    ls.listen(16)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve, args=(s, mode, log, lock),
                         daemon=True).start()


if __name__ == "__main__":
    main()
