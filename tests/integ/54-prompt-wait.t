#!/bin/bash
# Prompts that wait (no_agent_action = wait): with no prompt agent
# running, a connection no rule decides is parked on a prompt anyway; root
# sees it with tollgate prompts and answers it later with tollgate answer,
# and the curl gets its page.  An agent started later is sent the pending
# prompt at once; an agent that quits leaves it pending (not denied), and
# a second agent answers it.  No answer within prompt_timeout applies
# default_action (decider timeout).  A curl killed while it waits leaves
# an event row with decider abandoned, and one waiting when tollgated
# stops, decider shutdown.  With no_agent_action = default
# (the default), nothing waits: default_action at once, decider no-agent.

. "$(dirname "$0")/lib.sh"

plan 40
tg_setup
prompt_setup

# ev NAME: "verdict decider" of the newest event row for NAME (5 s).
ev() {
	tg_event "$1" 'r["verdict"] + " " + r["decider"]'
}

# --- no agent, wait: root answers later ------------------------------------------

CONF=$(prompt_conf prompt_timeout=60s no_agent_action=wait)
tg_start "$CONF"
ok $? "tollgated starts with no_agent_action = wait, prompt_timeout = 60s, no agent"

bg_curl a.test "$TG_TMP/a1"
wait_pj '[(p["name"], p["connections"]) for p in ps]' "[('a.test', 1)]" 10
ok $? "with nobody subscribed, a curl to a.test waits on a prompt"
id=$(pj 'ps[0]["id"]')
out=$("$TG" -c "$CONF" prompts 2>&1)
ok 'grep -Eq "^ *$id +curl +$TG_GUARD +a\.test:443 " <<<"$out"' \
    "root's tollgate prompts lists it: $id, curl, $TG_GUARD, a.test:443" ||
    diag "$out"
sleep 1 # the curl has had time to give up, were it refused
is "$(done_status "$TG_TMP/a1" 0)" "" "the curl is still waiting"
out=$("$TG" -c "$CONF" answer "$id" allow 2>&1)
ok $? "root: tollgate answer $id allow ($out)"
is "$(done_status "$TG_TMP/a1" 10)" 0 "the waiting curl goes through"
like "$(cat "$TG_TMP/a1")" 'code=200' "with the page"
is "$(ev a.test)" "allow prompt" "its event: verdict allow, decider prompt"

# --- an agent that starts later gets what is pending --------------------------------

bg_curl b.test "$TG_TMP/b1"
wait_pj '[p["name"] for p in ps]' "['b.test']" 10
ok $? "a curl to b.test waits on a prompt, still with no agent"
id=$(pj 'ps[0]["id"]')
agent_start
scr=$(tty_wait agent 'curl wants to connect to b\.test:443' 15)
ok $? "an agent started now (tollgate-prompt --tty as $TG_GUARD) shows it at once" ||
    diag "$scr"

# --- the agent quits: the prompt stays ---------------------------------------------

tg_mark
tty_keys agent q
for ((i = 0; i < 50 * TG_WAIT_SCALE; i++)); do
	tty_dead agent && break
	sleep 0.1
done
ok 'tty_dead agent' "q quits the agent"
wait_agent 0
ok $? "tollgated counts no agent any more"
is "$(pj '[(p["id"], p["connections"]) for p in ps]')" "[($id, 1)]" \
    "prompt $id is still pending, its connection parked"
is "$(done_status "$TG_TMP/b1" 0)" "" "the curl is still waiting (not denied)"
tg_wait_log "prompt $id: no-agent" 1 >/dev/null
nok $? "the log has no no-agent for it"

guard_argv TERM=tmux-256color "$PROMPT" -c "$CONF" --tty
tty_start agent2 "${TG_ARGV[@]}"
scr=$(tty_wait agent2 'curl wants to connect to b\.test:443' 15)
ok $? "a second agent starts and shows the same prompt" || diag "$scr"
tty_keys agent2 o
is "$(done_status "$TG_TMP/b1" 10)" 0 "o (allow once) in the second agent: the curl goes through"
like "$(cat "$TG_TMP/b1")" 'code=200' "with the page"
is "$(ev b.test)" "allow prompt" "its event: verdict allow, decider prompt"
tty_keys agent2 q

# --- a client that gives up: event abandoned -------------------------------------------

wait_agent 0 || diag "the second agent did not leave"
syn=$(syn_count 443)
bg_curl c.test "$TG_TMP/c1"
wait_pj '[p["name"] for p in ps]' "['c.test']" 10
ok $? "a curl to c.test waits on a prompt"
kill -TERM "$(sed -n 's/^pid=//p' "$TG_TMP/c1")"
ok $? "the curl is killed while it waits"
wait_pj 'len(ps)' 0 10
ok $? "its prompt is withdrawn"
is "$(ev c.test)" "deny abandoned" "its event: verdict deny, decider abandoned"
is "$(tg_event c.test 'r["exe"] + " " + str(r["dst_port"])')" "/usr/bin/curl 443" \
    "naming the app and the destination"
is "$(syn_count 443)" "$syn" "nothing reached the server"

# --- tollgated stops while a connection waits: event shutdown ------------------------

bg_curl e.test "$TG_TMP/e1"
wait_pj '[p["name"] for p in ps]' "['e.test']" 10
ok $? "a curl to e.test waits on a prompt"
tg_stop TERM
is "$TG_DEXIT" 0 "tollgated stops (TERM) while it waits, and exits 0"
like "$(done_status "$TG_TMP/e1" 10)" "$TG_CURL_RESET" "the waiting curl is reset"
is "$(ev e.test)" "deny shutdown" "its event: verdict deny, decider shutdown"

# --- no answer: the timeout applies default_action ------------------------------------

CONF=$(prompt_conf prompt_timeout=3s no_agent_action=wait)
tg_start "$CONF"
ok $? "tollgated starts again with prompt_timeout = 3s"
t0=$(tg_ms)
bg_curl d.test "$TG_TMP/d1"
wait_pj '[p["name"] for p in ps]' "['d.test']" 5
ok $? "a curl to d.test waits on a prompt"
st=$(done_status "$TG_TMP/d1" 30)
ms=$(($(done_ms "$TG_TMP/d1") - t0))
like "$st" "$TG_CURL_RESET" "nobody answers: the curl is reset (exit $st)"
ok '[ "$ms" -ge 2800 ]' "after prompt_timeout (${ms} ms)"
is "$(ev d.test)" "deny timeout" "its event: verdict deny, decider timeout"
is "$(pj 'len(ps)')" 0 "nothing is pending"

# --- no_agent_action = default: the old way ----------------------------------------

tg_stop TERM
CONF=$(prompt_conf prompt_timeout=60s)
tg_start "$CONF"
ok $? "tollgated starts again without no_agent_action (default)"
t0=$(tg_ms)
curl_to x.b.test
st=$?
ms=$(($(tg_ms) - t0))
like "$st" "$TG_CURL_RESET" "with nobody to ask, a curl to x.b.test is reset (exit $st)"
ok '[ "$ms" -lt 20000 ]' "at once, not after prompt_timeout (${ms} ms)"
is "$(ev x.b.test)" "deny no-agent" "its event: verdict deny, decider no-agent"
is "$(pj 'len(ps)')" 0 "nothing is pending"
