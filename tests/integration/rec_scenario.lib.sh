# shellcheck shell=sh disable=SC2034 # sourced: its variables are for the tests
# The recording of known growth that recorder_verdicts.sh checks the leak
# verdicts of and kmemtop_replay_verdicts.sh shows in the replay TUI
# (sourced after tests/lib.sh; not a test itself, so not executable).
# rec_tree.py ($PY) edits the copied tree between samples.
#
#   scenario_tree DIR   DIR: a copy of the v2-systemd-containerd fixture with
#                       the hybrid machine's sys/kernel/slab (which caches are
#                       reclaimable); the container CT of the pod POD has a
#                       memory.max of MAX
#   scenario_record DIR REC [HOOK]
#                       twelve samples of DIR into the recording REC, STEP
#                       seconds apart from T0 (two hours). Before sample k
#                       (k > 0): dentry (reclaimable) +3000 slabs for the first
#                       six steps, then flat; kmalloc-256 (unreclaimable) +512
#                       slabs; the container +4 MiB of unreclaimable slab; the
#                       node's SUnreclaim +2048 kB; 7 + 500 k dying cgroups.
#                       HOOK k, when given, then adds the test's own changes.
PY="$TOP/tests/integration/rec_tree.py"
POD=kubepods.slice/kubepods-pod0f1e2d3c_4b5a_4968_8776_655443322110.slice
CT=$POD/cri-containerd-c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7.scope
MAX=$((1024 * 1024 * 1024))
T0=1796000000
STEP=600 # ten minutes between samples, twelve samples: two hours

scenario_tree() {
    cp -a "$FIXTURES/v2-systemd-containerd" "$1"
    cp -a "$FIXTURES/debian12-linux6.18-hybrid/sys/kernel" "$1/sys/"
    python3 "$PY" "$1" cgset "$CT" memory.max "$MAX\n"
}

scenario_record() {
    for _k in $(seq 0 11); do
        if [ "$_k" -gt 0 ]; then
            [ "$_k" -le 6 ] && python3 "$PY" "$1" slab dentry 3000
            python3 "$PY" "$1" slab kmalloc-256 512
            python3 "$PY" "$1" cgstat "$CT" slab_unreclaimable 4194304
            python3 "$PY" "$1" meminfo SUnreclaim 2048
            python3 "$PY" "$1" dying $((7 + 500 * _k))
        fi
        [ -z "${3:-}" ] || "$3" "$_k"
        "$B/kmemtop" --root "$1" --record "$2" --record.count 1 \
            --record.time $((T0 + STEP * _k)) --quiet
    done
}
