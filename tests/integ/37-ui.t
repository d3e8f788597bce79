#!/bin/bash
# tollgate ui in a real terminal (tmux, 80x24): each tab shows what
# tollgated and its database hold (a rule the CLI added, a real curl's
# connection, its app); a prompt is answered from the Prompts tab for an
# hour and the waiting curl gets its page; rules are filtered, disabled
# and deleted from the Rules tab, events filtered and followed to their
# rule, a deny rule made from a connection; a monochrome terminal shows
# the same; the guarded user sees and deletes their own rule and sees
# their own events, and where tollgated does not let them act, the
# refusal is on the status line.

. "$(dirname "$0")/lib.sh"

plan 57
tg_setup
prompt_setup
CONF=$(prompt_conf prompt_timeout=60s)
tg_start "$CONF"
ok $? "tollgated starts"
agent_start
wait_agent
ok $? "tollgate-prompt --tty runs as $TG_GUARD and subscribes"

# ui_start NAME CMD...: CMD (a tollgate ui) in an 80x24 tmux session.
ui_start() {
	local name=$1
	shift
	_tmux new-session -d -s "$name" -x 80 -y 24 -- "$@"
}

# ui_status NAME REGEX [SECONDS]: wait until the status line matches
# REGEX; print it either way.  A message longer than the terminal is
# wide takes the line above it too: the two are joined.
ui_status() {
	local i line
	for ((i = 0; i < ${3:-10} * TG_WAIT_SCALE * 10; i++)); do
		line=$(tty_screen "$1" | tail -n 2 | tr -d '\n')
		[[ $line =~ $2 ]] && break
		sleep 0.1
	done
	printf '%s\n' "$line"
	[[ $line =~ $2 ]]
}

# ui_shot NAME TAB: with TG_UI_SHOTS set (a directory), keep what
# the screen shows as TG_UI_SHOTS/TAB.txt (the README's pictures).
ui_shot() {
	[ -n "${TG_UI_SHOTS:-}" ] || return 0
	tty_screen "$1" >"$TG_UI_SHOTS/$2.txt"
}

# ui_gone NAME REGEX [SECONDS]: wait until the screen no longer matches
# REGEX.
ui_gone() {
	local i
	for ((i = 0; i < ${3:-10} * TG_WAIT_SCALE * 10; i++)); do
		[[ $(tty_screen "$1") =~ $2 ]] || return 0
		sleep 0.1
	done
	return 1
}

# ui_filter NAME TEXT: / TEXT Enter.
ui_filter() {
	tty_keys "$1" /
	tty_keys "$1" -l "$2"
	tty_keys "$1" Enter
}

# --- what the data holds, tab by tab ------------------------------------

out=$("$TG" -c "$CONF" rules add --app /usr/bin/curl --dest a.test \
    --action allow)
ok $? "root adds a rule allowing curl to a.test"
ra=$(sed -n 's/^added rule //p' <<<"$out")
curl_to a.test
ok $? "curl reaches a.test on that rule"

ui_start ui env LANG=C.UTF-8 TERM=tmux-256color "$TG" -c "$CONF" ui
tty_wait ui '1 Prompts +2 Connections +3 Rules +4 Events +5 Apps' >/dev/null
ok $? "tollgate ui starts, its five tabs on the first line"
is "$(_tmux display-message -p -t ui '#{pane_width}x#{pane_height}')" \
    80x24 "in an 80x24 terminal"

tty_keys ui 3
scr=$(tty_wait ui "$ra +on +allow +curl +a\.test +\* +forever")
ok $? "Rules shows the rule the CLI added: id, on, allow, curl, a.test"
[ $? = 0 ] || diag "$scr"
ui_shot ui rules

tty_keys ui 4
scr=$(tty_wait ui "allow +curl +$TG_GUARD +a\.test +443 +rule $ra")
ok $? "Events shows curl's connection to a.test, decided by rule $ra"
[ $? = 0 ] || diag "$scr"

tty_keys ui 2
scr=$(tty_wait ui "allow +curl +a\.test +443 +sni")
ok $? "Connections shows it: verdict, app, name, port, where the name came from"
[ $? = 0 ] || diag "$scr"
ui_shot ui connections

tty_keys ui 5
scr=$(tty_wait ui "/usr/bin/curl +[0-9]+ +0% +a\.test +[0-9]+ +0%")
ok $? "Apps shows curl, its count, nothing denied, and a.test among its names"
[ $? = 0 ] || diag "$scr"
ui_shot ui apps

_tmux resize-window -t ui -x 100 -y 30
scr=$(tty_wait ui '5 Apps {25,}\?:keys q:quit')
ok $? "resized to 100x30, it draws the tab line across the new width"
like "$(tty_screen ui | sed -n 29p)" '^/ filter' "and its keys' line on the new next-to-last row"
_tmux resize-window -t ui -x 80 -y 24
tty_wait ui '5 Apps {5,15}\?:keys q:quit' >/dev/null
ok $? "back to 80x24"
tty_keys ui '?'
tty_wait ui 'tollgate ui: the keys' >/dev/null
ok $? "? shows the keys"
tty_keys ui Space
ui_gone ui 'tollgate ui: the keys'
ok $? "any key goes back"

# --- a prompt answered for an hour --------------------------------------

bg_curl c.test "$TG_TMP/c1"
wait_pj 'len(ps)' 1
ok $? "a curl to c.test waits on a prompt"
tty_keys ui 1
scr=$(tty_wait ui "curl +$TG_GUARD +c\.test:443")
ok $? "Prompts lists it (tab 1)"
[ $? = 0 ] || diag "$scr"
ui_shot ui prompts
like "$scr" '1 Prompts\(1\)' "the tab counts it"
like "$scr" '\[a\] Allow always' "the answers are the keys of tollgate-prompt --tty"

# t steps once, 30m, 1h, restart, forever: from forever, 1h is two away.
tty_keys ui t
ui_status ui 'now last: 30m' >/dev/null
tty_keys ui t
st=$(ui_status ui 'now last: 1h')
like "$st" 'now last: 1h' "t: the \"always\" answers now last an hour"
tty_wait ui '\[a\] Allow always.*for 1h' >/dev/null
ok $? "and the answers say so"

tty_keys ui a
st=$(ui_status ui 'prompt [0-9]+: ')
like "$st" 'allow name, 1h .*rule [0-9]+' "a answers: allow this name for 1h, a rule added ($st)"
is "$(done_status "$TG_TMP/c1" 30)" 0 "the waiting curl ends well"
grep -q '^code=200' "$TG_TMP/c1"
ok $? "and gets its page"
rc=$(rj '[r["id"] for r in rs if r["dest"] == "c.test"][0]')
like "$(rj '[r["duration"] for r in rs if r["dest"] == "c.test"][0]')" \
    '^until:' "rules list shows the answer's rule, until a time"
tty_keys ui 3
scr=$(tty_wait ui "$rc +on +allow +curl +c\.test +$TG_GUARD +(59m|1h00m) left")
ok $? "Rules shows it for $TG_GUARD, an hour left"
[ $? = 0 ] || diag "$scr"

# --- events: filter, and from an event to its rule --------------------------

curl_to c.test
ok $? "curl reaches c.test again, on the answer's rule"
tty_keys ui 4
tty_wait ui "c\.test +443 +rule $rc" >/dev/null
ok $? "Events follows: the new connection shows, decided by rule $rc"
ui_shot ui events
ui_filter ui a.test
scr=$(tty_wait ui 'filter: a\.test')
ok $? "/ filters the events"
like "$scr" "a\.test +443 +rule $ra" "a.test's event is shown"
unlike "$scr" 'c\.test' "c.test's are not"

tty_keys ui Enter
scr=$(tty_wait ui '3 Rules.*ID +ON')
ok $? "Enter on the event goes to the Rules tab"
tty_keys ui x
st=$(ui_status ui 'disabled rule')
like "$st" "disabled rule $ra" "x there disables the rule that decided it"
is "$(rj "[r['enabled'] for r in rs if r['id'] == $ra]")" "[False]" \
    "rules list says it is disabled"
tty_keys ui v
scr=$(tty_wait ui "events of rule $ra")
ok $? "v on the rule shows the events it decided"
unlike "$scr" 'c\.test' "and only those"
tty_keys ui Escape

# --- rules: filter and delete -------------------------------------------------

tty_keys ui 3
ui_filter ui a.test
scr=$(tty_wait ui 'filter: a\.test')
like "$scr" "$ra +off +allow +curl +a\.test" "/ a.test in Rules keeps a.test's rule (off now)"
unlike "$scr" "c\.test" "and hides c.test's"
tty_keys ui D
tty_wait ui "delete rule $ra\? y/n" >/dev/null
ok $? "D asks before it deletes"
tty_keys ui y
st=$(ui_status ui 'deleted rule')
like "$st" "deleted rule $ra" "y deletes it"
is "$(rj "[r['id'] for r in rs if r['id'] == $ra]")" "[]" \
    "it is gone from rules list"

# --- connections: deny from now on ---------------------------------------------

tty_keys ui 2
tty_wait ui 'allow +curl +c\.test +443' >/dev/null
tty_keys ui g d
st=$(ui_status ui 'added rule|refused')
like "$st" 'added rule [0-9]+: deny c\.test' "d on curl's connection adds a deny rule"
is "$(rj '[(r["app"], r["action"]) for r in rs if r["dest"] == "c.test" and r["action"] == "deny"]')" \
    "[('/usr/bin/curl', 'deny')]" "for curl and c.test"

# --- rules: a new duration -------------------------------------------------------

tty_keys ui 3
ui_filter ui c.test
tty_wait ui "filter: c\.test" >/dev/null
tty_keys ui g E
tty_wait ui "rule $rc lasts: _" >/dev/null
ok $? "E asks rule $rc's new duration"
tty_keys ui -l 2h
tty_keys ui Enter
st=$(ui_status ui 'edited rule|refused|rules edit')
like "$st" "edited rule $rc" "2h Enter changes it"
scr=$(tty_wait ui "$rc +on +allow +curl +c\.test +$TG_GUARD +(1h59m|2h00m) left")
ok $? "Rules shows two hours left"
[ $? = 0 ] || diag "$scr"

tty_keys ui q
for ((i = 0; i < 50 * TG_WAIT_SCALE; i++)); do
	tty_dead ui && break
	sleep 0.1
done
is "$(tty_exit ui)" 0 "q quits, exit status 0"

# --- monochrome -----------------------------------------------------------------

ui_start mono env LANG=C TERM=vt100 "$TG" -c "$CONF" ui
tty_keys mono 3
scr=$(tty_wait mono "$rc +on +allow +curl +c\.test")
ok $? "TERM=vt100 (no colours), LANG=C: Rules reads the same"
[ $? = 0 ] || diag "$scr"
tty_keys mono q

# --- a guarded user ------------------------------------------------------------

guard_argv TERM=tmux-256color "$TG" -c "$CONF" ui
ui_start guest "${TG_ARGV[@]}"
tty_wait guest '1 Prompts' >/dev/null
ok $? "$TG_GUARD runs tollgate ui"
# Their own rules and events, served by tollgated (the database is not
# theirs to read); not root's rule for any user.
tty_keys guest 3
scr=$(tty_wait guest "$rc +on +allow +curl +c\.test")
ok $? "$TG_GUARD's Rules tab shows their own rule $rc"
[ $? = 0 ] || diag "$scr"
unlike "$scr" 'deny +curl +c\.test' "and not root's deny rule for any user"
tty_keys guest 4
scr=$(tty_wait guest 'c\.test +443 +rule')
ok $? "$TG_GUARD's Events tab shows their own connections"
[ $? = 0 ] || diag "$scr"
tty_keys guest 3 g D
tty_wait guest "delete rule $rc\? y/n" >/dev/null
tty_keys guest y
st=$(ui_status guest 'deleted rule|refused')
like "$st" "deleted rule $rc" "$TG_GUARD deletes their own rule ($st)"
is "$(rj "[r['id'] for r in rs if r['id'] == $rc]")" "[]" \
    "it is gone from root's rules list"
# Adding a rule is an admin's: d on a connection is refused, and says so.
tty_keys guest 2
tty_wait guest 'curl +c\.test +443' >/dev/null
tty_keys guest g d
st=$(ui_status guest 'refused|added rule')
like "$st" 'refused: RULE-ADD needs root' \
    "$TG_GUARD's d on a connection is refused, the status line says why ($st)"
# A prompt of their own they may see but not answer: only their
# tollgate-prompt may.
bg_curl b.test "$TG_TMP/b1"
wait_pj 'len(ps)' 1
tty_keys guest 1
tty_wait guest 'b\.test:443' >/dev/null
ok $? "$TG_GUARD's Prompts tab lists their prompt"
tty_keys guest Enter
st=$(ui_status guest 'refused|deny')
like "$st" 'tollgated refused: .*\(perm\)' "answering it (Enter: its default) is refused, and the status line says so ($st)"
