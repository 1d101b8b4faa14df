/* SPDX-License-Identifier: MIT */
/* What a slab cache holds, in plain words, for --report's "What to do". */
#include <string.h>

#include "report.h"

/*
 * name: a cache name, or a prefix when it ends in '*'. First match wins, so
 * the specific names come before the prefixes that would take them. The
 * words say what makes the cache grow (what to count or look for), not the
 * kernel structure's name; no parentheses (the report puts them in some).
 */
static const struct {
    const char *name, *means;
} cache_hints[] = {
    {"shmem_inode_cache", "files in tmpfs and shared memory, /dev/shm, emptyDir: medium Memory"},
    {"dentry", "file paths looked up, including names that were not found"},
    {"sock_inode_cache",
     "sockets of every kind, one inode per open socket, freed when it is closed"},
    {"UNIX", "UNIX domain sockets, socketpairs"},
    {"UNIX-STREAM", "UNIX domain stream sockets, socketpairs"},
    {"PING", "ICMP ping sockets"},
    {"RAW", "raw IP sockets"},
    {"RAWv6", "raw IPv6 sockets"},
    {"MPTCP", "Multipath TCP sockets"},
    {"request_sock_*", "TCP connections being opened, SYN received and not yet accepted"},
    {"tw_sock_*", "TCP connections closed and waiting in TIME-WAIT"},
    {"TCP", "TCP sockets"},
    {"TCPv6", "TCP sockets over IPv6"},
    {"UDP", "UDP sockets"},
    {"UDPv6", "UDP sockets over IPv6"},
    {"skbuff_*", "network packets in flight or queued on sockets"},
    {"ext4_inode_cache", "files of ext4 file systems that were opened or looked up"},
    {"xfs_inode", "files of XFS file systems that were opened or looked up"},
    {"xfs_*", "XFS file system metadata"},
    {"btrfs_inode", "files of btrfs file systems that were opened or looked up"},
    {"proc_inode_cache", "/proc files looked up, one per process entry read"},
    {"inode_cache", "files of in-memory file systems, sysfs, cgroupfs, pipes"},
    {"ovl_inode", "files of overlay file systems, container root file systems"},
    {"nfs_inode_cache", "files of NFS mounts that were opened or looked up"},
    {"radix_tree_node", "the page cache's index: files cached in memory"},
    {"xarray_node", "the page cache's index: files cached in memory"},
    {"task_struct", "processes and threads, one each, also zombies not yet reaped"},
    {"thread_stack", "kernel stacks of threads, one each"},
    {"sighand_cache", "signal handler tables, one per process"},
    {"fs_cache", "working directory and root of processes, one per process"},
    {"pidfs_*", "pidfds, process file descriptors"},
    {"pid", "process IDs, processes, threads, zombies"},
    {"signal_cache", "processes, one per thread group"},
    {"cred_jar", "process credentials, one per process or thread that changed them"},
    {"files_cache", "open file tables, one per process"},
    {"filp", "open files, also sockets, pipes and epoll instances: one per open file"},
    {"names_cache", "path names being looked up, freed at once"},
    {"mqueue_inode_cache", "POSIX message queues"},
    {"hugetlbfs_inode_cache", "files of hugetlbfs mounts"},
    {"kernfs_iattrs_cache", "sysfs and cgroupfs entries whose owner or mode was changed"},
    {"lsm_file_cache", "open files, the security module's part of each"},
    {"lsm_inode_cache", "inodes, the security module's part of each"},
    {"mm_struct", "process address spaces, one per process"},
    {"vm_area_struct", "memory maps of processes, mmap regions"},
    {"maple_node", "memory maps of processes, the index of their mmap regions"},
    {"anon_vma*", "anonymous memory of processes and their forks"},
    {"kmalloc-cg-*", "generic kernel allocations charged to cgroups, kmalloc with __GFP_ACCOUNT"},
    {"kmalloc-rcl-*", "generic reclaimable kernel allocations"},
    {"kmalloc-*", "generic kernel allocations, kmalloc, from any code"},
    {"dma-kmalloc-*", "generic kernel allocations for DMA, drivers"},
    {"buffer_head", "blocks of block devices cached in memory, file system metadata"},
    {"bio-*", "block I/O requests in flight"},
    {"eventpoll_epi", "epoll watches, one per file descriptor an event loop watches"},
    {"eventpoll_pwq", "epoll watches, the wait queues of the watched files"},
    {"eventpoll_*", "epoll watches, event loops of servers"},
    {"ep_head", "epoll instances watched by other epoll instances"},
    {"inotify_inode_mark", "inotify watches, one per file or directory watched"},
    {"fanotify_*", "fanotify marks and events"},
    {"dnotify_*", "dnotify watches"},
    {"fsnotify_mark_connector", "inotify and fanotify watches"},
    {"kernfs_node_cache", "sysfs and cgroupfs entries, grows with cgroups and devices"},
    {"mnt_cache", "mounts, grows with containers and their mount namespaces"},
    {"nf_conntrack*", "tracked network connections, conntrack"},
    {"audit_buffer", "audit records waiting to be written"},
    {"zs_handle*", "zram or zswap compressed pages"},
    {"zspage", "zram or zswap compressed pages"},
};

void kt_cache_explain(char *out, size_t len, const char *name, const char *merged)
{
    const char *m = kt_cache_meaning(name);
    size_t n;
    int w;

    w = snprintf(out, len, "%s: %s", name, m ? m : "no plain-words hint for this cache");
    n = w > 0 && (size_t)w < len ? (size_t)w : len - 1;
    if (!merged || !*merged || n + 1 >= len)
        return;
    /* SLUB merged caches of one size and flags: its slabs hold any of them */
    w = snprintf(out + n, len - n, "; merged into it, sharing its slabs: %s", merged);
    n = w > 0 && (size_t)w < len - n ? n + (size_t)w : len - 1;
    for (const char *p = merged; *p && n + 1 < len;) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        char one[128];

        snprintf(one, sizeof(one), "%.*s", (int)l, p);
        if ((m = kt_cache_meaning(one))) {
            w = snprintf(out + n, len - n, "; %s: %s", one, m);
            n = w > 0 && (size_t)w < len - n ? n + (size_t)w : len - 1;
        }
        p += l + (comma ? 1 : 0);
    }
}

const char *kt_cache_meaning(const char *name)
{
    for (size_t i = 0; i < sizeof(cache_hints) / sizeof(cache_hints[0]); i++) {
        const char *h = cache_hints[i].name;
        size_t n = strlen(h);

        if (h[n - 1] == '*' ? !strncmp(name, h, n - 1) : !strcmp(name, h))
            return cache_hints[i].means;
    }
    return NULL;
}
