#!/bin/bash
# Under default_action = allow a guarded user's web requests go through
# tollgated: the user gets the page, and the log names the app, the user,
# the destination and the name it asked for; an unguarded user goes
# straight to the server and tollgated never hears of it.

. "$(dirname "$0")/lib.sh"

plan 40
tg_setup

curl4=(curl -sS --max-time 8 --cacert "$TG_CA"
    --resolve "a.test:443:$TG_S4" --resolve "a.test:80:$TG_S4")

tg_start "$(tg_conf default_action=allow)"
ok $? "tollgated starts guarding tgguard and says ready:"

# --- HTTPS: the name comes from the TLS ClientHello ------------------------

out=$(as_guard "${TG_SHOWPID[@]}" "${curl4[@]}" https://a.test/)
ok $? "tgguard fetches https://a.test/ through tollgated"
like "$out" "s_server" "and sees the TLS server's page"
curl_pid=$(sed -n 's/^pid=//p' <<<"$out")

d=$(tg_decision dst="$TG_S4:443")
ok $? "tollgated logs a decision for the connection to $TG_S4:443"
is "$(kv "$d" verdict)" allow "the verdict is allow"
is "$(kv "$d" reason)" no-agent "decided by the default action: no rule, no agent to ask"
is "$(kv "$d" name)" a.test "the name is the one curl asked for (a.test)"
is "$(kv "$d" source)" sni "read from the TLS SNI"
is "$(kv "$d" proto)" tls "the protocol is TLS"
is "$(kv "$d" exe)" /usr/bin/curl "the app is /usr/bin/curl"
is "$(kv "$d" pid)" "$curl_pid" "the pid is curl's own"
is "$(kv "$d" user)" "$TG_GUARD" "the user is tgguard"
is "$(kv "$d" uid)" "$TG_GUARD_UID" "the uid is tgguard's"
like "$(kv "$d" cmdline)" '^curl .*https://a\.test/' "the command line is curl's"

conn=$(kv "$d" conn)
c=$(tg_close_line "$conn")
ok $? "a close line follows for conn=$conn"
ok '[ "$(kv "$c" up)" -gt 0 ]' "it counts bytes sent up ($(kv "$c" up))"
ok '[ "$(kv "$c" down)" -gt 0 ]' "and bytes received ($(kv "$c" down))"
like "$(kv "$c" duration_ms)" '^[0-9]+$' "and the duration in ms"
is "$(tg_decisions conn="$conn")" 1 "the connection has exactly one decision line"
is "$(syn_count 443)" 1 "the server saw one connection, tollgated's onward one"

# --- HTTP: the name comes from the Host header -----------------------------

tg_mark
out=$(as_guard "${TG_SHOWPID[@]}" "${curl4[@]}" http://a.test/)
ok $? "tgguard fetches http://a.test/ through tollgated"
like "$out" "hello from tgs" "and sees the page"
curl_pid=$(sed -n 's/^pid=//p' <<<"$out")

d=$(tg_decision dst="$TG_S4:80")
ok $? "tollgated logs a decision for the connection to $TG_S4:80"
is "$(kv "$d" verdict)" allow "the verdict is allow"
is "$(kv "$d" name)" a.test "the name is a.test"
is "$(kv "$d" source)" http "read from the HTTP Host header"
is "$(kv "$d" proto)" http "the protocol is HTTP"
is "$(kv "$d" exe)" /usr/bin/curl "the app is /usr/bin/curl"
is "$(kv "$d" pid)" "$curl_pid" "the pid is curl's own"
c=$(tg_close_line "$(kv "$d" conn)")
ok $? "a close line follows"
ok '[ "$(kv "$c" up)" -gt 0 ] && [ "$(kv "$c" down)" -gt 0 ]' \
    "with bytes both ways (up=$(kv "$c" up) down=$(kv "$c" down))"
is "$(syn_count 80)" 1 "the HTTP server saw one connection"

# A Host header in odd case with a trailing dot names the same host.
tg_mark
out=$(printf 'GET / HTTP/1.0\r\nHost: C.Test.\r\n\r\n' |
    as_guard socat -t 5 - "TCP:$TG_S4:80")
like "$out" "hello from tgs" "a raw request with Host: C.Test. gets the page"
d=$(tg_decision dst="$TG_S4:80")
is "$(kv "$d" name)" c.test "its name is logged as c.test"
is "$(kv "$d" exe)" /usr/bin/socat "the app is /usr/bin/socat"

# --- an unguarded user is none of tollgated's business ---------------------

tg_mark
syn_before=$(syn_count 443)
out=$(as_other "${curl4[@]}" https://a.test/)
ok $? "tgother fetches https://a.test/"
like "$out" "s_server" "and sees the page"
is "$(syn_count 443)" $((syn_before + 1)) "the server saw tgother's connection"
sleep 0.5
is "$(tg_decisions)" 0 "tollgated logged no decision for it"

tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
