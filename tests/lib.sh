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
# boot_log_whole: the kernel's log still starts at boot (its first message
# at 0.000000), so it holds the boot messages kmem reads (hash table sizes,
# the percpu first chunk). Its ring buffer drops the oldest once full: on a
# machine up for hours of kernel messages they are gone, hash_tables is 0
# and the exporter says the kernel log lacks them.
boot_log_whole() { dmesg --kernel 2>/dev/null | head -n 1 | grep -q '^\[ *0\.000000\]'; }
BOOT_LOG_CUT="the kernel's log no longer starts at boot (its ring buffer dropped the first messages)"
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
# stop_test fail|skip WHY: the end of a test that cannot run here, as a
# failure or a skip saying WHY
stop_test() {
    if [ "$1" = skip ]; then ok "# SKIP $2"; else not_ok "$2"; fi
    finish
}
# need_root NAME [fail|skip]: the end of test NAME (a failure by default)
# unless it runs as root
need_root() { [ "$(id -u)" -eq 0 ] || stop_test "${2:-fail}" "$1 must run as root"; }
# need_v1_kmem NAME fail|skip: the end of test NAME, as a failure or a skip,
# unless it runs as root with cgroup v1's memory controller and its kmem
# accounting (memory.kmem.usage_in_bytes) at $V1.
need_v1_kmem() {
    need_root "$1" "$2"
    [ -f "$V1/memory.kmem.usage_in_bytes" ] ||
        stop_test "$2" "no cgroup v1 memory controller with kmem accounting at $V1"
}
# cg_remove HIER ORIG CGROUP...: remove the CGROUPs (directories, children
# first), their tasks moved back to ORIG, the cgroup (a path in the hierarchy
# mounted at HIER) this script runs in, else to HIER's root.
cg_remove() {
    _h=$1 _o=$2
    shift 2
    for _c; do
        [ -f "$_c/cgroup.procs" ] || continue
        for _p in $(cat "$_c/cgroup.procs"); do
            echo "$_p" >"$_h$_o/cgroup.procs" 2>/dev/null || echo "$_p" >"$_h/cgroup.procs"
        done
    done
    rmdir "$@" 2>/dev/null
}
# grow_slab SLABINFO CACHE SLABS: add SLABS full slabs (their objects, all
# active) to CACHE in a copy of a fixture's slabinfo, in place (kmem keeps
# the file open and re-reads it)
grow_slab() {
    _t=$(mktemp) &&
        awk -v c="$2" -v n="$3" '$1 == c { $2 += n * $5; $3 += n * $5; $14 += n; $15 += n } { print }' \
            "$1" >"$_t" && cat "$_t" >"$1"
    rm -f "$_t"
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
