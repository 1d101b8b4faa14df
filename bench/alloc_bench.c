/* SPDX-License-Identifier: MIT */
/*
 * Costs of the allocation tracer (bench/alloc.sh runs this as root).
 *
 *   alloc_bench overhead ROUNDS FILES SOCKETS BUILDS DIR
 *       Allocation-heavy loads - create then remove FILES files in DIR (a
 *       tmpfs), SOCKETS AF_UNIX socket pairs that each pass 100 bytes - and a
 *       mixed one, BUILDS compilations of src/lib/cgroup.c (children's CPU),
 *       run without the tracer, with its programs attached but returning at
 *       once (the floor: the cost of the tracepoint calls alone), with counts
 *       only and with live-object tracking, in that rotating order each
 *       round. Prints per load and setting the median over the rounds of (CPU
 *       of the load with the tracer) / (CPU without it in the same round).
 *       CPU is this thread's user + system time: BPF programs run in the
 *       allocating thread.
 *
 *   alloc_bench walkload ROUNDS FILES SOCKETS DIR
 *       The files and sockets loads above, pinned to the first CPU of this
 *       process's set, in rounds of two: plain, and with the owner walker
 *       (src/lib/ownwalk.c) walking in a loop in a child pinned to another
 *       CPU, in alternating order. The walker is opened (and finds the page
 *       array) before its load starts and is killed after it: the walk is on
 *       demand and attaches nothing to the allocation path (issue 18), so the
 *       load's CPU should not move. Prints per load the median ratio (with
 *       walker / plain) and its quartiles, the walks done during the loads,
 *       and the traced allocations of one load (the tracer in counts mode,
 *       once before the rounds) for the per-event figure.
 *
 *   alloc_bench refresh CGROUPS CACHES ITERATIONS
 *       Fills the tracer's (cgroup, cache) map with CGROUPS x CACHES entries
 *       and measures the user-space CPU of one refresh (kmem_alloc_read +
 *       kmem_alloc_resolve), and the kernel memory of the maps at that size.
 *
 * Prints "key value" lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/types.h>

#include "alloc.h"
#include "kmem.h"
#include "kmem_alloc.h"
#include "ownwalk.h"

static double thread_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "alloc_bench: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double load_files(const char *dir, int n)
{
    char name[4096];
    double t0 = thread_cpu();

    for (int i = 0; i < n; i++) {
        int fd;

        snprintf(name, sizeof(name), "%s/f%d", dir, i);
        fd = open(name, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0)
            die(name);
        close(fd);
    }
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "%s/f%d", dir, i);
        if (unlink(name) != 0)
            die(name);
    }
    return thread_cpu() - t0;
}

static double load_sockets(int n)
{
    char buf[100] = {0};
    double t0 = thread_cpu();

    for (int i = 0; i < n; i++) {
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            die("socketpair");
        if (write(sv[0], buf, sizeof(buf)) != (ssize_t)sizeof(buf) ||
            read(sv[1], buf, sizeof(buf)) != (ssize_t)sizeof(buf))
            die("socket i/o");
        close(sv[0]);
        close(sv[1]);
    }
    return thread_cpu() - t0;
}

/* A compiler run, N times: a mixed load, mostly user space (the CPU of the children). */
static double load_build(int n)
{
    struct rusage ru;
    double t0, t1;

    getrusage(RUSAGE_CHILDREN, &ru);
    t0 = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        int st;

        if (pid == 0) {
            execlp("cc", "cc", "-std=c17", "-D_GNU_SOURCE", "-O2", "-Isrc/common", "-Isrc/lib",
                   "-c", "src/lib/cgroup.c", "-o", "/dev/null", (char *)NULL);
            _exit(127);
        }
        if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            die("cc src/lib/cgroup.c");
    }
    getrusage(RUSAGE_CHILDREN, &ru);
    t1 = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return t1 - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The first (@q 1) or third (@q 3) quartile of sorted @v (after median()),
 * rounded outwards: the spread is not understated with few rounds. */
static double quartile(const double *v, int n, int q)
{
    return q == 1 ? v[(n - 1) / 4] : v[(3 * (n - 1) + 3) / 4];
}

/* FLOOR: the programs attached with bodies that return at once. RATES: the
 * cheap mode inside its window (attached for the whole load). */
enum { NONE, FLOOR, COUNTS, TRACK, RATES, SETTINGS };
static const char *const setting_name[SETTINGS] = {"none", "floor", "counts", "tracking", "rates"};

#define LOADS 3
static const char *const load_name[LOADS] = {"files", "sockets", "build"};

static double run_load(int l, int files, int sockets, int builds, const char *dir)
{
    return l == 0 ? load_files(dir, files) : l == 1 ? load_sockets(sockets) : load_build(builds);
}

static int overhead(int rounds, int files, int sockets, int builds, const char *dir)
{
    double *ratio[LOADS][SETTINGS], base_ms[LOADS][SETTINGS], events[LOADS] = {0, 0, 0};
    double rate_events[LOADS] = {0, 0, 0}, attach_ms = 0, detach_ms = 0;

    for (int l = 0; l < LOADS; l++)
        for (int s = 0; s < SETTINGS; s++) {
            ratio[l][s] = calloc((size_t)rounds, sizeof(double));
            base_ms[l][s] = 0;
            if (!ratio[l][s])
                die("calloc");
        }
    /* Warm up the caches and the dcache hash once. */
    for (int l = 0; l < LOADS; l++)
        run_load(l, files, sockets, 1, dir);
    for (int r = 0; r < rounds; r++) {
        double cpu[LOADS][SETTINGS];

        for (int k = 0; k < SETTINGS; k++) {
            int s = (r + k) % SETTINGS;
            struct kmem_alloc_opts o = {.counts_only = s == COUNTS,
                                        .empty_programs = s == FLOOR,
                                        .mode = s == RATES ? KMEM_ALLOC_RATES : KMEM_ALLOC_TRACK};
            struct kmem_alloc *a = NULL;
            char err[512];

            if (s != NONE && kmem_alloc_open(&a, &o, err, sizeof(err))) {
                fprintf(stderr, "alloc_bench: %s\n", err);
                return 1;
            }
            for (int l = 0; l < LOADS; l++) {
                struct kmem_alloc_table t = {0};

                if (s == RATES) {
                    /* One window around the load; attach and detach + read timed apart. */
                    double t0 = thread_cpu(), t1, t2;

                    if (kmem_alloc_window_start(a))
                        die("kmem_alloc_window_start");
                    t1 = thread_cpu();
                    cpu[l][s] = run_load(l, files, sockets, builds, dir);
                    t2 = thread_cpu();
                    if (kmem_alloc_window_stop(a, &t))
                        die("kmem_alloc_window_stop");
                    attach_ms += (t1 - t0) * 1000 / rounds / LOADS;
                    detach_ms += (thread_cpu() - t2) * 1000 / rounds / LOADS;
                    rate_events[l] += (double)t.events / rounds;
                    kmem_alloc_table_free(&t);
                    continue;
                }
                /* The tracer is read around each load: events of the load (plus the machine's). */
                if (a && s != FLOOR && kmem_alloc_read(a, &t) == 0)
                    events[l] -= (double)t.events / rounds / 2;
                cpu[l][s] = run_load(l, files, sockets, builds, dir);
                if (a && s != FLOOR && kmem_alloc_read(a, &t) == 0)
                    events[l] += (double)t.events / rounds / 2;
                kmem_alloc_table_free(&t);
            }
            kmem_alloc_close(a);
        }
        for (int l = 0; l < LOADS; l++)
            for (int s = 0; s < SETTINGS; s++) {
                ratio[l][s][r] = cpu[l][s] / cpu[l][NONE];
                base_ms[l][s] += cpu[l][s] * 1000 / rounds;
            }
    }
    for (int l = 0; l < LOADS; l++)
        printf("%s_events %.0f\n%s_rate_events %.0f\n", load_name[l], events[l], load_name[l],
               rate_events[l]);
    printf("rates_attach_ms %.2f\nrates_detach_ms %.2f\n", attach_ms, detach_ms);
    for (int l = 0; l < LOADS; l++)
        for (int s = 0; s < SETTINGS; s++) {
            printf("%s_%s_ms %.1f\n%s_%s_ratio %.3f\n", load_name[l], setting_name[s],
                   base_ms[l][s], load_name[l], setting_name[s], median(ratio[l][s], rounds));
            /* The spread of the rounds: first and third quartiles of the ratio. */
            printf("%s_%s_q1 %.3f\n%s_%s_q3 %.3f\n", load_name[l], setting_name[s],
                   quartile(ratio[l][s], rounds, 1), load_name[l], setting_name[s],
                   quartile(ratio[l][s], rounds, 3));
        }
    return 0;
}

/* ---- the allocation load with and without an owner walk running ---------- */

/* Pin the calling thread (pid 0) or process @pid to CPU @cpu. */
static int pin(pid_t pid, int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(pid, sizeof(set), &set);
}

/*
 * The walker child: open the walker on @cpu, say so on @fd (one byte 'r', or
 * 'e' when it cannot run), then walk until killed, one byte 'w' a walk.
 */
static void walker_child(int fd, int cpu)
{
    struct kmem_ownwalk *w;
    struct kmem_owners o;
    char err[512];

    if (cpu >= 0)
        pin(0, cpu);
    if (kmem_ownwalk_open(&w, err, sizeof(err))) {
        fprintf(stderr, "alloc_bench: the owner walker cannot run: %s\n", err);
        if (write(fd, "e", 1) != 1)
            _exit(1);
        _exit(1);
    }
    if (write(fd, "r", 1) != 1)
        _exit(1);
    kmem_owners_init(&o);
    for (;;) {
        kmem_owners_free(&o);
        if (kmem_ownwalk_run(w, &o, err, sizeof(err))) {
            fprintf(stderr, "alloc_bench: owner walk: %s\n", err);
            _exit(1);
        }
        if (write(fd, "w", 1) != 1)
            _exit(1);
    }
}

/* Start the walker child; its pid once it is walking, else -1. */
static pid_t walker_start(int cpu, int *rfd)
{
    int p[2];
    pid_t pid;
    char c = 0;

    if (pipe(p) != 0)
        die("pipe");
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(p[0]);
        walker_child(p[1], cpu);
    }
    close(p[1]);
    if (read(p[0], &c, 1) != 1 || c != 'r') {
        close(p[0]);
        waitpid(pid, NULL, 0);
        return -1;
    }
    *rfd = p[0];
    return pid;
}

/* Stop the walker child; the walks it finished. */
static int walker_stop(pid_t pid, int rfd)
{
    char buf[4096];
    ssize_t n;
    int walks = 0;

    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    while ((n = read(rfd, buf, sizeof(buf))) > 0)
        for (ssize_t i = 0; i < n; i++)
            walks += buf[i] == 'w';
    close(rfd);
    return walks;
}

static int walkload(int rounds, int files, int sockets, const char *dir)
{
    double *ratio[2], ms[2][2] = {{0, 0}, {0, 0}}, events[2] = {0, 0};
    int walks[2] = {0, 0}, cpus[2], ncpu = 0;
    struct kmem_alloc *a = NULL;
    struct kmem_alloc_opts o = {.counts_only = true, .mode = KMEM_ALLOC_TRACK};
    cpu_set_t set;
    char err[512];

    /* The load on the first CPU of our set, the walker on the next one. */
    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        die("sched_getaffinity");
    for (int c = 0; c < CPU_SETSIZE && ncpu < 2; c++)
        if (CPU_ISSET(c, &set))
            cpus[ncpu++] = c;
    if (pin(0, cpus[0]) != 0)
        die("sched_setaffinity");
    for (int l = 0; l < 2; l++) {
        ratio[l] = calloc((size_t)rounds, sizeof(double));
        if (!ratio[l])
            die("calloc");
        run_load(l, files, sockets, 1, dir); /* warm up */
    }
    /* The traced allocations of one load (machine-wide, no walker running). */
    if (kmem_alloc_open(&a, &o, err, sizeof(err)) == 0) {
        for (int l = 0; l < 2; l++) {
            struct kmem_alloc_table t = {0};

            if (kmem_alloc_read(a, &t) == 0)
                events[l] -= (double)t.events;
            kmem_alloc_table_free(&t);
            run_load(l, files, sockets, 1, dir);
            if (kmem_alloc_read(a, &t) == 0)
                events[l] += (double)t.events;
            kmem_alloc_table_free(&t);
        }
        kmem_alloc_close(a);
    }
    for (int r = 0; r < rounds; r++) {
        for (int l = 0; l < 2; l++) {
            double cpu[2];

            for (int k = 0; k < 2; k++) {
                int with = (r + k) % 2, rfd = -1;
                pid_t pid = -1;

                if (with) {
                    pid = walker_start(ncpu > 1 ? cpus[1] : -1, &rfd);
                    if (pid < 0)
                        return 1;
                }
                cpu[with] = run_load(l, files, sockets, 1, dir);
                if (with)
                    walks[l] += walker_stop(pid, rfd);
            }
            ratio[l][r] = cpu[1] / cpu[0];
            ms[l][0] += cpu[0] * 1000 / rounds;
            ms[l][1] += cpu[1] * 1000 / rounds;
        }
    }
    printf("walk_cpus %d\n", ncpu);
    for (int l = 0; l < 2; l++) {
        double med = median(ratio[l], rounds);

        printf("walk_%s_plain_ms %.1f\nwalk_%s_walking_ms %.1f\nwalk_%s_ratio %.3f\n"
               "walk_%s_q1 %.3f\nwalk_%s_q3 %.3f\nwalk_%s_walks %d\nwalk_%s_events %.0f\n",
               load_name[l], ms[l][0], load_name[l], ms[l][1], load_name[l], med, load_name[l],
               quartile(ratio[l], rounds, 1), load_name[l], quartile(ratio[l], rounds, 3),
               load_name[l], walks[l], load_name[l], events[l]);
    }
    return 0;
}

/* The fd of the newest map called "stats": the one kmem_alloc_open() just made. */
static int stats_map_fd(__u32 *slots)
{
    __u32 id = 0, best = 0;
    int fd;

    while (bpf_map_get_next_id(id, &id) == 0) {
        struct bpf_map_info info;
        __u32 len = sizeof(info);

        fd = bpf_map_get_fd_by_id(id);
        if (fd < 0)
            continue;
        memset(&info, 0, sizeof(info));
        if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && strcmp(info.name, "stats") == 0 &&
            id > best) {
            best = id;
            *slots = info.max_entries;
        }
        close(fd);
    }
    return best ? bpf_map_get_fd_by_id(best) : -1;
}

static int refresh(int cgroups, int caches, int iters)
{
    struct kmem_alloc_opts o = {.max_keys = (uint32_t)(cgroups * caches) + 65536};
    struct kmem_alloc_table t = {0};
    struct kmem_alloc *a;
    struct kmem_ctx *ctx;
    char err[512];
    double t0, cpu;
    __u32 slots = 0, n = 0;
    int fd;

    if (kmem_alloc_open(&a, &o, err, sizeof(err))) {
        fprintf(stderr, "alloc_bench: %s\n", err);
        return 1;
    }
    fd = stats_map_fd(&slots);
    if (fd < 0)
        die("no stats map");
    for (int c = 0; c < cgroups; c++)
        for (int k = 0; k < caches; k++) {
            /* Fake cgroup ids (named "(cgroup id N)"), kmalloc-N caches, in
             * slots from the end of the table (the tracer fills it from hashes). */
            struct kmem_alloc_slot v = {.cache = KMEM_ALLOC_KMALLOC | (__u64)(8 * (k + 1)),
                                        .cgid = 1000000 + (__u64)c,
                                        .allocs = (__u64)(c + k + 1)};
            __u32 idx = slots - 1 - n++;

            if (bpf_map_update_elem(fd, &idx, &v, BPF_ANY) != 0)
                die("bpf_map_update_elem");
        }
    close(fd);
    if (kmem_ctx_new(&ctx, "/", err, sizeof(err))) {
        fprintf(stderr, "alloc_bench: %s\n", err);
        return 1;
    }
    kmem_collect(ctx, KMEM_COLLECT_CGROUPS);
    t0 = thread_cpu();
    for (int i = 0; i < iters; i++) {
        if (kmem_alloc_read(a, &t) || kmem_alloc_resolve(a, ctx, kmem_current(ctx), &t)) {
            fprintf(stderr, "alloc_bench: %s\n", kmem_alloc_strerror(a));
            return 1;
        }
    }
    cpu = (thread_cpu() - t0) / iters;

    printf("refresh_entries %zu\nrefresh_ms %.2f\nmap_bytes %llu\n", t.n, cpu * 1000,
           (unsigned long long)kmem_alloc_map_bytes(a));
    kmem_alloc_table_free(&t);
    kmem_alloc_close(a);
    kmem_ctx_free(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "overhead") == 0)
        return overhead(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), argv[6]);
    if (argc == 6 && strcmp(argv[1], "walkload") == 0)
        return walkload(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), argv[5]);
    if (argc == 5 && strcmp(argv[1], "refresh") == 0)
        return refresh(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
    fprintf(stderr, "usage: alloc_bench overhead ROUNDS FILES SOCKETS BUILDS DIR\n"
                    "       alloc_bench walkload ROUNDS FILES SOCKETS DIR\n"
                    "       alloc_bench refresh CGROUPS CACHES ITERATIONS\n");
    return 2;
}
