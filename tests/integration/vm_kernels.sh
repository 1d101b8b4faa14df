#!/bin/sh
# Live kernels: boot Debian's cloud kernels (tests/vm/kernels.list, one line
# per kernel: 5.10 bullseye, 6.1 bookworm, 6.12 bookworm-backports, 7.x
# trixie-backports) under qemu (TCG) with a busybox initramfs holding
# the current build, run each scenario of tests/vm/guest/ as /init, and
# compare kmem's numbers with the kernel's own files read at the same moment
# (tests/vm/check.py). One boot per (scenario, kernel), each with a timeout.
#
#   KMEM_VM_KERNELS   suites to boot (default: the "default" lines of
#                     tests/vm/kernels.list); one that cannot be fetched (no
#                     network, a suite gone from the mirror and the archive)
#                     is skipped with a SKIP line, not failed
#   KMEM_VM_SCENARIOS scenarios (default: every tests/vm/guest/*.sh but vmlib)
#   KMEM_VM_JOBS      boots at a time (default 2)
#   KMEM_VM_TIMEOUT   seconds per boot (default 240)
#   KMEM_VM_STRICT=1  also check what kmem is known to get wrong today
#   KMEM_VM_OUT       where boots leave console, data and captures
#                     (default $KMEM_BUILD/vm)
#   KMEM_VM_CACHE     kernel cache (default /var/cache/kmem-vm)
. "$(dirname "$0")/../lib.sh"
VM=$TOP/tests/vm
KERNELS=${KMEM_VM_KERNELS:-$(awk '!/^#/ && $2 == "default" { print $1 }' "$VM/kernels.list")}
JOBS=${KMEM_VM_JOBS:-2}
TIMEOUT=${KMEM_VM_TIMEOUT:-240}
OUT=${KMEM_VM_OUT:-$B/vm}
if [ -z "${KMEM_VM_SCENARIOS:-}" ]; then
    KMEM_VM_SCENARIOS=$(cd "$VM/guest" && ls *.sh | sed -n 's/\.sh$//p' | grep -v '^vmlib$')
fi
start=$(date +%s)

for t in qemu-system-x86_64 cpio python3 gcc; do
    command -v $t >/dev/null 2>&1 || { not_ok "missing $t (scripts/deps.sh installs it)"; finish; }
done
[ -x /bin/busybox ] || { not_ok "missing /bin/busybox (busybox-static)"; finish; }
[ -x "$B/kmemtop" ] && [ -x "$B/kmem_exporter" ] || { not_ok "missing $B/kmemtop or kmem_exporter (run make)"; finish; }

rm -rf "$OUT"
mkdir -p "$OUT"
: >"$OUT/kernels"
for k in $KERNELS; do
    # One suite at a time: a kernel that cannot be fetched is skipped, the others boot.
    if ! "$VM/fetch-kernels.sh" "$k" >>"$OUT/kernels" 2>"$OUT/fetch-$k.log"; then
        sed 's/^/# /' "$OUT/fetch-$k.log"
        ok "$k # SKIP cannot fetch its kernel: $(grep 'fetch-kernels:' "$OUT/fetch-$k.log" | tail -n 1)"
    fi
done
if [ ! -s "$OUT/kernels" ]; then
    ok "no kernel could be fetched ($KERNELS) # SKIP no network and no cached kernel"
    finish
fi
ok "kernels: $(awk '{ printf "%s%s", sep, $2; sep = ", " }' "$OUT/kernels")"
if ! "$VM/mkinitramfs.sh" "$B" "$OUT/initramfs" >"$OUT/mkinitramfs.log" 2>&1; then
    sed 's/^/# /' "$OUT/mkinitramfs.log"
    not_ok "build the initramfs"
    finish
fi
ok "initramfs built from $KMEM_BUILD"

# The v1 memory controller is gone from kernels built without CONFIG_MEMCG_V1
# (6.11+; Debian's 6.12 cloud kernel): no v1 or hybrid boot there.
needs_v1() { case $1 in v1-* | hybrid*) return 0 ;; esac; return 1; }
has_v1() { ! grep -q '^# CONFIG_MEMCG_V1 is not set' "$1/config"; }

boots=""
while read -r suite release dir; do
    for s in $KMEM_VM_SCENARIOS; do
        if [ "$s" = v2-owners ] && [ ! -x "$B/tests/ownwalk_dump" ]; then
            ok "$release $s # SKIP kmem built without BPF (no $B/tests/ownwalk_dump)"
            continue
        fi
        if needs_v1 "$s" && ! has_v1 "$dir"; then
            ok "$release $s # SKIP no cgroup v1 memory controller (CONFIG_MEMCG_V1 is not set)"
            continue
        fi
        boots="$boots $suite:$s"
    done
done <"$OUT/kernels"

# One boot; booted once more if the scenario did not reach its end (TCG on
# this shared host has stalled a guest now and then): the retry is reported.
boot() { # suite:scenario
    suite=${1%%:*}
    s=${1#*:}
    dir=$(awk -v s="$suite" '$1 == s { print $3 }' "$OUT/kernels")
    o=$OUT/$suite-$s
    tries=0
    while [ $tries -lt 2 ]; do
        tries=$((tries + 1))
        t0=$(date +%s)
        "$VM/boot.sh" "$dir/vmlinuz" "$OUT/initramfs/$s.cpio" "$o" "$TIMEOUT"
        rc=$?
        grep -q '^@@kmem-vm begin done' "$o.data" && break
        [ $tries -lt 2 ] && cp "$o.console" "$o.console.try$tries"
    done
    echo "$rc $(($(date +%s) - t0)) $tries" >"$o.status"
}

# At most JOBS boots at a time.
n=0
for b in $boots; do
    boot "$b" &
    n=$((n + 1))
    if [ "$n" -ge "$JOBS" ]; then
        wait
        n=0
    fi
done
wait

for b in $boots; do
    suite=${b%%:*}
    s=${b#*:}
    release=$(awk -v s="$suite" '$1 == s { print $2 }' "$OUT/kernels")
    o=$OUT/$suite-$s
    read -r rc secs tries <"$o.status"
    if [ "$rc" -eq 124 ]; then
        not_ok "$release $s: boot timed out after ${TIMEOUT}s"
    else
        check_eq "$release $s: qemu exit status" 0 "$rc"
    fi
    echo "# $release $s: boot to power-off ${secs}s (console: $o.console)"
    [ "$tries" -gt 1 ] && echo "# $release $s: booted again: the first boot did not finish ($o.console.try1)"
    sed -n 's/.*\(kmem-vm \[\)/#   \1/p' "$o.console"
    oops=$(grep -E 'Oops|BUG:|Kernel panic|double fault|general protection' "$o.console" | head -3)
    check "$release $s: no kernel oops or panic on the console${oops:+: $oops}" test -z "$oops"
    # v2-alloc: the allocation tracer, checked by its own script.
    if [ "$s" = v2-alloc ]; then
        python3 "$VM/check_alloc.py" --data "$o.data" --kernel "$release" || _fail=1
        continue
    fi
    # v2-owners: the owner snapshot against memory.stat and slabinfo (its own checks).
    if [ "$s" = v2-owners ]; then
        python3 "$VM/check_owners.py" --data "$o.data" --kernel "$release" || _fail=1
        continue
    fi
    python3 "$VM/check.py" --data "$o.data" --scenario "$s" --kernel "$release" \
        --tree-dir "$o.tree" || _fail=1
    # v2-fds checks itself (tests/vm/cgfds.c): no node sample to compare.
    [ "$s" = v2-fds ] && continue
    python3 "$VM/check_node.py" --data "$o.data" --scenario "$s" --kernel "$release" \
        --tree-dir "$o.tree" --kmemtop "$B/kmemtop" || _fail=1
done
echo "# vm_kernels: $(($(date +%s) - start))s in all, $JOBS boots at a time"
finish
