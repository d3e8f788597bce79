#!/bin/bash
# One user starves the others: a guarded user holds 64 control-socket
# connections, opens prompts past the table's half, and holds 6,000
# connections that never send a byte.  Meanwhile root's tollgate status
# and rules add work, another guarded user's agent subscribes and is
# asked about that user's connection, and that user's 20 sequential
# curls are all served; the first user's excess is turned away (the
# control socket tells it so; its connections get reason=overload-user).

. "$(dirname "$0")/lib.sh"

plan 28
tg_setup
prompt_setup
OTHER_UID=$(id -u "$TG_OTHER")

# hold USER MODE TARGET COUNT SECONDS [ARG]: tools/holdconns.py as USER in
# the background, its output in $TG_TMP/hold.MODE; the pipe it watches
# (closed by unhold) in $TG_TMP/hold.MODE.in.
hold() {
	local user=$1 mode=$2
	shift 2
	rm -f "$TG_TMP/hold.$mode" "$TG_TMP/hold.$mode.in"
	mkfifo "$TG_TMP/hold.$mode.in"
	(ulimit -n 20000
	TG_T=$(($3 + 30)) as_user "$user" /usr/bin/python3 -I \
	    "$TG_TOOLS/holdconns.py" "$mode" "$@" \
	    <"$TG_TMP/hold.$mode.in" >"$TG_TMP/hold.$mode" 2>&1) &
	TG_PIDS+=($!)
	exec {HOLD_FD}>"$TG_TMP/hold.$mode.in"
	eval "HOLD_$mode=$HOLD_FD"
}

# hold_ready MODE [SECONDS]: until it said ready (default 30 s).
hold_ready() {
	local i
	for ((i = 0; i < ${2:-30} * 10; i++)); do
		grep -q '^ready' "$TG_TMP/hold.$1" 2>/dev/null && return 0
		sleep 0.1
	done
	diag "hold $1: $(cat "$TG_TMP/hold.$1")"
	return 1
}

# unhold MODE: tell it to let go; wait (30 s) for its last line.
unhold() {
	local fd i
	eval "fd=\$HOLD_$1"
	exec {fd}>&-
	for ((i = 0; i < 300; i++)); do
		grep -q '^open=\|^held=\|^rounds=' "$TG_TMP/hold.$1" &&
		    [ "$(grep -c . "$TG_TMP/hold.$1")" -ge 2 ] && return 0
		sleep 0.1
	done
}

# other_agent WAIT KEY DONE: tgother's tollgate-prompt --tty in a pty of
# its own (tools/ptyagent.py), in the background: output in
# $TG_TMP/other.pty, "exit=N" at its end.
other_agent() {
	rm -f "$TG_TMP/other.pty"
	(TG_T=60 as_other /usr/bin/python3 -I "$TG_TOOLS/ptyagent.py" 50 \
	    "$PROMPT" -c "$CONF" --tty -- "$@" >"$TG_TMP/other.pty" 2>&1
	echo "exit=$?" >>"$TG_TMP/other.pty") &
	TG_PIDS+=($!)
}

other_done() {
	local i
	for ((i = 0; i < ${1:-55} * 10; i++)); do
		grep -q '^exit=' "$TG_TMP/other.pty" 2>/dev/null && break
		sleep 0.1
	done
	cat "$TG_TMP/other.pty"
}

CONF=$(prompt_conf guard_users="$TG_GUARD, $TG_OTHER" prompt_timeout=90s \
    peek_timeout=60s)
tg_start "$CONF"
ok $? "tollgated starts guarding $TG_GUARD and $TG_OTHER"

# --- the control socket -------------------------------------------------------

hold "$TG_GUARD" control "$SOCK" 64 120
hold_ready control
out=$(cat "$TG_TMP/hold.control")
like "$out" 'held=8 refused=56' "of 64 control connections tgguard opens, 8 are kept and 56 turned away"
like "$out" "ERR internal too many control clients of uid $TG_GUARD_UID" \
    "a refused one is told: too many control clients of uid $TG_GUARD_UID"
out=$("$TG" -c "$CONF" status 2>&1)
ok $? "root's tollgate status works meanwhile"
like "$out" 'clients' "and shows the counters ($(echo "$out" | grep -m1 clients))"
out=$("$TG" -c "$CONF" rules add --app '*' --uid "$OTHER_UID" --dest a.test \
    --port 80 --action allow --note fair 2>&1)
ok $? "root's tollgate rules add works meanwhile ($out)"
other_agent "agent [0-9]+ of uid $OTHER_UID"
out=$(other_done 20)
like "$out" 'done:' "tgother's agent subscribes meanwhile" || diag "$out"
unhold control

# --- prompts ------------------------------------------------------------------

agent_start
wait_agent
ok $? "tgguard's agent (tmux) is subscribed, and never answers"
# 9 copies of python3, each a different app (32 prompts at most each),
# 32 names each: 288 prompts asked for.
FLOOD=$TG_TMP/flood
mkdir -p "$FLOOD" && chown "$TG_GUARD" "$FLOOD"
for i in 1 2 3 4 5 6 7 8 9; do
	as_guard cp /usr/bin/python3 "$FLOOD/py$i"
done
tg_mark
for i in 1 2 3 4 5 6 7 8 9; do
	(TG_T=100 as_guard "$FLOOD/py$i" -I "$TG_TOOLS/holdconns.py" http \
	    "$TG_S4:80" 32 90 "p$i-{}.test" </dev/null >"$TG_TMP/flood$i" 2>&1) &
	TG_PIDS+=($!)
done
wait_pj 'len(ps)' 128 40
ok $? "tgguard's connections open 128 prompts (half the table): tollgate prompts shows 128"
for ((i = 0; i < 300; i++)); do
	[ "$(_tg_since | grep -c 'reason=prompt-full')" -ge 150 ] && break
	sleep 0.1
done
n=$(_tg_since | grep -c 'reason=prompt-full.*user=tgguard')
ok '[ "$n" -ge 150 ]' "the other $n of tgguard's connections are not asked about (reason=prompt-full)"
other_agent 'd\.test' o 'allowed'
wait_agent 2
(TG_T=60 as_other curl -sS --max-time 50 --resolve "d.test:80:$TG_S4" \
    -o /dev/null -w 'code=%{http_code}\n' http://d.test/ \
    >"$TG_TMP/d.curl" 2>&1; echo "exit=$?" >>"$TG_TMP/d.curl") &
out=$(other_done 55)
like "$out" 'screen: .*curl wants to connect to d\.test:80' \
    "tgother's connection to d.test is asked about: its agent shows the prompt" || diag "$out"
like "$out" 'done: .*allowed' "and answers allow once" || diag "$out"
d=$(tg_decision name=d.test)
is "$(kv "$d" reason)" prompt "the connection to d.test was decided by that answer"
is "$(kv "$d" user)" "$TG_OTHER" "of user tgother"
tty_stop

# --- stalled peeks ------------------------------------------------------------
#
# tgguard's silent connections go to the server's IPv6 address, tgother's
# curls to its IPv4 one.  (Over IPv4 both, a held connection from port P
# to port 7 and a curl that happens to pick P too are the same
# connection once redirected to tollgated's port: conntrack gives the
# curl another source port, and attribution no longer finds its socket.
# That is the redirect's and attribution's to solve, not the counting's.)

# other_curls: tgother's 20 sequential curls to a.test; sets SERVED (how
# many got the page), MS (how long the 20 took, starting curl included),
# CURL_MS (the sum of curl's own time_total: the wait tollgated made) and
# UNSERVED (what each curl that failed said).
other_curls() {
	local i out t t0
	SERVED=0 CURL_MS=0 UNSERVED=
	t0=$(tg_ms)
	for i in $(seq 1 20); do
		if out=$(TG_T=45 as_other curl -sS --max-time 40 \
		    --resolve "a.test:80:$TG_S4" -w '\ntime=%{time_total}' \
		    http://a.test/ 2>&1) && [[ $out =~ "hello from tgs" ]]; then
			SERVED=$((SERVED + 1))
		else
			UNSERVED+="curl $i at $(($(tg_ms) - t0)) ms: $(tr '\n' ' ' <<<"$out")"$'\n'
		fi
		t=$(sed -n 's/^time=//p' <<<"$out")
		CURL_MS=$((CURL_MS + $(awk -v t="${t:-0}" 'BEGIN { printf "%d", t * 1000 }')))
	done
	MS=$(($(tg_ms) - t0))
}

# unserved_diag: after other_curls, what the curls that failed said and
# what tollgated logged of tgother's connections to a.test.
unserved_diag() {
	diag "$UNSERVED"
	diag "tgother's connections in tollgated's log:"
	diag "$(_tg_since | grep -E "user=$TG_OTHER |dst=$TG_S4:80" | tail -n 60)"
}

# stall MAX-PENDING: tollgated with max_connections = 3000 and that
# max_pending_per_user; tgguard holds 6,000 silent connections; then
# tgother's 20 sequential curls to a.test; sets SERVED and MS.
stall() {
	tg_stop TERM
	CONF=$(prompt_conf guard_users="$TG_GUARD, $TG_OTHER" peek_timeout=60s \
	    max_connections=3000 max_pending_per_user="$1")
	tg_start "$CONF" || return 1
	tg_mark
	hold "$TG_GUARD" silent "[$TG_S6]:7" 6000 120
	hold_ready silent 60 || return 1
	for ((i = 0; i < 300; i++)); do
		[ "$(_tg_since | grep -c 'reason=overload')" -ge 2900 ] && break
		sleep 0.1
	done
	other_curls
}

stall 1000000
ok $? "without a share per user (max_pending_per_user = 1000000), tgguard opens 6,000 silent connections"
ok '[ "$SERVED" -lt 20 ]' "then only $SERVED of tgother's 20 curls are served: the hole"
n=$(_tg_since | grep 'reason=overload ' | grep -c "dst=$TG_S4:80")
ok '[ "$n" -ge 1 ]' "$n of tgother's connections are turned away with reason=overload (max_connections)"
unhold silent

stall 512
ok $? "with max_pending_per_user = 512, tgguard opens 6,000 silent connections"
is "$SERVED" 20 "meanwhile tgother's 20 sequential curls are all served (${MS} ms)" ||
    unserved_diag
# How long they took is the machine's (each waits behind the flood's
# backlog of connections to accept): said, not asserted.
diag "tgother's 20 curls took ${MS} ms in all; ${CURL_MS} ms from connect to the last byte"
# tgother may be done before tollgated is through the flood's backlog.
# In the end every one past the 512 is refused for its user's share, at
# once: with its SYN record (connect tracking) none waits on the worker,
# not even for its user's name, so none holds a place under
# max_connections (which tgother's would then find taken, and be refused
# for overload).
for ((i = 0; i < 300 * TG_WAIT_SCALE; i++)); do
	[ "$(_tg_since | grep -c 'reason=overload')" -ge 5488 ] && break
	sleep 0.1
done
n=$(_tg_since | grep -c 'reason=overload-user.*user=tgguard')
is "$n" 5488 "past its 512, each of the other 5,488 is refused with reason=overload-user, named tgguard; none for max_connections"
unhold silent
out=$(cat "$TG_TMP/hold.silent")
like "$out" 'open=512 ' "tgguard kept 512 of them open ($(tail -n 1 "$TG_TMP/hold.silent"))"

# --- a flood of requests ------------------------------------------------------
#
# tgguard opens 2,000 connections at once, each sending a request, and
# again as soon as they are all turned away, while tgother's 20 curls
# run one after the other.  Each connection's uid comes with its SYN
# record at accept (connect tracking), and its process from the
# answer the loop keeps for the flooding process, or from the one
# attribution thread, per uid in turn: past its max_pending_per_user
# tgguard's connections are refused before they cost /proc work, and
# tgother's wait behind one of tgguard's at most.  (Named on the loop,
# the flood's connections may never reach the bound.)

CONF=$(prompt_conf guard_users="$TG_GUARD, $TG_OTHER" peek_timeout=60s \
    max_connections=3000 max_pending_per_user=64)
tg_stop TERM
tg_start "$CONF"
ok $? "tollgated starts with max_pending_per_user = 64"
tg_mark
hold "$TG_GUARD" flood "[$TG_S6]:80" 2000 300 flood.test
hold_ready flood 60
ok $? "tgguard floods: 2,000 requests at once, again and again"
other_curls
is "$SERVED" 20 "meanwhile tgother's 20 sequential curls are all served (${MS} ms)" ||
    unserved_diag
diag "tgother's 20 curls took ${MS} ms in all, beside the flood; ${CURL_MS} ms from connect to the last byte"
unhold flood
diag "the flood: $(tail -n 1 "$TG_TMP/hold.flood")"
n=$(tg_decisions user=tgguard)
ok '[ "$n" -ge 2000 ]' "tgguard's connections are turned away, each with its user ($n; $(tg_decisions reason=overload-user user=tgguard) past its 64)"
n=$(($(tg_decisions reason=overload-user user=tgother) +
    $(tg_decisions reason=overload user=tgother)))
is "$n" 0 "none of tgother's connections is refused for overload"
n=$(tg_decisions name=a.test verdict=allow user=tgother)
is "$n" 20 "tgother's 20 connections to a.test are allowed, each with its user"

tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0"
