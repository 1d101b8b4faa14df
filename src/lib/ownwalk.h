/* SPDX-License-Identifier: MIT */
/*
 * The owner walker: fills a struct kmem_owners (owners.h) from the live
 * kernel with a BPF program run on demand (src/bpf/kmem_owners.bpf.c), which
 * reads the owner the kernel records for every charged slab object. Nothing
 * is attached: between walks it costs nothing, and a walk costs CPU in the
 * calling thread only (o->cpu_seconds).
 *
 * Needs root (CAP_BPF, CAP_PERFMON), a kernel with BTF and struct slab
 * (5.17+; checked on 6.1, 6.12, 7.3), and the page array's address:
 * vmemmap_base where kallsyms lists data symbols (CONFIG_KALLSYMS_ALL), else
 * found by pairing struct page pointers of pages this process faults in
 * (tracepoint mm_page_alloc) with their frame numbers (/proc/self/pagemap).
 */
#ifndef KMEM_OWNWALK_H
#define KMEM_OWNWALK_H

#include <stddef.h>
#include <stdint.h>

#include "owners.h"

struct kmem_ownwalk;

/*
 * Load the walker and find the page array. 0, or -errno with a plain
 * sentence in @err saying why the walk cannot run here.
 */
int kmem_ownwalk_open(struct kmem_ownwalk **out, char *err, size_t errlen);
/*
 * One walk over every page frame: adds a row per (cgroup id, cache) with the
 * charged objects and per cache the uncharged ones (cgroup id 0); sets
 * o->taken, cpu_seconds, pages, slabs. Does not call kmem_owners_finish().
 * 0 or -errno with @err.
 */
int kmem_ownwalk_run(struct kmem_ownwalk *w, struct kmem_owners *o, char *err, size_t errlen);
void kmem_ownwalk_close(struct kmem_ownwalk *w);

/* How the page array was found ("kallsyms", "pairing"), for --debug lines. */
const char *kmem_ownwalk_method(const struct kmem_ownwalk *w);

/* What the last walk saw besides the rows (for checks and --debug lines). */
struct kmem_ownwalk_stats {
    uint64_t vmemmap, end_pfn;
    uint64_t vec_slabs;   /* slabs with an owner vector */
    uint64_t inobj_slabs; /* ... of which the vector lives inside the objects (7.x) */
    uint64_t objects;     /* objects of every slab (allocated or free) */
    uint64_t read_errors; /* holes in the page array, unreadable vectors */
    uint64_t bad_objcg;   /* vector entries that are no kernel pointer (layout or race) */
    uint64_t map_full;    /* objects not counted: a BPF map was full */
    unsigned layout;      /* KMEM_OWNERS_* bits of src/bpf/kmem_owners.h */
    unsigned page_size;   /* sizeof(struct page) */
    int maps_prealloc;    /* 1: the hash maps are preallocated (kernels before 6.1) */
};
void kmem_ownwalk_stats(const struct kmem_ownwalk *w, struct kmem_ownwalk_stats *st);

/*
 * The end of the page frames (max over zones of start_pfn + spanned) from
 * the text of /proc/zoneinfo. 0, or -EINVAL (no zone with both lines).
 */
int kmem_ownwalk_zoneinfo_end(const char *text, size_t len, uint64_t *end_pfn);

#endif
