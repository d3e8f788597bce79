#!/bin/bash
# Prompts for proxy clients: a SOCKS or CONNECT request for a name no
# rule decides waits, without any reply, while tollgate-prompt (in a
# terminal) shows it; the answer typed there decides it: allow and the
# client gets its page through the gateway, deny and it gets SOCKS reply
# 2 (HTTP 403) and the gateway hears nothing; an answer for once lets
# that connection go and the next one asks again; an answer with a rule
# lets the next one go without asking.  A client waits as long as the
# prompt does, beyond the control socket's 60 s idle limit, and the
# agent stays subscribed meanwhile.

. "$(dirname "$0")/lib.sh"

plan 47
tg_setup
gateway_start || { echo "Bail out! no SOCKS gateway (Dante)"; exit 1; }
socks_setup
prompt_setup

CONF=$(socks_conf default_action=deny prompt_program="$PROMPT" prompt_timeout=120s)
tg_start "$CONF"
if ! ok $? "tollgated starts with SOCKS and CONNECT fronts, default_action = deny"; then
	echo "Bail out! tollgated does not start"
	exit 1
fi
agent_start
wait_agent
if ! ok $? "tollgate-prompt --tty runs as $TG_GUARD and subscribes"; then
	diag "$(tty_screen agent all)"
	echo "Bail out! no prompt agent"
	exit 1
fi

# bg_proxy OUT CURL-ARGS...: tgguard's curl through a front in the
# background, as bg_curl (OUT gets pid=, code= and, at its end, exit=),
# for at most $MAXT seconds (40).
bg_proxy() {
	local out=$1
	shift
	(
		TG_T=$((${MAXT:-40} + 5)) as_guard "${TG_SHOWPID[@]}" curl -sS \
		    --max-time "${MAXT:-40}" \
		    --cacert "$TG_CA" -o /dev/null -w 'code=%{http_code}\n' \
		    "$@" >"$out" 2>&1
		echo "exit=$? end=$(tg_ms)" >>"$out"
	) &
}

hexof() {
	printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'
}

# --- a raw SOCKS5 client waits with no reply ---------------------------------------

gateway_mark
get=$(hexof $'GET / HTTP/1.0\r\nHost: a.test\r\n\r\n')
: >"$TG_TMP/raw.log"
chmod 666 "$TG_TMP/raw.log"
(rawclient --timeout 40 --log "$TG_TMP/raw.log" "$TG_SOCKS" s:050100 r:2 \
    "s:$(s5_connect a.test 80)" r:10 "s:$get" a >"$TG_TMP/raw.out" 2>&1) &
raw=$!
wait_pj 'len(ps)' 1 10
ok $? "a SOCKS5 request for a.test:80 (a raw client) waits on a prompt"
is "$(pj '[(p["app"], p["name"], p["port"], p["source"]) for p in ps]')" \
    "[('/usr/bin/python3.11', 'a.test', 80, 'socks')]" \
    "tollgate prompts: python3, a.test, port 80, the name from the SOCKS request"
scr=$(tty_wait agent 'wants to connect to a\.test:80' 10)
ok $? "the agent shows it" || diag "$scr"
sleep 0.5
is "$(cat "$TG_TMP/raw.log")" 0500 \
    "meanwhile the client has its method selection and no reply to its request"
is "$(gateway_requests | wc -l)" 0 "and the gateway has heard nothing yet"
tty_keys agent o
ok $? "the user answers o, allow once"
wait "$raw"
out=$(cat "$TG_TMP/raw.out")
like "$(field "$out" got)" '^0500050000' "the client gets reply 0, succeeded"
like "$(field "$out" got)" "$(hexof 'hello from tgs')" \
    "and then the page, through the gateway"
r=$(gateway_wait_request dst=a.test:80)
is "$(kv "$r" atyp)/$(kv "$r" rep)" name/0 "the gateway got a.test:80 by name"
is "$(tg_event a.test 'r["verdict"] + " " + r["decider"]')" "allow prompt" \
    "the event: allow, decided by the prompt"

# --- curl --socks5-hostname: allow once, then it asks again ----------------------------

bg_proxy "$TG_TMP/c1" --socks5-hostname "$TG_SOCKS" https://b.test/
wait_pj '[(p["app"], p["name"], p["source"]) for p in ps]' \
    "[('/usr/bin/curl', 'b.test', 'socks')]" 10
ok $? "curl --socks5-hostname to b.test waits on a prompt"
scr=$(tty_wait agent 'curl wants to connect to b\.test:443' 10)
ok $? "the agent shows it" || diag "$scr"
is "$(done_status "$TG_TMP/c1" 0)" "" "curl is still waiting while it is shown"
tty_keys agent o
is "$(done_status "$TG_TMP/c1" 10)" 0 "o, allow once: curl goes through"
like "$(cat "$TG_TMP/c1")" 'code=200' "with the page"
is "$(rj 'len(rs)')" 0 "no rule was added"

gateway_mark
bg_proxy "$TG_TMP/c2" --socks5-hostname "$TG_SOCKS" https://b.test/
wait_pj '[p["name"] for p in ps]' "['b.test']" 10
ok $? "the next curl to b.test asks again"
tty_wait agent 'curl wants to connect to b\.test:443' 10 >/dev/null
tty_keys agent d
is "$(done_status "$TG_TMP/c2" 10)" 97 "d, deny once: curl fails, the proxy refused (exit 97)"
like "$(cat "$TG_TMP/c2")" '\(2\)' "with reply 2, not allowed by ruleset"
is "$(tg_event b.test 'r["verdict"] + " " + r["decider"]')" "deny prompt" \
    "the event: deny, decided by the prompt"
sleep 0.5
is "$(gateway_requests dst=b.test:443 | wc -l)" 0 "the gateway never heard of it"

bg_proxy "$TG_TMP/c3" --socks5-hostname "$TG_SOCKS" https://b.test/
wait_pj '[p["name"] for p in ps]' "['b.test']" 10
ok $? "a deny for once: the next curl to b.test asks again too"
tty_wait agent 'curl wants to connect to b\.test:443' 10 >/dev/null
tty_keys agent d
is "$(done_status "$TG_TMP/c3" 10)" 97 "denied again (exit 97)"

# --- an answer with a rule ------------------------------------------------------------

bg_proxy "$TG_TMP/c4" --socks4a "$TG_SOCKS" https://c.test/
wait_pj '[(p["name"], p["source"]) for p in ps]' "[('c.test', 'socks')]" 10
ok $? "curl --socks4a to c.test waits on a prompt"
tty_wait agent 'curl wants to connect to c\.test:443' 10 >/dev/null
tty_keys agent a
is "$(done_status "$TG_TMP/c4" 10)" 0 "a, allow always: curl goes through"
is "$(rj '[(r["app"], r["dest"], r["action"]) for r in rs]')" \
    "[('/usr/bin/curl', 'c.test', 'allow')]" "a rule was added: curl, c.test, allow"
tg_mark
out=$(as_guard curl -sS --max-time 10 --cacert "$TG_CA" --socks5-hostname \
    "$TG_SOCKS" https://c.test/ 2>&1)
ok $? "the next curl to c.test goes through without asking"
d=$(tg_decision name=c.test)
is "$(kv "$d" reason)/$(pj 'len(ps)')" rule/0 "decided by the rule; nothing pending"

# --- the CONNECT front ------------------------------------------------------------------

gateway_mark
bg_proxy "$TG_TMP/h1" --proxy "http://$TG_CONNECT" https://x.b.test/
wait_pj '[(p["name"], p["source"]) for p in ps]' "[('x.b.test', 'connect')]" 10
ok $? "curl through the CONNECT front to x.b.test waits on a prompt"
scr=$(tty_wait agent 'curl wants to connect to x\.b\.test:443' 10)
ok $? "the agent shows it" || diag "$scr"
is "$(done_status "$TG_TMP/h1" 0)" "" "curl is still waiting"
tty_keys agent d
st=$(done_status "$TG_TMP/h1" 10)
ok '[ -n "$st" ] && [ "$st" != 0 ]' "d, deny once: curl fails (exit $st)"
like "$(cat "$TG_TMP/h1")" 'response 403' "the CONNECT was answered 403: $(grep -m 1 'curl:' "$TG_TMP/h1")"
sleep 0.5
is "$(gateway_requests | wc -l)" 0 "the gateway heard nothing"

bg_proxy "$TG_TMP/h2" --proxy "http://$TG_CONNECT" https://x.b.test/
wait_pj '[p["name"] for p in ps]' "['x.b.test']" 10
ok $? "the next CONNECT to x.b.test asks again"
tty_wait agent 'curl wants to connect to x\.b\.test:443' 10 >/dev/null
tty_keys agent o
is "$(done_status "$TG_TMP/h2" 10)" 0 "o, allow once: curl goes through"
like "$(cat "$TG_TMP/h2")" 'code=200' "with the page"
r=$(gateway_wait_request dst=x.b.test:443)
is "$(kv "$r" atyp)/$(kv "$r" rep)" name/0 "the gateway got x.b.test by name"

# --- a long wait ------------------------------------------------------------------------
# The agent has written nothing since its last answer: while a client
# waits for more than the control socket's idle limit (60 s, which is
# not for agents), the agent stays subscribed and the client parked.
# (This failed when written: tollgated dropped the agent, "idle timeout",
# 60 s after its last line, and the prompt then went to default_action
# as no-agent.)

tg_mark
t0=$(tg_ms)
MAXT=100 bg_proxy "$TG_TMP/l1" --socks5-hostname "$TG_SOCKS" https://y.b.test/
wait_pj '[p["name"] for p in ps]' "['y.b.test']" 10
ok $? "curl to y.b.test waits on a prompt"
for ((i = 0; i < 70; i++)); do
	[ $(($(tg_ms) - t0)) -ge 65000 ] && break
	echo STATUS | socat -t 2 - "UNIX-CONNECT:$SOCK" 2>/dev/null |
	    grep -q ' agents=1 ' || break
	sleep 1
done
ms=$(($(tg_ms) - t0))
ok '[ "$ms" -ge 65000 ]' "the agent is still subscribed 65 s later (${ms} ms)"
is "$(grep -c 'idle timeout' <(_tg_since))" 0 "tollgated has not dropped it as idle"
is "$(done_status "$TG_TMP/l1" 0)/$(pj 'len(ps)')" /1 "curl still waits, on the prompt"
tty_wait agent 'curl wants to connect to y\.b\.test:443' 10 >/dev/null
tty_keys agent o
is "$(done_status "$TG_TMP/l1" 10)" 0 "o, allow once: curl goes through"
like "$(cat "$TG_TMP/l1")" 'code=200' "with the page"

tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
