#!/bin/sh
# The figures of kmemtop's views printed once (-o) against --json of the
# same tree (tests/integration/views_figures.py): --node -o (every kind's
# size and share, per-CPU free pages, memmap), --cgroups -o (every cell of
# every row), --cgroups --by-cache -o (each row's share of its cgroup).
. "$(dirname "$0")/../lib.sh"

K="$B/kmemtop"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT
n=0
view() { # VIEW FIXTURE ARGS...
    v=$1 fx=$2
    shift 2
    "$K" --root "$FIXTURES/$fx" "$@" -o >"$T/v" 2>"$T/err"
    check_eq "$fx: $* -o exits 0" 0 $?
    python3 "$TOP/tests/integration/views_figures.py" "$v" "$T/v" "$T/j" "$fx" >"$T/out"
    grep -v '^# compared' "$T/out"
    n=$((n + $(sed -n 's/^# compared //p' "$T/out")))
}
for fx in v2-systemd-containerd v2-crio v1-cgroupfs v2-no-kernel-stat debian12-linux6.18-full \
    debian12-linux6.18-hybrid node-stacks-in-slab node-allocinfo; do
    "$K" --root "$FIXTURES/$fx" --json >"$T/j" 2>"$T/err"
    view node "$fx" --node
    case $fx in node-*) continue ;; esac
    view cgroups "$fx" --cgroups
done
"$K" --root "$FIXTURES/owners-v2" --json >"$T/j" 2>"$T/err"
view owners owners-v2 --cgroups --by-cache
check "at least 300 figures of the views compared ($n)" test "$n" -ge 300
finish
