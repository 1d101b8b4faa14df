/* SPDX-License-Identifier: MIT */
/* kmemtop's front end of the allocation tracer (allocview.c). */
#ifndef KMEMTOP_ALLOCVIEW_H
#define KMEMTOP_ALLOCVIEW_H

#include "alloc.h"
#include "kmemtop.h"

/*
 * The table of a trace: a summary, then one row per (cgroup, cache), sorted by
 * @sort: 'n' net growth since the start, 'c' change since @prev, 'r' allocation
 * rate since @prev. @interactive: the screen's columns (rates, change).
 * @live: objects still tracked, when counted (NULL: not shown).
 */
void kt_alloc_render(struct kt_sink *s, const struct kmem_alloc_table *t,
                     const struct kmem_alloc_table *prev, char sort, bool interactive,
                     const uint64_t *live);

/* kmemtop --alloc SECONDS [--json]: trace, print, exit status. */
int kt_alloc_once(struct kmem_ctx *ctx, const struct kt_opts *o);

/*
 * The interactive "allocations" view. The tracer runs only while the view is
 * shown: enter starts it (a failure is kept and shown, not retried), leave
 * stops it; refresh reads it after each collection (rates need two reads).
 */
struct kt_allocview;
struct kt_allocview *kt_allocview_new(void);
void kt_allocview_enter(struct kt_allocview *v, const struct kt_opts *o);
void kt_allocview_leave(struct kt_allocview *v);
void kt_allocview_refresh(struct kt_allocview *v, struct kmem_ctx *ctx);
/* @sort: 'n' net growth since the view was entered, 'c' change since the last refresh, 'r' rate. */
void kt_allocview_draw(struct kt_allocview *v, struct kt_sink *s, char sort);
void kt_allocview_free(struct kt_allocview *v);

#endif
