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
#
# Everything started here is stopped, and both namespaces and the temp
# directory removed, by the EXIT trap.  Every wait is bounded.

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

TG_TMP=
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
	for ((i = 0; i < secs * 20; i++)); do
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
	for pid in "${TG_PIDS[@]}"; do
		_tg_reap "$pid" 2 ||
		    { kill -KILL "$pid" 2>/dev/null; _tg_reap "$pid" 1; }
	done
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
	ip -n "$TG_CNS" link add "$TG_CVETH" type veth \
	    peer name "$TG_SVETH" netns "$TG_SNS" &&
	ip -n "$TG_CNS" link set lo up &&
	ip -n "$TG_SNS" link set lo up &&
	ip -n "$TG_CNS" addr add "$TG_C4/24" dev "$TG_CVETH" &&
	ip -n "$TG_SNS" addr add "$TG_S4/24" dev "$TG_SVETH" &&
	ip -n "$TG_CNS" addr add "$TG_C6/64" dev "$TG_CVETH" nodad &&
	ip -n "$TG_SNS" addr add "$TG_S6/64" dev "$TG_SVETH" nodad &&
	ip -n "$TG_CNS" link set "$TG_CVETH" up &&
	ip -n "$TG_SNS" link set "$TG_SVETH" up
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
	for ((i = 0; i < 100; i++)); do
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
	if ! { _tg_users && _tg_pki && _tg_net && _tg_counters &&
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
# info level, unless overridden) and print its path.
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
	ip netns exec "$TG_CNS" env --default-signal=INT,QUIT \
	    "$TG_DAEMON" -c "$conf" </dev/null >"$TG_LOG.out" 2>"$TG_LOG" &
	TG_DPID=$!
	for ((i = 0; i < 200; i++)); do
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
	diag "tollgated not ready after 10 s:"
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

# tg_wait_log REGEX [SECONDS]: wait for a log line past the mark that
# matches the extended REGEX; print the first one.
tg_wait_log() {
	local re=$1 secs=${2:-5} i line
	for ((i = 0; i < secs * 20; i++)); do
		line=$(_tg_since | grep -E -m 1 -e "$re")
		if [ -n "$line" ]; then
			echo "$line"
			return 0
		fi
		sleep 0.05
	done
	return 1
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
	for ((i = 0; i < ${TG_WAIT:-5} * 20; i++)); do
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
