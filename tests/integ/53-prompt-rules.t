#!/bin/bash
# Prompts and rules together: a rule added while connections wait on a
# prompt lets them go and withdraws the prompt; the answer "allow
# *.b.test" to one prompt also frees another app-and-name pair it covers;
# and the broker's bounds: the 33rd pending prompt of one app, and the
# 65th connection parked on one prompt, get default_action with reason
# prompt-full instead of waiting.

. "$(dirname "$0")/lib.sh"

plan 33
tg_setup
prompt_setup
CONF=$(prompt_conf prompt_timeout=60s)
tg_start "$CONF"
ok $? "tollgated starts"

agent_start
wait_agent
ok $? "tollgate-prompt --tty runs as $TG_GUARD and subscribes"

# fetch NAME OUT: a guarded curl of https://NAME/ in the background,
# writing the HTTP status (000: refused) to OUT.  It waits on prompts
# (prompt_timeout is 60 s): neither curl nor as_guard's timeout may end
# it first, however slowly a loaded machine gets to the answer.
fetch() {
	TG_T=100 as_guard curl -s --max-time 90 --cacert "$TG_CA" \
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

# A script writes SUBSCRIBE and an ANSWER allowing its own prompt, then
# execs the real tollgate-prompt on the same connection, so that
# tollgated reads those lines when the writer already runs
# tollgate-prompt.  The installed program is setgid to its group, and the
# connection was made without it.
fetch w.d.test "$TG_TMP/rw"
cw=$!
wait_pj 'len(ps)' 1
id=$(pj 'ps[0]["id"]')
tg_mark
as_guard python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(("SUBSCRIBE\nANSWER %s allow app forever\n" % sys.argv[4]).encode())
os.set_inheritable(s.fileno(), True)
os.execv(sys.argv[2], [sys.argv[2], "-c", sys.argv[3]])
' "$SOCK" "$PROMPT" "$TG_TMP/fifo.conf" "$id" &
sp=$!
line=$(tg_wait_log 'SUBSCRIBE refused' 5)
ok $? "a script that writes, then execs tollgate-prompt, is refused"
like "$line" 'setgid' "because it did not connect with tollgate-prompt's group"
sleep 0.5
is "$(pj 'len(ps)')" 1 "its prompt still waits: its ANSWER did not count"
is "$(rj 'len([r for r in rs if r["dest"] == "*"])')" 0 "and no rule for it was added"
kill "$sp" "$cw" 2>/dev/null
wait "$sp" "$cw" 2>/dev/null || true
wait_pj 'len(ps)' 0

# --- a client that half-closes waits on ---------------------------------------------

# socat sends its request and shuts down its sending side at the end of
# its input, then waits for the answer: that is not leaving.
(printf 'GET / HTTP/1.0\r\nHost: hc.d.test\r\n\r\n' |
    TG_T=60 as_guard socat -t 20 - "TCP:$TG_S4:80" >"$TG_TMP/hc.out" 2>/dev/null) &
hp=$!
wait_pj 'len(ps)' 1
sleep 1.5
is "$(pj 'len(ps)')" 1 "a half-closed client (socat at the end of its input) still waits"
"$TG" -c "$CONF" answer "$(pj 'ps[0]["id"]')" allow >/dev/null
wait "$hp"
grep -q "hello from tgs" "$TG_TMP/hc.out"
ok $? "on the answer it gets the server's reply"

# --- a control client that reads late ----------------------------------------------

# 30000 STATUS requests in one go (210 KB, more than a line's worth of
# input, whose reading pauses) with the replies (7 MB, more than the
# 256 KiB tollgated queues) read only after 2 s: every one is answered.
out=$(TG_T=60 as_guard python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"STATUS\n" * 30000)
s.shutdown(socket.SHUT_WR)
time.sleep(2)
s.settimeout(10)
data = b""
while True:
    try:
        b = s.recv(65536)
    except socket.timeout:
        break
    if not b:
        break
    data += b
print(sum(1 for l in data.split(b"\n") if l.startswith(b"OK pid=")))
' "$SOCK")
is "$out" 30000 "a client that sends 30000 requests and reads late gets every reply"

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
# refused: how many of the 33 curls have ended with 000 by now.
refused() {
	local i n=0
	for i in $(seq 1 33); do
		[ "$(cat "$TG_TMP/p$i" 2>/dev/null)" = 000 ] && n=$((n + 1))
	done
	echo "$n"
}
for ((i = 0; i < 50 * TG_WAIT_SCALE; i++)); do
	[ "$(refused)" -ge 1 ] && break
	sleep 0.1
done
sleep 0.5
is "$(refused)" 1 "exactly one curl was refused at once, the others wait"
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
for ((i = 0; i < 150 * TG_WAIT_SCALE; i++)); do
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

# --- without EV_CLOSED ------------------------------------------------------------

# libevent's select backend cannot watch for a client closing; a parked
# connection is then allowed without that watch, and nothing breaks.
printf '#!/bin/sh\nexec env EVENT_NOEPOLL=1 EVENT_NOPOLL=1 %s "$@"\n' \
    "$TG_DAEMON" >"$TG_TMP/tollgated-select"
chmod 755 "$TG_TMP/tollgated-select"
TG_DAEMON=$TG_TMP/tollgated-select
tg_start "$CONF"
wait_agent || diag "the agent did not come back"
as_guard curl -s --max-time 30 --resolve "sel.d.test:80:$TG_S4" \
    -o /dev/null -w '%{http_code}' http://sel.d.test/ >"$TG_TMP/rsel" 2>/dev/null &
csel=$!
wait_pj 'len(ps)' 1
ok $? "with the select backend, a curl waits on a prompt"
"$TG" -c "$CONF" answer "$(pj 'ps[0]["id"]')" allow >/dev/null
ok $? "root allows it once"
wait "$csel"
is "$(cat "$TG_TMP/rsel")" 200 "the curl gets its page"
tg_stop
is "$TG_DEXIT" 0 "tollgated was still running and stopped cleanly"

