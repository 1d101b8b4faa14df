/* SPDX-License-Identifier: MIT */
/* Fuzz target: the cgroup v2 memory.stat parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size heap copy, so a read past the end is caught. */
    char *buf = malloc(size ? size : 1);
    struct kmem_cgroup cg;
    struct kmem_parse_error perr = {0, NULL};
    uint64_t parts = 0;

    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    memset(&cg, 0, sizeof(cg));
    if (kmem_cg_memstat_parse(buf, size, &cg, &perr) == 0) {
        /* Invariants: "other" only with an exact kernel; the present parts add up
         * exactly to kernel (saturating); what was trimmed is the excess. */
        if (cg.kernel_approx && (cg.comp_present & (1u << KMEM_CG_OTHER)))
            abort();
        for (int k = 0; k < KMEM_CG_KIND_COUNT; k++) {
            if (!(cg.comp_present & (1u << k)) && cg.comp[k])
                abort();
            parts = parts > UINT64_MAX - cg.comp[k] ? UINT64_MAX : parts + cg.comp[k];
        }
        if (parts != cg.kernel && parts != UINT64_MAX)
            abort();
        if (cg.kernel_approx && cg.comp_excess)
            abort();
        if (!cg.has_sock && cg.sock)
            abort();
    } else if (perr.line == 0 || !perr.what) {
        abort(); /* a parse error always names its line */
    }
    free(buf);
    return 0;
}
