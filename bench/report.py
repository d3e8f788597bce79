#!/usr/bin/python3
"""report.py - turn bench/run's raw measurements into the results table.

usage: report.py RAW.tsv NOTES.txt META.txt OUT.md

RAW.tsv   lines "PATH<TAB>METRIC<TAB>ROUND<TAB>VALUE", PATH one of direct,
          bare, tollgated, peer; a metric measured in several rounds is
          reported as the median of its rounds.
NOTES.txt free lines, printed under the table (path checks, errors).
META.txt  "key: value" lines describing the run (printed as the header).

Prints the table, and the floor table (direct, the bare proxy and
tollgated: connection rate, latency and CPU per connection, tollgated's
ratios to the bare proxy and to direct), as text on stdout and writes the same, plus the value of
every round, as markdown to OUT.md.  Exit status 0 when every goal that
could be judged passed, 3 when one missed, 4 when tollgated could not be
measured at all.
"""
import collections
import statistics
import sys

PATHS = ("direct", "tollgated", "peer")
ALL_PATHS = ("direct", "bare", "tollgated", "peer")
TITLES = {"direct": "direct", "tollgated": "tollgated",
          "peer": "redsocks+microsocks", "bare": "bare proxy"}

# The floor table: tgb-connload's loads (mode, client processes).
LOADS = [("http", 1, "HTTP 1 KiB, 1 client"), ("http", 4, "HTTP 1 KiB, 4 clients"),
         ("echo", 1, "1-byte echo, 1 client"), ("echo", 4, "1-byte echo, 4 clients")]
FLOOR_GOALS = {"rate": 0.8, "p50": 50.0, "p99": 150.0, "cpu": 60.0}

# key, label, format, how the proxies compare with direct, goal.
#   compare: "ratio" (path / direct), "delta" (path - direct, in the
#            metric's unit, plus the ratio), None (nothing to compare).
#   goal:    None, ("ratio>=", x) on the ratio to direct, or
#            ("<=", x) on tollgated's own figure.
ROWS = [
    ("tput1_gbps", "throughput, 1 stream (Gbit/s)", "%.2f", "ratio",
     ("ratio>=", 0.6)),
    ("tput4_gbps", "throughput, 4 streams (Gbit/s)", "%.2f", "ratio",
     ("ratio>=", 0.6)),
    ("cps_http", "new connections/s, HTTP (ab -c 16)", "%.0f", "ratio",
     ("ratio>=", 0.5)),
    ("cps_https", "new connections/s, HTTPS (ab -c 16)", "%.0f", "ratio",
     ("ratio>=", 0.5)),
    ("pcpu_us_cps_http", "  CPU per HTTP connection, all (us)", "%.0f",
     "delta", None),
    ("cpu_us_cps_http", "  CPU per HTTP connection, proxy (us)", "%.0f",
     None, None),
    ("pcpu_us_cps_https", "  CPU per HTTPS connection, all (us)", "%.0f",
     "delta", None),
    ("lat_p50_us", "connect+request+1st byte, p50 (us)", "%.0f", "delta",
     None),
    ("lat_p99_us", "connect+request+1st byte, p99 (us)", "%.0f", "delta",
     None),
    ("rss_idle_kib", "proxy RSS idle (KiB) [peer: redsocks]", "%.0f", None,
     None),
    ("rss_hold_kib", "proxy RSS, N idle connections (KiB)", "%.0f", None,
     None),
    ("rss_per_conn_kib", "proxy RSS per connection (KiB)", "%.2f", None,
     ("<=", 8.0)),
    ("rss_per_conn_socks_kib", "  peer's microsocks RSS per connection (KiB)",
     "%.2f", None, None),
    ("hold_open", "idle connections held (N)", "%.0f", None, None),
    ("hold_secs", "time to open N connections (s)", "%.2f", "ratio", None),
    ("cpu_gb1", "CPU s per GB, proxy, 1 stream [peer: both]", "%.3f", None,
     ("<=", 0.3)),
    ("cpu_gb4", "CPU s per GB, proxy, 4 streams", "%.3f", None,
     ("<=", 0.3)),
    ("pcpu_gb1", "CPU s per GB, all, 1 stream", "%.3f", "delta", None),
    ("pcpu_gb4", "CPU s per GB, all, 4 streams", "%.3f", "delta", None),
    ("bg", "other work on the machine (CPUs)", "%.2f", None, None),
]

# Metrics whose per-round values are pooled into one row ("bg" above).
POOLED = {"bg": ("bg_cps_http", "bg_cps_https", "bg_tput1_gbps",
                 "bg_tput4_gbps")}


def pool(data):
    """Add the pooled metrics: one value per round, the mean of its parts."""
    for key, parts in POOLED.items():
        for p in PATHS:
            rounds = collections.defaultdict(list)
            for m in parts:
                for r, v in data.get((p, m), {}).items():
                    rounds[r].append(v)
            for r, vals in rounds.items():
                data[(p, key)][r] = statistics.fmean(vals)


def load(path):
    data = collections.defaultdict(dict)  # (path, metric) -> {round: v}
    try:
        with open(path) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 4:
                    continue
                p, m, r, v = parts
                try:
                    data[(p, m)][r] = float(v)
                except ValueError:
                    pass
    except FileNotFoundError:
        pass
    return data


def background_notes(data, limit=0.3):
    """One note on the load runs during which other work took CPU."""
    runs = [(v, p, m[3:], r) for (p, m), vals in data.items()
            if m.startswith("bg_") for r, v in vals.items()]
    busy = sorted((x for x in runs if x[0] > limit), reverse=True)
    if not busy:
        return []
    worst = ", ".join("%s %s round %s: %.2f" % (TITLES[p], m, r, v)
                      for v, p, m, r in busy[:3])
    return ["other work on the machine took more than %.1f CPUs during %d "
            "of the %d load runs (most: %s); their figures are squeezed"
            % (limit, len(busy), len(runs), worst)]


def lines_of(path):
    try:
        with open(path) as f:
            return [l.rstrip("\n") for l in f if l.strip()]
    except FileNotFoundError:
        return []


def median(data, p, m):
    vals = list(data.get((p, m), {}).values())
    return statistics.median(vals) if vals else None


def fmt(f, v):
    return "-" if v is None else f % v


def paired(data, p, m, against="direct"):
    """Median ratio and median difference of PATH to AGAINST over the
    rounds that measured both (each round runs the paths back to back, so
    a pair shares the machine's state); (None, None) without a pair."""
    mine = data.get((p, m), {})
    base = data.get((against, m), {})
    rounds = [r for r in mine if r in base]
    if not rounds:
        return None, None
    diffs = [mine[r] - base[r] for r in rounds]
    ratios = [mine[r] / base[r] for r in rounds if base[r]]
    return (statistics.median(ratios) if ratios else None,
            statistics.median(diffs))


def compare(kind, data, p, m):
    if kind is None:
        return ""
    ratio, diff = paired(data, p, m)
    if kind == "ratio":
        return "%.2fx" % ratio if ratio is not None else ""
    if kind == "delta" and diff is not None:
        base = median(data, "direct", m) or 0
        df = "%+.0f" if abs(base) >= 10 else "%+.3f"
        return ((df + " (%.2fx)") % (diff, ratio) if ratio is not None
                else df % diff)
    return ""


def judge(goal, data, m):
    """(goal text, PASS/MISS/n/a) for tollgated."""
    if goal is None:
        return "", ""
    op, x = goal
    if op == "ratio>=":
        text = ">= %.1fx direct" % x
        ratio, _ = paired(data, "tollgated", m)
        if ratio is None:
            return text, "n/a"
        return text, "PASS" if ratio >= x else "MISS"
    text = "<= %g" % x
    v = median(data, "tollgated", m)
    if v is None:
        return text, "n/a"
    return text, "PASS" if v <= x else "MISS"


def build(data):
    head = ["metric", TITLES["direct"], TITLES["tollgated"], "vs direct",
            TITLES["peer"], "vs direct", "goal (tollgated)", "result"]
    rows, verdicts = [], []
    for key, label, f, kind, goal in ROWS:
        d, t, p = (median(data, x, key) for x in PATHS)
        if d is None and t is None and p is None:
            continue
        gtext, verdict = judge(goal, data, key)
        if verdict:
            verdicts.append((label, verdict))
        rows.append([label, fmt(f, d), fmt(f, t),
                     compare(kind, data, "tollgated", key),
                     fmt(f, p), compare(kind, data, "peer", key), gtext,
                     verdict])
    return head, rows, verdicts


def floor_build(data):
    """The floor table: per load, conn/s of each path and tollgated's
    paired ratios; p50/p99 and tollgated's added us over the bare proxy;
    the proxies' CPU per connection.  Returns head, rows, verdicts."""
    head = ["load", "figure", "direct", "bare proxy", "tollgated",
            "tg/bare", "tg/direct", "bare/direct", "goal", "result"]
    rows, verdicts = [], []

    def verdict(label, ok):
        v = "n/a" if ok is None else ("PASS" if ok else "MISS")
        verdicts.append((label, v))
        return v

    for mode, c, label in LOADS:
        key = "%s%d" % (mode, c)
        d, b, t = (median(data, p, "cr_" + key)
                   for p in ("direct", "bare", "tollgated"))
        if d is None and b is None and t is None:
            continue
        rb, _ = paired(data, "tollgated", "cr_" + key, "bare")
        rd, _ = paired(data, "tollgated", "cr_" + key)
        bd, _ = paired(data, "bare", "cr_" + key)
        g = FLOOR_GOALS["rate"]
        rows.append([label, "conn/s", fmt("%.0f", d), fmt("%.0f", b),
                     fmt("%.0f", t), fmt("%.2fx", rb), fmt("%.2fx", rd),
                     fmt("%.2fx", bd), ">= %.1fx bare" % g,
                     verdict(label + " conn/s",
                             None if rb is None else rb >= g)])
        for q in ("p50", "p99"):
            m = "cr%s_%s" % (q, key)
            d, b, t = (median(data, p, m)
                       for p in ("direct", "bare", "tollgated"))
            _, add = paired(data, "tollgated", m, "bare")
            g = FLOOR_GOALS[q]
            rows.append(["", q + " connect..1st byte (us)", fmt("%.0f", d),
                         fmt("%.0f", b), fmt("%.0f", t),
                         fmt("%+.0f us", add), "", "", "<= +%.0f us" % g,
                         verdict("%s %s" % (label, q),
                                 None if add is None else add <= g)])
        b, t = (median(data, p, "crcpu_" + key) for p in ("bare", "tollgated"))
        g = FLOOR_GOALS["cpu"]
        rows.append(["", "proxy CPU per conn (us)", "", fmt("%.1f", b),
                     fmt("%.1f", t), "", "", "", "<= %.0f us" % g,
                     verdict(label + " CPU", None if t is None else t <= g)])
    return head, rows, verdicts


CROWD_GOAL = 0.9


def crowd_build(data):
    """The crowd table: tollgated's conn/s alone and with the crowd
    about, per load, and the median of the rounds' ratios.  Returns
    head, rows, verdicts."""
    head = ["load", "alone (conn/s)", "with the crowd (conn/s)", "ratio",
            "goal", "result"]
    rows, verdicts = [], []
    for c in (1, 4):
        a = data.get(("tollgated", "crowd0_http%d" % c), {})
        b = data.get(("tollgated", "crowd1_http%d" % c), {})
        if not a and not b:
            continue
        ratios = [b[r] / a[r] for r in a if r in b and a[r] > 0]
        ratio = statistics.median(ratios) if ratios else None
        v = "n/a" if ratio is None else (
            "PASS" if ratio >= CROWD_GOAL else "MISS")
        label = "HTTP 1 KiB, %d client%s" % (c, "" if c == 1 else "s")
        verdicts.append((label + " with the crowd", v))
        rows.append([label,
                     fmt("%.0f", statistics.median(a.values()) if a else None),
                     fmt("%.0f", statistics.median(b.values()) if b else None),
                     fmt("%.2fx", ratio), ">= %.1fx" % CROWD_GOAL, v])
    return head, rows, verdicts


def text_table(head, rows):
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    out = []
    for n, r in enumerate([head] + rows):
        cells = []
        for i, c in enumerate(r):
            cells.append(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]))
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def md_table(head, rows):
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for r in rows:
        out.append("| " + " | ".join(c if c else " " for c in r) + " |")
    return "\n".join(out)


def rounds_table(data):
    """Every round's value, to judge the noise behind a median."""
    rounds = sorted({r for (p, m), vals in data.items() for r in vals},
                    key=lambda s: (len(s), s))
    head = ["metric", "path"] + ["round %s" % r for r in rounds]
    rows = []
    keys = [(key, f) for key, label, f, kind, goal in ROWS]
    for mode, c, label in LOADS:
        keys += [("%s_%s%d" % (m, mode, c), "%.1f")
                 for m in ("cr", "crp50", "crp99", "crcpu")]
    keys += [("crowd%d_http%d" % (w, c), "%.1f") for w in (0, 1)
             for c in (1, 4)]
    for key, f in keys:
        for p in ALL_PATHS:
            vals = data.get((p, key))
            if not vals:
                continue
            rows.append([key, TITLES[p]] +
                        [fmt(f, vals.get(r)) for r in rounds])
    return head, rows


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    raw, notes_path, meta_path, out_md = sys.argv[1:]
    data = load(raw)
    pool(data)
    notes = lines_of(notes_path) + background_notes(data)
    meta = lines_of(meta_path)
    head, rows, verdicts = build(data)
    fhead, frows, fverdicts = floor_build(data)
    chead, crows, cverdicts = crowd_build(data)
    fverdicts += cverdicts

    print()
    print("tollgate bench: " + "; ".join(meta))
    if rows:
        print()
        print(text_table(head, rows))
        print()
        print("Figures are medians over the rounds.  'vs direct' is the "
              "median over the rounds of the path's ratio to direct in the "
              "same round (for latency and CPU: the difference, then the "
              "ratio).")
    if frows:
        print()
        print("The floor: new connections through no proxy, the bare "
              "transparent proxy (bench/bareproxy.c) and tollgated, "
              "tgb-connload, each client process one connection after "
              "the other")
        print()
        print(text_table(fhead, frows))
        print()
        print("tg/bare, tg/direct, bare/direct: medians of the ratios "
              "measured in the same round; p50/p99 'tg/bare' is tollgated's "
              "added time over the bare proxy.")
    if crows:
        print()
        print("A crowd about: tollgated's new connections alone and with "
              "the test user's processes and idle connections about, back "
              "to back")
        print()
        print(text_table(chead, crows))
    if verdicts:
        print("Goals: " + ", ".join("%s %s" % (v, l) for l, v in verdicts))
    if fverdicts:
        print("Floor goals: " + ", ".join("%s %s" % (v, l)
                                          for l, v in fverdicts))
    for n in notes:
        print("note: " + n)

    md = ["# tollgate bench results", ""]
    md += ["- " + m for m in meta]
    md += ["", md_table(head, rows), "",
           "Figures are medians over the rounds. *vs direct* is the median "
           "over the rounds of the path's ratio to direct measured in the "
           "same round, back to back (for latency and CPU: the difference, "
           "then the ratio), so a slow round on a shared machine counts "
           "against both. *result* judges tollgated against its goal.", ""]
    if frows:
        md += ["## The floor: direct, the bare proxy, tollgated", "",
               md_table(fhead, frows), "",
               "tgb-connload: each client process makes one connection "
               "after the other. *tg/bare*, *tg/direct*, *bare/direct*: "
               "medians of the ratios measured in the same round; for "
               "p50/p99, tollgated's added time over the bare proxy; proxy "
               "CPU per connection is utime+stime of all its threads over "
               "the run divided by the connections.", ""]
    if crows:
        md += ["## A crowd about: tollgated alone and with it", "",
               md_table(chead, crows), "",
               "The floor's HTTP loads on tollgated, in each round first "
               "alone, then with the test user's processes holding "
               "descriptors and idle connections relayed by tollgated "
               "(bench/run: CROWD_PROCS, CROWD_FDS, CROWD_CONNS); *ratio* "
               "is the median of the rounds' ratios.", ""]
    if notes:
        md += ["## Notes", ""] + ["- " + n for n in notes] + [""]
    rh, rr = rounds_table(data)
    if rr:
        md += ["## Every round", "", md_table(rh, rr), ""]
    with open(out_md, "w") as f:
        f.write("\n".join(md))

    if not any(p == "tollgated" for (p, m) in data):
        return 4
    if any(v == "MISS" for l, v in verdicts + fverdicts):
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
