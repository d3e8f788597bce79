# shellcheck shell=bash disable=SC2034
# tests/integ/lib.sh - sourced by every tests/integ/*.t script.
#
# What it gives a test:
#   TAP        plan N, ok STATUS|'CONDITION' DESC, nok STATUS DESC (passes
#              when STATUS is not 0), is GOT WANT DESC,
#              like GOT REGEX DESC, unlike, diag, note, skip_all REASON.
#   a network  two namespaces joined by a veth pair:
#                client side $TG_CNS  192.0.2.1/24  2001:db8::1/64
#                server side $TG_SNS  192.0.2.2/24  2001:db8::2/64
#              where the server side runs
#                TLS   openssl s_server -www on 443 (names a.test, b.test,
#                      *.b.test, c.test; CA in $TG_CA)
#                HTTP  python3 http.server on 80 (/ says "hello from tgs")
#                SMTP-like banner "220 tgs.test ESMTP ready" on 25
#                      (a server that speaks first)
#                echo  TCP on 7 (sends back what it gets until EOF)
#                drop  TCP on 9: SYNs are dropped, nothing ever answers
#                UDP   echo on 53 and 9999
#              ($TG_WWW is the HTTP server's directory)
#              and an nftables table counting what arrives from the veth:
#                syn_count PORT (TCP SYNs, PORT in 7 9 25 80 443 or "all"),
#                udp_count PORT (datagrams, PORT in 53 9999 or "all").
#   users      tgguard (guarded), tgother (not guarded), _tollgate.
#   clients    as_guard CMD..., as_other CMD...: CMD in the client
#              namespace as that user, under `timeout ${TG_T:-15}`, with a
#              clean environment.  in_client CMD...: as root there.
#   tollgated  tg_conf KEY=VALUE... writes a config and prints its path;
#              tg_start [CONF] runs build/tollgated in the client namespace
#              and waits for "ready:"; tg_stop [TERM|INT|KILL] stops it and
#              sets TG_DEXIT; tg_mark remembers where the log is now;
#              tg_decision KEY=VALUE... waits for the first decision line
#              after the mark with those fields and prints it; kv LINE KEY
#              prints one field; tg_close_line CONN waits for its close
#              line; tg_table_present tells whether "inet tollgate" exists.
#   agents     guard_argv [VAR=VALUE...] CMD... sets TG_ARGV to CMD as
#              tgguard in the client namespace with no time limit (for
#              tg_bg or tty_start).
#   desktop    desk_start [USER]: Xvfb, a session D-Bus and dunst of USER's
#              (tgguard), every notification call monitored; TG_DESK_ENV
#              holds DISPLAY=, XDG_RUNTIME_DIR= (where the bus is, for a
#              setgid agent) and DBUS_SESSION_BUS_ADDRESS=.  desk_run
#              CMD... runs CMD there; desk_pick TEXT... chooses an action
#              in dunst's context menu; desk_notifications lists the
#              Notify/CloseNotification calls and the server's signals,
#              desk_wait_note REGEX [SECS] waits for one; desk_count,
#              desk_wait_count N [SECS]; desk_shot FILE takes a
#              screenshot; desk_stop.
#   terminals  tty_start NAME CMD... (a 100x30 tmux session), tty_keys
#              NAME KEYS..., tty_screen NAME [all], tty_wait NAME REGEX
#              [SECS], tty_dead NAME, tty_exit NAME, tty_stop.
#   prompts    prompt_setup (after tg_setup) sets TG, PROMPT and SOCK,
#              and makes PROMPT setgid _tollgate-prompt, as installed;
#              prompt_conf KEY=VALUE... writes a config that asks;
#              agent_start (tollgate-prompt --tty in tmux), wait_agent;
#              over the tollgated of $CONF: pj EXPR (its pending prompts),
#              wait_pj EXPR WANT [SECS], rj EXPR (its rules); tgguard's
#              curls: bg_curl NAME OUT, done_status OUT [SECS], curl_to
#              NAME.
#   gateway    gateway_start [REFUSED-NAME...]: a third namespace between
#              the client and the servers running Dante, a real SOCKS5
#              server, on $TG_GW4 ports $TG_GWP and $TG_GWP2;
#              gateway_requests, gateway_wait_request, gateway_users,
#              gateway_mark read back what it was asked (port, name or
#              address, username, verdict, reply code); gateway_syn,
#              gateway_stray count what reached it (details below).
#   SOCKS      socks_setup, socks_conf: tollgated with its SOCKS and
#              CONNECT fronts and the gateway as its upstreams;
#              tg_event NAME EXPR, tg_event_conn CONN EXPR read its event
#              rows (by name, by connection).
#   resolver   unbound_start [LOCAL-DATA...]: a real recursive server
#              (Debian's unbound) in the server namespace on $TG_S4 and
#              $TG_S6 port 53 (in place of the UDP echo there), serving
#              the zone test. from local data only, logging every query;
#              unbound_queries, unbound_mark, unbound_wait_query read back
#              what it was asked (details below).
#   raw        rawclient (exact bytes to a front, byte by byte if
#              asked), s5_connect, s5_connect_ip; fakesocks_start PORT
#              MODE: a hostile SOCKS5 server on the gateway; client_etc
#              FILE CONTENT: the client namespace's own /etc/FILE.
#
# Everything started here is stopped, and the namespaces, the temp
# directory and the /etc/netns/NAME of the gateway and the client
# (client_etc) removed, by the EXIT trap.
# Every wait is bounded.

TG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TG_ROOT=$(cd "$TG_LIB_DIR/../.." && pwd)
TG_DAEMON=${TOLLGATED:-$TG_ROOT/build/tollgated}
TG_TOOLS=$TG_LIB_DIR/tools

TG_CNS=tgc-$$
TG_SNS=tgs-$$
TG_CVETH=tgvc-$$
TG_SVETH=tgvs-$$
TG_C4=192.0.2.1
TG_S4=192.0.2.2
TG_C6=2001:db8::1
TG_S6=2001:db8::2
TG_TCP_PORTS="7 9 25 80 443"
TG_UDP_PORTS="53 9999"
TG_GUARD=tgguard
TG_OTHER=tgother
TG_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Every wait for a condition (tg_decision, tg_wait_log, tty_wait, wait_pj,
# wait_agent, the desktop's) gives up after its SECONDS times this: they
# end as soon as the condition holds, so a loaded machine (CI runs the
# tests beside stress-ng) only makes them slower, never fail.
TG_WAIT_SCALE=${TG_WAIT_SCALE:-4}

TG_TMP=
TG_DB=   # tg_conf_kept's database and control socket, set by tg_setup
TG_SOCK=
TG_PROMPT_COPY= # prompt_setup's copy of tollgate-prompt, off a nosuid mount
TG_PIDS=()
TG_NETNS=()
TG_DPID=
TG_DEXIT=
TG_LOG=/dev/null
TG_MARK=0
TG_STARTS=0

# --- TAP ---------------------------------------------------------------

TG_N=0
TG_FAILS=0
TG_PLANNED=

plan() {
	TG_PLANNED=$1
	echo "1..$1"
}

diag() {
	local line
	while IFS= read -r line; do
		echo "# $line"
	done <<<"$*"
}

note() {
	diag "$@"
}

skip_all() {
	TG_PLANNED=0
	echo "1..0 # SKIP $*"
	exit 0
}

# Where a failure happened: the daemon's log since the last tg_mark.
_tg_fail_context() {
	local lines
	[ -s "$TG_LOG" ] || return 0
	lines=$(tail -n +"$((TG_MARK + 1))" "$TG_LOG" | tail -n 20)
	[ -n "$lines" ] || lines=$(tail -n 10 "$TG_LOG")
	[ -n "$lines" ] || return 0
	diag "tollgated log ($(basename "$TG_LOG"), since the mark):"
	diag "$(sed 's/^/    /' <<<"$lines")"
}

_tg_result() {
	local pass=$1 desc=$2
	TG_N=$((TG_N + 1))
	if [ "$pass" = 1 ]; then
		echo "ok $TG_N - $desc"
		return 0
	fi
	TG_FAILS=$((TG_FAILS + 1))
	echo "not ok $TG_N - $desc"
	return 1
}

# ok STATUS DESC (STATUS is an exit status, 0 passes) or
# ok 'CONDITION' DESC (a shell condition, evaluated; its variables are the
# caller's, so this function's own names start with _tg_).
ok() {
	local _tg_cond=$1 _tg_desc=$2 _tg_st
	if [[ $_tg_cond =~ ^[0-9]+$ ]]; then
		_tg_st=$_tg_cond
	else
		(eval "$_tg_cond") >/dev/null 2>&1
		_tg_st=$?
	fi
	if [ "$_tg_st" = 0 ]; then
		_tg_result 1 "$_tg_desc"
	else
		_tg_result 0 "$_tg_desc"
		if [[ $_tg_cond =~ ^[0-9]+$ ]]; then
			diag "  exit status $_tg_cond"
		else
			diag "  condition: $_tg_cond"
		fi
		_tg_fail_context
		return 1
	fi
}

# nok STATUS DESC: passes when STATUS (a command's $?) is not 0: the
# thing was refused, as it should be.
nok() {
	if [ "$1" != 0 ]; then
		_tg_result 1 "$2"
	else
		_tg_result 0 "$2"
		diag "  it succeeded (exit 0), it should have failed"
		_tg_fail_context
		return 1
	fi
}

is() {
	local got=$1 want=$2 desc=$3
	if [ "$got" = "$want" ]; then
		_tg_result 1 "$desc"
	else
		_tg_result 0 "$desc"
		diag "       got: '$got'"
		diag "  expected: '$want'"
		_tg_fail_context
		return 1
	fi
}

like() {
	local got=$1 re=$2 desc=$3
	if [[ $got =~ $re ]]; then
		_tg_result 1 "$desc"
	else
		_tg_result 0 "$desc"
		diag "                  '$got'"
		diag "    doesn't match '$re'"
		_tg_fail_context
		return 1
	fi
}

unlike() {
	local got=$1 re=$2 desc=$3
	if [[ ! $got =~ $re ]]; then
		_tg_result 1 "$desc"
	else
		_tg_result 0 "$desc"
		diag "          '$got'"
		diag "    matches '$re'"
		_tg_fail_context
		return 1
	fi
}

# --- cleanup -------------------------------------------------------------

# _tg_reap PID SECONDS: wait for our child PID to exit, at most SECONDS;
# sets TG_REAPED to its exit status and returns 0, or returns 1 if it is
# still running.  (Not in $(...): a subshell cannot wait for our child.)
_tg_reap() {
	local pid=$1 secs=$2 i state
	TG_REAPED=
	for ((i = 0; i < secs * TG_WAIT_SCALE * 20; i++)); do
		state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
		if [ -z "$state" ] || [ "$state" = Z ]; then
			wait "$pid"
			TG_REAPED=$?
			return 0
		fi
		sleep 0.05
	done
	return 1
} 2>/dev/null # also hides bash's "Killed" notice for the job

_tg_cleanup() {
	local st=$? pid ns i
	trap - EXIT
	if [ -n "$TG_DPID" ]; then
		kill -TERM "$TG_DPID" 2>/dev/null
		_tg_reap "$TG_DPID" 5 ||
		    { kill -KILL "$TG_DPID" 2>/dev/null; _tg_reap "$TG_DPID" 2; }
	fi
	for pid in "${TG_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	# Helpers left behind are killed soon, however loaded the machine.
	for pid in "${TG_PIDS[@]}"; do
		TG_WAIT_SCALE=1 _tg_reap "$pid" 2 ||
		    { kill -KILL "$pid" 2>/dev/null; _tg_reap "$pid" 1; }
	done
	tty_stop
	desk_stop
	gateway_stop
	[ -n "$TG_CLIENT_ETC" ] && rm -rf "$TG_CLIENT_ETC"
	# Whatever still runs inside our namespaces was started by this test
	# (forked server children, clients left by a failed assertion).
	for ns in "${TG_NETNS[@]}"; do
		for i in 1 2 3; do
			pids=$(ip netns pids "$ns" 2>/dev/null)
			[ -n "$pids" ] || break
			# shellcheck disable=SC2086
			kill -KILL $pids 2>/dev/null
			sleep 0.1
		done
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$TG_PLANNED" ] && [ "$TG_N" != "$TG_PLANNED" ]; then
		diag "planned $TG_PLANNED tests but ran $TG_N"
		st=255
	elif [ "$TG_FAILS" -gt 0 ]; then
		diag "failed $TG_FAILS of $TG_N tests"
		st=$((TG_FAILS > 254 ? 254 : TG_FAILS))
	fi
	[ -n "$TG_PROMPT_COPY" ] && rm -rf "$TG_PROMPT_COPY"
	if [ -n "$TG_TMP" ] && [ -d "$TG_TMP" ]; then
		if [ -n "$TG_KEEP" ]; then
			diag "kept $TG_TMP"
		else
			rm -rf "$TG_TMP"
		fi
	fi
	exit "$st"
}

trap _tg_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

# tg_bg CMD...: start CMD in the background, to be stopped at exit.
tg_bg() {
	"$@" &
	TG_PIDS+=($!)
}

# --- set-up --------------------------------------------------------------

_tg_need() {
	local t
	if [ "$(id -u)" != 0 ]; then
		skip_all "needs root (network namespaces, nftables, users)"
	fi
	for t in ip nft curl openssl socat setpriv perl ss timeout /usr/bin/python3; do
		command -v "$t" >/dev/null 2>&1 || skip_all "needs $t"
	done
}

# _tg_user NAME USERADD-OPTIONS...: create a system user unless it exists.
# Another test run may be creating it at the same moment (useradd then
# fails on the lock or the duplicate); it only matters that it exists.
_tg_user() {
	local name=$1 i
	shift
	for i in 1 2 3 4 5; do
		getent passwd "$name" >/dev/null && return 0
		useradd "$@" "$name" 2>/dev/null && return 0
		sleep 0.2
	done
	getent passwd "$name" >/dev/null || {
		diag "cannot create user $name"
		return 1
	}
}

# _tg_group NAME: create a system group unless it exists (as _tg_user).
_tg_group() {
	local i
	for i in 1 2 3 4 5; do
		getent group "$1" >/dev/null && return 0
		groupadd --system "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	getent group "$1" >/dev/null || {
		diag "cannot create group $1"
		return 1
	}
}

_tg_users() {
	_tg_user "$TG_GUARD" --system --user-group --no-create-home \
	    --home-dir /nonexistent --shell /usr/sbin/nologin &&
	_tg_user "$TG_OTHER" --system --user-group --no-create-home \
	    --home-dir /nonexistent --shell /usr/sbin/nologin &&
	_tg_user _tollgate --system --no-create-home \
	    --home-dir /nonexistent --shell /usr/sbin/nologin
}

_tg_pki() {
	local d=$TG_TMP/pki
	mkdir -p "$d" && chmod 755 "$d" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
	    -subj "/CN=tollgate test CA $$" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>"$d/err" &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=a.test" \
	    2>>"$d/err" &&
	printf '%s\n' \
	    'subjectAltName=DNS:a.test,DNS:b.test,DNS:*.b.test,DNS:c.test' \
	    'extendedKeyUsage=serverAuth' >"$d/ext" &&
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" \
	    -CAkey "$d/ca.key" -CAcreateserial -days 2 -extfile "$d/ext" \
	    -out "$d/server.pem" 2>>"$d/err" || { cat "$d/err" >&2; return 1; }
	chmod 644 "$d/ca.pem"
	TG_CA=$d/ca.pem
}

_tg_net() {
	ip netns add "$TG_CNS" || return 1
	TG_NETNS+=("$TG_CNS")
	ip netns add "$TG_SNS" || return 1
	TG_NETNS+=("$TG_SNS")
	# No duplicate address detection, link-local addresses included: a
	# tentative address holds IPv6 back for a second or two after the
	# link comes up (a connect then timed out under connect_timeout=1s).
	local ns
	for ns in "$TG_CNS" "$TG_SNS"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		    net.ipv6.conf.default.accept_dad=0 >/dev/null || return 1
	done
	ip -n "$TG_CNS" link add "$TG_CVETH" type veth \
	    peer name "$TG_SVETH" netns "$TG_SNS" &&
	ip -n "$TG_CNS" link set lo up &&
	ip -n "$TG_SNS" link set lo up &&
	ip -n "$TG_CNS" addr add "$TG_C4/24" dev "$TG_CVETH" &&
	ip -n "$TG_SNS" addr add "$TG_S4/24" dev "$TG_SVETH" &&
	ip -n "$TG_CNS" addr add "$TG_C6/64" dev "$TG_CVETH" nodad &&
	ip -n "$TG_SNS" addr add "$TG_S6/64" dev "$TG_SVETH" nodad &&
	ip -n "$TG_CNS" link set "$TG_CVETH" up &&
	ip -n "$TG_SNS" link set "$TG_SVETH" up || return 1
	# Bounded: until no address of either side is tentative.
	local i
	for ((i = 0; i < 50; i++)); do
		[ -z "$(ip -n "$TG_CNS" -6 addr show tentative)" ] &&
		    [ -z "$(ip -n "$TG_SNS" -6 addr show tentative)" ] && return 0
		sleep 0.1
	done
	echo "lib.sh: IPv6 addresses still tentative after 5 s" >&2
	return 1
}

# _tg_net_warm: one UDP datagram each way over IPv6 and over IPv4, so
# that both sides know each other's link address before a test's first
# packet (the first IPv6 SYN on a fresh veth was lost, and came again only
# after the 1 s retransmission timeout; a lone datagram, as a dig with
# +tries=1 sends, is not sent again at all).  The counters are made after
# this, so these datagrams are not counted.
_tg_net_warm() {
	local warm='
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
socket.socket(fam, socket.SOCK_DGRAM).sendto(b"warm", (sys.argv[1], 9))'
	ip netns exec "$TG_CNS" python3 -c "$warm" "$TG_S6" &&
	    ip netns exec "$TG_SNS" python3 -c "$warm" "$TG_C6" &&
	    ip netns exec "$TG_CNS" python3 -c "$warm" "$TG_S4" &&
	    ip netns exec "$TG_SNS" python3 -c "$warm" "$TG_C4"
}

_tg_counters() {
	local p rules="" decl=""
	for p in $TG_TCP_PORTS all; do
		decl+="counter syn_$p { }"$'\n'
	done
	for p in $TG_UDP_PORTS all; do
		decl+="counter udp_$p { }"$'\n'
	done
	for p in $TG_TCP_PORTS; do
		rules+="tcp dport $p tcp flags & (syn | ack) == syn counter name \"syn_$p\""$'\n'
	done
	rules+="tcp flags & (syn | ack) == syn counter name \"syn_all\""$'\n'
	# Port 9 answers nothing: a destination that never accepts.
	rules+="tcp dport 9 drop"$'\n'
	for p in $TG_UDP_PORTS; do
		rules+="udp dport $p counter name \"udp_$p\""$'\n'
	done
	rules+="meta l4proto udp counter name \"udp_all\""$'\n'
	ip netns exec "$TG_SNS" nft -f - <<EOF
table inet tgcount {
$decl
	chain input {
		type filter hook input priority -150; policy accept;
		iifname != "$TG_SVETH" return
$rules
	}
}
EOF
}

# _tg_listening PROTO PORT: print the local addresses listening on PORT.
_tg_listening() {
	local flag=-ltnH
	[ "$1" = udp ] && flag=-lunH
	ip netns exec "$TG_SNS" ss "$flag" "sport = :$2" 2>/dev/null |
	    awk '{print $4}'
}

# _tg_wait_listen PROTO PORT [COUNT]: wait until COUNT sockets listen.
_tg_wait_listen() {
	local i
	for ((i = 0; i < 100 * TG_WAIT_SCALE; i++)); do
		[ "$(_tg_listening "$1" "$2" | wc -l)" -ge "${3:-1}" ] && return 0
		sleep 0.05
	done
	diag "nothing listens on $1 port $2 in $TG_SNS"
	return 1
}

_tg_servers() {
	local d=$TG_TMP/srv
	TG_WWW=$d/www
	mkdir -p "$TG_WWW" || return 1
	echo "hello from tgs" >"$TG_WWW/index.html"

	tg_bg ip netns exec "$TG_SNS" openssl s_server -www -quiet \
	    -cert "$TG_TMP/pki/server.pem" -key "$TG_TMP/pki/server.key" \
	    -accept "[::]:443" </dev/null >"$d/tls6.log" 2>&1
	_tg_wait_listen tcp 443 || return 1
	# "[::]:443" may or may not take IPv4 too ("*:443" in ss when it does).
	if ! _tg_listening tcp 443 | grep -q '^\*:443$'; then
		tg_bg ip netns exec "$TG_SNS" openssl s_server -www -quiet \
		    -cert "$TG_TMP/pki/server.pem" \
		    -key "$TG_TMP/pki/server.key" \
		    -accept "0.0.0.0:443" </dev/null >"$d/tls4.log" 2>&1
		_tg_wait_listen tcp 443 2 || return 1
	fi

	tg_bg ip netns exec "$TG_SNS" /usr/bin/python3 -I -m http.server 80 \
	    --bind :: --directory "$d/www" </dev/null >"$d/http.log" 2>&1
	_tg_wait_listen tcp 80 || return 1
	if ! _tg_listening tcp 80 | grep -q '^\*:80$'; then
		tg_bg ip netns exec "$TG_SNS" /usr/bin/python3 -I -m http.server \
		    80 --bind 0.0.0.0 --directory "$d/www" </dev/null \
		    >"$d/http4.log" 2>&1
		_tg_wait_listen tcp 80 2 || return 1
	fi

	tg_bg ip netns exec "$TG_SNS" socat \
	    TCP6-LISTEN:25,ipv6only=0,fork,reuseaddr \
	    SYSTEM:'echo "220 tgs.test ESMTP ready"' </dev/null \
	    >"$d/banner.log" 2>&1
	_tg_wait_listen tcp 25 || return 1

	tg_bg ip netns exec "$TG_SNS" socat -t 5 \
	    TCP6-LISTEN:7,ipv6only=0,fork,reuseaddr EXEC:cat </dev/null \
	    >"$d/echo.log" 2>&1
	_tg_wait_listen tcp 7 || return 1

	local p
	for p in $TG_UDP_PORTS; do
		tg_bg ip netns exec "$TG_SNS" socat -T1 \
		    "UDP6-RECVFROM:$p,ipv6only=0,fork" EXEC:cat </dev/null \
		    >"$d/udp$p.log" 2>&1
		_tg_wait_listen udp "$p" || return 1
	done
}

# tg_setup: users, a CA, both namespaces, servers and counters.  Stops
# the script (as a failed test) when any of it cannot be done.
tg_setup() {
	TG_TMP=$(mktemp -d /tmp/tollgate-integ.XXXXXX) || exit 1
	chmod 755 "$TG_TMP"
	TG_DB=$TG_TMP/db/tollgate.db
	TG_SOCK=$TG_TMP/run/control.sock
	if ! { _tg_users && _tg_pki && _tg_net && _tg_net_warm && _tg_counters &&
	    _tg_servers; }; then
		echo "Bail out! cannot set up the test network"
		exit 1
	fi
	TG_GUARD_UID=$(id -u "$TG_GUARD")
	TG_OTHER_UID=$(id -u "$TG_OTHER")
}

# --- what the server side saw ------------------------------------------

_tg_counter() {
	ip netns exec "$TG_SNS" nft list counter inet tgcount "$1" 2>/dev/null |
	    sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# syn_count PORT: TCP connection attempts that reached the server.
syn_count() {
	_tg_counter "syn_$1"
}

# udp_count PORT: UDP datagrams that reached the server.
udp_count() {
	_tg_counter "udp_${1:-all}"
}

# --- clients -------------------------------------------------------------

# as_user USER CMD...: CMD as USER in the client namespace, at most
# ${TG_T:-15} seconds, with a minimal environment.
as_user() {
	local user=$1
	shift
	timeout -k 2 "${TG_T:-15}" ip netns exec "$TG_CNS" \
	    setpriv --reuid="$user" --regid="$user" --init-groups \
	    env -i PATH="$TG_PATH" HOME=/nonexistent LANG=C.UTF-8 "$@"
}

as_guard() {
	as_user "$TG_GUARD" "$@"
}

as_other() {
	as_user "$TG_OTHER" "$@"
}

# in_client CMD...: CMD as root in the client namespace.
in_client() {
	timeout -k 2 "${TG_T:-15}" ip netns exec "$TG_CNS" "$@"
}

# curl's exit status when the connection is reset: 7 (reset while
# connecting), 35 (during the TLS handshake), 55 (while sending), 56 (while
# receiving).  Which one depends on how far curl got when the RST came.
TG_CURL_RESET='^(7|35|55|56)$'

# as_guard "${TG_SHOWPID[@]}" CMD...: prints "pid=PID" first, PID being
# CMD's own (the shell execs it).
TG_SHOWPID=(sh -c 'echo "pid=$$"; exec "$@"' sh)

# tlsclient MODE ARGS...: the odd TLS client, as the guarded user.
tlsclient() {
	as_guard /usr/bin/python3 -I "$TG_TOOLS/tlsclient.py" "$@"
}

# field OUTPUT KEY: the value of "KEY: value" in a tool's output.
field() {
	sed -n "s/^$2: //p" <<<"$1" | head -n 1
}

# tg_ms: a monotonic-enough clock in milliseconds.
tg_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# --- tollgated -------------------------------------------------------------

# tg_conf KEY=VALUE...: write a configuration (guard tgguard, allow,
# info level, unless overridden) and print
# its path.
tg_conf() {
	local -A set=(
		[guard_users]=$TG_GUARD
		[default_action]=allow
		[log_level]=info
		[database]=$TG_TMP/tollgate.db
		[control_socket]=$TG_TMP/control.sock
	)
	local -a order=(guard_users default_action log_level database
	    control_socket)
	local kv k f
	for kv in "$@"; do
		k=${kv%%=*}
		[ -n "${set[$k]+x}" ] || order+=("$k")
		set[$k]=${kv#*=}
	done
	f=$(mktemp "$TG_TMP/tollgate.XXXXXX.conf") || return 1
	chmod 644 "$f"
	{
		echo "# written by $(basename "$0")"
		for k in "${order[@]}"; do
			echo "$k = ${set[$k]}"
		done
	} >"$f"
	echo "$f"
}

# tg_conf_kept KEY=VALUE...: tg_conf with the database at $TG_DB and the
# control socket at $TG_SOCK, in directories tollgated makes its own, so
# the guarded user can neither read the one nor replace the other, as in
# an installed system.
tg_conf_kept() {
	tg_conf database="$TG_DB" control_socket="$TG_SOCK" "$@"
}

# guard_hello ARGV...: run ARGV as tgguard; true when it printed the test
# server's page.
guard_hello() {
	as_guard "$@" 2>/dev/null | grep -q "hello from tgs"
}

# tg_start [CONF]: start tollgated in the client namespace; wait (at most
# 10 s) for its "ready:" line.  Returns 1, with the log as diagnostics,
# when it exits or never gets ready.
tg_start() {
	local conf=${1:-$(tg_conf)} i
	TG_STARTS=$((TG_STARTS + 1))
	TG_LOG=$TG_TMP/tollgated.$TG_STARTS.log
	TG_MARK=0
	TG_DEXIT=
	if [ ! -x "$TG_DAEMON" ]; then
		diag "no $TG_DAEMON (make all)"
		return 1
	fi
	# Background jobs of a script ignore SIGINT; give it back.
	# TG_DAEMON_WRAP: words run before it (e.g. prlimit), unquoted.
	# shellcheck disable=SC2086
	ip netns exec "$TG_CNS" env --default-signal=INT,QUIT $TG_DAEMON_WRAP \
	    "$TG_DAEMON" -c "$conf" </dev/null >"$TG_LOG.out" 2>"$TG_LOG" &
	TG_DPID=$!
	for ((i = 0; i < 200 * TG_WAIT_SCALE; i++)); do
		if grep -qs 'ready:' "$TG_LOG"; then
			tg_mark
			return 0
		fi
		if ! kill -0 "$TG_DPID" 2>/dev/null ||
		    [ "$(awk '{print $3}' "/proc/$TG_DPID/stat" 2>/dev/null)" = Z ]; then
			_tg_reap "$TG_DPID" 1
			TG_DEXIT=$TG_REAPED
			TG_DPID=
			diag "tollgated exited ($TG_DEXIT) before ready:"
			diag "$(sed 's/^/    /' "$TG_LOG" | tail -n 20)"
			return 1
		fi
		sleep 0.05
	done
	diag "tollgated not ready after $((10 * TG_WAIT_SCALE)) s:"
	diag "$(sed 's/^/    /' "$TG_LOG" | tail -n 20)"
	return 1
}

# tg_stop [TERM|INT|KILL]: signal tollgated and wait for it (5 s, then
# SIGKILL).  Sets TG_DEXIT to its exit status (137 after SIGKILL, "" if it
# had to be killed after a gentler signal did not stop it).
tg_stop() {
	local sig=${1:-TERM}
	TG_DEXIT=
	[ -n "$TG_DPID" ] || return 1
	kill -"$sig" "$TG_DPID" 2>/dev/null
	if _tg_reap "$TG_DPID" 5; then
		TG_DEXIT=$TG_REAPED
	else
		diag "tollgated still running 5 s after SIG$sig; killing it"
		kill -KILL "$TG_DPID" 2>/dev/null
		_tg_reap "$TG_DPID" 2
	fi
	TG_DPID=
	[ -n "$TG_DEXIT" ]
}

# tg_mark: later tg_decision/tg_wait_log calls only look past this point.
tg_mark() {
	TG_MARK=$(wc -l <"$TG_LOG" 2>/dev/null || echo 0)
}

_tg_since() {
	tail -n +"$((TG_MARK + 1))" "$TG_LOG" 2>/dev/null
}

# _tg_wait_line REGEX SECONDS CMD...: wait until CMD prints a line that
# matches the extended REGEX (CMD runs again every 0.05 s); print the
# first one.
_tg_wait_line() {
	local re=$1 secs=$2 i line
	shift 2
	for ((i = 0; i < secs * TG_WAIT_SCALE * 20; i++)); do
		line=$("$@" | grep -E -m 1 -e "$re")
		if [ -n "$line" ]; then
			echo "$line"
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# tg_wait_log REGEX [SECONDS]: wait for a log line past the mark that
# matches the extended REGEX; print the first one.
tg_wait_log() {
	_tg_wait_line "$1" "${2:-5}" _tg_since
}

# The fields of "tollgated: info: decision k=v k="v w" ..." lines on stdin
# that carry every KEY=VALUE of the arguments; prints the matching lines.
_tg_decision_filter() {
	perl -e '
		my @want = map { [ split /=/, $_, 2 ] } @ARGV;
		@ARGV = ();
		while (my $line = <STDIN>) {
			next unless $line =~ /^tollgated: info: decision /;
			my %f;
			while ($line =~ /(?:^|\s)(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g) {
				my ($k, $v) = ($1, $2);
				$v =~ s/\\(.)/$1/g if $v =~ s/^"(.*)"$/$1/s;
				$f{$k} = $v;
			}
			next if grep { !defined $f{$_->[0]} || $f{$_->[0]} ne $_->[1] } @want;
			print $line;
		}' "$@"
}

# tg_decision KEY=VALUE...: wait (at most ${TG_WAIT:-5} s) for a decision
# line past the mark carrying these fields; print the first.
tg_decision() {
	local i line
	for ((i = 0; i < ${TG_WAIT:-5} * TG_WAIT_SCALE * 20; i++)); do
		line=$(_tg_since | _tg_decision_filter "$@" | head -n 1)
		if [ -n "$line" ]; then
			echo "$line"
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# tg_decisions KEY=VALUE...: how many decision lines past the mark carry
# these fields (no waiting).
tg_decisions() {
	_tg_since | _tg_decision_filter "$@" | wc -l
}

# kv LINE KEY: the value of KEY in a log line (quotes removed).
kv() {
	perl -e '
		my ($line, $key) = @ARGV;
		while ($line =~ /(?:^|\s)(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g) {
			my ($k, $v) = ($1, $2);
			next unless $k eq $key;
			$v =~ s/\\(.)/$1/g if $v =~ s/^"(.*)"$/$1/s;
			print $v;
			exit 0;
		}
		exit 1;' "$1" "$2"
}

# tg_close_line CONN: wait for the close line of connection CONN.
tg_close_line() {
	tg_wait_log "^tollgated: info: close conn=$1( |\$)" "${2:-5}"
}

# tg_table_present: does the client namespace hold table inet tollgate?
tg_table_present() {
	ip netns exec "$TG_CNS" nft list table inet tollgate >/dev/null 2>&1
}

# Before the script prints its plan: without root or the tools, skip it all.
_tg_need

# ===========================================================================
# Desktop and terminal prompts: a private X display with a notification
# server, and terminals to type into.  Nothing here needs tg_setup's
# network, only $TG_TMP (made here when tg_setup has not run; call
# tg_setup first when the test wants both).
# ===========================================================================

# _tg_tmp: make $TG_TMP unless tg_setup already did.
_tg_tmp() {
	[ -n "$TG_TMP" ] && [ -d "$TG_TMP" ] && return 0
	TG_TMP=$(mktemp -d /tmp/tollgate-integ.XXXXXX) || return 1
	chmod 755 "$TG_TMP"
}

# guard_argv [VAR=VALUE...] CMD...: set the array TG_ARGV to a command
# line that runs CMD as tgguard in the client namespace with as_guard's
# clean environment plus the VARs, and no time limit: for agents that run
# the whole test, started with tg_bg "${TG_ARGV[@]}" (which then tracks
# CMD's own pid: every step execs the next) or tty_start NAME
# "${TG_ARGV[@]}".
guard_argv() {
	local -a envs=()
	while [ $# -gt 0 ] && [[ $1 == [A-Za-z_]*=* ]]; do
		envs+=("$1")
		shift
	done
	TG_ARGV=(ip netns exec "$TG_CNS" setpriv --reuid="$TG_GUARD"
	    --regid="$TG_GUARD" --init-groups env -i PATH="$TG_PATH"
	    HOME=/nonexistent LANG=C.UTF-8 "${envs[@]}" "$@")
}

# --- desktop -------------------------------------------------------------
#
# desk_start [USER]: a desktop of USER's (default tgguard) for this test:
#   Xvfb on a free display (1024x400, -nolisten tcp, no access control),
#   a session D-Bus of USER's listening on $TG_DESK/run/bus, that is
#   $XDG_RUNTIME_DIR/bus as on a systemd desktop (/run/user/UID/bus):
#   where a setgid tollgate-prompt finds it, GLib ignoring
#   DBUS_SESSION_BUS_ADDRESS then (a path, so it is reachable from the
#   client namespace too; no service activation, so nothing but our
#   dunst ever answers org.freedesktop.Notifications),
#   busctl monitoring every org.freedesktop.Notifications call, signal and
#   reply into $TG_DESK/monitor.json, and dunst (never expiring anything,
#   duplicates not stacked) whose context menu ("dmenu") is the picker
#   script $TG_DESK/picker.
#   Sets TG_DISPLAY (":N"), TG_BUS (the bus address) and TG_DESK_ENV
#   (DISPLAY=... XDG_RUNTIME_DIR=... DBUS_SESSION_BUS_ADDRESS=..., for
#   guard_argv).
# desk_run CMD...: CMD as USER on that desktop (at most ${TG_T:-15} s).
# desk_pick TEXT...: choose, in dunst's context menu, the first action
#   whose menu line contains every TEXT, and wait (5 s) until dunst has
#   told the application (an ActionInvoked signal).  dunst 1.9 lists
#   the actions of every displayed notification, one a line, as
#       #LABEL (SUMMARY) [NOTIFICATION-ID,ACTION-KEY]
#   so TEXT may be a label, a summary or "[7,allow"; the menus dunst
#   offered are kept in $TG_DESK/menu.log.  Returns 1, saying why, when
#   no notification is displayed, nothing matches or nothing was invoked.
# desk_notifications: what the applications asked of the notification
#   server, from the monitor, one line each, in order:
#       notify id=N replaces=N app="..." summary="..." body="..."
#              actions="KEY=LABEL;KEY=LABEL" timeout=MS urgency=N sender=:1.N
#       close id=N sender=:1.N         (CloseNotification by the app)
#       closed id=N reason=N           (NotificationClosed from the server)
#       action id=N key=KEY            (ActionInvoked from the server)
#   Quoted as kv() reads them; a newline inside a value shows as " | ".
#   id is the server's id (the reply to Notify), 0 when it never replied.
# desk_wait_note REGEX [SECONDS]: wait (default 10 s) until one of
#   desk_notifications's lines matches the extended REGEX; print the first.
# desk_count: notifications dunst displays now.  desk_wait_count N
#   [SECONDS]: wait (default 5 s) until it is N.
# desk_shot FILE: a PNG screenshot of the whole screen.
# desk_stop: stop all of it (the EXIT trap does too).

TG_DESK=
TG_DESK_USER=
TG_DISPLAY=
TG_BUS=
TG_DESK_ENV=()
TG_DESK_PIDS=()

# _desk_argv CMD...: set TG_DESK_ARGV to CMD as the desktop's user with
# its environment (setpriv and env exec CMD: one pid throughout).
_desk_argv() {
	TG_DESK_ARGV=(setpriv --reuid="$TG_DESK_USER" --regid="$TG_DESK_USER"
	    --init-groups env -i PATH="$TG_PATH" HOME="$TG_DESK/home"
	    LANG=C.UTF-8 XDG_CONFIG_HOME="$TG_DESK/home/.config"
	    XDG_DATA_HOME="$TG_DESK/home/.local/share"
	    XDG_CACHE_HOME="$TG_DESK/home/.cache"
	    XDG_RUNTIME_DIR="$TG_DESK/run" "${TG_DESK_ENV[@]}" "$@")
}

# _desk_as CMD...: run CMD that way, in the foreground.
_desk_as() {
	local -a TG_DESK_ARGV
	_desk_argv "$@"
	"${TG_DESK_ARGV[@]}"
}

# _desk_bg_as CMD...: start CMD that way, to be stopped by desk_stop.
_desk_bg_as() {
	local -a TG_DESK_ARGV
	_desk_argv "$@"
	_desk_bg "${TG_DESK_ARGV[@]}"
}

# _desk_bg CMD...: start CMD in the background, to be stopped by desk_stop.
_desk_bg() {
	"$@" &
	TG_DESK_PIDS+=($!)
}

# _desk_wait SECONDS DESC CMD...: poll CMD until it succeeds.
_desk_wait() {
	local secs=$1 desc=$2 i
	shift 2
	for ((i = 0; i < secs * TG_WAIT_SCALE * 20; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	diag "desktop: $desc not within $((secs * TG_WAIT_SCALE)) s"
	return 1
}

_desk_files() {
	local d=$TG_DESK
	mkdir -p "$d/home/.config" "$d/home/.local/share" "$d/home/.cache" \
	    "$d/run" || return 1
	chmod 700 "$d/run"
	: >"$d/pick"
	chmod 644 "$d/pick"

	cat >"$d/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$d/run/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF

	cat >"$d/picker" <<PICKER
#!/bin/sh
# dunst's dmenu for a test: the menu's lines come on stdin; print the first
# that contains every line of $d/pick (nothing when none does).
d=$d
cat >"\$d/menu.tmp"
{ echo "--- menu"; cat "\$d/menu.tmp"; echo; } >>"\$d/menu.log"
awk 'FILENAME == ARGV[1] { if (\$0 != "") want[++n] = \$0; next }
     n > 0 { for (i = 1; i <= n; i++) if (index(\$0, want[i]) == 0) next
             print; exit }' "\$d/pick" "\$d/menu.tmp" >"\$d/picked.tmp"
mv "\$d/picked.tmp" "\$d/picked"
cat "\$d/picked"
PICKER
	chmod 755 "$d/picker"

	cat >"$d/dunstrc" <<DUNSTRC
# dunst for tollgate's desktop prompt tests
[global]
    monitor = 0
    follow = none
    width = 760
    height = 360
    origin = top-left
    offset = 12x12
    notification_limit = 0
    progress_bar = false
    indicate_hidden = yes
    separator_height = 2
    padding = 10
    horizontal_padding = 12
    frame_width = 2
    frame_color = "#8a8a8a"
    separator_color = frame
    sort = no
    idle_threshold = 0
    font = DejaVu Sans Mono 11
    line_height = 2
    markup = full
    format = "<b>%s</b>\n%b"
    alignment = left
    vertical_alignment = top
    show_age_threshold = -1
    ellipsize = end
    ignore_newline = no
    stack_duplicates = false
    hide_duplicate_count = false
    show_indicators = yes
    icon_position = off
    sticky_history = yes
    history_length = 100
    dmenu = $d/picker -p dunst:
    browser = /bin/true
    always_run_script = false
    title = Dunst
    class = Dunst
    ignore_dbusclose = false
    mouse_left_click = none
    mouse_middle_click = none
    mouse_right_click = none
[urgency_low]
    background = "#1d2b3a"
    foreground = "#e8e8e8"
    timeout = 0
[urgency_normal]
    background = "#1d2b3a"
    foreground = "#ffffff"
    timeout = 0
[urgency_critical]
    background = "#5a1d1d"
    foreground = "#ffffff"
    frame_color = "#d08a2a"
    timeout = 0
DUNSTRC
	chown -R "$TG_DESK_USER:" "$d"
	chmod 755 "$d"
}

_desk_has_dunst() {
	[ "$(_desk_as timeout 5 dunstctl is-paused 2>/dev/null)" = false ]
}

desk_start() {
	local user=${1:-$TG_GUARD} t disp i
	for t in Xvfb dbus-daemon busctl dunst dunstctl import; do
		command -v "$t" >/dev/null 2>&1 ||
		    { diag "desktop: needs $t"; return 1; }
	done
	_tg_tmp || return 1
	if ! getent passwd "$user" >/dev/null; then
		_tg_users || return 1
	fi
	TG_DESK_USER=$user
	TG_DESK=$TG_TMP/desk
	TG_DESK_ENV=()
	mkdir -p "$TG_DESK" && _desk_files || return 1

	# Xvfb picks a free display itself and writes its number once it
	# accepts clients.
	_desk_bg Xvfb -displayfd 3 -screen 0 1024x400x24 -nolisten tcp -ac \
	    -noreset 3>"$TG_DESK/display" </dev/null >"$TG_DESK/xvfb.log" 2>&1
	for ((i = 0; i < 200; i++)); do
		disp=$(tr -dc 0-9 <"$TG_DESK/display")
		[ -n "$disp" ] && break
		sleep 0.05
	done
	if [ -z "$disp" ]; then
		diag "desktop: Xvfb did not start:"
		diag "$(sed 's/^/    /' "$TG_DESK/xvfb.log" | tail -n 10)"
		return 1
	fi
	TG_DISPLAY=:$disp
	TG_BUS=unix:path=$TG_DESK/run/bus

	_desk_bg_as dbus-daemon --config-file="$TG_DESK/bus.conf" \
	    --nofork --nopidfile --nosyslog </dev/null \
	    >"$TG_DESK/bus.log" 2>&1
	_desk_wait 10 "the session bus" test -S "$TG_DESK/run/bus" || return 1
	TG_DESK_ENV=(DISPLAY="$TG_DISPLAY" XDG_RUNTIME_DIR="$TG_DESK/run"
	    DBUS_SESSION_BUS_ADDRESS="$TG_BUS")

	: >"$TG_DESK/monitor.json"
	_desk_bg_as busctl --address="$TG_BUS" monitor --json=short \
	    --match "interface=org.freedesktop.Notifications" \
	    --match "type=method_return,sender=org.freedesktop.Notifications" \
	    </dev/null >"$TG_DESK/monitor.json" 2>"$TG_DESK/monitor.log"
	_desk_wait 10 "the bus monitor" \
	    grep -q 'Monitoring' "$TG_DESK/monitor.log" || return 1

	_desk_bg_as dunst -config "$TG_DESK/dunstrc" </dev/null \
	    >"$TG_DESK/dunst.log" 2>&1
	if ! _desk_wait 10 "dunst" _desk_has_dunst; then
		diag "$(sed 's/^/    /' "$TG_DESK/dunst.log" | tail -n 10)"
		return 1
	fi
}

desk_run() {
	[ -n "$TG_DESK_USER" ] || { diag "desk_run: no desktop"; return 1; }
	_desk_as timeout -k 2 "${TG_T:-15}" "$@"
}

# _desk_actions: how many ActionInvoked signals the monitor saw.
_desk_actions() {
	grep -c '"member":"ActionInvoked"' "$TG_DESK/monitor.json"
}

desk_pick() {
	local before i picked
	[ -n "$TG_DISPLAY" ] || { diag "desk_pick: no desktop"; return 1; }
	printf '%s\n' "$@" >"$TG_DESK/pick"
	rm -f "$TG_DESK/picked"
	before=$(_desk_actions)
	if [ "$(desk_count)" = 0 ]; then
		diag "desk_pick: no notification is displayed"
		return 1
	fi
	desk_run dunstctl context ||
	    { diag "desk_pick: dunstctl context failed"; return 1; }
	for ((i = 0; i < 100 * TG_WAIT_SCALE; i++)); do
		[ -f "$TG_DESK/picked" ] && break
		sleep 0.05
	done
	if [ ! -f "$TG_DESK/picked" ]; then
		diag "desk_pick: dunst did not open its menu within $((5 * TG_WAIT_SCALE)) s"
		return 1
	fi
	picked=$(cat "$TG_DESK/picked")
	if [ -z "$picked" ]; then
		diag "desk_pick: no menu line holds all of: $*; the menu was:"
		diag "$(sed 's/^/    /' "$TG_DESK/menu.tmp")"
		return 1
	fi
	for ((i = 0; i < 100 * TG_WAIT_SCALE; i++)); do
		[ "$(_desk_actions)" -gt "$before" ] && return 0
		sleep 0.05
	done
	diag "desk_pick: chose '$picked' but dunst invoked nothing within $((5 * TG_WAIT_SCALE)) s"
	return 1
}

desk_notifications() {
	[ -n "$TG_DESK" ] && [ -f "$TG_DESK/monitor.json" ] || return 1
	python3 - "$TG_DESK/monitor.json" <<'PY'
import json, sys

def q(v):
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + s.replace("\r\n", " | ").replace("\n", " | ") + '"'

msgs = []
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        msgs.append(json.loads(line))
    except ValueError:
        pass
replies = {}
for m in msgs:
    if m.get("type") == "method_return":
        replies[(m.get("destination"), m.get("reply_cookie"))] = m
for m in msgs:
    member = m.get("member")
    data = (m.get("payload") or {}).get("data") or []
    if m.get("type") == "method_call" and member == "Notify" and len(data) >= 8:
        app, replaces, _icon, summary, body, actions, hints, timeout = data[:8]
        r = replies.get((m.get("sender"), m.get("cookie")))
        nid = 0
        if r is not None:
            rd = (r.get("payload") or {}).get("data") or [0]
            nid = rd[0]
        acts = ";".join("%s=%s" % (actions[i], actions[i + 1])
                        for i in range(0, len(actions) - 1, 2))
        urg = (hints.get("urgency") or {}).get("data", "-")
        print("notify id=%s replaces=%s app=%s summary=%s body=%s actions=%s "
              "timeout=%s urgency=%s sender=%s" % (nid, replaces, q(app),
              q(summary), q(body), q(acts), timeout, urg, m.get("sender")))
    elif m.get("type") == "method_call" and member == "CloseNotification":
        print("close id=%s sender=%s" % (data[0] if data else "-",
                                         m.get("sender")))
    elif m.get("type") == "signal" and member == "NotificationClosed":
        print("closed id=%s reason=%s" % tuple((data + ["-", "-"])[:2]))
    elif m.get("type") == "signal" and member == "ActionInvoked":
        print("action id=%s key=%s" % tuple((data + ["-", "-"])[:2]))
PY
}

desk_wait_note() {
	_tg_wait_line "$1" "${2:-10}" desk_notifications
}

desk_count() {
	desk_run dunstctl count displayed 2>/dev/null || echo 0
}

desk_wait_count() {
	local i
	for ((i = 0; i < ${2:-5} * 10; i++)); do
		[ "$(desk_count)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

desk_shot() {
	[ -n "$TG_DISPLAY" ] || { diag "desk_shot: no desktop"; return 1; }
	timeout -k 2 10 import -display "$TG_DISPLAY" -window root "$1"
}

desk_stop() {
	local pid i
	# The reverse of the start: dunst, the monitor, the bus, then X.
	for ((i = ${#TG_DESK_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${TG_DESK_PIDS[i]}
		kill -TERM "$pid" 2>/dev/null
		_tg_reap "$pid" 3 ||
		    { kill -KILL "$pid" 2>/dev/null; _tg_reap "$pid" 1; }
	done
	TG_DESK_PIDS=()
	TG_DISPLAY=
	TG_BUS=
	TG_DESK_ENV=()
}

# --- terminals ------------------------------------------------------------
#
# tty_start NAME CMD...: a detached tmux session NAME, 100x30, on a private
#   server ($TG_TMP/tmux.sock, no user config), running CMD (directly, no
#   shell); the pane stays after CMD exits, so its last screen can still
#   be read.  TERM inside is tmux-256color.
# tty_keys NAME KEYS...: tmux send-keys (so "Enter", "C-c", "y" or -l TEXT).
# tty_screen NAME [all]: the visible screen, as text; with "all", the
#   lines scrolled off it too (when CMD exits, tmux's "Pane is dead" line
#   may push the last screen up into that history).
# tty_wait NAME REGEX [SECONDS]: wait (default 5 s) until the screen, as
#   one string, matches the extended REGEX; prints the last screen read
#   either way, returns 1 on timeout.
# tty_dead NAME: has CMD exited?  tty_exit NAME: its exit status then
#   ("signal N" when a signal ended it).
# tty_pid NAME: CMD's pid.  tty_alt NAME: 1 while the pane shows the
#   alternate screen (a full-screen program's), else 0.  tty_icanon NAME:
#   its terminal's line mode as stty says it, "icanon" (lines, as a
#   shell leaves it) or "-icanon" (keys as typed).
# tty_stop: kill the tmux server (the EXIT trap does too).

TG_TMUX=
TG_TMUX_PID=

_tmux() {
	timeout -k 2 10 tmux -S "$TG_TMUX" -f "$TG_TMP/tmux.conf" "$@"
}

tty_start() {
	local name=$1
	shift
	command -v tmux >/dev/null 2>&1 || { diag "tty: needs tmux"; return 1; }
	_tg_tmp || return 1
	TG_TMUX=$TG_TMP/tmux.sock
	if [ ! -f "$TG_TMP/tmux.conf" ]; then
		printf '%s\n' 'set -g remain-on-exit on' 'set -g history-limit 2000' \
		    'set -g default-terminal tmux-256color' 'set -g status off' \
		    'set -g exit-empty off' 'set -g default-size 100x30' >"$TG_TMP/tmux.conf"
	fi
	_tmux new-session -d -s "$name" -x 100 -y 30 -- "$@" || return 1
	[ -n "$TG_TMUX_PID" ] || TG_TMUX_PID=$(_tmux display-message -p '#{pid}')
}

tty_keys() {
	local name=$1
	shift
	_tmux send-keys -t "$name" "$@"
}

tty_screen() {
	if [ "$2" = all ]; then
		_tmux capture-pane -p -S - -t "$1"
	else
		_tmux capture-pane -p -t "$1"
	fi
}

tty_wait() {
	local name=$1 re=$2 secs=${3:-5} i scr
	for ((i = 0; i < secs * TG_WAIT_SCALE * 10; i++)); do
		scr=$(tty_screen "$name")
		if [[ $scr =~ $re ]]; then
			printf '%s\n' "$scr"
			return 0
		fi
		sleep 0.1
	done
	printf '%s\n' "$scr"
	return 1
}

# tmux marks the pane dead when its terminal closes, and learns the exit
# status when it reaps the process; tmux 3.3 now and then misses the
# SIGCHLD and leaves it a zombie with no status.  Dead means both here,
# and a dead pane without a status gets tmux reminded.
_tty_dead() {
	_tmux display-message -p -t "$1" \
	    '#{pane_dead}:#{pane_dead_status}#{pane_dead_signal}'
}

tty_dead() {
	local st
	st=$(_tty_dead "$1")
	[[ $st =~ ^1:.+ ]] && return 0
	[ "$st" = 1: ] && [ -n "$TG_TMUX_PID" ] || return 1
	kill -CHLD "$TG_TMUX_PID" 2>/dev/null
	sleep 0.1
	[[ $(_tty_dead "$1") =~ ^1:.+ ]]
}

tty_exit() {
	_tmux display-message -p -t "$1" \
	    '#{pane_dead_status}#{?pane_dead_signal,signal #{pane_dead_signal},}'
}

tty_pid() {
	_tmux display-message -p -t "$1" '#{pane_pid}'
}

tty_alt() {
	_tmux display-message -p -t "$1" '#{alternate_on}'
}

tty_icanon() {
	stty -a -F "$(_tmux display-message -p -t "$1" '#{pane_tty}')" |
	    grep -o -w -e '-\?icanon'
}

tty_stop() {
	[ -n "$TG_TMUX" ] || return 0
	_tmux kill-server >/dev/null 2>&1
	if [ -n "$TG_TMUX_PID" ]; then
		local i
		local st
		for ((i = 0; i < 40; i++)); do
			st=$(awk '{print $3}' "/proc/$TG_TMUX_PID/stat" 2>/dev/null)
			[ -z "$st" ] || [ "$st" = Z ] && break
			sleep 0.05
		done
		kill -KILL "$TG_TMUX_PID" 2>/dev/null
	fi
	TG_TMUX=
	TG_TMUX_PID=
}

# --- prompts ----------------------------------------------------------------
#
# prompt_setup: after tg_setup, what a test of prompts starts with: TG
#   (build/tollgate), PROMPT (build/tollgate-prompt; without it the script
#   bails out) and SOCK, the control socket, under $TG_TMP, which is
#   opened (711) so that tgguard's agent can reach it.  PROMPT is made
#   what make install makes it, setgid _tollgate-prompt (2755; the group
#   is created when missing), at every start: make builds it anew.
# prompt_conf KEY=VALUE...: tg_conf for prompts (default_action = deny,
#   the database and $SOCK under $TG_TMP, prompt_program = $PROMPT).
# agent_start: tollgate-prompt --tty of $CONF as tgguard in the tmux
#   session "agent".  wait_agent [N]: until tollgated's STATUS says
#   agents=N (default 1; 15 s: an agent retries every 2 s).
# pj EXPR: the Python expression EXPR over ps, the pending prompts of the
#   tollgated of $CONF (tollgate prompts --json, a dict each), printed.
#   wait_pj EXPR WANT [SECONDS]: until pj EXPR prints WANT (default 10 s);
#   says what it printed instead when it never does.
# rj EXPR: the same over rs, its rules (tollgate rules list --json).
# bg_curl NAME OUT: tgguard fetches https://NAME/ in the background; OUT
#   gets "pid=PID" (curl's), curl's "code=NNN" and, once it ended,
#   "exit=STATUS".  done_status OUT [SECONDS]: wait (default 10 s) for
#   that end; print the exit status ("" when it is still running).
# curl_to NAME: tgguard fetches https://NAME/ in the foreground; curl's
#   exit status.

prompt_setup() {
	chmod 711 "$TG_TMP"
	TG=$TG_ROOT/build/tollgate
	PROMPT=$TG_ROOT/build/tollgate-prompt
	SOCK=$TG_SOCK
	[ -x "$PROMPT" ] || { echo "Bail out! no $PROMPT (make all)"; exit 1; }
	# setgid does nothing on a nosuid mount: then a copy where it works.
	if _tg_nosuid "$PROMPT"; then
		local d
		for d in /var/tmp /var/lib /usr/local/lib ""; do
			[ -n "$d" ] && [ -d "$d" ] && ! _tg_nosuid "$d" && break
		done
		[ -n "$d" ] ||
		    { echo "Bail out! $PROMPT is on a nosuid mount, and so is every place to copy it"; exit 1; }
		TG_PROMPT_COPY=$(mktemp -d "$d/tollgate-prompt.XXXXXX") &&
		    chmod 755 "$TG_PROMPT_COPY" &&
		    cp "$PROMPT" "$TG_PROMPT_COPY/tollgate-prompt" ||
		    { echo "Bail out! cannot copy $PROMPT to $d"; exit 1; }
		note "$PROMPT is on a nosuid mount: testing a copy in $TG_PROMPT_COPY"
		PROMPT=$TG_PROMPT_COPY/tollgate-prompt
	fi
	_tg_group _tollgate-prompt && chgrp _tollgate-prompt "$PROMPT" &&
	    chmod 2755 "$PROMPT" ||
	    { echo "Bail out! cannot make $PROMPT setgid _tollgate-prompt"; exit 1; }
}

# _tg_nosuid PATH: whether PATH is on a mount with nosuid.
_tg_nosuid() {
	findmnt -no OPTIONS -T "$1" 2>/dev/null | tr , '\n' | grep -qx nosuid
}

prompt_conf() {
	tg_conf_kept default_action=deny prompt_program="$PROMPT" "$@"
}

# shellcheck disable=SC2153 # CONF is the script's: prompt_conf's output
agent_start() {
	guard_argv TERM=tmux-256color "$PROMPT" -c "$CONF" --tty
	tty_start agent "${TG_ARGV[@]}"
}

wait_agent() {
	local i
	for ((i = 0; i < 150 * TG_WAIT_SCALE; i++)); do
		echo STATUS | socat -t 2 - "UNIX-CONNECT:$SOCK" 2>/dev/null |
		    grep -q " agents=${1:-1} " && return 0
		sleep 0.1
	done
	return 1
}

pj() {
	"$TG" -c "$CONF" prompts --json 2>/dev/null | python3 -c '
import json, sys
ps = [json.loads(l) for l in sys.stdin if l.strip()]
print(eval(sys.argv[1]))' "$1"
}

wait_pj() {
	local i
	for ((i = 0; i < ${3:-10} * TG_WAIT_SCALE * 10; i++)); do
		[ "$(pj "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	diag "pj '$1' prints '$(pj "$1")', not '$2'"
	return 1
}

rj() {
	"$TG" -c "$CONF" rules list --json 2>/dev/null | python3 -c '
import json, sys
rs = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"
}

bg_curl() {
	(
		TG_T=45 as_guard "${TG_SHOWPID[@]}" curl -sS --max-time 40 \
		    --cacert "$TG_CA" --resolve "$1:443:$TG_S4" -o /dev/null \
		    -w 'code=%{http_code}\n' "https://$1/" >"$2" 2>&1
		echo "exit=$? end=$(tg_ms)" >>"$2"
	) &
}

# done_ms FILE: when a bg_curl of FILE finished (tg_ms), once done_status
# has seen it.
done_ms() {
	sed -n 's/^exit=.* end=//p' "$1"
}

done_status() {
	local i
	for ((i = 0; i < ${2:-10} * TG_WAIT_SCALE * 20; i++)); do
		grep -q '^exit=' "$1" 2>/dev/null && break
		sleep 0.05
	done
	sed -n 's/^exit=\([0-9]*\).*/\1/p' "$1"
}

curl_to() {
	as_guard curl -sS --max-time 8 --cacert "$TG_CA" \
	    --resolve "$1:443:$TG_S4" -o /dev/null "https://$1/" 2>/dev/null
}

# ===========================================================================
# A SOCKS gateway: a real SOCKS5 server (Dante, Debian's dante-server)
# between the client namespace and the servers, as on a Tor-style
# workstation whose only way out is its gateway's SocksPort.
# ===========================================================================
#
# gateway_start [REFUSED-NAME...]: after tg_setup, the namespace $TG_GNS:
#   client side  $TG_CNS  $TG_GWC4 (10.152.152.11/24), default route via
#   gateway      $TG_GNS  $TG_GW4  (10.152.152.10/24)
#   The client's end of tg_setup's veth pair is moved into the gateway
#   ($TG_C4 and $TG_C6 with it): the servers are reachable from the
#   gateway only (it forwards nothing), and syn_count still counts what
#   reaches them.  Dante's danted listens on $TG_GW4 port 9050 ($TG_GWP)
#   and 9102 ($TG_GWP2), offers the methods username/password (any
#   name and password are accepted, through a PAM service of this
#   namespace that permits all) and none, resolves the test names
#   (a.test b.test c.test x.b.test y.b.test d.test) to $TG_S4 through an
#   /etc/hosts of its namespace (/etc/netns/$TG_GNS/hosts) and nothing
#   else, and refuses every REFUSED-NAME with a `socks block` rule (reply
#   0x02, "not allowed by ruleset").  It logs at debug level 1 into
#   $TG_GW_LOG, which is what the functions below read.
# gateway_mark [0]: later gateway_requests calls only see what came
#   after now (with 0: everything again).
# gateway_requests [KEY=VALUE...]: the SOCKS requests Dante received
#   since the mark that carry every KEY=VALUE, one line each, in order:
#       port=9050 atyp=name dst=a.test:443 user=NAME verdict=pass rep=0
#           cmd=1 ver=5 auth=pam.username src=10.152.152.11.40000
#   port is the one it was accepted on, atyp name|ipv4|ipv6 (what the
#   request carried: a name or an address), user "-" without
#   username/password, verdict pass|block (Dante's rules), rep the reply
#   code it sent ("-" when it sent none: a success's reply is found by
#   the port Dante bound, which it makes the client's own).  Read them
#   with kv.
# gateway_wait_request KEY=VALUE...: wait (${TG_WAIT:-5} s) for one;
#   print the first.
# gateway_users [KEY=VALUE...]: the distinct usernames of those
#   requests, one a line, in order of first use.
# gateway_syn PORT: TCP connections that reached Dante's PORT;
#   gateway_stray: packets that reached the gateway from the client
#   side addressed to anything but $TG_GW4 (such as a fake address a
#   transparent client connected to, had it left the client namespace).
# gateway_stop: stop Dante and remove /etc/netns/$TG_GNS (the EXIT trap
#   does too; the namespace goes with the others).

TG_GNS=tgg-$$
TG_GCVETH=tgvgc-$$ # the client namespace's end of the gateway link
TG_GGVETH=tgvgg-$$ # the gateway's end
TG_GW4=10.152.152.10
TG_GWC4=10.152.152.11
TG_GWP=9050
TG_GWP2=9102
TG_GW_NAMES="a.test b.test c.test x.b.test y.b.test d.test"
TG_GW_DIR=
TG_GW_LOG=/dev/null
TG_GW_PID=
TG_GW_MARK=0
TG_GW_ETC=

_gw_net() {
	ip netns add "$TG_GNS" || return 1
	TG_NETNS+=("$TG_GNS")
	ip netns exec "$TG_GNS" sysctl -qw net.ipv4.ip_forward=0 \
	    net.ipv6.conf.all.forwarding=0 net.ipv6.conf.all.accept_dad=0 \
	    net.ipv6.conf.default.accept_dad=0 >/dev/null || return 1
	ip -n "$TG_GNS" link set lo up &&
	ip -n "$TG_CNS" link set "$TG_CVETH" netns "$TG_GNS" &&
	ip -n "$TG_GNS" addr add "$TG_C4/24" dev "$TG_CVETH" &&
	ip -n "$TG_GNS" addr add "$TG_C6/64" dev "$TG_CVETH" nodad &&
	ip -n "$TG_GNS" link set "$TG_CVETH" up &&
	ip -n "$TG_CNS" link add "$TG_GCVETH" type veth \
	    peer name "$TG_GGVETH" netns "$TG_GNS" &&
	ip -n "$TG_CNS" addr add "$TG_GWC4/24" dev "$TG_GCVETH" &&
	ip -n "$TG_GNS" addr add "$TG_GW4/24" dev "$TG_GGVETH" &&
	ip -n "$TG_CNS" link set "$TG_GCVETH" up &&
	ip -n "$TG_GNS" link set "$TG_GGVETH" up &&
	ip -n "$TG_CNS" route add default via "$TG_GW4" || return 1
	ip netns exec "$TG_GNS" nft -f - <<EOF2
table inet tggw {
	counter syn_$TG_GWP { }
	counter syn_$TG_GWP2 { }
	counter stray { }
	chain pre {
		type filter hook prerouting priority -150; policy accept;
		iifname != "$TG_GGVETH" return
		ip daddr != $TG_GW4 counter name "stray"
		meta nfproto ipv6 meta l4proto { tcp, udp } counter name "stray"
		tcp dport $TG_GWP tcp flags & (syn | ack) == syn counter name "syn_$TG_GWP"
		tcp dport $TG_GWP2 tcp flags & (syn | ack) == syn counter name "syn_$TG_GWP2"
	}
}
EOF2
}

# _gw_etc REFUSED-NAME...: the gateway's own /etc/hosts, resolv.conf
# and PAM service (ip netns exec mounts /etc/netns/NAME/X over /etc/X).
# A refused name gets an address of its own, unrouted: Dante matches a
# rule's name by its addresses too, and must not refuse the others.
_gw_etc() {
	local n i=1
	TG_GW_ETC=/etc/netns/$TG_GNS
	mkdir -p "$TG_GW_ETC/pam.d" || return 1
	{
		echo "127.0.0.1 localhost"
		echo "$TG_S4 $TG_GW_NAMES"
		for n in "$@"; do
			echo "198.51.100.$i $n"
			i=$((i + 1))
		done
	} >"$TG_GW_ETC/hosts" &&
	    echo "nameserver 127.0.0.1" >"$TG_GW_ETC/resolv.conf" &&
	    printf '%s\n' 'auth required pam_permit.so' \
		'account required pam_permit.so' >"$TG_GW_ETC/pam.d/tollgate-gw"
}

_gw_conf() {
	local n
	cat <<EOF2
logoutput: $TG_GW_LOG
debug: 1
internal: $TG_GW4 port = $TG_GWP
internal: $TG_GW4 port = $TG_GWP2
external: $TG_CVETH
clientmethod: none
socksmethod: pam.username none
user.privileged: root
user.unprivileged: nobody
timeout.negotiate: 10
timeout.connect: 5
client pass {
	from: 0.0.0.0/0 to: 0.0.0.0/0
	log: error
}
EOF2
	for n in "$@"; do
		cat <<EOF2
socks block {
	from: 0.0.0.0/0 to: $n
	log: connect error
	pam.servicename: tollgate-gw
}
EOF2
	done
	cat <<EOF2
socks pass {
	from: 0.0.0.0/0 to: 0.0.0.0/0
	command: connect
	log: connect error
	pam.servicename: tollgate-gw
}
EOF2
}

# _gw_listening PORT: is something listening on the gateway's PORT?
_gw_listening() {
	[ -n "$(ip netns exec "$TG_GNS" ss -ltnH "sport = :$1" 2>/dev/null)" ]
}

gateway_start() {
	local i
	[ -x /usr/sbin/danted ] ||
	    { diag "gateway: no /usr/sbin/danted (apt-get install dante-server)"; return 1; }
	TG_GW_DIR=$TG_TMP/gw
	TG_GW_LOG=$TG_GW_DIR/danted.log
	mkdir -p "$TG_GW_DIR" || return 1
	_gw_net || { diag "gateway: cannot set up its namespace"; return 1; }
	_gw_etc "$@" || { diag "gateway: cannot write /etc/netns/$TG_GNS"; return 1; }
	_gw_conf "$@" >"$TG_GW_DIR/danted.conf" || return 1
	: >"$TG_GW_LOG"
	ip netns exec "$TG_GNS" /usr/sbin/danted -f "$TG_GW_DIR/danted.conf" \
	    -p "$TG_GW_DIR/danted.pid" -N 1 </dev/null \
	    >"$TG_GW_DIR/danted.out" 2>&1 &
	TG_GW_PID=$!
	TG_PIDS+=("$TG_GW_PID")
	for ((i = 0; i < 200; i++)); do
		_gw_listening "$TG_GWP" && _gw_listening "$TG_GWP2" &&
		    grep -q 'running' "$TG_GW_LOG" && return 0
		if ! kill -0 "$TG_GW_PID" 2>/dev/null; then
			diag "gateway: danted exited:"
			diag "$(cat "$TG_GW_DIR/danted.out"; grep -v debug: "$TG_GW_LOG" | tail -n 10)"
			return 1
		fi
		sleep 0.05
	done
	diag "gateway: danted not listening on $TG_GWP and $TG_GWP2 after 10 s"
	return 1
}

gateway_stop() {
	if [ -n "$TG_GW_PID" ]; then
		kill -TERM "$TG_GW_PID" 2>/dev/null
		_tg_reap "$TG_GW_PID" 5 ||
		    { kill -KILL "$TG_GW_PID" 2>/dev/null; _tg_reap "$TG_GW_PID" 2; }
		TG_GW_PID=
	fi
	# The only files a test writes outside $TG_TMP.
	if [ -n "$TG_GW_ETC" ]; then
		rm -rf "$TG_GW_ETC"
		TG_GW_ETC=
	fi
	return 0
}

gateway_mark() {
	if [ "$1" = 0 ]; then
		TG_GW_MARK=0
	else
		TG_GW_MARK=$(wc -l <"$TG_GW_LOG" 2>/dev/null || echo 0)
	fi
}

# Dante's log at debug level 1, read back: a request child logs
#   dorequest(): command 1 request received from client SRC.  Accepted
#     on ADDR.PORT, matched by client-rule #1, auth: METHOD.  Packet:
#     VER: 5 CMD: 1 FLAG: 0 ATYP: 3 address: a.test.443
#   send_response(): sending response: VER: 5 REP: 0 ...
#   info: pass(2): tcp/connect [: METHOD%USER@SRC ADDR.PORT -> ...
# (the same child, one request at a time); SRC joins them.
gateway_requests() {
	tail -n +"$((TG_GW_MARK + 1))" "$TG_GW_LOG" 2>/dev/null |
	    perl "$TG_TOOLS/dantelog.pl" "$@"
}

gateway_wait_request() {
	local end line
	end=$(($(tg_ms) + ${TG_WAIT:-5} * 1000))
	while :; do
		line=$(gateway_requests "$@" | head -n 1)
		if [ -n "$line" ]; then
			echo "$line"
			return 0
		fi
		[ "$(tg_ms)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

gateway_users() {
	gateway_requests "$@" | sed -n 's/.* user=\([^ ]*\) .*/\1/p' | awk '!seen[$0]++'
}

_gw_counter() {
	ip netns exec "$TG_GNS" nft list counter inet tggw "$1" 2>/dev/null |
	    sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

gateway_syn() {
	_gw_counter "syn_$1"
}

gateway_stray() {
	_gw_counter stray
}

# --- tollgated's SOCKS and CONNECT fronts, over the gateway ---------------
#
# socks_setup: after gateway_start, what a test of the fronts starts
#   with: TG (build/tollgate), DB and SOCK (the database and control
#   socket, under $TG_TMP, opened 711 for tgguard), TG_SOCKS
#   (127.0.0.1:1080), TG_CONNECT (127.0.0.1:8080) and TG_SOCKS_UNIX
#   ($TG_TMP/socks/socks.sock).
# socks_conf KEY=VALUE...: tg_conf with both fronts listening there,
#   upstream = socks5://$TG_GW4:$TG_GWP, upstream.mail =
#   socks5://$TG_GW4:$TG_GWP2, isolation = app, default_action = allow;
#   prints its path.
# tg_event NAME EXPR: wait (5 s: the writer batches) for a decision row
#   of `tollgate events --json` whose name is NAME, and print the Python
#   expression EXPR over r, the newest such row (a dict).  Uses $CONF.

socks_setup() {
	chmod 711 "$TG_TMP"
	# The unix front's own directory, which tgguard may enter and
	# tollgated write to, as root or as _tollgate (the control socket's,
	# run/, is tollgated's to make).
	if ! { mkdir -p "$TG_TMP/socks" && chown _tollgate "$TG_TMP/socks" &&
	    chmod 755 "$TG_TMP/socks"; }; then
		echo "Bail out! cannot make $TG_TMP/socks"
		exit 1
	fi
	TG=$TG_ROOT/build/tollgate
	DB=$TG_DB
	SOCK=$TG_SOCK
	TG_SOCKS=127.0.0.1:1080
	TG_CONNECT=127.0.0.1:8080
	TG_SOCKS_UNIX=$TG_TMP/socks/socks.sock
}

socks_conf() {
	tg_conf_kept default_action=allow \
	    socks_listen="$TG_SOCKS, unix:$TG_SOCKS_UNIX:0666" \
	    http_connect_listen="$TG_CONNECT" \
	    upstream="socks5://$TG_GW4:$TG_GWP" \
	    upstream.mail="socks5://$TG_GW4:$TG_GWP2" isolation=app "$@"
}

# shellcheck disable=SC2153 # CONF is the script's
tg_event() {
	_tg_event_where 'r.get("name") == key' "$1" "$2" --domain "$1"
}

# tg_event_conn CONN EXPR: as tg_event, for the row of connection CONN.
tg_event_conn() {
	_tg_event_where 'r.get("conn_id") == int(key)' "$1" "$2"
}

# _tg_event_where COND KEY EXPR [EVENTS-OPTION...]: EXPR of the newest
# decision row for which COND holds (r the row, key KEY), within 5 s.
_tg_event_where() {
	local cond=$1 key=$2 expr=$3 end out
	shift 3
	end=$(($(tg_ms) + 5000))
	while :; do
		out=$("$TG" -c "$CONF" events --json "$@" --limit 0 \
		    2>/dev/null | python3 -c '
import json, sys
key = sys.argv[2]
rows = [json.loads(l) for l in sys.stdin if l.strip()]
rows = [r for r in rows if r.get("kind") == "decision" and eval(sys.argv[1])]
if rows:
    r = rows[-1]
    print(eval(sys.argv[3]))' "$cond" "$key" "$expr")
		[ -n "$out" ] && { echo "$out"; return 0; }
		[ "$(tg_ms)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# --- raw proxy clients, hostile upstreams, the client's own /etc ----------
#
# rawclient ARGS...: tools/rawclient.py as tgguard (exact bytes to a
#   front, one at a time if asked; prints "got: HEX", "end: eof|reset|
#   timeout|done|send-error" and "elapsed: SECONDS"; read them with field).
# s5_connect NAME PORT: the hex of a SOCKS5 CONNECT request for NAME:PORT.
# s5_connect_ip A.B.C.D PORT: the same for an IPv4 address.
# fakesocks_start PORT MODE: tools/fakesocks.py on $TG_GW4:PORT in the
#   gateway namespace (modes silent, garbage, close, f0: see the script),
#   logging the requests it reads into $TG_TMP/fakesocks.PORT.log; waits
#   until it listens.
# client_etc FILE CONTENT: /etc/netns/$TG_CNS/FILE, which `ip netns exec`
#   mounts over /etc/FILE for what starts in the client namespace from
#   now on (tollgated reads /etc/hosts and resolv.conf at its start);
#   removed by the EXIT trap.

TG_CLIENT_ETC=

rawclient() {
	as_guard /usr/bin/python3 -I "$TG_TOOLS/rawclient.py" "$@"
}

s5_connect() {
	printf '05010003'
	printf '%02x' "${#1}"
	printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'
	printf '%04x' "$2"
}

s5_connect_ip() {
	local IFS=.
	# shellcheck disable=SC2086
	printf '05010001%02x%02x%02x%02x%04x' $1 "$2"
}

fakesocks_start() {
	local i
	tg_bg ip netns exec "$TG_GNS" /usr/bin/python3 -I \
	    "$TG_TOOLS/fakesocks.py" "$TG_GW4" "$1" "$2" \
	    "$TG_TMP/fakesocks.$1.log" </dev/null >/dev/null 2>&1
	for ((i = 0; i < 100; i++)); do
		_gw_listening "$1" && return 0
		sleep 0.05
	done
	diag "fakesocks.py $2 is not listening on $TG_GW4:$1"
	return 1
}

client_etc() {
	TG_CLIENT_ETC=/etc/netns/$TG_CNS
	mkdir -p "$TG_CLIENT_ETC" && printf '%s\n' "$2" >"$TG_CLIENT_ETC/$1"
}

# ===========================================================================
# A real recursive server on the far side: unbound, as a guarded
# machine's resolver (or tollgated's dns_upstream) would be.
# ===========================================================================
#
# unbound_start [LOCAL-DATA...]: after tg_setup, unbound in $TG_SNS on
#   $TG_S4 and $TG_S6 port 53, UDP and TCP.  tg_setup's UDP echo on port
#   53 is stopped first (the counter udp_count 53 still counts what
#   arrives).  It serves the zone test. as a static local zone: each of
#   $TG_UB_NAMES (a.test b.test c.test d.test) has A $TG_S4, AAAA $TG_S6,
#   MX "10 mx.NAME." and TXT "tollgate NAME"; each LOCAL-DATA (a zone file
#   line, "x.test. 60 IN A 192.0.2.9") is added; every other name in
#   test. is NXDOMAIN.  No root hints are reachable and nothing else is
#   asked: it starts and answers without the internet.  Every query is
#   logged (log-queries) into $TG_UB_LOG.  Waits (10 s) until it answers.
# unbound_mark [0]: later unbound_queries calls only see what came after
#   now (with 0: everything again).
# unbound_queries [NAME [TYPE]]: the queries it got since the mark, one a
#   line, "NAME TYPE FROM" (name without the trailing dot, lower case),
#   those of NAME (and TYPE) only when given.
# unbound_wait_query NAME TYPE [SECS]: wait (default 5 s) for such a
#   query; print it.
# The EXIT trap stops unbound with the rest.

TG_UB_NAMES="a.test b.test c.test d.test"
TG_UB_DIR=
TG_UB_LOG=/dev/null
TG_UB_MARK=0

_ub_conf() {
	local n d
	cat <<EOF2
server:
	interface: $TG_S4
	interface: $TG_S6
	port: 53
	do-ip4: yes
	do-ip6: yes
	do-udp: yes
	do-tcp: yes
	access-control: 0.0.0.0/0 allow
	access-control: ::/0 allow
	username: ""
	chroot: ""
	directory: "$TG_UB_DIR"
	pidfile: ""
	use-syslog: no
	logfile: "$TG_UB_LOG"
	log-time-ascii: yes
	verbosity: 1
	log-queries: yes
	module-config: "iterator"
	do-not-query-localhost: yes
	num-threads: 1
	so-reuseport: no
	local-zone: "test." static
EOF2
	for n in $TG_UB_NAMES; do
		printf '\tlocal-data: "%s. 60 IN A %s"\n' "$n" "$TG_S4"
		printf '\tlocal-data: "%s. 60 IN AAAA %s"\n' "$n" "$TG_S6"
		printf '\tlocal-data: "%s. 60 IN MX 10 mx.%s."\n' "$n" "$n"
		printf '\tlocal-data: '"'"'%s. 60 IN TXT "tollgate %s"'"'"'\n' "$n" "$n"
	done
	for d in "$@"; do
		printf "\tlocal-data: '%s'\n" "$d"
	done
	printf 'remote-control:\n\tcontrol-enable: no\n'
}

# _ub_answers: does unbound answer a.test on $TG_S4?
_ub_answers() {
	[ "$(ip netns exec "$TG_SNS" dig +time=1 +tries=1 +short \
	    "@$TG_S4" a.test A 2>/dev/null)" = "$TG_S4" ]
}

unbound_start() {
	local pid i
	[ -x /usr/sbin/unbound ] ||
	    { diag "resolver: no /usr/sbin/unbound (apt-get install unbound)"; return 1; }
	TG_UB_DIR=$TG_TMP/unbound
	TG_UB_LOG=$TG_UB_DIR/unbound.log
	mkdir -p "$TG_UB_DIR" && : >"$TG_UB_LOG" || return 1
	_ub_conf "$@" >"$TG_UB_DIR/unbound.conf" || return 1
	/usr/sbin/unbound-checkconf "$TG_UB_DIR/unbound.conf" >"$TG_UB_DIR/check.log" 2>&1 ||
	    { diag "resolver: $(cat "$TG_UB_DIR/check.log")"; return 1; }
	# tg_setup's UDP echo holds port 53: ours to stop.
	for pid in $(ip netns exec "$TG_SNS" ss -lunpH 'sport = :53' |
	    grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
		kill -TERM "$pid" 2>/dev/null
	done
	for ((i = 0; i < 100; i++)); do
		[ -z "$(_tg_listening udp 53)" ] && break
		sleep 0.05
	done
	tg_bg ip netns exec "$TG_SNS" /usr/sbin/unbound -d -c \
	    "$TG_UB_DIR/unbound.conf" </dev/null >"$TG_UB_DIR/unbound.out" 2>&1
	for ((i = 0; i < 200; i++)); do
		_ub_answers && { unbound_mark; return 0; }
		sleep 0.05
	done
	diag "resolver: unbound does not answer on $TG_S4 after 10 s:"
	diag "$(cat "$TG_UB_DIR/unbound.out"; tail -n 10 "$TG_UB_LOG")"
	return 1
}

unbound_mark() {
	if [ "$1" = 0 ]; then
		TG_UB_MARK=0
	else
		TG_UB_MARK=$(wc -l <"$TG_UB_LOG" 2>/dev/null || echo 0)
	fi
}

# unbound logs a query as "... info: FROM NAME. TYPE IN".
unbound_queries() {
	tail -n +"$((TG_UB_MARK + 1))" "$TG_UB_LOG" 2>/dev/null |
	    awk -v name="$1" -v type="$2" '
		/ info: [0-9a-fA-F.:]+ [^ ]+\. [A-Z0-9]+ IN$/ {
			n = $(NF - 2); sub(/\.$/, "", n); n = tolower(n)
			if (name != "" && n != name) next
			if (type != "" && $(NF - 1) != type) next
			print n, $(NF - 1), $(NF - 3)
		}'
}

unbound_wait_query() {
	_tg_wait_line . "${3:-5}" unbound_queries "$1" "$2"
}
