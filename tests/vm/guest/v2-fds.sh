#!/bin/sh
# cgroup v2: what libkmem's kept cgroup fds rest on (a kept memory.stat fd of
# a removed cgroup reads ENODEV; the root's nr_descendants drops at once),
# its reuse of the known tree seeing every change (tests/vm/cgfds.c), and the
# cost of a collection against the open+read+close floor at 1000 cgroups
# (bench/cgroups_bench.c; 5000 too when the kernel command line says
# kmem.bench=5000). Prints TAP lines in a "tap" block.
. /vmlib.sh
mount -t cgroup2 cgroup2 $CG || fail "cannot mount cgroup2"
echo +memory >$CG/cgroup.subtree_control || fail "cannot enable memory"
begin tap
/kmem/cgfds enodev $CG >&3 2>&1
/kmem/cgfds track $CG 200 >&3 2>&1
end
cleanup() { # remove kmemfds and bench trees
    for d in $CG/kmemfds $CG/kmem-bench; do
        [ -d $d ] || continue
        find $d -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null
        rmdir $d 2>/dev/null
    done
}
cleanup
log tracked
# Room for the benchmark's own fds (one per cgroup) beside kmem's.
# shellcheck disable=SC3045 # busybox sh has ulimit -n
ulimit -n 65536
sizes=1000
case " $(cat /proc/cmdline) " in *" kmem.bench=5000 "*) sizes="1000 5000" ;; esac
for n in $sizes; do
    mkdir $CG/kmem-bench && echo +memory >$CG/kmem-bench/cgroup.subtree_control
    g=0
    made=0
    while [ $made -lt $n ]; do
        mkdir $CG/kmem-bench/g$g && echo +memory >$CG/kmem-bench/g$g/cgroup.subtree_control
        made=$((made + 1))
        c=0
        while [ $c -lt 99 ] && [ $made -lt $n ]; do
            mkdir $CG/kmem-bench/g$g/c$c
            made=$((made + 1))
            c=$((c + 1))
        done
        g=$((g + 1))
    done
    log "bench: $n cgroups made"
    begin bench "cgroups=$n"
    /kmem/cgroups_bench / 5 >&3 2>&1
    /kmem/cgroups_bench / 5 rss | grep rss_kib >&3 2>&1
    end
    cleanup
done
log "done"
