#!/bin/sh
# kmemtop --html FILE: the page of two fixtures, of a generated node with
# 200+ cgroups and of this machine, each loaded in headless Chromium by
# html_check.py (no network request, no script error, the DOM's figures
# equal kmemtop --json's for the same input, contrast, scripts off, a
# screenshot at 1280x800); then the checker's own oracles (a page with a
# network reference, a page with a wrong figure) and the error paths.
. "$(dirname "$0")/../lib.sh"

K="$B/kmemtop"
CHECK="$TOP/tests/integration/html_check.py"
T=$(tmpdir)
trap 'rm -rf "$T"' EXIT INT TERM

if [ ! -x "$K" ]; then
    not_ok "kmemtop is built at $K"
    finish
fi
if ! command -v chromium >/dev/null; then
    not_ok "chromium is installed (scripts/deps.sh TEST_PKGS)"
    finish
fi

# page NAME ROOT [CHECK OPTIONS...]: --html and --json of ROOT, then the checks.
page() {
    n=$1 r=$2
    shift 2
    if ! "$K" --root "$r" --html "$T/$n.html" 2>"$T/$n.err"; then
        not_ok "kmemtop --root $r --html exits 0: $(cat "$T/$n.err")"
        return
    fi
    ok "kmemtop --root ${r#"$TOP"/} --html writes $n.html ($(wc -c <"$T/$n.html") bytes)"
    "$K" --root "$r" --json >"$T/$n.json"
    python3 "$CHECK" "$T/$n.html" "$T/$n.json" "$@" || not_ok "html_check.py passes on $n.html"
}

page full "$FIXTURES/debian12-linux6.18-full" --noscript --screenshot "$T/full.png"
page k8s "$FIXTURES/v2-systemd-containerd" --screenshot "$T/k8s.png"

# A node with 200 more cgroups: 50 pods of 3 containers in 5 namespaces, each
# a copy of a fixture container. The page stays under 2 MiB.
big="$T/big"
cp -a "$FIXTURES/v2-systemd-containerd" "$big"
qos="$big/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice"
src=$(find "$qos" -name 'cri-containerd-*.scope' | head -1)
for p in $(seq 10 59); do
    uid="0000${p}00-aaaa-4bbb-8ccc-0000000000${p}"
    pod="$qos/kubepods-burstable-pod$(echo "$uid" | tr - _).slice"
    mkdir -p "$pod"
    cp "$src"/memory.* "$src"/cgroup.* "$pod"/
    for c in 1 2 3; do
        id=$(printf '%064d' "$p$c")
        mkdir -p "$pod/cri-containerd-$id.scope"
        cp "$src"/memory.* "$src"/cgroup.* "$pod/cri-containerd-$id.scope"/
        logs="$big/var/log/pods/ns$((p % 5))_app-${p}_$uid/ctr$c"
        mkdir -p "$logs"
        : >"$logs/0.log"
        : >"$big/var/log/containers/app-${p}_ns$((p % 5))_ctr$c-$id.log"
    done
done
page big "$big" --max-bytes 2097152 --min-cgroups 200

# This machine: the page and a capture of what it read, so that --json of the
# capture is the same input; MemTotal does not move while the machine runs.
if "$K" --html "$T/live.html" --capture "$T/cap" 2>"$T/live.err"; then
    ok "kmemtop --html live.html --capture DIR exits 0"
    "$K" --root "$T/cap" --json >"$T/live.json"
    mt=$(awk '$1 == "MemTotal:" { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)
    python3 "$CHECK" "$T/live.html" "$T/live.json" --memtotal "$mt" --screenshot "$T/live.png" ||
        not_ok "html_check.py passes on live.html"
else
    not_ok "kmemtop --html live.html --capture DIR exits 0: $(cat "$T/live.err")"
fi

# The checker's oracles: a reference to the network is seen, a wrong figure is.
sed 's|</body>|<img alt="" src="http://kmem-probe.invalid/x.png"></body>|' "$T/k8s.html" >"$T/probe.html"
python3 "$CHECK" "$T/probe.html" "$T/k8s.json" --probe-network ||
    not_ok "html_check.py --probe-network sees the request"
sed 's|\(data-k="cache:dentry" data-b="\)[0-9]*|\1123|' "$T/k8s.html" >"$T/wrong.html"
if python3 "$CHECK" "$T/wrong.html" "$T/k8s.json" >"$T/wrong.out" 2>&1; then
    not_ok "a page with a wrong figure fails the check"
else
    check "a page with a wrong cache figure fails the check (and says which)" \
        grep -q '^not ok - .*slab caches.*cache:dentry' "$T/wrong.out"
fi

# Errors: a file that cannot be written is named; --html is an output of its own.
if "$K" --root "$FIXTURES/v2-systemd-containerd" --html "$T/no/such/dir/x.html" 2>"$T/e1"; then
    not_ok "--html into a missing directory fails"
else
    check "--html into a missing directory fails naming the file" grep -q "no/such/dir/x.html" "$T/e1"
fi
check "--html leaves no temporary file behind" test -z "$(find "$T" -maxdepth 1 -name '*.html.*')"
if "$K" --html "$T/x.html" --json >/dev/null 2>"$T/e2"; then
    not_ok "--html with --json is refused"
else
    check "--html with --json is refused with a reason" grep -q -- "--html" "$T/e2"
fi
finish
