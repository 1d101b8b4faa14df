#!/bin/sh
# kmemtop --report's numbers against --json of the same tree, on every
# fixture with a node, slab caches or cgroups (tests/integration/
# report_figures.py): each share and percentage recomputed from the JSON's
# bytes, each row of the largest caches and cgroups. kmemtop_outputs.sh
# checks the report's byte figures (kinds, the unaccounted formula).
. "$(dirname "$0")/../lib.sh"

K="$B/kmemtop"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT
n=0
for fx in v2-systemd-containerd v2-crio v1-cgroupfs v2-no-kernel-stat debian12-linux6.18-full \
    debian12-linux6.18-hybrid node-stacks-in-slab node-allocinfo slab-dup-names; do
    "$K" --root "$FIXTURES/$fx" --report >"$T/r" 2>"$T/err"
    check_eq "$fx: --report exits 0" 0 $?
    "$K" --root "$FIXTURES/$fx" --json >"$T/j" 2>>"$T/err"
    python3 "$TOP/tests/integration/report_figures.py" "$T/r" "$T/j" "$fx" >"$T/out"
    cat "$T/out"
    n=$((n + $(sed -n 's/^ok - .*(\([0-9]*\) compared)$/\1/p' "$T/out" | awk '{s += $1} END {print s + 0}')))
done
check "at least 300 figures of the reports compared ($n)" test "$n" -ge 300
finish
