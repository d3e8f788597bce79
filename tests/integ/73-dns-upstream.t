#!/bin/bash
# tollgated with a real recursive server as its dns_upstream: unbound on
# the server side ($TG_S4 port 53), serving the zone test. and logging
# every query.  The guarded user's resolv.conf names $TG_S4, as a
# machine's would; nftables hands its DNS to the stub.
#
# A name gets a fake address and unbound is never asked for it; curl to
# the name reaches the real server, judged by the name, at the address
# tollgated itself got from unbound.  A name a rule denies is NXDOMAIN
# and never reaches unbound.  MX and TXT are forwarded when allowed and
# come back as unbound answered them, over UDP and TCP; with
# default_action deny and no rule they are NOTIMP and never leave.  DNS
# sent to an explicit server is still the stub's.  With fake_ip6_range,
# AAAA gets a fake IPv6 address that curl -6 reaches the server through,
# and that the name keeps across a restart.  An upstream that only echoes
# the query back gets the client SERVFAIL after the forwarder's timeout.

. "$(dirname "$0")/lib.sh"

plan 55
tg_setup
# TXT strings of 200 letters: 3 for big.test (more than 512 bytes), 8 for
# bigger.test (more than the 1232 that goes over UDP).
txt() {
	local c
	for c in "$@"; do
		printf ' "%s"' "$(printf "$c%.0s" {1..200})"
	done
}
if ! unbound_start "big.test. 60 IN TXT$(txt x y z)" \
    "bigger.test. 60 IN TXT$(txt a b c d e f g h)"; then
	echo "Bail out! cannot start unbound"
	exit 1
fi
client_etc hosts "127.0.0.1 localhost"
client_etc resolv.conf "nameserver $TG_S4"
TG=$TG_ROOT/build/tollgate
FAKE6=fd74:6767::
# As in 70-dns-stub: the fake ranges need a route for connect() to try.
ip -n "$TG_CNS" route add 198.18.0.0/15 via "$TG_S4"
ip -n "$TG_CNS" -6 route add "$FAKE6/64" via "$TG_S6"

dig1=(dig +time=5 +tries=1)

CONF=$(tg_conf default_action=allow dns_upstream="$TG_S4" \
    fake_ip6_range="$FAKE6/64")
tg_start "$CONF"
ok $? "tollgated starts with dns_upstream = $TG_S4"
like "$(grep 'dns: queries' "$TG_LOG")" "go to $TG_S4:53\$" \
    "it says it forwards to $TG_S4:53"

# --- an allowed name: a fake address, the real server --------------------------

fake=$(as_guard "${dig1[@]}" +short a.test A)
like "$fake" '^198\.1[89]\.[0-9]+\.[0-9]+$' "dig a.test gets a fake address ($fake)"
is "$(unbound_queries a.test)" "" "unbound was not asked: a fake address leaks nothing"

tg_mark
out=$(as_guard curl -4 -sS --max-time 10 http://a.test/ 2>&1)
like "$out" "hello from tgs" "curl -4 http://a.test/ gets the real server's page"
d=$(tg_decision name=a.test)
is "$(kv "$d" source)/$(kv "$d" dst)" "fakeip/$fake:80" \
    "judged as a.test, the name behind $fake (source fakeip)"
line=$(tg_wait_log 'resolved a\.test to ')
like "$line" "resolved a\\.test to (192\\.0\\.2\\.2|\\[2001:db8::2\\]):80" \
    "connected to the address unbound gave tollgated for a.test"
q=$(unbound_wait_query a.test "")
like "$q" "^a\\.test (A|AAAA) $TG_C4\$" "unbound got tollgated's own lookup of a.test ($q)"
is "$(syn_count 80)" 1 "the real server saw the connection"
# Its event row: the name from the fake address, and, once it ended, the
# address it really went to in place of the fake one.
for ((i = 0; i < 100; i++)); do
	row=$("$TG" -c "$CONF" events --domain a.test --json --limit 1 |
	    jq -r 'select(.bytes_down != null) | "\(.name_source) \(.dst_ip)"')
	[ -n "$row" ] && break
	sleep 0.1
done
like "$row" '^fakeip (192\.0\.2\.2|2001:db8::2)$' \
    "the event shows source fakeip and the real address ($row)"

# --- a denied name never reaches unbound -----------------------------------------

"$TG" -c "$CONF" rules add --app /usr/bin/dig --dest c.test --proto dns --action deny >/dev/null
ok $? "a rule denies dig c.test over DNS"
like "$(as_guard "${dig1[@]}" c.test A)" 'status: NXDOMAIN' "dig c.test A: NXDOMAIN"
like "$(as_guard "${dig1[@]}" c.test MX)" 'status: NXDOMAIN' "dig c.test MX: NXDOMAIN too"
is "$(tg_event c.test 'r["verdict"] + "/" + r["proto"] + "/" + r["decider"]')" \
    "deny/dns/rule" "an event: denied by the rule, proto dns"
is "$(unbound_queries c.test)" "" "unbound never saw c.test"

# --- MX and TXT go to unbound --------------------------------------------------------

unbound_mark
is "$(as_guard "${dig1[@]}" +short b.test MX)" "10 mx.b.test." \
    "dig b.test MX: unbound's MX, forwarded (default_action allow)"
is "$(unbound_queries b.test MX)" "b.test MX $TG_C4" \
    "unbound got the query once, from tollgated's side"
e=$(tg_event b.test 'r["verdict"] + "/" + r["proto"] + "/" + r["decider"] + "/" + r["dst_ip"]')
is "$e" "allow/dns/default/$TG_S4" "an event: allowed, proto dns, sent to $TG_S4"
is "$(as_guard "${dig1[@]}" +short b.test TXT)" '"tollgate b.test"' \
    "dig b.test TXT: unbound's TXT"
is "$(as_guard "${dig1[@]}" +tcp +short b.test TXT)" '"tollgate b.test"' \
    "over TCP too"
out=$(as_guard "${dig1[@]}" nosuch.test MX)
like "$out" 'status: NXDOMAIN' "a name unbound does not know: its NXDOMAIN"
out=$(as_guard "${dig1[@]}" +bufsize=512 big.test TXT 2>&1)
like "$out" 'Truncated, retrying in TCP mode' \
    "an answer too long for the client comes truncated over UDP"
like "$out" 'zzzzzzzzzz"' "and whole over TCP, which dig asks again on"
out=$(as_guard "${dig1[@]}" +tcp bigger.test TXT 2>&1)
like "$out" 'hhhhhhhhhh"' \
    "over TCP an answer too long for any UDP comes whole (asked again over TCP upstream)"
is "$(unbound_queries bigger.test TXT | awk '{print $2}' | tr '\n' ' ')" "TXT TXT " \
    "unbound was asked twice: over UDP, then over TCP"

# --- DNS to an explicit server is the stub's --------------------------------------

unbound_mark
d4=$(as_guard "${dig1[@]}" +short "@$TG_S4" d.test A)
like "$d4" '^198\.1[89]\.' "dig @$TG_S4 d.test (port 53): the stub's fake address"
is "$(as_guard "${dig1[@]}" +short "@$TG_S6" d.test A)" "$d4" \
    "dig @$TG_S6: the same"
is "$(unbound_queries)" "" "unbound saw nothing of either"

# --- AAAA: a fake IPv6 address -----------------------------------------------------

fake6=$(as_guard "${dig1[@]}" +short a.test AAAA)
like "$fake6" "^${FAKE6}[0-9a-f:]+\$" "dig a.test AAAA gets a fake IPv6 address ($fake6)"
is "$(as_guard "${dig1[@]}" +short a.test AAAA)" "$fake6" "the same one when asked again"
is "$(as_guard "${dig1[@]}" +short -x "$fake6")" "a.test." "its PTR is a.test"
is "$(unbound_queries a.test)" "" "unbound was not asked"
tg_mark
out=$(as_guard curl -6 -sS --max-time 10 http://a.test/ 2>&1)
like "$out" "hello from tgs" "curl -6 http://a.test/ gets the real server's page"
d=$(tg_decision name=a.test)
is "$(kv "$d" source)/$(kv "$d" dst)" "fakeip/[$fake6]:80" \
    "judged as a.test, the name behind $fake6"
ok 'tg_wait_log "resolved a\\.test to "' "and sent to the address unbound gave"

# --- the mapping survives a restart -------------------------------------------------

tg_stop
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
tg_start "$CONF"
ok $? "tollgated starts again"
tg_mark
out=$(as_guard curl -6 -sS --max-time 10 --resolve "a.test:80:[$fake6]" http://a.test/ 2>&1)
like "$out" "hello from tgs" "curl to $fake6 without asking again reaches the server"
d=$(tg_decision source=fakeip)
is "$(kv "$d" name)" a.test "judged as a.test, the name still behind $fake6"
is "$(as_guard "${dig1[@]}" +short a.test AAAA)" "$fake6" "a.test keeps $fake6"
is "$(as_guard "${dig1[@]}" +short a.test A)" "$fake" "and $fake"

# --- default_action deny: nothing is forwarded without a rule ----------------------

tg_stop
CONF=$(tg_conf default_action=deny dns_upstream="$TG_S4")
tg_start "$CONF"
ok $? "tollgated starts with default_action deny"
unbound_mark
out=$(as_guard "${dig1[@]}" d.test MX)
like "$out" 'status: NOTIMP' "dig d.test MX with no rule: NOTIMP"
is "$(tg_event d.test 'r["verdict"] + "/" + r["decider"]')" "deny/default" \
    "an event: not forwarded, by default_action"
like "$(as_guard "${dig1[@]}" d.test TXT)" 'status: NOTIMP' "TXT too"
like "$(as_guard "${dig1[@]}" +short d.test A)" '^198\.1[89]\.' \
    "while A still gets a fake address"
is "$(unbound_queries d.test)" "" "unbound never saw d.test"

"$TG" -c "$CONF" rules add --app /usr/bin/dig --dest d.test --proto dns --action allow >/dev/null
ok $? "a rule allows dig d.test over DNS"
is "$(as_guard "${dig1[@]}" +short d.test MX)" "10 mx.d.test." "now dig d.test MX is forwarded"
is "$(unbound_queries d.test)" "d.test MX $TG_C4" "and unbound saw it"

# --- an upstream that never answers -----------------------------------------------

# UDP port 9999 of the server side echoes each datagram back: the query
# itself returns, from the right address and with the right id, but it is
# no answer.
tg_stop
CONF=$(tg_conf default_action=allow dns_upstream="$TG_S4:9999")
tg_start "$CONF"
ok $? "tollgated starts with dns_upstream = $TG_S4:9999, an echo"
udp=$(udp_count 9999)
out=$(as_guard dig +time=12 +tries=1 d.test MX)
like "$out" 'status: SERVFAIL' "dig d.test MX: SERVFAIL, its query echoed back taken for no answer"
ok '[ "$(udp_count 9999)" -gt "$udp" ]' "the query did reach $TG_S4:9999"
like "$(tg_wait_log 'unanswered by')" "d\\.test \\(type 15\\) unanswered by $TG_S4:9999 after 5000 ms" \
    "tollgated says it gave up after 5 s"

tg_stop
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
