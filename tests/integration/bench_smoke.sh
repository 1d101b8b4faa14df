#!/bin/bash
# The benchmarks run as a smoke test (not a timed test): every figure of
# bench/run.sh --smoke is printed, with numbers.
. "$(dirname "$0")/../lib.sh"
out=$("$TOP/bench/run.sh" --smoke 2>&1)
st=$?
echo "$out" | sed 's/^/# /'
check_eq "bench/run.sh --smoke exits 0" 0 "$st"
for fig in "slabtop -o, whole process" "slab refresh" "exporter collection" "exporter HTTP scrape, slabinfo and node" \
    "  above the kernel's /proc/slabinfo" "exporter RSS" "cgroup collection, " "cgroup reader RSS" \
    "alloc tracer overhead, tmpfs files, tracking" "alloc rates mode, tmpfs files, 3 s in 60 s" \
    "alloc tracer BPF maps" "alloc tracer refresh"; do
    line=$(echo "$out" | grep -F "$fig" | head -1)
    if echo "$line" | grep -Eq "^$fig.* -?[0-9]+(\.[0-9]+)? "; then ok "figure: $fig"; else not_ok "figure: $fig ($line)"; fi
    if echo "$line" | grep -Eq " (<= [0-9.]+x [a-z_]+|flat \(<= \+[0-9]+ KiB\)|<= [0-9.]+ (MiB|ms|s)|<= [0-9.]+%)\s*$"; then ok "target: $fig"; else not_ok "target: $fig ($line)"; fi
done
# Every row of the table has a target (make bench gives each a verdict).
# The same-collector scrape row shows the kernel's /proc/slabinfo generation
# that both servers pay (its floor).
line=$(echo "$out" | grep -F "exporter HTTP scrape, slabinfo and node" | head -1)
if echo "$line" | grep -Eq " slabinfo read\(\) [0-9]+\.[0-9]+ "; then
    ok "floor: the HTTP scrape row shows the slabinfo read() floor"
else
    not_ok "floor: the HTTP scrape row shows the slabinfo read() floor ($line)"
fi
rows=$(echo "$out" | sed -n '/^figure /,$p' | tail -n +2 | grep -v '^targets:')
n=$(echo "$rows" | grep -c .)
bad=$(echo "$rows" | grep -Evc " (<= [0-9.]+x [a-z_]+|flat \(<= \+[0-9]+ KiB\)|<= [0-9.]+ (MiB|ms|s)|<= [0-9.]+%)\s*$")
check "every one of the $n rows has a target (at least 15 rows)" test "$n" -ge 15 -a "$bad" -eq 0
finish
