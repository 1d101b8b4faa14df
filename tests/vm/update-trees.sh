#!/bin/sh
# Copy the trees of the last tests/integration/vm_kernels.sh run (kmemtop
# --capture inside the guest, completed with the kernel files kmem does not
# read yet: root memory.stat, cgroup.stat, /proc/cgroups) into tests/vm/trees/,
# one v2 tree per kernel, for --root:
#   update-trees.sh [VM_OUT]   (default build/vm)
# They are kept out of tests/fixtures/ while kmem still sums the v2 root's
# children (kmemtop_outputs.sh compares every fixture's root with its
# memory.stat "kernel"): move them there once kmem reads the root's own file.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$TOP/build/vm}
while read -r suite release _; do
    t=$OUT/$suite-v2-kube.tree
    [ -d "$t" ] || { echo "update-trees: no $t (run tests/integration/vm_kernels.sh)" >&2; exit 1; }
    case $suite in
    bullseye) name=debian11-linux${release%%.0-*}-v2-vm ;;
    bookworm) name=debian12-linux${release%%.0-*}-v2-vm ;;
    bookworm-backports) name=debian12bpo-linux$(echo "$release" | cut -d. -f1,2)-v2-vm ;;
    *) name=$suite-v2-vm ;;
    esac
    mkdir -p "$TOP/tests/vm/trees"
    rm -rf "$TOP/tests/vm/trees/$name"
    cp -r "$t" "$TOP/tests/vm/trees/$name"
    echo "$name <- $t ($release)"
done <"$OUT/kernels"
