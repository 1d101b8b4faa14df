#!/bin/sh
# The docs against the programs and the tree: every option of kmemtop --help
# and kmem_exporter --help is an option of its man page's OPTIONS section and
# the reverse; README's Layout section names every src/ file, and every file
# it names exists; no user-facing doc sends the reader to an issue number or
# a SPEC that is not in the repository.
. "$(dirname "$0")/../lib.sh"
PY="$TOP/tests/integration/docs_check.py"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT INT TERM

for p in kmemtop:kmemtop.1.in:30 kmem_exporter:kmem_exporter.8.in:40; do
    prog=${p%%:*} rest=${p#*:}
    man=${rest%%:*} min=${rest#*:}
    if [ -x "$B/$prog" ]; then
        check "$prog --help and man/$man list the same options (at least $min)" \
            python3 "$PY" flags "$B/$prog" "$TOP/man/$man" "$min"
    else
        not_ok "$prog is built at $B/$prog"
    fi
done

check "README's Layout section names every src/ file, and each file it names exists" \
    sh -c "cd '$TOP' && python3 '$PY' layout README.md src/common/ src/lib/ src/kmemtop/ src/bpf/ src/exporter/"

# Issue numbers and SPEC.md live outside the repository: a reader cannot follow them.
docs=$(cd "$TOP" && ls README.md docs/*.md deploy/README.md man/*.in)
check "the user docs name no issue number and no SPEC (checked $(echo "$docs" | wc -l) files)" \
    sh -c "cd '$TOP' && [ \$(echo '$docs' | wc -l) -ge 10 ] && ! grep -n -E '\\bissues? [0-9]+|\\bSPEC(\\.md)?\\b' $(echo "$docs" | tr '\n' ' ')"
"$B/kmemtop" --help >"$T/h1" 2>&1
"$B/kmem_exporter" --help >"$T/h2" 2>&1
check "the programs' --help names no issue number and no SPEC" \
    sh -c "! grep -n -E '\\bissues? [0-9]+|\\bSPEC(\\.md)?\\b' '$T/h1' '$T/h2'"
finish
