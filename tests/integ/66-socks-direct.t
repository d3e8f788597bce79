#!/bin/bash
# upstream = direct: a SOCKS client's name is resolved by tollgated itself
# (libevent's evdns, with the /etc/hosts and resolv.conf of the client
# namespace as they were when it started: `ip netns exec` mounts
# /etc/netns/NS/ over them) and the server is reached directly; the event
# says upstream direct.  A name that does not resolve gets SOCKS reply 4
# (host unreachable), and its close line the resolver's error.  torsocks,
# whose names come back as fake addresses, reaches the server the same
# way.

. "$(dirname "$0")/lib.sh"

plan 21
tg_setup
socks_setup

client_etc hosts "127.0.0.1 localhost
$TG_S4 direct.test a.test" &&
    client_etc resolv.conf "nameserver 127.0.0.1
options timeout:1 attempts:1" ||
    { echo "Bail out! cannot write /etc/netns/$TG_CNS"; exit 1; }
scurl=(curl -sS --max-time 10 --cacert "$TG_CA")

CONF=$(tg_conf default_action=allow database="$DB" control_socket="$SOCK" \
    socks_listen="$TG_SOCKS" upstream=direct)
tg_start "$CONF"
if ! ok $? "tollgated starts with a SOCKS front and upstream = direct"; then
	echo "Bail out! tollgated does not start"
	exit 1
fi

# --- a name in /etc/hosts -----------------------------------------------------------

syn=$(syn_count 80)
out=$(as_guard "${scurl[@]}" --socks5-hostname "$TG_SOCKS" http://direct.test/ 2>&1)
ok $? "curl --socks5-hostname $TG_SOCKS http://direct.test/ succeeds"
like "$out" "hello from tgs" "and gets the page"
is "$(syn_count 80)" $((syn + 1)) "the server saw one connection, straight from the client namespace"
d=$(tg_decision name=direct.test)
is "$(kv "$d" verdict)/$(kv "$d" source)" allow/socks "allowed, the name from the SOCKS request"
is "$(tg_event direct.test 'r["upstream"]')" direct "the event: upstream direct"
line=$(tg_close_line "$(kv "$d" conn)")
unlike "$(kv "$line" error)" '.' "its close line has no error: $line"

syn=$(syn_count 443)
out=$(as_guard "${scurl[@]}" --socks5-hostname "$TG_SOCKS" https://a.test/ 2>&1)
ok $? "curl --socks5-hostname https://a.test/ succeeds (TLS, a name of the certificate)"
like "$out" "s_server" "and gets the page"
is "$(syn_count 443)" $((syn + 1)) "the server saw one connection"

# --- a name that does not resolve ---------------------------------------------------

tg_mark
syn=$(syn_count all)
out=$(as_guard "${scurl[@]}" --socks5-hostname "$TG_SOCKS" http://nosuch.test/ 2>&1)
st=$?
is "$st" 97 "curl to nosuch.test, which resolves nowhere: the proxy refused (exit 97)"
like "$out" '\(4\)' "with reply 4, host unreachable: $out"
d=$(tg_decision name=nosuch.test)
is "$(kv "$d" verdict)" allow "tollgated had allowed it"
line=$(tg_close_line "$(kv "$d" conn)" 10)
like "$(kv "$line" error)" 'resolving nosuch\.test' \
    "its close line says the name did not resolve: $(kv "$line" error)"
is "$(syn_count all)" "$syn" "nothing reached the server"

# --- torsocks: a fake address, then the name, resolved here ---------------------------
# (This failed when written: tollgated judged the name behind the fake
# address, then connected to the fake address itself, "connect: Network
# is unreachable", instead of resolving the name.)

printf 'TorAddress 127.0.0.1\nTorPort 1080\n' >"$TG_TMP/torsocks.conf"
chmod 644 "$TG_TMP/torsocks.conf"
tg_mark
syn=$(syn_count 80)
out=$(as_guard env TORSOCKS_CONF_FILE="$TG_TMP/torsocks.conf" torsocks \
    "${scurl[@]}" http://direct.test/ 2>&1)
ok $? "torsocks curl http://direct.test/ succeeds"
like "$out" "hello from tgs" "and gets the page"
is "$(syn_count 80)" $((syn + 1)) "from the server, reached directly"
d=$(tg_decision name=direct.test)
is "$(kv "$d" source)" fakeip "the name came from the fake-IP map"
line=$(tg_close_line "$(kv "$d" conn)")
unlike "$(kv "$line" error)" '.' "its close line has no error: $line"

tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
