/* SPDX-License-Identifier: MIT */
/*
 * /proc/slabinfo: versions 2.0 and 2.1, SLUB and SLAB layouts, SLAB's
 * "(statistics)" variant (extra columns, ignored), repeated cache names.
 */
#ifndef KMEM_SLABINFO_H
#define KMEM_SLABINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "hindex.h"
#include "parse_error.h"
#include "sat.h"

#define KMEM_SLAB_NAME_MAX 129 /* 128 bytes and the NUL, as procps */

/*
 * Static attributes of a SLUB cache from /sys/kernel/slab/<name>/ (read
 * only when the list of caches changes: a sysfs sweep costs ~100 reads of
 * /proc/slabinfo). Merged caches are links to a shared ":<flags>-<size>"
 * directory; flags a = reclaim accounted, A = SLAB_ACCOUNT, d/D = DMA/DMA32.
 */
struct kmem_slab_attr {
    bool known;       /* the cache's sysfs directory was read */
    bool reclaimable; /* reclaim_account: counted in SReclaimable */
    int8_t accounted; /* SLAB_ACCOUNT (charged to memory cgroups): 1, 0, -1 unknown */
    /* accounted is 1 because the owner snapshot found objects of this cache
     * charged to a cgroup (sysfs shows no SLAB_ACCOUNT for an unmerged cache) */
    bool accounted_charged;
    bool merged;        /* the name links to a shared ":flags-size" directory */
    bool dma;           /* cache_dma */
    uint8_t order;      /* page order of a slab */
    uint32_t aliases;   /* other caches merged into this one (sysfs "aliases") */
    size_t names;       /* offset in kmem_slabinfo.attr_names: their names, comma-separated */
    char unique_id[24]; /* ":A-0000064" for a merged cache, "" otherwise */
};

struct kmem_slab {
    char name[KMEM_SLAB_NAME_MAX];
    unsigned dup;     /* 0 for the first line of this name, n for the n-th repeat */
    unsigned line;    /* line number in the file (1-based) */
    unsigned repeats; /* on the first line of a name: how many later lines repeat it */
    uint64_t active_objs;
    uint64_t num_objs;
    uint64_t objsize;
    uint64_t objperslab;
    uint64_t pagesperslab;
    uint64_t limit, batchcount, sharedfactor; /* tunables (0 under SLUB) */
    uint64_t active_slabs, num_slabs, sharedavail;
    /* Change since the previous snapshot, matched by (name, dup). */
    bool has_prev;
    int64_t delta_objs;  /* num_objs now - before */
    int64_t delta_bytes; /* slab bytes now - before */
    struct kmem_slab_attr attr;
};

/* The sums over every cache: computed once, by the library (saturating). */
struct kmem_slab_totals {
    uint64_t caches, active_caches; /* all / with num_objs > 0 */
    uint64_t active_objs, num_objs, active_slabs, num_slabs;
    uint64_t size_bytes;               /* sum of kmem_slab_bytes() */
    uint64_t active_bytes;             /* sum of kmem_slab_active_bytes() */
    uint64_t obj_bytes;                /* sum of num_objs * objsize (procps "Total Size") */
    uint64_t min_objsize, max_objsize; /* 0 when there is no cache */
    /* kmem_slabinfo_diff(): the change of size_bytes over the caches with a previous value. */
    bool has_delta;
    int64_t delta_bytes;
};

struct kmem_slabinfo {
    unsigned major, minor;
    bool statistics; /* "(statistics)" header */
    size_t n, cap;
    struct kmem_slab *v;
    struct kmem_hindex index; /* by (name, dup), rebuilt per parse */
    /* sys/kernel/slab attributes (KMEM_COLLECT_SLAB_ATTRS): */
    bool attrs_read;                /* asked for in this collection */
    bool attrs_ok;                  /* sys/kernel/slab was readable (SLUB) */
    bool attrs_reused;              /* the cache list had not changed: copied, not re-read */
    int attrs_err;                  /* -errno of sys/kernel/slab when not ok */
    size_t attrs_known;             /* caches whose directory was read */
    struct kmem_arena attr_names;   /* alias name lists */
    struct kmem_slab_totals totals; /* set by kmem_slabinfo_parse() (with kmem_page_size()) */
};

/*
 * Compute si->totals from the caches (kmem_slabinfo_parse() does; a caller
 * that fills a kmem_slabinfo itself calls it).
 */
void kmem_slabinfo_totals(struct kmem_slabinfo *si, uint64_t page_size);

/* Index of the cache (@name, @dup) in @si, or -1. */
long kmem_slabinfo_find(const struct kmem_slabinfo *si, const char *name, unsigned dup);

/*
 * Parse a whole /proc/slabinfo image. @out keeps its array between calls.
 * Returns 0, -EINVAL (malformed; @perr says where), -ENODATA (empty), or
 * -ENOMEM.
 */
int kmem_slabinfo_parse(const char *buf, size_t len, struct kmem_slabinfo *out,
                        struct kmem_parse_error *perr);
void kmem_slabinfo_release(struct kmem_slabinfo *si);

/* Fill has_prev/delta_* of @cur from @prev (either may be empty). */
void kmem_slabinfo_diff(struct kmem_slabinfo *cur, const struct kmem_slabinfo *prev,
                        uint64_t page_size);

/* Derived figures, 64-bit, saturating instead of wrapping. */
static inline uint64_t kmem_slab_bytes(const struct kmem_slab *s, uint64_t page_size)
{
    return kmem_mul_sat(kmem_mul_sat(s->num_slabs, s->pagesperslab), page_size);
}
static inline uint64_t kmem_slab_active_bytes(const struct kmem_slab *s)
{
    return kmem_mul_sat(s->active_objs, s->objsize);
}

#endif
