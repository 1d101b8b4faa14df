/* SPDX-License-Identifier: MIT */
/*
 * The allocation tracer's loader, reading its maps: the (cgroup, cache)
 * slots of the tracker, the per-CPU counts of the rates mode, the cache
 * names the BPF side recorded, the live-object table. See alloc.h.
 */
#ifdef KMEM_HAVE_BPF
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "alloc_int.h"
#include "buf.h"
#include "kmem_alloc.h"
#include "kmem_alloc.skel.h"
#include "slabinfo.h"

#define seterr kmem_msgf

/* ---- cache names ---- */

/* Names of named caches the BPF side has recorded since the last call. */
static int load_cache_names(struct kmem_alloc *a)
{
    int fd = bpf_map__fd(a->skel->maps.caches);
    __u64 key, next, *prev = NULL;
    struct kmem_alloc_cache c;
    struct cache_name *n;

    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
        bool found;

        key = next;
        prev = &key;
        kmem_alloc_cache_find(a, key, &found);
        if (found || bpf_map_lookup_elem(fd, &key, &c) != 0)
            continue;
        c.name[sizeof(c.name) - 1] = '\0';
        for (char *s = c.name; *s; s++)
            if ((unsigned char)*s < 0x20 || *s == 0x7f)
                *s = '?';
        n = kmem_alloc_cache_insert(a, key, c.name[0] ? c.name : "?");
        if (!n)
            return -ENOMEM;
        n->size = c.size;
        n->flags = c.flags;
    }
    return 0;
}

static const struct cache_name *cache_of(struct kmem_alloc *a, uint64_t key, bool *reload)
{
    bool found;
    size_t i = kmem_alloc_cache_find(a, key, &found);
    struct cache_name *n;
    char name[64];

    if (found)
        return &a->caches[i];
    if (key & (UINT64_C(1) << 63)) { /* a kernel address: a named cache */
        if (*reload) {
            *reload = false;
            if (load_cache_names(a) == 0) {
                i = kmem_alloc_cache_find(a, key, &found);
                if (found)
                    return &a->caches[i];
            }
        }
        snprintf(name, sizeof(name), "cache@%llx", (unsigned long long)key);
        return kmem_alloc_cache_insert(a, key, name);
    }
    n = kmem_alloc_cache_insert(a, key, kmem_alloc_kmalloc_name(key, name, sizeof(name)));
    if (!n)
        return NULL;
    n->size = (key & KMEM_ALLOC_KFREE) || ((key >> 32) & 0xff) == KMEM_ALLOC_KM_LARGE
                  ? 0
                  : (uint32_t)(key & 0xffffffff);
    return n;
}

/* Events the kernel skipped (a program already running on that CPU: an
 * interrupt's allocation during the tracer's own run in a task), as counted
 * by the last program of each tracepoint: the second one where attached, as
 * it handles what the first one missed. */
static uint64_t missed_events(const struct kmem_alloc *a)
{
    const struct bpf_program *pairs[][2] = {
        {a->skel->progs.kmem_cache_alloc, a->skel->progs.kmem_cache_alloc_nested},
        {a->skel->progs.kmem_cache_free, a->skel->progs.kmem_cache_free_nested},
        {a->skel->progs.kmalloc, a->skel->progs.kmalloc_nested},
        {bpf_program__fd(a->skel->progs.kfree) >= 0 ? a->skel->progs.kfree
                                                    : a->skel->progs.kfree_named,
         a->skel->progs.kfree_nested},
        {a->skel->progs.kmem_cache_alloc_bulk, NULL},
        {a->skel->progs.kmem_cache_free_bulk, NULL},
        {a->skel->progs.kvfree_call_rcu, NULL},
        {a->skel->progs.rate_cache_alloc, NULL},
        {a->skel->progs.rate_kmalloc, NULL},
        {a->skel->progs.rate_memcg_alloc, NULL},
        {a->skel->progs.rate_memcg_alloc6, NULL}};
    uint64_t n = 0;

    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        int pfd = pairs[i][1] ? bpf_program__fd(pairs[i][1]) : -1;
        struct bpf_prog_info info;
        __u32 len = sizeof(info);

        if (pfd < 0)
            pfd = bpf_program__fd(pairs[i][0]);
        memset(&info, 0, sizeof(info));
        if (pfd >= 0 && bpf_obj_get_info_by_fd(pfd, &info, &len) == 0)
            n += info.recursion_misses;
    }
    return n;
}

/* Sum of the per-CPU counter @k. */
static uint64_t counter(const struct kmem_alloc *a, __u32 k, __u64 *percpu)
{
    uint64_t n = 0;

    if (bpf_map_lookup_elem(bpf_map__fd(a->skel->maps.counters), &k, percpu) != 0)
        return 0;
    for (int c = 0; c < a->ncpus; c++)
        n += percpu[c];
    return n;
}

/* One entry of @t per slot of the tracker's (cgroup, cache) table. */
static int read_slots(struct kmem_alloc *a, struct kmem_alloc_table *t)
{
    bool reload = true;

    for (size_t i = 0; i < a->n_slots; i++) {
        const struct kmem_alloc_slot *sl = &a->slots[i];
        /* The cache word is published last (after the cgid): acquire. */
        uint64_t cache = __atomic_load_n(&sl->cache, __ATOMIC_ACQUIRE);
        const struct cache_name *c;
        struct kmem_alloc_entry *e;

        if (cache <= KMEM_ALLOC_SLOT_DEAD)
            continue;
        if (kmem_alloc_table_push(t, &e))
            return -ENOMEM;
        c = cache_of(a, cache & ~KMEM_ALLOC_ACCT, &reload);
        kmem_alloc_entry_counts(e, sl, cache, c ? c->size : 0);
        e->cache = c ? c->name : "?";
        e->sheaves = c && (c->flags & KMEM_ALLOC_CACHE_SHEAVES);
    }
    return 0;
}

/* One entry of the rates mode: (cgroup, cache key) and its counts. */
static int push_rate(struct kmem_alloc *a, struct kmem_alloc_table *t, uint64_t cgid,
                     uint64_t cache, uint64_t allocs, uint64_t bytes, bool *reload)
{
    const struct cache_name *c;
    struct kmem_alloc_entry *e;

    if (!allocs)
        return 0;
    if (kmem_alloc_table_push(t, &e))
        return -ENOMEM;
    c = cache_of(a, cache & ~KMEM_ALLOC_ACCT, reload);
    e->cgid = cgid;
    e->cache_key = cache & ~KMEM_ALLOC_ACCT;
    e->cache = c ? c->name : "?";
    e->objsize = c ? c->size : 0;
    e->sheaves = c && (c->flags & KMEM_ALLOC_CACHE_SHEAVES);
    e->allocs = allocs;
    e->bytes_alloc = bytes;
    e->acc_allocs = cache & KMEM_ALLOC_ACCT ? allocs : 0;
    e->acc_bytes = cache & KMEM_ALLOC_ACCT ? bytes : 0;
    return 0;
}

/* The rates mode's per-CPU front table: every CPU's slots, then emptied. */
static int read_rate_front(struct kmem_alloc *a, struct kmem_alloc_table *t, bool *reload)
{
    int fd = bpf_map__fd(a->skel->maps.rate_front);
    __u32 n = bpf_map__max_entries(a->skel->maps.rate_front);
    size_t ncpu = (size_t)(a->ncpus > 0 ? a->ncpus : 1);
    struct kmem_alloc_rate_slot *v = calloc(ncpu, sizeof(*v));
    struct kmem_alloc_rate_slot *zero = calloc(ncpu, sizeof(*zero));
    int rc = v && zero ? 0 : -ENOMEM;

    for (__u32 i = 0; i < n && !rc; i++) {
        if (bpf_map_lookup_elem(fd, &i, v) != 0)
            continue;
        for (size_t c = 0; c < ncpu && !rc; c++)
            rc = push_rate(a, t, v[c].cgid, v[c].cache, v[c].allocs, v[c].bytes, reload);
        bpf_map_update_elem(fd, &i, zero, BPF_ANY);
    }
    free(v);
    free(zero);
    return rc;
}

/* The rates mode: one entry per (cgroup, cache key) and CPU slot, from the
 * front table and the hash map behind it (summed over the CPUs); both are
 * emptied once read (the next window starts from 0). Called detached. */
static int read_rates(struct kmem_alloc *a, struct kmem_alloc_table *t, __u64 *percpu)
{
    int fd = bpf_map__fd(a->skel->maps.rate_counts);
    struct kmem_alloc_rkey key, next, *prev = NULL;
    struct kmem_alloc_rate *v;
    bool reload = true;
    size_t nk = 0, capk = 0;
    struct kmem_alloc_rkey *keys = NULL;
    int rc;

    (void)percpu;
    rc = read_rate_front(a, t, &reload);
    if (rc)
        return rc;
    v = calloc((size_t)(a->ncpus > 0 ? a->ncpus : 1), sizeof(*v));
    if (!v)
        return -ENOMEM;
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
        uint64_t allocs = 0, bytes = 0;

        key = next;
        prev = &key;
        if (kmem_grow((void **)&keys, &capk, nk + 1, sizeof(*keys))) {
            rc = -ENOMEM;
            break;
        }
        keys[nk++] = key;
        if (bpf_map_lookup_elem(fd, &key, v) != 0)
            continue;
        for (int cpu = 0; cpu < a->ncpus; cpu++) {
            allocs += v[cpu].allocs;
            bytes += v[cpu].bytes;
        }
        rc = push_rate(a, t, key.cgid, key.cache, allocs, bytes, &reload);
        if (rc)
            break;
    }
    /* Deleted after the walk: deleting while walking restarts get_next_key. */
    for (size_t i = 0; i < nk; i++)
        bpf_map_delete_elem(fd, &keys[i]);
    free(keys);
    free(v);
    return rc;
}

int kmem_alloc_read(struct kmem_alloc *a, struct kmem_alloc_table *t)
{
    struct timespec now;
    __u64 *percpu;
    int rc;

    t->n = 0;
    t->mode = a->mode;
    t->tracking = a->tracking;
    t->bulk_traced = a->extras;
    t->charged_only = a->memcg_hook;
    t->kfree_named = a->kfree_named;
    t->fentry_error = a->fentry_err;
    t->resets = a->resets;
    clock_gettime(CLOCK_MONOTONIC, &now);
    t->seconds =
        (double)(now.tv_sec - a->start.tv_sec) + (double)(now.tv_nsec - a->start.tv_nsec) / 1e9;
    t->window_start = a->real_start;
    clock_gettime(CLOCK_REALTIME, &t->window_end);
    percpu = calloc((size_t)(a->ncpus > 0 ? a->ncpus : 1), sizeof(*percpu));
    if (!percpu) {
        seterr(a->err, sizeof(a->err), "out of memory");
        return -ENOMEM;
    }
    rc = a->mode == KMEM_ALLOC_RATES ? read_rates(a, t, percpu) : read_slots(a, t);
    /* One key may have two slots (added by two CPUs at once); a cache has
     * two keys when some of its allocations were charged and some not. */
    if (!rc)
        rc = kmem_alloc_merge_same_name(t);
    if (rc) {
        seterr(a->err, sizeof(a->err), "out of memory");
        free(percpu);
        return rc;
    }
    t->events = 0;
    for (size_t i = 0; i < t->n; i++)
        t->events += t->v[i].allocs + t->v[i].frees;
    t->missed = missed_events(a);
    /* Per-CPU counters, indexed by enum kmem_alloc_counter. */
    {
        uint64_t *dst[] = {&t->dropped, &t->reused, &t->not_tracked};

        _Static_assert(sizeof(dst) / sizeof(dst[0]) == KMEM_ALLOC_COUNTER_COUNT,
                       "one destination per counter");
        for (__u32 k = 0; k < KMEM_ALLOC_COUNTER_COUNT; k++)
            *dst[k] = counter(a, k, percpu);
    }
    free(percpu);
    return 0;
}

int kmem_alloc_window_stop(struct kmem_alloc *a, struct kmem_alloc_table *t)
{
    if (a->mode != KMEM_ALLOC_RATES)
        return -EINVAL;
    if (a->attached) {
        kmem_alloc_bpf__detach(a->skel);
        a->attached = false;
    }
    return kmem_alloc_read(a, t);
}

int kmem_alloc_live_objects(struct kmem_alloc *a, uint64_t *n)
{
    *n = 0;
    if (!a->tracking)
        return 0;
    for (size_t i = 0; i < a->n_buckets; i++)
        for (int w = 0; w < KMEM_ALLOC_WAYS; w++)
            *n += __atomic_load_n(&a->buckets[i].obj[w].ptr, __ATOMIC_RELAXED) != 0;
    return 0;
}

uint64_t kmem_alloc_live_capacity(const struct kmem_alloc *a)
{
    return a->tracking ? (uint64_t)a->n_buckets * KMEM_ALLOC_WAYS : 0;
}

int kmem_alloc_reset_live(struct kmem_alloc *a)
{
    if (!a->tracking)
        return -EINVAL;
    /* First the ways (from now on no free of those objects is credited),
     * then each slot's live objects become "not followed". */
    for (size_t i = 0; i < a->n_buckets; i++)
        for (int w = 0; w < KMEM_ALLOC_WAYS; w++)
            __atomic_store_n(&a->buckets[i].obj[w].ptr, 0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (size_t i = 0; i < a->n_slots; i++) {
        struct kmem_alloc_slot *sl = &a->slots[i];
        uint64_t cache = __atomic_load_n(&sl->cache, __ATOMIC_ACQUIRE);
        uint64_t al, fr, nf;

        if (cache <= KMEM_ALLOC_SLOT_DEAD || sl->cgid == KMEM_ALLOC_CG_UNTRACKED)
            continue;
        al = __atomic_load_n(&sl->allocs, __ATOMIC_RELAXED);
        fr = __atomic_load_n(&sl->frees, __ATOMIC_RELAXED);
        nf = __atomic_load_n(&sl->nf_allocs, __ATOMIC_RELAXED);
        if (al > fr + nf)
            __atomic_fetch_add(&sl->nf_allocs, al - fr - nf, __ATOMIC_RELAXED);
        al = __atomic_load_n(&sl->bytes_alloc, __ATOMIC_RELAXED);
        fr = __atomic_load_n(&sl->bytes_freed, __ATOMIC_RELAXED);
        nf = __atomic_load_n(&sl->nf_bytes, __ATOMIC_RELAXED);
        if (al > fr + nf)
            __atomic_fetch_add(&sl->nf_bytes, al - fr - nf, __ATOMIC_RELAXED);
    }
    a->resets++;
    return 0;
}

static int cmp_u64(const void *key, const void *elem)
{
    uint64_t k = *(const uint64_t *)key, e = *(const uint64_t *)elem;

    return k < e ? -1 : k > e;
}

int kmem_alloc_forget(struct kmem_alloc *a, const uint64_t *gone, size_t n)
{
    if (!n || a->mode == KMEM_ALLOC_RATES)
        return 0;
    for (size_t i = 0; i < a->n_slots; i++) {
        struct kmem_alloc_slot *sl = &a->slots[i];
        uint64_t cache = __atomic_load_n(&sl->cache, __ATOMIC_ACQUIRE), id;
        bool found;

        if (cache <= KMEM_ALLOC_SLOT_DEAD)
            continue;
        id = __atomic_load_n(&sl->cgid, __ATOMIC_RELAXED);
        kmem_alloc_lower_bound(gone, n, sizeof(*gone), &id, cmp_u64, &found);
        /* The BPF side may claim it again, for any key; frees of objects it
         * counted are no longer credited (their cgid differs). */
        if (found)
            __atomic_store_n(&sl->cache, KMEM_ALLOC_SLOT_DEAD, __ATOMIC_RELEASE);
    }
    return 0;
}

/* ---- the tracer against /proc/slabinfo (kmem_alloc_check_mark) ---- */

/* Traced allocations - frees of the cache named @name over every slot, and
 * its events (allocations + frees), as far as one scan sees them. */
static void cache_scan(struct kmem_alloc *a, const char *name, int64_t *net, uint64_t *events)
{
    bool reload = false; /* kmalloc keys only: their names are made here */
    bool loaded = false; /* names of new caches loaded once per scan */

    *net = 0;
    *events = 0;
    for (size_t i = 0; i < a->n_slots; i++) {
        const struct kmem_alloc_slot *sl = &a->slots[i];
        uint64_t cache = __atomic_load_n(&sl->cache, __ATOMIC_ACQUIRE), al, fr;
        const struct cache_name *c;
        bool found;
        size_t k;

        if (cache <= KMEM_ALLOC_SLOT_DEAD)
            continue;
        /* Found, or loaded now: never a made-up name (cache_of() would keep it). */
        k = kmem_alloc_cache_find(a, cache & ~KMEM_ALLOC_ACCT, &found);
        if (!found && (cache & (UINT64_C(1) << 63)) && !loaded) {
            loaded = true;
            if (load_cache_names(a) == 0)
                k = kmem_alloc_cache_find(a, cache & ~KMEM_ALLOC_ACCT, &found);
        }
        c = found                           ? &a->caches[k]
            : (cache & (UINT64_C(1) << 63)) ? NULL /* no name yet: not counted, not kept */
                                            : cache_of(a, cache & ~KMEM_ALLOC_ACCT, &reload);
        if (!c || strcmp(c->name, name) != 0)
            continue;
        al = __atomic_load_n(&sl->allocs, __ATOMIC_RELAXED);
        fr = __atomic_load_n(&sl->frees, __ATOMIC_RELAXED);
        *net += (int64_t)(al - fr);
        *events += al + fr;
    }
}

/*
 * Each slot's counts only grow, so for the moment T of the read, between the
 * two scans: |net(T) - first scan's net| <= second scan's events - first
 * scan's (every event after a slot's first read and before T is counted by
 * its second read).
 */
int kmem_alloc_check_mark(struct kmem_alloc *a, const char *slabinfo_path,
                          struct kmem_alloc_check *c, bool end)
{
    struct kmem_buf b;
    struct kmem_slabinfo si;
    struct kmem_parse_error perr = {0};
    int64_t net0, net1;
    uint64_t ev0, ev1;
    long k;
    int rc;

    if (a->mode != KMEM_ALLOC_TRACK || !a->tracking) {
        seterr(a->err, sizeof(a->err), "--alloc-check needs the tracker (live-object tracking)");
        return -EOPNOTSUPP;
    }
    if (load_cache_names(a)) {
        seterr(a->err, sizeof(a->err), "out of memory");
        return -ENOMEM;
    }
    kmem_buf_init(&b, 0);
    memset(&si, 0, sizeof(si));
    cache_scan(a, c->cache, &net0, &ev0);
    rc = kmem_buf_read_file(&b, AT_FDCWD, slabinfo_path, 0);
    cache_scan(a, c->cache, &net1, &ev1);
    if (rc) {
        seterr(a->err, sizeof(a->err), "%s: %s", slabinfo_path, strerror(-rc));
        goto out;
    }
    rc = kmem_slabinfo_parse(b.data, b.len, &si, &perr);
    if (rc) {
        seterr(a->err, sizeof(a->err), "%s:%u: %s", slabinfo_path, perr.line,
               perr.what ? perr.what : strerror(-rc));
        goto out;
    }
    k = kmem_slabinfo_find(&si, c->cache, 0);
    if (k < 0) {
        seterr(a->err, sizeof(a->err), "%s: no cache \"%s\"", slabinfo_path, c->cache);
        rc = -ENOENT;
        goto out;
    }
    c->active[end] = si.v[k].active_objs;
    c->objperslab = si.v[k].objperslab;
    c->net[end] = net0;
    c->in_flight += ev1 - ev0;
    c->done[end] = true;
out:
    kmem_slabinfo_release(&si);
    kmem_buf_free(&b);
    return rc;
}

/* "memlock:" of a map fd in /proc/self/fdinfo: the bytes the kernel charges for it. */
static uint64_t map_memlock(int fd)
{
    char path[64], buf[1024];
    uint64_t v = 0;
    ssize_t len;
    const char *p;
    int f;

    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
    f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return 0;
    len = read(f, buf, sizeof(buf) - 1);
    close(f);
    if (len <= 0)
        return 0;
    buf[len] = '\0';
    p = strstr(buf, "memlock:");
    if (!p)
        return 0;
    for (p += 8; *p == ' ' || *p == '\t'; p++)
        ;
    for (; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    return v;
}

uint64_t kmem_alloc_map_bytes(const struct kmem_alloc *a)
{
    const struct bpf_map *m[] = {a->skel->maps.stats,       a->skel->maps.objs,
                                 a->skel->maps.caches,      a->skel->maps.counters,
                                 a->skel->maps.rate_counts, a->skel->maps.rate_front};
    uint64_t sum = 0;

    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        sum += map_memlock(bpf_map__fd(m[i]));
    return sum;
}
#else
/* ISO C: a translation unit is not empty. */
typedef int kmem_allocread_unused;
#endif
