#!/bin/bash
# Upstreams that misbehave, as a SOCKS client of tollgated sees them: a
# fake SOCKS5 server on the gateway (tools/fakesocks.py) that never
# answers the CONNECT gives the client reply 6 (TTL expired) after
# connect_timeout; one that answers garbage, or closes after the
# greeting, reply 1 (general failure); Tor's extended code F0 reaches a
# client that authenticated as it is, and as 4 (host unreachable) a
# client that did not.  Each is in the log with its cause, and the next
# client, through Dante, is served.

. "$(dirname "$0")/lib.sh"

plan 37
tg_setup
gateway_start || { echo "Bail out! no SOCKS gateway (Dante)"; exit 1; }
socks_setup

scurl=(curl -sS --max-time 20 --cacert "$TG_CA")

for m in silent:9201 garbage:9202 close:9203 f0:9204; do
	fakesocks_start "${m#*:}" "${m%:*}" ||
	    { echo "Bail out! fakesocks.py ${m%:*} does not start"; exit 1; }
done
CONF=$(socks_conf connect_timeout=5s \
    upstream.silent="socks5://$TG_GW4:9201" \
    upstream.garbage="socks5://$TG_GW4:9202" \
    upstream.closing="socks5://$TG_GW4:9203" \
    upstream.onion="socks5://$TG_GW4:9204")
tg_start "$CONF"
if ! ok $? "tollgated starts with four hostile upstreams beside Dante"; then
	echo "Bail out! tollgated does not start"
	exit 1
fi
for r in silent.test:silent garbage.test:garbage closing.test:closing \
    onion.test:onion; do
	"$TG" -c "$CONF" rules add --app '*' --dest "${r%:*}" --action allow \
	    --via "${r#*:}" >/dev/null || diag "cannot add the rule for ${r%:*}"
done
is "$(rj 'len(rs)')" 4 "four rules send a name each through one of them"

# good: a curl through Dante still gets its page (the default upstream).
good() {
	as_guard "${scurl[@]}" --socks5-hostname "$TG_SOCKS" https://a.test/ 2>&1
}

# close_error NAME: the error of the close line of NAME's connection.
close_error() {
	local d line
	d=$(tg_decision name="$1") || return 1
	line=$(tg_close_line "$(kv "$d" conn)") || return 1
	kv "$line" error
}

# --- an upstream that never answers the CONNECT ------------------------------------

tg_mark
t0=$(tg_ms)
out=$(as_guard "${scurl[@]}" --socks5-hostname "$TG_SOCKS" https://silent.test/ 2>&1)
st=$?
ms=$(($(tg_ms) - t0))
is "$st" 97 "an upstream that never answers the CONNECT: curl fails, the proxy refused (exit 97)"
like "$out" '\(6\)' "with reply 6, TTL expired: $out"
ok '[ "$ms" -ge 4500 ] && [ "$ms" -lt 20000 ]' "after connect_timeout, 5 s (${ms} ms)"
like "$(grep -c 'dst=silent.test:443' "$TG_TMP/fakesocks.9201.log")" '^[1-9]' \
    "the fake server got the request for silent.test:443"
like "$(close_error silent.test)" 'connect timeout' \
    "the close line says: connect timeout ($(close_error silent.test))"
is "$(tg_event silent.test 'r["upstream"]')" silent "the event records upstream silent"
out=$(good)
ok $? "a curl through Dante is served afterwards"
like "$out" "s_server" "with the page"

# --- garbage ---------------------------------------------------------------------

tg_mark
t0=$(tg_ms)
out=$(as_guard "${scurl[@]}" --socks5-hostname "$TG_SOCKS" https://garbage.test/ 2>&1)
st=$?
ms=$(($(tg_ms) - t0))
is "$st" 97 "an upstream that answers garbage: curl fails (exit 97)"
like "$out" '\(1\)' "with reply 1, general failure: $out"
ok '[ "$ms" -lt 4500 ]' "at once, not after connect_timeout (${ms} ms)"
like "$(close_error garbage.test)" 'not SOCKS5' \
    "the close line says its reply is not SOCKS5 ($(close_error garbage.test))"
is "$(tg_event garbage.test 'r["upstream"]')" garbage "the event records upstream garbage"
out=$(good)
ok $? "a curl through Dante is served afterwards"

# --- closed after the greeting ------------------------------------------------------

tg_mark
out=$(as_guard "${scurl[@]}" --socks5-hostname "$TG_SOCKS" https://closing.test/ 2>&1)
st=$?
is "$st" 97 "an upstream that closes after the greeting: curl fails (exit 97)"
like "$out" '\(1\)' "with reply 1, general failure: $out"
like "$(close_error closing.test)" 'upstream' \
    "the close line says the upstream failed ($(close_error closing.test))"
out=$(good)
ok $? "a curl through Dante is served afterwards"

# --- Tor's extended code F0 --------------------------------------------------------

tg_mark
out=$(as_guard "${scurl[@]}" --socks5-hostname "u:p@$TG_SOCKS" https://onion.test/ 2>&1)
st=$?
is "$st" 97 "an upstream that answers F0 (onion descriptor not found): curl u:p@ fails (exit 97)"
like "$out" '\(240\)' "a client that authenticated gets 0xF0 (240) as it is: $out"
like "$(close_error onion.test)" '0xf0' "the close line has the code 0xf0 ($(close_error onion.test))"
like "$(grep 'dst=onion.test:443' "$TG_TMP/fakesocks.9204.log" | head -n 1)" ' user=tg-[^ ]*:u ' \
    "the fake server got the client's username u inside tollgated's"
# The same from a raw client: greeting offering username/password,
# u/p, the request; the reply's code is the second byte of the last 10.
req=$(s5_connect onion.test 443)
out=$(rawclient --timeout 10 "$TG_SOCKS" s:050102 r:2 s:0101750170 r:2 \
    "s:$req" a)
like "$(field "$out" got)" '^0502010005f000' \
    "a raw client with username/password: method 2, auth ok, reply F0 ($(field "$out" got))"
out=$(rawclient --timeout 10 "$TG_SOCKS" s:050100 r:2 "s:$req" a)
like "$(field "$out" got)" '^0500050400' \
    "a raw client without authentication gets reply 4, host unreachable ($(field "$out" got))"
out=$(as_guard "${scurl[@]}" --socks5-hostname "$TG_SOCKS" https://onion.test/ 2>&1)
like "$out" '\(4\)' "and so does curl without a username: $out"
is "$(tg_event onion.test 'r["upstream"]')" onion "the event records upstream onion"
out=$(good)
ok $? "a curl through Dante is served afterwards"

# --- all at once -----------------------------------------------------------------------

# Clients of each hostile upstream in flight together while good ones
# come and go: every good one gets its page before the silent one's
# connect_timeout ends.
tg_mark
rm -f "$TG_TMP/par."*
for n in silent garbage closing onion; do
	(as_guard "${scurl[@]}" --socks5-hostname "$TG_SOCKS" "https://$n.test/" \
	    >/dev/null 2>&1; echo "$?" >"$TG_TMP/par.$n") &
done
t0=$(tg_ms)
fails=0
for i in 1 2 3; do
	out=$(good) || fails=$((fails + 1))
done
ms=$(($(tg_ms) - t0))
is "$fails" 0 "three good curls while the hostile ones are in flight: all served"
ok '[ ! -s "$TG_TMP/par.silent" ] && [ "$ms" -lt 4500 ]' \
    "without waiting on the silent upstream, whose client still waits (${ms} ms)"
for ((i = 0; i < 200; i++)); do
	[ -s "$TG_TMP/par.silent" ] && [ -s "$TG_TMP/par.onion" ] &&
	    [ -s "$TG_TMP/par.garbage" ] && [ -s "$TG_TMP/par.closing" ] && break
	sleep 0.1
done
is "$(cat "$TG_TMP/par.silent" "$TG_TMP/par.garbage" "$TG_TMP/par.closing" \
    "$TG_TMP/par.onion" 2>/dev/null | tr '\n' ' ')" "97 97 97 97 " \
    "and each hostile one failed as a refusal of the proxy"

# --- what reached whom ----------------------------------------------------------------

gateway_mark 0
is "$(gateway_requests | grep -cE 'dst=(silent|garbage|closing|onion)\.test')" 0 \
    "Dante never heard of the names routed elsewhere"
is "$(gateway_requests dst=a.test:443 rep=0 | wc -l)" 7 "and granted the 7 good requests"
ok 'kill -0 "$TG_DPID"' "tollgated still runs"
STATUS=$(echo STATUS | socat -t 2 - "UNIX-CONNECT:$SOCK" 2>/dev/null)
like "$STATUS" '^OK ' "and answers on its control socket"

tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
