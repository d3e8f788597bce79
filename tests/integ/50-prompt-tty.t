#!/bin/bash
# Being asked in a terminal: tollgate-prompt --tty runs as the guarded user
# in a tmux pane, setgid _tollgate-prompt as installed.  A connection no
# rule decides waits, with nothing sent to the server, while the screen
# names the app and the destination and counts down; keys that are not
# an answer's (Ctrl-Up, Shift-Up, A) answer nothing; one key lets it
# through for good (a rule appears) or turns it away for good (a deny
# rule).  Ten connections of one app to one name are one prompt and go on
# together on one answer; another app's prompt waits beside it; a
# connection a rule allows is not held up meanwhile.  Stopped, the agent
# gives the terminal back, and takes it again when continued; Ctrl-\
# quits it cleanly.

. "$(dirname "$0")/lib.sh"

plan 91
tg_setup
prompt_setup
CONF=$(prompt_conf prompt_timeout=60s)

tg_start "$CONF"
ok $? "tollgated starts with default_action = deny and prompt_program = build/tollgate-prompt"

agent_start
scr=$(tty_wait agent 'No pending prompts' 10)
if ! ok $? "tollgate-prompt --tty runs as tgguard and says there is nothing to answer"; then
	diag "$(tty_screen agent all)"
	echo "Bail out! no prompt agent"
	exit 1
fi
like "$scr" "agent [0-9]+ of uid $TG_GUARD_UID" "its header says it is subscribed, for uid $TG_GUARD_UID"
apid=$(tty_pid agent)
is "$(awk '/^Gid:/ { print $2 "/" $3 }' "/proc/$apid/status")" \
    "$(id -g "$TG_GUARD")/$(getent group _tollgate-prompt | cut -d: -f3)" \
    "it runs as tgguard's group, with the effective group _tollgate-prompt (setgid)"

# --- allow always (this name) ------------------------------------------------

syn=$(syn_count 443)
tg_mark
bg_curl a.test "$TG_TMP/a1"
scr=$(tty_wait agent 'curl wants to connect to a\.test:443' 10)
ok $? "a curl to a.test brings up a prompt in the terminal" || diag "$scr"
like "$scr" 'App: +curl \(/usr/bin/curl\)' "it shows the app: curl (/usr/bin/curl)"
like "$scr" 'Name: +a\.test \(from TLS SNI\)' "and the name, read from the TLS SNI"
like "$scr" "Process: +pid [0-9]+, user $TG_GUARD" "and whose process it is"
like "$scr" '\[a\] Allow always \(this name\)' "it offers [a] Allow always (this name)"
like "$scr" '\[n\] Deny always \(this name\)' "and [n] Deny always (this name)"
left1=$(sed -n 's/.*deny in \([0-9]*\) s.*/\1/p' <<<"$scr" | head -n 1)
like "$left1" '^[0-9]+$' "a countdown says when deny applies (deny in $left1 s)"
ok '[ "$left1" -le 60 ] && [ "$left1" -ge 50 ]' "counting from prompt_timeout = 60s ($left1)"
sleep 2.2
left2=$(tty_screen agent | sed -n 's/.*deny in \([0-9]*\) s.*/\1/p' | head -n 1)
ok '[ -n "$left2" ] && [ "$left2" -lt "$left1" ]' "and it counts down ($left1 s, then $left2 s)"
is "$(done_status "$TG_TMP/a1" 0)" "" "meanwhile curl waits"
is "$(syn_count 443)" "$syn" "and not one SYN reached the server"

# Keys that end in a capital A: Ctrl-Up is ESC [ 1 ; 5 A, Shift-Up
# ESC [ 1 ; 2 A (xterm's, as tmux sends them); the third comes in two
# reads.  None of them is a.
tty_keys agent C-Up
tty_keys agent S-Up
tty_keys agent Escape
sleep 0.3
tty_keys agent -l '[1;5A'
sleep 0.3
tty_keys agent A
scr=$(tty_wait agent 'A does nothing here' 5)
ok $? "Ctrl-Up, Shift-Up, ESC [1;5A in two reads and A answer nothing; A, it says, does nothing" ||
    diag "$scr"
like "$scr" 'curl wants to connect to a\.test:443' "the prompt stays on the screen"
sleep 0.5
is "$(pj '[p["name"] for p in ps]')" "['a.test']" "and pending"
is "$(rj 'len(rs)')" 0 "no rule was added"
is "$(done_status "$TG_TMP/a1" 0)" "" "and curl still waits"

t0=$(tg_ms)
tty_keys agent a
st=$(done_status "$TG_TMP/a1" 10)
ms=$(($(tg_ms) - t0))
is "$st" 0 "pressing a lets the waiting curl finish (exit 0, ${ms} ms after the key)"
like "$(cat "$TG_TMP/a1")" 'code=200' "and it got the page (HTTP 200)"
is "$(rj '[(r["app"], r["uid"], r["dest"], r["action"], r["duration"]) for r in rs if r["dest"] == "a.test"]')" \
    "[('/usr/bin/curl', $TG_GUARD_UID, 'a.test', 'allow', 'forever')]" \
    "tollgate rules list shows the new rule: curl, uid $TG_GUARD_UID, a.test, allow, forever"
scr=$(tty_wait agent 'No pending prompts' 5)
ok $? "the prompt leaves the screen" || diag "$scr"
like "$scr" 'allowed.*rule [0-9]+ added' "which says the answer was taken and a rule added"
tg_mark
curl_to a.test
ok $? "the next curl to a.test goes straight through"
d=$(tg_decision name=a.test)
is "$(kv "$d" reason)" rule "decided by the new rule, without asking"

# --- deny always (this name) -------------------------------------------------

bg_curl c.test "$TG_TMP/c1"
scr=$(tty_wait agent 'curl wants to connect to c\.test:443' 10)
ok $? "a curl to c.test brings up its prompt" || diag "$scr"
tty_keys agent n
st=$(done_status "$TG_TMP/c1" 10)
like "$st" "$TG_CURL_RESET" "pressing n resets the waiting curl (exit $st)"
is "$(rj '[(r["app"], r["dest"], r["action"], r["duration"]) for r in rs if r["dest"] == "c.test"]')" \
    "[('/usr/bin/curl', 'c.test', 'deny', 'forever')]" \
    "and leaves a deny rule for curl to c.test"
tty_wait agent 'No pending prompts' 5 >/dev/null
tg_mark
t0=$(tg_ms)
curl_to c.test
st=$?
ms=$(($(tg_ms) - t0))
like "$st" "$TG_CURL_RESET" "the next curl to c.test is reset (exit $st)"
ok '[ "$ms" -lt 7500 ]' "at once, without a prompt (${ms} ms)"
is "$(pj 'len(ps)')" 0 "no prompt is pending"

# --- ten connections, one prompt; a second app beside it ---------------------

syn=$(syn_count 443)
for i in $(seq 1 10); do
	bg_curl b.test "$TG_TMP/b$i"
done
wait_pj 'sum(p["connections"] for p in ps)' 10 15
ok $? "ten parallel curls to b.test all wait"
is "$(pj '[(p["app"], p["name"], p["connections"]) for p in ps]')" \
    "[('/usr/bin/curl', 'b.test', 10)]" \
    "on one prompt: tollgate prompts --json shows one, with connections=10"
scr=$(tty_wait agent 'curl wants to connect to b\.test:443' 5)
ok $? "the terminal shows it" || diag "$scr"
unlike "$scr" 'Other pending prompts' "as the only prompt"

python3_get() {
	as_guard /usr/bin/python3 -I -c '
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
with socket.create_connection((sys.argv[2], 443), timeout=40) as s:
    with ctx.wrap_socket(s, server_hostname=sys.argv[3]) as t:
        t.sendall(b"GET / HTTP/1.0\r\nHost: " + sys.argv[3].encode() + b"\r\n\r\n")
        print(t.recv(100).split(b"\r\n")[0].decode())' "$TG_CA" "$TG_S4" "$1"
}
# py_refused FILE: once python3_get of FILE ended (10 s at most), print
# "exit STATUS: its last line"; true when its connection was reset.
py_refused() {
	local st err
	st=$(done_status "$1" 10)
	err=$(grep -v '^exit=' "$1" | tail -n 1)
	echo "exit $st: $err"
	[ -n "$st" ] && [ "$st" != 0 ] && [[ $err =~ Reset|EOF|reset ]]
}
( TG_T=45 python3_get x.b.test >"$TG_TMP/py" 2>&1; echo "exit=$?" >>"$TG_TMP/py" ) &
wait_pj 'len(ps)' 2 10
ok $? "python3 to x.b.test meanwhile opens a second prompt"
is "$(pj '[(p["app"].split("/")[-1][:7], p["name"], p["connections"]) for p in ps]')" \
    "[('curl', 'b.test', 10), ('python3', 'x.b.test', 1)]" \
    "both are pending: curl to b.test (10) and python3 to x.b.test (1)"
scr=$(tty_wait agent 'Other pending prompts \(1\)' 5)
ok $? "the terminal lists the other prompt" || diag "$scr"
like "$scr" 'python3[^ ]* +x\.b\.test:443' "as python3 to x.b.test:443"
like "$scr" '\[1/2\] curl wants to connect to b\.test:443' "while the first one stays in front"

t0=$(tg_ms)
curl_to a.test
st=$?
ms=$(($(tg_ms) - t0))
is "$st" 0 "a curl to a.test, which a rule allows, goes through while both wait"
ok '[ "$ms" -lt 7500 ]' "without waiting behind them (${ms} ms)"
is "$(syn_count 443)" "$((syn + 1))" "it is the only connection that reached the server"

tty_keys agent o
fails=0
for i in $(seq 1 10); do
	st=$(done_status "$TG_TMP/b$i" 10)
	{ [ "$st" = 0 ] && grep -q 'code=200' "$TG_TMP/b$i"; } ||
	    { fails=$((fails + 1)); diag "curl $i: $(tr '\n' ' ' <"$TG_TMP/b$i")"; }
done
is "$fails" 0 "one key (o, allow once) and all ten curls get their page"
is "$(rj 'len([r for r in rs if r["dest"] == "b.test"])')" 0 "once adds no rule"
is "$(pj '[(p["app"].split("/")[-1][:7], p["name"]) for p in ps]')" \
    "[('python3', 'x.b.test')]" "the python3 prompt is still pending"
is "$(done_status "$TG_TMP/py" 0)" "" "and python3 still waits"
scr=$(tty_wait agent '\[1/1\] python3[^ ]* wants to connect to x\.b\.test:443' 5)
ok $? "the terminal shows it now" || diag "$scr"
tty_keys agent d
out=$(py_refused "$TG_TMP/py")
ok $? "d (deny once) resets python3's connection ($out)"
is "$(pj 'len(ps)')" 0 "nothing is pending any more"
is "$(rj 'len(rs)')" 2 "and the rules are the two answered always"

# press KEYS REGEX DESCRIPTION: type KEYS in the agent's terminal; ok when
# its screen then matches REGEX (within 5 s).
press() {
	local scr
	tty_keys agent $1
	scr=$(tty_wait agent "$2" 5)
	ok $? "$3" || diag "$scr"
}

# --- Enter alone: the default ---------------------------------------------------

# until_in RULE-EXPR: seconds from now to the expiry of the one rule
# rules list --json shows for the python condition RULE-EXPR on r.
until_in() {
	rj "[int(__import__('datetime').datetime.fromisoformat(r['expires'].replace('Z', '+00:00')).timestamp() - __import__('time').time()) for r in rs if $1]"
}

bg_curl w.b.test "$TG_TMP/w1"
scr=$(tty_wait agent 'curl wants to connect to w\.b\.test:443' 10)
ok $? "a curl to w.b.test brings up its prompt" || diag "$scr"
like "$scr" 'Your answer: Deny once \(no rule\) \(the default\)' \
    "the answer Enter sends is on a line of its own: deny once, no rule, the default"
like "$scr" '\[Enter\] send it +\[v\] allow/deny +\[t\] how long' "with the keys that change it"
tty_keys agent Enter
st=$(done_status "$TG_TMP/w1" 10)
like "$st" "$TG_CURL_RESET" "Enter alone sends it: the waiting curl is reset (exit $st)"
is "$(rj 'len(rs)')" 2 "and no rule is stored"
scr=$(tty_wait agent 'denied \(1 connection\); no rule added' 5)
ok $? "the screen says: denied (1 connection); no rule added" || diag "$scr"
like "$scr" 'No pending prompts' "and the prompt left it"

# --- put together: allow *.b.test for 1 hour ----------------------------------

bg_curl y.b.test "$TG_TMP/y1"
scr=$(tty_wait agent 'curl wants to connect to y\.b\.test:443' 10)
ok $? "a curl to y.b.test brings up its prompt" || diag "$scr"
like "$scr" '\[s\] scope of a rule: y\.b\.test' "the scope a rule would cover starts at the name (y.b.test)"
press 'v' 'Your answer: Allow once \(no rule\)' \
    "v makes it Allow once"
press 's' '\[s\] scope of a rule: \*\.b\.test' \
    "s makes the scope *.b.test"
press 't' 'Your answer: Allow for 30 minutes \(\*\.b\.test\)' \
    "t makes it for 30 minutes"
press 't' 'Your answer: Allow for 1 hour \(\*\.b\.test\)' \
    "t again: Allow for 1 hour (*.b.test)"
sleep 0.3
is "$(done_status "$TG_TMP/y1" 0)/$(pj 'len(ps)')" "/1" \
    "none of these keys answers: curl still waits on its prompt"
tty_keys agent Enter
st=$(done_status "$TG_TMP/y1" 10)
is "$st" 0 "Enter sends it: the waiting curl finishes (exit 0)"
like "$(cat "$TG_TMP/y1")" 'code=200' "with the page (HTTP 200)"
is "$(rj '[(r["app"], r["uid"], r["port"], r["action"], r["duration"][:6]) for r in rs if r["dest"] == "*.b.test"]')" \
    "[('/usr/bin/curl', $TG_GUARD_UID, 'any', 'allow', 'until:')]" \
    "tollgate rules list shows curl, uid $TG_GUARD_UID, *.b.test, any port, allow, until:"
left=$(until_in 'r["dest"] == "*.b.test"')
ok '[[ $left =~ ^\[([0-9]+)\]$ ]] && [ "${BASH_REMATCH[1]}" -gt 3300 ] && [ "${BASH_REMATCH[1]}" -le 3600 ]' \
    "an hour ahead ($left s)"
tty_wait agent 'No pending prompts' 5 >/dev/null
tg_mark
curl_to z.b.test
ok $? "a curl to z.b.test goes straight through"
d=$(tg_decision name=z.b.test)
is "$(kv "$d" reason)" rule "decided by the *.b.test rule, without asking"

# --- put together at 80x24: deny python3 port 443 for 30 minutes ----------------

_tmux resize-window -t agent -x 80 -y 24
( TG_T=45 python3_get b.test >"$TG_TMP/py2" 2>&1; echo "exit=$?" >>"$TG_TMP/py2" ) &
scr=$(tty_wait agent 'python3[^ ]* wants to connect to b\.test:443' 10)
ok $? "python3 to b.test brings up a prompt on an 80x24 terminal" || diag "$scr"
like "$scr" '\[x\] Deny always \(this app, anywhere\)' "the six answers fit"
like "$scr" 'Your answer: Deny once \(no rule\) \(the default\)' "and so does the answer Enter sends"
press 's s s' '\[s\] scope of a rule: any address, port 443' \
    "s s s: the scope is any address, port 443"
press 't' 'Your answer: Deny for 30 minutes \(any address, port 443\)' \
    "t: Deny for 30 minutes (any address, port 443)"
tty_keys agent Enter
out=$(py_refused "$TG_TMP/py2")
ok $? "Enter: python3's connection is reset ($out)"
is "$(rj '[(r["app"].split("/")[-1][:7], r["dest"], r["port"], r["action"]) for r in rs if r["app"] != "/usr/bin/curl"]')" \
    "[('python3', '*', '443', 'deny')]" \
    "tollgate rules list shows python3, any destination, port 443, deny"
left=$(until_in 'r["app"] != "/usr/bin/curl"')
ok '[[ $left =~ ^\[([0-9]+)\]$ ]] && [ "${BASH_REMATCH[1]}" -gt 1500 ] && [ "${BASH_REMATCH[1]}" -le 1800 ]' \
    "until half an hour ahead ($left s)"
tty_wait agent 'No pending prompts' 5 >/dev/null
out=$(TG_T=20 python3_get a.test 2>&1)
ok '[ $? != 0 ] && [[ $out =~ Reset|EOF|reset ]] && [ "$(pj "len(ps)")" = 0 ]' \
    "python3 to a.test, on port 443 too, is reset at once without a prompt"

# --- stopped and continued; Ctrl-\ -------------------------------------------
#
# tmux continues a pane's program as soon as it stops; under a shell, as
# in a terminal's job control, it stays stopped until continued.  The
# shell ignores SIGINT and SIGQUIT, which the terminal sends it too.

pstate() {
	awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null
}

wait_pstate() {
	local i
	for ((i = 0; i < 50 * TG_WAIT_SCALE; i++)); do
		[ "$(pstate "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

guard_argv TERM=tmux-256color "$PROMPT" -c "$CONF" --tty
tty_start job sh -c 'trap "" INT QUIT; "$@"; st=$?
    echo "tollgate-prompt exited: $st; $(stty -a | grep -o -w -e "-\?icanon")"' \
    sh "${TG_ARGV[@]}"
scr=$(tty_wait job 'No pending prompts' 10)
ok $? "a second tollgate-prompt --tty, run by a shell" || diag "$scr"
jpid=$(pgrep -P "$(tty_pid job)")

kill -TSTP "$jpid"
wait_pstate "$jpid" T
ok $? "SIGTSTP stops it"
is "$(tty_alt job) $(tty_icanon job)" "0 icanon" \
    "once it gave the terminal back as it was: the normal screen, whole lines"
kill -CONT "$jpid"
scr=$(tty_wait job 'No pending prompts' 5)
ok $? "SIGCONT: it draws its screen again" || diag "$scr"
is "$(tty_alt job) $(tty_icanon job)" "1 -icanon" \
    "on the alternate screen, with keys read as typed"

# A SIGSTOP it cannot see, and meanwhile something else (a shell) sets the
# terminal its way and leaves the alternate screen.
kill -STOP "$jpid"
wait_pstate "$jpid" T
pts=$(_tmux display-message -p -t job '#{pane_tty}')
stty -F "$pts" icanon echo
printf '\033[?1049l\033[2Jshell was here\r\n' >"$pts"
tty_wait job 'shell was here' 5 >/dev/null
kill -CONT "$jpid"
scr=$(tty_wait job 'No pending prompts' 5)
ok $? "SIGSTOP, a shell's turn, SIGCONT: it draws its screen again" || diag "$scr"
is "$(tty_alt job) $(tty_icanon job)" "1 -icanon" \
    "and sets the terminal up again"

tty_keys job 'C-\'
for ((i = 0; i < 50 * TG_WAIT_SCALE; i++)); do
	tty_dead job && break
	sleep 0.1
done
scr=$(tty_screen job all)
like "$scr" 'tollgate-prompt exited: 0;' "Ctrl-\\ (SIGQUIT) quits it, exit status 0"
like "$(tty_alt job) $scr" '^0 .*exited: 0; icanon' \
    "leaving the terminal as it was: the normal screen, whole lines"
