/* SPDX-License-Identifier: MIT */
/*
 * What the owner walker (kmem_owners.bpf.c) and its loader (src/lib/ownwalk.c)
 * share: the layout of its maps and of its global variables. Included by BPF
 * code (after vmlinux.h) and by user space (after <linux/types.h>).
 */
#ifndef KMEM_OWNERS_ABI_H
#define KMEM_OWNERS_ABI_H

/* Struct pages read by one bpf_probe_read_kernel() (64 x 64 bytes = 4 KiB). */
#define KMEM_OWNERS_BLOCK      64
#define KMEM_OWNERS_PAGE_MAX   128 /* bytes of a struct page the buffer allows */
#define KMEM_OWNERS_VEC_BYTES  512 /* bytes of an obj_cgroup vector read at once */
#define KMEM_OWNERS_CACHE_NAME 64

/* What a run does (the global `mode`). */
#define KMEM_OWNERS_MODE_SETUP 0 /* find vmemmap_base and max_pfn by name; read layouts */
#define KMEM_OWNERS_MODE_WALK  1 /* walk pfns [start_pfn, start_pfn + nr_pfns) */

/* Layouts seen by the setup run (the global `layout`). */
#define KMEM_OWNERS_SLAB_PGTY      1  /* slab head: page_type top byte == PGTY_slab (6.12+) */
#define KMEM_OWNERS_SLAB_PGFLAG    2  /* slab head: PG_slab in page->flags (before 6.10) */
#define KMEM_OWNERS_VEC_OBJEXTS    4  /* slab->obj_exts (6.10+) */
#define KMEM_OWNERS_VEC_MEMCGDATA  8  /* slab->memcg_data, MEMCG_DATA_OBJCGS (5.17-6.9) */
#define KMEM_OWNERS_VEC_INOBJ      16 /* slab->obj_exts_in_object (7.x: vector inside objects) */
#define KMEM_OWNERS_VEC_NEEDSOBJCG 32 /* slab->obj_exts_needs_objcg (7.x) */
#define KMEM_OWNERS_VEC_UNION      64 /* struct slabobj_ext is a union: objcg, then codetag */

/* (memory cgroup kernfs id, struct kmem_cache *) -> charged objects. */
struct kmem_owners_key {
    __u64 cgroup_id;
    __u64 cache;
};

struct kmem_owners_val {
    __u64 gen; /* the walk that wrote it (older values are stale) */
    __u64 objects;
};

/* struct kmem_cache * -> what the walk saw of the cache. */
struct kmem_owners_cache {
    __u64 gen;
    __u64 slabs;
    __u64 inuse;   /* sum of slab->inuse (cpu slabs count as full, see ownwalk.c) */
    __u64 charged; /* objects with an owner */
    __u32 size;    /* kmem_cache->size (slabinfo objsize) */
    __u32 pad;
    char name[KMEM_OWNERS_CACHE_NAME];
};

/* struct obj_cgroup * -> kernfs id of its memory cgroup, valid for one walk. */
struct kmem_owners_objcg {
    __u64 gen;
    __u64 id;
};

#endif
