#!/usr/bin/env python3
"""Host side of guest/v2-alloc.sh: kmemtop --alloc on a Debian kernel.

    check_alloc.py --data OUT.data --kernel LABEL

Cgroup /a created N files on a private tmpfs and removed them, inside one
window of the rates mode and one trace of the tracker. Checks, with upper
bounds as well as lower ones:
  - both ran (Linux 6.1+; before, the message says why and nothing else);
  - the tracker loaded its fentry/fexit programs (bulk and kfree_rcu paths);
  - /a allocated N..N+SLACK dentries and tmpfs inodes, in both modes;
  - per cache, the tracker's net over every cgroup (allocations - frees,
    frees of older objects included) equals /proc/slabinfo's change of
    active objects between the reads that bracket the work, within SLUB's
    per-CPU slabs: a free counted twice (kfree_rcu seen by fentry and again
    at the real free) would make the tracker's net fall short of it.
"""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check import Checker, parse_blocks  # noqa: E402

N = 3000
SLACK = 50  # the shell's own lookups, the tmpfs root, the marker file


def slabinfo(body):
    """{cache: (active, objperslab)}"""
    d = {}
    for line in body.splitlines():
        f = line.split()
        if len(f) > 5 and not line.startswith(("slabinfo", "#")) and f[1].isdigit():
            d[f[0]] = (int(f[1]), int(f[4]))
    return d


def mine(doc, cgroup, cache, key):
    return sum(e[key] for e in doc["entries"] if e["cgroup"] == cgroup and e["cache"] == cache)


def machine_net(doc, cache):
    return (sum(e["allocs"] - e["frees"] for e in doc["entries"] if e["cache"] == cache)
            - sum(e["frees"] for e in doc.get("untracked_frees", []) if e["cache"] == cache))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--kernel", required=True)
    a = ap.parse_args()
    c = Checker("%s v2-alloc" % a.kernel, False)
    try:
        text = open(a.data, encoding="utf-8", errors="replace").read()
    except OSError as e:
        c.ok(False, "read the guest's data", str(e))
        return 1
    blocks = parse_blocks(text)
    c.ok(any(k == "done" for k, _, _ in blocks), "the scenario ran to its end")
    for k, at, body in blocks:
        if k == "note" and body.startswith("error:"):
            c.ok(False, "guest: " + body.strip())
    c.ok(any(k == "note" and body.strip() == "files %d of %d" % (N, N) for k, _, body in blocks),
         "guest: /a created its %d files" % N)
    js = {at.get("tag"): (at.get("rc"), body) for k, at, body in blocks if k == "json"}
    errs = {at.get("prog"): body.strip() for k, at, body in blocks if k == "stderr"}
    files = {at["path"]: body for k, at, body in blocks if k == "file"}
    m = re.match(r"(\d+)\.(\d+)", a.kernel)
    if m and (int(m.group(1)), int(m.group(2))) < (6, 1):
        for tag in ("rates", "track"):
            c.ok(js.get(tag, ("0",))[0] not in ("0", None), "%s: refused before 6.1" % tag)
            c.ok("Linux 6.1 or later" in errs.get(tag, ""), "%s: says it needs 6.1" % tag,
                 errs.get(tag, ""))
        return 1 if c.failed else 0
    docs = {}
    for tag in ("rates", "track"):
        rc, body = js.get(tag, (None, ""))
        c.ok(rc == "0", "%s: kmemtop --alloc exit status 0" % tag, errs.get(tag, ""))
        try:
            docs[tag] = json.loads(body)
        except ValueError as e:
            c.ok(False, "%s: valid JSON" % tag, str(e))
            return 1
    r, t = docs["rates"], docs["track"]
    c.note("rates: %s; tracker: bulk_traced=%s kfree_named=%s events=%d missed=%d lost=%d" % (
        "memcg charge hook" if r.get("charged_only") else "tracepoints", t.get("bulk_traced"),
        t.get("kfree_named"), t["events"], t["events_missed"], t["events_lost"]))
    for tag, d in (("rates", r), ("track", t)):
        if d.get("fentry_error"):
            c.note("%s: without fentry/fexit: %s" % (tag, d["fentry_error"]))
    c.eq("rates: mode", "rates", r.get("mode"))
    c.ok(t.get("bulk_traced") is True, "track: fentry/fexit programs loaded (bulk, kfree_rcu)")
    if m and (int(m.group(1)), int(m.group(2))) >= (6, 10):
        c.ok(r.get("charged_only") is True, "rates: the memcg charge hook loaded (6.10+)")
    for tag, d in (("rates", r), ("track", t)):
        for cache in ("dentry", "shmem_inode_cache"):
            n = mine(d, "/a", cache, "allocs")
            c.ok(N <= n <= N + SLACK, "%s: /a allocated %d..%d %s (%d)" % (
                tag, N, N + SLACK, cache, n))
        c.ok(all(e["frees"] == 0 for e in d["entries"]) if tag == "rates" else True,
             "%s: no frees in the rates mode" % tag)
    s0, s2 = slabinfo(files.get("/tmp/slab0", "")), slabinfo(files.get("/tmp/slab2", ""))
    c.ok(len(s0) > 50 and len(s2) > 50, "slabinfo read around the work (%d caches)" % len(s0))
    compared = 0
    for cache in ("dentry", "shmem_inode_cache"):
        if cache not in s0 or cache not in s2:
            continue
        cpp = int(files.get("/sys/kernel/slab/%s/cpu_partial" % cache, "0").split()[0] or 0)
        # SLUB keeps free objects in the CPU slab and in per-CPU partial slabs
        # (cpu_partial objects make 2 x cpu_partial / objperslab slabs): all "active"
        slack = 2 * s0[cache][1] + 2 * cpp + 16
        d = s2[cache][0] - s0[cache][0]
        net = machine_net(t, cache)
        sheaves = any(e.get("sheaves") for e in t["entries"] if e["cache"] == cache)
        if sheaves:
            # Objects freed into a CPU's sheaves or the node's barn stay
            # "active" in /proc/slabinfo: only an upper bound holds there.
            c.ok(net <= d + slack, "track: %s net over every cgroup %d <= slabinfo change %d "
                 "+ %d (sheaves)" % (cache, net, d, slack))
        else:
            c.ok(abs(net - d) <= slack, "track: %s net over every cgroup %d = slabinfo change "
                 "%d +- %d" % (cache, net, d, slack))
        compared += 1
    c.ok(compared == 2, "compared %d caches with /proc/slabinfo" % compared)
    # kfree_rcu() counted once: maple_node frees its nodes with kfree_rcu()
    # (sheaves on 7.x, whose frees reach no tracepoint but kvfree_call_rcu's
    # fentry). A free counted at kfree_rcu() and again at the real free would
    # show as a free of an object older than the trace, for nearly every one.
    mn = sum(e["allocs"] for e in t["entries"] if e["cache"] == "maple_node")
    mu = sum(e["frees"] for e in t.get("untracked_frees", []) if e["cache"] == "maple_node")
    if mn >= 100:
        c.ok(mu * 10 <= mn, "track: maple_node frees of older objects %d <= 10%% of the %d "
             "allocated in the trace (none counted twice)" % (mu, mn))
    # Every other named cache, as notes: where they differ by more than a slab.
    for cache in sorted(set(s0) & set(s2)):
        if cache.startswith(("kmalloc", "dma-kmalloc")) or cache in ("dentry",
                                                                    "shmem_inode_cache"):
            continue
        d = s2[cache][0] - s0[cache][0]
        net = machine_net(t, cache)
        if abs(net - d) > 2 * s0[cache][1] + 16:
            c.note("%s: tracker net %d, slabinfo change %d%s" % (
                cache, net, d, " (sheaves)" if any(
                    e.get("sheaves") for e in t["entries"] if e["cache"] == cache) else ""))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
