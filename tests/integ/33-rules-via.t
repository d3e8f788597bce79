#!/bin/bash
# Routes per rule, as a user sets them up: tollgate.conf names a second
# upstream (upstream.mail); an allow rule added with --via mail is listed
# with its route, rules test says where an allowed connection goes and
# through which address, and the route survives a restart and an export
# and import (tollgated warns when tollgate.conf no longer has the
# upstream a stored rule names).  A route that names no configured
# upstream, or one on a deny rule, is refused by the CLI and, sent past
# it, by tollgated.

. "$(dirname "$0")/lib.sh"

plan 21
tg_setup
chmod 711 "$TG_TMP" # the control socket's directory must be reachable
TG=$TG_ROOT/build/tollgate
CONF=$(tg_conf_kept upstream.mail=socks5://127.0.0.1:9102)
tg_start "$CONF"
ok $? "tollgated starts with upstream.mail = socks5://127.0.0.1:9102"

out=$("$TG" -c "$CONF" rules add --app /usr/bin/curl --dest '*.mail.test' \
    --action allow --via mail 2>&1)
ok $? "rules add --via mail succeeds while tollgated runs: $out"
"$TG" -c "$CONF" rules add --app '*' --dest deb.test --action allow \
    --via direct >/dev/null 2>&1
ok $? "rules add --via direct succeeds"

like "$("$TG" -c "$CONF" rules list)" "mail\.test .*allow via mail" \
    "rules list shows the route in the action"
is "$("$TG" -c "$CONF" rules list --json | python3 -c '
import json, sys
print(",".join(str(r["via"]) for r in json.load(sys.stdin)))')" "mail,direct" \
    "rules list --json gives each rule's via"

out=$("$TG" -c "$CONF" rules test --app /usr/bin/curl --dest imap.mail.test \
    --port 993)
like "$out" "route: +mail \(socks5://127\.0\.0\.1:9102\)" \
    "rules test names the route and the upstream's address"
like "$("$TG" -c "$CONF" rules test --app /usr/bin/curl --dest deb.test \
    --port 80)" "route: +direct" "a --via direct rule goes direct"
like "$("$TG" -c "$CONF" rules test --app /usr/bin/curl --dest other.test \
    --port 80)" "route: +upstream \(direct\)" \
    "no rule, default_action allow: the upstream key, here direct"

# --- refused routes ----------------------------------------------------------

out=$("$TG" -c "$CONF" rules add --app '*' --dest x.test --action allow \
    --via news 2>&1)
is $? 2 "rules add --via news (no such upstream) is a usage error"
like "$out" "no upstream named 'news' in" "and says there is no such upstream"
out=$("$TG" -c "$CONF" rules add --app '*' --dest x.test --action deny \
    --via mail 2>&1)
is $? 2 "rules add --action deny --via mail is a usage error"
like "$out" "--via only goes with allow" "and says why"

printf '# tollgate rules v1\nrule app=* dest=x.test action=allow via=news\n' \
    >"$TG_TMP/news.txt"
out=$("$TG" -c "$CONF" rules import "$TG_TMP/news.txt" 2>&1)
nok $? "importing a rule via news fails"
like "$out" "no upstream named 'news' in tollgate.conf" \
    "tollgated refuses it: no upstream named 'news'"
like "$(printf 'RULE-ADD app=* dest=y.test action=allow via=news\n' |
    socat -t 5 - "UNIX-CONNECT:$TG_SOCK")" \
    "^ERR invalid no upstream named 'news' in tollgate.conf" \
    "so does RULE-ADD on the control socket"
is "$("$TG" -c "$CONF" rules list --json | python3 -c '
import json, sys; print(len(json.load(sys.stdin)))')" 2 \
    "and nothing was stored"

# --- kept across a restart, an export and an import -------------------------

tg_stop
tg_start "$CONF"
like "$("$TG" -c "$CONF" rules list)" "mail\.test .*allow via mail" \
    "after a restart the rule still goes via mail"
"$TG" -c "$CONF" rules export >"$TG_TMP/export.txt"
grep -q ' action=allow via=mail duration=' "$TG_TMP/export.txt"
ok $? "rules export writes via=mail after the action"
"$TG" -c "$CONF" rules import "$TG_TMP/export.txt" >/dev/null 2>&1
is "$("$TG" -c "$CONF" rules list --json | python3 -c '
import json, sys
print(",".join(str(r["via"]) for r in json.load(sys.stdin)))')" \
    "mail,direct,mail,direct" "importing it back adds the rules with their routes"

tg_stop
CONF2=$(tg_conf_kept)
tg_start "$CONF2"
ok $? "tollgated starts with a tollgate.conf without upstream.mail"
like "$(cat "$TG_LOG")" "rule 1 goes via mail, but there is no upstream named 'mail'" \
    "and warns that rule 1's route names no upstream"
