#!/bin/sh
# Cgroup collection cost with many live v1 memory cgroups (root).
#
#   bench/cgroups.sh [--smoke] [CGROUPS] [ITERATIONS]
#
# Creates CGROUPS (default 1000; --smoke: 100) memory cgroups under
# /sys/fs/cgroup/memory/kmem-bench-PID (removed on exit), then compares the
# CPU per kmem_collect(KMEM_COLLECT_CGROUPS) with the floor: the same walk
# plus open + read + close of the three files kmem reads per cgroup. Target:
# ratio <= 1.5, RSS flat across collections.
set -e
cd "$(dirname "$0")/.."
N=1000
ITERS=50
if [ "$1" = "--smoke" ]; then N=100; ITERS=5; shift; fi
[ -n "$1" ] && N=$1
[ -n "$2" ] && ITERS=$2
[ "$N" -ge 10 ] && [ "$N" -le 20000 ] || { echo "CGROUPS must be 10..20000" >&2; exit 2; }
M=/sys/fs/cgroup/memory
[ "$(id -u)" -eq 0 ] || { echo "bench/cgroups.sh: must run as root" >&2; exit 1; }
[ -f $M/memory.kmem.usage_in_bytes ] || { echo "bench/cgroups.sh: no cgroup v1 memory controller at $M" >&2; exit 1; }
BUILD=${KMEM_BUILD:-build}
[ -f "$BUILD/libkmem.a" ] || make "$BUILD/libkmem.a" >/dev/null
mkdir -p "$BUILD/bench"
BIN=$BUILD/bench/cgroups_bench
${CC:-cc} -std=c17 -D_GNU_SOURCE -O2 -Isrc/lib -o "$BIN" bench/cgroups_bench.c "$BUILD/libkmem.a" -lm

P=$M/kmem-bench-$$
cleanup() {
    # Children first, then groups, then the parent (rmdir only: nothing runs there).
    [ -d "$P" ] && find "$P" -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null
    rmdir "$P" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# N cgroups: groups of 100 (one group dir + 99 children), like pods of containers.
groups=$(( (N + 99) / 100 ))
made=0
g=0
mkdir "$P"
while [ $g -lt $groups ] && [ $made -lt "$N" ]; do
    mkdir "$P/g$g"
    made=$((made + 1))
    c=0
    while [ $c -lt 99 ] && [ $made -lt "$N" ]; do
        mkdir "$P/g$g/c$c"
        made=$((made + 1))
        c=$((c + 1))
    done
    g=$((g + 1))
done

out=$("$BIN" / "$ITERS")
echo "$out" | sed 's/^/# /'
get() { echo "$out" | sed -n "s/^$1 //p"; }

# The whole exporter (collect + render of every family) over the same
# cgroups, against the floor of read()ing every file it reads, interleaved.
E=$BUILD/kmem_exporter
FLOOR=$BUILD/bench/exporter_readfloor
${CC:-cc} -O2 -std=c17 -D_GNU_SOURCE -o "$FLOOR" bench/exporter_readfloor.c
if [ -x "$E" ]; then
    ek=0; ef=0
    for _ in 1 2 3; do
        k=$("$E" --bench "$ITERS" | sed -n 's/.*cpu_per_cycle_ms=\([0-9.]*\).*/\1/p')
        f=$("$FLOOR" / "$ITERS" | cut -d' ' -f1)
        ek=$(awk -v a="$ek" -v b="$k" 'BEGIN { print a + b / 3 }')
        ef=$(awk -v a="$ef" -v b="$f" 'BEGIN { print a + b / 3 }')
    done
    rss0=$("$E" --bench 2 | sed -n 's/.*maxrss_kib=\([0-9]*\).*/\1/p')
    rss1=$("$E" --bench "$ITERS" | sed -n 's/.*maxrss_kib=\([0-9]*\).*/\1/p')
fi
echo "cgroups: $made created, $(get cgroups_kmem) walked (whole hierarchy)"
echo "floor:   $(get floor_ms_per_collection) ms CPU per walk+read"
echo "kmem:    $(get kmem_ms_per_collection) ms CPU per collection"
echo "ratio:   $(get ratio) (target <= 1.5)"
echo "rss:     $(get rss_kib_before) KiB -> $(get rss_kib_after) KiB over $ITERS collections (maxrss $(get maxrss_kib_before) -> $(get maxrss_kib_after))"
ok=$(echo "$(get ratio)" | awk '{ print ($1 <= 1.5) ? "yes" : "no" }')
flat=$(awk -v a="$(get rss_kib_before)" -v b="$(get rss_kib_after)" 'BEGIN { print (b - a <= 256) ? "yes" : "no" }')
echo "within target: ratio $ok, rss flat $flat"
# rows of bench/run.sh's table
printf 'cgroup collection, %s cgroups (CPU ms)\t%s\t-\tread() %s\t%sx floor\n' \
    "$(get cgroups_kmem)" "$(get kmem_ms_per_collection)" "$(get floor_ms_per_collection)" "$(get ratio)"
printf 'cgroup collection RSS over %s collections (KiB)\t%s -> %s\t-\t-\tflat: %s\n' \
    "$ITERS" "$(get rss_kib_before)" "$(get rss_kib_after)" "$flat"
if [ -x "$E" ]; then
    printf 'exporter collection, %s cgroups (CPU ms)\t%.3f\t-\tread() %.3f\t%.2fx floor\n' \
        "$(get cgroups_kmem)" "$ek" "$ef" "$(awk -v a="$ek" -v b="$ef" 'BEGIN { print (b > 0 ? a / b : 0) }')"
    printf 'exporter max RSS, 2 vs %s collections (KiB)\t%s -> %s\t-\t-\t-\n' "$ITERS" "$rss0" "$rss1"
fi
