#!/bin/sh
# The owner snapshot on this machine (root): a memory cgroup made here,
# kmem-ownui-PID/a, charged with N directories (dentries), must show up
# under its own path, named through its directory's inode number (the id the
# walker reports), in kmemtop --cgroups --by-cache --json and in
# kmem_exporter --collector.owners, with at least N and at most N + slack
# dentry objects; its empty sibling "b" holds (almost) none. Where the walker
# cannot run here, every front end must say why in one line instead.
. "$(dirname "$0")/../lib.sh"
K="$B/kmemtop"
E="$B/kmem_exporter"
N=3000
SLACK=300 # dentries the shell, xargs and mkdir make for themselves
T=$(test "$(id -u)" -eq 0 && tmpdir)
CG=kmem-ownui-$$
pid=

need_root owners_live
command -v jq >/dev/null || { not_ok "jq is installed (make deps)"; finish; }
# The memory hierarchy kmem reads: v1 (hybrid) or the unified tree.
if [ -f /sys/fs/cgroup/memory/memory.kmem.usage_in_bytes ]; then
    M=/sys/fs/cgroup/memory
    ORIG=$(sed -n 's/^[0-9]*:memory:\(.*\)$/\1/p' /proc/self/cgroup)
elif grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
    M=/sys/fs/cgroup
    ORIG=$(sed -n 's/^0::\(.*\)$/\1/p' /proc/self/cgroup)
    grep -qw memory "$M/cgroup.subtree_control" || echo +memory >"$M/cgroup.subtree_control"
else
    not_ok "no memory cgroup hierarchy here"
    finish
fi
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    cg_remove "$M" "$ORIG" "$M/$CG/a" "$M/$CG/b" "$M/$CG"
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Can the owner snapshot be taken here at all?
if ! "$K" --cgroups --by-cache -o >"$T/probe" 2>"$T/err"; then
    check_eq "no owner snapshot here: one line saying why" 1 "$(wc -l <"$T/err")"
    echo "# $(cat "$T/err")"
    "$E" --once --collector.owners >"$T/m" 2>"$T/elog"
    check "... the exporter: kmem_collector_success{collector=\"owners\"} 0" \
        grep -q '^kmem_collector_success{collector="owners"} 0$' "$T/m"
    finish
fi

mkdir -p "$M/$CG/a" "$M/$CG/b"
ida=$(stat -c %i "$M/$CG/a")
mkdir "$T/d"
sh -c "echo \$\$ >'$M/$CG/a/cgroup.procs' && cd '$T/d' && seq 1 $N | xargs mkdir && touch '$T/done' && exec sleep 600" &
pid=$!
i=0
while [ ! -f "$T/done" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
check "charging process finished" test -f "$T/done"

"$K" --cgroups --by-cache --json >"$T/j" 2>"$T/err"
check_eq "--by-cache --json: owners read" true "$(jq -r .owners.status.ok "$T/j")"
check_eq "/$CG/a: named by its directory's inode number ($ida)" "$ida" \
    "$(jq -r --arg p "/$CG/a" '.owners.cgroups[] | select(.path == $p) | .cgroup_id' "$T/j")"
got=$(jq -r --arg p "/$CG/a" '[.owners.cgroups[] | select(.path == $p) | .caches[] | select(.cache == "dentry") | .objects] | add // 0' "$T/j")
echo "# /$CG/a: $got dentry objects after $N mkdirs"
check "/$CG/a: at least $N dentries ($got)" test "$got" -ge "$N"
check "/$CG/a: at most $N + $SLACK dentries ($got)" test "$got" -le $((N + SLACK))
gotb=$(jq -r --arg p "/$CG/b" '[.owners.cgroups[] | select(.path == $p) | .bytes] | add // 0' "$T/j")
check "/$CG/b (no task): at most 64 KiB ($gotb B)" test "$gotb" -le 65536
check_eq "per cgroup, bytes = the sum of its caches" "" \
    "$(jq -r '.owners.cgroups[] | select(.bytes != ([.caches[].bytes] | add)) | .cgroup_id' "$T/j")"

# The table names the same cgroup, the exporter labels it.
"$K" --cgroups --by-cache -o >"$T/o"
check "--by-cache -o: a dentry row of /$CG/a" grep -q " dentry  *(/$CG/a)\$\| dentry  */$CG/a\$" "$T/o"
"$E" --once --collector.owners >"$T/m" 2>"$T/elog"
v=$(sed -n "s|^kmem_cgroup_slab_bytes{cgroup=\"/$CG/a\",cache=\"dentry\",namespace=\"\",pod=\"\",container=\"\"} \\([0-9]*\\)\$|\\1|p" "$T/m")
echo "# exporter: /$CG/a dentry $v bytes"
check "exporter: /$CG/a dentry >= $N x 192 bytes" test "${v:-0}" -ge $((N * 192))
finish
