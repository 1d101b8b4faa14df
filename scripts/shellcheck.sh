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
trap 'rm -f "$list"' EXIT
git ls-files | while read -r f; do
    [ -f "$f" ] || continue
    case $f in
    *.sh) echo "$f" ;;
    *) head -n 1 "$f" | grep -qE '^#!.*[/ ](ba)?sh( |$)' && echo "$f" ;;
    esac
done >"$list"
n=0 bad=0
while read -r f; do
    n=$((n + 1))
    if out=$(shellcheck -x -P SCRIPTDIR -S warning -f gcc "$f" 2>&1); then
        echo "ok - shellcheck $f"
    else
        bad=$((bad + 1))
        echo "not ok - shellcheck $f"
        echo "$out" | sed 's/^/#   /'
    fi
done <"$list"
[ "$n" -ge 40 ] || { echo "not ok - shellcheck found only $n scripts (expected 40 or more)"; exit 1; }
[ "$bad" -eq 0 ]
