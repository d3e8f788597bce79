#!/bin/bash
# contrib/whonix/install on a scratch root: what a Whonix user gets (the
# configuration with the gateway filled in, the unit, the masks, the rule
# lists read from the machine's apt and sdwdate configuration), a second
# run that changes nothing, and --uninstall giving back exactly what was
# there, byte for byte.  No network namespace: it never touches the live
# system.

. "$(dirname "$0")/lib.sh"

plan 54

TOP=$(cd "$(dirname "$0")/../.." && pwd)
INSTALL=$TOP/contrib/whonix/install
ROOT=$(mktemp -d /tmp/tollgate-whonix-root.XXXXXX) || exit 1
WORK=$(mktemp -d /tmp/tollgate-whonix-work.XXXXXX) || exit 1
trap 'st=$?; rm -rf "$ROOT" "$WORK"; (exit $st); _tg_cleanup' EXIT

# The machine: Whonix's gateway helper, apt sources (one-line and deb822),
# sdwdate's pools, apt's methods, a user, and an autostart entry of
# tollgate's own make install, which the install replaces.
mkdir -p "$ROOT"/etc/apt/sources.list.d "$ROOT"/etc/sdwdate.d \
    "$ROOT"/usr/lib/apt/methods "$ROOT"/usr/libexec/helper-scripts \
    "$ROOT"/etc/xdg/autostart "$ROOT"/etc/systemd/system
cat >"$ROOT/usr/libexec/helper-scripts/settings_echo" <<'EOF'
#!/bin/sh
echo 'GATEWAY_IP="10.137.5.9"'
echo 'GATEWAY_IP6="fd19:c33d:88bc::10"'
EOF
chmod 755 "$ROOT/usr/libexec/helper-scripts/settings_echo"
cat >"$ROOT/etc/apt/sources.list" <<'EOF'
# Debian
deb tor+https://deb.debian.org/debian bookworm main
deb [signed-by=/usr/share/keyrings/debian.gpg arch=amd64] tor+http://security-mirror.example.org/debian-security bookworm-security main
#deb http://commented-out.example.org/debian bookworm main
deb-src http://someone:secret@Mirror.Example.NET:8080/debian bookworm main
deb file:/srv/local-repo ./
EOF
cat >"$ROOT/etc/apt/sources.list.d/derivative.sources" <<'EOF'
Types: deb
URIs: tor+https://deb.whonix.example
 tor+http://derivative7abcdefghijklmnopqrstuvwxyz234567abcdefghijklmno.onion
Suites: bookworm
Components: main

Types: deb
URIs: https://disabled.example.com
Suites: bookworm
Components: main
Enabled: no
EOF
cat >"$ROOT/etc/sdwdate.d/30_default.conf" <<'EOF'
## sdwdate pools
SDWDATE_POOL_ZERO=(
   "http://timeone7abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqr.onion#Org One"
   [
      "http://timetwo7abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqr.onion/x#Org Two"
   ]
)
## "http://commented.onion#not a source"
SDWDATE_POOL_ONE=(
   "timethree.onion:80#Org Three"
)
EOF
printf '\177ELF' >"$ROOT/usr/lib/apt/methods/http"
ln -s http "$ROOT/usr/lib/apt/methods/https"
printf 'root:x:0:0::/root:/bin/bash\nuser:x:1000:1000::/home/user:/bin/bash\nsdwdate:x:107:113::/run/sdwdate:/usr/sbin/nologin\n' \
    >"$ROOT/etc/passwd"
printf '[Desktop Entry]\nExec=tollgate-prompt\n' \
    >"$ROOT/etc/xdg/autostart/tollgate-prompt.desktop"
# Masked by the user already: left as it is, and left behind.
ln -s /dev/null \
    "$ROOT/etc/systemd/system/anon-ws-disable-stacked-tor_autogen_port_9102.socket"

# listing DIR: every path with its type, mode, link target and content.
listing() {
	(cd "$1" && find . -mindepth 1 -printf '%p %y %m %l\n' | LC_ALL=C sort &&
	    find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2)
}

listing "$ROOT" >"$WORK/before"

help=$("$INSTALL" --help 2>&1)
is "$?" 0 "install --help exits 0"
like "$help" '--uninstall \[--root DIR\]' "and shows the usage ($(head -n 1 <<<"$help"))"
err=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$INSTALL" 2>&1)
is "$?" 1 "the live install as a user that is not root exits 1 ($err)"

err=$("$INSTALL" --root "$ROOT" --gateway 10.152.152.300 2>&1)
is "$?" 1 "install with a gateway that is no address exits 1"
like "$err" 'gateway "10\.152\.152\.300" is not an IPv4 address' "saying why ($err)"
listing "$ROOT" >"$WORK/refused"
ok 'cmp -s "$WORK/before" "$WORK/refused"' "and changes nothing"

out=$("$INSTALL" --root "$ROOT" 2>&1)
is "$?" 0 "install --root exits 0"
diag "$(tail -n 5 <<<"$out")"

conf=$ROOT/etc/tollgate/tollgate.conf
like "$(grep '^upstream = ' "$conf")" 'socks5://10\.137\.5\.9:9050$' \
    "the configuration's upstream is settings_echo's GATEWAY_IP, port 9050"
like "$(grep '^upstream.tb = ' "$conf")" 'socks5://10\.137\.5\.9:9150$' \
    "upstream.tb is its port 9150"
unlike "$(cat "$conf")" 'GATEWAY:|@BINDIR@' "no placeholder is left in it"
like "$(grep '^prompt_program' "$conf")" '= /usr/local/bin/tollgate-prompt$' \
    "prompt_program is where make install puts the agent"
like "$(grep '^socks_listen =' "$conf")" 'unix:/run/tor/socks:0666' \
    "the 9050 front takes /run/tor/socks"
unlike "$(grep '^socks_listen' "$conf")" '9051|9151|control' \
    "no front takes a control port or socket"

is "$(grep '^guard_users' "$conf")" "guard_users = user, sdwdate" \
    "it guards user and sdwdate, which the root's passwd has"

# tollgated reads it.
sed -e 's/^guard_users = .*$/guard_users = 65533/' "$conf" >"$WORK/check.conf"
printed=$("$TOP/build/tollgated" --print-config -c "$WORK/check.conf" 2>&1)
is "$?" 0 "tollgated --print-config reads the installed configuration"
like "$printed" $'\nsocks_listen.tb = 127\\.0\\.0\\.1:9150, ' \
    "with the 9150 front routed to upstream.tb"
like "$printed" 'block_encrypted_dns = yes' "with encrypted DNS blocked"
like "$printed" 'fake_ip_range = 198\.18\.0\.0/15' \
    "and the fake IPs outside the gateway's 10.192.0.0/10"

unit=$ROOT/etc/systemd/system/tollgated.service
like "$(grep '^ExecStart=' "$unit")" '^ExecStart=/usr/local/sbin/tollgated$' \
    "the unit runs the installed tollgated"
like "$(cat "$unit")" $'\nBefore=network-pre.target' \
    "it comes before network-pre.target"
unlike "$(grep '^After=' "$unit")" 'network-pre' "and is not after it"
ok '[ -f "$ROOT/etc/tmpfiles.d/tollgate-whonix.conf" ]' \
    "the tmpfiles entry for the sockets' directories is there"
cmp -s "$ROOT/etc/whonix_firewall.d/50_tollgate.conf" \
    "$TOP/contrib/whonix/firewall/50_tollgate.conf"
ok $? "whonix-firewall's drop-in for the stub's DNS is there"
like "$(cat "$ROOT/etc/xdg/autostart/tollgate-prompt.desktop")" \
    $'\nExec=/usr/local/bin/tollgate-prompt' \
    "the session autostarts the installed prompt agent"

masks=0 wrong=0
while read -r u; do
	case $u in '' | '#'*) continue ;; esac
	for t in socket service; do
		masks=$((masks + 1))
		[ "$(readlink "$ROOT/etc/systemd/system/$u.$t")" = /dev/null ] ||
		    { wrong=$((wrong + 1)); diag "not masked: $u.$t"; }
	done
done <"$TOP/contrib/whonix/masked-units"
is "$masks/$wrong" "22/0" "all 22 SOCKS proxy units link to /dev/null"
ok '[ "$(readlink "$ROOT/etc/systemd/system/anon-ws-disable-stacked-tor_autogen__run_tor_socks.socket")" = /dev/null ]' \
    "/run/tor/socks's proxy is masked"
n=$(find "$ROOT/etc/systemd/system" -name '*9051*' -o -name '*9151*' \
    -o -name '*_run_tor_control*' | wc -l)
is "$n" 0 "no control-port unit is masked"

lists=$ROOT/var/lib/tollgate/whonix
apt=$(cat "$lists/whonix-apt.rules")
like "$apt" $'^# tollgate rules v1\n' "the apt list is export text"
like "$apt" 'rule app=/usr/lib/apt/methods/http uid=any dest=list:whonix-apt action=allow via=apt' \
    "for apt's http method (https links to it), through the apt port"
got=$(sed -n 's/^list whonix-apt //p' <<<"$apt" | tr '\n' ' ')
is "$got" "deb.debian.org deb.whonix.example derivative7abcdefghijklmnopqrstuvwxyz234567abcdefghijklmno.onion mirror.example.net security-mirror.example.org " \
    "holding the mirrors of sources.list and the deb822 file, no more"
sdw=$(cat "$lists/whonix-sdwdate.rules")
got=$(sed -n 's/^list whonix-sdwdate //p' <<<"$sdw" | tr '\n' ' ')
is "$got" "timeone7abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqr.onion timethree.onion timetwo7abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqr.onion " \
    "the sdwdate list holds its pools' hosts"
like "$sdw" 'uid=107 dest=list:whonix-sdwdate' "for the sdwdate user"
like "$(cat "$lists/whonix-torbrowser.rules")" \
    'app=/home/user/.tb/tor-browser/Browser/firefox.real .*via=tb' \
    "Tor Browser's updater list is for its firefox.real, through port 9150"
like "$out" 'would run: systemctl enable tollgated.service' \
    "what the live install would run is printed"
like "$out" 'would run: /usr/local/bin/tollgate rules import /var/lib/tollgate/whonix/whonix-apt.rules' \
    "the lists' import too"

man=$ROOT/var/lib/tollgate/whonix-install.manifest
like "$(cat "$ROOT/var/lib/tollgate/whonix-backup/etc/xdg/autostart/tollgate-prompt.desktop")" \
    '^\[Desktop Entry\]'$'\n''Exec=tollgate-prompt$' \
    "the autostart entry it replaced is kept aside"
ok '! grep -q port_9102.socket "$man" && grep -q port_9102.service "$man"' \
    "a unit the user had masked is not recorded as the install's"

# Each list imports as it is, into a scratch database.
printf 'database = %s/t.db\ncontrol_socket = %s/c.sock\nupstream.apt = socks5://10.137.5.9:9104\nupstream.sdwdate = socks5://10.137.5.9:9108\nupstream.tb = socks5://10.137.5.9:9150\n' \
    "$WORK" "$WORK" >"$WORK/db.conf"
imp=0
for f in "$lists"/*.rules; do
	"$TOP/build/tollgate" -c "$WORK/db.conf" rules import "$f" \
	    >/dev/null 2>"$WORK/imp.err" || { imp=1; diag "$(cat "$WORK/imp.err")"; }
done
is "$imp" 0 "tollgate rules import takes every list"

listing "$ROOT" >"$WORK/after1"
out2=$("$INSTALL" --root "$ROOT" 2>&1)
is "$?" 0 "a second install exits 0"
listing "$ROOT" >"$WORK/after2"
ok 'cmp -s "$WORK/after1" "$WORK/after2"' \
    "and changes nothing: same files, modes, links and contents"
unlike "$out2" 'wrote|linked' "it says it wrote nothing"

out=$("$INSTALL" --uninstall --root "$ROOT" 2>&1)
is "$?" 0 "install --uninstall --root exits 0"
listing "$ROOT" >"$WORK/after"
diff -u "$WORK/before" "$WORK/after" >"$WORK/diff"
ok '[ ! -s "$WORK/diff" ]' \
    "the root is as before the install, byte for byte (the replaced autostart entry back)"
if [ -s "$WORK/diff" ]; then
	diag "$(head -n 20 "$WORK/diff")"
fi

# The live install, in a private mount namespace: a copy of /etc (with a
# user "user") over /etc, empty /var/lib and /usr/local/{s,}bin holding
# the build's programs, and systemctl and systemd-tmpfiles that only
# record how they were called.  Nothing outside the namespace changes.
cp -a "$TOP/contrib/whonix" "$WORK/whonix"
mkdir -p "$WORK/stub"
for c in systemctl systemd-tmpfiles; do
	cat >"$WORK/stub/$c" <<STUB
#!/bin/sh
echo "$c \$*" >>"$WORK/calls"
case "\$*" in *is-enabled* | *is-active*) exit 1 ;; esac
exit 0
STUB
	chmod 755 "$WORK/stub/$c"
done
cat >"$WORK/live.sh" <<'LIVE'
set -u
W=$1 TOP=$2
mount --make-rprivate / || exit 1
cp -a /etc "$W/etc" || exit 1
echo 'user:x:64999:64999::/home/user:/bin/bash' >>"$W/etc/passwd"
mount --bind "$W/etc" /etc && mount -t tmpfs tmpfs /var/lib &&
    mount -t tmpfs tmpfs /usr/local/sbin &&
    mount -t tmpfs tmpfs /usr/local/bin || exit 1
ln -s "$TOP/build/tollgated" /usr/local/sbin/tollgated
ln -s "$TOP/build/tollgate" /usr/local/bin/tollgate
export PATH=$W/stub:$PATH
snap() {
	(cd / && find etc -xdev -printf '%p %y %m %l\n' | LC_ALL=C sort &&
	    find etc -xdev -type f -exec sha256sum {} + | LC_ALL=C sort -k2)
}
snap >"$W/live-before"
for i in 1 2 3; do
	[ "$i" = 3 ] && set -- --uninstall || set --
	"$W/whonix/install" "$@" >"$W/live-out$i" 2>&1
	echo "$?" >"$W/live-rc$i"
	grep '^guard_users' /etc/tollgate/tollgate.conf >"$W/live-guard$i" 2>&1
	tollgate rules export >"$W/live-rules$i" 2>&1
done
snap >"$W/live-after"
LIVE
if command -v unshare >/dev/null 2>&1 &&
    unshare -m bash "$WORK/live.sh" "$WORK" "$TOP"; then
	is "$(cat "$WORK/live-rc1")/$(cat "$WORK/live-rc2")/$(cat "$WORK/live-rc3")" 0/0/0 \
	    "live: install, install again and --uninstall exit 0"
	is "$(cat "$WORK/live-guard1")" "guard_users = user" \
	    "live: with no sdwdate user, only user is guarded"
	calls=$(cat "$WORK/calls")
	like "$calls" $'^systemctl daemon-reload\nsystemd-tmpfiles --create /etc/tmpfiles.d/tollgate-whonix.conf\n' \
	    "live: it reloads systemd and makes the sockets' directory"
	like "$calls" $'\nsystemctl enable tollgated.service\nsystemctl restart tollgated.service\n' \
	    "live: it enables and restarts tollgated"
	n1=$(grep -c '^rule .*dest=list:whonix-' "$WORK/live-rules1")
	n2=$(grep -c '^rule .*dest=list:whonix-' "$WORK/live-rules2")
	is "$n1/$n2" 4/4 \
	    "live: the lists are 4 rules, and still 4 after the second install"
	old=$(grep '^rule ' "$WORK/live-rules1" | cut -d' ' -f2 | tr '\n' ' ')
	new=$(grep '^rule ' "$WORK/live-rules2" | cut -d' ' -f2 | tr '\n' ' ')
	is "$old -> $new" "id=1 id=2 id=3 id=4  -> id=5 id=6 id=7 id=8 " \
	    "live: the second install replaced them"
	is "$(grep -c '^rule ' "$WORK/live-rules3")" 0 "live: --uninstall deletes them"
	like "$calls" $'\nsystemctl disable tollgated.service\n' \
	    "live: --uninstall disables tollgated, which the install had enabled"
	ok 'cmp -s "$WORK/live-before" "$WORK/live-after"' \
	    "live: /etc is as before, byte for byte"
else
	for i in 1 2 3 4 5 6 7 8; do
		echo "ok $((TG_N + 1)) # SKIP no private mount namespace here"
		TG_N=$((TG_N + 1))
	done
fi

# The unit's wait for the table, as systemd runs it ($$ is $), against a
# tollgate that answers at its third call.
mkdir -p "$WORK/post"
cat >"$WORK/post/tollgate" <<POST
#!/bin/sh
echo call >>"$WORK/post/calls"
[ "\$(wc -l <"$WORK/post/calls")" -ge 3 ]
POST
chmod 755 "$WORK/post/tollgate"
post=$(sed -n 's/^ExecStartPost=//p' "$TOP/contrib/whonix/tollgated.service.in" |
    sed -e 's/\$\$/$/g' -e "s|@BINDIR@|$WORK/post|g")
eval "$post"
st=$?
is "$st/$(wc -l <"$WORK/post/calls")" 0/3 \
    "the unit is started once tollgate status answers (the third try)"

# systemd's own reading of the unit and the masks (the ExecStart= file
# must exist for it: the build's tollgated stands in).
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$WORK/units"
	sed -e "s|@SBINDIR@|$TOP/build|; s|@BINDIR@|$TOP/build|g" \
	    -e 's|@UNITDIR@|/usr/local/lib/systemd/system|' \
	    "$TOP/contrib/whonix/tollgated.service.in" >"$WORK/units/tollgated.service"
	v=$(systemd-analyze verify --man=no "$WORK/units/tollgated.service" 2>&1)
	st=$?
	is "$st" 0 "systemd-analyze verify accepts the unit"
	if [ -n "$v" ]; then
		diag "$v"
	fi
else
	echo "ok $((TG_N + 1)) # SKIP systemd-analyze is not installed"
	TG_N=$((TG_N + 1))
fi
