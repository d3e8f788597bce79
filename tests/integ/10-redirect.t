#!/bin/bash
# tests/integ/10-redirect.t - "tollgate redirect on|off|status", as a user
# sees it, in a network namespace of its own.
#
# The story: an administrator guards uid 4343 and turns the redirect on.
# nft shows the table exactly as the documented ruleset reads; status
# names the guarded uid.  TCP of the guarded uid to an address of the
# namespace (on a veth) lands on the transparent port instead (IPv4 and IPv6), TCP of
# another uid and tollgated's own marked sockets go straight through,
# guarded DNS passes (the configuration names no DNS stub) and other
# guarded UDP is rejected with a port-unreachable and counted.  The
# administrator then changes guard_users: the table is replaced in one
# step, never missing, and another firewall's table is left alone either
# way.  A typo in the configuration is reported with file and line and
# changes nothing.
#
# Then the table of a daemon with a DNS stub and an NFLOG group (installed
# through the library by tools/redirect-install.c): the guarded uid's DNS,
# UDP and TCP, to any address, lands on the stub's port and never on the
# server it was sent to; other guarded UDP is logged and refused; status
# shows the stub's port and the group.  Finally the redirect is turned off.
#
# Run as root: bash tests/integ/10-redirect.t (TAP on stdout).  Uses only
# namespaces it creates (tgt-redir-PID, tgt-redir-ref-PID), deleted on exit.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOLLGATE=${TOLLGATE:-$ROOT/build/tollgate}
INSTALL_TOOL=$ROOT/build/tests/tools/redirect-install
NS=tgt-redir-$$
REF=tgt-redir-ref-$$
PORT=19040		# transparent_listen port in the test's configuration
MARK=0x746f6c6c		# socket_mark (the default)
GUARD=4343		# guarded first
GUARD2=4344		# guarded after the change
OTHER=4545		# never guarded
ADDR4=192.0.2.1
ADDR6=2001:db8::1
DPORT=8080		# where the clients think they connect
UPORT=9999		# a UDP service
DNSPORT=19053		# the DNS stub's port, in the second part
GROUP=7			# the NFLOG group, in the second part
T=5			# seconds any one client or command may take
PY=/usr/bin/python3

# --- TAP ----------------------------------------------------------------

N=0
FAILED=0
diag() {
	local line
	for line in "$@"; do
		sed 's/^/# /' <<<"$line"
	done
}

# ok STATUS DESC: pass when STATUS is 0.
ok() {
	N=$((N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $N - $2"
	else
		echo "not ok $N - $2"
		FAILED=$((FAILED + 1))
	fi
}

# is GOT WANT DESC
is() {
	[ "$1" == "$2" ]
	ok $? "$3"
	[ "$1" == "$2" ] || diag "got:  $1" "want: $2"
}

# like TEXT REGEX DESC (extended regex, any line)
like() {
	grep -Eq -- "$2" <<<"$1"
	ok $? "$3"
	grep -Eq -- "$2" <<<"$1" || diag "no line matches /$2/ in:" "$1"
}

# unlike TEXT REGEX DESC
unlike() {
	! grep -Eq -- "$2" <<<"$1"
	ok $? "$3"
	grep -Eq -- "$2" <<<"$1" && diag "a line matches /$2/ in:" "$1"
}

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

# --- setting -------------------------------------------------------------

[ "$(id -u)" = 0 ] || skip_all "needs root"
[ -x "$TOLLGATE" ] || skip_all "no $TOLLGATE (run make)"
[ -x "$INSTALL_TOOL" ] ||
    { echo "Bail out! no $INSTALL_TOOL (make unit, or make integ-tools)"; exit 1; }
for tool in ip nft socat setpriv ss timeout $PY; do
	command -v "$tool" >/dev/null || skip_all "needs $tool"
done

TMP=$(mktemp -d /tmp/tgt-redir.XXXXXX) || exit 1
chmod 755 "$TMP"
PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip netns del "$REF" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

ip netns add "$NS" && ip netns add "$REF" || { echo "Bail out! ip netns add"; exit 1; }
ip -n "$NS" link set lo up &&
    ip -n "$NS" link add tgt0 type veth peer name tgt1 &&
    ip -n "$NS" link set tgt1 up &&
    ip -n "$NS" addr add "$ADDR4/24" dev tgt0 &&
    ip -n "$NS" addr add "$ADDR6/64" dev tgt0 nodad &&
    ip -n "$NS" link set tgt0 up ||
    { echo "Bail out! setting up the namespace's addresses"; exit 1; }

# A copy anyone may run, for the unprivileged user.
install -m 755 "$TOLLGATE" "$TMP/tollgate"

# conf NAME LINE...: write $TMP/NAME.conf
conf() {
	printf '%s\n' "${@:2}" >"$TMP/$1.conf"
}

# tg ARGS...: the CLI in the namespace; sets OUT, ERR and RC.
tg() {
	OUT=$(ip netns exec "$NS" timeout $T "$TOLLGATE" "$@" 2>"$TMP/err")
	RC=$?
	ERR=$(cat "$TMP/err")
}

listing() {
	ip netns exec "$NS" nft list table inet tollgate 2>&1
}

# reference DNSPORT GROUP UID...: what "nft -f" makes of the documented
# ruleset, for a DNS stub on DNSPORT (0: none) and NFLOG group GROUP (0:
# none).
reference() {
	local dns=$1 group=$2 uid nat="" dnsnat="" filter="" pass="" log=""
	shift 2
	for uid in "$@"; do
		nat+="meta skuid $uid meta l4proto tcp redirect to :$PORT comment \"guarded uid $uid: TCP to tollgated\""$'\n'
		dnsnat+="meta skuid $uid udp dport 53 redirect to :$dns comment \"guarded uid $uid: DNS to the stub\""$'\n'
		dnsnat+="meta skuid $uid tcp dport 53 redirect to :$dns comment \"guarded uid $uid: DNS over TCP to the stub\""$'\n'
		filter+="meta skuid $uid jump guard comment \"guarded uid $uid\""$'\n'
	done
	if [ "$dns" = 0 ]; then
		dnsnat=""
		pass='udp dport 53 counter accept comment "guarded DNS passes (no DNS stub)"'
	fi
	[ "$group" != 0 ] && log="log group $group snaplen 64"
	ip netns exec "$REF" nft delete table inet tollgate 2>/dev/null
	ip netns exec "$REF" nft -f - <<EOF
table inet tollgate {
  chain nat_out { type nat hook output priority -100; policy accept;
    meta mark $MARK return comment "tollgated's own sockets"
    $dnsnat
    ip daddr 127.0.0.0/8 return comment "loopback is left alone"
    ip6 daddr ::1 return comment "loopback is left alone"
    $nat
  }
  chain filter_out { type filter hook output priority 0; policy accept;
    meta mark $MARK return comment "tollgated's own sockets"
    ip daddr 127.0.0.0/8 return comment "loopback is left alone"
    ip6 daddr ::1 return comment "loopback is left alone"
    $filter
  }
  chain guard {
    $pass
    meta l4proto tcp counter reject with tcp reset comment "TCP that was not redirected"
    meta l4proto udp $log counter reject with icmpx type port-unreachable comment "UDP of guarded users (not proxied)"
    counter reject with icmpx type admin-prohibited comment "other protocols of guarded users"
  }
}
EOF
	ip netns exec "$REF" nft list table inet tollgate 2>&1
}

# as UID CMD...: CMD in the namespace as UID, clean environment, bounded.
as() {
	local uid=$1
	shift
	ip netns exec "$NS" setpriv --reuid="$uid" --regid="$uid" \
	    --clear-groups env -i PATH=/usr/bin:/bin timeout $T "$@"
}

# refused HOST PORT: what the guarded uid learns from two datagrams to
# HOST:PORT (tools/udp-refused.py): "refused" after a port-unreachable.
refused() {
	as $GUARD $PY -I "$ROOT/tests/integ/tools/udp-refused.py" "$@"
}

# serve CMD...: a root server in the namespace, stopped on exit.
serve() {
	ip netns exec "$NS" timeout 120 "$@" </dev/null >/dev/null 2>&1 &
	PIDS+=($!)
}

# wait_for CMD...: retry CMD every 0.1s, at most 50 times.
wait_for() {
	local i
	for ((i = 0; i < 50; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# listening tcp|udp ADDR:PORT
listening() {
	local flag=-Hlnt
	[ "$1" = udp ] && flag=-Hlnu
	ip netns exec "$NS" ss $flag | grep -qF " $2 "
}

plan() {
	echo "1..$1"
}

plan 71

# --- turning it on ---------------------------------------------------------

conf guard1 "guard_users = $GUARD" \
    "transparent_listen = 127.0.0.1:$PORT, [::1]:$PORT"
conf guard2 "guard_users = $GUARD2" \
    "transparent_listen = 127.0.0.1:$PORT, [::1]:$PORT"
conf nobody "guard_users =" \
    "transparent_listen = 127.0.0.1:$PORT, [::1]:$PORT"
conf typo "guard_users = $GUARD" "gaurd_users = $GUARD2"

tg -c "$TMP/guard1.conf" redirect on
is "$RC" 0 "redirect on exits 0"
like "$OUT" "installed .*guarding uid $GUARD .*; their TCP goes to port $PORT" \
    "redirect on says whom it guards and where TCP goes"
NFT=$(listing)
like "$NFT" "meta skuid $GUARD meta l4proto tcp redirect to :$PORT " \
    "nft shows the guarded uid's TCP redirected to the port"
like "$NFT" "meta skuid $GUARD jump guard" \
    "nft shows the guarded uid's other traffic sent to the guard chain"
like "$NFT" "comment \"tollgated's own sockets\"" "nft shows the rule comments"
WANT=$(reference 9053 0 "$GUARD")
is "$NFT" "$WANT" "the table reads as nft -f makes the documented ruleset"

tg redirect status
is "$RC" 0 "status exits 0 when the table is installed"
like "$OUT" "^table inet tollgate is installed" "status says it is installed"
like "$OUT" "^guarded: uid $GUARD \(no such user\); their TCP goes to port $PORT" \
    "status names the guarded uid and the port"
like "$OUT" "^ +guarded uid $GUARD: TCP to tollgated" \
    "status lists the redirect rule of chain nat_out"
like "$OUT" "^guarded DNS \(UDP and TCP port 53\) goes to port 9053" \
    "status says guarded DNS goes to the DNS stub's port (dns_listen's default)"
like "$OUT" "^refused guarded UDP is not logged" "status says UDP is not logged"
like "$OUT" "^ +UDP of guarded users \(not proxied\) +0 packets, 0 bytes" \
    "status shows the guard counters, still zero"

# --- where traffic goes --------------------------------------------------

# What clients reach: the transparent port (as tollgated would listen on
# it), and the real services at the namespace's own addresses.
serve socat -u TCP4-LISTEN:$PORT,bind=127.0.0.1,reuseaddr,fork \
    OPEN:"$TMP/redir4",creat,append
serve socat -u TCP6-LISTEN:$PORT,bind=[::1],reuseaddr,fork \
    OPEN:"$TMP/redir6",creat,append
serve socat -u TCP4-LISTEN:$DPORT,bind=$ADDR4,reuseaddr,fork \
    OPEN:"$TMP/direct4",creat,append
serve socat -u TCP6-LISTEN:$DPORT,bind=[$ADDR6],reuseaddr,fork \
    OPEN:"$TMP/direct6",creat,append
serve socat -u UDP4-RECV:$UPORT,bind=$ADDR4 OPEN:"$TMP/udp",creat,append
serve socat -u UDP4-RECV:53,bind=$ADDR4 OPEN:"$TMP/dns",creat,append
touch "$TMP/redir4" "$TMP/redir6" "$TMP/direct4" "$TMP/direct6" \
    "$TMP/udp" "$TMP/dns"
wait_for listening tcp "127.0.0.1:$PORT" &&
    wait_for listening tcp "[::1]:$PORT" &&
    wait_for listening tcp "$ADDR4:$DPORT" &&
    wait_for listening tcp "[$ADDR6]:$DPORT" &&
    wait_for listening udp "$ADDR4:$UPORT" &&
    wait_for listening udp "$ADDR4:53" ||
    { echo "Bail out! the test servers did not start"; exit 1; }

as $GUARD bash -c "echo guarded-v4 >/dev/tcp/$ADDR4/$DPORT"
as $OTHER bash -c "echo other-v4 >/dev/tcp/$ADDR4/$DPORT"
as $GUARD bash -c "echo guarded-v6 >/dev/tcp/$ADDR6/$DPORT"
# tollgated's own sockets carry the mark; CAP_NET_ADMIN lets a socket set it.
ip netns exec "$NS" setpriv --reuid=$GUARD --regid=$GUARD --clear-groups \
    --inh-caps=+net_admin --ambient-caps=+net_admin env -i PATH=/usr/bin:/bin timeout $T \
    $PY -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, int(sys.argv[1], 0))
s.connect((sys.argv[2], int(sys.argv[3])))
s.sendall(b"marked-v4\n")
s.close()' $MARK $ADDR4 $DPORT
wait_for grep -q other-v4 "$TMP/direct4"
wait_for grep -q marked-v4 "$TMP/direct4"
wait_for grep -q guarded-v4 "$TMP/redir4"
wait_for grep -q guarded-v6 "$TMP/redir6"

R4=$(cat "$TMP/redir4")
R6=$(cat "$TMP/redir6")
D4=$(cat "$TMP/direct4")
D6=$(cat "$TMP/direct6")
like "$R4" "^guarded-v4$" "guarded TCP to $ADDR4:$DPORT arrives at 127.0.0.1:$PORT"
unlike "$D4" "guarded-v4" "guarded TCP does not reach $ADDR4:$DPORT itself"
like "$R6" "^guarded-v6$" "guarded TCP to [$ADDR6]:$DPORT arrives at [::1]:$PORT"
unlike "$D6" "guarded-v6" "guarded IPv6 TCP does not reach [$ADDR6]:$DPORT"
like "$D4" "^other-v4$" "TCP of a uid that is not guarded goes straight through"
unlike "$R4" "other-v4" "TCP of a uid that is not guarded is not redirected"
like "$D4" "^marked-v4$" "a guarded uid's socket with the mark goes straight through"

as $GUARD bash -c "echo guarded-udp >/dev/udp/$ADDR4/$UPORT" 2>"$TMP/err"
ok $((!$?)) "the guarded sender of UDP to another port gets an error"
is "$(refused $ADDR4 $UPORT)" refused \
    "the ICMP it gets is port-unreachable: the sender sees ECONNREFUSED"
as $GUARD bash -c "echo guarded-dns >/dev/udp/$ADDR4/53"
as $OTHER bash -c "echo other-udp >/dev/udp/$ADDR4/$UPORT"
wait_for grep -q other-udp "$TMP/udp"
U=$(cat "$TMP/udp")
like "$U" "^other-udp$" "UDP of a uid that is not guarded goes through"
unlike "$U" "guarded-udp" "guarded UDP to another port is rejected"
unlike "$(cat "$TMP/dns")" "guarded-dns" \
    "guarded DNS (UDP port 53) never reaches the server: it goes to the stub"

tg redirect status
like "$OUT" "^ +UDP of guarded users \(not proxied\) +[1-9][0-9]* packets" \
    "status counts the rejected guarded UDP"
like "$OUT" "^ +guarded uid $GUARD: DNS to the stub" \
    "status lists the guarded DNS's redirect"

# --- changing guard_users ------------------------------------------------

# Another firewall's table, which ours must never disturb nor be
# disturbed by.
ip netns exec "$NS" nft -f - <<'EOF'
table inet otherfw {
  chain out { type filter hook output priority 10; policy accept; counter; }
}
EOF

# Watch for a moment without our table while guard_users changes back and
# forth: a replacement is one batch, so there is none.
(
	for ((i = 0; i < 400; i++)); do
		ip netns exec "$NS" nft list table inet tollgate >/dev/null 2>&1 ||
		    echo missing
		[ -e "$TMP/stop" ] && break
	done >"$TMP/watch"
) &
WATCH=$!
PIDS+=($WATCH)
fails=0
for ((i = 0; i < 10; i++)); do
	tg -c "$TMP/guard2.conf" redirect on || fails=$((fails + 1))
	tg -c "$TMP/guard1.conf" redirect on || fails=$((fails + 1))
done
touch "$TMP/stop"
wait $WATCH
is "$fails" 0 "twenty replacements in a row succeed"
is "$(grep -c missing "$TMP/watch")" 0 \
    "the table is never missing while being replaced"

tg -c "$TMP/guard2.conf" redirect on
is "$RC" 0 "redirect on with a new guard_users exits 0"
NFT=$(listing)
like "$NFT" "meta skuid $GUARD2 meta l4proto tcp redirect to :$PORT " \
    "the new guarded uid is redirected"
unlike "$NFT" "skuid $GUARD " "the old guarded uid is gone"
TABLES=$(ip netns exec "$NS" nft list tables)
is "$(grep -c '^table inet tollgate$' <<<"$TABLES")" 1 \
    "there is exactly one table inet tollgate"
like "$TABLES" "^table inet otherfw$" "the other firewall's table is still there"
is "$NFT" "$(reference 9053 0 "$GUARD2")" \
    "the replaced table reads as the documented ruleset"

BEFORE=$NFT
ip netns exec "$NS" nft flush table inet otherfw
is "$(listing)" "$BEFORE" "flushing another table leaves ours intact"
ip netns exec "$NS" nft delete table inet otherfw
is "$(listing)" "$BEFORE" "deleting another table leaves ours intact"

tg -c "$TMP/typo.conf" redirect on
is "$RC" 1 "a configuration with an unknown key makes redirect on exit 1"
like "$ERR" "typo\.conf:2: .*gaurd_users" \
    "the error names the file, the line and the key"
is "$(listing)" "$BEFORE" "a bad configuration leaves the table as it was"

tg -c "$TMP/nobody.conf" redirect on
NFT=$(listing)
unlike "$NFT" "skuid" "with no guard_users the table guards nobody"
tg redirect status
like "$OUT" "^guarded: nobody \(nothing is redirected\)" "status says nobody is guarded"

OUT=$(ip netns exec "$NS" setpriv --reuid=$OTHER --regid=$OTHER \
    --clear-groups env -i timeout $T "$TMP/tollgate" redirect status 2>&1)
RC=$?
is "$RC" 1 "status without CAP_NET_ADMIN exits 1"
like "$OUT" "CAP_NET_ADMIN" "and says it needs root or CAP_NET_ADMIN"

tg redirect sideways
is "$RC" 2 "an unknown action is a usage error (exit 2)"

# --- with a DNS stub and an NFLOG group -------------------------------------

# What tollgated installs when it runs its DNS stub and reads refused UDP
# from an NFLOG group.
ip netns exec "$NS" timeout $T "$INSTALL_TOOL" $PORT $DNSPORT $GROUP $MARK $GUARD
ok $? "the table with a DNS port and an NFLOG group is installed"
NFT=$(listing)
is "$NFT" "$(reference $DNSPORT $GROUP "$GUARD")" \
    "it reads as the documented ruleset with the DNS redirects and the log"
like "$NFT" "meta skuid $GUARD udp dport 53 redirect to :$DNSPORT " \
    "nft shows the guarded uid's UDP DNS redirected to the stub"
like "$NFT" "meta skuid $GUARD tcp dport 53 redirect to :$DNSPORT " \
    "nft shows the guarded uid's TCP DNS redirected to the stub"
like "$NFT" "meta l4proto udp log group $GROUP snaplen 64 counter" \
    "nft shows refused UDP logged to the group"
unlike "$NFT" "dport 53 .*accept" "guarded DNS no longer passes"

tg redirect status
like "$OUT" "^guarded: uid $GUARD \(no such user\); their TCP goes to port $PORT$" \
    "status names the guarded uid and the TCP port, once"
like "$OUT" "^guarded DNS \(UDP and TCP port 53\) goes to port $DNSPORT$" \
    "status names the DNS stub's port"
like "$OUT" "^refused guarded UDP is logged to nflog group $GROUP$" \
    "status names the NFLOG group"

# Routes to anywhere, so that a query to a public resolver leaves the
# routing decision and meets the table.
ip -n "$NS" route add default dev tgt0 &&
    ip -n "$NS" -6 route add default dev tgt0 ||
    { echo "Bail out! adding default routes"; exit 1; }
# The stub, as tollgated would listen; the DNS server the clients name.
serve socat -u UDP4-RECV:$DNSPORT,bind=127.0.0.1 OPEN:"$TMP/stub4",creat,append
serve socat -u UDP6-RECV:$DNSPORT,bind=[::1] OPEN:"$TMP/stub6",creat,append
serve socat -u TCP4-LISTEN:$DNSPORT,bind=127.0.0.1,reuseaddr,fork \
    OPEN:"$TMP/stubtcp",creat,append
serve socat -u UDP6-RECV:53,bind=[$ADDR6] OPEN:"$TMP/dns6",creat,append
serve socat -u TCP4-LISTEN:53,bind=$ADDR4,reuseaddr,fork \
    OPEN:"$TMP/dnstcp",creat,append
touch "$TMP/stub4" "$TMP/stub6" "$TMP/stubtcp" "$TMP/dns6" "$TMP/dnstcp"
wait_for listening udp "127.0.0.1:$DNSPORT" &&
    wait_for listening udp "[::1]:$DNSPORT" &&
    wait_for listening tcp "127.0.0.1:$DNSPORT" &&
    wait_for listening udp "[$ADDR6]:53" &&
    wait_for listening tcp "$ADDR4:53" ||
    { echo "Bail out! the DNS test servers did not start"; exit 1; }

as $GUARD bash -c "echo stub-server >/dev/udp/$ADDR4/53"
as $GUARD bash -c "echo stub-public >/dev/udp/8.8.8.8/53"
as $GUARD bash -c "echo stub-local >/dev/udp/127.0.0.53/53"
as $GUARD bash -c "echo stub-server6 >/dev/udp/$ADDR6/53"
as $GUARD bash -c "echo stub-public6 >/dev/udp/2001:4860:4860::8888/53"
as $GUARD bash -c "echo stub-tcp >/dev/tcp/$ADDR4/53"
as $OTHER bash -c "echo other-dns >/dev/udp/$ADDR4/53"
wait_for grep -q stub-public "$TMP/stub4"
wait_for grep -q stub-local "$TMP/stub4"
wait_for grep -q stub-public6 "$TMP/stub6"
wait_for grep -q stub-tcp "$TMP/stubtcp"
wait_for grep -q other-dns "$TMP/dns"
S4=$(cat "$TMP/stub4")
S6=$(cat "$TMP/stub6")
like "$S4" "^stub-server$" "guarded UDP DNS to $ADDR4:53 lands on the stub (127.0.0.1:$DNSPORT)"
like "$S4" "^stub-public$" "so does a query sent straight to 8.8.8.8"
like "$S4" "^stub-local$" "and one to a local resolver, 127.0.0.53"
like "$S6" "^stub-server6$" "guarded UDP DNS to [$ADDR6]:53 lands on the stub ([::1]:$DNSPORT)"
like "$S6" "^stub-public6$" "so does one to [2001:4860:4860::8888]:53"
like "$(cat "$TMP/stubtcp")" "^stub-tcp$" "guarded TCP DNS to $ADDR4:53 lands on the stub's TCP port"
unlike "$(cat "$TMP/dns")" "stub-" "the DNS server at $ADDR4 sees no guarded UDP query"
unlike "$(cat "$TMP/dns6")" "stub-" "nor does the one at [$ADDR6]"
unlike "$(cat "$TMP/dnstcp")" "stub-" "nor does its TCP port"
like "$(cat "$TMP/dns")" "^other-dns$" "DNS of a uid that is not guarded goes to its server"
is "$(refused $ADDR4 $UPORT)" refused \
    "other guarded UDP is still refused with a port-unreachable"
tg redirect status
like "$OUT" "^ +UDP of guarded users \(not proxied\) +[1-9][0-9]* packets" \
    "status counts the refused guarded UDP"

# --- turning it off ------------------------------------------------------

tg redirect off
is "$RC" 0 "redirect off exits 0"
ip netns exec "$NS" nft list table inet tollgate >/dev/null 2>&1
ok $((!$?)) "nft no longer has the table"
tg redirect status
is "$RC" 1 "status exits 1 when the table is not installed"
like "$OUT" "^table inet tollgate is not installed$" "status says it is not installed"
tg redirect off
is "$RC" 0 "redirect off when already off still exits 0"

[ "$FAILED" = 0 ]
