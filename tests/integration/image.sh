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
    [ -n "$charger" ] && kill "$charger" 2>/dev/null && wait "$charger" 2>/dev/null
    rmdir "$M$CG" "$M/kubepods/besteffort/pod$POD_UID" 2>/dev/null
    rmdir "$M/kubepods/besteffort" "$M/kubepods" 2>/dev/null # only if now empty
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

cat >"$T/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF="$T/containers.conf"

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
check_eq "build context (/src of the build stage) is Makefile, VERSION, src (and the build output)" \
    "Makefile VERSION build src" \
    "$(podman run --rm --network none "$IMG-build" ls -A /src 2>&1 | tr '\n' ' ' | sed 's/ $//')"
check "podman build deploy/Dockerfile" build "$IMG"
echo "# image build: $(($(date +%s) - t0)) s"
podman image exists "$IMG" || finish
echo "# image size: $(podman image inspect --format '{{.Size}}' "$IMG") bytes"

check_eq "image entrypoint" "[/usr/bin/kmem_exporter]" \
    "$(podman image inspect --format '{{.Config.Entrypoint}}' "$IMG")"
check_eq "image exposes 10465/tcp" "10465/tcp" \
    "$(podman image inspect --format '{{range $p, $v := .Config.ExposedPorts}}{{$p}} {{end}}' "$IMG" | sed 's/ $//')"
check_eq "every library of the programs resolves in the image" "" \
    "$(podman run --rm --network none --entrypoint ldd "$IMG" /usr/bin/kmem_exporter /usr/bin/kmemtop 2>&1 | grep 'not found')"
check "slabtop in the image is kmemtop's procps-compatible mode" \
    sh -c "podman run --rm --network none --entrypoint slabtop '$IMG' -V 2>&1 | grep -q '^slabtop from procps-ng'"
check "the image's default command is accepted (kmem_exporter --once with the CMD's --root)" \
    sh -c "podman run --rm --network none -v '$SHARED_FIXTURE:/host:ro' '$IMG' --root /host --once 2>&1 | grep -q '^kmem_exporter_build_info'"

# ----------------------------------------------- a pod on this "node"
# A memory cgroup as the kubelet's cgroupfs driver names it, with a process
# that charges kernel memory to it, and the two log directories the kubelet
# writes for it.
mkdir -p "$M$CG" "$T/var/log/pods/kmem-test_image-probe_$POD_UID/probe" "$T/var/log/containers" "$T/charge"
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
python3 - "$T/rendered.yaml" "$T" "$CTR" "$IMG" >"$T/run.sh" <<'EOF' || not_ok "translate the DaemonSet into podman run"
import json, os, shlex, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
T, name, image = sys.argv[2], sys.argv[3], sys.argv[4]
[ds] = [d for d in docs if d["kind"] == "DaemonSet"]
pod = ds["spec"]["template"]["spec"]
[c] = pod["containers"]
sc = c.get("securityContext", {})
a = ["podman", "run", "-d", "--name", name, "--pull=never"]
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
for vm in c.get("volumeMounts", []):
    hp = vols[vm["name"]]["hostPath"]["path"]
    src = hp if os.path.isdir(hp) and not hp.startswith("/var/log/") else T + hp
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
check "the test pod's container has its Kubernetes names and kernel memory > 0 (through /host/var/log/pods and /host/var/log/containers)" \
    test "$(samples kmem_cgroup_kernel_bytes "{cgroup=\"$CG\",pod=\"image-probe\",namespace=\"kmem-test\",container=\"probe\"}")" -eq 1
failed=$(awk '/^kmem_collector_success/ && $NF != 1' "$T/scrape")
check_eq "every collector succeeds in the container" "" "$failed"

# ---------------------------------------- kubectl exec <pod> -- kmemtop ...
check "kmemtop --root /host -o in the running container (kubectl exec)" \
    sh -c "podman exec '$CTR' kmemtop --root /host -o >'$T/kmemtop' 2>&1 && grep -q 'Active / Total Objects' '$T/kmemtop' && grep -q ' dentry' '$T/kmemtop' || { head -5 '$T/kmemtop'; exit 1; }"
check "kmemtop --root /host --report in the running container" \
    sh -c "podman exec '$CTR' kmemtop --root /host --report >'$T/report' 2>&1 || { head -5 '$T/report'; exit 1; }"
rss=$(podman exec "$CTR" sh -c 'grep VmRSS /proc/1/status' 2>/dev/null | awk '{ print $2 }')
echo "# exporter RSS after a scrape: ${rss:-?} kB (limit $(podman inspect --format '{{.HostConfig.Memory}}' "$CTR") bytes)"
check_eq "the container was not OOM-killed" "false" "$(podman inspect --format '{{.State.OOMKilled}}' "$CTR")"

# -------------------------------------------------------------------- stop
t0=$(date +%s)
podman stop -t "$GRACE" "$CTR" >/dev/null 2>&1
took=$(($(date +%s) - t0))
check_eq "SIGTERM stops the exporter cleanly (exit code)" 0 "$(podman inspect --format '{{.State.ExitCode}}' "$CTR")"
# Exit code 0, not 137: it ended on SIGTERM itself, before podman's SIGKILL at the grace period.
echo "# stopped in $took s (grace period $GRACE s)"
podman logs "$CTR" 2>&1 | tail -3 | sed 's/^/# log: /'

cleanup
check_eq "no container of this test is left" "" "$(podman ps -a --filter "name=$CTR" --format '{{.Names}}')"
# Neither the two tags nor any intermediate layer image the builds printed.
left=$(for id in $(sed -n 's/^--> \([0-9a-f]\{11,\}\)$/\1/p' "$T"/build-*.log | sort -u) "$IMG" "$IMG-build"; do
    podman image exists "$id" && echo "$id"
done | tr '\n' ' ')
check_eq "no image of this test is left (tags and intermediate layers)" "" "$left"
check "the test pod's cgroup is removed" test ! -d "$M$CG"
finish
