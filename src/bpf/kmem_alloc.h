/* SPDX-License-Identifier: MIT */
/*
 * What the allocation tracer (kmem_alloc.bpf.c) and its loader (src/lib/alloc.c)
 * share: map keys and values. Included by BPF code (after vmlinux.h) and by
 * user space (after <linux/types.h>).
 */
#ifndef KMEM_ALLOC_ABI_H
#define KMEM_ALLOC_ABI_H

/*
 * Memory cgroup ids (kernfs node id = inode number of the cgroup directory)
 * are never 0 or ~0: those two stand for the pseudo-owners below.
 */
#define KMEM_ALLOC_CG_IRQ       0ULL    /* allocated in interrupt context: charged to no task */
#define KMEM_ALLOC_CG_UNTRACKED (~0ULL) /* frees of objects allocated before the trace */

/*
 * The cache of a key: a struct kmem_cache pointer (kernel addresses have the
 * top bit set) for kmem_cache_alloc/free, else a kmalloc size class made up
 * here, because the kmalloc tracepoint passes sizes and gfp flags, not the
 * cache: KMEM_ALLOC_KMALLOC | type << 32 | object size (0 for kmalloc-large).
 */
#define KMEM_ALLOC_KMALLOC    (1ULL << 40)
#define KMEM_ALLOC_KFREE      (1ULL << 41) /* kfree() of an object of unknown cache */
#define KMEM_ALLOC_KM_NORMAL  0ULL
#define KMEM_ALLOC_KM_CGROUP  1ULL /* kmalloc-cg-N: __GFP_ACCOUNT */
#define KMEM_ALLOC_KM_RECLAIM 2ULL /* kmalloc-rcl-N: __GFP_RECLAIMABLE */
#define KMEM_ALLOC_KM_DMA     3ULL /* dma-kmalloc-N: __GFP_DMA */
#define KMEM_ALLOC_KM_LARGE   4ULL /* above the largest kmalloc cache: whole pages */
#define KMEM_ALLOC_CACHE_NAME 32

struct kmem_alloc_key {
    __u64 cgid;
    __u64 cache;
};

/* Per (cgroup, cache). Frees are credited to the cgroup that made the allocation. */
struct kmem_alloc_val {
    __u64 allocs;
    __u64 frees;
    __u64 bytes_alloc; /* bytes_alloc of the tracepoints: the object size of the cache */
    __u64 bytes_freed;
    __u64 acc_allocs; /* allocations charged to the memory cgroup (SLAB_ACCOUNT / __GFP_ACCOUNT) */
    __u64 acc_bytes;
    __u64 nf_allocs; /* allocations not followed (live-object table full): never credited a free */
    __u64 nf_bytes;
};

/* One live object allocated since the trace started (live-object tracking). */
struct kmem_alloc_obj {
    struct kmem_alloc_key key;
    __u32 size;
    __u32 accounted;
};

/*
 * The live-object table: an array of buckets of KMEM_ALLOC_WAYS slots, the
 * bucket chosen by a hash of the address; slots are taken and given back with
 * compare-and-swap on ptr (0: free), without locks. A full bucket means the
 * object is not followed (counted). 16 ways: below ~40% load (100000 live
 * objects in the default 262144 slots), a full bucket is a 1 in 10^4 event.
 */
#define KMEM_ALLOC_WAYS 16

struct kmem_alloc_bucket {
    __u64 ptr[KMEM_ALLOC_WAYS];
    struct kmem_alloc_obj own[KMEM_ALLOC_WAYS];
};

/* A named cache, filled in when first seen (the loader cannot read kernel memory). */
struct kmem_alloc_cache {
    char name[KMEM_ALLOC_CACHE_NAME];
    __u32 size;      /* s->size: object size with metadata, as /proc/slabinfo objsize */
    __u32 accounted; /* SLAB_ACCOUNT */
};

/* Global counters (a per-CPU array indexed by these). */
enum kmem_alloc_counter {
    KMEM_ALLOC_STATS_FULL,  /* events dropped: the (cgroup, cache) table was full */
    KMEM_ALLOC_REUSED,      /* allocation at an address still tracked: free not traced */
    KMEM_ALLOC_NOT_TRACKED, /* allocations not followed: the live-object table was full */
    KMEM_ALLOC_COUNTER_COUNT
};

#endif
