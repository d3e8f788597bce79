#!/usr/bin/python3
"""socks_report.py - bench/socks's raw measurements as its results table.

usage: socks_report.py RAW.tsv NOTES.txt META.txt OUT.md

RAW.tsv   lines "UPSTREAM<TAB>PATH<TAB>METRIC<TAB>ROUND<TAB>VALUE", PATH
          one of direct, tollgated (its SOCKS front), transparent
          (tollgated's transparent redirect), peer.
NOTES.txt free lines, printed under the table.
META.txt  lines describing the run, printed above it.

For each upstream, metric and way into tollgated (its SOCKS front, its
transparent redirect): the medians of the rounds of client->upstream,
redsocks and that way, and its ratio to redsocks and to client->upstream,
each the median over the rounds of the ratio within a round (the paths run
back to back, so a round slowed by other work counts against all of
them).  The goals (the issue's) are judged on those ratios: PASS, MISS, or
n/a when the paths compared were not measured.  The connection-rate goal
against redsocks is judged on the transparent way only, which does what
redsocks does (the client connects to the server's address, the proxy
speaks SOCKS5 onward); on the SOCKS front the client itself makes two more
round trips, so that row is reported against redsocks without a goal.

Prints the table on stdout and writes it, with every round's values, as
markdown to OUT.md.  Exit status 0 when every goal that could be judged
passed, 3 when one missed, 4 when tollgated was measured nowhere.
"""
import collections
import statistics
import sys

from report import lines_of

TG_PATHS = ("tollgated", "transparent")
TITLES = {"direct": "client->upstream", "tollgated": "SOCKS front",
          "transparent": "transparent", "peer": "redsocks"}
METRICS = [
    # key, label, format, {tollgated path: goals: (compared with, ratio)}
    ("tput1_gbps", "throughput, 1 stream (Gbit/s)", "%.2f",
     {"tollgated": (("peer", 1.0), ("direct", 0.6)),
      "transparent": (("peer", 1.0), ("direct", 0.6))}),
    ("cps", "new connections/s", "%.0f",
     {"tollgated": (), "transparent": (("peer", 1.0),)}),
    ("cpu_us", "proxy CPU per connection (us)", "%.0f",
     {"tollgated": (), "transparent": ()}),
]


def load(path):
    data = collections.defaultdict(dict)  # (up, path, metric) -> {round: v}
    try:
        with open(path) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 5:
                    continue
                u, p, m, r, v = parts
                try:
                    data[(u, p, m)][r] = float(v)
                except ValueError:
                    pass
    except FileNotFoundError:
        pass
    return data


def median(vals):
    return statistics.median(vals) if vals else None


def ratio(data, u, m, mine_path, base):
    """The median over the rounds of mine_path's value over base's."""
    mine = data.get((u, mine_path, m), {})
    other = data.get((u, base, m), {})
    rs = [mine[r] / other[r] for r in mine if r in other and other[r]]
    return median(rs)


def inputs(argv):
    """RAW.tsv, NOTES.txt and META.txt of the command line, read."""
    return load(argv[1]), lines_of(argv[2]), lines_of(argv[3])

def md_table(md, head, rows):
    md.write("| " + " | ".join(head) + " |\n")
    md.write("|" + "---|" * len(head) + "\n")
    for r in rows:
        md.write("| " + " | ".join(str(x) for x in r) + " |\n")


def show(title, meta, head, rows, notes, every_head, every, out_md):
    """Print meta, the table (head, rows) and notes on stdout; write them
    to out_md as markdown under title, with the table of every round's
    values (every_head, every)."""
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]

    def text(r):
        return "  ".join(str(x).ljust(w) for x, w in zip(r, widths))

    print("\n".join(meta))
    print()
    print("\n".join([text(head), text(["-" * w for w in widths])] +
                    [text(r) for r in rows]))
    for n in notes:
        print("note: " + n)
    with open(out_md, "w") as md:
        md.write("# %s\n\n" % title)
        md.write("".join("- %s\n" % m for m in meta) + "\n")
        md_table(md, head, rows)
        if notes:
            md.write("\nNotes:\n\n" + "".join("- %s\n" % n for n in notes))
        md.write("\nEvery round:\n\n")
        md_table(md, every_head, every)


def main(argv):
    if len(argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    data, notes, meta = inputs(argv)
    ups = []
    for (u, _, _) in data:
        if u not in ups:
            ups.append(u)
    head = ["upstream", "metric", "client->upstream", "redsocks",
            "tollgated", "value", "tg/redsocks", "tg/client->upstream",
            "goal", "result"]
    rows = []
    missed = False
    for u in ups:
        for key, label, f, goals_of in METRICS:
            for tg in TG_PATHS:
                if not data.get((u, tg, key)):
                    continue
                row = [u, label]
                for p in ("direct", "peer", tg):
                    v = median(list(data.get((u, p, key), {}).values()))
                    if p == tg:
                        row.append(TITLES[tg])
                    row.append("n/a" if v is None else f % v)
                rr = {b: ratio(data, u, key, tg, b) for b in ("peer", "direct")}
                row += ["n/a" if rr[b] is None else "%.2fx" % rr[b]
                        for b in ("peer", "direct")]
                words, results = [], []
                for base, least in goals_of[tg]:
                    words.append(">= %.1fx %s" % (least, TITLES[base]))
                    if rr[base] is None:
                        results.append("n/a")
                    elif rr[base] >= least:
                        results.append("PASS")
                    else:
                        results.append("MISS")
                        missed = True
                row += [", ".join(words) or "-", ", ".join(results) or "-"]
                rows.append(row)
    every = [[u, TITLES.get(p, p), m,
              ", ".join("%g" % vals[r] for r in sorted(vals))]
             for (u, p, m), vals in sorted(data.items())]
    show("SOCKS benchmark (bench/socks)", meta, head, rows, notes,
         ["upstream", "path", "metric", "rounds"], every, argv[4])
    if not any(p in TG_PATHS for (_, p, _) in data):
        return 4
    return 3 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
