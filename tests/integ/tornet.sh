# shellcheck shell=bash disable=SC2034
# tests/integ/tornet.sh - a private Tor network for the integration tests,
# sourced after lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/tornet.sh"
#   tornet_need                 # skip_all unless tor can run here
#   plan N
#   tg_setup
#   tornet_start || { echo "Bail out! no private Tor network"; exit 1; }
#
# What tornet_start makes, after tg_setup (the layout of lib.sh's
# gateway_start, with Tor where Dante is; lib.sh's _gw_net builds it):
#   workstation  $TG_CNS  $TG_GWC4 (10.152.152.11/24), default route via
#   gateway      $TG_GNS  $TG_GW4  (10.152.152.10/24), which also holds
#                tg_setup's client end of the server link ($TG_C4), and
#                one address of each exit's own there: $TORNET_EXIT4
#                (192.0.2.11 and 192.0.2.12), what the exits connect
#                from (OutboundBindAddressExit), so the servers' logs
#                tell which exit came; the gateway forwards nothing
#   internet     $TG_SNS  $TG_S4 (192.0.2.2): lib.sh's test servers, and
#                unbound on $TG_S4 port $TORNET_DNS_PORT (8053; port 53
#                is lib.sh's UDP echo), answering the names in
#                $TORNET_NAMES (lib.sh's gateway names, a.test b.test
#                c.test x.b.test y.b.test d.test, unless set before
#                tornet_start) with $TG_S4 and
#                every other name with NXDOMAIN (it never recurses);
#                it logs each query to $TORNET_DNS_LOG
#                ("info: 192.0.2.1 A.tEst. A IN": the exits' evdns
#                randomises the case, and asks from the gateway's own
#                $TG_C4; only their connections leave from the exits'
#                addresses).  The exits cache a name's address for 5
#                minutes at least: a name asked once is not asked again.
# Inside the gateway namespace, every tor on 127.0.0.1 (Debian's tor,
# TestingTorNetwork):
#   auth1..3     directory authorities, ORPort 5001-5003, DirPort
#                7001-7003 (keys from tor-gencert, relay identities from
#                tor --list-fingerprint)
#   middle1..2   relays, ORPort 5004-5005
#   exit1..2     exits (accept *:*), ORPort 5006-5007, resolving through
#                the unbound above (ServerDNSResolvConfFile)
#   client       SocksPort $TG_GW4:9050 (IsolateSOCKSAuth) and
#                $TG_GW4:9150 (IsolateSOCKSAuth KeepAliveIsolateSOCKSAuth
#                ExtendedErrors) and $TG_GW4:9108, sdwdate's
#                (IsolateSOCKSAuth IsolateDestAddr IsolateDestPort), as a
#                Whonix-Gateway has them;
#                ConfluxEnabled 0 (so one SOCKS username's streams share a
#                circuit); ControlPort 127.0.0.1:9051 without
#                authentication (reachable from the gateway namespace
#                only).
# Their data directories and logs (NAME/notice.log) are under
# $TORNET_DIR ($TG_TMP/tornet).  Every process is in TG_PIDS, so lib.sh's
# EXIT trap stops them (and kills whatever is left in the namespaces)
# whatever becomes of the test; tornet_stop stops them earlier.
#
# Bring-up, bounded by $TORNET_BOUND seconds (90) in all: the relays and
# authorities start together; the client starts once the authorities'
# consensus lists all 7 relays Running and both exits Exit (started
# earlier it may wait out tor's fixed retry delays); then the
# authorities' voting interval is raised from 10 s to 300 s (torrc
# rewritten, SIGHUP; fast votes are only needed until the first good
# consensus, and later they keep a core busy with consensus diffs);
# then tornet_start waits for the client's "Bootstrapped 100%" and for
# one fetch through it (from the gateway, SOCKS username tornet-probe)
# of the last name of $TORNET_NAMES (http://d.test/), so that the other
# names are still to be resolved when a test asks for them.
# On timeout it says which step did not finish, what auth1's consensus
# lists, and each tor's last log lines (its errors if it exited).
# TORNET_UP_MS is the whole bring-up in milliseconds, TORNET_T_KEYS,
# TORNET_T_CONSENSUS and TORNET_T_BOOT when each step was done.
# Measured with tor 0.4.9.11 on this 2-core machine shared with other
# work (load 4-6): keys (3 tor-gencert, 7 tor --list-fingerprint, two at
# a time) 4-7 s; the first consensus with everyone 6-11 s after the tors
# start (the first 5-s voting round often fails while the authorities
# come up); the client bootstrapped 2-3 s later, the first fetch within
# a second: 14-30 s in all.  The 8 tors then hold ~110-130 MiB
# (MALLOC_ARENA_MAX=2, NumCPUs 1: ~13 MiB each) and have used 2-4
# CPU-seconds, the keys ~5 more; some 20 s later each authority has
# grown to ~72 MiB (its consensus diffs, compressed), ~290 MiB in all.
# 80-tornet.t takes 22-46 s.
# A name no one knows gets Tor's SOCKS reply 4 (curl exits 97, "(4)").
#
# Functions:
#   tornet_need       skip_all (TAP "1..0 # SKIP") unless tor, tor-gencert
#                     and unbound are installed; call it before plan.
#   tornet_start      the above; 0, or 1 with diagnostics.
#   tornet_stop       stop every tor, unbound and the stream reader.
#   tornet_control CMD...
#                     send each CMD to the client's ControlPort, print
#                     the replies (CRLF removed; the AUTHENTICATE and
#                     QUIT replies left out); 1 if it cannot connect.
#   tornet_streams_start
#                     a background reader subscribed to STREAM and CIRC
#                     events (SETEVENTS STREAM CIRC), appending them to
#                     $TORNET_EVENTS; tornet_streams_mark makes later
#                     tornet_streams calls see only what comes after.
#   tornet_streams [KEY=VALUE...]
#                     one line per client stream seen since the mark (in
#                     the order they were opened; tor's own directory
#                     fetches, PURPOSE other than USER, left out) that
#                     carries every
#                     KEY=VALUE, read with lib.sh's kv:
#                       id=12 target=a.test:80 user=u1 circ=7
#                           status=CLOSED
#                     target is what the SOCKS client asked for, as the
#                     NEW event has it (a name stays a name; the later
#                     events carry the exit's resolved address instead);
#                     user is the SOCKS username ("-" without one); circ
#                     the circuit it was attached to (0 while none);
#                     status its last event.  With tor 0.4.9 every STREAM
#                     event carries SOCKS_USERNAME= and SOCKS_PASSWORD=
#                     (quoted, escaped) when the client sent them, without
#                     any SETEVENTS EXTENDED (extended fields are always
#                     on since 0.2.2); only the NEW event carries the
#                     requested name, and only SENTCONNECT and later
#                     carry the circuit.
#   tornet_wait_stream KEY=VALUE...
#                     wait (${TG_WAIT:-10} s) until such a stream is
#                     attached to a circuit (circ != 0); print it.
#   tornet_explain NAME
#                     diag what the client saw of NAME since the mark:
#                     the STREAM events of its streams (their REASON= on
#                     failure), its circuits' CIRC events, what the
#                     exits logged of connections (they log at info
#                     level, to EXIT/info.log), and the client's last log
#                     lines; for a fetch that failed.
#   tornet_circuit_of NAME [USER]
#                     the circuit of the latest stream to NAME (host, or
#                     host:port) [with SOCKS username USER]; "" if none.
#   tornet_circuit_path CIRC
#                     the circuit's relays, nicknames in order
#                     ("auth2 middle1 exit2"), from GETINFO
#                     circuit-status.
#   tornet_exit_addr NICK
#                     the address exit NICK connects from.
#   tornet_usage      "MiB CPU-seconds": the tors' resident memory and
#                     CPU time so far.
#
# Addresses the later tests may want: TORNET_SOCKS ($TG_GW4:9050),
# TORNET_SOCKS_TB ($TG_GW4:9150), TORNET_CONTROL (127.0.0.1:9051 in
# $TG_GNS).

TORNET_TOR=${TORNET_TOR:-/usr/sbin/tor}
TORNET_BOUND=${TORNET_BOUND:-90}
TORNET_DIR=
TORNET_PIDS=()
TORNET_AUTH_PIDS=()
TORNET_CLIENT_PID=
TORNET_READER_PID=
TORNET_EVENTS=/dev/null
TORNET_MARK=0
TORNET_UP_MS=
TORNET_DNS_PORT=8053
TORNET_DNS_LOG=/dev/null
TORNET_NAMES=${TORNET_NAMES:-$TG_GW_NAMES}
TORNET_SOCKS_PORT=9050
TORNET_SOCKS_TB_PORT=9150
TORNET_SOCKS_SDW_PORT=9108
TORNET_CONTROL_PORT=9051
TORNET_SOCKS=$TG_GW4:$TORNET_SOCKS_PORT
TORNET_SOCKS_TB=$TG_GW4:$TORNET_SOCKS_TB_PORT
TORNET_CONTROL=127.0.0.1:$TORNET_CONTROL_PORT
# name:ORPort[:DirPort]; the authorities first.
TORNET_RELAYS="auth1:5001:7001 auth2:5002:7002 auth3:5003:7003
middle1:5004 middle2:5005 exit1:5006 exit2:5007"
TORNET_EXITS="exit1 exit2"
TORNET_EXIT4="192.0.2.11 192.0.2.12"

tornet_need() {
	local t
	for t in "$TORNET_TOR" tor-gencert unbound; do
		command -v "$t" >/dev/null 2>&1 ||
		    skip_all "needs $t (apt-get install tor unbound)"
	done
}

# --- processes -------------------------------------------------------------

# _tornet_closefds: close every descriptor but 0-2 of this (sub)shell, so
# that a long-lived daemon holds no lock or pipe of whoever started the
# test (tests/run reads the test's output until every writer is gone).
_tornet_closefds() {
	local fd
	for fd in /proc/"$BASHPID"/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
	done 2>/dev/null
}

# _tornet_bg LOG NS CMD...: CMD in namespace NS, in the background, with
# its output in LOG; registered to be stopped at exit.  Sets TORNET_BG.
_tornet_bg() {
	local log=$1 ns=$2
	shift 2
	(
		_tornet_closefds
		exec env MALLOC_ARENA_MAX=2 ip netns exec "$ns" "$@"
	) </dev/null >"$log" 2>&1 &
	TORNET_BG=$!
	TG_PIDS+=("$TORNET_BG")
	TORNET_PIDS+=("$TORNET_BG")
}

# _tornet_alive PID: is PID running (not a zombie)?
_tornet_alive() {
	local state
	state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != Z ]
}

tornet_stop() {
	local pid
	for pid in "${TORNET_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${TORNET_PIDS[@]}"; do
		_tg_reap "$pid" 5 ||
		    { kill -KILL "$pid" 2>/dev/null; _tg_reap "$pid" 2; }
	done
	TORNET_PIDS=()
	TORNET_AUTH_PIDS=()
	TORNET_CLIENT_PID=
	TORNET_READER_PID=
	return 0
}

# --- the internet's resolver ---------------------------------------------------

_tornet_dns() {
	local d=$TORNET_DIR/unbound n i
	mkdir -p "$d" || return 1
	TORNET_DNS_LOG=$d/unbound.log
	{
		cat <<EOF
server:
	username: ""
	chroot: ""
	directory: "$d"
	pidfile: "$d/unbound.pid"
	use-syslog: no
	logfile: "$TORNET_DNS_LOG"
	log-queries: yes
	verbosity: 1
	do-daemonize: no
	num-threads: 1
	interface: $TG_S4
	port: $TORNET_DNS_PORT
	do-ip6: no
	access-control: 0.0.0.0/0 allow
	module-config: "iterator"
	local-zone: "." static
EOF
		for n in $TORNET_NAMES; do
			echo "	local-data: \"$n. 60 IN A $TG_S4\""
		done
		echo "remote-control:"
		echo "	control-enable: no"
	} >"$d/unbound.conf" || return 1
	_tornet_bg "$d/unbound.out" "$TG_SNS" unbound -d -c "$d/unbound.conf"
	for ((i = 0; i < 100; i++)); do
		[ -n "$(ip netns exec "$TG_SNS" ss -lunH \
		    "sport = :$TORNET_DNS_PORT" 2>/dev/null)" ] && return 0
		_tornet_alive "$TORNET_BG" || break
		sleep 0.05
	done
	diag "tornet: unbound does not listen on $TG_S4:$TORNET_DNS_PORT:"
	diag "$(cat "$d/unbound.out" "$TORNET_DNS_LOG" 2>/dev/null | tail -n 10)"
	return 1
}

# --- keys and configurations -------------------------------------------------

# _tornet_spec SPEC: split a "name:orport[:dirport]" spec into
# TORNET_S_NAME, TORNET_S_OR and TORNET_S_DIR (no subshell: it is called
# often, on a busy machine).
_tornet_spec() {
	IFS=: read -r TORNET_S_NAME TORNET_S_OR TORNET_S_DIR <<<"$1"
}

# _tornet_key NAME [DIRPORT]: NAME's relay identity, and with a DIRPORT
# its authority keys (tor-gencert); diagnostics in NAME/keys.log.
_tornet_key() {
	local d=$TORNET_DIR/$1
	_tornet_closefds
	if [ -n "$2" ]; then
		(cd "$d/keys" && echo "" | tor-gencert --create-identity-key \
		    --passphrase-fd 0 -m 12 -a "127.0.0.1:$2" \
		    -i authority_identity_key -s authority_signing_key \
		    -c authority_certificate) || return 1
	fi
	"$TORNET_TOR" --list-fingerprint \
	    --defaults-torrc "$TORNET_DIR/empty" -f "$TORNET_DIR/empty" \
	    --DataDirectory "$d" --ORPort 1 --Nickname "$1" \
	    --DirAuthority "x 127.0.0.1:1 ffffffffffffffffffffffffffffffffffffffff" \
	    --GeoIPFile "" --GeoIPv6File ""
}

# _tornet_keys: every relay's keys, made two at a time (two cores).
# Sets TORNET_DIRAUTH (the DirAuthority lines) and TORNET_FP_name.
_tornet_keys() {
	local spec name d dirport v3 fp pid pids=() n=0
	for spec in $TORNET_RELAYS; do
		_tornet_spec "$spec"
		d=$TORNET_DIR/$TORNET_S_NAME
		mkdir -p "$d/keys" && chmod 700 "$d" || return 1
		_tornet_key "$TORNET_S_NAME" "$TORNET_S_DIR" </dev/null \
		    >"$d/keys.log" 2>&1 &
		pids+=($!)
		n=$((n + 1))
		if [ $((n % 2)) = 0 ]; then
			wait "${pids[@]: -2}"
		fi
	done
	for pid in "${pids[@]}"; do
		wait "$pid"
	done
	TORNET_DIRAUTH=
	for spec in $TORNET_RELAYS; do
		_tornet_spec "$spec"
		name=$TORNET_S_NAME
		dirport=$TORNET_S_DIR
		d=$TORNET_DIR/$name
		fp=$(awk 'NR == 1 {print $2}' "$d/fingerprint" 2>/dev/null)
		v3=
		[ -n "$dirport" ] && v3=$(awk '$1 == "fingerprint" {print $2}' \
		    "$d/keys/authority_certificate" 2>/dev/null)
		if [ -z "$fp" ] || { [ -n "$dirport" ] && [ -z "$v3" ]; }; then
			diag "tornet: cannot make the keys of $name:"
			diag "$(grep -v '\[notice\]' "$d/keys.log" | tail -n 5)"
			return 1
		fi
		printf -v "TORNET_FP_$name" %s "$fp"
		[ -n "$dirport" ] && TORNET_DIRAUTH+="DirAuthority $name orport=$TORNET_S_OR no-v2 v3ident=$v3 127.0.0.1:$dirport $fp"$'\n'
	done
	return 0
}

# _tornet_common NAME: what every tor's torrc starts with.
_tornet_common() {
	local d=$TORNET_DIR/$1
	cat <<EOF
# $1, written by tornet.sh
TestingTorNetwork 1
DataDirectory $d
Nickname $1
Log notice file $d/notice.log
RunAsDaemon 0
GeoIPFile ""
GeoIPv6File ""
ShutdownWaitLength 0
SafeLogging 0
NumCPUs 1
ClientUseIPv6 0
EnforceDistinctSubnets 0
ClientRejectInternalAddresses 0
ClientDNSRejectInternalAddresses 0
ExtendAllowPrivateAddresses 1
DirAllowPrivateAddresses 1
ServerDNSResolvConfFile $TORNET_DIR/resolv.conf
ServerDNSDetectHijacking 0
ServerDNSAllowBrokenConfig 0
$TORNET_DIRAUTH
EOF
}

# _tornet_auth_voting INTERVAL: the authorities' voting schedule.
_tornet_auth_voting() {
	cat <<EOF
TestingV3AuthInitialVotingInterval 5
TestingV3AuthInitialVoteDelay 2
TestingV3AuthInitialDistDelay 2
V3AuthVotingInterval $1
V3AuthVoteDelay 2
V3AuthDistDelay 2
EOF
}

# _tornet_relay_conf SPEC INTERVAL: one relay's torrc.
_tornet_relay_conf() {
	local spec=$1 name orport dirport e fp exits=""
	_tornet_spec "$spec"
	name=$TORNET_S_NAME
	orport=$TORNET_S_OR
	dirport=$TORNET_S_DIR
	_tornet_common "$name"
	cat <<EOF
SocksPort 0
Address 127.0.0.1
ORPort 127.0.0.1:$orport
AssumeReachable 1
PublishServerDescriptor 1
ContactInfo tornet
EOF
	if [ -n "$dirport" ]; then
		for e in $TORNET_EXITS; do
			fp=TORNET_FP_$e
			exits+=${exits:+,}\$${!fp}
		done
		cat <<EOF
DirPort 127.0.0.1:$dirport
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
AuthDirMaxServersPerAddr 0
TestingDirAuthVoteGuard *
TestingDirAuthVoteHSDir *
TestingDirAuthVoteExit $exits
ExitRelay 0
ExitPolicy reject *:*
EOF
		_tornet_auth_voting "$2"
	elif [[ " $TORNET_EXITS " == *" $name "* ]]; then
		cat <<EOF
DirCache 0
Log info file $TORNET_DIR/$name/info.log
ExitRelay 1
ExitPolicy accept *:*
ExitPolicyRejectPrivate 0
ExitPolicyRejectLocalInterfaces 0
OutboundBindAddressExit $(tornet_exit_addr "$name")
EOF
	else
		cat <<EOF
DirCache 0
ExitRelay 0
ExitPolicy reject *:*
EOF
	fi
}

_tornet_client_conf() {
	_tornet_common client
	cat <<EOF
SocksPort $TG_GW4:$TORNET_SOCKS_PORT IsolateSOCKSAuth
SocksPort $TG_GW4:$TORNET_SOCKS_TB_PORT IsolateSOCKSAuth KeepAliveIsolateSOCKSAuth ExtendedErrors
SocksPort $TG_GW4:$TORNET_SOCKS_SDW_PORT IsolateSOCKSAuth IsolateDestAddr IsolateDestPort
ControlPort $TORNET_CONTROL
CookieAuthentication 0
ConfluxEnabled 0
EOF
}

# tornet_exit_addr NICK: the address exit NICK connects from.
tornet_exit_addr() {
	local -a e a
	local i
	read -ra e <<<"$TORNET_EXITS"
	read -ra a <<<"$TORNET_EXIT4"
	for i in "${!e[@]}"; do
		[ "${e[$i]}" = "$1" ] && { echo "${a[$i]}"; return 0; }
	done
	return 1
}

# --- bring-up ------------------------------------------------------------------

# _tornet_left: seconds left of the bring-up's bound.
_tornet_left() {
	echo $(((TORNET_END - $(tg_ms)) / 1000))
}

# _tornet_fail STEP: say what did not finish, how far the consensus got,
# and each tor's last lines (its errors when it exited).
_tornet_fail() {
	local spec name lines pid i=0
	diag "tornet: $1 (after $((($(tg_ms) - TORNET_T0) / 1000)) s)"
	diag "  auth1's consensus: $(_tornet_consensus_says)"
	for spec in $TORNET_RELAYS client; do
		_tornet_spec "$spec"
		name=$TORNET_S_NAME
		pid=${TORNET_PIDS[$((i + 1))]} # [0] is unbound
		i=$((i + 1))
		if [ -n "$pid" ] && ! _tornet_alive "$pid"; then
			lines=$(grep -hs -e '\[err\]' -e '\[warn\]' \
			    "$TORNET_DIR/$name/stdout.log" | tail -n 3)
			name="$name (exited)"
		else
			lines=$(tail -n 3 "$TORNET_DIR/$name/notice.log" 2>/dev/null)
		fi
		[ -n "$lines" ] || continue
		diag "  $name:"
		diag "$(sed 's/^/    /' <<<"$lines")"
	done
	return 1
}

# _tornet_consensus_says: what auth1's latest consensus lists.
_tornet_consensus_says() {
	local f=$TORNET_DIR/auth1/cached-consensus
	[ -s "$f" ] || { echo "none yet"; return 0; }
	awk '$1 == "r" { nick = $2 }
		$1 == "s" && nick != "" { printf "%s%s(%s)", sep, nick,
		    substr($0, 3); sep = ", "; nick = "" }
		END { print "" }' "$f"
}

# _tornet_consensus_ok: does auth1's latest consensus list every relay
# Running, and the exits Exit?
_tornet_consensus_ok() {
	local f=$TORNET_DIR/auth1/cached-consensus n
	[ -s "$f" ] || return 1
	n=$(wc -w <<<"$TORNET_RELAYS")
	awk -v want="$n" -v exits=" $TORNET_EXITS " '
		$1 == "r" { nick = $2 }
		$1 == "s" && nick != "" {
			if ($0 ~ / Running( |$)/ &&
			    (index(exits, " " nick " ") == 0 || $0 ~ / Exit( |$)/))
				ok++
			nick = ""
		}
		END { exit !(ok == want) }' "$f"
}

# _tornet_probe: one fetch through the client, from the gateway, of the
# last of the test names (d.test): the exits cache what they resolved
# (5 minutes at least), and a test may want to see the others resolved.
_tornet_probe() {
	ip netns exec "$TG_GNS" curl -sS --max-time 5 \
	    --socks5-hostname "tornet-probe:p@$TORNET_SOCKS" \
	    "http://${TORNET_NAMES##* }/" \
	    2>/dev/null | grep -q "hello from tgs"
}

# _tornet_until WHAT CMD...: wait until CMD succeeds; a failure, said
# with WHAT, when a tor exits or the bring-up's bound has passed.
_tornet_until() {
	local what=$1 pid
	shift
	until "$@"; do
		for pid in "${TORNET_PIDS[@]}"; do
			_tornet_alive "$pid" ||
			    { _tornet_fail "a tor exited before $what"; return 1; }
		done
		[ "$(_tornet_left)" -gt 0 ] ||
		    { _tornet_fail "$what: not within ${TORNET_BOUND} s"; return 1; }
		sleep 0.3
	done
}

tornet_start() {
	local spec name d pid a
	TORNET_T0=$(tg_ms)
	TORNET_END=$((TORNET_T0 + TORNET_BOUND * 1000))
	TORNET_DIR=$TG_TMP/tornet
	mkdir -p "$TORNET_DIR" && chmod 700 "$TORNET_DIR" || return 1
	_gw_net || { diag "tornet: cannot set up the gateway namespace"; return 1; }
	for a in $TORNET_EXIT4; do
		ip -n "$TG_GNS" addr add "$a/24" dev "$TG_CVETH" || return 1
	done
	: >"$TORNET_DIR/empty" &&
	    echo "nameserver $TG_S4:$TORNET_DNS_PORT" >"$TORNET_DIR/resolv.conf"
	_tornet_dns || return 1
	_tornet_keys || return 1
	for spec in $TORNET_RELAYS; do
		_tornet_spec "$spec"
		name=$TORNET_S_NAME
		_tornet_relay_conf "$spec" 10 >"$TORNET_DIR/$name/torrc" || return 1
	done
	mkdir -p "$TORNET_DIR/client" && chmod 700 "$TORNET_DIR/client" &&
	    _tornet_client_conf >"$TORNET_DIR/client/torrc" || return 1

	TORNET_T_KEYS=$(($(tg_ms) - TORNET_T0))
	for spec in $TORNET_RELAYS; do
		_tornet_spec "$spec"
		name=$TORNET_S_NAME
		d=$TORNET_DIR/$name
		_tornet_bg "$d/stdout.log" "$TG_GNS" "$TORNET_TOR" \
		    --defaults-torrc "$TORNET_DIR/empty" -f "$d/torrc"
		[ "${name#auth}" != "$name" ] && TORNET_AUTH_PIDS+=("$TORNET_BG")
	done
	_tornet_until "a consensus listing every relay Running" \
	    _tornet_consensus_ok || return 1
	TORNET_T_CONSENSUS=$(($(tg_ms) - TORNET_T0))

	d=$TORNET_DIR/client
	_tornet_bg "$d/stdout.log" "$TG_GNS" "$TORNET_TOR" \
	    --defaults-torrc "$TORNET_DIR/empty" -f "$d/torrc"
	TORNET_CLIENT_PID=$TORNET_BG

	# The fast schedule has done its work: a consensus with everyone.
	for spec in $TORNET_RELAYS; do
		_tornet_spec "$spec"
		name=$TORNET_S_NAME
		[ "${name#auth}" != "$name" ] || continue
		_tornet_relay_conf "$spec" 300 >"$TORNET_DIR/$name/torrc" || return 1
	done
	for pid in "${TORNET_AUTH_PIDS[@]}"; do
		kill -HUP "$pid"
	done

	_tornet_until "the client's \"Bootstrapped 100%\"" \
	    grep -qs 'Bootstrapped 100%' "$d/notice.log" || return 1
	TORNET_T_BOOT=$(($(tg_ms) - TORNET_T0))
	_tornet_until "a fetch of http://${TORNET_NAMES##* }/ through $TORNET_SOCKS" \
	    _tornet_probe || return 1
	TORNET_UP_MS=$(($(tg_ms) - TORNET_T0))
	return 0
}

# tornet_usage: "RSS-MiB CPU-seconds" of the tors together, so far.
tornet_usage() {
	local pid rss=0 ticks=0 kb t
	for pid in "${TORNET_PIDS[@]}"; do
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = tor ] || continue
		kb=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$pid/status")
		t=$(awk '{print $14 + $15}' "/proc/$pid/stat")
		rss=$((rss + ${kb:-0}))
		ticks=$((ticks + ${t:-0}))
	done
	echo "$((rss / 1024)) $((ticks / $(getconf CLK_TCK)))"
}

# --- the client's ControlPort ----------------------------------------------------

tornet_control() {
	local req="AUTHENTICATE"$'\r\n' c
	for c in "$@"; do
		req+="$c"$'\r\n'
	done
	req+="QUIT"$'\r\n'
	printf %s "$req" |
	    timeout 10 ip netns exec "$TG_GNS" socat -t 5 - "TCP:$TORNET_CONTROL" |
	    tr -d '\r' | sed '1{/^250 OK$/d}; ${/^250 closing connection$/d}'
	[ "${PIPESTATUS[1]}" = 0 ]
}

tornet_streams_start() {
	TORNET_EVENTS=$TORNET_DIR/streams.log
	: >"$TORNET_EVENTS"
	TORNET_MARK=0
	_tornet_bg "$TORNET_DIR/streams.err" "$TG_GNS" bash -c '
		exec 3<>"/dev/tcp/${0%:*}/${0##*:}" || exit 1
		printf "AUTHENTICATE\r\nSETEVENTS STREAM CIRC\r\n" >&3
		exec cat <&3 >>"$1"' "$TORNET_CONTROL" "$TORNET_EVENTS"
	TORNET_READER_PID=$TORNET_BG
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c '^250 OK' "$TORNET_EVENTS")" -ge 2 ] && return 0
		sleep 0.05
	done
	diag "tornet: the STREAM event reader did not subscribe:"
	diag "$(cat "$TORNET_EVENTS" "$TORNET_DIR/streams.err")"
	return 1
}

tornet_streams_mark() {
	TORNET_MARK=$(wc -l <"$TORNET_EVENTS" 2>/dev/null || echo 0)
}

# The events, read back:
#   650 STREAM ID STATUS CIRC TARGET [KEY=VALUE...]
# NEW's TARGET is what was asked for; SOCKS_USERNAME="..." when sent.
tornet_streams() {
	tail -n +"$((TORNET_MARK + 1))" "$TORNET_EVENTS" 2>/dev/null | tr -d '\r' |
	    perl -e '
		my @want = @ARGV; @ARGV = ();
		my (%s, @order);
		while (<STDIN>) {
			chomp;
			next unless /^650 STREAM (\d+) (\S+) (\d+) (\S+)(.*)$/;
			my ($id, $st, $circ, $target, $rest) = ($1, $2, $3, $4, $5);
			# Only what a client asked for: the directory
			# fetches of tor are streams too (PURPOSE=DIR_FETCH),
			# made whenever it refreshes its consensus.
			if (($st eq "NEW" || $st eq "NEWRESOLVE") &&
			    !($rest =~ /\bPURPOSE=(\S+)/ && $1 ne "USER")) {
				my $user = "-";
				if ($rest =~ /\bSOCKS_USERNAME="((?:[^"\\]|\\.)*)"/) {
					($user = $1) =~ s/\\(.)/$1/g;
				}
				$s{$id} = { id => $id, target => $target,
				    user => $user, circ => $circ };
				push @order, $id;
			}
			next unless $s{$id};
			$s{$id}{circ} = $circ if $circ ne "0";
			$s{$id}{status} = $st;
		}
		ID: for my $id (@order) {
			my $r = $s{$id};
			for my $kv (@want) {
				my ($k, $v) = split /=/, $kv, 2;
				next ID unless defined $r->{$k} && $r->{$k} eq $v;
			}
			print join(" ", map { "$_=$r->{$_}" }
			    qw(id target user circ status)), "\n";
		}' "$@"
}

tornet_explain() {
	local ids circs f
	ids=$(tornet_streams | awk -v n="$1" '
		{ t = $2; sub(/^target=/, "", t); sub(/:[0-9]+$/, "", t) }
		t == n { sub(/^id=/, "", $1); print $1 }')
	circs=$(tornet_streams | awk -v n="$1" '
		{ t = $2; sub(/^target=/, "", t); sub(/:[0-9]+$/, "", t) }
		t == n { c = $4; sub(/^circ=/, "", c); if (c != "0") print c }')
	diag "tornet: what the client saw of $1:"
	diag "$(tail -n +"$((TORNET_MARK + 1))" "$TORNET_EVENTS" 2>/dev/null |
	    tr -d '\r' | awk -v ids=" $(echo $ids) " -v circs=" $(echo $circs) " '
		$2 == "STREAM" && index(ids, " " $3 " ") { print "    " $0 }
		$2 == "CIRC" && index(circs, " " $3 " ") { print "    " $0 }')"
	for f in "$TORNET_DIR"/exit*/info.log; do
		diag "  ${f#"$TORNET_DIR"/}, its last lines on connections:"
		diag "$(grep -E 'connection_(exit|edge)|resolve|evdns|dns_|[Ff]ail|refus' "$f" |
		    grep -v -E 'descriptor|consensus|directory|conflux|onion_skin' |
		    tail -n 15 | sed 's/^/    /')"
	done
	diag "  the client's last log lines:"
	diag "$(tail -n 8 "$TORNET_DIR/client/notice.log" 2>/dev/null |
	    sed 's/^/    /')"
}

tornet_wait_stream() {
	local end line
	end=$(($(tg_ms) + ${TG_WAIT:-10} * 1000))
	while :; do
		line=$(tornet_streams "$@" | awk '!/ circ=0 /' | tail -n 1)
		if [ -n "$line" ]; then
			echo "$line"
			return 0
		fi
		[ "$(tg_ms)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

tornet_circuit_of() {
	local line
	line=$(tornet_streams ${2:+user="$2"} | awk -v n="$1" '
		{ t = $2; sub(/^target=/, "", t); h = t; sub(/:[0-9]+$/, "", h) }
		(t == n || h == n) && !/ circ=0 / { last = $0 }
		END { print last }')
	[ -n "$line" ] && kv "$line" circ
}

tornet_circuit_path() {
	tornet_control "GETINFO circuit-status" |
	    awk -v c="$1" '$1 == c || $1 == "250+circuit-status=" c || $1 == "250-circuit-status=" c {
		n = split($3, hop, ",")
		for (i = 1; i <= n; i++) {
			sub(/^.*~/, "", hop[i])
			printf "%s%s", (i > 1 ? " " : ""), hop[i]
		}
		print ""
		exit
	    }'
}
