#!/bin/bash
# Slab benchmarks (issue 2), printed as rows of bench/run.sh's table:
#  - slabtop -o as a whole process: build/slabtop vs procps-ng slabtop (CPU per run)
#  - one refresh (read + parse + sort) vs read() of /proc/slabinfo alone
# --smoke: few iterations (CI runs it as a smoke test, not a timed test).
set -eu
cd "$(dirname "$0")/.."
B=${KMEM_BUILD:-build}
runs=200; iters=3000
[ "${1:-}" = "--smoke" ] && { runs=5; iters=50; }
cc -O2 -std=c17 -D_GNU_SOURCE -Isrc/lib -Isrc/kmemtop -o "$B/slab_refresh" bench/slab_refresh.c \
    "$B/obj/src/kmemtop/slabview.o" "$B/obj/src/kmemtop/out.o" "$B/obj/src/kmemtop/common.o" \
    "$B/obj/src/kmemtop/table.o" "$B/libkmem.a" -lm

cc -O2 -o "$B/cpu_of" bench/cpu_of.c
# interleave the two in rounds so both see the same machine
p=0; k=0
for r in 1 2 3 4 5; do
    p=$(awk -v a="$p" -v b="$("$B/cpu_of" $((runs / 5 + 1)) /usr/bin/slabtop -o)" 'BEGIN{print a+b}')
    k=$(awk -v a="$k" -v b="$("$B/cpu_of" $((runs / 5 + 1)) "$B/slabtop" -o)" 'BEGIN{print a+b}')
done
awk -v p="$p" -v k="$k" 'BEGIN {
    printf "slabtop -o, whole process (CPU ms)\t%.2f\tprocps %.2f\t-\t%.2fx procps\n", k / 5, p / 5, (p > 0 ? k / p : 0) }'
"$B/slab_refresh" / "$iters" | awk -F'\t' '{
    printf "slab refresh: read+parse+sort (CPU us)\t%.1f\t-\tread() %.1f\t%.2fx floor\n", $2, $3, $4 }'
