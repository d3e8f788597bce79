#!/bin/bash
# Under default_action = deny or reject the guarded user's connections
# are reset at once: curl fails within a couple of seconds, the log says
# why, and not a single packet of it reaches the server.  An unguarded
# user is not affected.

. "$(dirname "$0")/lib.sh"

plan 38
tg_setup

curl4=(curl -sS --max-time 8 --cacert "$TG_CA"
    --resolve "a.test:443:$TG_S4" --resolve "a.test:80:$TG_S4")
curl6=(curl -sS --max-time 8 --cacert "$TG_CA"
    --resolve "a.test:443:[$TG_S6]")

# refused WHAT CMD...: run a client that tollgated should turn away; it
# must fail with a reset (curl 7, 35 or 56) well before curl's own
# --max-time of 8 s: a loaded machine may take seconds, a hang takes 8.
refused() {
	local what=$1 t0 st ms
	shift
	t0=$(tg_ms)
	as_guard "$@" >/dev/null 2>"$TG_TMP/client.err"
	st=$?
	ms=$(($(tg_ms) - t0))
	like "$st" "$TG_CURL_RESET" "$what fails like a reset (curl exit $st: $(head -c 120 "$TG_TMP/client.err"))"
	ok '[ "$ms" -lt 6000 ]' "$what fails at once, not after --max-time (${ms} ms)"
}

for action in deny reject; do
	tg_start "$(tg_conf default_action=$action)"
	ok $? "tollgated starts with default_action = $action"
	syn443=$(syn_count 443)
	syn80=$(syn_count 80)

	refused "https://a.test/ under $action" "${curl4[@]}" https://a.test/
	d=$(tg_decision dst="$TG_S4:443")
	ok $? "a decision line for $TG_S4:443"
	is "$(kv "$d" verdict)" "$action" "verdict=$action"
	is "$(kv "$d" reason)" no-agent "reason=no-agent: no rule, and no prompt agent to ask"
	is "$(kv "$d" name)" a.test "name=a.test: the name was read before deciding"
	is "$(kv "$d" exe)" /usr/bin/curl "exe=/usr/bin/curl"

	refused "http://a.test/ under $action" "${curl4[@]}" http://a.test/
	d=$(tg_decision dst="$TG_S4:80")
	is "$(kv "$d" verdict)" "$action" "verdict=$action for $TG_S4:80"
	is "$(kv "$d" source)" http "name read from the Host header"

	is "$(syn_count 443)" "$syn443" "the TLS server saw no connection"
	is "$(syn_count 80)" "$syn80" "the HTTP server saw no connection"
	tg_stop TERM
	is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
done

# IPv6, and an unguarded user, under deny.
tg_start "$(tg_conf default_action=deny)"
ok $? "tollgated starts with default_action = deny"
syn443=$(syn_count 443)
refused "https://a.test/ at [$TG_S6] under deny" "${curl6[@]}" https://a.test/
d=$(tg_decision dst="[$TG_S6]:443")
is "$(kv "$d" verdict)" deny "verdict=deny for [$TG_S6]:443"
is "$(syn_count 443)" "$syn443" "the server saw no connection"

tg_mark
out=$(as_other "${curl4[@]}" https://a.test/)
ok $? "tgother still fetches https://a.test/"
like "$out" "s_server" "and sees the page"
is "$(syn_count 443)" $((syn443 + 1)) "the server saw tgother's connection"
