/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * The rates mode of the allocation tracer, included at the end of
 * kmem_alloc.bpf.c (one BPF object, one skeleton): it uses that file's
 * helpers (current_memcg_id, cache_key, kmalloc_key, note_cache, count,
 * arg_ptr) and read-only settings.
 */
/*
 * The cheap mode (rates): allocations only, per (cgroup, cache), summed per
 * CPU while attached (a window of a duty cycle); no free hooks, no table of
 * live objects. Frees per (cgroup, cache) are derived by user space from the
 * owner snapshot (allocations - change of holdings).
 */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH); /* preallocated: no allocation in the hook */
    __uint(max_entries, 4096);
    __type(key, struct kmem_alloc_rkey);
    __type(value, struct kmem_alloc_rate);
} rate_counts SEC(".maps");

/* Add to (cgid, cache) in the per-CPU hash map: a slot's counts evicted from
 * the front table below, or an allocation the front table could not take. */
static __always_inline void rate_hash_add(__u64 cgid, __u64 cache, __u64 allocs, __u64 bytes)
{
    struct kmem_alloc_rkey key = {.cgid = cgid, .cache = cache};
    struct kmem_alloc_rate *v, init = {.allocs = allocs, .bytes = bytes};

    v = bpf_map_lookup_elem(&rate_counts, &key);
    if (!v && bpf_map_update_elem(&rate_counts, &key, &init, BPF_NOEXIST) == 0)
        return;
    /* Another CPU added the key meanwhile, or the table is full. */
    if (!v)
        v = bpf_map_lookup_elem(&rate_counts, &key);
    if (v) {
        /* Per CPU, and the program does not nest on one CPU: no atomics. */
        v->allocs += allocs;
        v->bytes += bytes;
    } else {
        count(KMEM_ALLOC_STATS_FULL);
    }
}

/*
 * In front of the hash map, a small direct-mapped table per CPU (an array
 * lookup, no hashing of the key by the kernel): a slot holds one (cgroup,
 * cache) pair and its counts; another pair hashing to the slot moves the
 * counts into the hash map and takes the slot. User space reads both.
 */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, KMEM_ALLOC_RATE_FRONT);
    __type(key, __u32);
    __type(value, struct kmem_alloc_rate_slot);
} rate_front SEC(".maps");

/*
 * The memory cgroup of the current context as a number standing for its
 * address (the struct mem_cgroup, whose first member is its css), 0 in
 * interrupt context; *m gets the pointer. The front table's slots compare
 * this, so that a hit does not walk on to the cgroup's id (css -> cgroup ->
 * kernfs node -> id, three dependent loads per allocation): the id is read
 * when a slot is taken. A memory cgroup freed and another made at the same
 * address within one window would share a slot: counted under the first id.
 */
static __always_inline __u64 current_memcg_key(const struct cgroup_subsys_state **m)
{
    struct task_struct *t;

    *m = NULL;
    if (in_interrupt())
        return 0;
    t = bpf_get_current_task_btf();
    if (bpf_core_field_exists(t->active_memcg) && t->active_memcg)
        *m = &t->active_memcg->css;
    else
        *m = t->cgroups->subsys[bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id)];
    return *m ? (__u64)*m - (__u64)&rate_front : 0;
}

static __always_inline __u64 memcg_id_of(const struct cgroup_subsys_state *m)
{
    return m ? m->cgroup->kn->id : KMEM_ALLOC_CG_IRQ;
}

static __always_inline void rate_add(const struct ckey *k, __u64 size, __u64 n)
{
    const struct cgroup_subsys_state *m;
    __u64 key = current_memcg_key(&m);
    __u32 i = (__u32)((((key * 0x9E3779B97F4A7C15ULL) ^ k->hash) * 0xC2B2AE3D27D4EB4FULL) >>
                      (64 - KMEM_ALLOC_RATE_FRONT_BITS));
    struct kmem_alloc_rate_slot *sl = bpf_map_lookup_elem(&rate_front, &i);

    if (!sl) {
        rate_hash_add(memcg_id_of(m), k->cache, n, size * n);
        return;
    }
    if (sl->cache == k->cache && sl->memcg == key) {
        sl->allocs += n;
        sl->bytes += size * n;
        return;
    }
    if (sl->allocs)
        rate_hash_add(sl->cgid, sl->cache, sl->allocs, sl->bytes);
    sl->cgid = memcg_id_of(m);
    sl->memcg = key;
    sl->cache = k->cache;
    sl->allocs = n;
    sl->bytes = size * n;
    note_cache(k->s);
}

SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(rate_cache_alloc, unsigned long call_site, const void *ptr_, struct kmem_cache *s,
             gfp_t gfp, int node)
{
    const void *ptr = (const void *)arg_ptr(ctx, 1);

    struct ckey k;

    if (empty || no_object(ptr) || !s)
        return 0;
    cache_key(&k, s, (gfp & gfp_account) || (s->flags & slab_account));
    rate_add(&k, s->size, 1);
    return 0;
}

SEC("tp_btf/kmalloc")
int BPF_PROG(rate_kmalloc, unsigned long call_site, const void *ptr_, size_t bytes_req,
             size_t bytes_alloc, gfp_t gfp)
{
    const void *ptr = (const void *)arg_ptr(ctx, 1);

    struct ckey k;

    if (empty || no_object(ptr))
        return 0;
    kmalloc_key(&k, bytes_alloc, gfp);
    rate_add(&k, bytes_alloc, 1);
    return 0;
}

/* The body of both prototypes of the hook: @size objects of @s were charged (@ret). */
static __always_inline int rate_memcg(struct kmem_cache *s, size_t size, bool ret)
{
    struct ckey k;

    if (empty || !ret || !s)
        return 0;
    cache_key(&k, s, true);
    rate_add(&k, s->size, size);
    return 0;
}

/*
 * Where fentry/fexit load: the memory cgroup charge of slab objects (Linux
 * 6.10+), called for charged allocations only (SLAB_ACCOUNT caches,
 * __GFP_ACCOUNT), bulk ones included, with the cache: one call for @size
 * objects, instead of two tracepoints seeing every allocation.
 */
SEC("fexit/__memcg_slab_post_alloc_hook")
int BPF_PROG(rate_memcg_alloc, struct kmem_cache *s, struct list_lru *lru, gfp_t flags, size_t size,
             void **p, bool ret)
{
    return rate_memcg(s, size, ret);
}

/* The same hook since Linux 7.0 (slab_alloc_flags before size). */
SEC("fexit/__memcg_slab_post_alloc_hook")
int BPF_PROG(rate_memcg_alloc6, struct kmem_cache *s, struct list_lru *lru, gfp_t flags,
             unsigned int slab_alloc_flags, size_t size, void **p, bool ret)
{
    return rate_memcg(s, size, ret);
}
