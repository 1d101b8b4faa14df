/* SPDX-License-Identifier: MIT */
/*
 * --collector.alloc (off by default): slab allocations per (memory cgroup,
 * cache) from libkmem's BPF tracer (alloc.h), loaded once at start-up.
 * Mode rates (the default): attached for a window of every period by a
 * thread of this collector, gauges per second of the last window. Modes
 * track and counts: attached for good, read at each collection; the top N
 * (cgroup, cache) pairs by bytes allocated, chosen once and kept (so every
 * counter only grows). The rest summed per cgroup under cache="other".
 * docs/alloc.md lists the families.
 */
#ifndef KX_ALLOCMETRICS_H
#define KX_ALLOCMETRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "alloc.h"
#include "expo.h"
#include "kmem.h"

#define KX_ALLOC_DEFAULT_TOP 100

struct kx_alloc;

/*
 * Load the tracer. A failure (no privilege, no BTF, old kernel) is not fatal:
 * the collector then reports it at every collection (kmem_collector_success
 * 0) and @err holds the message for the log. Returns 0, or -ENOMEM.
 */
struct kx_alloc_cfg {
    unsigned top;              /* 0: KX_ALLOC_DEFAULT_TOP */
    enum kmem_alloc_mode mode; /* default (0 is TRACK): set it; the exporter's is RATES */
    double window, period;     /* rates: attached @window seconds in every @period */
    unsigned objects;          /* track: live objects followed (0: the library's default) */
    bool fixture;              /* tests: no tracer; tables come from kx_alloc_collect_table() */
    const char *invalid;       /* the flags are wrong: no tracer, this is reported instead */
};

int kx_alloc_new(struct kx_alloc **out, const struct kx_alloc_cfg *cfg, char *err, size_t errlen);
void kx_alloc_free(struct kx_alloc *x);

/*
 * One collection: read the tracer, name the cgroups from @snap (a snapshot
 * with KMEM_COLLECT_CGROUPS taken through @ctx; its failure leaves ids), and
 * forget cgroups absent from two collections in a row. Fills @st.
 */
void kx_alloc_collect(struct kx_alloc *x, struct kmem_ctx *ctx, const struct kmem_snapshot *snap,
                      struct kmem_status *st);

/*
 * Tests: take @t (with names already set) as this collection's table, as
 * kx_alloc_collect() does after reading the tracer. 0 or -ENOMEM.
 */
int kx_alloc_collect_table(struct kx_alloc *x, const struct kmem_alloc_table *t);

/* Append the families of the last collection (nothing if it failed). */
void kx_alloc_render(struct kx_alloc *x, struct kmem_buf *b);

#endif
