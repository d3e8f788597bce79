#!/bin/bash
# Self-approval: a guarded program runs its own user's prompt agent, the
# real setgid tollgate-prompt --tty, in a pseudo-terminal of its own
# (tools/ptyagent.py, as tgguard) and presses the key for "allow always"
# on its own connection.  With prompt_answers = all that makes a forever
# rule for it (the hole: the test shows it can fail).  With
# admin-forever the agent offers "for 1 hour" instead, and the same key
# makes at most a 1 h rule; root's tollgate answer still makes a forever
# one.  With once-only the key does nothing and only "once" is offered.

. "$(dirname "$0")/lib.sh"

plan 24
tg_setup
prompt_setup

# selfapprove NAME WAIT KEY DONE: as tgguard, the agent in a pty of its
# own; a curl to NAME meanwhile (in $TG_TMP/NAME.curl); the agent's
# transcript in $TG_TMP/NAME.pty.
selfapprove() {
	local name=$1
	(TG_T=50 as_guard /usr/bin/python3 -I "$TG_TOOLS/ptyagent.py" 40 \
	    "$PROMPT" -c "$CONF" --tty -- "$2" "$3" "$4" \
	    >"$TG_TMP/$name.pty" 2>&1
	echo "exit=$?" >>"$TG_TMP/$name.pty") &
	TG_PIDS+=($!)
	wait_agent || diag "no agent subscribed: $(cat "$TG_TMP/$name.pty")"
	bg_curl "$name" "$TG_TMP/$name.curl"
}

# pty_done NAME: wait (45 s) for the transcript's end; print it.
pty_done() {
	local i
	for ((i = 0; i < 450; i++)); do
		grep -q '^exit=' "$TG_TMP/$1.pty" 2>/dev/null && break
		sleep 0.1
	done
	cat "$TG_TMP/$1.pty"
}

# rules_of NAME: (action, duration) of the rules for NAME, durations
# "until:..." shown as "until".
rules_of() {
	rj "[(r['action'], r['duration'].split(':')[0]) for r in rs if r['dest'] == '$1']"
}

# --- prompt_answers = all: the hole ------------------------------------------

CONF=$(prompt_conf prompt_timeout=60s)
tg_start "$CONF"
ok $? "tollgated starts with prompt_answers unset (all)"
selfapprove a.test 'Allow always \(this name\)' a 'rule [0-9]+ added'
out=$(pty_done a.test)
like "$out" 'pressed a' "tgguard's own script, in a pty, sees its prompt and presses a" ||
    diag "$out"
is "$(done_status "$TG_TMP/a.test.curl" 10)" 0 "its curl to a.test goes through"
is "$(rules_of a.test)" "[('allow', 'forever')]" \
    "and it has made itself a forever allow rule: the hole"
wait_agent 0
tg_stop TERM

# --- admin-forever: at most an hour ---------------------------------------------

CONF=$(prompt_conf prompt_timeout=60s prompt_answers=admin-forever)
tg_start "$CONF"
ok $? "tollgated starts with prompt_answers = admin-forever"
st=$(echo STATUS | socat -t 2 - "UNIX-CONNECT:$SOCK")
like "$st" ' prompt_answers=admin-forever ' "STATUS says prompt_answers=admin-forever"
selfapprove b.test 'b\.test' a 'rule [0-9]+ added|not taken|does not offer'
out=$(pty_done b.test)
like "$out" 'pressed a' "the script sees the prompt for b.test and presses a" || diag "$out"
like "$out" 'Allow for 1 hour \(this name\)' \
    "the agent offers [a] Allow for 1 hour (this name)"
unlike "$out" "Allow always" "and no Allow always"
like "$out" 'prompt_answers = admin-forever: longer answers come from root or admin_group' "and says why: prompt_answers = admin-forever, longer answers come from root or admin_group"
is "$(done_status "$TG_TMP/b.test.curl" 10)" 0 "the curl to b.test goes through (for now)"
is "$(rules_of b.test)" "[('allow', 'until')]" \
    "the rule it made is a 1 h one (until ...), not forever"
is "$(rj "[r['dest'] for r in rs if r['duration'] == 'forever']")" "['a.test']" \
    "no forever rule but a.test's (of the first run)"
wait_agent 0

# root answers forever: still possible.
agent_start
wait_agent
ok $? "a tollgate-prompt --tty of tgguard's watches (in tmux)"
bg_curl c.test "$TG_TMP/c.curl"
wait_pj "[p['name'] for p in ps]" "['c.test']" 15
ok $? "a curl to c.test waits on a prompt"
scr=$(tty_wait agent 'Allow for 1 hour' 10)
ok $? "tgguard's agent offers 1 hour, not always" || diag "$scr"
id=$(pj "ps[0]['id']")
out=$("$TG" -c "$CONF" answer "$id" allow --duration forever 2>&1)
ok $? "root: tollgate answer $id allow --duration forever ($out)"
is "$(done_status "$TG_TMP/c.curl" 10)" 0 "the curl to c.test goes through"
is "$(rules_of c.test)" "[('allow', 'forever')]" "root's answer made a forever rule"
tty_stop
wait_agent 0
tg_stop TERM

# --- once-only: not even an hour ----------------------------------------------

CONF=$(prompt_conf prompt_timeout=60s prompt_answers=once-only)
tg_start "$CONF"
ok $? "tollgated starts with prompt_answers = once-only"
selfapprove x.b.test 'x\.b\.test' a 'does not offer that answer'
out=$(pty_done x.b.test)
like "$out" 'pressed a' "the script sees the prompt for x.b.test and presses a" || diag "$out"
like "$out" 'done: ' "the agent says the prompt does not offer that answer"
unlike "$out" 'Allow always|Allow for 1 hour' "it offers neither always nor 1 hour"
is "$(rules_of x.b.test)" "[]" "no rule for x.b.test"
tg_stop TERM
