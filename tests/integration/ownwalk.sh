#!/bin/sh
# The owner walker (src/lib/ownwalk.c) live on this machine, through
# build/tests/ownwalk_dump: a private memory cgroup (v2, or v1 on hybrid
# hosts) creates 2000 empty files in a private tmpfs; the walk must put
# 2000..2004 dentry and shmem_inode_cache objects on that cgroup's id (the
# inode of its directory; +1 each for the directory's own entry slack, +3 for
# what a kernel adds per process), and every row's bytes must be objects x
# the cache's slabinfo objsize. Skipped, with the walker's own reason, where
# it cannot run (not root, no BPF, a kernel it refuses).
# The numbers against memory.stat and slabinfo: tests/vm/check_owners.py.
. "$(dirname "$0")/../lib.sh"
D=$B/tests/ownwalk_dump
N=2000
SLACK=4
[ -x "$D" ] || { ok "owner walk # SKIP no $D (kmem built without BPF)"; finish; }
[ "$(id -u)" = 0 ] || { ok "owner walk # SKIP needs root"; finish; }
if [ -f /sys/fs/cgroup/cgroup.controllers ] &&
    grep -qw memory /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
    MEM=/sys/fs/cgroup
elif [ -d /sys/fs/cgroup/memory ]; then
    MEM=/sys/fs/cgroup/memory
else
    ok "owner walk # SKIP no memory cgroup hierarchy here"
    finish
fi
T=$(tmpdir)
CGD=$MEM/kmem-test-ownwalk-$$
cleanup() {
    rm -f "$T"/mnt/f* 2>/dev/null
    umount "$T/mnt" 2>/dev/null
    rmdir "$CGD" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
mkdir "$T/mnt" "$CGD" && mount -t tmpfs -o size=8m kmem-test-ownwalk "$T/mnt" || {
    not_ok "make the cgroup $CGD and a tmpfs"
    finish
}
# The files, made by a shell that moved itself into the cgroup (no fork per file).
sh -c 'echo $$ >"$1/cgroup.procs" && i=0 && while [ $i -lt "$3" ]; do : >"$2/f$i"; i=$((i + 1)); done' \
    sh "$CGD" "$T/mnt" "$N"
check_eq "the scenario made $N files" "$N" "$(find "$T/mnt" -name 'f*' | wc -l)"
id=$(stat -c %i "$CGD")
cat /proc/slabinfo >"$T/slabinfo"
if ! "$D" >"$T/out" 2>"$T/err"; then
    why=$(tail -1 "$T/err")
    case $why in
    *"cannot"* | *"refused"* | *"needs"* | *"lists no data symbols"*)
        ok "owner walk # SKIP the walker cannot run here and says why: $why"
        ;;
    *) not_ok "owner walk: failed without a plain reason: $why" ;;
    esac
    finish
fi
echo "# $(head -2 "$T/out" | tr '\n' ' ')"
# walk_checks ROWS WHO: in a walk's rows, the test cgroup's id owns N..N+SLACK
# objects of each cache the scenario fills, and every row's bytes = objects x
# the cache's /proc/slabinfo objsize (at least 40 rows).
walk_checks() {
    for c in dentry shmem_inode_cache; do
        n=$(awk -F'\t' -v id="$id" -v c="$c" 'NF == 4 && $1 == id && $4 == c { s += $2 } END { print s + 0 }' "$1")
        check "$2: cgroup $id ($CGD) owns $N..$((N + SLACK)) $c objects: $n" \
            test "$n" -ge "$N" -a "$n" -le $((N + SLACK))
    done
    bad=$(awk 'NR == FNR { if (FNR > 2) size[$1] = $4; next }
        FNR > 2 && NF == 4 { n++; if (!($4 in size) || $3 != $2 * size[$4]) { print $4; exit } }
        END { if (n < 40) print "only " n " rows" }' "$T/slabinfo" FS='\t' "$1")
    check "$2: every row's bytes = objects x /proc/slabinfo objsize (>= 40 rows)${bad:+: $bad}" \
        test -z "$bad"
}
walk_checks "$T/out" "in process"

# The same walk taken in a child process (kmem_owners_live_isolated, as the
# recorder takes it): the rows come back through a pipe, so they must be the
# in-process walk's: the same page frames, the test cgroup's objects on its
# id, and every row's bytes = objects x objsize.
if ! "$D" -i >"$T/iso" 2>"$T/isoerr"; then
    not_ok "the walk in a child process: $(tail -1 "$T/isoerr")"
    finish
fi
check_eq "the walk in a child process says so" "method isolated" "$(head -1 "$T/iso")"
pages() { awk '$1 == "pages" { print $2 }' "$1"; }
check_eq "the child process walked the same page frames" "$(pages "$T/out")" "$(pages "$T/iso")"
walk_checks "$T/iso" "child process"
rows_in=$(awk -F'\t' 'NF == 4' "$T/out" | wc -l) rows_iso=$(awk -F'\t' 'NF == 4' "$T/iso" | wc -l)
check "child process: as many rows as in process, within 10% ($rows_iso, $rows_in)" \
    test $((rows_iso * 10)) -ge $((rows_in * 9)) -a $((rows_iso * 10)) -le $((rows_in * 11))
finish
