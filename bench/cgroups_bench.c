/* SPDX-License-Identifier: MIT */
/*
 * CPU and RSS of kmem's cgroup collection against the raw-read floor: the
 * same directory walk plus open + read + close of the files kmem reads in
 * each v1 memory cgroup, with nothing parsed or stored.
 *
 *   cgroups_bench ROOT ITERATIONS
 *
 * Prints "key value" lines for bench/cgroups.sh.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kmem.h"

static const char *const v1_files[] = {
    "memory.kmem.usage_in_bytes",
    "memory.kmem.tcp.usage_in_bytes",
    "memory.usage_in_bytes",
};

static double cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long maxrss_kib(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static long rss_kib(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* The floor: walk and read, nothing else. Returns the number of cgroups. */
static size_t floor_walk(int fd, int depth)
{
    char buf[4096];
    struct dirent *de;
    size_t n = 1;
    DIR *d;

    for (size_t i = 0; i < sizeof(v1_files) / sizeof(v1_files[0]); i++) {
        int f = openat(fd, v1_files[i], O_RDONLY | O_CLOEXEC);

        if (f >= 0) {
            if (read(f, buf, sizeof(buf)) < 0)
                buf[0] = 0;
            close(f);
        }
    }
    if (depth >= 64)
        return n;
    d = fdopendir(dup(fd));
    if (!d)
        return n;
    rewinddir(d); /* the dup shares the offset of @fd, walked before */
    while ((de = readdir(d))) {
        int c;

        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        c = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (c < 0)
            continue;
        n += floor_walk(c, depth + 1);
        close(c);
    }
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : "/";
    int iters = argc > 2 ? atoi(argv[2]) : 20;
    char path[4096], err[512];
    struct kmem_ctx *ctx;
    double t0, floor_cpu, kmem_cpu;
    long rss0, rss1, max0, max1;
    size_t n = 0, kn = 0;
    int hfd;

    if (iters < 1)
        iters = 1;
    snprintf(path, sizeof(path), "%s/sys/fs/cgroup/memory", root);
    hfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (hfd < 0) {
        perror(path);
        return 1;
    }
    if (kmem_ctx_new(&ctx, root, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    /* Warm up both (kernfs creates its inodes on first lookup). */
    floor_walk(hfd, 0);
    if (kmem_collect(ctx, KMEM_COLLECT_CGROUPS) || kmem_collect(ctx, KMEM_COLLECT_CGROUPS)) {
        fprintf(stderr, "collect: %s\n", kmem_strerror(ctx));
        return 1;
    }

    /* Interleaved, so that drift (other load, cache state) hits both alike. */
    rss0 = rss_kib();
    max0 = maxrss_kib();
    floor_cpu = kmem_cpu = 0;
    for (int i = 0; i < iters; i++) {
        t0 = cpu_seconds();
        n = floor_walk(hfd, 0);
        floor_cpu += cpu_seconds() - t0;
        t0 = cpu_seconds();
        if (kmem_collect(ctx, KMEM_COLLECT_CGROUPS)) {
            fprintf(stderr, "collect: %s\n", kmem_strerror(ctx));
            return 1;
        }
        kmem_cpu += cpu_seconds() - t0;
        kn = kmem_current(ctx)->cgroups.n;
    }
    floor_cpu /= iters;
    kmem_cpu /= iters;
    rss1 = rss_kib();
    max1 = maxrss_kib();

    printf("cgroups_floor %zu\n", n);
    printf("cgroups_kmem %zu\n", kn);
    printf("iterations %d\n", iters);
    printf("floor_ms_per_collection %.3f\n", floor_cpu * 1e3);
    printf("kmem_ms_per_collection %.3f\n", kmem_cpu * 1e3);
    printf("ratio %.2f\n", floor_cpu > 0 ? kmem_cpu / floor_cpu : 0.0);
    printf("rss_kib_before %ld\nrss_kib_after %ld\n", rss0, rss1);
    printf("maxrss_kib_before %ld\nmaxrss_kib_after %ld\n", max0, max1);
    kmem_ctx_free(ctx);
    close(hfd);
    return 0;
}
