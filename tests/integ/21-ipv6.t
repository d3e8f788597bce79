#!/bin/bash
# The same user story over IPv6: tollgated's [::1] listener takes the
# guarded user's connections to [2001:db8::2] and logs them with the IPv6
# destination.

. "$(dirname "$0")/lib.sh"

plan 20
tg_setup

curl6=(curl -sS --max-time 8 --cacert "$TG_CA"
    --resolve "a.test:443:[$TG_S6]" --resolve "a.test:80:[$TG_S6]")

tg_start "$(tg_conf default_action=allow)"
ok $? "tollgated starts and says ready:"

out=$(as_guard "${TG_SHOWPID[@]}" "${curl6[@]}" https://a.test/)
ok $? "tgguard fetches https://a.test/ at [$TG_S6]"
like "$out" "s_server" "and sees the TLS server's page"
curl_pid=$(sed -n 's/^pid=//p' <<<"$out")

d=$(tg_decision dst="[$TG_S6]:443")
ok $? "a decision line names dst=[$TG_S6]:443"
is "$(kv "$d" verdict)" allow "the verdict is allow"
is "$(kv "$d" name)" a.test "the name is a.test"
is "$(kv "$d" source)" sni "read from the TLS SNI"
is "$(kv "$d" exe)" /usr/bin/curl "the app is /usr/bin/curl"
is "$(kv "$d" pid)" "$curl_pid" "the pid is curl's own"
is "$(kv "$d" user)" "$TG_GUARD" "the user is tgguard"
c=$(tg_close_line "$(kv "$d" conn)")
ok $? "a close line follows"
ok '[ "$(kv "$c" up)" -gt 0 ] && [ "$(kv "$c" down)" -gt 0 ]' \
    "with bytes both ways (up=$(kv "$c" up) down=$(kv "$c" down))"
is "$(syn_count 443)" 1 "the server saw one connection"

tg_mark
out=$(as_guard "${curl6[@]}" http://a.test/)
ok $? "tgguard fetches http://a.test/ at [$TG_S6]"
like "$out" "hello from tgs" "and sees the page"
d=$(tg_decision dst="[$TG_S6]:80")
ok $? "a decision line names dst=[$TG_S6]:80"
is "$(kv "$d" name)" a.test "the name is a.test"
is "$(kv "$d" source)" http "read from the Host header"
is "$(syn_count 80)" 1 "the HTTP server saw one connection"

tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
