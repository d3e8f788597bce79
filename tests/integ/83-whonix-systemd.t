#!/bin/bash
# The Whonix unit under a real systemd: contrib/whonix/install writes its
# files into a scratch root; systemd (Debian's, as PID 1 of pid and mount
# namespaces of its own, in the workstation's network namespace) boots on
# an overlay of the machine's / whose upper layer is a tmpfs, with those
# files in /etc, so nothing it writes reaches the machine.  The hardened
# tollgated.service (ProtectSystem=strict, PrivateTmp, NoNewPrivileges,
# CapabilityBoundingSet, RestrictAddressFamilies, SystemCallFilter) then
# starts: tollgated runs as _tollgate under seccomp with no_new_privs, its
# table is in before network-pre.target is reached, the masked
# anon-ws-disable-stacked-tor units are masked, and the guarded user's
# connection is judged and leaves through the gateway (Dante on
# 10.152.152.10:9050, the Whonix address) by name.  SIGKILLed, systemd
# starts it again; stopped, its table stays and the guarded user is
# refused.

. "$(dirname "$0")/lib.sh"

plan 19
command -v nsenter >/dev/null 2>&1 || skip_all "needs nsenter (util-linux)"
[ -x /lib/systemd/systemd ] || skip_all "needs systemd (package systemd)"
tg_setup
gateway_start || { echo "Bail out! no SOCKS gateway (Dante)"; exit 1; }

W=$TG_TMP/sd
ROOT=$W/root
mkdir -p "$ROOT/etc" && cp /etc/passwd "$ROOT/etc/passwd" || exit 1
out=$("$TG_ROOT/contrib/whonix/install" --root "$ROOT" --gateway "$TG_GW4" 2>&1)
ok $? "contrib/whonix/install --root writes the files (gateway $TG_GW4)"
# The test's guarded user, and prompts not needed: what no rule decides
# is allowed.
sed -i -e "s/^guard_users = .*/guard_users = $TG_GUARD/" \
    -e 's/^default_action = .*/default_action = allow/' \
    "$ROOT/etc/tollgate/tollgate.conf"
# The target systemd boots into: only tollgated and what it pulls in.
printf '[Unit]\nDescription=tollgate test\nWants=tollgated.service\n' \
    >"$ROOT/etc/systemd/system/tgtest.target"

cat >"$W/boot.sh" <<'EOF'
# boot.sh W TOP: in new pid and mount namespaces, / as an overlay whose
# upper layer is a tmpfs, the install's /etc over it, then systemd.
set -u
W=$1 TOP=$2
mount --make-rprivate / || exit 1
R=$W/ovl
mkdir -p "$R" && mount -t tmpfs -o mode=755 tmpfs "$R" || exit 1
mkdir "$R/upper" "$R/work" "$R/root" || exit 1
mount -t overlay overlay \
    -o "lowerdir=/,upperdir=$R/upper,workdir=$R/work" "$R/root" || exit 1
N=$R/root
mount --rbind /dev "$N/dev" && mount --rbind /sys "$N/sys" &&
    mount -t proc proc "$N/proc" &&
    mount -t tmpfs -o mode=755 tmpfs "$N/run" &&
    mount -t tmpfs -o mode=1777 tmpfs "$N/tmp" || exit 1
mkdir -p "$N/run/anon-ws-disable-stacked-tor" "$N/usr/local/sbin" \
    "$N/usr/local/bin" || exit 1
cp -a "$W/root/etc/." "$N/etc/" || exit 1
cp "$TOP/build/tollgated" "$N/usr/local/sbin/" &&
    cp "$TOP/build/tollgate" "$TOP/build/tollgate-prompt" \
        "$N/usr/local/bin/" || exit 1
cd "$N" && mkdir -p oldroot && pivot_root . oldroot && cd / &&
    umount -l /oldroot || exit 1
exec /lib/systemd/systemd --system --unit=tgtest.target
EOF
ip netns exec "$TG_CNS" unshare --pid --fork --mount --mount-proc \
    bash "$W/boot.sh" "$W" "$TG_ROOT" </dev/null >"$W/boot.log" 2>&1 &
TG_PIDS+=($!)
boot=$!

# sd CMD...: CMD inside systemd's namespaces.
SD=
sd() {
	timeout -k 2 15 nsenter -a -t "$SD" "$@"
}
for ((i = 0; i < 300; i++)); do
	SD=$(pgrep -P "$(pgrep -P "$boot" -x unshare || echo "$boot")" -x systemd 2>/dev/null |
	    head -n 1)
	[ -n "$SD" ] && break
	sleep 0.1
done
state=
for ((i = 0; i < 600; i++)); do
	[ -n "$SD" ] || break
	state=$(sd systemctl is-system-running 2>/dev/null)
	case $state in running | degraded) break ;; esac
	sleep 0.1
done
if ! ok '[ "$state" = running ] || [ "$state" = degraded ]' \
    "systemd boots as PID 1 of its own namespaces ($state)"; then
	diag "$(cat "$W/boot.log")"
	echo "Bail out! no systemd"
	exit 1
fi

is "$(sd systemctl is-active tollgated.service)" active \
    "tollgated.service is active, hardened as contrib/whonix installs it"
main=$(sd systemctl show -P MainPID tollgated.service)
st=$(sd cat "/proc/$main/status")
is "$(awk '/^Uid:/ {print $2}' <<<"$st")" "$(id -u _tollgate)" "tollgated runs as _tollgate"
is "$(awk '/^NoNewPrivs:/ {print $2} /^Seccomp:/ {print $2}' <<<"$st" | tr '\n' ' ')" "1 2 " \
    "with no_new_privs and a seccomp filter (SystemCallFilter)"
is "$(sd systemctl show -P CapabilityBoundingSet tollgated.service | tr ' ' '\n' | sort | tr '\n' ' ')" \
    "cap_bpf cap_chown cap_dac_override cap_dac_read_search cap_net_admin cap_perfmon cap_setgid cap_setpcap cap_setuid cap_sys_ptrace cap_sys_resource " \
    "systemd holds it to the unit's capability bounding set"
# tollgated then narrows both sets to NET_ADMIN, DAC_READ_SEARCH and
# SYS_PTRACE (bits 12, 2, 19).
is "$(awk '/^CapBnd:/ {print $2} /^CapEff:/ {print $2}' <<<"$st" | tr '\n' ' ')" \
    "0000000000081004 0000000000081004 " \
    "and tollgated keeps only CAP_NET_ADMIN, CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE"
t_tg=$(sd systemctl show -P ActiveEnterTimestampMonotonic tollgated.service)
t_np=$(sd systemctl show -P ActiveEnterTimestampMonotonic network-pre.target)
ok '[ "$t_tg" -gt 0 ] && [ "$t_np" -ge "$t_tg" ]' \
    "it was up (control socket answering) before network-pre.target ($t_tg <= $t_np)"
ok tg_table_present "its table is in the workstation's namespace"
is "$(sd systemctl is-enabled anon-ws-disable-stacked-tor_autogen_port_9050.socket 2>/dev/null)" \
    masked "anon-ws-disable-stacked-tor's 9050 proxy is masked"
like "$(sd /usr/local/bin/tollgate status 2>&1)" "running" \
    "tollgate status answers from the service's control socket"
# Whether connect tracking loaded under this unit (CAP_BPF, the bpf call
# allowed), in systemd's pid namespace (pids as that namespace numbers
# them; a kernel older than 6.10 has no bpf_get_ns_current_pid_tgid for
# it, and /proc is used): said, not asserted.
diag "connect tracking: $(sd /usr/local/bin/tollgate status --json 2>/dev/null | jq -r .connect_tracking); $(sd journalctl -b -u tollgated.service -o cat 2>/dev/null | grep -m1 'connect tracking:')"

FAKE=203.0.113.9
scurl=(curl -sS --max-time 10 --cacert "$TG_CA" --resolve "a.test:443:$FAKE")
gateway_mark
out=$(as_guard "${scurl[@]}" https://a.test/ 2>&1)
like "$out" "s_server" "the guarded user's curl https://a.test/ gets the page"
r=$(gateway_wait_request dst=a.test:443)
ok $? "through the gateway, by name"
like "$(sd /usr/local/bin/tollgate events --domain a.test 2>&1)" "a\\.test" \
    "and tollgate events shows the decision"

sd kill -KILL "$main"
new=
for ((i = 0; i < 300; i++)); do
	new=$(sd systemctl show -P MainPID tollgated.service 2>/dev/null)
	[ -n "$new" ] && [ "$new" != 0 ] && [ "$new" != "$main" ] &&
	    [ "$(sd systemctl is-active tollgated.service)" = active ] && break
	sleep 0.1
done
ok '[ -n "$new" ] && [ "$new" != 0 ] && [ "$new" != "$main" ]' \
    "SIGKILLed, systemd starts tollgated again (pid $main, then $new)"
as_guard "${scurl[@]}" -o /dev/null https://a.test/ 2>/dev/null
ok $? "and the guarded user's curl goes through again"

sd systemctl stop tollgated.service
is "$(sd systemctl is-active tollgated.service)" inactive "systemctl stop stops it"
ok tg_table_present "its table stays"
as_guard "${scurl[@]}" -o /dev/null https://a.test/ 2>/dev/null
nok $? "and the guarded user's curl is refused (fail closed)"
