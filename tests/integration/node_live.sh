#!/bin/sh
# Node kernel memory on the live machine and on the shared fixture: the
# figures libkmem collects (printed by `test_node` with KMEM_NODE_DUMP=1)
# against /proc read by awk, and the unexplained rest must be sane.
. "$(dirname "$0")/../lib.sh"
T="$B/tests/test_node"
[ -x "$T" ] || { not_ok "node: $T not built"; finish; }

# kB value of a /proc/meminfo field, as bytes.
mi() { awk -v k="$1:" '$1 == k { print $2 * 1024; f = 1 } END { if (!f) print 0 }' "$2/proc/meminfo"; }
dump_get() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

# Live figures move between reads. A window counts only when /proc/meminfo,
# copied by the collecting process itself just before and just after its
# collection (its own page tables and slab, large under ASan, are there in
# both), agrees on every field compared: then kmem must equal it, and one
# wrong stable window fails at once. Unstable windows are retried (up to 200
# tries, each one collection; other work on the machine moves the counters),
# and no stable window at all fails too. The tries are printed.
wd=$(tmpdir)  # (lib.sh check() uses $d)
mkdir -p "$wd/live/proc" "$wd/before/proc"
fields() {
    sr=$(mi SReclaimable "$1"); su=$(mi SUnreclaim "$1")
    ks=$(mi KernelStack "$1"); pt=$(mi PageTables "$1"); pc=$(mi Percpu "$1")
    echo "$sr $su $ks $pt $pc"
}
stable=0 tries=0 want='' got=''
while [ "$tries" -lt 200 ]; do
    tries=$((tries + 1))
    if ! KMEM_NODE_DUMP=1 KMEM_NODE_MEMINFO_BEFORE="$wd/before/proc/meminfo" \
        KMEM_NODE_MEMINFO_COPY="$wd/live/proc/meminfo" "$T" >"$wd/dump" 2>"$wd/err"; then
        not_ok "node: live collection failed: $(cat "$wd/err")"
        break
    fi
    want=$(fields "$wd/live")
    [ "$(fields "$wd/before")" = "$want" ] || continue
    stable=1
    # percpu leaves out the first chunk (set aside at boot, outside MemTotal);
    # thread stacks from a slab cache leave slab_unreclaimable.
    fc=$(dump_get percpu_first_chunk_bytes "$wd/dump")
    su=$(dump_get kind_slab_unreclaimable "$wd/dump")
    [ "$(dump_get stack_in_slab "$wd/dump")" = 1 ] && su=$((su + $(dump_get kind_kernel_stack "$wd/dump")))
    got="$(dump_get kind_slab_reclaimable "$wd/dump") $su $(dump_get kind_kernel_stack "$wd/dump")"
    got="$got $(dump_get kind_pagetables "$wd/dump") $(($(dump_get kind_percpu "$wd/dump") + fc))"
    break
done
echo "# node: $tries tries for a window in which /proc/meminfo stood still"
check "node: live /proc/meminfo stood still around one collection (of $tries tries)" [ "$stable" = 1 ]
[ "$stable" = 1 ] &&
    check_eq "node: live kinds equal /proc/meminfo (SReclaimable, SUnreclaim, KernelStack, PageTables, Percpu - first chunk)" \
        "$want" "$got"
check "node: live kinds compared: 5" [ "$(echo "$got" | wc -w)" -eq 5 ]

total=$(dump_get kernel_total "$wd/dump")
sum=$(awk '/^kind_/ { s += $2 } END { printf "%.0f", s }' "$wd/dump")
check_eq "node: live kinds sum to kernel_total" "$total" "$sum"
uns=$(dump_get unaccounted_signed "$wd/dump")
memtotal=$(dump_get memtotal "$wd/dump")
check "node: live unaccounted is not negative ($uns)" [ "${uns:-x}" -ge 0 ]
check "node: live unaccounted under 10% of MemTotal ($uns of $memtotal)" \
    [ "$uns" -lt $((memtotal / 10)) ]
check_eq "node: live stacks decided from /proc/vmallocinfo" "vmallocinfo" \
    "$(dump_get vmap_stack_source "$wd/dump")"
if grep -Eq 'kernel_clone|alloc_thread_stack_node|copy_process|dup_task_struct' /proc/vmallocinfo; then
    check_eq "node: live vmap'd stacks" 1 "$(dump_get vmap_stack "$wd/dump")"
fi

# Per-CPU free pages: awk's own count of pageset "count:" lines (after "cpu:").
pcp_awk() {
    awk '$1 == "cpu:" { want = 1; next } want && $1 == "count:" { s += $2; want = 0 }
        /^Node/ { want = 0 } END { print s + 0 }' /proc/zoneinfo
}
# The lists change all the time: compare with awk's sums just before and
# after a collection, with slack (the parser's exact behaviour is covered by
# the unit tests and the fixture below).
p1=$(pcp_awk)
KMEM_NODE_DUMP=1 "$T" >"$wd/dump2" 2>/dev/null
p2=$(pcp_awk)
got=$(dump_get percpu_free_pages "$wd/dump2")
lo=$p1; hi=$p2; [ "$p2" -lt "$p1" ] && { lo=$p2; hi=$p1; }
check "node: live per-CPU free pages near awk's sum ($got, awk $p1..$p2)" \
    [ "${got:-x}" -ge $((lo * 3 / 4 - 512)) -a "${got:-x}" -le $((hi * 5 / 4 + 512)) ]
ps=$(getconf PAGESIZE)
mm=$(awk -v ps="$ps" '$1 == "nr_memmap_pages" || $1 == "nr_memmap_boot_pages" { s += $2 }
    END { printf "%.0f", s * ps }' /proc/vmstat)
check_eq "node: live memmap bytes" "$mm" "$(dump_get memmap_bytes "$wd/dump")"

# The shared fixture through the same binary: exact figures.
if [ -d "$SHARED_FIXTURE" ]; then
    KMEM_NODE_DUMP=1 KMEM_NODE_ROOT="$SHARED_FIXTURE" "$T" >"$wd/fix" 2>"$wd/err"
    check "node: fixture collection" [ $? -eq 0 ]
    check_eq "node: fixture slab_reclaimable" "$(mi SReclaimable "$SHARED_FIXTURE")" \
        "$(dump_get kind_slab_reclaimable "$wd/fix")"
    check_eq "node: fixture percpu free pages" 12246 "$(dump_get percpu_free_pages "$wd/fix")"
    if [ "$ps" = 4096 ]; then
        check_eq "node: fixture unaccounted" $((15684 * 1024)) "$(dump_get kind_unaccounted "$wd/fix")"
    fi
fi

# ---- the new figures against the kernel's own counters and files, live
K="$B/kmemtop"
if [ -x "$K" ] && [ "$(id -u)" = 0 ]; then
    # Two kernel sources that must agree, read a moment apart by kmemtop.
    # As above, a window counts only when the figure stood still around the
    # collection (VmallocUsed and the vmallocinfo sum; SReclaimable), each
    # figure on its own: in such a window kmem must equal the kernel.
    # Equal readings around it do not prove that nothing moved meanwhile: a
    # process forked and gone within the window (a 16 KiB vmalloc'd stack)
    # leaves both alike. So a stable window where kmem differs is read
    # again, and ten of them fail (a kmem that is wrong is wrong in each).
    # Unstable windows are retried (up to 300 tries: forks move vmalloc on a
    # busy machine); none at all fails.
    vsum() { awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^pages=/) s += substr($i, 7) } END { print s + 0 }' /proc/vmallocinfo; }
    vm_st=0 recl_st=0 vm_ok=0 recl_ok=0 vtries=0 vm_what='' recl_what='' vm_bad=0 recl_bad=0
    while [ "$vtries" -lt 300 ] && { [ $vm_st = 0 ] || [ $recl_st = 0 ]; }; do
        vtries=$((vtries + 1))
        v0="$(mi VmallocUsed "") $(vsum)" r0=$(mi SReclaimable "")
        "$K" --json >"$wd/live.json" 2>/dev/null || break
        v1="$(mi VmallocUsed "") $(vsum)" r1=$(mi SReclaimable "")
        python3 - "$wd/live.json" >"$wd/match" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
mi, det, gap = d["node"]["meminfo"], d["node_detail"], d["node"]["slab_gap"]
print("vm", int(det["vmalloc"]["bytes"] == mi["VmallocUsed"]), det["vmalloc"]["bytes"], mi["VmallocUsed"])
print("recl", int(gap is not None and gap["reclaimable_caches_bytes"] == mi["SReclaimable"]),
      gap and gap["reclaimable_caches_bytes"], mi["SReclaimable"])
EOF
        if [ $vm_st = 0 ] && [ "$v0" = "$v1" ]; then
            vm_ok=$(dump_get vm "$wd/match")
            vm_what=$(grep '^vm ' "$wd/match")
            if [ "$vm_ok" = 1 ] || [ $vm_bad -ge 9 ]; then vm_st=$vtries; else vm_bad=$((vm_bad + 1)); fi
        fi
        if [ $recl_st = 0 ] && [ "$r0" = "$r1" ]; then
            recl_ok=$(dump_get recl "$wd/match")
            recl_what=$(grep '^recl ' "$wd/match")
            if [ "$recl_ok" = 1 ] || [ $recl_bad -ge 9 ]; then recl_st=$vtries; else recl_bad=$((recl_bad + 1)); fi
        fi
    done
    echo "# node: stable windows at try $vm_st (vmalloc) and $recl_st (SReclaimable) of $vtries;" \
        "stable windows that differed before: $vm_bad (vmalloc), $recl_bad (SReclaimable)"
    check "node: live VmallocUsed and /proc/vmallocinfo stood still around one kmemtop (of $vtries tries)" [ $vm_st -gt 0 ]
    check "node: live SReclaimable stood still around one kmemtop (of $vtries tries)" [ $recl_st -gt 0 ]
    [ $vm_st -gt 0 ] &&
        check "node: live vmallocinfo sum of pages=N x page size = meminfo VmallocUsed ($vm_what)" [ "$vm_ok" = 1 ]
    [ $recl_st -gt 0 ] &&
        check "node: live caches with reclaim_account (sysfs) sum to meminfo SReclaimable ($recl_what)" [ "$recl_ok" = 1 ]
    # Static files: exact.
    dmesg >"$wd/dmesg" 2>/dev/null
    python3 - "$wd/live.json" "$wd/dmesg" "$(getconf PAGESIZE)" >"$wd/static.tap" <<'EOF'
import json, re, sys
d = json.load(open(sys.argv[1]))
log = open(sys.argv[2]).read()
ps = int(sys.argv[3])
n, det = d["node"], d["node_detail"]
def check(desc, want, got):
    print(("ok - " if want == got else "not ok - ") + "node: live " + desc +
          ("" if want == got else " (expected %r, got %r)" % (want, got)))
ram = 0; named = 0
for line in open("/proc/iomem"):
    m = re.match(r"^( *)([0-9a-f]+)-([0-9a-f]+) : (.*)$", line.rstrip("\n"))
    if not m: continue
    size = int(m.group(3), 16) - int(m.group(2), 16) + 1
    if m.group(1) == "" and m.group(4) == "System RAM": ram += size
    if m.group(4) in ("Kernel code", "Kernel rodata", "Kernel data", "Kernel bss"): named += size
check("iomem System RAM", ram, det["iomem"]["system_ram_bytes"])
check("iomem kernel code + rodata + data + bss", named, det["outside"]["kernel_image_named_bytes"])
check("outside total = System RAM - MemTotal", ram - n["meminfo"]["MemTotal"], det["outside"]["total_bytes"])
EARLY = {"Dentry cache", "Inode-cache", "PV qspinlock", "PID"}
hb = {"boot": 0, "pages": 0, "vmalloc": 0}
for m in re.finditer(r"\] (.+?) hash table entries: \d+ \(order:? \d+, (\d+) bytes(?:, (linear|vmalloc))?", log):
    home = "vmalloc" if m.group(3) == "vmalloc" else ("boot" if m.group(1) in EARLY else "pages")
    hb[home] += int(m.group(2))
# 6.17+: "futex hash table entries: 512 (32768 bytes on 1 NUMA nodes, total 32 KiB, linear)."
for m in re.finditer(r"\] futex hash table entries: \d+ \((\d+) bytes on (\d+) NUMA nodes?, total \d+ KiB, (linear|vmalloc)\)", log):
    hb["vmalloc" if m.group(3) == "vmalloc" else "pages"] += int(m.group(1)) * int(m.group(2))
if sum(hb.values()):
    check("kernel log hash tables (dmesg) by home", hb, n["boot_log"]["hash_bytes"])
    check("hash_tables kind = dmesg tables from the page allocator", hb["pages"], n["kinds"]["hash_tables"])
m = re.search(r"percpu: Embedded (\d+) pages/cpu", log)
cpus = 0
for r in open("/sys/devices/system/cpu/possible").read().strip().split(","):
    a, _, b = r.partition("-"); cpus += (int(b) if b else int(a)) - int(a) + 1
toks = [t for a in re.findall(r"pcpu-alloc: (\[.*)$", log, re.M) for t in a.split() if not t.startswith("[")]
units = len(toks) or cpus
check("per-CPU units = dmesg pcpu-alloc units (else possible CPUs)", units, n["percpu_units"])
if m:
    check("per-CPU first chunk = dmesg pages x page size x units", int(m.group(1)) * ps * units, n["percpu_first_chunk_bytes"])
# Smaller than before: the old kmem explained none of these.
o = det["outside"]
old_in = max(0, n["unaccounted_raw_bytes"] + n["kinds"]["hash_tables"] + n["kinds"]["bounce"] +
             n["kinds"]["writeback_tmp"] + n["isolated_bytes"] - n["percpu_first_chunk_bytes"])
old_out = o["total_bytes"] - o["parts"]["memmap"]
new = o["unexplained_total_bytes"]
print(("ok - " if new < old_in + old_out else "not ok - ") +
      "node: live unexplained rest (inside + outside MemTotal) %d < %d before (%d inside, %d outside)" %
      (new, old_in + old_out, old_in, old_out))
EOF
    cat "$wd/static.tap"
    grep -q '^not ok' "$wd/static.tap" && _fail=1
    for z in /sys/block/zram*/mm_stat; do
        [ -f "$z" ] || continue
        dev=$(basename "$(dirname "$z")")
        check_eq "node: live zram $dev mem_used_total" "$(awk '{ print $3 }' "$z")" \
            "$(jq -r --arg d "$dev" '.node.zram.devices[] | select(.name == $d) | .mem_used_bytes' "$wd/live.json")"
    done
fi

# A broken root gives a message naming the file and line.
mkdir -p "$wd/bad/proc"
cp "$SHARED_FIXTURE/proc/vmstat" "$SHARED_FIXTURE/proc/zoneinfo" "$wd/bad/proc/" 2>/dev/null
printf 'MemTotal: 1 kB\nMemFree: oops kB\n' >"$wd/bad/proc/meminfo"
KMEM_NODE_DUMP=1 KMEM_NODE_ROOT="$wd/bad" "$T" >/dev/null 2>"$wd/err"
check "node: parse error names file and line" grep -q "$wd/bad/proc/meminfo:2:" "$wd/err"

rm -rf "$wd"
finish
