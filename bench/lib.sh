# shellcheck shell=bash
# bench/lib.sh - sourced by bench/socks and bench/dns: messages, the
# processes of a phase, its network namespaces, the test users, the EXIT
# trap that stops everything.
#
# The sourcing script sets, before it calls anything here:
#   BENCH_NAME   its name in messages ("bench/dns")
#   CNS          the client namespace (as_bench runs there)
#   BUSER        the test user
# and later TMP, its temporary directory (notes.txt, raw.tsv in it).
# It appends to PIDS each process to stop at the end of a phase (bg does),
# to NETNS_MADE each namespace it creates, and sets ETC_DIR to an
# /etc/netns/NAME it wrote; remove_net undoes both.

SAFE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
PY=/usr/bin/python3

TMP=
PIDS=()
NETNS_MADE=()
ETC_DIR=

say() {
	echo "$BENCH_NAME: $*" >&2
}

note() {
	say "note: $*"
	echo "$*" >>"$TMP/notes.txt"
}

die() {
	say "$*"
	exit 1
}

alive() {
	local state
	state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$state" ] && [ "$state" != Z ]
}

# stop_pid PID: TERM, wait 5 s, then KILL.
stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		alive "$pid" || break
		sleep 0.05
	done
	alive "$pid" && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# stop_phase: stop every process of the phase, remove its namespaces.
stop_phase() {
	local pid
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	PIDS=()
	remove_net
}

remove_net() {
	local ns i pids
	for ns in "${NETNS_MADE[@]}"; do
		for i in 1 2 3 4 5; do
			pids=$(ip netns pids "$ns" 2>/dev/null)
			[ -n "$pids" ] || break
			# shellcheck disable=SC2086
			kill -KILL $pids 2>/dev/null
			sleep 0.2
		done
		ip netns del "$ns" 2>/dev/null
	done
	NETNS_MADE=()
	[ -n "$ETC_DIR" ] && rm -rf "$ETC_DIR"
	ETC_DIR=
}

bench_cleanup() {
	local st=$?
	trap - EXIT INT TERM HUP
	stop_phase
	if [ -n "$TMP" ] && [ -d "$TMP" ]; then
		if [ -n "${BENCH_KEEP:-}" ]; then
			say "kept $TMP"
		else
			rm -rf "$TMP"
		fi
	fi
	exit "$st"
}

trap bench_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

# bench_tmp PREFIX: make TMP (with bin/, an empty raw.tsv and notes.txt).
bench_tmp() {
	TMP=$(mktemp -d "/tmp/$1.XXXXXX") || exit 1
	chmod 755 "$TMP"
	mkdir -p "$TMP/bin"
	: >"$TMP/raw.tsv"
	: >"$TMP/notes.txt"
}

# need_root_tools TOOL...: root, and every TOOL on PATH.
need_root_tools() {
	local t missing=""
	[ "$(id -u)" = 0 ] || die "needs root (namespaces, nftables, users)"
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing+=" $t"
	done
	[ -z "$missing" ] || die "missing:$missing (sudo make deps)"
}

# make_users USER...: each USER, and _tollgate, unless they exist.
make_users() {
	local u
	for u in "$@"; do
		getent passwd "$u" >/dev/null ||
		    useradd --system --user-group --no-create-home \
			--home-dir /nonexistent --shell /usr/sbin/nologin "$u" ||
		    die "cannot create user $u"
	done
	getent passwd _tollgate >/dev/null ||
	    useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin _tollgate ||
	    die "cannot create user _tollgate"
}

# bg NS [USER] -- CMD...: start CMD in NS (as USER), to be stopped at
# the end of the phase; sets LAST_PID.
bg() {
	local ns=$1 user=$2
	shift 3
	if [ -n "$user" ]; then
		ip netns exec "$ns" setpriv --reuid="$user" --regid="$user" \
		    --init-groups "$@" </dev/null &
	else
		ip netns exec "$ns" "$@" </dev/null &
	fi
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

# as_bench SECONDS CMD...: CMD as the test user in the client namespace.
as_bench() {
	local secs=$1
	shift
	timeout -k 2 "$secs" ip netns exec "$CNS" \
	    setpriv --reuid="$BUSER" --regid="$BUSER" --init-groups \
	    env -i PATH="$SAFE_PATH" HOME=/nonexistent LANG=C.UTF-8 "$@"
}

# wait_listen NS PORT [udp]: until something listens on TCP (or UDP)
# PORT (10 s).
wait_listen() {
	local i opt=-ltnH
	[ "${3:-}" = udp ] && opt=-lunH
	for ((i = 0; i < 200; i++)); do
		[ -n "$(ip netns exec "$1" ss "$opt" "sport = :$2" 2>/dev/null)" ] &&
		    return 0
		sleep 0.05
	done
	return 1
}

# cpu_ticks PID: utime + stime of PID's threads so far, in clock ticks.
cpu_ticks() {
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'
}

# busy_ticks: every CPU's busy time so far (/proc/stat, clock ticks).
busy_ticks() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}
