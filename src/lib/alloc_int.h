/* SPDX-License-Identifier: MIT */
/*
 * Inside the allocation tracer's loader (alloc.c: names and tables, no BPF;
 * allocbpf.c: kernel checks, loading, attaching; allocread.c: reading the
 * maps; allocrates.c: the cheap mode's windows for the owner snapshot).
 * Not part of libkmem's interface.
 */
#ifndef KMEM_ALLOC_INT_H
#define KMEM_ALLOC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "alloc.h"
#include "hindex.h"

/* A cache key and its name (interned: tables point to it). */
struct cache_name {
    uint64_t key;
    uint32_t size;
    uint32_t flags; /* KMEM_ALLOC_CACHE_* (src/bpf/kmem_alloc.h) */
    const char *name;
};

/* A memory cgroup id and its identity (strings owned here). */
struct cg_name {
    uint64_t id;
    char *path, *pod, *ns, *ctr;
    bool present; /* found in the last snapshot resolved */
};

struct kmem_alloc_bpf;

struct kmem_alloc {
    struct kmem_alloc_bpf *skel;
    enum kmem_alloc_mode mode;
    bool tracking;
    bool extras;      /* bulk and kfree_rcu() paths followed (fentry/fexit) */
    bool memcg_hook;  /* rates: fexit __memcg_slab_post_alloc_hook, charged allocations only */
    bool attached;    /* rates: inside a window */
    bool kfree_named; /* bpf_get_kmem_cache() names the cache of kfree() */
    /* The BPF arrays, mmap()ed: (cgroup, cache) slots and live-object buckets. */
    struct kmem_alloc_slot *slots;
    size_t n_slots, slots_len;
    struct kmem_alloc_bucket *buckets;
    size_t n_buckets, buckets_len;
    struct timespec start;      /* CLOCK_MONOTONIC: attached (tracker), window start (rates) */
    struct timespec real_start; /* CLOCK_REALTIME of the same moment */
    uint64_t resets;            /* live-object table resets (kmem_alloc_reset_live) */
    char err[512];
    char fentry_err[512]; /* why the programs with fentry/fexit did not load ("" if they did) */
    struct cache_name *caches; /* sorted by key */
    size_t n_caches, cap_caches;
    char **names; /* every cache name once, in the order met */
    size_t n_names, cap_names;
    struct kmem_hindex name_ix; /* names by hash (hindex.h) */
    struct cg_name *cgs;        /* sorted by id */
    size_t n_cgs, cap_cgs;
    char **old; /* replaced strings: tables may still point to them */
    size_t n_old, cap_old;
    int ncpus;
};

/*
 * The one binary search of the loader: the first index of sorted @base (@n
 * elements of @size bytes) whose element is not below @key (@cmp(key, elem)
 * < 0 / 0 / > 0); *@found when it is equal.
 */
size_t kmem_alloc_lower_bound(const void *base, size_t n, size_t size, const void *key,
                              int (*cmp)(const void *key, const void *elem), bool *found);

size_t kmem_alloc_cache_find(const struct kmem_alloc *a, uint64_t key, bool *found);
struct cache_name *kmem_alloc_cache_insert(struct kmem_alloc *a, uint64_t key, const char *name);

/* A new zeroed entry at the end of @t. 0 or -ENOMEM. */
int kmem_alloc_table_push(struct kmem_alloc_table *t, struct kmem_alloc_entry **e);
/* Sort @t by kmem_alloc_entry_cmp() and fold entries of one (cgroup, cache name). */
int kmem_alloc_merge_same_name(struct kmem_alloc_table *t);

/* Free the names and strings of @a (not the BPF objects). */
void kmem_alloc_free_names(struct kmem_alloc *a);

#endif
