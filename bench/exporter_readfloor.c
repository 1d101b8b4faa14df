/* SPDX-License-Identifier: MIT */
/*
 * exporter_readfloor ROOT N: the floor under one kmem_exporter collection.
 * N times: read() /proc/slabinfo, meminfo, vmstat, zoneinfo, net/sockstat,
 * net/sockstat6 and cgroups whole (kept open, re-read from offset 0), list
 * /sys/block and read each zram device's mm_stat, then open + read + close the one file per
 * memory cgroup that the exported figure needs (v1
 * memory.kmem.usage_in_bytes, v2 memory.stat; paths listed once before the
 * timing, no directory listed) -- no parsing.
 * The exporter's process_* metrics read /proc/self/stat and list
 * /proc/self/fd on every scrape, so the floor does too.
 * Prints the mean CPU (user+sys) per iteration in milliseconds.
 * /proc/slabinfo is read as kmem reads it: in chunks a little under a page,
 * so that the kernel generates no line twice (kmem_buf_read_fd_chunked).
 *
 * exporter_readfloor --slabinfo-per-line ROOT: read ROOT/proc/slabinfo whole
 * (the same way) once per line read from stdin, until EOF. bench/exporter.sh
 * runs it beside the HTTP scrapes, one read per round of scrapes: its CPU is
 * the kernel's generation of /proc/slabinfo that every server pays, at the
 * same moments.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static char buf[1 << 20];

static void drain(int fd)
{
    off_t off = 0;
    ssize_t n;
    while ((n = pread(fd, buf, sizeof(buf), off)) > 0)
        off += n;
}

/* /proc/slabinfo, in chunks of a page less its longest line (512 bytes). */
static void drain_slabinfo(int fd)
{
    size_t chunk = (size_t)sysconf(_SC_PAGESIZE) - 512;
    off_t off = 0;
    ssize_t n;
    while ((n = pread(fd, buf, chunk, off)) > 0)
        off += n;
}

static int per_line(const char *root)
{
    char path[4096], line[256];
    snprintf(path, sizeof(path), "%s/proc/slabinfo", root);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    while (fgets(line, sizeof(line), stdin))
        drain_slabinfo(fd);
    return 0;
}

static void read_at(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    close(fd);
}

/* The one file per cgroup that the exported figure needs: listed once,
 * before the timing (the floor lists no directory). */
static char **paths;
static size_t npaths, cpaths;

static void list(int dfd, const char *rel, const char *file)
{
    char p[8192];

    if (faccessat(dfd, file, R_OK, 0) != 0)
        return;
    if (npaths == cpaths) {
        cpaths = cpaths ? 2 * cpaths : 1024;
        paths = realloc(paths, cpaths * sizeof(*paths));
        if (!paths)
            exit(1);
    }
    snprintf(p, sizeof(p), "%s%s%s", rel, rel[0] ? "/" : "", file);
    paths[npaths++] = strdup(p);
    int dup_fd = dup(dfd);
    DIR *d = fdopendir(dup_fd);
    if (!d) {
        close(dup_fd);
        return;
    }
    rewinddir(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sub >= 0) {
            snprintf(p, sizeof(p), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
            list(sub, p, file);
            close(sub);
        }
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--slabinfo-per-line"))
        return per_line(argv[2]);
    if (argc != 3 || atol(argv[2]) < 1) {
        fprintf(stderr, "usage: exporter_readfloor ROOT N | --slabinfo-per-line ROOT\n");
        return 2;
    }
    const char *root = argv[1];
    long n = atol(argv[2]);
    static const char *const hot[] = {"proc/slabinfo", "proc/meminfo",      "proc/vmstat",
                                      "proc/zoneinfo", "proc/net/sockstat", "proc/net/sockstat6",
                                      "proc/cgroups"};
    enum { NHOT = sizeof(hot) / sizeof(hot[0]) };
    int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rfd < 0) {
        perror(root);
        return 1;
    }
    int fds[NHOT];
    for (int i = 0; i < NHOT; i++) {
        fds[i] = openat(rfd, hot[i], O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0) {
            perror(hot[i]);
            return 1;
        }
    }
    int v2 = 0;
    int cg = openat(rfd, "sys/fs/cgroup/memory", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cg < 0) {
        cg = openat(rfd, "sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        v2 = 1;
    }
    if (cg >= 0)
        list(cg, "", v2 ? "memory.stat" : "memory.kmem.usage_in_bytes");
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    for (long i = 0; i < n; i++) {
        drain_slabinfo(fds[0]);
        for (int k = 1; k < NHOT; k++)
            drain(fds[k]);
        /* The node collector's zram devices: list sys/block, read each mm_stat. */
        DIR *blk = fdopendir(openat(rfd, "sys/block", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        for (struct dirent *de; blk && (de = readdir(blk));) {
            char p[300];
            if (strncmp(de->d_name, "zram", 4))
                continue;
            snprintf(p, sizeof(p), "%s/mm_stat", de->d_name);
            read_at(dirfd(blk), p);
        }
        if (blk)
            closedir(blk);
        read_at(AT_FDCWD, "/proc/self/stat");
        DIR *fdd = opendir("/proc/self/fd");
        while (fdd && readdir(fdd))
            ;
        if (fdd)
            closedir(fdd);
        for (size_t k = 0; k < npaths; k++)
            read_at(cg, paths[k]);
    }
    getrusage(RUSAGE_SELF, &r1);
    double cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec -
                          r0.ru_stime.tv_sec) +
                 (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec -
                          r0.ru_stime.tv_usec) /
                     1e6;
    printf("%.4f %zu\n", cpu * 1000 / (double)n, npaths);
    return 0;
}
