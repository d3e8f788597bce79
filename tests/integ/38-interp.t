#!/bin/bash
# Rules for interpreters, as a user lives with them: real python3 scripts
# run by the guarded user.  A rule for python3 with --script lets that
# script out and not another one run by the same python3 (default deny
# refuses it); a relative path to the script is the same script, a link
# to it is not (tollgated follows no path a program names);
# python3 -c is no script; a --cmdline glob picks a command line;
# python3 with a script beats python3 alone; export and import keep both
# fields; a database of the schema before (7) keeps its rules when the new
# tollgated opens it.

. "$(dirname "$0")/lib.sh"

plan 48
tg_setup
chmod 711 "$TG_TMP" # the control socket's directory must be reachable
DB=$TG_TMP/db/tollgate.db
conf() {
	tg_conf database="$DB" control_socket="$TG_TMP/run/control.sock" "$@"
}
TG=$TG_ROOT/build/tollgate
PY=$(readlink -f /usr/bin/python3)
rule_id() { sed -n 's/.*rule \([0-9][0-9]*\).*/\1/p' | head -n 1; }

# Two scripts, the same program: an HTTP request for NAME to the server;
# exit 0 when its page came back.  Other words are left alone (--mode=...).
S=$TG_TMP/scripts
mkdir -p "$S"
cat >"$S/a.py" <<PY
import socket, sys
data = b""
try:
    s = socket.create_connection(("$TG_S4", 80), timeout=8)
    s.sendall(("GET / HTTP/1.0\r\nHost: %s\r\n\r\n" % sys.argv[1]).encode())
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
except OSError:
    pass
sys.exit(0 if b"hello from tgs" in data else 1)
PY
cp "$S/a.py" "$S/b.py"
ln -s a.py "$S/link.py"
chmod 755 "$S"
chmod 644 "$S/a.py" "$S/b.py"
A=$S/a.py
B=$S/b.py

# --- a rule for python3 and one script -------------------------------------

CONF=$(conf default_action=deny)
tg_start "$CONF"
ok $? "tollgated starts with default_action = deny"

out=$("$TG" -c "$CONF" rules add --app python3 --script "$A" \
    --dest a.test --action allow 2>&1)
ok $? "rules add --app python3 --script a.py --dest a.test allow: $out"
a_id=$(rule_id <<<"$out")
like "$out" "script: $A" "it prints the script it chose"
like "$out" "app: $PY" "and the interpreter ($PY)"

tg_mark
as_guard python3 "$A" a.test
ok $? "python3 a.py reaches a.test"
d=$(tg_decision name=a.test)
is "$(kv "$d" verdict)/$(kv "$d" rule)" "allow/$a_id" \
    "decided by the script's rule ($a_id)"

tg_mark
as_guard python3 "$B" a.test
nok $? "python3 b.py, the same interpreter, does not"
d=$(tg_decision name=a.test)
is "$(kv "$d" verdict)/$(kv "$d" reason)" deny/no-agent \
    "b.py falls to default_action (no agent to ask)"

as_guard sh -c "cd '$S' && exec python3 -u ./a.py a.test"
ok $? "python3 -u ./a.py from the script's directory is a.py too"
as_guard sh -c "cd '$S/..' && exec python3 scripts/../scripts/a.py a.test"
ok $? "and so is scripts/../scripts/a.py from its parent"
as_guard python3 "$S/link.py" a.test
nok $? "a link to a.py is named as the link (tollgated follows no path a program names): refused"
as_guard python3 -c "import runpy, sys; sys.argv = ['$A', 'a.test']; runpy.run_path('$A', run_name='__main__')"
nok $? "python3 -c running a.py's code is no script: refused"
as_guard python3 "$A" c.test
nok $? "a.py to another name (c.test) is refused: the rule is for a.test"

out=$("$TG" -c "$CONF" rules list)
like "$out" "$(basename "$PY") a.py" "rules list shows the interpreter and the script"
out=$("$TG" -c "$CONF" rules list --wide)
like "$out" "$PY $A" "rules list --wide the full paths"

is "$("$TG" -c "$CONF" rules list --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["script"])')" \
    "$A" "rules list --json has the script"
out=$("$TG" -c "$CONF" rules add --app '*' --script "$A" --dest a.test \
    --action allow 2>&1)
is "$?" 2 "--script with --app '*' is a usage error"
like "$out" "goes with one interpreter's --app" "saying why ($out)"
out=$("$TG" -c "$CONF" rules add --app /usr/bin/curl --script "$A" \
    --dest a.test --action allow 2>&1)
like "$out" "no interpreter tollgated knows" \
    "--script for curl is added with a warning that it matches nothing"
"$TG" -c "$CONF" rules del "$(rule_id <<<"$out")" >/dev/null

# --- app and script beat the app alone ---------------------------------------

out=$("$TG" -c "$CONF" rules add --app python3 --dest c.test \
    --action deny 2>&1)
ok $? "a deny rule for python3 and c.test"
deny_id=$(rule_id <<<"$out")
out=$("$TG" -c "$CONF" rules add --app python3 --script "$A" --dest '*' \
    --action allow 2>&1)
ok $? "an allow rule for python3 running a.py, any destination"
any_id=$(rule_id <<<"$out")

tg_mark
as_guard python3 "$A" c.test
ok $? "a.py reaches c.test: python3 with its script beats python3 alone"
d=$(tg_decision name=c.test)
is "$(kv "$d" verdict)/$(kv "$d" rule)" "allow/$any_id" \
    "decided by the script's any-destination rule ($any_id)"
tg_mark
as_guard python3 "$B" c.test
nok $? "b.py does not"
d=$(tg_decision name=c.test)
is "$(kv "$d" verdict)/$(kv "$d" rule)" "deny/$deny_id" \
    "refused by python3's own rule ($deny_id)"
out=$("$TG" -c "$CONF" rules test --app python3 --script "$A" \
    --dest c.test --port 80 --uid "$TG_GUARD_UID")
like "$out" "rule $any_id" "rules test --script names the script's rule"
like "$out" "step 2: more specific app \\(this app and script beats this app, rule $deny_id\\)" \
    "decided at step 2, the app, over rule $deny_id"

# --- a command line glob ---------------------------------------------------

out=$("$TG" -c "$CONF" rules add --app python3 \
    --cmdline '*b.py b.test --mode=sync*' --dest b.test --action allow 2>&1)
ok $? "rules add --cmdline '*b.py b.test --mode=sync*' for b.test"
glob_id=$(rule_id <<<"$out")
tg_mark
as_guard python3 "$B" b.test --mode=sync --verbose
ok $? "python3 b.py b.test --mode=sync --verbose reaches b.test"
d=$(tg_decision name=b.test)
is "$(kv "$d" verdict)/$(kv "$d" rule)" "allow/$glob_id" \
    "decided by the glob's rule ($glob_id)"
like "$(kv "$d" cmdline)" "b.py b.test --mode=sync --verbose" \
    "whose command line the decision shows, as the glob saw it"
as_guard python3 "$B" b.test --mode=once
nok $? "python3 b.py b.test --mode=once does not"

# --- export, import ----------------------------------------------------------

exp=$TG_TMP/interp.export
"$TG" -c "$CONF" rules export >"$exp"
ok $? "rules export"
like "$(grep "^rule id=$a_id " "$exp")" "app=$PY script=$A " \
    "the export has the script after the app"
like "$(grep "^rule id=$glob_id " "$exp")" \
    "cmdline=\"\\*b.py b.test --mode=sync\\*\"" "and the glob, quoted"
for id in $a_id $deny_id $any_id $glob_id; do
	"$TG" -c "$CONF" rules del "$id" >/dev/null || break
done
ok $? "every rule is deleted"
as_guard python3 "$A" a.test
nok $? "and a.py is refused again"
out=$("$TG" -c "$CONF" rules import "$exp" 2>&1)
ok $? "the export is imported: $out"
"$TG" -c "$CONF" rules export >"$exp.2"
strip() { sed -E 's/ (id|created|updated|hits|last_hit)=[^ ]*//g' "$1" | sort; }
is "$(strip "$exp.2")" "$(strip "$exp")" \
    "exported again, the rules are the same, script and glob included"
as_guard python3 "$A" a.test
ok $? "a.py reaches a.test again"
as_guard python3 "$B" b.test --mode=sync
ok $? "and b.py with --mode=sync reaches b.test"
tg_stop TERM

# --- a database from before script= and cmdline= ---------------------------

# The schema tollgate wrote before (7) is this one without the two
# columns of step 8: made with the CLI while tollgated is down, then the
# columns dropped and the version set back.
DB=$TG_TMP/old/tollgate.db
CONF=$(conf default_action=deny)
"$TG" -c "$CONF" rules add --app /usr/bin/python3 --dest a.test \
    --action allow --note "from schema 7" >/dev/null
ok $? "a python3 rule is written while tollgated is stopped"
sqlite3 "$DB" "ALTER TABLE rules DROP COLUMN cmdline;
    ALTER TABLE rules DROP COLUMN script; PRAGMA user_version = 7;"
ok $? "the database is taken back to schema 7"
is "$(sqlite3 "$DB" 'PRAGMA user_version')" 7 "it says schema 7"
tg_start "$CONF"
ok $? "the new tollgated starts on it"
is "$(sqlite3 "$DB" 'PRAGMA user_version')" 9 "and moved it to schema 9"
like "$("$TG" -c "$CONF" rules list)" "from schema 7" "the rule is still there"
as_guard python3 "$B" a.test
ok $? "and it still lets python3 (any script) reach a.test"
tg_stop TERM
