#!/bin/bash
# Owner snapshot cost (issue 18), printed as rows of bench/run.sh's table:
# the CPU of one walk of the BPF owner walker (src/lib/ownwalk.c, run by
# build/tests/ownwalk_dump) per GiB of RAM (page frames walked) and per
# million slab objects (allocated objects of every cache, charged or not),
# and the walk of a 24 GiB machine at this host's rate against the goal
# (<= 0.25 s). The walk's CPU is its thread's (the BPF program runs in the
# bpf() call of the walking thread); nothing runs between walks.
# Peer: drgn's tools/cgroup/memcg_slabinfo.py (needs /proc/kcore and debug
# info; neither is here), so "-". Needs root; without BPF or root the rows say
# why and the figures are "-".
# --smoke: 2 walks instead of 15.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
B=${KMEM_BUILD:-build}
SMOKE=
walks=15
# shellcheck disable=SC2034 # SMOKE: read by verdict (bench/lib.sh)
[ "${1:-}" = "--smoke" ] && { SMOKE=1; walks=2; }
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
if [ ! -x "$B/tests/ownwalk_dump" ] || ! "$B/tests/ownwalk_dump" -n "$walks" >"$out" 2>"$err"; then
    why=$(tail -1 "$err" 2>/dev/null || echo "no $B/tests/ownwalk_dump (built without BPF)")
    echo "owners: the walk cannot run here: $why" >&2
    row "owner walk CPU per GiB of RAM" - - - "cannot run: ${why:0:60}" "<= 0.0104 s" -
    exit 0
fi
# shellcheck disable=SC2046
set -- $(stats $(awk '$1 == "walk" { print $4 }' "$err"))
med=$1 lo=$2 hi=$3
pages=$(awk '$1 == "walk" { print $6; exit }' "$err")
objs=$(awk -F'\t' 'NF == 4 { s += $2 } END { print s + 0 }' "$out")
method=$(awk '$1 == "method" { print $2 }' "$out")
gib=$(awk -v p="$pages" 'BEGIN { printf "%.2f", p * 4096 / 2^30 }')
per_gib=$(awk -v s="$med" -v g="$gib" 'BEGIN { printf "%.4f", s / g }')
per_mobj=$(awk -v s="$med" -v o="$objs" 'BEGIN { printf "%.3f", (o > 0) ? s / (o / 1e6) : 0 }')
at24=$(awk -v s="$per_gib" 'BEGIN { printf "%.3f", s * 24 }')
row "owner walk CPU per GiB of RAM ($gib GiB, $walks walks, vmemmap by $method)" "$per_gib s" - - \
    "median $(f3 "$med") s a walk ($(f3 "$lo")-$(f3 "$hi"))" "<= 0.0104 s" "$(verdict "$per_gib" 0.0104)"
# Per million slab objects: a figure for docs/ownwalk.md, no target (not a row).
echo "owners: owner walk CPU per million slab objects ($objs objects): $per_mobj s" >&2
row "owner walk CPU for 24 GiB at this rate" "$at24 s" - - - "<= 0.25 s" "$(verdict "$at24" 0.25)"
