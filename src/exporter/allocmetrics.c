// SPDX-License-Identifier: MIT
/*
 * --collector.alloc: libkmem's BPF allocation tracer as Prometheus families.
 * Default mode "rates": allocation-only hooks attached for a window of every
 * period (a duty cycle run by a thread of its own), per-second gauges of the
 * last window. Modes "track" and "counts": the tracer attached for good,
 * counters since start (docs/alloc.md).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "allocmetrics.h"
#include "sort.h"

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
    struct kmem_alloc *a; /* NULL: the tracer could not start (or a fixture) */
    char err[512];
    struct kx_alloc_cfg cfg;
    struct kmem_alloc_table t, prev; /* this collection and the one before */
    bool have;                       /* t holds the last collection */
    struct pair *set;                /* the exported pairs, sorted (kmem_alloc_entry_cmp) */
    size_t n_set;
    uint64_t *absent; /* cgroups absent from the last collection, sorted */
    size_t n_absent;
    /* Tracking: the live-object table, emptied when half full. */
    uint64_t live, live_cap;
    /* Rates: the duty cycle's thread and the last window it read (under lock). */
    pthread_t thread;
    bool thread_started, quit;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct kmem_alloc_table win;
    bool have_win;
    uint64_t windows, lost_full, lost_missed;
    char win_err[512];
};

static void *duty_cycle(void *arg);

int kx_alloc_new(struct kx_alloc **out, const struct kx_alloc_cfg *cfg, char *err, size_t errlen)
{
    struct kmem_alloc_opts ao = {.mode = cfg->mode, .max_objects = cfg->objects};
    struct kx_alloc *x = calloc(1, sizeof(*x));

    *out = NULL;
    if (!x)
        return -ENOMEM;
    x->cfg = *cfg;
    x->cfg.top = cfg->top ? cfg->top : KX_ALLOC_DEFAULT_TOP;
    if (x->cfg.window <= 0)
        x->cfg.window = KMEM_ALLOC_DEFAULT_WINDOW;
    if (x->cfg.period < x->cfg.window)
        x->cfg.period =
            x->cfg.window > KMEM_ALLOC_DEFAULT_PERIOD ? x->cfg.window : KMEM_ALLOC_DEFAULT_PERIOD;
    x->set = calloc(x->cfg.top, sizeof(*x->set));
    if (!x->set || pthread_mutex_init(&x->lock, NULL)) {
        free(x->set);
        free(x);
        return -ENOMEM;
    }
    pthread_cond_init(&x->wake, NULL);
    if (cfg->fixture) {
        *out = x;
        return 0;
    }
    if (cfg->invalid) {
        snprintf(x->err, sizeof(x->err), "%s", cfg->invalid);
        snprintf(err, errlen, "%s", cfg->invalid);
        *out = x;
        return 0;
    }
    if (kmem_alloc_open(&x->a, &ao, x->err, sizeof(x->err)))
        snprintf(err, errlen, "%s", x->err);
    if (x->a && cfg->mode == KMEM_ALLOC_RATES) {
        if (pthread_create(&x->thread, NULL, duty_cycle, x) == 0)
            x->thread_started = true;
        else
            snprintf(err, errlen, "cannot start the duty cycle's thread");
    }
    *out = x;
    return 0;
}

void kx_alloc_free(struct kx_alloc *x)
{
    if (!x)
        return;
    if (x->thread_started) {
        pthread_mutex_lock(&x->lock);
        x->quit = true;
        pthread_cond_signal(&x->wake);
        pthread_mutex_unlock(&x->lock);
        pthread_join(x->thread, NULL);
    }
    kmem_alloc_table_free(&x->t);
    kmem_alloc_table_free(&x->prev);
    kmem_alloc_table_free(&x->win);
    kmem_alloc_close(x->a);
    pthread_cond_destroy(&x->wake);
    pthread_mutex_destroy(&x->lock);
    free(x->set);
    free(x->absent);
    free(x);
}

/* Wait (lock held) until @until (CLOCK_REALTIME) or quit. */
static void wait_until(struct kx_alloc *x, const struct timespec *until)
{
    while (!x->quit && pthread_cond_timedwait(&x->wake, &x->lock, until) != ETIMEDOUT)
        ;
}

static struct timespec plus(struct timespec t, double s)
{
    t.tv_sec += (time_t)s;
    t.tv_nsec += (long)((s - (double)(time_t)s) * 1e9);
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* The duty cycle: attached cfg.window seconds at the start of every cfg.period. */
static void *duty_cycle(void *arg)
{
    struct kx_alloc *x = arg;
    struct kmem_alloc_table t = {0};
    struct timespec start, until;

    pthread_mutex_lock(&x->lock);
    while (!x->quit) {
        clock_gettime(CLOCK_REALTIME, &start);
        if (kmem_alloc_window_start(x->a) == 0) {
            until = plus(start, x->cfg.window);
            wait_until(x, &until);
            if (kmem_alloc_window_stop(x->a, &t) == 0) {
                struct kmem_alloc_table tmp = x->win;

                x->win = t;
                t = tmp;
                x->have_win = true;
                x->windows++;
                x->lost_full += x->win.dropped;
                x->lost_missed += x->win.missed;
                x->win_err[0] = '\0';
            } else {
                snprintf(x->win_err, sizeof(x->win_err), "%s", kmem_alloc_strerror(x->a));
            }
        } else {
            snprintf(x->win_err, sizeof(x->win_err), "%s", kmem_alloc_strerror(x->a));
        }
        until = plus(start, x->cfg.period);
        wait_until(x, &until);
    }
    pthread_mutex_unlock(&x->lock);
    kmem_alloc_table_free(&t);
    return NULL;
}

static int cmp_u64(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

    return a < b ? -1 : a > b;
}

static bool in_sorted(const uint64_t *v, size_t n, uint64_t id)
{
    return n && bsearch(&id, v, n, sizeof(*v), cmp_u64) != NULL;
}

static int cmp_pair(const void *pa, const void *pb)
{
    const struct pair *a = pa, *b = pb;

    return kmem_alloc_entry_cmp(a->cgid, a->cache, b->cgid, b->cache);
}

static const struct pair *exported(const struct kx_alloc *x, const struct kmem_alloc_entry *e)
{
    struct pair k = {.cgid = e->cgid, .cache = e->cache};

    return x->n_set ? bsearch(&k, x->set, x->n_set, sizeof(k), cmp_pair) : NULL;
}

static uint64_t value(const struct kmem_alloc_entry *e, enum fam f);

/* Indexes of a table by bytes allocated, descending (qsort_r: the table is the context). */
static int cmp_bytes(const void *pa, const void *pb, void *ctx)
{
    const struct kmem_alloc_table *t = ctx;
    const struct kmem_alloc_entry *a = &t->v[*(const size_t *)pa];
    const struct kmem_alloc_entry *b = &t->v[*(const size_t *)pb];

    if (a->bytes_alloc != b->bytes_alloc)
        return a->bytes_alloc > b->bytes_alloc ? -1 : 1;
    return *(const size_t *)pa < *(const size_t *)pb ? -1 : 1;
}

static int cmp_entry(const void *pa, const void *pb)
{
    const struct kmem_alloc_entry *a = pa, *b = pb;

    return kmem_alloc_entry_cmp(a->cgid, a->cache, b->cgid, b->cache);
}

/* The index in @t (sorted by kmem_alloc_entry_cmp) of (cgid, cache), or t->n. */
static size_t find_entry(const struct kmem_alloc_table *t, uint64_t cgid, const char *cache)
{
    struct kmem_alloc_entry k = {.cgid = cgid, .cache = cache};
    const struct kmem_alloc_entry *e = t->n ? bsearch(&k, t->v, t->n, sizeof(k), cmp_entry) : NULL;

    return e ? (size_t)(e - t->v) : t->n;
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
    qsort_r(idx, t->n, sizeof(*idx), cmp_bytes, (void *)t);
    for (size_t i = 0, r = 0; i < t->n && r < 2 * (size_t)x->cfg.top; i++) {
        if (t->v[idx[i]].cgid == KMEM_ALLOC_CGID_UNTRACKED)
            continue;
        rank[idx[i]] = r < x->cfg.top ? 2 : 1;
        r++;
    }
    for (size_t i = 0; i < x->n_set; i++) {
        size_t e = find_entry(t, x->set[i].cgid, x->set[i].cache);

        if (e < t->n && rank[e])
            x->set[o++] = x->set[i];
    }
    x->n_set = x->cfg.mode == KMEM_ALLOC_RATES ? 0 : o; /* rates: gauges, the top N of the window */
    for (size_t i = 0; i < t->n && x->n_set < x->cfg.top; i++) {
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
        kmem_sort(x->set, x->n_set, sizeof(*x->set), cmp_pair);
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

/* Make @dst a copy of @src's entries and figures (reusing @dst's storage). 0 or -ENOMEM. */
static int table_copy(struct kmem_alloc_table *dst, const struct kmem_alloc_table *src)
{
    struct kmem_alloc_entry *v = dst->v;
    size_t cap = dst->cap;

    if (src->n > cap) {
        v = realloc(dst->v, src->n * sizeof(*v));
        if (!v)
            return -ENOMEM;
        cap = src->n;
    }
    *dst = *src;
    dst->v = v;
    dst->cap = cap;
    if (src->n)
        memcpy(v, src->v, src->n * sizeof(*v));
    return 0;
}

/* The last table becomes prev (its storage reused for the new one). */
static void rotate(struct kx_alloc *x)
{
    if (x->have) {
        struct kmem_alloc_table tmp = x->prev;

        x->prev = x->t;
        x->t = tmp;
    } else {
        x->prev.n = 0;
    }
    x->have = false;
}

static void fail(struct kx_alloc *x, struct kmem_status *st, int r, const char *msg)
{
    st->err = r;
    snprintf(st->msg, sizeof(st->msg), "%s", msg && *msg ? msg : strerror(-r));
    (void)x;
}

/* Rates: the last window the duty cycle read, named with this collection's cgroups. */
static void collect_rates(struct kx_alloc *x, struct kmem_ctx *ctx,
                          const struct kmem_snapshot *snap, struct kmem_status *st)
{
    int r = 0;

    pthread_mutex_lock(&x->lock);
    if (x->win_err[0] && !x->have_win)
        fail(x, st, -EIO, x->win_err);
    else if (x->have_win && (r = table_copy(&x->t, &x->win)) == 0)
        r = kmem_alloc_resolve(x->a, ctx, snap, &x->t);
    if (r)
        fail(x, st, r, kmem_alloc_strerror(x->a));
    if (!st->err && x->have_win) {
        update_set(x);
        x->have = true;
    }
    pthread_mutex_unlock(&x->lock);
}

void kx_alloc_collect(struct kx_alloc *x, struct kmem_ctx *ctx, const struct kmem_snapshot *snap,
                      struct kmem_status *st)
{
    int r;

    memset(st, 0, sizeof(*st));
    rotate(x);
    if (!x->a) {
        fail(x, st, -ENOTSUP, x->err);
        return;
    }
    if (x->cfg.mode == KMEM_ALLOC_RATES) {
        collect_rates(x, ctx, snap, st);
        return;
    }
    r = kmem_alloc_read(x->a, &x->t);
    if (r == 0)
        r = kmem_alloc_resolve(x->a, ctx, snap, &x->t);
    if (r) {
        fail(x, st, r, kmem_alloc_strerror(x->a));
        return;
    }
    /* Only with a cgroup snapshot: without one every cgroup looks removed. */
    if (!snap->status[KMEM_PART_CGROUPS].err)
        forget_absent(x);
    /* Ageing: a tracer that runs for days fills its live-object table with
     * long-lived objects and frees it never saw; past 3/4 full (where two
     * choices start to leave objects unfollowed) it is emptied (live bytes
     * restart from 0; kmem_alloc_live_table_resets_total). */
    if (x->t.tracking && kmem_alloc_live_objects(x->a, &x->live) == 0) {
        x->live_cap = kmem_alloc_live_capacity(x->a);
        if (x->live_cap && x->live > x->live_cap / 4 * 3 && kmem_alloc_reset_live(x->a) == 0)
            x->t.resets++;
    }
    update_set(x);
    x->have = true;
}

int kx_alloc_collect_table(struct kx_alloc *x, const struct kmem_alloc_table *t)
{
    int r;

    rotate(x);
    r = table_copy(&x->t, t);
    if (r)
        return r;
    if (x->cfg.mode == KMEM_ALLOC_RATES) {
        x->windows++;
        x->lost_full += t->dropped;
        x->lost_missed += t->missed;
    }
    update_set(x);
    x->have = true;
    return 0;
}

#define PAIR_LABELS                                                                                \
    {                                                                                              \
        "cgroup", "pod", "namespace", "container", "cache"                                         \
    }

/* Every family of the collector, declared once (expo.h). */
static const struct kx_family fam[F_COUNT] = {
    [F_ALLOCS] = {"kmem_alloc_objects_allocated_total",
                  "Slab objects allocated since the tracer started, by the memory cgroup of the "
                  "allocating task (cache \"other\": the cgroup's pairs outside the top N).",
                  KX_COUNTER, PAIR_LABELS},
    [F_FREES] = {"kmem_alloc_objects_freed_total",
                 "Slab objects freed since the tracer started, credited to the cgroup that "
                 "allocated them (live-object tracking) or else to the freeing task's.",
                 KX_COUNTER, PAIR_LABELS},
    [F_BYTES] = {"kmem_alloc_bytes_allocated_total",
                 "Bytes of slab objects allocated since the tracer started (object size of the "
                 "cache).",
                 KX_COUNTER, PAIR_LABELS},
    [F_BYTES_FREED] = {"kmem_alloc_bytes_freed_total",
                       "Bytes of slab objects freed since the tracer started.", KX_COUNTER,
                       PAIR_LABELS},
    [F_ACC_BYTES] = {"kmem_alloc_accounted_bytes_allocated_total",
                     "Bytes allocated that were charged to the memory cgroup (SLAB_ACCOUNT "
                     "cache or __GFP_ACCOUNT).",
                     KX_COUNTER, PAIR_LABELS},
    [F_LIVE] = {"kmem_alloc_live_bytes",
                "Bytes allocated since the tracer started (or the last reset of its live-object "
                "table) and not freed: net growth.",
                KX_GAUGE, PAIR_LABELS},
};

static const struct kx_family rate_fam[2] = {
    {"kmem_alloc_rate_objects_per_second",
     "Slab objects allocated per second during the last window of the duty cycle, by the "
     "memory cgroup of the allocating task (cache \"other\": the cgroup's pairs outside the top "
     "N).",
     KX_GAUGE, PAIR_LABELS},
    {"kmem_alloc_rate_bytes_per_second",
     "Bytes of slab objects allocated per second during the last window of the duty cycle.",
     KX_GAUGE, PAIR_LABELS},
};

static const struct kx_family fam_window = {
    "kmem_alloc_rate_window_seconds",
    "Length of the last window the allocation hooks were attached.",
    KX_GAUGE,
    {NULL}};
static const struct kx_family fam_window_end = {"kmem_alloc_rate_window_end_timestamp_seconds",
                                                "When the last window ended (Unix time).",
                                                KX_GAUGE,
                                                {NULL}};
static const struct kx_family fam_windows = {"kmem_alloc_rate_windows_total",
                                             "Windows of the duty cycle completed since the start.",
                                             KX_COUNTER,
                                             {NULL}};
static const struct kx_family fam_lost = {
    "kmem_alloc_events_lost_total",
    "Allocation events not counted (reason: table_full, missed) or allocations not followed to "
    "their free (not_tracked: the live-object table was full).",
    KX_COUNTER,
    {"reason"}};
static const struct kx_family fam_untracked = {
    "kmem_alloc_untracked_frees_total",
    "Frees of objects allocated before the tracer started (or its last reset): not credited.",
    KX_COUNTER,
    {NULL}};
static const struct kx_family fam_live_objects = {
    "kmem_alloc_live_objects",
    "Objects in the tracer's live-object table (allocated since the last reset and not freed, "
    "or freed unseen).",
    KX_GAUGE,
    {NULL}};
static const struct kx_family fam_live_capacity = {"kmem_alloc_live_objects_capacity",
                                                   "Objects the live-object table can hold.",
                                                   KX_GAUGE,
                                                   {NULL}};
static const struct kx_family fam_resets = {
    "kmem_alloc_live_table_resets_total",
    "Times the live-object table was emptied, past half full: live bytes then restart from 0.",
    KX_COUNTER,
    {NULL}};

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

static void sample(struct kmem_buf *b, const struct kx_family *f, const struct kmem_alloc_entry *e,
                   const char *cache, uint64_t v)
{
    kx_family_u64(b, f,
                  KX_VALUES(e->cgroup, e->pod_name, e->namespace_name, e->container_name, cache), v,
                  KX_NO_TIMESTAMP);
}

static void rate_sample(struct kmem_buf *b, const struct kx_family *f,
                        const struct kmem_alloc_entry *e, const char *cache, double v)
{
    kx_family_double(b, f,
                     KX_VALUES(e->cgroup, e->pod_name, e->namespace_name, e->container_name, cache),
                     v, KX_NO_TIMESTAMP);
}

/* Rates mode: gauges of the last window; the top N pairs, the rest per cgroup as "other". */
static void render_rates(struct kx_alloc *x, struct kmem_buf *b)
{
    const struct kmem_alloc_table *t = &x->t;
    double secs = t->seconds > 0 ? t->seconds : 1;

    for (int f = 0; f < 2; f++) {
        kx_family_head(b, &rate_fam[f]);
        for (size_t i = 0; i < t->n;) {
            const struct kmem_alloc_entry *first = &t->v[i];
            uint64_t other = 0;
            bool any_other = false;

            for (; i < t->n && t->v[i].cgid == first->cgid; i++) {
                const struct kmem_alloc_entry *e = &t->v[i];
                uint64_t v = f == 0 ? e->allocs : e->bytes_alloc;

                if (exported(x, e)) {
                    rate_sample(b, &rate_fam[f], e, e->cache, (double)v / secs);
                } else {
                    other += v;
                    any_other = true;
                }
            }
            if (any_other)
                rate_sample(b, &rate_fam[f], first, "other", (double)other / secs);
        }
    }
    kx_family_head(b, &fam_window);
    kx_family_double(b, &fam_window, KX_NO_VALUES, t->seconds, KX_NO_TIMESTAMP);
    kx_family_head(b, &fam_window_end);
    kx_family_double(b, &fam_window_end, KX_NO_VALUES,
                     (double)t->window_end.tv_sec + (double)t->window_end.tv_nsec / 1e9,
                     KX_NO_TIMESTAMP);
    kx_family_head(b, &fam_windows);
    kx_family_u64(b, &fam_windows, KX_NO_VALUES, x->windows, KX_NO_TIMESTAMP);
    kx_family_head(b, &fam_lost);
    kx_family_u64(b, &fam_lost, KX_VALUES("table_full"), x->lost_full, KX_NO_TIMESTAMP);
    kx_family_u64(b, &fam_lost, KX_VALUES("missed"), x->lost_missed, KX_NO_TIMESTAMP);
}

/* Tracking: the live-object table's fill and resets. */
static void render_live_table(struct kx_alloc *x, struct kmem_buf *b)
{
    kx_family_head(b, &fam_live_objects);
    kx_family_u64(b, &fam_live_objects, KX_NO_VALUES, x->live, KX_NO_TIMESTAMP);
    kx_family_head(b, &fam_live_capacity);
    kx_family_u64(b, &fam_live_capacity, KX_NO_VALUES, x->live_cap, KX_NO_TIMESTAMP);
    kx_family_head(b, &fam_resets);
    kx_family_u64(b, &fam_resets, KX_NO_VALUES, x->t.resets, KX_NO_TIMESTAMP);
}

void kx_alloc_render(struct kx_alloc *x, struct kmem_buf *b)
{
    const struct kmem_alloc_table *t = &x->t;

    if (!x->have)
        return;
    if (x->cfg.mode == KMEM_ALLOC_RATES) {
        render_rates(x, b);
        return;
    }
    if (t->tracking)
        render_live_table(x, b);
    for (int f = 0; f < F_COUNT; f++) {
        if (f == F_LIVE && !t->tracking)
            continue; /* counts only: frees are not matched to allocations */
        kx_family_head(b, &fam[f]);
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
                    sample(b, &fam[f], e, e->cache, value(e, (enum fam)f) - p->base[f]);
                    other += p->base[f];
                } else if (p) {
                    sample(b, &fam[f], e, e->cache, value(e, (enum fam)f));
                } else {
                    other += value(e, (enum fam)f);
                    other_net += kmem_alloc_net(e);
                    any_other = true;
                }
            }
            if (any_other || (f < F_COUNTERS && other))
                sample(b, &fam[f], first, "other",
                       f != F_LIVE     ? other
                       : other_net > 0 ? (uint64_t)other_net
                                       : 0);
        }
    }
    kx_family_head(b, &fam_untracked);
    {
        uint64_t n = 0;

        for (size_t i = 0; i < t->n; i++)
            if (t->v[i].cgid == KMEM_ALLOC_CGID_UNTRACKED)
                n += t->v[i].frees;
        kx_family_u64(b, &fam_untracked, KX_NO_VALUES, n, KX_NO_TIMESTAMP);
    }
    kx_family_head(b, &fam_lost);
    kx_family_u64(b, &fam_lost, KX_VALUES("table_full"), t->dropped, KX_NO_TIMESTAMP);
    kx_family_u64(b, &fam_lost, KX_VALUES("missed"), t->missed, KX_NO_TIMESTAMP);
    kx_family_u64(b, &fam_lost, KX_VALUES("not_tracked"), t->not_tracked, KX_NO_TIMESTAMP);
}
