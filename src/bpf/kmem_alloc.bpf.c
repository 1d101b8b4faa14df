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
 * ones a leak hunt is after; when both of its buckets are full, the new
 * object goes unfollowed (counted).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "kmem_alloc.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set by the loader before loading, from the running kernel's BTF. */
const volatile bool track = true;              /* live-object tracking */
const volatile bool nested_alloc = false;      /* second programs on the allocation tracepoints */
const volatile bool nested_free = true;        /* second programs on the free tracepoints */
const volatile __u64 gfp_account = 1 << 22;    /* __GFP_ACCOUNT */
const volatile __u64 gfp_reclaimable = 1 << 4; /* __GFP_RECLAIMABLE */
const volatile __u64 gfp_dma = 1 << 0;         /* __GFP_DMA */
const volatile __u64 slab_account = 1 << 13;   /* SLAB_ACCOUNT */
const volatile __u32 kmalloc_max = 8192;       /* largest kmalloc cache object: 2 pages */
const volatile __u32 stats_bits = 17;          /* 2^stats_bits (cgroup, cache) slots */
const volatile __u32 obj_bits = 16;            /* 2^obj_bits buckets of live objects */
const volatile bool empty = false;             /* benchmarks: programs that return at once */
const volatile bool rates = false;             /* cheap mode: allocation counts only */
const volatile bool kvfree_old_abi = false;    /* 6.1: kvfree_call_rcu(head, func) */
const volatile bool ctx_void = true;           /* the verifier lets us read void * arguments */

/*
 * Argument @i of a tracing program when its type is a pointer to void (or
 * to a pointer): verifiers before Linux 6.16 refuse to read those from the
 * context ("invalid bpf_context access"); there (ctx_void false, the loader
 * retries) it is read with a helper. The load is an asm statement so that
 * it stays inside its branch, which the verifier then never visits.
 */
static __always_inline __u64 arg_ptr(unsigned long long *ctx, int i)
{
    __u64 v = 0;

    if (ctx_void)
        /* A load at a constant offset from the context register itself. */
        asm volatile("%0 = *(u64 *)(%1 + %2)" : "=r"(v) : "r"(ctx), "i"(i * 8));
    else
        bpf_probe_read_kernel(&v, sizeof(v), &ctx[i]);
    return v;
}

/* Sizes are set by the loader (bpf_map__set_max_entries). Both arrays are
 * mmap()ed by the loader, which also makes their values page-aligned: a slot
 * is one cache line, and so is a bucket's line of tags. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, 131072);
    __type(key, __u32);
    __type(value, struct kmem_alloc_slot);
} stats SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, 65536);
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

/* Slab sheaves (Linux 6.18+): absent from older kernels' struct kmem_cache. */
struct kmem_cache___sheaves {
    unsigned int sheaf_capacity;
} __attribute__((preserve_access_index));

/* Remember a named cache's name and size the first time it is seen. */
static __always_inline void note_cache(const struct kmem_cache *s)
{
    const struct kmem_cache___sheaves *sh = (const void *)s;
    __u64 k = (__u64)s;
    struct kmem_alloc_cache c = {};

    if (!s || bpf_map_lookup_elem(&caches, &k))
        return;
    bpf_probe_read_kernel_str(c.name, sizeof(c.name), BPF_CORE_READ(s, name));
    c.size = BPF_CORE_READ(s, size);
    c.accounted = (BPF_CORE_READ(s, flags) & slab_account) != 0;
    if (bpf_core_field_exists(sh->sheaf_capacity) && BPF_CORE_READ(sh, sheaf_capacity))
        c.flags |= KMEM_ALLOC_CACHE_SHEAVES;
    bpf_map_update_elem(&caches, &k, &c, BPF_NOEXIST);
}

/*
 * A key's cache word may be a struct kmem_cache pointer, which the verifier
 * lets us store and compare but not compute with; so each key comes with a
 * plain number to hash (for a cache: its distance from this map, a constant).
 */
struct ckey {
    __u64 cache; /* the slot's cache word (a pointer, or a number) */
    __u64 hash;  /* a number standing for it */
    const struct kmem_cache *s;
    bool variable; /* kmalloc-large: bytes counted */
};

/* The slot of (@cgid, @k), claimed if new; its index in *idx. NULL: table full. */
static __always_inline struct kmem_alloc_slot *slot_of(__u64 cgid, const struct ckey *k, __u32 *idx)
{
    __u64 h = ((cgid * 0x9E3779B97F4A7C15ULL) ^ k->hash) * 0xC2B2AE3D27D4EB4FULL;
    struct kmem_alloc_slot *claimed = NULL;
    __u32 i, j = 0;

#pragma clang loop unroll(disable)
    for (i = 0; i < KMEM_ALLOC_PROBES; i++) {
        struct kmem_alloc_slot *sl;
        __u64 c;

        j = (__u32)((h >> (64 - stats_bits)) + i) & ((1U << stats_bits) - 1);
        sl = bpf_map_lookup_elem(&stats, &j);
        if (!sl)
            break;
        c = *(volatile __u64 *)&sl->cache;
        /* The cache word is published last: a matching one has its cgid. */
        if (c == k->cache && *(volatile __u64 *)&sl->cgid == cgid) {
            *idx = j;
            return sl;
        }
        if ((c == KMEM_ALLOC_SLOT_EMPTY || c == KMEM_ALLOC_SLOT_DEAD) &&
            __sync_val_compare_and_swap(&sl->cache, c, KMEM_ALLOC_SLOT_BUSY) == c) {
            claimed = sl;
            break;
        }
    }
    if (!claimed) {
        count(KMEM_ALLOC_STATS_FULL);
        return NULL;
    }
    claimed->cgid = cgid;
    claimed->allocs = claimed->frees = claimed->nf_allocs = 0;
    claimed->bytes_alloc = claimed->bytes_freed = claimed->nf_bytes = 0;
    note_cache(k->s);
    /* Fully ordered: readers that see the key see the rest. */
    __sync_val_compare_and_swap(&claimed->cache, KMEM_ALLOC_SLOT_BUSY, k->cache);
    *idx = j;
    return claimed;
}

/*
 * The two buckets (cache lines) an object may be in: two hashes of its
 * address (Fibonacci hashing: objects are at least 8-byte aligned). Both
 * lines are read at once, so that their cache misses overlap.
 */
struct buckets {
    struct kmem_alloc_bucket *b[2];
};

static __always_inline bool buckets_of(__u64 p, struct buckets *bs)
{
    __u64 h = (p >> 3) * 0x9E3779B97F4A7C15ULL;
    __u32 mask = (1U << obj_bits) - 1;
    __u32 i = (__u32)(h >> (64 - obj_bits)), j = (__u32)(h >> 20) & mask;

    if (j == i)
        j = (i + 1) & mask;
    bs->b[0] = bpf_map_lookup_elem(&objs, &i);
    bs->b[1] = bpf_map_lookup_elem(&objs, &j);
    if (!bs->b[0] || !bs->b[1])
        return false;
    /* Start both loads now; the answers are needed only later. */
    (void)*(volatile const __u64 *)&bs->b[0]->obj[0].ptr;
    (void)*(volatile const __u64 *)&bs->b[1]->obj[0].ptr;
    return true;
}

/*
 * The word saying which object a way holds: its address; a kmalloc-large
 * object (page-aligned) adds log2 of its size in the low bits (its size is
 * needed when it is freed, and only then is the word masked).
 */
static __always_inline bool holds(__u64 word, __u64 p)
{
    return (word & ((p & 4095) ? ~0ULL : ~63ULL)) == p;
}

static __always_inline __u64 log2_pow2(__u64 v)
{
    __u64 lg = 0;

    if (v >> 32) {
        lg += 32;
        v >>= 32;
    }
    if (v >> 16) {
        lg += 16;
        v >>= 16;
    }
    if (v >> 8) {
        lg += 8;
        v >>= 8;
    }
    if (v >> 4) {
        lg += 4;
        v >>= 4;
    }
    if (v >> 2) {
        lg += 2;
        v >>= 2;
    }
    if (v >> 1)
        lg += 1;
    return lg;
}

/* Credit the free of the object of @word/@o to its slot, unless user space has
 * retired the slot (its cgid is no longer the object's). */
static __always_inline void credit_free(__u64 word, __u32 slot, __u32 cgid)
{
    struct kmem_alloc_slot *sl = bpf_map_lookup_elem(&stats, &slot);

    if (!sl || (__u32) * (volatile __u64 *)&sl->cgid != cgid)
        return;
    __sync_fetch_and_add(&sl->frees, 1);
    /* Only a kmalloc-large word (page-aligned) carries its size in the low
     * bits; another object's address may have low bits of its own. */
    if ((word & 63) && !(word & 4095 & ~63ULL))
        __sync_fetch_and_add(&sl->bytes_freed, 1ULL << (word & 63));
}

/* Remember the object at @p. A way still holding @p is an object whose free
 * was not traced (bulk frees, kfree_rcu batches): it was freed; credit it now.
 * Else the bucket of the two with more free ways (two choices keep the
 * buckets even). False when both are full: the object is not followed. */
static __always_inline bool track_alloc(__u64 p, __u64 cgid, __u32 slot, __u32 size)
{
    __u64 word = size ? p | log2_pow2(size) : p;
    struct kmem_alloc_obj *o = NULL;
    __u32 n[2] = {0, 0}, w, k;
    struct buckets bs;

    if (!buckets_of(p, &bs))
        return false;
#pragma clang loop unroll(full)
    for (k = 0; k < 2; k++) {
#pragma clang loop unroll(full)
        for (w = 0; w < KMEM_ALLOC_WAYS; w++) {
            __u64 x = *(volatile const __u64 *)&bs.b[k]->obj[w].ptr;

            if (x && holds(x, p)) {
                o = &bs.b[k]->obj[w];
                break;
            }
            n[k] += x == 0;
        }
        if (o)
            break;
    }
    if (o) {
        __u64 x = o->ptr;

        /* A kfree_rcu()'d object was credited then: not again. */
        if (o->slot != KMEM_ALLOC_SLOT_RCU) {
            credit_free(x, o->slot, o->cgid);
            count(KMEM_ALLOC_REUSED);
        }
        o->ptr = word;
    } else {
        /* Take a free way, in the emptier bucket first; another CPU may take
         * the same one first: then the next. */
        k = n[1] > n[0];
#pragma clang loop unroll(full)
        for (w = 0; w < 2 * KMEM_ALLOC_WAYS; w++) {
            struct kmem_alloc_bucket *b = (k + w / KMEM_ALLOC_WAYS) & 1 ? bs.b[1] : bs.b[0];

            if (*(volatile const __u64 *)&b->obj[w % KMEM_ALLOC_WAYS].ptr == 0 &&
                __sync_val_compare_and_swap(&b->obj[w % KMEM_ALLOC_WAYS].ptr, 0, word) == 0) {
                o = &b->obj[w % KMEM_ALLOC_WAYS];
                break;
            }
        }
        if (!o) {
            count(KMEM_ALLOC_NOT_TRACKED);
            return false;
        }
    }
    o->slot = slot;
    o->cgid = (__u32)cgid;
    return true;
}

/*
 * Forget @p and credit its free to its owner: true if it was followed. With
 * @rcu (kfree_rcu()), credit it but keep it, marked: its real free comes
 * later (or, with slab sheaves, unseen until its address is reused).
 */
static __always_inline bool track_free_how(__u64 p, bool rcu)
{
    struct buckets bs;
    __u32 w, k;

    if (!buckets_of(p, &bs))
        return false;
#pragma clang loop unroll(full)
    for (k = 0; k < 2; k++) {
#pragma clang loop unroll(full)
        for (w = 0; w < KMEM_ALLOC_WAYS; w++) {
            struct kmem_alloc_obj *o = &bs.b[k]->obj[w];
            __u64 x = *(volatile const __u64 *)&o->ptr;
            __u32 slot, cgid;

            if (!x || !holds(x, p))
                continue;
            slot = o->slot;
            cgid = o->cgid;
            if (slot == KMEM_ALLOC_SLOT_RCU) {
                /* Credited at kfree_rcu(): the real free is not counted again. */
                if (!rcu)
                    __sync_val_compare_and_swap(&o->ptr, x, 0);
                return true;
            }
            if (rcu) {
                /* Keep the way, marked: credited now, released at the real free. */
                o->slot = KMEM_ALLOC_SLOT_RCU;
                credit_free(x, slot, cgid);
                return true;
            }
            /* Fully ordered: the owner is read before the way is handed back. */
            if (__sync_val_compare_and_swap(&o->ptr, x, 0) != x)
                return false;
            credit_free(x, slot, cgid);
            return true;
        }
    }
    return false;
}

static __always_inline bool track_free(__u64 p)
{
    return track_free_how(p, false);
}

static __always_inline void on_alloc(const void *ptr, const struct ckey *k, __u32 size)
{
    __u64 cgid = current_memcg_id();
    struct kmem_alloc_slot *sl;
    __u32 idx = 0;

    sl = slot_of(cgid, k, &idx);
    if (!sl)
        return;
    __sync_fetch_and_add(&sl->allocs, 1);
    if (k->variable)
        __sync_fetch_and_add(&sl->bytes_alloc, size);
    if (!track)
        return;
    if (!track_alloc((__u64)ptr, cgid, idx, k->variable ? size : 0)) {
        /* Its free will not be credited: keep it out of the net growth. */
        __sync_fetch_and_add(&sl->nf_allocs, 1);
        if (k->variable)
            __sync_fetch_and_add(&sl->nf_bytes, size);
    }
}

/* A free not matched to an allocation of the trace: counted for the freeing
 * task's cgroup (counts only) or as older than the trace (tracking). */
static __always_inline void free_unmatched(const struct ckey *k, __u32 size)
{
    struct kmem_alloc_slot *sl;
    __u64 cgid = track ? KMEM_ALLOC_CG_UNTRACKED : current_memcg_id();
    __u32 idx = 0;

    sl = slot_of(cgid, k, &idx);
    if (!sl)
        return;
    __sync_fetch_and_add(&sl->frees, 1);
    if (k->variable)
        __sync_fetch_and_add(&sl->bytes_freed, size);
}

static __always_inline void on_free(const void *ptr, const struct ckey *k, __u32 size)
{
    if (track && track_free((__u64)ptr))
        return;
    free_unmatched(k, size);
}

/* ZERO_SIZE_PTR (16) and NULL: kmalloc(0), failed allocations, kfree(NULL). */
static __always_inline bool no_object(const void *ptr)
{
    return (__u64)ptr <= 16;
}

/* The key of a named cache: its address, + KMEM_ALLOC_ACCT when charged. */
static __always_inline void cache_key(struct ckey *k, const struct kmem_cache *s, bool accounted)
{
    k->cache = accounted ? (__u64)s + KMEM_ALLOC_ACCT : (__u64)s;
    k->hash = (__u64)s - (__u64)&stats; /* pointer - pointer: a number */
    k->s = s;
    k->variable = false;
}

static __always_inline void do_cache_alloc(const void *ptr, struct kmem_cache *s, gfp_t gfp)
{
    struct ckey k;

    if (no_object(ptr) || !s)
        return;
    /* Direct loads through the BTF pointer: no helper call per event. */
    cache_key(&k, s, (gfp & gfp_account) || (s->flags & slab_account));
    on_alloc(ptr, &k, s->size);
}

static __always_inline void do_cache_free(const void *ptr, const struct kmem_cache *s)
{
    struct ckey k;

    if (no_object(ptr) || !s)
        return;
    cache_key(&k, s, (s->flags & slab_account) != 0);
    on_free(ptr, &k, s->size);
}

/* The key of a kmalloc() allocation: its size class (the tracepoint names no cache). */
static __always_inline void kmalloc_key(struct ckey *k, size_t bytes_alloc, gfp_t gfp)
{
    __u64 type, cls = bytes_alloc;

    /* The kernel's kmalloc_type(): DMA, then reclaimable, then accounted. */
    if (gfp & gfp_dma)
        type = KMEM_ALLOC_KM_DMA;
    else if (gfp & gfp_reclaimable)
        type = KMEM_ALLOC_KM_RECLAIM;
    else if (gfp & gfp_account)
        type = KMEM_ALLOC_KM_CGROUP;
    else
        type = KMEM_ALLOC_KM_NORMAL;
    k->variable = false;
    if (bytes_alloc > kmalloc_max) {
        type = KMEM_ALLOC_KM_LARGE;
        cls = 0;
        k->variable = true;
    }
    k->cache = KMEM_ALLOC_KMALLOC | type << 32 | (cls & 0xfffffff8) |
               ((gfp & gfp_account) ? KMEM_ALLOC_ACCT : 0);
    k->hash = k->cache;
    k->s = NULL;
}

static __always_inline void do_kmalloc(const void *ptr, size_t bytes_alloc, gfp_t gfp)
{
    struct ckey k;

    if (no_object(ptr))
        return;
    kmalloc_key(&k, bytes_alloc, gfp);
    on_alloc(ptr, &k, (__u32)bytes_alloc);
}

/*
 * The cache of an object (Linux 6.13+): names the cache of a kfree(). Only
 * the program kfree_named calls it, and the loader loads that one only
 * where the kernel has the kfunc (older verifiers refuse a call to an
 * unresolved kfunc even where it cannot run).
 */
extern struct kmem_cache *bpf_get_kmem_cache(__u64 addr) __ksym __weak;

static __always_inline void do_kfree(const void *ptr, bool named)
{
    struct ckey k = {.cache = KMEM_ALLOC_KFREE, .hash = KMEM_ALLOC_KFREE};
    __u32 size = 0;

    if (no_object(ptr))
        return;
    if (track && track_free((__u64)ptr))
        return;
    /* Not an object of the trace: name its cache where the kernel can. */
    if (named) {
        struct kmem_cache *s = bpf_get_kmem_cache((__u64)ptr);

        if (s) {
            cache_key(&k, s, (s->flags & slab_account) != 0);
            size = s->size;
        }
    }
    free_unmatched(&k, size);
}

/*
 * The kernel runs a program at most once per CPU at a time: an event in an
 * interrupt that arrives while the program runs for a task on that CPU is
 * skipped (recursion_misses) - typically an RCU callback's free. So with
 * live-object tracking a second program is attached to each free tracepoint
 * (nested_free; nested_alloc for the allocation ones): the first program
 * (attached first, so called first) claims each event it handles by its
 * address, per CPU; the second one, run right after for the same event,
 * handles every event the first did not claim: those that arrived while the
 * first was running, including in the kernel's code around it, where a "busy"
 * flag would leave a window. Each program attached to a tracepoint costs a
 * call through it per event (more than its body here): without the second
 * program, the skipped events are counted (recursion_misses), not traced.
 */
enum { CLAIM_CACHE_ALLOC, CLAIM_CACHE_FREE, CLAIM_KMALLOC, CLAIM_KFREE, CLAIM_COUNT };

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, CLAIM_COUNT);
    __type(key, __u32);
    __type(value, __u64);
} claim SEC(".maps");

#define FIRST(which, nested, ptr, call)                                                            \
    do {                                                                                           \
        if (empty)                                                                                 \
            break;                                                                                 \
        if (nested) {                                                                              \
            __u32 k_ = which;                                                                      \
            __u64 *c_ = bpf_map_lookup_elem(&claim, &k_);                                          \
            if (c_)                                                                                \
                *c_ = (__u64)(ptr);                                                                \
        }                                                                                          \
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
int BPF_PROG(kmem_cache_alloc, unsigned long call_site, const void *ptr_, struct kmem_cache *s,
             gfp_t gfp, int node)
{
    const void *ptr = (const void *)arg_ptr(ctx, 1);

    FIRST(CLAIM_CACHE_ALLOC, nested_alloc, ptr, do_cache_alloc(ptr, s, gfp));
    return 0;
}

SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(kmem_cache_alloc_nested, unsigned long call_site, const void *ptr_,
             struct kmem_cache *s, gfp_t gfp, int node)
{
    const void *ptr = (const void *)arg_ptr(ctx, 1);

    NESTED(CLAIM_CACHE_ALLOC, ptr, do_cache_alloc(ptr, s, gfp));
    return 0;
}

SEC("tp_btf/kmem_cache_free")
int BPF_PROG(kmem_cache_free, unsigned long call_site, const void *ptr_, const struct kmem_cache *s)
{
    const void *ptr = (const void *)arg_ptr(ctx, 1);

    FIRST(CLAIM_CACHE_FREE, nested_free, ptr, do_cache_free(ptr, s));
    return 0;
}

SEC("tp_btf/kmem_cache_free")
int BPF_PROG(kmem_cache_free_nested, unsigned long call_site, const void *ptr_,
             const struct kmem_cache *s)
{
    const void *ptr = (const void *)arg_ptr(ctx, 1);

    NESTED(CLAIM_CACHE_FREE, ptr, do_cache_free(ptr, s));
    return 0;
}

SEC("tp_btf/kmalloc")
int BPF_PROG(kmalloc, unsigned long call_site, const void *ptr_, size_t bytes_req,
             size_t bytes_alloc, gfp_t gfp)
{
    const void *ptr = (const void *)arg_ptr(ctx, 1);

    FIRST(CLAIM_KMALLOC, nested_alloc, ptr, do_kmalloc(ptr, bytes_alloc, gfp));
    return 0;
}

SEC("tp_btf/kmalloc")
int BPF_PROG(kmalloc_nested, unsigned long call_site, const void *ptr_, size_t bytes_req,
             size_t bytes_alloc, gfp_t gfp)
{
    const void *ptr = (const void *)arg_ptr(ctx, 1);

    NESTED(CLAIM_KMALLOC, ptr, do_kmalloc(ptr, bytes_alloc, gfp));
    return 0;
}

SEC("tp_btf/kfree")
int BPF_PROG(kfree, unsigned long call_site, const void *ptr_)
{
    const void *ptr = (const void *)arg_ptr(ctx, 1);

    FIRST(CLAIM_KFREE, nested_free, ptr, do_kfree(ptr, false));
    return 0;
}

/* kfree with bpf_get_kmem_cache() (6.13+), loaded instead of kfree there. */
SEC("tp_btf/kfree")
int BPF_PROG(kfree_named, unsigned long call_site, const void *ptr_)
{
    const void *ptr = (const void *)arg_ptr(ctx, 1);

    FIRST(CLAIM_KFREE, nested_free, ptr, do_kfree(ptr, true));
    return 0;
}

SEC("tp_btf/kfree")
int BPF_PROG(kfree_nested, unsigned long call_site, const void *ptr_)
{
    const void *ptr = (const void *)arg_ptr(ctx, 1);

    NESTED(CLAIM_KFREE, ptr, do_kfree(ptr, false));
    return 0;
}

/* The paths without a tracepoint (fentry/fexit): their own file. */
#include "kmem_alloc_extras.bpf.h"

/* The cheap mode: its own file, sharing this one's helpers and maps. */
#include "kmem_alloc_rates.bpf.h"
