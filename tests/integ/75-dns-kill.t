#!/bin/bash
# With tollgated SIGKILLed, guarded DNS and UDP fail closed: the table
# stays, the guarded user's dig to the server's address, over UDP and TCP,
# IPv4 and IPv6, gets no answer, and neither it nor a datagram to another
# port reaches the server side at all (counted there).  An unguarded user's
# query still gets there, so the counters do count.  Once tollgated is
# started again, the stub answers again, with the fake address the name
# had before the kill.

. "$(dirname "$0")/lib.sh"

plan 21
tg_setup
TG=$TG_ROOT/build/tollgate

dig1=(dig +time=2 +tries=1)

# no_answer WHAT DIG-ARGS...: the guarded user's dig gets no answer
# (dig fails, prints no address) and nothing reaches the server side.
no_answer() {
	local what=$1 out st udp syn
	shift
	udp=$(udp_count all) syn=$(syn_count all)
	out=$(as_guard "${dig1[@]}" "$@" 2>&1)
	st=$?
	ok '[ "$st" != 0 ] && ! grep -q "ANSWER SECTION" <<<"$out"' \
	    "$what: dig fails, no answer (exit $st: $(grep -m 1 ';;.*\(refused\|timed out\|error\)' <<<"$out"))"
	is "$(udp_count all)/$(syn_count all)" "$udp/$syn" \
	    "$what: no datagram and no SYN reached the server side"
}

CONF=$(tg_conf default_action=allow keep_redirect_on_exit=yes)
tg_start "$CONF"
ok $? "tollgated starts (keep_redirect_on_exit = yes)"
fake=$(as_guard "${dig1[@]}" +short "@$TG_S4" a.test A)
like "$fake" '^198\.1[89]\.[0-9]+\.[0-9]+$' \
    "dig @$TG_S4 a.test is answered by the stub with a fake address ($fake)"
# Written to the database within seconds; the kill must not lose it.
_tg_wait_line "^a\.test +${fake//./\\.} " 15 "$TG" -c "$CONF" dns map >/dev/null
ok $? "tollgate dns map lists a.test at $fake"
is "$(udp_count all)" 0 "no UDP reached the server side so far"

tg_stop KILL
is "$TG_DEXIT" 137 "SIGKILL kills tollgated"
ok tg_table_present "table inet tollgate is still there"

no_answer "DNS over UDP to $TG_S4" "@$TG_S4" a.test A
no_answer "DNS over TCP to $TG_S4" +tcp "@$TG_S4" a.test A
no_answer "DNS over UDP to $TG_S6" "@$TG_S6" a.test A
no_answer "DNS over TCP to $TG_S6" +tcp "@$TG_S6" a.test A

udp=$(udp_count all)
for dst in "$TG_S4" "[$TG_S6]"; do
	as_guard socat -u - "UDP:$dst:9999" <<<"ping" >/dev/null 2>&1
	as_guard socat -u - "UDP:$dst:53" <<<"ping" >/dev/null 2>&1
done
is "$(udp_count all)" "$udp" \
    "plain datagrams to ports 9999 and 53 of $TG_S4 and $TG_S6 never arrive"

# The datagram is counted when the server's namespace has taken it in,
# which a loaded machine may do after dig has given up: waited for.  dig
# gets 5 s, its timer counting from before it has sent the query.
udp=$(udp_count 53)
out=$(as_other dig +time=5 +tries=1 "@$TG_S4" a.test A 2>&1)
for ((i = 0; i < 50 * TG_WAIT_SCALE; i++)); do
	[ "$(udp_count 53)" -gt "$udp" ] && break
	sleep 0.1
done
is "$(udp_count 53)" $((udp + 1)) "an unguarded user's query does reach $TG_S4" ||
    diag "dig as tgother printed: $out"

tg_start "$CONF"
ok $? "tollgated starts again"
udp=$(udp_count all)
is "$(as_guard "${dig1[@]}" +short "@$TG_S4" a.test A)" "$fake" \
    "the stub answers dig @$TG_S4 a.test again, with the same fake address"
is "$(as_guard "${dig1[@]}" +tcp +short "@$TG_S6" a.test A)" "$fake" \
    "and over TCP to $TG_S6"
is "$(udp_count all)" "$udp" "none of it reached the server side"

tg_stop
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
