#!/bin/sh
# The labels of every metric family (SPEC.md, "Metric families"): each
# family's samples carry exactly its label names, read from real scrapes:
# every cgroup fixture with every opt-in family switched on, and this machine
# (live). A family of the table that no scrape here can have (the BPF
# families, kmem_cgroup_slab_bytes: tests/integration/alloc_live.sh and
# kmemtop_owners.sh read those) is listed, not silently passed.
. "$(dirname "$0")/../lib.sh"
E="$B/kmem_exporter"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
[ -x "$E" ] || { not_ok "kmem_exporter is built in $B"; finish; }

OPTS="--collector.slabinfo.static-families --collector.cgroup.dying-descendants
--collector.cgroup.v1-sock --collector.cadvisor-compat=always"
n=0
for f in "$FIXTURES"/v1-cgroupfs "$FIXTURES"/v2-* "$SHARED_FIXTURE"; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    "$E" --once --root "$f" $OPTS >"$T/s$n.txt" 2>/dev/null ||
        not_ok "kmem_exporter --once --root $f exits 0"
done
if [ "$(id -u)" = 0 ]; then
    n=$((n + 1))
    # shellcheck disable=SC2086
    "$E" --once $OPTS >"$T/s$n.txt" 2>/dev/null || not_ok "kmem_exporter --once (live) exits 0"
fi
check "scrapes to read ($n, at least 6)" test "$n" -ge 6

cat "$T"/s*.txt | python3 -c '
import re, sys
# family: the label names SPEC.md gives it; "+" marks labels that may be
# absent (kmem_slab_info: the sysfs attributes, where /sys/kernel/slab is
# readable).
SPEC = {
    "kmem_slab_objects": "cache", "kmem_slab_active_objects": "cache",
    "kmem_slab_slabs": "cache", "kmem_slab_size_bytes": "cache",
    "kmem_slab_active_bytes": "cache",
    "kmem_slab_info": "cache object_size_bytes objects_per_slab pages_per_slab "
                      "+reclaimable +accounted +merged +order +aliases",
    "kmem_slab_object_size_bytes": "cache", "kmem_slab_objects_per_slab": "cache",
    "kmem_slab_pages_per_slab": "cache",
    "kmem_node_kernel_bytes": "kind",
    "kmem_cgroup_kernel_bytes": "cgroup pod namespace container",
    "kmem_cgroup_kernel_component_bytes": "cgroup kind",
    "kmem_cgroup_sock_bytes": "cgroup",
    "kmem_cgroup_kernel_exact": "",
    "kmem_cgroup_kernel_upper_bound_bytes": "cgroup",
    "kmem_memory_cgroups_dying": "",
    "kmem_cgroup_dying_descendants": "cgroup",
    "container_memory_kernel_usage": "container id image name namespace pod",
    "kmem_collector_success": "collector", "kmem_collector_duration_seconds": "collector",
    "kmem_exporter_build_info": "version",
}
ELSEWHERE = ["kmem_cgroup_slab_bytes"]  # the owner snapshot (BPF)
seen = {}
for line in sys.stdin:
    m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ", line)
    if not m or line.startswith("#"):
        continue
    keys = frozenset(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"", m.group(2) or ""))
    seen.setdefault(m.group(1), set()).add(keys)
bad = 0
for fam, spec in sorted(SPEC.items()):
    must = {k for k in spec.split() if not k.startswith("+")}
    may = {k[1:] for k in spec.split() if k.startswith("+")}
    got = seen.get(fam)
    if not got:
        print("not ok - %s: no sample in any scrape" % fam)
        bad += 1
        continue
    wrong = [sorted(k) for k in got if not (must <= k <= must | may)]
    if wrong:
        print("not ok - %s: labels %s, SPEC.md: %s" % (fam, wrong[0], spec))
        bad += 1
    else:
        print("ok - %s: labels {%s} (%d label sets)" % (fam, ", ".join(sorted(must)), len(got)))
print("ok - %d families of SPEC.md read (not here: %s)" % (len(SPEC), ", ".join(ELSEWHERE)))
sys.exit(1 if bad else 0)
'
check "every family of SPEC.md has exactly its labels" test $? -eq 0
finish
