#!/bin/bash
# UDP from a guarded user never leaves the machine (nftables rejects it),
# except DNS on port 53, which passes until the DNS stub exists.  An
# unguarded user's datagrams go out as usual.

. "$(dirname "$0")/lib.sh"

plan 13
tg_setup

# send USERFN DEST: one datagram "ping" to DEST (socat address); prints
# the echo, if any comes back within 2 seconds.
send() {
	echo ping | TG_T=5 "$1" socat -T 2 - "$2" 2>/dev/null
}

tg_start "$(tg_conf default_action=allow)"
ok $? "tollgated starts and installs its nftables table"

is "$(send as_other "UDP:$TG_S4:9999")" ping "tgother's datagram to port 9999 is echoed back"
is "$(udp_count 9999)" 1 "the server saw it"

udp=$(udp_count all)
is "$(send as_guard "UDP:$TG_S4:9999")" "" "tgguard's datagram to port 9999 gets no answer"
is "$(send as_guard "UDP6:[$TG_S6]:9999")" "" "nor does one to [$TG_S6]:9999"
is "$(send as_guard "UDP:$TG_S4:443")" "" "nor one to port 443"
is "$(udp_count all)" "$udp" "the server saw none of them"

is "$(send as_guard "UDP:$TG_S4:53")" ping "tgguard's datagram to port 53 (DNS) is echoed back"
is "$(udp_count 53)" 1 "the server saw it"
is "$(send as_guard "UDP6:[$TG_S6]:53")" ping "so is one to [$TG_S6]:53"
is "$(udp_count 53)" 2 "the server saw it"
sleep 0.2
is "$(tg_decisions)" 0 "tollgated logged no decision for UDP"

tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
