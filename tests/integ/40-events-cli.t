#!/bin/bash
# "tollgate events" as a user without a desktop lives with it: before
# tollgated ever ran it says there are no events yet; then it answers
# "what did firefox connect to in the last hour?" and "what got denied?"
# from a database filled with known events, as a table that fits 100
# columns, as JSON lines that parse, and at a glance (stats, with bars);
# --follow shows a new event within a second, waits for a database that is
# not there yet, follows one that is replaced, and ends with Ctrl-C.
#
# No daemon and no namespaces: the events are written straight into the
# database through the storage API (store/events.h), by a small helper
# compiled here against build/libtg.a.

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TG=${TOLLGATE:-$ROOT/build/tollgate}
# Local time is noon whatever the hour of the run: the events lie within
# hours of now and the checks read them as today's.  (Run just after
# midnight, "tollgate events" rightly shows the rows of before midnight
# with their date, and "--since today" leaves them out.)
TZ="TGT$(($(date -u +%-H) - 12))"
export TZ
N=0
FAILED=0
TMP=$(mktemp -d /tmp/tollgate-40.XXXXXX) || exit 1
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

result() { # result 0|1 DESC
	N=$((N + 1))
	if [ "$1" = 1 ]; then
		echo "ok $N - $2"
	else
		echo "not ok $N - $2"
		FAILED=$((FAILED + 1))
	fi
}
ok() { # ok STATUS DESC
	[ "$1" = 0 ] && result 1 "$2" || result 0 "$2"
}
is() { # is GOT WANT DESC
	if [ "$1" = "$2" ]; then
		result 1 "$3"
	else
		result 0 "$3"
		echo "#      got: '$1'"
		echo "# expected: '$2'"
	fi
}
like() { # like GOT REGEX DESC
	if [[ $1 =~ $2 ]]; then
		result 1 "$3"
	else
		result 0 "$3"
		echo "# '$1'" | head -n 20
		echo "#   doesn't match '$2'"
	fi
}

echo "1..50"

# --- the helper that writes events ----------------------------------------

cat >"$TMP/evfill.c" <<'EOF'
/* evfill DB: store the events read from stdin, one a line of key=value
 * fields separated by tabs, each with events_insert(); print each id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/events.h"
#include "store/store.h"

static int
set(struct event_row *r, const char *k, const char *v)
{
	long long n = strtoll(v, NULL, 10);

	if (strcmp(k, "kind") == 0)
		r->kind = strcmp(v, "gap") == 0 ? EVENT_GAP : EVENT_DECISION;
	else if (strcmp(k, "t") == 0)
		r->time_ms = n;
	else if (strcmp(k, "pid") == 0)
		r->pid = (pid_t)n;
	else if (strcmp(k, "uid") == 0) {
		r->has_uid = true;
		r->uid = (uid_t)n;
	} else if (strcmp(k, "user") == 0)
		snprintf(r->user, sizeof(r->user), "%s", v);
	else if (strcmp(k, "exe") == 0)
		snprintf(r->exe, sizeof(r->exe), "%s", v);
	else if (strcmp(k, "cmdline") == 0)
		snprintf(r->cmdline, sizeof(r->cmdline), "%s", v);
	else if (strcmp(k, "dst") == 0)
		snprintf(r->dst_ip, sizeof(r->dst_ip), "%s", v);
	else if (strcmp(k, "port") == 0)
		r->dst_port = (uint16_t)n;
	else if (strcmp(k, "name") == 0)
		snprintf(r->name, sizeof(r->name), "%s", v);
	else if (strcmp(k, "from") == 0)
		snprintf(r->name_source, sizeof(r->name_source), "%s", v);
	else if (strcmp(k, "verdict") == 0)
		r->verdict = (enum action)action_parse(v);
	else if (strcmp(k, "rule") == 0) {
		r->decider = DECIDER_RULE;
		r->rule_id = n;
	} else if (strcmp(k, "by") == 0)
		r->decider = strcmp(v, "default") == 0 ? DECIDER_DEFAULT
		                                       : DECIDER_TIMEOUT;
	else if (strcmp(k, "up") == 0)
		r->bytes_up = n;
	else if (strcmp(k, "down") == 0)
		r->bytes_down = n;
	else if (strcmp(k, "dur") == 0)
		r->duration_ms = n;
	else if (strcmp(k, "flags") == 0)
		r->flags = (unsigned)n;
	else if (strcmp(k, "lost") == 0)
		r->n_lost = n;
	else if (strcmp(k, "first") == 0)
		r->lost_first_ms = n;
	else if (strcmp(k, "last") == 0)
		r->lost_last_ms = n;
	else
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	static struct event_row r;
	char err[STORE_ERRLEN], line[8192], *f, *save, *eq;
	long long conn = 0;
	struct store *s;

	if (argc != 2)
		return 2;
	s = store_open(argv[1], STORE_READWRITE, err, sizeof(err));
	if (s == NULL) {
		fprintf(stderr, "evfill: %s\n", err);
		return 1;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0')
			continue;
		memset(&r, 0, sizeof(r));
		r.conn_id = ++conn;
		r.bytes_up = r.bytes_down = r.duration_ms = -1;
		snprintf(r.proto, sizeof(r.proto), "tcp");
		snprintf(r.src_ip, sizeof(r.src_ip), "127.0.0.1");
		snprintf(r.upstream, sizeof(r.upstream), "direct");
		for (f = strtok_r(line, "\t", &save); f != NULL;
		     f = strtok_r(NULL, "\t", &save)) {
			eq = strchr(f, '=');
			if (eq == NULL)
				return 2;
			*eq = '\0';
			if (set(&r, f, eq + 1) == -1) {
				fprintf(stderr, "evfill: unknown key %s\n", f);
				return 2;
			}
		}
		if (events_insert(s, &r, 1, err, sizeof(err)) == -1) {
			fprintf(stderr, "evfill: %s\n", err);
			return 1;
		}
		printf("%lld\n", (long long)r.id);
		fflush(stdout);
	}
	store_close(s);
	return 0;
}
EOF
PKGS="libevent libnftnl libmnl libssl libcrypto sqlite3 libidn2"
if ! cc -std=gnu11 -I"$ROOT" -D_GNU_SOURCE -o "$TMP/evfill" "$TMP/evfill.c" \
    "$ROOT/build/libtg.a" $(pkg-config --libs $PKGS) -lpthread \
    2>"$TMP/cc.err" || [ ! -x "$TG" ]; then
	echo "Bail out! cannot build the helper or no $TG (make first)"
	cat "$TMP/cc.err" >&2
	exit 1
fi
FILL=$TMP/evfill

DB=$TMP/db/tollgate.db
CONF=$TMP/tollgate.conf
printf 'database = %s\ncontrol_socket = %s/control.sock\n' "$DB" "$TMP" \
    >"$CONF"
# tg ARGS...: the command under test, output in $out, status in $st.
tg() {
	out=$(LANG=C.UTF-8 timeout 10 "$TG" -c "$CONF" events "$@" \
	    2>"$TMP/err")
	st=$?
	err=$(cat "$TMP/err")
}
# rows: the table's data lines (no header, no gap lines).
rows() { printf '%s\n' "$out" | sed -e 1d -e '/not recorded between/d' \
    -e '/^$/d'; }
# widest: the widest line of $out, in characters.
widest() {
	printf '%s\n' "$out" | python3 -c \
	    'import sys; print(max(len(l.rstrip("\n")) for l in sys.stdin))'
}
T=$'\t'
now() { date +%s%3N; }

# --- before tollgated ever ran --------------------------------------------

tg
is "$st" 0 "no database: exit 0"
is "$out" "no events yet: no database at $DB (tollgated has not run)" \
    "no database: says there are no events yet, and why"
tg stats
is "$out" "no events yet: no database at $DB (tollgated has not run)" \
    "stats says the same"

# --- a day of known events ------------------------------------------------

NOW=$(now)
M=60000
H=3600000
FF=/usr/lib/firefox-esr/firefox-esr
ESC=$'\033'
{
	echo "t=$((NOW - 2 * 24 * H))${T}pid=3001${T}uid=1000${T}user=alice${T}exe=/usr/bin/thunderbird${T}dst=192.0.2.55${T}port=993${T}name=imap.mail.example.org${T}from=socks${T}verdict=allow${T}rule=12${T}up=4100${T}down=98000${T}dur=61000"
	echo "t=$((NOW - 2 * H))${T}pid=6001${T}uid=1001${T}user=bob${T}exe=/usr/bin/python3.11${T}cmdline=python3 sync.py${T}dst=192.0.2.10${T}port=8443${T}verdict=reject${T}by=default"
	echo "t=$((NOW - 50 * M))${T}pid=4001${T}uid=1000${T}user=alice${T}exe=$FF${T}cmdline=$FF -P default${T}dst=93.184.216.34${T}port=443${T}name=www.example.com${T}from=sni${T}verdict=allow${T}rule=3${T}up=1834${T}down=5242880${T}dur=12500"
	echo "t=$((NOW - 30 * M))${T}pid=4001${T}uid=1000${T}user=alice${T}exe=$FF${T}dst=198.18.0.9${T}port=443${T}name=telemetry.mozilla.org${T}from=fakeip${T}verdict=deny${T}rule=5${T}flags=1"
	echo "t=$((NOW - 20 * M))${T}pid=4001${T}uid=1000${T}user=alice${T}exe=$FF${T}dst=93.184.216.34${T}port=443${T}name=example.com${T}from=sni${T}verdict=allow${T}rule=3${T}up=900${T}down=20480${T}dur=800"
	echo "t=$((NOW - 10 * M))${T}pid=5001${T}uid=1001${T}user=bob${T}exe=/usr/bin/curl${T}dst=198.18.0.7${T}port=80${T}name=tracker.ads.test${T}from=fakeip${T}verdict=deny${T}by=default"
	echo "kind=gap${T}t=$((NOW - 6 * M))${T}lost=37${T}first=$((NOW - 8 * M))${T}last=$((NOW - 7 * M))"
	echo "t=$((NOW - 5 * M))${T}pid=7001${T}uid=1000${T}user=alice${T}exe=/tmp/x${ESC}]0;owned${ESC}[2Jevil${T}cmdline=evil ${ESC}[31mred${T}dst=192.0.2.77${T}port=443${T}name=a-rather-long-name-for-a-host.cdn.static-content.example.net${T}from=sni${T}verdict=allow${T}rule=9${T}up=12${T}down=34${T}dur=56"
} | "$FILL" "$DB" >/dev/null
ok $? "eight known events are stored through the storage API"

# --- the table ------------------------------------------------------------

tg
is "$st" 0 "events: exit 0"
is "$(rows | wc -l)" 7 "all seven decisions are listed (50 at most when not a terminal)"
like "$(printf '%s\n' "$out" | head -n 1)" \
    "^TIME +APP +PID +USER +DEST +PORT +VERDICT +BY +UP +DOWN +DUR$" \
    "the header names the short columns"
like "$(rows | head -n 1)" "thunderbird .* imap\.mail\.example\.org +993 allow" \
    "oldest first: thunderbird two days ago, its date shown"
like "$(rows | tail -n 1)" "^[0-2][0-9]:[0-5][0-9]:[0-5][0-9] .* 443 allow" \
    "newest last, with today's local time as HH:MM:SS"
like "$out" "… 37 events not recorded between [0-9:]+ and [0-9:]+ …" \
    "the gap reads as events not recorded between two times"
like "$(rows | grep www.example.com)" \
    "firefox-esr +4001 alice +www\.example\.com +443 allow +rule 3 +1\.8K +5\.0M +12s$" \
    "bytes and duration in human form, the rule that decided"
is "$(widest)" 100 "the table is 100 columns wide, no more"
like "$(rows | grep example.net)" " …[-a-z.]*example\.net +443 " \
    "a name too long for its column keeps its end, cut with an ellipsis"
ok "$(printf '%s' "$out$err" | grep -c "$ESC")" \
    "an executable named with escape sequences cannot write them to the terminal"

tg --wide
like "$(printf '%s\n' "$out" | grep www.example.com)" \
    "$FF +www\.example\.com +sni +93\.184\.216\.34:443 +127\.0\.0\.1:0 +tcp +allow +rule 3 .* 1834 +5242880 +12500ms +- +- +$FF -P default$" \
    "--wide: full path, name source, IP:port, exact bytes, command line"

# --- filters --------------------------------------------------------------

tg --app firefox-esr --since 1h
is "$(rows | awk '{print $2}' | sort -u)" firefox-esr "--app NAME --since 1h: only firefox"
is "$(rows | wc -l)" 3 "--app NAME --since 1h: its three connections in the last hour"
tg --app "$FF"
is "$(rows | wc -l)" 3 "--app PATH: the same three"
tg --domain example.com
is "$(rows | awk '{print $5}' | sort | tr '\n' ' ')" "example.com www.example.com " \
    "--domain example.com: it and the names under it, not mail.example.org"
tg --verdict deny --since today
is "$(rows | awk '{print $5}' | tr '\n' ' ')" "telemetry.mozilla.org tracker.ads.test " \
    "--verdict deny --since today: what got denied today"
tg --since 3d --until 1d
like "$(rows | wc -l) $(rows)" "^1 [A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]+ thunderbird " \
    "--since 3d --until 1d: only two days ago, shown with its date"
tg --uid 1001
is "$(rows | awk '{print $2}' | tr '\n' ' ')" "python3.11 curl " "--uid 1001: bob's two"
tg --pid 5001
is "$(rows | awk '{print $2}')" curl "--pid 5001: one process"
tg --limit 3
like "$(printf '%s\n' "$out" | sed 1d | awk '{print $2}' | tr '\n' ' ')" \
    "^curl 37 x\?\]0;owned\?\[" \
    "--limit 3: the newest three (a gap among them), oldest first"
tg --app nosuchprogram --since 2m
is "$out" "no events match (fewer options, or an earlier --since, show more)" \
    "nothing matches: says so"

# --- JSON -----------------------------------------------------------------

tg --json --limit 0
printf '%s\n' "$out" | python3 -c \
    'import json,sys; [json.loads(l) for l in sys.stdin]'
ok $? "--json: every line parses with python3's json"
is "$(printf '%s\n' "$out" | wc -l)" 8 "--json: one object a line, gap included"
fields=$(printf '%s\n' "$out" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
d = [r for r in rows if r.get("name") == "www.example.com"][0]
g = [r for r in rows if r["kind"] == "gap"][0]
print(d["app"], d["exe"], d["verdict"], d["decider"], d["rule_id"],
      d["bytes_down"], d["time"][-1], d["time_ms"] > 0, d["uid"],
      g["n_lost"])')
is "$fields" "firefox-esr $FF allow rule 3 5242880 Z True 1000 37" \
    "--json: every field, times in UTC (ISO 8601 and ms)"
if command -v jq >/dev/null; then
	n=$(printf '%s\n' "$out" | jq -r 'select(.verdict == "deny") | .name' | wc -l)
	is "$n" 2 "--json: jq selects the two denied"
else
	result 1 "--json: jq selects the two denied # SKIP jq not installed"
fi

# --- errors ---------------------------------------------------------------

tg --verdict maybe
is "$st" 2 "--verdict maybe: exit 2"
like "$err" '^tollgate: events: --verdict "maybe": expected allow, deny or reject' \
    "the error names the option and what it takes"
tg --since 3x
like "$st $err" '^2 tollgate: events: --since "3x"' "--since 3x: exit 2, named"
tg --help
like "$st $out" "^0 usage: tollgate .*--follow" "--help: exit 0, the options"

printf 'this is not a database, not at all\n%.0s' $(seq 200) >"$TMP/bad.db"
printf 'database = %s\n' "$TMP/bad.db" >"$TMP/bad.conf"
out=$("$TG" -c "$TMP/bad.conf" events 2>&1)
st=$?
is "$st" 1 "a file that is not a database: exit 1"
like "$(printf '%s\n' "$out" | wc -l) $out" "^1 tollgate: events: .*bad\.db" \
    "with one line naming the file"
out=$(timeout 5 "$TG" -c "$TMP/bad.conf" events --follow 2>&1)
like "$? $out" "^1 tollgate: events: .*bad\.db" \
    "--follow on it: the same error at once, not a wait"

# --- stats ----------------------------------------------------------------

tg stats
is "$st" 0 "stats: exit 0"
like "$out" "6 connections, 3 denied" "stats: the totals of the last day"
like "$(printf '%s\n' "$out" | grep -A3 '^Apps' | grep firefox-esr)" \
    "firefox-esr +█+░+ +3 +1 denied" \
    "stats: a bar per app, allowed and denied parts"
like "$out" "Connections per hour" "stats: a chart of the connections per hour"
[ "$(widest)" -le 100 ]
ok $? "stats fits 100 columns"
tg stats --ascii
ok "$(printf '%s' "$out" | LC_ALL=C grep -c '[^[:print:][:space:]]')" \
    "stats --ascii: nothing but ASCII"
tg stats --json
n=$(printf '%s\n' "$out" | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(s["total"], s["denied"], s["apps"][0]["app"], len(s["hours"]) >= 24)')
is "$n" "6 3 firefox-esr True" "stats --json: one object, the same counts"

# --- following ------------------------------------------------------------

# follow OUT ERR ARGS...: a follower in the background; its pid in $FPID.
follow() {
	local o=$1 e=$2
	shift 2
	LANG=C.UTF-8 "$TG" -c "$CONF" events --follow "$@" >"$o" 2>"$e" &
	FPID=$!
	PIDS+=("$FPID")
}
# wait_for FILE REGEX MS: until FILE has a line matching REGEX; 0 or 1.
# wait_for FILE REGEX MS: until FILE holds REGEX, at most MS times
# TG_WAIT_SCALE ms (a loaded machine is slow); says how long it took.
TG_WAIT_SCALE=${TG_WAIT_SCALE:-4} # as tests/integ/lib.sh has it
wait_for() {
	local i t0
	t0=$(date +%s%3N)
	for ((i = 0; i < $3 * TG_WAIT_SCALE / 20; i++)); do
		if grep -q -- "$2" "$1" 2>/dev/null; then
			echo "# $2 in $(basename "$1") after $(($(date +%s%3N) - t0)) ms"
			return 0
		fi
		sleep 0.02
	done
	return 1
}
# stop_follower: Ctrl-C, and its exit status in $fst (bounded wait).
stop_follower() {
	local i
	kill -INT "$FPID"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$FPID" 2>/dev/null || break
		sleep 0.02
	done
	if kill -0 "$FPID" 2>/dev/null; then
		kill -KILL "$FPID"
		wait "$FPID" 2>/dev/null
		fst=timeout
	else
		wait "$FPID" 2>/dev/null
		fst=$?
	fi
}

fst=
follow "$TMP/f1.out" "$TMP/f1.err" --limit 3
wait_for "$TMP/f1.out" "^TIME" 2000
sleep 0.3
echo "t=$(now)${T}pid=8001${T}uid=1000${T}user=alice${T}exe=/usr/bin/wget${T}dst=192.0.2.1${T}port=443${T}name=live-one.example${T}verdict=allow${T}rule=1" |
    "$FILL" "$DB" >/dev/null
wait_for "$TMP/f1.out" "live-one\.example" 1000
ok $? "--follow: a row stored 0.3 s later is shown (within a second when idle)"
is "$(grep -c . "$TMP/f1.out")" 5 "--follow: the header, the newest three (a gap among them), then the new one"

# A new database put in place of the old one, as when it is restored:
# file by file, and the follower looks between two of them (on a loaded
# machine it may, so here it does): it has the new database file beside
# the old one's -wal and -shm for a while.
rm -f "$TMP/new.db"*
echo "t=$(now)${T}pid=8002${T}exe=/usr/bin/wget${T}dst=192.0.2.2${T}port=443${T}name=after-restore.example${T}verdict=deny${T}by=default" |
    "$FILL" "$TMP/new.db" >/dev/null
for f in "" -wal -shm; do
	[ -e "$TMP/new.db$f" ] && mv -f "$TMP/new.db$f" "$DB$f"
	[ -z "$f" ] && wait_for "$TMP/f1.err" "replaced or removed" 2000
done
wait_for "$TMP/f1.out" "after-restore\.example" 5000
ok $? "--follow: a database replaced under it is followed too"
stop_follower
is "$fst" 0 "Ctrl-C ends the follower with exit 0"

# A follower that starts before there is any database.
rm -f "$DB"*
follow "$TMP/f2.out" "$TMP/f2.err" --json
wait_for "$TMP/f2.err" "waiting" 2000
sleep 0.5
is "$(grep -c . "$TMP/f2.err")" 1 "no database yet: the follower says once that it waits"
echo "t=$(now)${T}pid=8003${T}exe=/usr/bin/wget${T}dst=192.0.2.3${T}port=443${T}name=first-ever.example${T}verdict=allow${T}rule=1" |
    "$FILL" "$DB" >/dev/null
wait_for "$TMP/f2.out" "first-ever\.example" 1500
ok $? "--follow: the first event of a database that appears is shown"
stop_follower
printf '%s\n' "$(cat "$TMP/f2.out")" | python3 -c \
    'import json,sys; [json.loads(l) for l in sys.stdin]'
ok $? "--follow --json: lines that parse"

exit $((FAILED > 0))
