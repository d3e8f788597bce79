#!/bin/bash
# A guarded user sees and undoes their own decisions, and nothing else.
# The database stays unreadable to them: "tollgate rules list" and
# "tollgate events" (and --follow) go through tollgated's control socket,
# which serves each guarded user the rules bound to their uid and the
# events of their uid, in the format root sees.  They may disable, delete
# and change the duration of their own uid-bound rules, and the change is
# in force at once (a curl their deleted allow rule let through is
# refused); never another user's rule, a uid=any rule, RULE-ADD,
# RULE-EDIT or IMPORT: each is "ERR perm" with the reason, and nothing
# changes.  A user who is neither guarded nor an admin is told what they
# may do.  A reply is bounded, whatever LIMIT asks.  A guarded user's
# subordinate uids (/etc/subuid) are theirs: their rules and events too.

. "$(dirname "$0")/lib.sh"

plan 70
tg_setup
prompt_setup
CONF=$(prompt_conf default_action=deny guard_users="$TG_GUARD, $TG_OTHER")
DB=$TG_TMP/db/tollgate.db
SUB=320000 # tgguard's subordinate uids: 320000-320999
GUID=$(id -u "$TG_GUARD")
OUID=$(id -u "$TG_OTHER")
NOBODY=daemon # neither guarded nor an admin
rule_id() { sed -n 's/.*rule \([0-9][0-9]*\).*/\1/p' | head -n 1; }
# say AS LINE...: the lines to tollgated's socket as user AS; its replies.
say() {
	local who=$1
	shift
	printf '%s\n' "$@" | as_user "$who" socat -t 5 - "UNIX-CONNECT:$SOCK"
}
add() { "$TG" -c "$CONF" rules add "$@" 2>&1 | rule_id; }
# ids AS: the ids "tollgate rules list --json" shows to AS, sorted.
ids() {
	as_user "$1" "$TG" -c "$CONF" rules list --json |
	    python3 -c 'import json, sys
print(" ".join(str(r["id"]) for r in sorted(json.load(sys.stdin), key=lambda r: r["id"])))'
}
other_curl() {
	as_other curl -sS --max-time 8 --cacert "$TG_CA" \
	    --resolve "$1:443:$TG_S4" -o /dev/null "https://$1/" 2>/dev/null
}

# /etc/subuid as it was, put back whatever happens.
SAVED=$TG_TMP/saved
mkdir -p "$SAVED" && cp -p /etc/subuid /etc/subgid "$SAVED/" ||
    { echo "Bail out! cannot save /etc/subuid and /etc/subgid"; exit 1; }
trap 'st=$?; cp -p "$SAVED/subuid" /etc/subuid; cp -p "$SAVED/subgid" /etc/subgid; (exit $st); _tg_cleanup' EXIT
usermod --add-subuids $SUB-$((SUB + 999)) "$TG_GUARD" ||
    { echo "Bail out! cannot give $TG_GUARD subordinate uids"; exit 1; }

tg_start "$CONF"
ok $? "tollgated starts, guarding $TG_GUARD (and uids $SUB-$((SUB + 999))) and $TG_OTHER"
A=$(add --app /usr/bin/curl --uid "$TG_GUARD" --dest a.test --action allow)
B=$(add --app /usr/bin/curl --uid "$TG_GUARD" --dest b.test --action allow)
C=$(add --app /usr/bin/curl --uid "$TG_GUARD" --dest c.test --action allow)
O=$(add --app /usr/bin/curl --uid "$TG_OTHER" --dest a.test --action allow)
Y=$(add --app /usr/bin/curl --dest c.test --port 8443 --action allow)
S=$(add --app /usr/bin/curl --uid $((SUB + 5)) --dest s.test --action allow)
ok '[ -n "$A" ] && [ -n "$B" ] && [ -n "$C" ] && [ -n "$O" ] && [ -n "$Y" ] && [ -n "$S" ]' \
    "root adds three rules bound to $TG_GUARD ($A $B $C), one to $TG_OTHER ($O), one for any uid ($Y), one to uid $((SUB + 5)) ($S)"
as_guard cat "$DB" >/dev/null 2>&1
nok $? "the database stays unreadable to $TG_GUARD"

# --- reading: each guarded user their own ------------------------------------

curl_to a.test
ok $? "$TG_GUARD's curl to a.test goes through (rule $A)"
other_curl a.test
ok $? "$TG_OTHER's curl to a.test goes through (rule $O)"

out=$(as_guard "$TG" -c "$CONF" rules list 2>&1)
ok $? "tollgate rules list as $TG_GUARD succeeds" || diag "$out"
like "$out" "ID +APP +DEST" "with the table root sees"
like "$out" "curl \\($TG_GUARD\\) +a\\.test" "it shows $TG_GUARD's rule for a.test"
is "$(ids "$TG_GUARD")" "$A $B $C $S" "rules list --json shows $TG_GUARD exactly their rules, their subordinate uid's among them"
is "$(ids "$TG_OTHER")" "$O" "and $TG_OTHER exactly theirs"
is "$(ids root)" "$A $B $C $O $Y $S" "root, reading the database, sees every rule"
out=$(as_guard "$TG" -c "$CONF" rules test --app /usr/bin/curl --dest a.test --port 443 2>&1)
like "$out" "rules test needs every rule.*run it as root" \
    "rules test as $TG_GUARD (their own rules would be half the answer) says who may run it"

out=$(say "$TG_GUARD" "RULES")
like "$out" "^OK count=4 more=no last=$S" "RULES over socat as $TG_GUARD: OK count=4" || diag "$out"
like "$out" "RULE names=- id=$A app=/usr/bin/curl uid=$GUID dest=a\\.test" \
    "the rule lines are the rule's text form"
unlike "$out" "id=($O|$Y) " "neither $TG_OTHER's rule nor the uid=any rule"
out=$(say root "RULES")
like "$out" "^OK count=6 more=no last=$S" "RULES over socat as root: every rule, theirs and the others'"
out=$(say "$TG_GUARD" "RULES after=$A limit=1")
like "$out" "^OK count=1 more=yes last=$B" "RULES pages by id: after=$A limit=1 gives rule $B, more to come"

out=$(as_guard "$TG" -c "$CONF" events --json 2>&1)
ok $? "tollgate events --json as $TG_GUARD succeeds" || diag "$out"
like "$out" "\"name\":\"a\\.test\"" "it shows $TG_GUARD's connection to a.test"
is "$(python3 -c 'import json, sys
print(sorted({json.loads(l)["uid"] for l in sys.stdin if l.strip()}))' <<<"$out")" "[$GUID]" \
    "and only events of uid $GUID"
out=$(as_guard "$TG" -c "$CONF" events 2>&1)
like "$out" "a\\.test" "the table of events shows it too"
out=$(say "$TG_GUARD" "EVENTS limit=10")
like "$out" "^OK count=[1-9][0-9]* more=(yes|no) last=[0-9]+ top=[0-9]+" "EVENTS over socat as $TG_GUARD: OK count=N" ||
    diag "$out"
like "$out" "EVENT id=[0-9]+ kind=decision pid=[0-9]+ uid=$GUID " "with EVENT lines of uid $GUID"
unlike "$out" "uid=$OUID " "none of $TG_OTHER's"
out=$(say "$TG_GUARD" "EVENTS uid=$OUID")
like "$out" "^ERR perm uid=$OUID is not yours" "asking for $TG_OTHER's events is ERR perm"
out=$(as_other "$TG" -c "$CONF" events --json 2>&1)
is "$(python3 -c 'import json, sys
print(sorted({json.loads(l)["uid"] for l in sys.stdin if l.strip()}))' <<<"$out")" "[$OUID]" \
    "$TG_OTHER's tollgate events shows only uid $OUID"

# --- changing their own rules -------------------------------------------------

out=$(as_guard "$TG" -c "$CONF" rules disable "$B" 2>&1)
like "$out" "disabled rule $B" "$TG_GUARD disables their rule $B with tollgate rules disable" || diag "$out"
is "$(rj "[r['enabled'] for r in rs if r['id'] == $B]")" "[False]" "and it is disabled"
curl_to b.test
nok $? "their curl to b.test is refused now"
out=$(say "$TG_GUARD" "RULE-ENABLE $B")
is "$out" "OK id=$B" "RULE-ENABLE $B over socat as $TG_GUARD"
curl_to b.test
ok $? "their curl to b.test goes through again"

out=$(say "$TG_GUARD" "RULE-DURATION $C 2h")
is "$out" "OK id=$C" "RULE-DURATION $C 2h as $TG_GUARD"
like "$(rj "[r['duration'] for r in rs if r['id'] == $C]")" "until:" \
    "rule $C now lasts until a time"
is "$(rj "[(r['dest'], r['action'], r['uid']) for r in rs if r['id'] == $C]")" \
    "[('c.test', 'allow', $GUID)]" "its other fields are as they were"
out=$(as_guard "$TG" -c "$CONF" rules edit "$C" --duration forever 2>&1)
like "$out" "edited rule $C" "tollgate rules edit $C --duration forever as $TG_GUARD" || diag "$out"
is "$(rj "[r['duration'] for r in rs if r['id'] == $C]")" "['forever']" "and it lasts forever again"

out=$(as_guard "$TG" -c "$CONF" rules del "$A" 2>&1)
like "$out" "deleted rule $A" "$TG_GUARD deletes their allow rule $A" || diag "$out"
curl_to a.test
nok $? "and the next curl to a.test is refused: the deletion is in force"
out=$(as_guard "$TG" -c "$CONF" rules del "$S" 2>&1)
like "$out" "deleted rule $S" "$TG_GUARD deletes rule $S, bound to their subordinate uid $((SUB + 5))" || diag "$out"

# --- what they may not do ----------------------------------------------------

before=$(ids root)
out=$(say "$TG_GUARD" "RULE-DEL $O")
like "$out" "^ERR perm rule $O is not yours" "RULE-DEL of $TG_OTHER's rule: ERR perm, not yours"
out=$(as_guard "$TG" -c "$CONF" rules disable "$O" 2>&1)
nok $? "tollgate rules disable of $TG_OTHER's rule fails"
like "$out" "not yours" "saying it is not theirs"
out=$(say "$TG_GUARD" "RULE-DISABLE $Y")
like "$out" "^ERR perm rule $Y is not yours \\(uid=any\\): only root" "RULE-DISABLE of the uid=any rule: ERR perm"
out=$(say "$TG_GUARD" "RULE-DURATION $Y forever")
like "$out" "^ERR perm rule $Y is not yours" "RULE-DURATION of the uid=any rule: ERR perm"
out=$(say "$TG_GUARD" "RULE-ADD app=/usr/bin/curl uid=$GUID dest=* action=allow")
like "$out" "^ERR perm RULE-ADD needs root" "RULE-ADD: ERR perm, saying what a guarded user may do"
out=$(say "$TG_GUARD" "RULE-EDIT $C app=/usr/bin/curl uid=$GUID dest=* action=allow")
like "$out" "^ERR perm RULE-EDIT needs root" "RULE-EDIT of their own rule's dest: ERR perm"
out=$(say "$TG_GUARD" "IMPORT 2" "# tollgate rules v1" "rule app=* dest=* action=allow")
like "$out" "^ERR perm IMPORT needs root" "IMPORT: ERR perm"
is "$(ids root)" "$before" "after all of these the rules are as they were"
is "$(rj "[(r['dest'], r['enabled']) for r in rs if r['id'] == $C]")" "[('c.test', True)]" \
    "rule $C untouched"

# --- a user who is neither guarded nor an admin --------------------------------

out=$(as_user "$NOBODY" "$TG" -c "$CONF" rules list 2>&1)
nok $? "tollgate rules list as $NOBODY (not guarded, not an admin) fails"
like "$out" "not a guarded user.*you may ask STATUS and PROMPTS" \
    "saying what they may and may not do, not \"Permission denied\"" || diag "$out"
out=$(say "$NOBODY" "EVENTS")
like "$out" "^ERR perm EVENTS: uid [0-9]+ is not a guarded user" "EVENTS over socat as $NOBODY: ERR perm"

# --- bounds ---------------------------------------------------------------------

# 600 more events of the guarded user, as tollgated would have written them.
python3 - "$DB" "$GUID" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
cur = db.execute("SELECT * FROM events WHERE uid = ? ORDER BY id DESC LIMIT 1", (int(sys.argv[2]),))
cols = [d[0] for d in cur.description]
row = dict(zip(cols, cur.fetchone()))
del row["id"]
with db:
    for i in range(600):
        row["name"] = "bulk%d.test" % i
        db.execute("INSERT INTO events (%s) VALUES (%s)" % (",".join(row), ",".join("?" * len(row))), list(row.values()))
EOF
# socat waits up to 100 s for tollgated to close after the reply: it
# must not need to.
out=$(echo "EVENTS limit=100000000" |
    TG_T=60 as_guard socat -t 100 - "UNIX-CONNECT:$SOCK")
is "$?" 0 "a client that said all it will say gets its long reply, then tollgated closes the connection"
like "$(head -n 1 <<<"$out")" "^OK count=500 more=yes" "EVENTS limit=100000000 is answered with 500 rows at most"
is "$(grep -c '^EVENT ' <<<"$out")" 500 "and 500 EVENT lines follow"
n=$(as_guard "$TG" -c "$CONF" events --json --limit 0 | grep -c '"name":"bulk')
is "$n" 600 "tollgate events --limit 0 pages through all 600 of them"
out=$(as_other "$TG" -c "$CONF" events --json --limit 0 2>&1)
like "$out" '"name":"a\.test"' "$TG_OTHER's events --limit 0 lists their own" || diag "$out"
unlike "$out" '"name":"bulk' "none of them is $TG_OTHER's to see"

# Events of a subordinate uid of tgguard's (a program in a user namespace).
python3 - "$DB" "$GUID" "$((SUB + 7))" <<'EOF2'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
cur = db.execute("SELECT * FROM events WHERE uid = ? ORDER BY id DESC LIMIT 1", (int(sys.argv[2]),))
cols = [d[0] for d in cur.description]
row = dict(zip(cols, cur.fetchone()))
del row["id"]
row["uid"] = int(sys.argv[3])
with db:
    for i in range(3):
        row["name"] = "sub%d.test" % i
        db.execute("INSERT INTO events (%s) VALUES (%s)" % (",".join(row), ",".join("?" * len(row))), list(row.values()))
EOF2
out=$(say "$TG_GUARD" "EVENTS limit=4")
like "$(head -n 1 <<<"$out")" "^OK count=4 more=yes" "EVENTS limit=4 as $TG_GUARD: the newest 4, more before them" ||
    diag "$(head -n 1 <<<"$out")"
is "$(grep -o 'name=[a-z0-9]*\.test' <<<"$out" | tr '\n' ' ')" "name=bulk599.test name=sub0.test name=sub1.test name=sub2.test " \
    "they are $TG_GUARD's newest, their subordinate uid's ones with them, oldest first"
out=$(as_other "$TG" -c "$CONF" events --json --limit 0 2>&1)
like "$out" '"name":"a\.test"' "$TG_OTHER's events --limit 0 still lists their own" || diag "$out"
unlike "$out" '"name":"sub' "$TG_OTHER sees none of those"

# --- follow ---------------------------------------------------------------------

(TG_T=60 as_guard "$TG" -c "$CONF" events --follow --json >"$TG_TMP/follow" 2>&1) &
TG_PIDS+=($!)
for ((i = 0; i < 100 * TG_WAIT_SCALE; i++)); do
	grep -q 'bulk599' "$TG_TMP/follow" && break
	sleep 0.1
done
curl_to c.test
for ((i = 0; i < 100 * TG_WAIT_SCALE; i++)); do
	grep -q '"name":"c.test"' "$TG_TMP/follow" && break
	sleep 0.1
done
grep -q '"name":"c.test"' "$TG_TMP/follow"
ok $? "tollgate events --follow as $TG_GUARD shows their new connection to c.test" ||
    diag "$(tail -n 3 "$TG_TMP/follow")"

# --- prompt_answers = admin-forever: their rules only stricter ----------------

tg_stop
CONF=$(prompt_conf default_action=deny guard_users="$TG_GUARD, $TG_OTHER" \
    prompt_answers=admin-forever)
tg_start "$CONF"
ok $? "tollgated starts again with prompt_answers = admin-forever"
# What an answer of theirs makes (allow for an hour), and an admin's deny.
H=$(add --app /usr/bin/curl --uid "$TG_GUARD" --dest h.test --action allow --duration 1h)
D=$(add --app /usr/bin/curl --uid "$TG_GUARD" --dest d.test --action deny --duration 1h)
out=$(say "$TG_GUARD" "RULE-DURATION $H forever")
like "$out" "^ERR perm RULE-DURATION would let more through rule $H \\(allow\\)" \
    "lengthening their allow rule to forever: ERR perm" || diag "$out"
like "$(rj "[r['duration'] for r in rs if r['id'] == $H]")" "until:" \
    "rule $H still lasts until a time"
out=$(say "$TG_GUARD" "RULE-DISABLE $H" "RULE-ENABLE $H")
like "$out" "OK id=$H.*ERR perm RULE-ENABLE would let more through" \
    "disabling their allow rule is theirs, enabling it again is not" || diag "$out"
out=$(say "$TG_GUARD" "RULE-DEL $D")
like "$out" "^ERR perm RULE-DEL would let more through rule $D \\(deny\\)" \
    "deleting the deny rule bound to them: ERR perm"
out=$(say "$TG_GUARD" "RULE-DURATION $D 2h")
is "$out" "OK id=$D" "lengthening it: theirs to do"
out=$(say "$TG_GUARD" "RULE-DEL $H")
is "$out" "OK id=$H" "deleting their allow rule: theirs to do"
