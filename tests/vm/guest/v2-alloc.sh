#!/bin/sh
# The allocation tracer (kmemtop --alloc) on a real Debian kernel, where
# fentry/fexit load (this host refuses them): the rates mode (the memcg
# charge hook on 6.10+, else the tracepoints) and the tracker (bulk and
# kfree_rcu() paths followed), one window each around the same work: cgroup
# /a creates N files on a private tmpfs, then removes them. /proc/slabinfo
# is dumped at the same moments (tests/vm/check_alloc.py compares).
. /vmlib.sh
N=3000
mount -t cgroup2 cgroup2 $CG || fail "cannot mount cgroup2"
echo +memory >$CG/cgroup.subtree_control || fail "cannot enable memory"
mkdir $CG/a || fail "cannot make $CG/a"
mkdir -p /tmp/w
wait_tracing() { # FILE: up to 60 s for the tracer to say it is tracing
    i=0
    while ! grep -q tracing "$1" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
}
kmemtop --alloc 600 --alloc-rates --json >/tmp/rates.json 2>/tmp/rates.err &
rates=$!
wait_tracing /tmp/rates.err
kmemtop --alloc 600 --json >/tmp/track.json 2>/tmp/track.err &
track=$!
wait_tracing /tmp/track.err
log "tracers attached"
cat /proc/slabinfo >/tmp/slab0
sh -c "echo \$\$ >$CG/a/cgroup.procs && mount -t tmpfs tmpfs /tmp/w && cd /tmp/w &&
    i=0; while [ \$i -lt $N ]; do : >f\$i; i=\$((i + 1)); done; echo \$i >/tmp/created" ||
    fail "work in /a failed"
cat /proc/slabinfo >/tmp/slab1
sh -c "echo \$\$ >$CG/a/cgroup.procs && rm -f /tmp/w/* && umount /tmp/w" || fail "cleanup in /a failed"
# The frees run in RCU callbacks: a little time for them.
sleep 3
cat /proc/slabinfo >/tmp/slab2
kill -INT $rates $track
wait $rates
rr=$?
wait $track
tr=$?
log "tracers stopped ($rr, $tr)"
note "files $(cat /tmp/created 2>/dev/null) of $N"
for f in rates track; do
    begin json "tag=$f" "rc=$([ $f = rates ] && echo $rr || echo $tr)"
    cat /tmp/$f.json >&3
    end
    begin stderr "prog=$f"
    cat /tmp/$f.err >&3
    end
done
for f in slab0 slab1 slab2; do
    begin file "path=/tmp/$f"
    cat /tmp/$f >&3
    end
done
emit_file /sys/kernel/slab/shmem_inode_cache/cpu_partial
emit_file /sys/kernel/slab/dentry/cpu_partial
log "done"
