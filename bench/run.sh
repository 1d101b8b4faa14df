#!/bin/bash
# Run every benchmark of kmem and print one table: each figure beside the
# peer's (procps slabtop, prometheus-node-exporter) and the floor (read()ing
# the same files without parsing), with ratios.
#   bench/run.sh [--smoke]     (--smoke: few iterations; CI runs it this way)
# Each bench/*.sh prints tab-separated rows: figure, kmem, peer, floor, ratio.
set -u
cd "$(dirname "$0")/.."
smoke=${1:-}
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
status=0
for b in bench/slabtop.sh bench/cgroups.sh bench/exporter.sh bench/alloc.sh; do
    [ -x "$b" ] || continue
    if ! "$b" $smoke >>"$rows" 2>"$rows.err"; then
        echo "bench: $b failed:" >&2
        cat "$rows.err" >&2
        status=1
    fi
    rm -f "$rows.err"
done
{
    printf 'figure\tkmem\tpeer\tfloor\tratio\n'
    grep -P '^[^\t]+\t' "$rows"
} | column -t -s $'\t'
exit $status
