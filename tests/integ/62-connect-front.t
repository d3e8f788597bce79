#!/bin/bash
# tollgated's HTTP CONNECT front: curl --proxy http:// and openssl
# s_client -proxy reach the server through the gateway, which is handed
# the name (source connect); Proxy-Authorization is kept like a SOCKS
# username; a plain GET http:// proxy request gets 405 saying to use
# CONNECT; a denied name never reaches the gateway; a ClientHello for
# another host than the CONNECT named is denied (name-mismatch); an
# upstream's refusal fails the CONNECT.

. "$(dirname "$0")/lib.sh"

plan 32
tg_setup
gateway_start refused.test || { echo "Bail out! no SOCKS gateway (Dante)"; exit 1; }
socks_setup

pcurl=(curl -sS --max-time 10 --cacert "$TG_CA" --proxy "http://$TG_CONNECT")

CONF=$(socks_conf)
tg_start "$CONF"
if ! ok $? "tollgated starts with a CONNECT front on $TG_CONNECT"; then
	echo "Bail out! tollgated does not start with a CONNECT front"
	exit 1
fi

# --- CONNECT by name --------------------------------------------------------------

gateway_mark
syn=$(syn_count 443)
out=$(as_guard "${TG_SHOWPID[@]}" "${pcurl[@]}" https://a.test/ 2>&1)
ok $? "curl --proxy http://$TG_CONNECT https://a.test/ succeeds"
like "$out" "s_server" "and gets the page"
curl_pid=$(sed -n 's/^pid=//p' <<<"$out")
d=$(tg_decision name=a.test)
ok $? "tollgated logs a decision for a.test"
is "$(kv "$d" verdict)/$(kv "$d" source)" allow/connect "allowed, the name from the CONNECT request"
is "$(kv "$d" exe)/$(kv "$d" pid)" "/usr/bin/curl/$curl_pid" "the app is curl, pid $curl_pid"
r=$(gateway_wait_request dst=a.test:443)
ok $? "the gateway got a request for a.test:443"
is "$(kv "$r" atyp)/$(kv "$r" rep)" name/0 "by name, granted"
is "$(syn_count 443)" $((syn + 1)) "the server saw one connection"
u_plain=$(kv "$r" user)

gateway_mark
out=$(as_guard "${pcurl[@]}" --proxy-user u9:p9 https://b.test/ 2>&1)
ok $? "curl with Proxy-Authorization: Basic (u9) gets through"
r=$(gateway_wait_request dst=b.test:443)
like "$(kv "$r" user)" u9 "u9 survives inside the upstream username ($(kv "$r" user))"
ok '[ "$(kv "$r" user)" != "$u_plain" ]' "which differs from curl's without it ($u_plain)"

gateway_mark
out=$(as_guard openssl s_client -proxy "$TG_CONNECT" -connect c.test:443 \
    -servername c.test -CAfile "$TG_CA" -verify_return_error -brief \
    </dev/null 2>&1)
ok $? "openssl s_client -proxy $TG_CONNECT -connect c.test:443 completes a handshake"
d=$(tg_decision name=c.test)
is "$(kv "$d" source)/$(kv "$d" exe)" connect//usr/bin/openssl "its decision: source connect, app openssl"
r=$(gateway_wait_request dst=c.test:443)
is "$(kv "$r" atyp)" name "the gateway got c.test by name"

# --- a plain proxy request is refused ----------------------------------------------

gateway_mark
out=$(as_guard curl -sS --max-time 10 --proxy "http://$TG_CONNECT" \
    -w '\ncode=%{http_code}\n' http://a.test/ 2>&1)
like "$out" 'code=405' "curl --proxy for http://a.test/ (GET http://...) gets 405"
like "$(sed '$d' <<<"$out")" 'CONNECT' "with a body that says to use CONNECT: $(head -n 1 <<<"$out")"
sleep 0.5
is "$(gateway_requests | wc -l)" 0 "the gateway heard nothing of it"

# --- denied -----------------------------------------------------------------------

"$TG" -c "$CONF" rules add --app /usr/bin/curl --dest x.b.test --action deny >/dev/null
ok $? "a rule denies curl x.b.test"
gateway_mark
gsyn=$(gateway_syn "$TG_GWP")
out=$(as_guard "${pcurl[@]}" https://x.b.test/ 2>&1)
st=$?
ok '[ "$st" != 0 ]' "curl through the CONNECT front to x.b.test fails (exit $st)"
like "$out" 'response 4[0-9][0-9]' "the CONNECT was answered with a 4xx: $out"
d=$(tg_decision name=x.b.test)
is "$(kv "$d" verdict)/$(kv "$d" reason)/$(kv "$d" source)" deny/rule/connect \
    "the decision: deny by the rule, name from CONNECT"
sleep 0.5
is "$(gateway_requests dst=x.b.test:443 | wc -l)" 0 "the gateway never heard of x.b.test"
is "$(gateway_syn "$TG_GWP")" "$gsyn" "no connection was made to it"

# --- the ClientHello names another host ---------------------------------------------

tg_mark
out=$(as_guard "${pcurl[@]}" --connect-to b.test:443:a.test:443 https://b.test/ 2>&1)
st=$?
ok '[ "$st" != 0 ]' "CONNECT a.test, then a ClientHello for b.test: curl fails (exit $st)"
d=$(tg_decision verdict=deny reason=name-mismatch)
ok $? "tollgated denies it: reason=name-mismatch"
out=$(as_guard openssl s_client -proxy "$TG_CONNECT" -connect a.test:443 \
    -servername c.test -CAfile "$TG_CA" -verify_return_error -brief \
    </dev/null 2>&1)
nok $? "so does openssl s_client -connect a.test:443 -servername c.test"
d=$(tg_decision verdict=deny reason=name-mismatch exe=/usr/bin/openssl)
ok $? "also name-mismatch"

# --- the upstream refuses --------------------------------------------------------------

gateway_mark
tg_mark
out=$(as_guard "${pcurl[@]}" https://refused.test/ 2>&1)
st=$?
ok '[ "$st" != 0 ]' "curl through the CONNECT front to refused.test fails (exit $st)"
like "$out" 'response [45][0-9][0-9]' "the CONNECT was answered with an error status: $out"
r=$(gateway_wait_request dst=refused.test:443)
is "$(kv "$r" verdict)/$(kv "$r" rep)" block/2 "the gateway blocked it with reply 2"

tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
