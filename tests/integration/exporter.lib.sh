# shellcheck shell=sh disable=SC2034 # sourced: its variables are for the tests
# Helpers shared by the exporter_*.sh integration tests (sourced after
# tests/lib.sh; not a test itself, so not executable).
E="$B/kmem_exporter"
_pids=""

# raw_http SECONDS CLIENT ARGS...: run the Python CLIENT (bounded to SECONDS)
# with this directory on its path, for clients that import rawhttp.py (raw
# HTTP/1.x requests on loopback and their ok/not ok lines).
_rawhttp_dir=$(cd "$(dirname "$0")" && pwd)
raw_http() {
    _secs=$1
    shift
    PYTHONPATH="$_rawhttp_dir${PYTHONPATH:+:$PYTHONPATH}" timeout "$_secs" python3 "$@"
}

# A TCP port free on 127.0.0.1 right now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# spawn LOG CMD...: start CMD in the background with output in LOG; sets $spawned.
spawn() {
    _log=$1
    shift
    "$@" >"$_log" 2>&1 &
    spawned=$!
    _pids="$_pids $spawned"
}

stop_all() {
    for _p in $_pids; do
        kill "$_p" 2>/dev/null
    done
    for _p in $_pids; do
        wait "$_p" 2>/dev/null
    done
    _pids=""
}

# wait_url URL [SECONDS] [CURL OPTIONS...]: until the URL answers 200.
wait_url() {
    _u=$1
    _n=$(( ${2:-10} * 10 ))
    shift
    [ $# -gt 0 ] && shift
    while [ "$_n" -gt 0 ]; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$@" "$_u")" = 200 ] && return 0
        sleep 0.1
        _n=$((_n - 1))
    done
    return 1
}

# Every family of docs/exporter.md ("Metrics"), in exposition order.
FAMILIES="kmem_slab_objects kmem_slab_active_objects kmem_slab_slabs kmem_slab_size_bytes
kmem_slab_active_bytes kmem_slab_info kmem_node_kernel_bytes kmem_cgroup_kernel_bytes
kmem_cgroup_kernel_component_bytes kmem_cgroup_sock_bytes kmem_cgroup_kernel_exact
kmem_cgroup_kernel_upper_bound_bytes kmem_memory_cgroups_dying kmem_cgroup_dying_descendants
container_memory_kernel_usage kmem_collector_success
kmem_collector_duration_seconds kmem_exporter_build_info"
# Families with samples only on some machines: upper bounds where cgroup kernel
# memory is estimated (v2 before 5.18), dying descendants on cgroup v2 (of
# the root, and of every cgroup with --collector.cgroup.dying-descendants),
# socket memory on v2 (and on v1 with --collector.cgroup.v1-sock).
SPARSE_FAMILIES="kmem_cgroup_kernel_upper_bound_bytes kmem_cgroup_dying_descendants kmem_cgroup_sock_bytes"

# has_families FILE: every family has HELP and TYPE gauge in FILE.
has_families() {
    for _f in $FAMILIES; do
        grep -q "^# HELP $_f " "$1" && grep -q "^# TYPE $_f gauge\$" "$1" || {
            echo "# missing family $_f"
            return 1
        }
    done
}
