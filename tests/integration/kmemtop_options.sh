#!/bin/sh
# kmemtop's options say what they do: --node -o, two samples with -d,
# sorting by growth, sort keys, conflicts, -h and the man page; and
# --capture: the metadata file, --force, and every way a capture can fail
# (exit 1, a message, nothing outside the capture touched), into a directory
# or a tarball.
. "$(dirname "$0")/../lib.sh"
K="$B/kmemtop"
T=$(tmpdir)
chmod 755 "$T"
trap 'umount "$T/cap/bind" 2>/dev/null; umount "$T/small" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
F="$SHARED_FIXTURE"
CG="$FIXTURES/v2-systemd-containerd"
[ -x "$K" ] || { not_ok "kmemtop is built at $K"; finish; }

# run ARGS...: stdout, stderr, status into $T/out, $T/err, $rc
run() {
    "$K" "$@" >"$T/out" 2>"$T/err"
    rc=$?
}
err_has() { grep -q -- "$1" "$T/err"; }
out_has() { grep -q -- "$1" "$T/out"; }

# ---- what -o prints --------------------------------------------------------
run --root "$F" --node -o
check_eq "--node -o exits 0" 0 "$rc"
check "--node -o prints the node view" sh -c "head -1 '$T/out' | grep -q '^node kernel memory .* of MemTotal'"
check "--node -o: the kinds table" grep -q '^KIND  *SIZE  SHARE  NOTE$' "$T/out"
check "--node -o: not the slab view" sh -c "! grep -q 'Active / Total' '$T/out'"
run --root "$CG" --cgroups -o -s n
check_eq "--cgroups -o -s n exits 0" 0 "$rc"
check_eq "--cgroups -o -s n sorts by name" "/ /kubepods.slice" "$(sed -n '3p;4p' "$T/out" | awk '{ print $NF }' | tr '\n' ' ' | sed 's/ $//')"
check "--cgroups -o: no CHANGE column from one sample" sh -c "! grep -q CHANGE '$T/out'"

# ---- sort keys -------------------------------------------------------------
run --root "$F" -o -s x
check_eq "-s x: exit 1" 1 "$rc"
check "-s x: names the key and lists the valid ones" err_has "unknown sort key 'x' for the slab view (a b c l v n o p s u g"
check "-s x: prints nothing" [ ! -s "$T/out" ]
run --root "$F" -o -s cache
check_eq "-s cache: exit 1 (kmemtop does not guess from a word)" 1 "$rc"
check "-s cache: says a key is one letter" err_has "a sort key is one letter"
run --root "$CG" --cgroups -o -s c
check_eq "--cgroups -s c: exit 1" 1 "$rc"
check "--cgroups -s c: lists the cgroup keys" err_has "(k kernel, g change, G growth, r per min, n name)"
run --root "$F" -o -s C
check_eq "-s C: the case of a slab key does not matter, as in slabtop" 0 "$rc"
run --root "$F" -o -s g
check_eq "-o -s g without -d: exit 1" 1 "$rc"
check "-o -s g: says why and what to do" err_has "add -d SECONDS to take two samples"
run --root "$CG" --cgroups -o -s g
check_eq "--cgroups -o -s g without -d: exit 1" 1 "$rc"
run --root "$F" --node -o -s c
check_eq "--node -o -s c: -s does not apply, exit 1" 1 "$rc"

# ---- conflicts ---------------------------------------------------------------
run --root "$F" --report --json
check_eq "--report --json: exit 1" 1 "$rc"
check "--report --json: says to choose" err_has "choose one"
run --root "$F" --report -d 2
check_eq "--report -d 2: exit 1" 1 "$rc"
run --root "$F" --force
check_eq "--force without --capture: exit 1" 1 "$rc"
check "--force without --capture: says what it goes with" err_has "--force goes with --capture"

# ---- two samples: -d N with -o and --json -----------------------------------
R="$T/root"
cp -r "$F" "$R"
grow_later() { # grow dentry by 256 one-page slabs (+1.0M) in half a second, in place
    (sleep 0.5 && awk '$1 == "dentry" { $2 += 256 * $5; $3 += 256 * $5; $14 += 256; $15 += 256 } { print }' \
        "$R/proc/slabinfo" >"$T/slab.new" && cat "$T/slab.new" >"$R/proc/slabinfo") &
}
grow_later
start=$(date +%s)
run --root "$R" -o -d 2 -s g
wait
check_eq "-o -d 2 -s g: exit 0" 0 "$rc"
check "-o -d 2: took its two samples 2 s apart" [ $(($(date +%s) - start)) -ge 2 ]
check "-o -d 2: the CHANGE column" out_has "CACHE SIZE    CHANGE NAME"
check_eq "-o -d 2 -s g: the cache that grew comes first, with its change" "+1.0M dentry" \
    "$(awk '/CHANGE NAME/ { getline; print $(NF - 1), $NF; exit }' "$T/out")"
grow_later
run --root "$R" --json -d 2
wait
check_eq "--json -d 2: exit 0" 0 "$rc"
check_eq "--json -d 2: delta_bytes of the cache that grew" 1048576 \
    "$(jq '.slab.caches[] | select(.name == "dentry" and .dup == 0) | .delta_bytes' "$T/out")"
check_eq "--json -d 2: every cache has a delta" 0 "$(jq '[.slab.caches[] | select(.delta_bytes == null)] | length' "$T/out")"
check_eq "--json -d 2: every cgroup has a delta" 0 "$(jq '[.cgroups.items[] | select(.delta_kernel_bytes == null)] | length' "$T/out")"
run --root "$R" -o
check "-o alone: still procps's bytes (no CHANGE column)" sh -c "! grep -q CHANGE '$T/out'"

# ---- -h and the man page list every option ----------------------------------
run -h
check_eq "-h exits 0" 0 "$rc"
for o in -d --delay -o --once -s --sort --cgroups --node --report --json --capture --force --root \
    -h --help -V --version; do
    check "-h lists $o" grep -q -- " ${o}[ ,]" "$T/out"
    check "kmemtop(1) lists $o" grep -q -- "$(echo "$o" | sed 's/-/\\\\-/g')" "$B/man/kmemtop.1"
done
check "-h: --root reads var/log too" out_has "<dir>/var/log"
check "-h: -d with -o takes two samples" out_has "take two samples"

# ---- capture: metadata --------------------------------------------------------
run --root "$F" --capture "$T/cap" --json
check_eq "capture: exit 0" 0 "$rc"
M="$T/cap/kmem-capture.txt"
check "capture: kmem-capture.txt is written" [ -f "$M" ]
check_eq "capture: kmem-capture.txt is private (0600)" 600 "$(stat -c %a "$M")"
for k in date hostname kernel kmem command; do
    check "capture: kmem-capture.txt has '$k: '" grep -q "^$k: ." "$M"
done
check "capture: the command line is recorded" grep -q -- "^command: .*kmemtop --root $F --capture $T/cap --json$" "$M"
check "capture: the kernel is the captured tree's" grep -q "^kernel: $(cat "$F/proc/sys/kernel/osrelease" 2>/dev/null || echo unknown)$" "$M"
# a tree that names its host and kernel (the shared fixture has neither):
# each line has its own file's value
mkdir -p "$T/named"
cp -r "$F/." "$T/named/"
mkdir -p "$T/named/proc/sys/kernel"
echo kmem-named-host >"$T/named/proc/sys/kernel/hostname"
echo 6.18.0-kmem-named >"$T/named/proc/sys/kernel/osrelease"
run --root "$T/named" --capture "$T/cap-named" --json
check_eq "capture of a named tree: exit 0" 0 "$rc"
check_eq "capture: hostname is proc/sys/kernel/hostname's" "hostname: kmem-named-host" \
    "$(grep '^hostname: ' "$T/cap-named/kmem-capture.txt")"
check_eq "capture: kernel is proc/sys/kernel/osrelease's" "kernel: 6.18.0-kmem-named" \
    "$(grep '^kernel: ' "$T/cap-named/kmem-capture.txt")"
run --root "$T/cap" --report
check "--report of a capture: the header says where it comes from" \
    sh -c "sed -n 2p '$T/out' | grep -q '^Read from a capture: taken .* on host .*, Linux .*, by kmem '"
check "--report of a capture: and how it was taken" sh -c "sed -n 3p '$T/out' | grep -q '^  with: .*--capture $T/cap --json'"
run --root "$F" --report
check "--report of a tree that is no capture: no such header" sh -c "! grep -q 'Read from a capture' '$T/out'"
# control characters in the command line stay out of the file and the report
run --root "$F" --capture "$T/esc$(printf '\033')[2J" -o
check_eq "capture with -o: exit 0" 0 "$rc"
check "capture with -o: the slab view is printed" out_has "Active / Total Objects"
check "capture with -o: every part is captured (cgroups too)" [ -d "$T/esc$(printf '\033')[2J/sys/fs/cgroup" ]
check "capture: no control character in kmem-capture.txt" sh -c "! grep -q \"\$(printf '\\033')\" '$T/esc'*/kmem-capture.txt"

# ---- capture: --force ---------------------------------------------------------
echo old >"$T/cap/old-file"
run --root "$F" --capture "$T/cap"
check_eq "an earlier capture without --force: exit 1" 1 "$rc"
check "... it says the directory is not empty" err_has "it is not empty"
check "... and that --force replaces a capture" err_has "--force replaces an earlier capture"
check "... and leaves it alone" [ -f "$T/cap/old-file" ]
mkdir -p "$T/outside" && echo keep >"$T/outside/file"
ln -s "$T/outside" "$T/cap/link-dir"
ln -s "$T/outside/file" "$T/cap/proc/link-file"
run --root "$F" --capture "$T/cap" --force --json
check_eq "--force on an earlier capture: exit 0" 0 "$rc"
check "--force: the old contents are gone" [ ! -e "$T/cap/old-file" ]
check "--force: symlinks inside are removed, not followed" sh -c "[ ! -L '$T/cap/link-dir' ] && [ ! -L '$T/cap/proc/link-file' ]"
check_eq "--force: what they pointed at is untouched" keep "$(cat "$T/outside/file")"
check "--force: a new capture is there" grep -q "^command: .*--force" "$T/cap/kmem-capture.txt"
mkdir -p "$T/notcap/sub" && echo mine >"$T/notcap/sub/data"
run --root "$F" --capture "$T/notcap" --force
check_eq "--force on a directory that is no capture: exit 1" 1 "$rc"
check "... it says why" err_has "holds no kmem-capture.txt, so it is not a kmem capture"
check_eq "... and removes nothing" mine "$(cat "$T/notcap/sub/data")"
mkdir -p "$T/cap/bind"
mount --bind "$T/outside" "$T/cap/bind"
run --root "$F" --capture "$T/cap" --force
check_eq "--force with a mount point inside: exit 1" 1 "$rc"
check "... it names the mount point" err_has "$T/cap/bind: .*(a mount point; not removed)"
check_eq "... nothing under the mount is removed" keep "$(cat "$T/cap/bind/file")"
check "... nothing else is removed either (checked before removing)" [ -f "$T/cap/kmem-capture.txt" ]
umount "$T/cap/bind"
mkdir -p "$T/theirs" && chmod 1777 "$T/theirs"
setpriv --reuid=65534 --regid=65534 --clear-groups sh -c \
    "mkdir '$T/theirs/cap' && echo x >'$T/theirs/cap/kmem-capture.txt' && echo data >'$T/theirs/cap/f'"
run --root "$F" --capture "$T/theirs/cap" --force
check_eq "--force on another user's capture: exit 1" 1 "$rc"
check "... it says whose it is" err_has "belongs to uid 65534"
check_eq "... and removes nothing" data "$(cat "$T/theirs/cap/f")"

# ---- capture: write failures ----------------------------------------------------
mkdir -p "$T/small"
mount -t tmpfs -o size=64k tmpfs "$T/small"
run --root "$F" --capture "$T/small/cap" --json
check_eq "a capture that runs out of space: exit 1" 1 "$rc"
check "... it says which file could not be written, and why" err_has "capture failed: cannot .* $T/small/cap/.*No space left on device"
check "... no 'captured into' line" sh -c "! grep -q 'captured into' '$T/err'"
umount "$T/small"
run --root "$F" --capture /proc/kmem-capture-test --json
check_eq "a capture directory that cannot be created: exit 1" 1 "$rc"
check "... it names it" err_has "cannot create capture directory /proc/kmem-capture-test"

# ---- capture into a tarball: its failures -------------------------------------
# (its replay is in kmemtop_outputs.sh) Every failure: exit 1, a message, no
# tarball, and no private directory left behind.
TB="$T/tb"
mkdir "$TB"
leftovers() { find "$TB" -mindepth 1 -maxdepth 1 -name '.*kmem-*' | wc -l; }
run --root "$F" --capture "$TB/a.tar.gz" -o
check_eq "--capture FILE.tar.gz -o: exit 0" 0 "$rc"
check "... the slab view is printed" out_has "Active / Total Objects"
check_eq "... the tarball is private (0600)" 600 "$(stat -c %a "$TB/a.tar.gz")"
check "... it says how to replay it" err_has "captured into $TB/a.tar.gz; replay with: tar -xzf $TB/a.tar.gz && kmemtop --root a$"
check_eq "... every member is under a/" "" "$(tar -tzf "$TB/a.tar.gz" | grep -v '^a/')"
check "... with the capture's metadata" sh -c "tar -xzOf '$TB/a.tar.gz' a/kmem-capture.txt | grep -q '^command: .*--capture $TB/a.tar.gz -o$'"
check_eq "... files 0600 and directories 0700 inside" "" \
    "$(tar -tzvf "$TB/a.tar.gz" | awk '$1 !~ /^(-rw-------|drwx------|lrwxrwxrwx)$/')"
check_eq "... and no private directory is left" 0 "$(leftovers)"
cp "$TB/a.tar.gz" "$T/a.before"
run --root "$F" --capture "$TB/a.tar.gz" --json
check_eq "an existing tarball without --force: exit 1" 1 "$rc"
check "... it says so, and what --force does" err_has "refusing to overwrite $TB/a.tar.gz: it exists (--force replaces it)"
check "... nothing is printed" [ ! -s "$T/out" ]
check "... the tarball is untouched" cmp -s "$T/a.before" "$TB/a.tar.gz"
run --root "$F" --capture "$TB/a.tar.gz" --force
check_eq "--force replaces the tarball: exit 0" 0 "$rc"
check "... with the new capture" sh -c "tar -xzOf '$TB/a.tar.gz' a/kmem-capture.txt | grep -q '^command: .*--force$'"
mkdir "$TB/d.tgz"
run --root "$F" --capture "$TB/d.tgz" --force
check_eq "a directory named .tgz: exit 1, even with --force" 1 "$rc"
check "... it says so" err_has "--capture $TB/d.tgz: that is a directory"
rmdir "$TB/d.tgz"
run --root "$F" --capture "$TB/.tar.gz"
check_eq "a tarball without a name: exit 1" 1 "$rc"
check "... it says to name it" err_has "name the tarball"
run --root "$F" --capture /proc/kmem-capture-test.tar.gz
check_eq "a tarball in a directory that cannot be written: exit 1" 1 "$rc"
check "... it names the directory" err_has "cannot create a private directory for the capture in /proc"
# tar runs by absolute path (/usr/bin/tar or /bin/tar) with an environment
# of its own (issue 24): a tar on PATH, or no PATH at all, changes nothing.
mkdir -p "$T/fakebin"
printf '#!/bin/sh\necho "tar: pretending to fail" >&2\nexit 2\n' >"$T/fakebin/tar"
chmod 755 "$T/fakebin/tar"
# (an assignment before a shell function may outlive it: on the command itself)
PATH="$T/fakebin:$PATH" "$K" --root "$F" --capture "$TB/f.tar.gz" --json >"$T/out" 2>"$T/err"
rc=$?
check_eq "a failing tar on PATH is not the one run: exit 0" 0 "$rc"
check "... the tarball lists the capture" sh -c "tar -tzf '$TB/f.tar.gz' | grep -q kmem-capture.txt"
check_eq "... no private directory left" 0 "$(leftovers)"
PATH=/nonexistent "$K" --root "$F" --capture "$TB/n.tar.gz" >"$T/out" 2>"$T/err"
rc=$?
check_eq "no PATH: tar still found by its absolute path, exit 0" 0 "$rc"
check_eq "... no private directory left" 0 "$(leftovers)"
"$K" --root "$F" --capture "$TB/i.tar.gz" --json -d 30 >"$T/out" 2>"$T/err" &
pid=$!
sleep 1
kill -INT "$pid"
wait "$pid"
rc=$?
check_eq "interrupted (SIGINT during -d 30): exit 1" 1 "$rc"
check "... it says so" err_has "interrupted (Interrupt): no tarball written"
check "... prints no document" [ ! -s "$T/out" ]
check "... no tarball" [ ! -e "$TB/i.tar.gz" ]
check_eq "... no private directory left" 0 "$(leftovers)"
mount -t tmpfs -o size=64k tmpfs "$T/small"
run --root "$F" --capture "$T/small/s.tar.gz" --json
check_eq "a tarball's capture that runs out of space: exit 1" 1 "$rc"
check "... it says which file could not be written" err_has "capture failed: cannot .*No space left on device"
check_eq "... and the private directory is removed (the tmpfs is empty)" "" "$(ls -A "$T/small")"
umount "$T/small"
finish
