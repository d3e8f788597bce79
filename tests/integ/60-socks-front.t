#!/bin/bash
# tollgated's SOCKS front, as the apps that use one see it: curl with
# SOCKS5 (name or address) and SOCKS4a, curl and socat on the unix
# socket, torsocks: each reaches the server through the gateway's SOCKS5
# server (Dante), which is handed the name, never an address; tollgated
# judges the name in the request (source socks) and names the app; a
# denied name never reaches the gateway and the client gets reply 2; a
# ClientHello naming another host than the request did is denied
# (name-mismatch); UDP ASSOCIATE and BIND get "command not supported".

. "$(dirname "$0")/lib.sh"

plan 57
tg_setup
gateway_start || { echo "Bail out! no SOCKS gateway (Dante)"; exit 1; }
socks_setup

# s5_unix BYTES: the bytes (printf escapes) to the unix front as tgguard
# with socat, all at once; prints what came back, as hex.
# shellcheck disable=SC2059 # the format is the bytes
s5_unix() {
	printf "$1" | as_guard socat -t 5 - "UNIX-CONNECT:$TG_SOCKS_UNIX" 2>/dev/null |
	    od -An -v -tx1 | tr -d ' \n'
}
scurl=(curl -sS --max-time 10 --cacert "$TG_CA")

CONF=$(socks_conf)
tg_start "$CONF"
if ! ok $? "tollgated starts with a SOCKS front on $TG_SOCKS and $TG_SOCKS_UNIX"; then
	echo "Bail out! tollgated does not start with SOCKS fronts"
	exit 1
fi

# --- SOCKS5 with the name ------------------------------------------------------

gateway_mark
syn=$(syn_count 443)
out=$(as_guard "${TG_SHOWPID[@]}" "${scurl[@]}" --socks5-hostname "$TG_SOCKS" \
    https://a.test/ 2>&1)
ok $? "curl --socks5-hostname $TG_SOCKS https://a.test/ succeeds"
like "$out" "s_server" "and gets the page"
curl_pid=$(sed -n 's/^pid=//p' <<<"$out")
d=$(tg_decision name=a.test)
ok $? "tollgated logs a decision for a.test"
is "$(kv "$d" verdict)/$(kv "$d" source)" allow/socks "allowed, the name read from the SOCKS request"
is "$(kv "$d" exe)/$(kv "$d" pid)/$(kv "$d" user)" "/usr/bin/curl/$curl_pid/$TG_GUARD" \
    "the app is curl, its pid $curl_pid, the user $TG_GUARD"
r=$(gateway_wait_request dst=a.test:443)
ok $? "the gateway got a request for a.test:443"
is "$(kv "$r" atyp)/$(kv "$r" port)/$(kv "$r" rep)" "name/$TG_GWP/0" \
    "by name, on port $TG_GWP, and granted it"
is "$(syn_count 443)" $((syn + 1)) "the server saw one connection"
is "$(tg_event a.test 'r["upstream"] != "direct" and r["upstream"] != ""')" True \
    "the event records an upstream, not direct ($(tg_event a.test 'r["upstream"]'))"

# --- SOCKS4a ---------------------------------------------------------------------

gateway_mark
out=$(as_guard "${scurl[@]}" --socks4a "$TG_SOCKS" https://b.test/ 2>&1)
ok $? "curl --socks4a $TG_SOCKS https://b.test/ succeeds"
like "$out" "s_server" "and gets the page"
d=$(tg_decision name=b.test)
is "$(kv "$d" verdict)/$(kv "$d" source)/$(kv "$d" exe)" allow/socks//usr/bin/curl \
    "allowed, name from the SOCKS4a request, app curl"
r=$(gateway_wait_request dst=b.test:443)
is "$(kv "$r" atyp)/$(kv "$r" rep)" name/0 "the gateway got b.test:443 by name (SOCKS5 onward)"

# --- SOCKS5 with an address: the name comes from the ClientHello ------------------

gateway_mark
out=$(as_guard "${scurl[@]}" --socks5 "$TG_SOCKS" --resolve "c.test:443:$TG_S4" \
    https://c.test/ 2>&1)
ok $? "curl --socks5 (an address in the request) to c.test succeeds"
d=$(tg_decision name=c.test)
is "$(kv "$d" dst)/$(kv "$d" source)" "$TG_S4:443/sni" \
    "the request said $TG_S4:443; the name c.test came from the SNI"
r=$(gateway_wait_request)
is "$(kv "$r" atyp)/$(kv "$r" dst)" name/c.test:443 \
    "the gateway was handed the name c.test, not the address"

# --- the unix socket: curl and socat ---------------------------------------------

ok '[ -S "$TG_SOCKS_UNIX" ]' "the unix front exists"
is "$(stat -c %a "$TG_SOCKS_UNIX")" 666 "with mode 0666"
gateway_mark
out=$(as_guard "${TG_SHOWPID[@]}" "${scurl[@]}" \
    --proxy "socks5h://localhost$TG_SOCKS_UNIX" https://x.b.test/ 2>&1)
ok $? "curl through socks5h://localhost$TG_SOCKS_UNIX reaches x.b.test"
like "$out" "s_server" "and gets the page"
curl_pid=$(sed -n 's/^pid=//p' <<<"$out")
d=$(tg_decision name=x.b.test)
is "$(kv "$d" source)/$(kv "$d" exe)/$(kv "$d" pid)/$(kv "$d" uid)" \
    "socks//usr/bin/curl/$curl_pid/$TG_GUARD_UID" \
    "the decision names curl, its pid and uid (SO_PEERCRED)"
r=$(gateway_wait_request dst=x.b.test:443)
is "$(kv "$r" atyp)" name "the gateway got x.b.test by name"

# A greeting, the request and the HTTP request in one write: pipelined
# bytes after the request wait until the upstream has answered.
gateway_mark
req='\x05\x01\x00\x05\x01\x00\x03\x06a.test\x00\x50GET / HTTP/1.0\r\nHost: a.test\r\n\r\n'
hex=$(s5_unix "$req")
like "$hex" '^05000500' "socat on the unix front: method 0 chosen, then reply 0 (succeeded)"
like "$(perl -ne 'print pack("H*", $_)' <<<"$hex" | tr -d '\0')" "hello from tgs" \
    "and the HTTP page after it (the pipelined GET went through)"
d=$(tg_decision name=a.test exe=/usr/bin/socat)
is "$(kv "$d" source)" socks "socat's decision: name a.test from the SOCKS request"
r=$(gateway_wait_request dst=a.test:80)
is "$(kv "$r" atyp)" name "the gateway got a.test:80 by name"

# --- torsocks ----------------------------------------------------------------------
# torsocks answers curl's getaddrinfo() with Tor's RESOLVE (SOCKS5
# command F0) and then connects to the address it got, sending it as
# text: the front must answer RESOLVE, and the name reaches the upstream
# through the address it answered (a fake IP) or the ClientHello.

printf 'TorAddress 127.0.0.1\nTorPort 1080\n' >"$TG_TMP/torsocks.conf"
chmod 644 "$TG_TMP/torsocks.conf"
gateway_mark
out=$(as_guard env TORSOCKS_CONF_FILE="$TG_TMP/torsocks.conf" torsocks \
    "${scurl[@]}" https://y.b.test/ 2>&1)
ok $? "torsocks curl https://y.b.test/ (pointed at $TG_SOCKS) succeeds"
like "$out" "s_server" "and gets the page"
d=$(tg_decision name=y.b.test)
is "$(kv "$d" verdict)/$(kv "$d" exe)" allow//usr/bin/curl "allowed; the app is curl"
r=$(gateway_wait_request dst=y.b.test:443)
is "$(kv "$r" atyp)/$(kv "$r" rep)" name/0 "the gateway got y.b.test:443 by name"

# --- never an address --------------------------------------------------------------

gateway_mark 0 # all of the gateway's log so far
is "$(gateway_requests atyp=ipv4 | wc -l)/$(gateway_requests atyp=ipv6 | wc -l)" 0/0 \
    "no request the gateway got carried an address"
is "$(gateway_stray)" 0 "and nothing but SOCKS reached it"

# --- torsocks on a direct route -----------------------------------------------------
# On a direct route the name behind the fake address is what tollgated
# goes to (here it cannot be resolved: the servers are the gateway's);
# the made-up address itself is never the destination.

"$TG" -c "$CONF" rules add --app /usr/bin/curl --dest yd.b.test --action allow \
    --via direct >/dev/null 2>&1
ok $? "a rule lets curl reach yd.b.test directly"
tg_mark
as_guard env TORSOCKS_CONF_FILE="$TG_TMP/torsocks.conf" torsocks \
    curl -sS --max-time 10 http://yd.b.test/ >/dev/null 2>&1
d=$(tg_decision name=yd.b.test)
is "$(kv "$d" verdict)/$(kv "$d" source)/$(kv "$d" dst)" allow/fakeip/-:80 \
    "torsocks' connect to its fake address: allowed by the name from the map, no address kept"
c=$(tg_close_line "$(kv "$d" conn)" 15)
unlike "$(kv "$c" error)" '^connect:' \
    "tollgated did not connect to the made-up address ($(kv "$c" error))"

# --- a denied name never reaches the gateway ------------------------------------------

"$TG" -c "$CONF" rules add --app /usr/bin/curl --dest c.test --action deny >/dev/null
ok $? "a rule denies curl c.test"
gateway_mark
tg_mark
gsyn=$(gateway_syn "$TG_GWP")
out=$(as_guard "${scurl[@]}" --socks5-hostname "$TG_SOCKS" https://c.test/ 2>&1)
st=$?
is "$st" 97 "curl --socks5-hostname to c.test fails: the proxy refused (exit 97)"
like "$out" '\(2\)' "with reply 2, not allowed by ruleset: $out"
d=$(tg_decision name=c.test)
is "$(kv "$d" verdict)/$(kv "$d" reason)/$(kv "$d" source)" deny/rule/socks \
    "the decision: deny by the rule, name from SOCKS"
out=$(as_guard "${scurl[@]}" --socks4a "$TG_SOCKS" https://c.test/ 2>&1)
st=$?
is "$st" 97 "curl --socks4a to c.test fails too (exit 97)"
like "$out" '\(91\)' "with SOCKS4 reply 91, rejected: $out"
sleep 0.5
is "$(gateway_requests dst=c.test:443 | wc -l)" 0 "the gateway never heard of c.test"
is "$(gateway_syn "$TG_GWP")" "$gsyn" "no connection was made to it at all"

# --- the ClientHello names another host ------------------------------------------------

gateway_mark
tg_mark
out=$(as_guard "${scurl[@]}" --socks5-hostname "$TG_SOCKS" \
    --connect-to b.test:443:a.test:443 https://b.test/ 2>&1)
st=$?
ok '[ "$st" != 0 ]' "SOCKS request for a.test, then a ClientHello for b.test: curl fails (exit $st)"
d=$(tg_decision verdict=deny reason=name-mismatch)
ok $? "tollgated denies it: reason=name-mismatch"
is "$(kv "$d" exe)" /usr/bin/curl "naming curl"
like "$(kv "$d" name)" '^(a|b)\.test$' "and a name of the two ($(kv "$d" name))"
out=$(as_guard "${scurl[@]}" --socks5-hostname "$TG_SOCKS" https://a.test/ 2>&1)
ok $? "the same request with a matching ClientHello still goes through"

# --- commands a front does not do --------------------------------------------------------

hex=$(s5_unix '\x05\x01\x00\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00')
like "$hex" '^050005070' "UDP ASSOCIATE: reply 7, command not supported ($hex)"
hex=$(s5_unix '\x05\x01\x00\x05\x02\x00\x03\x06a.test\x00\x50')
like "$hex" '^050005070' "BIND: reply 7, command not supported ($hex)"
hex=$(s5_unix '\x05\x01\x00\x05\x01\x00\x05\x06a.test\x00\x50')
like "$hex" '^050005080' "an unknown address type: reply 8 ($hex)"
hex=$(s5_unix '\x04\x01\x00\x50\x00\x00\x00\x01\x00a.test\x00')
like "$hex" '^005a' "SOCKS4a on the unix front: granted (0x5a) ($hex)"
hex=$(s5_unix '\x05\x01\x00\x05\xf0\x00\x01\x0a\x00\x00\x07\x00\x00')
like "$hex" '^0500050000010a000007' "Tor's RESOLVE of an address: answered with that address ($hex)"
hex=$(s5_unix '\x06\x01\x00')
unlike "$hex" '^(0500|005a)' "a wrong version is not served (${hex:-closed})"
out=$(as_guard "${scurl[@]}" --socks5-hostname "$TG_SOCKS" https://b.test/ 2>&1)
ok $? "and other clients are still served"

tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
