#!/bin/sh
# The replay TUI's verdicts view (V) on a recording with known growth (the
# scenario of recorder_verdicts.sh: a reclaimable cache warming up, a steady
# unreclaimable cache, a container leaking toward its memory.max, dying
# cgroups): in tmux at 160x50 and 80x24 the rows (verdict, subject, growth,
# rate, hours to the limit, points, name) equal what
# `kmemtop --replay DIR --at TO --window TO-FROM --json` says of the same window; b and
# [ move the window; Enter on a row shows its cache or cgroup.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.lib.sh"
. "$(dirname "$0")/rec_scenario.lib.sh"

T=$(tmpdir)
trap 'tm_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT INT TERM
tm_setup rverd kv
TM_POLLS=600 # each step of the window recomputes the verdicts
mkdir "$T/tmp"
export TMPDIR="$T/tmp"
# the recording of recorder_verdicts.sh's scenario, without its extra cgroups
scenario_tree "$T/tree"
scenario_record "$T/tree" "$T/rec"

# human sizes as kmemtop prints them (kt_human / kt_human_delta)
HUMAN='function h(b,  u, i, a) { u = "BKMGTPE"; a = b < 0 ? -b : b; i = 1
    while (a >= 1023.5 && i < 7) { a /= 1024; i++ }
    return (i == 1 || a >= 9.95) ? sprintf("%.0f%s", a, substr(u, i, 1)) : sprintf("%.1f%s", a, substr(u, i, 1)) }
function d(b) { return b == 0 ? "0" : (b < 0 ? "-" : "+") h(b) }'
# expect FROM TO: the rows the view must show, from --json over [FROM, TO]
expect() {
    "$K" --replay "$T/rec" --at "$(date -d "@$2" '+%F %T')" --window "$(($2 - $1))s" \
        --json >"$T/v.json" || not_ok "--replay --at --window --json runs"
    jq -r '.verdicts[] | [.verdict, .subject, .growth_bytes, .rate_bytes_per_hour,
        (if .verdict == "leak_suspect" and .hours_to_limit != null then .hours_to_limit else -1 end),
        .points, .name] | @tsv' "$T/v.json" |
        awk -F '\t' "$HUMAN"'
        { c = $1 == "leak_suspect" ? "LEAK" : $1 == "reclaimable_warming" ? "WARMING" : $1 == "dying_pinned" ? "DYING" : $1 == "grew_not_steady" ? "UNSTEADY" : "noise"
          lim = $5 < 0 ? "-" : sprintf("%.1fh", $5)
          print c, $2, d($3), h($4) "/h", lim, $6, $7 }' | awk '{ print $1, $2, $3, $4, $5, $6, $7 }' | sort
}
# the rows on the screen, in the same words
shown() { screen | awk '/^(LEAK|WARMING|DYING|UNSTEADY) / { print $1, $2, $3, $4, $5, $6, $7 }' | sort; }

t0=$(date -d "@$T0" '+%F %T')
t11=$(date -d "@$((T0 + 11 * STEP))" '+%F %T')
t8=$(date -d "@$((T0 + 8 * STEP))" '+%F %T')
t4=$(date -d "@$((T0 + 4 * STEP))" '+%F %T')

for size in 160x50 80x24; do
    start "${size%x*}" "${size#*x}" "$K --replay $T/rec"
    check "$size: the key bar names V" has 'V verdicts'
    keys V
    wait_for "VERDICT" || echo "# no verdicts view: $(screen)"
    check "$size: V opens the verdicts from the baseline (oldest) to the sample shown" \
        has "verdicts $t0 to $t11"
    expect "$T0" $((T0 + 11 * STEP)) >"$T/want"
    shown >"$T/got"
    n=$(wc -l <"$T/want")
    check "$size: --json has at least 5 verdicts to compare" test "$n" -ge 5
    if [ "${size}" = 80x24 ]; then
        # the narrow screen cuts long names: compare what fits
        cut -c1-60 "$T/want" >"$T/w" && cut -c1-60 "$T/got" >"$T/g"
    else
        cut -c1-100 "$T/want" >"$T/w" && cut -c1-100 "$T/got" >"$T/g"
    fi
    check_eq "$size: the $n rows equal --json (verdict, growth, rate, time to limit, points, name)" \
        "$(cat "$T/w")" "$(cat "$T/g")"
    check "$size: a leak suspect cache is shown" grep -q '^LEAK cache +22M 12M/h [0-9.]*h 12 kmalloc-256' "$T/got"
    check "$size: the container, leaking toward its memory.max" grep -q "^LEAK cgroup +44M 24M/h 25.7h 12 /kubepods.slice/kubepods-pod" "$T/got"
    check "$size: dentry warms up" grep -q '^WARMING cache ' "$T/got"
    noise=$(jq .noise "$T/v.json")
    check "$size: the noise hidden is counted ($noise)" has "$noise noise hidden"
done

# the window moves with the sample shown and the baseline (at 80x24, where
# long names are cut by the screen: the first 50 characters are compared)
# one key at a time, each step waited for (the samples are 0 to 11: the
# sample shown goes from 11 to 8)
at() { date -d "@$((T0 + $1 * STEP))" '+%F %T'; }
for k in 10 9 8; do
    keys '['
    wait_for "verdicts $t0 to $(at "$k"):" || echo "# after [ to sample $k: $(screen | head -3)"
done
check "[ moves the window's end to the sample shown" has "verdicts $t0 to $t8"
expect "$T0" $((T0 + 8 * STEP)) | cut -c1-50 >"$T/w"
shown | cut -c1-50 >"$T/g"
check_eq "... and its rows equal --json over that window" "$(cat "$T/w")" "$(cat "$T/g")"
# one key at a time, each step waited for: every step recomputes the verdicts
for k in 7 6 5 4; do
    keys '['
    wait_for "to $(at "$k"):" || echo "# after [ to sample $k: $(screen | head -3)"
done
keys b
for k in 5 6 7 8; do
    keys ']'
    wait_for "verdicts $t4 to $(at "$k"):" || echo "# after ] to sample $k: $(screen | head -3)"
done
check "b moves the window's start to the baseline" has "verdicts $t4 to $t8:"
expect $((T0 + 4 * STEP)) $((T0 + 8 * STEP)) | cut -c1-50 >"$T/w"
shown | cut -c1-50 >"$T/g"
check_eq "... and its rows equal --json over that window" "$(cat "$T/w")" "$(cat "$T/g")"
check "... where dentry still warms up" grep -q '^WARMING cache' "$T/g"
# Enter on the first row (a leak suspect) shows it in its view, filtered to it
first=$(screen | awk '/^(LEAK|WARMING|DYING|UNSTEADY) / { print $2, $7; exit }')
keys Enter
case "$first" in
cache*) wait_for 'sort:'; check "Enter on the cache row shows the slab view filtered to it (${first#* })" \
    has "${first#* }" ;;
*) wait_for 'KERNEL'; check "Enter on the cgroup row shows the cgroup view (${first#* })" has 'KERNEL' ;;
esac
check "... and leaves the verdicts view" lacks VERDICT
keys q
tm_no_sanitizer_report
finish
