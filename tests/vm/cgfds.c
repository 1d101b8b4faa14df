/* SPDX-License-Identifier: MIT */
/*
 * In the guest (tests/vm/guest/v2-fds.sh): what libkmem's kept cgroup fds
 * rest on, and that its reuse of the known tree sees every change, on a live
 * cgroup v2 hierarchy. Prints TAP lines.
 *
 *   cgfds enodev MOUNT   a kept memory.stat fd after rmdir: ENODEV, and the
 *                        root's nr_descendants drops at once
 *   cgfds track MOUNT N  N cgroups below MOUNT/kmemfds; after each change
 *                        (create deep, remove, remove and make again, remove
 *                        one and create another, remove many) one collection
 *                        lists exactly the cgroups of the tree; fds follow
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kmem.h"

static int failed;

static void ok(int cond, const char *fmt, const char *detail)
{
    printf("%s - ", cond ? "ok" : "not ok");
    printf(fmt, detail ? detail : "");
    printf("\n");
    fflush(stdout);
    failed |= !cond;
}

static long descendants(const char *mount)
{
    char p[512], line[256];
    long n = -1;
    FILE *f;

    snprintf(p, sizeof(p), "%s/cgroup.stat", mount);
    f = fopen(p, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "nr_descendants %ld", &n) == 1)
            break;
    fclose(f);
    return n;
}

static int enodev(const char *mount)
{
    char d[512], f[600], buf[4096];
    long before, after;
    int fd;
    ssize_t n;

    snprintf(d, sizeof(d), "%s/kmemfds-gone", mount);
    snprintf(f, sizeof(f), "%s/memory.stat", d);
    if (mkdir(d, 0755) || (fd = open(f, O_RDONLY | O_CLOEXEC)) < 0) {
        ok(0, "v2: made a cgroup and opened its memory.stat%s", strerror(errno));
        return 1;
    }
    n = pread(fd, buf, sizeof(buf), 0);
    ok(n > 0, "v2: pread of a fresh memory.stat%s", "");
    before = descendants(mount);
    ok(rmdir(d) == 0, "v2: rmdir with its memory.stat open succeeds%s", strerror(errno));
    after = descendants(mount);
    errno = 0;
    n = pread(fd, buf, sizeof(buf), 0);
    ok(n < 0 && errno == ENODEV, "v2: the kept fd then reads ENODEV (%s)",
       n < 0 ? strerror(errno) : "it read");
    ok(after == before - 1, "v2: the root's nr_descendants drops at once%s", "");
    ok(access(d, F_OK) != 0, "v2: the directory is gone%s", "");
    close(fd);
    return failed;
}

/* The memory cgroups (those with a memory.stat) at and below @rel into @out. */
static void walk(int fd, const char *rel, FILE *out)
{
    struct dirent *de;
    DIR *d;

    if (faccessat(fd, "memory.stat", F_OK, 0) != 0)
        return;
    fprintf(out, "/%s\n", rel);
    d = fdopendir(dup(fd));
    if (!d)
        return;
    rewinddir(d);
    while ((de = readdir(d))) {
        char sub[4096];
        int c;

        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        c = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c < 0)
            continue;
        snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
        walk(c, sub, out);
        close(c);
    }
    closedir(d);
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted lines of @text, NUL-separated in place; returns the count. */
static size_t lines(char *text, char ***out)
{
    size_t n = 0, cap = 64;
    char **v = malloc(cap * sizeof(*v));

    for (char *p = strtok(text, "\n"); p; p = strtok(NULL, "\n")) {
        if (n == cap)
            v = realloc(v, (cap *= 2) * sizeof(*v));
        v[n++] = p;
    }
    qsort(v, n, sizeof(*v), cmpstr);
    *out = v;
    return n;
}

/* One collection: exactly the cgroups of the tree below kmemfds? */
static void same(struct kmem_ctx *ctx, const char *mount, const char *what)
{
    char *a = NULL, *b = NULL, **va, **vb;
    size_t la = 0, lb = 0, na, nb, diff = 0;
    FILE *fa = open_memstream(&a, &la), *fb = open_memstream(&b, &lb);
    char detail[256];
    int fd;

    if (kmem_collect(ctx, KMEM_COLLECT_CGROUPS)) {
        ok(0, "%s", kmem_strerror(ctx));
        return;
    }
    const struct kmem_cgroups *cgs = &kmem_current(ctx)->cgroups;
    for (size_t i = 0; i < cgs->n; i++)
        if (!strncmp(cgs->v[i].path, "/kmemfds", 8))
            fprintf(fa, "%s\n", cgs->v[i].path);
    fd = open(mount, O_RDONLY | O_DIRECTORY);
    int k = openat(fd, "kmemfds", O_RDONLY | O_DIRECTORY);
    walk(k, "kmemfds", fb);
    close(k);
    close(fd);
    fclose(fa);
    fclose(fb);
    na = lines(a, &va);
    nb = lines(b, &vb);
    const char *first = "";
    for (size_t i = 0, j = 0; i < na || j < nb;) {
        int c = i == na ? 1 : j == nb ? -1 : strcmp(va[i], vb[j]);
        if (c && !diff)
            first = c < 0 ? va[i] : vb[j];
        if (c && !diff)
            printf("# %s: %s only in %s\n", what, first, c < 0 ? "kmem" : "the tree");
        diff += c != 0;
        i += c <= 0;
        j += c >= 0;
    }
    snprintf(detail, sizeof(detail),
             "%s: %zu cgroups, %zu differ, %zu fds kept (%zu vanished, "
             "%zu errors)",
             what, nb, diff, kmem_ctx_cgroup_fds(ctx), cgs->n_vanished, cgs->n_errors);
    ok(diff == 0 && na > 0, "v2 reuse: %s", detail);
    free(va);
    free(vb);
    free(a);
    free(b);
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        ok(0, "setup: %s", cmd);
}

static int track(const char *mount, int n)
{
    struct kmem_ctx *ctx;
    char err[256];
    size_t fds0, fds1;
    int groups = (n + 9) / 10;

    sh("mkdir %s/kmemfds && echo +memory >%s/kmemfds/cgroup.subtree_control", mount, mount);
    for (int g = 0; g < groups; g++) {
        sh("mkdir %s/kmemfds/g%d && echo +memory >%s/kmemfds/g%d/cgroup.subtree_control", mount, g,
           mount, g);
        sh("cd %s/kmemfds/g%d && mkdir c0 c1 c2 c3 c4 c5 c6 c7 c8", mount, g);
    }
    if (kmem_ctx_new(&ctx, "/", err, sizeof(err))) {
        ok(0, "kmem_ctx_new: %s", err);
        return 1;
    }
    kmem_ctx_set_cgroup_reading(ctx, 0, KMEM_CG_FDS_AUTO);
    same(ctx, mount, "first collection (a walk)");
    same(ctx, mount, "again (the known tree, kept fds)");
    fds0 = kmem_ctx_cgroup_fds(ctx);
    ok(fds0 >= (size_t)n, "v2: one kept fd per cgroup at least%s", "");
    sh("echo +memory >%s/kmemfds/g1/c3/cgroup.subtree_control && mkdir %s/kmemfds/g1/c3/deep",
       mount, mount);
    same(ctx, mount, "a cgroup created at depth 4");
    sh("rmdir %s/kmemfds/g1/c3/deep", mount);
    same(ctx, mount, "it removed");
    sh("rmdir %s/kmemfds/g2/c5 && mkdir %s/kmemfds/g2/c5", mount, mount);
    same(ctx, mount, "a cgroup removed and made again under its name");
    sh("rmdir %s/kmemfds/g3/c1 && mkdir %s/kmemfds/g0/new", mount, mount);
    same(ctx, mount, "one removed and one created elsewhere");
    for (int c = 0; c < 9; c++)
        sh("rmdir %s/kmemfds/g%d/c%d", mount, groups - 1, c);
    same(ctx, mount, "nine removed");
    fds1 = kmem_ctx_cgroup_fds(ctx);
    ok(fds1 <= fds0 - 9, "v2: their fds are closed%s", "");
    kmem_ctx_free(ctx);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "enodev"))
        return enodev(argv[2]);
    if (argc >= 4 && !strcmp(argv[1], "track"))
        return track(argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: cgfds enodev MOUNT | track MOUNT N\n");
    return 2;
}
