#!/bin/bash
# The fake-IP map survives a restart.  The guarded user's dig gets a fake
# address for a.test; `tollgate dns map` lists it from the database within
# seconds; tollgated restarts, and a connection to that address, made
# without asking again (a program that cached the answer), is judged as
# a.test and reaches the real server; the same names get the same
# addresses when asked again, a name asked for just before the stop too,
# and a new name gets an address of its own.

. "$(dirname "$0")/lib.sh"

plan 24
tg_setup
client_etc hosts "127.0.0.1 localhost
$TG_S4 a.test b.test c.test d.test"
TG=$TG_ROOT/build/tollgate
# As in 70-dns-stub: the fake range needs a route for connect() to try.
ip -n "$TG_CNS" route add 198.18.0.0/15 via "$TG_S4"

dig1=(dig +time=5 +tries=1 -p 9053 @127.0.0.1)

CONF=$(tg_conf default_action=allow)

out=$("$TG" -c "$CONF" dns map 2>&1)
is "$out" "no names mapped yet" "dns map before tollgated ever ran: nothing mapped"

tg_start "$CONF"
ok $? "tollgated starts"

fake=$(as_guard "${dig1[@]}" +short a.test A)
like "$fake" '^198\.1[89]\.[0-9]+\.[0-9]+$' "dig a.test gets a fake address ($fake)"
other=$(as_guard "${dig1[@]}" +short b.test A)
ok '[ -n "$other" ] && [ "$other" != "$fake" ]' "b.test gets another ($other)"

# Written within RULESVC_FAKEIP_FLUSH_S (2 s); allow far more.  b.test,
# asked last, may come a flush after a.test: wait for both.
_tg_wait_line "^b\.test +" 15 "$TG" -c "$CONF" dns map >/dev/null
line=$(_tg_wait_line "^a\.test +" 15 "$TG" -c "$CONF" dns map)
ok $? "tollgate dns map lists a.test while tollgated runs"
like "$line" "^a\.test +${fake//./\\.} " "with its fake address $fake"
map=$("$TG" -c "$CONF" dns map)
like "$(head -n 1 <<<"$map")" '^NAME +IPV4 +LAST USED$' \
    "columns NAME, IPV4, LAST USED (no IPv6 range, no IPV6 column)"
like "$(sed -n 2p <<<"$map")" '^b\.test ' "the most recently used first (b.test)"
json=$(_tg_wait_line '"name":"b.test"' 15 "$TG" -c "$CONF" dns map --json)
is "$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["ipv4"], r["ipv6"], type(r["last_used"]).__name__)' "$json")" \
    "$other None int" "--json: ipv4 $other, ipv6 null, last_used a number"

# Asked just before the stop: the shutdown writes what is queued.
late=$(as_guard "${dig1[@]}" +short d.test A)
like "$late" '^198\.1[89]\.' "d.test, asked just before the stop, gets $late"
tg_stop
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"

line=$("$TG" -c "$CONF" dns map | grep '^d\.test ')
like "$line" "^d\.test +${late//./\\.} " "dns map works with tollgated stopped, d.test included"

tg_start "$CONF"
ok $? "tollgated starts again"
line=$(grep -E 'fake IPs: [0-9]+ mappings put back' "$TG_LOG")
like "$line" 'fake IPs: 3 mappings put back' "it puts the 3 stored mappings back"

# --- a program that cached the answer connects without asking again -----

tg_mark
out=$(as_guard curl -sS --max-time 10 --resolve "a.test:80:$fake" http://a.test/ 2>&1)
ok $? "curl to $fake right after the restart, no new query, succeeds"
like "$out" "hello from tgs" "and gets the real server's page"
d=$(tg_decision source=fakeip)
is "$(kv "$d" name)/$(kv "$d" dst)" "a.test/$fake:80" \
    "judged as a.test, the name behind $fake (source fakeip)"
is "$(syn_count 80)" 1 "the real server saw the connection"

# --- the same names, the same addresses --------------------------------------

# Asked in another order than before: a map that started empty would
# hand out its addresses in the order asked.
is "$(as_guard "${dig1[@]}" +short d.test A)" "$late" "d.test gets $late again"
is "$(as_guard "${dig1[@]}" +short b.test A)" "$other" "b.test gets $other again"
is "$(as_guard "${dig1[@]}" +short a.test A)" "$fake" "a.test gets $fake again"
new=$(as_guard "${dig1[@]}" +short c.test A)
ok '[ -n "$new" ] && [ "$new" != "$fake" ] && [ "$new" != "$other" ] && [ "$new" != "$late" ]' \
    "a new name, c.test, gets an address of its own ($new)"
rev=$(awk -F. '{print $4"."$3"."$2"."$1".in-addr.arpa"}' <<<"$fake")
is "$(as_guard "${dig1[@]}" +short "$rev" PTR)" "a.test." "the PTR of $fake is still a.test"

tg_stop
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
