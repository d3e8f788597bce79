#!/bin/bash
# The SOCKS gateway the SOCKS tests stand on, without tollgated: Dante in
# its own namespace takes a client's request by name and reaches the
# test server it names; its log, read back by gateway_requests, tells a
# name from an address, shows the username, the port and the reply code;
# a refused name gets reply 2; the servers cannot be reached from the
# client namespace but through the gateway, and gateway_stray sees a
# client that tries.

. "$(dirname "$0")/lib.sh"

plan 32
tg_setup

gateway_start refused.test
ok $? "Dante listens on $TG_GW4:$TG_GWP and :$TG_GWP2 in the gateway namespace"

gw=$TG_GW4:$TG_GWP
gcurl=(curl -sS --max-time 8 --cacert "$TG_CA")

# --- a name, no username -------------------------------------------------------

gateway_mark
syn=$(syn_count 443)
out=$(as_guard "${gcurl[@]}" --socks5-hostname "$gw" https://a.test/ 2>&1)
ok $? "curl --socks5-hostname $gw https://a.test/ succeeds"
like "$out" "s_server" "and gets the TLS server's page"
is "$(syn_count 443)" $((syn + 1)) "the server saw one connection (Dante's)"
r=$(gateway_wait_request dst=a.test:443)
ok $? "Dante's log has the request for a.test:443"
is "$(kv "$r" atyp)" name "it carried the name (ATYP 3)"
is "$(kv "$r" port)" "$TG_GWP" "it came to port $TG_GWP"
is "$(kv "$r" user)" - "without a username"
is "$(kv "$r" verdict)/$(kv "$r" rep)" pass/0 "Dante let it pass and replied 0 (succeeded)"
is "$(gateway_requests | wc -l)" 1 "and it is the only request since the mark"

# --- an address -----------------------------------------------------------------

gateway_mark
out=$(as_guard "${gcurl[@]}" --socks5 "$gw" --resolve "a.test:443:$TG_S4" \
    https://a.test/ 2>&1)
ok $? "curl --socks5 (resolving itself) reaches a.test too"
r=$(gateway_wait_request dst="$TG_S4:443")
ok $? "the log has that request as $TG_S4:443"
is "$(kv "$r" atyp)" ipv4 "carrying an IPv4 address (ATYP 1)"
is "$(gateway_requests atyp=name | wc -l)" 0 "and no name"

# --- a username, the second port ----------------------------------------------

gateway_mark
out=$(as_guard "${gcurl[@]}" --socks5-hostname "u1:p1@$TG_GW4:$TG_GWP2" \
    https://b.test/ 2>&1)
ok $? "curl with username u1 through port $TG_GWP2 reaches b.test"
r=$(gateway_wait_request dst=b.test:443)
ok $? "the log has the request for b.test:443"
is "$(kv "$r" port)/$(kv "$r" user)/$(kv "$r" auth)" "$TG_GWP2/u1/pam.username" \
    "on port $TG_GWP2, username u1, method username/password"
as_guard "${gcurl[@]}" -o /dev/null --socks5-hostname "u2:p2@$gw" https://c.test/ 2>/dev/null
as_guard "${gcurl[@]}" -o /dev/null --socks5-hostname "u2:p3@$gw" https://x.b.test/ 2>/dev/null
gateway_wait_request dst=x.b.test:443 >/dev/null
is "$(gateway_users | tr '\n' ' ')" "u1 u2 " "gateway_users lists u1 and u2, once each"

# --- the SOCKS name and the TLS name apart ----------------------------------------

gateway_mark
out=$(as_guard "${gcurl[@]}" --socks5-hostname "$gw" \
    --connect-to c.test:443:a.test:443 https://c.test/ 2>&1)
ok $? "curl --connect-to c.test:443:a.test:443 https://c.test/ through the gateway works"
r=$(gateway_wait_request)
is "$(kv "$r" dst)" a.test:443 "the SOCKS request named a.test (the TLS name was c.test)"

# --- a refused name -------------------------------------------------------------

gateway_mark
syn=$(syn_count 443)
out=$(as_guard "${gcurl[@]}" --socks5-hostname "$gw" https://refused.test/ 2>&1)
st=$?
is "$st" 97 "curl to refused.test fails with exit 97 (the proxy refused)"
like "$out" '\(2\)' "with reply code 2 (not allowed by ruleset): $out"
r=$(gateway_wait_request dst=refused.test:443)
is "$(kv "$r" verdict)/$(kv "$r" rep)" block/2 "Dante logged it blocked, reply 2"
is "$(syn_count 443)" "$syn" "nothing reached the server"
is "$(gateway_requests | wc -l)" 1 "one request since the mark"

# --- the gateway is the only way ------------------------------------------------

is "$(gateway_stray)" 0 "nothing but SOCKS reached the gateway so far"
is "$(gateway_syn "$TG_GWP")/$(gateway_syn "$TG_GWP2")" 6/1 \
    "Dante's ports saw 6 and 1 connections"
syn=$(syn_count 443)
as_guard "${gcurl[@]}" --connect-timeout 2 --max-time 3 \
    --resolve "a.test:443:$TG_S4" https://a.test/ >/dev/null 2>&1
nok $? "the client namespace cannot reach the server at $TG_S4 directly"
is "$(syn_count 443)" "$syn" "the server saw nothing of it"
ok '[ "$(gateway_stray)" -gt 0 ]' "gateway_stray counted its packets ($(gateway_stray))"

# --- stopping -------------------------------------------------------------------

gateway_stop
ok '! _gw_listening "$TG_GWP"' "gateway_stop stops Dante"
ok '[ ! -e "/etc/netns/$TG_GNS" ]' "and removes /etc/netns/$TG_GNS"
