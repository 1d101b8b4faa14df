/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the node detail parsers (/proc/vmallocinfo, /proc/iomem,
 * /proc/allocinfo). The first byte picks the parser; the rest is the file.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(int rc, const struct kmem_parse_error *perr)
{
    if (rc == -EINVAL && perr->what == NULL)
        abort();
    if (rc != 0 && rc != -EINVAL && rc != -ENOMEM)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kmem_parse_error perr = {0, NULL};
    char *buf;
    int rc;

    if (size == 0)
        return 0;
    buf = malloc(size);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    switch (data[0] % 3) {
    case 0: {
        struct kmem_vmallocinfo v;
        uint64_t sum = 0;

        rc = kmem_vmallocinfo_parse(buf, size - 1, 4096, &v, &perr);
        check_err(rc, &perr);
        if (rc == 0) {
            if (v.n_top > KMEM_VMALLOC_TOP || v.n_groups > KMEM_VMALLOC_GROUPS)
                abort();
            for (unsigned i = 0; i < v.n_top; i++) {
                if (strlen(v.top[i].caller) >= sizeof(v.top[i].caller))
                    abort();
                if (i && v.top[i].bytes > v.top[i - 1].bytes)
                    abort();
                sum += v.top[i].bytes;
            }
            if (v.bytes != UINT64_MAX && sum + v.rest_bytes != v.bytes)
                abort();
        }
        break;
    }
    case 1: {
        struct kmem_iomem io;

        rc = kmem_iomem_parse(buf, size - 1, &io, &perr);
        check_err(rc, &perr);
        if (rc == 0 && io.kernel_seen && io.kernel_end < io.kernel_start)
            abort();
        break;
    }
    default: {
        struct kmem_allocinfo a;

        rc = kmem_allocinfo_parse(buf, size - 1, &a, &perr);
        check_err(rc, &perr);
        if (rc == 0) {
            if (a.n_top > KMEM_ALLOCINFO_TOP || a.n_top > a.sites)
                abort();
            for (unsigned i = 1; i < a.n_top; i++)
                if (a.top[i].bytes > a.top[i - 1].bytes)
                    abort();
        }
        break;
    }
    }
    free(buf);
    return 0;
}
