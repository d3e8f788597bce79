#!/bin/bash
# Odd and hostile clients, run as the guarded user, with peek_timeout = 1s.
# A ClientHello cut into several records, or one bigger than a TLS record,
# still has its name read and reaches the server; garbage that looks like
# TLS, an oversize ClientHello, and a client that trickles its ClientHello
# are cut off without the server seeing them; a client that says nothing
# (the server speaks first) is let through without a name; a connection
# straight to tollgated's own port is refused, not looped.  Meanwhile a
# normal request is not held up.

. "$(dirname "$0")/lib.sh"

plan 56
tg_setup

curl4=(curl -sS --max-time 8 --cacert "$TG_CA" --resolve "a.test:443:$TG_S4")

tg_start "$(tg_conf default_action=allow peek_timeout=1s)"
ok $? "tollgated starts with peek_timeout = 1s"

# --- a ClientHello in 3 records, 3 TCP segments, 0.2 s apart ---------------

syn=$(syn_count 443)
out=$(tlsclient split --connect "$TG_S4:443" --name split.b.test \
    --cafile "$TG_CA" --records 3 --gap 0.2)
is "$(field "$out" records)" 3 "the split client sent its ClientHello in 3 records"
is "$(field "$out" handshake)" ok "its TLS handshake with the server completes"
is "$(field "$out" response)" "HTTP/1.0 200 ok" "and it gets the server's page"
d=$(tg_decision name=split.b.test)
ok $? "tollgated read the name split.b.test across the records"
is "$(kv "$d" verdict)" allow "verdict=allow"
is "$(kv "$d" source)" sni "source=sni"
is "$(kv "$d" user)" "$TG_GUARD" "user=tgguard"
is "$(syn_count 443)" $((syn + 1)) "the server saw the connection"

# --- a ClientHello in one-byte records, sent at once ------------------------

tg_mark
syn=$(syn_count 443)
out=$(tlsclient split --connect "$TG_S4:443" --name tiny.b.test \
    --cafile "$TG_CA" --piece-size 1 --gap 0)
ok '[ "$(field "$out" records)" -gt 400 ]' \
    "the client sent its ClientHello in $(field "$out" records) one-byte records ($(field "$out" wire_bytes) bytes)"
is "$(field "$out" handshake)" ok "its TLS handshake with the server completes"
d=$(tg_decision name=tiny.b.test)
ok $? "tollgated read the name tiny.b.test"
is "$(syn_count 443)" $((syn + 1)) "the server saw the connection"

# --- a ClientHello larger than one TLS record (>= 16 KiB) ------------------

tg_mark
syn=$(syn_count 443)
out=$(tlsclient big --connect "$TG_S4:443" --name big.b.test \
    --cafile "$TG_CA" --min-size 17000)
size=$(field "$out" hello_bytes)
ok '[ "${size:-0}" -ge 16384 ]' "the big client's ClientHello is $size bytes"
ok '[ "$(field "$out" records)" -ge 2 ]' "in $(field "$out" records) records"
is "$(field "$out" handshake)" ok "its TLS handshake with the server completes"
is "$(field "$out" response)" "HTTP/1.0 200 ok" "and it gets the server's page"
d=$(tg_decision name=big.b.test)
ok $? "tollgated read the name big.b.test"
is "$(kv "$d" source)" sni "source=sni"
is "$(syn_count 443)" $((syn + 1)) "the server saw the connection"

# --- 200 bytes of garbage that start like a TLS handshake ------------------

tg_mark
syn=$(syn_count all)
out=$(tlsclient garbage --connect "$TG_S4:443" --max-time 5)
is "$(field "$out" sent)" 200 "the garbage client sent 200 bytes (16 03 01 ...)"
closed=$(field "$out" closed_after)
ok '[ "$closed" != never ] && [ "${closed%.*}" -lt 2 ]' \
    "its connection is closed at once (after ${closed}s, by $(field "$out" closed_by))"
d=$(tg_decision reason=peek-invalid)
ok $? "the decision says reason=peek-invalid"
is "$(kv "$d" verdict)" reject "verdict=reject"
is "$(kv "$d" dst)" "$TG_S4:443" "dst=$TG_S4:443"
is "$(syn_count all)" "$syn" "the server saw no connection"

# --- a ClientHello announcing more than 32 KiB -----------------------------

tg_mark
out=$(tlsclient oversize --connect "$TG_S4:443" --fill 36000 --max-time 5)
closed=$(field "$out" closed_after)
ok '[ "$closed" != never ]' \
    "the oversize client is cut off (after ${closed}s and $(field "$out" sent) bytes, by $(field "$out" closed_by))"
d=$(tg_decision reason=peek-invalid)
ok $? "the decision says reason=peek-invalid"
is "$(kv "$d" verdict)" reject "verdict=reject"
is "$(syn_count all)" "$syn" "the server saw no connection"

# --- a client that says nothing: the server speaks first -------------------

tg_mark
syn25=$(syn_count 25)
out=$(tlsclient silent --connect "$TG_S4:25" --max-time 5)
is "$(field "$out" banner)" "220 tgs.test ESMTP ready" "the silent client gets the server's banner"
waited=$(field "$out" waited)
ok '[ "${waited%.*}" -ge 1 ] && [ "${waited%.*}" -lt 4 ]' \
    "after about peek_timeout (${waited}s)"
d=$(tg_decision dst="$TG_S4:25")
ok $? "a decision line for $TG_S4:25"
is "$(kv "$d" verdict)" allow "verdict=allow"
is "$(kv "$d" source)" none "source=none: there was no name to read"
is "$(syn_count 25)" $((syn25 + 1)) "the server saw the connection"

# --- a client that trickles its ClientHello, 2 bytes a second --------------
# Faster than peek_timeout, so only a deadline on the whole peek stops it.

tg_mark
syn=$(syn_count all)
out=$(tlsclient slow --connect "$TG_S4:443" --name slow.b.test --gap 0.5 \
    --max-time 6)
closed=$(field "$out" closed_after)
ok '[ "$closed" != never ] && [ "${closed%.*}" -lt 3 ]' \
    "the slow client is cut off (after ${closed}s, $(field "$out" sent) of $(field "$out" hello_bytes) bytes sent)"
d=$(tg_decision reason=peek-timeout)
ok $? "the decision says reason=peek-timeout"
is "$(kv "$d" user)" "$TG_GUARD" "user=tgguard"
is "$(kv "$d" dst)" "$TG_S4:443" "dst=$TG_S4:443"
is "$(syn_count all)" "$syn" "the server saw no connection"

# --- a client that connects straight to tollgated's own port --------------
# Loopback is not redirected, so this reaches the listener with an original
# destination that is the listener itself; it must not loop.

tg_mark
out=$(as_guard curl -sS --max-time 5 http://127.0.0.1:9040/ 2>&1)
like "$?" "$TG_CURL_RESET" "tgguard's request to 127.0.0.1:9040 itself is turned away ($out)"
d=$(tg_decision dst=127.0.0.1:9040)
is "$(kv "$d" verdict)/$(kv "$d" reason)" reject/loop "the decision says verdict=reject reason=loop"
out=$(as_guard curl -sS --max-time 5 "http://[::1]:9040/" 2>&1)
like "$?" "$TG_CURL_RESET" "so is one to [::1]:9040 ($out)"
d=$(tg_decision dst="[::1]:9040")
is "$(kv "$d" verdict)/$(kv "$d" reason)" reject/loop "the decision says verdict=reject reason=loop"
is "$(syn_count all)" "$syn" "the server saw nothing"

# --- all of them at once, and a normal request -----------------------------

tg_mark
bg=()
for i in 1 2 3; do
	tlsclient slow --connect "$TG_S4:443" --name slow$i.b.test --gap 0.5 \
	    --max-time 6 >"$TG_TMP/slow$i.out" 2>&1 &
	bg+=($!)
	tlsclient silent --connect "$TG_S4:25" --max-time 5 \
	    >"$TG_TMP/silent$i.out" 2>&1 &
	bg+=($!)
	tlsclient garbage --connect "$TG_S4:443" --max-time 5 \
	    >"$TG_TMP/garbage$i.out" 2>&1 &
	bg+=($!)
done
TG_PIDS+=("${bg[@]}")
sleep 0.3
t0=$(tg_ms)
out=$(as_guard "${TG_SHOWPID[@]}" "${curl4[@]}" https://a.test/)
st=$?
ms=$(($(tg_ms) - t0))
ok $st "with 9 odd clients connected, tgguard still fetches https://a.test/"
# Waiting for them would take until the slow ones are cut off or give up
# (--max-time 5 and 6 s); a loaded machine may take seconds for the fetch.
ok '[ "$ms" -lt 5000 ]' "without waiting for them (${ms} ms)"
d=$(tg_decision pid="$(sed -n 's/^pid=//p' <<<"$out")")
is "$(kv "$d" name)" a.test "its decision names a.test"
for pid in "${bg[@]}"; do
	_tg_reap "$pid" 10
done
is "$(cat "$TG_TMP"/silent*.out | grep -c '^banner: 220 ')" 3 "the silent clients all got the banner"
is "$(cat "$TG_TMP"/slow*.out | grep '^closed_after: ' | grep -vc never)" 3 "the slow clients were all cut off"
is "$(cat "$TG_TMP"/garbage*.out | grep '^closed_after: ' | grep -vc never)" 3 "the garbage clients were all cut off"
is "$(tg_decisions reason=peek-timeout)" 3 "three decisions say peek-timeout"
is "$(tg_decisions reason=peek-invalid)" 3 "three decisions say peek-invalid"
is "$(tg_decisions dst="$TG_S4:25" source=none verdict=allow)" 3 "three decisions let the silent clients through"

tg_stop TERM
is "$TG_DEXIT" 0 "tollgated exits 0 on SIGTERM"
