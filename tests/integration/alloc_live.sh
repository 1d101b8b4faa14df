#!/bin/sh
# shellcheck disable=SC2046,SC2016 # summary's words are meant to split; sh -c '... $1' on purpose
# Live test of kmemtop --alloc (root, BPF, cgroup v1 memory controller).
#
# Two memory cgroups kmem-alloc-PID/{a,b}; "b" holds an idle process. Two
# tracers run: a long one around everything and a short one around the
# creation phase only. A process in "a" mounts a private tmpfs, creates NFILES
# files (shell builtins only: no fork per file), waits, removes them and
# leaves (its mount namespace, and the tmpfs, go with it).
#
#   short trace: "a" allocated >= NFILES dentry and shmem_inode_cache objects
#                and they are still live (net >= NFILES - TOL); "b" nothing.
#   long trace:  the same allocations, then frees credited back to "a" -
#                although most frees run in RCU callbacks and the namespace
#                teardown, not in "a"'s process - so that "a"'s net growth of
#                both caches is back within TOL objects of 0; "b" nothing.
#
# TOL: the tmpfs files' dentries and inodes are all freed once the tmpfs is
# unmounted, so the expected net is exactly 0 (measured 0-3 here); the
# tolerance (1% of NFILES) absorbs an event missed in an interrupt within an
# interrupt and an RCU callback still pending when the trace stops (the test
# asks for an rcu_barrier() and waits up to 120 s for the frees). Objects the
# tracer could not follow (its table full on a busy machine) are not in the
# net; the short trace counts them in. The total net bytes of "a" over all
# caches must also be under 5% of what it allocated.
. "$(dirname "$0")/../lib.sh"
M=/sys/fs/cgroup/memory
NFILES=20000
TOL=$((NFILES / 100))
T=$(test "$(id -u)" -eq 0 && tmpdir)
CG=kmem-alloc-$$
idle='' long='' short='' rates='' work='' exp='' exp2=''
PORT=$((20000 + $$ % 20000))

need_root alloc_live
if [ ! -d "$M" ]; then
    not_ok "no cgroup v1 memory controller at $M"
    finish
fi

ORIG=$(sed -n 's/^[0-9]*:memory:\(.*\)$/\1/p' /proc/self/cgroup)
cleanup() {
    for p in $idle $long $short $rates $work $exp $exp2; do kill "$p" 2>/dev/null; done
    for p in $idle $long $short $rates $work $exp $exp2; do wait "$p" 2>/dev/null; done
    cg_remove "$M" "$ORIG" "$M/$CG/a" "$M/$CG/b" "$M/$CG"
    umount "$T/mnt" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# wait_for FILE: up to 20 s for FILE to exist (and, for a tracer's stderr, say "tracing").
wait_for() {
    i=0
    while [ $i -lt 200 ]; do
        [ -s "$1" ] && { [ "${2:-}" = "" ] || grep -q "$2" "$1"; } && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# summary JSON CGROUP: "<dentry allocs> <dentry net objs> <shmem allocs> <shmem net objs>
# <entries of cgroup> <net bytes of cgroup> <bytes allocated by cgroup>
# <dentry + shmem allocations not followed (live-object table full)>"
summary() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
mine = [e for e in d["entries"] if e["cgroup"] == sys.argv[2]]
def get(cache, k):
    return sum(e[k] for e in mine if e["cache"] == cache)
print(get("dentry", "allocs"), get("dentry", "net_objects"),
      get("shmem_inode_cache", "allocs"), get("shmem_inode_cache", "net_objects"),
      len(mine), sum(e["net_bytes"] for e in mine), sum(e["bytes_allocated"] for e in mine),
      get("dentry", "not_followed") + get("shmem_inode_cache", "not_followed"))
EOF
}

mkdir -p "$M/$CG/a" "$M/$CG/b" "$T/mnt"
mkfifo "$T/go"
check "created $M/$CG/{a,b}" test -f "$M/$CG/b/cgroup.procs"

# "b": an idle process, in place before the traces start.
sh -c "echo \$\$ >'$M/$CG/b/cgroup.procs' && exec sleep 600" &
idle=$!
i=0
while [ "$(cat "$M/$CG/b/cgroup.procs")" != "$idle" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "idle process is in /$CG/b" "$idle" "$(cat "$M/$CG/b/cgroup.procs")"
sleep 0.5

"$B/kmemtop" --alloc 300 --json >"$T/long.json" 2>"$T/long.err" &
long=$!
check "long tracer attached" wait_for "$T/long.err" tracing
"$B/kmemtop" --alloc 300 --alloc-check shmem_inode_cache --json >"$T/short.json" 2>"$T/short.err" &
short=$!
check "short tracer attached" wait_for "$T/short.err" tracing
# The cheap mode (the exporter's default) over the same moments: one window.
"$B/kmemtop" --alloc 300 --alloc-rates --json >"$T/rates.json" 2>"$T/rates.err" &
rates=$!
check "rates tracer attached" wait_for "$T/rates.err" tracing
# The exporter's collector too (top 1000 pairs: a's are surely among them; no reuse
# of a collection younger than 1 s: each scrape below must see the moment).
"$B/kmem_exporter" --web.listen-address "127.0.0.1:$PORT" --collect.min-interval 0 --collector.alloc \
    --collector.alloc.mode track --collector.alloc.top 1000 --collector.alloc.objects 2000000 \
    2>"$T/exp.err" &
exp=$!
check "exporter with --collector.alloc listening" wait_for "$T/exp.err" "Listening on"
# A second one with a small live-object table: it must be emptied, not fill.
"$B/kmem_exporter" --web.listen-address "127.0.0.1:$((PORT + 1))" --collect.min-interval 0 \
    --collector.alloc --collector.alloc.mode track --collector.alloc.objects 4096 2>"$T/exp2.err" &
exp2=$!
check "exporter with a 4096-object table listening" wait_for "$T/exp2.err" "Listening on"
curl -sf "http://127.0.0.1:$((PORT + 1))/metrics" >/dev/null
# scrape NAME: the exposition into $T/NAME.prom; "a"'s dentry series into $T/NAME.a
scrape() {
    curl -sf "http://127.0.0.1:$PORT/metrics" >"$T/$1.prom"
    grep "cgroup=\"/$CG/a\".*cache=\"dentry\"" "$T/$1.prom" >"$T/$1.a"
    grep "^kmem_alloc_live_bytes{cgroup=\"/$CG/a\".*cache=\"shmem_inode_cache\"" "$T/$1.prom" |
        sed 's/.* //' >"$T/$1.s"
    sed 's/^/# /' "$T/$1.a"
}
val() { sed -n "s/^$1{.*} //p" "$T/$2.a"; }

# "a": create the files, say so, wait for the go, remove them, unmount.
sh -c "echo \$\$ >'$M/$CG/a/cgroup.procs' && exec unshare -m sh -c '
    mount --make-rprivate / && mount -t tmpfs -o size=256m kmem-alloc-test \"$T/mnt\" &&
    cd \"$T/mnt\" || exit 1
    i=0
    while [ \$i -lt $NFILES ]; do : >f\$i; i=\$((i + 1)); done
    echo \$i >\"$T/created\"
    read x <\"$T/go\"
    cd / && rm -rf \"$T/mnt\"/* && umount \"$T/mnt\"
'" &
work=$!
check "a created $NFILES files" wait_for "$T/created"
check_eq "files counted by a" "$NFILES" "$(cat "$T/created" 2>/dev/null)"

kill -INT "$short" "$rates"
wait "$short"
check_eq "short tracer exit status" 0 "$?"
short=
wait "$rates"
check_eq "rates tracer exit status" 0 "$?"
rates=
scrape created
check "exporter: a allocated >= $NFILES dentries" \
    test "$(val kmem_alloc_objects_allocated_total created)" -ge $NFILES
check "exporter: a's dentries are live (>= $((NFILES - TOL)) x 192 bytes)" \
    test "$(val kmem_alloc_live_bytes created)" -ge $(((NFILES - TOL) * 192))
# The small table: 20000 files were more than 3/4 of it: emptied at this
# collection, and it holds no more than it can.
curl -sf "http://127.0.0.1:$((PORT + 1))/metrics" >"$T/small.prom"
m() { sed -n "s/^$1 //p" "$T/small.prom"; }
echo "# small table: capacity $(m kmem_alloc_live_objects_capacity), live $(m kmem_alloc_live_objects), resets $(m kmem_alloc_live_table_resets_total)"
check_eq "small table: capacity 4096" 4096 "$(m kmem_alloc_live_objects_capacity)"
check "small table: emptied when 3/4 full (resets >= 1)" test "$(m kmem_alloc_live_table_resets_total)" -ge 1
check "small table: live objects <= capacity" test "$(m kmem_alloc_live_objects)" -le 4096
kill "$exp2"
wait "$exp2"
exp2=
echo go >"$T/go"
wait "$work"
check_eq "a removed its files and unmounted the tmpfs" 0 "$?"
work=
# Dentries and inodes are freed in RCU callbacks, which this kernel may batch
# for seconds (CONFIG_RCU_LAZY): ask for an rcu_barrier() where the kernel
# offers one, and wait (at most 120 s: under load the callbacks wait for
# CPU too; 1-2 s on a quiet machine) until the exporter sees a's dentries go.
echo 1 >/sys/module/rcutree/parameters/do_rcu_barrier 2>/dev/null
i=0
while [ $i -lt 240 ]; do
    scrape removed >/dev/null
    v=$(val kmem_alloc_live_bytes removed)
    w=$(cat "$T/removed.s")
    # both caches: inodes go in RCU callbacks of their own, after the dentries
    [ -n "$v" ] && [ "$v" -le $((TOL * 192)) ] && [ "${w:-0}" -le $((TOL * 1024)) ] && break
    sleep 0.5
    i=$((i + 1))
done
echo "# waited $((i / 2)) s for the RCU frees of the dentries and inodes"
sleep 1
scrape removed
grep -E '^kmem_alloc_(live_objects|live_table_resets_total|events_lost_total|untracked_frees_total)' \
    "$T/removed.prom" | tr '\n' ' ' | sed 's/^/# exporter: /;s/$/\n/'
check "exporter: a's dentry counter kept growing" \
    test "$(val kmem_alloc_objects_allocated_total removed)" -ge "$(val kmem_alloc_objects_allocated_total created)"
check "exporter: a's live dentry bytes back to ~0 (<= $TOL x 192)" \
    test "$(val kmem_alloc_live_bytes removed)" -le $((TOL * 192))
check "exporter: no allocation series for b" sh -c "! grep -q '^kmem_alloc_.*cgroup=\"/$CG/b\"' '$T/removed.prom'"
check "exporter: promtool check metrics" sh -c "promtool check metrics <'$T/removed.prom'"
check "exporter: kmem_collector_success{collector=\"alloc\"} 1" \
    grep -qx 'kmem_collector_success{collector="alloc"} 1' "$T/removed.prom"
kill "$exp"
wait "$exp"
exp=
kill -INT "$long"
wait "$long"
check_eq "long tracer exit status" 0 "$?"
long=

sed 's/^/# /' "$T/long.err" "$T/short.err"
check "short trace is valid JSON" python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$T/short.json"
check "long trace is valid JSON" python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$T/long.json"

set -- $(summary "$T/short.json" "/$CG/a")
echo "# short trace, /$CG/a: dentry allocs $1 net $2; shmem_inode_cache allocs $3 net $4; $5 entries, net $6 B of $7 B; not followed $8"
check "short: a allocated >= $NFILES dentries ($1)" test "${1:-0}" -ge $NFILES
check "short: a allocated >= $NFILES shmem inodes ($3)" test "${3:-0}" -ge $NFILES
# Objects not followed (a full table on a busy machine) are left out of the net: counted apart.
check "short: a's dentries are live (net $2 + not followed >= $NFILES - $TOL)" \
    test $((${2:-0} + ${8:-0})) -ge $((NFILES - TOL))
check "short: a's shmem inodes are live (net $4 + not followed >= $NFILES - $TOL)" \
    test $((${4:-0} + ${8:-0})) -ge $((NFILES - TOL))
set -- $(summary "$T/short.json" "/$CG/b")
check_eq "short: b has no allocations" 0 "${5:-x}"

# Upper bounds: every event counted once. "a" creates NFILES files: one dentry
# and one tmpfs inode each; besides them its processes allocate a few: the
# tmpfs root's dentry and inode at mount, the marker file's dentry, the
# shell's own path lookups (measured: 0-10 here). UPPER_SLACK allows 50.
UPPER_SLACK=50
set -- $(summary "$T/short.json" "/$CG/a")
check "short: a allocated <= $NFILES + $UPPER_SLACK dentries ($1)" test "${1:-0}" -le $((NFILES + UPPER_SLACK))
check "short: a allocated <= $NFILES + $UPPER_SLACK shmem inodes ($3)" test "${3:-0}" -le $((NFILES + UPPER_SLACK))
# Cross-check with the kernel's count (--alloc-check): the change of
# /proc/slabinfo's active shmem_inode_cache objects between the tracer's own
# reads at its start and at its end, against its net for that cache over
# every cgroup (allocations - frees, frees of older objects included) at the
# same moments. Both see everyone (other processes' tmpfs files count in
# both: the reads are not the test's, whose moments would differ from the
# trace's by seconds on a loaded machine - 10906 inodes once). What may
# differ, each bounded:
#  - the moment of each read: the tracer scans its table just before and
#    just after it; the events of the cache between the scans (in_flight)
#    bound the difference exactly;
#  - events the tracer did not see: it reports them, events_missed (the
#    kernel skipped a program on a busy CPU; an upper bound: most were
#    handled by the second program) and events_lost (its table full);
#  - SLUB: /proc/slabinfo counts as active every object not free on a node's
#    partial list, so the free objects held per CPU are "active": the CPU
#    slab (<= objperslab free) and the CPU partial slabs (at most
#    cpu_partial_slabs = ceil(2 x cpu_partial / objperslab) of them, each
#    <= objperslab free), so <= 2 x cpu_partial + 2 x objperslab per
#    possible CPU; with sheaves (sheaf_capacity > 0) also the main, spare and
#    RCU sheaf of each CPU and up to 10 full sheaves per node's barn
#    (MAX_FULL_SHEAVES), each <= sheaf_capacity. That hidden count is
#    between 0 and its maximum at both reads, so its change is within it.
# None of these grows with the load except in_flight and the reported
# misses, which the tracer counts; 20000 files counted twice, or another
# process's frees not counted, are far outside.
ops=$(cat /sys/kernel/slab/shmem_inode_cache/objs_per_slab 2>/dev/null ||
    awk '$1 == "shmem_inode_cache" { print $5 }' /proc/slabinfo)
cpp=$(cat /sys/kernel/slab/shmem_inode_cache/cpu_partial 2>/dev/null || echo 0)
shc=$(cat /sys/kernel/slab/shmem_inode_cache/sheaf_capacity 2>/dev/null || echo 0)
ncpu=$(python3 -c "import os; print(os.cpu_count())")
possible=$(awk -F, '{ n = 0; for (i = 1; i <= NF; i++) { m = split($i, r, "-"); n += m == 2 ? r[2] - r[1] + 1 : 1 } print n }' /sys/devices/system/cpu/possible 2>/dev/null)
[ "${possible:-0}" -ge "$ncpu" ] 2>/dev/null || possible=$ncpu
nodes=0
for n in /sys/devices/system/node/node[0-9]*; do [ -d "$n" ] && nodes=$((nodes + 1)); done
[ "$nodes" -ge 1 ] || nodes=1
SLUB_SLACK=$((possible * (2 * ops + 2 * cpp + 3 * shc) + nodes * 10 * shc))
set -- $(python3 - "$T/short.json" <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1]))
k = d["kernel_check"]
print(k["traced_net"], k["slabinfo_change"], k["in_flight"], d["events_missed"], d["events_lost"],
      k["slabinfo_active_start"], k["slabinfo_active_end"])
EOF2
)
tnet=$1 dslab=$2 bound=$((SLUB_SLACK + $3 + $4 + $5))
echo "# shmem_inode_cache: /proc/slabinfo active $6 -> $7 (change $dslab); tracer net over all cgroups $tnet; bound $bound = SLUB $SLUB_SLACK + in flight $3 + missed $4 + lost $5"
check "slabinfo: the tracer read the kernel's count at its start and end" test -n "$tnet" -a -n "$dslab"
check "slabinfo: tracer's net shmem inodes (${tnet:-?}) = slabinfo change (${dslab:-?}) +- $bound" \
    test "$((${tnet:-0} - ${dslab:-0}))" -le $bound -a "$((${dslab:-0} - ${tnet:-0}))" -le $bound

# The rates mode over the same moments: allocations only, the same bounds.
check "rates trace is valid JSON" python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$T/rates.json"
set -- $(summary "$T/rates.json" "/$CG/a")
echo "# rates window, /$CG/a: dentry allocs $1; shmem_inode_cache allocs $3"
check "rates: a allocated $NFILES..$NFILES + $UPPER_SLACK dentries ($1)" \
    test "${1:-0}" -ge $NFILES -a "${1:-0}" -le $((NFILES + UPPER_SLACK))
check "rates: a allocated $NFILES..$NFILES + $UPPER_SLACK shmem inodes ($3)" \
    test "${3:-0}" -ge $NFILES -a "${3:-0}" -le $((NFILES + UPPER_SLACK))
check "rates: no frees counted" python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['mode'] == 'rates' and all(e['frees'] == 0 for e in d['entries'])" "$T/rates.json"
set -- $(summary "$T/rates.json" "/$CG/b")
check_eq "rates: b has no allocations" 0 "${5:-x}"

python3 - "$T/long.json" <<'EOF' | sed 's/^/# long trace: /'
import json, sys
d = json.load(open(sys.argv[1]))
print({k: d[k] for k in ("events", "events_lost", "events_missed", "not_tracked", "frees_seen_at_reuse", "live_objects")},
      "untracked dentry frees:", sum(e["frees"] for e in d["untracked_frees"] if e["cache"] == "dentry"))
EOF
set -- $(summary "$T/long.json" "/$CG/a")
echo "# long trace, /$CG/a: dentry allocs $1 net $2; shmem_inode_cache allocs $3 net $4; $5 entries, net $6 B of $7 B; not followed $8"
check "long: a allocated >= $NFILES dentries ($1)" test "${1:-0}" -ge $NFILES
check "long: a allocated >= $NFILES shmem inodes ($3)" test "${3:-0}" -ge $NFILES
check "long: a's dentry growth back to ~0 (|$2| <= $TOL)" test "${2#-}" -le $TOL
check "long: a's shmem inode growth back to ~0 (|$4| <= $TOL)" test "${4#-}" -le $TOL
check "long: a's net bytes over all caches ($6) < 5% of allocated ($7)" \
    test "$(( ${6#-} * 20 ))" -lt "${7:-0}"
set -- $(summary "$T/long.json" "/$CG/b")
check_eq "long: b has no allocations" 0 "${5:-x}"

# Without privilege or BTF: a message saying which, exit 1; the rest still works.
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }
msg=$(nobody "$B/kmemtop" --alloc 1 2>&1)
check_eq "unprivileged --alloc exits 1" 1 "$?"
echo "# $msg"
check "unprivileged --alloc names the capabilities" \
    sh -c 'echo "$1" | grep -q "needs root, or CAP_BPF and CAP_PERFMON"' - "$msg"
nobody "$B/kmemtop" --cgroups -o >/dev/null 2>&1
check_eq "unprivileged kmemtop --cgroups -o still works" 0 "$?"
msg=$(unshare -m sh -c "mount -t tmpfs none /sys/kernel/btf && '$B/kmemtop' --alloc 1" 2>&1)
check_eq "--alloc without BTF exits 1" 1 "$?"
echo "# $msg"
check "--alloc without BTF says so" sh -c 'echo "$1" | grep -q "no usable BTF"' - "$msg"
finish
