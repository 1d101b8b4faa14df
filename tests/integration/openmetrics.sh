#!/bin/sh
# kmemtop --replay DIR --openmetrics (docs/recorder.md): every series of a
# one-sample recording of each fixture against --json of the same sample
# (node kinds, slab caches with repeated names, cgroups with their
# Kubernetes labels, dying cgroups). recorder.sh checks the backfill by
# promtool and the timestamps of a three-sample recording.
. "$(dirname "$0")/../lib.sh"

K="$B/kmemtop"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT
mkdir "$T/tmp"
export TMPDIR="$T/tmp"
pods=0
# fixture:minimum kinds,caches,repeated cache names,cgroups
for spec in v2-systemd-containerd:14,100,0,10 v2-crio:14,100,0,5 v1-cgroupfs:14,100,0,10 \
    debian12-linux6.18-hybrid:14,100,0,5 slab-dup-names:0,5,2,0; do
    fx=${spec%%:*}
    cp -a "$FIXTURES/$fx" "$T/tree-$fx"
    if ! "$K" --root "$T/tree-$fx" --record "$T/rec-$fx" --record.count 1 --quiet 2>"$T/err"; then
        not_ok "$fx: recording failed: $(head -3 "$T/err")"
        continue
    fi
    "$K" --replay "$T/rec-$fx" --openmetrics >"$T/om-$fx.txt"
    check_eq "$fx: --openmetrics exits 0 and ends in # EOF" "# EOF" "$(tail -1 "$T/om-$fx.txt")"
    "$K" --replay "$T/rec-$fx" --json >"$T/j-$fx.json"
    python3 "$TOP/tests/integration/openmetrics_check.py" "$T/om-$fx.txt" "$T/j-$fx.json" "$fx" \
        "${spec#*:}" >"$T/out"
    grep -v '^# pods' "$T/out"
    pods=$((pods + $(sed -n 's/^# pods //p' "$T/out")))
done
check "cgroups of pods compared with their labels: at least 5 ($pods)" test "$pods" -ge 5
check "no sample left behind in TMPDIR" test -z "$(ls "$T/tmp")"
finish
