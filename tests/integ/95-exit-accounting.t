#!/bin/bash
# What a stop leaves behind is accounted for at the next start: events
# that could not be written at exit (a full disk) become a gap row, rows
# of connections open at a SIGKILL are flagged interrupted, once and
# until-restart rules added while tollgated is stopped live through its
# next run, and a SIGTERM with connections open frees every event before
# its descriptor (no libevent warning).

. "$(dirname "$0")/lib.sh"

plan 24
tg_setup
chmod 711 "$TG_TMP"
TG=$TG_ROOT/build/tollgate
py=$(readlink -f /usr/bin/python3) # what /proc/PID/exe will say
curl4=(curl -sS --max-time 8 --cacert "$TG_CA" --resolve "a.test:443:$TG_S4")

SMALL=$TG_TMP/small
mkdir -p "$SMALL"
cleanup_small() {
	mountpoint -q "$SMALL" && umount -l "$SMALL"
}
# Before lib.sh's own cleanup, which keeps the script's exit status.
trap 'st=$?; cleanup_small; (exit $st); _tg_cleanup' EXIT

# A server that takes connections and never reads them.
tg_bg ip netns exec "$TG_SNS" socat TCP6-LISTEN:8,ipv6only=0,fork,reuseaddr \
    EXEC:'sleep 120' </dev/null >"$TG_TMP/sink.log" 2>&1
_tg_wait_listen tcp 8 || echo "Bail out! no sink server"

# hold N [stuck]: N echo connections of python3, open until
# $TG_TMP/release appears (or 60 s); waits until every one was answered.
# stuck: N connections to the sink instead, each sending until nothing
# more goes, so that tollgated waits at once to write to the server and to
# read from it.
hold() {
	local n=$1 i out=$TG_TMP/hold.out
	rm -f "$TG_TMP/release" "$out"
	as_guard python3 -c '
import os, socket, sys, time
socks = []
stuck = sys.argv[4] == "stuck"
for _ in range(int(sys.argv[2])):
    s = socket.create_connection((sys.argv[1], 8 if stuck else 7), timeout=10)
    if not stuck:
        s.sendall(b"x\n"); s.recv(10)
    socks.append(s)
if stuck:
    for s in socks:
        s.setblocking(False)
        idle = 0
        while idle < 20:
            try:
                s.send(b"y" * 65536); idle = 0
            except BlockingIOError:
                idle += 1; time.sleep(0.05)
print("open", flush=True)
for _ in range(600):
    if os.path.exists(sys.argv[3]): break
    time.sleep(0.1)
' "$TG_S4" "$n" "$TG_TMP/release" "${2:-idle}" >"$out" 2>&1 &
	HOLDER=$!
	for ((i = 0; i < 400; i++)); do
		grep -q open "$out" && return 0
		kill -0 "$HOLDER" 2>/dev/null || break
		sleep 0.05
	done
	diag "holder: $(cat "$out")"
	return 1
}

release() {
	touch "$TG_TMP/release"
	wait "$HOLDER" 2>/dev/null
}

# events_json CONF: every row, one JSON object a line.
events_json() {
	"$TG" -c "$1" events --json
}

# --- a full disk at exit -------------------------------------------------

mount -t tmpfs -o size=3m,mode=755 tmpfs "$SMALL"
ok $? "a 3 MB tmpfs for the database"
CONF=$(tg_conf database="$SMALL/tollgate.db" \
    control_socket="$TG_TMP/run/control.sock")
tg_start "$CONF"
ok $? "tollgated starts with its database on the small tmpfs"
as_guard "${curl4[@]}" -o /dev/null https://a.test/
ok $? "a first fetch works"
tg_decision verdict=allow >/dev/null
# The disk full: everything the writer adds from now on fails.
dd if=/dev/zero of="$SMALL/fill" bs=4k >/dev/null 2>&1
sync
for ((i = 0; i < 10; i++)); do
	pids=()
	for ((j = 0; j < 10; j++)); do
		as_guard "${curl4[@]}" -o /dev/null https://a.test/ 2>/dev/null &
		pids+=($!)
	done
	wait "${pids[@]}"
done
tg_wait_log 'events: .*(full|retrying)' 30 >/dev/null
ok $? "the event writer finds the disk full"
# Every decision was logged: wait for the 101.
for ((i = 0; i < 600; i++)); do
	[ "$(tg_decisions)" -ge 101 ] && break
	sleep 0.05
done
decisions=$(_tg_since | grep -c '^tollgated: info: decision ')
is "$decisions" 101 "101 decisions taken"
tg_stop TERM
is "$TG_DEXIT" 0 "SIGTERM: tollgated exits 0"
like "$(cat "$TG_LOG")" "events not written at exit: counted in $SMALL/tollgate.db-unwritten" \
    "the exit counts what it could not write in the state file"
rm -f "$SMALL/fill"
tg_start "$CONF"
ok $? "tollgated starts again with room on the disk"
line=$(grep -E "events: [0-9]+ events not written at the last exit recorded as a gap" "$TG_LOG")
ok $? "the start records them as a gap ($line)"
json=$(events_json "$CONF")
rows=$(grep -c '"kind":"decision"' <<<"$json")
lost=$(grep -o '"n_lost":[0-9]*' <<<"$json" | awk -F: '{s += $2} END {print s + 0}')
is "$((rows + lost))" "$decisions" "rows ($rows) + lost in gap rows ($lost) = decisions"
ok '[ "$lost" -gt 0 ]' "the gap rows count the lost ones ($lost)"
is "$(head -c 20 "$SMALL/tollgate.db-unwritten" | awk '{print $1}')" 0 \
    "the state file owes nothing any more"
tg_stop TERM
cleanup_small

# --- SIGKILL with connections open ---------------------------------------

CONF=$(tg_conf_kept)
tg_start "$CONF"
hold 3
ok $? "three echo connections of python3 are open"
tg_stop KILL
release
tg_start "$CONF"
line=$(grep -E "events: 3 connections open when tollgated last stopped flagged interrupted" "$TG_LOG")
ok $? "the start flags the three open rows ($line)"
n=$(events_json "$CONF" | grep '"dst_port":7' | grep -c '"flags":\["interrupted"\]')
is "$n" 3 "tollgate events shows the three flagged interrupted"
out=$("$TG" -c "$CONF" events --wide 2>&1 | grep -c ' interrupted ')
is "$out" 3 "the wide table says interrupted"

# --- SIGTERM with connections open: no libevent warning ------------------

hold 5 stuck
ok $? "five connections of python3 to a server that does not read are open"
tg_stop TERM
release
is "$TG_DEXIT" 0 "SIGTERM with connections open: tollgated exits 0"
unlike "$(cat "$TG_LOG")" 'Epoll|Bad file descriptor|\[warn\]' \
    "no libevent warning at the stop"

# --- rules added while tollgated is stopped ------------------------------

CONF=$(tg_conf_kept default_action=reject)
"$TG" -c "$CONF" rules add --app /usr/bin/curl --dest a.test --action allow \
    --duration once >/dev/null &&
    "$TG" -c "$CONF" rules add --app "$py" --dest "$TG_S4" --action allow \
        --duration restart >/dev/null
ok $? "a once and an until-restart rule are added while tollgated is stopped"
tg_start "$CONF"
as_guard "${curl4[@]}" -o /dev/null https://a.test/
ok $? "the once rule lets curl through once"
as_guard "${curl4[@]}" -o /dev/null https://a.test/ 2>/dev/null
nok $? "and is gone after"
hold 1
ok $? "the until-restart rule lets python3 through"
release
tg_stop TERM
tg_start "$CONF"
like "$(cat "$TG_LOG")" 'removed 1 once/until-restart rules of the last run' \
    "the restart after removes the until-restart rule"
