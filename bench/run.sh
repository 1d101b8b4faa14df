#!/bin/bash
# Run every benchmark of kmem and print one table: each figure beside the
# peer's (procps slabtop, prometheus-node-exporter) and the floor (read()ing
# the same files without parsing), with ratios, the target and, in full mode,
# the verdict (meets / misses the target), then a count of targets met.
#   bench/run.sh [--smoke]     (--smoke: few iterations, no verdicts; CI runs it this way)
# Each bench/*.sh prints tab-separated rows (bench/lib.sh): figure, kmem,
# peer, floor, ratio, target, verdict. A missed target does not change the
# exit status (the figures are noisy); a benchmark that fails does.
set -u
cd "$(dirname "$0")/.." || exit 1
smoke=${1:-}
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
status=0
for b in bench/slabtop.sh bench/cgroups.sh bench/exporter.sh bench/alloc.sh bench/owners.sh bench/recorder.sh; do
    if [ ! -x "$b" ]; then
        echo "bench: $b is not executable" >&2
        status=1
        continue
    fi
    if ! "$b" $smoke >>"$rows" 2>"$rows.err"; then
        echo "bench: $b failed:" >&2
        cat "$rows.err" >&2
        status=1
    fi
    rm -f "$rows.err"
done
if [ -n "$smoke" ]; then
    {
        printf 'figure\tkmem\tpeer\tfloor\tratio\ttarget\n'
        grep -P '^[^\t]+\t' "$rows" | cut -f1-6
    } | column -t -s $'\t'
else
    {
        printf 'figure\tkmem\tpeer\tfloor\tratio\ttarget\tverdict\n'
        grep -P '^[^\t]+\t' "$rows"
    } | column -t -s $'\t'
    met=$(awk -F'\t' '$7 == "meets"' "$rows" | wc -l)
    missed=$(awk -F'\t' '$7 == "misses"' "$rows" | wc -l)
    echo "targets: $met met, $missed missed"
fi
exit $status
