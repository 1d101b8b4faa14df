#!/bin/sh
# The interactive kmemtop in tmux at 80x24, 120x40 and 200x50, on a copy of
# the shared fixture whose /proc/slabinfo the test grows in place: CHANGE,
# GROWTH and the baseline key, key presses that redraw without collecting,
# scrolling with "N more", the filter, the help screen, the column layouts
# (the sysfs attribute columns at 200 against the fixture's and this machine's
# /sys/kernel/slab),
# the cgroup tree (pod names, folding), and a start without root.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.lib.sh"
T=$(tmpdir)
chmod 755 "$T" # the unprivileged run below reads the fixture copy
trap 'tm_cleanup; rm -rf "$T"' EXIT INT TERM
tm_setup tui kt

R="$T/root"
cp -r "$SHARED_FIXTURE" "$R"
CG="$T/cg"
cp -r "$FIXTURES/v2-systemd-containerd" "$CG"
SLAB="$R/proc/slabinfo"

# grow: slabs added to a cache of the fixture copy, in place (grow_slab);
# dentry: 1 page per slab, so 256 slabs are +1.0M
grow() { grow_slab "$SLAB" "$@"; }
pps=$(awk '$1 == "dentry" { print $6 }' "$SLAB")
[ "$pps" = 1 ] || not_ok "the fixture's dentry cache has 1 page per slab (has '$pps')"
ncache=$(($(grep -c . "$SLAB") - 2))

# ---- growth: CHANGE over the last timed refresh; keys do not collect ------
start 120 40 "$K --root $R -d 12"
check "120x40: the key line names the views, the sort, help and quit" \
    has '^\[1 slabs\] 2 cgroups  3 node  4 allocs  | sort: objects | every 12s | ? help  q quit$'
check "120x40: GROWTH and PER MIN are explained" has 'GROWTH: since .* (.*; b resets)  PER MIN: last 60s'
check_eq "first screen: CHANGE is blank before the first refresh" "" "$(cell CHANGE dentry)"
grow dentry 256
wait_for ' +1.0M .* dentry$' 300
check_eq "after a refresh: CHANGE of dentry is +1.0M" "+1.0M" "$(cell CHANGE dentry)"
check_eq "after a refresh: GROWTH of dentry is +1.0M" "+1.0M" "$(cell GROWTH dentry)"
t0=$(date +%s)
keys c
keys Down
keys Up
keys '?'
keys x
keys 2
keys 1
keys End
keys Home
if [ $(($(date +%s) - t0)) -lt 11 ]; then # the 12 s refresh has not come
    check_eq "nine key presses later, CHANGE still shows the last timed refresh" "+1.0M" \
        "$(cell CHANGE dentry)"
    check "... and the sort key took effect" has 'sort: cache size'
else
    not_ok "the key presses took longer than the refresh delay (a slow machine?)"
fi
wait_for ' 0  *+1.0M .* dentry$' 300
check_eq "the next refresh: CHANGE of dentry back to 0" "0" "$(cell CHANGE dentry)"
check_eq "... while GROWTH since the start holds at +1.0M" "+1.0M" "$(cell GROWTH dentry)"
keys b
check "b: the status line says the baseline was reset" has 'baseline reset: GROWTH counts from now'
keys 4
check "4 under --root: says the allocation view needs the live kernel" has 'view 4 traces the live kernel (BPF): a capture (--root) has none'
check "... and stays in the slab view" has ' dentry$'
check_eq "b: GROWTH of dentry restarts at 0" "0" "$(cell GROWTH dentry)"
grow dentry 512
wait_for ' +2.0M .* dentry$' 300
check_eq "after b and +2.0M: GROWTH is only what came after b" "+2.0M" "$(cell GROWTH dentry)"
keys G
check_eq "G sorts by growth: dentry comes first" dentry "$(screen | awk '/NAME/ { getline; print $NF; exit }')"

# the cgroup view of the same tree keeps its own baseline and CHANGE
keys 2
check "2: the cgroup view, as a tree" has 'sort: kernel, tree'
check "the cgroup view has GROWTH and PER MIN columns" has 'KERNEL   CHANGE   GROWTH  PER MIN'
check "... and the hybrid layout's empty columns are hidden (no SLAB on v1)" lacks ' SLAB '
tm kill-session -t "$S"

# ---- 80x24: full names, a readable key line, scrolling -------------------
start 80 24 "$K --root $R"
check "80x24: the whole key line fits" has '? help  q quit$'
check "80x24: procps's summary" has 'Active / Total Objects (% used)'
check "80x24: CHANGE, GROWTH, PER MIN fit beside the names" has 'CHANGE   GROWTH  PER MIN NAME'
check "80x24: no room for SHARE" lacks 'SHARE'
check "80x24: nor for the sysfs attributes" lacks 'RECL'
rows=$(screen | awk '/NAME$/ { on = 1; next } on && /^ *[0-9]/ { n++ } END { print n + 0 }')
check "80x24: the list fills the screen ($rows rows)" [ "$rows" -ge 12 ]
check_eq "80x24: '-- N more below' counts the rest" "$((ncache - rows))" \
    "$(screen | sed -n 's/^-- \([0-9]*\) more below.*/\1/p')"
keys / a l l o c a t i o n Enter
# a row whose last field is NAME
row_named() { screen | awk '{ print $NF }' | grep -qx -- "$1"; }
check "80x24: the longest names are whole (ext4_allocation_context)" row_named ext4_allocation_context
keys Escape
# the name in the first row under the heading
top_row() { screen | awk '/NAME$/ { getline; print $NF; exit }'; }
first=$(top_row)
keys NPage
check "PgDn: the first row moves on" test "$(top_row)" != "$first"
check "PgDn: rows above and below are counted" has '^-- [0-9]* more below, [0-9]* above'
keys End
last=$(awk 'NR > 2 { print $1, $3 }' "$SLAB" | sort -s -k2,2nr | tail -1 | cut -d' ' -f1)
check "End: the last cache in sort order is on screen ($last)" has " $last\$"
check "End: nothing below" has '^-- [0-9]* more above'
keys Home
check_eq "Home: back to the first row" "$first" "$(top_row)"

# ---- filter --------------------------------------------------------------
keys /
check "/: a prompt on the last line" has '^/   (Enter keeps, Esc clears)'
keys e x t 4
check "typing filters at once" has 'filter "ext4": [0-9]* of '"$ncache"' caches'
keys Enter
n=$(screen | awk '/NAME$/ { on = 1; next } on && /^ *[0-9]/ { print $NF }' | grep -vc ext4)
check_eq "the filter keeps only names with ext4" 0 "$n"
keys Escape
check "Esc clears the filter" lacks 'filter "ext4"'

# ---- help ----------------------------------------------------------------
keys '?'
check "?: the help screen" has 'keys (any key closes this help)'
for k in '1 slab caches  2 cgroups  3 node  4 allocations (BPF)' 'TAB next view' 'PgUp/PgDn' \
    'Enter keeps it, Esc clears it' 'b        reset the baseline' 'B objects per slab' 'G growth' \
    'r per min' 't tree or flat list' 'Left/- fold' \
    "Enter the cgroup's slab caches (a folded + unfolds); Esc/Left back" \
    'Allocs     n net growth since the view opened (default)   c change' \
    'r allocation rate; traced with BPF only while the view is shown' \
    '~ = sum of the parts' 'Quit       q'; do
    check "help lists: $k" has "$k"
done
keys z
check "any key closes the help (and z does nothing else)" has 'sort: objects'
tm kill-session -t "$S"

# ---- the allocations view at 80x24 (BPF, on this machine) -----------------
start 80 24 "$K -d 1"
keys 4
if wait_for '^ *NET  *CHANGE' 300; then
    check "80x24 allocs: NET, CHANGE, ACCT, CACHE and the name fit in 80 columns" \
        has '^     NET   CHANGE .*ACCT CACHE  *CGROUP or'
    check "80x24 allocs: the summary is wrapped, not cut (its second line is indented)" \
        has '^  [0-9]* allocations and frees counted'
    # the tracer sees this test's own tmux and shell: more rows than fit, counted
    if wait_for '^-- [0-9]* more below' 50; then
        ok "80x24 allocs: '-- N more below' under the table"
    else
        check "80x24 allocs: no 'N more' line: every row fits" \
            test "$(screen | awk '/^ *NET  *CHANGE/ { on = 1; next } on && NF { n++ } END { print n + 0 }')" -lt 16
    fi
    keys c
    check "80x24 allocs: c sorts by change" has 'sort: change'
    keys / k m a l l o c Enter
    check "80x24 allocs: / filters the rows by cache or name" \
        wait_for '^filter "kmalloc": [0-9]* of [0-9]* rows'
    keys Escape
else
    echo "ok - # SKIP the allocations view did not start here: $(screen | sed -n 2p)"
fi
tm kill-session -t "$S"

# ---- 200x50: more columns ------------------------------------------------
start 200 50 "$K --root $R"
check "200x50: every column, SHARE, UNUSED and the sysfs attributes too" \
    has '^  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE  SHARE   UNUSED RECL ACCT ALIASES ORDER   CHANGE   GROWTH  PER MIN NAME *$'
check "200x50: the legend of the attribute columns, ? and - included" \
    has '^RECL: in SReclaimable  ACCT: charged to cgroups (SLAB_ACCOUNT)  ? = not shown by sysfs  ALIASES: caches merged in  ORDER: 2^n pages a slab  - = not in /sys/kernel/slab$'
# The values are the fixture's own sys/kernel/slab files: dentry is reclaimable
# (SLAB_ACCOUNT not shown for an unmerged cache), kmalloc-512 and task_struct not.
SYS="$R/sys/kernel/slab"
yn() { if [ "$(cat "$1")" = 1 ]; then echo yes; else echo no; fi; }
for c in dentry kmalloc-512 task_struct; do
    [ -d "$SYS/$c" ] || { not_ok "the fixture has sys/kernel/slab/$c"; continue; }
    keys /
    keys -l "$c"
    keys Enter
    wait_for "^filter \"$c\": [0-9]* of " >/dev/null
    got="$(cell RECL "$c" 4) $(cell ACCT "$c" 4) $(cell ALIASES "$c" 7) $(cell ORDER "$c" 5)"
    want="$(yn "$SYS/$c/reclaim_account") $(case $c in kmalloc-*) echo no ;; *) echo '?' ;; esac) $(cat "$SYS/$c/aliases") $(cat "$SYS/$c/order")"
    check_eq "200x50: RECL ACCT ALIASES ORDER of $c are its sys/kernel/slab files" "$want" "$got"
    keys Escape
done
check_eq "200x50: dentry is reclaimable" yes "$(cell RECL dentry 4)"
check_eq "200x50: kmalloc-512 is not" no "$(cell RECL kmalloc-512 4)"
# A cache whose entry is no directory in this capture (a merged cache's link,
# stored as a plain file by the kmem that took it): nothing is made up.
if [ -f "$SYS/buffer_head" ]; then
    check_eq "200x50: a cache without a sysfs directory shows -" "- - - -" \
        "$(cell RECL buffer_head 4) $(cell ACCT buffer_head 4) $(cell ALIASES buffer_head 7) $(cell ORDER buffer_head 5)"
fi
keys '?'
for k in 'RECL reclaimable, ACCT charged to cgroups (? = sysfs does' 'ALIASES caches merged in, ORDER 2^n pages a slab'; do
    check "200x50 help explains the attribute columns: $k" has "$k"
done
tm kill-session -t "$S"
# The same on this machine: dentry, and a merged cache (a link to ":flags-size",
# whose A flag is SLAB_ACCOUNT), against /sys/kernel/slab read here.
if [ -d /sys/kernel/slab/dentry ]; then
    start 200 50 "$K"
    for c in dentry $(find /sys/kernel/slab -maxdepth 1 -type l -printf '%f\n' | sort |
        while read -r n; do grep -q "^$n " /proc/slabinfo && echo "$n" && break; done); do
        keys /
        keys -l "$c"
        keys Enter
        wait_for "^filter \"$c\": [0-9]* of " >/dev/null
        d=/sys/kernel/slab/$c
        acct='?'
        if [ -L "$d" ]; then
            case $(readlink "$d" | sed 's,.*/,,; s,-.*,,') in *A*) acct=yes ;; *) acct=no ;; esac
        fi
        got="$(cell RECL "$c" 4) $(cell ACCT "$c" 4) $(cell ALIASES "$c" 7) $(cell ORDER "$c" 5)"
        # Unmerged: sysfs has no SLAB_ACCOUNT; yes* when the owner walk saw charged
        # objects of it (checked on a fixture by test_owners), else "?".
        if [ "$acct" = '?' ] && [ "$(cell ACCT "$c" 4)" = 'yes*' ]; then acct='yes*'; fi
        check_eq "live 200x50: RECL ACCT ALIASES ORDER of $c are /sys/kernel/slab's" \
            "$(yn "$d/reclaim_account") $acct $(cat "$d/aliases") $(cat "$d/order")" "$got"
        keys Escape
    done
    tm kill-session -t "$S"
fi
start 120 40 "$K --root $R"
check "120x40: procps's columns and the growth ones; no room for the attributes" \
    has '^  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE  SHARE   CHANGE   GROWTH  PER MIN NAME *$'
check "120x40: ... nor for their legend" lacks 'sysfs'
tm kill-session -t "$S"

# ---- the cgroup tree: pod names, folding, filter -------------------------
start 80 24 "$K --root $CG --cgroups"
check "cgroup tree: pods by name" has '      - monitoring/prometheus-0$'
check "cgroup tree: containers by name" has '          prometheus$'
check "cgroup tree: no scope or slice ids of pods" lacks 'cri-containerd-\|kubepods-pod'
check "cgroup tree at 80 columns: the growth columns first" has '^  KERNEL   CHANGE   GROWTH  PER MIN '
check "cgroup tree: the services under system.slice" has 'containerd.service$'
keys Down
keys Left
check "Left folds the selected cgroup (system.slice)" has '+ system.slice$'
check "... and hides its children" lacks 'containerd.service$'
keys Enter
check "Enter unfolds it" has 'containerd.service$'
keys t
check "t: the flat list with full names" has ' monitoring/prometheus-0/prometheus$'
keys t
keys / p r o m Enter
check "filter in the tree: the match and its ancestors" has 'filter "prom": 4 of 14 cgroups (with their ancestors)'
check "... the ancestors are there" has '  - kubepods.slice$'
check "... the rest is not" lacks 'system.slice$'
tm kill-session -t "$S"
start 200 50 "$K --root $CG --cgroups"
check "200x50 cgroups: the parts of cgroup v2 (SLAB, STACK, PGTABLE, OTHER)" \
    has 'SLAB    STACK  PGTABLE .*   OTHER'
check "200x50 cgroups: SHARE, PERCPU, SOCK and USAGE appear" has 'SHARE .* SOCK    USAGE'
tm kill-session -t "$S"

# ---- Enter on a cgroup: its slab caches (the owner snapshot) ---------------
OW="$T/ow"
cp -r "$FIXTURES/owners-v2" "$OW"
start 100 30 "$K --root $OW --cgroups"
check "the key line says Enter shows caches" has '| sort: kernel, tree, Enter caches |'
keys Down
keys Left
check "Left folds system.slice" has '+ system.slice$'
keys Enter
check "Enter on a folded parent still unfolds it" has 'containerd.service$'
check "... and stays in the cgroup tree" lacks 'slab caches'
keys t
keys / p r o m e t h e u s Enter
keys Down
keys Enter
check "Enter on a cgroup: its slab caches" has '^monitoring/prometheus-0/prometheus: slab caches   (Esc or Left: back to the cgroups)$'
check "... the key line says how to go back" has '| caches of a cgroup, Esc back |'
check "... memory.stat's slab beside" has '^kernel 22M, slab 18M (memory.stat, with its descendants)$'
check "... what the cgroup itself holds" has '^objects charged to this cgroup itself: 18M in 10 caches'
# every cache of the container's rows in the file (id 2533), and only those
n=0
screen >"$T/drill"
for c in $(awk -F '\t' 'NR > 8 && $1 == 2533 { print $4 }' "$OW/kmem-owners.txt"); do # cache names: no blanks
    if grep -q " $c\$" "$T/drill"; then n=$((n + 1)); else not_ok "drilldown shows $c"; fi
done
check_eq "... every cache of the file's rows for it (10)" 10 "$n"
check_eq "... and no other row" 10 "$(screen | grep -c '%  ')"
check "... objects and share of its dentry row" has '^     5.0M        27525  28.0%  dentry$'
check "... no cache of another cgroup" lacks 'ext4_inode_cache'
keys Escape
check "Esc: back to the cgroups (the filter kept)" has 'filter "prometheus": 2 of 14 cgroups'
keys Enter
keys Left
check "Left: back as well" has 'filter "prometheus": 2 of 14 cgroups'
tm kill-session -t "$S"
start 100 30 "$K --root $CG --cgroups"
keys Enter
check "no owner snapshot: the drilldown says so" has '^Slab caches per cgroup are not known:$'
check "... in one line, the reason" has 'no owner snapshot: no kmem-owners.txt under this root'
tm kill-session -t "$S"

# ---- a capture: the screen says which, since its numbers do not change ----
"$K" --root "$CG" --capture "$T/capture" 2>/dev/null
host=$(sed -n 's/^hostname: //p' "$T/capture/kmem-capture.txt")
kern=$(sed -n 's/^kernel: //p' "$T/capture/kmem-capture.txt")
when=$(sed -n 's/^date: \(....-..-..\)T\(..:..\).*/\1 \2/p' "$T/capture/kmem-capture.txt")
start 80 24 "$K --root $T/capture"
check "a capture: line 2 says which (host, kernel, date) instead of the growth legend" \
    has "^capture: $host, Linux $kern, $when (numbers do not change)\$"
keys 3
check "... and so does the node view" has "^capture: $host, Linux $kern, $when"
tm kill-session -t "$S"

# ---- without root: open where there is data; the slab view says why -----
chmod 400 "$SLAB"
chmod -R a+rX "$CG" "$R/sys" "$R/var" 2>/dev/null
start 80 24 "setpriv --reuid=65534 --regid=65534 --clear-groups $K --root $R"
check "not root: kmemtop opens on the cgroup view" has '^ 1 slabs \[2 cgroups\] 3 node'
keys 1
check "not root: the slab view says what it needs" has 'only root can read (mode 0400)'
check "not root: ... and how to get it" has 'setcap cap_dac_read_search+ep'
check "not root: ... and where to look meanwhile" has 'The cgroup view (2) and the node view (3)'
keys q
tm kill-session -t "$S" 2>/dev/null

tm_no_sanitizer_report
finish
