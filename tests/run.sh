#!/bin/sh
# Run every test of kmem, in three passes:
#   1. plain build (build/): shellcheck of every script, every unit test and
#      fuzz-corpus replay, then every integration script;
#   2. ASan+UBSan build (build-san/): every unit test and replay again, then the
#      integration scripts that drive kmemtop, the readers and the exporter
#      (SAN_SCRIPTS). Sanitizers write their reports to files in one directory
#      (ASAN_OPTIONS/UBSAN_OPTIONS log_path), so a report from a program whose
#      stderr went to a temp file or a server log is still seen: any report
#      file is a failure of the test that ran;
#   3. clang build (build-clang/, -Werror under clang too): every unit test
#      and replay again.
# tests/run.sh --check (make check): build/'s unit tests and replays only.
# Counting: each "ok " line is a pass, "ok ... # SKIP" a skip, "not ok " a
# failure. A test that exits non-zero, or prints no "ok"/"not ok" at all, is a
# failure; so is a missing build directory, a missing unit/replay binary, or a
# tests/integration/*.sh that is not executable (sourced helpers are named
# *.lib.sh and are not tests). Tests and assertions are counted apart: a test
# is a unit binary, a corpus replay or an integration script (one name,
# whichever build runs it), a run is one execution of a test, an assertion
# one "ok"/"not ok" line. Prints totals per pass and the closing line
# "tests: N tests (M runs) — K assertions: P passed, F failed, S skipped";
# exits non-zero if anything failed.
cd "$(dirname "$0")/.." || exit 1
SAN_SCRIPTS="kmemtop_outputs kmemtop_options kmemtop_tui slabtop_compat node_live cgroup_live
exporter_node_exporter capture_safety cgroup_fds cgroup_fixtures cgroup_new_live kmemtop_owners
exporter_owners recorder recorder_verdicts"
pass=0 fail=0 skip=0     # whole run
ppass=0 pfail=0 pskip=0 # current pass
failed=""
summary=""
runs=0
names=""
log=$(mktemp)
sanlog=""
trap 'rm -f "$log"; [ -n "$sanlog" ] && rm -rf "$sanlog"' EXIT
trap 'exit 1' INT TERM

# secs: the time since the test started ($t0), for finding a slow test.
secs() {
    [ -n "${t0:-}" ] && echo "in $(($(date +%s) - t0)) s"
}
# count NAME LOG STATUS: add LOG's assertions to the totals and print a line.
count() {
    runs=$((runs + 1))
    t=${1#build-san: }
    t=${t##*/}
    case " $names " in *" $t "*) ;; *) names="$names $t" ;; esac
    s=$(grep -ci '^ok .*#[[:space:]]*skip' "$2")
    p=$(($(grep -c '^ok ' "$2") - s))
    f=$(grep -c '^not ok ' "$2")
    if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "not ok - $1 exited with status $3" >>"$2"
    fi
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then
        f=1
        echo "not ok - $1 printed no assertions (no 'ok' or 'not ok' line)" >>"$2"
    fi
    ppass=$((ppass + p))
    pfail=$((pfail + f))
    pskip=$((pskip + s))
    if [ "$f" -ne 0 ]; then
        failed="$failed $1"
        echo "FAIL $1 $(secs)"
        grep '^not ok' "$2" | head -20 | sed 's/^/    /'
        tail -20 "$2" | grep -v '^ok' | sed 's/^/    | /'
    elif [ "$s" -ne 0 ]; then
        echo "pass $1 ($p, $s skipped) $(secs)"
        grep -i '^ok .*#[[:space:]]*skip' "$2" | head -5 | sed 's/^/    /'
    else
        echo "pass $1 ($p) $(secs)"
    fi
}
# missing NAME WHY: a test that should exist and does not.
missing() {
    echo "not ok - $2" >"$log"
    t0=
    count "$1" "$log" 0
}
# sanitizer_reports NAME: fail NAME's log if a sanitizer wrote a report.
sanitizer_reports() {
    [ -n "$sanlog" ] || return 0
    for r in "$sanlog"/*; do
        [ -e "$r" ] || continue
        echo "not ok - sanitizer report in $1 (${r##*/})" >>"$log"
        head -30 "$r" >>"$log"
        rm -f "$r"
    done
    if grep -q 'runtime error\|AddressSanitizer\|LeakSanitizer' "$log"; then
        echo "not ok - sanitizer report in the output of $1" >>"$log"
    fi
}
# run_bin NAME CMD...: a unit test or a replay.
run_bin() {
    n=$1
    shift
    t0=$(date +%s)
    CMOCKA_MESSAGE_OUTPUT=TAP KMEM_TOP=$(pwd) timeout 300 "$@" >"$log" 2>&1
    st=$?
    sanitizer_reports "$n"
    count "$n" "$log" $st
}
# run_script BUILD SCRIPT: an integration script against BUILD.
run_script() {
    n=$2
    [ "$1" = build ] || n="$1: $2"
    if [ ! -e "$2" ]; then
        missing "$n" "$2 exists"
        return
    fi
    if [ ! -x "$2" ]; then
        missing "$n" "$2 is executable (tests are; sourced helpers are named *.lib.sh)"
        return
    fi
    t0=$(date +%s)
    # A bound to catch a hang, not a timing: the live-kernel boots (qemu
    # without KVM) take 5-8 minutes quiet, over 15 under load.
    to=900
    case $2 in */vm_kernels.sh) to=2700 ;; esac
    KMEM_BUILD=$1 timeout $to "$2" >"$log" 2>&1
    st=$?
    sanitizer_reports "$n"
    count "$n" "$log" $st
}
# binaries BUILD: every unit test and replay the sources say BUILD must have.
binaries() {
    for c in tests/unit/test_*.c; do
        t="$1/tests/$(basename "$c" .c)"
        if [ -x "$t" ]; then run_bin "$t" "$t"; else missing "$t" "$t is built (from $c)"; fi
    done
    for c in tests/fuzz/fuzz_*.c; do
        name=$(basename "$c" .c)
        r="$1/fuzz/replay_$name"
        if [ ! -x "$r" ]; then
            missing "$r" "$r is built (from $c)"
        elif [ ! -d "tests/fuzz/corpus/${name#fuzz_}" ]; then
            missing "$r" "tests/fuzz/corpus/${name#fuzz_} exists"
        else
            run_bin "$r" "$r" "tests/fuzz/corpus/${name#fuzz_}"
        fi
    done
}
# end_pass LABEL: print the pass's totals and add them to the run's.
end_pass() {
    line="$1: $ppass passed, $pfail failed, $pskip skipped"
    echo "== $line"
    summary="$summary$line
"
    pass=$((pass + ppass)) fail=$((fail + pfail)) skip=$((skip + pskip))
    ppass=0 pfail=0 pskip=0
}

# make check: build/'s unit tests and fuzz-corpus replays only (the
# edit-compile-test loop: no integration script, no package installed).
if [ "${1:-}" = --check ]; then
    echo "== check: unit tests and fuzz-corpus replays (build/)"
    if [ -d build ]; then binaries build; else missing build "build/ exists (make all)"; fi
    end_pass "check, plain build (build/)"
    [ -n "$failed" ] && echo "failed:$failed"
    echo "tests: $(echo "$names" | wc -w) tests ($runs runs) — $((pass + fail + skip)) assertions: $pass passed, $fail failed, $skip skipped"
    [ "$fail" -eq 0 ]
    exit
fi

echo "== pass 1: plain build (build/)"
run_bin scripts/shellcheck.sh scripts/shellcheck.sh
if [ -d build ]; then
    binaries build
    for s in tests/integration/*.sh; do
        case $s in *.lib.sh) continue ;; esac
        run_script build "$s"
    done
else
    missing build "build/ exists (make all)"
fi
end_pass "pass 1, plain build (build/)"

echo "== pass 2: ASan+UBSan build (build-san/)"
if [ -d build-san ]; then
    sanlog=$(mktemp -d)
    chmod 1777 "$sanlog" # programs that drop privileges write reports too
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$sanlog/asan"
    UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$sanlog/ubsan:print_stacktrace=1"
    LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}log_path=$sanlog/lsan"
    export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
    binaries build-san
    for s in $SAN_SCRIPTS; do
        run_script build-san "tests/integration/$s.sh"
    done
    unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
else
    missing build-san "build-san/ exists (make all BUILD=build-san SAN=1)"
fi
end_pass "pass 2, ASan+UBSan build (build-san/)"

echo "== pass 3: clang build (build-clang/)"
if [ -d build-clang ]; then
    binaries build-clang
else
    missing build-clang "build-clang/ exists (make all BUILD=build-clang CC=clang)"
fi
end_pass "pass 3, clang build (build-clang/)"

printf '%s' "$summary"
[ -n "$failed" ] && echo "failed:$failed"
ntests=$(echo $names | wc -w)
echo "tests: $ntests tests ($runs runs) — $((pass + fail + skip)) assertions: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
