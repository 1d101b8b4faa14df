/* SPDX-License-Identifier: MIT */
/*
 * One kmemtop refresh (read + parse + diff + sort of /proc/slabinfo) against
 * the floor: read()ing the same file without parsing, in the same chunks as
 * kmem (a page less 512 bytes: the kernel generates no line twice). Both
 * loops run interleaved in one process; CPU time from CLOCK_PROCESS_CPUTIME_ID.
 *   slab_refresh [ROOT] [ITERATIONS]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "kmem.h"
#include "views.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : "/";
    int iters = argc > 2 ? atoi(argv[2]) : 2000;
    static char buf[1 << 20];
    double t_floor = 0, t_kmem = 0, t0;
    struct kmem_ctx *ctx;
    char err[256], path[4096];
    size_t idx[8192];
    int fd;

    snprintf(path, sizeof(path), "%s/proc/slabinfo", root);
    fd = open(path, O_RDONLY);
    if (fd < 0 || kmem_ctx_new(&ctx, root, err, sizeof(err))) {
        perror(path);
        return 1;
    }
    for (int i = 0; i < iters; i++) {
        t0 = cpu_now();
        lseek(fd, 0, SEEK_SET);
        while (read(fd, buf, (size_t)sysconf(_SC_PAGESIZE) - 512) > 0)
            ;
        t_floor += cpu_now() - t0;

        t0 = cpu_now();
        if (kmem_collect(ctx, KMEM_COLLECT_SLAB)) {
            fprintf(stderr, "%s\n", kmem_strerror(ctx));
            return 1;
        }
        if (kmem_current(ctx)->slab.n <= sizeof(idx) / sizeof(idx[0]))
            kt_slab_sort(&kmem_current(ctx)->slab, 'o', idx);
        t_kmem += cpu_now() - t0;
    }
    printf("refresh\t%.1f\t%.1f\t%.2f\n", t_kmem / iters * 1e6, t_floor / iters * 1e6,
           t_kmem / t_floor);
    kmem_ctx_free(ctx);
    close(fd);
    return 0;
}
