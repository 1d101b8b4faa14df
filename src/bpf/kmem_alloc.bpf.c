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
 * object allocated since the start is remembered (address -> owner) in a
 * lock-free table, so that its free is credited to the cgroup that allocated
 * it, whichever task frees it (RCU callbacks, kworkers). Not an LRU on
 * purpose: an LRU evicts first the objects nobody touches - the long-lived
 * ones a leak hunt is after; when a bucket is full, the new object goes
 * unfollowed (counted).
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

/* Buckets of the live-object table: 2^obj_bits of them (set by the loader). */
const volatile __u32 obj_bits = 15;

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 32768);
    __type(key, __u32);
    __type(value, struct kmem_alloc_bucket);
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

static __always_inline struct kmem_alloc_bucket *bucket_of(__u64 p)
{
    /* Fibonacci hashing of the address (objects are at least 8-byte aligned). */
    __u32 i = (__u32)(((p >> 3) * 0x9E3779B97F4A7C15ULL) >> (64 - obj_bits));

    return bpf_map_lookup_elem(&objs, &i);
}

/* The slot of @p in @b, or KMEM_ALLOC_WAYS. Loops exit at the first match:
 * the verifier then sees a path per slot, not one per combination of slots. */
static __always_inline __u32 slot_of(const struct kmem_alloc_bucket *b, __u64 p)
{
    __u32 i;

#pragma clang loop unroll(full)
    for (i = 0; i < KMEM_ALLOC_WAYS; i++)
        if (*(volatile const __u64 *)&b->ptr[i] == p)
            break;
    return i;
}

/* Remember @o at @p. A slot still holding @p is an object whose free was not
 * traced (bulk frees, kfree_rcu batches): it was freed; credit it now.
 * False when the bucket is full: the object is not followed. */
static __always_inline bool track_alloc(__u64 p, const struct kmem_alloc_obj *o)
{
    struct kmem_alloc_bucket *b = bucket_of(p);
    __u32 i;

    if (!b)
        return false;
    i = slot_of(b, p);
    if (i < KMEM_ALLOC_WAYS) {
        struct kmem_alloc_obj prev = b->own[i];

        credit_free(&prev);
        count(KMEM_ALLOC_REUSED);
        b->own[i] = *o;
        return true;
    }
    /* Take a free slot; another CPU may take the same one first: then the next. */
#pragma clang loop unroll(full)
    for (i = 0; i < KMEM_ALLOC_WAYS; i++)
        if (*(volatile const __u64 *)&b->ptr[i] == 0 &&
            __sync_val_compare_and_swap(&b->ptr[i], 0, p) == 0)
            break;
    if (i >= KMEM_ALLOC_WAYS) {
        count(KMEM_ALLOC_NOT_TRACKED);
        return false;
    }
    b->own[i] = *o;
    return true;
}

/* Forget @p and credit its free to its owner: true if it was followed. */
static __always_inline bool track_free(__u64 p)
{
    struct kmem_alloc_bucket *b = bucket_of(p);
    struct kmem_alloc_obj o;
    __u32 i;

    if (!b)
        return false;
    i = slot_of(b, p);
    if (i >= KMEM_ALLOC_WAYS)
        return false;
    o = b->own[i];
    /* Fully ordered: the owner is read before the slot is handed back. */
    if (__sync_val_compare_and_swap(&b->ptr[i], p, 0) != p)
        return false;
    credit_free(&o);
    return true;
}

static __always_inline void on_alloc(const void *ptr, __u64 cache, const struct kmem_cache *s,
                                     __u32 size, bool accounted)
{
    struct kmem_alloc_key k = {.cgid = current_memcg_id(), .cache = cache};
    struct kmem_alloc_val *v = stats_of(&k, s);
    struct kmem_alloc_obj o;

    if (!v)
        return;
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
    if (!track_alloc((__u64)ptr, &o)) {
        /* Its free will not be credited: keep it out of the net growth. */
        __sync_fetch_and_add(&v->nf_allocs, 1);
        __sync_fetch_and_add(&v->nf_bytes, size);
    }
}

static __always_inline void on_free(const void *ptr, __u64 cache, const struct kmem_cache *s,
                                    __u32 size)
{
    struct kmem_alloc_key k = {.cache = cache};
    struct kmem_alloc_val *v;

    if (track) {
        if (track_free((__u64)ptr))
            return;
        k.cgid = KMEM_ALLOC_CG_UNTRACKED;
    } else {
        k.cgid = current_memcg_id();
    }
    v = stats_of(&k, s);
    if (!v)
        return;
    __sync_fetch_and_add(&v->frees, 1);
    __sync_fetch_and_add(&v->bytes_freed, size);
}

/* ZERO_SIZE_PTR (16) and NULL: kmalloc(0), failed allocations, kfree(NULL). */
static __always_inline bool no_object(const void *ptr)
{
    return (__u64)ptr <= 16;
}

static __always_inline void do_cache_alloc(const void *ptr, struct kmem_cache *s, gfp_t gfp)
{
    if (no_object(ptr) || !s)
        return;
    /* Direct loads through the BTF pointer: no helper call per event. */
    on_alloc(ptr, (__u64)s, s, s->size, (gfp & gfp_account) || (s->flags & slab_account));
}

static __always_inline void do_cache_free(const void *ptr, const struct kmem_cache *s)
{
    if (no_object(ptr) || !s)
        return;
    on_free(ptr, (__u64)s, s, s->size);
}

static __always_inline void do_kmalloc(const void *ptr, size_t bytes_alloc, gfp_t gfp)
{
    __u64 type, cls = bytes_alloc;

    if (no_object(ptr))
        return;
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
}

static __always_inline void do_kfree(const void *ptr)
{
    if (no_object(ptr))
        return;
    on_free(ptr, KMEM_ALLOC_KFREE, NULL, 0);
}

/*
 * Two programs per tracepoint. The kernel runs a program at most once per
 * CPU at a time: an event in an interrupt that arrives while the program runs
 * for a task on that CPU is skipped (recursion_misses) - typically an RCU
 * callback's free. The first program (attached first, so called first)
 * claims each event it handles by its address, per CPU; the second one, run
 * right after for the same event, handles every event the first did not
 * claim: those that arrived while the first was running, including in the
 * kernel's code around it, where a "busy" flag would leave a window.
 */
enum { CLAIM_CACHE_ALLOC, CLAIM_CACHE_FREE, CLAIM_KMALLOC, CLAIM_KFREE, CLAIM_COUNT };

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, CLAIM_COUNT);
    __type(key, __u32);
    __type(value, __u64);
} claim SEC(".maps");

#define FIRST(which, ptr, call)                                                                    \
    do {                                                                                           \
        __u32 k_ = which;                                                                          \
        __u64 *c_ = bpf_map_lookup_elem(&claim, &k_);                                              \
        if (c_)                                                                                    \
            *c_ = (__u64)(ptr);                                                                    \
        call;                                                                                      \
    } while (0)

#define NESTED(which, ptr, call)                                                                   \
    do {                                                                                           \
        __u32 k_ = which;                                                                          \
        __u64 *c_ = bpf_map_lookup_elem(&claim, &k_);                                              \
        if (c_ && *c_ == (__u64)(ptr)) {                                                           \
            *c_ = 0;                                                                               \
            break;                                                                                 \
        }                                                                                          \
        call;                                                                                      \
    } while (0)

SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(kmem_cache_alloc, unsigned long call_site, const void *ptr, struct kmem_cache *s,
             gfp_t gfp, int node)
{
    FIRST(CLAIM_CACHE_ALLOC, ptr, do_cache_alloc(ptr, s, gfp));
    return 0;
}

SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(kmem_cache_alloc_nested, unsigned long call_site, const void *ptr,
             struct kmem_cache *s, gfp_t gfp, int node)
{
    NESTED(CLAIM_CACHE_ALLOC, ptr, do_cache_alloc(ptr, s, gfp));
    return 0;
}

SEC("tp_btf/kmem_cache_free")
int BPF_PROG(kmem_cache_free, unsigned long call_site, const void *ptr, const struct kmem_cache *s)
{
    FIRST(CLAIM_CACHE_FREE, ptr, do_cache_free(ptr, s));
    return 0;
}

SEC("tp_btf/kmem_cache_free")
int BPF_PROG(kmem_cache_free_nested, unsigned long call_site, const void *ptr,
             const struct kmem_cache *s)
{
    NESTED(CLAIM_CACHE_FREE, ptr, do_cache_free(ptr, s));
    return 0;
}

SEC("tp_btf/kmalloc")
int BPF_PROG(kmalloc, unsigned long call_site, const void *ptr, size_t bytes_req,
             size_t bytes_alloc, gfp_t gfp)
{
    FIRST(CLAIM_KMALLOC, ptr, do_kmalloc(ptr, bytes_alloc, gfp));
    return 0;
}

SEC("tp_btf/kmalloc")
int BPF_PROG(kmalloc_nested, unsigned long call_site, const void *ptr, size_t bytes_req,
             size_t bytes_alloc, gfp_t gfp)
{
    NESTED(CLAIM_KMALLOC, ptr, do_kmalloc(ptr, bytes_alloc, gfp));
    return 0;
}

SEC("tp_btf/kfree")
int BPF_PROG(kfree, unsigned long call_site, const void *ptr)
{
    FIRST(CLAIM_KFREE, ptr, do_kfree(ptr));
    return 0;
}

SEC("tp_btf/kfree")
int BPF_PROG(kfree_nested, unsigned long call_site, const void *ptr)
{
    NESTED(CLAIM_KFREE, ptr, do_kfree(ptr));
    return 0;
}

/*
 * Paths without a tracepoint, followed where the kernel has the function:
 * bulk allocations and frees (networking, the maple tree, kfree_bulk() of
 * kfree_rcu() batches), and kfree_rcu() itself (kvfree_call_rcu(): the object
 * is dead for its owner from then on; with slab sheaves, Linux 6.18, it never
 * reaches kfree()). The loader leaves out whichever does not exist.
 */
#define BULK_MAX 4096

struct bulk_ctx {
    void **p;
    const struct kmem_cache *s;
    __u64 cache;
    __u32 size;
    bool accounted;
    bool alloc;
};

static long bulk_one(__u32 i, void *data)
{
    struct bulk_ctx *c = data;
    void *obj = NULL;

    bpf_probe_read_kernel(&obj, sizeof(obj), &c->p[i]);
    if (no_object(obj))
        return 0;
    if (c->alloc)
        on_alloc(obj, c->cache, c->s, c->size, c->accounted);
    else
        on_free(obj, c->cache, c->s, c->size);
    return 0;
}

SEC("fexit/kmem_cache_alloc_bulk_noprof")
int BPF_PROG(kmem_cache_alloc_bulk, struct kmem_cache *s, gfp_t gfp, size_t size, void **p, int ret)
{
    struct bulk_ctx c = {.p = p, .s = s, .cache = (__u64)s, .alloc = true};

    if (!s || ret <= 0)
        return 0;
    c.size = s->size;
    c.accounted = (gfp & gfp_account) || (s->flags & slab_account);
    bpf_loop(ret < BULK_MAX ? ret : BULK_MAX, bulk_one, &c, 0);
    return 0;
}

SEC("fentry/kmem_cache_free_bulk")
int BPF_PROG(kmem_cache_free_bulk, struct kmem_cache *s, size_t size, void **p)
{
    /* s is NULL for kfree_bulk(): each object's own cache, unknown here. */
    struct bulk_ctx c = {.p = p, .s = s, .cache = s ? (__u64)s : KMEM_ALLOC_KFREE};

    if (s)
        c.size = s->size;
    bpf_loop(size < BULK_MAX ? size : BULK_MAX, bulk_one, &c, 0);
    return 0;
}

SEC("fentry/kvfree_call_rcu")
int BPF_PROG(kvfree_call_rcu, struct callback_head *head, void *ptr)
{
    /* Objects allocated during the trace only: a kfree_rcu() of an older one
     * (or of vmalloc memory) is not known to be slab, so it is not counted. */
    if (track && !no_object(ptr))
        track_free((__u64)ptr);
    return 0;
}
