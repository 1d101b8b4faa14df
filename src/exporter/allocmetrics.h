/* SPDX-License-Identifier: MIT */
/*
 * --collector.alloc (off by default): slab allocations per (memory cgroup,
 * cache) from libkmem's BPF tracer (alloc.h), loaded once at start-up and
 * read at each collection. Series: the top N (cgroup, cache) pairs by bytes
 * allocated, chosen once and kept (so every counter only grows); the rest
 * summed per cgroup under cache="other". docs/alloc.md lists the families.
 */
#ifndef KX_ALLOCMETRICS_H
#define KX_ALLOCMETRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "expo.h"
#include "kmem.h"

#define KX_ALLOC_DEFAULT_TOP 100

struct kx_alloc;

/*
 * Load the tracer. A failure (no privilege, no BTF, old kernel) is not fatal:
 * the collector then reports it at every collection (kmem_collector_success
 * 0) and @err holds the message for the log. Returns 0, or -ENOMEM.
 */
int kx_alloc_new(struct kx_alloc **out, unsigned top, bool counts_only, char *err, size_t errlen);
void kx_alloc_free(struct kx_alloc *x);

/*
 * One collection: read the tracer, name the cgroups from @snap (a snapshot
 * with KMEM_COLLECT_CGROUPS taken through @ctx; its failure leaves ids), and
 * forget cgroups absent from two collections in a row. Fills @st.
 */
void kx_alloc_collect(struct kx_alloc *x, struct kmem_ctx *ctx, const struct kmem_snapshot *snap,
                      struct kmem_status *st);

/* Append the families of the last collection (nothing if it failed). */
void kx_alloc_render(struct kx_alloc *x, struct kmem_buf *b);

#endif
