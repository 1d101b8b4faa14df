#!/bin/sh
# Shellcheck every shell script of the repository (git's files: *.sh and
# files whose first line runs sh or bash), following sourced files, at
# severity warning (errors and warnings; notes and style are not gated).
# Prints one TAP-ish line a script ("ok - shellcheck FILE"); exits non-zero
# when one fails or shellcheck is missing.
cd "$(dirname "$0")/.." || exit 1
if ! command -v shellcheck >/dev/null 2>&1; then
    echo "not ok - shellcheck is installed (scripts/deps.sh test)"
    exit 1
fi
list=$(mktemp)
# The first line of every other file, read by one awk (a process a file
# took two minutes on a loaded machine: the fixtures are thousands of files).
{
    git ls-files '*.sh'
    git ls-files -z | xargs -0 awk 'FNR == 1 && FILENAME !~ /\.sh$/ &&
        /^#!.*[\/ ](ba)?sh( |$)/ { print FILENAME } { nextfile }' 2>/dev/null
} | sort -u | while read -r f; do
    [ -f "$f" ] && echo "$f"
done >"$list"
# One shellcheck process for every script (a process a script cost four
# times the CPU: 42 s against 10 s here), its findings then told per script.
out=$(mktemp)
trap 'rm -f "$list" "$out"' EXIT
# shellcheck disable=SC2046 # one argument a file: git's names have no spaces here
shellcheck -x -P SCRIPTDIR -S warning -f gcc $(cat "$list") >"$out" 2>&1
st=$?
n=0 bad=0
while read -r f; do
    n=$((n + 1))
    if grep -q "^$f:" "$out"; then
        bad=$((bad + 1))
        echo "not ok - shellcheck $f"
        grep "^$f:" "$out" | sed 's/^/#   /'
    else
        echo "ok - shellcheck $f"
    fi
done <"$list"
if [ "$st" -ne 0 ] && [ "$bad" -eq 0 ]; then
    echo "not ok - shellcheck exited with status $st and named no script"
    sed 's/^/#   /' "$out"
    exit 1
fi
[ "$n" -ge 40 ] || { echo "not ok - shellcheck found only $n scripts (expected 40 or more)"; exit 1; }
[ "$bad" -eq 0 ]
