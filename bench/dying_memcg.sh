#!/bin/sh
# What one removed ("dying") memory cgroup costs the kernel (root, cgroup v1).
#
#   bench/dying_memcg.sh [N]
#
# Creates N (default 1000) memory cgroups under /sys/fs/cgroup/memory, each
# charged with one tmpfs page written from inside it, removes them (they stay
# dying: the pages still hold them), then deletes the files, which frees the
# pages and the cgroups. The Slab and Percpu deltas of /proc/meminfo between
# "dying" and "freed", divided by N, are the cost of one dying cgroup plus one
# tmpfs file; a control run (N files, no cgroups) gives the file's part.
# kmemtop --report uses the figures (src/kmemtop/report.c, docs/cgroups.md).
# Cleans up in a trap. Other activity on the machine adds noise: use a large N.
set -e
N=${1:-1000}
M=/sys/fs/cgroup/memory
[ "$(id -u)" -eq 0 ] || { echo "bench/dying_memcg.sh: must run as root" >&2; exit 1; }
[ -f $M/memory.kmem.usage_in_bytes ] || { echo "bench/dying_memcg.sh: no cgroup v1 memory controller at $M" >&2; exit 1; }
P=$M/kmem-dying-bench-$$
T=$(mktemp -d "${TMPDIR:-/tmp}/kmem-dying-bench.XXXXXX")
cleanup() {
    rm -rf "$T/mnt/chg" "$T/mnt/ctl" 2>/dev/null
    [ -d "$P" ] && find "$P" -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null
    rmdir "$P" 2>/dev/null
    umount "$T/mnt" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir "$T/mnt"
mount -t tmpfs -o size=1g kmem-dying-bench "$T/mnt"

mi() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; } # kB
ncg() { awk '$1 == "memory" { print $3 }' /proc/cgroups; }
settle() { sleep 5; }

# Control: N files written by this shell (no cgroups), then deleted.
mkdir "$T/mnt/ctl"
i=0
while [ $i -lt "$N" ]; do printf '%4096s' x >"$T/mnt/ctl/f$i"; i=$((i + 1)); done
settle
s0=$(mi Slab); p0=$(mi Percpu)
rm -rf "$T/mnt/ctl"
settle
s1=$(mi Slab); p1=$(mi Percpu)
file_slab=$(((s0 - s1) * 1024 / N))

# N charged cgroups, removed, then freed.
mkdir "$P" "$T/mnt/chg"
i=0
while [ $i -lt "$N" ]; do
    mkdir "$P/c$i"
    sh -c "echo \$\$ >'$P/c$i/cgroup.procs' && printf '%4096s' x >'$T/mnt/chg/f$i'"
    i=$((i + 1))
done
i=0
while [ $i -lt "$N" ]; do rmdir "$P/c$i"; i=$((i + 1)); done
settle
d0=$(ncg); s2=$(mi Slab); p2=$(mi Percpu)
rm -rf "$T/mnt/chg"
settle
d1=$(ncg); s3=$(mi Slab); p3=$(mi Percpu)
cpus=$(awk -F- '{ print ($2 == "" ? 1 : $2 - $1 + 1) }' /sys/devices/system/cpu/possible)

echo "kernel $(uname -r), $cpus possible CPUs, N=$N"
echo "control, $N tmpfs files deleted: Slab -$((s0 - s1)) kB ($file_slab bytes per file), Percpu -$((p0 - p1)) kB"
echo "dying cgroups freed: $((d0 - d1)) (num_cgroups $d0 -> $d1)"
echo "  Slab   -$((s2 - s3)) kB: $(((s2 - s3) * 1024 / N)) bytes per cgroup with its file, $(((s2 - s3) * 1024 / N - file_slab)) without"
echo "  Percpu -$((p2 - p3)) kB: $(((p2 - p3) * 1024 / N)) bytes per cgroup, $(((p2 - p3) * 1024 / N / cpus)) per possible CPU"
