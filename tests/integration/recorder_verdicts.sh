#!/bin/sh
# Leak verdicts over recorded scenarios whose truth this script makes
# (docs/recorder.md): a reclaimable cache that grows then stabilises, a
# steady unreclaimable growth in a cache and in a cgroup with a memory.max,
# dying cgroups piling up, and an OOM kill in that cgroup.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/rec_scenario.lib.sh"

K="$B/kmemtop"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT
mkdir "$T/tmp"
export TMPDIR="$T/tmp"
tree="$T/tree"
# the scenario's tree (rec_scenario.lib.sh: dentry, kmalloc-256, the container
# CT with its memory.max, SUnreclaim, dying cgroups), and this test's own
scenario_tree "$tree"
python3 "$PY" "$tree" cgset "$CT" memory.events 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n'
python3 "$PY" "$tree" cgset "$POD" memory.events 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n'
PS=$(getconf PAGESIZE)
# The classification's thresholds, each met on one side and missed on the
# other by two cgroups (unreclaimable: kernel - slab_reclaimable):
#   growth at least max(1 MiB, 5 % of the start): B1 (4 %) and B2 (6 %) start
#   at about 200 MiB; KUBELET grows 0.88 MiB in all, below 1 MiB;
#   rising in at least 80 % of the steps: E1 rises in 9 of 11 (a leak
#   suspect), CTRD in 8 of 11 (grew, not steadily).
BURST=kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c3d4e_5f60_4a7b_8c9d_0e1f2a3b4c5d.slice
B1=$BURST/cri-containerd-b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1.scope
B2=$BURST/cri-containerd-b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2.scope
E1=kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poda0b1c2d3_e4f5_4607_8899_aabbccddeeff.slice
E1=$E1/cri-containerd-e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1.scope
CTRD=system.slice/containerd.service
KUBELET=system.slice/kubelet.service
unrecl() { # cgroup: kernel - slab_reclaimable of its memory.stat
    awk '$1 == "kernel" { k = $2 } $1 == "slab_reclaimable" { r = $2 } END { print k - r }' \
        "$tree/sys/fs/cgroup/$1/memory.stat"
}
# The shape of a growth: H1 and H2 grow 6 MiB a step for five steps, then
# H1 2 MiB a step (its second half grows 0.4 x its first: still a leak
# suspect, the bar is 0.3) and H2 1 MiB (0.2 x: grew, not steadily); H3's
# slab_reclaimable does what H1's unreclaimable does (0.4 x: warming, not
# yet stabilised, the bar is 0.25).
H1=system.slice/kmem-shape-h1.service
H2=system.slice/kmem-shape-h2.service
H3=system.slice/kmem-shape-h3.service
# F1 grows 4 MiB in 8 of 11 steps and holds in the other 3: a step that
# holds is no fall, F1 is a leak suspect (CTRD, 8 rises and 3 falls, is not).
F1=system.slice/kmem-shape-f1.service
for h in "$H1" "$H2" "$H3" "$F1"; do cp -a "$tree/sys/fs/cgroup/$KUBELET" "$tree/sys/fs/cgroup/$h"; done
python3 "$PY" "$tree" cgstat "$B1" kernel_stack 209715200
python3 "$PY" "$tree" cgstat "$B2" kernel_stack 209715200
B1_STEP=$(($(unrecl "$B1") * 4 / 100 / 11))
B2_STEP=$(($(unrecl "$B2") * 6 / 100 / 11))
MiB=1048576
# before sample k, on top of the scenario's growth (kmalloc-256: +512 slabs,
# 2 MiB with 4 KiB pages, a step; the container +4 MiB of unreclaimable slab;
# SUnreclaim +2048 kB; dying cgroups +500): the thresholds' cgroups, and at
# the tenth sample an OOM kill in the container
more() {
    if [ "$1" -gt 0 ]; then
        python3 "$PY" "$tree" cgstat "$B1" kernel_stack "$B1_STEP"
        python3 "$PY" "$tree" cgstat "$B2" kernel_stack "$B2_STEP"
        python3 "$PY" "$tree" cgstat "$KUBELET" kernel_stack 80000
        if [ "$1" -le 5 ]; then h1=$((6 * MiB)) h2=$((6 * MiB)); else h1=$((2 * MiB)) h2=$MiB; fi
        python3 "$PY" "$tree" cgstat "$H1" kernel_stack "$h1"
        python3 "$PY" "$tree" cgstat "$H2" kernel_stack "$h2"
        python3 "$PY" "$tree" cgstat "$H3" slab_reclaimable "$h1"
        case $1 in 3 | 8) d=-$MiB ;; *) d=$((4 * MiB)) ;; esac
        python3 "$PY" "$tree" cgstat "$E1" kernel_stack "$d"
        case $1 in 2 | 5 | 9) d=-$MiB ;; *) d=$((4 * MiB)) ;; esac
        python3 "$PY" "$tree" cgstat "$CTRD" kernel_stack "$d"
        case $1 in 2 | 5 | 9) d=0 ;; *) d=$((4 * MiB)) ;; esac
        python3 "$PY" "$tree" cgstat "$F1" kernel_stack "$d"
    fi
    if [ "$1" -eq 9 ]; then
        python3 "$PY" "$tree" cgset "$CT" memory.events 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n'
        python3 "$PY" "$tree" cgset "$POD" memory.events 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n'
    fi
}
scenario_record "$tree" "$T/rec" more
"$K" --replay "$T/rec" --window 1d --json >"$T/v.json"
"$K" --replay "$T/rec" --window 1d >"$T/v.txt"
[ -n "${SHOW:-}" ] && cat "$T/v.txt"
v() { jq -r --arg s "$1" --arg n "$2" --arg r "$3" \
    '.verdicts[] | select(.subject == $s and .name == $n and (.reclaimable|tostring) == $r) | '"$4" "$T/v.json"; }
check_eq "all twelve samples in the window" 12 "$(jq .samples "$T/v.json")"
check_eq "dentry: reclaimable cache warming up" reclaimable_warming "$(v cache dentry true .verdict)"
check_eq "dentry: stabilised (flat for the last five steps)" true "$(v cache dentry true .stabilised)"
check_eq "dentry: grew by 18000 pages" $((18000 * PS)) "$(v cache dentry true .growth_bytes)"
check_eq "dentry: reclaim could free all of it" $(((2482 + 18000) * PS)) \
    "$(v cache dentry true .reclaimable_bytes)"
check_eq "kmalloc-256: leak suspect" leak_suspect "$(v cache kmalloc-256 false .verdict)"
check_eq "kmalloc-256: rate 512 pages per ten minutes" $((512 * PS * 6)) \
    "$(v cache kmalloc-256 false .rate_bytes_per_hour)"
check_eq "container: leak suspect (kernel - slab_reclaimable)" leak_suspect \
    "$(v cgroup "/$CT" false .verdict)"
check_eq "container: 24 MiB an hour" $((4194304 * 6)) "$(v cgroup "/$CT" false .rate_bytes_per_hour)"
usage=427270144
want=$(echo "($MAX - $usage) / (4194304 * 6)" | bc -l | xargs printf '%.2f')
check_eq "container: hours until memory.max at that rate" "$want" \
    "$(v cgroup "/$CT" false .hours_to_limit)"
avail=$(awk '/^MemAvailable:/ {printf "%.0f", $2 * 1024}' "$tree/proc/meminfo")
total=$(awk '/^MemTotal:/ {printf "%.0f", $2 * 1024}' "$tree/proc/meminfo")
check_eq "node: SUnreclaim is a leak suspect" leak_suspect "$(v node SUnreclaim false .verdict)"
check_eq "node: 12 MiB an hour" $((2048 * 1024 * 6)) "$(v node SUnreclaim false .rate_bytes_per_hour)"
want=$(echo "$avail / (2048 * 1024 * 6)" | bc -l | xargs printf '%.2f')
check_eq "node: hours until MemTotal is used up (MemAvailable at that rate)" "$want" \
    "$(v node SUnreclaim false .hours_to_limit)"
check_eq "node: the limit is MemTotal" "$total" "$(v node SUnreclaim false .limit_bytes)"
check_eq "dying cgroups: pinned" dying_pinned "$(v dying "dying memory cgroups" false .verdict)"
check_eq "the pod's own slab_reclaimable did not change: no verdict" "" \
    "$(v cgroup "/$POD" true .verdict)"
# the thresholds (the cgroups' series are what kmem read: compared with the tree)
check_eq "B1 grew 4 % of its start (over 1 MiB): noise, no verdict" "" "$(v cgroup "/$B1" false .verdict)"
check_eq "B2 grew 6 % of its start: leak suspect" leak_suspect "$(v cgroup "/$B2" false .verdict)"
check_eq "B2: growth = the tree's kernel - slab_reclaimable, last minus first" $((11 * B2_STEP)) \
    "$(v cgroup "/$B2" false .growth_bytes)"
check_eq "KUBELET grew 880000 bytes (under 1 MiB, over 5 %): noise, no verdict" "" \
    "$(v cgroup "/$KUBELET" false .verdict)"
check_eq "E1 rose in 9 of 11 steps: leak suspect" leak_suspect "$(v cgroup "/$E1" false .verdict)"
check_eq "E1: growth 9 x 4 MiB - 2 x 1 MiB" $((34 * MiB)) "$(v cgroup "/$E1" false .growth_bytes)"
check_eq "CTRD rose in 8 of 11 steps: grew, not steadily" grew_not_steady \
    "$(v cgroup "/$CTRD" false .verdict)"
check_eq "F1 rose in 8 of 11 steps and held in 3: leak suspect" leak_suspect \
    "$(v cgroup "/$F1" false .verdict)"
check_eq "F1: grew 8 x 4 MiB" $((32 * MiB)) "$(v cgroup "/$F1" false .growth_bytes)"
check_eq "H1: second half 0.4 x the first, every step up: leak suspect" leak_suspect \
    "$(v cgroup "/$H1" false .verdict)"
check_eq "H1: growth in each half (5 x 6 MiB, 6 x 2 MiB)" "$((30 * MiB)) $((12 * MiB))" \
    "$(v cgroup "/$H1" false '"\(.growth_first_half_bytes) \(.growth_second_half_bytes)"')"
check_eq "H2: second half 0.2 x the first: grew, not steadily" grew_not_steady \
    "$(v cgroup "/$H2" false .verdict)"
check_eq "H3: reclaimable, second half 0.4 x the first: warming, not stabilised" \
    "reclaimable_warming false" "$(v cgroup "/$H3" true '"\(.verdict) \(.stabilised)"')"
check_eq "one OOM kill, in the container (not its pod too)" "1 /$CT" \
    "$(jq -r '.oom_kills | "\(length) \(.[0].cgroup)"' "$T/v.json")"
check_eq "the OOM kill's kernel memory: 23388160 + 9 x 4 MiB" $((23388160 + 9 * 4194304)) \
    "$(jq '.oom_kills[0].kernel_bytes' "$T/v.json")"
check_eq "the OOM kill's slab_unreclaimable" $((2097152 + 9 * 4194304)) \
    "$(jq '.oom_kills[0].kernel_parts.slab_unreclaimable' "$T/v.json")"
check "text: the leak suspect is named with its time to the limit" \
    grep -q "until the limit (1.0G) at this rate" "$T/v.txt"
check_eq "container: its pod in JSON" monitoring/prometheus-0/prometheus "$(v cgroup "/$CT" false .pod)"
check "text: what to do names the pod and the container" \
    sh -c "grep -A3 '^  cgroup /$CT ' '$T/v.txt' | grep -q -- '-> pod monitoring/prometheus-0 (container prometheus, cgroup /$CT)'"
check_eq "the OOM kill's pod, only the parts it has" monitoring/prometheus-0/prometheus \
    "$(jq -r '.oom_kills[0].pod' "$T/v.json")"
check_eq "the OOM kill: the sample before it is there too (8 steps of 4 MiB)" $((23388160 + 8 * 4194304)) \
    "$(jq '.oom_kills[0].before.kernel_bytes' "$T/v.json")"
check "text: the OOM kill says what the memory was made of" \
    grep -q "OOM kill at .* in /$CT.*slab_unreclaimable" "$T/v.txt"
# a window of the first hour only: kmalloc-256 still a suspect, dentry still growing
at=$(date -d "@$((T0 + 3600))" '+%Y-%m-%d %H:%M:%S')
"$K" --replay "$T/rec" --at "$at" --window 1h --json >"$T/v1.json"
check_eq "first hour: seven samples" 7 "$(jq .samples "$T/v1.json")"
check_eq "first hour: dentry still growing" false \
    "$(jq -r '.verdicts[] | select(.name == "dentry") | .stabilised' "$T/v1.json")"
check_eq "first hour: no OOM kill yet" 0 "$(jq '.oom_kills | length' "$T/v1.json")"
# two samples are too few for a verdict: kmalloc-256's step of 2 MiB is noise there
at=$(date -d "@$((T0 + STEP))" '+%Y-%m-%d %H:%M:%S')
"$K" --replay "$T/rec" --at "$at" --window "${STEP}s" --json >"$T/v0.json"
check_eq "two samples: no verdict but noise ($(jq .noise "$T/v0.json") series)" "2 0" \
    "$(jq '"\(.samples) \(.verdicts | length)"' -r "$T/v0.json")"
check_eq "the OOM kill names the container's namespace/pod/container" monitoring/prometheus-0/prometheus \
    "$(jq -r '.oom_kills[0].pod' "$T/v.json")"
check "text: the OOM kill's pod in parentheses" \
    grep -q "OOM kill at .* in /$CT (monitoring/prometheus-0/prometheus):" "$T/v.txt"
# an OOM kill in a cgroup that is no pod: no pod name, not "//"
SVC=system.slice/containerd.service
python3 "$PY" "$tree" cgset "$SVC" memory.events 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n'
"$K" --root "$tree" --record "$T/rec2" --record.count 1 --record.time "$T0" --quiet
python3 "$PY" "$tree" cgset "$SVC" memory.events 'low 0\nhigh 0\nmax 1\noom 1\noom_kill 1\n'
"$K" --root "$tree" --record "$T/rec2" --record.count 1 --record.time $((T0 + STEP)) --quiet
"$K" --replay "$T/rec2" --window 1d --json >"$T/v2.json"
"$K" --replay "$T/rec2" --window 1d >"$T/v2.txt"
check_eq "an OOM kill outside any pod: its cgroup, and no pod name" "1 /$SVC " \
    "$(jq -r '.oom_kills | "\(length) \(.[0].cgroup) \(.[0].pod)"' "$T/v2.json")"
check "text: the OOM kill outside any pod has no parentheses" \
    grep -q "OOM kill at .* in /$SVC: memory" "$T/v2.txt"
# v1: a cgroup's kernel memory is one number (memory.kmem.usage_in_bytes);
# owner snapshots before and after the window's middle tell how much of its
# growth is reclaimable slab. W1 and W2 grow 2 MiB a step (22 MiB); the last
# snapshot charges W1 60 % of that in dentries (at least half: a cache
# warming up) and W2 40 % (a leak suspect).
v1t="$T/v1tree"
cp -a "$FIXTURES/debian12-linux6.18-hybrid" "$v1t"
VM="$v1t/sys/fs/cgroup/memory/process_api"
W1=67cb5dd1bdae9802ccde25d26c4d47e2 W2=f4dcaf737ac3fed81fc910a982ac585f
owners() { # TAKEN W1_BYTES W2_BYTES: kmem-owners.txt of two dentry rows
    printf 'kmem-owners 1\ntaken %s.000000000\ncpu_seconds 0.01\npages 4194304\nslabs 1000\n' "$1"
    printf 'objects_charged 200\nobjects_uncharged 0\nrows 2\n'
    printf '1\t100\t%s\tdentry\t/process_api/%s\n2\t100\t%s\tdentry\t/process_api/%s\n' "$2" "$W1" "$3" "$W2"
}
for w in $W1 $W2; do
    for f in memory.kmem.usage_in_bytes memory.usage_in_bytes; do cp "$VM/$w/$f" "$VM/$w/$f.0"; done
done
for k in $(seq 0 11); do
    for w in $W1 $W2; do
        for f in memory.kmem.usage_in_bytes memory.usage_in_bytes; do
            echo $(($(cat "$VM/$w/$f.0") + k * 2 * MiB)) >"$VM/$w/$f"
        done
    done
    [ "$k" = 0 ] && owners "$T0" "$MiB" "$MiB" >"$v1t/kmem-owners.txt"
    [ "$k" = 11 ] && owners $((T0 + 11 * STEP)) $((MiB + 22 * MiB * 6 / 10)) \
        $((MiB + 22 * MiB * 4 / 10)) >"$v1t/kmem-owners.txt"
    "$K" --root "$v1t" --record "$T/rec-v1" --record.count 1 --record.time $((T0 + STEP * k)) --quiet
done
"$K" --replay "$T/rec-v1" --window 1d --json >"$T/v1w.json"
v1v() { jq -r --arg n "/process_api/$1" '.verdicts[] | select(.subject == "cgroup" and .name == $n) | '"$2" "$T/v1w.json"; }
check_eq "v1: W1 grew 22 MiB, 60 % of it owned dentries: a cache warming up" \
    "reclaimable_warming $((22 * MiB)) $((22 * MiB * 6 / 10 + MiB))" \
    "$(v1v $W1 '"\(.verdict) \(.growth_bytes) \(.owned_reclaimable_bytes)"')"
check_eq "v1: W2 grew 22 MiB, 40 % of it owned dentries: a leak suspect" \
    "leak_suspect $((22 * MiB))" "$(v1v $W2 '"\(.verdict) \(.growth_bytes)"')"
check_eq "nothing written out is left behind" 0 "$(find "$T/tmp" -mindepth 1 | wc -l)"
finish
