#!/bin/sh
# Cgroup collection cost with many live v1 memory cgroups (root).
#
#   bench/cgroups.sh [--smoke] [CGROUPS] [ITERATIONS]
#
# Creates CGROUPS (default 1000; --smoke: 100) memory cgroups under
# /sys/fs/cgroup/memory/kmem-bench-PID (removed on exit), then compares the
# CPU per kmem_collect(KMEM_COLLECT_CGROUPS) with the floor: the same walk
# plus open + read + close of the three files kmem reads per cgroup; and the
# whole exporter (collect + render) against the floor of the files it reads.
# Targets: ratio <= 1.5x floor for both, RSS flat (<= 256 KiB of growth)
# across collections. Full mode: 3 interleaved rounds, median ratio with its
# range (bench/lib.sh).
set -e
cd "$(dirname "$0")/.."
. bench/lib.sh
N=1000
ITERS=50
ROUNDS=3
SMOKE=
if [ "$1" = "--smoke" ]; then N=100; ITERS=5; ROUNDS=1; SMOKE=1; shift; fi
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

# Rounds of the library bench (RSS growth: median of the rounds, with range).
ks="" fs="" rs="" gs=""
for _ in $(seq "$ROUNDS"); do
    out=$("$BIN" / "$ITERS")
    echo "$out" | sed 's/^/# /' >&2
    get() { echo "$out" | sed -n "s/^$1 //p"; }
    ks="$ks $(get kmem_ms_per_collection)" fs="$fs $(get floor_ms_per_collection)"
    rs="$rs $(ratio_of "$(get kmem_ms_per_collection)" "$(get floor_ms_per_collection)")"
    gs="$gs $(($(get rss_kib_after) - $(get rss_kib_before)))"
    [ -n "${rss_row:-}" ] || rss_row="$(get rss_kib_before) -> $(get rss_kib_after)"
    ncg=$(get cgroups_kmem)
done

# The whole exporter (collect + render of every family) over the same
# cgroups, against the floor of read()ing every file it reads, interleaved.
E=$BUILD/kmem_exporter
FLOOR=$BUILD/bench/exporter_readfloor
${CC:-cc} -O2 -std=c17 -D_GNU_SOURCE -o "$FLOOR" bench/exporter_readfloor.c
eks="" efs="" ers=""
if [ -x "$E" ]; then
    for _ in $(seq "$ROUNDS"); do
        k=$("$E" --bench "$ITERS" | sed -n 's/.*cpu_per_cycle_ms=\([0-9.]*\).*/\1/p')
        f=$("$FLOOR" / "$ITERS" | cut -d' ' -f1)
        eks="$eks $k" efs="$efs $f" ers="$ers $(ratio_of "$k" "$f")"
    done
    rss0=$("$E" --bench 2 | sed -n 's/.*maxrss_kib=\([0-9]*\).*/\1/p')
    rss1=$("$E" --bench "$ITERS" | sed -n 's/.*maxrss_kib=\([0-9]*\).*/\1/p')
fi
echo "cgroups: $made created, $ncg walked (whole hierarchy)" >&2
med() { stats "$@" | cut -d' ' -f1; }
# shellcheck disable=SC2086
r=$(stats $rs)
# shellcheck disable=SC2086
row "cgroup collection, $ncg cgroups (CPU ms)" "$(med $ks)" - "read() $(med $fs)" \
    "$(ratio_cell "$r" floor)" "<= 1.5x floor" "$(verdict "${r%% *}" 1.5)"
# shellcheck disable=SC2086
set -- $(stats $gs)
if [ "$2" = "$3" ]; then g=$(printf '%+d KiB' "$1"); else g=$(printf '%+d KiB (%+d..%+d)' "$1" "$2" "$3"); fi
row "cgroup collection RSS over $ITERS collections (KiB)" "$rss_row" - - "$g" \
    "flat (<= +256 KiB)" "$(verdict "$1" 256)"
if [ -x "$E" ]; then
    # shellcheck disable=SC2086
    r=$(stats $ers)
    # shellcheck disable=SC2086
    row "exporter collection, $ncg cgroups (CPU ms)" "$(f3 "$(med $eks)")" - "read() $(f3 "$(med $efs)")" \
        "$(ratio_cell "$r" floor)" "<= 1.5x floor" "$(verdict "${r%% *}" 1.5)"
    row "exporter max RSS, 2 vs $ITERS collections (KiB)" "$rss0 -> $rss1" - - "$(printf '%+d KiB' $((rss1 - rss0)))" \
        "flat (<= +256 KiB)" "$(verdict $((rss1 - rss0)) 256)"
fi
