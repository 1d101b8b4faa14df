#!/bin/sh
# Kernel-memory scenarios on this machine, read back as an SRE would
# (v1 memory cgroups at /sys/fs/cgroup/memory; docs/recorder.md "Leak
# verdicts"). Each scenario runs in a memory cgroup of its own while
# kmemtop --record -d 1 records (kmem_scenarios.py makes the memory):
#
#   negdent   stat() of missing names: negative dentries, warm then flat
#             -> reclaimable_warming (the owner snapshot at the end says
#                the growth is reclaimable dentries: v1 has no kernel parts)
#   sockets   socketpairs held open -> leak_suspect
#   threads   sleeping threads: kernel stacks -> leak_suspect
#   pgtables  a sparse mapping touched every 2 MiB: page tables -> leak_suspect
#   tmpfs     files in a tmpfs: shmem inodes, dentries -> leak_suspect
#   churn     files made, then removed -> not a leak suspect
#   oom       allocates past memory.limit_in_bytes -> an OOM kill, with what
#             the cgroup held before it
#   dying     cgroups removed while a tmpfs page pins each -> dying
#
# The recorder runs twice: the first run's first sample takes the owner
# snapshot before the scenarios, the second run's after them (a running
# recorder takes one every 5 minutes). Every number is checked against the
# cgroup's own files: the replayed samples hold what the kernel wrote, and
# the last sample is taken between two equal readings of each cgroup's
# memory.kmem.usage_in_bytes. Nothing is asserted on time, nor on a
# machine-wide counter (the caches and the dying count move with other
# processes: only what must hold whatever they do is asserted of them).
. "$(dirname "$0")/../lib.sh"

K="$B/kmemtop"
PY="$TOP/tests/integration/kmem_scenarios.py"
M=$V1
P="sre-$$"
DUR=${KMEM_SCENARIO_SECONDS:-12}
T=
PIDS=
REC=

need_v1_kmem scenarios_live skip
command -v jq >/dev/null || { not_ok "jq is installed (make deps)"; finish; }

cleanup() {
    exec 3>&- 2>/dev/null
    [ -n "$REC" ] && kill "$REC" 2>/dev/null
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    if [ -n "$T" ]; then
        rm -rf "$T/fs/t" "$T/fs/d" "$T/churn"/* 2>/dev/null
        umount "$T/fs" 2>/dev/null
        umount "$T/churn" 2>/dev/null
        umount "$T/tmp" 2>/dev/null
    fi
    for c in "$M/$P"-*; do
        [ -d "$c" ] || continue
        find "$c" -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null
        rmdir "$c" 2>/dev/null
    done
    [ -n "$T" ] && rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
T=$(tmpdir)
mkdir "$T/tmp" "$T/fs" "$T/churn" "$T/neg"
# samples are written out to be read back: into a tmpfs, as /dev/shm would be
mount -t tmpfs -o size=512m "$P-tmp" "$T/tmp" || { not_ok "mount a tmpfs"; finish; }
export TMPDIR="$T/tmp"
mount -t tmpfs -o size=256m "$P-tmpfs" "$T/fs" || { not_ok "mount a tmpfs"; finish; }
mount -t tmpfs -o size=64m "$P-churn" "$T/churn" || { not_ok "mount a tmpfs"; finish; }
mkdir "$T/fs/t" "$T/fs/d"
for s in negdent sockets threads pgtables tmpfs churn oom dying; do mkdir "$M/$P-$s"; done
OOM_LIMIT=$((96 * 1024 * 1024))
echo "$OOM_LIMIT" >"$M/$P-oom/memory.limit_in_bytes"
echo "$OOM_LIMIT" >"$M/$P-oom/memory.memsw.limit_in_bytes" 2>/dev/null

t0=$(date +%s)
phase() { echo "# $(($(date +%s) - t0)) s: $*"; }
"$K" --record "$T/rec" -d 1 --quiet &
REC=$!
rec_wait "$T/rec" 2 600
phase "recording"

# The workloads hold what they made until fd 3 (the write end of their
# stdin) is closed; each is started without it.
mkfifo "$T/hold"
exec 3<>"$T/hold"
for s in negdent sockets threads pgtables tmpfs churn oom; do
    case $s in
    negdent) a=$T/neg ;;
    tmpfs) a=$T/fs/t ;;
    churn) a=$T/churn ;;
    *) a= ;;
    esac
    # shellcheck disable=SC2086 # no argument when $a is empty
    python3 "$PY" "$M/$P-$s" "$s" "$DUR" $a <"$T/hold" >"$T/$s.out" 2>&1 3>&- &
    PIDS="$PIDS $!"
done
# Removed cgroups, each pinned by a tmpfs page written from inside it.
NDYING=100
i=0
while [ $i -lt $NDYING ]; do
    mkdir "$M/$P-dying/c$i"
    sh -c "echo \$\$ >'$M/$P-dying/c$i/cgroup.procs' && printf '%4096s' x >'$T/fs/d/f$i'"
    rmdir "$M/$P-dying/c$i"
    i=$((i + 1))
done
phase "dying cgroups made"
# until every workload is done (the OOM one is killed)
i=0
while [ $i -lt 900 ]; do
    n=0
    for s in negdent sockets threads pgtables tmpfs churn; do
        grep -q '^done' "$T/$s.out" && n=$((n + 1))
    done
    [ $n -eq 6 ] && break
    sleep 0.1
    i=$((i + 1))
done
check_eq "the six holding workloads are done" 6 "$n"
phase "workloads done"
rec_wait "$T/rec" $(($(rec_samples "$T/rec") + 1)) 600
kill -INT "$REC"
wait "$REC"
REC=
# The second run: its first sample takes the owner snapshot after the
# scenarios. Taken between two equal readings of every cgroup's kernel
# memory (at most 20 tries), so that it can be compared with them.
ALL="negdent sockets threads pgtables tmpfs churn oom dying"
kread() { for s in $ALL; do printf '%s=%s ' "$s" "$(cat "$M/$P-$s/memory.kmem.usage_in_bytes")"; done; }
tries=0
while [ $tries -lt 20 ]; do
    tries=$((tries + 1))
    before=$(kread)
    "$K" --record "$T/rec" -d 1 --record.count 1 --quiet
    after=$(kread)
    [ "$before" = "$after" ] && break
done
check_eq "a last sample between two equal readings of the cgroups' kmem usage ($tries tries)" \
    "$before" "$after"

phase "last sample taken"
"$K" --replay "$T/rec" --list >"$T/list"
first=$(head -1 "$T/list" | cut -c1-19)
last=$(tail -1 "$T/list" | cut -c1-19)
"$K" --replay "$T/rec" --window 1h --json >"$T/v.json"
"$K" --replay "$T/rec" --window 1h >"$T/v.txt"
"$K" --replay "$T/rec" --at "$last" --json >"$T/last.json"
"$K" --replay "$T/rec" --at "$first" --json >"$T/first.json"
[ -n "${SHOW:-}" ] && cat "$T/v.txt"
phase "verdicts read"
check_eq "the verdicts cover every sample" "$(wc -l <"$T/list")" "$(jq .samples "$T/v.json")"

cgv() { jq -r --arg n "/$P-$1" '.verdicts[] | select(.subject == "cgroup" and .name == $n) | '"$2" "$T/v.json"; }
kb() { jq --arg n "/$P-$2" '.cgroups.items[] | select(.path == $n) | .kernel_bytes' "$T/$1.json"; }
# Each scenario's cgroup: its verdict, and its numbers against the cgroup's own files.
compared=0
for s in negdent sockets threads pgtables tmpfs; do
    case $s in
    negdent) want=reclaimable_warming ;;
    *) want=leak_suspect ;;
    esac
    check_eq "$s: /$P-$s is $want" "$want" "$(cgv $s .verdict)"
    now=$(echo "$after" | tr ' ' '\n' | sed -n "s/^$s=//p")
    check_eq "$s: the last sample holds memory.kmem.usage_in_bytes read around it" "$now" "$(kb last $s)"
    check_eq "$s: the verdict's last bytes are the last sample's" "$(kb last $s)" "$(cgv $s .last_bytes)"
    check_eq "$s: the verdict's first bytes are the first sample's" "$(kb first $s)" "$(cgv $s .first_bytes)"
    check_eq "$s: v1, so all of the cgroup's kernel memory (whole_kernel)" true "$(cgv $s .whole_kernel)"
    compared=$((compared + 1))
done
check "five scenario cgroups compared with their own files ($compared)" test "$compared" -ge 5
for s in sockets threads pgtables tmpfs; do
    g=$(cgv $s .growth_bytes)
    check "$s: grew by at least 4 MiB ($g)" test "${g:-0}" -ge 4194304
    # no limit: MemTotal, and the hours until it from what the node had available
    check_eq "$s: no memory limit, so MemTotal is the limit" \
        "$(jq '.node.meminfo.MemTotal' "$T/last.json")" \
        "$(cgv $s .limit_bytes)"
    h=$(cgv $s .hours_to_limit)
    check "$s: a time until the limit ($h h)" test "$(echo "${h:-0} > 0" | bc)" -eq 1
done
# negdent: the growth is reclaimable dentries, by the owner snapshot
g=$(cgv negdent .growth_bytes)
o=$(cgv negdent .owned_reclaimable_bytes)
check "negdent: grew by at least 4 MiB ($g)" test "${g:-0}" -ge 4194304
check "negdent: the owner snapshot charges it at least half of that in reclaimable slab ($o)" \
    test "${o%.*}" -ge $((g / 2))
check_eq "negdent: stabilised (flat after the first third)" true "$(cgv negdent .stabilised)"
check "negdent: the text says it is no leak" \
    sh -c "awk -v h='  cgroup /$P-negdent ' 'index(\$0, h) == 1 { on = 1; next } on && /^  [^ ]/ { exit } on' '$T/v.txt' |
        grep -q 'not a leak: reclaim gives it back'"
# churn: grew, then gave most of it back
check "churn: not a leak suspect ($(cgv churn .verdict))" test "$(cgv churn .verdict)" != leak_suspect
# OOM: one kill in the OOM cgroup, with its limit and what it held before
ok_kills=$(jq -r '.oom_kills[] | select(.cgroup == "/'"$P"'-oom") | .kills' "$T/v.json")
kern=$(awk '$1 == "oom_kill" { print $2 }' "$M/$P-oom/memory.oom_control")
check_eq "oom: the kills recorded equal memory.oom_control oom_kill" "$kern" "$ok_kills"
check_eq "oom: its limit is memory.limit_in_bytes" "$OOM_LIMIT" \
    "$(jq '.oom_kills[] | select(.cgroup == "/'"$P"'-oom") | .limit_bytes' "$T/v.json")"
check_eq "oom: no pod name for a plain cgroup" '""' \
    "$(jq '.oom_kills[] | select(.cgroup == "/'"$P"'-oom") | .pod' "$T/v.json")"
bu=$(jq '.oom_kills[] | select(.cgroup == "/'"$P"'-oom") | .before.usage_bytes' "$T/v.json")
bt=$(jq -r '.oom_kills[] | select(.cgroup == "/'"$P"'-oom") | .before.time_unix | floor | strftime("%s")' "$T/v.json")
check "oom: what it held before the kill is known ($bu bytes)" test "${bu:-0}" -gt 0
bt_local=$(date -d "@$bt" '+%Y-%m-%d %H:%M:%S')
check_eq "oom: ... and is the usage of the sample before" "$bu" \
    "$("$K" --replay "$T/rec" --at "$bt_local" --json | jq --arg n "/$P-oom" '.cgroups.items[] | select(.path == $n) | .usage_bytes')"
# dying: the kernel still holds ours (their pages are kept), so the count
# of the last sample is at least NDYING whatever the rest of the machine does
d=$(jq .cgroups.dying "$T/last.json")
check "dying: the last sample counts at least our $NDYING removed cgroups ($d)" test "${d:-0}" -ge $NDYING
dv=$(jq -r '[.verdicts[] | select(.subject == "dying")] | map(.verdict) | join(",")' "$T/v.json")
check "dying: judged as pinned by dying cgroups, if at all ($dv)" \
    sh -c "[ -z '$dv' ] || [ '$dv' = dying_pinned ]"
# Caches: whatever the machine does, a socket cache is never called a warming cache
n=$(jq '[.verdicts[] | select(.subject == "cache" and .name == "sock_inode_cache")] | length' "$T/v.json")
check_eq "sock_inode_cache: never reclaimable_warming ($n verdicts)" 0 \
    "$(jq '[.verdicts[] | select(.subject == "cache" and .name == "sock_inode_cache" and (.verdict == "reclaimable_warming" or .pinned != true))] | length' "$T/v.json")"
check_eq "no verdict calls a reclaimable series a leak suspect" 0 \
    "$(jq '[.verdicts[] | select(.reclaimable and .verdict == "leak_suspect")] | length' "$T/v.json")"

# What to do: the commands under the sockets verdict work when pasted, and show it.
# block VERDICT-LINE-START: the lines of one verdict, its header to the next one
block() { awk -v h="$1" 'index($0, h) == 1 { on = 1; print; next } on && /^  [^ ]/ { exit } on' "$T/v.txt"; }
block "  cgroup /$P-sockets " | sed -n 's/^ *-> [a-z ]*: \(kmemtop .*\)$/\1/p' >"$T/cmds"
check_eq "sockets: two commands to paste" 2 "$(wc -l <"$T/cmds")"
ran=0
while read -r cmd; do
    cmd=${cmd#kmemtop }
    if eval "\"\$K\" $cmd" >"$T/cmd.out" 2>&1 && grep -q "/$P-" "$T/cmd.out"; then
        ran=$((ran + 1))
    else
        echo "# failed: kmemtop $cmd"
        head -5 "$T/cmd.out" | sed 's/^/# /'
    fi
done <"$T/cmds"
check_eq "sockets: each command runs and names our cgroups" 2 "$ran"
check "the OOM kill's command shows what the cgroup held then" sh -c "
    cmd=\$(grep -A2 '^  OOM kill .* in /$P-oom' '$T/v.txt' | sed -n 's/^ *-> [a-z ]*: kmemtop //p')
    eval \"'$K' \$cmd\" | grep -q '$P-oom'"
check "signal_cache, where merged with UNIX sockets, says so" \
    sh -c "! grep -q '^  cache  signal_cache:' '$T/v.txt' || grep -A2 '^  cache  signal_cache:' '$T/v.txt' | grep -q 'UNIX: UNIX domain sockets'"
# --diff of the window: each scenario cgroup's change is last - first
ok_diff=0
"$K" --replay "$T/rec" --diff "$first" "$last" --json >"$T/d.json"
for s in negdent sockets threads pgtables tmpfs; do
    [ "$(jq --arg n "/$P-$s" '.cgroups[] | select(.cgroup == $n) | .change_bytes' "$T/d.json")" = \
        "$(($(kb last $s) - $(kb first $s)))" ] && ok_diff=$((ok_diff + 1))
done
check_eq "--diff: the five cgroups changed by last - first" 5 "$ok_diff"
# the report of the last moment: its own bullet gives the replay's commands, which work
"$K" --replay "$T/rec" --at "$last" --report >"$T/report.txt"
check "--report of a recorded moment says so in What to do" \
    grep -q "^  - This report is of a recorded moment, '$last'" "$T/report.txt"
cmd=$(sed -n '/^  - This report is of a recorded moment/,/^$/p' "$T/report.txt" |
    sed -n 's/^ *kmemtop \(--replay .* --cgroups --by-cache -o\)$/\1/p')
check "its --by-cache command runs and names our cgroups" \
    sh -c "eval \"'$K' \$1\" | grep -q '/$P-'" - "$cmd"
phase "checked"
[ -n "${KEEP:-}" ] && cp -a "$T/rec" "$KEEP"
check_eq "nothing written out is left behind" 0 "$(find "$T/tmp" -mindepth 1 | wc -l)"
finish
