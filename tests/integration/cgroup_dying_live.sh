#!/bin/sh
# Live test of removed ("dying") memory cgroups (root, cgroup v1): create N
# memory cgroups, charge each with a tmpfs page written from inside it, remove
# them while the pages are kept, and check that kmem's count of removed
# cgroups rises by N (and equals /proc/cgroups num_cgroups minus the live
# directories); then delete the files, which frees the pages and with them the
# cgroups, and check that the count falls back. Also checks the exporter's
# kmem_memory_cgroups_dying and --report. Cleans up in a trap.
#
# Other processes on the machine may create or remove cgroups meanwhile: each
# reading is retried until kmem and the independent count agree, and the rise
# must be exactly N in one of a few tries.
. "$(dirname "$0")/../lib.sh"
M=/sys/fs/cgroup/memory
N=${KMEM_DYING_N:-20}
K="$B/kmemtop"
E="$B/kmem_exporter"
P=$M/kmem-dying-$$
T=
MNT=

if [ "$(id -u)" -ne 0 ]; then
    not_ok "cgroup_dying_live must run as root"
    finish
fi
if [ ! -f "$M/memory.kmem.usage_in_bytes" ] || [ ! -r /proc/cgroups ]; then
    not_ok "no cgroup v1 memory controller at $M (or no /proc/cgroups)"
    finish
fi
command -v jq >/dev/null || { not_ok "jq is installed (make deps)"; finish; }
[ -x "$K" ] && [ -x "$E" ] || { not_ok "kmemtop and kmem_exporter are built in $B"; finish; }

cleanup() {
    [ -n "$MNT" ] && rm -f "$MNT"/f* 2>/dev/null
    [ -d "$P" ] && find "$P" -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null
    [ -d "$P" ] && rmdir "$P" 2>/dev/null
    [ -n "$MNT" ] && umount "$MNT" 2>/dev/null
    [ -n "$T" ] && rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
T=$(tmpdir)
MNT=$T/tmpfs
mkdir "$MNT" && mount -t tmpfs -o size=64m kmem-dying "$MNT" || { not_ok "mount a tmpfs at $MNT"; finish; }

# kmem's count and the independent one (num_cgroups - live directories), read
# until they agree (5 tries); prints "kmem independent".
counts() {
    i=0
    while :; do
        k=$("$K" --cgroups --json 2>/dev/null | jq -r .cgroups.dying)
        num=$(awk '$1 == "memory" { print $3 }' /proc/cgroups)
        dirs=$(find "$M" -type d | wc -l)
        ind=$((num - dirs))
        i=$((i + 1))
        if [ "$k" = "$ind" ] || [ $i -ge 5 ]; then
            echo "$k $ind"
            return
        fi
        sleep 0.2
    done
}

# shellcheck disable=SC2046 # the fields of one line

set -- $(counts)
base=$1
check_eq "before: kmem's count equals /proc/cgroups num_cgroups - live directories" "$2" "$1"

mkdir "$P"
i=0
while [ $i -lt "$N" ]; do
    mkdir "$P/c$i"
    # A shell that moves itself into the cgroup and writes one page to the tmpfs: the
    # page stays charged to the cgroup after the shell exits.
    sh -c "echo \$\$ >'$P/c$i/cgroup.procs' && printf '%4096s' x >'$MNT/f$i'"
    i=$((i + 1))
done
charged=$(cat "$P/memory.usage_in_bytes")
check "the $N cgroups hold their pages ($charged bytes charged)" test "$charged" -ge $((N * 4096))
# shellcheck disable=SC2046 # the fields of one line
set -- $(counts)
check_eq "live: the $N new cgroups are not counted as removed" "$base" "$1"
base=$1

i=0
while [ $i -lt "$N" ]; do
    rmdir "$P/c$i"
    i=$((i + 1))
done
tries=0
while :; do
    # shellcheck disable=SC2046 # the fields of one line
    set -- $(counts)
    tries=$((tries + 1))
    [ "$1" = $((base + N)) ] || [ $tries -ge 3 ] && break
    sleep 0.5
done
echo "# removed $N charged cgroups: kmem $1, independent $2 (before: $base)"
check_eq "removed: kmem's count rose by $N" $((base + N)) "$1"
check_eq "removed: kmem's count equals /proc/cgroups num_cgroups - live directories" "$2" "$1"
dying=$1

# The exporter and --report say the same.
got=$("$E" --once 2>/dev/null | awk '$1 == "kmem_memory_cgroups_dying" { print $2 }')
check "exporter: kmem_memory_cgroups_dying is within noise of kmemtop's ($got, $dying)" \
    test "${got:-x}" -ge $((dying - 2)) -a "${got:-x}" -le $((dying + 2))
"$K" --report >"$T/report" 2>&1
got=$(awk '/^  removed, still held / { print $4; exit }' "$T/report")
check "--report: removed, still held $got (kmemtop --json $dying)" \
    test "${got:-x}" -ge $((dying - 2)) -a "${got:-x}" -le $((dying + 2))
check "--report estimates what they pin" grep -q '^  they pin about ' "$T/report"

# Free the pages: the cgroups go away (asynchronously: RCU, workqueues).
rm -f "$MNT"/f*
tries=0
while :; do
    # shellcheck disable=SC2046 # the fields of one line
    set -- $(counts)
    tries=$((tries + 1))
    [ "$1" -le $((dying - N)) ] || [ $tries -ge 20 ] && break
    sleep 0.5
done
echo "# freed the pages: kmem $1, independent $2, after $tries reads"
check "freed: kmem's count fell by $N ($dying -> $1)" test "$1" -le $((dying - N))
check_eq "freed: kmem's count equals /proc/cgroups num_cgroups - live directories" "$2" "$1"
finish
