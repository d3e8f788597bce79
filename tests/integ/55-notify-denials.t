#!/bin/bash
# Telling the user (notify_denials = yes): when tollgated refuses a
# connection of a guarded user, that user's prompt agent shows it.  On a
# desktop (dunst, as in 51-prompt-desktop.t) a Notify call of low urgency
# and no actions names the app, the name and the rule; in a terminal
# (--tty) a line says the same.  Ten refusals of one app and name in a
# row are one notification (rate limit).  With notify_denials = no (the
# default), nothing is shown.

. "$(dirname "$0")/lib.sh"

plan 23
tg_setup
prompt_setup
CONF=$(prompt_conf prompt_timeout=60s notify_denials=yes)

tg_start "$CONF"
ok $? "tollgated starts with notify_denials = yes"
desk_start
if ! ok $? "a desktop: Xvfb $TG_DISPLAY, a session bus and dunst, all of tgguard's"; then
	echo "Bail out! no desktop"
	exit 1
fi
guard_argv "${TG_DESK_ENV[@]}" "$PROMPT" -c "$CONF"
tg_bg "${TG_ARGV[@]}" </dev/null >"$TG_TMP/agent.out" 2>"$TG_TMP/agent.err"
agent_start
wait_agent 2
if ! ok $? "two agents of tgguard subscribe: desktop and --tty"; then
	diag "$(sed 's/^/    /' "$TG_TMP/agent.err")"
	echo "Bail out! no prompt agent"
	exit 1
fi

for d in d.test e.test g.test; do
	"$TG" -c "$CONF" rules add --app /usr/bin/curl --dest "$d" --action deny >/dev/null ||
	    break
done
ok $? "root adds rules denying curl d.test, e.test and g.test"
rule=$(rj '[r["id"] for r in rs if r["dest"] == "d.test"][0]')

# nd NAME: the Notify calls so far whose summary names NAME.
nd() {
	desk_notifications | grep -c "^notify .*summary=\"tollgate denied curl: ${1//./\\.}:443\""
}

# --- one refusal: one notification ------------------------------------------------

curl_to d.test
like "$?" "$TG_CURL_RESET" "a curl to d.test is refused"
n=$(desk_wait_note 'summary="tollgate denied curl: d\.test:443"')
ok $? "the desktop agent shows a notification: tollgate denied curl: d.test:443" ||
    diag "$(desk_notifications)"
is "$(kv "$n" app)" tollgate "from the app tollgate"
like "$(kv "$n" body)" "App: /usr/bin/curl" "its body names the app's path"
like "$(kv "$n" body)" "By: rule $rule( |$)" "and the rule: rule $rule"
is "$(kv "$n" urgency)" 0 "of low urgency"
is "$(kv "$n" actions)" "" "with no actions"
scr=$(tty_wait agent 'tollgate denied curl: d\.test:443' 10)
ok $? "the --tty agent prints a line: tollgate denied curl: d.test:443" || diag "$scr"

# --- ten in a row: one notification -------------------------------------------------

for ((i = 0; i < 10; i++)); do
	curl_to d.test
done
# nev NAME: how many deny events NAME has so far.
nev() {
	"$TG" -c "$CONF" events --json --domain "$1" --limit 0 2>/dev/null |
	    grep -c '"verdict":"deny"'
}
for ((i = 0; i < 50 * TG_WAIT_SCALE; i++)); do
	[ "$(nev d.test)" -ge 11 ] && break
	sleep 0.1
done
is "$(nev d.test)" 11 "ten more curls to d.test are refused: 11 events"
# A refusal of another name, shown after them: what they would have
# shown comes before it.
curl_to e.test
desk_wait_note 'summary="tollgate denied curl: e\.test:443"' >/dev/null
ok $? "a curl to e.test, refused next, is shown"
is "$(nd d.test)" 1 "the ten refusals of curl to d.test showed no second notification"
is "$(nd e.test)" 1 "and e.test's one"

# --- notify_denials = no -------------------------------------------------------------

tg_stop TERM
CONF=$(prompt_conf prompt_timeout=60s)
tg_start "$CONF"
ok $? "tollgated starts again without notify_denials (no)"
wait_agent 2
ok $? "both agents subscribe again"
curl_to g.test
like "$?" "$TG_CURL_RESET" "a curl to g.test is refused"
# A prompt, shown after it: a notice of the refusal would come first.
bg_curl f.test "$TG_TMP/f1"
desk_wait_note 'summary="curl wants to connect to f\.test:443"' >/dev/null
ok $? "a curl to f.test, which no rule decides, raises its prompt"
is "$(nd g.test)" 0 "but the refusal of g.test raised no notification"
scr=$(tty_wait agent 'curl wants to connect to f\.test:443' 10)
unlike "$scr" 'tollgate denied curl: g\.test' "nor a line in the terminal"
is "$(tg_event g.test 'r["verdict"] + " " + r["decider"]')" "deny rule" \
    "the event row is there all the same: deny, rule"
kill -TERM "$(sed -n 's/^pid=//p' "$TG_TMP/f1")" 2>/dev/null
