/* SPDX-License-Identifier: MIT */
/*
 * Growth that holds still: the library keeps only the current and the
 * previous snapshot, so the front end keeps what a leak hunt needs beyond
 * them — a baseline (the values when kmemtop started, or when the user
 * reset it) and a few timed samples over the last minute for a rate —
 * copied out of the snapshots, keyed by cache (name, dup) and cgroup path.
 */
#ifndef KMEMTOP_HISTORY_H
#define KMEMTOP_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "kmem.h"

/* Growth of one entry of the current snapshot. */
struct kt_grow {
    bool has_base;  /* the entry existed at the baseline */
    bool has_rate;  /* a sample at least a quarter of the window old exists */
    int64_t base;   /* bytes now - bytes at the baseline */
    double per_min; /* bytes per minute over the rate window */
};

/* Values of one part (slab caches or cgroups) at one time, sorted by key. */
struct kt_tally {
    struct timespec when;
    size_t n;
    struct kt_tval *v;
    char *names; /* the keys' storage */
};

/* Samples kept for the rate: enough for a window, whatever the refresh delay. */
#define KT_HIST_SAMPLES 16

enum { KT_HIST_SLAB, KT_HIST_CG, KT_HIST_PARTS };

struct kt_history {
    double window; /* seconds the rate looks back (60) */
    bool have_base[KT_HIST_PARTS];
    time_t base_wall[KT_HIST_PARTS]; /* when each baseline was taken (wall clock) */
    struct kt_tally base[KT_HIST_PARTS];
    struct kt_tally ring[KT_HIST_PARTS][KT_HIST_SAMPLES];
    int nring[KT_HIST_PARTS]; /* samples in ring, oldest first */
    /* Growth of each entry of the current snapshot, in snapshot order. */
    struct kt_grow *slab, *cg;
    size_t slab_cap, cg_cap;
};

void kt_hist_init(struct kt_history *h, double window_seconds);
void kt_hist_free(struct kt_history *h);

/*
 * Record @snap (a timed refresh: never call it for a redraw): the first
 * snapshot of a part becomes its baseline; then fill h->slab / h->cg for
 * @snap's entries. 0 or -ENOMEM (the growth is then unknown, not wrong).
 */
int kt_hist_record(struct kt_history *h, const struct kmem_snapshot *snap);

/* Make @snap the baseline of every part (key 'b'); growth restarts at 0. */
int kt_hist_reset_base(struct kt_history *h, const struct kmem_snapshot *snap);
/* Recompute GROWTH of @snap against the baseline; the rate window is left alone (replay). */
int kt_hist_regrow(struct kt_history *h, const struct kmem_snapshot *snap);

#endif
