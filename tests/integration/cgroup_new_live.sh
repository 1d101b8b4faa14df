#!/bin/sh
# New cgroups at every depth, the top level included, appear in a running
# kmem_exporter within one collection (and removed ones leave it):
#   1. cgroup v1, live, at /sys/fs/cgroup/memory: the exporter keeps the tree
#      of its last walk and re-reads it while every directory's link count is
#      unchanged; a cgroup made at the top level changes only the hierarchy
#      root's (the bug this catches: reuse_tree() did not compare it);
#   2. the same in the interactive kmemtop (tmux, cgroup view, -d 1);
#   3. cgroup v2, a fixture tree (--root) changed while the exporter runs.
# Each scrape collects (--collect.min-interval 0), and each check is made on
# the first scrape after the change. Cleans up in a trap.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exporter.lib.sh"
M=/sys/fs/cgroup/memory
K="$B/kmemtop"
NEW=kmem-suite-new-$$
BASE=kmem-suite-base-$$
T=$(tmpdir)
chmod 755 "$T"
SOCK="kmem-new-$$"
cleanup() {
    stop_all
    tmux -L "$SOCK" kill-server 2>/dev/null
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"
    for d in "$M/$NEW" "$M/$BASE" "$M/$NEW-tui"; do
        [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ -x "$E" ] && [ -x "$K" ] || { not_ok "kmem_exporter and kmemtop are built in $B"; finish; }

# scrape PORT: one scrape into $T/s.txt; the cgroup labels into $T/cg.txt.
scrape() {
    curl -s -m 60 -o "$T/s.txt" "http://127.0.0.1:$1/metrics"
    sed -n 's/^kmem_cgroup_kernel_bytes{cgroup="\([^"]*\)".*/\1/p' "$T/s.txt" >"$T/cg.txt"
}
seen() { grep -qxF -- "$1" "$T/cg.txt"; }
absent() { ! grep -qxF -- "$1" "$T/cg.txt"; }
ncg() { wc -l <"$T/cg.txt"; }

# ---- 1. v1, live --------------------------------------------------------
if [ "$(id -u)" -ne 0 ] || [ ! -f "$M/memory.kmem.usage_in_bytes" ]; then
    not_ok "needs root and a cgroup v1 memory controller at $M"
    finish
fi
# first_base: make BASE the first directory the root lists (kernfs lists by
# a hash of the name): the reader's first known cgroup, whose watch must be
# indexed as every other's (a new cgroup below it is seen). Tries up to 40
# names; a cgroup made later by someone else may come before it (the check
# then covers another cgroup, and still holds).
first_base() {
    for i in $(seq 40); do
        BASE=kmem-suite-base-$$-$i
        mkdir "$M/$BASE" || return 1
        first=$(ls -f "$M" | while read -r d; do [ -d "$M/$d" ] && [ "$d" != . ] && [ "$d" != .. ] && echo "$d" && break; done)
        [ "$first" = "$BASE" ] && return 0
        rmdir "$M/$BASE"
    done
    BASE=kmem-suite-base-$$
    echo "# no name of 40 came first in the listing of $M: /$BASE is not the first cgroup"
    mkdir "$M/$BASE"
}
# v1_run LABEL METHOD CMD...: section 1 with the exporter run as CMD
# (followed by its flags), which sees changes by METHOD ("inotify" or "link
# counts", its debug log). With inotify a renamed cgroup is seen too; link
# counts do not change on a rename (the fallback sees it at its next full
# walk, within 300 s).
v1_run() {
    LBL=$1 METHOD=$2
    shift 2
    first_base || { not_ok "$LBL: mkdir $M/$BASE"; return; }
    P=$(free_port)
    spawn "$T/v1.log" "$@" --web.listen-address "127.0.0.1:$P" --collect.min-interval 0 \
        --log.level debug --collector.cgroup.series-budget 4096
    check "$LBL: exporter answers" wait_url "http://127.0.0.1:$P/metrics" 60
    # Two scrapes: the second (and every later one) may re-read the known tree.
    scrape "$P"
    scrape "$P"
    check "$LBL: the base cgroup is seen ($(ncg) cgroups, at least 2)" sh -c "[ $(ncg) -ge 2 ] && grep -qxF /$BASE '$T/cg.txt'"
    # Depth 1, 2, 3 under a new top-level cgroup, and depth 2 under a known one.
    mkdir "$M/$NEW"
    scrape "$P"
    check "$LBL: a new top-level cgroup is seen by the next scrape" seen "/$NEW"
    scrape "$P"
    check "$LBL: ... and by the one after (the known tree has it)" seen "/$NEW"
    mkdir "$M/$NEW/d2"
    scrape "$P"
    check "$LBL: a new depth-2 cgroup is seen by the next scrape" seen "/$NEW/d2"
    mkdir "$M/$NEW/d2/d3"
    scrape "$P"
    check "$LBL: a new depth-3 cgroup is seen by the next scrape" seen "/$NEW/d2/d3"
    mkdir "$M/$BASE/b2"
    scrape "$P"
    check "$LBL: a new cgroup below a known top-level one is seen by the next scrape" seen "/$BASE/b2"
    rmdir "$M/$NEW/d2/d3" "$M/$NEW/d2"
    scrape "$P"
    check "$LBL: removed depth-2 and -3 cgroups leave the next scrape" sh -c "! grep -q '^/$NEW/' '$T/cg.txt'"
    rmdir "$M/$NEW"
    scrape "$P"
    check "$LBL: a removed top-level cgroup leaves the next scrape" absent "/$NEW"
    # A burst between two scrapes, at several depths at once: made, removed,
    # removed and made again under the same name (another cgroup), renamed.
    # The next scrape lists exactly the cgroups the kernel has under BASE.
    for i in 1 2 3 4 5 6; do mkdir -p "$M/$BASE/b2/x$i/y" "$M/$BASE/t$i"; done
    scrape "$P"
    rmdir "$M/$BASE/b2/x2/y" "$M/$BASE/b2/x2" "$M/$BASE/t3" "$M/$BASE/b2/x5/y"
    rmdir "$M/$BASE/t4" && mkdir "$M/$BASE/t4" "$M/$BASE/t4/z"
    mkdir -p "$M/$BASE/b2/x1/y/z/w" "$M/$BASE/n1/n2/n3"
    [ "$METHOD" = inotify ] && mv "$M/$BASE/t6" "$M/$BASE/t6-renamed"
    scrape "$P"
    (cd "$M" && find "$BASE" -type d | sed 's,^,/,' | sort) >"$T/kernel.txt"
    grep "^/$BASE" "$T/cg.txt" | sort >"$T/seen.txt"
    nk=$(wc -l <"$T/kernel.txt")
    check "$LBL: after a burst of changes the next scrape has the kernel's $nk cgroups under /$BASE (at least 20)" \
        sh -c "[ $nk -ge 20 ] && cmp -s '$T/kernel.txt' '$T/seen.txt'" ||
        diff "$T/kernel.txt" "$T/seen.txt" | sed 's/^/# /' | head -20
    check "$LBL: every scrape's cgroup collector succeeded" \
        grep -qx 'kmem_collector_success{collector="cgroup"} 1' "$T/s.txt"
    stop_all
    check "$LBL: the debug log says how changes are seen: $METHOD" \
        grep -Eq "Cgroup change detection\" method=\"?$METHOD" "$T/v1.log" ||
        grep "Cgroup change detection" "$T/v1.log" | sed 's/^/# /'
    find "$M/$BASE" -depth -type d -exec rmdir {} + 2>/dev/null
}
v1_run v1 inotify "$E"
# The fallback: a user namespace whose inotify watch limit is 1 (limits are
# per user namespace; the cgroup files stay readable).
if unshare -U -r true 2>/dev/null; then
    # shellcheck disable=SC2016 # $0 and $@ are the inner shell's
    v1_run "v1 without inotify" "link counts" unshare -U -r \
        sh -c 'echo 1 >/proc/sys/user/max_inotify_watches && exec "$0" "$@"' "$E"
else
    not_ok "unshare -U -r works (a user namespace for the inotify fallback)"
fi
mkdir "$M/$BASE" # for the kmemtop filter below

# ---- 2. v1, the interactive kmemtop -------------------------------------
if command -v tmux >/dev/null; then
    tm() { tmux -L "$SOCK" "$@"; }
    tm new-session -d -s keep "sleep 100000"
    tm new-session -d -s kt -x 200 -y 50 "$K --cgroups -d 1"
    # wait_for STRING: the screen shows it; a hang bound (60 s), not a speed.
    wait_for() {
        i=0
        while [ $i -lt 600 ]; do
            tm capture-pane -p -t kt | grep -qF -- "$1" && return 0
            sleep 0.1
            i=$((i + 1))
        done
        return 1
    }
    wait_for "KERNEL" || echo "# kmemtop did not start: $(tm capture-pane -p -t kt | head -5)"
    # A filter keeps this test's cgroups on the screen however many the
    # machine has (it shows the matches and their ancestors).
    tm send-keys -t kt / "-$$" Enter
    check "tui: kmemtop shows the cgroup view, filtered" wait_for "$BASE"
    sleep 2.5 # two refreshes: the known tree is in use
    mkdir "$M/$NEW-tui"
    check "tui: a new top-level cgroup appears (refresh every 1 s)" wait_for "$NEW-tui"
    mkdir "$M/$NEW-tui/kmem-suite-t2-$$"
    check "tui: a new depth-2 cgroup appears" wait_for "kmem-suite-t2-$$"
    tm kill-session -t kt
    rmdir "$M/$NEW-tui/kmem-suite-t2-$$" "$M/$NEW-tui"
else
    not_ok "tmux is installed (scripts/deps.sh)"
fi

# ---- 3. v2, a fixture tree changed while the exporter runs --------------
R="$T/v2"
cp -r "$FIXTURES/v2-systemd-containerd" "$R"
C="$R/sys/fs/cgroup"
P=$(free_port)
spawn "$T/v2.log" "$E" --web.listen-address "127.0.0.1:$P" --collect.min-interval 0 --root "$R"
check "v2: exporter answers" wait_url "http://127.0.0.1:$P/metrics" 60
scrape "$P"
scrape "$P"
n0=$(ncg)
check_eq "v2: the fixture's 14 cgroups" 14 "$n0"
# mkcg PATH: a v2 cgroup with the files kmem reads (a leaf's memory.stat),
# and the root's count of descendants raised as the kernel would.
leaf=$(find "$C" -mindepth 2 -name memory.stat | head -1)
mkcg() {
    mkdir "$C$1" && cp "$leaf" "$C$1/memory.stat" && : >"$C$1/cgroup.procs"
    awk '$1 == "nr_descendants" { $2++ } { print }' "$C/cgroup.stat" >"$T/st" && cat "$T/st" >"$C/cgroup.stat"
}
mkcg "/$NEW"
scrape "$P"
check "v2: a new top-level cgroup is seen by the next scrape" seen "/$NEW"
mkcg "/$NEW/d2"
scrape "$P"
check "v2: a new depth-2 cgroup is seen by the next scrape" seen "/$NEW/d2"
mkcg "/kubepods.slice/$NEW-k"
scrape "$P"
check "v2: a new cgroup below a known one is seen by the next scrape" seen "/kubepods.slice/$NEW-k"
check_eq "v2: 3 more cgroups than at the start" $((n0 + 3)) "$(ncg)"
rm -rf "${C:?}/$NEW"
scrape "$P"
check "v2: a removed subtree leaves the next scrape" sh -c "! grep -q '^/$NEW' '$T/cg.txt'"
stop_all
finish
