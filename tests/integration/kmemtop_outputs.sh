#!/bin/sh
# kmemtop --json, --report, --cgroups -o and --capture on every fixture tree
# and on this machine: the numbers are checked against the fixture's own
# files (read here with awk, independently of libkmem), and a capture
# replayed with --root must give the same document (a directory, or a
# FILE.tar.gz extracted).
. "$(dirname "$0")/../lib.sh"

K="$B/kmemtop"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT INT TERM

if [ ! -x "$K" ]; then
    not_ok "kmemtop is built at $K"
    finish
fi
command -v jq >/dev/null || { not_ok "jq is installed (make deps)"; finish; }

# Value of a /proc/meminfo field in bytes (kB x 1024; HugePages_* as is), 0 if absent.
mi() {
    v=$(awk -v k="$2:" '$1 == k { print $2; u = $3; exit } END { }' "$1/proc/meminfo")
    u=$(awk -v k="$2:" '$1 == k { print $3; exit }' "$1/proc/meminfo")
    [ -n "$v" ] || { echo 0; return; }
    if [ "$u" = kB ]; then echo $((v * 1024)); else echo "$v"; fi
}
has_mi() { grep -q "^$2:" "$1/proc/meminfo"; }
max0() { if [ "$1" -lt 0 ]; then echo 0; else echo "$1"; fi; }
jqr() { jq -r "$1" "$2"; }

# Human size ("12M", "~4.0K", "512B") to bytes, for order checks.
to_bytes() {
    awk '{ v = $1; sub(/^~/, "", v); u = substr(v, length(v)); n = substr(v, 1, length(v) - 1);
           m = index("BKMGTPE", u); if (m == 0) { print -1; next }
           printf "%.0f\n", n * 1024 ^ (m - 1) }'
}

jqe() { jq -e "$1" "$2" >/dev/null; }

# A v2 cgroup's kernel memory from its memory.stat (docs/cgroups.md): the
# `kernel` line, or on kernels without it (before 5.18) the sum of the parts
# that are there; empty if the cgroup has no memory.stat.
v2_kernel() {
    awk '$1 == "kernel" { k = $2; hk = 1 }
         $1 ~ /^(slab_reclaimable|slab_unreclaimable|kernel_stack|pagetables|sec_pagetables|percpu|vmalloc|zswap)$/ { p += $2 }
         END { if (NR) printf "%.0f\n", hk ? k : p }' "$1/memory.stat" 2>/dev/null
}
# The v2 root: its own memory.stat (which also holds what removed cgroups
# handed up); only where the kernel has none, the sum over its direct
# children that are memory cgroups.
v2_root_kernel() {
    if [ -f "$1/memory.stat" ]; then
        v2_kernel "$1"
        return
    fi
    _s=0
    for _c in "$1"/*/; do
        _v=$(v2_kernel "${_c%/}")
        [ -n "$_v" ] && _s=$((_s + _v))
    done
    echo "$_s"
}

# Every document written is validated against docs/kmem.schema.json at the
# end, in one python3 run (python3-jsonschema).
SCHEMA_LIST="$T/schema-list"
: >"$SCHEMA_LIST"
validate_all() {
    python3 - "$TOP/docs/kmem.schema.json" "$SCHEMA_LIST" <<'EOF'
import json, sys
try:
    import jsonschema
except ImportError:
    print("ok - # SKIP schema validation: python3-jsonschema is not installed (scripts/deps.sh)")
    sys.exit(0)
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
print("ok - docs/kmem.schema.json is a valid draft 2020-12 schema")
v = jsonschema.Draft202012Validator(schema)
for line in open(sys.argv[2]):
    name, path = line.rstrip("\n").split("\t", 1)
    errs = sorted(v.iter_errors(json.load(open(path))), key=str)
    if errs:
        print("not ok - %s: --json matches docs/kmem.schema.json (%s at %s)"
              % (name, errs[0].message[:200], "/".join(map(str, errs[0].absolute_path))))
    else:
        print("ok - %s: --json matches docs/kmem.schema.json" % name)
EOF
}

check_tree() { # name dir
    n=$1
    F=$2
    J="$T/$n.json"
    R="$T/$n.report"
    C="$T/$n.cgroups"

    "$K" --root "$F" --json >"$J" 2>"$T/$n.err"
    check "$n: --json prints one valid JSON document" jqe '.version == 1' "$J"
    printf '%s\t%s\n' "$n" "$J" >>"$SCHEMA_LIST"
    "$K" --root "$F" --report >"$R" 2>>"$T/$n.err"
    check_eq "$n: --report exits 0" 0 $?

    # ---- slab caches: one per line of the file
    if [ -f "$F/proc/slabinfo" ]; then
        want=$(($(grep -v '^#' "$F/proc/slabinfo" | grep -c .) - 1))
        check_eq "$n: slab status ok" true "$(jqr .slab.status.ok "$J")"
        check_eq "$n: one cache per line of proc/slabinfo" "$want" "$(jqr '.slab.caches | length' "$J")"
        check_eq "$n: slab totals count the caches" "$want" "$(jqr .slab.totals.caches "$J")"
        ps=$(jqr .page_size "$J")
        bad=$(jq --argjson ps "$ps" '[.slab.caches[] | select(.size_bytes != .num_slabs * .pagesperslab * $ps or .active_bytes != .active_objs * .objsize)] | length' "$J")
        check_eq "$n: cache byte figures are num_slabs x pagesperslab x page size" 0 "$bad"
        # every column of every line, in file order (repeats numbered), against the file
        awk '!/^#/ && NR > 1 && NF { print $1, dup[$1]++, $2, $3, $4, $5, $6, $14, $15 }' \
            "$F/proc/slabinfo" >"$T/$n.cols"
        jq -r '.slab.caches[] | "\(.name) \(.dup) \(.active_objs) \(.num_objs) \(.objsize) \(.objperslab) \(.pagesperslab) \(.active_slabs) \(.num_slabs)"' \
            "$J" >"$T/$n.jcols"
        check "$n: every cache's columns equal proc/slabinfo's ($want lines)" \
            cmp -s "$T/$n.cols" "$T/$n.jcols"
        sums=$(awk '!/^#/ && NR > 1 && NF { a += $2; o += $3; as += $14; s += $15 } END {
            printf "%.0f %.0f %.0f %.0f", a, o, as, s }' "$F/proc/slabinfo")
        check_eq "$n: totals are the sums of proc/slabinfo's columns" "$sums" \
            "$(jqr '.slab.totals | "\(.active_objs) \(.num_objs) \(.active_slabs) \(.num_slabs)"' "$J")"
        first=$(awk '!/^#/ && NR > 1 && NF { print $1; exit }' "$F/proc/slabinfo")
        [ -n "$first" ] && check_eq "$n: first cache in file order" "$first" "$(jqr '.slab.caches[0].name' "$J")"
    else
        check_eq "$n: missing proc/slabinfo is a slab error" false "$(jqr .slab.status.ok "$J")"
    fi

    # ---- node: kinds from meminfo, their sum, the unaccounted formula
    if [ -f "$F/proc/meminfo" ]; then
        check_eq "$n: node status ok" true "$(jqr .node.status.ok "$J")"
        check_eq "$n: node kinds add up to kernel_total_bytes" "$(jqr .node.kernel_total_bytes "$J")" \
            "$(jqr '[.node.kinds[]] | add' "$J")"
        # Every meminfo field in the JSON is the file's value in bytes.
        bad=0
        for kv in $(jqr '.node.meminfo | to_entries[] | "\(.key)=\(.value)"' "$J"); do
            k=${kv%%=*}
            [ "$(mi "$F" "$k")" = "${kv#*=}" ] || { bad=$((bad + 1)); echo "# meminfo $k: json ${kv#*=}, file $(mi "$F" "$k")"; }
        done
        check_eq "$n: json meminfo equals proc/meminfo (bytes)" 0 "$bad"
        check "$n: json meminfo has MemTotal" test "$(jqr '.node.meminfo.MemTotal' "$J")" != null
        kind() { jqr ".node.kinds.$1" "$J"; }
        check_eq "$n: slab_reclaimable = SReclaimable" "$(mi "$F" SReclaimable)" "$(kind slab_reclaimable)"
        check_eq "$n: kernel_stack = KernelStack + ShadowCallStack" \
            $(($(mi "$F" KernelStack) + $(mi "$F" ShadowCallStack))) "$(kind kernel_stack)"
        check_eq "$n: pagetables = PageTables" "$(mi "$F" PageTables)" "$(kind pagetables)"
        check_eq "$n: sec_pagetables = SecPageTables" "$(mi "$F" SecPageTables)" "$(kind sec_pagetables)"
        check_eq "$n: zswap = Zswap" "$(mi "$F" Zswap)" "$(kind zswap)"
        check_eq "$n: other_reclaimable = KReclaimable - SReclaimable" \
            "$(max0 $(($(mi "$F" KReclaimable) - $(mi "$F" SReclaimable))))" "$(kind other_reclaimable)"
        pcp=$(awk '$1 == "count:" { s += $2 } END { print s + 0 }' "$F/proc/zoneinfo" 2>/dev/null)
        check_eq "$n: per-CPU free pages = sum of zoneinfo count:" "${pcp:-0}" "$(jqr .node.percpu_free_pages "$J")"
        nps=$(jqr .node.node_page_size "$J")
        if has_mi "$F" Hugetlb; then huge=$(mi "$F" Hugetlb); else
            huge=$(($(mi "$F" HugePages_Total) * $(mi "$F" Hugepagesize))); fi
        explained=$(jqr '[.node.kinds | to_entries[] | select(.key != "unaccounted") | .value] | add' "$J")
        iso=$(awk '$1 == "nr_isolated_anon" || $1 == "nr_isolated_file" { s += $2 } END { print s + 0 }' "$F/proc/vmstat")
        want=$(($(mi "$F" MemTotal) - $(mi "$F" MemFree) - ${pcp:-0} * nps \
            - $(mi "$F" Active) - $(mi "$F" Inactive) - $(mi "$F" Unevictable) - iso * nps - huge - explained))
        check_eq "$n: unaccounted_raw_bytes follows the formula" "$want" "$(jqr .node.unaccounted_raw_bytes "$J")"
        check_eq "$n: unaccounted kind is the raw value clamped at 0" "$(max0 "$want")" "$(kind unaccounted)"
        if grep -q '^nr_memmap_boot_pages ' "$F/proc/vmstat" 2>/dev/null; then
            mm=$(awk '$1 == "nr_memmap_pages" || $1 == "nr_memmap_boot_pages" { s += $2 } END { print s }' "$F/proc/vmstat")
            check_eq "$n: memmap_bytes = (nr_memmap_pages + nr_memmap_boot_pages) x page size" \
                $((mm * nps)) "$(jqr .node.memmap_bytes "$J")"
        fi

        # --report: every kind line, the formula, the same numbers.
        for k in $(jqr '.node.kinds | keys_unsorted[]' "$J"); do
            got=$(awk -v k="$k" '$1 == k && $2 ~ /^[0-9]+$/ { print $2; exit }' "$R")
            check_eq "$n: --report line for $k" "$(kind "$k")" "$got"
        done
        got=$(awk '$1 == "total" && $2 ~ /^[0-9]+$/ { print $2; exit }' "$R")
        check_eq "$n: --report total" "$(jqr .node.kernel_total_bytes "$J")" "$got"
        check "$n: --report prints the unaccounted formula" \
            grep -q '^  unaccounted = MemTotal - MemFree - per-CPU free pages$' "$R"
        got=$(awk '$1 == "=" && $3 == "unaccounted" { print $2; exit }' "$R")
        check_eq "$n: --report unaccounted result" "$(jqr .node.unaccounted_raw_bytes "$J")" "$got"
        got=$(awk '$2 == "MemTotal" && $1 ~ /^[0-9]+$/ { print $1; exit }' "$R")
        check_eq "$n: --report formula starts from MemTotal" "$(mi "$F" MemTotal)" "$got"
        check "$n: --report terms add up to the reader's result" sh -c "! grep -q 'note: these terms give' '$R'"
        got=$(awk '/^  per-CPU free pages = / { print $5; exit }' "$R")
        check_eq "$n: --report per-CPU free pages" "${pcp:-0}" "$got"
        # Every other node figure (stacks in slab caches, percpu first chunk, Bounce,
        # WritebackTmp, hash tables, isolated pages, the slab gap, sysfs attributes,
        # zram, sockets, vmallocinfo, iomem, allocinfo, outside MemTotal) against
        # the tree's own files, parsed by a separate program.
        python3 "$TOP/tests/integration/node_files.py" "$n" "$F" "$J"
        [ $? -eq 0 ] || _fail=1
        check "$n: --report says what to do" grep -q '^What to do$' "$R"
        check "$n: --report has the isolated pages term" grep -q '  isolated pages (nr_isolated_anon' "$R"
        if [ "$(jqr .node_detail.outside.known "$J")" = true ]; then
            got=$(awk '$1 == "unexplained" && $2 ~ /^-?[0-9]+$/ { print $2; exit }' "$R")
            check_eq "$n: --report outside MemTotal: unexplained" "$(jqr .node_detail.outside.unexplained_raw_bytes "$J")" "$got"
            got=$(awk '/^  outside = System RAM/ { print $(NF-2); exit }' "$R")
            check_eq "$n: --report outside MemTotal: System RAM - MemTotal" "$(jqr .node_detail.outside.total_bytes "$J")" "$got"
        fi
        if [ "$(jqr '.node.slab_gap != null' "$J")" = true ]; then
            check "$n: --report shows the slab gap" grep -q "^  The difference, Slab - sum of /proc/slabinfo = $(jqr .node.meminfo.Slab "$J") - $(jqr .node.slab_gap.slabinfo_bytes "$J") = $(jqr .node.slab_gap.gap_bytes "$J") bytes" "$R"
        fi
    else
        check_eq "$n: missing proc/meminfo is a node error" false "$(jqr .node.status.ok "$J")"
        check "$n: --report says why the node part is missing" grep -q 'Node counters are not available: ' "$R"
    fi

    # ---- cgroups: values from the files, table order. A tree with a cgroup
    # hierarchy must give a cgroup part (a failed one is a failure, not a
    # reason to skip the checks); a tree without one must say so.
    if [ ! -d "$F/sys/fs/cgroup" ]; then
        check_eq "$n: no sys/fs/cgroup is a cgroup error" false "$(jqr .cgroups.status.ok "$J")"
    elif [ "$(jqr .cgroups.status.ok "$J")" != true ] || [ "$(jqr '.cgroups.items | length' "$J")" -eq 0 ]; then
        not_ok "$n: cgroup part ok with at least one cgroup (status $(jq -c .cgroups.status "$J"))"
    else
        layout=$(jqr .cgroups.layout "$J")
        mount=$(jqr .cgroups.mount "$J")
        ncg=$(jqr '.cgroups.items | length' "$J")
        bad=0
        checked=0
        for pk in $(jqr '.cgroups.items[] | "\(.path | @base64)|\(.kernel_bytes)"' "$J"); do
            path=$(echo "${pk%%|*}" | base64 -d)
            got=${pk#*|}
            dir="$F/$mount${path%/}"
            case $layout in
            v1 | hybrid)
                want=$(cat "$dir/memory.kmem.usage_in_bytes" 2>/dev/null) ;;
            v2)
                if [ "$path" = / ]; then want=$(v2_root_kernel "$dir"); else want=$(v2_kernel "$dir"); fi ;;
            *) want= ;;
            esac
            [ -n "$want" ] || { echo "# $path: no value in the files"; continue; }
            checked=$((checked + 1))
            [ "$want" = "$got" ] || { bad=$((bad + 1)); echo "# $path: json $got, file $want"; }
        done
        check_eq "$n: cgroup kernel_bytes equal the cgroup files ($checked checked)" 0 "$bad"
        check_eq "$n: every cgroup ($layout) was compared with its files" "$ncg" "$checked"
        # ... and every cgroup of the tree is in the JSON (the root even without its file).
        ndir=$(find "$F/$mount" -mindepth 1 -type d \( -exec test -e '{}/memory.stat' \; \
            -o -exec test -e '{}/memory.kmem.usage_in_bytes' \; \) -print | wc -l)
        check_eq "$n: the JSON lists the root and the $ndir memory cgroup directories below it" \
            $((ndir + 1)) "$ncg"
        # The components add up exactly to kernel_bytes, for every cgroup.
        bad=$(jq '[.cgroups.items[] | select(([.components[]] | add // 0) != .kernel_bytes)] | length' "$J")
        check_eq "$n: every cgroup's components add up to kernel_bytes" 0 "$bad"
        if [ "$layout" = v2 ]; then
            # From memory.stat, read here with awk: the estimate (no kernel line),
            # sock, and the upper bound memory.current - LRU pages - sock.
            bad=0
            for pk in $(jqr '.cgroups.items[] | "\(.path | @base64)|\(.kernel_bytes)|\(.approx)|\(.sock_bytes)|\(.upper_bound_bytes)|\(.lower_bound)"' "$J"); do
                path=$(echo "${pk%%|*}" | base64 -d)
                rest=${pk#*|}
                kb=${rest%%|*}; rest=${rest#*|}
                ap=${rest%%|*}; rest=${rest#*|}
                sk=${rest%%|*}; rest=${rest#*|}
                ub=${rest%%|*}; lb=${rest#*|}
                dir="$F/$mount${path%/}"
                st="$dir/memory.stat"
                if [ ! -f "$st" ]; then
                    [ "$path" = / ] && [ "$lb" = true ] && continue
                    bad=$((bad + 1)); echo "# $path: no memory.stat"; continue
                fi
                [ "$lb" = false ] || { bad=$((bad + 1)); echo "# $path: lower_bound with a memory.stat"; }
                want=$(awk '$1 == "kernel" { k = $2; has = 1 }
                    $1 ~ /^(slab_reclaimable|slab_unreclaimable|kernel_stack|pagetables|sec_pagetables|percpu|vmalloc|zswap)$/ { p += $2 }
                    END { if (has) print k; else print p + 0 }' "$st")
                [ "$want" = "$kb" ] || { bad=$((bad + 1)); echo "# $path: kernel_bytes $kb, memory.stat $want"; }
                want=$(awk '$1 == "kernel" { has = 1 } END { print has ? "false" : "true" }' "$st")
                [ "$want" = "$ap" ] || { bad=$((bad + 1)); echo "# $path: approx $ap"; }
                want=$(awk '$1 == "sock" { print $2 }' "$st")
                [ "${want:-null}" = "$sk" ] || { bad=$((bad + 1)); echo "# $path: sock_bytes $sk, memory.stat $want"; }
                if [ -f "$dir/memory.current" ]; then
                    want=$(awk -v cur="$(cat "$dir/memory.current")" -v k="$kb" '
                        $1 ~ /^(inactive_anon|active_anon|inactive_file|active_file|unevictable)$/ { l += $2 }
                        $1 == "sock" { s = $2 }
                        END { u = cur - l - s; if (u < k) u = k; printf "%.0f\n", u }' "$st")
                    [ "$want" = "$ub" ] || { bad=$((bad + 1)); echo "# $path: upper_bound_bytes $ub, want $want"; }
                else
                    [ "$ub" = null ] || { bad=$((bad + 1)); echo "# $path: upper bound without memory.current"; }
                fi
            done
            check_eq "$n: v2 estimate, sock and upper bound follow memory.stat and memory.current" 0 "$bad"
            exact=$(jq '[.cgroups.items[] | select(.approx or .lower_bound)] | length == 0' "$J")
            check_eq "$n: kernel_exact is true iff no cgroup is estimated" "$exact" "$(jqr .cgroups.kernel_exact "$J")"
            # Removed cgroups: the root's cgroup.stat, the memory controller's count first.
            cs="$F/$mount/cgroup.stat"
            want=null
            [ -f "$cs" ] && want=$(awk '$1 == "nr_dying_subsys_memory" { m = $2; hm = 1 } $1 == "nr_dying_descendants" { d = $2; hd = 1 }
                END { if (hm) print m; else if (hd) print d; else print "null" }' "$cs")
            check_eq "$n: dying = the root's cgroup.stat" "$want" "$(jqr .cgroups.dying "$J")"
        else
            check_eq "$n: v1 cgroups are exact" true "$(jqr .cgroups.kernel_exact "$J")"
            if [ -f "$F/proc/cgroups" ]; then
                num=$(awk '$1 == "memory" { print $3 }' "$F/proc/cgroups")
                check_eq "$n: dying = /proc/cgroups num_cgroups - cgroups walked" \
                    "$(max0 $((num - ncg - $(jqr .cgroups.skipped_errors "$J"))))" "$(jqr .cgroups.dying "$J")"
            fi
        fi
        dy=$(jqr .cgroups.dying "$J")
        if [ "$dy" != null ]; then
            got=$(awk '/^  removed, still held / { print $4; exit }' "$R")
            check_eq "$n: --report removed cgroups = .cgroups.dying" "$dy" "$got"
        fi

        "$K" --root "$F" --cgroups -o >"$C" 2>>"$T/$n.err"
        check_eq "$n: --cgroups -o exits 0" 0 $?
        check_eq "$n: --cgroups -o first line" "cgroup layout $layout, $ncg memory cgroups" \
            "$(head -1 "$C" | cut -d';' -f1)"
        check_eq "$n: --cgroups -o has one row per cgroup" "$ncg" "$(($(wc -l <"$C") - 2))"
        # The root leads (it holds the rest); the rows below it are sorted.
        unsorted=$(tail -n +4 "$C" | to_bytes | awk 'NR > 1 && $1 > prev { bad++ } { prev = $1 } END { print bad + 0 }')
        check_eq "$n: --cgroups -o is sorted by kernel memory, descending" 0 "$unsorted"
        check_eq "$n: --cgroups -o starts with the root" "/" "$(sed -n 3p "$C" | awk '{ print $NF }')"
        got=$(awk '/^  charged to cgroups / { print $4; exit }' "$R")
        check_eq "$n: --report charged = root cgroup kernel" "$(jqr '.cgroups.items[0].kernel_bytes' "$J")" "$got"
        if [ -f "$F/proc/meminfo" ]; then
            # v2: the root's sock is charged too (outside "kernel"; in the node's rest)
            sock=$(jqr 'if .cgroups.layout == "v2" then (.cgroups.items[0].sock_bytes // 0) else 0 end' "$J")
            want=$(max0 $(($(jqr .node.kernel_total_bytes "$J") - $(jqr '.cgroups.items[0].kernel_bytes' "$J") - sock)))
            got=$(awk '/^  not charged / { print $3; exit }' "$R")
            check_eq "$n: --report not charged = node total - root cgroup (- its sock on v2: $sock)" "$want" "$got"
        fi
        check "$n: --report lists top cgroups" grep -q '^Top cgroups by kernel memory' "$R"
    fi

    # ---- capture and replay: the same document
    if [ -f "$F/proc/meminfo" ]; then
        D=$(mktemp -u "$T/capture-$n.XXXXXX")
        "$K" --root "$F" --capture "$D" --json >"$T/$n.cap.json" 2>>"$T/$n.err"
        check_eq "$n: --capture exits 0" 0 $?
        printf '%s\t%s\n' "$n-capturing" "$T/$n.cap.json" >>"$SCHEMA_LIST"
        # The same snapshot; only .capture differs: the capturing run names the capture it writes.
        jq 'del(.capture)' "$J" >"$T/$n.nocap.json"
        jq 'del(.capture)' "$T/$n.cap.json" >"$T/$n.cap.nocap.json"
        check "$n: --capture prints the same JSON as --json (but for .capture)" \
            cmp -s "$T/$n.nocap.json" "$T/$n.cap.nocap.json"
        # .capture is the capture's kmem-capture.txt, read here with awk.
        meta() { awk -v k="$1:" '$1 == k { sub(/^[^:]*: /, ""); print; exit }' "$2/kmem-capture.txt"; }
        metas() { echo "$(meta date "$1")|$(meta hostname "$1")|$(meta kernel "$1")|$(meta kmem "$1")|$(meta command "$1")"; }
        jmeta='.capture | "\(.date)|\(.hostname)|\(.kernel)|\(.kmem_version)|\(.command)"'
        if [ -f "$F/kmem-capture.txt" ]; then
            check_eq "$n: --json of a capture: .capture is its kmem-capture.txt" "$(metas "$F")" "$(jqr "$jmeta" "$J")"
        else
            check_eq "$n: --json of a tree that is no capture: .capture is null" null "$(jqr .capture "$J")"
        fi
        check_eq "$n: --capture --json: .capture is the new kmem-capture.txt" "$(metas "$D")" \
            "$(jqr "$jmeta" "$T/$n.cap.json")"
        "$K" --root "$D" --json >"$T/$n.replay.json" 2>>"$T/$n.err"
        check "$n: --root CAPTURE --json is identical to what the capturing run printed" \
            cmp -s "$T/$n.cap.json" "$T/$n.replay.json"
        "$K" --root "$D" --report >"$T/$n.replay.report" 2>>"$T/$n.err"
        check "$n: --root CAPTURE --report says where the capture comes from" \
            grep -q '^Read from a capture: taken .* on host .*, Linux .*, by kmem ' "$T/$n.replay.report"
        # the capture's header (two lines) aside, the same report
        grep -v -e '^Read from a capture: ' -e '^  with: ' "$T/$n.replay.report" >"$T/$n.replay.body"
        grep -v -e '^Read from a capture: ' -e '^  with: ' "$R" >"$T/$n.body"
        check "$n: --root CAPTURE --report is identical to the original" cmp -s "$T/$n.body" "$T/$n.replay.body"
        if ! cmp -s "$T/$n.cap.json" "$T/$n.replay.json"; then
            diff "$T/$n.cap.json" "$T/$n.replay.json" | head -20 | sed 's/^/# /'
        fi
    fi
}

# ---- every fixture tree
# (the shared capture, $SHARED_FIXTURE, is one of them)
check "the shared capture is among the fixtures" test -d "$SHARED_FIXTURE/proc"
for F in "$FIXTURES"/*; do
    [ -d "$F/proc" ] || [ -d "$F/sys" ] || continue
    check_tree "$(basename "$F")" "$F"
done

# ---- -d N: two samples, the interval in the document
"$K" --root "$SHARED_FIXTURE" --json -d 1 >"$T/interval.json" 2>"$T/interval.err"
check_eq "--json -d 1: exits 0" 0 $?
check_eq "--json -d 1: interval_seconds is 1" 1 "$(jqr .interval_seconds "$T/interval.json")"
check_eq "--json -d 1: every cache has a delta_bytes" 0 \
    "$(jq '[.slab.caches[] | select(.delta_bytes == null)] | length' "$T/interval.json")"
check_eq "--json without -d: interval_seconds is null" null \
    "$(jqr .interval_seconds "$T/$(basename "$SHARED_FIXTURE").json")"
printf '%s\t%s\n' "interval" "$T/interval.json" >>"$SCHEMA_LIST"

# ---- this machine: capture once, then the capture must replay identically
L="$T/live"
"$K" --capture "$L" --json >"$T/live.json" 2>"$T/live.err"
check_eq "live: --capture --json exits 0" 0 $?
check "live: --capture --json is valid JSON, every part ok" jqe '.slab.status.ok and .node.status.ok and .cgroups.status.ok' "$T/live.json"
"$K" --root "$L" --json >"$T/live.r1.json" 2>>"$T/live.err"
"$K" --root "$L" --json >"$T/live.r2.json" 2>>"$T/live.err"
check "live: the capture replays to the same JSON twice" cmp -s "$T/live.r1.json" "$T/live.r2.json"
check "live: the replay equals what the capturing run printed" cmp -s "$T/live.json" "$T/live.r1.json"
cmp -s "$T/live.json" "$T/live.r1.json" || diff "$T/live.json" "$T/live.r1.json" | head -20 | sed 's/^/# /'
check_tree live-capture "$L"
# ---- --capture FILE.tar.gz: the same capture, packed; extracted, --root of it
# prints what the capturing run printed (the shared fixture, and this machine)
for src in fixture live; do
    X="$T/tarball-$src"
    mkdir "$X"
    if [ "$src" = fixture ]; then set -- --root "$SHARED_FIXTURE"; else set --; fi
    "$K" "$@" --capture "$X/cap-$src.tar.gz" --json >"$X/capturing.json" 2>"$X/err"
    check_eq "$src: --capture FILE.tar.gz --json exits 0" 0 $?
    check "$src: the tarball is the only file left next to it" \
        test "$(find "$X" -mindepth 1 -maxdepth 1 ! -name capturing.json ! -name err -printf '%f\n')" = "cap-$src.tar.gz"
    mkdir "$X/x"
    tar -xzf "$X/cap-$src.tar.gz" -C "$X/x"
    check_eq "$src: tar -xzf gives one directory named after the tarball" "cap-$src" "$(ls -A "$X/x")"
    "$K" --root "$X/x/cap-$src" --json >"$X/replay.json" 2>>"$X/err"
    check "$src: --root of the extracted tarball prints what the capturing run printed" \
        cmp -s "$X/capturing.json" "$X/replay.json"
    cmp -s "$X/capturing.json" "$X/replay.json" || diff "$X/capturing.json" "$X/replay.json" | head -20 | sed 's/^/# /'
    check "$src: ... and says which capture it is" jqe '.capture.command | endswith(".tar.gz --json")' "$X/replay.json"
    printf '%s\t%s\n' "tarball-$src" "$X/replay.json" >>"$SCHEMA_LIST"
done
if [ -n "$(find /sys/kernel/slab -maxdepth 1 -type l 2>/dev/null | head -1)" ]; then
    check "live: the tarball keeps sys/kernel/slab's links (merged caches)" \
        test -n "$(find "$T/tarball-live/x/cap-live/sys/kernel/slab" -maxdepth 1 -type l | head -1)"
fi
set --

"$K" --report >"$T/live.report" 2>&1
check_eq "live: --report exits 0" 0 $?
check "live: --report has every section" sh -c "grep -q '^Kernel memory by kind' '$T/live.report' &&
    grep -q '^Largest slab caches' '$T/live.report' && grep -q '^The unaccounted rest' '$T/live.report' &&
    grep -q '^Charged to cgroups, and not' '$T/live.report'"

# The validator's own status and its verdict on every document count: a
# validator that crashes or stops early is a failure, not silence.
validate_all >"$T/schema-result" 2>"$T/schema-err"
st=$?
cat "$T/schema-result"
sed 's/^/# /' "$T/schema-err"
grep -q '^not ok' "$T/schema-result" && _fail=1
check_eq "schema validator exits 0" 0 "$st"
if ! grep -q '^ok - # SKIP' "$T/schema-result"; then
    check_eq "schema validator judged every document" "$(wc -l <"$SCHEMA_LIST")" \
        "$(grep -c -- ': --json matches docs/kmem.schema.json' "$T/schema-result")"
fi
finish
