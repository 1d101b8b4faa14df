/* SPDX-License-Identifier: MIT */
/*
 * Loader of the allocation tracer (src/bpf/kmem_alloc.bpf.c): checks the
 * running kernel, loads and attaches the BPF skeleton, reads its maps, and
 * names cgroup ids and caches. See alloc.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>

#include "alloc.h"
#include "../bpf/kmem_alloc.h"

#ifdef KMEM_HAVE_BPF
#include <linux/capability.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kmem_alloc.skel.h"
#endif

/* A cache key and its name (interned: tables point to it). */
struct cache_name {
    uint64_t key;
    uint32_t size;
    const char *name;
};

/* A memory cgroup id and its identity (strings owned here). */
struct cg_name {
    uint64_t id;
    char *path, *pod, *ns, *ctr;
    bool present; /* found in the last snapshot resolved */
};

struct kmem_alloc {
#ifdef KMEM_HAVE_BPF
    struct kmem_alloc_bpf *skel;
#endif
    bool tracking;
    bool extras; /* bulk and kfree_rcu() paths followed (fentry/fexit) */
    /* The BPF arrays, mmap()ed: (cgroup, cache) slots and live-object buckets. */
    struct kmem_alloc_slot *slots;
    size_t n_slots, slots_len;
    struct kmem_alloc_bucket *buckets;
    size_t n_buckets, buckets_len;
    struct timespec start;
    char err[512];
    struct cache_name *caches; /* sorted by key */
    size_t n_caches, cap_caches;
    char **names; /* every cache name once, sorted */
    size_t n_names, cap_names;
    struct cg_name *cgs; /* sorted by id */
    size_t n_cgs, cap_cgs;
    char **old; /* replaced strings: tables may still point to them */
    size_t n_old, cap_old;
    int ncpus;
};

static void seterr(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (!buf || !len)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

const char *kmem_alloc_strerror(const struct kmem_alloc *a)
{
    return a ? a->err : "";
}

const char *kmem_alloc_kmalloc_name(uint64_t key, char *buf, size_t len)
{
    static const char *const prefix[] = {"kmalloc-", "kmalloc-cg-", "kmalloc-rcl-", "dma-kmalloc-"};
    unsigned type = (unsigned)((key >> 32) & 0xff);
    unsigned size = (unsigned)(key & 0xffffffff);

    if (key & (UINT64_C(1) << 41)) /* KMEM_ALLOC_KFREE */
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

static size_t cg_find(const struct kmem_alloc *a, uint64_t id, bool *found)
{
    size_t lo = 0, hi = a->n_cgs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (a->cgs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < a->n_cgs && a->cgs[lo].id == id;
    return lo;
}

static struct cg_name *cg_insert(struct kmem_alloc *a, uint64_t id)
{
    bool found;
    size_t i = cg_find(a, id, &found);

    if (found)
        return &a->cgs[i];
    if (a->n_cgs == a->cap_cgs) {
        size_t cap = a->cap_cgs ? a->cap_cgs * 2 : 64;
        struct cg_name *p = realloc(a->cgs, cap * sizeof(*p));

        if (!p)
            return NULL;
        a->cgs = p;
        a->cap_cgs = cap;
    }
    memmove(&a->cgs[i + 1], &a->cgs[i], (a->n_cgs - i) * sizeof(*a->cgs));
    a->n_cgs++;
    memset(&a->cgs[i], 0, sizeof(a->cgs[i]));
    a->cgs[i].id = id;
    return &a->cgs[i];
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
    if (*dst && a->n_old == a->cap_old) {
        size_t cap = a->cap_old ? a->cap_old * 2 : 16;
        char **p = realloc(a->old, cap * sizeof(*p));

        if (!p)
            return -ENOMEM;
        a->old = p;
        a->cap_old = cap;
    }
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

#ifdef KMEM_HAVE_BPF

/* ---- cache names, sorted by key ---- */

static size_t cache_find(const struct kmem_alloc *a, uint64_t key, bool *found)
{
    size_t lo = 0, hi = a->n_caches;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (a->caches[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < a->n_caches && a->caches[lo].key == key;
    return lo;
}

/* The one copy of @name: equal names are one pointer, so tables compare caches
 * by pointer (the kmalloc-64 of kmalloc() and of kmem_cache_alloc() merge). */
static const char *intern(struct kmem_alloc *a, const char *name)
{
    size_t lo = 0, hi = a->n_names;
    char *copy;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(a->names[mid], name);

        if (c == 0)
            return a->names[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (a->n_names == a->cap_names) {
        size_t cap = a->cap_names ? a->cap_names * 2 : 256;
        char **p = realloc(a->names, cap * sizeof(*p));

        if (!p)
            return NULL;
        a->names = p;
        a->cap_names = cap;
    }
    copy = strdup(name);
    if (!copy)
        return NULL;
    memmove(&a->names[lo + 1], &a->names[lo], (a->n_names - lo) * sizeof(*a->names));
    a->names[lo] = copy;
    a->n_names++;
    return copy;
}

static struct cache_name *cache_insert(struct kmem_alloc *a, uint64_t key, const char *name)
{
    bool found;
    size_t i = cache_find(a, key, &found);
    const char *in;

    if (found)
        return &a->caches[i];
    in = intern(a, name);
    if (!in)
        return NULL;
    if (a->n_caches == a->cap_caches) {
        size_t cap = a->cap_caches ? a->cap_caches * 2 : 256;
        struct cache_name *p = realloc(a->caches, cap * sizeof(*p));

        if (!p)
            return NULL;
        a->caches = p;
        a->cap_caches = cap;
    }
    memmove(&a->caches[i + 1], &a->caches[i], (a->n_caches - i) * sizeof(*a->caches));
    a->n_caches++;
    memset(&a->caches[i], 0, sizeof(a->caches[i]));
    a->caches[i].key = key;
    a->caches[i].name = in;
    return &a->caches[i];
}

/* ---- checks of the running kernel ---- */

/* The BTF function prototype behind "btf_trace_<tp>", or NULL. */
static const struct btf_type *tp_proto(const struct btf *btf, const char *tp)
{
    char name[64];
    const struct btf_type *t;
    int id;

    snprintf(name, sizeof(name), "btf_trace_%s", tp);
    id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
    if (id < 0)
        return NULL;
    t = btf__type_by_id(btf, (__u32)id);
    t = t ? btf__type_by_id(btf, t->type) : NULL; /* pointer */
    if (!t || !btf_is_ptr(t))
        return NULL;
    t = btf__type_by_id(btf, t->type);
    return t && btf_is_func_proto(t) ? t : NULL;
}

/* Is parameter @i of @proto a pointer to struct @name (through const)? */
static bool param_is_struct_ptr(const struct btf *btf, const struct btf_type *proto, unsigned i,
                                const char *name)
{
    const struct btf_type *t;

    if (i >= btf_vlen(proto))
        return false;
    t = btf__type_by_id(btf, btf_params(proto)[i].type);
    if (!t || !btf_is_ptr(t))
        return false;
    t = btf__type_by_id(btf, t->type);
    while (t && (btf_is_const(t) || btf_is_volatile(t) || btf_is_typedef(t)))
        t = btf__type_by_id(btf, t->type);
    return t && btf_is_struct(t) && strcmp(btf__name_by_offset(btf, t->name_off), name) == 0;
}

/* Value of enumerator @name in any enum of @btf, or -1. */
static long long enum_value(const struct btf *btf, const char *name)
{
    __u32 n = btf__type_cnt(btf);

    for (__u32 id = 1; id < n; id++) {
        const struct btf_type *t = btf__type_by_id(btf, id);

        if (!btf_is_enum(t))
            continue;
        for (unsigned j = 0; j < btf_vlen(t); j++)
            if (strcmp(btf__name_by_offset(btf, btf_enum(t)[j].name_off), name) == 0)
                return btf_enum(t)[j].val;
    }
    return -1;
}

static bool has_cap(const struct __user_cap_data_struct *d, unsigned cap)
{
    return cap < 64 && (d[cap / 32].effective & (1U << (cap % 32))) != 0;
}

/* CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON (Linux 5.8+). */
static bool privileged(void)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct d[2];

    memset(d, 0, sizeof(d));
    if (syscall(SYS_capget, &h, d) != 0)
        return geteuid() == 0;
    return has_cap(d, 21 /* CAP_SYS_ADMIN */) ||
           (has_cap(d, 39 /* CAP_BPF */) && has_cap(d, 38 /* CAP_PERFMON */));
}

/* libbpf's last warning, for the message of a failed load (libbpf's print
 * callback takes no user data: the one static of the library). */
static char libbpf_last[256];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    char line[256];
    size_t n;

    if (level == LIBBPF_DEBUG)
        return 0;
    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
        line[--n] = '\0';
    if (n)
        memcpy(libbpf_last, line, n + 1);
    return 0;
}

static const char *const tracepoints[] = {"kmem_cache_alloc", "kmem_cache_free", "kmalloc",
                                          "kfree"};

struct kernel_bits {
    uint64_t gfp_account, gfp_reclaimable, gfp_dma, slab_account;
    const char *alloc_bulk; /* kmem_cache_alloc_bulk_noprof (6.10+) or kmem_cache_alloc_bulk */
    bool free_bulk, kvfree_call_rcu;
};

/* BTF present, the four tracepoints with their 6.1+ arguments; flag bits. */
static int check_kernel(struct kernel_bits *kb, char *err, size_t errlen)
{
    struct btf *btf;
    const struct btf_type *p;
    long long v;

    btf = btf__load_vmlinux_btf();
    if (!btf) {
        const char *why =
            access("/sys/kernel/btf/vmlinux", R_OK) != 0 ? strerror(errno) : "not a valid BTF file";

        seterr(err, errlen,
               "this kernel has no usable BTF (/sys/kernel/btf/vmlinux: %s); tracing "
               "allocations needs a kernel built with CONFIG_DEBUG_INFO_BTF=y",
               why);
        return -ENOTSUP;
    }
    for (size_t i = 0; i < sizeof(tracepoints) / sizeof(tracepoints[0]); i++) {
        if (!tp_proto(btf, tracepoints[i])) {
            seterr(err, errlen,
                   "this kernel has no %s tracepoint in its BTF (needs CONFIG_TRACEPOINTS "
                   "and Linux 6.1 or later)",
                   tracepoints[i]);
            btf__free(btf);
            return -ENOTSUP;
        }
    }
    /* Linux 6.1 passes the struct kmem_cache to both; before, sizes only. */
    p = tp_proto(btf, "kmem_cache_alloc");
    if (!param_is_struct_ptr(btf, p, 3, "kmem_cache") ||
        !param_is_struct_ptr(btf, tp_proto(btf, "kmem_cache_free"), 3, "kmem_cache") ||
        btf_vlen(tp_proto(btf, "kmalloc")) < 6) {
        seterr(err, errlen,
               "this kernel's slab tracepoints do not pass the cache (Linux before 6.1): "
               "tracing allocations needs Linux 6.1 or later");
        btf__free(btf);
        return -ENOTSUP;
    }
    /* Flag bits: enums in newer kernels, #defines (not in BTF) before. */
    v = enum_value(btf, "___GFP_ACCOUNT_BIT");
    kb->gfp_account = v >= 0 && v < 64 ? UINT64_C(1) << v : 0x400000;
    v = enum_value(btf, "___GFP_RECLAIMABLE_BIT");
    kb->gfp_reclaimable = v >= 0 && v < 64 ? UINT64_C(1) << v : 0x10;
    v = enum_value(btf, "___GFP_DMA_BIT");
    kb->gfp_dma = v >= 0 && v < 64 ? UINT64_C(1) << v : 0x01;
    /* Functions for the fentry/fexit programs, where they exist. */
    kb->alloc_bulk = NULL;
    if (btf__find_by_name_kind(btf, "kmem_cache_alloc_bulk_noprof", BTF_KIND_FUNC) > 0)
        kb->alloc_bulk = "kmem_cache_alloc_bulk_noprof";
    else if (btf__find_by_name_kind(btf, "kmem_cache_alloc_bulk", BTF_KIND_FUNC) > 0)
        kb->alloc_bulk = "kmem_cache_alloc_bulk";
    kb->free_bulk = btf__find_by_name_kind(btf, "kmem_cache_free_bulk", BTF_KIND_FUNC) > 0;
    kb->kvfree_call_rcu = btf__find_by_name_kind(btf, "kvfree_call_rcu", BTF_KIND_FUNC) > 0;
    v = enum_value(btf, "_SLAB_ACCOUNT");
    kb->slab_account = v >= 0 && v < 64 ? UINT64_C(1) << v : 0x04000000;
    btf__free(btf);
    return 0;
}

/* Bytes mmap() covers of an array map: its values, page-aligned. */
static size_t map_len(size_t n, size_t value_size)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t len = n * value_size, pg = page > 0 ? (size_t)page : 4096;

    return (len + pg - 1) / pg * pg;
}

static void unmap_tables(struct kmem_alloc *a)
{
    if (a->slots && a->slots != MAP_FAILED)
        munmap(a->slots, a->slots_len);
    if (a->buckets && a->buckets != MAP_FAILED)
        munmap(a->buckets, a->buckets_len);
    a->slots = NULL;
    a->buckets = NULL;
}

/* Open, size, load and attach the skeleton; @extras: the fentry/fexit programs too. */
static int load_tracer(struct kmem_alloc *a, const struct kmem_alloc_opts *o,
                       const struct kernel_bits *kb, bool extras, char *err, size_t errlen)
{
    struct kmem_alloc_bpf *sk;
    long page = sysconf(_SC_PAGESIZE);
    int rc;

    libbpf_last[0] = '\0';
    sk = kmem_alloc_bpf__open();
    if (!sk) {
        rc = -errno;
        seterr(err, errlen, "cannot open the BPF tracer: %s", strerror(errno));
        return rc;
    }
    sk->rodata->track = a->tracking;
    sk->rodata->empty = o->empty_programs;
    sk->rodata->gfp_account = kb->gfp_account;
    sk->rodata->gfp_reclaimable = kb->gfp_reclaimable;
    sk->rodata->gfp_dma = kb->gfp_dma;
    sk->rodata->slab_account = kb->slab_account;
    sk->rodata->kmalloc_max = (__u32)(page > 0 ? page * 2 : 8192);
    /* (cgroup, cache) slots: 1.5 to 3 times the keys asked for (a power of
     * two), so that probes stay short. */
    {
        uint64_t want = o->max_keys ? o->max_keys : KMEM_ALLOC_DEFAULT_KEYS;
        uint32_t bits = 10;

        while (bits < 28 && (UINT64_C(1) << bits) < want + want / 2)
            bits++;
        sk->rodata->stats_bits = bits;
        bpf_map__set_max_entries(sk->maps.stats, UINT32_C(1) << bits);
    }
    /* The live-object table: 2^bits buckets of KMEM_ALLOC_WAYS slots. */
    {
        uint32_t want = o->max_objects ? o->max_objects : KMEM_ALLOC_DEFAULT_OBJECTS;
        uint32_t bits = 1;

        while (bits < 26 && ((uint32_t)KMEM_ALLOC_WAYS << bits) < want)
            bits++;
        sk->rodata->obj_bits = bits;
        bpf_map__set_max_entries(sk->maps.objs, a->tracking ? UINT32_C(1) << bits : 1);
    }
    /* Second programs (for events in interrupts while the first one runs):
     * on the free tracepoints with live-object tracking, where a missed free
     * would leave an object "live"; each costs a call per event. */
    sk->rodata->nested_free = a->tracking;
    sk->rodata->nested_alloc = false;
    bpf_program__set_autoload(sk->progs.kmem_cache_free_nested, a->tracking);
    bpf_program__set_autoload(sk->progs.kfree_nested, a->tracking);
    bpf_program__set_autoload(sk->progs.kmem_cache_alloc_nested, false);
    bpf_program__set_autoload(sk->progs.kmalloc_nested, false);
    bpf_program__set_autoload(sk->progs.kmem_cache_alloc_bulk, extras && kb->alloc_bulk);
    if (extras && kb->alloc_bulk)
        bpf_program__set_attach_target(sk->progs.kmem_cache_alloc_bulk, 0, kb->alloc_bulk);
    bpf_program__set_autoload(sk->progs.kmem_cache_free_bulk, extras && kb->free_bulk);
    bpf_program__set_autoload(sk->progs.kvfree_call_rcu,
                              extras && kb->kvfree_call_rcu && a->tracking);
    rc = kmem_alloc_bpf__load(sk);
    if (rc) {
        rc = rc < 0 ? rc : -EINVAL;
        if (rc == -EPERM || rc == -EACCES)
            seterr(err, errlen,
                   "the kernel refused to load the BPF tracer (%s): needs root, or CAP_BPF "
                   "and CAP_PERFMON; kernel lockdown (/sys/kernel/security/lockdown) "
                   "also forbids it%s%s",
                   strerror(-rc), libbpf_last[0] ? "; libbpf: " : "", libbpf_last);
        else
            seterr(err, errlen, "cannot load the BPF tracer: %s%s%s", strerror(-rc),
                   libbpf_last[0] ? "; libbpf: " : "", libbpf_last);
        kmem_alloc_bpf__destroy(sk);
        return rc;
    }
    rc = kmem_alloc_bpf__attach(sk);
    if (rc) {
        rc = rc < 0 ? rc : -EINVAL;
        seterr(err, errlen, "cannot attach the BPF tracer to the slab tracepoints: %s%s%s",
               strerror(-rc), libbpf_last[0] ? "; libbpf: " : "", libbpf_last);
        kmem_alloc_bpf__destroy(sk);
        return rc;
    }
    a->n_slots = bpf_map__max_entries(sk->maps.stats);
    a->slots_len = map_len(a->n_slots, sizeof(struct kmem_alloc_slot));
    a->slots = mmap(NULL, a->slots_len, PROT_READ | PROT_WRITE, MAP_SHARED,
                    bpf_map__fd(sk->maps.stats), 0);
    a->n_buckets = bpf_map__max_entries(sk->maps.objs);
    a->buckets_len = map_len(a->n_buckets, sizeof(struct kmem_alloc_bucket));
    a->buckets = mmap(NULL, a->buckets_len, PROT_READ, MAP_SHARED, bpf_map__fd(sk->maps.objs), 0);
    if (a->slots == MAP_FAILED || a->buckets == MAP_FAILED) {
        rc = -errno;
        seterr(err, errlen, "cannot map the BPF tracer's tables: %s", strerror(errno));
        unmap_tables(a);
        kmem_alloc_bpf__destroy(sk);
        return rc;
    }
    a->skel = sk;
    a->extras = extras && (kb->alloc_bulk || kb->free_bulk || kb->kvfree_call_rcu);
    return 0;
}

int kmem_alloc_open(struct kmem_alloc **out, const struct kmem_alloc_opts *o, char *err,
                    size_t errlen)
{
    struct kmem_alloc_opts def = {0};
    struct kernel_bits kb;
    struct kmem_alloc *a;
    int rc;

    *out = NULL;
    if (!o)
        o = &def;
    libbpf_set_print(libbpf_print);
    rc = check_kernel(&kb, err, errlen);
    if (!rc && !privileged()) {
        seterr(err, errlen,
               "tracing allocations with BPF needs root, or CAP_BPF and CAP_PERFMON "
               "(CAP_SYS_ADMIN before Linux 5.8)");
        rc = -EPERM;
    }
    if (rc) {
        libbpf_set_print(NULL);
        return rc;
    }
    a = calloc(1, sizeof(*a));
    if (!a) {
        libbpf_set_print(NULL);
        seterr(err, errlen, "out of memory");
        return -ENOMEM;
    }
    a->tracking = !o->counts_only && !o->empty_programs;
    a->ncpus = libbpf_num_possible_cpus();
    /* fentry/fexit (trampolines) are missing on some kernels and arches, or
     * refused by a security module: then without them. */
    rc = load_tracer(a, o, &kb, true, err, errlen);
    if (rc)
        rc = load_tracer(a, o, &kb, false, err, errlen);
    libbpf_set_print(NULL);
    if (rc) {
        free(a);
        return rc;
    }
    clock_gettime(CLOCK_MONOTONIC, &a->start);
    *out = a;
    return 0;
}

void kmem_alloc_close(struct kmem_alloc *a)
{
    if (!a)
        return;
    unmap_tables(a);
    kmem_alloc_bpf__destroy(a->skel);
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
    for (size_t i = 0; i < a->n_old; i++)
        free(a->old[i]);
    free(a->old);
    free(a);
}

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
        cache_find(a, key, &found);
        if (found || bpf_map_lookup_elem(fd, &key, &c) != 0)
            continue;
        c.name[sizeof(c.name) - 1] = '\0';
        for (char *s = c.name; *s; s++)
            if ((unsigned char)*s < 0x20 || *s == 0x7f)
                *s = '?';
        n = cache_insert(a, key, c.name[0] ? c.name : "?");
        if (!n)
            return -ENOMEM;
        n->size = c.size;
    }
    return 0;
}

static const struct cache_name *cache_of(struct kmem_alloc *a, uint64_t key, bool *reload)
{
    bool found;
    size_t i = cache_find(a, key, &found);
    struct cache_name *n;
    char name[64];

    if (found)
        return &a->caches[i];
    if (key & (UINT64_C(1) << 63)) { /* a kernel address: a named cache */
        if (*reload) {
            *reload = false;
            if (load_cache_names(a) == 0) {
                i = cache_find(a, key, &found);
                if (found)
                    return &a->caches[i];
            }
        }
        snprintf(name, sizeof(name), "cache@%llx", (unsigned long long)key);
        return cache_insert(a, key, name);
    }
    n = cache_insert(a, key, kmem_alloc_kmalloc_name(key, name, sizeof(name)));
    if (!n)
        return NULL;
    n->size = (key & (UINT64_C(1) << 41)) || ((key >> 32) & 0xff) == KMEM_ALLOC_KM_LARGE
                  ? 0
                  : (uint32_t)(key & 0xffffffff);
    return n;
}

static int table_push(struct kmem_alloc_table *t, struct kmem_alloc_entry **e)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        struct kmem_alloc_entry *p = realloc(t->v, cap * sizeof(*p));

        if (!p)
            return -ENOMEM;
        t->v = p;
        t->cap = cap;
    }
    *e = &t->v[t->n++];
    memset(*e, 0, sizeof(**e));
    return 0;
}

/* What is sorted: small records, not the entries themselves (200000 entries
 * of 130 bytes sorted in place cost more than reading them from the kernel). */
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
static int merge_same_name(struct kmem_alloc_table *t)
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
    qsort(r, t->n, sizeof(*r), cmp_rec);
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
        {a->skel->progs.kfree, a->skel->progs.kfree_nested},
        {a->skel->progs.kmem_cache_alloc_bulk, NULL},
        {a->skel->progs.kmem_cache_free_bulk, NULL},
        {a->skel->progs.kvfree_call_rcu, NULL}};
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

int kmem_alloc_read(struct kmem_alloc *a, struct kmem_alloc_table *t)
{
    struct timespec now;
    bool reload = true;
    __u64 *percpu;
    int rc = 0;

    t->n = 0;
    t->tracking = a->tracking;
    t->bulk_traced = a->extras;
    clock_gettime(CLOCK_MONOTONIC, &now);
    t->seconds =
        (double)(now.tv_sec - a->start.tv_sec) + (double)(now.tv_nsec - a->start.tv_nsec) / 1e9;
    percpu = calloc((size_t)(a->ncpus > 0 ? a->ncpus : 1), sizeof(*percpu));
    if (!percpu) {
        seterr(a->err, sizeof(a->err), "out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < a->n_slots; i++) {
        const struct kmem_alloc_slot *sl = &a->slots[i];
        /* The cache word is published last (after the cgid): acquire. */
        uint64_t cache = __atomic_load_n(&sl->cache, __ATOMIC_ACQUIRE);
        const struct cache_name *c;
        struct kmem_alloc_entry *e;

        if (cache <= KMEM_ALLOC_SLOT_DEAD)
            continue;
        rc = table_push(t, &e);
        if (rc) {
            seterr(a->err, sizeof(a->err), "out of memory");
            goto out;
        }
        c = cache_of(a, cache & ~KMEM_ALLOC_ACCT, &reload);
        kmem_alloc_entry_counts(e, sl, cache, c ? c->size : 0);
        e->cache = c ? c->name : "?";
        e->cgroup = "";
        e->pod_name = e->namespace_name = e->container_name = "";
    }
    /* One key may have two slots (added by two CPUs at once); a cache has
     * two keys when some of its allocations were charged and some not. */
    rc = merge_same_name(t);
    if (rc) {
        seterr(a->err, sizeof(a->err), "out of memory");
        goto out;
    }
    t->events = 0;
    for (size_t i = 0; i < t->n; i++)
        t->events += t->v[i].allocs + t->v[i].frees;
    t->missed = missed_events(a);
    /* Per-CPU counters. */
    {
        uint64_t *dst[] = {&t->dropped, &t->reused, &t->not_tracked};
        int cfd = bpf_map__fd(a->skel->maps.counters);

        for (__u32 k = 0; k < KMEM_ALLOC_COUNTER_COUNT; k++) {
            *dst[k] = 0;
            if (bpf_map_lookup_elem(cfd, &k, percpu) != 0)
                continue;
            for (int c = 0; c < a->ncpus; c++)
                *dst[k] += percpu[c];
        }
    }
out:
    free(percpu);
    return rc;
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

int kmem_alloc_forget(struct kmem_alloc *a, const uint64_t *gone, size_t n)
{
    if (!n)
        return 0;
    for (size_t i = 0; i < a->n_slots; i++) {
        struct kmem_alloc_slot *sl = &a->slots[i];
        uint64_t cache = __atomic_load_n(&sl->cache, __ATOMIC_ACQUIRE), id;
        size_t lo = 0, hi = n;

        if (cache <= KMEM_ALLOC_SLOT_DEAD)
            continue;
        id = load_u64(&sl->cgid);
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (gone[mid] == id) {
                /* The BPF side may claim it again, for any key; frees of
                 * objects it counted are no longer credited (their cgid differs). */
                __atomic_store_n(&sl->cache, KMEM_ALLOC_SLOT_DEAD, __ATOMIC_RELEASE);
                break;
            }
            if (gone[mid] < id)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    return 0;
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
    const struct bpf_map *m[] = {a->skel->maps.stats, a->skel->maps.objs, a->skel->maps.caches,
                                 a->skel->maps.counters};
    uint64_t sum = 0;

    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        sum += map_memlock(bpf_map__fd(m[i]));
    return sum;
}

#else /* !KMEM_HAVE_BPF */

int kmem_alloc_open(struct kmem_alloc **out, const struct kmem_alloc_opts *o, char *err,
                    size_t errlen)
{
    (void)o;
    *out = NULL;
    seterr(err, errlen,
           "this kmem was built without BPF support (clang, bpftool, libbpf-dev or the "
           "kernel's BTF were missing at build time); rebuild after scripts/deps.sh");
    return -ENOTSUP;
}

void kmem_alloc_close(struct kmem_alloc *a)
{
    free(a);
}

int kmem_alloc_read(struct kmem_alloc *a, struct kmem_alloc_table *t)
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

#endif
