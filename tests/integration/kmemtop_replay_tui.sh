#!/bin/sh
# kmemtop --replay DIR in tmux at 120x40: a recording of three samples of a
# fixture tree whose dentry line grows between samples (+1.0M, then +2.0M).
# The TUI opens at the newest sample, [ and ] step, T jumps to a time, b sets
# the baseline at the sample shown; CHANGE is against the sample before,
# GROWTH against the baseline; 4 says why a recording has no allocations.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.lib.sh"
T=$(tmpdir)
trap 'tm_cleanup; rm -rf "$T"' EXIT INT TERM
tm_setup replay kr

R="$T/root"
cp -r "$SHARED_FIXTURE" "$R"
SLAB="$R/proc/slabinfo"
# grow CACHE SLABS: add SLABS full slabs to CACHE (grow_slab; dentry: 1 page a
# slab, 256 slabs = 1.0M)
grow() { grow_slab "$SLAB" "$@"; }
pps=$(awk '$1 == "dentry" { print $6 }' "$SLAB")
[ "$pps" = 1 ] || not_ok "the fixture's dentry cache has 1 page per slab (has '$pps')"
slabs() { awk '$1 == "dentry" { print $15 }' "$SLAB"; }

CGID=a236a5df18e4450c05b0c8f0720f036d
T0=1796000000 # sample k at T0 + 60 k
REC="$T/rec"
n0=$(slabs)
"$K" --root "$R" --record "$REC" --record.count 1 --record.time "$T0" --quiet
grow dentry 256
"$K" --root "$R" --record "$REC" --record.count 1 --record.time $((T0 + 60)) --quiet
grow dentry 512
# and a cgroup's kernel memory (v1: memory.kmem.usage_in_bytes) by 2 MiB
KU="$R/sys/fs/cgroup/memory/process_api/$CGID/memory.kmem.usage_in_bytes"
echo $(($(cat "$KU") + 2097152)) >"$KU"
"$K" --root "$R" --record "$REC" --record.count 1 --record.time $((T0 + 120)) --quiet
check_eq "the fixture grew dentry by 768 slabs over the three samples" 768 $(($(slabs) - n0))
t0=$(date -d "@$T0" '+%F %T')
t1=$(date -d "@$((T0 + 60))" '+%F %T')
t2=$(date -d "@$((T0 + 120))" '+%F %T')

# slabs of dentry shown: the SLABS column
shown_slabs() { cell SLABS dentry 7; }

mkdir "$T/tmp"
start 120 40 "TMPDIR=$T/tmp $K --replay $REC"
check "opens at the newest sample, and says so" has "replay $t2, sample 3 of 3"
check "the header names the baseline (the oldest sample)" has "GROWTH: since $t0"
check_eq "newest: CHANGE of dentry is the last step (+2.0M)" "+2.0M" "$(cell CHANGE dentry)"
check_eq "newest: GROWTH of dentry since the oldest (+3.0M)" "+3.0M" "$(cell GROWTH dentry)"
check_eq "newest: dentry has all its slabs" "$((n0 + 768))" "$(shown_slabs)"
keys '['
wait_for "replay $t1"
check "[ steps to the sample before" has "replay $t1, sample 2 of 3"
check_eq "... and shows its number of dentry slabs" "$((n0 + 256))" "$(shown_slabs)"
check_eq "... its CHANGE (+1.0M)" "+1.0M" "$(cell CHANGE dentry)"
keys b
wait_for "GROWTH: since $t1"
check "b sets the baseline at the sample shown" has "GROWTH: since $t1"
keys ']'
wait_for "replay $t2"
check "] steps to the next sample" has "replay $t2, sample 3 of 3"
check_eq "GROWTH since the new baseline is the difference made (+2.0M)" "+2.0M" \
    "$(cell GROWTH dentry)"
keys T
keys "$t0" Enter
wait_for "replay $t0"
check "T jumps to the sample at a typed time" has "replay $t0, sample 1 of 3"
check_eq "... with its number of dentry slabs" "$n0" "$(shown_slabs)"
keys T
keys "1m ago" Enter
wait_for "sample 3 of 3"
check "T takes N{s,m,h,d} ago (after the recording: the newest)" has "sample 3 of 3"
keys T
keys 'yesterday-ish' Enter
wait_for 'not a time'
check "a time that is no time is named" has 'not a time: "yesterday-ish"'
keys 4
wait_for 'view 4 traces'
check "4 says a recording has no BPF tracing" has "view 4 traces the live kernel (BPF): a recording"
keys 2
wait_for 'KERNEL'
check "the cgroup view shows the sample's time too" has "replay $t2, sample 3 of 3"
check_eq "cgroups: CHANGE of the grown cgroup against the sample before" "+2.0M" "$(cell CHANGE "$CGID")"
check_eq "cgroups: GROWTH of the grown cgroup against the baseline" "+2.0M" "$(cell GROWTH "$CGID")"
check_eq "cgroups: its parent did not change" "0" "$(cell GROWTH process_api)"
keys 3
wait_for 'MemTotal'
check "the node view shows the sample's time too" has "replay $t2, sample 3 of 3"
keys '?'
wait_for 'any key closes'
check "the help lists the replay's keys" has 'Replay     \[ \] the sample before/after'
keys x
check "the sample being shown is written out under TMPDIR" test -n "$(ls "$T/tmp")"
keys q
i=0
while [ -n "$(ls "$T/tmp")" ] && [ "$i" -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
check_eq "quitting removes the written-out sample" "" "$(ls "$T/tmp")"
tm_no_sanitizer_report
finish
