#!/bin/sh
# The cgroup reader's kept fds and its reuse of the known tree on live v1
# memory cgroups (root): every scrape of a server (--collect.min-interval 0)
# sees a cgroup created or removed at once, at any depth, also a cgroup
# removed and made again under the same name, and values equal the kernel's
# files; fds of removed cgroups are closed; under a low RLIMIT_NOFILE the
# cgroups beyond the fd cap are read by open/read/close with the same
# results; kmemtop --capture still writes the files it read through kept
# fds; an open fd does not keep a removed cgroup (ENODEV after rmdir).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exporter.lib.sh"
M=$V1
CG=kmem-fds-$$
T=$(test "$(id -u)" -eq 0 && tmpdir)

need_root cgroup_fds
need_v1_kmem cgroup_fds skip
cleanup() {
    stop_all
    [ -d "$M/$CG" ] && find "$M/$CG" -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null
    rmdir "$M/$CG" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mkdir "$M/$CG"
for g in 0 1 2 3; do
    mkdir "$M/$CG/g$g"
    for c in $(seq 0 49); do mkdir "$M/$CG/g$g/c$c"; done
done

# scrape PORT: the cgroups of $CG in the exposition, sorted, as "path value".
scrape() {
    curl -s "http://127.0.0.1:$1/metrics" >"$T/s.txt"
    sed -n "s|^kmem_cgroup_kernel_bytes{cgroup=\"\\(/${CG}[^\"]*\\)\".*} \\([0-9]*\\)\$|\\1 \\2|p" "$T/s.txt" | sort
}
# tree: the same from the kernel's files.
tree() {
    (cd "$M" && find "$CG" -type d | while read -r d; do echo "/$d $(cat "$d/memory.kmem.usage_in_bytes")"; done) | sort
}
fds() { sed -n 's/^process_open_fds \([0-9]*\)$/\1/p' "$T/s.txt"; }
# allcg: every cgroup of the machine in the scrape (others' too).
allcg() { grep -c '^kmem_cgroup_kernel_bytes{' "$T/s.txt"; }

# run DESC: the scrape (exporter on $P) has exactly the cgroups of the tree,
# and the value of every cgroup whose file did not change around the scrape.
run() {
    tree >"$T/b0"
    scrape "$P" >"$T/a"
    tree >"$T/b1"
    cut -d' ' -f1 "$T/a" >"$T/ap"
    cut -d' ' -f1 "$T/b1" >"$T/bp"
    comm -12 "$T/b0" "$T/b1" >"$T/stable"
    bad=$(comm -23 "$T/stable" "$T/a" | wc -l)
    ob=$(awk '$1 == "kmem_cgroups_skipped{reason=\"over_budget\"}" { print $2 }' "$T/s.txt")
    if cmp -s "$T/ap" "$T/bp" && [ "$bad" -eq 0 ] && [ "${ob:-0}" -eq 0 ]; then
        ok "$1 ($(wc -l <"$T/a") cgroups, $(wc -l <"$T/stable") stable values equal)"
    else
        not_ok "$1 ($bad stable values differ, ${ob:-0} cgroups over the series budget)"
        diff "$T/bp" "$T/ap" | head -5 | sed 's/^/# /'
        comm -23 "$T/stable" "$T/a" | head -3 | sed 's/^/# kernel: /'
    fi
}

P=$(free_port)
# A budget for every cgroup of the machine: the default leaves out the
# deepest (this test's) when the machine has thousands of others.
spawn "$T/e.log" "$E" --web.listen-address "127.0.0.1:$P" --collect.min-interval 0 \
    --collector.cgroup.series-budget 4096
check "exporter answers" wait_url "http://127.0.0.1:$P/metrics"
run "every cgroup, values as the kernel's files"
run "again (the known tree re-read through kept fds)"
n0=$(fds) c0=$(allcg)
# One kept file per cgroup (with inotify no directory is kept; without it,
# v1 keeps each directory too, for its link count).
check "fds kept for the cgroups (process_open_fds $n0 >= 200)" [ "$n0" -ge 200 ]
mkdir "$M/$CG/g1/c7/new"
run "a cgroup created at depth 3 is seen at the next scrape"
mkdir "$M/$CG/g4"
run "a cgroup created at depth 1 is seen"
rmdir "$M/$CG/g1/c7/new"
run "a removed cgroup is gone at the next scrape"
rmdir "$M/$CG/g2/c3" && mkdir "$M/$CG/g2/c3"
run "a cgroup removed and made again under the same name"
# A removal and a creation under different parents between two scrapes.
rmdir "$M/$CG/g3/c9" && mkdir "$M/$CG/g0/c99"
run "one removed and one created in different places"
for c in $(seq 0 49); do [ -d "$M/$CG/g3/c$c" ] && rmdir "$M/$CG/g3/c$c"; done
rmdir "$M/$CG/g3"
run "51 cgroups removed"
n1=$(fds) c1=$(allcg)
# One kept fd per cgroup: fds minus cgroups stays what it was, whatever other
# cgroups the machine made or removed meanwhile (51 more if the removed
# cgroups' fds stayed open).
check "their fds are closed (process_open_fds $n0 -> $n1, cgroups $c0 -> $c1: the fds beside them $((n0 - c0)) -> $((n1 - c1)))" \
    [ $((n1 - c1)) -le $((n0 - c0 + 20)) ]
# Charge kernel memory to one cgroup: the value follows.
sh -c "echo \$\$ >'$M/$CG/g0/c1/cgroup.procs' && mkdir '$T/d' && cd '$T/d' && seq 1 300 | xargs mkdir"
run "a charged cgroup's value follows"
stop_all

# A low fd limit: the cgroups beyond the cap are opened and closed each time.
P=$(free_port)
spawn "$T/e2.log" sh -c "ulimit -n 300 && exec '$E' --web.listen-address 127.0.0.1:$P --collect.min-interval 0 --web.max-connections 16 --collector.cgroup.series-budget 4096"
check "exporter with RLIMIT_NOFILE 300 answers" wait_url "http://127.0.0.1:$P/metrics"
run "RLIMIT_NOFILE 300: every cgroup"
run "RLIMIT_NOFILE 300: again"
check "RLIMIT_NOFILE 300: fds capped ($(fds) open, limit 300)" [ "$(fds)" -lt 300 ]
mkdir "$M/$CG/g2/c40/x" && rmdir "$M/$CG/g1/c49"
run "RLIMIT_NOFILE 300: changes beyond the cap are seen"
stop_all

# kmemtop --capture reads through the fds it keeps: the files are captured.
"$B/kmemtop" --capture "$T/cap" --cgroups -o >/dev/null 2>"$T/cap.err"
check "kmemtop --capture on the live machine" test $? -eq 0
check "captured: a cgroup's memory.kmem.usage_in_bytes" test -s "$T/cap/sys/fs/cgroup/memory/$CG/g0/c1/memory.kmem.usage_in_bytes"

# The kernel's side of the bargain: a kept fd does not keep a removed cgroup.
mkdir "$M/$CG/gone"
python3 - "$M/$CG/gone" >"$T/py.out" 2>&1 <<'EOP'
import errno, os, sys
d = sys.argv[1]
fd = os.open(d + "/memory.kmem.usage_in_bytes", os.O_RDONLY)
os.pread(fd, 64, 0)
os.rmdir(d)
try:
    os.pread(fd, 64, 0)
    print("read after rmdir")
except OSError as e:
    print(errno.errorcode.get(e.errno))
print("exists" if os.path.exists(d) else "gone")
EOP
check_eq "v1: a kept fd reads ENODEV once its cgroup is removed" "ENODEV gone" "$(tr '\n' ' ' <"$T/py.out" | sed 's/ $//')"
finish
