#!/bin/sh
# Scrapes during cgroup churn: live v1 memory cgroups are created and removed
# under /sys/fs/cgroup/memory/kmem-test-churn-PID as fast as possible while
# parallel clients scrape kmem_exporter with --collect.min-interval 0, a fixed
# amount of work (4 clients x 50 scrapes; the churn goes on until they are
# done and at least 100 cgroups were made), however long it takes: no time,
# speed or rate is asserted (that is bench/). Every scrape is complete (200,
# ends with the last family, the cgroup collector did not fail), and a sample
# of them passes `promtool check metrics` and has no duplicate series. Cleans
# up in a trap.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exporter.lib.sh"
M=/sys/fs/cgroup/memory
CG=$M/kmem-test-churn-$$
SCRAPES=50
WORKERS=4
MIN_CHURN=100
T=$(tmpdir)
churn_pid=
cleanup() {
    [ -n "$churn_pid" ] && kill "$churn_pid" 2>/dev/null && wait "$churn_pid" 2>/dev/null
    stop_all
    if [ -d "$CG" ]; then
        find "$CG" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
        rmdir "$CG" 2>/dev/null
    fi
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" -ne 0 ] || [ ! -f "$M/memory.kmem.usage_in_bytes" ]; then
    not_ok "exporter_churn needs root and a v1 memory controller at $M"
    finish
fi
mkdir "$CG" || { not_ok "mkdir $CG"; finish; }

P=$(free_port)
spawn "$T/exporter.log" "$E" --web.listen-address "127.0.0.1:$P" --collect.min-interval 0 \
    --collector.cgroup.series-budget 4096
check "exporter answers" wait_url "http://127.0.0.1:$P/metrics"

(
    i=0
    while [ ! -e "$T/done" ] || [ $i -lt $MIN_CHURN ]; do
        i=$((i + 1))
        mkdir -p "$CG/c$i/nested"
        [ $i -gt 8 ] && rmdir "$CG/c$((i - 8))/nested" "$CG/c$((i - 8))"
    done
    echo "$i" >"$T/churned"
) &
churn_pid=$!

# worker N: SCRAPES scrapes; one line per scrape in $T/wN.
worker() {
    n=0
    while [ $n -lt $SCRAPES ]; do
        n=$((n + 1))
        f="$T/s$1"
        code=$(curl -s -m 10 -o "$f" -w '%{http_code}' "http://127.0.0.1:$P/metrics")
        last=$(tail -n 1 "$f" | cut -d' ' -f1)
        cgok=$(grep -c '^kmem_collector_success{collector="cgroup"} 1$' "$f")
        echo "$code $last $cgok" >>"$T/w$1"
        if [ $((n % 40)) -eq 1 ]; then
            cp "$f" "$T/sample-$1-$n"
        fi
    done
}
w=1
while [ $w -le $WORKERS ]; do
    worker $w &
    eval "wp$w=\$!"
    w=$((w + 1))
done
w=1
while [ $w -le $WORKERS ]; do
    eval "wait \$wp$w"
    w=$((w + 1))
done
touch "$T/done"
wait "$churn_pid"
churn_pid=

total=$(cat "$T"/w* | wc -l)
good=$(cat "$T"/w* | grep -c '^200 process_max_fds 1$')
check_eq "every client made its scrapes" $((WORKERS * SCRAPES)) "$total"
check_eq "every scrape complete (200, ends with process_max_fds, cgroup collector ok)" \
    "$total" "$good"
[ "$good" = "$total" ] && : || cat "$T"/w* | grep -v '^200 process_max_fds 1$' | sort | uniq -c | head | sed 's/^/# /'
echo "# $(cat "$T/churned" 2>/dev/null) cgroups made and removed meanwhile"
bad=0
nsamp=0
for s in "$T"/sample-*; do
    nsamp=$((nsamp + 1))
    promtool check metrics <"$s" >"$T/promtool.out" 2>&1 || { bad=$((bad + 1)); head -3 "$T/promtool.out" | sed 's/^/# /'; }
    d=$(grep -v '^#' "$s" | sed 's/ [^ ]*$//' | sort | uniq -d | head -3)
    [ -z "$d" ] || { bad=$((bad + 1)); echo "# duplicate series: $d"; }
done
check "sampled scrapes valid for promtool, no duplicate series ($nsamp samples)" \
    test "$bad" -eq 0 -a "$nsamp" -ge 4
check "churn cgroups were seen in scrapes" sh -c "grep -qh 'kmem-test-churn-$$/c' '$T'/sample-*"
check "exporter still running" kill -0 "$(echo $_pids | awk '{print $1}')"
finish
