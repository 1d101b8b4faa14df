#!/bin/bash
# build/slabtop against the installed procps-ng 4.0.2 slabtop, on the same
# /proc/slabinfo (bind-mounted in a private mount namespace): -o output must be
# byte-identical for every fixture and every sort key; messages and exit codes
# must match for bad options and bad files.
. "$(dirname "$0")/../lib.sh"
set -u
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/procps" "$T/kmem"
ln -s /usr/bin/slabtop "$T/procps/slabtop"
ln -s "$B/kmemtop" "$T/kmem/slabtop"
check "procps slabtop is 4.0.2" sh -c '/usr/bin/slabtop -V | grep -q "procps-ng 4.0.2"'

# run WHICH FILE ARGS...: slabtop -o with FILE bound over /proc/slabinfo;
# stdout, stderr and status go to $T/out.WHICH, $T/err.WHICH, $T/rc.WHICH
# (status 199: the bind mount failed, slabtop did not run)
run() {
    local which=$1 file=$2
    shift 2
    (cd "$T/$which" && unshare -m sh -c 'mount --bind "$0" /proc/slabinfo || exit 199; exec ./slabtop "$@"' \
        "$file" "$@" >"$T/out.$which" 2>"$T/err.$which"; echo $? >"$T/rc.$which")
}
# ran [ok]: both sides ran slabtop and it said something; with "ok", both
# exited 0 with output on stdout. Two identical failures must not compare
# equal as a pass.
ran() {
    local w
    for w in procps kmem; do
        case $(cat "$T/rc.$w") in 199 | 126 | 127) echo "# $w: slabtop did not run: $(head -c 300 "$T/err.$w")"; return 1 ;; esac
        if [ "${1:-}" = ok ]; then
            [ "$(cat "$T/rc.$w")" = 0 ] && [ -s "$T/out.$w" ] ||
                { echo "# $w: status $(cat "$T/rc.$w"), $(wc -c <"$T/out.$w") bytes out: $(head -c 300 "$T/err.$w")"; return 1; }
        else
            [ -s "$T/out.$w" ] || [ -s "$T/err.$w" ] || { echo "# $w: no output"; return 1; }
        fi
    done
}
same() { # desc [ok]: both sides ran (see ran), then procps vs kmem outputs and status
    if ! ran "${2:-}"; then
        not_ok "$1 (a side did not run)"
    elif cmp -s "$T/out.procps" "$T/out.kmem" && cmp -s "$T/err.procps" "$T/err.kmem" &&
        cmp -s "$T/rc.procps" "$T/rc.kmem"; then
        ok "$1"
    else
        not_ok "$1"
        diff "$T/out.procps" "$T/out.kmem" | head -10
        diff "$T/err.procps" "$T/err.kmem" | head -5
        echo "status procps $(cat "$T/rc.procps") kmem $(cat "$T/rc.kmem")"
    fi
}

cp /proc/slabinfo "$T/live-slabinfo"
files="$T/live-slabinfo $SHARED_FIXTURE/proc/slabinfo"
for d in "$FIXTURES"/slab-*; do
    # kmem's one intended difference from procps: checked apart, below
    [ "$d" = "$FIXTURES/slab-64bit-sums" ] || files="$files $d/proc/slabinfo"
done
for f in $files; do
    name=$(basename "$(dirname "$(dirname "$f")")")
    [ "$f" = "$T/live-slabinfo" ] && name=live
    for k in a b c l v n o p s u A N x g G r ''; do
        run procps "$f" -o -s "$k"
        run kmem "$f" -o -s "$k"
        same "slabtop -o -s '$k' on $name" ok
    done
    run procps "$f" --once
    run kmem "$f" --once
    same "slabtop --once on $name" ok
    # kmemtop -o with --root gives the same bytes
    if [ "$name" != live ]; then
        r=$(dirname "$(dirname "$f")")
        "$B/kmemtop" --root "$r" -o -s c >"$T/out.kmem" 2>&1
        echo $? >"$T/rc.kmem"
        : >"$T/err.kmem"
        run procps "$f" -o -s c
        if ran ok; then
            check "kmemtop --root $name -o -s c equals procps" cmp -s "$T/out.procps" "$T/out.kmem"
        else
            not_ok "kmemtop --root $name -o -s c equals procps (a side did not run)"
        fi
    fi
done
# Sums above 2^32 objects and slabs (README "slabtop compatibility"): procps
# 4.0.2 sums the object and slab counts in 32-bit unsigned ints, which wrap;
# kmem's sums are 64-bit. The summary lines that use those sums (objects,
# slabs, and the average object size, which divides by the object count)
# differ; every other line is identical.
f="$FIXTURES/slab-64bit-sums/proc/slabinfo"
run procps "$f" -o
run kmem "$f" -o
if ran ok; then
    check_eq "64-bit sums: kmem's objects line" \
        " Active / Total Objects (% used)    : 7000000100 / 8294967495 (84.4%)" "$(sed -n 1p "$T/out.kmem")"
    check_eq "64-bit sums: kmem's slabs line" \
        " Active / Total Slabs (% used)      : 7500000003 / 8294967299 (90.4%)" "$(sed -n 2p "$T/out.kmem")"
    check_eq "64-bit sums: kmem's average object (100719489520 B / 8294967495 objects = 12 B)" \
        " Minimum / Average / Maximum Object : 0.01K / 0.01K / 0.06K" "$(sed -n 5p "$T/out.kmem")"
    # procps: 7000000100 - 2^32 = 2705032804, and so on.
    check_eq "64-bit sums: procps 4.0.2 wraps the objects line (documented difference)" \
        " Active / Total Objects (% used)    : 2705032804 / 4000000199 (67.6%)" "$(sed -n 1p "$T/out.procps")"
    check_eq "64-bit sums: procps 4.0.2 wraps the slabs line (documented difference)" \
        " Active / Total Slabs (% used)      : 3205032707 / 4000000003 (80.1%)" "$(sed -n 2p "$T/out.procps")"
    check_eq "64-bit sums: every other line is identical to procps" "1,2c1,2 5c5" \
        "$(diff "$T/out.procps" "$T/out.kmem" | grep '^[0-9]' | tr '\n' ' ' | sed 's/ $//')"
else
    not_ok "64-bit sums: both sides ran (see above)"
fi

# inputs nobody wrote by hand: random valid files, every sort key
for seed in $(seq 1 40); do
    python3 "$(dirname "$0")/gen_slabinfo.py" "$seed" >"$T/random"
    bad=""
    for k in a b c l v n o p s u; do
        run procps "$T/random" -o -s "$k"
        run kmem "$T/random" -o -s "$k"
        ran ok && cmp -s "$T/out.procps" "$T/out.kmem" && cmp -s "$T/rc.procps" "$T/rc.kmem" || bad="$bad $k"
    done
    check_eq "random slabinfo #$seed: identical for every sort key" "" "$bad"
done
# a C-locale and a UTF-8 locale sort names the same way in both
for loc in C C.UTF-8; do
    LC_ALL=$loc run procps "$FIXTURES/slab-ties/proc/slabinfo" -o -s n
    LC_ALL=$loc run kmem "$FIXTURES/slab-ties/proc/slabinfo" -o -s n
    same "name sort under LC_ALL=$loc" ok
done

# bad files: same message and status
printf 'garbage\n' >"$T/garbage"
printf 'slabinfo - version: 2.1\nx 1 2 3\n' >"$T/short"
printf 'slabinfo - version: 1.1\n' >"$T/v1"
printf 'slabinfo - version: 2.1\n\n' >"$T/blank"
head -c 300 /proc/slabinfo >"$T/truncated"
for f in garbage short v1 blank truncated; do
    run procps "$T/$f" -o
    run kmem "$T/$f" -o
    same "bad file '$f': same message and status"
done
# an empty file: procps's message depends on the locale (a stale errno)
: >"$T/empty"
for loc in C C.UTF-8; do
    LC_ALL=$loc run procps "$T/empty" -o
    LC_ALL=$loc run kmem "$T/empty" -o
    same "empty file under LC_ALL=$loc: same message and status"
done

# options: messages and exit codes
for args in "-h" "--help" "-x" "--bogus" "-d abc" "-d 0" "-d -3" "-d 1x" "-d 99999999999999999999" \
    "-o -d 1" "-d 1 -o" "-o extra" "--delay" "-s"; do
    run procps "$SHARED_FIXTURE/proc/slabinfo" $args </dev/null
    run kmem "$SHARED_FIXTURE/proc/slabinfo" $args </dev/null
    same "options '$args'"
done
run kmem "$SHARED_FIXTURE/proc/slabinfo" -V
check "-V keeps the procps prefix" grep -q '^slabtop from procps-ng 4.0.2' "$T/out.kmem"

# not root: procps's message and status 1 (slabtop), a hint (kmemtop)
if id nobody >/dev/null 2>&1; then
    p=$(cd "$T/procps" && setpriv --reuid=nobody --regid=nogroup --clear-groups ./slabtop -o 2>&1; echo "rc=$?")
    k=$(cd "$T/kmem" && setpriv --reuid=nobody --regid=nogroup --clear-groups ./slabtop -o 2>&1; echo "rc=$?")
    check_eq "not root: slabtop message and status" "$p" "$k"
    m=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$B/kmemtop" -o 2>&1; echo "rc=$?")
    case "$m" in
    *"/proc/slabinfo: Permission denied (run as root or grant CAP_DAC_READ_SEARCH)"*"rc=1") ok "not root: kmemtop says why and what to do" ;;
    *) not_ok "not root: kmemtop message: $m" ;;
    esac
fi
finish
