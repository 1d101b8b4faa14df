/* SPDX-License-Identifier: MIT */
/*
 * The snapshot layer: the public context. It owns the I/O layer, the two
 * snapshots (current and previous) and the readers' long-lived state, calls
 * each reader with its previous data, and times and records every part.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capmeta.h"
#include "kmem.h"
#include "readers.h"
#include "timeutil.h"

const char *const kmem_part_name[KMEM_PART_COUNT] = {
    [KMEM_PART_SLAB] = "slab",       [KMEM_PART_NODE] = "node",
    [KMEM_PART_CGROUPS] = "cgroups", [KMEM_PART_DETAIL] = "node_detail",
    [KMEM_PART_OWNERS] = "owners",
};
static_assert(sizeof(kmem_part_name) / sizeof(kmem_part_name[0]) == KMEM_PART_COUNT,
              "kmem_part_name table");

struct kmem_ctx {
    struct kmem_io io;
    char *root; /* as given */
    struct kmem_snapshot snap[2];
    int cur;    /* index of the current snapshot in snap[] */
    int nsnaps; /* how many collections so far */
    struct kmem_cg_reader *cg;
    double detail_interval;    /* seconds between reads of the detail files */
    bool detail_read;          /* some collection read them */
    struct timespec detail_at; /* when (CLOCK_MONOTONIC) */
    struct kmem_detail last;   /* what that read gave, with its status */
    struct kmem_status last_status;
    double owners_interval;        /* seconds between owner snapshots */
    bool owners_read;              /* some collection took one */
    struct timespec owners_at;     /* when (CLOCK_MONOTONIC) */
    struct kmem_owner_snap owners; /* what it gave */
    struct kmem_status owners_status;
    void *walker;                     /* the live walker, opened on first use */
    bool owners_isolated;             /* walk in a child process instead */
    struct kmem_capture_meta capmeta; /* of the capture started last */
    bool capmeta_written;
};

int kmem_ctx_new_opts(struct kmem_ctx **out, const struct kmem_ctx_opts *o, char *errbuf,
                      size_t errlen)
{
    const char *root = o && o->root && *o->root ? o->root : "/";
    struct kmem_ctx *ctx;
    int err;

    *out = NULL;
    ctx = calloc(1, sizeof(*ctx));
    if (!ctx) {
        if (errbuf)
            snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    err = kmem_io_init(&ctx->io, o, errbuf, errlen);
    if (!err) {
        ctx->root = strdup(root);
        ctx->cg = kmem_cg_reader_new();
        if (!ctx->root || !ctx->cg) {
            err = -ENOMEM;
            if (errbuf)
                snprintf(errbuf, errlen, "out of memory");
        }
    }
    if (err) {
        kmem_ctx_free(ctx);
        return err;
    }
    ctx->detail_interval = 60;
    ctx->owners_interval = 60;
    kmem_io_preopen(&ctx->io);
    *out = ctx;
    return 0;
}

void kmem_ctx_set_detail_interval(struct kmem_ctx *ctx, double seconds)
{
    ctx->detail_interval = seconds > 0 ? seconds : 0;
}

void kmem_ctx_set_owners_interval(struct kmem_ctx *ctx, double seconds)
{
    ctx->owners_interval = seconds > 0 ? seconds : 0;
}

void kmem_ctx_set_owners_isolated(struct kmem_ctx *ctx, bool isolated)
{
    ctx->owners_isolated = isolated;
    if (isolated && ctx->walker) {
        kmem_owners_live_close(ctx->walker);
        ctx->walker = NULL;
    }
}

int kmem_ctx_new(struct kmem_ctx **out, const char *root, char *errbuf, size_t errlen)
{
    struct kmem_ctx_opts o = {.root = root};

    return kmem_ctx_new_opts(out, &o, errbuf, errlen);
}

void kmem_ctx_free(struct kmem_ctx *ctx)
{
    if (!ctx)
        return;
    for (int i = 0; i < 2; i++) {
        kmem_slabinfo_release(&ctx->snap[i].slab);
        kmem_node_release(&ctx->snap[i].node);
        kmem_cgroups_release(&ctx->snap[i].cgroups);
        kmem_owners_free(&ctx->snap[i].owners.o);
    }
    kmem_owners_free(&ctx->owners.o);
    kmem_owners_live_close(ctx->walker);
    kmem_cg_reader_free(ctx->cg);
    kmem_io_release(&ctx->io);
    free(ctx->root);
    free(ctx);
}

const char *kmem_ctx_root(const struct kmem_ctx *ctx)
{
    return ctx->root;
}

const char *kmem_strerror(const struct kmem_ctx *ctx)
{
    return ctx->io.err;
}

int kmem_ctx_set_capture(struct kmem_ctx *ctx, const char *dir)
{
    if (dir)
        ctx->capmeta_written = false;
    return kmem_io_set_capture(&ctx->io, dir, false);
}

int kmem_ctx_capture_start(struct kmem_ctx *ctx, const char *dir, const struct kmem_capture_opts *o)
{
    int err = kmem_io_set_capture(&ctx->io, dir, o && o->replace);

    ctx->capmeta_written = false;
    if (!err) {
        kmem_capmeta_write(&ctx->io, o ? o->command : NULL, &ctx->capmeta);
        ctx->capmeta_written = true;
    }
    return err;
}

void kmem_ctx_set_capture_sink(struct kmem_ctx *ctx, kmem_capture_sink_fn sink, void *arg)
{
    ctx->capmeta_written = false;
    kmem_io_set_capture_sink(&ctx->io, sink, arg);
}

void kmem_ctx_capture_put_meta(struct kmem_ctx *ctx, const char *command,
                               struct kmem_capture_meta *out)
{
    kmem_capmeta_write(&ctx->io, command, out);
}

int kmem_ctx_remove_capture(struct kmem_ctx *ctx, const char *dir)
{
    return kmem_io_remove_tree(&ctx->io, dir);
}

int kmem_ctx_capture_written(const struct kmem_ctx *ctx, struct kmem_capture_meta *m)
{
    if (!ctx->capmeta_written)
        return -ENOENT;
    *m = ctx->capmeta;
    return 0;
}

int kmem_ctx_capture_meta(struct kmem_ctx *ctx, struct kmem_capture_meta *m)
{
    return kmem_capmeta_read(&ctx->io, m);
}

void kmem_ctx_set_cgroup_reading(struct kmem_ctx *ctx, unsigned extras, size_t max_fds)
{
    kmem_cg_reader_set(ctx->cg, extras, max_fds);
}

void kmem_ctx_cgroup_reading(const struct kmem_ctx *ctx, unsigned *extras, size_t *max_fds)
{
    kmem_cg_reader_get(ctx->cg, extras, max_fds);
}

size_t kmem_ctx_cgroup_fds(const struct kmem_ctx *ctx)
{
    return kmem_cg_reader_fds(ctx->cg);
}

const char *kmem_ctx_cgroup_watch(const struct kmem_ctx *ctx)
{
    return kmem_cg_reader_watch(ctx->cg);
}

size_t kmem_capture_unnamed(const struct kmem_ctx *ctx)
{
    return ctx->io.capture_unnamed;
}

int kmem_capture_status(struct kmem_ctx *ctx)
{
    if (!ctx->io.capture_err)
        return 0;
    return kmem_err(&ctx->io, ctx->io.capture_err, "%s", ctx->io.capture_msg);
}

/* The detail part: read it, or copy the last read while it is younger than the interval. */
static int read_detail(struct kmem_ctx *ctx, struct kmem_snapshot *next, struct kmem_status *st,
                       const struct timespec *t0)
{
    int err;

    if (ctx->detail_read && !kmem_capturing_dir(&ctx->io) &&
        kmem_ts_diff(&ctx->detail_at, t0) < ctx->detail_interval) {
        next->detail = ctx->last;
        next->detail.reused = true;
        next->detail.age = kmem_ts_diff(&ctx->detail_at, t0);
        snprintf(st->msg, sizeof(st->msg), "%s", ctx->last_status.msg);
        return ctx->last_status.err;
    }
    err = kmem_read_detail(&ctx->io, &next->detail, kmem_page_size());
    ctx->detail_read = true;
    ctx->detail_at = *t0;
    ctx->last = next->detail;
    ctx->last_status.err = err;
    snprintf(ctx->last_status.msg, sizeof(ctx->last_status.msg), "%s", err ? ctx->io.err : "");
    return err;
}

/* The owner part: take it, or copy the last one while it is younger than its interval. */
static int read_owners(struct kmem_ctx *ctx, struct kmem_snapshot *next, struct kmem_status *st,
                       const struct timespec *t0)
{
    const struct kmem_cgroups *cgs =
        (next->flags & KMEM_COLLECT_CGROUPS) && !next->status[KMEM_PART_CGROUPS].err
            ? &next->cgroups
            : NULL;
    int err;

    if (ctx->owners_read && !kmem_capturing_dir(&ctx->io) &&
        kmem_ts_diff(&ctx->owners_at, t0) < ctx->owners_interval) {
        struct kmem_owner_snap *o = &next->owners;

        if (kmem_owners_copy(&o->o, &ctx->owners.o))
            return kmem_err(&ctx->io, ENOMEM, "out of memory");
        o->from_file = ctx->owners.from_file;
        o->removed_cgroups = ctx->owners.removed_cgroups;
        o->removed_bytes = ctx->owners.removed_bytes;
        o->reused = true;
        o->age = kmem_ts_diff(&ctx->owners_at, t0);
        snprintf(st->msg, sizeof(st->msg), "%s", ctx->owners_status.msg);
        return ctx->owners_status.err;
    }
    err = kmem_read_owners(&ctx->io, &ctx->walker, ctx->owners_isolated, &next->owners, cgs);
    ctx->owners_read = true;
    ctx->owners_at = *t0;
    ctx->owners_status.err = err;
    snprintf(ctx->owners_status.msg, sizeof(ctx->owners_status.msg), "%s", err ? ctx->io.err : "");
    ctx->owners.from_file = next->owners.from_file;
    ctx->owners.removed_cgroups = next->owners.removed_cgroups;
    ctx->owners.removed_bytes = next->owners.removed_bytes;
    if (kmem_owners_copy(&ctx->owners.o, &next->owners.o)) {
        ctx->owners_read = false;
        return kmem_err(&ctx->io, ENOMEM, "out of memory");
    }
    return err;
}

/* Run one reader for part @p of @next, with @prev its previous snapshot (or NULL). */
static int read_part(struct kmem_ctx *ctx, enum kmem_part p, struct kmem_snapshot *next,
                     const struct kmem_snapshot *prev)
{
    struct kmem_status *st = &next->status[p];
    struct timespec t0, t1;
    int err = 0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    switch (p) {
    case KMEM_PART_SLAB:
        err = kmem_read_slabinfo(&ctx->io, &next->slab);
        if (err)
            next->slab.n = 0;
        kmem_slabinfo_diff(&next->slab, prev ? &prev->slab : NULL, kmem_page_size());
        break;
    case KMEM_PART_NODE:
        err = kmem_read_node(
            &ctx->io, &next->node,
            prev && !prev->status[KMEM_PART_NODE].err && (prev->flags & KMEM_COLLECT_NODE)
                ? &prev->node
                : NULL,
            (next->flags & KMEM_COLLECT_SLAB) && !next->status[KMEM_PART_SLAB].err ? &next->slab
                                                                                   : NULL);
        break;
    case KMEM_PART_CGROUPS:
        err = kmem_read_cgroups(&ctx->io, ctx->cg, &next->cgroups);
        kmem_cgroups_diff(&next->cgroups, prev ? &prev->cgroups : NULL);
        /* One cgroup array per reader (docs/cgroups.md, "Memory"): the
         * previous snapshot's cgroups were read over; the change since is
         * next's has_prev / delta_kernel. */
        ctx->snap[ctx->cur].cgroups.n = 0;
        ctx->snap[ctx->cur].cgroups.v = NULL;
        break;
    case KMEM_PART_DETAIL:
        err = read_detail(ctx, next, st, &t0);
        break;
    case KMEM_PART_OWNERS:
        err = read_owners(ctx, next, st, &t0);
        break;
    case KMEM_PART_COUNT:
        break;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    st->err = err;
    st->seconds = kmem_ts_diff(&t0, &t1);
    if (err && p != KMEM_PART_DETAIL && p != KMEM_PART_OWNERS)
        snprintf(st->msg, sizeof(st->msg), "%s", ctx->io.err);
    else if (err && p == KMEM_PART_OWNERS && !next->owners.reused)
        snprintf(st->msg, sizeof(st->msg), "%s", ctx->io.err);
    else if (err && p == KMEM_PART_DETAIL && !next->detail.reused)
        snprintf(st->msg, sizeof(st->msg), "%s", ctx->io.err);
    return err;
}

int kmem_collect(struct kmem_ctx *ctx, unsigned flags)
{
    struct kmem_snapshot *next = &ctx->snap[ctx->cur ^ 1];
    const struct kmem_snapshot *prev = ctx->nsnaps ? &ctx->snap[ctx->cur] : NULL;
    int first = 0;

    if (flags & KMEM_COLLECT_OWNERS)
        flags |= KMEM_COLLECT_CGROUPS; /* names the owners' cgroups */
    clock_gettime(CLOCK_MONOTONIC, &next->when);
    next->flags = flags;
    memset(next->status, 0, sizeof(next->status));
    next->slab.n = 0;
    next->slab.attrs_read = next->slab.attrs_ok = next->slab.attrs_reused = false;
    next->slab.attrs_err = 0;
    next->slab.attrs_known = 0;
    next->cgroups.n = 0;
    memset(&next->detail, 0, sizeof(next->detail));
    kmem_owners_free(&next->owners.o);
    next->owners.reused = next->owners.from_file = false;
    next->owners.age = 0;
    next->owners.removed_cgroups = 0;
    next->owners.removed_bytes = 0;
    for (int p = 0; p < KMEM_PART_COUNT; p++) {
        int err;

        if (!(flags & (1u << p)))
            continue;
        err = read_part(ctx, (enum kmem_part)p, next, prev);
        if (err && !first)
            first = err;
    }
    /*
     * The sys/kernel/slab attributes last: a first sweep makes the kernel
     * allocate dentries and inodes for the files it reads (reclaimable
     * slab), which must not land between the reads of /proc/slabinfo and
     * /proc/meminfo. Then the slab gap, split by those attributes.
     */
    if ((flags & KMEM_COLLECT_SLAB) && !next->status[KMEM_PART_SLAB].err) {
        if (flags & KMEM_COLLECT_SLAB_ATTRS) {
            struct timespec t0, t1;

            clock_gettime(CLOCK_MONOTONIC, &t0);
            kmem_read_slab_attrs(&ctx->io, &next->slab,
                                 prev && (prev->flags & KMEM_COLLECT_SLAB) ? &prev->slab : NULL);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            next->status[KMEM_PART_SLAB].seconds += kmem_ts_diff(&t0, &t1);
        }
        /* SLAB_ACCOUNT sysfs does not show: caches with objects charged to a cgroup. */
        if ((flags & KMEM_COLLECT_OWNERS) && !next->status[KMEM_PART_OWNERS].err)
            kmem_slab_attrs_from_owners(&next->slab, &next->owners.o);
        if ((flags & KMEM_COLLECT_NODE) && !next->status[KMEM_PART_NODE].err && next->slab.n)
            kmem_node_slab_gap(&next->node, &next->slab, kmem_page_size());
    }
    /* Outside MemTotal: this collection's node with the (possibly reused) iomem. */
    if ((flags & KMEM_COLLECT_DETAIL))
        kmem_outside_compute(
            &next->detail.outside,
            (flags & KMEM_COLLECT_NODE) && !next->status[KMEM_PART_NODE].err ? &next->node : NULL,
            &next->detail.iomem);
    ctx->cur ^= 1;
    ctx->nsnaps++;
    for (int p = 0; p < KMEM_PART_COUNT && first; p++)
        if (next->status[p].err) {
            kmem_err(&ctx->io, first, "%s", next->status[p].msg);
            break;
        }
    return first;
}

const struct kmem_snapshot *kmem_current(const struct kmem_ctx *ctx)
{
    return ctx->nsnaps ? &ctx->snap[ctx->cur] : NULL;
}

const struct kmem_snapshot *kmem_previous(const struct kmem_ctx *ctx)
{
    return ctx->nsnaps > 1 ? &ctx->snap[ctx->cur ^ 1] : NULL;
}
