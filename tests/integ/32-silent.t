#!/bin/bash
# A client that says nothing for peek_timeout is taken for a
# server-speaks-first protocol and connected without a name.  If it then
# speaks before the server does, its first message is read after all and
# the connection decided again by name: waiting cannot dodge a name rule.

. "$(dirname "$0")/lib.sh"

plan 10
tg_setup
chmod 711 "$TG_TMP"
TG=$TG_ROOT/build/tollgate
CONF=$(tg_conf_kept default_action=allow peek_timeout=1s)
tg_start "$CONF"
ok $? "tollgated starts with default_action = allow, peek_timeout = 1s"
"$TG" -c "$CONF" rules add --app '*' --dest c.test --action deny >/dev/null
ok $? "a deny rule for c.test"

late() { # NAME: wait 1.5 s, then a ClientHello for NAME
	tlsclient split --connect "$TG_S4:443" --name "$1" --records 1 \
	    --gap 0 --delay 1.5 --cafile "$TG_CA" --max-time 8
}

tg_mark
syn=$(syn_count 443)
out=$(late c.test)
unlike "$(field "$out" handshake)" "^ok" "a ClientHello for c.test sent 1.5 s late does not get through"
d=$(tg_decision name=c.test)
is "$(kv "$d" verdict)/$(kv "$d" reason)" deny/rule "it is decided again, by the rule, once its name is read"
is "$(tg_decisions conn="$(kv "$d" conn)")" 2 \
    "the connection has two decision lines: without a name, then with it"

tg_mark
out=$(late a.test)
is "$(field "$out" handshake)" ok "a late ClientHello for a.test completes its handshake"
like "$(field "$out" response)" "200" "and gets its page"
d=$(tg_decision name=a.test)
is "$(kv "$d" verdict)/$(kv "$d" reason)" allow/no-agent "allowed by default (no agent to ask), now by name"

# A real server-first protocol still works: the banner comes first.
out=$(tlsclient silent --connect "$TG_S4:25" --max-time 4)
like "$(field "$out" banner)" "220 " "a silent client still gets a server's banner"
d=$(tg_decision dst="$TG_S4:25")
is "$(kv "$d" source)" none "decided without a name"
tg_stop TERM
