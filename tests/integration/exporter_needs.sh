#!/bin/sh
# kmem_exporter names the capability or the mount behind each figure it could
# not read (src/common/needs.c, the words kmemtop --report uses): a
# `level=WARN msg="Data unavailable"` line per datum when it starts lacking,
# on this machine's live /proc and /sys with the privileges of a container
# (setpriv: uid 0 with one capability, or another uid), and a kernel log taken
# from ROOT/var/log/dmesg (this tree has no dev/kmsg): empty as the kubelet's
# FileOrCreate leaves it, or this boot's, saved as deploy/systemd/kmem-dmesg.service
# saves it. A captured tree (no live procfs) gets no such warning.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exporter.lib.sh"
K="$B/kmemtop"
cd "$TOP" || exit 1
T=$(test "$(id -u)" -eq 0 && tmpdir)
trap 'stop_all; rm -rf "$T"' EXIT INT TERM

if [ "$(id -u)" -ne 0 ]; then
    not_ok "exporter_needs.sh must run as root (setpriv drops capabilities from root's)"
    finish
fi
for tool in setpriv curl dmesg; do
    command -v $tool >/dev/null 2>&1 || { not_ok "$tool is installed"; finish; }
done
[ -x "$E" ] && [ -x "$K" ] || { not_ok "kmem_exporter and kmemtop are built"; finish; }

mkdir -p "$T/tree/var/log"

# run NAME [SETPRIV ARGS...]: the exporter (server mode, where it logs) on the
# live /proc and /sys with ROOT $T/tree, under setpriv ARGS; one scrape into
# $T/NAME.prom, its log in $T/NAME.log.
run() {
    n=$1
    shift
    port=$(free_port)
    spawn "$T/$n.log" setpriv "$@" "$E" --root "$T/tree" --path.procfs /proc --path.sysfs /sys \
        --web.listen-address "127.0.0.1:$port"
    wait_url "http://127.0.0.1:$port/-/ready" 20 &&
        curl -fsS --max-time 20 "http://127.0.0.1:$port/metrics" >"$T/$n.prom"
    r=$?
    stop_all
    return $r
}
warned() { # NAME SOURCE: the reason logged for SOURCE, or nothing
    awk -v src="$2" 'index($0, "level=WARN msg=\"Data unavailable\"") &&
        (index($0, "source=\"" src "\" ") || index($0, "source=" src " ")) {
            sub(/.* reason="/, ""); sub(/" effect=.*/, ""); print }' "$T/$1.log"
}
ht() { awk '/^kmem_node_kernel_bytes\{kind="hash_tables"\}/ { print $2 }' "$T/$1.prom"; }

# ---- uid 0 with only CAP_DAC_READ_SEARCH (the DaemonSet), an empty boot log
: >"$T/tree/var/log/dmesg"
check "exporter runs as uid 0 with only CAP_DAC_READ_SEARCH" \
    run dac --bounding-set -all,+dac_read_search
has() { case $1 in *"$2"*) return 0 ;; esac; return 1; } # TEXT PART
why=$(warned dac 'kernel log')
echo "# kernel log: $why"
check "empty /var/log/dmesg: the kernel-log warning says it holds no boot messages" \
    has "$why" "holds none of the boot messages"
check "empty /var/log/dmesg: the kernel-log warning names the unit that saves it" \
    has "$why" "deploy/systemd/kmem-dmesg.service"
why=$(warned dac /proc/iomem)
echo "# /proc/iomem: $why"
check "/proc/iomem: names CAP_SYS_ADMIN and says uid 0 is not enough" \
    has "$why" "this process is uid 0 but lacks CAP_SYS_ADMIN"
check "/proc/iomem: the warning says which series are missing" \
    grep -q 'effect="kmem_node_system_ram_bytes and kmem_node_outside_bytes' "$T/dac.log"
check_eq "no \"run as root\" in the log of a uid-0 process" "" "$(grep -i 'run as root' "$T/dac.log")"
check_eq "without boot messages hash_tables is 0" 0 "$(ht dac)"

# ---- this boot's log, saved as the boot unit saves it: no kernel-log warning,
# hash_tables as the host's kmemtop --json reads it from /dev/kmsg.
save=$(sed -n 's/^ExecStart=//p' deploy/systemd/kmem-dmesg.service)
# shellcheck disable=SC2086 # the unit's command line splits as systemd splits it
$save >"$T/tree/var/log/dmesg"
check "exporter with this boot's log in /var/log/dmesg" run boot --bounding-set -all,+dac_read_search
if boot_log_whole; then
    check_eq "no kernel-log warning with the boot log" "" "$(warned boot 'kernel log')"
else
    ok "no kernel-log warning with the boot log # SKIP $BOOT_LOG_CUT"
fi
want=$("$K" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["node"]["kinds"]["hash_tables"])')
check_eq "hash_tables from the boot log equals kmemtop --json's from /dev/kmsg" "$want" "$(ht boot)"
if boot_log_whole; then
    check "hash_tables of this machine is > 0 ($want)" test "${want:-0}" -gt 0
else
    ok "hash_tables of this machine is > 0 # SKIP $BOOT_LOG_CUT"
fi

# ---- not uid 0: the warning says so (and names the capability)
check "exporter runs as uid 65534 with CAP_DAC_READ_SEARCH" \
    run nobody --reuid 65534 --regid 65534 --clear-groups --inh-caps +dac_read_search \
    --ambient-caps +dac_read_search
check "/proc/iomem as uid 65534: 'not uid 0 and lacks CAP_SYS_ADMIN'" \
    has "$(warned nobody /proc/iomem)" "this process is not uid 0 and lacks CAP_SYS_ADMIN"

# ---- every privilege (root): nothing is missing
check "exporter runs as root with every capability" run root --reuid 0
if boot_log_whole; then
    check_eq "as root: no missing datum" "" "$(grep 'Data unavailable' "$T/root.log")"
else
    check_eq "as root: no missing datum but the kernel log's boot messages ($BOOT_LOG_CUT)" "" \
        "$(grep 'Data unavailable' "$T/root.log" | grep -v 'source="kernel log"')"
fi

# ---- a captured tree (no live procfs): the privileges of this process do
# not matter there, nothing is logged although its kernel log is missing
port=$(free_port)
spawn "$T/fixture.log" setpriv --bounding-set -all,+dac_read_search "$E" --root "$SHARED_FIXTURE" \
    --web.listen-address "127.0.0.1:$port"
wait_url "http://127.0.0.1:$port/-/ready" 20 && curl -fsS --max-time 20 "http://127.0.0.1:$port/metrics" >/dev/null
stop_all
check_eq "a captured tree: no missing-datum warning" "" "$(grep 'Data unavailable' "$T/fixture.log")"
finish
