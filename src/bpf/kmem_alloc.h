/* SPDX-License-Identifier: MIT */
/*
 * What the allocation tracer (kmem_alloc.bpf.c) and its loader (src/lib/alloc.c)
 * share: the layout of its maps. Included by BPF code (after vmlinux.h) and by
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
 * Bit 0 (KMEM_ALLOC_ACCT; caches are aligned, sizes multiples of 8) says the
 * allocations were charged to the memory cgroup: one cache may have two keys.
 */
#define KMEM_ALLOC_KMALLOC    (1ULL << 40)
#define KMEM_ALLOC_KFREE      (1ULL << 41) /* kfree() of an object of unknown cache */
#define KMEM_ALLOC_ACCT       1ULL         /* SLAB_ACCOUNT / __GFP_ACCOUNT */
#define KMEM_ALLOC_KM_NORMAL  0ULL
#define KMEM_ALLOC_KM_CGROUP  1ULL /* kmalloc-cg-N: __GFP_ACCOUNT */
#define KMEM_ALLOC_KM_RECLAIM 2ULL /* kmalloc-rcl-N: __GFP_RECLAIMABLE */
#define KMEM_ALLOC_KM_DMA     3ULL /* dma-kmalloc-N: __GFP_DMA */
#define KMEM_ALLOC_KM_LARGE   4ULL /* above the largest kmalloc cache: whole pages */
#define KMEM_ALLOC_CACHE_NAME 32

/*
 * The (cgroup, cache) table: a shared array of 2^stats_bits slots, open
 * addressing (linear probing from a hash of the key), filled without locks:
 * a slot is claimed by compare-and-swap of its cache word from EMPTY (or DEAD)
 * to BUSY, then given its cgroup and published with its key. Two CPUs adding
 * one key at once may make two slots of it: readers add up slots of one key.
 * User space reads it through mmap() and retires the slots of removed cgroups
 * by setting DEAD (they can be claimed again).
 */
#define KMEM_ALLOC_SLOT_EMPTY 0ULL
#define KMEM_ALLOC_SLOT_BUSY  1ULL
#define KMEM_ALLOC_SLOT_DEAD  2ULL
#define KMEM_ALLOC_PROBES     32 /* slots looked at before "table full" */

/*
 * One cache line. Byte counts are kept only for kmalloc-large, whose objects
 * vary in size; every other key has one object size (the cache's, or the
 * kmalloc size class): bytes = objects x size, computed by the reader.
 */
struct kmem_alloc_slot {
    __u64 cache; /* a cache key (| KMEM_ALLOC_ACCT), or KMEM_ALLOC_SLOT_* */
    __u64 cgid;
    __u64 allocs;
    __u64 frees;     /* credited to the cgroup that made the allocation (tracking) */
    __u64 nf_allocs; /* allocations not followed (live-object table full): never credited a free */
    __u64 bytes_alloc; /* kmalloc-large only */
    __u64 bytes_freed; /* kmalloc-large only */
    __u64 nf_bytes;    /* kmalloc-large only */
};

/*
 * One live object allocated since the trace started (live-object tracking):
 * its free is credited to stats slot @slot, if that slot still belongs to the
 * cgroup of @cgid (its low 32 bits: user space may have retired the slot).
 */
struct kmem_alloc_obj {
    __u64 ptr; /* 0: free way; else the address, + log2 of the size for kmalloc-large */
    __u32 slot;
    __u32 cgid;
};

/*
 * The live-object table: an array of buckets of KMEM_ALLOC_WAYS objects, one
 * cache line each. An object may be in either of two buckets (two hashes of
 * its address; it goes to the emptier one): looking for an address reads two
 * lines at once. A way is taken and given back by compare-and-swap of its
 * address word, without locks. Both buckets full means the object is not
 * followed (counted): with two choices that stays rare up to high loads.
 */
#define KMEM_ALLOC_WAYS 4

struct kmem_alloc_bucket {
    struct kmem_alloc_obj obj[KMEM_ALLOC_WAYS];
};

/* A named cache, filled in when first seen (the loader cannot read kernel memory). */
struct kmem_alloc_cache {
    char name[KMEM_ALLOC_CACHE_NAME];
    __u32 size;      /* s->size: object size with metadata, as /proc/slabinfo objsize */
    __u16 accounted; /* SLAB_ACCOUNT */
    __u16 flags;     /* KMEM_ALLOC_CACHE_* */
};

/* The cache has slab sheaves (Linux 6.18+): its kfree_rcu() frees reach no
 * tracepoint (they go from an RCU sheaf back to the slab in bulk). */
#define KMEM_ALLOC_CACHE_SHEAVES 1

/*
 * kfree_rcu() (fentry kvfree_call_rcu, tracking only): the object is dead for
 * its owner from then on, and its free is credited at once; its way keeps
 * the object with this slot number (no slot has it), so that the real free
 * later (kfree(), a bulk free) is not counted a second time, and an
 * allocation at its address (the free unseen: slab sheaves) credits nothing.
 */
#define KMEM_ALLOC_SLOT_RCU 0xffffffffU

/*
 * The cheap mode (rates): allocation counts only, per (cgroup, cache key),
 * in a per-CPU hash map, while attached (a window of a duty cycle). No frees,
 * no live objects. Read and cleared by user space at the end of a window.
 */
struct kmem_alloc_rkey {
    __u64 cgid;
    __u64 cache; /* as kmem_alloc_slot.cache */
};

struct kmem_alloc_rate {
    __u64 allocs;
    __u64 bytes;
};

/* The per-CPU direct-mapped table in front of the hash map (rate_front). */
#define KMEM_ALLOC_RATE_FRONT_BITS 8
#define KMEM_ALLOC_RATE_FRONT      (1U << KMEM_ALLOC_RATE_FRONT_BITS)

struct kmem_alloc_rate_slot {
    __u64 cgid;
    __u64 cache; /* 0: empty */
    __u64 allocs;
    __u64 bytes;
    __u64 memcg; /* the BPF side's key of the memory cgroup (see rate_add); not read */
};

/* Global counters (a per-CPU array indexed by these). */
enum kmem_alloc_counter {
    KMEM_ALLOC_STATS_FULL,  /* events dropped: the (cgroup, cache) table was full */
    KMEM_ALLOC_REUSED,      /* allocation at an address still tracked: free not traced */
    KMEM_ALLOC_NOT_TRACKED, /* allocations not followed: the live-object table was full */
    KMEM_ALLOC_COUNTER_COUNT
};

#endif
