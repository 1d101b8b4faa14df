#!/bin/sh
# The stress pass: the parts of the suite most exposed to a busy machine run
# again under load, and must pass as they do on a quiet one:
#   - a CPU hog on every core (stress-ng --cpu <cores>, bounded by --timeout);
#   - memory cgroups made and removed meanwhile (v1, at
#     /sys/fs/cgroup/memory/kmem-stress-PID: a cgroup, a child and a
#     grandchild per round, and a top-level cgroup made or removed), in bursts
#     of ten rounds 0.1 s apart with 2 s pauses, as other tests and
#     container runtimes do it: the machine-wide counts move, and the
#     tests that compare them with kmem at the same moment must find a
#     moment when nothing moved (cgroup_dying_live.sh waits for one);
#   - the tests: the unit tests of the cgroup reader and of the exporter's
#     authentication, and the integration scripts that read live cgroups or
#     serve scrapes under clients (KMEM_STRESS_TESTS to choose).
# One "ok"/"not ok" per test run under load, with its own failing lines.
# Bounded: every test under `timeout`, the hog and the churn stopped in a trap.
. "$(dirname "$0")/../lib.sh"
M=/sys/fs/cgroup/memory
CG=$M/kmem-stress-$$
HERE=$(cd "$(dirname "$0")" && pwd)
TESTS=${KMEM_STRESS_TESTS:-"$B/tests/test_cgroup $B/tests/test_exporter_webconfig
cgroup_fixtures cgroup_new_live cgroup_dying_live exporter_ops exporter_churn exporter_abuse"}
T=$(tmpdir)
hog=
churn=
cleanup() {
    [ -n "$hog" ] && kill "$hog" 2>/dev/null && wait "$hog" 2>/dev/null
    touch "$T/stop"
    [ -n "$churn" ] && wait "$churn" 2>/dev/null
    [ -d "$CG" ] && find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

command -v stress-ng >/dev/null || { not_ok "stress-ng is installed (scripts/deps.sh)"; finish; }
if [ "$(id -u)" -ne 0 ] || [ ! -d "$M" ]; then
    not_ok "the stress pass needs root and a v1 memory controller at $M"
    finish
fi
cores=$(nproc)
stress-ng --cpu "$cores" --timeout 900 --quiet >/dev/null 2>&1 &
hog=$!
mkdir "$CG"
(
    i=0
    while [ ! -e "$T/stop" ]; do
        i=$((i + 1))
        mkdir -p "$CG/r$i/a/b"
        [ $i -gt 4 ] && rmdir "$CG/r$((i - 4))/a/b" "$CG/r$((i - 4))/a" "$CG/r$((i - 4))"
        # A top-level cgroup too: the hierarchy root's link count moves.
        mkdir "$M/kmem-stress-$$-top" 2>/dev/null || rmdir "$M/kmem-stress-$$-top" 2>/dev/null
        if [ $((i % 10)) -eq 0 ]; then sleep 2; else sleep 0.1; fi
    done
    rmdir "$M/kmem-stress-$$-top" 2>/dev/null
    echo "$i" >"$T/rounds"
) &
churn=$!
sleep 1
check "the hog runs on $cores cores" kill -0 "$hog"

for t in $TESTS; do
    case $t in
    /*) cmd=$t name=${t##*/} ;;
    *) cmd=$HERE/$t.sh name=$t.sh ;;
    esac
    CMOCKA_MESSAGE_OUTPUT=TAP KMEM_TOP=$TOP timeout 600 "$cmd" >"$T/out" 2>&1
    st=$?
    n=$(grep -c '^ok ' "$T/out")
    f=$(grep -c '^not ok ' "$T/out")
    if [ "$st" -eq 0 ] && [ "$f" -eq 0 ] && [ "$n" -gt 0 ]; then
        ok "under load: $name ($n assertions)"
    else
        not_ok "under load: $name: exit $st, $f of $((n + f)) assertions failed"
        grep '^not ok' "$T/out" | head -10 | sed 's/^/#     /'
    fi
done
touch "$T/stop"
wait "$churn"
churn=
echo "# $(cat "$T/rounds" 2>/dev/null) rounds of cgroup churn meanwhile"
check "the hog still ran at the end" kill -0 "$hog"
finish
