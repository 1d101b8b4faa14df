#!/bin/bash
# Slab benchmarks (issue 2), printed as rows of bench/run.sh's table:
#  - slabtop -o as a whole process: build/slabtop vs procps-ng slabtop (CPU per run)
#  - one refresh (read + parse + sort) vs read() of /proc/slabinfo alone
# Targets: no more CPU than procps for slabtop -o (<= 1.0x), a refresh within
# 1.5x of its read() floor.
# --smoke: few iterations (CI runs it as a smoke test, not a timed test).
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
B=${KMEM_BUILD:-build}
SMOKE=
runs=200; iters=3000; rounds=5
[ "${1:-}" = "--smoke" ] && { SMOKE=1; runs=5; iters=50; rounds=1; }
KMEM_LIBS=$(pkg-config --libs libbpf libzstd 2>/dev/null || echo -lbpf -lzstd)
# shellcheck disable=SC2086 # $KMEM_LIBS: several linker flags
cc -O2 -std=c17 -D_GNU_SOURCE -Isrc/common -Isrc/lib -Isrc/kmemtop -o "$B/slab_refresh" bench/slab_refresh.c \
    "$B/obj/src/kmemtop/slabview.o" "$B/obj/src/kmemtop/out.o" "$B/obj/src/kmemtop/common.o" \
    "$B/obj/src/kmemtop/table.o" "$B/libkmem.a" -lm $KMEM_LIBS

cc -O2 -o "$B/cpu_of" bench/cpu_of.c
# Interleave the two in rounds so both see the same machine; the ratio is
# the median of the per-round ratios.
ps="" ks="" rs=""
for _ in $(seq "$rounds"); do
    p=$("$B/cpu_of" $((runs / rounds + 1)) /usr/bin/slabtop -o)
    k=$("$B/cpu_of" $((runs / rounds + 1)) "$B/slabtop" -o)
    ps="$ps $p" ks="$ks $k" rs="$rs $(ratio_of "$k" "$p")"
done
# shellcheck disable=SC2086
# shellcheck disable=SC2046,SC2086 # the fields of one line
set -- $(stats $rs)
r="$*"
row "slabtop -o, whole process (CPU ms)" "$(stats $ks | awk '{ printf "%.2f", $1 }')" \
    "procps $(stats $ps | awk '{ printf "%.2f", $1 }')" - "$(ratio_cell "$r" procps)" \
    "<= 1.0x procps" "$(verdict "$1" 1.0)"

# One refresh against read() of the file, interleaved inside slab_refresh.
ks="" fs="" rs=""
for _ in $(seq "$rounds"); do
    line=$("$B/slab_refresh" / $((iters / rounds)))
    ks="$ks $(echo "$line" | cut -f2)" fs="$fs $(echo "$line" | cut -f3)" rs="$rs $(echo "$line" | cut -f4)"
done
# shellcheck disable=SC2086
# shellcheck disable=SC2046,SC2086 # the fields of one line
set -- $(stats $rs)
r="$*"
row "slab refresh: read+parse+sort (CPU us)" "$(stats $ks | cut -d' ' -f1)" - \
    "read() $(stats $fs | cut -d' ' -f1)" "$(ratio_cell "$r" floor)" "<= 1.5x floor" "$(verdict "$1" 1.5)"
