#!/bin/sh
# Live cgroup v1 test (root): create memory cgroups kmem-test-PID/{a,b}, charge
# kernel memory to "a" (directories: dentries and inodes), and check that the
# reader's kernel value for /kmem-test-PID/a equals memory.kmem.usage_in_bytes
# and grew by at least the dentries created. Cleans up in a trap. The
# comparison is test_live of tests/unit/test_cgroup.c, which runs only when
# this script sets KMEM_LIVE_CGROUP (in both builds: tests/run.sh).
. "$(dirname "$0")/../lib.sh"
M=$V1
NDIRS=2000
DENTRY=192 # bytes per dentry object (slabinfo objsize); inodes come on top
T=$(test "$(id -u)" -eq 0 && tmpdir)
CG=kmem-test-$$
pid=

need_v1_kmem cgroup_live fail
if [ ! -x "$B/tests/test_cgroup" ]; then
    not_ok "missing $B/tests/test_cgroup (run make)"
    finish
fi

# Where this script's own processes live in the memory hierarchy.
ORIG=$(sed -n 's/^[0-9]*:memory:\(.*\)$/\1/p' /proc/self/cgroup)
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    # test_live_diff's own cgroups, left when it failed half-way
    rmdir "$M/$CG/a/kmem-diff-1" "$M/$CG/a/kmem-diff-2" "$M/$CG/b/kmem-diff-1" \
        "$M/$CG/b/kmem-diff-2" 2>/dev/null
    cg_remove "$M" "$ORIG" "$M/$CG/a" "$M/$CG/b" "$M/$CG"
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mkdir -p "$M/$CG/a" "$M/$CG/b"
check "created $M/$CG/{a,b}" test -f "$M/$CG/a/memory.kmem.usage_in_bytes"
base=$(cat "$M/$CG/a/memory.kmem.usage_in_bytes")

# A shell that moves itself into "a", creates the directories (its children
# inherit the cgroup), then idles so the charge is static.
sh -c "echo \$\$ >'$M/$CG/a/cgroup.procs' && cd '$T' && seq 1 $NDIRS | xargs mkdir && touch '$T/done' && exec sleep 600" &
pid=$!
i=0
while [ ! -f "$T/done" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
check "charging process finished" test -f "$T/done"
check_eq "charging process is in /$CG/a" "$pid" "$(cat "$M/$CG/a/cgroup.procs")"
sleep 0.5
after=$(cat "$M/$CG/a/memory.kmem.usage_in_bytes")
min=$((base + NDIRS * DENTRY))
echo "# /$CG/a memory.kmem.usage_in_bytes: before $base, after $NDIRS mkdirs $after (min expected $min)"
check "kernel memory charged to /$CG/a grew by >= $NDIRS dentries" test "$after" -ge "$min"

out=$(KMEM_TOP="$TOP" KMEM_LIVE_CGROUP="/$CG/a" KMEM_LIVE_MIN_BYTES="$min" \
    "$B/tests/test_cgroup" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
check_eq "reader's kernel value for /$CG/a equals memory.kmem.usage_in_bytes" 0 "$rc"
echo "$out" | grep -q "live /$CG/a: kmem" && ok "live test ran" || not_ok "live test did not run"
echo "$out" | grep -q "live diff /$CG/a: [0-9]* cgroups compared" && ok "live diff test ran (walk, known tree, merges, walk again)" ||
    not_ok "live diff test did not run"

# "b" has no tasks: the reader sees it with exactly the file's value.
out=$(KMEM_TOP="$TOP" KMEM_LIVE_CGROUP="/$CG/b" "$B/tests/test_cgroup" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
check_eq "reader's kernel value for /$CG/b equals the file" 0 "$rc"
echo "$out" | grep -q "live /$CG/b: kmem" && ok "live test ran for /$CG/b" || not_ok "live test did not run for /$CG/b"
finish
