#!/bin/sh
# kmemtop --diff A B of fixture trees, checked against the trees' own files:
# a tree against itself changes nothing (and says how much it compared);
# a copy with one known change shows exactly that change, B - A, positive
# where B grew, on the right line of a repeated cache name; A and B swapped
# negate it.
. "$(dirname "$0")/../lib.sh"
set -u
K="$B/kmemtop"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT
PY="$TOP/tests/integration/rec_tree.py"
PS=$(getconf PAGESIZE)
command -v jq >/dev/null || { not_ok "jq is installed (make deps)"; finish; }

# ---- a tree against itself ----------------------------------------------------
for fx in slab-dup-names v2-systemd-containerd v1-cgroupfs debian12-linux6.18-hybrid; do
    f="$FIXTURES/$fx"
    "$K" --diff "$f" "$f" --json >"$T/self.json"
    check_eq "$fx against itself: no kind, cache or cgroup changed (JSON)" "0 0 0" \
        "$(jq -r '"\(.node | length) \(.slabs | length) \(.cgroups | length)"' "$T/self.json")"
    "$K" --diff "$f" "$f" >"$T/self.txt"
    ncache=$(awk '!/^#/ && NR > 1 && NF' "$f/proc/slabinfo" | wc -l)
    check_eq "$fx against itself: every line of proc/slabinfo compared, none changed" \
        "Slab caches ($ncache compared, 0 changed):" "$(grep '^Slab caches (' "$T/self.txt")"
    [ -d "$f/sys/fs/cgroup" ] || continue
    if [ -d "$f/sys/fs/cgroup/memory" ]; then
        ncg=$(find "$f/sys/fs/cgroup/memory" -name memory.kmem.usage_in_bytes | wc -l)
    else
        ncg=$(find "$f/sys/fs/cgroup" -name memory.stat | wc -l)
    fi
    check "$fx against itself: cgroups compared ($ncg directories)" test "$ncg" -ge 5
    check_eq "$fx against itself: every memory cgroup directory compared, none changed" \
        "Cgroups (kernel memory) ($ncg compared, 0 changed):" \
        "$(grep '^Cgroups (kernel memory) (' "$T/self.txt")"
done

# ---- repeated cache names: the n-th line against the n-th line -----------------
A="$T/dupA"
Bt="$T/dupB"
cp -a "$FIXTURES/slab-dup-names" "$A"
cp -a "$FIXTURES/slab-dup-names" "$Bt"
# the second mlx5_fs_fgs line (of three) gets 7 more slabs
awk '$1 == "mlx5_fs_fgs" && ++seen == 2 {
        $2 += 7 * $5; $3 += 7 * $5; $14 += 7; $15 += 7 } { print }' \
    "$A/proc/slabinfo" >"$Bt/proc/slabinfo"
bytes() { # file n: kmem's size of the n-th mlx5_fs_fgs line, num_slabs x pagesperslab x page
    awk -v n="$2" -v ps="$PS" '$1 == "mlx5_fs_fgs" && ++seen == n { print $15 * $6 * ps }' "$1"
}
a2=$(bytes "$A/proc/slabinfo" 2)
b2=$(bytes "$Bt/proc/slabinfo" 2)
check "the copy's second line grew ($a2 -> $b2 bytes)" test "$b2" -gt "$a2"
"$K" --diff "$A" "$Bt" --json >"$T/d.json"
check_eq "one line changed: one cache row" 1 "$(jq '.slabs | length' "$T/d.json")"
check_eq "its A and B bytes are that line's in each file" "mlx5_fs_fgs $a2 $b2" \
    "$(jq -r '.slabs[0] | "\(.name) \(.a_bytes) \(.b_bytes)"' "$T/d.json")"
check_eq "its change is B - A" $((b2 - a2)) "$(jq '.slabs[0].change_bytes' "$T/d.json")"
"$K" --diff "$Bt" "$A" --json >"$T/r.json"
check_eq "A and B swapped: the change is negated" $((a2 - b2)) \
    "$(jq '.slabs[0].change_bytes' "$T/r.json")"
"$K" --diff "$A" "$Bt" >"$T/d.txt"
check_eq "text: $(awk '!/^#/ && NR > 1 && NF' "$A/proc/slabinfo" | wc -l) lines compared, 1 changed" \
    "Slab caches ($(awk '!/^#/ && NR > 1 && NF' "$A/proc/slabinfo" | wc -l) compared, 1 changed):" \
    "$(grep '^Slab caches (' "$T/d.txt")"

# ---- a node kind and a cgroup: B - A, and its sign -----------------------------
A="$T/v2A"
Bt="$T/v2B"
CG=kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c3d4e_5f60_4a7b_8c9d_0e1f2a3b4c5d.slice
cp -a "$FIXTURES/v2-systemd-containerd" "$A"
cp -a "$FIXTURES/v2-systemd-containerd" "$Bt"
python3 "$PY" "$Bt" meminfo PageTables 1000
python3 "$PY" "$Bt" cgstat "$CG" kernel_stack 1048576
pt() { awk '$1 == "PageTables:" { print $2 * 1024 }' "$1/proc/meminfo"; }
kern() { awk '$1 == "kernel" { print $2 }' "$1/sys/fs/cgroup/$CG/memory.stat"; }
"$K" --diff "$A" "$Bt" --json >"$T/n.json"
check_eq "pagetables: A and B are PageTables of each tree, the change B - A" \
    "$(pt "$A") $(pt "$Bt") $(($(pt "$Bt") - $(pt "$A")))" \
    "$(jq -r '.node[] | select(.name == "pagetables") | "\(.a_bytes) \(.b_bytes) \(.change_bytes)"' "$T/n.json")"
check_eq "the cgroup: A and B are memory.stat kernel of each tree, the change B - A" \
    "$(kern "$A") $(kern "$Bt") $(($(kern "$Bt") - $(kern "$A")))" \
    "$(jq -r --arg p "/$CG" '.cgroups[] | select(.cgroup == $p) | "\(.a_bytes) \(.b_bytes) \(.change_bytes)"' "$T/n.json")"
check_eq "one cgroup changed (its parents' files did not)" 1 "$(jq '.cgroups | length' "$T/n.json")"
"$K" --diff "$Bt" "$A" --json >"$T/nr.json"
check_eq "swapped: pagetables' change negated" $(($(pt "$A") - $(pt "$Bt"))) \
    "$(jq '.node[] | select(.name == "pagetables") | .change_bytes' "$T/nr.json")"
check_eq "swapped: the cgroup's change negated" $(($(kern "$A") - $(kern "$Bt"))) \
    "$(jq --arg p "/$CG" '.cgroups[] | select(.cgroup == $p) | .change_bytes' "$T/nr.json")"
"$K" --diff "$A" "$Bt" >"$T/n.txt"
# the pod's name from the tree's var/log/pods
check "text: the pod's row (namespace/pod) shows a growth of +1.0M" \
    grep -q "^  default/web-7d4b9c8f6d-x2x9k  *2.0M  *3.0M  *+1.0M$" "$T/n.txt"
# ---- gone, new and grown: rows, their order and the count of changes -----------
# B: inode_cache gone, an empty cache new, kmalloc-256 one slab more (its
# objects free: num_objs grows, active_objs does not), and the
# kubelet's cgroup removed. Rows by the size of the change (the gone cache's
# shrink first), the new empty cache counted as changed, the gone cgroup's
# bytes on A's side; objects of each side from its file.
A="$T/gA"
Bt="$T/gB"
cp -a "$FIXTURES/v2-systemd-containerd" "$A"
# the same machine's sys/kernel/slab (objects are shown where it is known)
cp -a "$FIXTURES/debian12-linux6.18-hybrid/sys/kernel" "$A/sys/"
cp -a "$A" "$Bt"
awk '$1 == "inode_cache" { next }
    $1 == "kmalloc-256" { $3 += $5; $14 += 1; $15 += 1 } { print }
    END { print "kmem_new_empty 0 0 64 64 1 : tunables 0 0 0 : slabdata 0 0 0" }' \
    "$A/proc/slabinfo" >"$Bt/proc/slabinfo"
KUB=system.slice/kubelet.service
rm -rf "${Bt:?}/sys/fs/cgroup/$KUB"
"$K" --diff "$A" "$Bt" --json >"$T/g.json"
sl() { awk -v n="$2" -v c="$3" '$1 == n { print $c }' "$1/proc/slabinfo"; }
ino=$(($(sl "$A" inode_cache 15) * $(sl "$A" inode_cache 6) * PS))
check_eq "gone, grown, new: three cache rows, the largest change first" \
    "inode_cache kmalloc-256 kmem_new_empty" "$(jq -r '[.slabs[].name] | join(" ")' "$T/g.json")"
check_eq "the gone cache: A's bytes, none in B, the change -A" "true false $ino 0 -$ino" \
    "$(jq -r '.slabs[0] | "\(.in_a) \(.in_b) \(.a_bytes) \(.b_bytes) \(.change_bytes)"' "$T/g.json")"
check_eq "the grown cache: objects of each file (num_objs)" \
    "$(sl "$A" kmalloc-256 3) $(sl "$Bt" kmalloc-256 3) $PS" \
    "$(jq -r '.slabs[1] | "\(.a_objects) \(.b_objects) \(.change_bytes)"' "$T/g.json")"
kub=$(awk '$1 == "kernel" { print $2 }' "$A/sys/fs/cgroup/$KUB/memory.stat")
check_eq "the removed cgroup: A's kernel bytes, none in B, the change -A" "true false $kub 0 -$kub" \
    "$(jq -r --arg p "/$KUB" '.cgroups[] | select(.cgroup == $p) | "\(.in_a) \(.in_b) \(.a_bytes) \(.b_bytes) \(.change_bytes)"' "$T/g.json")"
"$K" --diff "$A" "$Bt" >"$T/g.txt"
na=$(awk '!/^#/ && NR > 1 && NF' "$A/proc/slabinfo" | wc -l)
check_eq "text: A's $na lines and the new one compared, 3 changed (the new empty one too)" \
    "Slab caches ($((na + 1)) compared, 3 changed):" "$(grep '^Slab caches (' "$T/g.txt")"
finish
