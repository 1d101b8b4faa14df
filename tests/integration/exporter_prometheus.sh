#!/bin/sh
# kmem_exporter scraped by a real Prometheus: one exporter on the shared
# fixture (--root), one on the live machine; promtool accepts the live
# output; Prometheus (Debian's /usr/bin/prometheus) scrapes both every 1 s
# until up == 1 and every family is stored. Loopback only; cleans up.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exporter.lib.sh"
T=$(tmpdir)
trap 'stop_all; rm -rf "$T"' EXIT INT TERM

# --collector.cadvisor-compat=always: this machine is hybrid, where the default
# (auto) leaves container_memory_kernel_usage to the kubelet.
PF=$(free_port)
spawn "$T/fixture.log" "$E" --web.listen-address "127.0.0.1:$PF" --root "$SHARED_FIXTURE" \
    --collector.cadvisor-compat=always
PL=$(free_port)
spawn "$T/live.log" "$E" --web.listen-address "127.0.0.1:$PL" --collector.cadvisor-compat=always
check "fixture exporter answers" wait_url "http://127.0.0.1:$PF/metrics"
check "live exporter answers" wait_url "http://127.0.0.1:$PL/metrics"

curl -s "http://127.0.0.1:$PF/metrics" >"$T/fixture.txt"
curl -s "http://127.0.0.1:$PL/metrics" >"$T/live.txt"
check "promtool check metrics: live" sh -c "promtool check metrics <'$T/live.txt' >'$T/promtool.out' 2>&1"
sed 's/^/# /' "$T/promtool.out"
check "promtool check metrics: fixture" sh -c "promtool check metrics <'$T/fixture.txt'"
check "every family with HELP and TYPE (live)" has_families "$T/live.txt"
check "every family with HELP and TYPE (fixture)" has_families "$T/fixture.txt"
n_fix=$(awk 'NR > 2 && ($2 > 0 || $3 > 0)' "$SHARED_FIXTURE/proc/slabinfo" | wc -l)
check_eq "one kmem_slab_objects series per fixture slabinfo line with objects" "$n_fix" \
    "$(grep -c '^kmem_slab_objects{' "$T/fixture.txt")"
check "live scrape has slab series" grep -q '^kmem_slab_objects{cache="' "$T/live.txt"
check "live: every collector succeeded" sh -c \
    "[ \$(grep -c '^kmem_collector_success{.*} 1\$' '$T/live.txt') -eq \$(grep -c '^kmem_collector_success{' '$T/live.txt') ]"
check "live: process metrics" grep -q '^process_resident_memory_bytes ' "$T/live.txt"
check_eq "content type" "text/plain; version=0.0.4; charset=utf-8" \
    "$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$PL/metrics")"
check "gzip when asked" sh -c "curl -s -H 'Accept-Encoding: gzip' 'http://127.0.0.1:$PL/metrics' | gunzip -c | grep -q '^kmem_slab_objects{'"

PP=$(free_port)
mkdir -p "$T/data"
cat >"$T/prometheus.yml" <<EOC
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: kmem_fixture
    static_configs:
      - targets: ['127.0.0.1:$PF']
  - job_name: kmem_live
    static_configs:
      - targets: ['127.0.0.1:$PL']
EOC
spawn "$T/prometheus.log" /usr/bin/prometheus --config.file="$T/prometheus.yml" \
    --storage.tsdb.path="$T/data" --web.listen-address="127.0.0.1:$PP"
api="http://127.0.0.1:$PP/api/v1/query"
q() { curl -s --get --data-urlencode "query=$1" "$api" | jq -r '.data.result[].value[1]' 2>/dev/null; }

up_ok=no
i=0
while [ $i -lt 600 ]; do
    if [ "$(q 'up{job="kmem_live"}')" = 1 ] && [ "$(q 'up{job="kmem_fixture"}')" = 1 ]; then
        up_ok=yes
        break
    fi
    sleep 0.1
    i=$((i + 1))
done
check_eq "Prometheus: up == 1 for both exporters" yes "$up_ok"
[ "$up_ok" = yes ] || tail -20 "$T/prometheus.log" | sed 's/^/# /'

for job in kmem_live kmem_fixture; do
    missing=""
    for f in $FAMILIES; do
        case " $SPARSE_FAMILIES " in *" $f "*) continue ;; esac
        # Over the last minute: a later scrape that timed out (1 s, a loaded
        # machine) marks every series stale, which an instant query would
        # take for "not stored".
        [ -n "$(q "count(last_over_time($f{job=\"$job\"}[1m]))")" ] || missing="$missing $f"
    done
    check_eq "Prometheus stored every family ($job)" "" "$missing"
done
check_eq "Prometheus: fixture value (bio-312 objects)" 12 \
    "$(q 'kmem_slab_objects{job="kmem_fixture",cache="bio-312"}')"
check_eq "Prometheus: all collectors succeed on the fixture" \
    "$(q 'count(kmem_collector_success{job="kmem_fixture"})')" \
    "$(q 'sum(kmem_collector_success{job="kmem_fixture"})')"
# The fixture's removed memory cgroups, counted here from its files: /proc/cgroups
# num_cgroups minus its memory cgroup directories (none skipped: checked).
num=$(awk '$1 == "memory" { print $3 }' "$SHARED_FIXTURE/proc/cgroups")
ndir=$(find "$SHARED_FIXTURE/sys/fs/cgroup/memory" -type d | wc -l)
check "the fixture has memory cgroups and removed ones ($ndir directories, num_cgroups $num)" \
    test "$ndir" -ge 5 -a "$num" -gt "$ndir"
check_eq "Prometheus: one kmem_cgroup_kernel_bytes series per fixture cgroup directory" "$ndir" \
    "$(q 'count(kmem_cgroup_kernel_bytes{job="kmem_fixture"})')"
check_eq "Prometheus: no fixture cgroup skipped" 0 "$(q 'sum(kmem_cgroups_skipped{job="kmem_fixture"})')"
check_eq "Prometheus: the fixture's removed memory cgroups (num_cgroups - directories)" \
    $((num - ndir)) "$(q 'kmem_memory_cgroups_dying{job="kmem_fixture"}')"
nk=$(q 'count(kmem_node_kernel_bytes{job="kmem_live"})')
check "Prometheus: at least 8 node kinds (got $nk)" test "${nk:-0}" -ge 8
# --collector.cadvisor-compat: auto (the default) emits the cAdvisor family on v2 only.
n=$("$E" --once --root "$SHARED_FIXTURE" 2>/dev/null | grep -c '^container_memory_kernel_usage{')
check_eq "auto: no container_memory_kernel_usage on a hybrid machine" 0 "$n"
n=$("$E" --once --root "$FIXTURES/v2-crio" 2>/dev/null | grep -c '^container_memory_kernel_usage{')
check_eq "auto: container_memory_kernel_usage for every cgroup on v2" 7 "$n"
n=$("$E" --once --root "$FIXTURES/v2-crio" --collector.cadvisor-compat=never 2>/dev/null |
    grep -c 'container_memory_kernel_usage')
check_eq "never: no container_memory_kernel_usage at all" 0 "$n"
"$E" --once --collector.cadvisor-compat=sometimes >/dev/null 2>"$T/bad.err"
check_eq "an invalid --collector.cadvisor-compat exits 2" 2 $?
check "and says which values are valid" grep -q "auto, always or never" "$T/bad.err"
finish
