#!/usr/bin/env python3
# Run from the repository top: python3 tests/integration/gen_owners_fixture.py
# Writes tests/fixtures/owners-v2/kmem-owners.txt: each cgroup's own slab
# (memory.stat slab_reclaimable + slab_unreclaimable minus its children's)
# split over caches by weight, whole objects of the fixture's object sizes.
import os
root = 'tests/fixtures/owners-v2'
cgroot = root + '/sys/fs/cgroup'
objsize = {}
for line in open(root + '/proc/slabinfo').read().splitlines()[2:]:
    f = line.split()
    objsize[f[0]] = int(f[3])

def slab(path):
    st = dict(l.split() for l in open(cgroot + path + '/memory.stat'))
    return int(st['slab_reclaimable']) + int(st['slab_unreclaimable'])

def own(path):
    s = slab(path)
    d = cgroot + path
    for e in os.listdir(d):
        if os.path.isfile(os.path.join(d, e, 'memory.stat')):
            s -= slab((path.rstrip('/') + '/' + e))
    return s

P = '/kubepods.slice'
BP = P + '/kubepods-burstable.slice/kubepods-burstable-pod1b2c3d4e_5f60_4a7b_8c9d_0e1f2a3b4c5d.slice'
GP = P + '/kubepods-pod0f1e2d3c_4b5a_4968_8776_655443322110.slice'
EP = P + '/kubepods-besteffort.slice/kubepods-besteffort-poda0b1c2d3_e4f5_4607_8899_aabbccddeeff.slice'
B1 = BP + '/cri-containerd-' + 'b1' * 32 + '.scope'
B2 = BP + '/cri-containerd-' + 'b2' * 32 + '.scope'
C7 = GP + '/cri-containerd-' + 'c7' * 32 + '.scope'
E1 = EP + '/cri-containerd-' + 'e1' * 32 + '.scope'
# (id = the cgroup directory's inode number on the machine it was taken, path, [(cache, weight)])
spec = [
    (1, '/', [('dentry', 5), ('kernfs_node_cache', 3), ('kmalloc-64', 2)]),
    (1021, '/system.slice', [('inode_cache', 1)]),
    (1187, '/system.slice/containerd.service',
     [('dentry', 40), ('ext4_inode_cache', 25), ('kmalloc-192', 15), ('filp', 12), ('vm_area_struct', 8)]),
    (1203, '/system.slice/kubelet.service',
     [('dentry', 35), ('radix_tree_node', 20), ('kmalloc-1k', 16), ('filp', 12), ('anon_vma', 9), ('pid', 1)]),
    (2001, P, [('kmalloc-64', 1)]),
    (2417, B1, [('sock_inode_cache', 30), ('TCPv6', 20), ('dentry', 25), ('kmalloc-192', 13), ('filp', 12)]),
    (2418, B2, [('dentry', 70), ('kmalloc-64', 30)]),
    (2533, C7, [('shmem_inode_cache', 30), ('dentry', 28), ('radix_tree_node', 12), ('proc_inode_cache', 9),
                ('kmalloc-1k', 6), ('vm_area_struct', 5), ('task_struct', 4), ('anon_vma', 3), ('filp', 2),
                ('pid', 1)]),
    (2640, E1, [('ovl_inode', 40), ('dentry', 30), ('kmalloc-192', 20), ('filp', 10)]),
]
rows = []
for i, p, cs in spec:
    target = own(p)
    if target <= 0:
        continue
    tw = sum(w for c, w in cs)
    left = target
    for k, (c, w) in enumerate(cs):
        share = left if k == len(cs) - 1 else target * w // tw
        n = share // objsize[c]
        if n:
            rows.append((i, p, c, n))
            left -= n * objsize[c]
# a cgroup removed since the walk (no path) and objects no cgroup owns
rows += [(3999, '', 'dentry', 120), (3999, '', 'kmalloc-64', 30)]
rows += [(0, '', c, n) for c, n in [('dentry', 9000), ('radix_tree_node', 2000), ('kmalloc-64', 30000),
                                     ('kmalloc-1k', 600), ('task_struct', 200)]]
charged = sum(r[3] for r in rows if r[0])
uncharged = sum(r[3] for r in rows if not r[0])
out = ['kmem-owners 1', 'taken 1764964800.250000000', 'cpu_seconds 0.018250', 'pages 4194304',
       'slabs 61234', 'objects_charged %d' % charged, 'objects_uncharged %d' % uncharged,
       'rows %d' % len(rows)]
out += ['%d\t%d\t%d\t%s\t%s' % (i, n, n * objsize[c], c, p) for i, p, c, n in rows]
open(root + '/kmem-owners.txt', 'w').write('\n'.join(out) + '\n')
