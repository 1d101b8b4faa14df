#!/usr/bin/env python3
"""Check the node figures of a `kmemtop --json` document against the files
of the tree it was made from, parsed here independently of libkmem.

    node_files.py NAME TREE JSON

Prints TAP-like lines ("ok - ...", "not ok - ..."). Every figure that has a
source file in TREE is checked; a figure whose file is absent is checked to
be absent or zero.
"""
import json
import os
import re
import sys

NAME, TREE, DOC = sys.argv[1], sys.argv[2], sys.argv[3]
doc = json.load(open(DOC))
failed = False


def ok(desc, cond, detail=""):
    global failed
    if cond:
        print("ok - %s: %s" % (NAME, desc))
    else:
        failed = True
        print("not ok - %s: %s%s" % (NAME, desc, " (" + detail + ")" if detail else ""))


def eq(desc, want, got):
    ok(desc, want == got, "expected %r, got %r" % (want, got))


def read(rel):
    try:
        with open(os.path.join(TREE, rel), "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None


def meminfo():
    mi = {}
    for line in (read("proc/meminfo") or "").splitlines():
        p = line.split()
        if len(p) >= 2 and p[0].endswith(":"):
            mi[p[0][:-1]] = int(p[1]) * (1024 if len(p) > 2 and p[2] == "kB" else 1)
    return mi


def vmstat():
    vm = {}
    for line in (read("proc/vmstat") or "").splitlines():
        p = line.split()
        if len(p) == 2:
            vm[p[0]] = int(p[1])
    return vm


node = doc["node"]
if not node["status"]["ok"]:
    print("ok - %s: node part not ok, nothing to compare" % NAME)
    sys.exit(0)
mi, vm = meminfo(), vmstat()
ps = node["node_page_size"]
kinds = node["kinds"]
m = lambda k: mi.get(k, 0)

# ---- slabinfo
slabs = []
si = read("proc/slabinfo")
if si is not None:
    for line in si.splitlines()[1:]:
        if line.startswith("#") or not line.strip():
            continue
        p = line.split()
        slabs.append({"name": p[0], "num_slabs": int(p[14]), "pps": int(p[5])})
names = {s["name"] for s in slabs}

# ---- the kernel log (dev/kmsg in a tree: the lines kmem used)
EARLY = {"Dentry cache", "Inode-cache", "PV qspinlock", "PID"}
HASH = re.compile(r"(?:^|;|\] |kernel: )([^;\[\]]+?) hash table entries: (\d+) \(order:? (\d+), (\d+) bytes(?:, (linear|vmalloc)[^)]*)?\)")
hash_bytes = {"boot": 0, "pages": 0, "vmalloc": 0}
hash_lines = 0
freed = None
pcpu_pages = None
units = unused = 0
swiotlb = None
# 6.17+: "futex hash table entries: 512 (32768 bytes on 1 NUMA nodes, total 32 KiB, linear)."
FUTEX = re.compile(r"futex hash table entries: \d+ \((\d+) bytes on (\d+) NUMA nodes?, total \d+ KiB, (linear|vmalloc)\)")
log = read("dev/kmsg")
for line in (log or "").splitlines():
    h = HASH.search(line)
    if h:
        hash_lines += 1
        name, typ, b = h.group(1).strip(), h.group(5), int(h.group(4))
        home = "vmalloc" if typ == "vmalloc" else ("boot" if name in EARLY else "pages")
        hash_bytes[home] += b
        continue
    fx = FUTEX.search(line)
    if fx:
        hash_lines += 1
        hash_bytes["vmalloc" if fx.group(3) == "vmalloc" else "pages"] += int(fx.group(1)) * int(fx.group(2))
        continue
    t = re.search(r"software IO TLB: mapped \[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\] \(\d+MB\)", line)
    if t:
        swiotlb = int(t.group(2), 16) - int(t.group(1), 16)
        continue
    if "software IO TLB: tearing down default memory pool" in line:
        swiotlb = 0
        continue
    f = re.search(r"Freeing (?:unused kernel.*|SMP alternatives|unused decrypted) memory: (\d+)K$", line)
    if f:
        freed = (freed or 0) + int(f.group(1)) * 1024
        continue
    p = re.search(r"percpu: (?:Embedded (\d+) pages/cpu|(\d+) \d+K pages/cpu)", line)
    if p:
        pcpu_pages = int(p.group(1) or p.group(2))
        continue
    # mm/percpu.c pcpu_dump_alloc_info: "pcpu-alloc: [0] 0 1 2 3 4 5 - -"
    a = re.search(r"pcpu-alloc: (\[.*)$", line)
    if a:
        toks = [t for t in a.group(1).split() if not t.startswith("[")]
        units += len(toks)
        unused += sum(1 for t in toks if set(t) == {"-"})

bl = node["boot_log"]
if log is not None:
    eq("boot log: hash table lines of dev/kmsg", hash_lines, bl["hash_table_lines"])
    eq("boot log: hash table bytes by home", hash_bytes, bl["hash_bytes"])
    eq("boot log: freed kernel image", freed, bl["image_freed_bytes"])
    eq("boot log: per-CPU first chunk pages", pcpu_pages, bl["percpu_unit_pages"])
else:
    eq("boot log: absent, nothing from it", 0, sum(bl["hash_bytes"].values()))
cpus = None
pos = read("sys/devices/system/cpu/possible")
if pos:
    cpus = 0
    for r in pos.strip().split(","):
        a, _, b = r.partition("-")
        cpus += (int(b) if b else int(a)) - int(a) + 1
eq("possible CPUs", cpus, bl["possible_cpus"])
if log is not None:
    eq("boot log: pcpu-alloc units", units or None, bl["percpu_units"])
    eq("boot log: pcpu-alloc unused units", unused if units else None, bl["percpu_units_unused"])
    eq("boot log: swiotlb pool = end - start of 'software IO TLB: mapped'", swiotlb, bl["swiotlb_bytes"])
nunits, used = (units, units - unused) if units else (cpus or 0, cpus or 0)
eq("per-CPU units (pcpu-alloc lines, else possible CPUs)", nunits, node["percpu_units"])
first = kept = 0
if pcpu_pages and nunits and pcpu_pages * ps * nunits <= m("Percpu"):
    first, kept = pcpu_pages * ps * nunits, pcpu_pages * ps * used
eq("percpu_first_chunk_bytes = kernel log pages x page size x units", first, node["percpu_first_chunk_bytes"])

# ---- kinds
stack_slab = "thread_stack" in names
eq("stack_in_slab follows the thread_stack cache", stack_slab, node["stack_in_slab"])
if "scs_cache" in names and m("ShadowCallStack"):
    eq("scs_in_slab follows the scs_cache cache", True, node["scs_in_slab"])
scs_slab = node["scs_in_slab"]
eq("slab_reclaimable = SReclaimable", m("SReclaimable"), kinds["slab_reclaimable"])
eq("slab_unreclaimable = SUnreclaim - stacks from slab caches",
   max(0, m("SUnreclaim") - (m("KernelStack") if stack_slab else 0) - (m("ShadowCallStack") if scs_slab else 0)),
   kinds["slab_unreclaimable"])
eq("kernel_stack = KernelStack + ShadowCallStack", m("KernelStack") + m("ShadowCallStack"), kinds["kernel_stack"])
in_vm = (m("KernelStack") if node["vmap_stack"] and not stack_slab else 0) + (0 if scs_slab else m("ShadowCallStack"))
eq("vmalloc = VmallocUsed - stacks in vmalloc", max(0, m("VmallocUsed") - in_vm), kinds["vmalloc"])
eq("percpu = (Percpu - first chunk) x used units / units",
   (m("Percpu") - first) // nunits * used if nunits > used else m("Percpu") - first, kinds["percpu"])
eq("bounce = Bounce", m("Bounce"), kinds["bounce"])
eq("writeback_tmp = WritebackTmp", m("WritebackTmp"), kinds["writeback_tmp"])
eq("hash_tables = kernel log tables from the page allocator", hash_bytes["pages"] if log is not None else 0, kinds["hash_tables"])
iso = (vm.get("nr_isolated_anon", 0) + vm.get("nr_isolated_file", 0)) * ps
eq("isolated_bytes = (nr_isolated_anon + nr_isolated_file) x page size", iso, node["isolated_bytes"])
pcp = node["percpu_free_pages"] * ps
huge = m("Hugetlb") if "Hugetlb" in mi else m("HugePages_Total") * m("Hugepagesize")
explained = sum(v for k, v in kinds.items() if k != "unaccounted")
want = m("MemTotal") - m("MemFree") - pcp - m("Active") - m("Inactive") - m("Unevictable") - iso - huge - explained
eq("unaccounted_raw_bytes: the formula with isolated pages", want, node["unaccounted_raw_bytes"])

# ---- the slab gap and the sysfs attributes
gap = node["slab_gap"]
if slabs:
    total = sum(s["num_slabs"] * s["pps"] * ps for s in slabs)
    eq("slab gap: sum of slabinfo", total, gap["slabinfo_bytes"])
    eq("slab gap: Slab - sum of slabinfo", m("Slab") - total, gap["gap_bytes"])
sysslab = os.path.join(TREE, "sys/kernel/slab")
caches = doc["slab"]["caches"] if doc["slab"]["status"]["ok"] else []
if os.path.isdir(sysslab) and caches:
    def attr(name, a):
        try:
            return int(open(os.path.join(sysslab, name, a)).read())
        except OSError:
            return None
    links = {}
    for e in os.listdir(sysslab):
        if os.path.islink(os.path.join(sysslab, e)):
            links[e] = os.path.basename(os.readlink(os.path.join(sysslab, e)))
    bad = []
    recl = unrecl = 0
    for c in caches:
        n = c["name"]
        r = attr(n, "reclaim_account")
        if r is None:
            continue
        b = c["size_bytes"]
        if r:
            recl += b
        else:
            unrecl += b
        want = {"reclaimable": bool(r), "order": attr(n, "order"), "aliases": attr(n, "aliases"),
                "merged": n in links}
        if n in links:
            t = links[n]
            want["accounted"] = "A" in t.split("-")[0]
            want["unique_id"] = t
            want["alias_names"] = sorted(k for k, v in links.items() if v == t and k != n)
        got = {k: c[k] for k in want}
        if got != want:
            bad.append("%s: %r != %r" % (n, got, want))
    eq("every cache's reclaimable, order, aliases, merged, accounted equal sys/kernel/slab", [], bad[:3])
    if gap and gap["reclaimable_caches_bytes"] is not None:
        eq("reclaimable caches = sum of caches with reclaim_account", recl, gap["reclaimable_caches_bytes"])
        eq("large kmallocs = SUnreclaim - unreclaimable caches", m("SUnreclaim") - unrecl, gap["large_kmalloc_bytes"])

# ---- zram, sockets
zr = node["zram"]
devs = {}
bdir = os.path.join(TREE, "sys/block")
if os.path.isdir(bdir):
    for e in sorted(os.listdir(bdir)):
        s = read("sys/block/%s/mm_stat" % e) if e.startswith("zram") else None
        if s:
            devs[e] = int(s.split()[2])
eq("zram: devices with mm_stat", len(devs), zr["devices_total"])
eq("zram: mem_used_total = sum of mm_stat mem_used_total", sum(devs.values()), zr["mem_used_total_bytes"])
eq("zram: per device mem_used", {d["name"]: d["mem_used_bytes"] for d in zr["devices"]}, {k: v for k, v in devs.items() if k in {d["name"] for d in zr["devices"]}})
ss = read("proc/net/sockstat")
if ss is not None:
    def field(text, proto, key):
        for line in (text or "").splitlines():
            p = line.split()
            if p and p[0] == proto + ":" and key in p:
                return int(p[p.index(key) + 1])
        return 0
    s6 = read("proc/net/sockstat6")
    want = (field(ss, "TCP", "mem") + field(ss, "UDP", "mem")) * ps + field(ss, "FRAG", "memory") + field(s6, "FRAG6", "memory")
    eq("sockets: (TCP mem + UDP mem) x page size + FRAG + FRAG6 memory", want, node["sockets"]["memory_bytes"])
else:
    eq("sockets: no sockstat, no figure", None, node["sockets"])

# ---- node_detail
det = doc["node_detail"]
if det["status"]["ok"]:
    v = det["vmalloc"]
    vi = read("proc/vmallocinfo")
    if vi is not None:
        per = {}
        pages = areas = other = 0
        for line in vi.splitlines():
            p = line.split()
            if not p:
                continue
            areas += 1
            npg = sum(int(t[6:]) for t in p[3:] if t.startswith("pages="))
            # mm/vmalloc.c vmalloc_info_show(): only VM_ALLOC areas ("vmalloc") are VmallocUsed
            if "vmalloc" not in p[3:]:
                other += npg
                npg = 0
            pages += npg
            caller = p[2] if len(p) > 2 and "=" not in p[2] else "(no caller)"
            caller = caller.split("+")[0]
            mod = [t for t in p[3:4] if t.startswith("[") and t.endswith("]")]
            if mod:
                caller += " " + mod[0]
            c = per.setdefault(caller, [0, 0])
            c[0] += npg * ps
            c[1] += 1
        eq("vmalloc: areas = lines of vmallocinfo", areas, v["areas"])
        eq("vmalloc: bytes = sum of pages=N x page size of vmalloc areas", pages * ps, v["bytes"])
        eq("vmalloc: other_pages = pages=N of the other areas (vmap)", other * ps, v["other_pages_bytes"])
        eq("vmalloc: distinct callers", len(per), v["callers"])
        eq("vmalloc: top callers' bytes and areas", [per.get(t["caller"]) for t in v["top"]],
           [[t["bytes"], t["areas"]] for t in v["top"]])
        eq("vmalloc: top callers are the largest", sorted((c[0] for c in per.values()), reverse=True)[:len(v["top"])],
           [t["bytes"] for t in v["top"]])
    io = det["iomem"]
    text = read("proc/iomem")
    ram = 0
    k = {}
    span = []
    crash = 0
    zero = True
    for line in (text or "").splitlines():
        mm = re.match(r"^( *)([0-9a-f]+)-([0-9a-f]+) : (.*)$", line)
        if not mm:
            continue
        a, b = int(mm.group(2), 16), int(mm.group(3), 16)
        zero = zero and a == 0 and b == 0
        size, name = b - a + 1, mm.group(4).strip()
        if mm.group(1) == "" and name == "System RAM":
            ram += size
        elif name == "Crash kernel":
            crash += size
        elif name in ("Kernel code", "Kernel rodata", "Kernel data", "Kernel bss"):
            k[name] = k.get(name, 0) + size
            span += [a, b]
    if text is not None and not zero:
        eq("iomem: System RAM (top level)", ram, io["system_ram_bytes"])
        eq("iomem: kernel code, rodata, data, bss", [k.get(x, 0) for x in ("Kernel code", "Kernel rodata", "Kernel data", "Kernel bss")],
           [io["kernel_code_bytes"], io["kernel_rodata_bytes"], io["kernel_data_bytes"], io["kernel_bss_bytes"]])
        eq("iomem: crash kernel", crash, io["crash_kernel_bytes"])
        o = det["outside"]
        eq("outside: known", True, o["known"])
        eq("outside: total = System RAM - MemTotal", max(0, ram - m("MemTotal")), o["total_bytes"])
        parts = o["parts"]
        if "nr_memmap_boot_pages" in vm:
            eq("outside: memmap = nr_memmap_boot_pages x page size", vm["nr_memmap_boot_pages"] * ps, parts["memmap"])
        else:
            eq("outside: memmap estimated as System RAM pages x 64 bytes", ram // ps * 64, parts["memmap"])
        eq("outside: memmap_estimated iff no nr_memmap_boot_pages", "nr_memmap_boot_pages" not in vm, o["memmap_estimated"])
        named = sum(k.values())
        img = named
        if span and freed and (max(span) - min(span) + 1) - freed >= named:
            img = max(span) - min(span) + 1 - freed
        eq("outside: kernel image (span - freed, or the named ranges)", img, parts["kernel_image"])
        eq("outside: boot hash tables = kernel log tables made before MemTotal", hash_bytes["boot"] if log is not None else 0, parts["boot_hash_tables"])
        eq("outside: per-CPU first chunk (used units)", kept, parts["percpu_first_chunk"])
        eq("outside: swiotlb = kernel log pool", swiotlb or 0, parts["swiotlb"])
        eq("outside: the parts and the raw rest add up to the total",
           o["total_bytes"], sum(v for kk, v in parts.items() if kk != "unexplained") + o["unexplained_raw_bytes"])
        eq("outside: unexplained_total = unaccounted + unexplained", kinds["unaccounted"] + parts["unexplained"], o["unexplained_total_bytes"])
    elif text is not None:
        eq("iomem without addresses: outside not known", False, det["outside"]["known"])
    a = det["allocinfo"]
    ai = read("proc/allocinfo")
    eq("allocinfo: present iff the file is", ai is not None, a["present"])
    if ai is not None and a["error"] is None:
        rows = [l.split() for l in ai.splitlines()[1:] if l.strip() and l.split()[0].lstrip("-").isdigit()]
        eq("allocinfo: sites", len(rows), a["sites"])
        eq("allocinfo: bytes", sum(int(r[0]) for r in rows), a["bytes"])
        eq("allocinfo: top site is the largest", max(int(r[0]) for r in rows), a["top"][0]["bytes"])

sys.exit(1 if failed else 0)
