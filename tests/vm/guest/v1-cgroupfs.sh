#!/bin/sh
# cgroup v1 memory controller alone (mounted by the scenario), kubelet's
# cgroupfs driver: kubepods/burstable/pod<uid>/<id> and kubepods/pod<uid>/<id>,
# a service, and one removed cgroup still holding charges.
. /vmlib.sh
M=$CG/memory
mount -t tmpfs cgroup $CG && mkdir -p $M && mount -t cgroup -o memory memory $M ||
    fail "cannot mount the v1 memory controller"
# What systemd does at boot; the default before 5.11 is non-hierarchical.
[ -f $M/memory.use_hierarchy ] && echo 1 >$M/memory.use_hierarchy 2>/dev/null
C1=/kubepods/burstable/pod$UID1/$CID1
C2=/kubepods/pod$UID2/$CID2
for c in $C1 $C2 /system.slice/foo.service /system.slice/gone.service; do
    cg_mkdir $M $c
done
kube_logs prod web-1 $UID1 nginx $CID1
kube_logs kube-system coredns-5d78c9869d-x7k2p $UID2 log-shipper $CID2
mkdir -p /tmp/c1 /tmp/gone1

charge_in $M$C1 c1 -f /tmp/c1:3000:0 -t 16
charge_in $M$C2 c2 -m 512 -p 4
charge_in $M/system.slice/foo.service foo -s 4000000 -u 200
charge_and_remove $M/system.slice/gone.service -f /tmp/gone1:400:4096
log charged
sleep 0.5
sample charged $M
dump $M
log dumped
capture
# Free what held the removed cgroups (their files): the kernel frees them.
rm -rf /tmp/gone1
sleep 2
sample freed $M
