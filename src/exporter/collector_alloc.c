// SPDX-License-Identifier: MIT
/* The alloc collector's row functions: its flags and the tracer's life
 * cycle, around allocmetrics.c (which reads and renders the tracer). */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "allocmetrics.h"
#include "collectors.h"

kx_render_fn kx_alloc_col_render;
int kx_alloc_col_start(void **state, char *warn, size_t warnlen);
void kx_alloc_col_collect(void *state, struct kmem_ctx *ctx, const struct kmem_snapshot *s,
                          struct kmem_status *st);
void kx_alloc_col_stop(void *state);

static unsigned alloc_top;     /* --collector.alloc.top; 0: KX_ALLOC_DEFAULT_TOP */
static bool alloc_counts;      /* --collector.alloc.counts-only */
static const char *alloc_mode; /* --collector.alloc.mode rates|track|counts */
static double alloc_window;    /* --collector.alloc.window (rates) */
static double alloc_period;    /* --collector.alloc.period (rates) */
static long alloc_objects;     /* --collector.alloc.objects (track) */

const struct kx_flag kx_alloc_col_flags[] = {
    {"collector.alloc.mode", KX_F_STR, 0, &alloc_mode, "rates|track|counts",
     "rates (default): allocation-only hooks attached for a window of every period, "
     "allocations per second per (cgroup, cache), no free hooks; track: every allocation and "
     "free, frees credited to the allocating cgroup (a leak hunt; costs 20-40% on "
     "allocation-heavy work); counts: the same without matching frees.",
     false},
    {"collector.alloc.window", KX_F_SECONDS, 0, &alloc_window, "SECONDS",
     "rates: how long the hooks stay attached in each period (default 3).", false},
    {"collector.alloc.period", KX_F_SECONDS, 0, &alloc_period, "SECONDS",
     "rates: one window every SECONDS (default 60).", false},
    {"collector.alloc.top", KX_F_UINT, 0, &alloc_top, "N",
     "Series for the N (cgroup, cache) pairs that allocated the most bytes; the rest summed per "
     "cgroup as cache=\"other\" (default 100).",
     false},
    {"collector.alloc.objects", KX_F_LONG, 0, &alloc_objects, "N",
     "track: live objects followed at most (default 262144); past 3/4 full the table is "
     "emptied (kmem_alloc_live_table_resets_total).",
     false},
    {"collector.alloc.counts-only", KX_F_BOOL, 0, &alloc_counts, NULL,
     "The same as --collector.alloc.mode counts.", false},
    {NULL, KX_F_BOOL, 0, NULL, NULL, NULL, false},
};

/* A tracer that cannot load, or flags that make no sense, are no failure
 * here: @warn says why, and every collection reports it
 * (kmem_collector_success 0). */
int kx_alloc_col_start(void **state, char *warn, size_t warnlen)
{
    struct kx_alloc_cfg cfg = {.top = alloc_top,
                               .mode = KMEM_ALLOC_RATES,
                               .window = alloc_window,
                               .period = alloc_period,
                               .objects =
                                   alloc_objects > (1L << 28) ? 1U << 28 : (unsigned)alloc_objects};
    struct kx_alloc *x = NULL;
    int r;

    if (alloc_mode && !strcmp(alloc_mode, "track"))
        cfg.mode = KMEM_ALLOC_TRACK;
    else if ((alloc_mode && !strcmp(alloc_mode, "counts")) || alloc_counts)
        cfg.mode = KMEM_ALLOC_COUNTS;
    else if (alloc_mode && strcmp(alloc_mode, "rates"))
        cfg.invalid = "--collector.alloc.mode: not rates, track or counts";
    if (alloc_window > 0 && alloc_period > 0 && alloc_window > alloc_period)
        cfg.invalid = "--collector.alloc.window is longer than --collector.alloc.period";
    r = kx_alloc_new(&x, &cfg, warn, warnlen);
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
