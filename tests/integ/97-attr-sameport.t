#!/bin/bash
# Attribution when conntrack changes the source port.  Two connections
# of one process from one source port P, to two destinations (the kernel
# allows it), are redirected to the same tollgated port: conntrack keeps
# them apart by giving the second another source port on the way in, so
# the peer tollgated accepts is not the client's own socket.  tollgated
# must still name the process (the original tuple, asked of conntrack),
# over IPv4 and IPv6.

. "$(dirname "$0")/lib.sh"

plan 10
tg_setup
CONF=$(tg_conf default_action=allow peek_timeout=30s)
tg_start "$CONF"
ok $? "tollgated starts"
# syn_taken: connections found by their SYN record (no conntrack or
# sock_diag query).
syn_taken() {
	"$TG_ROOT/build/tollgate" -c "$CONF" status --json 2>/dev/null |
		jq -r '.connect_syn_taken // 0'
}

PY=$(readlink -f /usr/bin/python3)
for server in "$TG_S4" "$TG_S6"; do
	tg_mark
	taken0=$(syn_taken)
	out=$(as_guard /usr/bin/python3 "$TG_TOOLS/sameport.py" "$server" 443 80 a.test 2>&1)
	pid=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' <<<"$out")
	like "$out" "HTTP/1.[01] 200" "from one source port, held to $server:443 and asking $server:80: the page"
	d=$(tg_decision name=a.test)
	is "$(kv "$d" pid)/$(kv "$d" user)" "$pid/$TG_GUARD" \
	    "its decision names the process ($pid) and the user, not an unknown process"
	is "$(kv "$d" exe)" "$PY" "and its program"
	# The SYN record is filed under the port conntrack gave (the SYN
	# program runs after POSTROUTING): both are found by it.
	is "$(($(syn_taken) - taken0))" 2 \
	    "both connections to $server found by their SYN record"
done
tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0"
