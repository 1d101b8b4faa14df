/* vmpair: /proc/vmallocinfo and the kernel's vmalloc counter read at one
 * moment, for tests/vm/check_node.py (a static helper for the VM scenarios;
 * not part of kmem):
 *
 *   vmpair DIR
 *
 * 7.x counts vmalloc pages in the node counter NR_VMALLOC (vmstat
 * nr_vmalloc, VmallocUsed): each CPU batches its changes up to its "vm stats
 * threshold" before folding them in, so the counter lags /proc/vmallocinfo
 * (which is exact) by what was allocated or freed since the last fold.
 * Older kernels count in an atomic (VmallocUsed, exact). So, in one process
 * that does not fork or exit between the reads (a new task's vmalloc'd
 * stack would move both): fold every CPU's counters (a write to
 * /proc/sys/vm/stat_refresh), read /proc/vmstat and /proc/meminfo, read
 * /proc/vmallocinfo, fold again, read /proc/vmstat and /proc/meminfo again;
 * the counter (nr_vmalloc where the kernel has it, else VmallocUsed) is
 * exact at the listing when both reads agree: a change after the first fold
 * and before the second read shows in the second. Up to 30 tries, 0.2 s
 * apart. Writes DIR/proc/{vmstat,meminfo,vmallocinfo} (the first reads)
 * and prints "tries=N stable=yes|no". Exit 1 with a message on a failure. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX (4UL << 20)
static char vmstat[2][1 << 16], meminfo[2][1 << 16], vmallocinfo[MAX];

static void die(const char *what)
{
    fprintf(stderr, "vmpair: %s: %s\n", what, strerror(errno));
    exit(1);
}

static size_t slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t len = 0;
    ssize_t n;

    if (fd < 0)
        die(path);
    while ((n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    if (n < 0 || len >= cap - 1)
        die(path);
    close(fd);
    buf[len] = '\0';
    return len;
}

/* Fold every CPU's counters. 5.10 returns EINVAL after folding when some
 * counter is negative (mm/vmstat.c vmstat_refresh()): not an error here. */
static void fold(void)
{
    int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);

    if (fd < 0)
        die("/proc/sys/vm/stat_refresh");
    if (write(fd, "1\n", 2) != 2 && errno != EINVAL)
        die("/proc/sys/vm/stat_refresh");
    close(fd);
}

/* The value of @key ("nr_vmalloc " or "VmallocUsed:") in @text, -1 if absent. */
static long long value(const char *text, const char *key)
{
    size_t kl = strlen(key);

    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, key, kl) == 0)
            return strtoll(p + kl, NULL, 10);
    return -1;
}

static void put(const char *dir, const char *name, const char *buf)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/proc/%s", dir, name);
    f = fopen(path, "we");
    if (!f || fputs(buf, f) < 0 || fclose(f) != 0)
        die(path);
}

int main(int argc, char **argv)
{
    char path[4096];
    int tries = 0, stable = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: vmpair DIR\n");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/proc", argv[1]);
    if ((mkdir(argv[1], 0755) && errno != EEXIST) || (mkdir(path, 0755) && errno != EEXIST))
        die(path);
    while (tries < 30 && !stable) {
        struct timespec pause = {0, 200000000};
        long long a, b;

        if (tries++)
            nanosleep(&pause, NULL);
        fold();
        slurp("/proc/vmstat", vmstat[0], sizeof(vmstat[0]));
        slurp("/proc/meminfo", meminfo[0], sizeof(meminfo[0]));
        slurp("/proc/vmallocinfo", vmallocinfo, sizeof(vmallocinfo));
        fold();
        slurp("/proc/vmstat", vmstat[1], sizeof(vmstat[1]));
        slurp("/proc/meminfo", meminfo[1], sizeof(meminfo[1]));
        a = value(vmstat[0], "nr_vmalloc ");
        b = value(vmstat[1], "nr_vmalloc ");
        if (a < 0) { /* before 7.x: VmallocUsed is an atomic, exact */
            a = value(meminfo[0], "VmallocUsed:");
            b = value(meminfo[1], "VmallocUsed:");
        }
        stable = a >= 0 && a == b;
    }
    put(argv[1], "vmstat", vmstat[0]);
    put(argv[1], "meminfo", meminfo[0]);
    put(argv[1], "vmallocinfo", vmallocinfo);
    printf("tries=%d stable=%s\n", tries, stable ? "yes" : "no");
    return 0;
}
