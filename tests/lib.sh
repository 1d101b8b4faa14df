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
