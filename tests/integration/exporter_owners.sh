#!/bin/sh
# kmem_exporter --collector.owners on the fixture owners-v2: the family
# kmem_cgroup_slab_bytes with every label (cgroup, cache, namespace, pod,
# container) checked against the fixture's files, top N per cgroup with the
# rest as cache="other", per cgroup the series adding up to the rows of
# kmem-owners.txt, its own interval while serving, off by default, and one
# line saying why when there is no owner snapshot.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exporter.lib.sh"

OW="$FIXTURES/owners-v2"
T=$(tmpdir)
trap 'stop_all; rm -rf "$T"' EXIT INT TERM
[ -x "$E" ] || { not_ok "kmem_exporter is built at $E"; finish; }

"$E" --root "$OW" --once >"$T/off" 2>/dev/null
check "off by default: no kmem_cgroup_slab_bytes" sh -c "! grep -q kmem_cgroup_slab_bytes '$T/off'"
check "off by default: no owners collector" sh -c "! grep -q 'collector=\"owners\"' '$T/off'"

"$E" --root "$OW" --once --collector.owners --collector.owners.top=3 >"$T/m" 2>"$T/err"
check_eq "--collector.owners --once: exit 0" 0 $?
check "HELP and TYPE gauge" sh -c "grep -q '^# HELP kmem_cgroup_slab_bytes ' '$T/m' &&
    grep -q '^# TYPE kmem_cgroup_slab_bytes gauge\$' '$T/m'"
check "kmem_collector_success{collector=\"owners\"} 1" grep -q '^kmem_collector_success{collector="owners"} 1$' "$T/m"

# Every series against the fixture: labels from the file's rows (cgroup,
# cache), the cgroup tree (the path exists) and the pod logs (namespace, pod,
# container); values from the rows; per cgroup top 3 + other = all rows.
python3 - "$T/m" "$OW" 3 <<'PY'
import os, re, sys
from collections import defaultdict
expo, root, top = sys.argv[1], sys.argv[2], int(sys.argv[3])
# pod UID -> (namespace, pod); container id -> container, from var/log
pods, ctrs = {}, {}
for d in os.listdir(root + "/var/log/pods"):
    ns, pod, uid = d.split("_")
    pods[uid.replace("-", "_")] = (ns, pod)
for f in os.listdir(root + "/var/log/containers"):
    name, cid = f[:-4].rsplit("-", 1)
    pod, ns, ctr = name.split("_")
    ctrs[cid] = ctr
def identity(path):
    m = re.search(r"pod([0-9a-f_]{36})\.slice", path)
    if not m:
        return ("", "", "")
    ns, pod = pods[m.group(1)]
    m2 = re.search(r"cri-containerd-([0-9a-f]{64})\.scope$", path)
    # a container without a log of its own is the pod's sandbox: "POD", as cAdvisor names it
    return (ns, pod, ctrs.get(m2.group(1), "POD") if m2 else "")
rows = defaultdict(list)
for line in open(root + "/kmem-owners.txt").read().splitlines()[8:]:
    cid, objs, b, cache, path = line.split("\t")
    if cid != "0" and path:
        rows[path].append((int(b), cache))
series = defaultdict(dict)
pat = re.compile(r'^kmem_cgroup_slab_bytes\{cgroup="([^"]*)",cache="([^"]*)",namespace="([^"]*)",'
                 r'pod="([^"]*)",container="([^"]*)"\} (\d+)$')
n = 0
bad = []
for line in open(expo):
    if not line.startswith("kmem_cgroup_slab_bytes{"):
        continue
    m = pat.match(line.rstrip("\n"))
    if not m:
        bad.append("labels: " + line.strip())
        continue
    path, cache, ns, pod, ctr, v = m.groups()
    n += 1
    if not os.path.isdir(root + "/sys/fs/cgroup" + path):
        bad.append("no such cgroup " + path)
    if (ns, pod, ctr) != identity(path):
        bad.append("identity of %s: %s, want %s" % (path, (ns, pod, ctr), identity(path)))
    series[path][cache] = int(v)
def ok(cond, desc):
    print(("ok - " if cond else "not ok - ") + desc)
for b in bad[:5]:
    print("# " + b)
ok(not bad, "every series: the 5 labels, a cgroup of the tree, its namespace/pod/container")
ok(n >= 20, "series compared: %d (at least 20)" % n)
ok(set(series) == set(rows), "one cgroup per path of the file (%d), removed and not charged left out" % len(rows))
sums = 0
for path, rs in rows.items():
    rs.sort(key=lambda r: (-r[0], r[1]))
    want = {c: b for b, c in rs[:top]}
    if len(rs) > top:
        want["other"] = sum(b for b, c in rs[top:])
    if series[path] != want:
        print("# %s: %s, want %s" % (path, series[path], want))
    else:
        sums += 1
    if sum(series[path].values()) != sum(b for b, c in rs):
        print("# %s: series add up to %d, rows to %d" % (path, sum(series[path].values()), sum(b for b, c in rs)))
        sums -= 1000
ok(sums == len(rows), "per cgroup: the top %d caches, the rest as other; the series add up to the file's rows (%d cgroups)" % (top, len(rows)))
nother = sum(1 for s in series.values() if "other" in s)
ok(nother >= 3, "cache=\"other\" where a cgroup has more than %d caches (%d cgroups)" % (top, nother))
PY

# The default N (10): no "other" in this fixture (10 caches at most).
"$E" --root "$OW" --once --collector.owners >"$T/m10" 2>/dev/null
check_eq "default top 10: every row of a cgroup with a path, no other" \
    "$(awk -F '\t' 'NR > 8 && $1 != 0 && $5 != ""' "$OW/kmem-owners.txt" | wc -l)" \
    "$(grep -c '^kmem_cgroup_slab_bytes{' "$T/m10")"

# No owner snapshot: the collector fails, and the log says why in one line.
"$E" --root "$FIXTURES/v2-systemd-containerd" --once --collector.owners >"$T/m" 2>"$T/err"
check "no snapshot: kmem_collector_success{collector=\"owners\"} 0" \
    grep -q '^kmem_collector_success{collector="owners"} 0$' "$T/m"
check "no snapshot: the family is empty" sh -c "! grep -q '^kmem_cgroup_slab_bytes{' '$T/m'"
check_eq "no snapshot: one log line with the reason" 1 \
    "$(grep -c 'no owner snapshot: no kmem-owners.txt under this root' "$T/err")"

# Its own interval while serving: the file changes, the series follow only
# once the interval has passed.
cp -r "$OW" "$T/ow"
port=$(free_port)
spawn "$T/log" "$E" --root "$T/ow" --web.listen-address="127.0.0.1:$port" --collector.owners --collect.min-interval=0 \
    --collector.owners.interval=3600
if wait_url "http://127.0.0.1:$port/metrics" 20; then
    v1=$(curl -s "http://127.0.0.1:$port/metrics" | grep -c '^kmem_cgroup_slab_bytes{')
    sed -i '$d' "$T/ow/kmem-owners.txt" # now truncated: unreadable
    sleep 1.1
    v2=$(curl -s "http://127.0.0.1:$port/metrics" | grep -c '^kmem_cgroup_slab_bytes{')
    check_eq "--collector.owners.interval=3600: the last snapshot is served meanwhile" "$v1" "$v2"
else
    not_ok "the exporter serves /metrics"
fi
stop_all
port=$(free_port)
spawn "$T/log2" "$E" --root "$T/ow" --web.listen-address="127.0.0.1:$port" --collector.owners --collect.min-interval=0 \
    --collector.owners.interval=0
if wait_url "http://127.0.0.1:$port/metrics" 20; then
    curl -s "http://127.0.0.1:$port/metrics" >"$T/m0"
    check "--collector.owners.interval=0: read every time (the truncated file fails)" \
        grep -q '^kmem_collector_success{collector="owners"} 0$' "$T/m0"
    check "... with file and line in the log" grep -q 'kmem-owners.txt:50: fewer rows' "$T/log2"
else
    not_ok "the exporter serves /metrics"
fi
stop_all
finish
