# shellcheck shell=sh disable=SC2034 # sourced: its variables are for the scenarios
# Sourced by every scenario's /init inside the VM (busybox sh, PID 1).
#
# Console (ttyS0): kernel and progress messages. Data (ttyS1, a file on the
# host): blocks that tests/vm/check.py reads:
#
#   @@kmem-vm begin KIND [key=value ...]
#   ...content...
#   @@kmem-vm end
#
# KIND is file (path=), keys (tag=, when=before|after), json / prom (tag=,
# rc=), sample (tag=, tries=, stable=), capture (kernel=), note, done.
export PATH=/kmem:/bin
export HOME=/
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o size=300m tmpfs /tmp
ip link set lo up
stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec 3>/dev/ttyS1
CG=/sys/fs/cgroup
UID1=1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b # burstable pod
UID2=9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a # guaranteed pod
CID1=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
CID2=fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
STAT_KEYS='kernel|kernel_stack|pagetables|sec_pagetables|percpu|sock|vmalloc|slab|slab_reclaimable|slab_unreclaimable|zswap'
LRU_KEYS='inactive_anon|active_anon|inactive_file|active_file|unevictable'

log() { echo "kmem-vm [$(cut -d" " -f1 /proc/uptime)]: $*"; }
begin() { echo "@@kmem-vm begin $*" >&3; }
end() { echo "" >&3; echo "@@kmem-vm end" >&3; }
note() { begin note; echo "$*" >&3; end; }
# fail MESSAGE: a setup step failed; check.py reports it as "not ok".
fail() { log "error: $*"; note "error: $*"; }

# Power off however the scenario ends (the host also has a timeout).
finish() {
    begin "done"
    end
    sync
    poweroff -f
}
trap finish EXIT

# emit_file PATH: one file as a block (unreadable files are skipped).
emit_file() {
    [ -r "$1" ] || return 0
    cat "$1" >/tmp/.emit 2>/dev/null || return 0
    begin file "path=$1"
    cat /tmp/.emit >&3
    end
}

# The kubelet's log files of one container: /var/log/pods/<ns>_<pod>_<uid>/
# <container>/0.log and the /var/log/containers symlink to it.
kube_logs() { # NAMESPACE POD UID CONTAINER ID
    d=/var/log/pods/$1_$2_$3/$4
    mkdir -p "$d" /var/log/containers
    echo "2024-05-01T10:00:00.000000000Z stdout F started $4" >"$d/0.log"
    ln -sf "$d/0.log" "/var/log/containers/$2_$1_$4-$5.log"
}

# cg_mkdir MOUNT PATH: create a cgroup; on v2 enable +memory down to it.
cg_mkdir() {
    mkdir -p "$1$2"
    if [ -f "$1/cgroup.subtree_control" ]; then
        p=$1
        for part in $(echo "$2" | tr / ' '); do
            echo +memory >"$p/cgroup.subtree_control" || fail "cannot enable memory in $p"
            p=$p/$part
        done
    fi
}

# charge_in CGDIR NAME ARGS...: run /kmem/charge ARGS in cgroup CGDIR (moved
# there by its own shell, so this script stays in the root cgroup) and wait
# until it has charged everything.
charge_in() {
    cg=$1
    name=$2
    shift 2
    sh -c 'echo $$ >"$0/cgroup.procs" && n=$1 && shift && exec /kmem/charge -r "/tmp/ready.$n" "$@"' \
        "$cg" "$name" "$@" &
    pid=$!
    i=0
    while [ ! -f "/tmp/ready.$name" ] && [ $i -lt 600 ] && kill -0 $pid 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
    [ -f "/tmp/ready.$name" ] || fail "charge $name did not finish"
}

# charge_and_remove CGDIR ARGS...: charge, exit, rmdir the cgroup: the
# files keep it charged, so it becomes a dying cgroup.
charge_and_remove() {
    cg=$1
    shift
    sh -c 'echo $$ >"$0/cgroup.procs" && exec /kmem/charge -x "$@"' "$cg" "$@" ||
        fail "charge in $cg failed"
    rmdir "$cg" || fail "cannot remove $cg"
}

# keys MOUNT: the values the checks compare, one "CGROUP FILE KEY VALUE" line
# each (KEY is - for one-value files). Read before and after kmem runs.
keys() {
    find "$1" -type d | sort | while read -r d; do
        rel=${d#"$1"}
        [ -n "$rel" ] || rel=/
        if [ -f "$d/memory.stat" ] && [ -f "$1/cgroup.controllers" ]; then
            # The LRU sizes (for kmem's upper bound) but not the root's: they
            # move with kmem's own pages, which run there.
            awk -v p="$rel" -v re="^($STAT_KEYS)\$" -v lru="^($LRU_KEYS)\$" \
                '$1 ~ re || (p != "/" && $1 ~ lru) { print p, "memory.stat", $1, $2 }' "$d/memory.stat"
        fi
        for f in memory.current memory.kmem.usage_in_bytes memory.kmem.tcp.usage_in_bytes \
            memory.usage_in_bytes; do
            # The root's usage moves with kmem's own pages (kmem runs there).
            [ "$rel" = / ] && [ "$f" = memory.usage_in_bytes ] && continue
            [ -f "$d/$f" ] && echo "$rel $f - $(cat "$d/$f")"
        done
        [ -f "$d/cgroup.stat" ] && awk -v p="$rel" '{ print p, "cgroup.stat", $1, $2 }' \
            "$d/cgroup.stat"
    done
    awk '$1 == "memory" { print "/ /proc/cgroups num_cgroups", $3 }' /proc/cgroups
}

# sample TAG MOUNT: read the kernel's values, run kmemtop --json and
# kmem_exporter --once, read the values again; retry (v2 memory.stat is
# flushed lazily) until both reads agree, at most 30 tries (check.py fails an
# unstable sample: never skipped).
sample() {
    tag=$1
    try=0
    stable=no
    while [ $try -lt 30 ]; do
        try=$((try + 1))
        keys "$2" >/tmp/k1
        kmemtop --json >/tmp/json 2>/tmp/json.err
        jrc=$?
        # Every per-cgroup file that check.py compares (off by default).
        kmem_exporter --once --collector.cgroup.v1-sock --collector.cgroup.dying-descendants \
            >/tmp/prom 2>/tmp/prom.err
        prc=$?
        keys "$2" >/tmp/k2
        if cmp -s /tmp/k1 /tmp/k2; then
            stable=yes
            break
        fi
        sleep 1
    done
    begin keys "tag=$tag" when=before
    cat /tmp/k1 >&3
    end
    begin json "tag=$tag" "rc=$jrc"
    cat /tmp/json >&3
    end
    begin stderr "tag=$tag" prog=kmemtop
    cat /tmp/json.err >&3
    end
    begin prom "tag=$tag" "rc=$prc"
    cat /tmp/prom >&3
    end
    begin stderr "tag=$tag" prog=kmem_exporter
    cat /tmp/prom.err >&3
    end
    begin keys "tag=$tag" when=after
    cat /tmp/k2 >&3
    end
    begin sample "tag=$tag" "tries=$try" "stable=$stable"
    end
    log "sample $tag: $try tries, stable=$stable"
}

# dump MOUNT: every kernel file a check may want, as file blocks.
dump() {
    for f in /proc/cgroups /proc/meminfo /proc/vmstat /proc/self/cgroup /proc/mounts \
        /proc/cmdline /proc/version /proc/slabinfo /proc/zoneinfo /proc/vmallocinfo /proc/iomem \
        /sys/devices/system/cpu/possible; do
        emit_file "$f"
    done
    # The kernel log, for the node checks (tests/vm/check_node.py).
    dmesg >/tmp/dmesg 2>/dev/null && emit_file /tmp/dmesg
    # vmallocinfo and the vmalloc counter read at one moment (tests/vm/vmpair.c).
    rm -rf /tmp/vmpair
    if vmpair /tmp/vmpair >/tmp/vmpair.out 2>&1; then
        begin vmpair "$(cat /tmp/vmpair.out)"
        end
        for f in vmstat meminfo vmallocinfo; do
            begin file "path=vmpair:/proc/$f"
            cat /tmp/vmpair/proc/$f >&3
            end
        done
    else
        fail "vmpair: $(cat /tmp/vmpair.out)"
    fi
    find "$1" -type d | sort | while read -r d; do
        for f in memory.stat memory.current cgroup.stat cgroup.procs cgroup.controllers \
            cgroup.subtree_control memory.kmem.usage_in_bytes memory.kmem.tcp.usage_in_bytes \
            memory.usage_in_bytes memory.use_hierarchy; do
            emit_file "$d/$f"
        done
    done
}

# capture: kmemtop --capture of the whole tree, as a base64 tar.gz block.
capture() {
    rm -rf /tmp/capture
    if kmemtop --capture /tmp/capture >/dev/null 2>/tmp/capture.err; then
        begin capture "kernel=$(uname -r)"
        tar -C /tmp/capture -czf - . | base64 >&3
        end
    else
        note "kmemtop --capture failed: $(cat /tmp/capture.err)"
    fi
}
