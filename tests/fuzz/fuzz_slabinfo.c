/* SPDX-License-Identifier: MIT */
/* Fuzz target: the /proc/slabinfo parser and the per-cache diff. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slabinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct kmem_slabinfo prev;
    struct kmem_slabinfo si = {0};
    struct kmem_parse_error perr;

    if (kmem_slabinfo_parse((const char *)data, size, &si, &perr) == 0) {
        /* Diff against the previous accepted input: exercises name matching. */
        kmem_slabinfo_diff(&si, &prev, 4096);
        for (size_t i = 0; i < si.n; i++)
            if (kmem_slabinfo_find(&si, si.v[i].name, si.v[i].dup) != (long)i)
                abort();
        kmem_slabinfo_release(&prev);
        prev = si;
    } else {
        if (perr.what == NULL && perr.line != 0)
            abort();
        kmem_slabinfo_release(&si);
    }
    return 0;
}
