#!/usr/bin/env python3
"""The node figures of one VM boot against the kernel's own counters and files.

    check_node.py --data OUT.data --kernel LABEL --scenario NAME
                  [--tree-dir DIR --kmemtop PATH]

From the guest's sample (kmemtop --json inside the VM) and the files the
guest dumped (/proc/meminfo, /proc/slabinfo, /proc/vmallocinfo, /proc/iomem,
/sys/devices/system/cpu/possible, dmesg): vmallocinfo against the vmalloc
counter (exactly, on the pair tests/vm/vmpair.c read at one moment),
the reclaimable caches against SReclaimable, System RAM and the kernel image
against /proc/iomem, hash tables and the per-CPU first chunk against dmesg,
where stacks live against /proc/slabinfo, the document against the schema.
With --tree-dir (the capture check.py wrote) and --kmemtop, the host's
kmemtop reads the capture and tests/integration/node_files.py checks every
figure against the captured files (the same input).
Prints TAP-like lines; exits 1 on a failure.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from check import parse_blocks  # noqa: E402

EARLY = {"Dentry cache", "Inode-cache", "PV qspinlock", "PID"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--tree-dir")
    ap.add_argument("--kmemtop")
    a = ap.parse_args()
    label = "%s %s: node" % (a.kernel, a.scenario)
    failed = []

    def check(desc, want, got):
        if want == got:
            print("ok - %s: %s" % (label, desc))
        else:
            failed.append(desc)
            print("not ok - %s: %s (expected %r, got %r)" % (label, desc, want, got))

    blocks = parse_blocks(open(a.data, encoding="utf-8", errors="replace").read())
    files = {at["path"]: body for k, at, body in blocks if k == "file"}
    samp = [at for k, at, _ in blocks if k == "sample"]
    js = [body for k, at, body in blocks if k == "json" and samp and at.get("tag") == samp[0]["tag"]]
    if not js:
        print("not ok - %s: a kmemtop --json sample" % label)
        return 1
    d = json.loads(js[0])
    n, det = d["node"], d["node_detail"]
    mi = n["meminfo"]
    ps = n["node_page_size"]
    check("node part read", True, n["status"]["ok"])
    check("node_detail part read", True, det["status"]["ok"])
    try:
        import jsonschema
        schema = json.load(open(os.path.join(HERE, "..", "..", "docs", "kmem.schema.json")))
        errs = list(jsonschema.Draft202012Validator(schema).iter_errors(d))
        check("--json matches docs/kmem.schema.json", [], [e.message[:120] for e in errs[:2]])
    except ImportError:
        print("ok - %s: # SKIP schema: python3-jsonschema is not installed" % label)

    # vmallocinfo against the kernel's vmalloc counter. 7.x counts vmalloc pages in
    # the node counter NR_VMALLOC (VmallocUsed = vmstat nr_vmalloc): incremented in
    # vm_area_alloc_pages() as pages arrive, decremented page by page in vfree()
    # (VM_MAP_PUT_PAGES areas, never counted, are skipped), and batched per CPU up to
    # the "vm stats threshold" before it is folded in; older kernels count in an atomic.
    # kmem's live sample and the dump are moments apart (kmem's own task stack, its
    # owner walker's BPF objects and the batching move the counter, not kmem's parse):
    # the exact comparison is on the pair tests/vm/vmpair.c read at one moment, the
    # counter folded (stat_refresh) before and after the listing, both reads agreeing.
    vs = {}
    for line in files.get("/proc/vmstat", "").splitlines():
        kv = line.split()
        if len(kv) == 2 and kv[1].isdigit():
            vs[kv[0]] = int(kv[1])
    if "nr_vmalloc" in vs:
        print("# %s: live sample: kmem's vmallocinfo sum %d bytes, its VmallocUsed %d; the dump's "
              "nr_vmalloc %d pages (moments apart: compared exactly on the pair below)"
              % (label, det["vmalloc"]["bytes"], mi["VmallocUsed"], vs["nr_vmalloc"]))
    else:
        check("vmallocinfo: sum of pages=N x page size = VmallocUsed", mi["VmallocUsed"],
              det["vmalloc"]["bytes"])
    check_vmpair(check, label, blocks, files, ps, a.kmemtop)

    gap = n["slab_gap"]
    if gap and gap["reclaimable_caches_bytes"] is not None:
        # meminfo shows the global part of a node counter; each CPU keeps up to
        # its "vm stats threshold" pages (zoneinfo) not yet folded in.
        thr = [int(x) for x in re.findall(r"vm stats threshold: (\d+)", files.get("/proc/zoneinfo", ""))]
        ncpu = len(set(re.findall(r"cpu: (\d+)", files.get("/proc/zoneinfo", "")))) or 1
        slack = (max(thr) if thr else 125) * ncpu * ps
        diff = gap["reclaimable_caches_bytes"] - mi["SReclaimable"]
        check("caches with reclaim_account sum to SReclaimable, within the per-CPU drift (%d bytes; off by %d)"
              % (slack, diff), True, abs(diff) <= slack)
        check("large kmallocs are not negative beyond the drift", True,
              gap["large_kmalloc_bytes"] >= -slack)

    # Where stacks live: the guest's /proc/slabinfo.
    slabs = {l.split()[0] for l in files.get("/proc/slabinfo", "").splitlines()[2:] if l.strip()}
    check("stack_in_slab = a thread_stack cache in /proc/slabinfo", "thread_stack" in slabs,
          n["stack_in_slab"])
    va = files.get("/proc/vmallocinfo", "")
    stacks = bool(re.search(r" (kernel_clone|copy_process|dup_task_struct|alloc_thread_stack_node)\+\S+ pages=\d+ vmalloc", va))
    check("vmap_stack = thread-stack vmalloc areas in /proc/vmallocinfo", stacks, n["vmap_stack"])

    # /proc/iomem, dumped as root.
    ram = named = 0
    for line in files.get("/proc/iomem", "").splitlines():
        m = re.match(r"^( *)([0-9a-f]+)-([0-9a-f]+) : (.*)$", line)
        if not m:
            continue
        size = int(m.group(3), 16) - int(m.group(2), 16) + 1
        if m.group(1) == "" and m.group(4) == "System RAM":
            ram += size
        if m.group(4) in ("Kernel code", "Kernel rodata", "Kernel data", "Kernel bss"):
            named += size
    check("iomem System RAM", ram, det["iomem"]["system_ram_bytes"])
    check("iomem kernel code + rodata + data + bss", named,
          det["outside"]["kernel_image_named_bytes"])
    check("outside total = System RAM - MemTotal", ram - mi["MemTotal"],
          det["outside"]["total_bytes"])

    # The kernel log.
    log = files.get("/tmp/dmesg", "")
    hb = {"boot": 0, "pages": 0, "vmalloc": 0}
    for m in re.finditer(r"\] (.+?) hash table entries: \d+ \(order:? \d+, (\d+) bytes(?:, (linear|vmalloc))?", log):
        home = "vmalloc" if m.group(3) == "vmalloc" else ("boot" if m.group(1) in EARLY else "pages")
        hb[home] += int(m.group(2))
    # 6.17+: "futex hash table entries: 512 (32768 bytes on 1 NUMA nodes, total 32 KiB, linear)."
    for m in re.finditer(r"\] futex hash table entries: \d+ \((\d+) bytes on (\d+) NUMA nodes?, total \d+ KiB, (linear|vmalloc)\)", log):
        hb["vmalloc" if m.group(3) == "vmalloc" else "pages"] += int(m.group(1)) * int(m.group(2))
    check("kernel log read in the guest", True, n["boot_log"]["available"])
    check("hash tables by home = dmesg", hb, n["boot_log"]["hash_bytes"])
    check("hash_tables kind = dmesg tables from the page allocator", hb["pages"],
          n["kinds"]["hash_tables"])
    m = re.search(r"percpu: Embedded (\d+) pages/cpu", log)
    cpus = 0
    for r in files.get("/sys/devices/system/cpu/possible", "").strip().split(","):
        if r:
            lo, _, hi = r.partition("-")
            cpus += (int(hi) if hi else int(lo)) - int(lo) + 1
    # mm/percpu.c pcpu_dump_alloc_info: "pcpu-alloc: [0] 0 1 2 3 - -", one token a unit
    toks = [t for a in re.findall(r"pcpu-alloc: (\[.*)$", log, re.M) for t in a.split()
            if not t.startswith("[")]
    units = len(toks) or cpus
    check("per-CPU units = pcpu-alloc units (else possible CPUs)", units, n["percpu_units"])
    if m:
        want = int(m.group(1)) * ps * units
        check("per-CPU first chunk = dmesg pages x page size x units",
              want if want <= mi["Percpu"] else 0, n["percpu_first_chunk_bytes"])

    # Smaller than the formula of kmem before the node work.
    o = det["outside"]
    old_in = max(0, n["unaccounted_raw_bytes"] + n["kinds"]["hash_tables"] + n["kinds"]["bounce"] +
                 n["kinds"]["writeback_tmp"] + n["isolated_bytes"] - n["percpu_first_chunk_bytes"])
    old_out = o["total_bytes"] - o["parts"]["memmap"]
    new = o["unexplained_total_bytes"]
    ok = new is not None and new < old_in + old_out
    print("%s - %s: unexplained rest %s < %d before (%d inside, %d outside; MiB %.1f -> %.1f)" % (
        "ok" if ok else "not ok", label, new, old_in + old_out, old_in, old_out,
        (old_in + old_out) / 1048576.0, (new or 0) / 1048576.0))
    if not ok:
        failed.append("smaller")
    print("# %s: kinds %s; outside %s" % (label, json.dumps(n["kinds"]), json.dumps(o["parts"])))

    # The capture, through the host's kmemtop, against its own files.
    if a.tree_dir and a.kmemtop and os.path.isdir(a.tree_dir):
        doc = a.tree_dir.rstrip("/") + ".node.json"
        with open(doc, "w") as f:
            rc = subprocess.call([a.kmemtop, "--root", a.tree_dir, "--json"], stdout=f,
                                 stderr=subprocess.DEVNULL)
        check("host kmemtop --root CAPTURE --json exits 0", 0, rc)
        rc = subprocess.call([sys.executable, os.path.join(HERE, "..", "integration", "node_files.py"),
                              "%s capture" % label, a.tree_dir, doc])
        if rc:
            failed.append("capture")
    return 1 if failed else 0


def check_vmpair(check, label, blocks, files, ps, kmemtop):
    """vmallocinfo = the vmalloc counter, exactly, on the pair read at one moment."""
    pair = [at for k, at, _ in blocks if k == "vmpair"]
    pf = {p[len("vmpair:"):]: b for p, b in files.items() if p.startswith("vmpair:")}
    check("vmpair: the guest read vmallocinfo and the counter at one moment", True,
          bool(pair) and "/proc/vmallocinfo" in pf)
    if not pair or "/proc/vmallocinfo" not in pf:
        return
    check("vmpair: the counter read twice around the listing, folded, agreed (tries %s)"
          % pair[0].get("tries"), "yes", pair[0].get("stable"))
    vs = dict((f[0], int(f[1])) for f in (l.split() for l in pf["/proc/vmstat"].splitlines())
              if len(f) == 2 and f[1].isdigit())
    mi = dict((f[0].rstrip(":"), int(f[1])) for f in (l.split() for l in pf["/proc/meminfo"].splitlines())
              if len(f) >= 2 and f[1].isdigit())
    if "nr_vmalloc" in vs:
        counter, what = vs["nr_vmalloc"] * ps, "vmstat nr_vmalloc (the node counter NR_VMALLOC)"
    else:
        counter, what = mi["VmallocUsed"] * 1024, "VmallocUsed (the atomic nr_vmalloc_pages)"
    # kmem's rule (mm/vmalloc.c vmalloc_info_show): pages=N of the areas flagged "vmalloc"
    # (VM_ALLOC). The reader's own seq_file buffer, kvmalloc'd, would be listed while it
    # reads but freed before the second read of the counter: left out (caller seq_read*).
    areas = pages = own = 0
    for line in pf["/proc/vmallocinfo"].splitlines():
        f = line.split()
        m = re.search(r" pages=(\d+)", line)
        if len(f) < 3 or not m or "vmalloc" not in f[3:]:
            continue
        areas += 1
        pages += int(m.group(1))
        if f[2].startswith("seq_read"):
            own += int(m.group(1))
    check("vmpair: vmalloc areas compared >= 10 (%d)" % areas, True, areas >= 10)
    check("vmpair: sum of pages=N x page size of %d vmalloc areas (less %d pages of the reader's "
          "seq_file buffer) = %s, exactly" % (areas, own, what), counter, (pages - own) * ps)
    if not kmemtop:
        return
    # kmem on the same listing: the host's kmemtop on a tree of the pair's files.
    with tempfile.TemporaryDirectory(prefix="kmem-vmpair.") as tree:
        os.mkdir(os.path.join(tree, "proc"))
        for name in ("vmallocinfo", "meminfo", "vmstat"):
            with open(os.path.join(tree, "proc", name), "w") as f:
                f.write(pf["/proc/" + name])
        out = subprocess.run([kmemtop, "--root", tree, "--json"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
    got = None
    if out.returncode == 0:
        got = json.loads(out.stdout)["node_detail"]["vmalloc"]["bytes"] - own * ps
    check("vmpair: host kmemtop --root PAIR: vmalloc bytes (less the reader's buffer) = %s, exactly"
          % what, counter, got)


if __name__ == "__main__":
    sys.exit(main())
