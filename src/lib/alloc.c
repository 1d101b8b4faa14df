/* SPDX-License-Identifier: MIT */
/*
 * The allocation tracer's loader, the part without BPF: cache and cgroup
 * names, the tables handed out, kmalloc size-class names. The rest is in
 * allocbpf.c (kernel checks, load, attach) and allocread.c (reading the
 * maps); alloc_int.h is what they share. See alloc.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <linux/types.h>

#include "alloc_int.h"
#include "buf.h"
#include "hindex.h"
#include "../bpf/kmem_alloc.h"
#include "sort.h"

/* The counters' enum indexes arrays of the same length in allocread.c. */
_Static_assert(KMEM_ALLOC_COUNTER_COUNT == 3, "kmem_alloc_read() reads three counters");

const char *kmem_alloc_strerror(const struct kmem_alloc *a)
{
    return a ? a->err : "";
}

size_t kmem_alloc_lower_bound(const void *base, size_t n, size_t size, const void *key,
                              int (*cmp)(const void *key, const void *elem), bool *found)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (cmp(key, (const char *)base + mid * size) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < n && cmp(key, (const char *)base + lo * size) == 0;
    return lo;
}

/*
 * A zeroed element opened at index @i of the array *@v (*@n elements of
 * @size bytes, room for *@cap): the ones from @i on move up one. The sorted
 * name tables insert where kmem_alloc_lower_bound() says, the entry tables
 * at the end. NULL on -ENOMEM (the array unchanged).
 */
static void *insert_at(void **v, size_t *cap, size_t *n, size_t i, size_t size)
{
    char *p;

    if (kmem_grow(v, cap, *n + 1, size))
        return NULL;
    p = (char *)*v + i * size;
    memmove(p + size, p, (*n - i) * size);
    memset(p, 0, size);
    (*n)++;
    return p;
}

const char *kmem_alloc_kmalloc_name(uint64_t key, char *buf, size_t len)
{
    static const char *const prefix[] = {"kmalloc-", "kmalloc-cg-", "kmalloc-rcl-", "dma-kmalloc-"};
    unsigned type = (unsigned)((key >> 32) & 0xff);
    unsigned size = (unsigned)(key & 0xffffffff);

    if (key & KMEM_ALLOC_KFREE)
        snprintf(buf, len, "kfree");
    else if (type >= sizeof(prefix) / sizeof(prefix[0]))
        snprintf(buf, len, "kmalloc-large");
    else if (size >= 1024 && size % 1024 == 0)
        snprintf(buf, len, "%s%uk", prefix[type], size / 1024);
    else
        snprintf(buf, len, "%s%u", prefix[type], size);
    return buf;
}

/* Races with the BPF programs are benign: each word is read once, whole. */
static uint64_t load_u64(const __u64 *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void kmem_alloc_entry_counts(struct kmem_alloc_entry *e, const struct kmem_alloc_slot *sl,
                             uint64_t cache, uint32_t objsize)
{
    e->cgid = load_u64(&sl->cgid);
    e->cache_key = cache & ~KMEM_ALLOC_ACCT;
    e->objsize = objsize;
    e->allocs = load_u64(&sl->allocs);
    e->frees = load_u64(&sl->frees);
    e->nf_allocs = load_u64(&sl->nf_allocs);
    /* One object size per key but kmalloc-large's: its bytes are counted. */
    if (objsize) {
        e->bytes_alloc = e->allocs * objsize;
        e->bytes_freed = e->frees * objsize;
        e->nf_bytes = e->nf_allocs * objsize;
    } else {
        e->bytes_alloc = load_u64(&sl->bytes_alloc);
        e->bytes_freed = load_u64(&sl->bytes_freed);
        e->nf_bytes = load_u64(&sl->nf_bytes);
    }
    e->acc_allocs = cache & KMEM_ALLOC_ACCT ? e->allocs : 0;
    e->acc_bytes = cache & KMEM_ALLOC_ACCT ? e->bytes_alloc : 0;
}

void kmem_alloc_table_free(struct kmem_alloc_table *t)
{
    if (!t)
        return;
    free(t->v);
    memset(t, 0, sizeof(*t));
}

static int cmp_cg(const void *key, const void *elem)
{
    uint64_t id = *(const uint64_t *)key, e = ((const struct cg_name *)elem)->id;

    return id < e ? -1 : id > e;
}

static size_t cg_find(const struct kmem_alloc *a, uint64_t id, bool *found)
{
    return kmem_alloc_lower_bound(a->cgs, a->n_cgs, sizeof(*a->cgs), &id, cmp_cg, found);
}

static struct cg_name *cg_insert(struct kmem_alloc *a, uint64_t id)
{
    bool found;
    size_t i = cg_find(a, id, &found);
    struct cg_name *n;

    if (found)
        return &a->cgs[i];
    n = insert_at((void **)&a->cgs, &a->cap_cgs, &a->n_cgs, i, sizeof(*a->cgs));
    if (n)
        n->id = id;
    return n;
}

/* Replace *dst by a copy of @src unless equal; the old string is kept until
 * kmem_alloc_close() (tables point to it). -ENOMEM leaves *dst. */
static int set_str(struct kmem_alloc *a, char **dst, const char *src)
{
    char *c;

    if (!src)
        src = "";
    if (*dst && strcmp(*dst, src) == 0)
        return 0;
    if (*dst && kmem_grow((void **)&a->old, &a->cap_old, a->n_old + 1, sizeof(*a->old)))
        return -ENOMEM;
    c = strdup(src);
    if (!c)
        return -ENOMEM;
    if (*dst)
        a->old[a->n_old++] = *dst;
    *dst = c;
    return 0;
}

int kmem_alloc_resolve(struct kmem_alloc *a, struct kmem_ctx *ctx, const struct kmem_snapshot *snap,
                       struct kmem_alloc_table *t)
{
    const struct kmem_cgroups *cgs = &snap->cgroups;
    const char *root = kmem_ctx_root(ctx);
    size_t rl = strlen(root);
    char path[4096];

    if (!snap->status[KMEM_PART_CGROUPS].err && cgs->mount) {
        for (size_t i = 0; i < a->n_cgs; i++)
            a->cgs[i].present = false;
        for (size_t i = 0; i < cgs->n; i++) {
            const struct kmem_cgroup *cg = &cgs->v[i];
            const char *p = cg->path && strcmp(cg->path, "/") ? cg->path : "";
            struct cg_name *n;
            struct stat st;
            int len;

            len = snprintf(path, sizeof(path), "%s%s%s%s", root,
                           rl && root[rl - 1] == '/' ? "" : "/", cgs->mount, p);
            if (len < 0 || (size_t)len >= sizeof(path) || stat(path, &st) != 0)
                continue; /* removed meanwhile, or unreachable */
            n = cg_insert(a, (uint64_t)st.st_ino);
            if (!n)
                return -ENOMEM;
            if (set_str(a, &n->path, cg->path ? cg->path : "/") ||
                set_str(a, &n->pod, cg->pod_name) || set_str(a, &n->ns, cg->namespace_name) ||
                set_str(a, &n->ctr, cg->container_name))
                return -ENOMEM;
            n->present = true;
        }
    }
    for (size_t i = 0; i < t->n; i++) {
        struct kmem_alloc_entry *e = &t->v[i];
        struct cg_name *n;
        bool found;
        size_t j;

        e->pod_name = e->namespace_name = e->container_name = "";
        e->removed = false;
        if (e->cgid == KMEM_ALLOC_CGID_IRQ) {
            e->cgroup = "(interrupt)";
            continue;
        }
        if (e->cgid == KMEM_ALLOC_CGID_UNTRACKED) {
            e->cgroup = "(allocated before the trace)";
            continue;
        }
        j = cg_find(a, e->cgid, &found);
        if (found) {
            n = &a->cgs[j];
        } else {
            /* Never seen in a snapshot: created and removed in between, or
             * outside the hierarchy walked. Keep a name for its id. */
            n = cg_insert(a, e->cgid);
            if (!n)
                return -ENOMEM;
            snprintf(path, sizeof(path), "(cgroup id %llu)", (unsigned long long)e->cgid);
            if (set_str(a, &n->path, path) || set_str(a, &n->pod, "") || set_str(a, &n->ns, "") ||
                set_str(a, &n->ctr, ""))
                return -ENOMEM;
        }
        e->cgroup = n->path;
        e->pod_name = n->pod;
        e->namespace_name = n->ns;
        e->container_name = n->ctr;
        e->removed = !n->present;
    }
    return 0;
}

/* ---- cache names, sorted by key ---- */

static int cmp_cache(const void *key, const void *elem)
{
    uint64_t k = *(const uint64_t *)key, e = ((const struct cache_name *)elem)->key;

    return k < e ? -1 : k > e;
}

size_t kmem_alloc_cache_find(const struct kmem_alloc *a, uint64_t key, bool *found)
{
    return kmem_alloc_lower_bound(a->caches, a->n_caches, sizeof(*a->caches), &key, cmp_cache,
                                  found);
}

/* The one copy of @name: equal names are one pointer, so tables compare caches
 * by pointer (the kmalloc-64 of kmalloc() and of kmem_cache_alloc() merge).
 * The copies are found through the library's hash index over a->names. */
static const char *intern(struct kmem_alloc *a, const char *name)
{
    uint64_t h = kmem_hash_str(name);
    size_t it;
    char *copy;

    for (long i = kmem_hindex_first(&a->name_ix, h, &it); i >= 0;
         i = kmem_hindex_next(&a->name_ix, &it))
        if (strcmp(a->names[i], name) == 0)
            return a->names[i];
    if (kmem_grow((void **)&a->names, &a->cap_names, a->n_names + 1, sizeof(*a->names)))
        return NULL;
    copy = strdup(name);
    if (!copy)
        return NULL;
    a->names[a->n_names++] = copy;
    /* The index stays at most half full: past that, rebuilt twice as large. */
    if (a->n_names * 2 > a->name_ix.size) {
        if (kmem_hindex_reset(&a->name_ix, a->n_names * 2)) {
            a->n_names--;
            free(copy);
            return NULL;
        }
        for (size_t i = 0; i < a->n_names; i++)
            kmem_hindex_add(&a->name_ix, kmem_hash_str(a->names[i]), i);
    } else {
        kmem_hindex_add(&a->name_ix, h, a->n_names - 1);
    }
    return copy;
}

struct cache_name *kmem_alloc_cache_insert(struct kmem_alloc *a, uint64_t key, const char *name)
{
    bool found;
    size_t i = kmem_alloc_cache_find(a, key, &found);
    const char *in;
    struct cache_name *n;

    if (found)
        return &a->caches[i];
    in = intern(a, name);
    if (!in)
        return NULL;
    n = insert_at((void **)&a->caches, &a->cap_caches, &a->n_caches, i, sizeof(*a->caches));
    if (n) {
        n->key = key;
        n->name = in;
    }
    return n;
}

void kmem_alloc_free_names(struct kmem_alloc *a)
{
    for (size_t i = 0; i < a->n_cgs; i++) {
        free(a->cgs[i].path);
        free(a->cgs[i].pod);
        free(a->cgs[i].ns);
        free(a->cgs[i].ctr);
    }
    free(a->cgs);
    free(a->caches);
    for (size_t i = 0; i < a->n_names; i++)
        free(a->names[i]);
    free(a->names);
    kmem_hindex_free(&a->name_ix);
    for (size_t i = 0; i < a->n_old; i++)
        free(a->old[i]);
    free(a->old);
}

/* ---- tables ---- */

int kmem_alloc_table_push(struct kmem_alloc_table *t, struct kmem_alloc_entry **e)
{
    *e = insert_at((void **)&t->v, &t->cap, &t->n, t->n, sizeof(*t->v));
    return *e ? 0 : -ENOMEM;
}

struct sort_rec {
    uint64_t cgid;
    const char *cache;
    size_t i;
};

static int cmp_rec(const void *pa, const void *pb)
{
    const struct sort_rec *a = pa, *b = pb;
    int c = kmem_alloc_entry_cmp(a->cgid, a->cache, b->cgid, b->cache);

    return c ? c : (a->i < b->i ? -1 : a->i > b->i);
}

static void add_entry(struct kmem_alloc_entry *d, const struct kmem_alloc_entry *e)
{
    d->allocs += e->allocs;
    d->frees += e->frees;
    d->bytes_alloc += e->bytes_alloc;
    d->bytes_freed += e->bytes_freed;
    d->acc_allocs += e->acc_allocs;
    d->acc_bytes += e->acc_bytes;
    d->nf_allocs += e->nf_allocs;
    d->nf_bytes += e->nf_bytes;
    if (!d->objsize)
        d->objsize = e->objsize;
}

/* Sort by kmem_alloc_entry_cmp() and fold entries of one cache seen under two
 * keys: a kmalloc cache reached both through kmalloc() (a size class) and
 * through kmem_cache_alloc() on the cache itself. */
int kmem_alloc_merge_same_name(struct kmem_alloc_table *t)
{
    struct kmem_alloc_entry *out;
    struct sort_rec *r;
    size_t o = 0;

    if (t->n < 2)
        return 0;
    r = malloc(t->n * sizeof(*r));
    out = malloc(t->cap * sizeof(*out));
    if (!r || !out) {
        free(r);
        free(out);
        return -ENOMEM;
    }
    for (size_t i = 0; i < t->n; i++)
        r[i] = (struct sort_rec){t->v[i].cgid, t->v[i].cache, i};
    kmem_sort(r, t->n, sizeof(*r), cmp_rec);
    out[0] = t->v[r[0].i];
    for (size_t i = 1; i < t->n; i++) {
        const struct kmem_alloc_entry *e = &t->v[r[i].i];

        if (kmem_alloc_entry_cmp(out[o].cgid, out[o].cache, e->cgid, e->cache) == 0)
            add_entry(&out[o], e);
        else
            out[++o] = *e;
    }
    free(r);
    free(t->v);
    t->v = out;
    t->n = o + 1;
    return 0;
}

#ifndef KMEM_HAVE_BPF
/* Built without the BPF tracer (clang, bpftool, libbpf-dev or BTF missing):
 * every entry point says so. */
int kmem_alloc_open(struct kmem_alloc **out, const struct kmem_alloc_opts *o, char *err,
                    size_t errlen)
{
    (void)o;
    *out = NULL;
    kmem_msgf(err, errlen,
              "this kmem was built without BPF support (clang, bpftool, libbpf-dev or "
              "the kernel's BTF were missing at build time); rebuild after scripts/deps.sh");
    return -ENOTSUP;
}

void kmem_alloc_close(struct kmem_alloc *a)
{
    free(a);
}

const char *kmem_alloc_rates_source(const struct kmem_alloc *a)
{
    (void)a;
    return "";
}

int kmem_alloc_read(struct kmem_alloc *a, struct kmem_alloc_table *t)
{
    (void)a;
    (void)t;
    return -ENOTSUP;
}

int kmem_alloc_window_start(struct kmem_alloc *a)
{
    (void)a;
    return -ENOTSUP;
}

int kmem_alloc_window_stop(struct kmem_alloc *a, struct kmem_alloc_table *t)
{
    (void)a;
    (void)t;
    return -ENOTSUP;
}

int kmem_alloc_live_objects(struct kmem_alloc *a, uint64_t *n)
{
    (void)a;
    *n = 0;
    return -ENOTSUP;
}

uint64_t kmem_alloc_live_capacity(const struct kmem_alloc *a)
{
    (void)a;
    return 0;
}

int kmem_alloc_reset_live(struct kmem_alloc *a)
{
    (void)a;
    return -ENOTSUP;
}

int kmem_alloc_forget(struct kmem_alloc *a, const uint64_t *gone, size_t n)
{
    (void)a;
    (void)gone;
    (void)n;
    return -ENOTSUP;
}

uint64_t kmem_alloc_map_bytes(const struct kmem_alloc *a)
{
    (void)a;
    return 0;
}

int kmem_alloc_check_mark(struct kmem_alloc *a, const char *slabinfo_path,
                          struct kmem_alloc_check *c, bool end)
{
    (void)a;
    (void)slabinfo_path;
    (void)c;
    (void)end;
    return -ENOTSUP;
}
#endif
