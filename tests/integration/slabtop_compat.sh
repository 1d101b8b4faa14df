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
run() {
    local which=$1 file=$2
    shift 2
    (cd "$T/$which" && unshare -m sh -c 'mount --bind "$0" /proc/slabinfo && exec ./slabtop "$@"' \
        "$file" "$@" >"$T/out.$which" 2>"$T/err.$which"; echo $? >"$T/rc.$which")
}
same() { # desc: compares procps vs kmem outputs and status
    if cmp -s "$T/out.procps" "$T/out.kmem" && cmp -s "$T/err.procps" "$T/err.kmem" &&
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
for d in "$FIXTURES"/slab-*; do files="$files $d/proc/slabinfo"; done
for f in $files; do
    name=$(basename "$(dirname "$(dirname "$f")")")
    [ "$f" = "$T/live-slabinfo" ] && name=live
    for k in a b c l v n o p s u A N x ''; do
        run procps "$f" -o -s "$k"
        run kmem "$f" -o -s "$k"
        same "slabtop -o -s '$k' on $name"
    done
    run procps "$f" --once
    run kmem "$f" --once
    same "slabtop --once on $name"
    # kmemtop -o with --root gives the same bytes
    if [ "$name" != live ]; then
        r=$(dirname "$(dirname "$f")")
        "$B/kmemtop" --root "$r" -o -s c >"$T/out.kmem" 2>&1
        run procps "$f" -o -s c
        check "kmemtop --root $name -o -s c equals procps" cmp -s "$T/out.procps" "$T/out.kmem"
    fi
done
# inputs nobody wrote by hand: random valid files, every sort key
for seed in $(seq 1 40); do
    python3 "$(dirname "$0")/gen_slabinfo.py" "$seed" >"$T/random"
    bad=""
    for k in a b c l v n o p s u; do
        run procps "$T/random" -o -s "$k"
        run kmem "$T/random" -o -s "$k"
        cmp -s "$T/out.procps" "$T/out.kmem" && cmp -s "$T/rc.procps" "$T/rc.kmem" || bad="$bad $k"
    done
    check_eq "random slabinfo #$seed: identical for every sort key" "" "$bad"
done
# a C-locale and a UTF-8 locale sort names the same way in both
for loc in C C.UTF-8; do
    LC_ALL=$loc run procps "$FIXTURES/slab-ties/proc/slabinfo" -o -s n
    LC_ALL=$loc run kmem "$FIXTURES/slab-ties/proc/slabinfo" -o -s n
    same "name sort under LC_ALL=$loc"
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
