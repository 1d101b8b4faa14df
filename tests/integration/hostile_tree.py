#!/usr/bin/env python3
"""Build a hostile --root tree for hardening2.sh (issue 24): a copy of the
v2-systemd-containerd fixture with cgroups added under user.slice, as a user
with a delegated subtree could make them. Files are hard links to the
fixture's system.slice files (cheap); directories are made through dir fds,
so paths may exceed PATH_MAX.

hostile_tree.py FIXTURE DEST wide N        N sibling cgroups
hostile_tree.py FIXTURE DEST chains N D    N chains of D nested 255-byte names
hostile_tree.py FIXTURE DEST deep D        one chain of D nested short names
"""
import os
import shutil
import sys

fixture, dest, mode = sys.argv[1], sys.argv[2], sys.argv[3]
shutil.copytree(fixture, dest, symlinks=True)
cg = os.path.join(dest, "sys/fs/cgroup")
src = os.path.join(cg, "system.slice")
files = [f for f in os.listdir(src) if os.path.isfile(os.path.join(src, f))]
srcfd = os.open(src, os.O_RDONLY | os.O_DIRECTORY)


def make(parent_fd, name):
    os.mkdir(name, dir_fd=parent_fd)
    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=parent_fd)
    for f in files:
        os.link(f, f, src_dir_fd=srcfd, dst_dir_fd=fd)
    return fd


top = make(os.open(cg, os.O_RDONLY | os.O_DIRECTORY), "user.slice")
if mode == "wide":
    for i in range(int(sys.argv[4])):
        os.close(make(top, "user-%d.slice" % i))
elif mode == "chains":
    n, d = int(sys.argv[4]), int(sys.argv[5])
    for i in range(n):
        fd = top
        for k in range(d):
            name = ("c%d-%d-" % (i, k)).ljust(255, "x")
            nfd = make(fd, name)
            if fd != top:
                os.close(fd)
            fd = nfd
        os.close(fd)
elif mode == "deep":
    fd = top
    for k in range(int(sys.argv[4])):
        nfd = make(fd, "d%d" % k)
        if fd != top:
            os.close(fd)
        fd = nfd
else:
    sys.exit("unknown mode " + mode)
