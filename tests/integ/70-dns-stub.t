#!/bin/bash
# tollgated's DNS stub, asked directly on its dns_listen port by the
# guarded user's dig: an allowed name gets an address from the fake range
# 198.18.0.0/15, the same one each time; AAAA and HTTPS get no data; a
# name a rule denies gets NXDOMAIN and an event; the PTR of a fake address
# gives its name back.  A connection to the fake address is judged by the
# name behind it (source fakeip) and reaches the real server, resolved by
# tollgated itself; a fake address with no name behind it is refused.

. "$(dirname "$0")/lib.sh"

plan 38
tg_setup
client_etc hosts "127.0.0.1 localhost
$TG_S4 a.test b.test"
TG=$TG_ROOT/build/tollgate
# The fake range is routed where the world is (a Whonix-Workstation's
# default route leads to the gateway): the packets never get there, the
# redirect takes them first, but without a route connect() fails at once.
ip -n "$TG_CNS" route add 198.18.0.0/15 via "$TG_S4"

dig1=(dig +time=5 +tries=1 -p 9053 @127.0.0.1)

CONF=$(tg_conf default_action=allow dns_upstream=none)
tg_start "$CONF"
ok $? "tollgated starts with its DNS stub on 127.0.0.1:9053"

# dns_status KEY...: those counters of `tollgate status --json`, on a line.
dns_status() {
	local k out=()
	for k in "$@"; do
		out+=("$("$TG" -c "$CONF" status --json | jq -r ".$k")")
	done
	echo "${out[*]}"
}
is "$(dns_status dns_answered dns_mappings)" "0 0" \
    "tollgate status: no query answered yet, no name mapped"

fake=$(as_guard "${dig1[@]}" +short a.test A)
like "$fake" '^198\.1[89]\.[0-9]+\.[0-9]+$' "dig a.test A gets a fake address ($fake)"
is "$(as_guard "${dig1[@]}" +short a.test A)" "$fake" "the same one when asked again"
other=$(as_guard "${dig1[@]}" +short b.test A)
ok '[ -n "$other" ] && [ "$other" != "$fake" ]' "b.test gets another ($other)"
is "$(dns_status dns_answered dns_mappings dns_denied)" "3 2 0" \
    "tollgate status --json: those 3 queries answered, 2 names mapped, none denied"
like "$("$TG" -c "$CONF" status)" \
    'DNS stub: +3 answered, 0 denied, 0 forwarded, 0 other; 2 names mapped' \
    "and so says tollgate status"

out=$(as_guard "${dig1[@]}" a.test AAAA)
like "$out" 'status: NOERROR' "AAAA: NOERROR"
like "$out" 'ANSWER: 0' "with no answer (no fake IPv6 range)"
out=$(as_guard "${dig1[@]}" a.test TYPE65)
like "$out" 'status: NOERROR.*' "HTTPS (type 65): NOERROR"
like "$out" 'ANSWER: 0' "with no answer: no ECH keys, the SNI stays visible"
out=$(as_guard "${dig1[@]}" a.test MX)
like "$out" 'status: NOTIMP' "MX: NOTIMP (dns_upstream = none: nothing is forwarded)"

# --- DNS sent elsewhere is answered here ---------------------------------------

is "$(as_guard dig +time=5 +tries=1 +short "@$TG_S4" a.test A)" "$fake" \
    "dig @$TG_S4 (port 53, UDP) is answered by the stub, not by $TG_S4"
is "$(as_guard dig +time=5 +tries=1 +tcp +short "@$TG_S4" a.test A)" "$fake" \
    "and over TCP too"
is "$(udp_count)" 0 "no UDP at all reached $TG_S4"

# --- over TCP ------------------------------------------------------------------

is "$(as_guard "${dig1[@]}" +tcp +short a.test A)" "$fake" \
    "over TCP a.test has the same fake address"
out=$(as_guard "${dig1[@]}" +tcp +keepopen a.test A b.test A 2>&1)
like "$out" "$other" "two queries on one TCP connection are both answered"
printf '\x00\x05hello' | as_guard socat -t 2 - TCP:127.0.0.1:9053 >/dev/null 2>&1
is "$(as_guard "${dig1[@]}" +tcp +short a.test A)" "$fake" \
    "after a TCP client whose length lies, the stub still answers over TCP"
is "$(as_guard "${dig1[@]}" +short b.test A)" "$other" "and over UDP"

rev=$(awk -F. '{print $4"."$3"."$2"."$1".in-addr.arpa"}' <<<"$fake")
is "$(as_guard "${dig1[@]}" +short "$rev" PTR)" "a.test." "the PTR of $fake is a.test"

# --- a connection to the fake address ------------------------------------

tg_mark
out=$(as_guard curl -sS --max-time 10 --resolve "a.test:80:$fake" http://a.test/ 2>&1)
ok $? "curl to a.test at its fake address $fake succeeds"
like "$out" "hello from tgs" "and gets the real server's page"
d=$(tg_decision name=a.test)
is "$(kv "$d" source)/$(kv "$d" dst)" "fakeip/$fake:80" \
    "judged by the name behind $fake (source fakeip)"
is "$(syn_count 80)" 1 "the real server saw the connection"

unmapped=198.19.255.200
out=$(as_guard curl -sS --max-time 10 "http://$unmapped/" 2>&1)
ok '[ $? -ne 0 ]' "a connection to $unmapped, a fake address never handed out, fails"
d=$(tg_decision dst="$unmapped:80")
is "$(kv "$d" verdict)/$(kv "$d" reason)" reject/fakeip-unmapped \
    "refused: fakeip-unmapped"

# --- a rule that denies a name ---------------------------------------------

"$TG" -c "$CONF" rules add --app /usr/bin/dig --dest c.test --proto dns --action deny >/dev/null
ok $? "a rule denies dig c.test over DNS"
out=$(as_guard "${dig1[@]}" c.test A)
like "$out" 'status: NXDOMAIN' "dig c.test: NXDOMAIN"
e=$(tg_event c.test 'r["verdict"] + "/" + r["proto"] + "/" + r["name_source"]')
is "$e" "deny/dns/dns" "an event: denied, proto dns, the name from the query"
out=$(as_guard "${dig1[@]}" a.test A)
like "$out" 'status: NOERROR' "other names are still answered"
is "$(dns_status dns_denied)" 1 "tollgate status counts the denied query"
out=$("$TG" -c "$CONF" events --proto dns --limit 0)
like "$out" 'c\.test' "tollgate events --proto dns lists the refusal of c.test"
unlike "$out" 'a\.test' "and not the TCP connection to a.test"
out=$("$TG" -c "$CONF" events --proto tcp --json --limit 0 |
    jq -r 'select(.name != null) | .name' | sort -u | paste -sd' ')
is "$out" "a.test" "--proto tcp --json: a.test, not c.test"
out=$("$TG" -c "$CONF" events --proto icmp 2>&1)
is "$?" 2 "--proto icmp: a usage error, exit 2"
is "$out" 'tollgate: events: --proto "icmp": expected tcp, udp or dns (see tollgate events --help)' \
    "in one line naming the value"

# --- bad input ---------------------------------------------------------------

printf '\x12\x34\x01\x00\x00\x01' | as_guard socat -t 2 - UDP:127.0.0.1:9053 >/dev/null 2>&1
as_guard "${dig1[@]}" +short a.test A >/dev/null
ok $? "after a truncated query, the stub still answers"

tg_stop
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
