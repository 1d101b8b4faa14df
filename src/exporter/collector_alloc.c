// SPDX-License-Identifier: MIT
/* The alloc collector's row functions: its flags and the tracer's life
 * cycle, around allocmetrics.c (which reads and renders the tracer). */
#include <stdbool.h>

#include "allocmetrics.h"
#include "collectors.h"

kx_render_fn kx_alloc_col_render;
int kx_alloc_col_start(void **state, char *warn, size_t warnlen);
void kx_alloc_col_collect(void *state, struct kmem_ctx *ctx, const struct kmem_snapshot *s,
                          struct kmem_status *st);
void kx_alloc_col_stop(void *state);

static unsigned alloc_top; /* --collector.alloc.top; 0: KX_ALLOC_DEFAULT_TOP */
static bool alloc_counts;  /* --collector.alloc.counts-only */

const struct kx_flag kx_alloc_col_flags[] = {
    {"collector.alloc.top", KX_F_UINT, 0, &alloc_top, "N",
     "Series for the N (cgroup, cache) pairs that allocated the most bytes; the rest summed per "
     "cgroup as cache=\"other\" (default 100).",
     false},
    {"collector.alloc.counts-only", KX_F_BOOL, 0, &alloc_counts, NULL,
     "No live-object tracking: cheaper, frees counted for the freeing task's cgroup.", false},
    {NULL, KX_F_BOOL, 0, NULL, NULL, NULL, false},
};

/* A tracer that cannot load is no failure here: kx_alloc_new() says why in
 * @warn, and every collection reports it (kmem_collector_success 0). */
int kx_alloc_col_start(void **state, char *warn, size_t warnlen)
{
    struct kx_alloc *x = NULL;
    int r = kx_alloc_new(&x, alloc_top, alloc_counts, warn, warnlen);
    *state = x;
    return r;
}

void kx_alloc_col_collect(void *state, struct kmem_ctx *ctx, const struct kmem_snapshot *s,
                          struct kmem_status *st)
{
    kx_alloc_collect(state, ctx, s, st);
}

int kx_alloc_col_render(struct kmem_buf *b, const struct kx_collection *c,
                        const struct kx_render_opts *o, void *state)
{
    (void)c;
    (void)o;
    kx_alloc_render(state, b);
    return b->err;
}

void kx_alloc_col_stop(void *state)
{
    kx_alloc_free(state);
}
