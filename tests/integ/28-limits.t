#!/bin/bash
# max_connections bounds what tollgated holds: with the limit reached a new
# connection is turned away at once (and logged as such) while the open
# ones carry on; once they end, new connections go through again.

. "$(dirname "$0")/lib.sh"

plan 11
tg_setup

curl4=(curl -sS --max-time 8 --resolve "a.test:80:$TG_S4")

tg_start "$(tg_conf default_action=allow max_connections=3)"
ok $? "tollgated starts with max_connections = 3"

bg=()
for i in 1 2 3; do
	tlsclient idle --connect "$TG_S4:7" --max-time 3 >"$TG_TMP/idle$i.out" 2>&1 &
	bg+=($!)
done
TG_PIDS+=("${bg[@]}")
for ((i = 0; i < 100; i++)); do
	[ "$(tg_decisions dst="$TG_S4:7" verdict=allow)" = 3 ] && break
	sleep 0.05
done
is "$(tg_decisions dst="$TG_S4:7" verdict=allow)" 3 "three clients hold connections to the echo server"

syn80=$(syn_count 80)
t0=$(tg_ms)
out=$(as_guard "${curl4[@]}" http://a.test/ 2>&1)
st=$?
ms=$(($(tg_ms) - t0))
like "$st" "$TG_CURL_RESET" "a fourth connection is turned away ($out)"
ok '[ "$ms" -lt 6000 ]' "at once, not after --max-time (${ms} ms)"
d=$(tg_decision reason=overload)
ok $? "the decision says reason=overload"
is "$(kv "$d" verdict)" reject "verdict=reject"
is "$(syn_count 80)" "$syn80" "the server saw nothing of it"

for pid in "${bg[@]}"; do
	_tg_reap "$pid" 10
done
is "$(cat "$TG_TMP"/idle*.out | grep -c '^echo: hello$')" 3 "the three clients all got their echo"
for ((i = 0; i < 100; i++)); do
	[ "$(_tg_since | grep -c '^tollgated: info: close ')" -ge 3 ] && break
	sleep 0.05
done
out=$(as_guard "${curl4[@]}" http://a.test/)
ok $? "once they have gone, tgguard fetches http://a.test/ again"
like "$out" "hello from tgs" "and sees the page"

tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
