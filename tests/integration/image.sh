#!/bin/sh
# The container image, built and run as Kubernetes runs it:
#
# 1. A Debian 12 base image made here with mmdebstrap (minbase, from this
#    machine's own Debian mirror), imported as localhost/debian:12-slim and
#    :12. It is kept in podman's store as a cache and rebuilt only if missing
#    (remove it with `podman rmi localhost/debian:12 localhost/debian:12-slim`).
# 2. deploy/Dockerfile built with podman (--build-arg DEBIAN=localhost/debian,
#    no registry): the build stage's context holds only what .dockerignore
#    lets in; the image has the programs, their libraries and the entrypoint.
# 3. The image run exactly as the DaemonSet of deploy/kubernetes runs it:
#    command, args, user, capabilities (all dropped but DAC_READ_SEARCH),
#    read-only root, no privilege escalation, the host mounts, the container
#    port and the resource limits are read from the rendered manifest. The
#    node's /var/log/pods and /var/log/containers are stand-ins made here (this
#    machine is no Kubernetes node) for a pod whose memory cgroup is made here
#    too, so the Kubernetes names go through the real mounts.
# 4. Its probes and /metrics scraped with curl, promtool check metrics, real
#    samples of the main families, kmemtop through `exec` (as `kubectl exec`),
#    stopped with the pod's grace period.
# Every container, image and cgroup the test made is removed at the end, except
# the cached base image. podman runs with runc and this test's own
# CONTAINERS_CONF (crun refuses this machine's hybrid cgroups).
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1
# One image test at a time on a machine: a build's cached layers are shared,
# and the cleanup removes the layers its build printed (another run's build
# lost them mid-way when two ran at once). flock -o: the lock stays with
# flock itself, not with the containers' monitors this script starts.
if [ -z "${KMEM_IMAGE_LOCKED:-}" ]; then
    KMEM_IMAGE_LOCKED=1
    export KMEM_IMAGE_LOCKED
    exec flock -o /run/lock/kmem-image-test.lock "$TOP/tests/integration/image.sh" "$@"
fi
T=$(tmpdir)
BASE=localhost/debian
IMG=localhost/kmem-image-test:$$
CTR=kmem-image-test-$$
M=/sys/fs/cgroup/memory
POD_UID=$(cat /proc/sys/kernel/random/uuid)
CID=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
CG=/kubepods/besteffort/pod$POD_UID/$CID
charger=

cleanup() {
    podman rm -f -t 0 "$CTR" >/dev/null 2>&1
    podman rmi -f "$IMG" "$IMG-build" >/dev/null 2>&1
    # The rootfs stage's layers belong to no tagged image: remove what the
    # builds printed, newest first (a layer still used by another image stays).
    for id in $(sed -n 's/^--> \([0-9a-f]\{11,\}\)$/\1/p' "$T"/build-*.log 2>/dev/null | tac); do
        podman rmi "$id" >/dev/null 2>&1
    done
    [ -n "$charger" ] && kill "$charger" 2>/dev/null && wait "$charger" 2>/dev/null
    # Parallel runs share /kubepods: its directories are made and removed
    # under one lock, so that one run's rmdir never lands inside another's mkdir -p.
    flock /run/lock/kmem-image-kubepods.lock sh -c "rmdir '$M$CG' '$M/kubepods/besteffort/pod$POD_UID' 2>/dev/null
        rmdir '$M/kubepods/besteffort' '$M/kubepods' 2>/dev/null" # only if now empty
}
trap 'cleanup; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM

if [ "$(id -u)" -ne 0 ]; then
    not_ok "image.sh must run as root (mmdebstrap, podman, memory cgroups)"
    finish
fi
for tool in podman mmdebstrap runc curl promtool python3 flock; do
    command -v $tool >/dev/null 2>&1 || { not_ok "$tool is installed (scripts/deps.sh)"; finish; }
done

# No default_ulimits: the documented `podman run` (deploy/README.md) brings
# its own --ulimit, and every other run here takes the same ($UL).
cat >"$T/containers.conf" <<'EOF'
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF="$T/containers.conf"

# --------------------------------------------- the documented command
# deploy/README.md's block after "<!-- image.sh: run -->", as written; only
# the image, the container name, the host port and the host's boot log
# (this machine has no /var/log/dmesg: a copy made as the boot unit makes it)
# are substituted, each exactly once.
doc_cmd=$(awk '/^<!-- image.sh: run -->$/ { f = 1; next } f && /^```sh$/ { g = 1; next }
    g && /^```$/ { exit } g' deploy/README.md | sed -e ':a' -e '/\\$/{N;s/\\\n *//;ba' -e '}')
echo "# documented: $doc_cmd"
check_eq "deploy/README.md documents one podman run command" 1 "$(printf '%s\n' "$doc_cmd" | grep -c '^podman run ')"
# The ulimits the documented command sets, for every other run here.
UL=$(printf '%s\n' "$doc_cmd" | grep -o -- '--ulimit [^ ]*' | tr '\n' ' ')
check "the documented command sets nofile and nproc limits ($UL)" \
    sh -c "echo '$UL' | grep -q nofile= && echo '$UL' | grep -q nproc="

# ---------------------------------------------------------------- base image
# This machine's Debian sources for bookworm (main, updates, security), in
# one-line form, whatever format /etc/apt uses.
debian_sources() {
    apt-get indextargets --no-release-info --format '$(TARGET_OF) $(REPO_URI) $(RELEASE) $(IDENTIFIER)' |
        awk '$1 == "deb" && $4 == "Packages" && $3 ~ /^bookworm(-updates|-security)?$/ {
                 print "deb " $2 " " $3 " main" }' | sort -u -k3,3
}
make_base() {
    if podman image exists "$BASE:12-slim" && podman image exists "$BASE:12"; then
        echo "# base image $BASE:12-slim cached"
        return 0
    fi
    debian_sources >"$T/sources.list"
    [ -s "$T/sources.list" ] || { echo "# no bookworm source in apt-get indextargets"; return 1; }
    sed 's/^/# source: /' "$T/sources.list"
    # slim as Debian's own -slim images: no man pages, docs (but copyright)
    # or translations, now and in later apt-get installs.
    mmdebstrap --variant=minbase --quiet \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        bookworm "$T/base.tar" "$T/sources.list" >"$T/mmdebstrap.log" 2>&1 ||
        { tail -20 "$T/mmdebstrap.log"; return 1; }
    podman import --quiet \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' \
        --message 'mmdebstrap --variant=minbase bookworm (kmem tests/integration/image.sh)' \
        "$T/base.tar" "$BASE:12-slim" >/dev/null &&
        podman tag "$BASE:12-slim" "$BASE:12" && rm -f "$T/base.tar"
}
# One base build at a time on this machine (parallel test runs share it).
t0=$(date +%s)
mkdir -p /run/lock && exec 9>/run/lock/kmem-image-base.lock
flock 9
check "base image $BASE:12 and :12-slim (mmdebstrap minbase, cached in podman's store)" make_base
flock -u 9
exec 9>&-
echo "# base image: $(($(date +%s) - t0)) s"
podman image exists "$BASE:12" || finish

# ------------------------------------------------------------------- build
build() { # TAG [podman build args...]
    tag=$1
    shift
    podman build --pull=never --build-arg DEBIAN="$BASE" -f deploy/Dockerfile -t "$tag" "$@" . \
        >"$T/build-${tag##*:}.log" 2>&1 || { tail -30 "$T/build-${tag##*:}.log"; return 1; }
}
t0=$(date +%s)
check "podman build --target build (the build stage)" build "$IMG-build" --target build
# The context is what .dockerignore lets in: the build stage's /src has the
# sources and the build output, and no .git, fixtures or local build trees.
# shellcheck disable=SC2086 # $UL: --ulimit flags
check_eq "build context (/src of the build stage) is Makefile, VERSION, src (and the build output)" \
    "Makefile VERSION build src" \
    "$(podman run --rm --network none $UL "$IMG-build" ls -A /src 2>&1 | tr '\n' ' ' | sed 's/ $//')"
check "podman build deploy/Dockerfile" build "$IMG"
echo "# image build: $(($(date +%s) - t0)) s (both builds; the build stage's apt-get layer is cached by podman after the first)"
podman image exists "$IMG" || finish
size=$(podman image inspect --format '{{.Size}}' "$IMG")
echo "# image size: $size bytes"
check "image size $size bytes is at most 30 MB (distroless: programs, libraries, terminfo)" \
    test "${size:-999999999}" -le 30000000

# ------------------------------------------- the documented `podman run`
# The boot log, as deploy/systemd/kmem-dmesg.service saves it at boot: its
# ExecStart into its StandardOutput (a stand-in path under $T).
mkdir -p "$T/var/log"
unit_cmd=$(sed -n 's/^ExecStart=//p' deploy/systemd/kmem-dmesg.service)
unit_out=$(sed -n 's/^StandardOutput=truncate://p' deploy/systemd/kmem-dmesg.service)
check_eq "the boot-log unit writes /var/log/dmesg" /var/log/dmesg "$unit_out"
# shellcheck disable=SC2086 # the unit's command line splits as systemd splits it
$unit_cmd >"$T$unit_out"
boot_whole=0
boot_log_whole && boot_whole=1
if [ $boot_whole = 1 ]; then
    check "the boot-log unit's command saves the kernel's boot messages ($(wc -l <"$T$unit_out") lines)" \
        grep -q 'hash table entries' "$T$unit_out"
else
    ok "the boot-log unit's command saves the kernel's boot messages # SKIP $BOOT_LOG_CUT"
fi
DOC=kmem-image-doc-$$
subst() { # FROM TO: in $doc_cmd, exactly once
    n=$(printf '%s\n' "$doc_cmd" | grep -o -F -- "$1" | wc -l)
    [ "$n" -eq 1 ] || { not_ok "the documented command has '$1' once (found $n)"; return 1; }
    doc_cmd=$(printf '%s\n' "$doc_cmd" | sed "s|$1|$2|")
}
subst "--name kmem " "--name $DOC " && subst "-p 10465:10465" "-p 127.0.0.1::10465" &&
    subst " localhost/kmem:0.1.0" " $IMG" && subst "-v /var/log/dmesg:" "-v $T/var/log/dmesg:"
check "the documented podman run starts the exporter" \
    sh -c "$doc_cmd >'$T/doc.out' 2>&1 || { cat '$T/doc.out'; exit 1; }"
doc_addr=$(podman port "$DOC" 10465/tcp 2>/dev/null | head -1)
doc_ready() {
    n=100
    while [ $n -gt 0 ]; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$doc_addr/-/ready")" = 200 ] && return 0
        sleep 0.1
        n=$((n - 1))
    done
    podman logs "$DOC" 2>&1 | tail -5 | sed 's/^/# log: /'
    return 1
}
check "the documented container answers /-/ready" doc_ready
# (hash_tables > 0 only while the kernel's log holds the boot messages)
check "the documented container's scrape has hash_tables > 0 (the boot log) and slab" sh -c "
    curl -fsS --max-time 10 'http://$doc_addr/metrics' >'$T/doc.prom' &&
    awk -v h=$((1 - boot_whole)) '/^kmem_node_kernel_bytes\\{kind=\"hash_tables\"\\}/ && \$2 > 0 { h = 1 }
         /^kmem_slab_objects\\{cache=\"dentry\"\\}/ && \$2 > 0 { d = 1 } END { exit !(h && d) }' '$T/doc.prom'"
check "kmemtop --root /host -o in the documented container (podman exec)" \
    sh -c "podman exec '$DOC' kmemtop --root /host -o 2>&1 | grep -q 'Active / Total Objects'"
podman rm -f -t 0 "$DOC" >/dev/null 2>&1

# ------------------------------------------------- what the image holds
# Every file of the image, and nothing else: no shell, no package manager.
podman create --name "$CTR-files" "$IMG" >/dev/null 2>&1 &&
    podman export "$CTR-files" | tar -t | sed 's|/$||' | sort >"$T/files"
podman rm -f "$CTR-files" >/dev/null 2>&1
others=$(grep -vxE 'bin|sbin|lib|lib64|etc|etc/(passwd|group|nsswitch.conf|hosts|hostname|resolv.conf)|tmp|dev|proc|sys|run|run/.*|dev/.*|usr|usr/bin|usr/bin/(kmemtop|kmem_exporter|slabtop|tar|gzip|sleep|dash|sh)|usr/lib|usr/lib64|usr/lib64/ld-linux[^/]*|usr/lib/[a-z0-9_]+-linux-gnu(/lib[^/]*\.so[.0-9]*|/ld-linux[^/]*)?|usr/lib/terminfo(/[a-z](/[a-z0-9-]+)?)?' "$T/files" | tr '\n' ' ')
check "the image holds $(wc -l <"$T/files") files (at least 30): the programs, libraries, terminfo, passwd" \
    test "$(wc -l <"$T/files")" -ge 30
check_eq "no other file in the image (no package manager, no coreutils)" "" "$others"
for t in d/dumb l/linux s/screen t/tmux v/vt100 x/xterm x/xterm-256color; do
    check "terminfo $t in the image" grep -qx "usr/lib/terminfo/$t" "$T/files"
done

check_eq "image entrypoint" "[/usr/bin/kmem_exporter]" \
    "$(podman image inspect --format '{{.Config.Entrypoint}}' "$IMG")"
check_eq "image exposes 10465/tcp" "10465/tcp" \
    "$(podman image inspect --format '{{range $p, $v := .Config.ExposedPorts}}{{$p}} {{end}}' "$IMG" | sed 's/ $//')"
# Each program starts in the image: the dynamic loader finds every library.
for prog in "kmem_exporter --version" "kmemtop -V" "tar --version" "gzip --version" "sleep --version" "sh -c :"; do
    # shellcheck disable=SC2086 # program and its flag
    set -- $prog
    p=$1
    shift
    # shellcheck disable=SC2086 # $UL: --ulimit flags
    check "$p runs in the image (every library it loads is there)" \
        sh -c "podman run --rm --network none $UL --entrypoint '$p' '$IMG' $* >'$T/v.out' 2>&1 || { cat '$T/v.out'; exit 1; }"
done
check "slabtop in the image is kmemtop's procps-compatible mode" \
    sh -c "podman run --rm --network none $UL --entrypoint slabtop '$IMG' -V 2>&1 | grep -q '^slabtop from procps-ng'"
check "the image's default command is accepted (kmem_exporter --once with the CMD's --root)" \
    sh -c "podman run --rm --network none $UL -v '$SHARED_FIXTURE:/host:ro' '$IMG' --root /host --once 2>&1 | grep -q '^kmem_exporter_build_info'"
check "--run-as nobody in the image (its /etc/passwd)" \
    sh -c "podman run --rm --network none $UL -v '$SHARED_FIXTURE:/host:ro' '$IMG' --root /host --once --run-as nobody 2>&1 | grep -q '^kmem_exporter_build_info'"
mkdir -p "$T/out"
check "kmemtop --capture in the image (its tar and gzip) makes a tarball with /proc/slabinfo" \
    sh -c "podman run --rm --network none $UL -v '$SHARED_FIXTURE:/host:ro' -v '$T/out:/out' --entrypoint kmemtop '$IMG' --root /host --capture /out/c.tar.gz >'$T/cap.out' 2>&1 &&
           tar -tzf '$T/out/c.tar.gz' | grep -q 'proc/slabinfo\$' || { cat '$T/cap.out'; exit 1; }"

# ----------------------------------------------- a pod on this "node"
# A memory cgroup as the kubelet's cgroupfs driver names it, with a process
# that charges kernel memory to it, and the two log directories the kubelet
# writes for it.
mkdir -p /run/lock && flock /run/lock/kmem-image-kubepods.lock mkdir -p "$M$CG"
mkdir -p "$T/var/log/pods/kmem-test_image-probe_$POD_UID/probe" "$T/var/log/containers" "$T/charge"
: >"$T/var/log/pods/kmem-test_image-probe_$POD_UID/probe/0.log"
ln -s "../pods/kmem-test_image-probe_$POD_UID/probe/0.log" \
    "$T/var/log/containers/image-probe_kmem-test_probe-$CID.log"
sh -c "echo \$\$ >'$M$CG/cgroup.procs' && cd '$T/charge' && seq 1 200 | xargs mkdir && exec sleep 600" &
charger=$!

# ------------------------------------------- run it as the DaemonSet does
# podman arguments from the DaemonSet as `kubectl apply -k deploy/kubernetes`
# renders it; hostPaths that this machine lacks (the pod log directories)
# come from $T.
if command -v kubectl >/dev/null 2>&1; then
    kubectl kustomize deploy/kubernetes >"$T/rendered.yaml"
else
    cp deploy/kubernetes/base/daemonset.yaml "$T/rendered.yaml"
fi
python3 - "$T/rendered.yaml" "$T" "$CTR" "$IMG" "$UL" >"$T/run.sh" <<'EOF' || not_ok "translate the DaemonSet into podman run"
import json, os, shlex, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
T, name, image = sys.argv[2], sys.argv[3], sys.argv[4]
[ds] = [d for d in docs if d["kind"] == "DaemonSet"]
pod = ds["spec"]["template"]["spec"]
[c] = pod["containers"]
sc = c.get("securityContext", {})
a = ["podman", "run", "-d", "--name", name, "--pull=never"] + sys.argv[5].split()  # the documented --ulimit
assert not pod.get("hostNetwork") and not pod.get("hostPID"), "host namespaces"
if "runAsUser" in sc:
    a += ["--user", "%d:%d" % (sc["runAsUser"], sc.get("runAsGroup", 0))]
if sc.get("readOnlyRootFilesystem"):
    a += ["--read-only", "--read-only-tmpfs=false"]   # Kubernetes adds no tmpfs
if sc.get("allowPrivilegeEscalation") is False:
    a += ["--security-opt", "no-new-privileges"]
assert not sc.get("privileged"), "privileged"
caps = sc.get("capabilities", {})
for cap in caps.get("drop", []):
    a += ["--cap-drop", cap.lower()]
for cap in caps.get("add", []):
    a += ["--cap-add", cap]
for prof in (pod.get("securityContext", {}).get("seccompProfile"), sc.get("seccompProfile")):
    assert prof is None or prof["type"] == "RuntimeDefault"  # podman's default profile
lim = c.get("resources", {}).get("limits", {})
if "memory" in lim:
    m = lim["memory"]
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}
    a += ["--memory", str(int(m[:-2]) * units[m[-2:]]) if m[-2:] in units else m]
if "cpu" in lim:
    cpu = lim["cpu"]
    a += ["--cpus", str(int(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu))]
vols = {v["name"]: v for v in pod.get("volumes", [])}
recdir = None
for vm in c.get("volumeMounts", []):
    hp = vols[vm["name"]]["hostPath"]["path"]
    # The node's read-only host paths are this machine's (but the pod logs);
    # a writable one (the recording, /var/lib/kmem) is always a directory of
    # $T, made here as DirectoryOrCreate makes it, never this machine's.
    writable = not vm.get("readOnly")
    src = hp if os.path.isdir(hp) and not hp.startswith("/var/log/") and not writable else T + hp
    if writable:
        assert vols[vm["name"]]["hostPath"].get("type") == "DirectoryOrCreate", "writable hostPath type"
        os.makedirs(src, exist_ok=True)
        recdir = src  # printed after the podman line (the first line is the command)
    opts = ["ro" if vm.get("readOnly") else "rw"]
    if vm.get("mountPropagation") == "HostToContainer":
        opts.append("rslave")
    a += ["-v", "%s:%s:%s" % (src, vm["mountPath"], ",".join(opts))]
    print("# mount %s (%s) at %s %s" % (src, hp, vm["mountPath"], ",".join(opts)), file=sys.stderr)
ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
for p in ports.values():
    a += ["-p", "127.0.0.1::%d" % p]
if "command" in c:
    a += ["--entrypoint", json.dumps(c["command"])]
a += [image] + c.get("args", [])
print(shlex.join(a))
def probe(kind):
    h = c[kind]["httpGet"]
    port = h["port"] if isinstance(h["port"], int) else ports[h["port"]]
    return "%s %d" % (h.get("path", "/"), port)
print("LIVENESS='%s'" % probe("livenessProbe"))
print("READINESS='%s'" % probe("readinessProbe"))
print("GRACE=%d" % pod.get("terminationGracePeriodSeconds", 30))
print("METRICS_PORT=%d" % ports["metrics"])
if recdir:
    print("RECDIR=%s" % shlex.quote(recdir))
EOF
sed 's/^/# /' "$T/run.sh"
RUN=$(head -1 "$T/run.sh")
eval "$(tail -n +2 "$T/run.sh")"
check "container starts as the DaemonSet's (podman run)" sh -c "$RUN >'$T/run.out' 2>&1 || { cat '$T/run.out'; exit 1; }"
addr=$(podman port "$CTR" "$METRICS_PORT/tcp" 2>/dev/null | head -1)
echo "# $CTR: container port $METRICS_PORT published at $addr"

probe_ok() { # "PATH PORT" [SECONDS]: until it answers 200, as the kubelet's httpGet
    # shellcheck disable=SC2086 # "PATH PORT" splits into two arguments
    set -- $1 "${2:-20}"
    n=$(($3 * 10))
    while [ $n -gt 0 ]; do
        # Only the metrics port is published: a probe on another port fails.
        [ "$2" = "$METRICS_PORT" ] &&
            [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$addr$1")" = 200 ] && return 0
        sleep 0.1
        n=$((n - 1))
    done
    podman logs "$CTR" 2>&1 | tail -5 | sed 's/^/# log: /'
    return 1
}
check "readiness probe ($READINESS) answers 200" probe_ok "$READINESS"
check "liveness probe ($LIVENESS) answers 200" probe_ok "$LIVENESS" 5

# ------------------------------------------------------------------ scrape
sleep 1.1 # past --collect.min-interval, so this scrape is a fresh collection
check "scrape /metrics with curl" \
    sh -c "curl -fsS --max-time 10 -D '$T/headers' -o '$T/scrape' 'http://$addr/metrics'"
check "Content-Type is text/plain; version=0.0.4" grep -qi '^content-type: text/plain; version=0.0.4' "$T/headers"
check "promtool check metrics accepts the scrape" \
    sh -c "promtool check metrics <'$T/scrape' >'$T/promtool' 2>&1 || { cat '$T/promtool'; exit 1; }"
samples() { # FAMILY [LABEL MATCH]: number of samples with a value > 0
    awk -v f="$1" -v m="${2:-}" '($1 == f || index($1, f "{") == 1) && index($0, m) && $NF + 0 > 0 { n++ }
        END { print n + 0 }' "$T/scrape"
}
for fam in kmem_slab_objects kmem_slab_size_bytes kmem_node_kernel_bytes kmem_cgroup_kernel_bytes; do
    n=$(samples $fam)
    check "$fam has samples > 0 ($n)" test "$n" -gt 0
done
check "kmem_slab_objects{cache=\"dentry\"} > 0 (read /proc/slabinfo through /host/proc with DAC_READ_SEARCH only)" \
    test "$(samples kmem_slab_objects 'cache="dentry"')" -eq 1
check "kmem_node_kernel_bytes{kind=\"slab_unreclaimable\"} > 0" \
    test "$(samples kmem_node_kernel_bytes 'kind="slab_unreclaimable"')" -eq 1
check "kmem_cgroup_kernel_bytes{cgroup=\"/\"} > 0 (the host's cgroups through /host/sys)" \
    test "$(samples kmem_cgroup_kernel_bytes 'cgroup="/"')" -eq 1
grep "^kmem_cgroup_kernel_bytes{cgroup=\"$CG\"" "$T/scrape" | sed 's/^/# /'
# What the scrape says of the cgroups it left out, and of /kubepods.
grep -E '^kmem_cgroups_skipped|^kmem_collector_duration_seconds\{collector="cgroup"|^kmem_cgroup_kernel_bytes\{cgroup="/kubepods[^/]*/?[^/]*"' "$T/scrape" |
    sed 's/^/# /'
ls "$M$CG" >/dev/null 2>&1 || echo "# $M$CG does not exist"
# The exporter keeps the shallowest cgroups within its exposition budget
# (docs/exporter.md): where other tests have made thousands of cgroups on
# this machine, the test pod (four levels deep) is left out, and the scrape
# says so; the pod is then not looked for (it is said here, not hidden).
over=$(awk '/^kmem_cgroups_skipped\{reason="over_budget"\}/ { print $2 + 0 }' "$T/scrape")
if [ "${over:-0}" -gt 0 ] && ! grep -q "^kmem_cgroup_kernel_bytes{cgroup=\"$CG\"" "$T/scrape"; then
    echo "# the test pod's cgroup is not in the scrape: $over cgroups of this machine are over the exposition budget (shallowest kept)"
else
    check "the test pod's container has its Kubernetes names and kernel memory > 0 (through /host/var/log/pods and /host/var/log/containers)" \
        test "$(samples kmem_cgroup_kernel_bytes "{cgroup=\"$CG\",pod=\"image-probe\",namespace=\"kmem-test\",container=\"probe\"}")" -eq 1
fi
failed=$(awk '/^kmem_collector_success/ && $NF != 1' "$T/scrape")
check_eq "every collector succeeds in the container" "" "$failed"

# ------------------------------- the DaemonSet's figures = the host's
# The exporter in the container (the DaemonSet's capabilities and mounts)
# against `kmemtop --json` on the host: six host reads interleaved with five
# fresh scrapes (each past --collect.min-interval). Boot-time figures
# (hash_tables) must be equal in every read. The others move while the two
# programs read (other processes allocate and free on this busy machine, by
# tens of MB between two reads at times), so the medians are compared: the
# DaemonSet's median within 4 MiB + 1 % + the spread (max - min) of the
# host's own six reads of that kind (what moves between reads, measured),
# unaccounted included. On a quiet machine that is 4 MiB + 1 %; a missing
# privilege or mount costs more: without the boot log, hash_tables (10 MB
# here) and the per-CPU first chunk move into unaccounted in every read.
compare_reads() {
    "$B/kmemtop" --json >"$T/h0.json" 2>/dev/null || return 1
    for i in 1 2 3 4 5; do
        sleep 1.1
        curl -fsS --max-time 10 "http://$addr/metrics" >"$T/s$i.prom" || return 1
        "$B/kmemtop" --json >"$T/h$i.json" 2>/dev/null || return 1
    done
}
check "six host kmemtop --json reads interleaved with five scrapes" compare_reads
BOOT_LOG_WHOLE=$boot_whole python3 - "$T" >"$T/compare" <<'EOF' || not_ok "compare the DaemonSet's figures with the host's"
import json, os, statistics, sys
T = sys.argv[1]
H = [json.load(open("%s/h%d.json" % (T, i))) for i in range(6)]
S = []
for i in range(1, 6):
    d, other = {}, set()
    for line in open("%s/s%d.prom" % (T, i)):
        if line.startswith('kmem_node_kernel_bytes{kind="'):
            d[line.split('"')[1]] = int(float(line.split()[-1]))
        elif line.startswith(("kmem_node_outside_bytes", "kmem_node_system_ram_bytes")):
            other.add(line.split()[0])
    S.append((d, other))
MiB = 1 << 20
kinds = list(H[0]["node"]["kinds"])
for k in kinds:
    hs = [h["node"]["kinds"][k] for h in H]
    cs = [d.get(k) for d, _ in S]
    if None in cs:
        print("FAIL|kind %s is not exported by the DaemonSet" % k)
        continue
    if k == "hash_tables":
        # > 0 while the kernel's log holds the boot messages (BOOT_LOG_WHOLE)
        ok = len(set(hs + cs)) == 1 and (hs[0] > 0 or os.environ.get("BOOT_LOG_WHOLE") != "1")
        print("%s|kind hash_tables (boot log) is %d in every host read and every scrape (host %s, DaemonSet %s)"
              % ("PASS" if ok else "FAIL", hs[0], sorted(set(hs)), sorted(set(cs))))
        continue
    h, c = statistics.median(hs), statistics.median(cs)
    spread = max(hs) - min(hs)
    tol = 4 * MiB + h // 100 + spread
    print("%s|kind %s: DaemonSet median %d, host median %d, |difference| %d <= %d (host spread %d)"
          % ("PASS" if abs(c - h) <= tol else "FAIL", k, c, h, abs(c - h), tol, spread))
print("COUNT|%d" % len(kinds))
# /proc/iomem: the host (root, CAP_SYS_ADMIN) has the outside-MemTotal
# figures; the DaemonSet (no CAP_SYS_ADMIN) does not export them.
out = H[0]["node_detail"]["outside"]
print("%s|the host knows the memory outside MemTotal (System RAM %s)"
      % ("PASS" if out["known"] else "FAIL", out["system_ram_bytes"]))
print("%s|the DaemonSet exports no kmem_node_outside_bytes, kmem_node_system_ram_bytes (no CAP_SYS_ADMIN: /proc/iomem reads 0)"
      % ("PASS" if all(not o for _, o in S) else "FAIL"))
EOF
while IFS='|' read -r verdict what; do
    case $verdict in
    PASS) ok "$what" ;;
    FAIL) not_ok "$what" ;;
    COUNT) check "node kinds compared: $what (at least 12)" test "$what" -ge 12 ;;
    esac
done <"$T/compare"
# The exporter says what it lacks: /proc/iomem for want of CAP_SYS_ADMIN,
# and nothing about the kernel log (the boot log is mounted).
podman logs "$CTR" >"$T/ctr.log" 2>&1
grep 'Data unavailable' "$T/ctr.log" | sed 's/^/# log: /'
check "the exporter's log names CAP_SYS_ADMIN for /proc/iomem (uid 0 but lacking the capability)" \
    grep -q 'level=WARN msg="Data unavailable" source=/proc/iomem reason=".*uid 0 but lacks CAP_SYS_ADMIN' "$T/ctr.log"
# (the kernel log may be missing too when the boot log was saved after the
# kernel's ring buffer dropped the boot messages)
if [ $boot_whole = 1 ]; then
    check_eq "the exporter's log has no other missing datum (the kernel log comes from the boot log)" \
        1 "$(grep -c 'Data unavailable' "$T/ctr.log")"
else
    check_eq "the exporter's log has no other missing datum but the kernel log ($BOOT_LOG_CUT)" \
        1 "$(grep 'Data unavailable' "$T/ctr.log" | grep -vc 'source="kernel log"')"
fi

# ---------------------------------------- kubectl exec <pod> -- kmemtop ...
check "kmemtop --root /host -o in the running container (kubectl exec)" \
    sh -c "podman exec '$CTR' kmemtop --root /host -o >'$T/kmemtop' 2>&1 && grep -q 'Active / Total Objects' '$T/kmemtop' && grep -q ' dentry' '$T/kmemtop' || { head -5 '$T/kmemtop'; exit 1; }"
check "kmemtop --root /host --report in the running container" \
    sh -c "podman exec '$CTR' kmemtop --root /host --report >'$T/report' 2>&1 || { head -5 '$T/report'; exit 1; }"
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$(podman inspect --format '{{.State.Pid}}' "$CTR")/status" 2>/dev/null)
echo "# exporter RSS after a scrape: ${rss:-?} kB (limit $(podman inspect --format '{{.HostConfig.Memory}}' "$CTR") bytes)"
check_eq "the container was not OOM-killed" "false" "$(podman inspect --format '{{.State.OOMKilled}}' "$CTR")"

# ------------------------------------------------- the recording it writes
# The DaemonSet records (--record.dir) into the hostPath, here a directory
# of $T: after the stop below, kmemtop on the host opens it.
t0=$(date +%s)
podman stop -t "$GRACE" "$CTR" >/dev/null 2>&1
took=$(($(date +%s) - t0))
check_eq "SIGTERM stops the exporter cleanly (exit code)" 0 "$(podman inspect --format '{{.State.ExitCode}}' "$CTR")"
# Exit code 0, not 137: it ended on SIGTERM itself, before podman's SIGKILL at the grace period.
echo "# stopped in $took s (grace period $GRACE s)"
podman logs "$CTR" 2>&1 | tail -3 | sed 's/^/# log: /'
if [ -n "${RECDIR:-}" ]; then
    "$B/kmemtop" --replay "$RECDIR" --list >"$T/reclist" 2>&1
    check_eq "kmemtop --replay on the host opens the container's recording ($RECDIR)" 0 $?
    nrec=$(grep -cE '^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9] ' "$T/reclist")
    sed 's/^/# /' "$T/reclist" | head -5
    check "the recording holds at least one sample ($nrec)" test "$nrec" -ge 1
else
    not_ok "the DaemonSet has a writable hostPath for its recording"
fi

cleanup
check_eq "no container of this test is left" "" "$(podman ps -a --filter "name=$CTR" --format '{{.Names}}')"
# Neither the two tags nor any intermediate layer image the builds printed.
left=$(for id in $(sed -n 's/^--> \([0-9a-f]\{11,\}\)$/\1/p' "$T"/build-*.log | sort -u) "$IMG" "$IMG-build"; do
    podman image exists "$id" && echo "$id"
done | tr '\n' ' ')
# A layer that another build (a parallel run) now stands on as its cache is
# that build's to remove: a layer is this test's leftover only if no image
# outside this test's list has it as its parent.
parents=$(podman images -a -q --no-trunc | while read -r i; do
    podman image inspect --format '{{.Parent}}' "$i" 2>/dev/null
done | sed 's/^sha256://')
left=$(for id in $left; do
    printf '%s\n' "$parents" | grep -q "^$id" && { echo "# layer $id: kept by another build's image" >&2; continue; }
    echo "$id"
done | tr '\n' ' ')
check_eq "no image of this test is left (tags and intermediate layers)" "" "$left"
check "the test pod's cgroup is removed" test ! -d "$M$CG"
finish
