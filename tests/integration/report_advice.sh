#!/bin/sh
# kmemtop --report "What to do" names who and what (issue 23): the leaf
# cgroup (pod and container in Kubernetes) that holds the most kernel memory,
# with its share of what is charged to cgroups, and the largest slab cache
# of the kind it talks about, with what the cache means in plain words. The
# figures are recomputed here from the fixture's own files with awk (v2
# memory.stat "kernel", /proc/slabinfo, sys/kernel/slab/*/reclaim_account);
# the names come from --json. Also: the sort keys the report suggests work
# (G: growth), and it never suggests the old '-s g' "sorted by growth".
. "$(dirname "$0")/../lib.sh"

K="$B/kmemtop"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT INT TERM
[ -x "$K" ] || { not_ok "kmemtop is built at $K"; finish; }
command -v jq >/dev/null || { not_ok "jq is installed (make deps)"; finish; }

# The report's "What to do" section as one line.
advice() {
    "$K" --root "$1" --report 2>/dev/null | sed -n '/^What to do$/,/^What kernel memory is$/p' |
        tr -s ' \n' '  '
}

# "kernel" of a v2 memory.stat, in bytes.
kernel_of() { awk '$1 == "kernel" { print $2 }' "$1/memory.stat"; }

# The v2 leaf cgroup (no child with a memory.stat) with the most kernel
# memory: "BYTES PATH" (ties: the smaller path, as the report).
top_leaf() {
    cg=$1/sys/fs/cgroup
    find "$cg" -mindepth 2 -name memory.stat | while read -r f; do
        d=${f%/memory.stat}
        [ -z "$(find "$d" -mindepth 2 -name memory.stat | head -1)" ] || continue
        printf '%s %s\n' "$(kernel_of "$d")" "${d#"$cg"}"
    done | sort -k1,1nr -k2,2 | head -1
}

# Largest cache in proc/slabinfo (num_slabs x pagesperslab), of the class
# $2 (1 reclaimable, 0 not) when sys/kernel/slab is there, else of all.
largest_cache() {
    awk 'NR > 2 { print $1, $15 * $6 }' "$1/proc/slabinfo" | while read -r name pages; do
        if [ -d "$1/sys/kernel/slab" ]; then
            [ "$(cat "$1/sys/kernel/slab/$name/reclaim_account" 2>/dev/null)" = "$2" ] || continue
        fi
        echo "$pages $name"
    done | sort -k1,1nr | head -1 | cut -d' ' -f2
}

n_pods=0
n_caches=0
for F in "$FIXTURES"/v2-systemd-containerd "$FIXTURES"/v2-crio "$FIXTURES"/owners-v2 \
    "$FIXTURES"/v2-no-root-stat "$FIXTURES"/debian12-linux6.18-full; do
    n=${F##*/}
    A=$(advice "$F")
    printf '%s\n' "$A" >"$T/$n.advice"
    check "$n: --report never suggests '-s g' as growth" sh -c "! grep -q \"kmemtop -s g'\" '$T/$n.advice'"

    # Who: v2 fixtures with a root memory.stat (the share's denominator).
    if [ -f "$F/sys/fs/cgroup/memory.stat" ] && [ -f "$F/sys/fs/cgroup/cgroup.controllers" ]; then
        top=$(top_leaf "$F")
        bytes=${top%% *} path=${top#* }
        root=$(kernel_of "$F/sys/fs/cgroup")
        pct=$(awk -v a="$bytes" -v b="$root" 'BEGIN { printf "%.1f", 100 * a / b }')
        J="$T/$n.json"
        "$K" --root "$F" --json >"$J"
        pod=$(jq -r --arg p "$path" '.cgroups.items[] | select(.path == $p) |
            if .pod then "pod \(.namespace)/\(.pod) (container \(.container))" else "cgroup \(.path)" end' "$J")
        case $A in
        *"Most kernel memory is held by $pod: "*", $pct% of the kernel memory charged to cgroups."*)
            ok "$n: names $pod and its share $pct% (= $bytes / $root, memory.stat kernel)" ;;
        *) not_ok "$n: expected 'Most kernel memory is held by $pod: ..., $pct%' in: $A" ;;
        esac
        case $pod in pod*) n_pods=$((n_pods + 1)) ;; esac
        check "$n: gives the command that shows the cgroup's caches" \
            grep -q "'kmemtop --cgroups --by-cache -o' shows which caches" "$T/$n.advice"
    fi

    # What: the largest cache of the reclaimable kind, with its meaning.
    case $A in *"Reclaimable slab ("*)
        c=$(largest_cache "$F" 1)
        case $A in
        *"The largest "*" cache is $c ("*": "*")."*) ok "$n: names the largest reclaimable cache, $c" ;;
        *) not_ok "$n: expected the largest reclaimable cache $c in: $A" ;;
        esac
        n_caches=$((n_caches + 1))
        ;;
    esac
done
check "the pod naming was checked on at least 3 Kubernetes fixtures ($n_pods)" test "$n_pods" -ge 3
check "the cache naming was checked on at least 4 fixtures ($n_caches)" test "$n_caches" -ge 4

# The meaning table on the caches the issue names.
F=$FIXTURES/v2-crio
check "ext4_inode_cache means ext4 files" grep -q "ext4_inode_cache ([^)]*: files of ext4 file systems" "$T/v2-crio.advice"

# Sort keys: G is growth (help, errors), r is refused once, -o -s G needs -d.
"$K" --help >"$T/help" 2>&1
check "--help documents G as growth" grep -q " G growth since kmemtop started" "$T/help"
"$K" --root "$F" -o -s G >"$T/out" 2>"$T/err"
check_eq "-o -s G without -d exits 1" 1 $?
check "... and says to add -d" grep -q -- "-o -d 5 -s G" "$T/err"
"$K" --root "$F" -o -d 1 -s G >"$T/G" 2>"$T/err"
check_eq "-o -d 1 -s G exits 0" 0 $?
"$K" --root "$F" -o -d 1 -s g >"$T/g" 2>/dev/null
check "-o -d 1 -s G is the growth over those two samples: the order of -s g" cmp -s "$T/G" "$T/g"
"$K" --root "$F" -o -s r >/dev/null 2>"$T/err"
check_eq "-o -s r (a rate needs the interactive view) exits 1" 1 $?
"$K" --root "$F" --cgroups -o -s G >/dev/null 2>"$T/err"
check_eq "--cgroups -o -s G without -d exits 1" 1 $?
finish
