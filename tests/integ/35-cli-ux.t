#!/bin/bash
# The command line as a new user meets it.  The terminal agent, idle, says
# nothing is waiting, and says tollgated is not running only when its
# socket is gone.  --app curl is the curl the guarded user runs even when
# root's PATH holds another; the path chosen is printed, a program not
# installed yet is taken with a warning, and "python3" finds the rules and
# events of the python3.11 it runs.  Several ids go to del and disable at
# once, each reported, the failed ones named.  --since takes "1 hour".
# Every action's --help lists its options.  rules test, without --uid,
# answers for each guarded user when a rule is one user's.  Exports name
# users; imports map them back.  sudo make run keeps its own state.

. "$(dirname "$0")/lib.sh"

plan 66
tg_setup
prompt_setup
CONF=$(prompt_conf default_action=allow guard_users="$TG_GUARD, $TG_OTHER")
rule_id() { sed -n 's/.*rule \([0-9][0-9]*\).*/\1/p' | head -n 1; }
# py_get NAME: tgguard's python3 fetches http://NAME/ from tgs; 0 when
# the page came.
py_get() {
	as_guard python3 -c "import socket
s = socket.create_connection(('$TG_S4', 80), 5)
s.sendall(b'GET / HTTP/1.0\r\nHost: $1\r\n\r\n')
print(s.makefile('rb').read().decode(errors='replace'))" 2>/dev/null | grep -q "hello from tgs"
}

# --- the terminal agent, before and after tollgated --------------------------

agent_start
scr=$(tty_wait agent "tollgated is not running \\(no control socket at $SOCK\\)" 10)
ok $? "before tollgated starts, the agent says it is not running: no control socket at $SOCK" ||
    diag "$scr"
tg_start "$CONF"
ok $? "tollgated starts, guarding $TG_GUARD and $TG_OTHER"
scr=$(tty_wait agent 'No pending prompts .* no connection waiting for an answer' 15)
ok $? "once connected, the idle agent says no connection is waiting for an answer" ||
    diag "$scr"
unlike "$scr" 'not running|waiting for tollgated' "and nothing that reads as if tollgated were down"
tty_keys agent q
for ((i = 0; i < 50 * TG_WAIT_SCALE; i++)); do
	tty_dead agent && break
	sleep 0.1
done
tty_dead agent
ok $? "q quits the agent (connections are then decided by default_action)"

# --- --app: the guarded users' PATH, not root's ------------------------------

mkdir -p "$TG_TMP/shim"
for c in curl python3; do
	printf '#!/bin/sh\nexec /usr/bin/%s "$@"\n' "$c" >"$TG_TMP/shim/$c"
	chmod 755 "$TG_TMP/shim/$c"
done
out=$(PATH="$TG_TMP/shim:$PATH" "$TG" -c "$CONF" rules add --app curl \
    --dest a.test --action deny 2>&1)
ok $? "rules add --app curl, with a curl shim first in root's PATH, succeeds"
curl_deny=$(rule_id <<<"$out")
like "$out" "app: /usr/bin/curl \\(curl in the guarded users' PATH\\)" \
    "it prints the path it chose: /usr/bin/curl"
unlike "$out" "$TG_TMP/shim" "not root's shim"
curl_to a.test
nok $? "and the guarded user's curl to a.test is refused by it"

py=$(readlink -f /usr/bin/python3)
out=$(PATH="$TG_TMP/shim:$PATH" "$TG" -c "$CONF" rules add --app python3 \
    --dest b.test --action deny 2>&1)
ok $? "rules add --app python3 succeeds"
py_deny=$(rule_id <<<"$out")
like "$out" "app: $py \\(python3 in the guarded users' PATH: /usr/bin/python3, a link to it\\)" \
    "it names the file python3 runs ($py), the one the kernel reports"
py_get b.test
nok $? "the guarded user's python3 to b.test is refused by that rule"
py_get c.test
ok $? "and reaches c.test"

out=$("$TG" -c "$CONF" rules add --app /usr/bin/tg-not-installed-yet \
    --dest a.test --action allow 2>&1)
ok $? "a rule for a program not installed yet is added"
later=$(rule_id <<<"$out")
like "$out" "warning: /usr/bin/tg-not-installed-yet does not exist \\(yet\\); the rule will match it once installed" \
    "with a warning saying so"
out=$("$TG" -c "$CONF" rules add --app tg-no-such-command --dest a.test \
    --action allow 2>&1)
is $? 2 "a bare command found nowhere is a usage error"
like "$out" "no such command in the guarded users' PATH \\(/" \
    "naming the guarded users' PATH: $out"

# --- the --app filters take the names the tables show -----------------------

out=$("$TG" -c "$CONF" rules list --app python3)
like "$out" "^ID .*
$py_deny +$(basename "$py") +b\\.test" "rules list --app python3 finds the $(basename "$py") rule"
out=$("$TG" -c "$CONF" rules list --app "$(basename "$py")")
like "$out" "$py_deny +$(basename "$py")" "and so does --app $(basename "$py"), the name in the table"
out=$("$TG" -c "$CONF" rules list --app curl)
like "$out" "$curl_deny +curl +a\\.test" "rules list --app curl finds curl's rule"
unlike "$out" "b\\.test" "and not python's"

for ((i = 0; i < 50 * TG_WAIT_SCALE; i++)); do
	out=$("$TG" -c "$CONF" events --app python3 --since "1 hour" 2>&1)
	[[ $out =~ b\.test ]] && break
	sleep 0.1
done
like "$out" "$(basename "$py") .*b\\.test" \
    "events --app python3 --since \"1 hour\" shows python's refused b.test"
like "$out" "note: /usr/bin/python3 is $py" "saying which program python3 is"

# --- --since in the forms people type --------------------------------------

for t in "1 hour" "30 min" "2 days" "1h" "90s" "2 days ago" "today"; do
	out=$("$TG" -c "$CONF" events --since "$t" --app curl 2>&1)
	like "$out" 'curl .*a\.test' "events --since \"$t\" shows curl's a.test"
done
out=$("$TG" -c "$CONF" events --since "1 fortnight" 2>&1)
is $? 2 "--since \"1 fortnight\" is a usage error"
like "$out" 'expected a time back from now \(90s, 30m, 2h, 3d, 1w, or spelt out: "30 min", "1 hour", "2 days ago"\), now, today, yesterday, HH:MM' \
    "naming the forms it takes"

# --- several ids at once -----------------------------------------------------

out=$("$TG" -c "$CONF" rules disable "$curl_deny" "$py_deny" 2>&1)
ok $? "rules disable takes two ids"
like "$out" "disabled rule $curl_deny
disabled rule $py_deny" "each reported on its own line"
curl_to a.test
ok $? "curl reaches a.test again"
py_get b.test
ok $? "and python3 b.test"
out=$("$TG" -c "$CONF" rules enable "$curl_deny" 99999 "$py_deny" 2>&1)
is $? 1 "rules enable with an id that does not exist exits 1"
like "$out" "enabled rule $curl_deny" "having enabled the first"
like "$out" "enabled rule $py_deny" "and the last"
like "$out" "rules enable: 1 of 3 rules not enabled: 99999" "and names the one that failed"
curl_to a.test
nok $? "curl is refused a.test again"
out=$("$TG" -c "$CONF" rules del "$later" x 2>&1)
is $? 2 "an id that is not a number is a usage error"
out=$("$TG" -c "$CONF" rules list --wide)
like "$out" "tg-not-installed-yet" "and nothing was deleted"

# --- rules test, without --uid, for each guarded user -----------------------

out=$("$TG" -c "$CONF" rules add --app curl --dest c.test --action deny \
    --uid "$TG_OTHER" 2>&1)
other_deny=$(rule_id <<<"$out")
ok '[ -n "$other_deny" ]' "a curl rule for $TG_OTHER alone is added ($other_deny)"
out=$("$TG" -c "$CONF" rules list --wide)
like "$out" "$other_deny +/usr/bin/curl +$TG_OTHER +c\.test" \
    "rules list --wide names its user, not the uid"
like "$("$TG" -c "$CONF" rules list)" "curl \\($TG_OTHER\\) +c\.test" \
    "and so does rules list"
out=$("$TG" -c "$CONF" rules test --app curl --dest c.test --port 443 2>&1)
like "$out" "the answer differs by user:" "rules test without --uid says the answer differs by user"
like "$out" "$TG_OTHER \\(uid $TG_OTHER_UID\\): deny by rule $other_deny \\(app /usr/bin/curl, uid $TG_OTHER_UID" \
    "$TG_OTHER: denied by rule $other_deny"
like "$out" "$TG_GUARD \\(uid $TG_GUARD_UID\\): allow: no rule, default_action" \
    "$TG_GUARD: allowed, no rule"
curl_to c.test
ok $? "and indeed $TG_GUARD's curl reaches c.test"
out=$("$TG" -c "$CONF" rules test --app curl --dest a.test --port 443 2>&1)
like "$out" "deny by rule $curl_deny .*users: +the same for every guarded user \\($TG_GUARD" \
    "where every user gets the same answer, one explanation"

# --- export names users, import maps them back --------------------------------

"$TG" -c "$CONF" rules export >"$TG_TMP/export.txt"
ok $? "rules export"
like "$(cat "$TG_TMP/export.txt")" " uid=$TG_OTHER dest=c\\.test " "writes uid=$TG_OTHER, not the number"
CONF2=$(tg_conf database="$TG_TMP/db2/tollgate.db" control_socket="$TG_TMP/none.sock")
"$TG" -c "$CONF2" rules import "$TG_TMP/export.txt" >/dev/null 2>&1
ok $? "the export imports into another database"
out=$("$TG" -c "$CONF2" rules list --json)
like "$out" "\"uid\":$TG_OTHER_UID,\"dest\":\"c.test\"" "with $TG_OTHER mapped back to uid $TG_OTHER_UID"
sed "s/ uid=$TG_OTHER / uid=tg-nobody-here /" "$TG_TMP/export.txt" >"$TG_TMP/bad.txt"
out=$("$TG" -c "$CONF2" rules import "$TG_TMP/bad.txt" 2>&1)
is $? 1 "an export naming an unknown user is refused"
like "$out" "bad.txt: line [0-9]+: uid: no user \"tg-nobody-here\"" "naming the line and the user"
sed "s/ uid=$TG_OTHER / uid=$TG_OTHER_UID /" "$TG_TMP/export.txt" >"$TG_TMP/old.txt"
"$TG" -c "$CONF2" rules import "$TG_TMP/old.txt" >/dev/null 2>&1
ok $? "an old export with numeric uids still imports"

# --- every --help lists its options --------------------------------------------

out=$("$TG" --help)
like "$out" "Commands:.*answer.*events.*prompts.*rules.*status" "tollgate --help lists the subcommands"
out=$("$TG" rules add --help)
n=$(grep -c '^  --' <<<"$out")
ok '[ "$n" -ge 11 ]' "rules add --help lists its $n options, one line each"
like "$out" "  --dest DEST +a name" "--dest among them, with what it takes"
bad=
for a in list add del enable disable edit test import export; do
	out=$("$TG" rules "$a" --help) || bad="$bad $a(exit)"
	[ "$(grep -c '^  [-A-Z]' <<<"$out")" -ge 1 ] || bad="$bad $a"
done
is "$bad" "" "every rules action's --help lists its arguments and options"
bad=
for c in answer dns events prompts status; do
	"$TG" "$c" --help | grep -q '^  --' || bad="$bad $c"
done
is "$bad" "" "and so does every subcommand's"

# --- sudo make run's own state --------------------------------------------------

run_conf=$(cd "$TG_ROOT" && GUARD=$TG_GUARD RUN_CONF_ONLY=1 tools/run-dev 2>/dev/null | tail -n 1)
ok $? "tools/run-dev (sudo make run) writes its configuration"
out=$(cd "$TG_ROOT" && "$TG_DAEMON" -c "$run_conf" --print-config 2>&1)
like "$out" "database = $TG_ROOT/build/run-state/lib/tollgate.db" "its database is under build/run-state/"
like "$out" "control_socket = $TG_ROOT/build/run-state/run/control.sock" "and so is its control socket"
