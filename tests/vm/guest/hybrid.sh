#!/bin/sh
# Hybrid: the v1 memory controller at sys/fs/cgroup/memory beside a cgroup2
# tree at sys/fs/cgroup/unified without the memory controller (systemd's
# hybrid mode), kubelet's systemd driver with docker scopes.
. /vmlib.sh
M=$CG/memory
U=$CG/unified
mount -t tmpfs cgroup $CG && mkdir -p $M $U && mount -t cgroup -o memory memory $M &&
    mount -t cgroup2 cgroup2 $U || fail "cannot mount the hybrid tree"
[ -f $M/memory.use_hierarchy ] && echo 1 >$M/memory.use_hierarchy 2>/dev/null
P1=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$(echo $UID1 | tr - _).slice
C1=$P1/docker-$CID1.scope
for c in $C1 /system.slice/foo.service /system.slice/gone.service; do
    cg_mkdir $M $c
    mkdir -p $U$c
done
kube_logs prod web-1 $UID1 nginx $CID1
mkdir -p /tmp/c1 /tmp/gone1

charge_in $M$C1 c1 -f /tmp/c1:3000:0 -t 16 -m 256
charge_in $M/system.slice/foo.service foo -s 4000000 -u 200
charge_and_remove $M/system.slice/gone.service -f /tmp/gone1:400:4096
log charged
sleep 0.5
sample charged $M
dump $M
log dumped
emit_file $U/cgroup.controllers
emit_file $U/cgroup.stat
capture
# Free what held the removed cgroups (their files): the kernel frees them.
rm -rf /tmp/gone1
sleep 2
sample freed $M
