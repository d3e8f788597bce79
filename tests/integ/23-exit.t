#!/bin/bash
# When tollgated stops, guarded traffic fails closed: after SIGTERM with
# keep_redirect_on_exit = yes, or after SIGKILL, the nftables table stays
# and the guarded user's connections are refused without reaching the
# server.  With keep_redirect_on_exit = no a clean stop (SIGTERM or SIGINT)
# removes the table and gives the network back.

. "$(dirname "$0")/lib.sh"

plan 27
tg_setup

curl4=(curl -sS --max-time 8 --cacert "$TG_CA" --resolve "a.test:443:$TG_S4")
curl6=(curl -sS --max-time 8 --cacert "$TG_CA" --resolve "a.test:443:[$TG_S6]")

# closed WHAT CMD...: the guarded client is refused (curl exit 7) well
# before curl's --max-time of 8 s, and the server sees nothing of it.
closed() {
	local what=$1 t0 st ms syn
	shift
	syn=$(syn_count all)
	t0=$(tg_ms)
	as_guard "$@" >/dev/null 2>"$TG_TMP/client.err"
	st=$?
	ms=$(($(tg_ms) - t0))
	ok '[ "$st" = 7 ] && [ "$ms" -lt 6000 ]' \
	    "$what is refused at once (curl exit $st after ${ms} ms: $(head -c 100 "$TG_TMP/client.err"))"
	is "$(syn_count all)" "$syn" "the server saw nothing of it"
}

# --- SIGTERM, keep_redirect_on_exit = yes ----------------------------------

tg_start "$(tg_conf keep_redirect_on_exit=yes)"
ok $? "tollgated starts with keep_redirect_on_exit = yes"
as_guard "${curl4[@]}" -o /dev/null https://a.test/
ok $? "tgguard fetches https://a.test/ while it runs"
tg_stop TERM
is "$TG_DEXIT" 0 "SIGTERM: tollgated exits 0"
ok tg_table_present "table inet tollgate is still there"
closed "tgguard's https://a.test/" "${curl4[@]}" https://a.test/
closed "tgguard's https://a.test/ over IPv6" "${curl6[@]}" https://a.test/
syn=$(syn_count 443)
as_other "${curl4[@]}" -o /dev/null https://a.test/
ok $? "tgother still fetches https://a.test/"
is "$(syn_count 443)" $((syn + 1)) "the server saw tgother's connection"

# --- SIGKILL -----------------------------------------------------------------

tg_start "$(tg_conf keep_redirect_on_exit=no)"
ok $? "tollgated starts again (keep_redirect_on_exit = no)"
as_guard "${curl4[@]}" -o /dev/null https://a.test/
ok $? "tgguard fetches https://a.test/ while it runs"
tg_stop KILL
is "$TG_DEXIT" 137 "SIGKILL kills tollgated"
ok tg_table_present "table inet tollgate is still there"
closed "tgguard's https://a.test/" "${curl4[@]}" https://a.test/
closed "tgguard's https://a.test/ over IPv6" "${curl6[@]}" https://a.test/

# --- SIGTERM, keep_redirect_on_exit = no -----------------------------------

tg_start "$(tg_conf keep_redirect_on_exit=no)"
ok $? "tollgated starts with keep_redirect_on_exit = no"
tg_stop TERM
is "$TG_DEXIT" 0 "SIGTERM: tollgated exits 0"
ok '! tg_table_present' "table inet tollgate is gone"
syn=$(syn_count 443)
as_guard "${curl4[@]}" -o /dev/null https://a.test/
ok $? "tgguard's https://a.test/ goes out directly again"
is "$(syn_count 443)" $((syn + 1)) "the server saw the connection"

# --- SIGINT, keep_redirect_on_exit = no ------------------------------------

tg_start "$(tg_conf keep_redirect_on_exit=no)"
ok $? "tollgated starts with keep_redirect_on_exit = no"
ok tg_table_present "table inet tollgate is installed"
tg_stop INT
is "$TG_DEXIT" 0 "SIGINT: tollgated exits 0"
ok '! tg_table_present' "table inet tollgate is gone"
