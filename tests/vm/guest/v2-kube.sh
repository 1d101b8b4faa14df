#!/bin/sh
# cgroup v2, memory controller enabled down the tree, a kube-like systemd tree
# (containerd burstable pod, CRI-O guaranteed pod with conmon, a service),
# kernel memory charged to chosen cgroups, and two removed ("dying") cgroups
# that still hold charges: one under system.slice, one directly under the root.
. /vmlib.sh
mount -t cgroup2 cgroup2 $CG || fail "cannot mount cgroup2"
P1=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$(echo $UID1 | tr - _).slice
P2=/kubepods.slice/kubepods-pod$(echo $UID2 | tr - _).slice
C1=$P1/cri-containerd-$CID1.scope
C2=$P2/crio-$CID2.scope
M2=$P2/crio-conmon-$CID2.scope
for c in $C1 $C2 $M2 /system.slice/foo.service /system.slice/gone.service /gone; do
    cg_mkdir $CG $c
done
kube_logs prod web-1 $UID1 nginx $CID1
kube_logs kube-system coredns-5d78c9869d-x7k2p $UID2 log-shipper $CID2
mkdir -p /tmp/c1 /tmp/gone1 /tmp/gone2

charge_in $CG$C1 c1 -f /tmp/c1:3000:0 -t 16   # slab (dentries, inodes), stacks
charge_in $CG$C2 c2 -m 512 -p 4               # page tables, stacks
charge_in $CG$M2 m2 -t 2
charge_in $CG/system.slice/foo.service foo -s 4000000 -u 200 # sockets
charge_and_remove $CG/system.slice/gone.service -f /tmp/gone1:400:4096
charge_and_remove $CG/gone -f /tmp/gone2:400:4096
log charged
sleep 2 # let the lazily flushed v2 statistics settle
sample charged $CG
dump $CG
log dumped
capture
# Free what held the removed cgroups (their files): the kernel frees them.
rm -rf /tmp/gone1 /tmp/gone2
sleep 2
sample freed $CG
