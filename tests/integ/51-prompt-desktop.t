#!/bin/bash
# Being asked on the desktop: tollgate-prompt (desktop mode) runs as the
# guarded user on a private X display with dunst as the notification
# server, setgid _tollgate-prompt as installed.  It finds the session bus
# at $XDG_RUNTIME_DIR/bus; with none there, it says so, and what to do, in
# one line.  A connection no rule decides raises a notification naming
# the app and the destination, with the answers as its actions; choosing
# "Allow always (this name)" in dunst's menu lets the waiting connection
# through and leaves a rule, "Deny always (this name)" resets it and
# leaves a deny rule; a prompt answered elsewhere leaves the screen.
# The screenshot taken on the way is docs/prompt.png (TG_PROMPT_SHOT=FILE
# keeps a copy of it).

. "$(dirname "$0")/lib.sh"

plan 58
tg_setup
prompt_setup
CONF=$(prompt_conf prompt_timeout=60s)

tg_start "$CONF"
ok $? "tollgated starts with default_action = deny and prompt_program = build/tollgate-prompt"
desk_start
if ! ok $? "a desktop: Xvfb $TG_DISPLAY, a session bus and dunst, all of tgguard's"; then
	echo "Bail out! no desktop"
	exit 1
fi

# Setgid, GLib ignores DBUS_SESSION_BUS_ADDRESS: only $XDG_RUNTIME_DIR/bus
# counts, and there is none in the desktop's home.
as_guard "${TG_DESK_ENV[@]}" XDG_RUNTIME_DIR="$TG_DESK/home" "$PROMPT" \
    -c "$CONF" </dev/null >"$TG_TMP/nobus.out" 2>"$TG_TMP/nobus.err"
is "$?" 1 "tollgate-prompt with no bus at \$XDG_RUNTIME_DIR/bus (but DBUS_SESSION_BUS_ADDRESS set) exits 1"
err=$(cat "$TG_TMP/nobus.err")
like "$err" "no D-Bus session bus \($TG_DESK/home/bus\): tollgate-prompt is setgid, so it looks only at \\\$XDG_RUNTIME_DIR/bus.*dbus-user-session.*tollgate-prompt --tty" \
    "saying where it looked, why there, and what to do: dbus-user-session or --tty"
is "$(wc -l <"$TG_TMP/nobus.err")" 1 "in one line"

guard_argv "${TG_DESK_ENV[@]}" "$PROMPT" -c "$CONF"
tg_bg "${TG_ARGV[@]}" </dev/null >"$TG_TMP/agent.out" 2>"$TG_TMP/agent.err"
for ((i = 0; i < 100; i++)); do
	grep -q 'subscribed' "$TG_TMP/agent.err" && break
	sleep 0.1
done
if ! ok 'grep -q "showing prompts through dunst" "$TG_TMP/agent.err" &&
    grep -q "subscribed to tollgated" "$TG_TMP/agent.err"' \
    "tollgate-prompt, as tgguard in the client namespace, finds dunst and subscribes"; then
	diag "$(sed 's/^/    /' "$TG_TMP/agent.err")"
	echo "Bail out! no prompt agent"
	exit 1
fi

# --- the notification --------------------------------------------------------

bg_curl a.test "$TG_TMP/a1"
n=$(desk_wait_note 'summary="curl wants to connect to a\.test:443"')
ok $? "a curl to a.test raises a notification: curl wants to connect to a.test:443" ||
    diag "$(desk_notifications)"
is "$(kv "$n" app)" tollgate "from the app tollgate"
body=$(kv "$n" body)
like "$body" 'App: +curl \(/usr/bin/curl\)' "its body names the app: curl (/usr/bin/curl)"
like "$body" 'Name: +a\.test \(from TLS SNI\)' "and the name, read from the TLS SNI"
like "$body" "Process: pid [0-9]+, user $TG_GUARD" "and whose process it is"
like "$body" 'No answer in [0-9]+ s: deny' "and what no answer means"
actions=$(kv "$n" actions)
like "$actions" '(^|;)allow-name=Allow always \(this name\)(;|$)' "its actions offer Allow always (this name)"
like "$actions" '(^|;)deny-name=Deny always \(this name\)(;|$)' "and Deny always (this name)"
like "$actions" '(^|;)allow-once=Allow once(;|$)' "and Allow once"
like "$actions" '(^|;)more=More choices…(;|$)' "and More choices… for the other answers"
is "$(kv "$n" urgency)/$(kv "$n" timeout)" 2/62000 \
    "it is critical and expires 2 s after the prompt (prompt_timeout = 60s), should its WITHDRAW not come"
desk_wait_count 1
ok $? "dunst displays it"

desk_shot "$TG_TMP/prompt.png"
ok $? "a screenshot of it"
is "$(identify -format '%m %wx%h' "$TG_TMP/prompt.png" 2>/dev/null)" "PNG 1024x400" \
    "a 1024x400 PNG"
# The critical notification's background, from dunstrc (see lib.sh).
bg=$(convert "$TG_TMP/prompt.png" -format %c histogram:info: 2>/dev/null |
    awk 'tolower($0) ~ /#5a1d1d/ { sub(":", "", $1); print $1 }')
ok '[ "${bg:-0}" -gt 20000 ]' "where the notification covers a good part (${bg:-0} pixels of its colour)"
[ -n "$TG_PROMPT_SHOT" ] && cp "$TG_TMP/prompt.png" "$TG_PROMPT_SHOT"
is "$(done_status "$TG_TMP/a1" 0)" "" "meanwhile curl waits"

desk_pick 'Allow always (this name)' '(curl wants to connect to a.test:443)'
ok $? "Allow always (this name) is chosen in dunst's menu"
st=$(done_status "$TG_TMP/a1" 10)
is "$st" 0 "the waiting curl finishes (exit 0)"
like "$(cat "$TG_TMP/a1")" 'code=200' "with the page (HTTP 200)"
is "$(rj '[(r["app"], r["uid"], r["dest"], r["action"], r["duration"]) for r in rs]')" \
    "[('/usr/bin/curl', $TG_GUARD_UID, 'a.test', 'allow', 'forever')]" \
    "tollgate rules list shows the new rule: curl, uid $TG_GUARD_UID, a.test, allow, forever"
desk_wait_count 0
ok $? "the notification is gone"
curl_to a.test
ok $? "the next curl to a.test goes straight through"
is "$(desk_notifications | grep -c '^notify ')" 1 "without another notification"

# --- deny always -------------------------------------------------------------

bg_curl c.test "$TG_TMP/c1"
n=$(desk_wait_note 'summary="curl wants to connect to c\.test:443"')
ok $? "a curl to c.test raises its notification"
desk_pick 'Deny always (this name)' '(curl wants to connect to c.test:443)'
ok $? "Deny always (this name) is chosen"
st=$(done_status "$TG_TMP/c1" 10)
like "$st" "$TG_CURL_RESET" "the waiting curl is reset (exit $st)"
is "$(rj '[(r["app"], r["dest"], r["action"], r["duration"]) for r in rs if r["dest"] == "c.test"]')" \
    "[('/usr/bin/curl', 'c.test', 'deny', 'forever')]" \
    "and a deny rule for curl to c.test is there"
t0=$(tg_ms)
curl_to c.test
st=$?
ms=$(($(tg_ms) - t0))
ok '[[ $st =~ $TG_CURL_RESET ]] && [ "$ms" -lt 7500 ]' \
    "the next curl to c.test is reset at once (exit $st, ${ms} ms)"
is "$(desk_notifications | grep -c '^notify .*c\.test')" 1 "without another notification"

# --- answered elsewhere --------------------------------------------------------

bg_curl b.test "$TG_TMP/b1"
n=$(desk_wait_note 'summary="curl wants to connect to b\.test:443"')
ok $? "a curl to b.test raises a notification"
nid=$(kv "$n" id)
pid=$(pj 'ps[0]["id"] if len(ps) == 1 else ""')
out=$("$TG" -c "$CONF" answer "$pid" allow 2>&1)
ok $? "root answers it with tollgate answer $pid allow: $out"
is "$(done_status "$TG_TMP/b1" 10)" 0 "the waiting curl finishes"
desk_wait_note "^close id=$nid " 5 >/dev/null
ok $? "tollgate-prompt closes the notification ($nid)"
desk_wait_count 0
ok $? "and it leaves the screen"

# --- More choices: the scopes, then the durations ------------------------------

bg_curl y.b.test "$TG_TMP/y1"
n=$(desk_wait_note 'summary="curl wants to connect to y\.b\.test:443"')
ok $? "a curl to y.b.test raises a notification" || diag "$(desk_notifications)"
desk_wait_count 1
desk_pick 'More choices'
ok $? "More choices… is chosen in dunst's menu"
n=$(desk_wait_note 'summary="curl wants to connect to y\.b\.test:443".*scope:allow:domain=')
ok $? "the prompt comes back, its actions the scopes" || diag "$(desk_notifications)"
actions=$(kv "$n" actions)
like "$actions" '^scope:allow:name=Allow: y\.b\.test;scope:allow:domain=Allow: \*\.b\.test;' \
    "for allow: y.b.test, *.b.test, ..."
like "$actions" '(^|;)scope:allow:app=Allow: this app, anywhere(;|$)' "this app, anywhere"
like "$actions" '(^|;)scope:deny:ip=Deny: 192\.0\.2\.2(;|$)' "and for deny: the IP"
like "$actions" '(^|;)scope:deny:port=Deny: any address, port 443(;|$)' "any address, port 443"
like "$actions" '(^|;)back=Back$' "and Back"
like "$(kv "$n" body)" 'Choose what the rule covers' "its body says what to choose"
is "$(done_status "$TG_TMP/y1" 0)/$(pj 'len(ps)')" "/1" "meanwhile curl waits on its prompt"
desk_wait_count 1
desk_pick 'Allow: *.b.test'
ok $? "Allow: *.b.test is chosen"
n=$(desk_wait_note 'summary="curl wants to connect to y\.b\.test:443".*pick:allow:domain:1h=')
ok $? "the prompt comes back, its actions the durations" || diag "$(desk_notifications)"
is "$(kv "$n" actions)" \
    "pick:allow:domain:30m=Allow for 30 minutes (*.b.test);pick:allow:domain:1h=Allow for 1 hour (*.b.test);pick:allow:domain:restart=Allow until tollgated restarts (*.b.test);pick:allow:domain:forever=Allow always (*.b.test);back=Back" \
    "for *.b.test: 30 minutes, 1 hour, until restart, always; and Back"
desk_wait_count 1
desk_pick 'Allow for 1 hour (*.b.test)'
ok $? "Allow for 1 hour (*.b.test) is chosen"
is "$(done_status "$TG_TMP/y1" 10)" 0 "the waiting curl finishes (exit 0)"
is "$(rj '[(r["app"], r["uid"], r["action"], r["duration"][:6]) for r in rs if r["dest"] == "*.b.test"]')" \
    "[('/usr/bin/curl', $TG_GUARD_UID, 'allow', 'until:')]" \
    "tollgate rules list shows curl, uid $TG_GUARD_UID, *.b.test, allow, until:"
left=$(rj "[int(__import__('datetime').datetime.fromisoformat(r['expires'].replace('Z', '+00:00')).timestamp() - __import__('time').time()) for r in rs if r['dest'] == '*.b.test']")
ok '[[ $left =~ ^\[([0-9]+)\]$ ]] && [ "${BASH_REMATCH[1]}" -gt 3300 ] && [ "${BASH_REMATCH[1]}" -le 3600 ]' \
    "an hour ahead ($left s)"
desk_wait_count 0
ok $? "no notification is left"
