#!/bin/sh
# Cgroup collection cost with many live v1 memory cgroups (root).
#
#   bench/cgroups.sh [--smoke] [CGROUPS...]
#
# For each size (default 1000 and 5000; --smoke: 100) creates that many
# memory cgroups under /sys/fs/cgroup/memory/kmem-bench-PID (removed on
# exit) and compares the CPU of one kmem_collect(KMEM_COLLECT_CGROUPS), as
# kmem_exporter reads by default (no extra per-cgroup file), with its floor,
# the same work without kmem (bench/cgroups_bench.c), the one file per cgroup
# that the exported figure needs (memory.kmem.usage_in_bytes):
#  - kmem with its fd cache (files kept open, re-read with pread) against
#    pread of the same kept fds: target <= 1.2x;
#  - kmem opening and closing every file (the fallback beyond the fd cap)
#    against open + read + close of the same files, paths known: <= 1.5x
#    (kmem lists the directories too);
#  - the RSS of an exporter-like process after 50 collections (<= 4 MiB,
#    growth <= 256 KiB);
#  - the whole exporter (collect + render) against read() of the files it
#    reads (<= 1.5x).
# Every row has a target and a verdict. Full mode: 3 interleaved rounds,
# median ratio with its range (bench/lib.sh). v2 is measured in the VM
# (tests/vm/guest/v2-fds.sh).
set -e
cd "$(dirname "$0")/.."
. bench/lib.sh
SIZES="1000 5000"
ITERS=20
ROUNDS=3
SMOKE=
if [ "$1" = "--smoke" ]; then SIZES=100; ITERS=3; ROUNDS=1; SMOKE=1; shift; fi
[ $# -gt 0 ] && SIZES="$*"
for n in $SIZES; do
    [ "$n" -ge 10 ] && [ "$n" -le 20000 ] || { echo "CGROUPS must be 10..20000" >&2; exit 2; }
done
M=/sys/fs/cgroup/memory
[ "$(id -u)" -eq 0 ] || { echo "bench/cgroups.sh: must run as root" >&2; exit 1; }
[ -f $M/memory.kmem.usage_in_bytes ] || { echo "bench/cgroups.sh: no cgroup v1 memory controller at $M" >&2; exit 1; }
BUILD=${KMEM_BUILD:-build}
[ -f "$BUILD/libkmem.a" ] || make "$BUILD/libkmem.a" >/dev/null
mkdir -p "$BUILD/bench"
BIN=$BUILD/bench/cgroups_bench
KMEM_LIBS=$(pkg-config --libs libbpf libzstd 2>/dev/null || echo -lbpf -lzstd)
# shellcheck disable=SC2086 # $KMEM_LIBS: several linker flags
${CC:-cc} -std=c17 -D_GNU_SOURCE -O2 -Isrc/common -Isrc/lib -o "$BIN" bench/cgroups_bench.c "$BUILD/libkmem.a" -lm $KMEM_LIBS
E=$BUILD/kmem_exporter
FLOOR=$BUILD/bench/exporter_readfloor
${CC:-cc} -O2 -std=c17 -D_GNU_SOURCE -o "$FLOOR" bench/exporter_readfloor.c

P=$M/kmem-bench-$$
cleanup() {
    # Children first, then groups, then the parent (rmdir only: nothing runs there).
    [ -d "$P" ] && find "$P" -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null
    rmdir "$P" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# make N: N cgroups in groups of 100 (one group dir + 99 children), like pods
# of containers.
make_cgroups() {
    cleanup
    groups=$((($1 + 99) / 100))
    made=0
    g=0
    mkdir "$P"
    while [ $g -lt $groups ] && [ $made -lt "$1" ]; do
        mkdir "$P/g$g"
        made=$((made + 1))
        c=0
        while [ $c -lt 99 ] && [ $made -lt "$1" ]; do
            mkdir "$P/g$g/c$c"
            made=$((made + 1))
            c=$((c + 1))
        done
        g=$((g + 1))
    done
}
med() { stats "$@" | cut -d' ' -f1; }

for n in $SIZES; do
    make_cgroups "$n"
    fl="" pl="" kf="" ko="" rf="" ro=""
    for _ in $(seq "$ROUNDS"); do
        out=$("$BIN" / "$ITERS")
        echo "$out" | sed "s/^/# $n: /" >&2
        get() { echo "$out" | sed -n "s/^$1 //p"; }
        f=$(get floor_ms)
        pr=$(get pread_ms)
        fl="$fl $f" pl="$pl $pr" kf="$kf $(get kmem_fds_ms)" ko="$ko $(get kmem_orc_ms)"
        rf="$rf $(ratio_of "$(get kmem_fds_ms)" "$pr")"
        ro="$ro $(ratio_of "$(get kmem_orc_ms)" "$f")"
        ncg=$(get cgroups_kmem)
    done
    # shellcheck disable=SC2086
    r=$(stats $rf)
    # shellcheck disable=SC2086
    row "cgroup collection, $ncg v1 cgroups, fds kept (CPU ms)" "$(med $kf)" - "pread $(med $pl)" \
        "$(ratio_cell "$r" pread)" "<= 1.2x pread" "$(verdict "${r%% *}" 1.2)"
    # shellcheck disable=SC2086
    r=$(stats $ro)
    # shellcheck disable=SC2086
    row "cgroup collection, $ncg v1 cgroups, no fd kept (CPU ms)" "$(med $ko)" - "o+r+c $(med $fl)" \
        "$(ratio_cell "$r" floor)" "<= 1.5x floor" "$(verdict "${r%% *}" 1.5)"
    out=$("$BIN" / 50 rss)
    get() { echo "$out" | sed -n "s/^$1 //p"; }
    r0=$(get rss_kib_before) r1=$(get rss_kib_after)
    row "cgroup reader RSS, $ncg cgroups, 50 collections (KiB)" "$r0 -> $r1" - - \
        "$(printf '%+d KiB' $((r1 - r0)))" "<= 4 MiB" \
        "$(if [ "$r1" -le 4096 ] && [ $((r1 - r0)) -le 256 ]; then verdict 0 1; else verdict 2 1; fi)"
    if [ -x "$E" ]; then
        eks="" efs="" ers=""
        for _ in $(seq "$ROUNDS"); do
            k=$("$E" --bench "$ITERS" | sed -n 's/.*cpu_per_cycle_ms=\([0-9.]*\).*/\1/p')
            f=$("$FLOOR" / "$ITERS" | cut -d' ' -f1)
            eks="$eks $k" efs="$efs $f" ers="$ers $(ratio_of "$k" "$f")"
        done
        # shellcheck disable=SC2086
        r=$(stats $ers)
        # shellcheck disable=SC2086
        row "exporter collection, $ncg cgroups (CPU ms)" "$(f3 "$(med $eks)")" - "read() $(f3 "$(med $efs)")" \
            "$(ratio_cell "$r" floor)" "<= 1.5x floor" "$(verdict "${r%% *}" 1.5)"
    fi
done
if [ -x "$E" ]; then
    rss0=$("$E" --bench 2 | sed -n 's/.*maxrss_kib=\([0-9]*\).*/\1/p')
    rss1=$("$E" --bench 50 | sed -n 's/.*maxrss_kib=\([0-9]*\).*/\1/p')
    row "exporter max RSS, 2 vs 50 collections (KiB)" "$rss0 -> $rss1" - - "$(printf '%+d KiB' $((rss1 - rss0)))" \
        "flat (<= +256 KiB)" "$(verdict $((rss1 - rss0)) 256)"
fi
