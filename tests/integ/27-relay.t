#!/bin/bash
# What tollgated lets through arrives intact, both ways, and ends cleanly:
# a large download, a large upload echoed back, half-close; a destination
# that refuses or never answers gets the client a reset; a connection idle
# for idle_timeout is closed.  Each allowed connection ends with a close
# line.

. "$(dirname "$0")/lib.sh"

plan 28
tg_setup

head -c $((8 * 1024 * 1024)) /dev/urandom >"$TG_WWW/big.bin"
head -c $((4 * 1024 * 1024)) /dev/urandom >"$TG_TMP/up.bin"
chmod 644 "$TG_WWW/big.bin" "$TG_TMP/up.bin"
sum() { sha256sum | cut -d' ' -f1; }

tg_start "$(tg_conf default_action=allow connect_timeout=1s)"
ok $? "tollgated starts with connect_timeout = 1s"

# --- 8 MiB down ------------------------------------------------------------

got=$(as_guard curl -sS --max-time 20 --resolve "a.test:80:$TG_S4" \
    http://a.test/big.bin | sum)
is "$got" "$(sum <"$TG_WWW/big.bin")" "tgguard downloads an 8 MiB file intact"
d=$(tg_decision dst="$TG_S4:80")
c=$(tg_close_line "$(kv "$d" conn)")
ok $? "a close line follows"
ok '[ "$(kv "$c" down)" -gt 8388608 ]' "it counts the 8 MiB down ($(kv "$c" down))"

# --- 4 MiB up and echoed back, then half-close -----------------------------

tg_mark
got=$(as_guard socat -t 10 - "TCP:$TG_S4:7" <"$TG_TMP/up.bin" | sum)
is "$got" "$(sum <"$TG_TMP/up.bin")" "4 MiB sent to the echo server come back intact after EOF"
d=$(tg_decision dst="$TG_S4:7")
ok $? "a decision line for $TG_S4:7"
is "$(kv "$d" source)" none "source=none: no name in it"
is "$(kv "$d" proto)" other "proto=other: neither TLS nor HTTP"
is "$(kv "$d" exe)" /usr/bin/socat "exe=/usr/bin/socat"
c=$(tg_close_line "$(kv "$d" conn)")
ok $? "a close line follows"
is "$(kv "$c" up)" 4194304 "up=4194304"
is "$(kv "$c" down)" 4194304 "down=4194304"
unlike "$c" 'error=' "without an error"

# --- the same over IPv6 ----------------------------------------------------

tg_mark
got=$(as_guard socat -t 10 - "TCP6:[$TG_S6]:7" <"$TG_TMP/up.bin" | sum)
is "$got" "$(sum <"$TG_TMP/up.bin")" "and over IPv6"
d=$(tg_decision dst="[$TG_S6]:7")
c=$(tg_close_line "$(kv "$d" conn)")
is "$(kv "$c" up)/$(kv "$c" down)" 4194304/4194304 "up and down are 4194304"

# --- a destination that refuses --------------------------------------------

tg_mark
t0=$(tg_ms)
out=$(as_guard curl -sS --max-time 8 "http://$TG_S4:81/" 2>&1)
st=$?
ms=$(($(tg_ms) - t0))
like "$st" "$TG_CURL_RESET" "a request to a closed port ends like a reset there ($out)"
ok '[ "$ms" -lt 6000 ]' "at once, not after --max-time (${ms} ms)"
d=$(tg_decision dst="$TG_S4:81")
is "$(kv "$d" verdict)" allow "the decision was allow"
c=$(tg_close_line "$(kv "$d" conn)")
ok $? "a close line ends the allowed connection"
like "$c" 'error=.*connect: Connection refused' "naming the refusal: connect: Connection refused"

# --- a destination that never answers --------------------------------------

tg_mark
syn9=$(syn_count 9)
t0=$(tg_ms)
out=$(as_guard curl -sS --max-time 8 "http://$TG_S4:9/" 2>&1)
st=$?
ms=$(($(tg_ms) - t0))
like "$st" "$TG_CURL_RESET" "a request to a port that never answers ends like a reset ($out)"
ok '[ "$ms" -ge 900 ] && [ "$ms" -lt 6000 ]' "after connect_timeout, not after --max-time (${ms} ms)"
ok '[ "$(syn_count 9)" -gt "$syn9" ]' "tollgated did try the server"
d=$(tg_decision dst="$TG_S4:9")
c=$(tg_close_line "$(kv "$d" conn)")
ok $? "a close line ends the allowed connection"
tg_stop TERM

# --- idle_timeout --------------------------------------------------------------

tg_start "$(tg_conf default_action=allow idle_timeout=1s)"
ok $? "tollgated starts with idle_timeout = 1s"
out=$(tlsclient idle --connect "$TG_S4:7" --max-time 6)
is "$(field "$out" echo)" hello "the echo server answers"
closed=$(field "$out" closed_after)
ok '[ "$closed" != never ] && [ "${closed%.*}" -lt 3 ]' \
    "then the idle connection is closed (after ${closed}s)"
d=$(tg_decision dst="$TG_S4:7")
c=$(tg_close_line "$(kv "$d" conn)")
ok $? "a close line ends it"
tg_stop TERM
