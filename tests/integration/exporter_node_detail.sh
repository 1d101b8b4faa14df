#!/bin/sh
# kmem_exporter's node figures beside the kinds: the same numbers as
# `kmemtop --json` on the same tree (every fixture with node detail, and a
# capture of this machine), a valid exposition (promtool), and the detail
# files read at most once a minute by a running exporter.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exporter.lib.sh"
X="$B/kmem_exporter"
K="$B/kmemtop"
T=$(tmpdir)
trap 'stop_all; rm -rf "$T"' EXIT INT TERM
[ -x "$X" ] && [ -x "$K" ] || { not_ok "kmem_exporter and kmemtop are built"; finish; }

# value FILE SERIES: the value of one exact series line, or "absent".
value() { awk -v s="$2" 'index($0, s " ") == 1 { print $NF; f = 1; exit } END { if (!f) print "absent" }' "$1"; }

# same_set NAME WHAT PREFIX JQ: the exporter's lines starting with PREFIX are
# the lines JQ makes of --json (values printed as integers); counted.
same_set() {
    want=$(jq -r "$4" "$T/$1.json" | sort)
    got=$(grep "^$3" "$T/$1.prom" | sed 's/ \([^ ]*\)$/\t\1/' |
        awk -F '\t' '{ printf "%s %.0f\n", $1, $2 }' | sort)
    nw=$(printf '%s\n' "$want" | grep -c .)
    if [ "$want" = "$got" ]; then
        ok "$1: $2: $nw series equal --json"
        total_sets=$((total_sets + nw))
    else
        not_ok "$1: $2 differ from --json"
        printf '%s\n' "$want" >"$T/want"
        printf '%s\n' "$got" | diff "$T/want" - | head -6 | sed 's/^/#   /'
    fi
}
total_sets=0

compare_tree() { # name tree
    n=$1
    "$X" --root "$2" --once --collector.slabinfo.empty >"$T/$n.prom" 2>"$T/$n.err"
    check_eq "$n: kmem_exporter --once exits 0" 0 $?
    "$K" --root "$2" --json >"$T/$n.json" 2>/dev/null
    check_eq "$n: kmemtop --json exits 0" 0 $?
    nk=$(jq -r '.node.kinds | length' "$T/$n.json")
    check "$n: kinds to compare ($nk, at least 8)" test "${nk:-0}" -ge 8
    if command -v promtool >/dev/null; then
        check "$n: promtool check metrics" sh -c "promtool check metrics <'$T/$n.prom' >'$T/$n.promtool' 2>&1 || grep -qv . '$T/$n.promtool'"
    fi
    for k in $(jq -r '.node.kinds | keys_unsorted[]' "$T/$n.json"); do
        check_eq "$n: kmem_node_kernel_bytes{kind=\"$k\"}" "$(jq -r ".node.kinds.$k" "$T/$n.json")" \
            "$(value "$T/$n.prom" "kmem_node_kernel_bytes{kind=\"$k\"}")"
    done
    if [ "$(jq -r .node_detail.outside.known "$T/$n.json")" = true ]; then
        for p in $(jq -r '.node_detail.outside.parts | keys_unsorted[]' "$T/$n.json"); do
            check_eq "$n: kmem_node_outside_bytes{part=\"$p\"}" \
                "$(jq -r ".node_detail.outside.parts.$p" "$T/$n.json")" \
                "$(value "$T/$n.prom" "kmem_node_outside_bytes{part=\"$p\"}")"
        done
        check_eq "$n: kmem_node_system_ram_bytes" "$(jq -r .node_detail.outside.system_ram_bytes "$T/$n.json")" \
            "$(value "$T/$n.prom" kmem_node_system_ram_bytes)"
    else
        check_eq "$n: no outside figures without System RAM" absent \
            "$(value "$T/$n.prom" 'kmem_node_outside_bytes{part="memmap"}')"
    fi
    if [ "$(jq -r '.node.slab_gap != null' "$T/$n.json")" = true ]; then
        check_eq "$n: kmem_node_slab_gap_bytes" "$(jq -r .node.slab_gap.gap_bytes "$T/$n.json")" \
            "$(value "$T/$n.prom" kmem_node_slab_gap_bytes)"
    fi
    # --json's vmalloc totals summed again from the file: areas, RAM of
    # vmalloc areas (pages=N, "vmalloc" flag), RAM of the other areas,
    # address space, address space of ioremap areas
    if [ -s "$2/proc/vmallocinfo" ]; then
        ps=$(jq -r .page_size "$T/$n.json")
        check_eq "$n: --json vmalloc totals = /proc/vmallocinfo's" \
            "$(awk -v ps="$ps" '{ p = 0; vm = 0; io = 0
                for (i = 3; i <= NF; i++) { if ($i ~ /^pages=/) p = substr($i, 7); if (i > 3 && $i == "vmalloc") vm = 1; if ($i == "ioremap") io = 1 }
                n++; vs += $2; if (vm) b += p * ps; else o += p * ps; if (io) iv += $2 }
                END { printf "%d %.0f %.0f %.0f %.0f\n", n, b, o, vs, iv }' "$2/proc/vmallocinfo")" \
            "$(jq -r '.node_detail.vmalloc | "\(.areas) \(.bytes) \(.other_pages_bytes) \(.vsize_bytes) \(.ioremap_vsize_bytes)"' "$T/$n.json")"
        check_eq "$n: --json vmalloc groups add up to the areas and bytes" \
            "$(jq -r '.node_detail.vmalloc | "\(.areas) \(.bytes)"' "$T/$n.json")" \
            "$(jq -r '.node_detail.vmalloc | "\([.groups[].areas] | add) \([.groups[].bytes] | add)"' "$T/$n.json")"
    fi
    # --json's allocinfo totals summed again from the file: sites, bytes, calls
    if [ -s "$2/proc/allocinfo" ]; then
        check_eq "$n: --json allocinfo totals = /proc/allocinfo's" \
            "$(awk 'NR > 2 && NF >= 3 { n++; b += $1; c += $2 } END { printf "%d %.0f %.0f\n", n, b, c }' "$2/proc/allocinfo")" \
            "$(jq -r '.node_detail.allocinfo | "\(.sites) \(.bytes) \(.calls)"' "$T/$n.json")"
    fi
    top=$(jq -r '.node_detail.vmalloc.top[0] // empty | "\(.caller)\t\(.plain // "")\t\(.bytes)"' "$T/$n.json")
    if [ -n "$top" ]; then
        c=$(printf '%s' "$top" | cut -f1); pl=$(printf '%s' "$top" | cut -f2); b=$(printf '%s' "$top" | cut -f3)
        check_eq "$n: kmem_vmalloc_bytes of the top caller" "$b" \
            "$(value "$T/$n.prom" "kmem_vmalloc_bytes{caller=\"$c\",purpose=\"$pl\"}")"
    fi
    # kmem_slab_info: the sysfs attributes of each cache with objects (and
    # --collector.slabinfo.empty: every cache), labels as in --json.
    want=$(jq -r '.slab.caches[] | select(.reclaimable != null) | "kmem_slab_info{cache=\"\(.name)\(if .dup > 0 then "#\(.dup)" else "" end)\",reclaimable=\"\(.reclaimable)\",accounted=\"\(if .accounted == null then "unknown" else .accounted end)\",merged=\"\(.merged)\",order=\"\(.order)\",aliases=\"\(.aliases)\"} 1"' "$T/$n.json" | sort)
    got=$(grep '^kmem_slab_info{' "$T/$n.prom" | sed 's/,object_size_bytes="[0-9]*",objects_per_slab="[0-9]*",pages_per_slab="[0-9]*"//' | grep reclaimable= | sort)
    check "$n: kmem_slab_info equals the --json attributes ($(printf '%s\n' "$want" | grep -c .) caches)" \
        [ "$want" = "$got" ]
    # every series of the families below, labels and value, as --json has them
    same_set "$n" "kmem_vmalloc_bytes (every top caller, its purpose)" kmem_vmalloc_bytes \
        '.node_detail.vmalloc.top[]? | "kmem_vmalloc_bytes{caller=\"\(.caller)\",purpose=\"\(.plain // "")\"} \(.bytes)"'
    same_set "$n" "the three zram families of every device" kmem_zram_ \
        '.node.zram.devices[]? | "kmem_zram_memory_used_bytes{device=\"\(.name)\"} \(.mem_used_bytes)", "kmem_zram_original_data_bytes{device=\"\(.name)\"} \(.orig_data_bytes)", "kmem_zram_compressed_data_bytes{device=\"\(.name)\"} \(.compr_data_bytes)"'
    same_set "$n" "kmem_allocinfo_bytes (every top site)" kmem_allocinfo_bytes \
        '.node_detail.allocinfo.top[]? | "kmem_allocinfo_bytes{site=\"\(.site)\",func=\"\(.func)\",module=\"\(.module // "")\"} \(.bytes)"'
    if [ "$(jq -r '.node.sockets != null' "$T/$n.json")" = true ]; then
        check_eq "$n: kmem_node_socket_memory_bytes" "$(jq -r .node.sockets.memory_bytes "$T/$n.json")" \
            "$(value "$T/$n.prom" kmem_node_socket_memory_bytes)"
    fi
    check_eq "$n: kmem_collector_success{collector=\"node_detail\"}" \
        "$([ "$(jq -r .node_detail.status.ok "$T/$n.json")" = true ] && echo 1 || echo 0)" \
        "$(value "$T/$n.prom" 'kmem_collector_success{collector="node_detail"}')"
}

for F in "$FIXTURES"/debian12-linux6.18-full "$FIXTURES"/node-*; do
    [ -d "$F" ] && compare_tree "$(basename "$F")" "$F"
done
# A figure the node does not have has no series (not a 0): no
# /proc/net/sockstat in the hybrid fixture, no slab gap without /proc/slabinfo.
"$E" --root "$FIXTURES/debian12-linux6.18-hybrid" --once >"$T/nosock.prom" 2>/dev/null
check_eq "no /proc/net/sockstat: no kmem_node_socket_memory_bytes" absent \
    "$(value "$T/nosock.prom" kmem_node_socket_memory_bytes)"
check "... while the node's kinds are there" grep -q '^kmem_node_kernel_bytes{kind="slab_reclaimable"}' "$T/nosock.prom"
"$E" --root "$FIXTURES/debian12-linux6.18-full" --once --no-collector.slabinfo >"$T/noslab.prom" 2>/dev/null
check_eq "no slab collector: no kmem_node_slab_gap_bytes" absent \
    "$(value "$T/noslab.prom" kmem_node_slab_gap_bytes)"
check "... while the socket memory is there" grep -q '^kmem_node_socket_memory_bytes ' "$T/noslab.prom"
# zram devices in use (each field different) and IPv6 fragments queued
cp -a "$FIXTURES/debian12-linux6.18-full" "$T/zram-tree"
printf '%s\n' "409600 102400 139264 0 143360 12 0 3" >"$T/zram-tree/sys/block/zram0/mm_stat"
mkdir "$T/zram-tree/sys/block/zram10" "$T/zram-tree/sys/block/zram2"
printf '%s\n' "81920 20480 32768 0 32768 0 0 0 0" >"$T/zram-tree/sys/block/zram10/mm_stat"
printf '%s\n' "40960 10240 16384 0 16384 0 0 0" >"$T/zram-tree/sys/block/zram2/mm_stat"
sed -i 's/^FRAG6: inuse 0 memory 0$/FRAG6: inuse 1 memory 2304/' "$T/zram-tree/proc/net/sockstat6"
sed -i 's/^FRAG: inuse 0 memory 0$/FRAG: inuse 1 memory 1152/' "$T/zram-tree/proc/net/sockstat"
# every sockstat figure different, so that one read in another's place shows
printf '%s\n' 'sockets: used 22' 'TCP: inuse 5 orphan 1 tw 23593 alloc 7 mem 2' 'UDP: inuse 3 mem 4' \
    'UDPLITE: inuse 0' 'RAW: inuse 0' 'FRAG: inuse 1 memory 1152' >"$T/zram-tree/proc/net/sockstat"
sed -i 's/^TCP6: inuse 0$/TCP6: inuse 8/; s/^UDP6: inuse 0$/UDP6: inuse 9/' "$T/zram-tree/proc/net/sockstat6"
compare_tree zram-tree "$T/zram-tree"
check_eq "zram-tree: socket memory = TCP and UDP pages + both fragment queues" \
    $(($(jq -r '.node.sockets.tcp_mem_pages + .node.sockets.udp_mem_pages' "$T/zram-tree.json") * $(getconf PAGESIZE) + 1152 + 2304)) \
    "$(value "$T/zram-tree.prom" kmem_node_socket_memory_bytes)"
check_eq "zram-tree: --json's socket figures are sockstat's and sockstat6's" \
    "22 5 1 23593 7 2 3 4 1152 2304 8 9" \
    "$(jq -r '.node.sockets | "\(.sockets_used) \(.tcp_inuse) \(.tcp_orphan) \(.tcp_tw) \(.tcp_alloc) \(.tcp_mem_pages) \(.udp_inuse) \(.udp_mem_pages) \(.frag_bytes) \(.frag6_bytes) \(.tcp6_inuse) \(.udp6_inuse)"' "$T/zram-tree.json")"
# --json's zram fields are mm_stat's columns (orig, compr, used, limit, max
# used, same pages; huge pages is the 8th), for each of the three devices
for d in zram0 zram2 zram10; do
    check_eq "zram-tree: --json $d equals its mm_stat" \
        "$(awk '{ print $1, $2, $3, $4, $5, $6, $8 }' "$T/zram-tree/sys/block/$d/mm_stat")" \
        "$(jq -r --arg d "$d" '.node.zram.devices[] | select(.name == $d) | "\(.orig_data_bytes) \(.compr_data_bytes) \(.mem_used_bytes) \(.mem_limit_bytes) \(.mem_used_max_bytes) \(.same_pages) \(.huge_pages)"' "$T/zram-tree.json")"
done
check_eq "zram-tree: the devices in number order" "zram0 zram2 zram10" \
    "$(grep '^kmem_zram_memory_used_bytes{' "$T/zram-tree.prom" | sed 's/.*device="\([^"]*\)".*/\1/' | tr '\n' ' ' | sed 's/ $//')"
check "series of the vmalloc, zram and allocinfo families compared: at least 60 ($total_sets)" \
    test "$total_sets" -ge 60
if [ "$(id -u)" = 0 ]; then
    "$K" --capture "$T/live" --json >/dev/null 2>&1
    compare_tree live-capture "$T/live"

    # A running exporter reads the detail files once, then reuses them for a minute:
    # the time the node_detail collector takes drops to ~0 on the next scrapes.
    port=$(free_port)
    spawn "$T/x.log" "$X" --web.listen-address "127.0.0.1:$port" --collect.min-interval 0
    pid=$spawned
    if wait_url "http://127.0.0.1:$port/metrics" 10; then
        curl -s "http://127.0.0.1:$port/metrics" >"$T/s1"
        sleep 1
        curl -s "http://127.0.0.1:$port/metrics" >"$T/s2"
        a1=$(value "$T/s1" kmem_node_detail_age_seconds)
        a2=$(value "$T/s2" kmem_node_detail_age_seconds)
        check "live: the detail files are not read again a second later (age $a1 s, then $a2 s)" \
            awk -v a="$a1" -v b="$a2" 'BEGIN { exit !(b >= a + 0.9 && b < 60) }'
        check_eq "live: the reused detail is still exported" "$(value "$T/s1" kmem_node_system_ram_bytes)" \
            "$(value "$T/s2" kmem_node_system_ram_bytes)"
    else
        not_ok "live: exporter answers"
    fi
    kill "$pid" 2>/dev/null

    # --run-as: iomem and the kernel log were opened before the privileges went.
    port=$(free_port)
    spawn "$T/ra.log" "$X" --web.listen-address "127.0.0.1:$port" --run-as nobody
    pid=$spawned
    if wait_url "http://127.0.0.1:$port/metrics" 10; then
        curl -s "http://127.0.0.1:$port/metrics" >"$T/ra"
        check_eq "--run-as nobody: System RAM still known" "$(value "$T/s1" kmem_node_system_ram_bytes)" \
            "$(value "$T/ra" kmem_node_system_ram_bytes)"
        check_eq "--run-as nobody: the hash_tables kind from the kernel log" \
            "$(value "$T/s1" 'kmem_node_kernel_bytes{kind="hash_tables"}')" \
            "$(value "$T/ra" 'kmem_node_kernel_bytes{kind="hash_tables"}')"
        check_eq "--run-as nobody: node_detail collector succeeds" 1 \
            "$(value "$T/ra" 'kmem_collector_success{collector="node_detail"}')"
    else
        not_ok "--run-as nobody: exporter answers"
    fi
    kill "$pid" 2>/dev/null
fi
finish
