#!/bin/bash
# A flood of DNS queries from one guarded app (a python3 loop sending to
# the stub as fast as it can, never reading the answers) does not stall
# the other apps: while it runs, the same user's curl connections all go
# through and dig still gets its answer (over UDP perhaps only when it asks
# again: the flood fills the socket's buffer); the stub counted the flood,
# and tollgated is still there afterwards.

. "$(dirname "$0")/lib.sh"

plan 7
tg_setup
TG=$TG_ROOT/build/tollgate
CONF=$(tg_conf default_action=allow dns_upstream=none)
tg_start "$CONF"
ok $? "tollgated starts"

answered() {
	"$TG" -c "$CONF" status --json |
	    jq -r '.dns_answered + .dns_other + .dns_denied'
}
before=$(answered)

# The flood: 16 names over and over (a query flood, not a flood of new
# names), for at most FLOOD_S seconds; it prints how many it sent.
FLOOD_S=120
cat >"$TG_TMP/flood.py" <<'PY'
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
pkts = []
for i in range(16):
    name = b"".join(bytes([len(l)]) + l for l in (b"f%d" % i, b"flood", b"test"))
    pkts.append(struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + name + b"\0" +
                struct.pack(">HH", 1, 1))
end = time.monotonic() + float(sys.argv[1])
stop = sys.argv[2]
sent = 0
while time.monotonic() < end:
    for p in pkts * 16:
        try:
            s.sendto(p, ("127.0.0.1", 9053))
            sent += 1
        except BlockingIOError:
            pass
    try:
        open(stop).close()
        break
    except FileNotFoundError:
        pass
print(sent)
PY
chmod 644 "$TG_TMP/flood.py"
as_guard python3 "$TG_TMP/flood.py" "$FLOOD_S" "$TG_TMP/stop" \
    >"$TG_TMP/flood.out" 2>&1 &
flood=$!
TG_PIDS+=("$flood")

# Once the flood is under way (the stub has answered some of it) ...
for ((i = 0; i < 200; i++)); do
	[ "$(($(answered) - before))" -ge 1000 ] && break
	sleep 0.05
done
ok '[ "$(($(answered) - before))" -ge 1000 ]' "the flood reaches the stub"

# ... the other apps go on.
good=0
for ((i = 0; i < 20; i++)); do
	as_guard curl -sS --max-time 20 -o /dev/null "http://$TG_S4/" && good=$((good + 1))
done
is "$good" 20 "all 20 curl connections went through during the flood"
# UDP: the flood fills the stub socket's buffer, so the kernel may drop a
# query of dig's; it asks again, as every resolver does.
out=$(as_guard dig +time=5 +tries=5 +short -p 9053 @127.0.0.1 a.test A |
    grep -E '^198\.1[89]\.')
like "$out" '^198\.1[89]\.' "and dig a.test still got its answer ($out)"
ok 'kill -0 "$flood" 2>/dev/null' "the flood was still running then"

touch "$TG_TMP/stop"
wait "$flood"
sent=$(cat "$TG_TMP/flood.out")
got=$(($(answered) - before))
diag "the flood sent $sent queries; the stub answered $got in all"
ok '[ "$got" -ge 10000 ]' "the stub answered at least 10000 of them ($got)"
tg_stop TERM
is "$TG_DEXIT" 0 "tollgated is still there, and exits 0 on SIGTERM"
