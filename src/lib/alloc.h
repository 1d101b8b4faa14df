/* SPDX-License-Identifier: MIT */
/*
 * Who allocates: slab allocations and frees per (memory cgroup, slab cache),
 * traced live with BPF (src/bpf/kmem_alloc.bpf.c) from the kernel's
 * kmem_cache_alloc, kmem_cache_free, kmalloc and kfree tracepoints.
 *
 * Needs Linux 6.1+ with BTF (/sys/kernel/btf/vmlinux) and root, or CAP_BPF
 * plus CAP_PERFMON. Nothing else in libkmem needs BPF: the tracer is loaded
 * only by kmem_alloc_open(). Like the rest of the library it never prints
 * and never exits; failures return -errno with a message for the user.
 *
 * Ownership: a struct kmem_alloc owns the BPF objects, the cache names and
 * the cgroup identities; strings in a table stay valid until
 * kmem_alloc_close(). A table belongs to the caller (kmem_alloc_table_free).
 */
#ifndef KMEM_ALLOC_H
#define KMEM_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmem.h"

struct kmem_alloc;

/* Pseudo cgroup ids (real ones are kernfs ids, never 0 or ~0). */
#define KMEM_ALLOC_CGID_IRQ       UINT64_C(0)    /* interrupt context: charged to no task */
#define KMEM_ALLOC_CGID_UNTRACKED (~UINT64_C(0)) /* frees of objects older than the trace */

/* Defaults of the BPF map sizes (docs/alloc.md has their memory). */
#define KMEM_ALLOC_DEFAULT_KEYS    65536  /* (cgroup, cache) pairs */
#define KMEM_ALLOC_DEFAULT_OBJECTS 262144 /* live objects tracked */
/* Rates mode: (cgroup, cache) pairs of one window, preallocated per CPU
 * (4096 x 16 bytes a CPU); the table is emptied at every window. */
#define KMEM_ALLOC_DEFAULT_RATE_KEYS 4096

/*
 * What is traced. The tracker (TRACK, COUNTS) is attached from open to close;
 * RATES is loaded by open and attached only between kmem_alloc_window_start()
 * and kmem_alloc_window_stop() (a duty cycle: the exporter's default).
 */
enum kmem_alloc_mode {
    KMEM_ALLOC_TRACK,  /* allocations and frees, each free credited to the allocating cgroup */
    KMEM_ALLOC_COUNTS, /* allocations and frees, frees to the freeing task's cgroup */
    KMEM_ALLOC_RATES,  /* allocations only, per-CPU counters, no free hooks, no live objects */
};

/* Default duty cycle of the rates mode: attached WINDOW seconds in every PERIOD. */
#define KMEM_ALLOC_DEFAULT_WINDOW 3
#define KMEM_ALLOC_DEFAULT_PERIOD 60

struct kmem_alloc_opts {
    enum kmem_alloc_mode mode; /* counts_only, when set, means KMEM_ALLOC_COUNTS */
    bool counts_only;          /* no live-object tracking: frees go to the freeing task's cgroup */
    bool no_fentry;            /* never try fentry/fexit programs (tests, benchmarks) */
    uint32_t max_keys;         /* 0: KMEM_ALLOC_DEFAULT_KEYS */
    uint32_t max_objects;      /* 0: KMEM_ALLOC_DEFAULT_OBJECTS */
    /* Benchmarks only: the programs attached as with counts_only, but with
     * bodies that return at once - the cost of the tracepoint calls alone. */
    bool empty_programs;
};

struct kmem_alloc_entry {
    uint64_t cgid;      /* memory cgroup id (inode of its directory), or a pseudo id */
    uint64_t cache_key; /* struct kmem_cache address, or a kmalloc size class */
    const char *cache;  /* "dentry", "kmalloc-cg-64", "kmalloc-large", "kfree" (cache unknown) */
    uint32_t objsize;   /* bytes per object (0: varies / unknown) */
    uint64_t allocs, frees;
    uint64_t bytes_alloc, bytes_freed;
    uint64_t acc_allocs, acc_bytes; /* charged to the memory cgroup (SLAB_ACCOUNT, __GFP_ACCOUNT) */
    uint64_t nf_allocs, nf_bytes;   /* allocations not followed (table full): not in the net */
    /* Identity, after kmem_alloc_resolve(); pointers never NULL. */
    const char *cgroup; /* path in the memory hierarchy, "(interrupt)", "(cgroup id N)" */
    const char *pod_name, *namespace_name, *container_name; /* "" when not a pod */
    bool removed; /* the cgroup was seen earlier and is gone now */
    /* The cache has slab sheaves (Linux 6.18+): its kfree_rcu() frees reach no
     * tracepoint, so its frees are undercounted and its net overstated. */
    bool sheaves;
};

struct kmem_alloc_table {
    size_t n, cap;
    struct kmem_alloc_entry *v;
    double seconds;       /* since the tracer was attached */
    bool tracking;        /* live-object tracking was on */
    bool bulk_traced;     /* bulk allocations/frees and kfree_rcu() followed (fentry/fexit) */
    uint64_t events;      /* tracepoint hits counted */
    uint64_t dropped;     /* hits lost: the (cgroup, cache) table was full */
    uint64_t reused;      /* allocations at a tracked address: that free was not traced */
    uint64_t not_tracked; /* allocations not followed: the live-object table was full */
    uint64_t missed; /* events the kernel skipped: the tracer was already running on that CPU */
    enum kmem_alloc_mode mode;
    bool charged_only;        /* rates through the memcg charge hook: charged allocations only */
    bool kfree_named;         /* kfree()'s cache named by bpf_get_kmem_cache() (6.13+) */
    const char *fentry_error; /* why fentry/fexit programs are not used ("" when they are) */
    uint64_t resets;          /* live-object table resets so far (tracking, the exporter) */
    struct timespec window_start, window_end; /* rates: CLOCK_REALTIME of the window */
};

/*
 * Order of the entries of a table: by cgroup id, then cache. Cache names of
 * one tracer are interned (one pointer per name), so the pointers compare.
 */
static inline int kmem_alloc_entry_cmp(uint64_t cg_a, const char *cache_a, uint64_t cg_b,
                                       const char *cache_b)
{
    if (cg_a != cg_b)
        return cg_a < cg_b ? -1 : 1;
    if (cache_a != cache_b)
        return (uintptr_t)cache_a < (uintptr_t)cache_b ? -1 : 1;
    return 0;
}

/*
 * Net growth: bytes allocated during the trace and still live - of the objects
 * followed (tracking: those not followed could never be credited their free),
 * or allocated - freed (counts only).
 */
static inline int64_t kmem_alloc_net(const struct kmem_alloc_entry *e)
{
    return (int64_t)(e->bytes_alloc - e->nf_bytes - e->bytes_freed);
}

/* The same in objects. */
static inline int64_t kmem_alloc_net_objects(const struct kmem_alloc_entry *e)
{
    return (int64_t)(e->allocs - e->nf_allocs - e->frees);
}

/*
 * Check the kernel (BTF, tracepoint prototypes, privileges), load and attach
 * the tracer. 0, or -errno with the reason in @err (which of: no BTF, kernel
 * too old / tracepoint missing, not privileged, BPF refused).
 */
int kmem_alloc_open(struct kmem_alloc **out, const struct kmem_alloc_opts *o, char *err,
                    size_t errlen);
/* Detach and free the tracer, its maps and every string it handed out. NULL is fine. */
void kmem_alloc_close(struct kmem_alloc *a);
/* Message of the last failure on @a. */
/* What the rates mode hooks ("memcg charge hook", "tracepoints"); "" for the tracker. */
const char *kmem_alloc_rates_source(const struct kmem_alloc *a);

const char *kmem_alloc_strerror(const struct kmem_alloc *a);

/*
 * Read every (cgroup, cache) entry so far into @t (reusing its storage),
 * sorted by kmem_alloc_entry_cmp(); a cache counted under two keys (kmalloc()
 * and kmem_cache_alloc() of a kmalloc cache) is one entry. 0 or -errno.
 */
int kmem_alloc_read(struct kmem_alloc *a, struct kmem_alloc_table *t);

/*
 * Name the cgroups of @t's entries from @snap's cgroups (a snapshot taken with
 * KMEM_COLLECT_CGROUPS through @ctx): the id of a cgroup is the inode number of
 * its directory. Cgroups seen in earlier calls keep their names after removal.
 */
int kmem_alloc_resolve(struct kmem_alloc *a, struct kmem_ctx *ctx, const struct kmem_snapshot *snap,
                       struct kmem_alloc_table *t);

/*
 * Delete from the tracer every entry of the cgroups @gone (n ids, sorted), so
 * that a long-running tracer (the exporter) on a node with pod churn does not
 * fill its table with removed cgroups. Later frees of their objects are not
 * counted. 0 or -errno.
 */
int kmem_alloc_forget(struct kmem_alloc *a, const uint64_t *gone, size_t n);

/* Objects currently in the live-object table (walks it: seconds for a full table). */
int kmem_alloc_live_objects(struct kmem_alloc *a, uint64_t *n);
/* Ways of the live-object table (objects it can follow at most). */
uint64_t kmem_alloc_live_capacity(const struct kmem_alloc *a);

/*
 * Empty the live-object table (tracking), for a tracer that runs for days
 * (the exporter): the objects live at that moment are no longer followed -
 * each slot's live objects join its "not followed" counts, so the net of
 * every entry restarts from 0 - and their later frees count as frees of
 * objects older than the trace. Events racing with the reset may be off by
 * a few objects. 0 or -errno.
 */
int kmem_alloc_reset_live(struct kmem_alloc *a);

/* Rates mode: attach the programs and start a window (its counts start at 0). */
int kmem_alloc_window_start(struct kmem_alloc *a);
/*
 * Rates mode: detach, and read the window's counts into @t (as
 * kmem_alloc_read(); t->seconds is the window's length, t->window_start/end
 * its times). Frees are 0: the rates mode has no free hook. 0 or -errno.
 */
int kmem_alloc_window_stop(struct kmem_alloc *a, struct kmem_alloc_table *t);

/*
 * The charged allocations of a window, per (memory cgroup id, cache), for
 * the owner snapshot (owners.h), whose rows have the same keys: allocations
 * charged to no cgroup (unaccounted caches, interrupts, the root cgroup,
 * whose id is 1) are under id 0, as the snapshot's uncharged objects.
 */
struct kmem_alloc_pair {
    uint64_t memcg_id; /* kernfs id of the charged memory cgroup; 0: not charged */
    const char *cache; /* as /proc/slabinfo names it (the tracer's interned name) */
    uint64_t allocs, bytes;
};

/* Fill *@out (n pairs, malloc()ed, sorted by id then cache name) from window @t. 0 or -ENOMEM. */
int kmem_alloc_window_pairs(const struct kmem_alloc_table *t, struct kmem_alloc_pair **out,
                            size_t *n);

/*
 * Frees per second of one (cgroup, cache) pair between two owner snapshots:
 * what was allocated minus what the pair still holds more, i.e.
 *   alloc_rate - (objects_after - objects_before) / seconds_between
 * with alloc_rate = @allocs / @window_seconds (the window sampled the
 * interval). Clamped at 0 (the sampled rate can understate a burst).
 */
double kmem_alloc_frees_per_second(uint64_t allocs, double window_seconds, uint64_t objects_before,
                                   uint64_t objects_after, double seconds_between);

/*
 * The tracer against the kernel's own count of one cache, over the same
 * moments (the tracker; `kmemtop --alloc-check`, docs/alloc.md): at the start
 * and at the end of a trace, the active objects of @c->cache in
 * /proc/slabinfo, read between two scans of the (cgroup, cache) table. The
 * traced net (allocations - frees over every cgroup, frees of objects older
 * than the trace included) at the moment of each read is the first scan's,
 * give or take the events of the cache counted between the two scans
 * (in_flight, summed over both reads): an exact bound, however busy the
 * machine. What remains is the allocator's own: SLUB counts the free objects
 * of per-CPU slabs (and sheaves) as active.
 */
struct kmem_alloc_check {
    const char *cache;   /* the cache, as /proc/slabinfo names it */
    bool done[2];        /* [0] start, [1] end: marked */
    uint64_t active[2];  /* /proc/slabinfo active_objs at each mark */
    int64_t net[2];      /* traced allocations - frees of the cache at the scan before each read */
    uint64_t in_flight;  /* events of the cache counted during the reads (both marks) */
    uint64_t objperslab; /* /proc/slabinfo objperslab at the end mark */
};

/*
 * Mark the start (@end false) or the end of @c, reading @slabinfo_path (e.g.
 * "/proc/slabinfo"). 0, -ENOENT (no such cache in the file), -EINVAL (the
 * file does not parse; kmem_alloc_strerror() says where), -EOPNOTSUPP (not
 * the tracker), or another -errno of the read.
 */
int kmem_alloc_check_mark(struct kmem_alloc *a, const char *slabinfo_path,
                          struct kmem_alloc_check *c, bool end);

/* Bytes of kernel memory the tracer's maps use (from their sizes). */
uint64_t kmem_alloc_map_bytes(const struct kmem_alloc *a);

void kmem_alloc_table_free(struct kmem_alloc_table *t);

/*
 * The counts of one slot of the tracer's (cgroup, cache) table (struct in
 * src/bpf/kmem_alloc.h) into @e: cgid, cache_key, objects, bytes, charged.
 * @cache: the slot's cache word, read first; @objsize: bytes per object of that
 * cache (0: sizes vary - kmalloc-large - or unknown: the slot's byte counts).
 */
struct kmem_alloc_slot;
void kmem_alloc_entry_counts(struct kmem_alloc_entry *e, const struct kmem_alloc_slot *sl,
                             uint64_t cache, uint32_t objsize);

/* "kmalloc-cg-64", "dma-kmalloc-1k", "kmalloc-large", "kfree" for a synthetic cache key. */
const char *kmem_alloc_kmalloc_name(uint64_t cache_key, char *buf, size_t len);

#endif
