#!/bin/bash
# The descriptor budget: with a descriptor limit tollgated cannot raise
# (hard limit 1024, no CAP_SYS_RESOURCE) and 2,000 clients at once, it
# lowers max_connections to what the limit holds and says so in one line;
# every client is served or refused before any allow (reason=overload, or
# kept in the backlog until a place is free), none is allowed and then
# reset for want of a descriptor, and the log is not flooded.

. "$(dirname "$0")/lib.sh"

plan 11
tg_setup

N=2000
PORT=7007
# The clients and the echo server need descriptors of their own.
ulimit -n 16384

tg_bg ip netns exec "$TG_SNS" /usr/bin/python3 -I -c '
import selectors, socket
sel = selectors.DefaultSelector()
ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
ls.bind(("::", '"$PORT"'))
ls.listen(4096)
ls.setblocking(False)
sel.register(ls, selectors.EVENT_READ)
while True:
    for key, ev in sel.select():
        s = key.fileobj
        if s is ls:
            try:
                c, _ = ls.accept()
            except OSError:
                continue
            c.setblocking(False)
            sel.register(c, selectors.EVENT_READ)
            continue
        try:
            b = s.recv(4096)
        except OSError:
            b = b""
        if b:
            try:
                s.send(b)
            except OSError:
                pass
        else:
            sel.unregister(s)
            s.close()
' </dev/null >"$TG_TMP/echo$PORT.log" 2>&1
_tg_wait_listen tcp "$PORT" || { diag "no echo server on $PORT"; exit 1; }

TG_DAEMON_WRAP="prlimit --nofile=1024:1024 setpriv --bounding-set -sys_resource"
tg_start "$(tg_conf default_action=allow)"
ok $? "tollgated starts with a hard descriptor limit of 1024 it cannot raise"
TG_DAEMON_WRAP=
start=$(grep -c 'max_connections' "$TG_LOG")
is "$start" 1 "one start line speaks of max_connections"
line=$(grep 'max_connections' "$TG_LOG")
like "$line" 'max_connections lowered from 16384 to [0-9]+: the descriptor limit is 1024' \
    "it says to what and why ($line)"
max=$(sed -n 's/.*lowered from 16384 to \([0-9]*\):.*/\1/p' <<<"$line")

out=$(ulimit -n 16384; TG_T=120 as_guard /usr/bin/python3 -I \
    "$TG_TOOLS/manyconns.py" "$TG_S4" "$PORT" "$N" 90)
diag "$N clients: $out"
served=$(sed -n 's/.*served=\([0-9]*\).*/\1/p' <<<"$out")
is "$(sed -n 's/.* reset=\([0-9]*\).*/\1/p' <<<"$out")" 0 \
    "no client got part of its echo and then a reset"
is "$(sed -n 's/.* timeout=\([0-9]*\).*/\1/p' <<<"$out")" 0 \
    "no client was left hanging"
ok '[ "$served" -ge "$max" ]' "at least max_connections = $max were served ($served)"
allowed=$(tg_decisions dst="$TG_S4:$PORT" verdict=allow)
is "$allowed" "$served" "every allowed client was served (allowed $allowed)"
over=$(tg_decisions dst="$TG_S4:$PORT" reason=overload)
diag "refused for overload: $over"
# Said, not asserted: attribution misses under load are another matter
# (issue 14, failure 1); none comes of a /proc read without a descriptor.
diag "unknown-process among the allowed: $(tg_decisions dst="$TG_S4:$PORT" \
    verdict=allow flags=unknown-process)"
emfile=$(_tg_since | grep -c 'Too many open files')
is "$emfile" 0 "no descriptor ran out (no 'Too many open files' in the log)"
lines=$(_tg_since | grep -vc '^tollgated: info: \(decision\|close\) ')
diag "log: $(wc -l <"$TG_LOG") lines, $lines of them not decisions or closes"
ok '[ "$lines" -lt 200 ]' "the log is not flooded ($lines other lines)"

out=$(as_guard curl -sS --max-time 8 --resolve "a.test:80:$TG_S4" http://a.test/)
like "$out" "hello from tgs" "afterwards a fetch goes through"
tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
