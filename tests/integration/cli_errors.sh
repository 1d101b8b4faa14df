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
# A delay must be a positive number of seconds: 0 and -3 are refused (as
# procps slabtop refuses them: its words, its status), never taken.
for dl in 0 -3; do
    timeout 20 "$B/kmemtop" -o -d "$dl" >"$T/out" 2>"$T/err" </dev/null
    check_eq "kmemtop -o -d $dl: refused (exit 1, nothing printed)" "1 0" "$? $(wc -c <"$T/out")"
    check "kmemtop -o -d $dl: says the delay must be positive" grep -q "delay must be positive" "$T/err"
    timeout 20 "$B/slabtop" -d "$dl" >"$T/out" 2>"$T/err" </dev/null
    rc=$?
    timeout 20 /usr/bin/slabtop -d "$dl" >"$T/pout" 2>"$T/perr" </dev/null
    check_eq "slabtop -d $dl: the status and message of procps slabtop" "$? $(sed 's/^[^:]*: //' "$T/perr")" \
        "$rc $(sed 's/^[^:]*: //' "$T/err")"
done

# The startup log names every collector of the table, the alloc (BPF) one
# included: enabled or disabled, each once.
"$B/kmem_exporter" --no-collector.cgroup --web.listen-address 127.0.0.1:0 >"$T/log" 2>&1 &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q 'msg=Collectors' "$T/log"; do
    sleep 0.1
    i=$((i + 1))
done
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
line=$(grep 'msg=Collectors' "$T/log")
en=$(printf '%s\n' "$line" | sed -n 's/.* enabled=\([^ ]*\).*/\1/p')
dis=$(printf '%s\n' "$line" | sed -n 's/.* disabled=\([^ ]*\).*/\1/p')
all=$("$B/kmem_exporter" --help 2>&1 | sed -n 's/.*--\[no-\]collector\.\([a-z_]*\).*/\1/p' | sort -u | paste -sd,)
check "startup log: --help lists at least 6 collectors, alloc among them ($all)" \
    sh -c "[ $(printf '%s\n' "$all" | tr ',' '\n' | wc -l) -ge 6 ] && printf '%s\n' '$all' | grep -q alloc"
check_eq "startup log: enabled= and disabled= name every collector of --help once" "$all" \
    "$(printf '%s,%s\n' "$en" "$dis" | tr ',' '\n' | sed '/^$/d' | sort | paste -sd,)"
check "startup log: alloc (off by default) and cgroup (turned off) are in disabled=" \
    sh -c "printf '%s\n' '$dis' | tr ',' '\n' | grep -qx alloc && printf '%s\n' '$dis' | tr ',' '\n' | grep -qx cgroup"
finish
