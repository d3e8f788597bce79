#!/usr/bin/python3
"""latency.py - time connect + one request + first byte of the answer.

usage: latency.py HOST PORT [-n 500] [--warmup 20] [--timeout 5]

One long-lived process makes N sequential connections to an HTTP server
(tgb-httpd --http): for each, time.perf_counter() is read before
connect() and after the first byte of the response arrived; the rest of
the response is drained and the socket closed outside the timed part.
The first --warmup connections are not counted.  Prints one JSON object:
n, errors, p50_us, p90_us, p99_us, mean_us, min_us, max_us.
"""
import argparse
import json
import math
import socket
import statistics
import sys
import time


def percentile(sorted_vals, p):
    """Nearest-rank percentile of an ascending list (p in 0..100)."""
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1,
                   math.ceil(p / 100.0 * len(sorted_vals)) - 1))
    return sorted_vals[k]


def one(host, port, request, timeout):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                      socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        t0 = time.perf_counter()
        s.connect((host, port))
        s.sendall(request)
        first = s.recv(1)
        t1 = time.perf_counter()
        if not first:
            raise ConnectionError("closed before the first byte")
        while s.recv(4096):
            pass
    finally:
        s.close()
    return (t1 - t0) * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("-n", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--name", default="bench.test",
                    help="Host header to send (what the proxy peeks)")
    ap.add_argument("--max-seconds", type=float, default=60.0,
                    help="stop early after this long, whatever n says")
    a = ap.parse_args()
    request = ("GET / HTTP/1.0\r\nHost: %s\r\nUser-Agent: tgb-latency\r\n"
               "\r\n" % a.name).encode()
    samples, errors = [], 0
    deadline = time.monotonic() + a.max_seconds
    for i in range(a.warmup + a.n):
        if time.monotonic() > deadline:
            break
        try:
            us = one(a.host, a.port, request, a.timeout)
        except OSError as e:
            errors += 1
            if errors == 1:
                print("latency: %s" % e, file=sys.stderr)
            continue
        if i >= a.warmup:
            samples.append(us)
    samples.sort()
    out = {"n": len(samples), "errors": errors}
    if samples:
        out.update(p50_us=percentile(samples, 50),
                   p90_us=percentile(samples, 90),
                   p99_us=percentile(samples, 99),
                   mean_us=statistics.fmean(samples),
                   min_us=samples[0], max_us=samples[-1])
    print(json.dumps(out))
    return 0 if samples else 1


if __name__ == "__main__":
    sys.exit(main())
