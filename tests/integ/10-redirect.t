#!/bin/bash
# tests/integ/10-redirect.t - "tollgate redirect on|off|status", as a user
# sees it, in a network namespace of its own.
#
# The story: an administrator guards uid 4343 and turns the redirect on.
# nft shows the table exactly as the documented ruleset reads; status
# names the guarded uid.  TCP of the guarded uid to an address of the
# namespace (on a veth) lands on the transparent port instead (IPv4 and IPv6), TCP of
# another uid and tollgated's own marked sockets go straight through,
# guarded DNS passes and other guarded UDP is rejected and counted.  The
# administrator then changes guard_users: the table is replaced in one
# step, never missing, and another firewall's table is left alone either
# way.  A typo in the configuration is reported with file and line and
# changes nothing.  Finally the redirect is turned off.
#
# Run as root: bash tests/integ/10-redirect.t (TAP on stdout).  Uses only
# namespaces it creates (tgt-redir-PID, tgt-redir-ref-PID), deleted on exit.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOLLGATE=${TOLLGATE:-$ROOT/build/tollgate}
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

# reference UID...: what "nft -f" makes of the documented ruleset.
reference() {
	local uid nat="" filter=""
	for uid in "$@"; do
		nat+="meta skuid $uid meta l4proto tcp redirect to :$PORT comment \"guarded uid $uid: TCP to tollgated\""$'\n'
		filter+="meta skuid $uid jump guard comment \"guarded uid $uid\""$'\n'
	done
	ip netns exec "$REF" nft delete table inet tollgate 2>/dev/null
	ip netns exec "$REF" nft -f - <<EOF
table inet tollgate {
  chain nat_out { type nat hook output priority -100; policy accept;
    meta mark $MARK return comment "tollgated's own sockets"
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
    udp dport 53 counter accept comment "guarded DNS passes (until the DNS stub)"
    meta l4proto tcp counter reject with tcp reset comment "TCP that was not redirected"
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

plan 47

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
like "$OUT" "installed .*uid $GUARD goes to port $PORT" \
    "redirect on says whom it guards and where TCP goes"
NFT=$(listing)
like "$NFT" "meta skuid $GUARD meta l4proto tcp redirect to :$PORT " \
    "nft shows the guarded uid's TCP redirected to the port"
like "$NFT" "meta skuid $GUARD jump guard" \
    "nft shows the guarded uid's other traffic sent to the guard chain"
like "$NFT" "comment \"tollgated's own sockets\"" "nft shows the rule comments"
WANT=$(reference "$GUARD")
is "$NFT" "$WANT" "the table reads as nft -f makes the documented ruleset"

tg redirect status
is "$RC" 0 "status exits 0 when the table is installed"
like "$OUT" "^table inet tollgate is installed" "status says it is installed"
like "$OUT" "^guarded uids: $GUARD; their TCP goes to port $PORT" \
    "status names the guarded uid and the port"
like "$OUT" "^ +guarded uid $GUARD: TCP to tollgated" \
    "status lists the redirect rule of chain nat_out"
like "$OUT" "^ +other protocols of guarded users +0 packets, 0 bytes" \
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
as $GUARD bash -c "echo guarded-dns >/dev/udp/$ADDR4/53"
as $OTHER bash -c "echo other-udp >/dev/udp/$ADDR4/$UPORT"
wait_for grep -q other-udp "$TMP/udp"
wait_for grep -q guarded-dns "$TMP/dns"
U=$(cat "$TMP/udp")
like "$U" "^other-udp$" "UDP of a uid that is not guarded goes through"
unlike "$U" "guarded-udp" "guarded UDP to another port is rejected"
like "$(cat "$TMP/dns")" "^guarded-dns$" "guarded DNS (UDP port 53) passes"

tg redirect status
like "$OUT" "^ +other protocols of guarded users +[1-9][0-9]* packets" \
    "status counts the rejected guarded UDP"
like "$OUT" "^ +guarded DNS passes \(until the DNS stub\) +[1-9][0-9]* packets" \
    "status counts the guarded DNS"

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
is "$NFT" "$(reference "$GUARD2")" \
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
like "$OUT" "^guarded uids: none" "status says nobody is guarded"

OUT=$(ip netns exec "$NS" setpriv --reuid=$OTHER --regid=$OTHER \
    --clear-groups env -i timeout $T "$TMP/tollgate" redirect status 2>&1)
RC=$?
is "$RC" 1 "status without CAP_NET_ADMIN exits 1"
like "$OUT" "CAP_NET_ADMIN" "and says it needs root or CAP_NET_ADMIN"

tg redirect sideways
is "$RC" 2 "an unknown action is a usage error (exit 2)"

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
