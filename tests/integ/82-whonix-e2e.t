#!/bin/bash
# tollgate on a Whonix-Workstation, end to end: the workstation namespace
# holds tollgated with the configuration a Whonix install gets
# (contrib/whonix/tollgate.conf: SOCKS5 upstream the gateway's Tor at
# 10.152.152.10:9050 and its other SocksPorts, isolation by app, the SOCKS
# fronts where Whonix's stacked-tor proxies were, the DNS stub) and,
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
# DNS, the SOCKS fronts and both unix sockets).  Last, what
# firewall_allow_udp=true would open.
#
# The fronts are those of a Whonix install: 127.0.0.1:9050 and the unix
# sockets 127.0.0.1_9050.sock and socks (standing for
# /run/anon-ws-disable-stacked-tor/ and /run/tor/, here a directory
# under the test's own) go to the gateway's 9050; 127.0.0.1:9150 and
# 127.0.0.1_9150.sock, socks_listen.tb, to its 9150 (upstream.tb).  A
# client of each, by name through Tor: which SocksPort tollgated used
# is read from a counter of _tollgate's SYNs to each (table inet
# tgcount) and from its event's upstream; a unix socket's client is a
# socat, run as the guarded user, relaying a local port for curl (curl
# speaks SOCKS over TCP only), so the app tollgated sees there is
# socat.  The 9150 front's streams are on another circuit than the
# 9050 front's for the same app (Tor never puts streams of two
# SocksPorts on one circuit: each has its own session group); a rule's
# --via upstream wins over the front's route; Tor Browser-style
# username/password pairs on the 9150 front keep their own circuits.
# sdwdate (a user standing for it, guarded as the install guards it)
# speaks SOCKS to the gateway's 9108 itself: before the first time sync
# (timesync-fail-closed) tollgated serves it as at a SOCKS front, judges
# the name, and carries it on to 9108 by name (the drop-in lets
# _tollgate reach that port only); a name its rules deny gets reply 2;
# the desktop user's own request to 9108 stays refused.
# Not here: install and --uninstall (contrib/whonix/'s own test).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tornet.sh"
. "$(dirname "$0")/whonixfw.sh"

tornet_need
plan 118
tg_setup

# More names than lib.sh's, so that each check below has a name of its
# own (d.test stays last: tornet_start's probe fetches it).
TORNET_NAMES="a.test b.test c.test x.b.test y.b.test e.test f.test g.test h.test i.test d.test"
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
# RUN stands for /run/anon-ws-disable-stacked-tor (and /run/tor): the
# guarded user may enter it, tollgated (root, then _tollgate) write to it.
RUN=$TG_TMP/wsrun
if ! { mkdir -p "$RUN" && chown _tollgate "$RUN" && chmod 755 "$RUN"; }; then
	echo "Bail out! cannot make $RUN"
	exit 1
fi
# The configuration a Whonix install gets (contrib/whonix/tollgate.conf,
# its gateway filled in as the install does), with the test's paths for
# /run, the guarded user, and its own database and control socket; no
# prompt agent runs, so default_action = allow stands for the answers.
CONF=$TG_TMP/whonix.conf
# SDW stands for the sdwdate user, guarded as well.
SDW=tgsdw
_tg_user "$SDW" --system --user-group --no-create-home ||
    { echo "Bail out! cannot make the user $SDW"; exit 1; }
sed -e "s|socks5://GATEWAY:|socks5://$GW:|" \
    -e "s|unix:/run/anon-ws-disable-stacked-tor/|unix:$RUN/|g" \
    -e "s|unix:/run/tor/socks:|unix:$RUN/socks:|" \
    -e "s|^guard_users = user, sdwdate\$|guard_users = $TG_GUARD, $SDW|" \
    -e "s|^default_action = deny\$|default_action = allow|" \
    -e "s|@BINDIR@|$TG_ROOT/build|g" \
    "$TG_ROOT/contrib/whonix/tollgate.conf" >"$CONF" &&
    cat >>"$CONF" <<EOF &&
# the test's own
database = $TG_TMP/db/tollgate.db
control_socket = $TG_TMP/run/control.sock
log_level = info
EOF
    chmod 644 "$CONF"
ok '! grep -v "^#" "$CONF" | grep -q -e /run/anon -e /run/tor/ -e GATEWAY -e @BINDIR@' \
    "contrib/whonix/tollgate.conf with the test's paths, user and gateway"
tg_start "$CONF"
ok $? "tollgated starts beside them with it (upstream socks5://$GW:9050, upstream.tb :9150, Whonix's fronts)"
is "$(in_client nft list tables | sort | tr '\n' ' ')" \
    "table inet filter table inet nat table inet tollgate " \
    "the workstation holds whonix-firewall's tables and tollgate's"
is "$(find "$RUN" -type s -perm -0666 -printf '%f\n' | sort | tr '\n' ' ')" \
    "127.0.0.1_9050.sock 127.0.0.1_9150.sock ::1_9050.sock ::1_9150.sock socks " \
    "the five unix sockets are there, mode 0666"

# Which of the gateway's SocksPorts tollgated connects to: its user's
# SYNs to each, counted before anything else sees them.
in_client nft -f - <<EOF
table inet tgcount {
	counter up9050 { }
	counter up9150 { }
	counter up9108 { }
	chain out {
		type filter hook output priority -300; policy accept;
		meta skuid _tollgate ip daddr $GW tcp dport 9050 tcp flags & (syn | ack) == syn counter name up9050
		meta skuid _tollgate ip daddr $GW tcp dport 9150 tcp flags & (syn | ack) == syn counter name up9150
		meta skuid _tollgate ip daddr $GW tcp dport 9108 tcp flags & (syn | ack) == syn counter name up9108
	}
}
EOF
ok $? "a table counting _tollgate's connections to the gateway's 9050, 9150 and 9108"
# up_count PORT: the connections counted to PORT.
up_count() {
	in_client nft list counter inet tgcount "up$1" |
	    sed -n 's/.*packets \([0-9]*\).*/\1/p'
}
# via_mark, via: the connections to each SocksPort since via_mark, as
# "9050+N 9150+M".
via_mark() {
	V9050=$(up_count 9050)
	V9150=$(up_count 9150)
}
via() {
	echo "9050+$(($(up_count 9050) - V9050)) 9150+$(($(up_count 9150) - V9150))"
}

dig1=(dig +time=3 +tries=1 +short)
# sdw_get USER NAME: as sdwdate fetches its time, a python3 SOCKS5
# client asking the gateway's 9108 for NAME:80 by name; prints the page's
# first line, "reply N" for a SOCKS refusal, or the socket's error.
PY=$(readlink -f /usr/bin/python3)
sdw_get() {
	as_user "$1" /usr/bin/python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], 9108), timeout=10)
    s.sendall(b"\x05\x01\x00")
    if s.recv(2) != b"\x05\x00":
        sys.exit("no SOCKS5 greeting")
    n = sys.argv[2].encode()
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(n)]) + n + b"\x00\x50")
    r = s.recv(10)
    if len(r) < 2 or r[1] != 0:
        print("reply %d" % (r[1] if len(r) > 1 else -1)); sys.exit(0)
    s.sendall(b"GET / HTTP/1.0\r\nHost: " + n + b"\r\n\r\n")
    data = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        data += b
    print(data.split(b"\r\n\r\n", 1)[-1].decode().strip())
except OSError as e:
    print(e.strerror or str(e))' "$GW" "$2"
}
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

# --- the 9150 front and the unix sockets ---------------------------------------------

# relay PORT SOCKET: a socat, as the guarded user, relaying
# 127.0.0.1:PORT to the unix SOCKET (stopped at exit).
relay() {
	local i
	TG_T=900 tg_bg as_guard socat "TCP-LISTEN:$1,bind=127.0.0.1,reuseaddr,fork" \
	    "UNIX-CONNECT:$2" 2>>"$TG_TMP/relay.err"
	for ((i = 0; i < 100; i++)); do
		in_client ss -ltnH "sport = :$1" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}
# fetch NAME CURL-ARGS...: as the guarded user, curl http://NAME/ with
# CURL-ARGS after a new mark of streams and routes; OUT is what it
# printed.
fetch() {
	local name=$1
	shift
	tornet_streams_mark
	via_mark
	OUT=$(as_guard "${tcurl[@]}" "$@" "http://$name/" 2>&1)
}

# Both fronts, curl, one name: one circuit each.
fetch e.test --socks5-hostname 127.0.0.1:9050
out=$OUT
is "$out" "hello from tgs" "curl --socks5-hostname 127.0.0.1:9050 http://e.test/ gets the page"
s=$(tornet_wait_stream target=e.test:80)
ce50=$(kv "$s" circ)
is "$(via)" "9050+1 9150+0" "through the gateway's 9050"
fetch e.test --socks5-hostname 127.0.0.1:9150
out=$OUT
is "$out" "hello from tgs" "curl --socks5-hostname 127.0.0.1:9150 http://e.test/ gets the page"
s=$(tornet_wait_stream target=e.test:80)
ok $? "by name through Tor"
is "$(via)" "9050+0 9150+1" "through the gateway's 9150, not its 9050"
is "$(tg_event e.test 'r["upstream"]')" tb "its event names the route: tb"
ce150=$(kv "$s" circ)
# tollgated sends curl's one username to both SocksPorts: what keeps
# them apart is Tor's session group per SocksPort.
ok '[ "$(kv "$s" user)" = "$u1" ] && [ -n "$ce50" ] && [ -n "$ce150" ] && [ "$ce150" != "$ce50" ]' \
    "same app, same username ($u1), other front: another circuit ($ce50 on 9050, $ce150 on 9150)"
fetch f.test --socks5-hostname 127.0.0.1:9150
out=$OUT
s=$(tornet_wait_stream target=f.test:80)
is "$out/$(kv "$s" circ)" "hello from tgs/$ce150" \
    "curl again on the 9150 front (http://f.test/): its 9150 circuit again"

# The unix sockets, through socat.
relay 19150 "$RUN/127.0.0.1_9150.sock"
ok $? "a socat as the guarded user relays 127.0.0.1:19150 to 127.0.0.1_9150.sock"
relay 19050 "$RUN/127.0.0.1_9050.sock"
ok $? "another relays 127.0.0.1:19050 to 127.0.0.1_9050.sock"
relay 19051 "$RUN/socks"
ok $? "another relays 127.0.0.1:19051 to socks (/run/tor/socks)"

fetch g.test --socks5-hostname 127.0.0.1:19150
out=$OUT
is "$out" "hello from tgs" "a client of 127.0.0.1_9150.sock gets http://g.test/"
s=$(tornet_wait_stream target=g.test:80)
ok $? "by name through Tor"
is "$(via)" "9050+0 9150+1" "through the gateway's 9150"
is "$(tg_event g.test 'r["upstream"] + " " + r["app"]')" "tb socat" \
    "its event: route tb, app socat (the socket's other end)"
cg=$(kv "$s" circ)
ok '[ -n "$cg" ] && [ "$cg" != "$ce150" ] && [ "$cg" != "$ce50" ]' \
    "socat is another app: another circuit ($cg)"

fetch h.test --socks5-hostname 127.0.0.1:19050
out=$OUT
is "$out" "hello from tgs" "a client of 127.0.0.1_9050.sock gets http://h.test/"
s=$(tornet_wait_stream target=h.test:80)
ok $? "by name through Tor"
is "$(via)" "9050+1 9150+0" "through the gateway's 9050"
is "$(tg_event h.test 'r["upstream"] + " " + r["app"]')" "upstream socat" \
    "its event: route upstream, app socat"
ch=$(kv "$s" circ)
ok '[ -n "$ch" ] && [ "$ch" != "$cg" ] && [ "$ch" != "$ce50" ]' \
    "socat on the 9050 socket: neither its 9150 circuit nor curl's 9050 one ($ch; $cg, $ce50)"

fetch y.b.test --socks5-hostname 127.0.0.1:19051
out=$OUT
is "$out" "hello from tgs" "a client of socks (/run/tor/socks) gets http://y.b.test/"
s=$(tornet_wait_stream target=y.b.test:80)
ok $? "by name through Tor"
is "$(via)" "9050+1 9150+0" "through the gateway's 9050"

# A rule's route wins over the front's.
"$TG" -c "$CONF" rules add --app /usr/bin/curl --dest i.test --action allow \
    --via upstream >/dev/null 2>&1
ok $? "a rule allows curl to i.test --via upstream"
fetch i.test --socks5-hostname 127.0.0.1:9150
out=$OUT
is "$out" "hello from tgs" "curl --socks5-hostname 127.0.0.1:9150 http://i.test/ gets the page"
s=$(tornet_wait_stream target=i.test:80)
ok $? "by name through Tor"
is "$(via)" "9050+1 9150+0" "through the gateway's 9050: the rule's route won over the front's"
is "$(tg_event i.test 'r["upstream"]')" upstream "its event names the route: upstream"

# Tor Browser on the 9150 front: username "<first-party domain>:<container>",
# a nonce for password (in the proxy URL: curl's --proxy-user would cut
# the username at its colon).
# tb NAME USER:PASSWORD: S is the stream to NAME.
tb() {
	fetch "$1" -x "socks5h://$2@127.0.0.1:9150"
	S=$(tornet_wait_stream target="$1:80")
}
tb a.test 'a.test%3A1:n1'
ok $? "a Tor Browser-style client (a.test:1, n1) on the 9150 front gets through to a.test"
ta=$(kv "$S" circ)
is "$(via)" "9050+0 9150+1" "through the gateway's 9150"
tb b.test 'b.test%3A1:n2'
ok $? "(b.test:1, n2) gets through to b.test"
tb2=$(kv "$S" circ)
ok '[ -n "$ta" ] && [ -n "$tb2" ] && [ "$ta" != "$tb2" ] && [ "$ta" != "$ce150" ] && [ "$tb2" != "$ce150" ]' \
    "two circuits ($ta, $tb2), neither curl's own on 9150 ($ce150)"
tb c.test 'a.test%3A1:n1'
s=$S
is "$(kv "$s" circ)" "$ta" "(a.test:1, n1) again, to c.test: its circuit again"

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

whonixfw_reload "$TG_CNS" "$GW" firewall_mode=timesync-fail-closed \
    sdwdate_user="$SDW" dropin="$DROPIN"
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
# sdwdate is guarded: its SOCKS connection to the gateway's 9108 comes to
# tollgated, which judges the name in it and carries it on to 9108 as
# _tollgate, which only the drop-in lets out in this mode.
n9108=$(up_count 9108)
tg_mark
is "$(sdw_get "$SDW" a.test)" "hello from tgs" \
    "sdwdate's SOCKS request for a.test to $GW:9108 gets the page before the first time sync"
d=$(tg_decision name=a.test user="$SDW")
ok $? "tollgated judged it, by name, as sdwdate's"
is "$(kv "$d" source)/$(kv "$d" exe)" "socks/$PY" "read from its SOCKS request, its program python3"
is "$(($(up_count 9108) - n9108))" 1 "tollgated carried it to the gateway's 9108"
r=$(tornet_wait_stream target=a.test:80)
ok $? "and Tor's stream asks for a.test by name: $r"
"$TG" -c "$CONF" rules add --app "$PY" --uid "$(id -u "$SDW")" --dest b.test \
    --action deny >/dev/null 2>&1
is "$(sdw_get "$SDW" b.test)" "reply 2" "a name its rules deny gets SOCKS reply 2"
is "$(tornet_streams target=b.test:80 | wc -l)" 0 "and never reaches Tor"
like "$(sdw_get tgguard c.test)" "refused|unreachable|not permitted|timed out" \
    "the desktop user's own request to 9108 is still refused by whonix-firewall"
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
via_mark
nok "$(as_guard "${tcurl[@]}" --max-time 5 --socks5-hostname 127.0.0.1:9150 \
    http://a.test/ >/dev/null 2>&1; echo $?)" "curl --socks5-hostname 127.0.0.1:9150 fails"
nok "$(as_guard "${tcurl[@]}" --max-time 5 --socks5-hostname 127.0.0.1:19150 \
    http://a.test/ >/dev/null 2>&1; echo $?)" "a client of 127.0.0.1_9150.sock fails"
nok "$(as_guard "${tcurl[@]}" --max-time 5 --socks5-hostname 127.0.0.1:19050 \
    http://a.test/ >/dev/null 2>&1; echo $?)" "a client of 127.0.0.1_9050.sock fails"
nok "$(as_guard "${tcurl[@]}" --max-time 5 --socks5-hostname 127.0.0.1:19051 \
    http://a.test/ >/dev/null 2>&1; echo $?)" "a client of socks (/run/tor/socks) fails"
n9108=$(up_count 9108)
unlike "$(sdw_get "$SDW" a.test)" "hello" "sdwdate's request to the gateway's 9108 fails"
is "$(via)/$(($(up_count 9108) - n9108))" "9050+0 9150+0/0" "no connection to any of the gateway's SocksPorts"
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
