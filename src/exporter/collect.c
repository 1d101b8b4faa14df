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
#include "log.h"
#include "allocmetrics.h"

#define EXPO_MAX ((size_t)256 << 20) /* refuse to render more than 256 MiB */

struct kx_blob {
    atomic_uint refs;
    pthread_mutex_t gz_lock;
    char *text;
    size_t len;
    char *gz;
    size_t gzlen;
    bool ok;
    char msg[400];
};

/* The snapshot part each collector reports. */
static const enum kmem_part part_of[KX_COL_COUNT] = {
    [KX_COL_SLABINFO] = KMEM_PART_SLAB,
    [KX_COL_NODE] = KMEM_PART_NODE,
    [KX_COL_CGROUP] = KMEM_PART_CGROUPS,
    [KX_COL_NODE_DETAIL] = KMEM_PART_DETAIL,
};

struct kx_collector {
    pthread_mutex_t lock;
    pthread_cond_t done;
    struct kx_collector_opts o;
    struct kmem_ctx *ctx;
    struct kx_blob *cur;            /* NULL before the first collection */
    struct timespec cur_at;         /* CLOCK_MONOTONIC start of cur's collection */
    bool busy;                      /* a collection is running */
    atomic_bool ready;              /* a collection has been rendered */
    unsigned long gen;              /* bumped when a collection ends */
    int last_err;                   /* result of the last collection */
    size_t last_len;                /* size of the last exposition, to size the next */
    char logged[KX_COL_COUNT][320]; /* last message logged per part */
    char alloc_logged[320];         /* the same for --collector.alloc */
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

void kx_blob_put(struct kx_blob *b)
{
    if (!b || atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
        return;
    pthread_mutex_destroy(&b->gz_lock);
    free(b->text);
    free(b->gz);
    free(b);
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
    int r = kmem_ctx_new_opts(&c->ctx, &o->paths, err, errlen);
    if (r) {
        kx_collector_free(c);
        return r;
    }
    kmem_ctx_set_cgroup_reading(c->ctx, o->cg_extras, KMEM_CG_FDS_AUTO);
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
    pthread_cond_destroy(&c->done);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static double since(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Run one collection and render it into a new blob. Called with busy set and
 * the lock released: the contexts are used by one thread at a time. */
static int collect_render(struct kx_collector *c, struct kx_blob **out)
{
    struct kx_collection col = {0};
    struct kmem_status status[KX_COL_COUNT];
    struct timespec wall;

    clock_gettime(CLOCK_REALTIME, &wall);
    col.when_ms = (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000;
    unsigned flags = 0;
    for (int i = 0; i < KX_COL_COUNT; i++)
        if (!(c->o.render.disabled & (1u << i)))
            flags |= 1u << part_of[i];
    if (flags & KMEM_COLLECT_SLAB)
        flags |= KMEM_COLLECT_SLAB_ATTRS; /* kmem_slab_info's sysfs labels */
    int r = kmem_collect(c->ctx, flags);
    const struct kmem_snapshot *s = kmem_current(c->ctx);
    for (int i = 0; i < KX_COL_COUNT; i++) {
        const struct kmem_status *st = s ? &s->status[part_of[i]] : NULL;
        if (st)
            status[i] = *st;
        else
            memset(&status[i], 0, sizeof(status[i]));
        if (r && !s) {
            status[i].err = r;
            snprintf(status[i].msg, sizeof(status[i].msg), "%s", kmem_strerror(c->ctx));
        }
        if (status[i].err == 0 && s) {
            if (i == KX_COL_SLABINFO)
                col.slab = &s->slab;
            else if (i == KX_COL_NODE)
                col.node = &s->node;
            else if (i == KX_COL_NODE_DETAIL)
                col.detail = &s->detail;
            else
                col.cgroups = &s->cgroups;
        }
        col.part[i].status = &status[i];
        col.part[i].seconds = status[i].seconds;
    }

    /* --collector.alloc: after the cgroups, whose snapshot names its cgroup ids. */
    struct kmem_status alloc_status;
    if (c->o.alloc) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        kx_alloc_collect(c->o.alloc, c->ctx, kmem_current(c->ctx), &alloc_status);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        col.alloc = c->o.alloc;
        col.alloc_part.status = &alloc_status;
        col.alloc_part.seconds = since(&t0, &t1);
        char m[320];
        snprintf(m, sizeof(m), "%.319s", alloc_status.msg);
        if (c->o.log_errors && strcmp(c->alloc_logged, m) != 0) {
            if (alloc_status.err)
                kx_log(KX_LOG_ERROR, "Collector failed", "collector", "alloc", "err",
                       alloc_status.msg, NULL);
            else
                kx_log(KX_LOG_INFO, "Collector works again", "collector", "alloc", NULL);
            memcpy(c->alloc_logged, m, sizeof(m));
        }
    }

    struct kx_blob *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    atomic_init(&b->refs, 1);
    pthread_mutex_init(&b->gz_lock, NULL);
    b->ok = true;
    for (int i = 0; i < KX_COL_COUNT; i++) {
        if (c->o.render.disabled & (1u << i))
            continue;
        const char *m = status[i].err ? status[i].msg : "";
        if (status[i].err && b->ok) {
            b->ok = false;
            snprintf(b->msg, sizeof(b->msg), "collector %s: %s", kx_collector_name[i],
                     m[0] ? m : strerror(-status[i].err));
        }
        char secs[32];
        snprintf(secs, sizeof(secs), "%.6f", status[i].seconds);
        if (c->o.log_errors && strcmp(c->logged[i], m) != 0) {
            /* A failure is logged when its message changes; every one at debug. */
            if (m[0])
                kx_log(KX_LOG_ERROR, "Collector failed", "collector", kx_collector_name[i],
                       "duration_seconds", secs, "err", m, NULL);
            else
                kx_log(KX_LOG_INFO, "Collector works again", "collector", kx_collector_name[i],
                       NULL);
            snprintf(c->logged[i], sizeof(c->logged[i]), "%s", m);
        } else if (m[0]) {
            kx_log(KX_LOG_DEBUG, "Collector failed", "collector", kx_collector_name[i],
                   "duration_seconds", secs, "err", m, NULL);
        } else {
            kx_log(KX_LOG_DEBUG, "Collector succeeded", "collector", kx_collector_name[i],
                   "duration_seconds", secs, NULL);
        }
    }

    if (c->o.alloc && alloc_status.err && b->ok) {
        b->ok = false;
        snprintf(b->msg, sizeof(b->msg), "collector alloc: %.380s", alloc_status.msg);
    }

    /* Render straight into the blob's own buffer, sized from the last one,
     * so there is no second copy of the exposition to keep resident. */
    struct kx_buf text;
    kx_buf_init(&text, EXPO_MAX);
    kx_buf_reserve(&text, c->last_len + c->last_len / 8 + 4096);
    r = kx_render(&text, &col, &c->o.render);
    if (r == 0) {
        b->text = kx_buf_take(&text, &b->len);
        if (!b->text)
            r = text.err ? text.err : -ENOMEM;
        else
            c->last_len = b->len;
    }
    kx_buf_free(&text);
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
