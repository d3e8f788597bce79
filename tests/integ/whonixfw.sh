# shellcheck shell=bash
# tests/integ/whonixfw.sh - a replay of whonix-firewall's Whonix-Workstation
# tables, for the tests that put tollgate beside it; sourced after lib.sh.
#
# What it replays: the nftables script that Whonix's
# usr/bin/whonix-workstation-firewall (github.com/Whonix/whonix-firewall,
# with usr/libexec/whonix-firewall/firewall-common) writes to
# /var/lib/whonix-firewall/firewall.nft and loads with `nft --file`, as
# its own test-output/new/workstation-default.nft shows it: outside Qubes,
# no tunnel (TUNNEL_FIREWALL_ENABLE unset), firewall_mode full unless
# told otherwise.  Same tables (inet filter, inet nat), chains, hooks,
# priorities, policies and rules in the same order; only the counters'
# values and the Qubes and tunnel branches are left out.
#
# How it is (re)loaded, as upstream does: one `nft -f` batch that adds
# both tables (so that deleting them cannot fail), deletes them and adds
# them again with their chains and rules.  Only its own two tables are
# touched; the ruleset is never flushed, so tollgate's "inet tollgate"
# stays as it is.  The kernel applies the batch at once: there is no
# moment without the output chain's policy drop.
#
# The output chain, in order (policy drop):
#   the invalid-packet rejects (ct state invalid, bad TCP flags, IPv4
#   fragments); oifname "lo" accept; udp dport 53 to the gateway (IPv4,
#   IPv6, and the hard-coded 10.152.152.10 / fd19:c33d:88bc::10) accept;
#   `ip protocol != tcp reject` (IPv4 only: upstream has no IPv6
#   counterpart), left out with firewall_allow_udp=true; accept; reject.
# With firewall_mode=timesync-fail-closed (before sdwdate's first
# success) the Tor SocksPorts on 127.0.0.1/::1 are rejected first, except
# 9108, and nothing but loopback leaves: no DNS accept, and the final
# accept is replaced by sdwdate's (the user sdwdate_user= names, left
# out when none is named), systemcheck's (left out: no such user here)
# and the control port's accepts.
#
# Functions:
#   whonixfw_load NS GATEWAY_IP [KEY=VALUE...]
#       load the tables into namespace NS.  KEYs, as in
#       /etc/whonix_firewall.d/*.conf: firewall_allow_udp (true or
#       empty), firewall_mode (full or timesync-fail-closed),
#       GATEWAY_IP6 (fd19:c33d:88bc::10), sdwdate_user (the user that
#       stands for sdwdate); and dropin=FILE, a file of
#       /etc/whonix_firewall.d/ sourced as upstream sources it (after
#       the defaults above, before the rules are written: it may set
#       those variables or wrap nft_reject_invalid_outgoing_packages or
#       nft_output).  Returns nft's status.
#   whonixfw_reload NS GATEWAY_IP [KEY=VALUE...]
#       the same again: what `whonix_firewall` does when it is run while
#       the machine is up (e.g. by whonix-firewall-sdwdate-watcher after
#       sdwdate's first success).
#   whonixfw_script GATEWAY_IP [KEY=VALUE...]
#       print the batch.
#   whonixfw_counter NS CHAIN HANDLE-PATTERN
#       the packets counted by the first rule of CHAIN (in inet filter)
#       whose text matches the extended regular expression; "" if none.

# The rules, in the functions of upstream's names (the part that matters
# for what leaves the machine), so that a drop-in written against
# upstream's script can be sourced here as it is there.
_whonixfw_defaults() {
	$nftables_cmd add table inet filter
	$nftables_cmd add table inet nat
	$nftables_cmd delete table inet filter
	$nftables_cmd delete table inet nat
	$nftables_cmd add table inet filter
	$nftables_cmd add table inet nat
	$nftables_cmd add chain inet nat output
	$nftables_cmd add chain inet nat prerouting
	$nftables_cmd "add chain inet filter input { type filter hook input priority 0; policy drop; }"
	$nftables_cmd "add chain inet filter forward { type filter hook forward priority 0; policy drop; }"
	$nftables_cmd "add chain inet filter output { type filter hook output priority 0; policy drop; }"
}

# _whonixfw_invalid CHAIN VERDICT: firewall-common's invalid-packet rules,
# which it writes twice: "drop" in input, "reject" in output.
_whonixfw_invalid() {
	local c="inet filter $1" v="counter $2" f='(fin|syn|rst|psh|ack|urg)'
	$nftables_cmd add rule "$c" ct state invalid "$v"
	$nftables_cmd add rule "$c" tcp flags "&" "$f" == fin\|syn\|rst\|ack "$v"
	$nftables_cmd add rule "$c" tcp flags "&" "(fin|syn)" == fin\|syn "$v"
	$nftables_cmd add rule "$c" tcp flags "&" "(syn|rst)" == syn\|rst "$v"
	$nftables_cmd add rule "$c" ip frag-off "&" 0x1fff != 0 "$v"
	$nftables_cmd add rule "$c" tcp flags "&" "$f" == fin\|syn\|rst\|psh\|ack\|urg "$v"
	$nftables_cmd add rule "$c" tcp flags "&" "$f" == 0x0 "$v"
}

_whonixfw_input() {
	# firewall-common: nft_drop_invalid_incoming_packages
	_whonixfw_invalid input drop
	# nft_input_rules, nft_input_defaults, nft_forward
	$nftables_cmd add rule inet filter input iifname \"lo\" counter accept
	$nftables_cmd add rule inet filter input ct state established counter accept
	$nftables_cmd add rule inet filter input icmpv6 type "{ nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect }" counter accept
	$nftables_cmd add rule inet filter input ip protocol tcp counter reject with tcp reset
	$nftables_cmd add rule inet filter input counter reject
	$nftables_cmd add rule inet filter forward counter drop
}

# firewall-common's nft_reject_invalid_outgoing_packages (a drop-in may
# wrap it: its rules are the output chain's first)
nft_reject_invalid_outgoing_packages() {
	_whonixfw_invalid output reject
}

# whonix-workstation-firewall's nft_output, outside Qubes, no tunnel
nft_output() {
	local p
	if [ "$firewall_mode" = timesync-fail-closed ]; then
		for p in 9050 $(seq 9100 9111) 9114 9115 9117 9118 \
		    $(seq 9122 9125) 9150; do
			[ "$p" = 9108 ] && continue
			$nftables_cmd add rule inet filter output ip daddr 127.0.0.1 tcp dport "$p" counter reject
			$nftables_cmd add rule inet filter output ip6 daddr ::1 tcp dport "$p" counter reject
		done
	fi
	$nftables_cmd add rule inet filter output oifname \"lo\" counter accept
	if [ "$firewall_mode" != timesync-fail-closed ]; then
		$nftables_cmd add rule inet filter output ip daddr "$GATEWAY_IP" udp dport 53 counter accept
		$nftables_cmd add rule inet filter output ip6 daddr "$GATEWAY_IP6" udp dport 53 counter accept
		$nftables_cmd add rule inet filter output ip daddr "$GATEWAY_IP_HARDCODED" udp dport 53 counter accept
		$nftables_cmd add rule inet filter output ip6 daddr "$GATEWAY_IP6_HARDCODED" udp dport 53 counter accept
	fi
	if [ "$firewall_allow_udp" != true ]; then
		$nftables_cmd add rule inet filter output ip protocol != tcp counter reject
	fi
	if [ "$firewall_mode" = timesync-fail-closed ]; then
		# sdwdate's (upstream's SDWDATE_USER), where the test has one;
		# systemcheck's: no such user here
		if [ -n "$SDWDATE_USER" ]; then
			for p in 127.0.0.1 "$GATEWAY_IP" "$GATEWAY_IP_HARDCODED"; do
				$nftables_cmd add rule inet filter output meta skuid "$SDWDATE_USER" ip daddr "$p" counter accept
			done
		fi
		for p in 127.0.0.1 "$GATEWAY_IP" "$GATEWAY_IP_HARDCODED"; do
			$nftables_cmd add rule inet filter output ip daddr "$p" tcp dport 9051 counter accept
		done
		for p in ::1 "$GATEWAY_IP6" "$GATEWAY_IP6_HARDCODED"; do
			$nftables_cmd add rule inet filter output ip6 daddr "$p" tcp dport 9051 counter accept
		done
	else
		$nftables_cmd add rule inet filter output counter accept
	fi
	$nftables_cmd add rule inet filter output counter reject
}

whonixfw_script() (
	# A subshell: the settings and a drop-in's functions stay in it.
	nftables_cmd="echo"
	GATEWAY_IP=$1
	firewall_allow_udp="" firewall_mode=full SDWDATE_USER=""
	GATEWAY_IP6=fd19:c33d:88bc::10
	GATEWAY_IP_HARDCODED=10.152.152.10
	GATEWAY_IP6_HARDCODED=fd19:c33d:88bc::10
	shift
	for kv in "$@"; do
		case ${kv%%=*} in
		firewall_allow_udp) firewall_allow_udp=${kv#*=} ;;
		firewall_mode) firewall_mode=${kv#*=} ;;
		GATEWAY_IP6) GATEWAY_IP6=${kv#*=} ;;
		sdwdate_user) SDWDATE_USER=${kv#*=} ;;
		dropin)
			# shellcheck disable=SC1090
			. "${kv#*=}" || exit 1
			;;
		*)
			echo "whonixfw: unknown setting $kv" >&2
			exit 1
			;;
		esac
	done
	set -f # upstream's too: "{ ... }" and "(fin|syn)" stay words
	_whonixfw_defaults
	_whonixfw_input
	nft_reject_invalid_outgoing_packages
	nft_output
)

whonixfw_load() {
	local ns=$1 script
	shift
	script=$(whonixfw_script "$@") || return 1
	ip netns exec "$ns" nft -f - <<<"$script"
}

whonixfw_reload() {
	whonixfw_load "$@"
}

whonixfw_counter() {
	ip netns exec "$1" nft list chain inet filter "$2" 2>/dev/null |
	    grep -E -m1 -- "$3" | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
}
