#!/usr/bin/python3
"""tlsclient.py - odd and hostile TLS clients for tollgate's integration tests.

Each mode connects to HOST:PORT, behaves in one particular way and prints
what it saw as "key: value" lines on stdout, for the test to assert on.
The ClientHello is a real one: Python's ssl module writes it into a memory
BIO, and this script only changes how it is framed and paced on the wire.
TLS allows a handshake message to be cut across records at any byte, so a
re-framed ClientHello still completes the handshake with a real server.

Modes:
  split     after --delay seconds of silence (default 0),
            the ClientHello cut into --records records (the cuts fall
            inside the handshake header and inside the server name), or
            into records of --piece-size bytes, each sent as its own TCP
            segment after --gap seconds (0: all at once); then the
            handshake is finished and "GET /" is sent over TLS.
  big       a ClientHello of at least --min-size bytes (a long ALPN list),
            as OpenSSL frames it (more than one record); handshake + GET.
  garbage   200 bytes that start like a TLS handshake record but hold a
            malformed ClientHello.
  oversize  records announcing a ClientHello longer than 32 KiB, filled
            until the peer closes or --fill bytes are sent.
  slow      a real ClientHello, one byte every --gap seconds.
  silent    send nothing; print what the server says first.
  idle      send a line, read the echo, then send nothing and wait for
            the peer to close.

Printed keys: hello_bytes, records, wire_bytes, sent, handshake (ok or
failed: why), response (first line), closed_after (seconds, or "never"), closed_by
(eof|reset|send-error), banner, waited, echo.
"""

import argparse
import select
import socket
import ssl
import sys
import time


def say(key, value):
    print(f"{key}: {value}", flush=True)


def connect(target, timeout):
    host, _, port = target.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, int(port)))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def client_tls(args, big=False):
    """A TLS client state machine over memory BIOs and its first flight."""
    ctx = ssl.create_default_context(cafile=args.cafile)
    if big:
        # Each protocol name may be 255 bytes; enough of them make the
        # ClientHello as large as asked.
        count = args.min_size // 250 + 1
        ctx.set_alpn_protocols([f"p{i:03d}".ljust(250, "x")
                                for i in range(count)])
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname=args.name)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return tls, inc, out, out.read()


def records(data):
    """Split a byte string of TLS records into (type, version, payload)."""
    recs, i = [], 0
    while i + 5 <= len(data):
        n = int.from_bytes(data[i + 3:i + 5], "big")
        recs.append((data[i], data[i + 1:i + 3], data[i + 5:i + 5 + n]))
        i += 5 + n
    return recs


def frame(ctype, version, payload):
    return bytes([ctype]) + version + len(payload).to_bytes(2, "big") + payload


def finish(sock, tls, inc, out, deadline, name):
    """Complete the handshake, send GET /, print the response's first line."""
    def pump_out():
        data = out.read()
        if data:
            sock.sendall(data)

    def pump_in():
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        data = sock.recv(65536)
        if not data:
            inc.write_eof()
            return False
        inc.write(data)
        return True

    try:
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                pump_out()
                if not pump_in():
                    raise ConnectionError("peer closed during handshake")
        pump_out()
        say("handshake", "ok")
        tls.write(b"GET / HTTP/1.0\r\nHost: " + name.encode() +
                  b"\r\n\r\n")
        pump_out()
        body = b""
        while b"\n" not in body:
            try:
                chunk = tls.read(65536)
                if not chunk:
                    break
                body += chunk
            except ssl.SSLWantReadError:
                if not pump_in():
                    break
            except ssl.SSLZeroReturnError:
                break
        line = body.split(b"\n", 1)[0].decode("latin-1").strip()
        say("response", line if line else "none")
    except (OSError, ssl.SSLError, ConnectionError) as e:
        say("handshake", f"failed: {e}")


def wait_closed(sock, start, until):
    """Wait until the peer closes, or until the monotonic time `until`.
    Returns "eof", "reset" or None, draining any data the peer sends."""
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            return None
        try:
            if not sock.recv(65536):
                return "eof"
        except ConnectionResetError:
            return "reset"
        except OSError:
            return "reset"


def report_closed(how, start):
    if how is None:
        say("closed_after", "never")
    else:
        say("closed_after", f"{time.monotonic() - start:.2f}")
        say("closed_by", how)


def mode_split(args):
    tls, inc, out, hello = client_tls(args)
    recs = records(hello)
    payload = b"".join(p for (_, _, p) in recs)
    version = recs[0][1]
    say("hello_bytes", len(payload))
    name = args.name.encode()
    at = payload.find(name)
    if args.piece_size:
        cuts = list(range(args.piece_size, len(payload), args.piece_size))
    else:
        # Cut inside the 4-byte handshake header, then inside the name,
        # then evenly through what is left.
        cuts = [2]
        if at > 2:
            cuts.append(at + len(name) // 2)
        while len(cuts) < args.records - 1:
            last = cuts[-1]
            cuts.append(last + (len(payload) - last) // 2)
    cuts = sorted(set(c for c in cuts if 0 < c < len(payload)))
    pieces, prev = [], 0
    for c in cuts + [len(payload)]:
        pieces.append(payload[prev:c])
        prev = c
    say("records", len(pieces))
    sock = connect(args.connect, args.max_time)
    if args.delay > 0:
        time.sleep(args.delay)  # silent first, as a server-first client
    if args.gap > 0:
        for i, piece in enumerate(pieces):
            if i > 0:
                time.sleep(args.gap)
            sock.sendall(frame(0x16, version, piece))
    else:
        wire = b"".join(frame(0x16, version, p) for p in pieces)
        say("wire_bytes", len(wire))
        sock.sendall(wire)
    finish(sock, tls, inc, out, time.monotonic() + args.max_time, args.name)
    sock.close()


def mode_big(args):
    tls, inc, out, hello = client_tls(args, big=True)
    recs = records(hello)
    say("hello_bytes", sum(len(p) for (_, _, p) in recs))
    say("records", len(recs))
    sock = connect(args.connect, args.max_time)
    sock.sendall(hello)
    finish(sock, tls, inc, out, time.monotonic() + args.max_time, args.name)
    sock.close()


def mode_garbage(args):
    # A handshake record holding a "ClientHello" whose session id claims
    # more bytes than the message has: malformed, and complete, so no
    # parser can honestly ask for more.
    body = bytes([0x01]) + (191).to_bytes(3, "big") + b"\x03\x03" + \
        bytes(32) + b"\xff" + b"\xa5" * 156
    data = frame(0x16, b"\x03\x01", body)
    assert len(data) == 200 and data[:3] == b"\x16\x03\x01"
    sock = connect(args.connect, args.max_time)
    start = time.monotonic()
    sock.sendall(data)
    say("sent", len(data))
    report_closed(wait_closed(sock, start, start + args.max_time), start)
    sock.close()


def mode_oversize(args):
    announced = 40 * 1024
    head = bytes([0x01]) + announced.to_bytes(3, "big") + b"\x03\x03"
    sock = connect(args.connect, args.max_time)
    start = time.monotonic()
    sent, how = 0, None
    first = True
    try:
        while sent < args.fill:
            payload = (head if first else b"") + b"\x5a" * 4096
            first = False
            sock.sendall(frame(0x16, b"\x03\x01", payload))
            sent += 5 + len(payload)
            how = wait_closed(sock, start, time.monotonic() + 0.02)
            if how:
                break
    except OSError:
        how = "send-error"
    say("sent", sent)
    if how is None:
        how = wait_closed(sock, start, start + args.max_time)
    report_closed(how, start)
    sock.close()


def mode_slow(args):
    _, _, _, hello = client_tls(args)
    say("hello_bytes", len(hello))
    sock = connect(args.connect, args.max_time)
    start = time.monotonic()
    sent, how = 0, None
    try:
        for b in hello:
            if time.monotonic() - start > args.max_time:
                break
            sock.sendall(bytes([b]))
            sent += 1
            how = wait_closed(sock, start, time.monotonic() + args.gap)
            if how:
                break
    except OSError:
        how = "send-error"
    say("sent", sent)
    report_closed(how, start)
    sock.close()


def mode_silent(args):
    sock = connect(args.connect, args.max_time)
    start = time.monotonic()
    banner = b""
    try:
        sock.settimeout(args.max_time)
        while b"\n" not in banner:
            chunk = sock.recv(4096)
            if not chunk:
                break
            banner += chunk
    except (socket.timeout, OSError):
        pass
    say("waited", f"{time.monotonic() - start:.2f}")
    line = banner.split(b"\n", 1)[0].decode("latin-1").strip()
    say("banner", line if line else "none")
    sock.close()


def mode_idle(args):
    sock = connect(args.connect, args.max_time)
    sock.sendall(b"hello\n")
    got = b""
    try:
        while b"\n" not in got:
            chunk = sock.recv(4096)
            if not chunk:
                break
            got += chunk
    except (socket.timeout, OSError):
        pass
    say("echo", got.split(b"\n", 1)[0].decode("latin-1") or "none")
    start = time.monotonic()
    report_closed(wait_closed(sock, start, start + args.max_time), start)
    sock.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["split", "big", "garbage", "oversize",
                                    "slow", "silent", "idle"])
    p.add_argument("--connect", required=True, help="HOST:PORT or [V6]:PORT")
    p.add_argument("--name", default="a.test", help="server name (SNI)")
    p.add_argument("--cafile", help="CA to verify the server with")
    p.add_argument("--records", type=int, default=3)
    p.add_argument("--delay", type=float, default=0.0,
                   help="split: seconds of silence before the ClientHello")
    p.add_argument("--piece-size", type=int, default=0)
    p.add_argument("--gap", type=float, default=0.2,
                   help="seconds between pieces (split) or bytes (slow)")
    p.add_argument("--min-size", type=int, default=16 * 1024 + 512)
    p.add_argument("--fill", type=int, default=34 * 1024)
    p.add_argument("--max-time", type=float, default=8.0,
                   help="give up after this many seconds")
    args = p.parse_args()
    try:
        globals()["mode_" + args.mode](args)
    except OSError as e:
        say("error", e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
