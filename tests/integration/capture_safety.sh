#!/bin/sh
# Hostile trees and capture directories: kmem never blocks on a FIFO, never
# reads an endless file whole, and --capture (run as root) never writes
# through a symlink, into someone else's directory, or outside the root.
. "$(dirname "$0")/../lib.sh"
K="$B/kmemtop"
T=$(tmpdir)
chmod 755 "$T" # the unprivileged user below must reach its own directories
trap 'rm -rf "$T"' EXIT
F="$SHARED_FIXTURE"

# ---- a FIFO where a kernel file should be: a clear error, at once
mkdir -p "$T/fifo"
cp -r "$F/proc" "$F/sys" "$T/fifo/" 2>/dev/null
rm -f "$T/fifo/proc/slabinfo" && mkfifo "$T/fifo/proc/slabinfo"
out=$(timeout 10 "$K" --root "$T/fifo" -o 2>&1)
st=$?
check_eq "FIFO as proc/slabinfo: kmemtop -o exits 1 (not hanging)" 1 "$st"
check "FIFO as proc/slabinfo: the message names the file and says why" \
    sh -c 'echo "$1" | grep -q "proc/slabinfo.*not a regular file"' _ "$out"
timeout 10 "$K" --root "$T/fifo" --json >/dev/null 2>&1
check "FIFO as proc/slabinfo: --json does not hang" [ $? -ne 124 ]
timeout 10 "$B/kmem_exporter" --root "$T/fifo" --once >"$T/fifo.prom" 2>/dev/null
check "FIFO as proc/slabinfo: exporter --once does not hang" [ $? -ne 124 ]
check "FIFO as proc/slabinfo: the slabinfo collector reports failure" \
    grep -q '^kmem_collector_success{collector="slabinfo"} 0' "$T/fifo.prom"
check "FIFO as proc/slabinfo: the node collector still works" \
    grep -q '^kmem_collector_success{collector="node"} 1' "$T/fifo.prom"

# ---- a file far larger than any kernel file: refused, bounded memory
mkdir -p "$T/big/proc"
cp "$F/proc/meminfo" "$T/big/proc/"
{ head -2 "$F/proc/slabinfo"; yes 'a 1 2 3 4 5 : tunables 0 0 0 : slabdata 1 1 0' | head -c 40000000; } \
    >"$T/big/proc/slabinfo"
out=$(/usr/bin/time -f '%M' "$K" --root "$T/big" -o 2>&1)
check "a 40 MB proc/slabinfo is refused as too large" \
    sh -c 'echo "$1" | grep -q "File too large"' _ "$out"
rss=$(echo "$out" | tail -1)
lim=80000 # KiB: the 32 MiB cap and the program; ASan's shadow memory needs more
case "$KMEM_BUILD" in *san*) lim=300000 ;; esac
check "... without reading it all (max RSS ${rss} KiB < $lim)" [ "${rss:-999999}" -lt "$lim" ]

# ---- capture: refuses a directory that is not empty, or not the caller's
mkdir -p "$T/full" && echo old >"$T/full/old"
"$K" --root "$F" --capture "$T/full" --json >/dev/null 2>"$T/full.err"
check_eq "capture into a non-empty directory exits 1" 1 $?
check "... and says it is not empty" grep -q "not empty" "$T/full.err"
check "... without a 'captured into' line" sh -c "! grep -q 'captured into' '$T/full.err'"

# The attack: another (unprivileged) user prepares the capture directory with
# a symlink inside that points at a root-only file.
mkdir -p "$T/att" && chmod 1777 "$T/att"
echo secret-root-data >"$T/rootonly" && chmod 600 "$T/rootonly"
setpriv --reuid=65534 --regid=65534 --clear-groups sh -c \
    "mkdir -p '$T/att/cap/proc' && ln -s '$T/rootonly' '$T/att/cap/proc/meminfo'"
check "the unprivileged user planted a symlink" [ -L "$T/att/cap/proc/meminfo" ]
"$K" --root "$F" --capture "$T/att/cap" --json >/dev/null 2>"$T/att.err"
check_eq "root's capture into the user's directory exits 1" 1 $?
check "... and says whose it is" grep -q "belongs to uid 65534" "$T/att.err"
check_eq "... the root-only file is untouched" "secret-root-data" "$(cat "$T/rootonly")"
# Even an empty directory of the user's is refused (they could plant later).
setpriv --reuid=65534 --regid=65534 --clear-groups mkdir "$T/att/empty"
"$K" --root "$F" --capture "$T/att/empty" --json >/dev/null 2>&1
check_eq "root's capture into the user's empty directory exits 1" 1 $?
# A symlink as the capture directory itself.
ln -s "$T/att/empty" "$T/link"
"$K" --root "$F" --capture "$T/link" --json >/dev/null 2>&1
check_eq "a symlink as the capture directory is refused" 1 $?

# ---- capture: private modes
"$K" --root "$F" --capture "$T/cap" --json >/dev/null 2>"$T/cap.err"
check_eq "capture into a new directory exits 0" 0 $?
check_eq "the capture directory is mode 700" 700 "$(stat -c %a "$T/cap")"
check_eq "every captured directory is mode 700" "" "$(find "$T/cap" -type d ! -perm 700)"
check_eq "every captured file is mode 600" "" "$(find "$T/cap" -type f ! -perm 600)"
check "proc/slabinfo was captured" [ -s "$T/cap/proc/slabinfo" ]

# ---- --root with a symlink leading out of the root: never copied
mkdir -p "$T/esc"
cp -r "$F/proc" "$F/sys" "$T/esc/" 2>/dev/null
rm -f "$T/esc/proc/slabinfo" && ln -s "$T/rootonly" "$T/esc/proc/slabinfo"
"$K" --root "$T/esc" --capture "$T/esc-cap" --json >/dev/null 2>"$T/esc.err"
check_eq "a file reached through a symlink out of the root: capture exits 1" 1 $?
check "... and names it" grep -q "refusing to copy $T/rootonly" "$T/esc.err"
check "... and no copy of it exists" sh -c "! grep -rq secret-root-data '$T/esc-cap'"

# ---- capture write failures are errors
mkdir -p "$T/ro" && chmod 500 "$T/ro"
setpriv --reuid=65534 --regid=65534 --clear-groups "$K" --root "$F" --capture "$T/ro/cap" \
    --json >/dev/null 2>"$T/ro.err"
check_eq "capture into an unwritable place exits 1" 1 $?
check "... with no 'captured into' line" sh -c "! grep -q 'captured into' '$T/ro.err'"
# ---- a cgroup tree deeper than the walk goes: reported, not silently cut
mkdir -p "$T/deep/proc" "$T/deep/sys/fs/cgroup/memory"
cp "$FIXTURES/v1-cgroupfs/proc/"* "$T/deep/proc/"
cp "$FIXTURES/v1-cgroupfs/sys/fs/cgroup/memory/"memory.* "$T/deep/sys/fs/cgroup/memory/"
d="$T/deep/sys/fs/cgroup/memory"
for _ in $(seq 1 200); do
    d="$d/x"
    mkdir "$d" && echo 4096 >"$d/memory.kmem.usage_in_bytes" && echo 0 >"$d/memory.usage_in_bytes"
done
"$B/kmem_exporter" --root "$T/deep" --once >"$T/deep.prom" 2>/dev/null
# Counted down to 64 levels below the first skipped one (the count is bounded too).
unnamed=$(awk '$1 == "kmem_cgroups_skipped{reason=\"unnamed\"}" { print $2 }' "$T/deep.prom")
check "200 levels of cgroups: the ones below level 64 are counted, reason unnamed ($unnamed)" \
    test "${unnamed:-0}" -ge 65
check "... not as errors" grep -q '^kmem_cgroups_skipped{reason="error"} 0$' "$T/deep.prom"
check "... and the cgroup collector succeeds: the rest was read (issue 24)" \
    grep -q '^kmem_collector_success{collector="cgroup"} 1$' "$T/deep.prom"
check_eq "... while the 65 levels it read are exported" 65 \
    "$(grep -c '^kmem_cgroup_kernel_bytes{' "$T/deep.prom")"
check_eq "--json says so too" "$unnamed" "$("$K" --root "$T/deep" --json | jq .cgroups.skipped_unnamed)"
finish
