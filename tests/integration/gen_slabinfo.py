#!/usr/bin/env python3
"""Write a random but valid /proc/slabinfo (versions 2.0, 2.1, 2.1 statistics)
for seed argv[1]: repeated and look-alike names, empty caches, uneven
spacing, values whose sums stay below 2^32 (where procps 4.0.2 would wrap)."""
import random
import sys

random.seed(int(sys.argv[1]))
ver = random.choice(["2.1", "2.0", "2.1 (statistics)"])
out = ["slabinfo - version: %s" % ver,
       "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
       " : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs>"
       " <sharedavail>"]
bases = ["kmalloc-64", "dentry", "a", "B", "_x", "zz", "mlx5", "inode_cache", "TCP", "tcp",
         "Z-9", "x.y", "a_b", "aa", "A"]


def sp():
    return " " * random.randint(1, 6)


for _ in range(random.randint(0, 60)):
    name = random.choice(bases) + random.choice(["", "", "-1", "_2", "x"])
    num = random.choice([0, 1, 2, 3, 7, 100, random.randint(0, 5000), random.randint(0, 10**7),
                         random.randint(0, 6 * 10**7)])
    act = random.randint(0, num)
    objsize = random.choice([8, 16, 64, 104, 192, 1096, 4096, 8192, random.randint(1, 2**20)])
    slabs = random.randint(0, 2**20)
    fields = [name, act, num, objsize, random.randint(1, 512), random.choice([1, 2, 4, 8, 16])]
    line = sp().join(str(f) for f in fields)
    line += " : tunables" + "".join(sp() + str(random.randint(0, 120)) for _ in range(3))
    line += " : slabdata" + sp() + str(random.randint(0, slabs)) + sp() + str(slabs) + sp() + \
        str(random.randint(0, 100))
    if "statistics" in ver:
        line += " : globalstat %d 1 2 3 4 5 6 7 8 : cpustat 1 2 3 4" % random.randint(0, 9999)
    out.append(line)
print("\n".join(out))
