// SPDX-License-Identifier: MIT
/* Shared collection: contexts, min-interval reuse, refcounted expositions. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collect.h"
#include "collectors.h"
#include "log.h"
#include "needs_log.h"

#define EXPO_MAX ((size_t)256 << 20) /* refuse to render more than 256 MiB */

struct kx_blob {
    atomic_uint refs;
    pthread_mutex_t gz_lock;
    char *text;
    size_t len, cap; /* cap: text's allocation, for its reuse */
    char *gz;
    size_t gzlen;
    bool ok;
    char msg[400];
};

struct kx_collector {
    pthread_mutex_t lock;
    pthread_cond_t done;
    struct kx_collector_opts o;
    struct kmem_ctx *ctx;
    struct kx_blob *cur;    /* NULL before the first collection */
    struct timespec cur_at; /* CLOCK_MONOTONIC start of cur's collection */
    bool busy;              /* a collection is running */
    atomic_bool ready;      /* a collection has been rendered */
    unsigned long gen;      /* bumped when a collection ends */
    int last_err;           /* result of the last collection */
    size_t last_len;        /* size of the last exposition, to size the next */
    char *spare;            /* text of a released exposition, rendered into next */
    size_t spare_cap;
    char logged[KX_COLLECTORS_MAX][320]; /* last message logged per collector */
    const char *cg_watch_logged;         /* kmem_ctx_cgroup_watch() last logged */
    struct kx_unavail unavail;           /* data missing for want of a capability or mount */
};

const char *kx_blob_text(const struct kx_blob *b, size_t *len)
{
    *len = b->len;
    return b->text;
}

bool kx_blob_ok(const struct kx_blob *b, const char **msg)
{
    if (msg)
        *msg = b->msg;
    return b->ok;
}

void kx_blob_get(struct kx_blob *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

/* Drop a reference; the last one frees @b, and hands its text over in
 * *@text (the caller's then) instead of freeing it when @text is given. */
static void blob_put(struct kx_blob *b, char **text, size_t *cap)
{
    if (!b || atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
        return;
    pthread_mutex_destroy(&b->gz_lock);
    if (text) {
        *text = b->text;
        *cap = b->cap;
    } else {
        free(b->text);
    }
    free(b->gz);
    free(b);
}

void kx_blob_put(struct kx_blob *b)
{
    blob_put(b, NULL, NULL);
}

int kx_blob_gzip(struct kx_blob *b, const char **data, size_t *len)
{
    int r = 0;
    pthread_mutex_lock(&b->gz_lock);
    if (!b->gz)
        r = kx_gzip(b->text, b->len, &b->gz, &b->gzlen);
    *data = b->gz;
    *len = b->gzlen;
    pthread_mutex_unlock(&b->gz_lock);
    return r;
}

int kx_collector_new(struct kx_collector **out, const struct kx_collector_opts *o, char *err,
                     size_t errlen)
{
    struct kx_collector *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->o = *o;
    if (!c->o.render.page_size)
        c->o.render.page_size = kmem_page_size();
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->done, NULL);
    c->unavail.live = kx_procfs_is_live(o->paths.root, o->paths.procfs);
    int r = kmem_ctx_new_opts(&c->ctx, &o->paths, err, errlen);
    if (r) {
        kx_collector_free(c);
        return r;
    }
    kmem_ctx_set_cgroup_reading(c->ctx, o->cg_extras, KMEM_CG_FDS_AUTO);
    for (size_t i = 0; i < kx_ncollectors; i++)
        if (kx_collectors[i].setup && !(o->render.disabled & (1u << i)))
            kx_collectors[i].setup(c->ctx);
    /* The paths are the caller's; the context keeps its own copies. */
    memset(&c->o.paths, 0, sizeof(c->o.paths));
    *out = c;
    return 0;
}

void kx_collector_free(struct kx_collector *c)
{
    if (!c)
        return;
    kmem_ctx_free(c->ctx);
    kx_blob_put(c->cur);
    free(c->spare);
    pthread_cond_destroy(&c->done);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static double since(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Log collector @i's result: a failure when its message changes (and when it
 * works again), every result at debug. */
static void log_result(struct kx_collector *c, size_t i, const struct kmem_status *st)
{
    const char *name = kx_collectors[i].name;
    const char *m = st->err ? st->msg : "";
    char secs[32];

    if (st->err && !m[0])
        m = strerror(-st->err);
    snprintf(secs, sizeof(secs), "%.6f", st->seconds);
    if (c->o.log_errors && strcmp(c->logged[i], m) != 0) {
        if (m[0])
            kx_log(KX_LOG_ERROR, "Collector failed", "collector", name, "duration_seconds", secs,
                   "err", m, NULL);
        else
            kx_log(KX_LOG_INFO, "Collector works again", "collector", name, NULL);
        snprintf(c->logged[i], sizeof(c->logged[i]), "%s", m);
    } else if (m[0]) {
        kx_log(KX_LOG_DEBUG, "Collector failed", "collector", name, "duration_seconds", secs, "err",
               m, NULL);
    } else {
        kx_log(KX_LOG_DEBUG, "Collector succeeded", "collector", name, "duration_seconds", secs,
               NULL);
    }
}

/* Run one collection and render it into a new blob. Called with busy set and
 * the lock released: the contexts are used by one thread at a time. */
static int collect_render(struct kx_collector *c, struct kx_blob **out)
{
    struct kx_collection col = {0};
    struct kmem_status status[KX_COLLECTORS_MAX];
    bool on[KX_COLLECTORS_MAX];
    struct timespec wall;

    clock_gettime(CLOCK_REALTIME, &wall);
    col.when_ms = (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000;
    memcpy(col.state, c->o.state, sizeof(col.state));
    unsigned flags = 0;
    for (size_t i = 0; i < kx_ncollectors; i++) {
        on[i] = kx_collector_on(&col, &c->o.render, i);
        if (on[i])
            flags |= 1u << kx_collectors[i].part;
    }
    if (flags & KMEM_COLLECT_SLAB)
        flags |= KMEM_COLLECT_SLAB_ATTRS; /* kmem_slab_info's sysfs labels */
    int r = kmem_collect(c->ctx, flags);
    const struct kmem_snapshot *s = kmem_current(c->ctx);
    const char *watch = kmem_ctx_cgroup_watch(c->ctx);
    if (watch && watch != c->cg_watch_logged) {
        /* inotify, or why the link counts (the fallback) */
        kx_log(KX_LOG_DEBUG, "Cgroup change detection", "method", watch, NULL);
        c->cg_watch_logged = watch;
    }
    if (s) {
        if (s->status[KMEM_PART_SLAB].err == 0 && (flags & KMEM_COLLECT_SLAB))
            col.slab = &s->slab;
        if (s->status[KMEM_PART_NODE].err == 0 && (flags & KMEM_COLLECT_NODE))
            col.node = &s->node;
        if (s->status[KMEM_PART_CGROUPS].err == 0 && (flags & KMEM_COLLECT_CGROUPS))
            col.cgroups = &s->cgroups;
        if (s->status[KMEM_PART_DETAIL].err == 0 && (flags & KMEM_COLLECT_DETAIL))
            col.detail = &s->detail;
        if (s->status[KMEM_PART_OWNERS].err == 0 && (flags & KMEM_COLLECT_OWNERS))
            col.owners = &s->owners;
    }

    struct kx_blob *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    atomic_init(&b->refs, 1);
    pthread_mutex_init(&b->gz_lock, NULL);
    b->ok = true;
    for (size_t i = 0; i < kx_ncollectors; i++) {
        const struct kx_collector_def *d = &kx_collectors[i];
        memset(&status[i], 0, sizeof(status[i]));
        if (!on[i])
            continue;
        if (d->collect) {
            /* A source of its own, after the snapshot (which has its part). */
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            d->collect(col.state[i], c->ctx, s, &status[i]);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            status[i].seconds = since(&t0, &t1);
        } else if (s) {
            status[i] = s->status[d->part];
        }
        if (r && !s && !d->collect) {
            status[i].err = r;
            snprintf(status[i].msg, sizeof(status[i].msg), "%s", kmem_strerror(c->ctx));
        }
        col.part[i].status = &status[i];
        col.part[i].seconds = status[i].seconds;
        if (status[i].err && b->ok) {
            b->ok = false;
            snprintf(b->msg, sizeof(b->msg), "collector %s: %.360s", d->name,
                     status[i].msg[0] ? status[i].msg : strerror(-status[i].err));
        }
        log_result(c, i, &status[i]);
    }
    if (c->o.log_errors)
        kx_log_unavailable(&c->unavail, &col);

    /* Render straight into the blob's own buffer, sized from the last one,
     * so there is no second copy of the exposition to keep resident. The
     * buffer is the one of the exposition released before, when there is
     * one: a fresh one is a new mapping (M_MMAP_THRESHOLD) whose pages the
     * kernel faults in and zeroes on every scrape, and unmaps after. */
    struct kmem_buf text;
    kmem_buf_init(&text, EXPO_MAX);
    if (c->spare) {
        text.data = c->spare;
        text.cap = c->spare_cap;
        c->spare = NULL;
    }
    kmem_buf_reserve(&text, c->last_len + c->last_len / 8 + 4096);
    r = kx_render(&text, &col, &c->o.render);
    /* One rule for --once and --textfile: the collection is incomplete
     * (exit 1) when any enabled collector's kmem_collector_success is 0. */
    for (size_t i = 0; i < kx_ncollectors && b->ok; i++) {
        if (on[i] && !kx_collector_succeeded(&col, i)) {
            b->ok = false;
            snprintf(b->msg, sizeof(b->msg), "collector %s: kmem_collector_success is 0%s",
                     kx_collectors[i].name,
                     col.render_failed[i] ? " (its series did not fit the exposition)" : "");
        }
    }
    if (r == 0) {
        b->cap = text.cap;
        b->text = kmem_buf_take(&text, &b->len);
        if (!b->text)
            r = text.err ? text.err : -ENOMEM;
        else
            c->last_len = b->len;
    }
    kmem_buf_free(&text);
    if (r) {
        kx_blob_put(b);
        return r;
    }
    *out = b;
    return 0;
}

static int run_collection(struct kx_collector *c, struct kx_blob **out)
{
    /* Called with the lock held and busy clear. */
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    c->busy = true;
    pthread_mutex_unlock(&c->lock);
    struct kx_blob *b = NULL;
    int r = collect_render(c, &b);
    pthread_mutex_lock(&c->lock);
    c->busy = false;
    c->gen++;
    c->last_err = r;
    if (r == 0) {
        atomic_store_explicit(&c->ready, true, memory_order_release);
        /* Unless a scrape still sends it, the old exposition's buffer is
         * the next one's (one spare at most). */
        if (!c->spare)
            blob_put(c->cur, &c->spare, &c->spare_cap);
        else
            kx_blob_put(c->cur);
        c->cur = b;
        c->cur_at = start;
        kx_blob_get(b);
        *out = b;
    }
    pthread_cond_broadcast(&c->done);
    return r;
}

int kx_collector_get(struct kx_collector *c, struct kx_blob **out)
{
    int r;
    struct timespec now;

    *out = NULL;
    pthread_mutex_lock(&c->lock);
    if (c->busy) {
        /* Share the collection that is running. */
        unsigned long gen = c->gen;
        while (c->busy && c->gen == gen)
            pthread_cond_wait(&c->done, &c->lock);
        r = c->last_err;
        if (r == 0 && c->cur) {
            kx_blob_get(c->cur);
            *out = c->cur;
        } else if (r == 0) {
            r = -EAGAIN;
        }
        pthread_mutex_unlock(&c->lock);
        return r;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (c->cur && c->o.min_interval > 0 && since(&c->cur_at, &now) < c->o.min_interval) {
        kx_blob_get(c->cur);
        *out = c->cur;
        pthread_mutex_unlock(&c->lock);
        return 0;
    }
    r = run_collection(c, out);
    pthread_mutex_unlock(&c->lock);
    return r;
}

bool kx_collector_ready(struct kx_collector *c)
{
    return atomic_load_explicit(&c->ready, memory_order_acquire);
}

int kx_collector_refresh(struct kx_collector *c, struct kx_blob **out)
{
    *out = NULL;
    pthread_mutex_lock(&c->lock);
    while (c->busy)
        pthread_cond_wait(&c->done, &c->lock);
    int r = run_collection(c, out);
    pthread_mutex_unlock(&c->lock);
    return r;
}
