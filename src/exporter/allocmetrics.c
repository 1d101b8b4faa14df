// SPDX-License-Identifier: MIT
/* --collector.alloc: the BPF allocation tracer as Prometheus families. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "allocmetrics.h"

enum fam { F_ALLOCS, F_FREES, F_BYTES, F_BYTES_FREED, F_ACC_BYTES, F_LIVE, F_COUNT };
#define F_COUNTERS F_LIVE /* the families before F_LIVE are counters */

/* A (cgroup, cache) pair with series of its own. Its counters start at the
 * values it had when it got them (base); its cgroup's "other" keeps those. */
struct pair {
    uint64_t cgid;
    const char *cache; /* interned by the tracer: compared by pointer */
    uint64_t base[F_COUNTERS];
};

struct kx_alloc {
    struct kmem_alloc *a; /* NULL: the tracer could not start */
    char err[512];
    unsigned top;
    struct kmem_alloc_table t, prev; /* this collection and the one before */
    bool have;                       /* t holds the last collection */
    struct pair *set;                /* the exported pairs, sorted (kmem_alloc_entry_cmp) */
    size_t n_set;
    uint64_t *absent; /* cgroups absent from the last collection, sorted */
    size_t n_absent;
};

int kx_alloc_new(struct kx_alloc **out, unsigned top, bool counts_only, char *err, size_t errlen)
{
    struct kmem_alloc_opts ao = {.counts_only = counts_only};
    struct kx_alloc *x = calloc(1, sizeof(*x));

    *out = NULL;
    if (!x)
        return -ENOMEM;
    x->top = top ? top : KX_ALLOC_DEFAULT_TOP;
    x->set = calloc(x->top, sizeof(*x->set));
    if (!x->set) {
        free(x);
        return -ENOMEM;
    }
    if (kmem_alloc_open(&x->a, &ao, x->err, sizeof(x->err)))
        snprintf(err, errlen, "%s", x->err);
    *out = x;
    return 0;
}

void kx_alloc_free(struct kx_alloc *x)
{
    if (!x)
        return;
    kmem_alloc_table_free(&x->t);
    kmem_alloc_table_free(&x->prev);
    kmem_alloc_close(x->a);
    free(x->set);
    free(x->absent);
    free(x);
}

static bool in_sorted(const uint64_t *v, size_t n, uint64_t id)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (v[mid] == id)
            return true;
        if (v[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static int cmp_pair(const void *pa, const void *pb)
{
    const struct pair *a = pa, *b = pb;

    return kmem_alloc_entry_cmp(a->cgid, a->cache, b->cgid, b->cache);
}

static const struct pair *exported(const struct kx_alloc *x, const struct kmem_alloc_entry *e)
{
    struct pair k = {.cgid = e->cgid, .cache = e->cache};

    return bsearch(&k, x->set, x->n_set, sizeof(k), cmp_pair);
}

static uint64_t value(const struct kmem_alloc_entry *e, enum fam f);

static const struct kmem_alloc_table *sort_table; /* for cmp_bytes (qsort has no context) */

static int cmp_bytes(const void *pa, const void *pb)
{
    const struct kmem_alloc_entry *a = &sort_table->v[*(const size_t *)pa];
    const struct kmem_alloc_entry *b = &sort_table->v[*(const size_t *)pb];

    if (a->bytes_alloc != b->bytes_alloc)
        return a->bytes_alloc > b->bytes_alloc ? -1 : 1;
    return *(const size_t *)pa < *(const size_t *)pb ? -1 : 1;
}

/* The index in @t (sorted by kmem_alloc_entry_cmp) of (cgid, cache), or t->n. */
static size_t find_entry(const struct kmem_alloc_table *t, uint64_t cgid, const char *cache)
{
    size_t lo = 0, hi = t->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = kmem_alloc_entry_cmp(t->v[mid].cgid, t->v[mid].cache, cgid, cache);

        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return t->n;
}

/*
 * The exported set, by bytes allocated: a pair joins when it is among the top
 * N and there is room, and keeps its series while it stays in the top 2N (no
 * flapping at the edge). A pair that was already counted in its cgroup's
 * "other" at the last collection joins with those counts as its base (they
 * stay in "other"), so no counter ever goes down, whatever joins or leaves.
 */
static void update_set(struct kx_alloc *x)
{
    const struct kmem_alloc_table *t = &x->t;
    size_t o = 0, *idx;
    unsigned char *rank; /* 2: top N, 1: top 2N, 0: below */

    if (t->n == 0) {
        x->n_set = 0;
        return;
    }
    idx = malloc(t->n * sizeof(*idx));
    rank = calloc(t->n, 1);
    if (!idx || !rank) {
        free(idx);
        free(rank);
        return;
    }
    for (size_t i = 0; i < t->n; i++)
        idx[i] = i;
    sort_table = t;
    qsort(idx, t->n, sizeof(*idx), cmp_bytes);
    for (size_t i = 0, r = 0; i < t->n && r < 2 * (size_t)x->top; i++) {
        if (t->v[idx[i]].cgid == KMEM_ALLOC_CGID_UNTRACKED)
            continue;
        rank[idx[i]] = r < x->top ? 2 : 1;
        r++;
    }
    for (size_t i = 0; i < x->n_set; i++) {
        size_t e = find_entry(t, x->set[i].cgid, x->set[i].cache);

        if (e < t->n && rank[e])
            x->set[o++] = x->set[i];
    }
    x->n_set = o;
    for (size_t i = 0; i < t->n && x->n_set < x->top; i++) {
        const struct kmem_alloc_entry *e = &t->v[idx[i]];
        struct pair *p;

        if (rank[idx[i]] != 2 || exported(x, e))
            continue;
        p = &x->set[x->n_set++];
        p->cgid = e->cgid;
        p->cache = e->cache;
        {
            size_t k = find_entry(&x->prev, e->cgid, e->cache);

            for (int f = 0; f < F_COUNTERS; f++)
                p->base[f] = k < x->prev.n ? value(&x->prev.v[k], (enum fam)f) : 0;
        }
        qsort(x->set, x->n_set, sizeof(*x->set), cmp_pair);
    }
    free(idx);
    free(rank);
}

/* Cgroups absent from this collection and the previous one: forgotten. */
static void forget_absent(struct kx_alloc *x)
{
    uint64_t *now, *gone;
    size_t n_now = 0, n_gone = 0;

    now = malloc((x->t.n ? x->t.n : 1) * sizeof(*now));
    gone = malloc((x->t.n ? x->t.n : 1) * sizeof(*gone));
    if (!now || !gone) {
        free(now);
        free(gone);
        return;
    }
    for (size_t i = 0; i < x->t.n; i++) {
        uint64_t id = x->t.v[i].cgid;

        if (!x->t.v[i].removed || (n_now && now[n_now - 1] == id))
            continue; /* the table is sorted by cgroup */
        now[n_now++] = id;
        if (in_sorted(x->absent, x->n_absent, id))
            gone[n_gone++] = id;
    }
    if (n_gone && kmem_alloc_forget(x->a, gone, n_gone) == 0) {
        /* Their entries are gone from the kernel; drop them from this table too. */
        size_t o = 0;

        for (size_t i = 0; i < x->t.n; i++)
            if (!in_sorted(gone, n_gone, x->t.v[i].cgid))
                x->t.v[o++] = x->t.v[i];
        x->t.n = o;
    }
    free(gone);
    free(x->absent);
    x->absent = now;
    x->n_absent = n_now;
}

void kx_alloc_collect(struct kx_alloc *x, struct kmem_ctx *ctx, const struct kmem_snapshot *snap,
                      struct kmem_status *st)
{
    int r;

    memset(st, 0, sizeof(*st));
    if (x->have) { /* the last table becomes prev; prev's storage is reused */
        struct kmem_alloc_table tmp = x->prev;

        x->prev = x->t;
        x->t = tmp;
    } else {
        x->prev.n = 0;
    }
    x->have = false;
    if (!x->a) {
        st->err = -ENOTSUP;
        snprintf(st->msg, sizeof(st->msg), "%s", x->err);
        return;
    }
    r = kmem_alloc_read(x->a, &x->t);
    if (r == 0)
        r = kmem_alloc_resolve(x->a, ctx, snap, &x->t);
    if (r) {
        st->err = r;
        snprintf(st->msg, sizeof(st->msg), "%s",
                 *kmem_alloc_strerror(x->a) ? kmem_alloc_strerror(x->a) : strerror(-r));
        return;
    }
    /* Only with a cgroup snapshot: without one every cgroup looks removed. */
    if (!snap->status[KMEM_PART_CGROUPS].err)
        forget_absent(x);
    update_set(x);
    x->have = true;
}

static const struct {
    const char *name, *help, *type;
} fam[F_COUNT] = {
    [F_ALLOCS] = {"kmem_alloc_objects_allocated_total",
                  "Slab objects allocated since the tracer started, by the memory cgroup of the "
                  "allocating task (cache \"other\": the cgroup's pairs outside the top N).",
                  "counter"},
    [F_FREES] = {"kmem_alloc_objects_freed_total",
                 "Slab objects freed since the tracer started, credited to the cgroup that "
                 "allocated them (live-object tracking) or else to the freeing task's.",
                 "counter"},
    [F_BYTES] = {"kmem_alloc_bytes_allocated_total",
                 "Bytes of slab objects allocated since the tracer started (object size of the "
                 "cache).",
                 "counter"},
    [F_BYTES_FREED] = {"kmem_alloc_bytes_freed_total",
                       "Bytes of slab objects freed since the tracer started.", "counter"},
    [F_ACC_BYTES] = {"kmem_alloc_accounted_bytes_allocated_total",
                     "Bytes allocated that were charged to the memory cgroup (SLAB_ACCOUNT "
                     "cache or __GFP_ACCOUNT).",
                     "counter"},
    [F_LIVE] = {"kmem_alloc_live_bytes",
                "Bytes allocated since the tracer started and not freed: net growth.", "gauge"},
};

static uint64_t value(const struct kmem_alloc_entry *e, enum fam f)
{
    switch (f) {
    case F_ALLOCS:
        return e->allocs;
    case F_FREES:
        return e->frees;
    case F_BYTES:
        return e->bytes_alloc;
    case F_BYTES_FREED:
        return e->bytes_freed;
    case F_ACC_BYTES:
        return e->acc_bytes;
    default:
        return kmem_alloc_net(e) > 0 ? (uint64_t)kmem_alloc_net(e) : 0;
    }
}

static void sample(struct kmem_buf *b, enum fam f, const struct kmem_alloc_entry *e,
                   const char *cache, uint64_t v)
{
    struct kx_label l[] = {
        {"cgroup", e->cgroup},
        {"pod", e->pod_name},
        {"namespace", e->namespace_name},
        {"container", e->container_name},
        {"cache", cache},
    };

    kx_expo_sample_u64(b, fam[f].name, l, 5, v, KX_NO_TIMESTAMP);
}

void kx_alloc_render(struct kx_alloc *x, struct kmem_buf *b)
{
    const struct kmem_alloc_table *t = &x->t;

    if (!x->have)
        return;
    for (int f = 0; f < F_COUNT; f++) {
        if (f == F_LIVE && !t->tracking)
            continue; /* counts only: frees are not matched to allocations */
        kx_expo_family(b, fam[f].name, fam[f].help, fam[f].type);
        /* Entries come sorted by cgroup: "other" sums a run of one cgroup. */
        for (size_t i = 0; i < t->n;) {
            const struct kmem_alloc_entry *first = &t->v[i];
            uint64_t other = 0;
            int64_t other_net = 0;
            bool any_other = false;

            for (; i < t->n && t->v[i].cgid == first->cgid; i++) {
                const struct kmem_alloc_entry *e = &t->v[i];

                if (e->cgid == KMEM_ALLOC_CGID_UNTRACKED)
                    continue;
                const struct pair *p = exported(x, e);

                if (p && f < F_COUNTERS) {
                    sample(b, (enum fam)f, e, e->cache, value(e, (enum fam)f) - p->base[f]);
                    other += p->base[f];
                } else if (p) {
                    sample(b, (enum fam)f, e, e->cache, value(e, (enum fam)f));
                } else {
                    other += value(e, (enum fam)f);
                    other_net += kmem_alloc_net(e);
                    any_other = true;
                }
            }
            if (any_other || (f < F_COUNTERS && other))
                sample(b, (enum fam)f, first, "other",
                       f != F_LIVE     ? other
                       : other_net > 0 ? (uint64_t)other_net
                                       : 0);
        }
    }
    kx_expo_family(b, "kmem_alloc_untracked_frees_total",
                   "Frees of objects allocated before the tracer started (not credited).",
                   "counter");
    {
        uint64_t n = 0;

        for (size_t i = 0; i < t->n; i++)
            if (t->v[i].cgid == KMEM_ALLOC_CGID_UNTRACKED)
                n += t->v[i].frees;
        kx_expo_sample_u64(b, "kmem_alloc_untracked_frees_total", NULL, 0, n, KX_NO_TIMESTAMP);
    }
    kx_expo_family(b, "kmem_alloc_events_lost_total",
                   "Allocation events not counted (reason: table_full, missed) or allocations "
                   "not followed to their free (not_tracked).",
                   "counter");
    {
        struct kx_label r[] = {
            {"reason", "table_full"}, {"reason", "missed"}, {"reason", "not_tracked"}};
        uint64_t v[] = {t->dropped, t->missed, t->not_tracked};

        for (int i = 0; i < 3; i++)
            kx_expo_sample_u64(b, "kmem_alloc_events_lost_total", &r[i], 1, v[i], KX_NO_TIMESTAMP);
    }
}
