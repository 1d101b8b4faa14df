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
rm -rf "${H5:?}/proc/net" "${H5:?}/sys/block" "${H5:?}/dev"
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

# --- 6. kmemtop -o escapes terminal controls in cache names; slabtop mode
# prints them raw, as procps does.
mkdir -p "$T/esc/proc"
{
    head -2 "$FIXTURES/slab-long-names/proc/slabinfo"
    printf 'evil\033]0;pwned\007x 10 20 128 32 1 : tunables 0 0 0 : slabdata 1 1 0\n'
    printf 'csi\23331mred 10 20 128 32 1 : tunables 0 0 0 : slabdata 1 1 0\n'
    printf 'utf8c1\302\233x 10 20 128 32 1 : tunables 0 0 0 : slabdata 1 1 0\n'
    printf 'plain 10 20 128 32 1 : tunables 0 0 0 : slabdata 1 1 0\n'
} >"$T/esc/proc/slabinfo"
"$K" --root "$T/esc" -o >"$T/esc.out" 2>"$T/esc.err"
check_eq "kmemtop -o on names with controls exits 0" 0 $?
check "... no ESC, BEL, 0x9b or UTF-8 C1 byte reaches the terminal" \
    sh -c "! LC_ALL=C grep -q \"\$(printf '[\033\007\233]')\" '$T/esc.out'"
check "... the names are shown escaped" sh -c "grep -qF 'evil\\x1b]0;pwned\\x07x' '$T/esc.out' && grep -qF 'csi\\x9b31mred' '$T/esc.out' && grep -qF 'utf8c1\\xc2\\x9bx' '$T/esc.out'"
ln -sf kmemtop "$T/slabtop" 2>/dev/null; ln -sf "$K" "$T/slabtop"
"$T/slabtop" --root "$T/esc" -o >"$T/esc.slabtop" 2>/dev/null
check "slabtop -o prints names raw, as procps does" \
    sh -c "LC_ALL=C grep -q \"\$(printf 'evil\033]0;pwned\007x')\" '$T/esc.slabtop'"

# --- 7. Names that differ only in invalid UTF-8 stay distinct (escaped as
# \xHH, never replaced) in the exposition and in --json.
mkdir -p "$T/dup/proc"
{
    head -2 "$FIXTURES/slab-long-names/proc/slabinfo"
    for n in 'dupA\377' 'dupA\376' 'dupA\357\277\275' 'dupA\303\277' 'dupA'; do
        printf "$n 10 20 128 32 1 : tunables 0 0 0 : slabdata 1 1 0\n"
    done
} >"$T/dup/proc/slabinfo"
"$E" --once --root "$T/dup" >"$T/dup.prom" 2>/dev/null
series=$(grep -c '^kmem_slab_objects{.*dupA' "$T/dup.prom")
uniq=$(grep '^kmem_slab_objects{.*dupA' "$T/dup.prom" | sed 's/ [0-9]*$//' | sort -u | wc -l)
check_eq "exposition: 5 dupA caches give 5 kmem_slab_objects series" 5 "$series"
check_eq "... 5 distinct series" 5 "$uniq"
check "... \\xff shown as \\\\xff" grep -qF 'cache="dupA\\xff"' "$T/dup.prom"
"$K" --root "$T/dup" --json >"$T/dup.json" 2>/dev/null
check_eq "--json: 5 distinct dupA names" 5 \
    "$(jq -r '.slab.caches[].name | select(startswith("dupA"))' "$T/dup.json" | sort -u | wc -l)"
check_eq "--json: the byte 0xff is not ÿ" 1 \
    "$(jq -r '.slab.caches[].name' "$T/dup.json" | grep -cxF 'dupA\xff')"

# --- 8. Paths longer than PATH_MAX (chains of 255-byte names) never abort a
# capture, and cgroups that cannot be named are counted, not an error.
python3 "$TREE" "$V2" "$T/long" chains 2 20
"$K" --root "$T/long" --capture "$T/cap8" --json >"$T/long.json" 2>"$T/cap8.err"
check_eq "capture of a tree with paths longer than PATH_MAX exits 0" 0 $?
check "... counts the cgroups it cannot name ($(jq .cgroups.skipped_unnamed "$T/long.json"))" \
    test "$(jq .cgroups.skipped_unnamed "$T/long.json")" -gt 0
check "... and captured the rest (slabinfo, a cgroup)" \
    sh -c "test -s '$T/cap8/proc/slabinfo' && test -s '$T/cap8/sys/fs/cgroup/system.slice/memory.stat'"
python3 "$TREE" "$V2" "$T/deep8" deep 80
"$E" --once --root "$T/deep8" >"$T/deep8.prom" 2>/dev/null
check_eq "80 levels: --once exits 0 (the rest was read)" 0 $?
check "... kmem_collector_success{collector=\"cgroup\"} is 1" \
    grep -q '^kmem_collector_success{collector="cgroup"} 1$' "$T/deep8.prom"
check "... the cgroups below level 64 are counted as unnamed" \
    sh -c "awk '\$1 == \"kmem_cgroups_skipped{reason=\\\"unnamed\\\"}\" && \$2 >= 15 { f = 1 } END { exit !f }' '$T/deep8.prom'"

# --- 9. A shared directory is never made private nor emptied; --force
# replaces only a capture whose marker is the caller's.
mkdir "$T/shared" && chmod 1777 "$T/shared"
"$K" --root "$V2" --capture "$T/shared" --json >/dev/null 2>"$T/cap9.err"
check_eq "capture into a sticky world-writable directory exits 1" 1 $?
check_eq "... its mode stays 1777" 1777 "$(stat -c %a "$T/shared")"
check "... and says why" grep -q 'shared directory' "$T/cap9.err"
mkdir "$T/ww" && chmod 0777 "$T/ww"
"$K" --root "$V2" --capture "$T/ww" --json >/dev/null 2>&1
check_eq "capture into a world-writable directory exits 1, mode kept" "1 777" "$? $(stat -c %a "$T/ww")"
mkdir "$T/planted" && chmod 0755 "$T/planted"
echo "another user's work" >"$T/planted/precious" && chown 65534:65534 "$T/planted/precious"
echo x >"$T/planted/kmem-capture.txt" && chown 65534:65534 "$T/planted/kmem-capture.txt"
"$K" --root "$V2" --capture "$T/planted" --force --json >/dev/null 2>"$T/cap9.err"
check_eq "--force with a marker planted by another user exits 1" 1 $?
check "... and the other user's file is still there" test -s "$T/planted/precious"

# --- 1. 10 000 hostile cgroups (chains of 255-byte names) keep the exporter
# under 32 MiB (peak RSS, VmHWM), with the slab and node families present:
# paths over 1024 bytes are unnamed, the rest beyond the series budget are
# counted as over_budget, the deepest first.
python3 "$TREE" "$V2" "$T/h1" chains 2500 4
P=$(free_port)
spawn "$T/h1.log" "$E" --web.listen-address "127.0.0.1:$P" --root "$T/h1" --collect.min-interval=0
pid1=$spawned
check "exporter on 10 000 hostile cgroups answers" wait_url "http://127.0.0.1:$P/-/ready" 60
curl -s -o "$T/h1.prom" "http://127.0.0.1:$P/metrics"
curl -s -H 'Accept-Encoding: gzip' -o "$T/h1.gz" "http://127.0.0.1:$P/metrics"
curl -s -o "$T/h1b.prom" "http://127.0.0.1:$P/metrics"
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid1/status")
check "peak RSS after three scrapes ${hwm} kB <= 32 MiB" test "${hwm:-999999}" -le 32768
check "... slab and node families present" \
    sh -c "grep -q '^kmem_slab_objects{' '$T/h1.prom' && grep -q '^kmem_node_kernel_bytes{' '$T/h1.prom'"
check "... every collector succeeded" sh -c "! grep -q '^kmem_collector_success{.*} 0\$' '$T/h1.prom'"
ob=$(awk '$1 == "kmem_cgroups_skipped{reason=\"over_budget\"}" { print $2 }' "$T/h1.prom")
un=$(awk '$1 == "kmem_cgroups_skipped{reason=\"unnamed\"}" { print $2 }' "$T/h1.prom")
exported=$(grep -c '^kmem_cgroup_kernel_bytes{' "$T/h1.prom")
check_eq "... every cgroup is exported or counted (exported $exported, over_budget $ob, unnamed $un)" \
    "$(find "$T/h1/sys/fs/cgroup" -type d | wc -l)" $((exported + ${ob:-0} + ${un:-0}))
check "... the exposition is bounded ($(wc -c <"$T/h1.prom") bytes <= 16 MiB)" \
    test "$(wc -c <"$T/h1.prom")" -le 16777216
stop_all
# The budget is --collector.cgroup.series-budget: at 1 MiB more cgroups are
# left out than at the default 6, at 64 MiB none (every named one exported).
for mib in 1 64; do
    P=$(free_port)
    spawn "$T/h1-$mib.log" "$E" --web.listen-address "127.0.0.1:$P" --root "$T/h1" \
        --collect.min-interval=0 --collector.cgroup.series-budget "$mib"
    check "series budget $mib MiB: the exporter answers" wait_url "http://127.0.0.1:$P/-/ready" 60
    curl -s -o "$T/h1-$mib.prom" "http://127.0.0.1:$P/metrics"
    stop_all
done
ob1=$(awk '$1 == "kmem_cgroups_skipped{reason=\"over_budget\"}" { print $2 }' "$T/h1-1.prom")
ob64=$(awk '$1 == "kmem_cgroups_skipped{reason=\"over_budget\"}" { print $2 }' "$T/h1-64.prom")
ex64=$(grep -c '^kmem_cgroup_kernel_bytes{' "$T/h1-64.prom")
check "series budget 1 MiB: more cgroups over budget than at 6 MiB (${ob1:-?} > ${ob:-?})" \
    test "${ob1:-0}" -gt "${ob:-0}"
check_eq "series budget 64 MiB: no cgroup over budget" 0 "${ob64:-missing}"
# The budget is used, not just obeyed: the kept cgroups' series (every line
# with a cgroup label, and cAdvisor's) fill between half of it and all of it
# (the estimate per cgroup is a little above what is written: about 77 %).
for f in h1:6 h1-1:1; do
    cgb=$(grep -E '(cgroup=|^container_memory_kernel_usage)' "$T/${f%:*}.prom" | wc -c)
    budget=$((${f#*:} * 1048576))
    check "series budget ${f#*:} MiB: the cgroups' series fill half of it to all of it ($cgb bytes)" \
        test "$cgb" -ge $((budget / 2)) -a "$cgb" -le "$budget"
done
check_eq "... every cgroup is exported or unnamed (exported $ex64, unnamed $un)" \
    "$(find "$T/h1/sys/fs/cgroup" -type d | wc -l)" $((ex64 + ${un:-0}))

# --- 10. 2048 slow connections from 256 addresses (each sends half a request
# line and stops) never keep a scrape out: at the limit, the oldest
# connection still reading a request makes room. With a 60 s read timeout,
# the slow connections are not cut by their deadline within the hang bound.
P=$(free_port)
spawn "$T/slow.log" "$E" --web.listen-address "127.0.0.1:$P" $R --web.read-timeout=60s
check "exporter answers" wait_url "http://127.0.0.1:$P/-/healthy"
timeout 120 python3 "$PY" slow "$P"
check "slow-connection client finished" test $? -eq 0
stop_all
finish
