/* SPDX-License-Identifier: MIT */
/*
 * The allocation tracer's loader, BPF part: checks of the running kernel,
 * loading and attaching the skeleton (src/bpf/kmem_alloc.bpf.c), the rates
 * mode's windows. See alloc.h; alloc_int.h for the parts it shares.
 */
#ifdef KMEM_HAVE_BPF
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/types.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "alloc_int.h"
#include "bpflog.h"
#include "buf.h"
#include "kmem_alloc.h"
#include "kmem_alloc.skel.h"

#define seterr kmem_msgf

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

static const char *const tracepoints[] = {"kmem_cache_alloc", "kmem_cache_free", "kmalloc",
                                          "kfree"};

struct kernel_bits {
    uint64_t gfp_account, gfp_reclaimable, gfp_dma, slab_account;
    const char *alloc_bulk; /* kmem_cache_alloc_bulk_noprof (6.10+) or kmem_cache_alloc_bulk */
    bool free_bulk, kvfree_call_rcu;
    bool kvfree_old_abi; /* 6.1: kvfree_call_rcu(struct rcu_head *, rcu_callback_t) */
    unsigned memcg_hook; /* parameters of __memcg_slab_post_alloc_hook (5: 6.10+, 6: 7.0+), or 0 */
    bool kmem_cache_kfunc; /* bpf_get_kmem_cache() (6.13+) */
};

/* Is the function @name there with a parameter @i that is a pointer to a function? */
static bool param_is_func_ptr(const struct btf *btf, const char *name, unsigned i)
{
    int id = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC);
    const struct btf_type *t = id > 0 ? btf__type_by_id(btf, (__u32)id) : NULL;

    t = t ? btf__type_by_id(btf, t->type) : NULL;
    if (!t || !btf_is_func_proto(t) || i >= btf_vlen(t))
        return false;
    t = btf__type_by_id(btf, btf_params(t)[i].type);
    while (t && (btf_is_const(t) || btf_is_volatile(t) || btf_is_typedef(t)))
        t = btf__type_by_id(btf, t->type);
    if (!t || !btf_is_ptr(t))
        return false;
    t = btf__type_by_id(btf, t->type);
    return t && btf_is_func_proto(t);
}

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
    kb->kvfree_old_abi = param_is_func_ptr(btf, "kvfree_call_rcu", 1);
    kb->kmem_cache_kfunc = btf__find_by_name_kind(btf, "bpf_get_kmem_cache", BTF_KIND_FUNC) > 0;
    {
        int id = btf__find_by_name_kind(btf, "__memcg_slab_post_alloc_hook", BTF_KIND_FUNC);
        const struct btf_type *f = id > 0 ? btf__type_by_id(btf, (__u32)id) : NULL;
        const struct btf_type *fp = f ? btf__type_by_id(btf, f->type) : NULL;

        /* (s, lru, flags, size, p) from 6.10; (s, lru, flags, slab_alloc_flags, size,
         * p) from 7.0 */
        kb->memcg_hook = fp && btf_is_func_proto(fp) && (btf_vlen(fp) == 5 || btf_vlen(fp) == 6) &&
                                 param_is_struct_ptr(btf, fp, 0, "kmem_cache")
                             ? btf_vlen(fp)
                             : 0;
    }
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

/* Open, size, load (and, but for the rates mode, attach) the skeleton;
 * @extras: the fentry/fexit programs too. */
static int load_tracer(struct kmem_alloc *a, const struct kmem_alloc_opts *o,
                       const struct kernel_bits *kb, bool extras, bool ctx_void, char *err,
                       size_t errlen)
{
    struct kmem_alloc_bpf *sk;
    long page = sysconf(_SC_PAGESIZE);
    bool rates = a->mode == KMEM_ALLOC_RATES, hook = rates && extras && kb->memcg_hook;
    int rc;

    kmem_bpf_log_clear();
    sk = kmem_alloc_bpf__open();
    if (!sk) {
        rc = -errno;
        seterr(err, errlen, "cannot open the BPF tracer: %s", strerror(errno));
        return rc;
    }
    sk->rodata->track = a->tracking;
    sk->rodata->rates = rates;
    sk->rodata->empty = o->empty_programs;
    sk->rodata->gfp_account = kb->gfp_account;
    sk->rodata->gfp_reclaimable = kb->gfp_reclaimable;
    sk->rodata->gfp_dma = kb->gfp_dma;
    sk->rodata->slab_account = kb->slab_account;
    sk->rodata->kvfree_old_abi = kb->kvfree_old_abi;
    sk->rodata->ctx_void = ctx_void;
    sk->rodata->kmalloc_max = (__u32)(page > 0 ? page * 2 : 8192);
    /* (cgroup, cache) slots: 1.5 to 3 times the keys asked for (a power of
     * two), so that probes stay short. The rates mode has a hash map instead. */
    {
        uint64_t want = o->max_keys ? o->max_keys : KMEM_ALLOC_DEFAULT_KEYS;
        uint32_t bits = 10;

        while (bits < 28 && (UINT64_C(1) << bits) < want + want / 2)
            bits++;
        sk->rodata->stats_bits = rates ? 0 : bits;
        bpf_map__set_max_entries(sk->maps.stats, rates ? 1 : UINT32_C(1) << bits);
        uint64_t rk = o->max_keys ? o->max_keys : KMEM_ALLOC_DEFAULT_RATE_KEYS;

        bpf_map__set_max_entries(sk->maps.rate_counts,
                                 rates ? (uint32_t)(rk < (1U << 20) ? rk : 1U << 20) : 1);
        bpf_map__set_max_entries(sk->maps.rate_front, rates ? KMEM_ALLOC_RATE_FRONT : 1);
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
    bpf_program__set_autoload(sk->progs.kmem_cache_alloc, !rates);
    bpf_program__set_autoload(sk->progs.kmem_cache_free, !rates);
    bpf_program__set_autoload(sk->progs.kmalloc, !rates);
    bpf_program__set_autoload(sk->progs.kfree, !rates && !kb->kmem_cache_kfunc);
    bpf_program__set_autoload(sk->progs.kfree_named, !rates && kb->kmem_cache_kfunc);
    bpf_program__set_autoload(sk->progs.kmem_cache_free_nested, a->tracking);
    bpf_program__set_autoload(sk->progs.kfree_nested, a->tracking);
    bpf_program__set_autoload(sk->progs.kmem_cache_alloc_nested, false);
    bpf_program__set_autoload(sk->progs.kmalloc_nested, false);
    bpf_program__set_autoload(sk->progs.kmem_cache_alloc_bulk, !rates && extras && kb->alloc_bulk);
    if (!rates && extras && kb->alloc_bulk)
        bpf_program__set_attach_target(sk->progs.kmem_cache_alloc_bulk, 0, kb->alloc_bulk);
    bpf_program__set_autoload(sk->progs.kmem_cache_free_bulk, !rates && extras && kb->free_bulk);
    bpf_program__set_autoload(sk->progs.kvfree_call_rcu,
                              extras && kb->kvfree_call_rcu && a->tracking);
    /* Rates: the memcg charge hook where fexit loads, else the two allocation tracepoints. */
    bpf_program__set_autoload(sk->progs.rate_memcg_alloc, hook && kb->memcg_hook == 5);
    bpf_program__set_autoload(sk->progs.rate_memcg_alloc6, hook && kb->memcg_hook == 6);
    bpf_program__set_autoload(sk->progs.rate_cache_alloc, rates && !hook);
    bpf_program__set_autoload(sk->progs.rate_kmalloc, rates && !hook);
    rc = kmem_alloc_bpf__load(sk);
    if (rc) {
        rc = rc < 0 ? rc : -EINVAL;
        if (rc == -EPERM || rc == -EACCES)
            seterr(err, errlen,
                   "the kernel refused to load the BPF tracer (%s): needs root, or CAP_BPF "
                   "and CAP_PERFMON; kernel lockdown (/sys/kernel/security/lockdown) "
                   "also forbids it%s%s",
                   strerror(-rc), kmem_bpf_log_last()[0] ? "; libbpf: " : "", kmem_bpf_log_last());
        else
            seterr(err, errlen, "cannot load the BPF tracer: %s%s%s", strerror(-rc),
                   kmem_bpf_log_last()[0] ? "; libbpf: " : "", kmem_bpf_log_last());
        kmem_alloc_bpf__destroy(sk);
        return rc;
    }
    /* The rates mode attaches at each window (kmem_alloc_window_start); a
     * failing fexit is seen here, at once, so that the tracepoints replace it. */
    rc = kmem_alloc_bpf__attach(sk);
    if (rc) {
        rc = rc < 0 ? rc : -EINVAL;
        seterr(err, errlen, "cannot attach the BPF tracer to the slab tracepoints: %s%s%s",
               strerror(-rc), kmem_bpf_log_last()[0] ? "; libbpf: " : "", kmem_bpf_log_last());
        kmem_alloc_bpf__destroy(sk);
        return rc;
    }
    if (rates)
        kmem_alloc_bpf__detach(sk);
    a->n_slots = bpf_map__max_entries(sk->maps.stats);
    a->slots_len = map_len(a->n_slots, sizeof(struct kmem_alloc_slot));
    a->slots = mmap(NULL, a->slots_len, PROT_READ | PROT_WRITE, MAP_SHARED,
                    bpf_map__fd(sk->maps.stats), 0);
    a->n_buckets = bpf_map__max_entries(sk->maps.objs);
    a->buckets_len = map_len(a->n_buckets, sizeof(struct kmem_alloc_bucket));
    a->buckets = mmap(NULL, a->buckets_len, PROT_READ | PROT_WRITE, MAP_SHARED,
                      bpf_map__fd(sk->maps.objs), 0);
    if (a->slots == MAP_FAILED || a->buckets == MAP_FAILED) {
        rc = -errno;
        seterr(err, errlen, "cannot map the BPF tracer's tables: %s", strerror(errno));
        unmap_tables(a);
        kmem_alloc_bpf__destroy(sk);
        return rc;
    }
    a->skel = sk;
    a->memcg_hook = hook;
    a->kfree_named = !rates && kb->kmem_cache_kfunc;
    a->extras = !rates && extras && (kb->alloc_bulk || kb->free_bulk || kb->kvfree_call_rcu);
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
    kmem_bpf_log_begin();
    rc = check_kernel(&kb, err, errlen);
    if (!rc && !privileged()) {
        seterr(err, errlen,
               "tracing allocations with BPF needs root, or CAP_BPF and CAP_PERFMON "
               "(CAP_SYS_ADMIN before Linux 5.8)");
        rc = -EPERM;
    }
    a = rc ? NULL : calloc(1, sizeof(*a));
    if (!rc && !a) {
        seterr(err, errlen, "out of memory");
        rc = -ENOMEM;
    }
    if (!rc) {
        a->mode = o->counts_only ? KMEM_ALLOC_COUNTS : o->mode;
        if (o->empty_programs && a->mode == KMEM_ALLOC_TRACK)
            a->mode = KMEM_ALLOC_COUNTS;
        a->tracking = a->mode == KMEM_ALLOC_TRACK;
        a->ncpus = libbpf_num_possible_cpus();
        /* fentry/fexit (trampolines) are missing on some kernels and arches, or
         * refused by a security module: then without them. */
        /* Verifiers before 6.16 refuse to read void * arguments from the
         * context: then again, reading them with a helper. */
        for (int v = 1; v >= 0; v--) {
            bool with = !o->no_fentry;

            rc = with ? load_tracer(a, o, &kb, true, v, err, errlen) : -1;
            if (rc && with && err && errlen)
                snprintf(a->fentry_err, sizeof(a->fentry_err), "%s", err);
            if (rc)
                rc = load_tracer(a, o, &kb, false, v, err, errlen);
            else
                a->fentry_err[0] = '\0';
            if (!rc || !strstr(kmem_bpf_log_verifier(), "invalid bpf_context access"))
                break;
        }
        /* Without anything to gain from fentry/fexit (rates before 6.10), no reason. */
        if (!rc && a->mode == KMEM_ALLOC_RATES && !kb.memcg_hook)
            a->fentry_err[0] = '\0';
    }
    kmem_bpf_log_end();
    if (rc) {
        free(a);
        return rc;
    }
    clock_gettime(CLOCK_MONOTONIC, &a->start);
    clock_gettime(CLOCK_REALTIME, &a->real_start);
    *out = a;
    return 0;
}

void kmem_alloc_close(struct kmem_alloc *a)
{
    if (!a)
        return;
    unmap_tables(a);
    kmem_alloc_bpf__destroy(a->skel);
    kmem_alloc_free_names(a);
    free(a);
}

const char *kmem_alloc_rates_source(const struct kmem_alloc *a)
{
    if (!a || a->mode != KMEM_ALLOC_RATES)
        return "";
    return a->memcg_hook ? "memcg charge hook (fexit __memcg_slab_post_alloc_hook)"
                         : "tracepoints kmem_cache_alloc, kmalloc";
}

int kmem_alloc_window_start(struct kmem_alloc *a)
{
    int rc;

    if (a->mode != KMEM_ALLOC_RATES)
        return -EINVAL;
    if (a->attached)
        return 0;
    /* Interrupt depth from zero: a detach lets entries be seen after the
     * exits are gone (the skeleton detaches in program order, exits first),
     * and what it counted then would leave the CPU "in interrupt" for the
     * windows after. */
    {
        size_t ncpu = (size_t)(a->ncpus > 0 ? a->ncpus : 1);
        __s64 *zero = calloc(ncpu, sizeof(*zero));
        __u32 k = 0;

        if (!zero)
            return -ENOMEM;
        bpf_map_update_elem(bpf_map__fd(a->skel->maps.irq_depth), &k, zero, BPF_ANY);
        free(zero);
    }
    rc = kmem_alloc_bpf__attach(a->skel);
    if (rc) {
        rc = rc < 0 ? rc : -EINVAL;
        seterr(a->err, sizeof(a->err), "cannot attach the BPF tracer: %s", strerror(-rc));
        return rc;
    }
    a->attached = true;
    clock_gettime(CLOCK_MONOTONIC, &a->start);
    clock_gettime(CLOCK_REALTIME, &a->real_start);
    return 0;
}
#else
/* ISO C: a translation unit is not empty. */
typedef int kmem_allocbpf_unused;
#endif
