#!/bin/bash
# Odd and hostile clients of the fronts, at the socket level (tools/
# rawclient.py): a SOCKS5 greeting and request one byte per write are
# served; a CONNECT head over 8 KiB gets 431; a client that sends nothing
# is closed after peek_timeout without an event; a SOCKS client asking
# for an address of the fake-IP range (198.18.0.0/15) that tollgated
# never handed out is refused (fakeip-unmapped) and nothing of it
# reaches the gateway.  After each, a good client is still served.

. "$(dirname "$0")/lib.sh"

plan 26
tg_setup
gateway_start || { echo "Bail out! no SOCKS gateway (Dante)"; exit 1; }
socks_setup

scurl=(curl -sS --max-time 10 --cacert "$TG_CA")
hexof() {
	printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'
}
good() {
	as_guard "${scurl[@]}" --socks5-hostname "$TG_SOCKS" https://a.test/ 2>&1
}

CONF=$(socks_conf peek_timeout=3s)
tg_start "$CONF"
if ! ok $? "tollgated starts with its SOCKS and CONNECT fronts"; then
	echo "Bail out! tollgated does not start"
	exit 1
fi

# --- one byte per write ----------------------------------------------------------------

gateway_mark
tg_mark
get=$(hexof $'GET / HTTP/1.0\r\nHost: a.test\r\n\r\n')
out=$(rawclient --pause 0.1 --timeout 20 "$TG_SOCKS" b:050100 r:2 \
    "b:$(s5_connect a.test 80)" r:10 "s:$get" a)
like "$(field "$out" got)" '^0500050000' \
    "a SOCKS5 greeting and request one byte per write: method 0, reply 0 ($(field "$out" got | cut -c1-24))"
like "$(field "$out" got)" "$(hexof 'hello from tgs')" "and the page"
d=$(tg_decision name=a.test)
is "$(kv "$d" source)/$(kv "$d" verdict)" socks/allow "judged as any SOCKS request"
r=$(gateway_wait_request dst=a.test:80)
is "$(kv "$r" atyp)" name "the gateway got a.test:80 by name"
out=$(rawclient --pause 0.1 --timeout 20 "unix:$TG_SOCKS_UNIX" b:050102 r:2 \
    b:0102753701 "b:70" r:2 "b:$(s5_connect b.test 80)" r:10 \
    "s:$(hexof $'GET / HTTP/1.0\r\nHost: b.test\r\n\r\n')" a)
like "$(field "$out" got)" '^050201000500' \
    "on the unix front with username/password, byte by byte too ($(field "$out" got | cut -c1-24))"
r=$(gateway_wait_request dst=b.test:80)
like "$(kv "$r" user)" ':u7$' "the username u7 came through whole ($(kv "$r" user))"
out=$(good)
ok $? "a curl is served afterwards"

# --- a CONNECT head over 8 KiB ----------------------------------------------------------

gateway_mark
tg_mark
pad=$(printf 'a%.0s' {1..9000})
head=$'CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\nX-Pad: '"$pad"$'\r\n\r\n'
out=$(rawclient --timeout 10 "$TG_CONNECT" "s:$(hexof "$head")" a)
like "$(field "$out" got)" "^$(hexof 'HTTP/1.1 431 ')" \
    "a CONNECT request head of 9 KiB gets 431 ($(field "$out" got | perl -ne 'print pack("H*", $_)' | head -n 1 | tr -d '\r'))"
like "$(field "$out" end)" '^(eof|reset)$' "and the connection is closed ($(field "$out" end))"
is "$(gateway_requests | wc -l)" 0 "the gateway heard nothing of it"
out=$(as_guard "${scurl[@]}" --proxy "http://$TG_CONNECT" https://a.test/ 2>&1)
ok $? "a curl through the CONNECT front is served afterwards"

# --- a client that sends nothing --------------------------------------------------------

tg_mark
t0=$(tg_ms)
rawclient --timeout 15 "$TG_SOCKS" a >"$TG_TMP/s1.out" 2>&1 &
s1=$!
rawclient --timeout 15 "$TG_CONNECT" a >"$TG_TMP/s2.out" 2>&1 &
s2=$!
out=$(good)
ok $? "while two silent clients wait, a curl is served"
wait "$s1" "$s2"
ms=$(($(tg_ms) - t0))
e=$(field "$(cat "$TG_TMP/s1.out")" end)/$(field "$(cat "$TG_TMP/s2.out")" end)
like "$e" '^(eof|reset)/(eof|reset)$' "a client that sends nothing to either front is closed ($e)"
ok '[ "$ms" -ge 2500 ] && [ "$ms" -lt 12000 ]' "after peek_timeout, 3 s (${ms} ms)"
is "$(field "$(cat "$TG_TMP/s1.out")" got)" "" "with nothing said to it"
line=$(tg_wait_log 'no whole socks request within peek_timeout')
ok $? "the log says why: $line"
is "$(tg_decisions exe=/usr/bin/python3.11)" 0 "and no decision was logged for them"
out=$(good)
ok $? "a curl is served afterwards"

# --- an address of the fake-IP range tollgated never handed out -----------------------------
# (These failed when written: tollgated grants an address-only request at
# once and judges it afterwards, so the client is told "succeeded"
# before it is closed, and a client that then sends a ClientHello is
# judged by its SNI and sent on: the four checks below but the
# decision of the first failed.)

gateway_mark
tg_mark
gsyn=$(gateway_syn "$TG_GWP")
out=$(rawclient --timeout 10 "$TG_SOCKS" s:050100 r:2 \
    "s:$(s5_connect_ip 198.18.200.7 443)" a)
got=$(field "$out" got)
like "$got" '^0500050[1-8]' \
    "a SOCKS5 request for 198.18.200.7:443, never handed out: a failure reply, not 0 ($got)"
d=$(tg_decision dst=198.18.200.7:443)
is "$(kv "$d" verdict)/$(kv "$d" reason)" reject/fakeip-unmapped \
    "the decision: reject, reason fakeip-unmapped"
as_guard "${scurl[@]}" -o /dev/null --socks5 "$TG_SOCKS" \
    --resolve "a.test:443:198.18.200.8" https://a.test/ 2>/dev/null
st=$?
is "$st" 97 "curl --socks5 to a.test at 198.18.200.8: the proxy refused (exit $st)"
d=$(tg_decision dst=198.18.200.8:443)
is "$(kv "$d" reason)" fakeip-unmapped \
    "its decision too: fakeip-unmapped ($(kv "$d" reason))"
sleep 0.5
is "$(gateway_requests | wc -l)/$(gateway_syn "$TG_GWP")" "0/$gsyn" \
    "nothing of either reached the gateway"
out=$(good)
ok $? "a curl is served afterwards"

tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
