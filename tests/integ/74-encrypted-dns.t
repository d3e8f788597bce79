#!/bin/bash
# Encrypted DNS is DNS tollgate cannot see.  The guarded user's curl to
# https://dns.google/ (a well-known DNS-over-HTTPS resolver, from the
# shipped encrypted-dns.list, here served by the test's TLS server) and
# its socat to TCP port 853 (DNS over TLS) are flagged encrypted-dns on
# their events and, by default, judged like any other connection:
# default_action = allow lets them through.  With block_encrypted_dns =
# yes they are denied (reason encrypted-dns) and nothing reaches the
# server; other names still go, and a name the DNS stub handed a fake
# address for is refused too.  A list that cannot be read stops tollgated
# at start, naming the file.

. "$(dirname "$0")/lib.sh"

plan 22
tg_setup
TG=$TG_ROOT/build/tollgate
client_etc hosts "127.0.0.1 localhost
$TG_S4 a.test"
ip -n "$TG_CNS" route add 198.18.0.0/15 via "$TG_S4"

# DNS over TLS on the server side: an echo on 853.
tg_bg ip netns exec "$TG_SNS" socat -t 5 \
    TCP6-LISTEN:853,ipv6only=0,fork,reuseaddr EXEC:cat </dev/null \
    >"$TG_TMP/dot.log" 2>&1
_tg_wait_listen tcp 853

# doh: curl https://dns.google/ at the test's TLS server (its certificate
# is not dns.google's: -k); prints curl's exit status.
doh() {
	as_guard curl -sSk --max-time 10 --resolve "dns.google:443:$TG_S4" \
	    https://dns.google/ >/dev/null 2>&1
	echo $?
}

# dot: "ping" to $TG_S4:853 through socat; prints what came back.
dot() {
	echo ping | as_guard socat -t 3 -T 5 - "TCP:$TG_S4:853" 2>/dev/null
}

# event_by_port PORT EXPR: EXPR (jq) of the newest event to PORT, waiting
# for the event writer (5 s at most).
event_by_port() {
	local i out
	for ((i = 0; i < 50; i++)); do
		out=$("$TG" -c "$CONF" events --json --limit 0 2>/dev/null |
		    jq -r "select(.kind == \"decision\" and .dst_port == $1) | $2" |
		    tail -n 1)
		[ -n "$out" ] && { echo "$out"; return 0; }
		sleep 0.1
	done
	return 1
}

# --- flagged, and judged as usual ------------------------------------------

CONF=$(tg_conf default_action=allow)
tg_start "$CONF"
ok $? "tollgated starts with the shipped list of DoH resolvers"

is "$(doh)" 0 "curl https://dns.google/ goes through (default_action = allow)"
is "$(tg_event dns.google '" ".join([r["verdict"], r["name_source"]] + r["flags"])')" \
    "allow sni encrypted-dns" "its event: allowed, the name from the SNI, flagged encrypted-dns"
as_guard curl -sS --max-time 10 --cacert "$TG_CA" https://a.test/ >/dev/null 2>&1
ok $? "curl https://a.test/ goes through"
is "$(tg_event a.test '",".join(r["flags"]) or "none"')" none "and its event has no flag"

is "$(dot)" ping "socat to port 853 (DNS over TLS) gets its echo"
is "$(event_by_port 853 '"\(.verdict) \(.flags | join(","))"')" "allow encrypted-dns" \
    "its event: allowed, flagged encrypted-dns"
like "$("$TG" -c "$CONF" events --wide --limit 0)" \
    "dns\\.google .* encrypted-dns" "tollgate events --wide shows the flag"
tg_stop

# --- block_encrypted_dns = yes ---------------------------------------------

CONF=$(tg_conf default_action=allow block_encrypted_dns=yes \
    database="$TG_TMP/block.db")
tg_start "$CONF"
ok $? "tollgated starts with block_encrypted_dns = yes"

syn443=$(syn_count 443)
ok '[ "$(doh)" -ne 0 ]' "curl https://dns.google/ fails"
is "$(syn_count 443)" "$syn443" "and nothing reached the server"
d=$(tg_decision name=dns.google)
is "$(kv "$d" verdict)/$(kv "$d" reason)" deny/encrypted-dns "decision: deny, reason encrypted-dns"
is "$(tg_event dns.google '" ".join([r["verdict"], r["decider"]] + r["flags"])')" \
    "deny encrypted-dns encrypted-dns" "its event says so, and has the flag"

syn=$(syn_count all)
is "$(dot)" "" "socat to port 853 gets nothing back"
is "$(syn_count all)" "$syn" "and nothing reached the server"
is "$(event_by_port 853 '"\(.verdict) \(.decider)"')" "deny encrypted-dns" \
    "its event: denied, encrypted-dns"

as_guard curl -sS --max-time 10 --cacert "$TG_CA" https://a.test/ >/dev/null 2>&1
ok $? "other names still go: curl https://a.test/"

# The name behind a fake address counts as much as an SNI.
fake=$(as_guard dig +time=5 +tries=1 -p 9053 @127.0.0.1 +short dns.google A)
like "$fake" '^198\.1[89]\.' "the DNS stub hands dns.google a fake address ($fake)"
tg_mark
syn=$(syn_count all)
as_guard curl -sS --max-time 10 --resolve "dns.google:80:$fake" \
    http://dns.google/ >/dev/null 2>&1
ok '[ $? -ne 0 ] && [ "$(syn_count all)" = "$syn" ]' \
    "plain HTTP to dns.google at $fake is refused, nothing sent"
d=$(tg_decision name=dns.google)
is "$(kv "$d" source)/$(kv "$d" reason)" fakeip/encrypted-dns \
    "judged by the name behind the fake address: encrypted-dns"
tg_stop

# --- a list that cannot be read --------------------------------------------

tg_start "$(tg_conf encrypted_dns_list="$TG_TMP/no-such.list")" 2>/dev/null
nok $? "with encrypted_dns_list naming a missing file, tollgated does not start"
like "$(cat "$TG_LOG")" "encrypted_dns_list $TG_TMP/no-such\\.list: cannot open: No such file" \
    "and says which file"
