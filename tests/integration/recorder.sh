#!/bin/sh
# The flight recorder (docs/recorder.md): record a --root tree changed
# between samples by tests/integration/rec_tree.py, replay each moment and
# compare it with a capture of the same tree state; diff; crash (kill -9),
# torn and corrupt tails, the lock, a full disk.
. "$(dirname "$0")/../lib.sh"

K="$B/kmemtop"
T=$(tmpdir)
MNT=""
cleanup() {
    [ -n "$MNT" ] && umount "$MNT" 2>/dev/null
    [ -n "${BGPID:-}" ] && kill "$BGPID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
# where kmemtop writes a sample out (kmem-replay.*): checked empty at the end
mkdir "$T/tmp"
export TMPDIR="$T/tmp"
TREE_PY="$TOP/tests/integration/rec_tree.py"
CG=kubepods.slice
T0=1796000000 # a fixed synthetic timeline: sample k at T0 + 60 k

# The JSON of a moment without .capture (when and by which command it was
# taken); a message that names the root directory (the owner snapshot's
# "kmem-owners.txt is not there") names it as ROOT.
rootname() {
    sed -e 's|/[^" ]*/kmem-replay\.[A-Za-z0-9]*|ROOT|g' -e "s|$T/[^/\" ]*|ROOT|g" \
        -e "s|$FIXTURES/[^/\" ]*|ROOT|g"
}
json_nocap() { jq -S 'del(.capture)' | rootname; }

# ---- one sample replays as the capture of the same moment ------------------
for fx in v2-systemd-containerd debian12-linux6.18-hybrid v1-cgroupfs; do
    tree="$T/tree-$fx"
    cp -a "$FIXTURES/$fx" "$tree"
    "$K" --root "$tree" --record "$T/rec-$fx" --record.count 1 --quiet
    "$K" --root "$tree" --capture "$T/cap-$fx" 2>/dev/null
    "$K" --replay "$T/rec-$fx" --json | json_nocap >"$T/a.json"
    "$K" --root "$T/cap-$fx" --json | json_nocap >"$T/b.json"
    n=$(jq '.slab.caches | length' "$T/a.json")
    if [ "$n" -ge 20 ] && cmp -s "$T/a.json" "$T/b.json"; then
        ok "$fx: the replayed sample's --json equals the capture's ($n caches)"
    else
        not_ok "$fx: replayed --json differs from the capture's ($n caches)"
        diff "$T/a.json" "$T/b.json" | head -20
    fi
    for out in "-o" "--cgroups -o" "--node -o"; do
        # shellcheck disable=SC2086 # $out is two words on purpose
        a=$("$K" --replay "$T/rec-$fx" $out | cksum)
        # shellcheck disable=SC2086
        b=$("$K" --root "$T/cap-$fx" $out | cksum)
        check_eq "$fx: replay $out equals the capture's" "$b" "$a"
    done
    # ... and but the bullet of "What to do" that gives the replay's own commands
    a=$("$K" --replay "$T/rec-$fx" --report | sed -e '/^Read from a capture: /d' -e '/^  with: /d' \
        -e '/^  - This report is of a recorded moment/,/^  [^ ]/{/^  - This report/d;/^    /d}' | rootname | cksum)
    b=$("$K" --root "$T/cap-$fx" --report | sed -e '/^Read from a capture: /d' -e '/^  with: /d' | rootname | cksum)
    check_eq "$fx: replay --report equals the capture's (but its capture line)" "$b" "$a"
done
left=$(find "$T/tmp" -mindepth 1 -maxdepth 1 | wc -l)
check_eq "no sample written out is left behind" 0 "$left"

# ---- a timeline: three samples of a changing tree ------------------------------
tree="$T/tl"
cp -a "$FIXTURES/v2-systemd-containerd" "$tree"
R="$T/rec-tl"
for k in 0 1 2; do
    if [ "$k" -gt 0 ]; then
        python3 "$TREE_PY" "$tree" slab dentry 1000
        python3 "$TREE_PY" "$tree" cgstat "$CG" slab_reclaimable 4096000
    fi
    "$K" --root "$tree" --capture "$T/cap-tl$k" 2>/dev/null
    "$K" --root "$tree" --record "$R" --record.count 1 --record.time $((T0 + 60 * k)) --quiet
done
check_eq "three samples listed" 3 "$("$K" --replay "$R" --list | wc -l)"
for k in 0 1 2; do
    at=$(date -d "@$((T0 + 60 * k))" '+%Y-%m-%d %H:%M:%S')
    "$K" --replay "$R" --at "$at" --json | json_nocap >"$T/a.json"
    "$K" --root "$T/cap-tl$k" --json | json_nocap >"$T/b.json"
    check "sample $k (--at '$at') equals the capture of that state" cmp -s "$T/a.json" "$T/b.json"
done
at1=$(date -d "@$((T0 + 60 + 30))" '+%Y-%m-%d %H:%M:%S')
"$K" --replay "$R" --at "$at1" --json | json_nocap >"$T/a.json"
"$K" --root "$T/cap-tl1" --json | json_nocap >"$T/b.json"
check "--at between two samples shows the earlier one" cmp -s "$T/a.json" "$T/b.json"
# nearer the next sample than this one: still the one at or before the time
at1=$(date -d "@$((T0 + 60 + 50))" '+%Y-%m-%d %H:%M:%S')
"$K" --replay "$R" --at "$at1" --json | json_nocap >"$T/a.json"
check "--at 10 s before the next sample shows the earlier one" cmp -s "$T/a.json" "$T/b.json"
at_before=$(date -d "@$((T0 - 3600))" '+%Y-%m-%d %H:%M')
if "$K" --replay "$R" --at "$at_before" -o >/dev/null 2>"$T/err"; then
    not_ok "--at before the recording fails"
else
    check "--at before the recording says where it starts" grep -q "the recording starts at" "$T/err"
fi
if "$K" --replay "$R" --at "yesterday-ish" -o >/dev/null 2>"$T/err"; then
    not_ok "a bad time is refused"
else
    check "a bad time is refused with the accepted forms" grep -q "N{s,m,h,d} ago" "$T/err"
fi
"$K" --replay "$R" --at "1d ago" -o >/dev/null 2>&1
check_eq "'1d ago' (after the synthetic timeline) gives the newest sample" 0 $?
# "N ago" counts seconds back from now: samples 2 h and 1 min ago, and
# "90m ago" is the one of 2 h ago (the state of cap-tl0), "30s ago" the newest.
tree2="$T/ago"
cp -a "$FIXTURES/v2-systemd-containerd" "$tree2"
now=$(date +%s)
"$K" --root "$tree2" --record "$T/rec-ago" --record.count 1 --record.time $((now - 7200)) --quiet
python3 "$TREE_PY" "$tree2" slab dentry 1000
"$K" --root "$tree2" --record "$T/rec-ago" --record.count 1 --record.time $((now - 60)) --quiet
"$K" --replay "$T/rec-ago" --at "90m ago" --json | json_nocap >"$T/a.json"
"$K" --root "$T/cap-tl0" --json | json_nocap >"$T/b.json"
check "--at '90m ago' shows the sample of 2 h ago" cmp -s "$T/a.json" "$T/b.json"
check_eq "--at '30s ago' shows the newest sample (dentry 1000 slabs more)" \
    "$(($(jq '.slab.caches[] | select(.name == "dentry") | .num_slabs' "$T/b.json") + 1000))" \
    "$("$K" --replay "$T/rec-ago" --at "30s ago" --json | jq '.slab.caches[] | select(.name == "dentry") | .num_slabs')"

# ---- diff: two times of the recording, and two captures -----------------------
a0=$(date -d "@$T0" '+%Y-%m-%d %H:%M:%S')
a2=$(date -d "@$((T0 + 120))" '+%Y-%m-%d %H:%M:%S')
"$K" --replay "$R" --diff "$a0" "$a2" --json >"$T/d.json"
# dentry: 2000 slabs of 1 page more
check_eq "diff: dentry grew by 2000 pages" $((2000 * $(getconf PAGESIZE))) \
    "$(jq '.slabs[] | select(.name == "dentry") | .change_bytes' "$T/d.json")"
check_eq "diff: one cache changed" 1 "$(jq '.slabs | length' "$T/d.json")"
check_eq "diff: the times of A and B (time_unix, seconds)" "$T0 $((T0 + 120))" \
    "$(jq -r '"\(.a.time_unix) \(.b.time_unix)"' "$T/d.json")"
check_eq "diff: $CG grew by 2 x 4096000 bytes" 8192000 \
    "$(jq --arg p "/$CG" '.cgroups[] | select(.cgroup == $p) | .change_bytes' "$T/d.json")"
"$K" --diff "$T/cap-tl0" "$T/cap-tl2" --json >"$T/d2.json"
jq -S 'del(.a, .b)' "$T/d.json" >"$T/d1.sorted"
jq -S 'del(.a, .b)' "$T/d2.json" >"$T/d2.sorted"
check "diff of two captures equals the diff of the same two moments recorded" \
    cmp -s "$T/d1.sorted" "$T/d2.sorted"
"$K" --replay "$R" --diff "$a0" "$a2" >"$T/d.txt"
check "text diff shows dentry's growth" grep -q "^  dentry  *9.7M  *18M  *+7.8M$" "$T/d.txt"

# ---- OpenMetrics: backfilled into a Prometheus TSDB by promtool, read back ------
"$K" --replay "$R" --openmetrics >"$T/om.txt"
check_eq "openmetrics ends in # EOF" "# EOF" "$(tail -1 "$T/om.txt")"
nsamples=$(grep -vc '^#' "$T/om.txt")
mkdir -p "$T/tsdb"
if promtool tsdb create-blocks-from openmetrics "$T/om.txt" "$T/tsdb" >"$T/promtool.out" 2>&1; then
    got=$(awk '$1 ~ /^01/ {s += $5} END {print s + 0}' "$T/promtool.out")
    check_eq "promtool created blocks holding every sample ($nsamples)" "$nsamples" "$got"
    mkdir -p "$T/tsdb/wal"
    promtool tsdb dump --match='kmem_slab_size_bytes{cache="dentry"}' "$T/tsdb" >"$T/dump" 2>&1
    ps=$(getconf PAGESIZE)
    want=$(printf '%s\n' $((2482 * ps)) $((3482 * ps)) $((4482 * ps)))
    check_eq "Prometheus holds dentry's size at the three moments" "$want" \
        "$(awk '{printf "%.0f\n", $(NF - 1)}' "$T/dump")"
    check_eq "... at the recorded times (ms)" \
        "$(printf '%s\n' "${T0}000" "$((T0 + 60))000" "$((T0 + 120))000")" \
        "$(awk '{print $NF}' "$T/dump")"
else
    not_ok "promtool refused the OpenMetrics export: $(tail -3 "$T/promtool.out")"
fi

# ---- torn tail and corrupt records ---------------------------------------------
cp -a "$R" "$T/torn"
last=$(find "$T/torn" -name 'kmem-*.seg' | sort | tail -1)
truncate -s -7 "$last"
"$K" --replay "$T/torn" --list >"$T/list" 2>"$T/err"
check_eq "torn tail: the two earlier samples remain" 2 "$(wc -l <"$T/list")"
check "torn tail: skipped with a message naming the file" grep -q "$(basename "$last"): a torn tail" "$T/err"
"$K" --replay "$T/torn" --at "$a0" --json | json_nocap >"$T/a.json"
"$K" --root "$T/cap-tl0" --json | json_nocap >"$T/b.json"
check "torn tail: an earlier sample still replays exactly" cmp -s "$T/a.json" "$T/b.json"

cp -a "$R" "$T/corrupt"
last=$(find "$T/corrupt" -name 'kmem-*.seg' | sort | tail -1)
size=$(stat -c %s "$last")
printf '\377' | dd of="$last" bs=1 seek=$((size - 10)) conv=notrunc status=none
"$K" --replay "$T/corrupt" --list >"$T/list" 2>"$T/err"
check_eq "corrupt record: the two earlier samples remain" 2 "$(wc -l <"$T/list")"
check "corrupt record: skipped with a message" grep -q "checksum does not match" "$T/err"

# ---- kill -9 while recording: every earlier sample intact ----------------------
# a real capture: sys/kernel/slab, read once, is carried into every later sample
cp -a "$FIXTURES/debian12-linux6.18-hybrid" "$T/live"
"$K" --root "$T/live" --record "$T/rec-kill" -d 1 --quiet &
BGPID=$!
i=0
while [ "$i" -lt 100 ] && [ "$("$K" --replay "$T/rec-kill" --list 2>/dev/null | wc -l)" -lt 3 ]; do
    sleep 0.2
    i=$((i + 1))
done
# a second recorder on the same directory is refused while the first runs
if "$K" --root "$T/live" --record "$T/rec-kill" --record.count 1 2>"$T/err"; then
    not_ok "a second recorder on one directory is refused"
else
    check "a second recorder is refused, naming the first one's pid" \
        grep -q "another recorder (pid $BGPID)" "$T/err"
fi
kill -9 "$BGPID"
wait "$BGPID" 2>/dev/null
BGPID=""
n=$("$K" --replay "$T/rec-kill" --list 2>"$T/err" | wc -l)
check "kill -9: at least 3 samples kept" test "$n" -ge 3
"$K" --root "$T/live" --json | json_nocap >"$T/b.json"
good=0
"$K" --replay "$T/rec-kill" --list 2>/dev/null | cut -c1-19 >"$T/times"
while read -r at; do
    "$K" --replay "$T/rec-kill" --at "$at" --json 2>/dev/null | json_nocap >"$T/a.json"
    cmp -s "$T/a.json" "$T/b.json" && good=$((good + 1))
done <"$T/times"
check_eq "kill -9: every kept sample replays exactly" "$n" "$good"
check "kill -9: the samples after the keyframe are chained (each against the one before)" \
    test "$("$K" --replay "$T/rec-kill" --list 2>/dev/null | grep -c ' chained$')" -ge 2
"$K" --root "$T/live" --record "$T/rec-kill" --record.count 1 --quiet
check_eq "after kill -9 the lock is free again and recording goes on" $((n + 1)) \
    "$("$K" --replay "$T/rec-kill" --list 2>/dev/null | wc -l)"

# ---- retention: whole old segments go, by size and by age -----------------------
# -d 3600 on a synthetic clock: one segment (one keyframe) per sample
"$K" --root "$T/live" --record "$T/ret" -d 3600 --record.time "$T0" --record.count 1 --quiet
segsize=$(stat -c %s "$(find "$T/ret" -name 'kmem-*.seg')")
"$K" --root "$T/live" --record "$T/ret" -d 3600 --record.time $((T0 + 3600)) --record.count 9 \
    --record.max-size $((segsize * 3 + segsize / 2)) --quiet
check_eq "max-size: three segments kept (3.5 allowed, the current one included)" 3 \
    "$(find "$T/ret" -name 'kmem-*.seg' | wc -l)"
newest=$(date -d "@$((T0 + 9 * 3600))" '+%Y-%m-%d %H:%M:%S')
check_eq "max-size: the newest sample is among them" "$newest" \
    "$("$K" --replay "$T/ret" --list | tail -1 | cut -c1-19)"
# the oldest go first: what is left is the newest three hours, 7 to 9
kept=""
for h in 7 8 9; do kept="$kept$(date -d "@$((T0 + h * 3600))" '+%Y-%m-%d %H:%M:%S') "; done
check_eq "max-size: the oldest segments were removed (samples of hours 7, 8, 9 kept)" "$kept" \
    "$("$K" --replay "$T/ret" --list | cut -c1-19 | tr '\n' '#' | sed 's/#/ /g')"
find "$T/ret" -name 'kmem-*.seg' -exec touch -d '10 days ago' {} +
"$K" --root "$T/live" --record "$T/ret" -d 3600 --record.time $((T0 + 10 * 3600)) --record.count 1 \
    --record.retain 7d --quiet
check_eq "retain 7d: segments last written 10 days ago are removed" 1 \
    "$(find "$T/ret" -name 'kmem-*.seg' | wc -l)"
# A segment's mtime can be a clock tick ahead of time(2) (tmpfs stamps a file
# with the fine-grained clock): one written "in the future" is not old.
find "$T/ret" -name 'kmem-*.seg' -exec touch -d '1 hour' {} +
"$K" --root "$T/live" --record "$T/ret" -d 3600 --record.time $((T0 + 11 * 3600)) --record.count 1 \
    --record.retain 7d --quiet
check_eq "retain 7d: a segment whose mtime is ahead of the clock is kept" 2 \
    "$(find "$T/ret" -name 'kmem-*.seg' | wc -l)"

# ---- an OOM kill is sampled at once and marked ------------------------------------
ev="$T/oomtree/sys/fs/cgroup/$CG/memory.events"
cp -a "$FIXTURES/v2-systemd-containerd" "$T/oomtree"
printf 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n' >"$ev"
"$K" --root "$T/oomtree" --record "$T/rec-oom" -d 60 --quiet &
BGPID=$!
i=0
while [ "$i" -lt 100 ] && [ "$("$K" --replay "$T/rec-oom" --list 2>/dev/null | wc -l)" -lt 1 ]; do
    sleep 0.1
    i=$((i + 1))
done
printf 'low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n' >"$ev.tmp" && mv "$ev.tmp" "$ev"
i=0
while [ "$i" -lt 100 ] && [ "$("$K" --replay "$T/rec-oom" --list 2>/dev/null | wc -l)" -lt 2 ]; do
    sleep 0.1
    i=$((i + 1))
done
kill -INT "$BGPID"
wait "$BGPID"
BGPID=""
check "an OOM kill is sampled within seconds (not at the 60 s interval) and marked" \
    sh -c "'$K' --replay '$T/rec-oom' --list | tail -1 | grep -q 'oom-kill'"

# ---- kmem_exporter --record.dir: records while it serves -------------------------
E="$B/kmem_exporter"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$E" --root "$T/live" --web.listen-address "127.0.0.1:$port" --record.dir "$T/rec-exp" \
    --record.interval 1 >"$T/exp.log" 2>&1 &
BGPID=$!
i=0
while [ "$i" -lt 150 ] && [ "$("$K" --replay "$T/rec-exp" --list 2>/dev/null | wc -l)" -lt 2 ]; do
    sleep 0.2
    i=$((i + 1))
done
check "the exporter answers while it records" \
    sh -c "curl -sf 'http://127.0.0.1:$port/metrics' | grep -q '^kmem_slab_size_bytes'"
if "$K" --root "$T/live" --record "$T/rec-exp" --record.count 1 2>"$T/err"; then
    not_ok "kmemtop --record is refused on the exporter's recording"
else
    check "kmemtop --record is refused on the exporter's recording" grep -q "another recorder" "$T/err"
fi
kill -TERM "$BGPID"
wait "$BGPID"
check_eq "the exporter stops on SIGTERM with status 0 while recording" 0 $?
BGPID=""
n=$("$K" --replay "$T/rec-exp" --list 2>/dev/null | wc -l)
check "the exporter recorded at least two samples" test "$n" -ge 2
"$K" --replay "$T/rec-exp" --json | json_nocap >"$T/a.json"
check "the exporter's newest sample replays as the capture of that tree" cmp -s "$T/a.json" "$T/b.json"

# ---- a full disk: recording stops with a message, nothing earlier is lost ------
MNT="$T/small"
mkdir "$MNT"
if mount -t tmpfs -o size=192k,mode=0700 kmem-recorder-test "$MNT" 2>"$T/err"; then
    # one segment per sample (-d 3600 on a synthetic clock): a keyframe each time
    if "$K" --root "$FIXTURES/debian12-linux6.18-hybrid" --record "$MNT/rec" -d 3600 \
        --record.time "$T0" --record.count 1000 --quiet 2>"$T/err"; then
        not_ok "a full disk stops the recording with exit 1"
    else
        check "full disk: the message says so and that earlier samples are intact" \
            grep -q "No space left on device.*recording stopped; the [0-9]* samples written before are intact" "$T/err"
        kept=$(sed -n 's/.*the \([0-9]*\) samples written before.*/\1/p' "$T/err")
        listed=$("$K" --replay "$MNT/rec" --list 2>"$T/err2" | wc -l)
        check_eq "full disk: every sample written before is listed, without warnings" \
            "$kept:" "$listed:$(cat "$T/err2")"
        [ "$kept:" = "$listed:$(cat "$T/err2")" ] ||
            { sed 's/^/# recorder: /' "$T/err"; ls -l "$MNT/rec" | sed 's/^/# /'; }
        check "full disk: several samples were written first" test "$kept" -ge 2
        last_t=$(date -d "@$((T0 + 3600 * (kept - 1)))" '+%Y-%m-%d %H:%M:%S')
        "$K" --replay "$MNT/rec" --at "$last_t" --json | json_nocap >"$T/a.json"
        "$K" --root "$FIXTURES/debian12-linux6.18-hybrid" --json | json_nocap >"$T/b.json"
        check "full disk: the last sample written replays exactly" cmp -s "$T/a.json" "$T/b.json"
    fi
    umount "$MNT"
    MNT=""
else
    not_ok "cannot mount a small tmpfs for the full-disk test: $(cat "$T/err")"
fi

# ---- format versions: a version 1 segment still opens; a broken chain -------------
# tests/fuzz/corpus/recseg/three-samples.seg was written by the version 1 recorder
mkdir "$T/v1"
cp "$TOP/tests/fuzz/corpus/recseg/three-samples.seg" "$T/v1/kmem-20261130T005320.000000000Z.seg"
check_eq "a version 1 recording lists its 3 samples, without warnings" "3:" \
    "$("$K" --replay "$T/v1" --list 2>"$T/err" | wc -l):$(cat "$T/err")"
check "a version 1 recording replays its last (delta) sample" \
    sh -c "'$K' --replay '$T/v1' --at '2026-11-30 00:53:40' --json | jq -e '.version == 1' >/dev/null"
mkdir -p "$T/tiny/proc"
printf 'MemTotal: 1000 kB\n' >"$T/tiny/proc/meminfo"
"$K" --root "$T/tiny" --record "$T/chain" -d 10 --record.time "$T0" --record.count 4 --quiet
seg=$(find "$T/chain" -name 'kmem-*.seg')
check_eq "a chain: a keyframe then 3 chained samples" "keyframe chained chained chained" \
    "$("$K" --replay "$T/chain" --list | awk '{ printf "%s%s", (NR > 1 ? " " : ""), $5 }')"
# flip a byte in the second record's payload: it and the two chained after it go
k=$("$K" --replay "$T/chain" --list | awk 'NR == 1 { print $4 }')
printf '\377' | dd of="$seg" bs=1 seek=$((16 + 32 + k + 32 + 4)) conv=notrunc 2>/dev/null
check_eq "a broken chain: only the keyframe is listed" 1 \
    "$("$K" --replay "$T/chain" --list 2>"$T/err" | wc -l)"
check_eq "a broken chain: the two samples after the lost one are named" 2 \
    "$(grep -c 'refers to a sample before it that is lost' "$T/err")"

finish
