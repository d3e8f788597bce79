#!/bin/bash
# The prompt broker's rules, seen from outside: with no prompt agent
# default_action decides at once (event decider no-agent); an agent that
# does not answer within prompt_timeout gets default_action applied
# (decider timeout); a rule added meanwhile decides the waiting
# connection; root sees and answers prompts with tollgate prompts and
# tollgate answer; the guarded user's own programs (socat, tollgate
# answer, a copy of tollgate-prompt) can neither subscribe nor answer; a
# client that gives up is dropped from its prompt, and the prompt goes
# when its last client has; when the last agent leaves, default_action
# decides what was waiting.

. "$(dirname "$0")/lib.sh"

plan 62
tg_setup
prompt_setup

# ev NAME: "verdict decider" of the newest event row for NAME, once
# there is one (the writer batches: at most 5 s).
ev() {
	local i out
	for ((i = 0; i < 50 * TG_WAIT_SCALE; i++)); do
		out=$("$TG" -c "$CONF" events --json --domain "$1" --limit 0 \
		    2>/dev/null | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
rows = [r for r in rows if r.get("kind") == "decision" and r.get("name") == sys.argv[1]]
if rows:
    print(rows[-1]["verdict"], rows[-1]["decider"])' "$1")
		[ -n "$out" ] && { echo "$out"; return 0; }
		sleep 0.1
	done
	return 1
}
# ctl LINES...: the lines to the control socket as tgguard, with socat;
# prints the replies.
ctl_guard() {
	printf '%s\n' "$@" | as_guard socat -t 2 - "UNIX-CONNECT:$SOCK" 2>&1
}

# --- no agent: default_action at once ---------------------------------------

CONF=$(prompt_conf prompt_timeout=20s)
tg_start "$CONF"
ok $? "tollgated starts with default_action = deny, prompt_timeout = 20s, no agent"
t0=$(tg_ms)
curl_to a.test
st=$?
ms=$(($(tg_ms) - t0))
like "$st" "$TG_CURL_RESET" "with nobody to ask, a curl to a.test is reset (exit $st)"
ok '[ "$ms" -lt 10000 ]' "at once, not after prompt_timeout (${ms} ms)"
is "$(ev a.test)" "deny no-agent" "its event: verdict deny, decider no-agent"
is "$("$TG" -c "$CONF" prompts 2>&1)" "no pending prompts" "tollgate prompts: no pending prompts"

# --- an agent that does not answer: default_action after prompt_timeout --------

agent_start
scr=$(tty_wait agent 'No pending prompts' 10)
if ! ok $? "tollgate-prompt --tty subscribes (as tgguard, in tmux)"; then
	diag "$(tty_screen agent all)"
	echo "Bail out! no prompt agent"
	exit 1
fi
t0=$(tg_ms)
bg_curl a.test "$TG_TMP/t1"
wait_pj 'len(ps)' 1 5
ok $? "now the curl to a.test waits on a prompt"
is "$(pj '[(p["app"], p["name"], p["default"], p["expires"] - p["created"]) for p in ps]')" \
    "[('/usr/bin/curl', 'a.test', 'deny', 20)]" \
    "tollgate prompts --json: curl, a.test, default deny, expires 20 s after it opened"
scr=$(tty_wait agent 'curl wants to connect to a\.test:443' 19)
ok $? "the agent shows it" || diag "$scr"
st=$(done_status "$TG_TMP/t1" 60)
ms=$(($(done_ms "$TG_TMP/t1") - t0))
like "$st" "$TG_CURL_RESET" "nobody answers: the curl is reset (exit $st)"
ok '[ "$ms" -ge 19800 ] && [ "$ms" -lt 60000 ]' "after prompt_timeout, 20 s (${ms} ms)"
is "$(ev a.test)" "deny timeout" "its event: verdict deny, decider timeout"
is "$(pj 'len(ps)')" 0 "the prompt is gone"
scr=$(tty_wait agent 'No pending prompts' 5)
ok $? "from the agent's screen too" || diag "$scr"

# --- a longer prompt_timeout for the rest ---------------------------------------

tg_stop TERM
CONF=$(prompt_conf prompt_timeout=30s)
tg_start "$CONF"
ok $? "tollgated starts again with prompt_timeout = 30s"
tg_wait_log 'prompt agent subscribed' 10 >/dev/null
ok $? "and the agent, which kept running, subscribes again"

# --- a rule added meanwhile decides the waiting connection -------------------------

bg_curl a.test "$TG_TMP/r1"
wait_pj 'len(ps)' 1 5
ok $? "a curl to a.test waits on a prompt"
"$TG" -c "$CONF" rules add --app /usr/bin/curl --dest a.test --action allow >/dev/null
ok $? "meanwhile root adds a rule allowing curl to a.test"
is "$(done_status "$TG_TMP/r1" 5)" 0 "the waiting curl goes through at once"
like "$(cat "$TG_TMP/r1")" 'code=200' "with the page"
is "$(ev a.test)" "allow rule" "its event: verdict allow, decider rule"
is "$(pj 'len(ps)')" 0 "and the prompt is withdrawn"

# --- root sees and answers; the guarded user's programs cannot --------------------

syn=$(syn_count 443)
bg_curl b.test "$TG_TMP/b1"
wait_pj 'len(ps)' 1 5
ok $? "a curl to b.test waits on a prompt"
id=$(pj 'ps[0]["id"]')
out=$("$TG" -c "$CONF" prompts 2>&1)
ok 'grep -Eq "^ *$id +curl +$TG_GUARD +b\.test:443 " <<<"$out"' \
    "root's tollgate prompts lists it: $id, curl, $TG_GUARD, b.test:443"

out=$(as_guard "$TG" -c "$CONF" answer "$id" allow 2>&1)
st=$?
is "$st" 1 "tgguard's tollgate answer $id allow exits 1"
like "$out" 'perm' "refused: $out"

out=$(ctl_guard SUBSCRIBE "ANSWER $id allow name forever" PROMPTS)
like "$(sed -n 1p <<<"$out")" '^ERR perm ' "tgguard's socat sends SUBSCRIBE: ERR perm"
like "$(sed -n 1p <<<"$out")" 'tollgate-prompt' "which says only tollgate-prompt may"
like "$(sed -n 2p <<<"$out")" '^ERR perm ' "its ANSWER $id allow name forever: ERR perm"
like "$(sed -n 3,4p <<<"$out")" "^OK count=1"$'\n'"PROMPT id=$id " \
    "it may still look: PROMPTS shows its own prompt"
out=$(printf 'SUBSCRIBE\n' | in_client socat -t 2 - "UNIX-CONNECT:$SOCK" 2>&1)
like "$out" '^ERR perm ' "root's socat cannot subscribe either: ERR perm"

mkdir -p "$TG_TMP/copy" && cp "$PROMPT" "$TG_TMP/copy/tollgate-prompt" &&
    chmod 755 "$TG_TMP/copy" "$TG_TMP/copy/tollgate-prompt"
guard_argv TERM=tmux-256color "$TG_TMP/copy/tollgate-prompt" -c "$CONF" --tty
tty_start copy "${TG_ARGV[@]}"
for ((i = 0; i < 50 * TG_WAIT_SCALE; i++)); do
	tty_dead copy && break
	sleep 0.1
done
is "$(tty_exit copy)" 1 "a copy of tollgate-prompt run by tgguard exits 1"
like "$(tty_screen copy all | tr -d '\n')" \
    'refused.*SUBSCRIBE is for the installed tollgate-prompt' \
    "saying tollgated refused it: it is not the installed tollgate-prompt"

# A script that connects, then lets its process become tollgate-prompt
# while a child it forked writes on the connection: SO_PEERCRED names the
# first, whose executable is now the right one; the writer is not.
mkdir -p "$TG_TMP/fork" && chown "$TG_GUARD:" "$TG_TMP/fork"
cat >"$TG_TMP/fork/fork.py" <<'EOF'
import os, socket, sys, time
sock, prompt, conf, pid_id, out = sys.argv[1:6]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock)
if os.fork() == 0:
    time.sleep(1)  # the parent is tollgate-prompt by now
    f = s.makefile("rb")
    s.sendall(b"SUBSCRIBE\n")
    r1 = f.readline().decode(errors="replace").strip()
    try:
        s.sendall(b"ANSWER " + pid_id.encode() + b" allow name forever\n")
        r2 = f.readline().decode(errors="replace").strip() or "(closed)"
    except OSError as e:
        r2 = "(closed: %s)" % e
    with open(out, "w") as o:
        o.write(r1 + "\n" + r2 + "\n")
    os._exit(0)
os.execv(prompt, [prompt, "-c", conf, "--tty"])
EOF
guard_argv TERM=tmux-256color /usr/bin/python3 -I "$TG_TMP/fork/fork.py" \
    "$SOCK" "$PROMPT" "$CONF" "$id" "$TG_TMP/fork/out"
tty_start fork "${TG_ARGV[@]}"
for ((i = 0; i < 50 * TG_WAIT_SCALE; i++)); do
	[ -s "$TG_TMP/fork/out" ] && break
	sleep 0.1
done
like "$(sed -n 1p "$TG_TMP/fork/out" 2>/dev/null)" '^ERR perm ' \
    "SUBSCRIBE written by the child of a process that then became tollgate-prompt: ERR perm"
like "$(sed -n 2p "$TG_TMP/fork/out" 2>/dev/null)" '^(ERR perm |\(closed)' \
    "and its ANSWER $id is refused ($(sed -n 2p "$TG_TMP/fork/out" 2>/dev/null))"
# That tollgate-prompt is a real agent of tgguard's: it goes again.
tty_wait fork 'curl wants to connect to b\.test:443' 5 >/dev/null
tty_keys fork q
for ((i = 0; i < 50 * TG_WAIT_SCALE; i++)); do
	tty_dead fork && break
	sleep 0.1
done

is "$(pj '[(p["id"], p["connections"]) for p in ps]')" "[($id, 1)]" \
    "after all that the prompt still waits, unanswered"
is "$(done_status "$TG_TMP/b1" 0)" "" "and so does curl"
is "$(syn_count 443)" "$syn" "nothing reached the server"
is "$(rj 'len(rs)')" 1 "no rule was added"

out=$("$TG" -c "$CONF" answer "$id" allow 2>&1)
ok $? "root: tollgate answer $id allow"
is "$out" "prompt $id: allow (1 connection); no rule added (once)" "which says: $out"
# The agent shows that for 6 s (TTY_MSG_S): look before the slower checks.
scr=$(tty_wait agent "Prompt $id \\(b\\.test:443\\): withdrawn" 5)
ok $? "the agent says the prompt was answered elsewhere" || diag "$scr"
is "$(done_status "$TG_TMP/b1" 5)" 0 "the waiting curl goes through"
like "$(cat "$TG_TMP/b1")" 'code=200' "with the page"
is "$(ev b.test)" "allow prompt" "its event: verdict allow, decider prompt"
is "$(rj 'len(rs)')" 1 "once: still one rule"
out=$("$TG" -c "$CONF" answer "$id" deny 2>&1)
st=$?
ok '[ "$st" = 1 ] && [[ $out =~ notfound ]]' "answering it again: exit $st, notfound ($out)"

# --- clients that give up ----------------------------------------------------------

bg_curl c.test "$TG_TMP/g1"
bg_curl c.test "$TG_TMP/g2"
wait_pj '[(p["name"], p["connections"]) for p in ps]' "[('c.test', 2)]" 10
ok $? "two curls to c.test wait on one prompt"
id=$(pj 'ps[0]["id"]')
kill -TERM "$(sed -n 's/^pid=//p' "$TG_TMP/g1")"
ok $? "the first curl is killed"
wait_pj '[(p["id"], p["connections"]) for p in ps]' "[($id, 1)]" 5
ok $? "it is dropped from the prompt: connections=1"
tg_mark
kill -TERM "$(sed -n 's/^pid=//p' "$TG_TMP/g2")"
ok $? "the second curl is killed"
wait_pj 'len(ps)' 0 5
ok $? "the prompt is withdrawn: nothing pending"
tg_wait_log "prompt $id: withdrawn \\(gone\\)" 2 >/dev/null
ok $? "the log says why: withdrawn (gone)"
scr=$(tty_wait agent 'No pending prompts' 5)
ok $? "and it leaves the agent's screen" || diag "$scr"
is "$(syn_count 443)" "$((syn + 1))" "neither reached the server"

# --- the last agent leaves ---------------------------------------------------------

bg_curl x.b.test "$TG_TMP/q1"
wait_pj 'len(ps)' 1 5
ok $? "a curl to x.b.test waits on a prompt"
tty_wait agent 'curl wants to connect to x\.b\.test:443' 5 >/dev/null
t0=$(tg_ms)
tty_keys agent q
st=$(done_status "$TG_TMP/q1" 20)
ms=$(($(done_ms "$TG_TMP/q1") - t0))
like "$st" "$TG_CURL_RESET" "q quits the only agent: the waiting curl is reset (exit $st)"
ok '[ "$ms" -lt 15000 ]' "at once, not after prompt_timeout (${ms} ms)"
ok 'tty_dead agent' "the agent has exited"
is "$(tty_exit agent)" 0 "with status 0"
is "$(ev x.b.test)" "deny no-agent" "the event: verdict deny, decider no-agent"
is "$(pj 'len(ps)')" 0 "nothing is pending"
