/* SPDX-License-Identifier: MIT */
/*
 * The rates mode's windows for the owner snapshot (owners.h): charged
 * allocations per (memory cgroup id, cache), and frees derived from them and
 * two snapshots' holdings. No BPF here. See alloc.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "sort.h"

/* The root of a cgroup hierarchy: kernfs gives its directory inode 1. The
 * kernel charges nothing to the root memory cgroup. */
#define ROOT_CGID 1

static int cmp_pair(const void *pa, const void *pb)
{
    const struct kmem_alloc_pair *a = pa, *b = pb;

    if (a->memcg_id != b->memcg_id)
        return a->memcg_id < b->memcg_id ? -1 : 1;
    return strcmp(a->cache, b->cache);
}

int kmem_alloc_window_pairs(const struct kmem_alloc_table *t, struct kmem_alloc_pair **out,
                            size_t *n)
{
    struct kmem_alloc_pair *v;
    size_t k = 0, o = 0;

    *out = NULL;
    *n = 0;
    if (!t->n)
        return 0;
    if (t->n > SIZE_MAX / 2 / sizeof(*v))
        return -ENOMEM;
    v = malloc(2 * t->n * sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < t->n; i++) {
        const struct kmem_alloc_entry *e = &t->v[i];
        bool real = e->cgid != KMEM_ALLOC_CGID_IRQ && e->cgid != KMEM_ALLOC_CGID_UNTRACKED &&
                    e->cgid != ROOT_CGID;
        uint64_t acc = real ? e->acc_allocs : 0, accb = real ? e->acc_bytes : 0;

        if (acc)
            v[k++] = (struct kmem_alloc_pair){e->cgid, e->cache, acc, accb};
        if (e->allocs > acc)
            v[k++] = (struct kmem_alloc_pair){0, e->cache, e->allocs - acc, e->bytes_alloc - accb};
    }
    kmem_sort(v, k, sizeof(*v), cmp_pair);
    for (size_t i = 0; i < k; i++) {
        if (o && cmp_pair(&v[o - 1], &v[i]) == 0) {
            v[o - 1].allocs += v[i].allocs;
            v[o - 1].bytes += v[i].bytes;
        } else {
            v[o++] = v[i];
        }
    }
    *out = v;
    *n = o;
    return 0;
}

double kmem_alloc_frees_per_second(uint64_t allocs, double window_seconds, uint64_t objects_before,
                                   uint64_t objects_after, double seconds_between)
{
    double rate, growth, f;

    if (window_seconds <= 0 || seconds_between <= 0)
        return 0;
    rate = (double)allocs / window_seconds;
    growth = ((double)objects_after - (double)objects_before) / seconds_between;
    f = rate - growth;
    return f > 0 ? f : 0;
}
