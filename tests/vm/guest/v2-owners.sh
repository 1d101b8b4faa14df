#!/bin/sh
# cgroup v2: the owner snapshot (the BPF walker of src/lib/ownwalk.c, run by
# /kmem/ownwalk_dump) against the kernel's own counters. Three cgroups under
# /kmem-own charge known slab objects: 2000 empty tmpfs files (dentry,
# shmem_inode_cache), 300 unix socket pairs (sock_inode_cache), 50 threads
# (task_struct); /kmem-own/gone charges 500 files and is removed (a dying
# cgroup: its objects now belong to /kmem-own). Then, until two reads of the
# kernel's values around the walk agree (v2 memory.stat is flushed lazily):
# memory.stat of every cgroup, the walk (with /proc/slabinfo read around it by
# the walker's process, its own objects included), kmemtop --cgroups
# --by-cache --json (a second walk, through the front end), memory.stat again.
# tests/vm/check_owners.py compares them. Also: the page array found by
# pairing (as where kallsyms lists no data symbols) against kallsyms' one, and
# the walk's cost (5 walks).
. /vmlib.sh
mount -t cgroup2 cgroup2 $CG || fail "cannot mount cgroup2"
cg_mkdir $CG /kmem-own/files
cg_mkdir $CG /kmem-own/socks
cg_mkdir $CG /kmem-own/threads
cg_mkdir $CG /kmem-own/gone
mkdir -p /tmp/own-files /tmp/own-gone
charge_in $CG/kmem-own/files files -f /tmp/own-files:2000:0
charge_in $CG/kmem-own/socks socks -u 300
charge_in $CG/kmem-own/threads threads -t 50
charge_and_remove $CG/kmem-own/gone -f /tmp/own-gone:500:0
begin made
{
    echo "/kmem-own/files files 2000"
    echo "/kmem-own/socks unix_pairs 300"
    echo "/kmem-own/threads threads 50"
    echo "/kmem-own gone_files 500"
} >&3
end
log charged
# id -> path: the kernfs id of a cgroup is the inode number of its directory.
ids() {
    find $CG -type d | while read -r d; do
        rel=${d#"$CG"}
        echo "$(stat -c %i "$d") ${rel:-/}"
    done
}
sleep 3
try=0
stable=no
while [ $try -lt 6 ]; do
    try=$((try + 1))
    keys $CG >/tmp/k1
    rm -f /tmp/si.before /tmp/si.after
    ownwalk_dump -p -s /tmp/si >/tmp/own 2>/tmp/own.err
    orc=$?
    # The same through kmemtop (the front ends' walker, ids named by path).
    kmemtop --cgroups --by-cache --json >/tmp/ownjson 2>/tmp/ownjson.err
    jrc=$?
    keys $CG >/tmp/k2
    if cmp -s /tmp/k1 /tmp/k2; then
        stable=yes
        break
    fi
    sleep 1
done
log "walk: $try tries, stable=$stable, rc=$orc"
begin keys tag=owners when=before
cat /tmp/k1 >&3
end
begin slabinfo when=before
cat /tmp/si.before >&3 2>/dev/null
end
begin owners "rc=$orc" "tries=$try" "stable=$stable"
cat /tmp/own >&3
end
begin stderr prog=ownwalk_dump
cat /tmp/own.err >&3
end
begin slabinfo when=after
cat /tmp/si.after >&3 2>/dev/null
end
begin keys tag=owners when=after
cat /tmp/k2 >&3
end
begin json tag=owners "rc=$jrc"
cat /tmp/ownjson >&3
end
begin stderr prog=kmemtop
cat /tmp/ownjson.err >&3
end
begin ids
ids >&3
end
begin cpus
cat /sys/devices/system/cpu/possible >&3
end
# The cost: five walks in a row (the CPU of each on stderr).
if [ "$orc" = 0 ]; then
    ownwalk_dump -n 5 >/dev/null 2>/tmp/cost
    begin cost
    cat /tmp/cost >&3
    end
fi
log "done"
