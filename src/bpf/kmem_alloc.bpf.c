// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/*
 * Who allocates: slab allocations and frees per (memory cgroup, cache), from
 * the kernel's BTF tracepoints kmem_cache_alloc, kmem_cache_free, kmalloc and
 * kfree (the Linux 6.1+ prototypes; the loader checks them in the running
 * kernel's BTF before loading this).
 *
 * An allocation is credited to the memory cgroup the kernel would charge:
 * current->active_memcg when set, else the task's cgroup in the memory
 * hierarchy (v1 or v2). Allocations in interrupt context are charged to no
 * task; they get their own pseudo-cgroup. With live-object tracking, each
 * object allocated since the start is remembered (address -> key) in an LRU
 * hash, so that its free is credited to the cgroup that allocated it,
 * whichever task frees it (RCU callbacks, kworkers).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "kmem_alloc.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set by the loader before loading, from the running kernel's BTF. */
const volatile bool track = true;              /* live-object tracking */
const volatile __u64 gfp_account = 1 << 22;    /* __GFP_ACCOUNT */
const volatile __u64 gfp_reclaimable = 1 << 4; /* __GFP_RECLAIMABLE */
const volatile __u64 gfp_dma = 1 << 0;         /* __GFP_DMA */
const volatile __u64 slab_account = 1 << 13;   /* SLAB_ACCOUNT */
const volatile __u32 kmalloc_max = 8192;       /* largest kmalloc cache object: 2 pages */

/* Sizes are set by the loader (bpf_map__set_max_entries). */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, struct kmem_alloc_key);
    __type(value, struct kmem_alloc_val);
} stats SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 262144);
    __type(key, __u64);
    __type(value, struct kmem_alloc_obj);
} objs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u64);
    __type(value, struct kmem_alloc_cache);
} caches SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, KMEM_ALLOC_COUNTER_COUNT);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

/*
 * Interrupt context. The preempt count (what in_task() reads) is a per-CPU
 * variable that BPF can only reach through kallsyms, which lacks per-CPU
 * symbols without CONFIG_KALLSYMS_ALL; so the depth of softirq and hardirq
 * handlers on each CPU is kept here from their tracepoints instead.
 */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __s64);
} irq_depth SEC(".maps");

static __always_inline void irq_enter(void)
{
    __u32 k = 0;
    __s64 *v = bpf_map_lookup_elem(&irq_depth, &k);

    if (v)
        __sync_fetch_and_add(v, 1);
}

static __always_inline void irq_exit(void)
{
    __u32 k = 0;
    __s64 *v = bpf_map_lookup_elem(&irq_depth, &k);

    if (v && *v > 0)
        __sync_fetch_and_add(v, -1);
}

static __always_inline bool in_interrupt(void)
{
    __u32 k = 0;
    __s64 *v = bpf_map_lookup_elem(&irq_depth, &k);

    return v && *v > 0;
}

/* Exits first: the skeleton attaches in this order, and an exit missed after
 * its entry was seen would leave the CPU "in interrupt" for good. */
SEC("tp_btf/softirq_exit")
int BPF_PROG(softirq_exit)
{
    irq_exit();
    return 0;
}

SEC("tp_btf/irq_handler_exit")
int BPF_PROG(irq_handler_exit)
{
    irq_exit();
    return 0;
}

SEC("tp_btf/softirq_entry")
int BPF_PROG(softirq_entry)
{
    irq_enter();
    return 0;
}

SEC("tp_btf/irq_handler_entry")
int BPF_PROG(irq_handler_entry)
{
    irq_enter();
    return 0;
}

static __always_inline void count(enum kmem_alloc_counter c)
{
    __u32 k = c;
    __u64 *v = bpf_map_lookup_elem(&counters, &k);

    if (v)
        *v += 1;
}

/* The memory cgroup an allocation by the current context is charged to. */
static __always_inline __u64 current_memcg_id(void)
{
    struct task_struct *t;
    struct mem_cgroup *m;

    if (in_interrupt())
        return KMEM_ALLOC_CG_IRQ;
    t = bpf_get_current_task_btf();
    if (bpf_core_field_exists(t->active_memcg)) {
        m = t->active_memcg;
        if (m)
            return m->css.cgroup->kn->id;
    }
    return t->cgroups->subsys[bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id)]
        ->cgroup->kn->id;
}

/* Remember a named cache's name and size the first time it is seen. */
static __always_inline void note_cache(const struct kmem_cache *s)
{
    __u64 k = (__u64)s;
    struct kmem_alloc_cache c = {};

    if (!s || bpf_map_lookup_elem(&caches, &k))
        return;
    bpf_probe_read_kernel_str(c.name, sizeof(c.name), BPF_CORE_READ(s, name));
    c.size = BPF_CORE_READ(s, size);
    c.accounted = (BPF_CORE_READ(s, flags) & slab_account) != 0;
    bpf_map_update_elem(&caches, &k, &c, BPF_NOEXIST);
}

static __always_inline struct kmem_alloc_val *stats_of(const struct kmem_alloc_key *k,
                                                       const struct kmem_cache *s)
{
    struct kmem_alloc_val zero = {};
    struct kmem_alloc_val *v = bpf_map_lookup_elem(&stats, k);

    if (v)
        return v;
    note_cache(s);
    bpf_map_update_elem(&stats, k, &zero, BPF_NOEXIST); /* EEXIST: another CPU won */
    v = bpf_map_lookup_elem(&stats, k);
    if (!v)
        count(KMEM_ALLOC_STATS_FULL);
    return v;
}

static __always_inline void credit_free(const struct kmem_alloc_obj *o)
{
    struct kmem_alloc_val *v = bpf_map_lookup_elem(&stats, &o->key);

    if (!v)
        return;
    __sync_fetch_and_add(&v->frees, 1);
    __sync_fetch_and_add(&v->bytes_freed, o->size);
}

static __always_inline void on_alloc(const void *ptr, __u64 cache, const struct kmem_cache *s,
                                     __u32 size, bool accounted)
{
    struct kmem_alloc_key k = {.cgid = current_memcg_id(), .cache = cache};
    struct kmem_alloc_val *v = stats_of(&k, s);
    struct kmem_alloc_obj o, *old;
    __u64 p = (__u64)ptr;

    if (!v)
        return;
    count(KMEM_ALLOC_EVENTS);
    __sync_fetch_and_add(&v->allocs, 1);
    __sync_fetch_and_add(&v->bytes_alloc, size);
    if (accounted) {
        __sync_fetch_and_add(&v->acc_allocs, 1);
        __sync_fetch_and_add(&v->acc_bytes, size);
    }
    if (!track)
        return;
    o.key = k;
    o.size = size;
    o.accounted = accounted;
    if (bpf_map_update_elem(&objs, &p, &o, BPF_NOEXIST) == 0)
        return;
    /* Still tracked at this address: its free was not traced (bulk frees,
     * kfree_rcu batches), but it was freed. Credit it now. */
    old = bpf_map_lookup_elem(&objs, &p);
    if (old) {
        struct kmem_alloc_obj prev = *old;

        credit_free(&prev);
        count(KMEM_ALLOC_REUSED);
    }
    bpf_map_update_elem(&objs, &p, &o, BPF_ANY);
}

static __always_inline void on_free(const void *ptr, __u64 cache, const struct kmem_cache *s,
                                    __u32 size)
{
    struct kmem_alloc_key k = {.cache = cache};
    struct kmem_alloc_val *v;
    __u64 p = (__u64)ptr;

    if (track) {
        struct kmem_alloc_obj *o = bpf_map_lookup_elem(&objs, &p);

        if (o) {
            struct kmem_alloc_obj copy = *o;

            bpf_map_delete_elem(&objs, &p);
            credit_free(&copy);
            count(KMEM_ALLOC_EVENTS);
            return;
        }
        k.cgid = KMEM_ALLOC_CG_UNTRACKED;
    } else {
        k.cgid = current_memcg_id();
    }
    v = stats_of(&k, s);
    if (!v)
        return;
    count(KMEM_ALLOC_EVENTS);
    __sync_fetch_and_add(&v->frees, 1);
    __sync_fetch_and_add(&v->bytes_freed, size);
}

/* ZERO_SIZE_PTR (16) and NULL: kmalloc(0), failed allocations, kfree(NULL). */
static __always_inline bool no_object(const void *ptr)
{
    return (__u64)ptr <= 16;
}

SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(kmem_cache_alloc, unsigned long call_site, const void *ptr, struct kmem_cache *s,
             gfp_t gfp, int node)
{
    __u32 size;
    bool acc;

    if (no_object(ptr) || !s)
        return 0;
    size = BPF_CORE_READ(s, size);
    acc = (gfp & gfp_account) || (BPF_CORE_READ(s, flags) & slab_account);
    on_alloc(ptr, (__u64)s, s, size, acc);
    return 0;
}

SEC("tp_btf/kmem_cache_free")
int BPF_PROG(kmem_cache_free, unsigned long call_site, const void *ptr, const struct kmem_cache *s)
{
    if (no_object(ptr) || !s)
        return 0;
    on_free(ptr, (__u64)s, s, BPF_CORE_READ(s, size));
    return 0;
}

SEC("tp_btf/kmalloc")
int BPF_PROG(kmalloc, unsigned long call_site, const void *ptr, size_t bytes_req,
             size_t bytes_alloc, gfp_t gfp)
{
    __u64 type, cls = bytes_alloc;

    if (no_object(ptr))
        return 0;
    /* The kernel's kmalloc_type(): DMA, then reclaimable, then accounted. */
    if (gfp & gfp_dma)
        type = KMEM_ALLOC_KM_DMA;
    else if (gfp & gfp_reclaimable)
        type = KMEM_ALLOC_KM_RECLAIM;
    else if (gfp & gfp_account)
        type = KMEM_ALLOC_KM_CGROUP;
    else
        type = KMEM_ALLOC_KM_NORMAL;
    if (bytes_alloc > kmalloc_max) {
        type = KMEM_ALLOC_KM_LARGE;
        cls = 0;
    }
    on_alloc(ptr, KMEM_ALLOC_KMALLOC | type << 32 | (cls & 0xffffffff), NULL, (__u32)bytes_alloc,
             (gfp & gfp_account) != 0);
    return 0;
}

SEC("tp_btf/kfree")
int BPF_PROG(kfree, unsigned long call_site, const void *ptr)
{
    if (no_object(ptr))
        return 0;
    on_free(ptr, KMEM_ALLOC_KFREE, NULL, 0);
    return 0;
}
