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
 * width (CHANGE, GROWTH, PER MIN, SHARE, UNUSED beside procps's; then the
 * sysfs attributes RECL, ACCT, ALIASES, ORDER, with their legend), full
 * cache names, a scrolled window of the caches that match the filter,
 * sorted by @key.
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
    bool sel_folded; /* out: the selected row is a folded parent (tree) */
    char *drill;     /* path of the cgroup whose caches are shown (Enter), or NULL (owned) */
};
void kt_cgroup_screen(struct kt_sink *s, const struct kmem_snapshot *snap, enum kt_cg_sort sort,
                      const struct kt_screen *sc, struct kt_cg_state *st);
/* Collapse (1), expand (0) or toggle (-1) the selected node. 0 or -ENOMEM. */
int kt_cg_collapse(struct kt_cg_state *st, int how);
void kt_cg_state_free(struct kt_cg_state *st);

/* ---- slab memory per cgroup and cache: the owner snapshot (ownview.c) ---- */
/* The rows of one cgroup id (rows[first, first + n) of snap->owners.o). */
struct kt_owner_group {
    const char *path;             /* the rows' cgroup name; NULL: not charged (id 0) */
    uint64_t id;                  /* cgroup id; 0: not charged */
    const struct kmem_cgroup *cg; /* in snap->cgroups (by path), or NULL */
    size_t first, n;
    uint64_t bytes, objects;
};
/* The groups, biggest first, not charged last (malloc'd into *out). 0 or -ENOMEM. */
int kt_owner_groups(const struct kmem_snapshot *snap, struct kt_owner_group **out, size_t *n);
/* NAMESPACE/POD/CONTAINER, else the cgroup's path, "(not charged)"; printable. */
const char *kt_owner_group_name(char *buf, size_t len, const struct kt_owner_group *g,
                                enum kt_esc how);
/* Why the owner snapshot is not there (one line: the walker's or the reader's message), or NULL. */
const char *kt_owner_why(const struct kmem_snapshot *snap);
/* kmemtop --cgroups --by-cache -o: every (cgroup, cache) row, exact bytes. */
void kt_owner_render(struct kt_sink *s, const struct kmem_snapshot *snap);
/* The cgroup view's drilldown: the caches of the cgroup at @path. */
void kt_owner_screen(struct kt_sink *s, const struct kmem_snapshot *snap, const char *path,
                     struct kt_scroll *scroll);
/* --report: the @top largest (pod or cgroup, cache) pairs in plain words. */
void kt_owner_report(FILE *f, const struct kmem_snapshot *snap, unsigned top);
/* --json: the "owners" member. */
struct kmem_jw;
void kt_json_owners(struct kmem_jw *w, const struct kmem_snapshot *snap);

/* ---- node view (nodeview.c) ---- */
void kt_node_render(struct kt_sink *s, const struct kmem_snapshot *snap);

/* ---- whole-snapshot outputs ---- */
/* --report; @meta (may be NULL) is the capture's metadata when reading one. */
int kt_report(FILE *f, const struct kmem_snapshot *snap,
              const struct kmem_capture_meta *meta); /* report.c */
/* What --json says about how its snapshot was taken. */
struct kt_json_info {
    /* The capture read with --root, or the one being written; NULL: none. */
    const struct kmem_capture_meta *capture;
    long interval; /* -d: seconds between the two samples; 0: one sample */
};
/* --json (json.c); @info may be NULL. */
int kt_json(FILE *f, const struct kmem_snapshot *snap, const struct kt_json_info *info);
void kt_json_string(FILE *f, const char *s); /* json.c: one escaped string */

#endif
