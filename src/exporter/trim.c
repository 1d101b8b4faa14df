/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "trim.h"

struct mapping {
    uintptr_t start, end;
    bool candidate; /* file-backed, not writable */
    long rss_kb, anon_kb;
};

static void finish(struct mapping *m, long *dropped)
{
    if (!m->candidate || m->anon_kb != 0 || m->rss_kb == 0)
        return;
    void *p = (void *)m->start;
    size_t len = m->end - m->start;
    /* MADV_RANDOM: no fault-around, so refaults bring single pages back. */
    if (madvise(p, len, MADV_RANDOM) == 0 && madvise(p, len, MADV_DONTNEED) == 0)
        *dropped += m->rss_kb;
}

long kx_trim_rss(void)
{
    FILE *f = fopen("/proc/self/smaps", "re");
    struct mapping m = {0};
    char line[512];
    long dropped = 0;

    if (!f)
        return -errno;
    while (fgets(line, sizeof(line), f)) {
        uintptr_t a, b;
        char perms[8];
        int path_at = 0;

        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %*s %*s %*s %n", &a, &b, perms, &path_at) ==
            3) {
            finish(&m, &dropped);
            m = (struct mapping){.start = a, .end = b};
            /* a real file (not [heap], [vdso], anonymous), never writable */
            m.candidate = path_at > 0 && line[path_at] == '/' && perms[1] != 'w';
            continue;
        }
        if (strncmp(line, "Rss:", 4) == 0)
            m.rss_kb = strtol(line + 4, NULL, 10);
        else if (strncmp(line, "Anonymous:", 10) == 0)
            m.anon_kb = strtol(line + 10, NULL, 10);
    }
    finish(&m, &dropped);
    fclose(f);
    return dropped;
}
