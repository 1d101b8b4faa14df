#!/bin/sh
# A capture taken while memory cgroups are made and removed (issue 21): the
# capturing run must print what the capture replays (README "Capture under
# churn"). A cgroup listed by the walk but removed before it was read is
# counted in .cgroups.skipped_vanished; the capture marks its place with an
# empty .kmem-vanished so that the replay counts it too.
#
# 1. Deterministic, on a copy of the v1 and v2 fixtures: a cgroup whose files
#    are gone (as a removed one's are), captured with --root and recorded
#    with --record: the replay counts it as vanished, like the capturing run.
# 2. Live (root, v1 memory controller): a background loop makes and removes
#    cgroups kmem-capchurn-PID-* (a third with a process inside), bounded and
#    removed at the end; ROUNDS captures each replay to the same JSON. How
#    many cgroups vanish depends on the machine's timing: it is printed, not
#    asserted; the number of cgroups compared is.
. "$(dirname "$0")/../lib.sh"

K="$B/kmemtop"
ROUNDS=${KMEM_CHURN_ROUNDS:-6}
M=/sys/fs/cgroup/memory
T=$(tmpdir)
STOP="$T/stop"
CHURN=

cleanup() {
    touch "$STOP"
    [ -n "$CHURN" ] && wait "$CHURN" 2>/dev/null
    for d in "$M"/kmem-capchurn-"$$"-*; do
        [ -d "$d" ] || continue
        while read -r p; do kill "$p" 2>/dev/null; done <"$d/cgroup.procs" 2>/dev/null
    done
    for d in "$M"/kmem-capchurn-"$$"-*; do
        [ -d "$d" ] || continue
        i=0
        while ! rmdir "$d" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
    done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ -x "$K" ] || { not_ok "kmemtop is built at $K"; finish; }
command -v jq >/dev/null || { not_ok "jq is installed (make deps)"; finish; }

# ---- 1. fixtures: a cgroup whose files went away while it was read
for fx in v1-cgroupfs:memory.kmem.usage_in_bytes v2-systemd-containerd:memory.stat; do
    n=${fx%%:*}
    main=${fx#*:}
    F="$T/$n"
    cp -a "$FIXTURES/$n" "$F"
    # the deepest cgroup that has the file: gone, its directory left
    leaf=$(find "$F/sys/fs/cgroup" -mindepth 2 -name "$main" | awk -F/ '{ print NF "\t" $0 }' |
        sort -rn | head -1 | cut -f2)
    leaf=${leaf%/*}
    rm -f "$leaf"/*
    "$K" --root "$F" --capture "$T/$n.cap" --json >"$T/$n.json" 2>"$T/$n.err"
    check_eq "$n: --capture with a removed cgroup exits 0" 0 $?
    check_eq "$n: the capturing run counts the removed cgroup as vanished" 1 \
        "$(jq .cgroups.skipped_vanished "$T/$n.json")"
    "$K" --root "$T/$n.cap" --json >"$T/$n.replay.json" 2>>"$T/$n.err"
    check_eq "$n: the replay counts it too" 1 "$(jq .cgroups.skipped_vanished "$T/$n.replay.json")"
    check "$n: the replay equals what the capturing run printed" \
        cmp -s "$T/$n.json" "$T/$n.replay.json"
    # A capture of the capture keeps the mark.
    "$K" --root "$T/$n.cap" --capture "$T/$n.cap2" --json >/dev/null 2>>"$T/$n.err"
    "$K" --root "$T/$n.cap2" --json >"$T/$n.replay2.json" 2>>"$T/$n.err"
    check_eq "$n: a capture of the capture still counts it" 1 \
        "$(jq .cgroups.skipped_vanished "$T/$n.replay2.json")"
    # A recorder sample (captured into memory) holds the mark as well.
    "$K" --root "$F" --record "$T/$n.rec" --record.count 1 --quiet >/dev/null 2>>"$T/$n.err"
    "$K" --replay "$T/$n.rec" --json >"$T/$n.rec.json" 2>>"$T/$n.err"
    check_eq "$n: a recorded sample replays the vanished count" 1 \
        "$(jq .cgroups.skipped_vanished "$T/$n.rec.json")"
    check "$n: the sample replays as the capture does (but for .capture)" \
        sh -c "jq -S 'del(.capture)' '$T/$n.rec.json' >'$T/$n.a' && jq -S 'del(.capture)' '$T/$n.json' >'$T/$n.b' && cmp -s '$T/$n.a' '$T/$n.b'"
done

# ---- 2. live: captures while cgroups come and go
if [ "$(id -u)" -ne 0 ] || [ ! -f "$M/memory.kmem.usage_in_bytes" ]; then
    ok "# SKIP live churn: needs root and the v1 memory controller at $M"
    finish
fi

churn() {
    i=0
    while [ ! -e "$STOP" ] && [ $i -lt 200000 ]; do
        i=$((i + 1))
        d=$M/kmem-capchurn-$$-$((i % 48))
        if [ -d "$d" ]; then
            while read -r p; do kill "$p" 2>/dev/null; done <"$d/cgroup.procs" 2>/dev/null
            rmdir "$d" 2>/dev/null
        elif mkdir "$d" 2>/dev/null && [ $((i % 3)) -eq 0 ]; then
            sh -c "echo \$\$ >'$d/cgroup.procs' && exec sleep 60" 2>/dev/null &
        fi
    done
}
churn &
CHURN=$!

compared=0
vanished=0
same=0
r=0
while [ $r -lt "$ROUNDS" ]; do
    r=$((r + 1))
    C="$T/live$r"
    "$K" --capture "$C" --json >"$C.json" 2>"$C.err"
    check_eq "round $r: --capture --json exits 0" 0 $?
    "$K" --root "$C" --json >"$C.replay.json" 2>>"$C.err"
    if cmp -s "$C.json" "$C.replay.json"; then
        same=$((same + 1))
    else
        not_ok "round $r: the replay equals what the capturing run printed"
        diff "$C.json" "$C.replay.json" | head -20 | sed 's/^/# /'
    fi
    compared=$((compared + $(jq '.cgroups.items | length' "$C.replay.json")))
    vanished=$((vanished + $(jq .cgroups.skipped_vanished "$C.json")))
    rm -rf "$C"
done
touch "$STOP"
wait "$CHURN"
CHURN=
check_eq "every capture taken during churn replays to what its capturing run printed" \
    "$ROUNDS" "$same"
check "the replays compared at least $ROUNDS cgroups ($compared)" test "$compared" -ge "$ROUNDS"
echo "# $ROUNDS captures under churn: $compared cgroups compared, $vanished vanished mid-walk"
finish
