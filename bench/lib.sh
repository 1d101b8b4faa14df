# shellcheck shell=sh
# Helpers for the bench/*.sh scripts (sourced; not a benchmark).
#
# Each script prints rows of bench/run.sh's table, tab-separated:
#   figure, kmem, peer, floor, ratio, target, verdict
# Ratios have one decimal: CPU figures move by about ±10% between runs on a
# small VM, so a second decimal would be noise. Where a figure is measured in
# several interleaved rounds, the ratio is the median of the per-round ratios,
# with their min-max range. The verdict (meets / misses) compares the median
# with the target; in --smoke mode (few iterations) it is "-".

# stats VALUE...: "median min max" of the values.
stats() {
    printf '%s\n' "$@" | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[1], v[NR] }'
}
# ratio_of A B: A / B (0 if B is 0).
ratio_of() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > 0 ? a / b : 0) }'; }
# ratio_cell "MEDIAN MIN MAX" WHAT: "1.4x floor (1.3-1.5)", or "1.4x floor"
# for one round.
ratio_cell() {
    echo "$1" | awk -v w="$2" '{
        if ($2 == $3) printf "%.1fx %s\n", $1, w
        else printf "%.1fx %s (%.1f-%.1f)\n", $1, w, $2, $3 }'
}
# verdict VALUE MAX: "meets" if VALUE <= MAX, else "misses"; "-" when smoke.
verdict() {
    if [ -n "${SMOKE:-}" ]; then
        echo -
    else
        awk -v v="$1" -v m="$2" 'BEGIN { print (v <= m) ? "meets" : "misses" }'
    fi
}
# f3 NUMBER: three decimals.
f3() { awk -v v="$1" 'BEGIN { printf "%.3f", v }'; }
# row FIGURE KMEM PEER FLOOR RATIO TARGET VERDICT
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@"; }
