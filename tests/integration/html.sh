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
# Under the build directory: on a machine shared with other test runs, files
# under /tmp were seen to disappear in the middle of this test.
T=$(mktemp -d "$B/html-test.XXXXXX") || T=$(tmpdir)
trap 'rm -rf "$T"' EXIT INT TERM

if [ ! -x "$K" ]; then
    not_ok "kmemtop is built at $K"
    if "$K" --html "$T/x.html" -d 2 >/dev/null 2>"$T/e3"; then
    not_ok "--html with -d is refused"
else
    check "--html with -d is refused with a reason" grep -q -- "-d and -s do not apply" "$T/e3"
fi
finish
fi
if ! command -v chromium >/dev/null; then
    not_ok "chromium is installed (scripts/deps.sh TEST_PKGS)"
    if "$K" --html "$T/x.html" -d 2 >/dev/null 2>"$T/e3"; then
    not_ok "--html with -d is refused"
else
    check "--html with -d is refused with a reason" grep -q -- "-d and -s do not apply" "$T/e3"
fi
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

# Thread stacks from a slab cache (under kernel_stack, not in slab), and
# isolated pages and per-CPU free pages besides the LRU and MemFree.
cp -a "$FIXTURES/node-stacks-in-slab" "$T/stacks"
sed -i -e 's/^nr_isolated_anon 0$/nr_isolated_anon 37/' -e 's/^nr_isolated_file 0$/nr_isolated_file 5/' \
    "$T/stacks/proc/vmstat"
page stacks "$T/stacks"

# With an owner snapshot (kmem-owners.txt): the containers' slab parts split into caches.
page owners "$FIXTURES/owners-v2"

# A recording: three samples of one node, then three of another (synthetic
# times 10 s apart), so that the kinds, caches and cgroups change. The page
# of --replay has the growth chart; every sample in it equals --replay --at
# <its time> --json, and the treemaps equal --json of the sample shown.
rec="$T/rec"
"$K" --record "$rec" --root "$FIXTURES/v2-systemd-containerd" --record.count 3 \
    --record.time 1765000000 -d 10 --quiet
"$K" --record "$rec" --root "$FIXTURES/debian12-linux6.18-full" --record.count 3 \
    --record.time 1765000030 -d 10 --quiet
# replay_page NAME SPAN MIN TOPS [--at TIME]: the page, the JSON of its sample, the JSON of
# every sample drawn, the recorder's verdicts over the SPAN the chart covers (at least MIN),
# and the top growing caches and cgroups (at least TOPS) against the first and last samples.
replay_page() {
    n=$1 span=$2 least=$3 tops=$4
    shift 4
    if ! "$K" --html "$T/$n.html" --replay "$rec" "$@" 2>"$T/$n.err"; then
        not_ok "kmemtop --html --replay $* exits 0: $(cat "$T/$n.err")"
        return
    fi
    ok "kmemtop --html $n.html --replay DIR $* ($(wc -c <"$T/$n.html") bytes)"
    "$K" --replay "$rec" "$@" --json >"$T/$n.json"
    mkdir -p "$T/$n.series"
    for t in $(grep -o 'data-t="[0-9]*"' "$T/$n.html" | tr -dc '0-9\n'); do
        "$K" --replay "$rec" --at "$(date -d "@$((t / 1000000000))" '+%Y-%m-%d %H:%M:%S')" \
            --json >"$T/$n.series/$t.json"
    done
    "$K" --replay "$rec" "$@" --window "$span" --json >"$T/$n.verdicts.json"
    python3 "$CHECK" "$T/$n.html" "$T/$n.json" --series-dir "$T/$n.series" \
        --verdicts "$T/$n.verdicts.json" --min-verdicts "$least" --min-tops "$tops" \
        --screenshot "$T/$n.png" || not_ok "html_check.py passes on $n.html"
}
replay_page rec 50s 5 20
check_eq "the growth chart of the whole recording has its 6 samples" 6 \
    "$(grep -c '<tr data-t=' "$T/rec.html")"
at=$(date -d @1765000010 '+%Y-%m-%d %H:%M:%S')
replay_page rec-at 10s 0 0 --at "$at"
check_eq "with --at the second sample, the chart ends there (2 samples)" 2 \
    "$(grep -c '<tr data-t=' "$T/rec-at.html")"
check "the page says which sample the treemaps show" grep -q "the treemaps show .* at $at" "$T/rec-at.html"
# --window bounds the chart (the page is written; no verdicts on stdout)
"$K" --html "$T/rec-win.html" --replay "$rec" --window 20s >"$T/rec-win.out" 2>&1
check_eq "--html --replay --window 20s exits 0" 0 $?
check "--html --replay --window: nothing on stdout, the page written" \
    sh -c "[ ! -s '$T/rec-win.out' ] && [ -s '$T/rec-win.html' ]"
check_eq "--window 20s: the chart has the last 3 samples of 6" 3 "$(grep -c '<tr data-t=' "$T/rec-win.html" 2>/dev/null)"

# A recorded leak ending in an OOM kill (the recorder's scenario tool,
# rec_tree.py): a cache and a container's unreclaimable slab grow every ten
# minutes; the container is OOM-killed at the fourth sample. The page shows
# the recorder's verdicts and the kill, as --replay --window --json has them.
PY="$TOP/tests/integration/rec_tree.py"
tree="$T/tree"
cp -a "$FIXTURES/v2-systemd-containerd" "$tree"
cp -a "$FIXTURES/debian12-linux6.18-hybrid/sys/kernel" "$tree/sys/"
POD=kubepods.slice/kubepods-pod0f1e2d3c_4b5a_4968_8776_655443322110.slice
CT=$POD/cri-containerd-c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7.scope
python3 "$PY" "$tree" cgset "$CT" memory.max "1073741824\n"
python3 "$PY" "$tree" cgset "$CT" memory.events 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n'
for k in 0 1 2 3 4 5; do
    if [ "$k" -gt 0 ]; then
        python3 "$PY" "$tree" slab kmalloc-256 512
        python3 "$PY" "$tree" cgstat "$CT" slab_unreclaimable 4194304
    fi
    [ "$k" -eq 4 ] &&
        python3 "$PY" "$tree" cgset "$CT" memory.events 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n'
    "$K" --root "$tree" --record "$T/leakrec" --record.count 1 --record.time $((1796000000 + 600 * k)) \
        --quiet
done
rec="$T/leakrec"
replay_page leak 50m 2 2
check_eq "the leak's page lists its one OOM kill" 1 "$(grep -c '<tr data-oom-t=' "$T/leak.html")"
check "the OOM kill is marked on the chart's time axis, with its container" \
    grep -q 'OOM kill at .* in monitoring/prometheus-0/prometheus' "$T/leak.html"
check "kmalloc-256 is a leak suspect in the page" \
    grep -q 'data-k="verdict:cache:kmalloc-256" data-verdict="leak_suspect"' "$T/leak.html"

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
# ... and an owner snapshot of every cgroup with 60 caches each (the page shows
# each cgroup's 8 largest and sums the rest).
(cd "$big/sys/fs/cgroup" && find . -type d) | sed 's|^\.||; s|^$|/|' >"$T/cgpaths"
awk 'NR > 2 && n < 60 { print $1; n++ }' "$big/proc/slabinfo" >"$T/caches"
awk -v ncg="$(wc -l <"$T/cgpaths")" '
    NR == FNR { c[n++] = $1; next }
    FNR == 1 { printf "kmem-owners 1\ntaken 1764964800.0\ncpu_seconds 0\npages 1\nslabs 1\n"
               printf "objects_charged %d\nobjects_uncharged 0\nrows %d\n", ncg * n * (n + 1) / 2, ncg * n }
    { for (i = 0; i < n; i++) printf "%d\t%d\t%d\t%s\t%s\n", FNR + 100, i + 1, (FNR * 7919 + i * 104729) % 900000 + 4096, c[i], $0 }
' "$T/caches" "$T/cgpaths" >"$big/kmem-owners.txt"
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
sed 's|</body>|<script>kmemNoSuchFunction();</script></body>|' "$T/k8s.html" >"$T/scripterr.html"
if python3 "$CHECK" "$T/scripterr.html" "$T/k8s.json" >"$T/scripterr.out" 2>&1; then
    not_ok "a page with a script error fails the check"
else
    check "a page with a script error fails the check (the console's message)" \
        grep -q '^not ok - no script error.*kmemNoSuchFunction' "$T/scripterr.out"
fi
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
if "$K" --html "$T/x.html" -d 2 >/dev/null 2>"$T/e3"; then
    not_ok "--html with -d is refused"
else
    check "--html with -d is refused with a reason" grep -q -- "-d and -s do not apply" "$T/e3"
fi
finish
