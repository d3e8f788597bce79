#!/bin/bash
# UDP from a guarded user never leaves the machine: nftables rejects it
# with an ICMP port-unreachable, so the sender learns at once (QUIC falls
# back to TCP).  An unguarded user's datagrams go out as usual.
#
# Then the table a daemon with a DNS stub installs (through the library,
# by tools/redirect-install.c, with no daemon binding the NFLOG group):
# guarded DNS to any server lands on the stub's port, and every refused
# guarded datagram is logged to the NFLOG group with its sender's uid and
# destination, as tools/nflogcat.c reads it through redirect/nflog.h.

. "$(dirname "$0")/lib.sh"

INSTALL_TOOL=$TG_ROOT/build/tests/tools/redirect-install
NFLOGCAT=$TG_ROOT/build/tests/tools/nflogcat
DNSPORT=9053	# the stub's port in the second part
GROUP=25	# the NFLOG group in the second part
MARK=0x746f6c6c

if ! [ -x "$INSTALL_TOOL" ] || ! [ -x "$NFLOGCAT" ]; then
	echo "Bail out! no $INSTALL_TOOL or $NFLOGCAT (make unit, or make integ-tools)"
	exit 1
fi

plan 23
tg_setup

# send USERFN DEST: one datagram "ping" to DEST (socat address); prints
# the echo, if any comes back within 2 seconds.
send() {
	echo ping | TG_T=5 "$1" socat -T 2 - "$2" 2>/dev/null
}

# refused HOST PORT: what tgguard learns from two datagrams to HOST:PORT
# (tools/udp-refused.py): "refused" after a port-unreachable.
refused() {
	TG_T=5 as_guard /usr/bin/python3 -I "$TG_TOOLS/udp-refused.py" "$@"
}

tg_start "$(tg_conf default_action=allow)"
ok $? "tollgated starts and installs its nftables table"

is "$(send as_other "UDP:$TG_S4:9999")" ping "tgother's datagram to port 9999 is echoed back"
is "$(udp_count 9999)" 1 "the server saw it"

udp=$(udp_count all)
is "$(send as_guard "UDP:$TG_S4:9999")" "" "tgguard's datagram to port 9999 gets no answer"
is "$(send as_guard "UDP6:[$TG_S6]:9999")" "" "nor does one to [$TG_S6]:9999"
is "$(send as_guard "UDP:$TG_S4:443")" "" "nor one to port 443"
is "$(refused "$TG_S4" 443)" refused \
    "the sender sees ECONNREFUSED: the reject is a port-unreachable"
is "$(refused "$TG_S6" 443)" refused "so does an IPv6 sender"
is "$(udp_count all)" "$udp" "the server saw none of them"
sleep 0.2
# Only the refusals' own events (71-udp-events): nothing was proxied.
is "$(_tg_since | _tg_decision_filter | grep -vc ' reason=udp-not-proxied ')" 0 \
    "tollgated logged no decision for UDP but its refusals"

tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"

# --- the table with a DNS stub and an NFLOG group ----------------------

guard_uid=$(id -u "$TG_GUARD")
other_uid=$(id -u "$TG_OTHER")
in_client "$INSTALL_TOOL" 9040 $DNSPORT $GROUP $MARK "$guard_uid"
ok $? "the table with a DNS port and NFLOG group $GROUP is installed"

# The stub, as tollgated would listen: it answers "stub-" and the query.
for a in 127.0.0.1 '[::1]'; do
	v=4
	[ "$a" = '[::1]' ] && v=6
	tg_bg ip netns exec "$TG_CNS" timeout 60 socat \
	    UDP$v-RECVFROM:$DNSPORT,bind=$a,fork SYSTEM:'sed s/^/stub-/' \
	    </dev/null >/dev/null 2>&1
done
for ((i = 0; i < 50; i++)); do
	n=$(ip netns exec "$TG_CNS" ss -Hlnu | grep -c ":$DNSPORT ")
	[ "$n" = 2 ] && break
	sleep 0.1
done

dns=$(udp_count 53)
is "$(send as_guard "UDP:$TG_S4:53")" stub-ping \
    "tgguard's datagram to $TG_S4:53 is answered by the stub"
is "$(send as_guard "UDP6:[$TG_S6]:53")" stub-ping \
    "so is one to [$TG_S6]:53"
is "$(udp_count 53)" "$dns" "the DNS server saw none of them"
is "$(send as_other "UDP:$TG_S4:53")" ping \
    "tgother's datagram to $TG_S4:53 reaches the server's echo"

# Every refused guarded datagram, read from the group.
rm -f "$TG_TMP/nflog" "$TG_TMP/nflog.err"
tg_bg ip netns exec "$TG_CNS" timeout 30 "$NFLOGCAT" $GROUP 0 25 \
    >"$TG_TMP/nflog" 2>"$TG_TMP/nflog.err"
for ((i = 0; i < 50; i++)); do
	grep -qs ready "$TG_TMP/nflog.err" && break
	sleep 0.1
done
like "$(cat "$TG_TMP/nflog.err")" "^ready$" "nflogcat binds NFLOG group $GROUP"

udp=$(udp_count all)
send as_guard "UDP:$TG_S4:9999" >/dev/null
send as_guard "UDP6:[$TG_S6]:9999" >/dev/null
send as_other "UDP:$TG_S4:9999" >/dev/null
for ((i = 0; i < 50; i++)); do
	grep -qs "dst=\[$TG_S6\]:9999" "$TG_TMP/nflog" && break
	sleep 0.1
done
log=$(cat "$TG_TMP/nflog")
grep -qxE "uid=$guard_uid proto=udp src=$TG_C4:[0-9]+ dst=$TG_S4:9999 len=33" <<<"$log"
ok $? "the refused datagram to $TG_S4:9999 is logged with tgguard's uid"
grep -qxE "uid=$guard_uid proto=udp src=\[$TG_C6\]:[0-9]+ dst=\[$TG_S6\]:9999 len=53" <<<"$log"
ok $? "so is the one to [$TG_S6]:9999"
unlike "$log" "uid=$other_uid " "tgother's datagram, not refused, is not logged"
is "$(udp_count all)" "$((udp + 1))" \
    "the server saw tgother's datagram and none of tgguard's"
is "$(grep -c . <<<"$log")" 2 "one line per refused datagram"
in_client "$TG_ROOT/build/tollgate" redirect status | grep -qx \
    "refused guarded UDP is logged to nflog group $GROUP"
ok $? "tollgate redirect status names the group"
