/* SPDX-License-Identifier: MIT */
/*
 * The slab view: procps-ng 4.0.2 slabtop's summary, heading and rows, with the
 * same numbers (computed in 64 bits, so they do not wrap on huge machines).
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "views.h"

char kt_slab_sort_key(int c)
{
    if (c >= 'A' && c <= 'Z')
        c = c - 'A' + 'a';
    return c && strchr("abclvnopsug", c) ? (char)c : 0;
}

/* procps: (unsigned int)(100 * ((float)active / num)), 0 for empty caches. */
static unsigned use_pct(const struct kmem_slab *s)
{
    if (!s->num_objs)
        return 0;
    return (unsigned)(100 * ((float)s->active_objs / (float)s->num_objs));
}

/* Compare slabs for descending order of a numeric key; 0 on ties. */
static int cmp_desc(uint64_t a, uint64_t b)
{
    return a > b ? -1 : a < b ? 1 : 0;
}

static int cmp_key(const struct kmem_slab *a, const struct kmem_slab *b, char key)
{
    uint64_t ps = kmem_page_size();

    switch (key) {
    case 'a':
        return cmp_desc(a->active_objs, b->active_objs);
    case 'b':
        return cmp_desc(a->objperslab, b->objperslab);
    case 'c':
        return cmp_desc(kmem_slab_bytes(a, ps), kmem_slab_bytes(b, ps));
    case 'l':
        return cmp_desc(a->num_slabs, b->num_slabs);
    case 'v':
        return cmp_desc(a->active_slabs, b->active_slabs);
    case 'n':
        return strcoll(a->name, b->name);
    case 'p':
        return cmp_desc(a->pagesperslab, b->pagesperslab);
    case 's':
        return cmp_desc(a->objsize, b->objsize);
    case 'u':
        return cmp_desc(use_pct(a), use_pct(b));
    case 'g':
        if (a->delta_bytes != b->delta_bytes)
            return a->delta_bytes > b->delta_bytes ? -1 : 1;
        return cmp_desc(kmem_slab_bytes(a, ps), kmem_slab_bytes(b, ps));
    case 'o':
    default:
        return cmp_desc(a->num_objs, b->num_objs);
    }
}

struct slab_sort_ctx {
    const struct kmem_slab *v;
    char key;
};

/* Ties keep file order, as glibc's merge-sorting qsort does in procps. */
static int cmp_idx(const void *pa, const void *pb, void *arg)
{
    const struct slab_sort_ctx *sc = arg;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    int c = cmp_key(&sc->v[a], &sc->v[b], sc->key);

    if (c)
        return c;
    return a < b ? -1 : a > b;
}

void kt_slab_sort(const struct kmem_slabinfo *si, char key, size_t *idx)
{
    for (size_t i = 0; i < si->n; i++)
        idx[i] = i;
    qsort_r(idx, si->n, sizeof(*idx), cmp_idx, &(struct slab_sort_ctx){.v = si->v, .key = key});
}

struct slab_totals {
    uint64_t active_objs, num_objs, active_slabs, num_slabs, caches, active_caches;
    uint64_t active_size, total_size, min_obj, max_obj, avg_obj;
};

static void totals(const struct kmem_slabinfo *si, struct slab_totals *t)
{
    memset(t, 0, sizeof(*t));
    t->min_obj = INT_MAX; /* procps starts here, so an empty file shows 2097152.00K */
    for (size_t i = 0; i < si->n; i++) {
        const struct kmem_slab *s = &si->v[i];
        t->active_objs += s->active_objs;
        t->num_objs += s->num_objs;
        t->active_slabs += s->active_slabs;
        t->num_slabs += s->num_slabs;
        t->caches++;
        t->active_caches += s->num_objs != 0;
        t->active_size += kmem_mul_sat(s->active_objs, s->objsize);
        t->total_size += kmem_mul_sat(s->num_objs, s->objsize);
        if (s->objsize < t->min_obj)
            t->min_obj = s->objsize;
        if (s->objsize > t->max_obj)
            t->max_obj = s->objsize;
    }
    if (t->num_objs)
        t->avg_obj = t->total_size / t->num_objs;
}

void kt_slab_render(struct kt_sink *s, const struct kmem_slabinfo *si, const size_t *idx,
                    enum kt_change_col change)
{
    uint64_t ps = kmem_page_size();
    struct slab_totals t;
    char dbuf[32];

    totals(si, &t);
    kt_line(s, KT_NORMAL, " %-35s: %llu / %llu (%.1f%%)", "Active / Total Objects (% used)",
            (unsigned long long)t.active_objs, (unsigned long long)t.num_objs,
            100.0 * (double)t.active_objs / (double)t.num_objs);
    kt_line(s, KT_NORMAL, " %-35s: %llu / %llu (%.1f%%)", "Active / Total Slabs (% used)",
            (unsigned long long)t.active_slabs, (unsigned long long)t.num_slabs,
            100.0 * (double)t.active_slabs / (double)t.num_slabs);
    kt_line(s, KT_NORMAL, " %-35s: %llu / %llu (%.1f%%)", "Active / Total Caches (% used)",
            (unsigned long long)t.active_caches, (unsigned long long)t.caches,
            100.0 * (double)t.active_caches / (double)t.caches);
    kt_line(s, KT_NORMAL, " %-35s: %.2fK / %.2fK (%.1f%%)", "Active / Total Size (% used)",
            (double)t.active_size / 1024.0, (double)t.total_size / 1024.0,
            100.0 * (double)t.active_size / (double)t.total_size);
    kt_line(s, KT_NORMAL, " %-35s: %.2fK / %.2fK / %.2fK", "Minimum / Average / Maximum Object",
            (double)t.min_obj / 1024.0, (double)t.avg_obj / 1024.0, (double)t.max_obj / 1024.0);
    kt_line(s, KT_NORMAL, "%s", "");
    if (change != KT_CHANGE_NONE)
        kt_line(s, KT_HEADING, "%-88s",
                "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE    CHANGE NAME");
    else
        kt_line(s, KT_HEADING, "%-78s",
                "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME");
    for (size_t i = 0; i < si->n; i++) {
        const struct kmem_slab *c = &si->v[idx ? idx[i] : i];
        bool more;

        if (change != KT_CHANGE_NONE) {
            if (c->has_prev)
                kt_human_delta(dbuf, sizeof(dbuf), (double)c->delta_bytes);
            else /* blank on the first screen; "new" for a cache that appeared */
                snprintf(dbuf, sizeof(dbuf), "%s", change == KT_CHANGE_FIRST ? "" : "new");
            more = kt_line(s, KT_NORMAL, "%6llu %6llu %3u%% %7.2fK %6llu %8llu %9lluK %9s %-23s",
                           (unsigned long long)c->num_objs, (unsigned long long)c->active_objs,
                           use_pct(c), (double)c->objsize / 1024.0,
                           (unsigned long long)c->num_slabs, (unsigned long long)c->objperslab,
                           (unsigned long long)(kmem_slab_bytes(c, ps) / 1024), dbuf, c->name);
        } else {
            more = kt_line(s, KT_NORMAL, "%6llu %6llu %3u%% %7.2fK %6llu %8llu %9lluK %-23s",
                           (unsigned long long)c->num_objs, (unsigned long long)c->active_objs,
                           use_pct(c), (double)c->objsize / 1024.0,
                           (unsigned long long)c->num_slabs, (unsigned long long)c->objperslab,
                           (unsigned long long)(kmem_slab_bytes(c, ps) / 1024), c->name);
        }
        if (!more)
            break;
    }
}
