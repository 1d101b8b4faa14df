/* SPDX-License-Identifier: MIT */
/* kmemtop renderers: each renders a snapshot; none opens a kernel file. */
#ifndef KMEMTOP_VIEWS_H
#define KMEMTOP_VIEWS_H

#include <stdio.h>

#include "kmem.h"
#include "out.h"

/* ---- slab view (slabview.c) ---- */
/* Sort keys: procps letters a b c l v n o p s u, plus 'g' (growth). */
char kt_slab_sort_key(int c); /* normalised key, or 0 if not a sort key */
/* Fill @idx (snapshot order) sorted by @key; stable (ties keep file order). */
void kt_slab_sort(const struct kmem_slabinfo *si, char key, size_t *idx);
/* The CHANGE column: none (procps's -o bytes), or since the previous refresh. */
enum kt_change_col {
    KT_CHANGE_NONE,
    KT_CHANGE_FIRST /* no previous refresh yet */,
    KT_CHANGE_SHOW
};
/* procps-ng 4.0.2 slabtop summary + heading + rows, with the CHANGE column if asked. */
void kt_slab_render(struct kt_sink *s, const struct kmem_slabinfo *si, const size_t *idx,
                    enum kt_change_col change);

/* ---- cgroup view (cgview.c) ---- */
enum kt_cg_sort { KT_CG_SORT_KERNEL, KT_CG_SORT_CHANGE, KT_CG_SORT_NAME };
void kt_cgroup_render(struct kt_sink *s, const struct kmem_snapshot *snap, enum kt_cg_sort sort);

/* ---- node view (nodeview.c) ---- */
void kt_node_render(struct kt_sink *s, const struct kmem_snapshot *snap);

/* ---- whole-snapshot outputs ---- */
int kt_report(FILE *f, const struct kmem_snapshot *snap); /* report.c */
int kt_json(FILE *f, const struct kmem_snapshot *snap);   /* json.c */
void kt_json_string(FILE *f, const char *s);              /* json.c: one escaped string */

#endif
