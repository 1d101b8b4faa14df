#!/bin/sh
# The recorder on this machine (v1 memory cgroups at /sys/fs/cgroup/memory):
# a cgroup of ours creates tmpfs files (inodes and dentries charged to it)
# while kmemtop --record -d 1 runs; the replay sees the cgroup and its
# growth, also after the cgroup is removed, and the first and last samples
# hold the kernel's own counter as the kernel wrote it.
. "$(dirname "$0")/../lib.sh"
need_v1_kmem recorder_live skip

K="$B/kmemtop"
T=$(tmpdir)
CGROOT=$V1
NAME="kmem-recorder-$$"
CG="$CGROOT/$NAME"
RECPID=""
cleanup() {
    [ -n "$RECPID" ] && kill "$RECPID" 2>/dev/null
    umount "$T/fs" 2>/dev/null
    [ -d "$CG" ] && rmdir "$CG" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
mkdir "$T/tmp"
export TMPDIR="$T/tmp"
mkdir "$CG" "$T/fs"
mount -t tmpfs -o size=64m "kmem-rec-$$" "$T/fs"
"$K" --record "$T/rec" -d 1 --quiet &
RECPID=$!
rec_wait "$T/rec" 2 300
# 4000 files from a shell inside our cgroup: their inodes and dentries are charged to it
sh -c "echo \$\$ > '$CG/cgroup.procs' && i=0 && while [ \$i -lt 4000 ]; do : > '$T/fs/f'\$i; i=\$((i + 1)); done"
rec_wait "$T/rec" $(($(rec_samples "$T/rec") + 2)) 300
kill -INT "$RECPID"
wait "$RECPID"
check_eq "the recorder stops on SIGINT with status 0" 0 $?
RECPID=""
rmdir "$CG"
"$K" --replay "$T/rec" --list >"$T/list"
first=$(head -1 "$T/list" | cut -c1-19)
last=$(tail -1 "$T/list" | cut -c1-19)
kb() { "$K" --replay "$T/rec" --at "$1" --json | jq --arg p "/$NAME" '.cgroups.items[] | select(.path == $p) | .kernel_bytes'; }
k0=$(kb "$first")
k1=$(kb "$last")
check "the removed cgroup is still in the replay of the last sample" test -n "$k1"
check "its kernel memory grew by at least 1 MiB (4000 inodes and dentries): $k0 -> $k1" \
    test "$((k1 - ${k0:-0}))" -ge 1048576
check_eq "the replay shows it after it was removed" "" "$(ls -d "$CG" 2>/dev/null)"
"$K" --replay "$T/rec" --at "$last" --cgroups -o >"$T/cg.txt"
check "the --cgroups -o table of the replay lists it" grep -q "$NAME" "$T/cg.txt"
# v1 OOM counter recorded beside each cgroup (memory.oom_control), here 0
"$K" --replay "$T/rec" --diff "$first" "$last" --json >"$T/d.json"
check_eq "--diff of the first and last samples shows its growth" "$((k1 - ${k0:-0}))" \
    "$(jq --arg p "/$NAME" '.cgroups[] | select(.cgroup == $p) | .change_bytes' "$T/d.json")"
check_eq "nothing written out is left behind" 0 "$(find "$T/tmp" -mindepth 1 | wc -l)"
finish
