/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: kmem-owners.txt (kmem_owners_parse). What parses must be
 * written back by kmem_owners_format to a file that parses to the same rows
 * and totals (the writer's escapes undo the reader's).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "owners.h"
#include "parse_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kmem_parse_error perr = {0, NULL};
    struct kmem_owners a, b;
    struct kmem_buf out = {0};
    uint64_t charged = 0;
    int rc;

    kmem_owners_init(&a);
    kmem_owners_init(&b);
    rc = kmem_owners_parse((const char *)data, size, &a, &perr);
    if (rc == -EINVAL && (perr.what == NULL || perr.line == 0))
        abort();
    if (rc != 0 && rc != -EINVAL && rc != -ENOMEM)
        abort();
    if (rc == 0) {
        for (size_t i = 0; i < a.nrows; i++)
            if (a.rows[i].cgroup_id)
                charged += a.rows[i].objects;
        if (charged != a.objects_charged)
            abort();
        if (kmem_owners_format(&a, &out) == 0) {
            rc = kmem_owners_parse(out.data, out.len, &b, &perr);
            if (rc == -EINVAL)
                abort();
            if (rc == 0) {
                if (b.nrows != a.nrows || b.objects_charged != a.objects_charged ||
                    b.objects_uncharged != a.objects_uncharged || b.pages != a.pages ||
                    b.slabs != a.slabs || b.taken.tv_sec != a.taken.tv_sec ||
                    b.taken.tv_nsec != a.taken.tv_nsec)
                    abort();
                for (size_t i = 0; i < a.nrows; i++)
                    if (a.rows[i].cgroup_id != b.rows[i].cgroup_id ||
                        a.rows[i].bytes != b.rows[i].bytes ||
                        a.rows[i].objects != b.rows[i].objects ||
                        !same_str(a.rows[i].cache, b.rows[i].cache) ||
                        !same_str(a.rows[i].cgroup, b.rows[i].cgroup))
                        abort();
            }
        }
    }
    free(out.data);
    kmem_owners_free(&a);
    kmem_owners_free(&b);
    return 0;
}
