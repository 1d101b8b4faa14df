#!/bin/sh
# --collector.slabinfo.top N on fixtures: exactly the N largest caches by
# size (num_slabs x pagesperslab x page size, ties in file order) keep their
# own series, every other non-empty cache is summed into cache="other" in the
# families that add up, kmem_slab_info has no "other", the totals equal those
# without the flag, and promtool accepts the exposition.
. "$(dirname "$0")/../lib.sh"
E="$B/kmem_exporter"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
[ -x "$E" ] || { not_ok "kmem_exporter is built in $B"; finish; }
PS=$(getconf PAGESIZE)

# sum FILE FAMILY: the sum of FAMILY's samples.
sum() { awk -v f="$2" 'index($1, f "{") == 1 { s += $2 } END { printf "%.0f\n", s }' "$1"; }

n=0
for fx in debian12-linux6.18-full slab-dup-names slab-ties; do
    R="$FIXTURES/$fx"
    [ -f "$R/proc/slabinfo" ] || continue
    # The expected kept caches: non-empty lines by size, file order on ties.
    awk -v ps="$PS" 'NR > 2 && ($3 > 0 || $2 > 0 || $15 > 0) {
            printf "%d %d %s\n", $15 * $6 * ps, NR, $1 }' "$R/proc/slabinfo" |
        sort -k1,1nr -k2,2n >"$T/sizes"
    nonempty=$(wc -l <"$T/sizes")
    # 1 and 5, one cache in the rest, and every cache kept (no rest at all)
    for top in 1 5 $((nonempty - 1)) "$nonempty"; do
        "$E" --root "$R" --once --no-collector.cgroup --no-collector.node \
            --no-collector.node_detail >"$T/all.prom" 2>/dev/null
        "$E" --root "$R" --once --no-collector.cgroup --no-collector.node \
            --no-collector.node_detail --collector.slabinfo.top "$top" >"$T/top.prom" 2>/dev/null
        check_eq "$fx top $top: exit 0" 0 $?
        if [ "$nonempty" -le "$top" ]; then
            check_eq "$fx top $top: no other when every cache fits" 0 \
                "$(grep -c 'cache="other"' "$T/top.prom")"
            continue
        fi
        n=$((n + 1))
        want=$(head -n "$top" "$T/sizes" | awk '{ print $3 }' | sort | tr '\n' ' ')
        got=$(awk -F'"' '/^kmem_slab_size_bytes\{/ && $2 != "other" { print $2 }' "$T/top.prom" |
            sed 's/#[0-9]*$//' | sort | tr '\n' ' ')
        check_eq "$fx top $top: the $top largest caches keep their series" "$want" "$got"
        for fam in kmem_slab_objects kmem_slab_active_objects kmem_slab_slabs \
            kmem_slab_size_bytes kmem_slab_active_bytes; do
            check_eq "$fx top $top: $fam sums to the same total" "$(sum "$T/all.prom" "$fam")" \
                "$(sum "$T/top.prom" "$fam")"
            check_eq "$fx top $top: $fam has $top + other series" $((top + 1)) \
                "$(grep -c "^$fam{" "$T/top.prom")"
        done
        rest=$(tail -n +$((top + 1)) "$T/sizes" | awk '{ s += $1 } END { printf "%.0f\n", s }')
        check_eq "$fx top $top: other's size = the rest's (from the file)" "$rest" \
            "$(awk '/^kmem_slab_size_bytes\{cache="other"\}/ { print $2 }' "$T/top.prom")"
        check_eq "$fx top $top: no kmem_slab_info for other" 0 \
            "$(grep -c '^kmem_slab_info{cache="other"' "$T/top.prom")"
        if command -v promtool >/dev/null; then
            check "$fx top $top: promtool check metrics" sh -c "promtool check metrics <'$T/top.prom' >/dev/null 2>&1"
        fi
    done
done
check "compared at least 6 fixtures x sizes with a rest ($n)" [ "$n" -ge 6 ]

# Without --collector.slabinfo.top: every cache line with any object (a
# cache whose objects are all free still holds its slabs: slab-idle) has
# its five families, each equal to the file's columns, and an empty one
# has none. Compared on the real fixture and the edge cases, one count.
cmp=0
for fx in debian12-linux6.18-full slab-idle slab-dup-names slab-64bit-sums slab-ties; do
    R="$FIXTURES/$fx"
    "$E" --root "$R" --once --no-collector.cgroup --no-collector.node \
        --no-collector.node_detail >"$T/all.prom" 2>/dev/null
    check_eq "$fx: exit 0" 0 $?
    python3 - "$R/proc/slabinfo" "$PS" >"$T/want" <<'PY2'
import sys
ps, seen = int(sys.argv[2]), {}
for line in open(sys.argv[1]).read().splitlines()[2:]:
    f = line.split()
    name, act, num, size, slabs = f[0], int(f[1]), int(f[2]), int(f[3]), int(f[14])
    dup = seen.get(name, 0)
    seen[name] = dup + 1
    if not (act or num or slabs):
        continue
    label = name if dup == 0 else "%s#%d" % (name, dup)
    for fam, v in (("objects", num), ("active_objects", act), ("slabs", slabs),
                   ("size_bytes", slabs * int(f[5]) * ps), ("active_bytes", act * size)):
        print('kmem_slab_%s{cache="%s"} %d' % (fam, label, v))
PY2
    grep -E '^kmem_slab_(objects|active_objects|slabs|size_bytes|active_bytes)\{' "$T/all.prom" |
        sort >"$T/got"
    sort -o "$T/want" "$T/want"
    if cmp -s "$T/want" "$T/got"; then
        ok "$fx: every cache with objects has its 5 families equal to proc/slabinfo, no empty one ($(wc -l <"$T/want") series)"
    else
        not_ok "$fx: every cache with objects has its 5 families equal to proc/slabinfo, no empty one"
        diff "$T/want" "$T/got" | head -5 | sed 's/^/# /'
    fi
    cmp=$((cmp + $(wc -l <"$T/want")))
    [ "$fx" = slab-idle ] && check_eq "slab-idle: the two caches with only free objects have series" 2 \
        "$(grep -cE '^kmem_slab_objects\{cache="idle_(freed|order1)"\} (64|42)$' "$T/all.prom")"
done
check "compared at least 700 series with proc/slabinfo ($cmp)" [ "$cmp" -ge 700 ]

# A cache named "other" among the kept ones: the rest is labelled "other (rest)",
# one series in each family that adds up, beside the cache's own.
mkdir -p "$T/named/proc"
awk -v ps="$PS" 'NR > 2 { print $15 * $6 * ps, NR }' "$FIXTURES/debian12-linux6.18-full/proc/slabinfo" |
    sort -k1,1nr -k2,2n | head -n 1 >"$T/largest"
read -r _ big <"$T/largest"
awk -v big="$big" 'NR == big { $1 = "other" } { print }' \
    "$FIXTURES/debian12-linux6.18-full/proc/slabinfo" >"$T/named/proc/slabinfo"
"$E" --root "$T/named" --once --no-collector.cgroup --no-collector.node \
    --no-collector.node_detail --collector.slabinfo.top 1 >"$T/named.prom" 2>/dev/null
check_eq "a kept cache named other: exit 0" 0 $?
check_eq "a kept cache named other: its own series in the 5 summed families + info" 6 \
    "$(grep -c '{cache="other"' "$T/named.prom")"
check_eq "a kept cache named other: the rest is \"other (rest)\" in the 5 summed families" 5 \
    "$(grep -c '^kmem_slab_[a-z_]*{cache="other (rest)"} [0-9]' "$T/named.prom")"
"$E" --root "$FIXTURES/debian12-linux6.18-full" --once --collector.slabinfo.top x >/dev/null 2>&1
check_eq "--collector.slabinfo.top x is refused" 2 $?
finish
