// SPDX-License-Identifier: MIT
/*
 * Loader of the owner walker (src/bpf/kmem_owners.bpf.c): loads it, finds the
 * page array, runs it over every page frame in chunks, and turns its maps into
 * owner rows. See ownwalk.h.
 *
 * Uncharged objects of a cache = sum of slab->inuse - charged objects. inuse
 * is exact for slabs on the node lists and full slabs; a CPU slab (frozen)
 * counts every object as in use while its free objects sit on the CPU
 * freelist, and objects cached in per-CPU sheaves (6.18+) are free to their
 * users but in use to the slab. So the uncharged figure is an upper bound by
 * at most the objects of one slab per CPU plus the sheaves; /proc/slabinfo
 * active_objs counts the same way, which is why owners + uncharged <=
 * slabinfo active_objs. Charged counts are exact: the kernel clears an
 * object's owner in its free hook, before the object reaches any cache.
 */
#include "ownwalk.h"
#include "buf.h"
#include "timeutil.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/types.h>

#include "../bpf/kmem_owners.h"
#include "buf.h"

#ifdef KMEM_HAVE_BPF
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kmem_owners.skel.h"
#include "ownpair.h"
#include "bpflog.h"
#include "sort.h"
#endif

/* Page frames a run walks: 1 GiB of 4 KiB pages, a few ms of CPU. */
#define CHUNK_PFNS (256u * 1024u)

struct kmem_ownwalk {
#ifdef KMEM_HAVE_BPF
    struct kmem_owners_bpf *skel;
#endif
    int prog_fd;
    uint64_t vmemmap, end_pfn, gen;
    const char *method;
    bool prealloc;
    unsigned scale; /* the maps' sizes: KMEM_OWNERS_MAPS x scale (grown when full) */
};

const char *kmem_ownwalk_method(const struct kmem_ownwalk *w)
{
    return w ? w->method : "";
}

#ifndef KMEM_HAVE_BPF

int kmem_ownwalk_open(struct kmem_ownwalk **out, char *err, size_t errlen)
{
    *out = NULL;
    kmem_msgf(
        err, errlen,
        "kmem was built without BPF (needs clang, bpftool, libbpf-dev and the kernel's BTF at "
        "build time): the owner snapshot cannot run");
    return -ENOTSUP;
}

int kmem_ownwalk_run(struct kmem_ownwalk *w, struct kmem_owners *o, char *err, size_t errlen)
{
    (void)w;
    (void)o;
    kmem_msgf(err, errlen, "kmem was built without BPF: the owner snapshot cannot run");
    return -ENOTSUP;
}

void kmem_ownwalk_close(struct kmem_ownwalk *w)
{
    (void)w;
}

void kmem_ownwalk_stats(const struct kmem_ownwalk *w, struct kmem_ownwalk_stats *st)
{
    (void)w;
    memset(st, 0, sizeof(*st));
}

#else

static double thread_cpu(void)
{
    return kmem_clock_seconds(CLOCK_THREAD_CPUTIME_ID);
}

static int run_prog(struct kmem_ownwalk *w)
{
    LIBBPF_OPTS(bpf_test_run_opts, opts);
    int rc = bpf_prog_test_run_opts(w->prog_fd, &opts);

    if (rc)
        return -errno;
    return (int)opts.retval;
}

/* Does the running kernel's BTF have struct slab (5.17+)? */
static int kernel_has_slab(char *err, size_t errlen)
{
    struct btf *btf = btf__load_vmlinux_btf();
    int found;

    if (!btf) {
        kmem_msgf(err, errlen,
                  "the owner snapshot needs the kernel's BTF (/sys/kernel/btf/vmlinux, "
                  "CONFIG_DEBUG_INFO_BTF), which this kernel does not have");
        return -ENOTSUP;
    }
    found = btf__find_by_name_kind(btf, "slab", BTF_KIND_STRUCT) >= 0;
    btf__free(btf);
    if (!found) {
        kmem_msgf(err, errlen,
                  "the owner snapshot needs Linux 5.17 or later (struct slab): this kernel's BTF "
                  "has no struct slab");
        return -ENOTSUP;
    }
    return 0;
}

/*
 * Open and load the skeleton. The hash maps grow with use (BPF_F_NO_PREALLOC:
 * a few hundred (cgroup, cache) pairs take tens of KiB, where preallocated
 * maps would hold ~8.5 MiB of kernel memory for their maxima); kernels that
 * refuse that in a sleepable program (before 6.1) get preallocated ones.
 */
static int load_one(struct kmem_owners_bpf **out, bool prealloc, unsigned scale)
{
    struct kmem_owners_bpf *sk = kmem_owners_bpf__open();
    struct bpf_map *maps[3];
    int rc;

    if (!sk)
        return -errno;
    maps[0] = sk->maps.owners;
    maps[1] = sk->maps.caches;
    maps[2] = sk->maps.objcgs;
    for (int i = 0; i < 3; i++) {
        bpf_map__set_max_entries(maps[i], bpf_map__max_entries(maps[i]) * scale);
        if (!prealloc)
            bpf_map__set_map_flags(maps[i], BPF_F_NO_PREALLOC);
    }
    rc = kmem_owners_bpf__load(sk);
    if (rc) {
        kmem_owners_bpf__destroy(sk);
        return rc;
    }
    *out = sk;
    return 0;
}

static int load(struct kmem_ownwalk *w, char *err, size_t errlen)
{
    struct kmem_owners_bpf *sk = NULL;
    int rc;

    if (!w->scale)
        w->scale = 1;
    rc = w->prealloc ? -EINVAL : load_one(&sk, false, w->scale);
    if (rc && rc != -EPERM && rc != -EACCES) {
        kmem_bpf_log_clear();
        rc = load_one(&sk, true, w->scale);
        w->prealloc = true;
    }
    if (rc) {
        if (rc == -EPERM || rc == -EACCES)
            kmem_msgf(err, errlen,
                      "loading the BPF owner walker was refused (%s): it needs root (CAP_BPF and "
                      "CAP_PERFMON)",
                      strerror(-rc));
        else
            kmem_msgf(
                err, errlen,
                "this kernel refused the BPF owner walker (%s; it needs "
                "BPF_PROG_TYPE_SYSCALL, bpf_loop and bpf_kallsyms_lookup_name, Linux 5.17+)%s%s",
                strerror(-rc), kmem_bpf_log_last()[0] ? "; libbpf: " : "", kmem_bpf_log_last());
        return rc;
    }
    w->skel = sk;
    w->prog_fd = bpf_program__fd(sk->progs.kmem_owners_walk);
    return 0;
}

static int end_pfn_of_zoneinfo(uint64_t *end, char *err, size_t errlen)
{
    struct kmem_buf b = {0};
    int rc = kmem_buf_read_file(&b, AT_FDCWD, "/proc/zoneinfo", 0);

    if (rc) {
        kmem_msgf(err, errlen, "/proc/zoneinfo: %s", strerror(-rc));
        kmem_buf_free(&b);
        return rc;
    }
    rc = kmem_ownwalk_zoneinfo_end(b.data, b.len, end);
    kmem_buf_free(&b);
    if (rc)
        kmem_msgf(err, errlen, "/proc/zoneinfo: no zone with spanned and start_pfn lines");
    return rc;
}

static int kernel_ptr(uint64_t p)
{
    return (p >> 47) == 0x1ffff;
}

static int setup(struct kmem_ownwalk *w, char *err, size_t errlen)
{
    struct kmem_owners_bpf__bss *bss = w->skel->bss;
    char why[256] = "";
    int rc;

    bss->mode = KMEM_OWNERS_MODE_SETUP;
    rc = run_prog(w);
    if (rc) {
        kmem_msgf(err, errlen, "running the BPF owner walker failed: %s",
                  strerror(rc < 0 ? -rc : rc));
        return rc < 0 ? rc : -EIO;
    }
    if (!(bss->layout & (KMEM_OWNERS_SLAB_PGTY | KMEM_OWNERS_SLAB_PGFLAG))) {
        kmem_msgf(err, errlen,
                  "this kernel's BTF shows neither page type PGTY_slab (6.12+) nor page flag "
                  "PG_slab (before 6.10): the owner walker cannot tell slab pages");
        return -ENOTSUP;
    }
    if (!(bss->layout & (KMEM_OWNERS_VEC_OBJEXTS | KMEM_OWNERS_VEC_MEMCGDATA))) {
        kmem_msgf(err, errlen,
                  "this kernel keeps no owner per slab object (struct slab has neither obj_exts "
                  "nor memcg_data: built without CONFIG_MEMCG)");
        return -ENOTSUP;
    }
    if (!bss->page_size || bss->page_size > KMEM_OWNERS_PAGE_MAX) {
        kmem_msgf(err, errlen,
                  "struct page is %u bytes in this kernel's BTF (the walker reads up "
                  "to %u)",
                  bss->page_size, KMEM_OWNERS_PAGE_MAX);
        return -ENOTSUP;
    }
    if (!bss->err_vmemmap && kernel_ptr(bss->out_vmemmap)) {
        w->vmemmap = bss->out_vmemmap;
        w->method = "kallsyms";
    } else {
        uint64_t v = 0;

        rc = kmem_ownpair_vmemmap(bss->page_size, &v, why, sizeof(why));
        if (rc) {
            kmem_msgf(err, errlen,
                      "this kernel lists no data symbols in /proc/kallsyms (vmemmap_base: %s) and "
                      "the page array could not be located: %s",
                      strerror(bss->err_vmemmap < 0 ? (int)-bss->err_vmemmap : ENOENT), why);
            return rc;
        }
        w->vmemmap = v;
        w->method = "pairing";
    }
    if (!bss->err_max_pfn && bss->out_max_pfn)
        w->end_pfn = bss->out_max_pfn;
    else if ((rc = end_pfn_of_zoneinfo(&w->end_pfn, err, errlen)))
        return rc;
    return 0;
}

int kmem_ownwalk_open(struct kmem_ownwalk **out, char *err, size_t errlen)
{
    struct kmem_ownwalk *w;
    int rc;

    *out = NULL;
    rc = kernel_has_slab(err, errlen);
    if (rc)
        return rc;
    w = calloc(1, sizeof(*w));
    if (!w) {
        kmem_msgf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    kmem_bpf_log_begin();
    rc = load(w, err, errlen);
    if (!rc)
        rc = setup(w, err, errlen);
    kmem_bpf_log_end();
    if (rc) {
        kmem_ownwalk_close(w);
        return rc;
    }
    *out = w;
    return 0;
}

void kmem_ownwalk_close(struct kmem_ownwalk *w)
{
    if (!w)
        return;
    kmem_owners_bpf__destroy(w->skel);
    free(w);
}

void kmem_ownwalk_stats(const struct kmem_ownwalk *w, struct kmem_ownwalk_stats *st)
{
    const struct kmem_owners_bpf__bss *bss = w->skel->bss;

    memset(st, 0, sizeof(*st));
    st->vmemmap = w->vmemmap;
    st->end_pfn = w->end_pfn;
    st->vec_slabs = bss->vec_slabs;
    st->inobj_slabs = bss->inobj_slabs;
    st->objects = bss->objects;
    st->read_errors = bss->read_errors;
    st->bad_objcg = bss->bad_objcg;
    st->map_full = bss->map_full;
    st->layout = bss->layout;
    st->page_size = bss->page_size;
    st->maps_prealloc = w->prealloc;
}

struct cache_row {
    uint64_t ptr;
    struct kmem_owners_cache c;
};

static int cmp_cache(const void *a, const void *b)
{
    uint64_t x = ((const struct cache_row *)a)->ptr, y = ((const struct cache_row *)b)->ptr;

    return x < y ? -1 : x > y;
}

/* Every entry of the walk @gen of a hash map, then the map emptied. */
static int drain(int fd, size_t ksz, size_t vsz, size_t max, void **keys, void **vals, size_t *n)
{
    char *k = malloc(max * ksz), *v = malloc(max * vsz);
    __u64 in = 0, outb = 0;
    size_t got = 0;
    int rc = 0;

    if (!k || !v) {
        free(k);
        free(v);
        return -ENOMEM;
    }
    for (;;) {
        LIBBPF_OPTS(bpf_map_batch_opts, opts);
        __u32 cnt = (__u32)(max - got);

        if (!cnt)
            break;
        rc = bpf_map_lookup_and_delete_batch(fd, got ? &in : NULL, &outb, k + got * ksz,
                                             v + got * vsz, &cnt, &opts);
        got += cnt;
        if (rc) {
            rc = -errno;
            if (rc == -ENOENT)
                rc = 0;
            break;
        }
        in = outb;
    }
    *keys = k;
    *vals = v;
    *n = got;
    return rc;
}

static int collect(struct kmem_ownwalk *w, struct kmem_owners *o, char *err, size_t errlen)
{
    struct kmem_owners_bpf *sk = w->skel;
    void *ck = NULL, *cv = NULL, *ok = NULL, *ov = NULL;
    size_t nc = 0, no = 0, nrows = 0;
    struct cache_row *rows = NULL;
    int rc;

    rc = drain(bpf_map__fd(sk->maps.caches), sizeof(__u64), sizeof(struct kmem_owners_cache),
               bpf_map__max_entries(sk->maps.caches), &ck, &cv, &nc);
    if (!rc)
        rc = drain(bpf_map__fd(sk->maps.owners), sizeof(struct kmem_owners_key),
                   sizeof(struct kmem_owners_val), bpf_map__max_entries(sk->maps.owners), &ok, &ov,
                   &no);
    if (rc) {
        kmem_msgf(err, errlen, "reading the owner walker's maps: %s", strerror(-rc));
        goto out;
    }
    rows = calloc(nc ? nc : 1, sizeof(*rows));
    if (!rows) {
        rc = -ENOMEM;
        kmem_msgf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nc; i++) {
        const struct kmem_owners_cache *c = (const struct kmem_owners_cache *)cv + i;

        if (c->gen != w->gen)
            continue;
        rows[nrows].ptr = ((const __u64 *)ck)[i];
        rows[nrows].c = *c;
        rows[nrows].c.name[sizeof(c->name) - 1] = '\0';
        nrows++;
    }
    kmem_sort(rows, nrows, sizeof(*rows), cmp_cache);
    for (size_t i = 0; i < no && !rc; i++) {
        const struct kmem_owners_key *k = (const struct kmem_owners_key *)ok + i;
        const struct kmem_owners_val *v = (const struct kmem_owners_val *)ov + i;
        struct cache_row key = {.ptr = k->cache}, *c;

        if (v->gen != w->gen)
            continue;
        c = bsearch(&key, rows, nrows, sizeof(*rows), cmp_cache);
        if (!c)
            continue; /* cannot happen: a slab adds its cache before its owners */
        rc = kmem_owners_add(o, k->cgroup_id, c->c.name, v->objects, v->objects * c->c.size);
    }
    for (size_t i = 0; i < nrows && !rc; i++) {
        const struct kmem_owners_cache *c = &rows[i].c;

        if (c->inuse > c->charged)
            rc = kmem_owners_add(o, 0, c->name, c->inuse - c->charged,
                                 (c->inuse - c->charged) * c->size);
    }
    if (rc)
        kmem_msgf(err, errlen, "out of memory");
out:
    free(rows);
    free(ck);
    free(cv);
    free(ok);
    free(ov);
    return rc;
}

/* One walk over every page frame into the maps of the loaded skeleton. */
static int walk_all(struct kmem_ownwalk *w, char *err, size_t errlen)
{
    struct kmem_owners_bpf__bss *bss = w->skel->bss;
    int rc;

    w->gen++;
    bss->mode = KMEM_OWNERS_MODE_WALK;
    bss->gen = w->gen;
    bss->vmemmap = w->vmemmap;
    bss->pages = bss->slabs = bss->objects = bss->charged = 0;
    bss->read_errors = bss->bad_objcg = bss->map_full = 0;
    bss->vec_slabs = bss->inobj_slabs = 0;
    for (uint64_t pfn = 0; pfn < w->end_pfn; pfn += CHUNK_PFNS) {
        bss->start_pfn = pfn;
        bss->nr_pfns = w->end_pfn - pfn < CHUNK_PFNS ? w->end_pfn - pfn : CHUNK_PFNS;
        rc = run_prog(w);
        if (rc) {
            kmem_msgf(err, errlen, "running the BPF owner walker failed: %s",
                      strerror(rc < 0 ? -rc : rc));
            return rc < 0 ? rc : -EIO;
        }
    }
    return 0;
}

/*
 * A map was full: load the walker again with maps 4 times larger (they grow
 * with use, so only what is filled costs memory). 0, or -errno and the old
 * walker stays.
 */
static int grow(struct kmem_ownwalk *w)
{
    struct kmem_owners_bpf *old = w->skel;
    unsigned scale = w->scale;
    int rc;

    w->scale = scale * 4;
    kmem_bpf_log_begin();
    rc = load(w, NULL, 0);
    kmem_bpf_log_end();
    if (!rc) {
        w->skel->bss->mode = KMEM_OWNERS_MODE_SETUP; /* the layouts, again */
        rc = run_prog(w);
    }
    if (rc) {
        if (w->skel != old)
            kmem_owners_bpf__destroy(w->skel);
        w->skel = old;
        w->prog_fd = bpf_program__fd(old->progs.kmem_owners_walk);
        w->scale = scale;
        return rc < 0 ? rc : -EIO;
    }
    kmem_owners_bpf__destroy(old);
    return 0;
}

int kmem_ownwalk_run(struct kmem_ownwalk *w, struct kmem_owners *o, char *err, size_t errlen)
{
    struct kmem_owners_bpf__bss *bss;
    double cpu0 = thread_cpu();
    int rc;

    clock_gettime(CLOCK_REALTIME, &o->taken);
    rc = walk_all(w, err, errlen);
    /* Maps too small for this machine: larger ones, twice at most (x16). */
    for (int i = 0; !rc && w->skel->bss->map_full && i < 2 && !grow(w); i++)
        rc = walk_all(w, err, errlen);
    if (rc)
        return rc;
    bss = w->skel->bss;
    rc = collect(w, o, err, errlen);
    if (rc)
        return rc;
    if (!bss->slabs) {
        kmem_msgf(err, errlen,
                  "the owner walker found no slab in %" PRIu64 " page frames at 0x%" PRIx64
                  " (found by %s): the page array is not where it was looked for",
                  (uint64_t)bss->pages, w->vmemmap, w->method);
        return -ENODATA;
    }
    o->present = true;
    o->pages = bss->pages;
    o->slabs = bss->slabs;
    o->cpu_seconds = thread_cpu() - cpu0;
    return 0;
}

#endif
