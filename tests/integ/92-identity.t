#!/bin/bash
# An allowed program's name is not enough: curl may go to the server, and
# a guarded user tries to get other code out under curl's rule.  Each case
# first does what got through before: python3 bind-mounted over curl in a
# mount namespace of its own, a socket made by python3 and inherited by a
# curl exec'ed in the parent while the child connects, a library preloaded
# into curl.  Each is now told apart (the event's flags say how), and the
# plain curl still goes; events carry the SHA-256 of the file that ran; a
# prompt agent is asked about "curl (with LD_PRELOAD)" and "curl (not the
# installed file)", once only.

. "$(dirname "$0")/lib.sh"

plan 49
tg_setup
chmod 711 "$TG_TMP"
TG=$TG_ROOT/build/tollgate
DB=$TG_DB
conf() {
	tg_conf_kept default_action=deny shared_socket_check=yes "$@"
}
CURL=/usr/bin/curl
PY=$(readlink -f /usr/bin/python3)

# A program that fetches the page from its first argument's address
# (tools/httpget.py: its own directory cannot be listed by the user).
cat >"$TG_TMP/get.py" <<EOF
import socket, sys
sys.path.insert(0, "$TG_TOOLS")
from httpget import fetch
print(fetch(socket.create_connection((sys.argv[1], 80), timeout=15)))
EOF
chmod 644 "$TG_TMP/get.py"

CONF=$(conf)
tg_start "$CONF"
ok $? "tollgated starts with default_action = deny"
"$TG" -c "$CONF" rules add --app "$CURL" --dest "$TG_S4" \
    --action allow >/dev/null
ok $? "curl is allowed to $TG_S4"

# --- the plain curl, and its digest -------------------------------------------

tg_mark
guard_hello curl -s --max-time 5 "http://$TG_S4/"
ok $? "curl gets the page"
d=$(tg_decision exe="$CURL" verdict=allow)
is "$(kv "$d" reason)" rule "by its rule"
is "$(kv "$d" flags)" "" "with no flag"
conn=$(kv "$d" conn)
want=$(sha256sum "$(readlink -f "$CURL")" | cut -d' ' -f1)
is "$(tg_event_conn "$conn" 'r["sha256"]')" "$want" "its event carries the SHA-256 of $CURL"
like "$("$TG" -c "$CONF" events --wide --limit 0 2>/dev/null)" "$want" \
    "tollgate events --wide shows it"

# --- python3 mounted over curl ------------------------------------------------

if ! as_guard unshare -Urm true 2>/dev/null; then
	for ((i = 0; i < 6; i++)); do
		ok 0 "# SKIP unprivileged user namespaces are not available"
	done
else
	tg_mark
	# The hole: exe reads /usr/bin/curl while python3 runs the script.
	guard_hello unshare -Urm sh -c 'mount --bind /usr/bin/python3 /usr/bin/curl &&
	    exec /usr/bin/curl "$0" "$1"' "$TG_TMP/get.py" "$TG_S4"
	nok $? "python3 bind-mounted over curl does not get the page"
	d=$(tg_decision exe="$CURL" verdict=deny)
	ok $? "its decision names $CURL, denied"
	is "$(kv "$d" reason)" no-agent \
	    "by no rule: no rule for curl matches it (and no agent asks)"
	like "$(kv "$d" flags)" "not-installed" "flagged not-installed"
	like "$(kv "$d" flags)" "userns" "and userns"
	want=$(sha256sum "$PY" | cut -d' ' -f1)
	is "$(tg_event_conn "$(kv "$d" conn)" 'r["sha256"]')" "$want" \
	    "its event's SHA-256 is python3's, the file that ran"
fi
guard_hello curl -s --max-time 5 "http://$TG_S4/"
ok $? "the plain curl still gets the page"

# --- one socket, two programs -------------------------------------------------

tg_mark
out=$(as_guard python3 "$TG_TOOLS/sharedsock.py" "$TG_S4" 2>&1)
unlike "$out" "hello from tgs" \
    "python3's child, connecting on a socket curl holds too, gets nothing"
# Connect tracking (on by default) names the process that called
# connect(): curl holding the socket too does not matter.  Without it,
# 98-connect-tracking: every holder is judged (shared-socket).
d=$(tg_decision dst="$TG_S4:80")
is "$(kv "$d" verdict)" deny "the connection is denied"
is "$(kv "$d" exe)" "$PY" "as python3's, the program that connected"
is "$(kv "$d" reason)" no-agent "by no rule (no agent asks)"
is "$(tg_event_conn "$(kv "$d" conn)" 'r["exe"]')" "$PY" \
    "its event names python3"

# --- LD_PRELOAD ----------------------------------------------------------------

LIBC=$(ldd "$CURL" | awk '$1 ~ /^libc\.so/ {print $3}')
tg_mark
guard_hello env LD_PRELOAD="$LIBC" curl -s --max-time 5 "http://$TG_S4/"
ok $? "curl with LD_PRELOAD=$LIBC gets the page while preloading is trusted"
d=$(tg_decision exe="$CURL" verdict=allow)
like "$(kv "$d" flags)" "preload" "flagged preload"
like "$(tg_event_conn "$(kv "$d" conn)" 'r["flags"]')" "preload" "on its event too"

tg_stop
CONF=$(conf distrust_preload=yes)
tg_start "$CONF"
ok $? "tollgated starts again with distrust_preload = yes"
tg_mark
guard_hello env LD_PRELOAD="$LIBC" curl -s --max-time 5 "http://$TG_S4/"
nok $? "curl with LD_PRELOAD no longer gets the page"
d=$(tg_decision exe="$CURL" verdict=deny)
is "$(kv "$d" reason)" no-agent "no rule for curl matches it"
guard_hello curl -s --max-time 5 "http://$TG_S4/"
ok $? "the plain curl still does"

# --- a rule pinned to the file's digest ---------------------------------------

mkdir -p "$TG_TMP/bin"
cp "$(readlink -f "$CURL")" "$TG_TMP/bin/tgcurl"
chmod 755 "$TG_TMP/bin" "$TG_TMP/bin/tgcurl"
out=$("$TG" -c "$CONF" rules add --app "$TG_TMP/bin/tgcurl" --dest "$TG_S4" \
    --action allow --digest pin 2>&1)
ok $? "a rule for a copy of curl, pinned to its digest ($out)"
pin_id=$(sed -n 's/.*rule \([0-9][0-9]*\).*/\1/p' <<<"$out" | head -n 1)
is "$(rj "[r['digest'] for r in rs if r['id'] == $pin_id]")" \
    "['$(sha256sum "$TG_TMP/bin/tgcurl" | cut -d' ' -f1)']" \
    "tollgate rules list --json shows the digest"
guard_hello "$TG_TMP/bin/tgcurl" -s --max-time 5 "http://$TG_S4/"
ok $? "the copy gets the page"
printf 'x' >>"$TG_TMP/bin/tgcurl" # still runs: a byte past its end
tg_mark
guard_hello "$TG_TMP/bin/tgcurl" -s --max-time 5 "http://$TG_S4/"
nok $? "changed, it no longer does"
d=$(tg_decision exe="$TG_TMP/bin/tgcurl" verdict=deny)
is "$(kv "$d" reason)" no-agent "no rule matches the changed file"
"$TG" -c "$CONF" rules edit "$pin_id" --digest pin >/dev/null
ok $? "tollgate rules edit --digest pin pins the file as it is now"
guard_hello "$TG_TMP/bin/tgcurl" -s --max-time 5 "http://$TG_S4/"
ok $? "and the copy gets the page again"

# --- what the prompt says -----------------------------------------------------

tg_stop
prompt_setup
CONF=$(prompt_conf distrust_preload=yes prompt_timeout=30s)
tg_start "$CONF"
agent_start
wait_agent
ok $? "with a prompt agent running"
TG_T=25 as_guard env LD_PRELOAD="$LIBC" curl -s --max-time 20 \
    "http://$TG_S4/" >/dev/null 2>&1 &
wait_pj '[p["app"] for p in ps]' "['$CURL (with LD_PRELOAD)']" 10
ok $? "the preloaded curl is asked about as '$CURL (with LD_PRELOAD)'"
is "$(pj '[p["durations"] for p in ps]')" "[['once']]" \
    "and only once: no rule for $CURL could ever match it"
tty_wait agent "with LD_PRELOAD" 5
ok $? "the agent shows it so"
"$TG" -c "$CONF" answer --scope app "$(pj 'ps[0]["id"]')" deny >/dev/null
ok $? "answered: deny, once"
wait_pj 'len(ps)' 0 5
printf 'y' >>"$TG_TMP/bin/tgcurl"
TG_T=25 as_guard "$TG_TMP/bin/tgcurl" -s --max-time 20 "http://$TG_S4/" \
    >/dev/null 2>&1 &
wait_pj '[p["app"] for p in ps]' \
    "['$TG_TMP/bin/tgcurl (changed since the rule was made)']" 10
ok $? "the pinned copy, changed again, is asked about as changed since the rule was made"
"$TG" -c "$CONF" rules edit "$pin_id" --digest pin >/dev/null
wait_pj 'len(ps)' 0 10
ok $? "pinned anew, the rule answers the waiting connection"
# The update case: changed again, the prompt offers "forever", which pins
# the rule anew (root's answer here; an agent's, when prompt_answers
# lets it answer for good).
printf 'z' >>"$TG_TMP/bin/tgcurl"
TG_T=25 as_guard "$TG_TMP/bin/tgcurl" -s --max-time 20 "http://$TG_S4/" \
    >"$TG_TMP/repin.out" 2>&1 &
repin_pid=$!
wait_pj '[p["app"] for p in ps]' \
    "['$TG_TMP/bin/tgcurl (changed since the rule was made)']" 10
ok $? "changed once more, the copy is asked about again"
is "$(pj '[p["durations"] for p in ps]')" "[['once', 'forever']]" \
    "with forever among the answers, which pins its rule anew"
out=$("$TG" -c "$CONF" answer --scope app "$(pj 'ps[0]["id"]')" deny --duration forever 2>&1)
nok $? "deny, forever, is refused: only allow pins the rule anew ($out)"
"$TG" -c "$CONF" answer --scope app "$(pj 'ps[0]["id"]')" allow --duration forever >/dev/null
ok $? "root answers allow, forever"
wait "$repin_pid"
grep -q "hello from tgs" "$TG_TMP/repin.out"
ok $? "the waiting connection gets the page"
for ((i = 0; i < 100; i++)); do
	got=$(rj "[r['digest'] for r in rs if r['id'] == $pin_id]")
	[ "$got" = "['$(sha256sum "$TG_TMP/bin/tgcurl" | cut -d' ' -f1)']" ] && break
	sleep 0.1
done
is "$got" "['$(sha256sum "$TG_TMP/bin/tgcurl" | cut -d' ' -f1)']" \
    "the same rule ($pin_id) is pinned to the changed file"
guard_hello "$TG_TMP/bin/tgcurl" -s --max-time 5 "http://$TG_S4/"
ok $? "and the next connection goes through without a prompt"
if as_guard unshare -Urm true 2>/dev/null; then
	TG_T=25 as_guard unshare -Urm sh -c 'mount --bind /usr/bin/python3 \
	    /usr/bin/curl && exec /usr/bin/curl "$0" "$1"' "$TG_TMP/get.py" \
	    "$TG_S4" >/dev/null 2>&1 &
	wait_pj '[p["app"] for p in ps]' \
	    "['$CURL (not the installed file)']" 10
	ok $? "python3 mounted over curl is asked about as '$CURL (not the installed file)'"
	is "$(pj '[p["durations"] for p in ps]')" "[['once']]" "only once"
else
	ok 0 "# SKIP unprivileged user namespaces are not available"
	ok 0 "# SKIP unprivileged user namespaces are not available"
fi
