/* SPDX-License-Identifier: MIT */
/* Memory cgroups: the names of the tables, and the parsers of memory.stat,
 * cgroup.stat, /proc/cgroups and the CPU list (pure functions of a buffer). */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include "readers.h"
#include "arena.h"
#include "hindex.h"
#include "kube.h"
#include "kv.h"
#include "parse.h"
#include "sat.h"

const char *const kmem_cg_layout_name[] = {
    [KMEM_CG_NONE] = "none",
    [KMEM_CG_V1] = "v1",
    [KMEM_CG_V2] = "v2",
    [KMEM_CG_HYBRID] = "hybrid",
};
static_assert(sizeof(kmem_cg_layout_name) / sizeof(kmem_cg_layout_name[0]) == KMEM_CG_HYBRID + 1,
              "kmem_cg_layout_name table");

const char *const kmem_cg_kind_name[KMEM_CG_KIND_COUNT] = {
    [KMEM_CG_SLAB_RECLAIMABLE] = "slab_reclaimable",
    [KMEM_CG_SLAB_UNRECLAIMABLE] = "slab_unreclaimable",
    [KMEM_CG_KERNEL_STACK] = "kernel_stack",
    [KMEM_CG_PAGETABLES] = "pagetables",
    [KMEM_CG_SEC_PAGETABLES] = "sec_pagetables",
    [KMEM_CG_PERCPU] = "percpu",
    [KMEM_CG_VMALLOC] = "vmalloc",
    [KMEM_CG_ZSWAP] = "zswap",
    [KMEM_CG_OTHER] = "other",
};
static_assert(sizeof(kmem_cg_kind_name) / sizeof(kmem_cg_kind_name[0]) == KMEM_CG_KIND_COUNT,
              "kmem_cg_kind_name table");

const char *const kmem_cg_dying_source_name[] = {
    [KMEM_CG_DYING_NONE] = "none",
    [KMEM_CG_DYING_SUBSYS_MEMORY] = "nr_dying_subsys_memory",
    [KMEM_CG_DYING_DESCENDANTS] = "nr_dying_descendants",
    [KMEM_CG_DYING_PROC_CGROUPS] = "proc_cgroups",
};
static_assert(sizeof(kmem_cg_dying_source_name) / sizeof(kmem_cg_dying_source_name[0]) ==
                  KMEM_CG_DYING_PROC_CGROUPS + 1,
              "kmem_cg_dying_source_name table");

/* ---- v2 memory.stat ----------------------------------------------------- */

/* Slots past the kinds: lines that are not parts of kernel memory. */
enum {
    X_KERNEL = KMEM_CG_KIND_COUNT,
    X_SOCK,
    X_INACTIVE_ANON,
    X_ACTIVE_ANON,
    X_INACTIVE_FILE,
    X_ACTIVE_FILE,
    X_UNEVICTABLE,
    X_COUNT
};

/* memory.stat keys we use, by slot; every other key is skipped. */
static const char *const memstat_names[X_COUNT] = {
    [X_KERNEL] = "kernel",
    [KMEM_CG_KERNEL_STACK] = "kernel_stack",
    [KMEM_CG_PAGETABLES] = "pagetables",
    [KMEM_CG_SEC_PAGETABLES] = "sec_pagetables",
    [KMEM_CG_PERCPU] = "percpu",
    [X_SOCK] = "sock",
    [KMEM_CG_VMALLOC] = "vmalloc",
    [KMEM_CG_ZSWAP] = "zswap",
    [X_INACTIVE_ANON] = "inactive_anon",
    [X_ACTIVE_ANON] = "active_anon",
    [X_INACTIVE_FILE] = "inactive_file",
    [X_ACTIVE_FILE] = "active_file",
    [X_UNEVICTABLE] = "unevictable",
    [KMEM_CG_SLAB_RECLAIMABLE] = "slab_reclaimable",
    [KMEM_CG_SLAB_UNRECLAIMABLE] = "slab_unreclaimable",
};
static const struct kmem_kv_table memstat_table = {memstat_names, X_COUNT, false, false, true};

/*
 * The parts reported exceed "kernel" by @excess: take it off the largest
 * parts first, so that the parts add up to kernel (docs/cgroups.md).
 */
static void trim_parts(struct kmem_cgroup *cg, uint64_t excess)
{
    while (excess > 0) {
        int big = -1;

        for (int k = 0; k < KMEM_CG_OTHER; k++)
            if (cg->comp[k] > 0 && (big < 0 || cg->comp[k] > cg->comp[big]))
                big = k;
        if (big < 0)
            break;
        if (cg->comp[big] >= excess) {
            cg->comp[big] -= excess;
            break;
        }
        excess -= cg->comp[big];
        cg->comp[big] = 0;
    }
}

int kmem_cg_memstat_parse(const char *buf, size_t len, struct kmem_cgroup *cg,
                          struct kmem_parse_error *err)
{
    uint64_t x[X_COUNT] = {0}, parts = 0, seen = 0;
    int rc;

    static_assert(X_COUNT <= 64, "memory.stat slots fit the present mask");
    cg->kernel = 0;
    cg->kernel_approx = false;
    cg->comp_present = 0;
    cg->comp_excess = 0;
    cg->has_sock = false;
    cg->sock = 0;
    cg->lru = 0;
    cg->pagetables_unreported = false;
    for (int k = 0; k < KMEM_CG_KIND_COUNT; k++)
        cg->comp[k] = 0;
    rc = kmem_kv_parse(&memstat_table, buf, len, x, &seen, err);
    if (rc)
        return rc;
    for (int k = 0; k < KMEM_CG_OTHER; k++) {
        if (!(seen & (UINT64_C(1) << k)))
            continue;
        cg->comp[k] = x[k];
        cg->comp_present |= 1u << k;
        parts = kmem_add_sat(parts, x[k]);
    }
    if (seen & (UINT64_C(1) << X_KERNEL)) {
        cg->kernel = x[X_KERNEL];
        if (parts > cg->kernel) {
            cg->comp_excess = parts - cg->kernel;
            trim_parts(cg, cg->comp_excess);
        } else {
            cg->comp[KMEM_CG_OTHER] = cg->kernel - parts;
        }
        cg->comp_present |= 1u << KMEM_CG_OTHER;
    } else {
        /* Before Linux 5.18: no "kernel" line; the parts are a lower bound. */
        cg->kernel = parts;
        cg->kernel_approx = true;
    }
    if (seen & (UINT64_C(1) << X_SOCK)) {
        cg->has_sock = true;
        cg->sock = x[X_SOCK];
    }
    for (int k = X_INACTIVE_ANON; k <= X_UNEVICTABLE; k++)
        cg->lru = kmem_add_sat(cg->lru, x[k]);
    /* Anonymous pages on the LRU are mapped by some process, whose page tables are charged. */
    cg->pagetables_unreported = (seen & (UINT64_C(1) << KMEM_CG_PAGETABLES)) &&
                                x[KMEM_CG_PAGETABLES] == 0 &&
                                kmem_add_sat(x[X_INACTIVE_ANON], x[X_ACTIVE_ANON]) > 0;
    return 0;
}

/* ---- cgroup.stat, /proc/cgroups, the CPU list --------------------------- */

int kmem_cg_cgstat_parse(const char *buf, size_t len, uint64_t *dying,
                         enum kmem_cg_dying_source *source, struct kmem_parse_error *err)
{
    static const char *const names[] = {"nr_dying_descendants", "nr_dying_subsys_memory"};
    static const struct kmem_kv_table t = {names, 2, false, false, false};
    uint64_t v[2] = {0}, present = 0;
    int r = kmem_kv_parse(&t, buf, len, v, &present, err);

    *dying = 0;
    *source = KMEM_CG_DYING_NONE;
    if (r)
        return r;
    if (present & 2) {
        *dying = v[1];
        *source = KMEM_CG_DYING_SUBSYS_MEMORY;
    } else if (present & 1) {
        *dying = v[0];
        *source = KMEM_CG_DYING_DESCENDANTS;
    }
    return 0;
}

int kmem_cg_proc_cgroups_parse(const char *buf, size_t len, uint64_t *num)
{
    const char *p = buf, *end = buf + len;

    *num = 0;
    while (p < end) {
        const char *tok, *q = p;
        size_t tlen;
        uint64_t hier, n;

        /* "#subsys_name hierarchy num_cgroups enabled" */
        if (kmem_next_token(&q, end, &tok, &tlen) && kmem_tok_eq(tok, tlen, "memory")) {
            if (kmem_parse_u64(&q, end, &hier) || kmem_parse_u64(&q, end, &n))
                return -EINVAL;
            *num = n;
            return 0;
        }
        if (!kmem_next_line(&p, end))
            break;
    }
    return -ENOENT;
}
