/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "timeutil.h"
#include "sort.h"

struct kt_tval {
    const char *key; /* cache name or cgroup path */
    unsigned dup;    /* repeated cache names: the n-th line of that name */
    uint64_t v;      /* bytes */
};

static int cmp_tval(const void *pa, const void *pb)
{
    const struct kt_tval *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);

    if (c)
        return c;
    return a->dup < b->dup ? -1 : a->dup > b->dup;
}

static void tally_free(struct kt_tally *t)
{
    free(t->v);
    free(t->names);
    memset(t, 0, sizeof(*t));
}

static size_t part_n(const struct kmem_snapshot *snap, int part)
{
    return part == KT_HIST_SLAB ? snap->slab.n : snap->cgroups.n;
}

/* Entry @i of part @part: its key, dup and value. */
static const char *part_entry(const struct kmem_snapshot *snap, int part, size_t i, unsigned *dup,
                              uint64_t *v)
{
    if (part == KT_HIST_SLAB) {
        const struct kmem_slab *s = &snap->slab.v[i];

        *dup = s->dup;
        *v = kmem_slab_bytes(s, kmem_page_size());
        return s->name;
    }
    *dup = 0;
    *v = snap->cgroups.v[i].kernel;
    return snap->cgroups.v[i].path ? snap->cgroups.v[i].path : "";
}

/* Copy the values of @part of @snap into @t (replacing what it held). */
static int tally_fill(struct kt_tally *t, const struct kmem_snapshot *snap, int part)
{
    size_t n = part_n(snap, part), total = 0, off = 0;
    struct kt_tval *v;
    char *names;

    for (size_t i = 0; i < n; i++) {
        unsigned dup;
        uint64_t val;

        total += strlen(part_entry(snap, part, i, &dup, &val)) + 1;
    }
    v = malloc((n ? n : 1) * sizeof(*v));
    names = malloc(total ? total : 1);
    if (!v || !names) {
        free(v);
        free(names);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const char *key = part_entry(snap, part, i, &v[i].dup, &v[i].v);
        size_t l = strlen(key) + 1;

        memcpy(names + off, key, l);
        v[i].key = names + off;
        off += l;
    }
    kmem_sort(v, n, sizeof(*v), cmp_tval);
    tally_free(t);
    t->when = snap->when;
    t->n = n;
    t->v = v;
    t->names = names;
    return 0;
}

static const struct kt_tval *tally_find(const struct kt_tally *t, const char *key, unsigned dup)
{
    struct kt_tval k = {.key = key, .dup = dup};

    return t->n ? bsearch(&k, t->v, t->n, sizeof(*t->v), cmp_tval) : NULL;
}

void kt_hist_init(struct kt_history *h, double window_seconds)
{
    memset(h, 0, sizeof(*h));
    h->window = window_seconds > 0 ? window_seconds : 60;
}

void kt_hist_free(struct kt_history *h)
{
    for (int p = 0; p < KT_HIST_PARTS; p++) {
        tally_free(&h->base[p]);
        tally_free(&h->prev[p]);
        for (int i = 0; i < KT_HIST_SAMPLES; i++)
            tally_free(&h->ring[p][i]);
    }
    free(h->slab);
    free(h->cg);
    memset(h, 0, sizeof(*h));
}

static bool part_ok(const struct kmem_snapshot *snap, int part)
{
    enum kmem_part kp = part == KT_HIST_SLAB ? KMEM_PART_SLAB : KMEM_PART_CGROUPS;

    return (snap->flags & (1u << kp)) && !snap->status[kp].err;
}

/* Keep a sample every window/(SAMPLES-2) seconds; drop those the window no longer needs. */
static int ring_push(struct kt_history *h, int part, const struct kmem_snapshot *snap)
{
    struct kt_tally *r = h->ring[part];
    int *n = &h->nring[part];
    double step = h->window / (KT_HIST_SAMPLES - 2);

    if (*n > 0 && kmem_ts_diff(&r[*n - 1].when, &snap->when) < step)
        return 0;
    if (*n == KT_HIST_SAMPLES) {
        struct kt_tally old = r[0];

        memmove(r, r + 1, (KT_HIST_SAMPLES - 1) * sizeof(*r));
        r[KT_HIST_SAMPLES - 1] = old;
        (*n)--;
    }
    if (tally_fill(&r[*n], snap, part))
        return -ENOMEM;
    (*n)++;
    /* The oldest sample kept is the newest one at least a window old. */
    while (*n >= 2 && kmem_ts_diff(&r[1].when, &snap->when) >= h->window) {
        struct kt_tally old = r[0];

        memmove(r, r + 1, (size_t)(*n - 1) * sizeof(*r));
        r[*n - 1] = old;
        (*n)--;
    }
    return 0;
}

/*
 * The oldest earlier sample holding (@key, @dup), from the ring or else the
 * previous refresh, with its age in @span; NULL when this is its first.
 */
static const struct kt_tval *first_seen(const struct kt_history *h, int part, const char *key,
                                        unsigned dup, const struct timespec *now, double *span)
{
    for (int i = 1; i < h->nring[part]; i++) {
        const struct kt_tally *t = &h->ring[part][i];
        const struct kt_tval *r = tally_find(t, key, dup);
        double dt = kmem_ts_diff(&t->when, now);

        if (r && dt > 0) {
            *span = dt;
            return r;
        }
    }
    if (h->prev[part].v && kmem_ts_diff(&h->prev[part].when, now) > 0) {
        *span = kmem_ts_diff(&h->prev[part].when, now);
        return tally_find(&h->prev[part], key, dup);
    }
    return NULL;
}

static int fill_grows(struct kt_history *h, int part, const struct kmem_snapshot *snap)
{
    size_t n = part_n(snap, part);
    struct kt_grow **g = part == KT_HIST_SLAB ? &h->slab : &h->cg;
    size_t *cap = part == KT_HIST_SLAB ? &h->slab_cap : &h->cg_cap;
    const struct kt_tally *ref = h->nring[part] ? &h->ring[part][0] : NULL;
    double dt = ref ? kmem_ts_diff(&ref->when, &snap->when) : 0;

    if (n > *cap) {
        struct kt_grow *p = realloc(*g, n * sizeof(**g));

        if (!p)
            return -ENOMEM;
        *g = p;
        *cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        struct kt_grow *e = &(*g)[i];
        const struct kt_tval *b, *r;
        unsigned dup;
        uint64_t v;
        const char *key = part_entry(snap, part, i, &dup, &v);

        memset(e, 0, sizeof(*e));
        b = h->have_base[part] ? tally_find(&h->base[part], key, dup) : NULL;
        if (b) {
            e->has_base = true;
            e->base = (int64_t)(v - b->v);
        }
        /* A rate from a few seconds would be mostly noise: wait for a quarter window. */
        r = ref && dt >= h->window / 4 ? tally_find(ref, key, dup) : NULL;
        if (r) {
            e->has_rate = true;
            e->per_min = ((double)v - (double)r->v) * 60.0 / dt;
        } else if (!ref || !tally_find(ref, key, dup)) {
            /* Appeared since the oldest sample: rate it over what it has. */
            double span = 0;

            r = first_seen(h, part, key, dup, &snap->when, &span);
            if (r) {
                e->has_rate = true;
                e->short_span = span < h->window / 4;
                e->per_min = ((double)v - (double)r->v) * 60.0 / span;
            }
        }
    }
    return 0;
}

static int set_base(struct kt_history *h, int part, const struct kmem_snapshot *snap)
{
    int err = tally_fill(&h->base[part], snap, part);

    h->have_base[part] = !err;
    h->base_wall[part] = time(NULL);
    return err;
}

int kt_hist_record(struct kt_history *h, const struct kmem_snapshot *snap)
{
    int err = 0;

    for (int p = 0; p < KT_HIST_PARTS; p++) {
        if (!part_ok(snap, p)) {
            if (p == KT_HIST_SLAB && h->slab)
                memset(h->slab, 0, h->slab_cap * sizeof(*h->slab));
            else if (p == KT_HIST_CG && h->cg)
                memset(h->cg, 0, h->cg_cap * sizeof(*h->cg));
            continue;
        }
        if (!h->have_base[p] && set_base(h, p, snap))
            err = -ENOMEM;
        if (ring_push(h, p, snap))
            err = -ENOMEM;
        if (fill_grows(h, p, snap))
            err = -ENOMEM;
        if (tally_fill(&h->prev[p], snap, p))
            err = -ENOMEM;
    }
    return err;
}

int kt_hist_reset_base(struct kt_history *h, const struct kmem_snapshot *snap)
{
    int err = 0;

    for (int p = 0; p < KT_HIST_PARTS; p++)
        if (part_ok(snap, p) && (set_base(h, p, snap) || fill_grows(h, p, snap)))
            err = -ENOMEM;
    return err;
}

int kt_hist_regrow(struct kt_history *h, const struct kmem_snapshot *snap)
{
    int err = 0;

    for (int p = 0; p < KT_HIST_PARTS; p++)
        if (part_ok(snap, p) && fill_grows(h, p, snap))
            err = -ENOMEM;
    return err;
}
