#!/bin/bash
# Every refused guarded datagram becomes an event, coalesced: the guarded
# user's bash sends to a server port again and again within a few
# seconds; nothing arrives, and `tollgate events` shows ONE udp event for
# (bash, that destination): verdict reject, decider udp-not-proxied.
# Another destination gets its own event, and so does another app: socat,
# which exits at the first refused datagram (nftables' reject makes its
# sendto fail with EPERM), so that its socket is gone before anyone can
# look: its event names tgguard's uid, from the packet, and no process.
# An unguarded user's UDP goes out and is not logged.  A flood makes no
# more events.  With another reader on the NFLOG group, tollgated warns
# and runs without the events; the UDP is refused all the same.

. "$(dirname "$0")/lib.sh"

plan 25
tg_setup
TG=$TG_ROOT/build/tollgate

# send_bash USERFN HOST PORT N: N datagrams to HOST:PORT from one socket
# of bash's /dev/udp, 0.1 s apart, the socket kept open a second longer
# (until read gets the end of its stdin).  A refused datagram's write
# fails; bash goes on.  Its sleeps get no copy of the socket.
send_bash() {
	sleep 1 | TG_T=5 "$1" bash -c 'exec 3>/dev/udp/$0/$1
	for ((i = 0; i < $2; i++)); do
		echo "ping $i" >&3
		sleep 0.1 3>&-
	done 2>/dev/null
	read -r _' "$2" "$3" "$4"
}

# udp_events: the udp events so far, one line each, sorted: "APP
# DST_IP:PORT VERDICT DECIDER UID" (APP "-" for an unknown process).
udp_events() {
	"$TG" -c "$CONF" events --json --limit 0 2>/dev/null | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if r.get("kind") == "decision" and r.get("proto") == "udp":
        print(r["app"] or "-", "%s:%d" % (r["dst_ip"], r["dst_port"]),
              r["verdict"], r["decider"], r["uid"])' | sort
}

# wait_udp_events N: wait (at most 5 s) until there are N udp events, and
# a second more for any that should not come.
wait_udp_events() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ "$(udp_events | grep -c .)" -ge "$1" ] && break
		sleep 0.1
	done
	sleep 1
}

CONF=$(tg_conf default_action=allow)
tg_start "$CONF"
ok $? "tollgated starts"
unlike "$(cat "$TG_LOG")" "udp events: .*without events" \
    "it reads the NFLOG group of refused UDP"

# --- one app, one destination, many datagrams -----------------------------

udp=$(udp_count all)
for i in 1 2 3; do
	send_bash as_guard "$TG_S4" 9999 3
done
is "$(udp_count all)" "$udp" "none of tgguard's 9 datagrams to $TG_S4:9999 arrived"
wait_udp_events 1
is "$(udp_events)" "bash $TG_S4:9999 reject udp-not-proxied $TG_GUARD_UID" \
    "one event: bash to $TG_S4:9999, rejected, udp-not-proxied, tgguard's uid"
is "$(tg_decisions reason=udp-not-proxied)" 1 "and one decision line"
d=$(tg_decision reason=udp-not-proxied)
is "$(kv "$d" exe)/$(kv "$d" proto)/$(kv "$d" verdict)" /usr/bin/bash/udp/reject \
    "which names /usr/bin/bash, proto udp, verdict reject"

# --- other destinations, another app ----------------------------------------

send_bash as_guard "$TG_S4" 443 2
send_bash as_guard "$TG_S6" 9999 2
send_bash as_guard "$TG_S4" 9999 2
echo ping | TG_T=5 as_guard socat -T 1 - "UDP-SENDTO:$TG_S4:9999" >/dev/null 2>&1
is "$(udp_count all)" "$udp" "none of those arrived either"
wait_udp_events 4
ev=$(udp_events)
is "$(grep -c . <<<"$ev")" 4 "four events in all"
is "$(grep -c "^bash $TG_S4:443 reject udp-not-proxied $TG_GUARD_UID\$" <<<"$ev")" 1 \
    "bash to $TG_S4:443: its own event"
is "$(grep -c "^bash $TG_S6:9999 reject udp-not-proxied $TG_GUARD_UID\$" <<<"$ev")" 1 \
    "bash to [$TG_S6]:9999: its own event"
is "$(grep -c "^bash $TG_S4:9999 " <<<"$ev")" 1 \
    "bash to $TG_S4:9999 again within the minute: still one event"
is "$(grep -cE "^(-|socat) $TG_S4:9999 reject udp-not-proxied $TG_GUARD_UID\$" <<<"$ev")" 1 \
    "socat's datagram, sent by a process gone at once: an event of its own, with tgguard's uid"

# --- a flood ------------------------------------------------------------------

# 3000 datagrams to one destination, each from a new socket closed at
# once: past the bound of datagrams waiting to be attributed, the rest
# are recorded by the packet's uid; all of them coalesce.
cat >"$TG_TMP/flood.py" <<'EOF2'
import socket, sys
for i in range(3000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(b"x", (sys.argv[1], 7777))
    except OSError:
        pass
    s.close()
EOF2
chmod 644 "$TG_TMP/flood.py"
as_guard /usr/bin/python3 -I "$TG_TMP/flood.py" "$TG_S4"
wait_udp_events 5
n=$(udp_events | grep -c " $TG_S4:7777 reject udp-not-proxied $TG_GUARD_UID\$")
ok '[ "$n" -ge 1 ] && [ "$n" -le 2 ]' \
    "3000 datagrams to $TG_S4:7777 from 3000 sockets: $n event(s), at most one per app"
out=$(as_guard curl -sS --max-time 10 "http://$TG_S4/" 2>&1)
like "$out" "hello from tgs" "tollgated still serves TCP after the flood"
for ((i = 0; i < 50; i++)); do # its row comes with the writer's next batch
	[ -n "$("$TG" -c "$CONF" events --proto tcp --json --limit 0)" ] && break
	sleep 0.1
done
is "$("$TG" -c "$CONF" events --proto udp --limit 0 --json | jq -r "select(.kind == \"decision\") | .proto" | sort | uniq -c | awk '{print $1, $2}')" \
    "$(udp_events | grep -c .) udp" "tollgate events --proto udp: the udp-not-proxied events, only they"
is "$("$TG" -c "$CONF" events --proto tcp --limit 0 --json | jq -r '"\(.proto) \(.dst_port)"')" \
    "tcp 80" "--proto tcp: the curl to port 80 alone"

# --- an unguarded user ---------------------------------------------------------

echo ping | TG_T=5 as_other socat -T 2 - "UDP:$TG_S4:9999" >/dev/null 2>&1
is "$(udp_count all)" "$((udp + 1))" "tgother's datagram arrived"
sleep 1
is "$(udp_events | grep -c " $TG_OTHER_UID\$")" 0 "and made no event"

tg_stop
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
like "$(cat "$TG_LOG")" "udp events: [0-9]+ refused datagrams, [56] events, [0-9]+ coalesced" \
    "its last words count the refused datagrams, the events, the coalesced"

# --- another reader has the group ----------------------------------------------

# The kernel lets one socket bind a group: tollgated runs without the
# events, and its table logs to no group, so the other reader gets none
# of the guarded users' datagrams; they are refused all the same.
tg_bg ip netns exec "$TG_CNS" timeout 30 "$TG_ROOT/build/tests/tools/nflogcat" \
    7474 0 25 >"$TG_TMP/nflog" 2>"$TG_TMP/nflog.err"
for ((i = 0; i < 50; i++)); do
	grep -qs ready "$TG_TMP/nflog.err" && break
	sleep 0.1
done
tg_start "$CONF"
ok $? "with another reader on NFLOG group 7474, tollgated starts"
like "$(cat "$TG_LOG")" "warning: udp events: binding nflog group 7474: .*still refused, but without events" \
    "and warns that the refused UDP will have no events"
before=$(udp_events | grep -c .)
send_bash as_guard "$TG_S4" 9997 2
is "$(udp_count all)" "$((udp + 1))" "tgguard's UDP is still refused"
sleep 1
is "$(udp_events | grep -c .)" "$before" "no event for it"
is "$(grep -c . "$TG_TMP/nflog")" 0 "and the other reader got none of it"
tg_stop
