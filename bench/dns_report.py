#!/usr/bin/python3
"""dns_report.py - bench/dns's raw measurements as its results table.

usage: dns_report.py RAW.tsv NOTES.txt META.txt OUT.md

RAW.tsv   lines "dns<TAB>PATH<TAB>METRIC<TAB>ROUND<TAB>VALUE", PATH one of
          unbound, tollgated (socks_report.py's format, one "upstream").
NOTES.txt free lines, printed under the table.
META.txt  lines describing the run, printed above it.

For each metric: the median of the rounds of each path, and tollgated's
ratio to unbound, the median over the rounds of the ratio within a round.
The goals (the issue's): queries per second >= 1.0x unbound's, judged on
that ratio; latency p99 <= 2 ms, judged on tollgated's own median.  PASS,
MISS, or n/a when what a goal needs was not measured.

Prints the table on stdout and writes it, with every round's values, as
markdown to OUT.md.  Exit status 0 when every goal that could be judged
passed, 3 when one missed, 4 when tollgated was measured nowhere.
"""
import sys

from socks_report import inputs, median, ratio, show

PATHS = ("unbound", "tollgated")
# key, label, format, goal: None, ("ratio>=", x) on tollgated / unbound,
# or ("<=", x) on tollgated's own figure.
METRICS = [
    ("qps", "queries/s", "%.0f", ("ratio>=", 1.0)),
    ("lat_p50_us", "latency p50 (us)", "%.0f", None),
    ("lat_p99_us", "latency p99 (us)", "%.0f", ("<=", 2000.0)),
    ("cpu_us_q", "server CPU per query (us)", "%.1f", None),
    ("ccpu_us_q", "dnsperf CPU per query (us)", "%.1f", None),
    ("bg", "other work on the machine (CPUs)", "%.2f", None),
]
# Above this, other work squeezed a rate run (see bench/README.md).
BG_LIMIT = 0.3


def judge(goal, rr, mine):
    """The goal's words and result for tollgated's ratio rr and figure."""
    if goal is None:
        return "", ""
    kind, x = goal
    if kind == "ratio>=":
        words, v, passed = ">= %.1fx unbound" % x, rr, rr is not None and rr >= x
    else:
        words, v, passed = "<= %g" % x, mine, mine is not None and mine <= x
    if v is None:
        return words, "n/a"
    return words, "PASS" if passed else "MISS"


def main(argv):
    if len(argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    data, notes, meta = inputs(argv)
    busy = ["%s round %s: %.2f" % (p, r, v)
            for (_, p, m), vals in sorted(data.items()) if m == "bg"
            for r, v in sorted(vals.items()) if v > BG_LIMIT]
    if busy:
        notes.append("other work on the machine took more than %.1f CPUs "
                     "during %d rate runs (%s): their figures are squeezed"
                     % (BG_LIMIT, len(busy), ", ".join(busy)))
    head = ["metric", "unbound", "tollgated", "tg/unbound", "goal", "result"]
    rows = []
    missed = False
    for key, label, f, goal in METRICS:
        vals = {p: median(list(data.get(("dns", p, key), {}).values()))
                for p in PATHS}
        rr = (ratio(data, "dns", key, "tollgated", "unbound")
              if key != "bg" else None)
        words, result = judge(goal, rr, vals["tollgated"])
        missed = missed or result == "MISS"
        rows.append([label] + ["n/a" if vals[p] is None else f % vals[p]
                               for p in PATHS] +
                    ["" if key == "bg" else "n/a" if rr is None else "%.2fx" % rr,
                     words, result])
    every = [[p, m, ", ".join("%g" % vals[r] for r in sorted(vals))]
             for (_, p, m), vals in sorted(data.items())]
    show("DNS benchmark (bench/dns)", meta, head, rows, notes,
         ["path", "metric", "rounds"], every, argv[4])
    if not any(p == "tollgated" for (_, p, _) in data):
        return 4
    return 3 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
