#!/usr/bin/env python3
"""Compare kmem's numbers with the kernel's, from the data of one VM boot.

    check.py --data OUT.data --scenario NAME --kernel LABEL [--strict]
             [--capture-dir DIR] [--facts FILE]

The guest (tests/vm/guest/) wrote blocks on its second serial port:
``keys`` (the kernel's values read before and after kmem ran), ``json``
(kmemtop --json), ``prom`` (kmem_exporter --once), ``file`` (every kernel
file a check may want), ``capture`` (kmemtop --capture as a base64 tar.gz).
Prints TAP-like lines "ok - ..." / "not ok - ..." and exits 1 on a failure.

Checks of what kmem does today are hard checks. Checks of what kmem is known
to get wrong today (KNOWN_WRONG below) print "# known wrong: ..." lines that
do not count, unless --strict (or KMEM_VM_STRICT=1) makes them ok/not ok.
"""
import argparse
import base64
import io
import json
import os
import re
import sys
import tarfile

UID1 = "1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b"
UID2 = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
CID1 = "0123456789abcdef" * 4
CID2 = "fedcba9876543210" * 4
U1 = UID1.replace("-", "_")
U2 = UID2.replace("-", "_")
POD1 = dict(pod_uid=UID1, namespace="prod", pod="web-1")
POD2 = dict(pod_uid=UID2, namespace="kube-system", pod="coredns-5d78c9869d-x7k2p")
NONE = dict(pod_uid=None, qos=None, container_id=None, runtime=None, namespace=None, pod=None,
            container=None, conmon=False)


def ident(**kw):
    d = dict(NONE)
    d.update(kw)
    return d


# Per scenario: layout, mount (relative, as kmem reports it), the identity of
# chosen cgroups, and lower bounds of what the scenario charged (sanity of
# the scenario itself, from the kernel's own files): (cgroup, file, key, min).
SYS_P1 = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice" % U1
SYS_P2 = "/kubepods.slice/kubepods-pod%s.slice" % U2
DENTRY_INODE = 192 + 600  # a tmpfs file: a dentry and a shmem inode, at least
STACK = 16384  # the scenarios start N threads or processes; at least N/2 stacks
# are required (5.10 showed N-1: the stack of one came from the per-CPU cache)
SCENARIOS = {
    "v2-kube": dict(
        layout="v2", mount="sys/fs/cgroup",
        ids={
            SYS_P1: ident(qos="burstable", **POD1),
            SYS_P1 + "/cri-containerd-%s.scope" % CID1: ident(
                qos="burstable", container_id=CID1, runtime="containerd", container="nginx",
                **POD1),
            SYS_P2: ident(qos="guaranteed", **POD2),
            SYS_P2 + "/crio-%s.scope" % CID2: ident(
                qos="guaranteed", container_id=CID2, runtime="crio", container="log-shipper",
                **POD2),
            SYS_P2 + "/crio-conmon-%s.scope" % CID2: ident(
                qos="guaranteed", runtime="crio", conmon=True, **POD2),
            "/system.slice/foo.service": ident(),
            "/kubepods.slice": ident(),
        },
        charged=[
            (SYS_P1 + "/cri-containerd-%s.scope" % CID1, "memory.stat", "slab",
             3000 * DENTRY_INODE),
            (SYS_P1 + "/cri-containerd-%s.scope" % CID1, "memory.stat", "kernel_stack",
             8 * STACK),
            (SYS_P2 + "/crio-%s.scope" % CID2, "memory.stat", "pagetables", 256 * 4096),
            (SYS_P2 + "/crio-%s.scope" % CID2, "memory.stat", "kernel_stack", 2 * STACK),
            ("/system.slice/foo.service", "memory.stat", "sock", 1 << 20),
        ],
        dying=2),
    "v1-cgroupfs": dict(
        layout="v1", mount="sys/fs/cgroup/memory",
        ids={
            "/kubepods/burstable/pod" + UID1: ident(qos="burstable", **POD1),
            "/kubepods/burstable/pod%s/%s" % (UID1, CID1): ident(
                qos="burstable", container_id=CID1, container="nginx", **POD1),
            "/kubepods/pod" + UID2: ident(qos="guaranteed", **POD2),
            "/kubepods/pod%s/%s" % (UID2, CID2): ident(
                qos="guaranteed", container_id=CID2, container="log-shipper", **POD2),
            "/system.slice/foo.service": ident(),
        },
        charged=[
            ("/kubepods/burstable/pod%s/%s" % (UID1, CID1), "memory.kmem.usage_in_bytes", "-",
             3000 * DENTRY_INODE + 8 * STACK),
            ("/kubepods/pod%s/%s" % (UID2, CID2), "memory.kmem.usage_in_bytes", "-",
             256 * 4096 + 2 * STACK),
        ],
        dying=1),
    # libkmem's kept cgroup fds on v2: the guest checks itself (TAP lines)
    # and runs the benchmark (bench/cgroups_bench.c), reported as notes.
    "v2-fds": dict(layout="v2", tap=True),
    "hybrid": dict(
        layout="hybrid", mount="sys/fs/cgroup/memory",
        ids={
            SYS_P1: ident(qos="burstable", **POD1),
            SYS_P1 + "/docker-%s.scope" % CID1: ident(
                qos="burstable", container_id=CID1, runtime="docker", container="nginx", **POD1),
            "/system.slice/foo.service": ident(),
        },
        charged=[
            (SYS_P1 + "/docker-%s.scope" % CID1, "memory.kmem.usage_in_bytes", "-",
             3000 * DENTRY_INODE + 8 * STACK + 128 * 4096),
        ],
        dying=1),
}

# memory.stat keys that make up v2 "kernel" (kmem's components other than
# "other"); "sock" is charged but outside "kernel".
V2_PARTS = ["slab_reclaimable", "slab_unreclaimable", "kernel_stack", "pagetables",
            "sec_pagetables", "percpu", "vmalloc", "zswap"]
LRU = ["inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable"]
# What memory.current - LRU - sock may exceed kernel by (docs/cgroups.md,
# "The upper bound's tolerance per kernel"): per CPU, the charge stock
# (MEMCG_CHARGE_BATCH, 64 pages; from 6.16 a CPU stocks up to 7 memcgs) and
# the LRU-add batch (31 pages), plus the statistics not yet flushed: 32
# pages a CPU for the cgroup and each descendant, except for a leaf before
# batched flushing (6.8: per-memcg flush thresholds), where reading
# memory.stat flushes all of it.
UB_STOCK_PAGES, UB_LRU_BATCH_PAGES, UB_STAT_LAG_PAGES = 64, 31, 32


def release_number(kernel):
    """'6.12.48+deb13-cloud-amd64' -> 6012 (0 if unknown)."""
    m = re.match(r"(\d+)\.(\d+)", kernel or "")
    return int(m.group(1)) * 1000 + int(m.group(2)) if m else 0


def ub_slack_pages(release, descendants):
    """Pages a CPU by which memory.current - LRU - sock may exceed kernel."""
    stock = UB_STOCK_PAGES * (7 if release >= 6016 else 1)
    lag = 0 if descendants == 0 and release < 6008 else (descendants + 1) * UB_STAT_LAG_PAGES
    return stock + UB_LRU_BATCH_PAGES + lag


def parse_blocks(text):
    """[(kind, {attr: value}, body)] in order."""
    out, pos = [], 0
    begin, end = "@@kmem-vm begin ", "\n@@kmem-vm end\n"
    while True:
        i = text.find(begin, pos)
        if i < 0:
            return out
        nl = text.find("\n", i)
        if nl < 0:
            nl = len(text)
        head = text[i + len(begin):nl].split()
        j = text.find(end, nl)
        body = text[nl + 1:j] if j >= 0 else text[nl + 1:]
        pos = j + len(end) - 1 if j >= 0 else len(text)
        attrs = dict(a.split("=", 1) for a in head[1:] if "=" in a)
        out.append((head[0] if head else "", attrs, body))


def parse_keys(body):
    """{(cgroup, file, key): int}"""
    d = {}
    for line in body.splitlines():
        f = line.split()
        if len(f) == 4 and re.fullmatch(r"-?\d+", f[3]):
            d[(f[0], f[1], f[2])] = int(f[3])
    return d


LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_prom(body):
    """{name: [(labels dict, value)]}"""
    out = {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        if "{" in line:
            name, rest = line.split("{", 1)
            labels_s, value = rest.rsplit("}", 1)
            labels = {k: re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)
                      for k, v in LABEL_RE.findall(labels_s)}
        else:
            name, value = line.split(None, 1)
            labels = {}
        value = value.split()[0]
        try:
            v = float(value)
            v = int(value) if re.fullmatch(r"-?\d+", value) else v
        except ValueError:
            v = None
        out.setdefault(name, []).append((labels, v))
    return out


class Checker:
    def __init__(self, label, strict):
        self.label = label
        self.strict = strict
        self.failed = False
        self.known = []
        self.absent = set()
        self.groups = {}
        self.prom = {}

    def ok(self, cond, desc, detail=""):
        if cond:
            print("ok - %s: %s" % (self.label, desc))
        else:
            print("not ok - %s: %s%s" % (self.label, desc, " (%s)" % detail if detail else ""))
            self.failed = True
        return cond

    def eq(self, desc, want, got):
        return self.ok(want == got, desc, "kernel %r, kmem %r" % (want, got))

    def known_wrong(self, desc, want, got, why, family=None, group=None):
        """A check of what kmem is known to get wrong today: a hard check with
        --strict, else a "# known wrong" line when kmem differs: one line for
        a metric family missing altogether, one per group (a check repeated
        over cgroups) with how many differ."""
        if self.strict:
            return self.eq(desc, want, got)
        self.known.append(want == got)
        if want == got:
            return True
        if family is not None and family not in self.prom:
            if family not in self.absent:
                self.absent.add(family)
                print("# known wrong (%s): %s: no %s in the exposition" % (why, self.label, family))
            return False
        if group is not None:
            self.groups.setdefault((why, group), []).append("%s: kernel %r, kmem %r" % (
                desc, want, got))
            return False
        print("# known wrong (%s): %s: %s: kernel %r, kmem %r" % (why, self.label, desc, want, got))
        return False

    def known_wrong_groups(self):
        for (why, group), items in sorted(self.groups.items()):
            print("# known wrong (%s): %s: %s: %d cgroups differ, e.g. %s" % (
                why, self.label, group, len(items), items[-1]))

    def note(self, msg):
        print("# %s: %s" % (self.label, msg))


def sc_cpus(files):
    """Possible CPUs of the guest (1 with -smp 1)."""
    f = files.get("/sys/devices/system/cpu/possible", "0").strip()
    n = 0
    for r in f.split(","):
        a, _, b = r.partition("-")
        n += int(b or a) - int(a) + 1
    return max(n, 1)


def stable_value(c, before, after, key):
    """The kernel's value if both reads agree, else None (reported)."""
    if key not in before or key not in after:
        return None
    if before[key] != after[key]:
        c.note("%s %s %s changed while kmem ran: %d -> %d" % (key + (before[key], after[key])))
        return None
    return before[key]


def check_v2(c, sc, before, after, cgs, prom, files):
    by_path = {g["path"]: g for g in cgs["items"]}
    kb = {lab.get("cgroup"): v for lab, v in prom.get("kmem_cgroup_kernel_bytes", [])}
    comp = {(lab.get("cgroup"), lab.get("kind")): v
            for lab, v in prom.get("kmem_cgroup_kernel_component_bytes", [])}
    cadv = {lab.get("id"): v for lab, v in prom.get("container_memory_kernel_usage", [])}
    paths = sorted({k[0] for k in before if k[1] != "/proc/cgroups"})
    compared = 0
    for p in paths:
        g = by_path.get(p)
        if p == "/":
            continue  # the v2 root: check_v2_root
        if not c.ok(g is not None, "kmemtop --json lists %s" % p):
            continue
        stat = {k[2]: stable_value(c, before, after, k)
                for k in before if k[0] == p and k[1] == "memory.stat"}
        if not stat or any(v is None for v in stat.values()):
            c.ok(False, "%s: memory.stat read and stable while kmem ran" % p)
            continue
        compared += 1
        if "kernel" in stat:
            want = stat["kernel"]
            c.eq("%s: kernel_bytes = memory.stat kernel" % p, want, g["kernel_bytes"])
            c.eq("%s: approx false (memory.stat has kernel)" % p, False, g["approx"])
            parts = sum(stat.get(k, 0) for k in V2_PARTS)
            c.eq("%s: component other = kernel - parts" % p, max(want - parts, 0),
                 g["components"].get("other"))
        else:
            want = sum(stat.get(k, 0) for k in V2_PARTS)
            c.eq("%s: kernel_bytes = sum of memory.stat parts (no kernel line)" % p, want,
                 g["kernel_bytes"])
            c.eq("%s: approx true (no kernel line)" % p, True, g["approx"])
        for k in V2_PARTS:
            if k in stat:
                c.eq("%s: component %s = memory.stat %s" % (p, k, k), stat[k],
                     g["components"].get(k))
                c.eq("%s: exporter component %s" % (p, k), stat[k], comp.get((p, k)))
        cur = stable_value(c, before, after, (p, "memory.current", "-"))
        c.eq("%s: usage_bytes = memory.current" % p, cur, g["usage_bytes"])
        c.eq("%s: exporter kmem_cgroup_kernel_bytes" % p, want, kb.get(p))
        c.eq("%s: exporter container_memory_kernel_usage" % p, want, cadv.get(p))
        kinds = {k: v for (q, k), v in comp.items() if q == p}
        c.eq("%s: exporter components add up to kmem_cgroup_kernel_bytes" % p, want,
             sum(kinds.values()))
        c.eq("%s: json components add up to kernel_bytes" % p, want, sum(g["components"].values()))
        c.eq("%s: sock_bytes = memory.stat sock" % p, stat.get("sock"), g["sock_bytes"])
        c.eq("%s: kmem_cgroup_sock_bytes = memory.stat sock" % p, stat.get("sock"),
             {lab.get("cgroup"): v for lab, v in prom.get("kmem_cgroup_sock_bytes", [])}.get(p))
        # The upper bound: memory.current - LRU - sock, never below kernel_bytes.
        if cur is not None and all(k in stat for k in LRU + ["sock"]):
            raw = cur - sum(stat[k] for k in LRU) - stat["sock"]
            c.eq("%s: upper_bound_bytes = max(kernel, memory.current - LRU - sock)" % p,
                 max(raw, g["kernel_bytes"]), g["upper_bound_bytes"])
            if "kernel" in stat:
                # Where the kernel prints its own figure, the bound holds: kernel <=
                # memory.current - LRU - sock, at most the stocks and batches above it.
                c.ok(stat["kernel"] <= raw, "%s: memory.stat kernel <= memory.current - LRU - "
                     "sock (the upper bound's formula)" % p, "kernel %d, bound %d" % (
                         stat["kernel"], raw))
                desc = sum(1 for q in paths if q.startswith(p.rstrip("/") + "/"))
                slack = ub_slack_pages(c.release, desc)
                c.ok(raw - stat["kernel"] <= slack * 4096 * sc_cpus(files),
                     "%s: the bound is within %d pages a CPU (%d descendants, this kernel's "
                     "tolerance)" % (p, slack, desc), "bound - kernel = %d" % (raw - stat["kernel"]))
            ub = {lab.get("cgroup"): v for lab, v in
                  prom.get("kmem_cgroup_kernel_upper_bound_bytes", [])}.get(p)
            c.eq("%s: kmem_cgroup_kernel_upper_bound_bytes where estimated" % p,
                 g["upper_bound_bytes"] if g["approx"] else None, ub)
        ds = stable_value(c, before, after, (p, "cgroup.stat", "nr_dying_subsys_memory"))
        if ds is None:
            ds = stable_value(c, before, after, (p, "cgroup.stat", "nr_dying_descendants"))
        c.eq("%s: dying_descendants = cgroup.stat" % p, ds, g["dying_descendants"])
        c.eq("%s: kmem_cgroup_dying_descendants = cgroup.stat" % p, ds,
             {lab.get("cgroup"): v for lab, v in
              prom.get("kmem_cgroup_dying_descendants", [])}.get(p))
    least_compared(c, sc, compared, len(by_path))
    check_v2_root(c, before, after, by_path.get("/"), kb, prom)


def least_compared(c, sc, compared, listed):
    """Every comparison says how many cgroups it compared, and fails below
    the scenario's own: 0 compared is never a pass."""
    least = len(sc["ids"])
    c.ok(compared >= least, "compared %d non-root cgroups with the kernel's files (at least %d; "
         "kmemtop listed %d)" % (compared, least, listed))


def check_v2_root(c, before, after, root, kb, prom):
    """The v2 root: kmem sums its children; the kernel's own root memory.stat
    (where it exists) also holds what removed cgroups handed up."""
    # The root's LRU lists move with kmem's own pages (it runs there): not needed.
    stat = {k[2]: stable_value(c, before, after, k)
            for k in before if k[0] == "/" and k[1] == "memory.stat" and k[2] not in LRU}
    c.note("v2 root memory.stat: %s" % ("present" if stat else "absent"))
    if root is None:
        c.ok(False, "kmemtop --json lists the root /")
        return
    c.ok(True, "kmemtop --json lists the root /")
    if stat and not c.ok(all(v is not None for v in stat.values()),
                         "/: root memory.stat stable while kmem ran (the guest samples until it is)",
                         "moved: %s" % " ".join(k for k, v in stat.items() if v is None)):
        return
    if stat:
        want = stat["kernel"] if "kernel" in stat else sum(stat.get(k, 0) for k in V2_PARTS)
        c.eq("/: kernel_bytes = root memory.stat %s" %
             ("kernel" if "kernel" in stat else "parts"), want, root["kernel_bytes"])
        c.eq("/: exporter kmem_cgroup_kernel_bytes = root memory.stat", want, kb.get("/"))
        c.eq("/: not a lower bound (the root has its own memory.stat)", False,
             root["lower_bound"])
        for k in V2_PARTS:
            if k in stat:
                c.eq("/: component %s = root memory.stat" % k, stat[k],
                     root["components"].get(k))
        c.eq("/: components add up to kernel_bytes", want, sum(root["components"].values()))
        # The scenario removed /gone with 400 tmpfs files made inside: their
        # dentries (and inodes) stay charged, handed up to the root, which no
        # live child shows.
        top = sum(g["kernel_bytes"] for g in c.doc_cgroups["items"] if g["depth"] == 1)
        c.ok(root["kernel_bytes"] - top >= 400 * 192,
             "/: the root holds what the removed /gone handed up (>= 400 dentries above its "
             "children)", "root %d, children %d" % (root["kernel_bytes"], top))
        exact = "kernel" in stat
        c.eq("kernel_exact (json) iff memory.stat has kernel", exact,
             c.doc_cgroups.get("kernel_exact"))
        got = [v for lab, v in prom.get("kmem_cgroup_kernel_exact", [])]
        c.eq("kmem_cgroup_kernel_exact iff memory.stat has kernel", int(exact),
             got[0] if got else None)
    dying = stable_value(c, before, after, ("/", "cgroup.stat", "nr_dying_subsys_memory"))
    src = "nr_dying_subsys_memory"
    if dying is None:
        dying = stable_value(c, before, after, ("/", "cgroup.stat", "nr_dying_descendants"))
        src = "nr_dying_descendants"
    got = [v for lab, v in prom.get("kmem_memory_cgroups_dying", [])]
    c.eq("kmem_memory_cgroups_dying = root cgroup.stat %s" % src, dying, got[0] if got else None)
    c.eq("json dying_source", src, c.doc_cgroups.get("dying_source"))


def check_v1(c, sc, before, after, cgs, prom, files):
    by_path = {g["path"]: g for g in cgs["items"]}
    kb = {lab.get("cgroup"): v for lab, v in prom.get("kmem_cgroup_kernel_bytes", [])}
    comp = {(lab.get("cgroup"), lab.get("kind")): v
            for lab, v in prom.get("kmem_cgroup_kernel_component_bytes", [])}
    cadv = {lab.get("id"): v for lab, v in prom.get("container_memory_kernel_usage", [])}
    paths = sorted({k[0] for k in before if k[1] != "/proc/cgroups"})
    compared = 0
    for p in paths:
        g = by_path.get(p)
        if not c.ok(g is not None, "kmemtop --json lists %s" % p):
            continue
        want = stable_value(c, before, after, (p, "memory.kmem.usage_in_bytes", "-"))
        if not c.ok(want is not None, "%s: memory.kmem.usage_in_bytes stable while kmem ran" % p):
            continue
        compared += 1 if p != "/" else 0
        c.eq("%s: kernel_bytes = memory.kmem.usage_in_bytes" % p, want, g["kernel_bytes"])
        c.eq("%s: approx false" % p, False, g["approx"])
        c.eq("%s: exporter kmem_cgroup_kernel_bytes" % p, want, kb.get(p))
        # --collector.cadvisor-compat=auto: the kubelet has the value on v1 and hybrid.
        c.eq("%s: no container_memory_kernel_usage on v1 (auto)" % p, None, cadv.get(p))
        c.eq("%s: one component, other = kernel" % p, {"other": want}, g["components"])
        tcp = stable_value(c, before, after, (p, "memory.kmem.tcp.usage_in_bytes", "-"))
        if tcp is not None:
            c.eq("%s: sock_bytes = memory.kmem.tcp.usage_in_bytes" % p, tcp, g["sock_bytes"])
        use = stable_value(c, before, after, (p, "memory.usage_in_bytes", "-"))
        if use is not None:
            c.eq("%s: usage_bytes = memory.usage_in_bytes" % p, use, g["usage_bytes"])
        elif p != "/":
            c.ok(False, "%s: memory.usage_in_bytes stable while kmem ran" % p)
        c.eq("%s: kmem_cgroup_sock_bytes = memory.kmem.tcp.usage_in_bytes" % p, tcp,
             {lab.get("cgroup"): v for lab, v in prom.get("kmem_cgroup_sock_bytes", [])}.get(p))
        kinds = {k: v for (q, k), v in comp.items() if q == p}
        c.eq("%s: exporter components add up to kmem_cgroup_kernel_bytes" % p, want,
             sum(kinds.values()))
    least_compared(c, sc, compared, len(by_path))
    # --collector.cadvisor-compat=auto (the default): the cAdvisor family only
    # where the kubelet reports 0, i.e. not on v1 or hybrid.
    c.eq("container_memory_kernel_usage absent on %s (cadvisor-compat auto)" % sc["layout"],
         False, "container_memory_kernel_usage" in prom)
    # Dying: /proc/cgroups counts memory cgroups until they are freed.
    n = stable_value(c, before, after, ("/", "/proc/cgroups", "num_cgroups"))
    got = [v for lab, v in prom.get("kmem_memory_cgroups_dying", [])]
    c.eq("kmem_memory_cgroups_dying = /proc/cgroups num_cgroups - live cgroups (%d)" % len(paths),
         n - len(paths) if n is not None else "num_cgroups unread or unstable",
         got[0] if got else None)
    c.eq("kernel_exact on v1", True, c.doc_cgroups.get("kernel_exact"))


def check_ids(c, sc, cgs, prom):
    by_path = {g["path"]: g for g in cgs["items"]}
    kb = {lab.get("cgroup"): lab for lab, v in prom.get("kmem_cgroup_kernel_bytes", [])}
    for p, want in sorted(sc["ids"].items()):
        g = by_path.get(p)
        if not c.ok(g is not None, "kmemtop --json lists %s" % p):
            continue
        got = {k: g.get(k) for k in want}
        c.eq("%s: identity (uid, qos, id, runtime, namespace, pod, container, conmon)" % p,
             want, got)
        cad = {l.get("id"): l for l, v in prom.get("container_memory_kernel_usage", [])}.get(p)
        if cad is not None:
            name = want.get("container_id") or ""
            if want.get("runtime") in ("crio", "docker") and want.get("container"):
                name = "k8s_%s_%s_%s_%s_0" % (want["container"], want["pod"],
                                              want["namespace"], want["pod_uid"])
            c.eq("%s: container_memory_kernel_usage name = the kubelet's" % p, name,
                 cad.get("name"))
        lab = kb.get(p, {})
        c.eq("%s: exporter labels pod, namespace, container" % p,
             {k: want[k] or "" for k in ("pod", "namespace", "container")},
             {k: lab.get(k) for k in ("pod", "namespace", "container")})


def kernel_facts(c, before, files, layout):
    """What this kernel shows: printed for the report, and checked only where
    the scenario depends on it."""
    rs = files.get("/sys/fs/cgroup/memory.stat")
    if layout == "v2":
        if rs is None:
            c.note("fact: v2 root memory.stat absent")
        else:
            keys = [line.split()[0] for line in rs.splitlines() if line.split()]
            c.note("fact: v2 root memory.stat present, %d keys; kernel-related: %s" % (
                len(keys), " ".join(k for k in keys if k in V2_PARTS + ["kernel", "sock", "slab",
                                                                         "zswap"])))
            c.note("fact: v2 root memory.stat has no: %s" % " ".join(
                k for k in V2_PARTS + ["kernel", "sock", "zswap"] if k not in keys))
        cs = files.get("/sys/fs/cgroup/cgroup.stat", "")
        c.note("fact: v2 root cgroup.stat: %s" % "; ".join(cs.strip().splitlines()))
    pc = files.get("/proc/cgroups", "")
    for line in pc.splitlines():
        if line.startswith("memory"):
            c.note("fact: /proc/cgroups memory line: %s" % " ".join(line.split()))


def write_tree(c, d, blocks, files):
    """kmemtop --capture's tree, plus the dumped cgroup files, /proc/cgroups
    and /proc/version where the capture has none: a fixture for --root."""
    cap = [body for k, at, body in blocks if k == "capture"]
    if not c.ok(bool(cap), "kmemtop --capture ran in the guest"):
        return
    os.makedirs(d, exist_ok=True)
    raw = base64.b64decode("".join(cap[0].split()))
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as t:
        for m in t.getmembers():
            if not (m.isfile() or m.isdir()) or m.name.startswith("/") or ".." in m.name:
                continue
            t.extract(m, d)
    added = 0
    for path, body in files.items():
        if not (path.startswith("/sys/fs/cgroup/") or path in ("/proc/cgroups", "/proc/version")):
            continue
        dst = os.path.join(d, path.lstrip("/"))
        if os.path.exists(dst):
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "w") as f:
            f.write(body)
        added += 1
    c.note("tree written to %s (%d kernel files added to the capture)" % (d, added))


def kernel_dying(layout, keys):
    """The kernel's count of removed memory cgroups in one sample's keys."""
    if layout == "v2":
        for k in ("nr_dying_subsys_memory", "nr_dying_descendants"):
            if ("/", "cgroup.stat", k) in keys:
                return keys[("/", "cgroup.stat", k)]
        return None
    n = keys.get(("/", "/proc/cgroups", "num_cgroups"))
    live = len({k[0] for k in keys if k[1] != "/proc/cgroups"})
    return n - live if n is not None else None


def check_freed(c, sc, blocks, keys, prom):
    """The scenario deleted the files that held its removed cgroups and
    sampled again ("freed"): the kernel freed them, and kmem's count fell with
    the kernel's."""
    pb = [body for k, at, body in blocks if k == "prom" and at.get("tag") == "freed"]
    if not c.ok(bool(pb), "a sample after freeing the removed cgroups' files"):
        return
    before, after = keys.get(("freed", "before"), {}), keys.get(("freed", "after"), {})
    want = kernel_dying(sc["layout"], before)
    c.ok(want is not None and want == kernel_dying(sc["layout"], after),
         "freed: the kernel's count read and stable while kmem ran (the guest samples until it is)",
         "before %r, after %r" % (want, kernel_dying(sc["layout"], after)))
    got = [v for lab, v in parse_prom(pb[0]).get("kmem_memory_cgroups_dying", [])]
    got = got[0] if got else None
    c.eq("freed: kmem_memory_cgroups_dying = the kernel's count", want, got)
    was = [v for lab, v in prom.get("kmem_memory_cgroups_dying", [])]
    was = was[0] if was else None
    # In the VM nothing else makes or frees cgroups: the fall is exact.
    c.ok(was is not None and got is not None and was - got == sc["dying"],
         "freed: kmem's count fell by exactly the %d removed cgroups (%r -> %r)" % (
             sc["dying"], was, got))


def check_tap(c, blocks):
    """A scenario that checks itself: its TAP lines, and its benchmark rows."""
    for k, at, body in blocks:
        if k == "note" and body.startswith("error:"):
            c.ok(False, "guest: " + body.strip())
    taps = [body for k, _, body in blocks if k == "tap"]
    n = 0
    for body in taps:
        for line in body.splitlines():
            m = re.match(r"(not ok|ok) - (.*)", line)
            if m:
                c.ok(m.group(1) == "ok", "guest: " + m.group(2))
                n += 1
            elif line.strip():
                c.note("guest: " + line.strip())
    c.ok(n >= 10, "the guest's checks ran (%d)" % n)
    for k, at, body in blocks:
        if k != "bench":
            continue
        v = dict(l.split(" ", 1) for l in body.splitlines() if " " in l)
        try:
            floor = float(v["floor_ms"])
            c.note("bench %s cgroups (%s walked, %s fds kept): floor %s ms, kmem fds %s ms "
                   "(%.2fx), kmem open/read/close %s ms (%.2fx), every extra file %s ms "
                   "(%.2fx), pread %s ms; RSS %s -> %s KiB" % (
                       at.get("cgroups"), v["cgroups_kmem"], v["kept_fds"], v["floor_ms"],
                       v["kmem_fds_ms"], float(v["kmem_fds_ms"]) / floor, v["kmem_orc_ms"],
                       float(v["kmem_orc_ms"]) / floor, v["kmem_all_ms"],
                       float(v["kmem_all_ms"]) / floor, v["pread_ms"],
                       v.get("rss_kib_before", "?"), v.get("rss_kib_after", "?")))
        except (KeyError, ValueError, ZeroDivisionError) as e:
            c.ok(False, "bench %s cgroups: its figures" % at.get("cgroups"), repr(e))
    return 1 if c.failed else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--strict", action="store_true",
                    default=os.environ.get("KMEM_VM_STRICT") == "1")
    ap.add_argument("--tree-dir", help="write kmemtop --capture's tree here, completed with "
                    "the kernel files the guest dumped that kmem does not read (yet)")
    a = ap.parse_args()
    sc = SCENARIOS[a.scenario]
    c = Checker("%s %s" % (a.kernel, a.scenario), a.strict)
    c.release = release_number(a.kernel)

    try:
        text = open(a.data, encoding="utf-8", errors="replace").read()
    except OSError as e:
        c.ok(False, "read the guest's data", str(e))
        return 1
    blocks = parse_blocks(text)
    kinds = [k for k, _, _ in blocks]
    c.ok("done" in kinds, "the scenario ran to its end")
    if sc.get("tap"):
        return check_tap(c, blocks)
    for k, at, body in blocks:
        if k == "note" and body.startswith("error:"):
            c.ok(False, "guest: " + body.strip())
        elif k == "note":
            c.note("guest: " + body.strip())
    files = {at["path"]: body for k, at, body in blocks if k == "file"}
    keys = {(at.get("tag"), at.get("when")): parse_keys(body) for k, at, body in blocks
            if k == "keys"}
    samp = [at for k, at, _ in blocks if k == "sample"]
    if not c.ok(bool(samp), "a sample was taken"):
        return 1
    tag = samp[0]["tag"]
    c.ok(samp[0].get("stable") == "yes", "sample %s: the kernel's values stable across kmem's run "
         "(%s tries)" % (tag, samp[0].get("tries")))
    before, after = keys.get((tag, "before"), {}), keys.get((tag, "after"), {})
    jb = [(at, body) for k, at, body in blocks if k == "json" and at.get("tag") == tag]
    pb = [(at, body) for k, at, body in blocks if k == "prom" and at.get("tag") == tag]
    errs = {at.get("prog"): body.strip() for k, at, body in blocks if k == "stderr"}
    for prog, e in sorted(errs.items()):
        if e:
            c.note("%s stderr: %s" % (prog, e.replace("\n", " | ")))
    c.ok(jb and jb[0][0].get("rc") == "0", "kmemtop --json exit status 0")
    c.ok(pb and pb[0][0].get("rc") == "0", "kmem_exporter --once exit status 0")
    try:
        doc = json.loads(jb[0][1])
    except (ValueError, IndexError) as e:
        c.ok(False, "kmemtop --json is valid JSON", str(e))
        return 1
    prom = parse_prom(pb[0][1]) if pb else {}
    c.prom = prom
    cgs = doc.get("cgroups", {})
    c.doc_cgroups = cgs
    c.ok(cgs.get("status", {}).get("ok") is True, "cgroups part read",
         str(cgs.get("status", {}).get("error")))
    c.eq("layout", sc["layout"], cgs.get("layout"))
    c.eq("memory hierarchy", sc["mount"], cgs.get("mount"))
    kernel_facts(c, before, files, sc["layout"])

    # The scenario itself: the kernel shows the charges it made.
    for p, f, k, least in sc["charged"]:
        v = before.get((p, f, k))
        if v is None and k != "-":
            c.note("fact: %s has no %s in %s: charge not checkable" % (p, k, f))
            continue
        c.ok(v is not None and v >= least, "scenario charged %s %s %s >= %d" % (p, f, k, least),
             "kernel shows %r" % v)
    if sc["layout"] == "v2":
        d = before.get(("/", "cgroup.stat", "nr_dying_descendants"))
    else:
        n = before.get(("/", "/proc/cgroups", "num_cgroups"))
        live = len({k[0] for k in before if k[1] != "/proc/cgroups"})
        d = n - live if n is not None else None
    # 7.x frees a removed memory cgroup at once: its charges (the files that
    # kept it dying on 6.x) move to the parent. Seen on 7.3 (Debian trixie-
    # backports): root nr_dying_descendants 0 right after the rmdir.
    keeps_dying = not (d == 0 and int(a.kernel.split(".")[0]) >= 7)
    if keeps_dying:
        c.ok(d is not None and d >= sc["dying"], "scenario left >= %d dying cgroups" % sc["dying"],
             "kernel shows %r" % d)
    else:
        c.note("fact: this kernel keeps no dying memory cgroup after rmdir (0 left of %d "
               "removed): the dying-count checks compare kmem with 0" % sc["dying"])
        sc = dict(sc, dying=0)

    # kmem_cgroup_kernel_exact: 1 where the kernel has its own counter (v1;
    # v2 with a memory.stat "kernel" line), 0 where kmem sums the parts.
    if sc["layout"] == "v2":
        exact = int(any(k[1] == "memory.stat" and k[2] == "kernel" for k in before))
    else:
        exact = 1
    got = [v for lab, v in prom.get("kmem_cgroup_kernel_exact", [])]
    c.eq("kmem_cgroup_kernel_exact", exact, got[0] if got else None)

    if sc["layout"] == "v2":
        check_v2(c, sc, before, after, cgs, prom, files)
    else:
        check_v1(c, sc, before, after, cgs, prom, files)
    check_ids(c, sc, cgs, prom)
    check_freed(c, sc, blocks, keys, prom)

    if a.tree_dir:
        write_tree(c, a.tree_dir, blocks, files)
    c.known_wrong_groups()
    if c.known:
        c.note("known-wrong comparisons (KMEM_VM_STRICT=1 makes them checks): %d, %d agree" % (
            len(c.known), sum(c.known)))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
