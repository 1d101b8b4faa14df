/* SPDX-License-Identifier: MIT */
/* kmemtop renderers: each renders a snapshot; none opens a kernel file. */
#ifndef KMEMTOP_VIEWS_H
#define KMEMTOP_VIEWS_H

#include <stdio.h>

#include "common.h"
#include "history.h"
#include "kmem.h"
#include "out.h"
#include "table.h"

/* What a kmemtop screen shows beyond the one-shot (-o) output. */
struct kt_screen {
    const struct kt_history *hist; /* GROWTH and PER MIN columns; NULL: none */
    bool have_prev;                /* CHANGE has a previous timed refresh */
    const char *filter;            /* case-insensitive part of a name; NULL or "": all */
    struct kt_scroll *scroll;      /* NULL: from the top */
};

/* ---- slab view (slabview.c) ---- */
/*
 * Sort keys: procps letters a b c l v n o p s u, plus g (change since the
 * last refresh); on the kmemtop screen also G (growth since the baseline)
 * and r (rate per minute). kt_slab_sort_key() takes the -s letters.
 */
char kt_slab_sort_key(int c); /* normalised key, or 0 if not a sort key */
/* A word for a sort key ("objects", "size", ...). */
const char *kt_slab_sort_name(char key);
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
/*
 * The kmemtop slab screen: procps's summary, then the columns that fit the
 * width (CHANGE, GROWTH, PER MIN, SHARE beside procps's), full cache names,
 * a scrolled window of the caches that match the filter, sorted by @key.
 */
void kt_slab_screen(struct kt_sink *s, const struct kmem_snapshot *snap, char key,
                    const struct kt_screen *sc);

/* ---- cgroup view (cgview.c) ---- */
enum kt_cg_sort {
    KT_CG_SORT_KERNEL,
    KT_CG_SORT_CHANGE,
    KT_CG_SORT_NAME,
    KT_CG_SORT_GROWTH, /* since the baseline (screen only) */
    KT_CG_SORT_RATE,   /* per minute (screen only) */
};
/* The key of a cgroup sort (k g n G r) and back. */
char kt_cg_sort_char(enum kt_cg_sort sort);
bool kt_cg_sort_from_char(int c, enum kt_cg_sort *out);
const char *kt_cg_sort_name(enum kt_cg_sort sort);

/* The cgroup table once (kmemtop --cgroups -o): flat, every cgroup. */
void kt_cgroup_render(struct kt_sink *s, const struct kmem_snapshot *snap, enum kt_cg_sort sort);

/* The state of the cgroup screen that outlives a draw (kept by the TUI). */
struct kt_cg_state {
    bool flat;        /* a flat list instead of the tree */
    char *sel;        /* path of the selected cgroup (owned), or NULL */
    char **collapsed; /* paths of collapsed tree nodes (owned) */
    size_t ncollapsed;
};
void kt_cgroup_screen(struct kt_sink *s, const struct kmem_snapshot *snap, enum kt_cg_sort sort,
                      const struct kt_screen *sc, struct kt_cg_state *st);
/* Collapse (1), expand (0) or toggle (-1) the selected node. 0 or -ENOMEM. */
int kt_cg_collapse(struct kt_cg_state *st, int how);
void kt_cg_state_free(struct kt_cg_state *st);

/* ---- node view (nodeview.c) ---- */
void kt_node_render(struct kt_sink *s, const struct kmem_snapshot *snap);

/* ---- whole-snapshot outputs ---- */
/* --report; @meta (may be NULL) is the capture's metadata when reading one. */
int kt_report(FILE *f, const struct kmem_snapshot *snap,
              const struct kmem_capture_meta *meta);    /* report.c */
int kt_json(FILE *f, const struct kmem_snapshot *snap); /* json.c */
void kt_json_string(FILE *f, const char *s);            /* json.c: one escaped string */

#endif
