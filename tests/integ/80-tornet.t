#!/bin/bash
# The private Tor network the Whonix tests stand on (tornet.sh), without
# tollgated: it comes up within its bound; the workstation's guarded user
# reaches a test server through the gateway's SocksPort by name, the
# exit resolving the name through the internet's DNS and connecting from
# its own address; the ControlPort's stream events show the name asked
# for, the SOCKS username and the circuit; two usernames get two
# circuits, one username one circuit, the Tor Browser port its own; the
# workstation reaches nothing but the gateway; tornet_stop leaves no tor.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tornet.sh"

tornet_need
plan 35
tg_setup

tornet_start
if ! ok $? "the private Tor network comes up within ${TORNET_BOUND} s"; then
	echo "Bail out! no private Tor network"
	exit 1
fi
diag "bring-up: $((TORNET_UP_MS / 1000)).$((TORNET_UP_MS % 1000 / 100)) s" \
    "(keys $((TORNET_T_KEYS / 1000)) s," \
    "consensus with every relay $((TORNET_T_CONSENSUS / 1000)) s," \
    "client bootstrapped $((TORNET_T_BOOT / 1000)) s)"
read -r mib cpu <<<"$(tornet_usage)"
diag "the 8 tors: $mib MiB resident, $cpu CPU-seconds so far"
tornet_streams_start
ok $? "a reader is subscribed to the ControlPort's STREAM events"
ok '! in_client nft list table inet tollgate' \
    "no tollgate table in the workstation namespace"

tcurl=(curl -sS --max-time 12)
# fetch [CURL-ARGS...] URL: tgguard's curl through the gateway's Tor.
fetch() {
	as_guard "${tcurl[@]}" "$@" 2>&1
}
# tfetch NAME [CURL-ARGS...] URL: fetch into $out; asked again, 2 s
# apart and 5 times at most, while Tor answers a general failure (SOCKS
# reply 1: each exit it tried ended the stream, REMOTE_REASON=MISC), the
# first time with what the client and the exits saw.  This private
# network's exits did so now and then (3 runs in about 25, for every
# stream of a few seconds: all of 3 tries at once failed); the cause is
# not found yet, and the isolation these tests check does not depend on
# one stream.
tfetch() {
	local name=$1 try
	shift
	for ((try = 1; try <= 5; try++)); do
		out=$(fetch "$@")
		case $out in *"SOCKS5 connection to $name. (1)"*) ;; *) return ;; esac
		diag "tornet: try $try: Tor answered $name with a general failure"
		[ "$try" = 1 ] && tornet_explain "$name"
		sleep 2
	done
}
# dns_queries NAME: queries for NAME the internet's DNS has logged (tor
# randomises the letters' case).
dns_queries() {
	grep -ci " ${1//./\\.}\. A IN\$" "$TORNET_DNS_LOG"
}

# --- by name, with a username ----------------------------------------------------

tornet_streams_mark
syn=$(syn_count 80)
dns=$(dns_queries a.test)
out=$(fetch --socks5-hostname "$TORNET_SOCKS" --proxy-user u1:p http://a.test/)
ok $? "tgguard: curl --socks5-hostname $TORNET_SOCKS --proxy-user u1:p http://a.test/"
is "$out" "hello from tgs" "gets the test server's page" ||
    tornet_explain a.test
s1=$(tornet_wait_stream target=a.test:80)
ok $? "a STREAM event names a.test:80, as asked"
is "$(kv "$s1" user)" u1 "with the SOCKS username u1"
is "$(tornet_streams target="$TG_S4:80" | wc -l)" 0 \
    "no stream asked for $TG_S4 (the workstation resolved nothing)"
c1=$(kv "$s1" circ)
path=$(tornet_circuit_path "$c1")
like "$path" '^[a-z0-9]+ [a-z0-9]+ exit[12]$' \
    "its circuit $c1 is three relays ending at an exit: $path"
exit=${path##* }
is "$(syn_count 80)" $((syn + 1)) "the server saw one connection"
like "$(tail -n 1 "$TG_TMP/srv/http.log")" "^(::ffff:)?$(tornet_exit_addr "$exit") " \
    "from $exit's address $(tornet_exit_addr "$exit"), not the gateway's $TG_C4"
ok '[ "$(dns_queries a.test)" -gt "$dns" ]' \
    "the exit resolved a.test through the internet's DNS"

out=$(fetch --cacert "$TG_CA" --socks5-hostname "$TORNET_SOCKS" \
    --proxy-user u1:p https://a.test/)
like "$out" "s_server" "and https://a.test/ gets the TLS server's page" ||
    tornet_explain a.test

# --- isolation by username -------------------------------------------------------

tfetch b.test --socks5-hostname "$TORNET_SOCKS" --proxy-user u2:p http://b.test/
is "$out" "hello from tgs" "the same with username u2, to b.test" ||
    tornet_explain b.test
s2=$(tornet_wait_stream target=b.test:80)
is "$(kv "$s2" user)" u2 "its stream carries u2"
c2=$(kv "$s2" circ)
ok '[ -n "$c2" ] && [ "$c2" != "$c1" ]' "on another circuit ($c2, u1's is $c1)"

tfetch c.test --socks5-hostname "$TORNET_SOCKS" --proxy-user u1:p http://c.test/
is "$out" "hello from tgs" "u1 again, to c.test" ||
    tornet_explain c.test
s3=$(tornet_wait_stream target=c.test:80)
is "$(kv "$s3" user)/$(kv "$s3" circ)" "u1/$c1" "on u1's circuit $c1 again"
is "$(tornet_circuit_of c.test u1)" "$c1" "tornet_circuit_of c.test u1 says so too"

tfetch x.b.test --socks5-hostname "u1:q@$TORNET_SOCKS" http://x.b.test/
is "$out" "hello from tgs" "u1 with another password, to x.b.test" ||
    tornet_explain x.b.test
s4=$(tornet_wait_stream target=x.b.test:80)
ok '[ -n "$(kv "$s4" circ)" ] && [ "$(kv "$s4" circ)" != "$c1" ]' \
    "on a circuit of its own ($(kv "$s4" circ)): the password isolates too"

tfetch y.b.test --socks5-hostname "$TORNET_SOCKS" http://y.b.test/
is "$out" "hello from tgs" "no username, to y.b.test" ||
    tornet_explain y.b.test
s5=$(tornet_wait_stream target=y.b.test:80)
c5=$(kv "$s5" circ)
is "$(kv "$s5" user)" - "its stream has no username"
ok '[ -n "$c5" ] && [ "$c5" != "$c1" ] && [ "$c5" != "$c2" ]' \
    "its circuit ($c5) is neither u1's nor u2's"

# --- the Tor Browser port ---------------------------------------------------------

tfetch a.test --socks5-hostname "$TORNET_SOCKS_TB" --proxy-user u1:p http://a.test/
is "$out" "hello from tgs" "u1 through $TORNET_SOCKS_TB (KeepAliveIsolateSOCKSAuth ExtendedErrors)"
s6=$(tornet_streams target=a.test:80 user=u1 | tail -n 1)
s6=$(tornet_wait_stream id="$(kv "$s6" id)")
ok '[ -n "$(kv "$s6" circ)" ] && [ "$(kv "$s6" circ)" != "$c1" ]' \
    "its own circuit ($(kv "$s6" circ)): a port does not share circuits with another"

# --- what the exit cannot resolve -------------------------------------------------

dns=$(dns_queries nosuch.test)
syn=$(syn_count all)
# Tor answers 1 (general failure) instead of 4 when the stream failed
# for another reason first (a circuit that broke or timed out on a busy
# machine, or the exits' general failures of tfetch): asked again then,
# 2 s apart, five times at most.
for ((try = 1; try <= 5; try++)); do
	out=$(fetch --socks5-hostname "$TORNET_SOCKS" --proxy-user u1:p http://nosuch.test/)
	rc=$?
	[[ $out == *"(1)"* ]] || break
	diag "try $try: Tor's reply 1, general failure: $out"
	[ "$try" = 1 ] && tornet_explain nosuch.test
	sleep 2
done
is "$rc" 97 "a name the internet's DNS does not know: curl fails, the proxy refused (97)"
like "$out" '\(4\)' "with Tor's reply 4, host unreachable: $out"
ok '[ "$(dns_queries nosuch.test)" -gt "$dns" ]' "after the exit asked the internet's DNS"
is "$(syn_count all)" "$syn" "and no connection reached the servers"

# --- the gateway is the only way --------------------------------------------------

syn=$(syn_count all)
out=$(fetch --connect-timeout 2 --max-time 3 "http://$TG_S4/")
nok $? "the workstation cannot reach the server at $TG_S4 directly"
is "$(syn_count all)" "$syn" "the server saw nothing of it"

# --- stopping -----------------------------------------------------------------------

pids=$(ip netns pids "$TG_GNS" | tr '\n' ' ')
tornet_stop
ok '[ -z "$(ip netns pids "$TG_GNS")" ]' \
    "tornet_stop leaves nothing running in the gateway namespace (was: $pids)"
left=
for p in $pids; do
	[ -e "/proc/$p" ] && left+=" $p"
done
is "$left" "" "every process it ran has exited"
nok "$(tornet_control "GETINFO version" >/dev/null 2>&1; echo $?)" \
    "the ControlPort is gone"
