#!/bin/bash
# Rules while connections are in flight: a change applies to the next
# connection and leaves the open ones alone; hits are counted and written
# back; an until-restart rule is gone after a restart; a member of
# admin_group may change rules like root.

. "$(dirname "$0")/lib.sh"

plan 18
tg_setup
chmod 711 "$TG_TMP"
TG=$TG_ROOT/build/tollgate
getent group tgadmin >/dev/null || groupadd --system tgadmin
usermod -a -G tgadmin "$TG_OTHER"
CONF=$(tg_conf_kept default_action=allow admin_group=tgadmin)
tg_start "$CONF"
ok $? "tollgated starts with admin_group = tgadmin"
py=$(readlink -f /usr/bin/python3) # what /proc/PID/exe will say

# A long-lived echo connection, held open by a client that sends a second
# line only when told to (the flag file appears).
flag=$TG_TMP/flag
out=$TG_TMP/echo.out
as_guard python3 -c '
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], 7), timeout=10)
s.sendall(b"one\n"); print(s.recv(100).decode().strip(), flush=True)
for _ in range(150):
    if os.path.exists(sys.argv[2]): break
    time.sleep(0.1)
s.sendall(b"two\n"); print(s.recv(100).decode().strip(), flush=True)
' "$TG_S4" "$flag" >"$out" 2>&1 &
client=$!
for ((i = 0; i < 100; i++)); do grep -q one "$out" && break; sleep 0.05; done
is "$(head -n 1 "$out")" one "an echo connection of python3 is open and answered"

"$TG" -c "$CONF" rules add --app "$py" --dest "$TG_S4" \
    --action deny >/dev/null
ok $? "a deny rule for python3 to $TG_S4 is added meanwhile"
touch "$flag"
wait "$client"
is "$(sed -n 2p "$out")" two "the open connection still echoes: it keeps its verdict"
as_guard python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 7), timeout=5)
s.sendall(b"x\n"); sys.exit(0 if s.recv(10) else 1)
' "$TG_S4" 2>/dev/null
nok $? "a new python3 connection is refused by the rule"
d=$(tg_decision exe="$py" verdict=deny)
is "$(kv "$d" reason)" rule "the decision says the rule decided"

# --- hits are written back ----------------------------------------------------

hits() {
	"$TG" -c "$CONF" rules list --json | python3 -c '
import json, sys
print(sum(r["hits"] for r in json.load(sys.stdin) if r["dest"] == sys.argv[1]))
' "$1"
}
for ((i = 0; i < 80; i++)); do
	[ "$(hits "$TG_S4")" -ge 1 ] 2>/dev/null && break
	sleep 0.1
done
ok '[ "$(hits "$TG_S4")" -ge 1 ]' "the rule's hit is in the database within seconds ($(hits "$TG_S4"))"

# --- admin_group ------------------------------------------------------------

out=$(as_other "$TG" -c "$CONF" rules add --app '*' --dest c.test \
    --action deny --duration restart 2>&1)
ok $? "tgother, in admin_group, adds an until-restart rule ($out)"
as_guard curl -sS --max-time 8 --cacert "$TG_CA" \
    --resolve "c.test:443:$TG_S4" -o /dev/null https://c.test/ 2>/dev/null
nok $? "it applies at once"
out=$(as_other "$TG" -c "$CONF" rules list 2>&1)
ok $? "tgother may read the rules too"
like "$out" "c\.test" "and sees the new one"

# --- once ---------------------------------------------------------------------

"$TG" -c "$CONF" rules add --app /usr/bin/curl --dest b.test --action deny \
    --duration once >/dev/null
ok $? "a once-only deny rule for curl to b.test is added"
as_guard curl -sS --max-time 8 --cacert "$TG_CA" \
    --resolve "b.test:443:$TG_S4" -o /dev/null https://b.test/ 2>/dev/null
nok $? "it refuses the next connection"
as_guard curl -sS --max-time 8 --cacert "$TG_CA" \
    --resolve "b.test:443:$TG_S4" -o /dev/null https://b.test/ 2>/dev/null
ok $? "and only that one"
for ((i = 0; i < 50; i++)); do
	"$TG" -c "$CONF" rules list | grep -q "b\.test" || break
	sleep 0.1
done
unlike "$("$TG" -c "$CONF" rules list)" "b\.test" "then it is gone from the rules"

# --- until restart ------------------------------------------------------------

tg_stop TERM
tg_start "$CONF"
ok $? "tollgated starts again"
as_guard curl -sS --max-time 8 --cacert "$TG_CA" \
    --resolve "c.test:443:$TG_S4" -o /dev/null https://c.test/ 2>/dev/null
ok $? "the until-restart rule is gone: c.test goes through"
unlike "$("$TG" -c "$CONF" rules list)" "c\.test" "and rules list no longer shows it"
tg_stop TERM
gpasswd -d "$TG_OTHER" tgadmin >/dev/null 2>&1
