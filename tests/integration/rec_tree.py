#!/usr/bin/env python3
"""Change a --root tree between two recorder samples (tests/integration/recorder*.sh).

  rec_tree.py TREE slab NAME SLABS          add SLABS slabs (objects and active objects
                                            grow with them) to cache NAME in proc/slabinfo
  rec_tree.py TREE meminfo KEY KB           add KB to KEY in proc/meminfo (and to Slab for
                                            SReclaimable / SUnreclaim)
  rec_tree.py TREE cgstat CGROUP KEY BYTES  add BYTES to KEY in CGROUP/memory.stat (v2; and
                                            to "kernel" and "slab" for the slab parts)
  rec_tree.py TREE cgset CGROUP FILE TEXT   write TEXT into CGROUP/FILE
  rec_tree.py TREE dying N                  set the root's nr_dying_descendants to N

Every change is written with a rename, as the kernel's files change at once.
"""
import os
import re
import sys


def rewrite(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def slab(tree, name, slabs):
    p = os.path.join(tree, "proc/slabinfo")
    out = []
    found = False
    for line in open(p).read().splitlines(True):
        f = line.split()
        if f and f[0] == name:
            found = True
            perslab = int(f[4])
            active, num = int(f[1]), int(f[2])
            num_slabs = int(f[14])
            f[1] = str(active + slabs * perslab)
            f[2] = str(num + slabs * perslab)
            f[13] = str(int(f[13]) + slabs)
            f[14] = str(num_slabs + slabs)
            line = "%-17s %6s %6s %6s %4s %4s : tunables %4s %4s %4s : slabdata %6s %6s %6s\n" % (
                f[0], f[1], f[2], f[3], f[4], f[5], f[8], f[9], f[10], f[13], f[14], f[15])
        out.append(line)
    if not found:
        sys.exit("no cache %s in %s" % (name, p))
    rewrite(p, "".join(out))


def meminfo(tree, key, kb):
    p = os.path.join(tree, "proc/meminfo")
    text = open(p).read()
    keys = [key] + (["Slab"] if key in ("SReclaimable", "SUnreclaim") else [])
    for k in keys:
        m = re.search(r"^%s:\s+(\d+) kB$" % re.escape(k), text, re.M)
        if not m:
            sys.exit("no %s in %s" % (k, p))
        text = text[:m.start(1)] + str(int(m.group(1)) + kb) + text[m.end(1):]
    rewrite(p, text)


def cgstat(tree, cg, key, nbytes):
    p = os.path.join(tree, "sys/fs/cgroup", cg.strip("/"), "memory.stat")
    text = open(p).read()
    keys = [key]
    if key in ("slab_reclaimable", "slab_unreclaimable"):
        keys += ["slab", "kernel"]
    elif key in ("kernel_stack", "pagetables", "percpu", "vmalloc"):
        keys += ["kernel"]
    for k in keys:
        m = re.search(r"^%s (\d+)$" % re.escape(k), text, re.M)
        if not m:
            sys.exit("no %s in %s" % (k, p))
        text = text[:m.start(1)] + str(int(m.group(1)) + nbytes) + text[m.end(1):]
    rewrite(p, text)


def cgset(tree, cg, name, text):
    rewrite(os.path.join(tree, "sys/fs/cgroup", cg.strip("/"), name), text.replace("\\n", "\n"))


def dying(tree, n):
    p = os.path.join(tree, "sys/fs/cgroup/cgroup.stat")
    text = re.sub(r"^nr_dying_descendants \d+$", "nr_dying_descendants %d" % n,
                  open(p).read(), flags=re.M)
    rewrite(p, text)


def main():
    tree, op, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if op == "slab":
        slab(tree, args[0], int(args[1]))
    elif op == "meminfo":
        meminfo(tree, args[0], int(args[1]))
    elif op == "cgstat":
        cgstat(tree, args[0], args[1], int(args[2]))
    elif op == "cgset":
        cgset(tree, args[0], args[1], args[2])
    elif op == "dying":
        dying(tree, int(args[0]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
