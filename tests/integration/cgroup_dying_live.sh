#!/bin/sh
# Live test of removed ("dying") memory cgroups (root, cgroup v1): create N
# memory cgroups, charge each with a tmpfs page written from inside it, remove
# them while the pages are kept, then delete the files, which frees the pages
# and with them the cgroups. At each step kmemtop --json, kmem_exporter and
# --report must equal the kernel's count read at the same moment:
# /proc/cgroups num_cgroups minus the live directories.
#
# The count is machine-wide, and other processes make and remove cgroups
# meanwhile: no rise or fall of it is asserted here (the VM test, where
# nothing else runs, asserts the exact rise by N: tests/vm/check.py). "The
# same moment": the kernel's count is read before and after kmem's, and
# only a reading where both are equal is compared; it is read again until
# that happens (for up to 300 s, 0.3 s apart, else the test fails: never
# skipped). A machine that makes or removes cgroups without a pause longer
# than one kmem run has no such moment: each window (reading, kmem, reading)
# runs at real-time priority (chrt -f), so that a CPU hog does not stretch
# it to seconds (a kmemtop --json takes 0.3 s quiet, 1-1.5 s beside a hog on
# every core, 0.35 s at real-time priority beside the same hog). The
# priority shortens the window only; what is compared is the same.
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

# kernel: "num_cgroups live-directories listing" now; the listing (a hash
# of every directory's inode and path) tells a cgroup made and another
# removed, which the two counts alone do not.
kernel() {
    find "$M" -type d -printf '%i %p\n' | sort >"$T/dirs"
    echo "$(awk '$1 == "memory" { print $3 }' /proc/cgroups) $(wc -l <"$T/dirs") $(md5sum <"$T/dirs" | cut -c1-16)"
}
# counts WHAT: kmem's count by WHAT (json, exporter, report) between two
# equal readings of the independent one; prints "kmem independent tries
# raced", or "unstable independent tries raced" after 300 s.
counts() {
    what=$1 # ($1 is reused below for the kernel's readings)
    i=0
    stable=
    raced=0
    deadline=$(($(date +%s) + 300))
    me=$(sh -c 'echo $PPID') # this (sub)shell, whose children the window's commands are
    while [ "$(date +%s)" -lt $deadline ]; do
        i=$((i + 1))
        $rt && chrt -f -p 10 "$me"
        before=$(kernel)
        case $what in
        json)
            "$K" --cgroups --json >"$T/k.json" 2>/dev/null
            k=$(jq -r .cgroups.dying "$T/k.json")
            ;;
        exporter) k=$("$E" --once 2>/dev/null | awk '$1 == "kmem_memory_cgroups_dying" { print $2 }') ;;
        report) k=$("$K" --report 2>/dev/null | awk '/^  removed, still held / { print $4; exit }') ;;
        esac
        after=$(kernel)
        $rt && chrt -o -p 0 "$me"
        # Nothing made, removed or freed while kmem ran (a cgroup freed
        # lowers num_cgroups; only one made raises it): compare. Equal
        # readings do not prove it, though: a cgroup made, removed and freed
        # between them (a busy machine makes short-lived ones) leaves both
        # alike while kmem saw it. Such a window is read again too; a kmem
        # that is wrong is wrong in every window, and fails after 300 s.
        if [ "$before" = "$after" ]; then
            set -- $after
            stable="${k:-none} $(($1 - $2))"
            if [ "${k:-none}" = "$(($1 - $2))" ]; then
                echo "$stable $i $raced"
                return
            fi
            raced=$((raced + 1))
            # what kmem walked and skipped, for the first few of them
            if [ "$what" = json ] && [ "$raced" -le 3 ]; then
                echo "# $what window $i: kmem $k, kernel $(($1 - $2)) (num_cgroups $1, directories $2):" \
                    "$(jq -c '.cgroups | {n: (.items | length), skipped_vanished, skipped_errors, skipped_unnamed}' "$T/k.json")" >&2
            fi
        fi
        sleep 0.3
    done
    if [ -n "$stable" ]; then
        echo "$stable $i $raced"
    else
        set -- $after
        echo "unstable $(($1 - $2)) $i $raced"
    fi
}
rt=false
if command -v chrt >/dev/null && chrt -f -p 10 $$ 2>/dev/null && chrt -o -p 0 $$; then
    rt=true
else
    echo "# chrt -f is refused here: the windows run at normal priority"
fi
# same STEP WHAT: kmem (WHAT) equals the kernel's count at the same moment.
same() {
    # shellcheck disable=SC2046 # four fields
    set -- "$1" "$2" $(counts "$2")
    check_eq "$1: $2 equals /proc/cgroups num_cgroups - live directories ($4; read $5 times, $6 windows raced)" "$4" "$3"
    last=$3
}

same before json
base=$last

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
same "live" json

i=0
while [ $i -lt "$N" ]; do
    rmdir "$P/c$i"
    i=$((i + 1))
done
# Charged pages hold the removed cgroups: the kernel counts them.
same "removed" json
echo "# removed $N charged cgroups: kmem's count $base -> $last (machine-wide)"
same "removed" exporter
same "removed" report
check "--report estimates what they pin" sh -c "'$K' --report 2>/dev/null | grep -q '^  they pin about '"

# Free the pages: the cgroups go away (asynchronously: RCU, workqueues).
rm -f "$MNT"/f*
sleep 1
same "freed" json
same "freed" exporter
finish
