#!/bin/bash
# Attribution when conntrack changes the source port.  Two connections
# of one process from one source port P, to two destinations (the kernel
# allows it), are redirected to the same tollgated port: conntrack keeps
# them apart by giving the second another source port on the way in, so
# the peer tollgated accepts is not the client's own socket.  tollgated
# must still name the process (the original tuple, asked of conntrack),
# over IPv4 and IPv6.

. "$(dirname "$0")/lib.sh"

plan 8
tg_setup
tg_start "$(tg_conf default_action=allow peek_timeout=30s)"
ok $? "tollgated starts"

PY=$(readlink -f /usr/bin/python3)
for server in "$TG_S4" "$TG_S6"; do
	tg_mark
	out=$(as_guard /usr/bin/python3 "$TG_TOOLS/sameport.py" "$server" 443 80 a.test 2>&1)
	pid=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' <<<"$out")
	like "$out" "HTTP/1.[01] 200" "from one source port, held to $server:443 and asking $server:80: the page"
	d=$(tg_decision name=a.test)
	is "$(kv "$d" pid)/$(kv "$d" user)" "$pid/$TG_GUARD" \
	    "its decision names the process ($pid) and the user, not an unknown process"
	is "$(kv "$d" exe)" "$PY" "and its program"
done
tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0"
