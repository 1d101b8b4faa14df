#!/bin/sh
# kmem_exporter's slab values equal Debian's prometheus-node-exporter slabinfo
# collector: for every cache of the shared fixture, node_slabinfo_objects,
# _active_objects, _object_size_bytes, _objects_per_slab and _pages_per_slab
# equal kmem's (kmem_slab_objects, _active_objects and the labels of
# kmem_slab_info; caches without objects only with --collector.slabinfo.empty).
# kmem reads the fixture through --root, --path.procfs + --path.sysfs
# (siblings: their parent becomes the root) and --path.procfs alone (a
# private symlink root). With --collector.slabinfo.node-exporter-names
# --collector.slabinfo.empty, kmem's node_slabinfo_* lines are node_exporter's,
# HELP included. On the live machine the static columns (object size,
# objects and pages per slab) must agree too.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exporter.lib.sh"
T=$(tmpdir)
trap 'stop_all; rm -rf "$T"' EXIT INT TERM
NE=/usr/bin/prometheus-node-exporter

# normalize FILE PREFIX LABEL: "suffix cache value" lines, sorted; values as
# integers. kmem_slab_info's labels count as the three static families.
normalize() {
    awk -v pre="$2" -v lab="$3" '
        index($0, pre "info{") == 1 {
            cache = $0; sub(".*" lab "=\"", "", cache); sub(/".*/, "", cache)
            n = split("object_size_bytes objects_per_slab pages_per_slab", k, " ")
            for (i = 1; i <= n; i++) {
                v = $0; sub(".*," k[i] "=\"", "", v); sub(/".*/, "", v)
                printf "%s %s %.0f\n", k[i], cache, v + 0
            }
            next
        }
        index($0, pre) == 1 {
            name = $1; sub(/\{.*/, "", name); suffix = substr(name, length(pre) + 1)
            if (suffix !~ /^(objects|active_objects|object_size_bytes|objects_per_slab|pages_per_slab)$/) next
            cache = $0; sub(".*" lab "=\"", "", cache); sub(/".*/, "", cache)
            printf "%s %s %.0f\n", suffix, cache, $2 + 0
        }' "$1" | sort
}

ne_scrape() { # PROCFS OUT
    port=$(free_port)
    spawn "$T/ne.log" "$NE" --collector.disable-defaults --collector.slabinfo \
        --path.procfs "$1" --web.listen-address "127.0.0.1:$port"
    pid=$spawned
    wait_url "http://127.0.0.1:$port/metrics" 10 && curl -s "http://127.0.0.1:$port/metrics" >"$2"
    kill "$pid"
    wait "$pid" 2>/dev/null
}

ne_scrape "$SHARED_FIXTURE/proc" "$T/ne.txt"
normalize "$T/ne.txt" node_slabinfo_ slab >"$T/ne.norm"
n_fix=$(awk 'NR > 2' "$SHARED_FIXTURE/proc/slabinfo" | wc -l)
check_eq "node_exporter exports every fixture cache, 5 gauges each" "$((n_fix * 5))" \
    "$(wc -l <"$T/ne.norm")"
# Caches with no object: kmem leaves them out by default.
awk 'NR > 2 && $3 == 0 && $2 == 0 { print $1 }' "$SHARED_FIXTURE/proc/slabinfo" | sort -u >"$T/empty"
awk 'NR == FNR { e[$1] = 1; next } !($2 in e)' "$T/empty" "$T/ne.norm" >"$T/ne.nonempty"

same() { # DESC EXPECTED ACTUAL
    if diff "$2" "$3" >"$T/diff"; then
        ok "$1"
    else
        not_ok "$1"
        head -20 "$T/diff" | sed 's/^/# /'
    fi
}
variant() { # DESC ARGS...
    desc=$1
    shift
    "$E" --once "$@" >"$T/kmem.txt" 2>"$T/kmem.err"
    check "kmem_exporter --once $desc" test $? -eq 0
    normalize "$T/kmem.txt" kmem_slab_ cache >"$T/kmem.norm"
    same "slab values equal node_exporter's for caches with objects ($desc)" "$T/ne.nonempty" "$T/kmem.norm"
    "$E" --once "$@" --collector.slabinfo.empty >"$T/kmem.txt" 2>"$T/kmem.err"
    normalize "$T/kmem.txt" kmem_slab_ cache >"$T/kmem.norm"
    same "slab values equal node_exporter's for every cache with --collector.slabinfo.empty ($desc)" \
        "$T/ne.norm" "$T/kmem.norm"
}
variant "--root" --root "$SHARED_FIXTURE"
variant "--path.procfs + --path.sysfs" --path.procfs "$SHARED_FIXTURE/proc" \
    --path.sysfs "$SHARED_FIXTURE/sys"
variant "--path.procfs alone" --path.procfs "$SHARED_FIXTURE/proc"
check "no private root left behind" sh -c '! ls -d /tmp/kmem_exporter.* 2>/dev/null | grep -q .'

# --collector.slabinfo.node-exporter-names: node_exporter's own lines (HELP,
# TYPE, samples; client_golang sorts samples by label), beside kmem's families.
"$E" --once --root "$SHARED_FIXTURE" --collector.slabinfo.node-exporter-names \
    --collector.slabinfo.empty >"$T/kmem_ne.txt"
grep '^node_slabinfo_\|^# [A-Z]* node_slabinfo_' "$T/ne.txt" | sort >"$T/a"
grep '^node_slabinfo_\|^# [A-Z]* node_slabinfo_' "$T/kmem_ne.txt" | sort >"$T/b"
same "--collector.slabinfo.node-exporter-names: node_slabinfo_* lines equal node_exporter's" "$T/a" "$T/b"
check "--collector.slabinfo.node-exporter-names keeps kmem's families" \
    grep -q '^kmem_slab_size_bytes{cache="bio-312"} ' "$T/kmem_ne.txt"

# The server path too, against the same node_exporter output.
port=$(free_port)
spawn "$T/kx.log" "$E" --web.listen-address "127.0.0.1:$port" --root "$SHARED_FIXTURE"
wait_url "http://127.0.0.1:$port/metrics" 10
curl -s "http://127.0.0.1:$port/metrics" >"$T/kx.txt"
normalize "$T/kx.txt" kmem_slab_ cache >"$T/kx.norm"
check "served slab values equal node_exporter's" cmp -s "$T/ne.nonempty" "$T/kx.norm"

# Live: the static columns of every cache both see.
ne_scrape /proc "$T/ne_live.txt"
"$E" --once --collector.slabinfo.empty >"$T/kmem_live.txt"
static() { grep -E '^(object_size_bytes|objects_per_slab|pages_per_slab) ' "$1"; }
normalize "$T/ne_live.txt" node_slabinfo_ slab | static /dev/stdin >"$T/a"
normalize "$T/kmem_live.txt" kmem_slab_ cache | static /dev/stdin >"$T/b"
common=$(comm -12 "$T/a" "$T/b" | wc -l)
check "live: static slab columns agree ($common of $(wc -l <"$T/a") values)" \
    test "$common" -ge $(($(wc -l <"$T/a") - 6)) -a "$common" -gt 100
finish
