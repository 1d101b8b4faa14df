#!/bin/sh
# Slab memory per cgroup and cache (the owner snapshot) in kmemtop, on the
# fixture owners-v2 (v2-systemd-containerd with a kmem-owners.txt):
# --cgroups --by-cache -o and --json against golden files and against the
# file's own rows (read here with awk), per cgroup sums, --report's plain
# lines, a capture that replays the same, and the one-line reasons when
# there is no owner snapshot (no file, a broken file, no walker).
. "$(dirname "$0")/../lib.sh"

K="$B/kmemtop"
OW="$FIXTURES/owners-v2"
F="$OW/kmem-owners.txt"
GOLD="$TOP/tests/integration/golden"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT INT TERM
[ -x "$K" ] || { not_ok "kmemtop is built at $K"; finish; }
command -v jq >/dev/null || { not_ok "jq is installed (make deps)"; finish; }

# ---- the table ----------------------------------------------------------
"$K" --root "$OW" --cgroups --by-cache -o >"$T/table" 2>"$T/err"
check_eq "--by-cache -o: exit 0, nothing on stderr" "" "$(cat "$T/err")"
check "--by-cache -o: the golden table" diff -u "$GOLD/owners-by-cache.txt" "$T/table"
nrows=$(awk 'NR == 8 { print $2 }' "$F")
check_eq "the fixture has rows" 1 "$([ "$nrows" -ge 40 ] && echo 1)"
shown=$(awk 'NR > 2' "$T/table" | wc -l)
check_eq "--by-cache -o: one line per row of the file ($nrows)" "$nrows" "$shown"
# Per cgroup: the bytes shown (grouped by the name column) against the
# file's rows (grouped by cgroup id), as two sorted lists of sums.
awk -F '\t' 'NR > 8 { s[$1] += $3 } END { for (k in s) print s[k] }' "$F" | sort -n >"$T/file-sums"
awk 'NR > 2 { n = $5; for (i = 6; i <= NF; i++) n = n " " $i; s[n] += $1 } END { for (k in s) print s[k] }' \
    "$T/table" | sort -n >"$T/shown-sums"
check "per cgroup: the sum of the bytes shown = the sum of its rows in the file" \
    diff -u "$T/file-sums" "$T/shown-sums"
ncg=$(wc -l <"$T/file-sums")
check_eq "... compared for every cgroup id of the file (9 with 'not charged')" 9 "$ncg"
check "--by-cache -o: pods by NAMESPACE/POD/CONTAINER" \
    grep -q ' dentry  *monitoring/prometheus-0/prometheus$' "$T/table"
check "--by-cache -o: a cgroup id with no path is a removed cgroup" \
    grep -q '  kmalloc-64  *(removed cgroup 3999)$' "$T/table"
check "--by-cache -o: objects no cgroup owns" grep -q ' kmalloc-64  *(not charged)$' "$T/table"
check "--by-cache -o: the summary counts the removed cgroup apart" \
    grep -q '^owner snapshot 2025-12-05 20:00:00 UTC (from kmem-owners.txt): 8 cgroups, .*; 1 removed cgroup (24K)$' "$T/table"
# SHARE: each row's part of its cgroup's bytes; they add up to ~100 % per cgroup.
bad=$(awk 'NR > 2 { n = $5; for (i = 6; i <= NF; i++) n = n " " $i; sub(/%/, "", $3); s[n] += $3 }
           END { for (k in s) if (s[k] < 99.5 || s[k] > 100.5) print k, s[k] }' "$T/table")
check_eq "SHARE adds up to 100% in every cgroup" "" "$bad"

# Leaves: a cgroup's own slab is the sum over caches: memory.stat slab of
# every container and service, within one object of the last cache.
cg="$OW/sys/fs/cgroup"
n=0
for id in 1187 1203 2417 2418 2533 2640; do
    p=$(awk -F '\t' -v id="$id" 'NR > 8 && $1 == id { print $5; exit }' "$F")
    want=$(awk '$1 == "slab_reclaimable" || $1 == "slab_unreclaimable" { s += $2 } END { print s }' "$cg$p/memory.stat")
    got=$(jq -r --arg p "$p" '.owners.cgroups[] | select(.path == $p) | .bytes' \
        "$(
            "$K" --root "$OW" --cgroups --by-cache --json >"$T/j1"
            echo "$T/j1"
        )")
    d=$((want - got))
    if [ "$d" -ge 0 ] && [ "$d" -lt 4096 ]; then n=$((n + 1)); else not_ok "$p: memory.stat slab $want, owners $got"; fi
done
check_eq "leaf cgroups: memory.stat slab - the sum over caches is in [0, 4096) (6 compared)" 6 "$n"

# ---- JSON -----------------------------------------------------------------
"$K" --root "$OW" --cgroups --by-cache --json >"$T/doc.json"
check "--json: valid JSON" sh -c "jq -e . '$T/doc.json' >/dev/null"
jq '.owners' "$T/doc.json" >"$T/owners.json"
check "--json: the golden owners object" diff -u "$GOLD/owners.json" "$T/owners.json"
# Every row of the file is in the document, with its bytes and objects.
awk -F '\t' 'NR > 8 { print ($1 == 0 ? "-" : $1) "\t" $4 "\t" $2 "\t" $3 }' "$F" | sort >"$T/file-rows"
jq -r '(.owners.cgroups[] | .cgroup_id as $id | .caches[] | "\($id)\t\(.cache)\t\(.objects)\t\(.bytes)"),
       (.owners.not_charged.caches[] | "-\t\(.cache)\t\(.objects)\t\(.bytes)")' "$T/doc.json" | sort >"$T/json-rows"
check "--json: every row of the file, no other" diff -u "$T/file-rows" "$T/json-rows"
check_eq "--json: rows compared" "$nrows" "$(wc -l <"$T/json-rows")"
check_eq "--json: per cgroup, bytes = the sum of its caches" "" \
    "$(jq -r '.owners.cgroups[] | select(.bytes != ([.caches[].bytes] | add)) | .path' "$T/doc.json")"
check_eq "--json: objects_charged is the file's" \
    "$(awk 'NR == 6 { print $2 }' "$F")" "$(jq .owners.objects_charged "$T/doc.json")"
check_eq "--json: the removed cgroup" '3999 true null' \
    "$(jq -r '.owners.cgroups[] | select(.removed) | "\(.cgroup_id) \(.removed) \(.path)"' "$T/doc.json")"
check_eq "--json: pod labels of a container" 'monitoring prometheus-0 prometheus' \
    "$(jq -r '.owners.cgroups[] | select(.cgroup_id == 2533) | "\(.namespace) \(.pod) \(.container)"' "$T/doc.json")"

# ---- --report -------------------------------------------------------------
"$K" --root "$OW" --report >"$T/report"
sed -n '/^Slab memory by container and cache$/,/^$/p' "$T/report" >"$T/rep"
check "--report: a section on slab memory by container and cache" test -s "$T/rep"
check_eq "--report: the 10 largest pairs" 10 "$(grep -c ' holds ' "$T/rep")"
# The largest charged row of the file, named in words.
top=$(awk -F '\t' 'NR > 8 && $1 != 0 && $3 > b { b = $3; c = $4 } END { print c }' "$F")
check "--report: first the largest (pod, cache) pair ($top)" \
    grep -q "^  Pod monitoring/prometheus-0 (container prometheus) holds 5.4M in $top (" "$T/rep"
check "--report: services by cgroup path" \
    grep -q '^  Cgroup /system.slice/containerd.service holds 4.8M in dentry (26214 objects, 40% of the slab charged to it)\.$' "$T/rep"

# ---- a capture replays the same ---------------------------------------------
"$K" --root "$OW" --capture "$T/cap" 2>"$T/caperr"
check "a capture of a root with owners holds kmem-owners.txt" test -f "$T/cap/kmem-owners.txt"
"$K" --root "$T/cap" --cgroups --by-cache -o >"$T/table2"
check "... and replays the same table" diff -u "$T/table" "$T/table2"
check "... a removed cgroup is written without a path" grep -q "$(printf '^3999\t30\t1920\tkmalloc-64\t$')" "$T/cap/kmem-owners.txt"

# ---- no owner snapshot: one line saying why -----------------------------------
"$K" --root "$FIXTURES/v2-systemd-containerd" --cgroups --by-cache -o >"$T/out" 2>"$T/err"
rc=$?
check_eq "no kmem-owners.txt: exit 1" 1 "$rc"
check_eq "... one line on stderr" 1 "$(wc -l <"$T/err")"
check "... naming the file" grep -q 'no owner snapshot: no kmem-owners.txt under this root' "$T/err"
check_eq "--json without owners: status.ok false with the reason" "false no owner snapshot" \
    "$("$K" --root "$FIXTURES/v2-systemd-containerd" --json | jq -r '.owners.status | "\(.ok) \(.error)"' | cut -c1-23)"
check "--report without owners: one line" sh -c "'$K' --root '$FIXTURES/v2-systemd-containerd' --report |
    grep -q '^  Not known: no owner snapshot: '"
cp -r "$OW" "$T/bad"
sed -i '12s/\t/ /' "$T/bad/kmem-owners.txt"
"$K" --root "$T/bad" --cgroups --by-cache -o >"$T/out" 2>"$T/err"
check "a broken kmem-owners.txt: file and line" grep -q "^kmemtop: $T/bad/kmem-owners.txt:12: " "$T/err"
# On this machine: the walker runs, or says in one line why it cannot.
"$K" --cgroups --by-cache -o >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" = 0 ]; then
    check "live: a table" grep -q '^owner snapshot .* (walked): ' "$T/out"
else
    check_eq "live without owners: one line on stderr" 1 "$(wc -l <"$T/err")"
    check "live without owners: it says why" grep -q '^kmemtop: .*owner' "$T/err"
fi
finish
