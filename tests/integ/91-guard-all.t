#!/bin/bash
# guard_users = * except root, tgother: every uid but those listed (and
# tollgated's own) is guarded.  A user created for this test and named
# nowhere in the configuration is redirected and judged; root and tgother
# go straight out, unseen; but tgother's subordinate uids are not exempt:
# its "unshare --map-auto --setuid 0" curl is judged.  The new user is
# removed and /etc/subuid, /etc/subgid put back at the end.

. "$(dirname "$0")/lib.sh"

TG=$TG_ROOT/build/tollgate
NEW=tgnew91

SUB=320000 # tgother's subordinate range: 320000-320999

command -v newuidmap >/dev/null || skip_all "needs newuidmap (package uidmap)"

plan 20
tg_setup

SAVED=$TG_TMP/saved
mkdir -p "$SAVED" && cp -p /etc/subuid /etc/subgid "$SAVED/" ||
    { echo "Bail out! cannot save /etc/subuid and /etc/subgid"; exit 1; }
_tg_user "$NEW" --system --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin
ok $? "a new user $NEW is created"
trap 'st=$?; userdel "$NEW" 2>/dev/null
    cp -p "$SAVED/subuid" /etc/subuid; cp -p "$SAVED/subgid" /etc/subgid
    (exit $st); _tg_cleanup' EXIT
NEW_UID=$(id -u "$NEW")
usermod --add-subuids $SUB-$((SUB + 999)) \
    --add-subgids $SUB-$((SUB + 999)) "$TG_OTHER"
ok $? "tgother gets subordinate uids and gids $SUB-$((SUB + 999))"

CONF=$(tg_conf "guard_users=* except root, $TG_OTHER")
out=$("$TG_DAEMON" -c "$CONF" --print-config)
like "$out" "guard_users = \* except root, $TG_OTHER" \
    "--print-config shows the inverse form"

tg_start "$CONF"
ok $? "tollgated starts guarding every uid but root and $TG_OTHER"
like "$(grep 'ready:' "$TG_LOG")" "guarding every uid but 0 \(root\), $TG_OTHER_UID \($TG_OTHER\), [0-9]+ \(_tollgate\)" \
    "its ready line names the exempt uids, its own among them"
like "$(in_client "$TG" -c "$CONF" redirect status)" \
    "guarded: every uid but 0 \(root\), $TG_OTHER_UID \($TG_OTHER\), [0-9]+ \(_tollgate\)" \
    "tollgate redirect status says the same"

curl_as() {
	local user=$1
	shift
	as_user "$user" curl -sS --max-time 8 --resolve "a.test:80:$TG_S4" \
	    --resolve "a6.test:80:[$TG_S6]" "$@"
}

tg_mark
like "$(curl_as "$NEW" http://a.test/)" "hello from tgs" \
    "$NEW, named nowhere, gets the page (default_action allow)"
d=$(tg_decision dst="$TG_S4:80")
ok $? "through tollgated: a decision line for it"
is "$(kv "$d" uid) $(kv "$d" user)" "$NEW_UID $NEW" "naming $NEW"
like "$(curl_as "$NEW" http://a6.test/)" "hello from tgs" "over IPv6 too"
d=$(tg_decision dst="[$TG_S6]:80" uid="$NEW_UID")
ok $? "judged by tollgated as well"
is "$(echo ping | TG_T=5 as_user "$NEW" socat -T 2 - "UDP:$TG_S4:9999" 2>/dev/null)" "" \
    "its UDP is refused"
d=$(tg_decision proto=udp uid="$NEW_UID")
is "$(kv "$d" reason)" udp-not-proxied "and the refusal is logged as its"

tg_mark
like "$(in_client curl -sS --max-time 8 http://$TG_S4/)" "hello from tgs" \
    "root's curl gets the page"
like "$(curl_as "$TG_OTHER" http://a.test/)" "hello from tgs" \
    "so does $TG_OTHER's"
sleep 0.3
is "$(tg_decisions dst="$TG_S4:80")" 0 "tollgated decided neither: they are exempt"

tg_mark
out=$(as_other unshare --map-auto --setuid 0 --setgid 0 curl -sS \
    --max-time 8 --resolve "a.test:80:$TG_S4" http://a.test/)
like "$out" "hello from tgs" \
    "tgother's curl as root of its user namespace gets the page"
d=$(tg_decision dst="$TG_S4:80")
ok $? "but through tollgated: the exempt uid's subordinate ids are guarded"
is "$(kv "$d" uid)" "$SUB" "judged as uid $SUB"

tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
