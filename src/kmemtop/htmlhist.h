/* SPDX-License-Identifier: MIT */
/*
 * The growth part of kmemtop --html (from a recording): the node's kinds,
 * every slab cache and every cgroup over a series of samples, and its
 * rendering as inline SVG (stacked kinds over time, OOM kills on the time
 * axis) and tables (the top growing caches and cgroups).
 */
#ifndef KMEMTOP_HTMLHIST_H
#define KMEMTOP_HTMLHIST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hindex.h"
#include "kmem.h"

/* One cache ("cache:NAME", "cache:NAME#DUP") or cgroup ("cg:PATH") over the samples. */
struct kt_hs_item {
    char *key;   /* owned */
    char *name;  /* printable, owned */
    bool cgroup; /* else a slab cache */
    uint64_t *v; /* bytes at each sample (0 where absent); kt_hseries.cap entries */
};

/* A verdict of the recorder over a window (kmem_recording_verdicts), as the page shows it. */
struct kt_hverdict {
    char verdict[32]; /* kmem_verdict_name: "leak_suspect", "reclaimable_warming", ... */
    char subject[16]; /* "node", "cache", "cgroup", "dying" */
    char name[512];
    double first, last; /* bytes at the window's first and last point */
    int64_t growth;
    double rate_per_hour;
    double hours_to_limit; /* -1: unknown */
    uint64_t limit;
    bool stabilised;
};

/* An OOM kill the recorder saw: when, where, what the cgroup held. */
struct kt_hoom {
    uint64_t t_ns;
    char cgroup[4096];
    char pod[768]; /* "namespace/pod/container" or "" */
    uint64_t kills, usage, limit, kernel;
    uint32_t comp_present; /* its kernel parts then (1 << enum kmem_cg_kind) */
    uint64_t comp[KMEM_CG_KIND_COUNT];
};

struct kt_hseries {
    size_t n, cap;  /* samples */
    uint64_t *t_ns; /* CLOCK_REALTIME of each sample */
    bool *oom;      /* taken because a cgroup's OOM-kill count rose */
    bool *node_ok;  /* the node part was read */
    uint64_t *kind; /* n x KMEM_NODE_KIND_COUNT bytes */
    uint64_t *memtotal;
    size_t nitems, icap;
    struct kt_hs_item *items;
    struct kmem_hindex ix; /* items by key */
    /* The recorder's verdicts over [vfrom_ns, vto_ns], and the OOM kills in it. */
    bool verdicts_known;
    uint64_t vfrom_ns, vto_ns;
    size_t vpoints, n_noise;
    struct kt_hverdict *verdicts; /* owned */
    size_t nverdicts;
    struct kt_hoom *ooms; /* owned */
    size_t nooms;
};

/*
 * Add a sample: the node's kinds, every cache's bytes (slab.caches[].size_bytes
 * of --json) and every cgroup's kernel bytes. 0 or -ENOMEM.
 */
int kt_hseries_add(struct kt_hseries *h, const struct kmem_snapshot *snap, uint64_t t_ns, bool oom);
void kt_hseries_free(struct kt_hseries *h);

/*
 * Up to @max items of one kind (@cgroup) with the largest growth (last -
 * first sample, ties by name) into @out; the root cgroup is left out (it
 * holds all the others). Returns how many.
 */
size_t kt_hseries_top(const struct kt_hseries *h, bool cgroup, size_t max, size_t *out);

/* The growth section: charts, OOM kills, top growers, the table of every sample. */
void kt_html_history(FILE *f, const struct kt_hseries *h, const char *source);

#endif
