#!/bin/bash
# kmem_exporter benchmarks (issue 4), as rows of bench/run.sh's table
# (figure, kmem, peer, floor, ratio), on the live machine:
#  - CPU per collection: N in-process collect+render cycles (the hidden
#    --bench N flag, getrusage) vs the floor (bench/exporter_readfloor.c:
#    read() of slabinfo, meminfo, vmstat, zoneinfo and the cgroup files, no
#    parsing) and vs node_exporter (--collector.disable-defaults
#    --collector.slabinfo --collector.meminfo) CPU per scrape;
#  - CPU per HTTP scrape of each server (utime+stime of /proc/PID/stat across
#    N scrapes; kmem with --collect.min-interval 0, so every scrape collects);
#  - RSS of each server after the N scrapes.
#   bench/exporter.sh [--smoke]     (--smoke: a few iterations, quick)
set -eu
cd "$(dirname "$0")/.."
B=${KMEM_BUILD:-build}
N=200
[ "${1:-}" = "--smoke" ] && N=10
E=$B/kmem_exporter
NE=/usr/bin/prometheus-node-exporter
[ -x "$E" ] || make "$E" >/dev/null
mkdir -p "$B/bench"
cc -O2 -std=c17 -D_GNU_SOURCE -o "$B/bench/exporter_readfloor" bench/exporter_readfloor.c

pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_url() {
    for _ in $(seq 100); do
        curl -s -o /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "bench/exporter.sh: $1 does not answer" >&2
    return 1
}
# cpu_ms PID: utime + stime of PID in milliseconds.
cpu_ms() {
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) * 1000 / hz }' "/proc/$1/stat"
}
rss_mib() { awk '$1 == "VmRSS:" { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
# per_scrape PID URL: mean CPU ms of PID per scrape of URL over N scrapes.
per_scrape() {
    curl -s -o /dev/null "$2" # warm up
    local a b
    a=$(cpu_ms "$1")
    for _ in $(seq "$N"); do curl -s -o /dev/null "$2"; done
    b=$(cpu_ms "$1")
    awk -v a="$a" -v b="$b" -v n="$N" 'BEGIN { printf "%.3f", (b - a) / n }'
}

# In-process collection cost and its floor.
# Interleaved in rounds so that both see the same machine. The figures are
# the medians over the rounds, and the ratio is the median of the per-round
# ratios (this VM's noise is larger than the gap).
rounds=7
[ "$N" -lt 50 ] && rounds=1
ks="" fs="" rs=""
for _ in $(seq "$rounds"); do
    k=$("$E" --bench "$N" | sed -n 's/.*cpu_per_cycle_ms=\([0-9.]*\).*/\1/p')
    read -r f ncg < <("$B/bench/exporter_readfloor" / "$N")
    ks="$ks $k" fs="$fs $f"
    rs="$rs $(awk -v a="$k" -v b="$f" 'BEGIN { print (b > 0 ? a / b : 0) }')"
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
kx=$(echo "$ks" | median)
floor=$(echo "$fs" | median)
ratio=$(echo "$rs" | median)

# Both servers over HTTP.
pk=$(free_port)
"$E" --web.listen-address "127.0.0.1:$pk" --collect.min-interval 0 >/dev/null 2>&1 &
kpid=$!
pids="$pids $kpid"
pn=$(free_port)
"$NE" --collector.disable-defaults --collector.slabinfo --collector.meminfo \
    --web.listen-address "127.0.0.1:$pn" >/dev/null 2>&1 &
npid=$!
pids="$pids $npid"
wait_url "http://127.0.0.1:$pk/metrics"
wait_url "http://127.0.0.1:$pn/metrics"
ks=$(per_scrape "$kpid" "http://127.0.0.1:$pk/metrics")
ns=$(per_scrape "$npid" "http://127.0.0.1:$pn/metrics")
krss=$(rss_mib "$kpid")
nrss=$(rss_mib "$npid")
klines=$(curl -s "http://127.0.0.1:$pk/metrics" | grep -vc '^#')
nlines=$(curl -s "http://127.0.0.1:$pn/metrics" | grep -vc '^#')

awk -v kx="$kx" -v fl="$floor" -v ns="$ns" -v ncg="$ncg" -v n="$N" -v r="$ratio" 'BEGIN {
    printf "exporter collection, %d cgroups (CPU ms, N=%d)\t%.3f\tnode_exporter %.3f\tread() %.3f\t%.2fx floor, %.2fx node_exporter\n",
        ncg, n, kx, ns, fl, r, (ns > 0 ? kx / ns : 0) }'
awk -v ks="$ks" -v ns="$ns" -v fl="$floor" 'BEGIN {
    printf "exporter HTTP scrape (server CPU ms)\t%.3f\tnode_exporter %.3f\tread() %.3f\t%.2fx node_exporter\n",
        ks, ns, fl, (ns > 0 ? ks / ns : 0) }'
awk -v k="$krss" -v p="$nrss" -v n="$N" 'BEGIN {
    printf "exporter RSS after %d scrapes (MiB)\t%.1f\tnode_exporter %.1f\t-\t%.2fx node_exporter\n",
        n, k, p, (p > 0 ? k / p : 0) }'
printf 'exporter samples per scrape\t%s\tnode_exporter %s\t-\t-\n' "$klines" "$nlines"
