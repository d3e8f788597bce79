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

from report import lines_of
from socks_report import load, median, ratio

PATHS = ("unbound", "tollgated")
# key, label, format, goal: None, ("ratio>=", x) on tollgated / unbound,
# or ("<=", x) on tollgated's own figure.
METRICS = [
    ("qps", "queries/s", "%.0f", ("ratio>=", 1.0)),
    ("lat_p50_us", "latency p50 (us)", "%.0f", None),
    ("lat_p99_us", "latency p99 (us)", "%.0f", ("<=", 2000.0)),
    ("cpu_us_q", "server CPU per query (us)", "%.1f", None),
]


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
    data = load(argv[1])
    notes = lines_of(argv[2])
    meta = lines_of(argv[3])
    head = ["metric", "unbound", "tollgated", "tg/unbound", "goal", "result"]
    rows = []
    missed = False
    for key, label, f, goal in METRICS:
        vals = {p: median(list(data.get(("dns", p, key), {}).values()))
                for p in PATHS}
        rr = ratio(data, "dns", key, "unbound")
        words, result = judge(goal, rr, vals["tollgated"])
        missed = missed or result == "MISS"
        rows.append([label] + ["n/a" if vals[p] is None else f % vals[p]
                               for p in PATHS] +
                    ["n/a" if rr is None else "%.2fx" % rr, words, result])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]

    def text(r):
        return "  ".join(str(x).ljust(w) for x, w in zip(r, widths))

    print("\n".join(meta))
    print()
    print("\n".join([text(head), text(["-" * w for w in widths])] +
                    [text(r) for r in rows]))
    for n in notes:
        print("note: " + n)
    with open(argv[4], "w") as md:
        md.write("# DNS benchmark (bench/dns)\n\n")
        md.write("".join("- %s\n" % m for m in meta) + "\n")
        md.write("| " + " | ".join(head) + " |\n")
        md.write("|" + "---|" * len(head) + "\n")
        for r in rows:
            md.write("| " + " | ".join(str(x) for x in r) + " |\n")
        if notes:
            md.write("\nNotes:\n\n" + "".join("- %s\n" % n for n in notes))
        md.write("\nEvery round:\n\n| path | metric | rounds |\n"
                 "|---|---|---|\n")
        for (_, p, m), vals in sorted(data.items()):
            md.write("| %s | %s | %s |\n" % (
                p, m, ", ".join("%g" % vals[r] for r in sorted(vals))))
    if not any(p == "tollgated" for (_, p, _) in data):
        return 4
    return 3 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
