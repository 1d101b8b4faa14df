# shellcheck shell=sh disable=SC2034 # sourced: its variables are for the tests
# Shared helpers for integration tests (sourced). Output is TAP-like:
# "ok - desc" / "not ok - desc"; tests/run.sh counts them.
: "${KMEM_BUILD:=build}"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
B="$TOP/$KMEM_BUILD"
FIXTURES="$TOP/tests/fixtures"
# The real capture of the development machine (a copy of
# ../shared/fixtures/debian12-linux6.18-hybrid, kept in the repository so a
# clean clone tests the same).
SHARED_FIXTURE="$FIXTURES/debian12-linux6.18-hybrid"
_fail=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; _fail=1; }
# check DESC CMD...: ok if CMD succeeds
check() { d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# check_eq DESC EXPECTED ACTUAL
check_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}
finish() { exit $_fail; }
tmpdir() { mktemp -d "${TMPDIR:-/tmp}/kmem-test.XXXXXX"; }

# cgroup v1's memory hierarchy (hybrid hosts), where the live tests make
# their memory cgroups.
V1=/sys/fs/cgroup/memory
# need_v1_kmem NAME fail|skip: the end of test NAME, as a failure or a skip,
# unless it runs as root with cgroup v1's memory controller and its kmem
# accounting (memory.kmem.usage_in_bytes) at $V1.
need_v1_kmem() {
    if [ "$(id -u)" -ne 0 ]; then
        _why="$1 needs root (memory cgroups)"
    elif [ ! -f "$V1/memory.kmem.usage_in_bytes" ]; then
        _why="no cgroup v1 memory controller with kmem accounting at $V1"
    else
        return 0
    fi
    if [ "$2" = skip ]; then ok "# SKIP $_why"; else not_ok "$_why"; fi
    finish
}
# rec_samples REC: how many samples the recording REC holds
rec_samples() { "$B/kmemtop" --replay "$1" --list 2>/dev/null | wc -l; }
# rec_wait REC N POLLS: until REC holds N samples, for at most POLLS polls
# 0.1 s apart (counted, not asserted as a time: the test checks the samples)
rec_wait() {
    _i=0
    while [ "$(rec_samples "$1")" -lt "$2" ] && [ "$_i" -lt "$3" ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
}
