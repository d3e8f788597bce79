#!/bin/bash
# Prompts and rules together: a rule added while connections wait on a
# prompt lets them go and withdraws the prompt; the answer "allow
# *.b.test" to one prompt also frees another app-and-name pair it covers;
# and the broker's bounds: the 33rd pending prompt of one app, and the
# 65th connection parked on one prompt, get default_action with reason
# prompt-full instead of waiting.

. "$(dirname "$0")/lib.sh"

plan 22
tg_setup
prompt_setup
CONF=$(prompt_conf prompt_timeout=60s)
tg_start "$CONF"
ok $? "tollgated starts"

agent_start
wait_agent
ok $? "tollgate-prompt --tty runs as $TG_GUARD and subscribes"

# fetch NAME OUT: a guarded curl of https://NAME/ in the background,
# writing the HTTP status (000: refused) to OUT.
fetch() {
	as_guard curl -s --max-time 30 --cacert "$TG_CA" \
	    --resolve "$1:443:$TG_S4" -o /dev/null -w '%{http_code}' \
	    "https://$1/" >"$2" 2>/dev/null &
}

# --- a rule added meanwhile ----------------------------------------------------

fetch n1.b.test "$TG_TMP/r1"
c1=$!
wait_pj 'len(ps)' 1
ok $? "a curl to n1.b.test waits on a prompt"
"$TG" -c "$CONF" rules add --app /usr/bin/curl --dest n1.b.test \
    --action allow >/dev/null
ok $? "meanwhile root adds a rule allowing curl to n1.b.test"
wait "$c1"
is "$(cat "$TG_TMP/r1")" 200 "the waiting curl goes through"
is "$(pj 'len(ps)')" 0 "the prompt is withdrawn"
d=$(tg_decision name=n1.b.test)
is "$(kv "$d" reason)" rule "its decision says the new rule decided"

# --- one answer for a domain frees another name under it -------------------------

tg_mark
fetch x.b.test "$TG_TMP/rx"
cx=$!
wait_pj 'len(ps)' 1
fetch y.b.test "$TG_TMP/ry"
cy=$!
wait_pj 'len(ps)' 2
ok $? "curls to x.b.test and y.b.test wait on two prompts"
idx=$(pj '[p["id"] for p in ps if p["name"] == "x.b.test"][0]')
out=$("$TG" -c "$CONF" answer "$idx" allow --scope domain --duration forever)
ok $? "root answers x.b.test's prompt: allow *.b.test forever"
like "$out" 'rule [0-9]+' "the answer says a rule was added ($out)"
wait "$cx" "$cy"
is "$(cat "$TG_TMP/rx")" 200 "x.b.test goes through on the answer"
is "$(cat "$TG_TMP/ry")" 200 "y.b.test goes through too: the new rule covers it"
is "$(pj 'len(ps)')" 0 "both prompts are gone"
d=$(tg_decision name=y.b.test)
is "$(kv "$d" reason)" rule "y.b.test was decided by the rule the answer added"
"$TG" -c "$CONF" rules list --json | grep -q '"dest": *"\*\.b\.test"'
ok $? "rules list shows the rule for *.b.test"

# --- only tollgate-prompt itself may subscribe ---------------------------------------

# A script connects, forks, and its parent execs the real tollgate-prompt
# (kept waiting on a config file that is a named pipe), so the pid the
# kernel names as the peer runs tollgate-prompt; the child, a python3,
# then sends SUBSCRIBE on the connection.
mkfifo "$TG_TMP/fifo.conf"
chmod 666 "$TG_TMP/fifo.conf"
out=$(as_guard python3 -c '
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
pid = os.fork()
if pid > 0:
    os.execv(sys.argv[2], [sys.argv[2], "-c", sys.argv[3]])
time.sleep(0.5)
s.sendall(b"SUBSCRIBE\n")
s.settimeout(5)
print(s.recv(500).decode().strip())
os.kill(os.getppid(), 9)
' "$SOCK" "$PROMPT" "$TG_TMP/fifo.conf")
like "$out" '^ERR perm SUBSCRIBE is for the installed tollgate-prompt' \
    "a script whose parent execs tollgate-prompt cannot subscribe ($out)"

# --- bounds ----------------------------------------------------------------------

tg_mark
pids=()
for i in $(seq 1 33); do
	fetch "p$i.c-bound.test" "$TG_TMP/p$i"
	pids+=($!)
done
wait_pj 'len(ps)' 32
ok $? "33 names of one app: 32 prompts pending"
d=$(tg_decision reason=prompt-full)
ok $? "one connection was not parked: reason=prompt-full"
is "$(kv "$d" verdict)" deny "it got default_action (deny)"
n=0
for i in $(seq 1 33); do
	[ -s "$TG_TMP/p$i" ] && [ "$(cat "$TG_TMP/p$i")" = 000 ] && n=$((n + 1))
done
is "$n" 1 "exactly one curl was refused at once, the others wait"
tg_stop
kill "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null || true

tg_start "$CONF"
wait_agent || diag "the agent did not come back"
tg_mark
pids=()
for i in $(seq 1 65); do
	fetch same.c-bound.test "$TG_TMP/s$i"
	pids+=($!)
done
for ((i = 0; i < 150; i++)); do
	tg_decision reason=prompt-full >/dev/null 2>&1 && break
	sleep 0.1
done
d=$(tg_decision reason=prompt-full)
ok $? "65 connections to one name: one is not parked (prompt-full)"
c=$(pj 'sum(p["connections"] for p in ps)')
is "$c" 64 "64 connections wait on the one prompt"
tg_stop
kill "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null || true
