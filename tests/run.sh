#!/bin/sh
# Run every test of kmem: unit tests and fuzz-corpus replays in the plain and
# the ASan/UBSan build, then the integration scripts. Prints a closing line
# "tests: N passed, M failed" and exits non-zero if anything failed.
cd "$(dirname "$0")/.." || exit 1
pass=0
fail=0
failed=""
log=$(mktemp)
count() { # name, log file, exit status
    p=$(grep -c '^ok ' "$2")
    f=$(grep -c '^not ok ' "$2")
    if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $1 exited with status $3" >>"$2"; fi
    [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$3" -eq 0 ] && p=1
    pass=$((pass + p))
    fail=$((fail + f))
    if [ "$f" -ne 0 ]; then
        failed="$failed $1"
        echo "FAIL $1"; grep '^not ok' "$2" | head -20 | sed 's/^/    /'; tail -20 "$2" | grep -v '^ok' | sed 's/^/    | /'
    else
        echo "pass $1 ($p)"
    fi
}
for build in build build-san; do
    [ -d "$build" ] || continue
    for t in "$build"/tests/*; do
        [ -x "$t" ] || continue
        CMOCKA_MESSAGE_OUTPUT=TAP KMEM_TOP=$(pwd) timeout 300 "$t" >"$log" 2>&1
        count "$t" "$log" $?
    done
    for r in "$build"/fuzz/replay_*; do
        [ -x "$r" ] || continue
        name=${r##*/replay_fuzz_}
        timeout 300 "$r" tests/fuzz/corpus/"$name" >"$log" 2>&1
        count "$r" "$log" $?
    done
done
for s in tests/integration/*.sh; do
    [ -x "$s" ] || continue
    KMEM_BUILD=build timeout 900 "$s" >"$log" 2>&1
    count "$s" "$log" $?
done
# The programs themselves under ASan/UBSan, on every fixture and the live machine.
if [ -d build-san ]; then
    for s in kmemtop_outputs kmemtop_options kmemtop_tui slabtop_compat node_live cgroup_live \
        exporter_node_exporter; do
        KMEM_BUILD=build-san timeout 900 "tests/integration/$s.sh" >"$log" 2>&1
        st=$?
        if grep -q 'runtime error\|AddressSanitizer\|LeakSanitizer' "$log"; then
            echo "not ok - sanitizer report in $s" >>"$log"
        fi
        count "build-san: $s" "$log" $st
    done
fi
rm -f "$log"
echo "tests: $pass passed, $fail failed"
[ -n "$failed" ] && echo "failed:$failed"
[ "$fail" -eq 0 ]
