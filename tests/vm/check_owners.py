#!/usr/bin/env python3
"""The owner snapshot against the kernel's counters, from one boot of
tests/vm/guest/v2-owners.sh.

    check_owners.py --data OUT.data --kernel LABEL

Checks (TAP-like "ok - ..." / "not ok - ..." lines, exit 1 on a failure):

- Per cgroup (every non-root cgroup whose memory.stat read the same before
  and after the walk): the walk's bytes of its subtree plus 8 bytes per
  object (the kernel charges obj_full_size() = kmem_cache->size +
  sizeof(struct obj_cgroup *) per object) equal memory.stat
  slab_reclaimable + slab_unreclaimable within the per-CPU stock of slab
  statistics: mod_objcg_state() holds, per CPU, the statistics of one
  obj_cgroup for each of the two counters until they pass PAGE_SIZE, so at
  most PAGE_SIZE + one object each (6.1, 6.12 and 7.x alike).
- Per cache: owners + not charged <= /proc/slabinfo active_objs (the larger
  of the reads before and after), and bytes = objects x slabinfo objsize.
- The scenario's objects land on the right (cgroup, cache): files -> dentry
  and shmem_inode_cache of /kmem-own/files, unix socket pairs ->
  sock_inode_cache of /kmem-own/socks, threads -> task_struct of
  /kmem-own/threads, the files of the removed /kmem-own/gone -> /kmem-own;
  at least what was made, at most made + SLACK (below).
- Kernels without struct slab (5.10): the walker's message says why.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check import Checker, parse_blocks, parse_keys  # noqa: E402

PAGE = 4096
# Objects a charge helper adds beyond what it was asked to make, in its own
# cgroup: the ready file of charge_in (-r: one dentry, one shmem inode); for
# the socket cgroup nothing else in sock_inode_cache; for threads none (the
# main thread's task_struct was allocated by fork in the root cgroup, before
# the move). 4 leaves room for what a kernel version adds per process.
SLACK = 4
# (cgroup, cache, made): made = objects the scenario made there.
PLACED = [
    ("/kmem-own/files", "dentry", 2000),
    ("/kmem-own/files", "shmem_inode_cache", 2000),
    ("/kmem-own/socks", "sock_inode_cache", 600),
    ("/kmem-own/socks", "dentry", 600),  # a socket's file has a sockfs dentry
    ("/kmem-own/threads", "task_struct", 50),
    ("/kmem-own", "dentry", 500),
    ("/kmem-own", "shmem_inode_cache", 500),
]
MIN_CGROUPS = 4  # /kmem-own and its three live children
MIN_CACHES = 40


def parse_owners(body):
    meta, rows = {}, []
    for line in body.splitlines():
        f = line.split("\t")
        if len(f) == 4:
            rows.append((int(f[0]), f[3], int(f[1]), int(f[2])))
            continue
        w = line.split()
        for i in range(0, len(w) - 1, 2):
            meta[w[i]] = w[i + 1]
    return meta, rows


def parse_slabinfo(body):
    d = {}
    for line in body.splitlines()[2:]:
        f = line.split()
        if len(f) >= 4:
            d[f[0]] = (int(f[1]), int(f[3]))  # active_objs, objsize
    return d


def ncpus(text):
    n = 0
    for part in text.strip().split(","):
        if "-" in part:
            a, b = part.split("-")
            n += int(b) - int(a) + 1
        elif part:
            n += 1
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--kernel", required=True)
    a = ap.parse_args()
    c = Checker("%s v2-owners" % a.kernel, False)
    try:
        text = open(a.data, encoding="utf-8", errors="replace").read()
    except OSError as e:
        c.ok(False, "read the guest's data", str(e))
        return 1
    blocks = parse_blocks(text)
    kinds = [k for k, _, _ in blocks]
    c.ok("done" in kinds, "the scenario ran to its end")
    for k, at, body in blocks:
        if k == "note" and body.startswith("error:"):
            c.ok(False, "guest: " + body.strip())
    one = {k: (at, body) for k, at, body in blocks if k in ("owners", "ids", "cpus", "cost",
                                                             "json")}
    one.update({"stderr": (at, body) for k, at, body in blocks
                if k == "stderr" and at.get("prog") == "ownwalk_dump"})
    if not c.ok("owners" in one, "the walk ran"):
        return 1
    oat, obody = one["owners"]
    err = one.get("stderr", ({}, ""))[1].strip()
    if a.kernel.startswith("5."):
        # No struct slab before 5.17: the walker must say so, plainly.
        c.ok(oat.get("rc") == "1" and ("needs Linux 5.17" in err or "needs the kernel's BTF" in err),
             "the walker refuses this kernel and says why", err)
        return 1 if c.failed else 0
    if not c.ok(oat.get("rc") == "0", "ownwalk_dump exit status 0", err):
        return 1
    c.ok(oat.get("stable") == "yes", "memory.stat read the same around the walk",
         "tries %s" % oat.get("tries"))
    meta, rows = parse_owners(obody)
    c.note("walk: method %s, %s page frames, %s slabs (%s with an owner vector, %s of them "
           "inside the objects), layout %s, maps preallocated %s, %d rows" % (
               meta.get("method"), meta.get("pages"), meta.get("slabs"), meta.get("vec_slabs"),
               meta.get("inobj_slabs"), meta.get("layout"), meta.get("maps_prealloc"), len(rows)))
    # The pairing method (kernels without data symbols) finds the same array.
    if meta.get("method") == "kallsyms":
        c.eq("the page array found by pairing = vmemmap_base from kallsyms", meta.get("vmemmap"),
             meta.get("pairing", "error: " + obody.split("pairing_error", 1)[-1].split("\n")[0]))
    # A wrong stride or offset reads entries that are no kernel pointers.
    c.eq("owner vector entries that are no kernel pointer", "0", meta.get("bad_objcg"))
    c.eq("objects lost to a full BPF map", "0", meta.get("map_full"))
    ids = {}
    for line in one.get("ids", ({}, ""))[1].splitlines():
        f = line.split(None, 1)
        if len(f) == 2:
            ids[int(f[0])] = f[1]
    cpus = ncpus(one.get("cpus", ({}, "1"))[1])
    keys = {at.get("when"): parse_keys(body) for k, at, body in blocks
            if k == "keys" and at.get("tag") == "owners"}
    before, after = keys.get("before", {}), keys.get("after", {})
    si = {at.get("when"): parse_slabinfo(body) for k, at, body in blocks if k == "slabinfo"}

    # Rows per path (ids unknown to the guest's list: a cgroup removed since).
    unknown = {r[0] for r in rows if r[0] and r[0] not in ids}
    c.ok(not unknown or unknown == {1}, "every owner is a cgroup of the tree",
         "ids %s" % sorted(unknown))
    by_path = {}
    for cg, cache, objs, nbytes in rows:
        p = ids.get(cg, "/" if cg == 0 else "?%d" % cg)
        by_path.setdefault(p, []).append((cache, objs, nbytes))

    # 1. Per cgroup: subtree sum vs memory.stat slab.
    compared = 0
    for p in sorted(set(ids.values())):
        if p == "/":
            continue
        ks = [(p, "memory.stat", "slab_reclaimable"), (p, "memory.stat", "slab_unreclaimable")]
        if any(k not in before or before.get(k) != after.get(k) for k in ks):
            c.note("%s: memory.stat slab moved during the walk, not compared" % p)
            continue
        kernel = sum(before[k] for k in ks)
        sub = [r for q, rs in by_path.items() if q == p or q.startswith(p + "/") for r in rs]
        walk = sum(nb + 8 * o for _, o, nb in sub)
        biggest = max([nb // o + 8 for _, o, nb in sub if o] or [0])
        tol = cpus * 2 * (PAGE + biggest)
        c.ok(abs(walk - kernel) <= tol,
             "%s: walk %d B (+8 B an object) = memory.stat slab %d B within %d B "
             "(%d CPU(s) x 2 x (PAGE_SIZE + largest object))" % (p, walk, kernel, tol, cpus),
             "differ by %d" % (walk - kernel))
        compared += 1
    c.ok(compared >= MIN_CGROUPS, "compared >= %d cgroups with memory.stat" % MIN_CGROUPS,
         "compared %d" % compared)

    # 2. Per cache: against /proc/slabinfo.
    per_cache = {}
    for cg, cache, objs, nbytes in rows:
        t = per_cache.setdefault(cache, [0, 0])
        t[0] += objs
        t[1] += nbytes
    sb, sa = si.get("before", {}), si.get("after", {})
    n = 0
    for cache, (objs, nbytes) in sorted(per_cache.items()):
        if cache not in sb or cache not in sa:
            c.ok(False, "cache %s is in /proc/slabinfo" % cache)
            continue
        active = max(sb[cache][0], sa[cache][0])
        size = sb[cache][1]
        c.ok(objs <= active and nbytes == objs * size,
             "%s: owners + not charged %d <= slabinfo active_objs %d, bytes = objects x "
             "objsize %d" % (cache, objs, active, size), "bytes %d" % nbytes)
        n += 1
    c.ok(n >= MIN_CACHES, "compared >= %d caches with /proc/slabinfo" % MIN_CACHES,
         "compared %d" % n)

    # 3. The scenario's objects on the right (cgroup, cache).
    made = {}
    for line in [b for k, _, b in blocks if k == "made"][0:1] or [""]:
        for ln in line.splitlines():
            f = ln.split()
            if len(f) == 3:
                made[(f[0], f[1])] = int(f[2])
    c.ok(len(made) == 4, "the scenario says what it made", str(made))
    for p, cache, want in PLACED:
        got = sum(o for cc, o, _ in by_path.get(p, []) if cc == cache)
        c.ok(want <= got <= want + SLACK, "%s %s: %d objects, made %d (slack %d)" % (
            p, cache, got, want, SLACK))
    # The same objects are nowhere else: not in the sibling cgroups.
    placed = {(p, cache) for p, cache, _ in PLACED}
    for p, cache, want in PLACED:
        for q in ("/kmem-own/files", "/kmem-own/socks", "/kmem-own/threads"):
            if q == p or (q, cache) in placed:
                continue
            got = sum(o for cc, o, _ in by_path.get(q, []) if cc == cache)
            c.ok(got <= SLACK, "%s %s: %d objects (the scenario made them in %s)" % (
                q, cache, got, p))

    # 4. The same through kmemtop --cgroups --by-cache --json (a second walk,
    # named by path): per cgroup against memory.stat, and the placements.
    jat, jbody = one.get("json", ({}, ""))
    try:
        own = json.loads(jbody).get("owners") or {}
    except ValueError as e:
        own = {}
        c.ok(False, "kmemtop --cgroups --by-cache --json is valid JSON", str(e))
    if c.ok(jat.get("rc") == "0" and own.get("status", {}).get("ok") is True,
            "kmemtop --cgroups --by-cache --json: exit 0, owners part read",
            "rc %s, %s" % (jat.get("rc"), own.get("status"))):
        jcg = {g.get("path"): g for g in own.get("cgroups", [])}
        n = 0
        for p in sorted(set(ids.values()) - {"/"}):
            ks = [(p, "memory.stat", "slab_reclaimable"),
                  (p, "memory.stat", "slab_unreclaimable")]
            if any(k not in before or before.get(k) != after.get(k) for k in ks):
                continue
            kernel = sum(before[k] for k in ks)
            sub = [g for q, g in jcg.items() if q == p or (q or "").startswith(p + "/")]
            walk = sum(g["bytes"] + 8 * g["objects"] for g in sub)
            biggest = max([cc["bytes"] // cc["objects"] + 8 for g in sub for cc in g["caches"]
                           if cc["objects"]] or [0])
            tol = cpus * 2 * (PAGE + biggest)
            c.ok(abs(walk - kernel) <= tol, "json %s: bytes (+8 B an object) = memory.stat slab "
                 "%d B within %d B" % (p, kernel, tol), "json %d" % walk)
            n += 1
        c.ok(n >= MIN_CGROUPS, "json: compared >= %d cgroups with memory.stat" % MIN_CGROUPS,
             "compared %d" % n)
        for p, cache, want in PLACED:
            got = sum(cc["objects"] for cc in jcg.get(p, {}).get("caches", [])
                      if cc["cache"] == cache)
            c.ok(want <= got <= want + SLACK, "json %s %s: %d objects, made %d (slack %d)" % (
                p, cache, got, want, SLACK))

    # The cost, for the record (no assertion on time: that is make bench).
    cost = [ln.split() for ln in one.get("cost", ({}, ""))[1].splitlines() if ln.startswith("walk")]
    if cost:
        secs = sorted(float(w[3]) for w in cost)
        pages = int(cost[0][5])
        objs = sum(o for _, _, o, _ in rows)
        c.note("cost: median %.4f s CPU a walk (TCG) over %d page frames (%.2f GiB), "
               "%d objects" % (secs[len(secs) // 2], pages, pages * PAGE / 2**30, objs))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
