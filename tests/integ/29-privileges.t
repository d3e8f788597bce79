#!/bin/bash
# tollgated starts as root but does its work as _tollgate, holding only the
# three capabilities it needs, on every thread; and it still names the
# programs of another user, which is what those capabilities are for.

. "$(dirname "$0")/lib.sh"

plan 10
tg_setup

tg_start "$(tg_conf default_action=allow)"
ok $? "tollgated starts"
pid=$TG_DPID
tg_uid=$(id -u _tollgate)

# CAP_DAC_READ_SEARCH (2), CAP_NET_ADMIN (12), CAP_SYS_PTRACE (19)
want=$(printf '%016x' $(((1 << 2) | (1 << 12) | (1 << 19))))

st=$(cat "/proc/$pid/status")
is "$(awk '/^Uid:/ {print $2 "/" $3 "/" $4}' <<<"$st")" \
    "$tg_uid/$tg_uid/$tg_uid" "it runs as _tollgate (real, effective, saved uid)"
is "$(awk '/^Gid:/ {print $2}' <<<"$st")" "$(id -g _tollgate)" \
    "with _tollgate's group"
is "$(awk '/^CapEff:/ {print $2}' <<<"$st")" "$want" \
    "its effective capabilities are NET_ADMIN, DAC_READ_SEARCH, SYS_PTRACE"
is "$(awk '/^CapPrm:/ {print $2}' <<<"$st")" "$want" "and nothing more is permitted"
is "$(awk '/^CapBnd:/ {print $2}' <<<"$st")" "$want" "nor in the bounding set"
is "$(awk '/^NoNewPrivs:/ {print $2}' <<<"$st")" 1 "no_new_privs is set"

bad=0
for t in /proc/"$pid"/task/*/status; do
	[ "$(awk '/^CapEff:/ {print $2}' "$t")" = "$want" ] || bad=$((bad + 1))
done
is "$bad" 0 "every thread holds the same reduced set ($(ls /proc/"$pid"/task | wc -l) threads)"

# With only those, it still reads another user's /proc/PID/fd and exe.
tg_mark
as_guard curl -sS --max-time 8 --cacert "$TG_CA" \
    --resolve "a.test:443:$TG_S4" -o /dev/null https://a.test/
ok $? "tgguard's request goes through"
d=$(tg_decision dst="$TG_S4:443")
is "$(kv "$d" exe)" /usr/bin/curl "and tollgated, as _tollgate, names its program"

tg_stop TERM
