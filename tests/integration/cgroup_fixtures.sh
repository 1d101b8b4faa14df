#!/bin/sh
# Values the live VM kernels check, checked here on fixtures so that a run
# without qemu catches them too, through both front ends (kmem_exporter
# --once and kmemtop --json, --report):
#   - the exact flag: kmem_cgroup_kernel_exact / .cgroups.kernel_exact is 0
#     where any cgroup's kernel memory is estimated (v2 without the memory.stat
#     "kernel" key, before Linux 5.18: the v2-no-kernel-stat and
#     v2-no-root-stat fixtures), 1 elsewhere; and it agrees with the cgroups'
#     own approx / lower_bound marks;
#   - the count of removed cgroups on v1 (/proc/cgroups num_cgroups minus
#     the cgroups seen) with a cgroup that cannot be read: it and the cgroups
#     below it are skipped (kmem_cgroups_skipped{reason="error"}), not
#     counted as removed.
. "$(dirname "$0")/../lib.sh"
E="$B/kmem_exporter"
K="$B/kmemtop"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
[ -x "$E" ] && [ -x "$K" ] || { not_ok "kmem_exporter and kmemtop are built in $B"; finish; }
command -v jq >/dev/null || { not_ok "jq is installed (make deps)"; finish; }

# metric FILE NAME: the value of the unlabelled sample NAME (or NAME{...} as given).
metric() { awk -v n="$2" '$1 == n { print $2 }' "$1"; }

# ---- the exact flag, every fixture with a memory cgroup hierarchy --------
n=0
for f in "$FIXTURES"/*/; do
    f=${f%/}
    name=${f##*/}
    [ -d "$f/sys/fs/cgroup" ] || continue
    case $name in
    v2-no-kernel-stat | v2-no-root-stat) want=0 ;;
    *) want=1 ;;
    esac
    "$E" --once --root "$f" >"$T/e.txt" 2>"$T/e.err" || { not_ok "$name: kmem_exporter --once failed: $(head -3 "$T/e.err")"; continue; }
    "$K" --root "$f" --json >"$T/k.json" 2>"$T/k.err" || { not_ok "$name: kmemtop --json failed: $(head -3 "$T/k.err")"; continue; }
    [ "$(metric "$T/e.txt" 'kmem_collector_success{collector="cgroup"}')" = 1 ] || continue # no memory controller
    n=$((n + 1))
    ncg=$(jq '.cgroups.items | length' "$T/k.json")
    check_eq "$name: kmem_cgroup_kernel_exact ($ncg cgroups)" "$want" "$(metric "$T/e.txt" kmem_cgroup_kernel_exact)"
    jw=$([ "$want" = 1 ] && echo true || echo false)
    check_eq "$name: .cgroups.kernel_exact" "$jw" "$(jq .cgroups.kernel_exact "$T/k.json")"
    check_eq "$name: kernel_exact is true iff no cgroup is estimated" "$jw" \
        "$(jq '[.cgroups.items[] | select(.approx or .lower_bound)] | length == 0' "$T/k.json")"
    check_eq "$name: the exporter's dying count is kmemtop's (none where unknown)" "$(jq -r ".cgroups.dying // empty" "$T/k.json")" \
        "$(metric "$T/e.txt" kmem_memory_cgroups_dying)"
done
check "the exact flag checked on at least 6 fixtures, 2 of them estimated ($n)" test "$n" -ge 6

# ---- v1: an unreadable cgroup is skipped, not removed ---------------------
R="$T/v1"
cp -r "$FIXTURES/v1-cgroupfs" "$R"
C="$R/sys/fs/cgroup/memory"
num=$(awk '$1 == "memory" { print $3 }' "$R/proc/cgroups")
dirs=$(find "$C" -type d | wc -l)
check "v1 fixture: /proc/cgroups counts more cgroups than it has directories ($num, $dirs)" test "$num" -gt "$dirs"
want=$((num - dirs))
# kubepods/burstable cannot be read (garbage); three cgroups are below it.
below=$(($(find "$C/kubepods/burstable" -type d | wc -l) - 1))
check "v1 fixture: cgroups below the unreadable one ($below)" test "$below" -ge 2
echo lots >"$C/kubepods/burstable/memory.kmem.usage_in_bytes"
"$E" --once --root "$R" >"$T/e.txt" 2>/dev/null
"$K" --root "$R" --json >"$T/k.json" 2>/dev/null
"$K" --root "$R" --report >"$T/report" 2>/dev/null
check_eq "unreadable v1 cgroup: kmem_memory_cgroups_dying is num_cgroups - directories" "$want" \
    "$(metric "$T/e.txt" kmem_memory_cgroups_dying)"
check_eq "unreadable v1 cgroup: kmem_cgroups_skipped{reason=\"error\"} is it and the $below below it" \
    $((below + 1)) "$(metric "$T/e.txt" 'kmem_cgroups_skipped{reason="error"}')"
check_eq "unreadable v1 cgroup: .cgroups.dying" "$want" "$(jq .cgroups.dying "$T/k.json")"
check_eq "unreadable v1 cgroup: .cgroups.skipped_errors" $((below + 1)) "$(jq .cgroups.skipped_errors "$T/k.json")"
check_eq "unreadable v1 cgroup: .cgroups.items has the $((dirs - below - 1)) others" \
    $((dirs - below - 1)) "$(jq '.cgroups.items | length' "$T/k.json")"
check_eq "unreadable v1 cgroup: --report removed, still held" "$want" \
    "$(awk '/^  removed, still held / { print $4; exit }' "$T/report")"
finish
