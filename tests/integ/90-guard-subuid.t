#!/bin/bash
# A guarded user's subordinate uids are guarded with it.  With a range in
# /etc/subuid and newuidmap installed (package uidmap), tgguard runs
# "unshare --map-auto --setuid 0 --setgid 0 CMD" in the same network
# namespace: CMD's sockets belong to host uid 300000, not to tgguard.
#
# First the hole, on a table that matches only tgguard's own uid (as
# tollgate's table did before it read /etc/subuid): CMD's TCP and UDP
# reach the server with nobody deciding.  Then tollgated: CMD's TCP (IPv4
# and IPv6) is redirected and judged (a decision line with uid 300000), a
# deny rule denies it, its UDP is refused; and a range given to tgguard
# while tollgated runs is guarded within a bounded wait.  /etc/subuid and
# /etc/subgid are put back as they were at the end.

. "$(dirname "$0")/lib.sh"

INSTALL_TOOL=$TG_ROOT/build/tests/tools/redirect-install
TG=$TG_ROOT/build/tollgate
MARK=0x746f6c6c
SUB=300000  # tgguard's first subordinate range: 300000-300999
SUB2=310000 # the one given while tollgated runs: 310000-310999

if ! [ -x "$INSTALL_TOOL" ]; then
	echo "Bail out! no $INSTALL_TOOL (make unit, or make integ-tools)"
	exit 1
fi
command -v newuidmap >/dev/null || skip_all "needs newuidmap (package uidmap)"
unshare --help 2>/dev/null | grep -q -- --map-auto ||
    skip_all "needs util-linux unshare with --map-auto"

plan 27
tg_setup

# The files as they were, put back whatever happens.
SAVED=$TG_TMP/saved
mkdir -p "$SAVED" && cp -p /etc/subuid /etc/subgid "$SAVED/" ||
    { echo "Bail out! cannot save /etc/subuid and /etc/subgid"; exit 1; }
restore_subids() {
	cp -p "$SAVED/subuid" /etc/subuid
	cp -p "$SAVED/subgid" /etc/subgid
}
trap 'st=$?; restore_subids; (exit $st); _tg_cleanup' EXIT

usermod --add-subuids $SUB-$((SUB + 999)) \
    --add-subgids $SUB-$((SUB + 999)) "$TG_GUARD"
ok $? "usermod gives tgguard subordinate uids and gids $SUB-$((SUB + 999))"

# in_userns CMD...: CMD as root of a user namespace of tgguard's, in the
# client's network namespace, its ids mapped as NSMAP says.
NSMAP=(--map-auto)
in_userns() {
	as_guard unshare "${NSMAP[@]}" --setuid 0 --setgid 0 "$@"
}

curl_ns() {
	in_userns curl -sS --max-time 8 --resolve "a.test:80:$TG_S4" \
	    --resolve "c.test:80:$TG_S4" --resolve "a6.test:80:[$TG_S6]" "$@"
}

send_ns() {
	echo ping | TG_T=5 in_userns socat -T 2 - "$1" 2>/dev/null
}

is "$(in_userns sh -c 'id -u; cat /proc/self/uid_map')" \
    "$(printf '0\n         0     %s       1000' "$SUB")" \
    "inside unshare --map-auto tgguard is uid 0, host uid $SUB"

# --- the hole: a table that knows only tgguard's own uid -----------------

in_client "$INSTALL_TOOL" 9040 0 0 $MARK "$TG_GUARD_UID"
ok $? "a table guarding uid $TG_GUARD_UID alone is installed (no tollgated)"
syn=$(syn_count 80)
out=$(curl_ns http://a.test/)
like "$out" "hello from tgs" \
    "the hole: the user namespace's curl reaches the server undecided"
is "$(syn_count 80)" $((syn + 1)) "the server saw its SYN, straight from uid $SUB"
is "$(send_ns "UDP:$TG_S4:9999")" ping "and its UDP gets an echo back"
out=$(as_guard curl -sS --max-time 5 http://$TG_S4/ 2>&1)
nok $? "while tgguard's own curl is held by the table (no tollgated)"

# --- tollgated guards the range ---------------------------------------------

CONF=$(tg_conf default_action=allow)
tg_start "$CONF"
ok $? "tollgated starts guarding tgguard"
like "$(grep 'ready:' "$TG_LOG")" "subordinate uids $SUB-$((SUB + 999))" \
    "its ready line names the subordinate range"
st=$(in_client "$TG" -c "$CONF" redirect status)
like "$st" "guarded: uid $TG_GUARD_UID \($TG_GUARD\); subordinate uids $SUB-$((SUB + 999)); subordinate gids $SUB-$((SUB + 999))" \
    "tollgate redirect status shows the uid and gid ranges"
like "$(in_client "$TG" -c "$CONF" status)" "guarded ids: +uid $TG_GUARD_UID \($TG_GUARD\); subordinate uids $SUB-" \
    "tollgate status shows them too"

tg_mark
syn=$(syn_count 80)
out=$(curl_ns http://a.test/)
like "$out" "hello from tgs" "the user namespace's curl gets the page (default_action allow)"
d=$(tg_decision dst="$TG_S4:80")
ok $? "through tollgated: a decision line for $TG_S4:80"
is "$(kv "$d" uid) $(kv "$d" exe) $(kv "$d" name)" "$SUB /usr/bin/curl a.test" \
    "it names uid $SUB, curl and a.test"
out=$(curl_ns "http://a6.test/")
like "$out" "hello from tgs" "over IPv6 too"
d=$(tg_decision dst="[$TG_S6]:80")
is "$(kv "$d" uid)" "$SUB" "judged as uid $SUB as well"

out=$(in_client "$TG" -c "$CONF" rules add --app '*' --dest a.test --action deny 2>&1)
ok $? "a deny rule for a.test is added: $out"
tg_mark
out=$(curl_ns http://a.test/ 2>&1)
nok $? "the user namespace's curl to a.test is now refused"
d=$(tg_decision dst="$TG_S4:80" uid=$SUB)
is "$(kv "$d" verdict)/$(kv "$d" reason)" deny/rule "denied by the rule"

udp=$(udp_count 9999)
is "$(send_ns "UDP:$TG_S4:9999")" "" "its UDP gets no echo"
is "$(udp_count 9999)" "$udp" "and never reaches the server"

# --- a range added while tollgated runs -----------------------------------

tg_mark
usermod --add-subuids $SUB2-$((SUB2 + 999)) "$TG_GUARD"
ok $? "usermod gives tgguard $SUB2-$((SUB2 + 999)) while tollgated runs"
TG_WAIT=10 tg_wait_log "subordinate ids: uids $SUB2-$((SUB2 + 999)) of uid $TG_GUARD_UID added" 10 >/dev/null
ok $? "tollgated logs the new range within 10 s"
like "$(in_client nft list chain inet tollgate filter_out)" \
    "meta skuid $SUB2-$((SUB2 + 999)) jump guard" "and the table guards it"
tg_mark
NSMAP=(--map-users=$SUB2,0,1000 --map-groups=$SUB,0,1000)
out=$(curl_ns http://c.test/)
like "$out" "hello from tgs" "a user namespace mapped onto it gets the page"
d=$(tg_decision dst="$TG_S4:80")
is "$(kv "$d" uid)" "$SUB2" "judged by tollgated as uid $SUB2"

tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
