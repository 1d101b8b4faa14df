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
