#!/usr/bin/python3
"""cputime.py - run a command and write the CPU seconds it used.

usage: cputime.py FILE CMD [ARG...]

Runs CMD (its output passes through), waits for it, and writes
"USER SYSTEM" (seconds, of CMD and every child it waited for) to FILE.
Exits with CMD's status.  What GNU time -f "%U %S" does, without needing
the time package.
"""
import os
import resource
import signal
import subprocess
import sys


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, cmd = sys.argv[1], sys.argv[2:]
    try:
        child = subprocess.Popen(cmd)
    except OSError as e:
        print("cputime: %s: %s" % (cmd[0], e), file=sys.stderr)
        return 127
    # Pass a stop on to the command, then still report.
    signal.signal(signal.SIGTERM, lambda *a: child.terminate())
    rc = child.wait()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as f:
        f.write("%.3f %.3f\n" % (ru.ru_utime, ru.ru_stime))
    return rc if rc >= 0 else 128 - rc


if __name__ == "__main__":
    sys.exit(main())
