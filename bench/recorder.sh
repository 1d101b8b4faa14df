#!/bin/bash
# The flight recorder (issue 19, docs/recorder.md), as rows of bench/run.sh's
# table: storage per hour at 10 s for this machine's caches plus 200
# synthetic memory cgroups (real v1 cgroups made for the run), against raw
# captures of the same samples; the recorder's CPU at 10 s and its RSS; and
# opening a 7-day recording to show one moment.
# The recording is taken at -d 1 (61 samples, so that two chains of
# KMEM_REC_DEFAULT_CHAIN = 30 samples are in it; --smoke: 8), so counters move
# less between samples than at 10 s: the storage figure is the keyframe plus
# 359 times the mean of the other records measured (chained ones and those
# against the keyframe, in an hour's proportion), a lower bound of a real hour's. CPU at
# 10 s is the CPU of one sample (user + system of the recorder over the run,
# divided by the samples) over 10 s. The 7-day recording is synthesized by
# bench/rec_synth.c from the real segment (168 hourly segments of 360
# records each).
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
B=${KMEM_BUILD:-build}
SMOKE=
samples=61
# shellcheck disable=SC2034 # SMOKE: read by verdict (bench/lib.sh)
[ "${1:-}" = "--smoke" ] && { SMOKE=1; samples=8; }
M=/sys/fs/cgroup/memory
T=$(mktemp -d)
CGB="$M/kmem-bench-recorder-$$"
cleanup() {
    for d in "$CGB"/cg*; do [ -d "$d" ] && rmdir "$d"; done
    [ -d "$CGB" ] && rmdir "$CGB"
    rm -rf "$T"
}
trap cleanup EXIT
[ -f "$M/memory.kmem.usage_in_bytes" ] || { echo "bench/recorder.sh: no v1 memory cgroups at $M" >&2; exit 1; }
mkdir "$CGB"
for i in $(seq 1 200); do mkdir "$CGB/cg$i"; done
KMEM_LIBS=$(pkg-config --libs libbpf libzstd 2>/dev/null || echo -lbpf -lzstd)
mkdir -p "$B/bench"
# shellcheck disable=SC2086 # $KMEM_LIBS: several linker flags
${CC:-cc} -std=c17 -D_GNU_SOURCE -O2 -Isrc/common -Isrc/lib -o "$B/bench/rec_synth" bench/rec_synth.c "$B/libkmem.a" -lm $KMEM_LIBS

/usr/bin/time -f '%e %U %S %M' -o "$T/time" "$B/kmemtop" --record "$T/rec" -d 1 \
    --record.count "$samples" 2>"$T/err" &
tpid=$!
# The recorder's own peak (VmHWM of its process, read until it ends): time's
# %M also holds the owner walker's child process (kmem_ctx_set_owners_isolated),
# which loads the walker for a fraction of a second every 5 minutes.
self_kb=0
while kill -0 "$tpid" 2>/dev/null; do
    for p in $(pgrep -P "$tpid"); do
        h=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
        [ -n "$h" ] && [ "$h" -gt "$self_kb" ] && self_kb=$h
    done
    sleep 0.1
done
wait "$tpid"
read -r _wall user sys rss_kb <"$T/time"
"$B/kmemtop" --replay "$T/rec" --list >"$T/list"
n=$(wc -l <"$T/list")
# --list: date time raw comp [keyframe]
key=$(awk '$5 == "keyframe" { print $4; exit }' "$T/list")
delta=$(awk '$5 != "keyframe" { s += $4; k++ } END { print (k ? s / k : 0) }' "$T/list")
raw=$(awk '{ s += $3 } END { print s / NR }' "$T/list")
hdr=32
per_hour=$(awk -v k="$key" -v d="$delta" -v h="$hdr" 'BEGIN { printf "%.0f", k + h + 359 * (d + h) }')
mib_h=$(awk -v b="$per_hour" 'BEGIN { printf "%.3f", b / 1048576 }')
raw_h=$(awk -v r="$raw" 'BEGIN { printf "%.1f", r * 360 / 1048576 }')
ratio=$(awk -v r="$raw" -v b="$per_hour" 'BEGIN { printf "%.0fx smaller than raw captures (%s MiB/h)", r * 360 / b, "'"$raw_h"'" }')
row "recorder storage per hour at 10 s (this machine + 200 cgroups; $n samples at 1 s, keyframe $key B, mean delta $(printf '%.0f' "$delta") B)" \
    "$mib_h MiB" - - "$ratio" "<= 1 MiB" "$(verdict "$mib_h" 1)"
cpu_sample=$(awk -v u="$user" -v s="$sys" -v n="$n" 'BEGIN { printf "%.4f", (u + s) / n }')
cpu_pct=$(awk -v c="$cpu_sample" 'BEGIN { printf "%.2f", c / 10 * 100 }')
row "recorder CPU at 10 s ($cpu_sample s a sample, $n samples)" "$cpu_pct%" - - - "<= 0.2%" "$(verdict "$cpu_pct" 0.2)"
rss_mib=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
self_mib=$(awk -v k="$self_kb" 'BEGIN { printf "%.1f", k / 1024 }')
ncg=$(find "$M" -type d | wc -l)
row "recorder RSS (max of its process, $ncg memory cgroups)" "$self_mib MiB" - - \
    "with the owner walker's child process: $rss_mib MiB" "<= 8 MiB" "$(verdict "$self_mib" 8)"

# 7 days at 10 s: 168 hourly segments of 360 records each (--smoke: a day of 36 a segment)
hours=168 per=360 what="7-day recording"
[ -n "$SMOKE" ] && { hours=24 per=36 what="1-day recording (smoke)"; }
seg=$(find "$T/rec" -name 'kmem-*.seg' | sort | head -1)
mkdir "$T/week"
start=$(($(date +%s) - 7 * 86400))
"$B/bench/rec_synth" "$seg" "$T/week" "$hours" "$per" $((3600 / per)) "$start"
week_mib=$(du -sm "$T/week" | cut -f1)
rounds=7
[ -n "$SMOKE" ] && rounds=3
at="3d ago"
[ -n "$SMOKE" ] && at="12h ago"
ms=()
for _ in $(seq 1 $rounds); do
    t0=$(date +%s%N)
    "$B/kmemtop" --replay "$T/week" --at "$at" -o >/dev/null
    t1=$(date +%s%N)
    ms+=("$(((t1 - t0) / 1000000))")
done
# shellcheck disable=SC2046
set -- $(stats "${ms[@]}")
row "recorder: open a $what ($week_mib MiB, $((hours * per)) samples), show a moment (-o, '$at')" \
    "$1 ms" - - "median of $rounds ($2-$3 ms)" "<= 200 ms" "$(verdict "$1" 199)"
