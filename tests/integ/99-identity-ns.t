#!/bin/bash
# A user namespace of one's own has a mount namespace of one's own: a
# guarded user bind-mounts a library of its choice over one that curl
# loads, then execs the installed curl.  Its exe is the installed file
# and its environment is clean, so neither the not-installed nor the
# preload check sees anything, and curl's rule let the foreign code out
# (the hole, shown first with distrust_userns = no).  With
# distrust_userns = yes it is another app, "curl (in a user namespace)",
# that no rule for curl matches.  Then a shared socket: the other holder's
# rule is only looked at, never counted as if it had decided.

. "$(dirname "$0")/lib.sh"

plan 21
tg_setup
chmod 711 "$TG_TMP"
TG=$TG_ROOT/build/tollgate
DB=$TG_DB
conf() {
	tg_conf_kept default_action=deny "$@"
}
CURL=/usr/bin/curl
PY=$(readlink -f /usr/bin/python3)

# The library swapped in: a copy of one curl loads (what it runs is the
# user's to choose; tollgated cannot tell a copy from anything else).
LIBZ=$(ldd "$CURL" | awk '$1 ~ /^libz\.so/ {print $3}')
cp "$(readlink -f "$LIBZ")" "$TG_TMP/evil.so"
chmod 755 "$TG_TMP/evil.so"
# swapped: curl to $TG_S4 in a user and mount namespace of its own, with
# evil.so mounted over $LIBZ.
swapped() {
	guard_hello unshare -Urm sh -c 'mount --bind "$0" "$1" &&
	    exec /usr/bin/curl -s --max-time 5 "http://$2/"' \
	    "$TG_TMP/evil.so" "$LIBZ" "$TG_S4"
}

if ! as_guard unshare -Urm true 2>/dev/null; then
	for ((i = 0; i < 14; i++)); do
		ok 0 "# SKIP unprivileged user namespaces are not available"
	done
else
	# --- distrust_userns = no: the hole ---------------------------------
	CONF=$(conf)
	tg_start "$CONF"
	ok $? "tollgated starts with default_action = deny, distrust_userns unset (no)"
	"$TG" -c "$CONF" rules add --app "$CURL" --dest "$TG_S4" \
	    --action allow >/dev/null
	ok $? "curl is allowed to $TG_S4"
	tg_mark
	swapped
	ok $? "curl with $TG_TMP/evil.so mounted over $LIBZ gets the page: the hole"
	d=$(tg_decision exe="$CURL" verdict=allow)
	is "$(kv "$d" reason)" rule "by curl's rule"
	is "$(kv "$d" flags)" "userns" "flagged userns only: the installed file, no preload"
	tg_stop

	# --- distrust_userns = yes ------------------------------------------
	CONF=$(conf distrust_userns=yes)
	tg_start "$CONF"
	ok $? "tollgated starts again with distrust_userns = yes"
	guard_hello curl -s --max-time 5 "http://$TG_S4/"
	ok $? "the plain curl gets the page"
	tg_mark
	swapped
	nok $? "the library-swapped curl does not"
	d=$(tg_decision exe="$CURL" verdict=deny)
	is "$(kv "$d" reason)" no-agent "no rule for curl matches it (and no agent asks)"
	like "$(kv "$d" flags)" "userns" "its decision is flagged userns"
	like "$(tg_event_conn "$(kv "$d" conn)" 'r["flags"]')" "userns" "and so is its event"
	tg_stop

	# --- what the prompt says -------------------------------------------
	prompt_setup
	CONF=$(prompt_conf distrust_userns=yes prompt_timeout=30s)
	tg_start "$CONF"
	agent_start
	wait_agent
	ok $? "with distrust_userns = yes and a prompt agent running"
	TG_T=25 as_guard unshare -Urm sh -c 'mount --bind "$0" "$1" &&
	    exec /usr/bin/curl -s --max-time 20 "http://$2/"' \
	    "$TG_TMP/evil.so" "$LIBZ" "$TG_S4" >/dev/null 2>&1 &
	wait_pj '[p["app"] for p in ps]' "['$CURL (in a user namespace)']" 10
	ok $? "the swapped curl is asked about as '$CURL (in a user namespace)'"
	is "$(pj '[p["durations"] for p in ps]')" "[['once']]" \
	    "and only once: no rule for $CURL could ever match it"
	tty_stop
	tg_stop
fi

# --- one socket, two programs: only the deciding rule counts ------------------

# The shared socket (tools/sharedsock.py): curl holds it, python3's child
# connects with it.  Without connect tracking, so that the holders are
# judged (with it, the caller alone is named: test 98).
rm -f "$DB"*
CONF=$(conf shared_socket_check=yes connect_tracking=no)
tg_start "$CONF"
ok $? "tollgated starts with shared_socket_check = yes, connect_tracking = no"
"$TG" -c "$CONF" rules add --app "$CURL" --dest "$TG_S4" --port 80 \
    --action allow >/dev/null &&
    "$TG" -c "$CONF" rules add --app "$PY" --dest "$TG_S4" --port 80 \
        --action allow >/dev/null
ok $? "curl and python3 are both allowed to $TG_S4 port 80"
tg_mark
out=$(as_guard python3 "$TG_TOOLS/sharedsock.py" "$TG_S4" 2>&1)
like "$out" "hello from tgs" "python3's child, on a socket curl holds too, gets the page: both are allowed"
# Hits reach the store every 5 s, all of one flush together.
for ((i = 0; i < 150 * TG_WAIT_SCALE; i++)); do
	hits=$(rj "sum(r['hits'] for r in rs)")
	[ "${hits:-0}" -gt 0 ] && break
	sleep 0.1
done
is "$(rj "sorted(r['hits'] for r in rs)")" "[0, 1]" \
    "one rule counted the connection, the one of the holder it was judged for; the other holder's was only looked at"

# --- a pinned rule, its file not hashed yet -----------------------------------

# A copy of curl, 300 MB long (sparse: hashing it still reads all of it),
# pinned; tollgated has never seen it, so its first connection comes
# while the file is being hashed on the queue's thread.
mkdir -p "$TG_TMP/bin"
cp "$(readlink -f "$CURL")" "$TG_TMP/bin/bigcurl"
truncate -s 300M "$TG_TMP/bin/bigcurl"
chmod 755 "$TG_TMP/bin" "$TG_TMP/bin/bigcurl"
want=$(sha256sum "$TG_TMP/bin/bigcurl" | cut -d' ' -f1)
"$TG" -c "$CONF" rules add --app "$TG_TMP/bin/bigcurl" --dest "$TG_S4" \
    --action allow --digest pin >/dev/null
ok $? "a 300 MB copy of curl is allowed to $TG_S4, pinned to its digest"
tg_mark
guard_hello "$TG_TMP/bin/bigcurl" -s --max-time 20 "http://$TG_S4/"
ok $? "its first connection waits for the digest and gets the page"
d=$(tg_decision exe="$TG_TMP/bin/bigcurl" verdict=allow)
is "$(tg_event_conn "$(kv "$d" conn)" 'r["sha256"]')" "$want" \
    "by its pinned rule, and its event carries the digest"
tg_stop
