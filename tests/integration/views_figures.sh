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
view() { # VIEW ROOT ARGS... (the tree's name: ROOT's last part)
    v=$1 root=$2 fx=${2##*/}
    shift 2
    "$K" --root "$root" "$@" -o >"$T/v" 2>"$T/err"
    check_eq "$fx: $* -o exits 0" 0 $?
    python3 "$TOP/tests/integration/views_figures.py" "$v" "$T/v" "$T/j" "$fx" >"$T/out"
    grep -v '^# compared' "$T/out"
    n=$((n + $(sed -n 's/^# compared //p' "$T/out")))
}
for fx in v2-systemd-containerd v2-crio v1-cgroupfs v2-no-kernel-stat debian12-linux6.18-full \
    debian12-linux6.18-hybrid node-stacks-in-slab node-allocinfo; do
    "$K" --root "$FIXTURES/$fx" --json >"$T/j" 2>"$T/err"
    view node "$FIXTURES/$fx" --node
    case $fx in node-*) continue ;; esac
    view cgroups "$FIXTURES/$fx" --cgroups
done
# memory hotplugged after boot: memmap pages beyond the boot ones (the line
# then says how much of the memmap is outside MemTotal)
cp -a "$FIXTURES/v2-crio" "$T/hotplug"
sed -i 's/^nr_memmap_pages 0$/nr_memmap_pages 4096/' "$T/hotplug/proc/vmstat"
"$K" --root "$T/hotplug" --json >"$T/j" 2>"$T/err"
view node "$T/hotplug" --node
check "the hotplug tree's node view gives the boot part of the memmap" \
    grep -q "^memmap .* page descriptors, 384M of it outside MemTotal$" "$T/v"
"$K" --root "$FIXTURES/owners-v2" --json >"$T/j" 2>"$T/err"
view owners "$FIXTURES/owners-v2" --cgroups --by-cache
check "at least 300 figures of the views compared ($n)" test "$n" -ge 300
finish
