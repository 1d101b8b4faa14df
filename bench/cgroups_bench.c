/* SPDX-License-Identifier: MIT */
/*
 * CPU and RSS of kmem's cgroup collection against the floor: open + read +
 * close of the one file per cgroup that the exported figure needs (v1
 * memory.kmem.usage_in_bytes, v2 memory.stat), paths known in advance, no
 * directory listed, nothing parsed or stored. kmem is measured as the
 * exporter reads by default (no extra per-cgroup file) in two ways: every
 * file opened and closed each time (no fd kept), and with its fd cache
 * (files kept open, re-read with pread); and with every extra file (as
 * kmemtop reads). The pread of kept fds is printed too (a floor for the
 * cache).
 *
 *   cgroups_bench ROOT ITERATIONS        the CPU figures
 *   cgroups_bench ROOT ITERATIONS rss    only an exporter-like context: RSS
 *                                        after one and after ITERATIONS more
 *                                        collections (whole process)
 *
 * Prints "key value" lines for bench/cgroups.sh.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kmem.h"

static double cpu_seconds(void)
{
    struct timespec t;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
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

static char **paths; /* "<dir>/<file>" below the hierarchy, "file" for the root */
static size_t npaths, cpaths;

static void add_path(const char *rel, const char *file)
{
    char p[8192];

    if (npaths == cpaths) {
        cpaths = cpaths ? 2 * cpaths : 1024;
        paths = realloc(paths, cpaths * sizeof(*paths));
        if (!paths)
            exit(1);
    }
    snprintf(p, sizeof(p), "%s%s%s", rel, rel[0] ? "/" : "", file);
    paths[npaths++] = strdup(p);
}

/* The cgroups below @fd (whose path is @rel) that have @file. */
static void list(int fd, const char *rel, const char *file, int depth)
{
    struct dirent *de;
    DIR *d;

    if (faccessat(fd, file, R_OK, 0) != 0)
        return;
    add_path(rel, file);
    if (depth >= 64 || !(d = fdopendir(dup(fd))))
        return;
    rewinddir(d);
    while ((de = readdir(d))) {
        char sub[4096];
        int c;

        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        c = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (c < 0)
            continue;
        snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
        list(c, sub, file, depth + 1);
        close(c);
    }
    closedir(d);
}

static int hfd;
static int *kept;

static void floor_orc(void)
{
    char buf[8192];

    for (size_t i = 0; i < npaths; i++) {
        int f = openat(hfd, paths[i], O_RDONLY | O_CLOEXEC);

        if (f >= 0) {
            if (read(f, buf, sizeof(buf)) < 0)
                buf[0] = 0;
            close(f);
        }
    }
}

static void floor_pread(void)
{
    char buf[8192];

    for (size_t i = 0; i < npaths; i++)
        if (kept[i] >= 0 && pread(kept[i], buf, sizeof(buf), 0) < 0)
            buf[0] = 0;
}

static struct kmem_ctx *new_ctx(const char *root, unsigned extras, size_t fds)
{
    struct kmem_ctx *ctx;
    char err[512];

    if (kmem_ctx_new(&ctx, root, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    kmem_ctx_set_cgroup_reading(ctx, extras, fds);
    /* Warm up (kernfs makes its inodes on first lookup); the first
     * collection walks and opens, the next ones reuse. */
    for (int i = 0; i < 2; i++)
        if (kmem_collect(ctx, KMEM_COLLECT_CGROUPS)) {
            fprintf(stderr, "collect: %s\n", kmem_strerror(ctx));
            exit(1);
        }
    return ctx;
}

static double run(struct kmem_ctx *ctx)
{
    double t0 = cpu_seconds();

    if (kmem_collect(ctx, KMEM_COLLECT_CGROUPS)) {
        fprintf(stderr, "collect: %s\n", kmem_strerror(ctx));
        exit(1);
    }
    return cpu_seconds() - t0;
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : "/";
    int iters = argc > 2 ? atoi(argv[2]) : 20;
    char path[4096];
    const char *file;
    double t0, f_orc = 0, f_pread = 0, k_orc = 0, k_fds = 0, k_all = 0;
    long rss0, rss1;

    int v2;
    struct rlimit rl;

    if (iters < 1)
        iters = 1;
    if (argc > 3 && !strcmp(argv[3], "rss")) {
        struct kmem_ctx *ctx = new_ctx(root, 0, KMEM_CG_FDS_AUTO);

        rss0 = rss_kib();
        for (int i = 0; i < iters; i++)
            run(ctx);
        rss1 = rss_kib();
        printf("cgroups_kmem %zu\nkept_fds %zu\n", kmem_current(ctx)->cgroups.n,
               kmem_ctx_cgroup_fds(ctx));
        printf("rss_kib_before %ld\nrss_kib_after %ld\n", rss0, rss1);
        kmem_ctx_free(ctx);
        return 0;
    }
    /* As kmem does: the soft fd limit up to the hard one. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    snprintf(path, sizeof(path), "%s/sys/fs/cgroup/memory", root);
    v2 = access(path, F_OK) != 0;
    if (v2)
        snprintf(path, sizeof(path), "%s/sys/fs/cgroup", root);
    file = v2 ? "memory.stat" : "memory.kmem.usage_in_bytes";
    hfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (hfd < 0) {
        perror(path);
        return 1;
    }
    list(hfd, "", file, 0);
    kept = malloc(npaths * sizeof(*kept));
    if (!kept)
        return 1;
    for (size_t i = 0; i < npaths; i++)
        kept[i] = openat(hfd, paths[i], O_RDONLY | O_CLOEXEC);

    /* kmem as the exporter reads (no extra file): fds kept, and none. */
    struct kmem_ctx *fds = new_ctx(root, 0, KMEM_CG_FDS_AUTO);
    struct kmem_ctx *orc = new_ctx(root, 0, 0);
    struct kmem_ctx *all = new_ctx(root, KMEM_CG_EXTRA_ALL, 0);
    floor_orc();
    floor_pread();

    /* Interleaved, so that drift (other load, cache state) hits all alike. */
    for (int i = 0; i < iters; i++) {
        t0 = cpu_seconds();
        floor_orc();
        f_orc += cpu_seconds() - t0;
        t0 = cpu_seconds();
        floor_pread();
        f_pread += cpu_seconds() - t0;
        k_fds += run(fds);
        k_orc += run(orc);
        k_all += run(all);
    }
    printf("layout %s\n", v2 ? "v2" : "v1");
    printf("cgroups_floor %zu\n", npaths);
    printf("cgroups_kmem %zu\n", kmem_current(fds)->cgroups.n);
    printf("kept_fds %zu\n", kmem_ctx_cgroup_fds(fds));
    printf("iterations %d\n", iters);
    printf("floor_ms %.3f\n", f_orc / iters * 1e3);
    printf("pread_ms %.3f\n", f_pread / iters * 1e3);
    printf("kmem_orc_ms %.3f\n", k_orc / iters * 1e3);
    printf("kmem_fds_ms %.3f\n", k_fds / iters * 1e3);
    printf("kmem_all_ms %.3f\n", k_all / iters * 1e3);
    kmem_ctx_free(orc);
    kmem_ctx_free(all);
    kmem_ctx_free(fds);
    return 0;
}
