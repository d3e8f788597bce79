#!/bin/bash
# A configuration mistake stops tollgated before it changes anything, with
# the file and line of the mistake; --print-config shows what a file sets.

. "$(dirname "$0")/lib.sh"

plan 20
tg_setup

# start CONF: run tollgated in the client namespace (5 s at most); its
# stderr in $err, its stdout in $out, exit status in $st.
start() {
	out=$(TG_T=5 in_client "$TG_DAEMON" "$@" 2>"$TG_TMP/err")
	st=$?
	err=$(cat "$TG_TMP/err")
}

bad=$TG_TMP/unknown.conf
printf '%s\n' '# a test configuration' 'guard_users = tgguard' \
    'no_such_key = 1' >"$bad"
start -c "$bad"
is "$st" 1 "an unknown key: tollgated exits 1"
like "$err" "$bad:3:" "naming $bad line 3 ($err)"
ok '! tg_table_present' "and installs no nftables table"

bad=$TG_TMP/action.conf
printf '%s\n' 'guard_users = tgguard' 'default_action = maybe' >"$bad"
start -c "$bad"
is "$st" 1 "default_action = maybe: tollgated exits 1"
like "$err" "$bad:2:" "naming line 2 ($err)"

bad=$TG_TMP/duration.conf
printf '%s\n' 'guard_users = tgguard' '' '# peek' 'peek_timeout = 3 parsecs' >"$bad"
start -c "$bad"
is "$st" 1 "peek_timeout = 3 parsecs: tollgated exits 1"
like "$err" "$bad:4:" "naming line 4 ($err)"

bad=$TG_TMP/keep.conf
printf '%s\n' 'keep_redirect_on_exit = perhaps' >"$bad"
start -c "$bad"
is "$st" 1 "keep_redirect_on_exit = perhaps: tollgated exits 1"
like "$err" "$bad:1:" "naming line 1 ($err)"

bad=$TG_TMP/nouser.conf
printf '%s\n' 'guard_users = tg-no-such-user-here' >"$bad"
start -c "$bad"
is "$st" 1 "guard_users naming a user that does not exist: tollgated exits 1"
like "$err" "$bad:1:" "naming line 1 ($err)"

start -c "$TG_TMP/missing.conf"
is "$st" 1 "a configuration file that does not exist: tollgated exits 1"
like "$err" "missing\.conf" "naming the file ($err)"
ok '! tg_table_present' "no nftables table after any of them"

conf=$(tg_conf default_action=reject peek_timeout=1500ms log_level=debug)
start -c "$conf" --print-config
is "$st" 0 "--print-config exits 0"
like "$out" $'(^|\n)default_action = reject(\n|$)' "it shows default_action = reject"
like "$out" $'(^|\n)guard_users = tgguard(\n|$)' "and guard_users = tgguard"
ok '! tg_table_present' "and installs no nftables table"

# The example file that make install puts in /etc: every key it shows,
# uncommented, is a key tollgated takes, with a valid value.
sed -e 's/^#\([a-z_]* = \)/\1/' -e "s/^guard_users = user\$/guard_users = $TG_GUARD/" \
    "$TG_ROOT/contrib/tollgate.conf" >"$TG_TMP/example.conf"
start -c "$TG_TMP/example.conf" --print-config
is "$st" 0 "the example tollgate.conf, every key uncommented, is valid ($err)"
like "$out" $'(^|\n)event_max_age = 30d(\n|$)' "and sets what it says"
