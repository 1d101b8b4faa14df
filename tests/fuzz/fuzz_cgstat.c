/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the small cgroup parsers on arbitrary bytes: v2 cgroup.stat,
 * /proc/cgroups and the CPU list of sys/devices/system/cpu/possible.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmem.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size heap copy, so a read past the end is caught. */
    char *buf = malloc(size ? size : 1);
    struct kmem_parse_error perr = {0, NULL};
    enum kmem_cg_dying_source src;
    uint64_t dying = 1, num = 1;
    int r;

    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    r = kmem_cg_cgstat_parse(buf, size, &dying, &src, &perr);
    if (r == 0) {
        if (src == KMEM_CG_DYING_NONE && dying != 0)
            abort(); /* no count without a key */
        if (src != KMEM_CG_DYING_NONE && src != KMEM_CG_DYING_SUBSYS_MEMORY &&
            src != KMEM_CG_DYING_DESCENDANTS)
            abort();
    } else if (perr.line == 0 || !perr.what) {
        abort(); /* a parse error always names its line */
    }
    r = kmem_cg_proc_cgroups_parse(buf, size, &num);
    if (r != 0 && num != 0)
        abort();
    /* At most 2^24 CPUs, never more than the text could name. */
    if (kmem_cpulist_count(buf, size) > (1u << 24))
        abort();
    free(buf);
    return 0;
}
