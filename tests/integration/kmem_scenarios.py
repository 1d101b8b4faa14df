#!/usr/bin/env python3
"""Kernel-memory workloads for tests/integration/scenarios_live.sh.

  kmem_scenarios.py CGDIR KIND SECONDS [ARG]

Moves itself into the v1 memory cgroup CGDIR (its cgroup.procs) and makes
kernel memory of one kind for SECONDS, at a steady pace, so that a recorder
sampling every second sees it grow:

  negdent DIR    stat() of names that do not exist in DIR: negative dentries
                 (reclaimable); new names for the first third, then the same
                 names again (the cache warms, then stays flat)
  sockets        socketpair()s held open: sock_inode_cache, dentries, files
                 (unreclaimable, steady)
  threads        threads that sleep: kernel stacks and task_structs
                 (unreclaimable, steady)
  pgtables       a sparse anonymous mapping touched one page per 2 MiB:
                 page tables (unreclaimable, steady)
  tmpfs DIR      files created in the tmpfs DIR: shmem_inode_cache and
                 dentries (steady)
  churn DIR      files created in DIR for the first half and removed in the
                 second: grows, then gives it back
  oom            allocates anonymous memory until the cgroup's limit kills it

Prints "ready PID" once it is in the cgroup, "done" at the end, then waits
for stdin to close, two minutes at most (so what it holds stays until the
test lets it go).
Bounded: every kind stops at SECONDS and at its own count limit.
"""
import mmap
import os
import resource
import select
import socket
import sys
import threading
import time


def join(cg):
    with open(os.path.join(cg, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))


def paced(seconds, per_tick, limit, step, ticks_per_s=10):
    """Calls step(i) per_tick times a tick, 10 ticks a second, for seconds."""
    start = time.monotonic()
    i = 0
    tick = 0
    end = start + seconds
    while time.monotonic() < end and i < limit:
        for _ in range(per_tick):
            if i >= limit:
                break
            step(i)
            i += 1
        tick += 1
        delay = start + tick / ticks_per_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    return i


def main():
    cg, kind, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    arg = sys.argv[4] if len(sys.argv) > 4 else None
    join(cg)
    print("ready", os.getpid(), flush=True)
    held = []
    if kind == "negdent":
        warm = seconds / 3
        n = paced(warm, 1500, 150000, lambda i: os.path.exists(f"{arg}/missing-{i}"))
        # the same names again: found in the dentry cache, nothing new
        paced(seconds - warm, 1500, 10**9, lambda i: os.path.exists(f"{arg}/missing-{i % n}"))
    elif kind == "sockets":
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
        paced(seconds, 60, 12000, lambda i: held.append(socket.socketpair()))
    elif kind == "threads":
        stop = threading.Event()
        threading.stack_size(64 * 1024)

        def spawn(_):
            t = threading.Thread(target=stop.wait, daemon=True)
            t.start()
            held.append(t)

        paced(seconds, 8, 1500, spawn)
    elif kind == "pgtables":
        size = 64 << 30  # address space only: MAP_NORESERVE, touched sparsely
        m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_NORESERVE", 0x4000))
        held.append(m)
        step = 2 << 20

        def touch(i):
            m[i * step] = 1

        paced(seconds, 60, size // step, touch)
    elif kind == "tmpfs":
        def create(i):
            with open(f"{arg}/f{i}", "w"):
                pass

        paced(seconds, 150, 60000, create)
    elif kind == "churn":
        half = seconds / 2
        n = paced(half, 300, 60000, lambda i: open(f"{arg}/c{i}", "w").close())
        per = max(1, n // int(half * 10))
        paced(half, per, n, lambda i: os.unlink(f"{arg}/c{i}"))
    elif kind == "oom":
        chunks = []
        for _ in range(4096):  # 4 GiB at most: the limit kills it long before
            b = bytearray(1 << 20)
            chunks.append(b)
            time.sleep(0.01)
    else:
        sys.exit(f"unknown kind {kind}")
    print("done", flush=True)
    # hold what it made until stdin closes, two minutes at most
    select.select([sys.stdin], [], [], 120)


if __name__ == "__main__":
    main()
