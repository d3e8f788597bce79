#!/bin/bash
# tollgated's SOCKS5 upstream, as the gateway (Dante) sees it: a
# transparent client that connected to a made-up address leaves by name
# (the address is never contacted); each app gets a username of its own,
# the same for all its connections and across restarts, that says
# nothing of the app, keeps the client's own username inside it and never
# starts with <torS0X>; a rule's --via mail takes the second port; an app
# that speaks SOCKS to the gateway's address itself is served as at the
# SOCKS front, by name, through the upstream at that address; an
# upstream's refusal reaches the SOCKS client as its own reply code, a
# transparent client as a reset, and the log.

. "$(dirname "$0")/lib.sh"

plan 58
tg_setup
gateway_start refused.test || { echo "Bail out! no SOCKS gateway (Dante)"; exit 1; }
socks_setup

FAKE=203.0.113.9
scurl=(curl -sS --max-time 10 --cacert "$TG_CA")
mkdir -p "$TG_TMP/bin" && cp /usr/bin/curl "$TG_TMP/bin/curl" &&
    chmod 755 "$TG_TMP/bin" "$TG_TMP/bin/curl"
CURL2=$TG_TMP/bin/curl

# user_of CMD...: run CMD as tgguard; print the username of the one
# request the gateway got for it (nothing when it got none).
user_of() {
	gateway_mark
	as_guard "$@" >/dev/null 2>&1
	kv "$(gateway_wait_request)" user
}

CONF=$(socks_conf)
tg_start "$CONF"
if ! ok $? "tollgated starts with upstream = socks5://$TG_GW4:$TG_GWP"; then
	echo "Bail out! tollgated does not start with a SOCKS5 upstream"
	exit 1
fi

# --- a transparent client leaves by name -------------------------------------------

gateway_mark
syn=$(syn_count 443)
out=$(as_guard "${scurl[@]}" --resolve "a.test:443:$FAKE" https://a.test/ 2>&1)
ok $? "curl https://a.test/ with a.test at the fake $FAKE gets through"
like "$out" "s_server" "to the real server's page"
d=$(tg_decision name=a.test)
is "$(kv "$d" dst)/$(kv "$d" source)" "$FAKE:443/sni" \
    "the decision: original destination $FAKE:443, the name from the SNI"
r=$(gateway_wait_request dst=a.test:443)
ok $? "the gateway got a request for a.test:443"
is "$(kv "$r" atyp)/$(kv "$r" port)/$(kv "$r" rep)" "name/$TG_GWP/0" \
    "by name, on port $TG_GWP, granted"
is "$(syn_count 443)" $((syn + 1)) "the server saw one connection"
is "$(gateway_stray)" 0 "nothing addressed to $FAKE ever reached the gateway"
is "$(tg_event a.test 'r["upstream"] not in ("direct", "")')" True \
    "the event records the upstream ($(tg_event a.test 'r["upstream"]'))"
u_trans=$(kv "$r" user)

gateway_mark
out=$(as_guard curl -sS --max-time 10 --resolve "b.test:80:$FAKE" http://b.test/ 2>&1)
like "$out" "hello from tgs" "plain HTTP to b.test at $FAKE gets the page"
r=$(gateway_wait_request dst=b.test:80)
is "$(kv "$r" atyp)" name "and the gateway got b.test:80 by name (from Host)"

# --- one username per app --------------------------------------------------------

u1=$(user_of "${scurl[@]}" --socks5-hostname "$TG_SOCKS" https://a.test/)
u2=$(user_of "${scurl[@]}" --socks5-hostname "$TG_SOCKS" https://b.test/)
u3=$(user_of "$CURL2" -sS --max-time 10 --cacert "$TG_CA" \
    --socks5-hostname "$TG_SOCKS" https://a.test/)
diag "usernames: curl $u1, $u2; its copy $u3; transparent curl $u_trans"
ok '[ -n "$u1" ] && [ "$u1" != - ]' "curl's connection reaches the gateway with a username ($u1)"
is "$u2" "$u1" "curl's next connection, to another name, has the same one"
is "$u_trans" "$u1" "so had curl's transparent connection"
ok '[ -n "$u3" ] && [ "$u3" != - ] && [ "$u3" != "$u1" ]' \
    "a copy of curl elsewhere ($CURL2), another app, has another ($u3)"
unlike "$u1 $u3" "curl|$TG_GUARD|/" \
    "neither says which program or user it is"

# --- the client's own username ----------------------------------------------------

u4=$(user_of "${scurl[@]}" --socks5-hostname "$TG_SOCKS" --proxy-user u7:p7 https://a.test/)
u5=$(user_of "${scurl[@]}" --socks5-hostname "$TG_SOCKS" --proxy-user u8:p8 https://a.test/)
u6=$(user_of "${scurl[@]}" --socks5-hostname "$TG_SOCKS" --proxy-user u7:p9 https://b.test/)
diag "usernames: curl as u7 $u4, as u8 $u5, as u7 again $u6"
like "$u4" "u7" "curl's own SOCKS username u7 survives inside its upstream one ($u4)"
ok '[ "$u4" != "$u1" ]' "which is not the one curl gets without a username"
ok '[ -n "$u5" ] && [ "$u5" != "$u4" ]' "curl as u8 gets another ($u5)"
is "$u6" "$u4" "curl as u7 again, to another name, gets u7's again"
u7=$(user_of "${scurl[@]}" --socks5-hostname "$TG_SOCKS" --proxy-user '<torS0X>0:x' \
    https://a.test/)
ok '[ -n "$u7" ] && [ "$u7" != - ]' "a client whose own username is <torS0X>0 gets through ($u7)"
unlike "$u7" '^<torS0X>' "and its upstream username does not start with <torS0X>"
long=$(printf 'L%.0s' {1..250})
u8=$(user_of "${scurl[@]}" --socks5-hostname "$TG_SOCKS" --proxy-user "$long:x" \
    https://a.test/)
ok '[ -n "$u8" ] && [ ${#u8} -le 255 ]' "a 250-byte username of the client's: at most 255 bytes upstream (${#u8})"
gateway_mark 0 # the whole log
ok '! gateway_users | grep -q "^<torS0X>"' "no username the gateway got starts with <torS0X>"

# --- stable across a restart ------------------------------------------------------

tg_stop TERM
tg_start "$CONF"
ok $? "tollgated starts again"
is "$(user_of "${scurl[@]}" --socks5-hostname "$TG_SOCKS" https://a.test/)" "$u1" \
    "curl gets the same username as before the restart"
is "$(user_of "$CURL2" -sS --max-time 10 --cacert "$TG_CA" \
    --socks5-hostname "$TG_SOCKS" https://a.test/)" "$u3" "and so does its copy"

# --- a rule's route: --via mail ----------------------------------------------------

out=$("$TG" -c "$CONF" rules add --app /usr/bin/curl --dest c.test --action allow \
    --via mail 2>&1)
ok $? "a rule allows curl c.test --via mail ($out)"
out=$("$TG" -c "$CONF" rules test --app /usr/bin/curl --dest c.test --port 443 2>&1)
like "$out" "mail" "tollgate rules test shows the route: $(tr '\n' ' ' <<<"$out")"
gateway_mark
out=$(as_guard "${scurl[@]}" --socks5-hostname "$TG_SOCKS" https://c.test/ 2>&1)
ok $? "curl --socks5-hostname to c.test gets through"
r=$(gateway_wait_request dst=c.test:443)
is "$(kv "$r" port)/$(kv "$r" atyp)" "$TG_GWP2/name" "by name, to the second port ($TG_GWP2)"
is "$(tg_event c.test 'r["upstream"]')" mail "the event records upstream mail"
gateway_mark
out=$(as_guard "${scurl[@]}" --resolve "c.test:443:$FAKE" https://c.test/ 2>&1)
ok $? "a transparent curl to c.test gets through"
r=$(gateway_wait_request dst=c.test:443)
is "$(kv "$r" port)" "$TG_GWP2" "through the second port too"
gateway_mark
as_guard "$CURL2" -sS --max-time 10 --cacert "$TG_CA" --socks5-hostname "$TG_SOCKS" \
    -o /dev/null https://c.test/ 2>/dev/null
r=$(gateway_wait_request dst=c.test:443)
is "$(kv "$r" port)" "$TG_GWP" "the copy of curl, which the rule is not for, goes to $TG_GWP"
gateway_mark
as_guard "${scurl[@]}" --socks5-hostname "$TG_SOCKS" -o /dev/null https://b.test/ 2>/dev/null
r=$(gateway_wait_request dst=b.test:443)
is "$(kv "$r" port)" "$TG_GWP" "and curl to b.test, which it does not name, to $TG_GWP"

# --- the upstream refuses ------------------------------------------------------------

gateway_mark
tg_mark
syn=$(syn_count 443)
out=$(as_guard "${scurl[@]}" --socks5-hostname "$TG_SOCKS" https://refused.test/ 2>&1)
st=$?
is "$st" 97 "curl --socks5-hostname to refused.test fails: the proxy refused (exit 97)"
like "$out" '\(2\)' "with the gateway's own reply code, 2: $out"
r=$(gateway_wait_request dst=refused.test:443)
is "$(kv "$r" verdict)/$(kv "$r" rep)" block/2 "the gateway blocked it with reply 2"
d=$(tg_decision name=refused.test)
is "$(kv "$d" verdict)/$(kv "$d" source)" allow/socks "tollgated had allowed it"
conn=$(kv "$d" conn)
line=$(tg_wait_log "conn=$conn( |\$).*not allowed")
ok $? "its log says the upstream did not allow it: $line"
is "$(tg_event refused.test 'r["upstream"] not in ("direct", "")')" True \
    "and there is an event for it, with its upstream"
out=$(as_guard "${scurl[@]}" --socks4a "$TG_SOCKS" https://refused.test/ 2>&1)
like "$out" '\(91\)' "a SOCKS4a client gets 91, rejected: $out"
out=$(as_guard "${scurl[@]}" --socks5-hostname "$TG_SOCKS" https://nosuch.test/ 2>&1)
like "$out" '\(4\)' "a name the gateway cannot resolve: its reply 4, host unreachable: $out"
out=$(as_guard curl -sS --max-time 10 --resolve "refused.test:80:$FAKE" \
    http://refused.test/ 2>&1)
st=$?
like "$st" "$TG_CURL_RESET" "a transparent client to refused.test is reset (exit $st)"
is "$(syn_count 443)" "$syn" "none of it reached the server"

tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"

# --- a front's own route: socks_listen.mail -----------------------------------------

CONF=$(socks_conf socks_listen.mail=127.0.0.1:1082)
tg_start "$CONF"
ok $? "tollgated starts with a second SOCKS front, socks_listen.mail = 127.0.0.1:1082"
gateway_mark
as_guard "$CURL2" -sS --max-time 10 --cacert "$TG_CA" \
    --socks5-hostname 127.0.0.1:1082 -o /dev/null https://b.test/ 2>/dev/null
r=$(gateway_wait_request dst=b.test:443)
is "$(kv "$r" port)" "$TG_GWP2" "a client of that front goes to upstream.mail ($TG_GWP2)"
gateway_mark
as_guard "$CURL2" -sS --max-time 10 --cacert "$TG_CA" \
    --socks5-hostname "$TG_SOCKS" -o /dev/null https://b.test/ 2>/dev/null
r=$(gateway_wait_request dst=b.test:443)
is "$(kv "$r" port)" "$TG_GWP" "one of the plain front, to upstream ($TG_GWP)"
"$TG" -c "$CONF" rules add --app "$CURL2" --dest d.test --action allow \
    --via upstream >/dev/null 2>&1
gateway_mark
as_guard "$CURL2" -sS --max-time 10 --cacert "$TG_CA" \
    --socks5-hostname 127.0.0.1:1082 -o /dev/null https://d.test/ 2>/dev/null
r=$(gateway_wait_request dst=d.test:443)
is "$(kv "$r" port)" "$TG_GWP" "a rule's --via upstream wins over the front's route"

# --- an app that speaks SOCKS to the gateway itself -------------------------------

# As a Whonix app set up with the gateway's SocksPort would: the redirect
# brings it to tollgated, which serves it as at a SOCKS front whose route
# is the upstream at that address.
gateway_mark
out=$(as_guard "${scurl[@]}" --socks5-hostname "$TG_GW4:$TG_GWP2" https://a.test/ 2>&1)
like "$out" "s_server" "curl --socks5-hostname $TG_GW4:$TG_GWP2 (upstream.mail's address) gets the page"
d=$(tg_decision name=a.test)
ok $? "tollgated judged it by the name in its request"
is "$(kv "$d" source)" socks "read from the SOCKS request, as at its SOCKS front"
r=$(gateway_wait_request dst=a.test:443)
is "$(kv "$r" port)" "$TG_GWP2" "the gateway got a.test on the port the app asked for"
ok '[ "$(kv "$r" user)" = "$u1" ]' "with curl's own username, as at the front ($(kv "$r" user))"
"$TG" -c "$CONF" rules add --app /usr/bin/curl --dest c.test --action deny >/dev/null 2>&1
gateway_mark
out=$(as_guard "${scurl[@]}" --socks5-hostname "$TG_GW4:$TG_GWP" https://c.test/ 2>&1)
like "$out" '\(2\)' "a denied name asked of the gateway's port directly gets reply 2: $out"
is "$(gateway_requests | grep -c "dst=c.test")" 0 "and the gateway never heard of c.test"
tg_stop TERM
