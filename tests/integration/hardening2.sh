#!/bin/sh
# Hardening, second pass (issue 24): flags that fail open, login starvation,
# probes behind a collection, --once's exit status, capture safety, terminal
# controls, names that differ in invalid UTF-8, trees that cannot be named,
# the exposition's size, slow connections. Hostile trees are built here in a
# temporary directory; servers listen on loopback only.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exporter.lib.sh"
K="$B/kmemtop"
T=$(tmpdir)
trap 'stop_all; rm -rf "$T"' EXIT INT TERM
R="--root $SHARED_FIXTURE"

# --- 3. A flag missing its value never swallows the next flag.
printf 'basic_auth_users:\n  u: x\n' >"$T/web.yml"
for args in "--collector.slabinfo.exclude --web.config.file=$T/web.yml" \
    "--collector.slabinfo.exclude --run-as=nobody" \
    "--web.listen-address --web.config.file $T/web.yml" \
    "--log.level --once"; do
    # shellcheck disable=SC2086
    st=$(timeout 5 "$E" $R --once $args 2>"$T/err" >/dev/null; echo $?)
    check "exporter refuses '$args' (exit $st: $(head -c 120 "$T/err"))" \
        sh -c "[ $st -eq 2 ] && grep -q 'needs a value' '$T/err'"
done
# --flag=--value is still a value (here a regexp that matches nothing).
"$E" $R --once --collector.slabinfo.exclude=--x >"$T/out" 2>"$T/err"
check_eq "exporter takes --collector.slabinfo.exclude=--x" 0 $?
for args in "--record --quiet" "--replay --at" "--html --once" "--diff --json" \
    "-d --once" "--root --once" "--at --replay"; do
    # shellcheck disable=SC2086
    st=$(timeout 5 "$K" $args x y 2>"$T/err" >/dev/null; echo $?)
    check "kmemtop refuses '$args' (exit $st: $(head -c 120 "$T/err"))" \
        sh -c "[ $st -ne 0 ] && grep -q 'needs a value' '$T/err'"
done
[ -d ./--quiet ] && not_ok "kmemtop created a directory named --quiet"

# --- 2. Wrong passwords from 24 addresses never keep a fresh login out.
PY="$(dirname "$0")/hardening2.py"
H1=$(htpasswd -nbBC 10 prometheus 's3cret!' | cut -d: -f2- | tr -d '\n')
printf 'basic_auth_users:\n  prometheus: %s\n' "$H1" >"$T/auth.yml"
P=$(free_port)
spawn "$T/auth.log" "$E" --web.listen-address "127.0.0.1:$P" $R --web.config.file "$T/auth.yml"
check "authenticated exporter answers" wait_url "http://127.0.0.1:$P/-/healthy"
timeout 120 python3 "$PY" starve "$P" prometheus 's3cret!'
check "login starvation client finished" test $? -eq 0
stop_all

# --- 11. Probes answer while collections run (a tree of 10 000 cgroups makes
# each collection long; four scrapes are sent before the probes).
TREE="$(dirname "$0")/hostile_tree.py"
V2="$FIXTURES/v2-systemd-containerd"
python3 "$TREE" "$V2" "$T/wide" wide 10000
P=$(free_port)
spawn "$T/probe.log" "$E" --web.listen-address "127.0.0.1:$P" --root "$T/wide" --collect.min-interval=0
check "exporter on 10 000 cgroups answers" wait_url "http://127.0.0.1:$P/-/ready" 60
timeout 200 python3 "$PY" probe "$P"
check "probe client finished" test $? -eq 0
stop_all

# --- 12. --once: exit 1 exactly when some kmem_collector_success is 0, and
# the exposition is written all the same.
once_case() { # NAME ROOT WANT-STATUS
    "$E" --once --root "$2" >"$T/once.txt" 2>"$T/once.err"
    st=$?
    zero=$(grep -c '^kmem_collector_success{.*} 0$' "$T/once.txt")
    check "--once $1: exit $st (want $3), $zero collectors at success 0, families written" \
        sh -c "[ $st -eq $3 ] && [ \$(( $zero > 0 )) -eq $3 ] && grep -q '^kmem_exporter_build_info' '$T/once.txt'"
}
once_case "clean fixture" "$V2" 0
cp -a "$V2" "$T/noslab" && rm "$T/noslab/proc/slabinfo"
once_case "without slabinfo" "$T/noslab" 1
cp -a "$V2" "$T/badcg" && echo "kernel abc" >"$T/badcg/sys/fs/cgroup/system.slice/memory.stat"
once_case "with an unreadable cgroup (skipped on errors)" "$T/badcg" 1

# --- 4. --capture X.tar.gz runs /usr/bin/tar (or /bin/tar) with an
# environment of its own: neither a tar on PATH nor TAR_OPTIONS runs.
mkdir "$T/fakebin" && printf '#!/bin/sh\ntouch %s/fake-tar-ran\nexit 0\n' "$T" >"$T/fakebin/tar"
chmod 755 "$T/fakebin/tar"
PATH="$T/fakebin:$PATH" TAR_OPTIONS="--checkpoint=1 --checkpoint-action=exec=touch\\ $T/tar-options-ran" \
    "$K" --root "$V2" --capture "$T/cap.tar.gz" --json >/dev/null 2>"$T/cap.err"
check_eq "capture into a tarball with a fake tar on PATH and TAR_OPTIONS exits 0" 0 $?
check "... the fake tar did not run" test ! -e "$T/fake-tar-ran"
check "... TAR_OPTIONS did not run a command" test ! -e "$T/tar-options-ran"
n=$(tar -tzf "$T/cap.tar.gz" 2>/dev/null | wc -l)
check "... the tarball lists the capture ($n entries)" test "$n" -ge 5
TAR_OPTIONS="--checkpoint=1 --checkpoint-action=exec=touch\\ $T/tar-options-ran" \
    "$K" --root "$V2" --capture "$T/cap2.tar.gz" --json >/dev/null 2>"$T/cap.err"
check_eq "capture into a tarball with TAR_OPTIONS exits 0" 0 $?
check "... TAR_OPTIONS did not run a command (tar on PATH)" test ! -e "$T/tar-options-ran"

# --- 5. A capture never follows a planted symlink out of --root, and opens
# dev/kmsg only if it is 1:11 (or a regular file).
echo "SECRET-harden-$$ 1 2 3 4 5 6 7 8" >"$T/secret"
H5="$T/h5"
cp -a "$V2" "$H5"
rm -rf "$H5/proc/net" "$H5/sys/block" "$H5/dev"
mkdir -p "$H5/proc/net" "$H5/sys/block/zram0" "$H5/sys/block" "$H5/dev"
ln -s "$T/secret" "$H5/proc/net/sockstat"
ln -s ../../../../secret "$H5/proc/net/sockstat6"
rmdir "$H5/sys/block/zram0" && mkdir "$T/zdir" && cp "$T/secret" "$T/zdir/mm_stat"
ln -s "$T/zdir" "$H5/sys/block/zram0"
mknod "$H5/dev/kmsg" c 1 3 # /dev/null: opened as kmsg it reads as an empty log
"$K" --root "$H5" --capture "$T/cap5" --json >/dev/null 2>"$T/cap5.err"
check_eq "capture of a tree with planted links exits 0" 0 $?
check "... no file outside the root was copied into it" sh -c "! grep -rq SECRET-harden '$T/cap5'"
check "... a 1:3 dev/kmsg was not read as the kernel log" test ! -e "$T/cap5/dev/kmsg"
rm "$H5/dev/kmsg" && ln -s "$T/secret" "$H5/dev/kmsg"
"$K" --root "$H5" --capture "$T/cap5b" --json >/dev/null 2>"$T/cap5.err"
check "... nor a dev/kmsg that is a symlink out of the root" sh -c "! grep -rq SECRET-harden '$T/cap5b'"
