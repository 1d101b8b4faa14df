#!/bin/sh
# A bad flag or a stray argument: one line naming it and a hint to --help,
# not the whole usage (issue 23), for kmemtop and kmem_exporter; invoked as
# slabtop, the usage as procps prints it.
. "$(dirname "$0")/../lib.sh"

T=$(tmpdir)
trap 'rm -rf "$T"' EXIT INT TERM
for p in kmemtop kmem_exporter slabtop; do
    [ -x "$B/$p" ] || { not_ok "$p is built"; finish; }
done

# one_line DESC WANT-RC WANT-TEXT PROGRAM ARGS...
one_line() {
    d=$1 want=$2 text=$3
    shift 3
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    check_eq "$d: exit $want" "$want" "$rc"
    check "$d: at most two lines, naming the problem and --help" short_err "$text"
}
short_err() {
    [ "$(wc -l <"$T/err")" -le 2 ] && grep -qF -- "$1" "$T/err" && grep -q -- '--help' "$T/err" &&
        [ ! -s "$T/out" ] || { sed 's/^/# /' "$T/err" | head -5; return 1; }
}
one_line "kmemtop --bogus" 1 "unrecognized option '--bogus'" "$B/kmemtop" --bogus
one_line "kmemtop -d without a value" 1 "requires an argument" "$B/kmemtop" -d
one_line "kmemtop with a stray argument" 1 "unexpected argument 'extra'" "$B/kmemtop" extra
one_line "kmem_exporter --bogus" 2 "unknown long flag '--bogus'" "$B/kmem_exporter" --bogus
"$B/slabtop" --bogus >/dev/null 2>"$T/err"
check_eq "slabtop --bogus: exit 1 (procps)" 1 $?
check "slabtop --bogus: the usage, as procps slabtop" grep -q "^Usage:" "$T/err"
finish
