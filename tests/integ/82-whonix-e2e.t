#!/bin/bash
# tollgate on a Whonix-Workstation, end to end: the workstation namespace
# holds tollgated configured for Whonix (SOCKS5 upstream the gateway's
# Tor at 10.152.152.10:9050, isolation by app, its SOCKS front on
# 127.0.0.1:9050 where Whonix's stacked-tor proxy was, the DNS stub) and,
# beside its table, a replay of whonix-firewall's workstation tables
# (whonixfw.sh), reloaded while traffic flows; the gateway runs a private
# Tor network (tornet.sh); the internet namespace the servers and the
# exits' DNS.
#
# Proved as the guarded user (docs/whonix-firewall.md tells the why):
# beside whonix-firewall's tables alone, guarded DNS redirected to the
# stub is rejected, a query to 127.0.0.1:53 is not, and moving tollgate's
# nat chain after whonix-firewall's filter chain does not help; with the
# drop-in contrib/whonix/firewall/50_tollgate.conf the stub answers
# while other UDP stays rejected for everyone.  Transparent curl (the
# stub's fake IP), curl --socks5-hostname 127.0.0.1:9050 and torsocks
# curl reach the server through Tor by name (the ControlPort's stream
# shows the name, the internet's DNS the exit asking for it); one app
# shares a circuit, a second app (a copy of curl elsewhere) gets
# another, and so does each Tor Browser-style username one app sends; a
# denied name never reaches the gateway; nothing reaches the internet
# but the exits' connections, also during whonix-firewall reloads, in
# its timesync-fail-closed mode and with tollgated SIGKILLed (TCP, UDP,
# DNS, the SOCKS front).  Last, what firewall_allow_udp=true would open.
# Not yet: the 9150 front and the unix sockets (per-front default routes
# are not in tollgated yet), install and --uninstall (contrib/whonix/'s
# own test).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tornet.sh"
. "$(dirname "$0")/whonixfw.sh"

tornet_need
plan 67
tg_setup

tornet_start
if ! ok $? "the private Tor network comes up within ${TORNET_BOUND} s"; then
	echo "Bail out! no private Tor network"
	exit 1
fi
diag "bring-up: $((TORNET_UP_MS / 1000)) s"
tornet_streams_start || { echo "Bail out! no STREAM events"; exit 1; }

DROPIN=$TG_ROOT/contrib/whonix/firewall/50_tollgate.conf
TG=$TG_ROOT/build/tollgate
GW=$TG_GW4
# A Whonix-Workstation's resolver is the gateway.
client_etc resolv.conf "nameserver $GW"
client_etc hosts "127.0.0.1 localhost"

# --- whonix-firewall beside tollgate ----------------------------------------------

whonixfw_load "$TG_CNS" "$GW"
ok $? "whonix-firewall's workstation tables load in the workstation"

chmod 711 "$TG_TMP" # the control socket's directory, for tollgate
CONF=$(tg_conf database="$TG_TMP/db/tollgate.db" \
    control_socket="$TG_TMP/run/control.sock" \
    upstream="socks5://$GW:9050" upstream.tb="socks5://$GW:9150" \
    isolation=app socks_listen=127.0.0.1:9050 default_action=allow)
tg_start "$CONF"
ok $? "tollgated starts beside them (upstream socks5://$GW:9050, front 127.0.0.1:9050)"
is "$(in_client nft list tables | sort | tr '\n' ' ')" \
    "table inet filter table inet nat table inet tollgate " \
    "the workstation holds whonix-firewall's tables and tollgate's"

dig1=(dig +time=3 +tries=1 +short)
# udp_send USER PORT: one datagram to the server's PORT; prints what
# sendto said ("sent" or the error).
udp_send() {
	as_user "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(b"x", (sys.argv[1], int(sys.argv[2]))); print("sent")
except OSError as e:
    print(e.strerror)' "$TG_S4" "$2"
}

rej0=$(whonixfw_counter "$TG_CNS" output 'ip protocol != tcp')
out=$(as_guard "${dig1[@]}" a.test A 2>&1)
unlike "$out" '^198\.1[89]\.' "without the drop-in, the guarded query to $GW:53 gets no answer"
ok '[ "$(whonixfw_counter "$TG_CNS" output "ip protocol != tcp")" -gt "$rej0" ]' \
    "whonix-firewall's UDP reject took it (redirected to the stub, it is no longer to $GW:53, and its oifname is not lo)"

like "$(as_guard "${dig1[@]}" @127.0.0.1 a.test A 2>&1)" '^198\.1[89]\.' \
    "a query to 127.0.0.1:53 is answered (it leaves on lo before the redirect)"

# tollgate's chains moved after whonix-firewall's (nat 10, filter 20):
# a nat chain's priority orders it among nat chains only, the NAT itself
# still runs at -100, before any filter chain.
orig=$(in_client nft list table inet tollgate)
moved=$(sed -E -e 's/(type nat hook output priority) [^;]+;/\1 10;/' \
    -e 's/(type filter hook output priority) [^;]+;/\1 20;/' <<<"$orig")
in_client nft -f - <<<"delete table inet tollgate
$moved"
ok '[ "$(in_client nft list table inet tollgate | grep -cE "hook output priority (filter \+ )?[12]0;")" = 2 ]' \
    "tollgate's table reloaded with its nat chain at 10 and its filter chain at 20"
out=$(as_guard "${dig1[@]}" a.test A 2>&1)
unlike "$out" '^198\.1[89]\.' "the query to $GW:53 is still rejected: the redirect came first"
in_client nft -f - <<<"delete table inet tollgate
$orig"
ok $? "tollgate's table put back as tollgated made it"

whonixfw_reload "$TG_CNS" "$GW" dropin="$DROPIN"
ok $? "whonix-firewall reloaded with contrib/whonix/firewall/50_tollgate.conf"
fake=$(as_guard "${dig1[@]}" a.test A 2>&1)
like "$fake" '^198\.1[89]\.[0-9]+\.[0-9]+$' "now the stub answers a.test with a fake address ($fake)"
ok '[ "$(whonixfw_counter "$TG_CNS" output "ct status dnat")" -gt 0 ]' \
    "through the drop-in's accept"
is "$(udp_send tgguard 9999)/$(udp_send tgother 9999)" \
    "Operation not permitted/Operation not permitted" \
    "other UDP is still refused, to the guarded user and to the other"
is "$(udp_count 9999)" 0 "and reached nothing"

# --- through Tor, by name ------------------------------------------------------------

tcurl=(curl -sS --max-time 20)
dns_queries() {
	grep -ci " ${1//./\\.}\. A IN\$" "$TORNET_DNS_LOG"
}

tornet_streams_mark
q=$(dns_queries a.test)
out=$(as_guard "${tcurl[@]}" http://a.test/ 2>&1)
is "$out" "hello from tgs" "transparent curl http://a.test/ gets the page"
s1=$(tornet_wait_stream target=a.test:80)
ok $? "the gateway's Tor got a stream to a.test:80, by name"
u1=$(kv "$s1" user)
c1=$(kv "$s1" circ)
ok '[ -n "$u1" ] && [ "$u1" != - ]' "with tollgate's username for curl ($u1)"
is "$(tornet_streams | grep -c -e "target=$TG_S4" -e 'target=198\.1[89]\.')" 0 \
    "no stream was asked for an address, real or fake"
ok '[ "$(dns_queries a.test)" -gt "$q" ]' "the exit asked the internet's DNS for a.test"

out=$(as_guard "${tcurl[@]}" http://b.test/ 2>&1)
is "$out" "hello from tgs" "curl http://b.test/ too"
s2=$(tornet_wait_stream target=b.test:80)
is "$(kv "$s2" user)/$(kv "$s2" circ)" "$u1/$c1" "same app: same username, same circuit ($c1)"

mkdir -p "$TG_TMP/bin" && cp /usr/bin/curl "$TG_TMP/bin/curl" &&
    chmod 755 "$TG_TMP/bin" "$TG_TMP/bin/curl"
out=$(as_guard "$TG_TMP/bin/curl" -sS --max-time 20 http://c.test/ 2>&1)
is "$out" "hello from tgs" "a copy of curl elsewhere (another app) gets http://c.test/"
s3=$(tornet_wait_stream target=c.test:80)
ok '[ "$(kv "$s3" user)" != "$u1" ] && [ "$(kv "$s3" circ)" != "$c1" ]' \
    "with another username ($(kv "$s3" user)) on another circuit ($(kv "$s3" circ))"

out=$(as_guard "${tcurl[@]}" --socks5-hostname 127.0.0.1:9050 http://y.b.test/ 2>&1)
is "$out" "hello from tgs" "curl --socks5-hostname 127.0.0.1:9050 http://y.b.test/ gets the page"
s4=$(tornet_wait_stream target=y.b.test:80)
ok $? "by name through Tor"
is "$(kv "$s4" user)/$(kv "$s4" circ)" "$u1/$c1" "as curl, on curl's circuit"

printf 'TorAddress 127.0.0.1\nTorPort 9050\n' >"$TG_TMP/torsocks.conf"
chmod 644 "$TG_TMP/torsocks.conf"
out=$(as_guard env TORSOCKS_CONF_FILE="$TG_TMP/torsocks.conf" torsocks \
    "${tcurl[@]}" http://d.test/ 2>&1)
is "$out" "hello from tgs" "torsocks curl http://d.test/ (TorPort 9050) gets the page"
s5=$(tornet_wait_stream target=d.test:80)
ok $? "by name through Tor"

# Tor Browser-style credentials (first-party domain, a nonce) from one
# app: tollgate's key combined with each, so each keeps its own circuit.
s5h=(--socks5-hostname 127.0.0.1:9050)
as_guard "${tcurl[@]}" "${s5h[@]}" --proxy-user "a.test:n1" http://a.test/ >/dev/null 2>&1
t1=$(tornet_streams target=a.test:80 | tail -n 1)
t1=$(tornet_wait_stream id="$(kv "$t1" id)")
as_guard "${tcurl[@]}" "${s5h[@]}" --proxy-user "b.test:n2" http://b.test/ >/dev/null 2>&1
t2=$(tornet_streams target=b.test:80 | tail -n 1)
t2=$(tornet_wait_stream id="$(kv "$t2" id)")
as_guard "${tcurl[@]}" "${s5h[@]}" --proxy-user "a.test:n1" http://c.test/ >/dev/null 2>&1
t3=$(tornet_streams target=c.test:80 | tail -n 1)
t3=$(tornet_wait_stream id="$(kv "$t3" id)")
ct1=$(kv "$t1" circ)
ok '[ -n "$ct1" ] && [ "$ct1" != "$c1" ] && [ "$(kv "$t2" circ)" != "$ct1" ] && [ "$(kv "$t2" circ)" != "$c1" ]' \
    "curl with usernames a.test:n1 and b.test:n2: two circuits ($ct1, $(kv "$t2" circ)), neither curl's own ($c1)"
is "$(kv "$t3" circ)" "$ct1" "a.test:n1 again (to c.test): its circuit again"

# --- a denied name --------------------------------------------------------------------

"$TG" -c "$CONF" rules add --app '*' --dest x.b.test --action deny >/dev/null 2>&1
ok $? "a rule denies x.b.test"
q=$(dns_queries x.b.test)
syn=$(gateway_syn 9050)
out=$(as_guard "${tcurl[@]}" http://x.b.test/ 2>&1)
nok $? "transparent curl http://x.b.test/ fails"
out=$(as_guard "${tcurl[@]}" --socks5-hostname 127.0.0.1:9050 http://x.b.test/ 2>&1)
nok $? "curl --socks5-hostname 127.0.0.1:9050 http://x.b.test/ fails"
is "$(tornet_streams | grep -c 'target=x\.b\.test')" 0 "Tor never got a stream to x.b.test"
is "$(gateway_syn 9050)/$(dns_queries x.b.test)" "$syn/$q" \
    "no connection to the gateway's SocksPort, no query at the internet's DNS"

# --- nothing but Tor ------------------------------------------------------------------

HTTP_LOG=$TG_TMP/srv/http.log
exits=$(sed 's/\./\\./g; s/ /|/g' <<<"$TORNET_EXIT4")
# from_exits: do all of the HTTP server's requests come from the exits?
from_exits() {
	! grep -Ev "^(::ffff:)?($exits) " "$HTTP_LOG" | grep -q .
}
ok from_exits "every request the HTTP server got came from an exit's address"
is "$(syn_count all)" "$(wc -l <"$HTTP_LOG")" \
    "and every connection that reached the internet was one of those"
is "$(gateway_stray)" 0 "nothing reached the gateway addressed to anything but it"
nok "$(as_other "${tcurl[@]}" --max-time 3 "http://$TG_S4/" >/dev/null 2>&1; echo $?)" \
    "the other user reaches no server directly (the gateway forwards nothing)"

# --- reloading whonix-firewall while curls run ----------------------------------------

loop() {
	local i n=0
	for i in $(seq 1 20); do
		as_guard curl -s --max-time 10 http://a.test/ 2>/dev/null |
		    grep -q "hello from tgs" && n=$((n + 1))
	done
	echo "$n" >"$TG_TMP/loop.out"
}
syn=$(syn_count all)
stray=$(gateway_stray)
: >"$TG_TMP/loop.out"
loop &
lpid=$!
fails=0
reloads=0
# As often as the loop lasts (bounded: 60 reloads).
while _tornet_alive "$lpid" && [ "$reloads" -lt 60 ]; do
	whonixfw_reload "$TG_CNS" "$GW" dropin="$DROPIN" || fails=$((fails + 1))
	reloads=$((reloads + 1))
	sleep 0.1
done
_tg_reap "$lpid" 150
diag "whonix-firewall reloaded $reloads times while the loop ran"
ok '[ "$reloads" -ge 3 ]' "whonix-firewall was reloaded while a loop of 20 curls ran ($reloads times)"
is "$fails" 0 "every reload succeeded"
n=$(cat "$TG_TMP/loop.out")
diag "the loop's curls that got the page: ${n:-?} of 20"
is "$n" 20 "every one of them got the page: a reload replaces the tables in one step"
ok tg_table_present "tollgate's table is still there"
ok from_exits "every request the HTTP server got still came from an exit"
is "$(syn_count all)" "$(wc -l <"$HTTP_LOG")" "no other connection reached the internet"
is "$(gateway_stray)" "$stray" "nothing stray reached the gateway"

# --- whonix-firewall before sdwdate's first success ---------------------------------
# timesync-fail-closed: only loopback (the SocksPorts there rejected
# first), the control port and sdwdate may go out.

whonixfw_reload "$TG_CNS" "$GW" firewall_mode=timesync-fail-closed dropin="$DROPIN"
ok $? "whonix-firewall reloaded in timesync-fail-closed mode, with the drop-in"
tornet_streams_mark
gsyn=$(gateway_syn 9050)
nok "$(as_guard "${tcurl[@]}" --max-time 5 http://a.test/ >/dev/null 2>&1; echo $?)" \
    "transparent curl fails (the redirected TCP's oifname is not lo)"
nok "$(as_guard "${tcurl[@]}" --max-time 5 --socks5-hostname 127.0.0.1:9050 \
    http://a.test/ >/dev/null 2>&1; echo $?)" \
    "curl --socks5-hostname 127.0.0.1:9050 fails (the port is rejected)"
is "$(as_guard "${dig1[@]}" a.test A 2>&1)" "$fake" \
    "the stub still answers a.test with its fake address (nothing leaves for it)"
is "$(gateway_syn 9050)/$(tornet_streams | wc -l)" "$gsyn/0" \
    "nothing reached the gateway's SocksPort, Tor opened no stream"
whonixfw_reload "$TG_CNS" "$GW" dropin="$DROPIN"
out=$(as_guard "${tcurl[@]}" http://a.test/ 2>&1)
is "$out" "hello from tgs" "back in full mode, curl http://a.test/ gets the page again"

# --- tollgated SIGKILLed ------------------------------------------------------------

tg_stop KILL
is "$TG_DEXIT" 137 "SIGKILL kills tollgated"
ok tg_table_present "tollgate's table stays"
tornet_streams_mark
syn=$(syn_count all)
gsyn=$(gateway_syn 9050)
stray=$(gateway_stray)
nok "$(as_guard "${tcurl[@]}" --max-time 5 http://a.test/ >/dev/null 2>&1; echo $?)" \
    "transparent curl by name fails"
nok "$(as_guard "${tcurl[@]}" --max-time 5 "http://$fake/" >/dev/null 2>&1; echo $?)" \
    "curl to a.test's fake address fails"
nok "$(as_guard "${tcurl[@]}" --max-time 5 "http://$TG_S4/" >/dev/null 2>&1; echo $?)" \
    "curl to the server's address fails"
nok "$(as_guard "${tcurl[@]}" --max-time 5 --socks5-hostname 127.0.0.1:9050 \
    http://a.test/ >/dev/null 2>&1; echo $?)" "curl --socks5-hostname 127.0.0.1:9050 fails"
out=$(as_guard "${dig1[@]}" a.test A 2>&1)
unlike "$out" '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' "DNS gets no answer"
is "$(udp_send tgguard 9999)" "Operation not permitted" "UDP is refused"
is "$(syn_count all)/$(udp_count 9999)" "$syn/0" "nothing new reached the internet"
is "$(gateway_syn 9050)/$(gateway_stray)" "$gsyn/$stray" "nor the gateway"
is "$(tornet_streams | wc -l)" 0 "and Tor opened no stream"

# --- what firewall_allow_udp=true would open --------------------------------------------
# The other arrangement that lets the redirected DNS through: it drops
# whonix-firewall's only UDP reject, for every user and destination.

whonixfw_reload "$TG_CNS" "$GW" firewall_allow_udp=true
ok $? "whonix-firewall reloaded with firewall_allow_udp=true (and no drop-in)"
stray=$(gateway_stray)
is "$(udp_send tgother 9999)" sent "the other user's UDP to $TG_S4:9999 is no longer refused"
ok '[ "$(gateway_stray)" -gt "$stray" ]' \
    "it leaves the workstation (the gateway got it; only its not forwarding stops it)"
