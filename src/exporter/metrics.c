// SPDX-License-Identifier: MIT
/* Metric logic: snapshot -> families of SPEC.md. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "metrics.h"
#include "allocmetrics.h"

#ifndef KMEM_VERSION
#define KMEM_VERSION "unknown"
#endif

const char *const kx_collector_name[KX_COL_COUNT] = {
    [KX_COL_SLABINFO] = "slabinfo",
    [KX_COL_NODE] = "node",
    [KX_COL_CGROUP] = "cgroup",
    [KX_COL_NODE_DETAIL] = "node_detail",
};

/* ---- slab cache filter ---- */

static int compile(struct kx_re **re, const char *src, const char *flag, char *err, size_t errlen)
{
    char msg[256];
    int r = kx_re_compile(re, src, msg, sizeof(msg));
    if (r)
        snprintf(err, errlen, "%s '%.200s': %s", flag, src, msg);
    return r;
}

int kx_filter_init(struct kx_filter *f, const char *include, const char *exclude, char *err,
                   size_t errlen)
{
    memset(f, 0, sizeof(*f));
    if (include && !include[0]) {
        snprintf(err, errlen,
                 "--collector.slabinfo.include '': an empty expression matches no cache; "
                 "leave the flag out to export every cache");
        return -EINVAL;
    }
    int r =
        include ? compile(&f->include, include, "--collector.slabinfo.include", err, errlen) : 0;
    if (!r && exclude)
        r = compile(&f->exclude, exclude, "--collector.slabinfo.exclude", err, errlen);
    if (r)
        kx_filter_free(f);
    return r;
}

void kx_filter_free(struct kx_filter *f)
{
    kx_re_free(f->include);
    kx_re_free(f->exclude);
    f->include = f->exclude = NULL;
}

bool kx_filter_match(const struct kx_filter *f, const char *cache)
{
    if (!f)
        return true;
    size_t len = strlen(cache);
    if (f->include && !kx_re_match(f->include, cache, len))
        return false;
    if (f->exclude && kx_re_match(f->exclude, cache, len))
        return false;
    return true;
}

/* True if @name ends in '#' and one or more digits: it could be taken for a
 * generated "name#n", so it gets its own index too. */
static bool looks_generated(const char *name, size_t n)
{
    size_t i = n;
    while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
        i--;
    return i < n && i > 0 && name[i - 1] == '#';
}

void kx_cache_label(const struct kmem_slab *s, char *out, size_t outlen)
{
    size_t n = strnlen(s->name, sizeof(s->name));

    /* The common case, on every scrape: a first line whose name cannot be
     * mistaken for a generated one. */
    if (s->dup == 0 && n < outlen && !looks_generated(s->name, n)) {
        memcpy(out, s->name, n + 1);
        return;
    }
    if (s->dup == 0 && !looks_generated(s->name, n))
        snprintf(out, outlen, "%.*s", (int)n, s->name);
    else
        snprintf(out, outlen, "%.*s#%u", (int)n, s->name, s->dup);
}

/* ---- families ---- */

/*
 * Per selected cache: five families that change (objects, active objects,
 * slabs, bytes, active bytes) and one kmem_slab_info series carrying what
 * does not change while the cache exists (object size, objects and pages
 * per slab) as labels. The three static families of old are opt-in
 * (static_families), and so is node_exporter's naming (node_exporter_names).
 * A cache without any object is left out unless `empty` is set.
 */
enum slab_family {
    SF_OBJECTS,
    SF_ACTIVE_OBJECTS,
    SF_OBJECT_SIZE,
    SF_OBJECTS_PER_SLAB,
    SF_PAGES_PER_SLAB,
    SF_SLABS,
    SF_SIZE_BYTES,
    SF_ACTIVE_BYTES,
    SF_COUNT
};

static const struct {
    const char *name, *help;
    bool is_static; /* only with --collector.slabinfo.static-families */
} slab_family[SF_COUNT] = {
    [SF_OBJECTS] = {"kmem_slab_objects",
                    "Objects allocated in the slab cache (num_objs in /proc/slabinfo).", false},
    [SF_ACTIVE_OBJECTS] = {"kmem_slab_active_objects",
                           "Objects in use in the slab cache (active_objs in /proc/slabinfo).",
                           false},
    [SF_OBJECT_SIZE] = {"kmem_slab_object_size_bytes",
                        "Size of one object of the slab cache, with metadata (objsize).", true},
    [SF_OBJECTS_PER_SLAB] = {"kmem_slab_objects_per_slab",
                             "Objects per slab of the cache (objperslab).", true},
    [SF_PAGES_PER_SLAB] = {"kmem_slab_pages_per_slab",
                           "Pages per slab of the cache (pagesperslab).", true},
    [SF_SLABS] = {"kmem_slab_slabs", "Slabs of the cache (num_slabs).", false},
    [SF_SIZE_BYTES] = {"kmem_slab_size_bytes",
                       "Memory held by the slab cache: num_slabs x pagesperslab x page size.",
                       false},
    [SF_ACTIVE_BYTES] = {"kmem_slab_active_bytes",
                         "Memory of the objects in use: active_objs x objsize.", false},
};
static_assert(sizeof(slab_family) / sizeof(slab_family[0]) == SF_COUNT, "slab_family table");

/* node_exporter's slabinfo collector (1.5 to 1.9): names, HELP, order. */
static const struct {
    const char *name, *help;
    enum slab_family f;
} ne_family[] = {
    {"node_slabinfo_active_objects",
     "The number of objects that are currently active (i.e., in use).", SF_ACTIVE_OBJECTS},
    {"node_slabinfo_object_size_bytes", "The size of objects in this slab, in bytes.",
     SF_OBJECT_SIZE},
    {"node_slabinfo_objects",
     "The total number of allocated objects (i.e., objects that are both in use and not in use).",
     SF_OBJECTS},
    {"node_slabinfo_objects_per_slab", "The number of objects stored in each slab.",
     SF_OBJECTS_PER_SLAB},
    {"node_slabinfo_pages_per_slab", "The number of pages allocated for each slab.",
     SF_PAGES_PER_SLAB},
};

static uint64_t slab_value(const struct kmem_slab *s, enum slab_family f, uint64_t page_size)
{
    switch (f) {
    case SF_OBJECTS:
        return s->num_objs;
    case SF_ACTIVE_OBJECTS:
        return s->active_objs;
    case SF_OBJECT_SIZE:
        return s->objsize;
    case SF_OBJECTS_PER_SLAB:
        return s->objperslab;
    case SF_PAGES_PER_SLAB:
        return s->pagesperslab;
    case SF_SLABS:
        return s->num_slabs;
    case SF_SIZE_BYTES:
        return kmem_slab_bytes(s, page_size);
    case SF_ACTIVE_BYTES:
        return kmem_slab_active_bytes(s);
    case SF_COUNT:
        break;
    }
    return 0;
}

/* A cache without any object: all its series would be 0. */
static bool slab_empty(const struct kmem_slab *s)
{
    return s->num_objs == 0 && s->active_objs == 0 && s->num_slabs == 0;
}

/* The label text of every selected cache, escaped once and reused by every
 * family: "{cache=\"...\"} " pieces in one scratch buffer (and
 * "{slab=\"...\"} " ones for node_exporter's names). */
struct slab_labels {
    struct kx_buf text;
    size_t *off; /* 2n + 1 offsets: cache label of i at [off[2i], off[2i+1]),
                  * slab label at [off[2i+1], off[2i+2]); empty when not selected */
};

static int slab_labels_build(struct slab_labels *sl, const struct kmem_slabinfo *si,
                             const struct kx_render_opts *o)
{
    kx_buf_init(&sl->text, (size_t)64 << 20);
    sl->off = calloc(2 * si->n + 1, sizeof(*sl->off));
    if (!sl->off)
        return -ENOMEM;
    char label[KMEM_SLAB_NAME_MAX + 16];
    for (size_t i = 0; i < si->n; i++) {
        const struct kmem_slab *s = &si->v[i];
        sl->off[2 * i] = sl->off[2 * i + 1] = sl->text.len;
        if ((!o->slab.empty && slab_empty(s)) || !kx_filter_match(o->filter, s->name))
            continue;
        kx_cache_label(s, label, sizeof(label));
        kx_buf_add(&sl->text, "{cache=\"", 8);
        kx_expo_escape_label(&sl->text, label);
        kx_buf_add(&sl->text, "\"} ", 3);
        sl->off[2 * i + 1] = sl->text.len;
        if (o->slab.node_exporter_names) {
            kx_buf_add(&sl->text, "{slab=\"", 7);
            kx_expo_escape_label(&sl->text, label);
            kx_buf_add(&sl->text, "\"} ", 3);
        }
    }
    sl->off[2 * si->n] = sl->text.len;
    return sl->text.err;
}

static void slab_labels_free(struct slab_labels *sl)
{
    kx_buf_free(&sl->text);
    free(sl->off);
}

/* One family's samples: @which 0 for the cache label, 1 for the slab label. */
static void slab_samples(struct kx_buf *b, const struct kmem_slabinfo *si,
                         const struct slab_labels *sl, int which, const char *name,
                         enum slab_family f, uint64_t page_size)
{
    size_t nlen = strlen(name);
    for (size_t i = 0; si && i < si->n; i++) {
        size_t from = sl->off[2 * i + which], to = sl->off[2 * i + which + 1];
        if (to == from)
            continue;
        kx_buf_line_u64(b, name, nlen, sl->text.data + from, to - from,
                        slab_value(&si->v[i], f, page_size));
    }
}

/*
 * kmem_slab_info{cache, object_size_bytes, objects_per_slab, pages_per_slab}
 * 1, and where /sys/kernel/slab has the cache's attributes (SLUB; read when
 * the cache list changes, docs/node.md) reclaimable, accounted, merged,
 * order and aliases (other caches merged into it) too.
 */
static void slab_info(struct kx_buf *b, const struct kmem_slabinfo *si,
                      const struct slab_labels *sl)
{
    kx_expo_family(b, "kmem_slab_info",
                   "Properties of the slab cache that do not change while it exists, as labels: "
                   "object_size_bytes (objsize), objects_per_slab (objperslab), pages_per_slab "
                   "(pagesperslab), and from /sys/kernel/slab (read when the cache list "
                   "changes) reclaimable (reclaim_account), accounted (SLAB_ACCOUNT), merged "
                   "(shares a ':flags-size' directory), order, aliases (caches merged into it); "
                   "always 1.",
                   "gauge");
    for (size_t i = 0; si && i < si->n; i++) {
        size_t from = sl->off[2 * i], to = sl->off[2 * i + 1];
        if (to == from)
            continue;
        const struct kmem_slab *s = &si->v[i];
        /* The cache label piece is "{cache=\"...\"} ": reuse all but "} ". */
        kx_buf_add(b, "kmem_slab_info", 14);
        kx_buf_add(b, sl->text.data + from, to - from - 2);
        kx_buf_add(b, ",object_size_bytes=\"", 20);
        kx_buf_add_u64(b, s->objsize);
        kx_buf_add(b, "\",objects_per_slab=\"", 20);
        kx_buf_add_u64(b, s->objperslab);
        kx_buf_add(b, "\",pages_per_slab=\"", 18);
        kx_buf_add_u64(b, s->pagesperslab);
        if (s->attr.known) {
            static const char *const tri[] = {"unknown", "false", "true"};

            kx_buf_adds(b,
                        s->attr.reclaimable ? "\",reclaimable=\"true" : "\",reclaimable=\"false");
            kx_buf_adds(b, "\",accounted=\"");
            kx_buf_adds(b, tri[s->attr.accounted + 1]);
            kx_buf_adds(b, s->attr.merged ? "\",merged=\"true" : "\",merged=\"false");
            kx_buf_adds(b, "\",order=\"");
            kx_buf_add_u64(b, s->attr.order);
            kx_buf_adds(b, "\",aliases=\"");
            kx_buf_add_u64(b, s->attr.aliases);
        }
        kx_buf_add(b, "\"} 1\n", 5);
    }
}

static int render_slab(struct kx_buf *b, const struct kmem_slabinfo *si,
                       const struct kx_render_opts *o)
{
    struct slab_labels sl = {0};
    int r = 0;

    if (si) {
        r = slab_labels_build(&sl, si, o);
        if (r)
            goto out_free;
    }
    for (int f = 0; f < SF_COUNT; f++) {
        if (slab_family[f].is_static && !o->slab.static_families)
            continue;
        kx_expo_family(b, slab_family[f].name, slab_family[f].help, "gauge");
        if (si)
            slab_samples(b, si, &sl, 0, slab_family[f].name, (enum slab_family)f, o->page_size);
    }
    slab_info(b, si, &sl);
    for (size_t k = 0; o->slab.node_exporter_names && k < sizeof(ne_family) / sizeof(ne_family[0]);
         k++) {
        kx_expo_family(b, ne_family[k].name, ne_family[k].help, "gauge");
        if (si)
            slab_samples(b, si, &sl, 1, ne_family[k].name, ne_family[k].f, o->page_size);
    }
    r = b->err;
out_free:
    slab_labels_free(&sl);
    return r;
}

/* Cheap node figures beside the kinds: the slab gap, sockets, zram devices. */
static void render_node_extra(struct kx_buf *b, const struct kmem_node *node)
{
    kx_expo_family(b, "kmem_node_slab_gap_bytes",
                   "meminfo Slab minus the sum of /proc/slabinfo: mostly kmalloc() larger than "
                   "two pages, counted in SUnreclaim but held by no cache.",
                   "gauge");
    if (node && node->slab_gap_known)
        kx_expo_sample_double(b, "kmem_node_slab_gap_bytes", NULL, 0, (double)node->slab_gap,
                              KX_NO_TIMESTAMP);
    kx_expo_family(b, "kmem_node_socket_memory_bytes",
                   "Socket buffers (/proc/net/sockstat TCP and UDP mem pages, FRAG memory); "
                   "overlaps slab and unaccounted.",
                   "gauge");
    if (node && node->sock.present)
        kx_expo_sample_u64(b, "kmem_node_socket_memory_bytes", NULL, 0, node->sock.mem_bytes,
                           KX_NO_TIMESTAMP);
    static const struct {
        const char *name, *help;
        size_t off;
    } zf[] = {
        {"kmem_zram_memory_used_bytes", "Memory the zram device uses (mm_stat mem_used_total).",
         offsetof(struct kmem_zram_dev, mem_used)},
        {"kmem_zram_original_data_bytes", "Data stored in the zram device, uncompressed.",
         offsetof(struct kmem_zram_dev, orig_data)},
        {"kmem_zram_compressed_data_bytes", "Data stored in the zram device, compressed.",
         offsetof(struct kmem_zram_dev, compr_data)},
    };
    for (size_t f = 0; f < sizeof(zf) / sizeof(zf[0]); f++) {
        kx_expo_family(b, zf[f].name, zf[f].help, "gauge");
        for (unsigned i = 0; node && i < node->zram.n; i++) {
            struct kx_label l = {"device", node->zram.dev[i].name};
            kx_expo_sample_u64(b, zf[f].name, &l, 1,
                               *(const uint64_t *)((const char *)&node->zram.dev[i] + zf[f].off),
                               KX_NO_TIMESTAMP);
        }
    }
}

/* The node's detail: outside MemTotal, vmalloc callers, allocinfo (read at most once a minute). */
static void render_detail(struct kx_buf *b, const struct kmem_detail *d)
{
    kx_expo_family(b, "kmem_node_detail_age_seconds",
                   "Seconds since /proc/vmallocinfo, /proc/iomem and /proc/allocinfo were read "
                   "(at most once a minute; the figures below are from then).",
                   "gauge");
    if (d)
        kx_expo_sample_double(b, "kmem_node_detail_age_seconds", NULL, 0, d->age, KX_NO_TIMESTAMP);
    kx_expo_family(b, "kmem_node_outside_bytes",
                   "RAM outside MemTotal by part (System RAM from /proc/iomem - MemTotal): "
                   "memmap, kernel_image, crash_kernel, boot_hash_tables, percpu_first_chunk, "
                   "unexplained. Only when /proc/iomem shows addresses (root).",
                   "gauge");
    if (d && d->outside.known)
        for (int p = 0; p < KMEM_OUT_PART_COUNT; p++) {
            struct kx_label l = {"part", kmem_outside_part_name[p]};
            kx_expo_sample_u64(b, "kmem_node_outside_bytes", &l, 1, d->outside.part[p],
                               KX_NO_TIMESTAMP);
        }
    kx_expo_family(b, "kmem_node_system_ram_bytes",
                   "System RAM ranges of /proc/iomem (RAM the firmware handed to Linux).", "gauge");
    if (d && d->outside.known)
        kx_expo_sample_u64(b, "kmem_node_system_ram_bytes", NULL, 0, d->outside.system_ram,
                           KX_NO_TIMESTAMP);
    kx_expo_family(b, "kmem_vmalloc_bytes",
                   "RAM behind the vmalloc areas of the top callers in /proc/vmallocinfo "
                   "(pages=N x page size); purpose is a plain name for well-known callers.",
                   "gauge");
    for (unsigned i = 0; d && !d->vmalloc.err && i < d->vmalloc.n_top; i++) {
        const struct kmem_vmalloc_caller *c = &d->vmalloc.top[i];
        struct kx_label l[] = {{"caller", c->caller}, {"purpose", c->plain ? c->plain : ""}};
        kx_expo_sample_u64(b, "kmem_vmalloc_bytes", l, 2, c->bytes, KX_NO_TIMESTAMP);
    }
    kx_expo_family(b, "kmem_allocinfo_bytes",
                   "Bytes held by the top allocation call sites of /proc/allocinfo (6.10+, "
                   "CONFIG_MEM_ALLOC_PROFILING).",
                   "gauge");
    for (unsigned i = 0; d && d->alloc.present && !d->alloc.err && i < d->alloc.n_top; i++) {
        const struct kmem_alloc_site *a = &d->alloc.top[i];
        struct kx_label l[] = {{"site", a->site}, {"func", a->func}, {"module", a->module}};
        kx_expo_sample_double(b, "kmem_allocinfo_bytes", l, 3, (double)a->bytes, KX_NO_TIMESTAMP);
    }
}

static void render_node(struct kx_buf *b, const struct kmem_node *node)
{
    kx_expo_family(b, "kmem_node_kernel_bytes",
                   "Kernel memory of the node by kind; kinds do not overlap, so their sum is "
                   "the node's kernel memory (unaccounted: what no counter explains).",
                   "gauge");
    if (!node)
        return;
    for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++) {
        struct kx_label l = {"kind", kmem_node_kind_name[k]};
        kx_expo_sample_u64(b, "kmem_node_kernel_bytes", &l, 1, node->kind[k], KX_NO_TIMESTAMP);
    }
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

int kx_cadvisor_compat_parse(const char *s, enum kx_cadvisor_compat *out)
{
    static const char *const names[] = {
        [KX_CADVISOR_AUTO] = "auto",
        [KX_CADVISOR_ALWAYS] = "always",
        [KX_CADVISOR_NEVER] = "never",
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (s && strcmp(s, names[i]) == 0) {
            *out = (enum kx_cadvisor_compat)i;
            return 0;
        }
    }
    return -EINVAL;
}

void kx_cadvisor_name(const struct kmem_cgroup *cg, char *out, size_t outlen)
{
    const char *rt = nz(cg->runtime), *cid = nz(cg->container_id);

    if (*cid && (!strcmp(rt, "crio") || !strcmp(rt, "docker")) && cg->container_name &&
        *cg->container_name && cg->pod_name && *cg->pod_name && cg->namespace_name &&
        *cg->namespace_name && cg->pod_uid && *cg->pod_uid && cg->container_attempt >= 0) {
        snprintf(out, outlen, "k8s_%s_%s_%s_%s_%d", cg->container_name, cg->pod_name,
                 cg->namespace_name, cg->pod_uid, cg->container_attempt);
        return;
    }
    snprintf(out, outlen, "%s", cid);
}

static bool cadvisor_family(const struct kmem_cgroups *cgs, const struct kx_render_opts *o)
{
    switch (o->cadvisor_compat) {
    case KX_CADVISOR_ALWAYS:
        return true;
    case KX_CADVISOR_NEVER:
        return false;
    case KX_CADVISOR_AUTO:
        break;
    }
    /* Before the first collection succeeds the layout is unknown: no family. */
    return cgs && cgs->layout == KMEM_CG_V2;
}

static void render_cgroups(struct kx_buf *b, const struct kmem_cgroups *cgs,
                           const struct kx_render_opts *o, int64_t when_ms)
{
    kx_expo_family(b, "kmem_cgroup_kernel_bytes",
                   "Kernel memory charged to the memory cgroup and its descendants (v1 "
                   "memory.kmem.usage_in_bytes, v2 memory.stat kernel, or the sum of its parts "
                   "before Linux 5.18: see kmem_cgroup_kernel_exact).",
                   "gauge");
    for (size_t i = 0; cgs && i < cgs->n; i++) {
        const struct kmem_cgroup *cg = &cgs->v[i];
        struct kx_label l[] = {
            {"cgroup", nz(cg->path)},
            {"pod", nz(cg->pod_name)},
            {"namespace", nz(cg->namespace_name)},
            {"container", nz(cg->container_name)},
        };
        kx_expo_sample_u64(b, "kmem_cgroup_kernel_bytes", l, 4, cg->kernel, KX_NO_TIMESTAMP);
    }

    kx_expo_family(b, "kmem_cgroup_kernel_component_bytes",
                   "Parts of the kernel memory charged to the cgroup; they add up exactly to "
                   "kmem_cgroup_kernel_bytes (other: what the kernel does not name; all of it on "
                   "cgroup v1).",
                   "gauge");
    for (size_t i = 0; cgs && i < cgs->n; i++) {
        const struct kmem_cgroup *cg = &cgs->v[i];
        for (int k = 0; k < KMEM_CG_KIND_COUNT; k++) {
            if (!(cg->comp_present & (UINT32_C(1) << k)))
                continue;
            struct kx_label l[] = {{"cgroup", nz(cg->path)}, {"kind", kmem_cg_kind_name[k]}};
            kx_expo_sample_u64(b, "kmem_cgroup_kernel_component_bytes", l, 2, cg->comp[k],
                               KX_NO_TIMESTAMP);
        }
    }

    kx_expo_family(b, "kmem_cgroup_sock_bytes",
                   "Socket memory charged to the cgroup outside its kernel memory (v2 "
                   "memory.stat sock, v1 memory.kmem.tcp.usage_in_bytes).",
                   "gauge");
    for (size_t i = 0; cgs && i < cgs->n; i++) {
        const struct kmem_cgroup *cg = &cgs->v[i];
        struct kx_label l = {"cgroup", nz(cg->path)};
        if (cg->has_sock)
            kx_expo_sample_u64(b, "kmem_cgroup_sock_bytes", &l, 1, cg->sock, KX_NO_TIMESTAMP);
    }

    kx_expo_family(b, "kmem_cgroup_kernel_exact",
                   "1 when every kmem_cgroup_kernel_bytes is the kernel's own counter, 0 when "
                   "some are estimated (cgroup v2 before Linux 5.18: the sum of the parts).",
                   "gauge");
    if (cgs && cgs->n)
        kx_expo_sample_u64(b, "kmem_cgroup_kernel_exact", NULL, 0, cgs->kernel_exact,
                           KX_NO_TIMESTAMP);

    kx_expo_family(b, "kmem_cgroup_kernel_upper_bound_bytes",
                   "Where kmem_cgroup_kernel_bytes is estimated: the most it can be, "
                   "memory.current - LRU pages - sock (docs/cgroups.md).",
                   "gauge");
    for (size_t i = 0; cgs && i < cgs->n; i++) {
        const struct kmem_cgroup *cg = &cgs->v[i];
        struct kx_label l = {"cgroup", nz(cg->path)};
        if (cg->kernel_approx && cg->has_upper_bound)
            kx_expo_sample_u64(b, "kmem_cgroup_kernel_upper_bound_bytes", &l, 1,
                               cg->kernel_upper_bound, KX_NO_TIMESTAMP);
    }

    kx_expo_family(b, "kmem_memory_cgroups_dying",
                   "Memory cgroups removed but still held by the kernel (v2 cgroup.stat "
                   "nr_dying_subsys_memory or nr_dying_descendants of the root; v1 /proc/cgroups "
                   "num_cgroups minus the cgroups walked).",
                   "gauge");
    if (cgs && cgs->n && cgs->dying_source != KMEM_CG_DYING_NONE)
        kx_expo_sample_u64(b, "kmem_memory_cgroups_dying", NULL, 0, cgs->dying, KX_NO_TIMESTAMP);

    kx_expo_family(b, "kmem_cgroup_dying_descendants",
                   "Removed memory cgroups below the cgroup that the kernel still holds (v2 "
                   "cgroup.stat nr_dying_subsys_memory, else nr_dying_descendants).",
                   "gauge");
    for (size_t i = 0; cgs && i < cgs->n; i++) {
        const struct kmem_cgroup *cg = &cgs->v[i];
        struct kx_label l = {"cgroup", nz(cg->path)};
        if (cg->has_dying)
            kx_expo_sample_u64(b, "kmem_cgroup_dying_descendants", &l, 1, cg->dying,
                               KX_NO_TIMESTAMP);
    }

    if (cgs) {
        /* What the walk left out: removed during it (normal churn), or not
         * readable / deeper than the walk goes (then the collector fails). */
        struct kx_label lv = {"reason", "vanished"}, le = {"reason", "error"};
        kx_expo_family(b, "kmem_cgroups_skipped",
                       "Memory cgroups not in this scrape: removed while it ran (vanished), or "
                       "unreadable or nested deeper than 64 levels (error; "
                       "kmem_collector_success{collector=\"cgroup\"} is then 0).",
                       "gauge");
        kx_expo_sample_u64(b, "kmem_cgroups_skipped", &lv, 1, cgs->n_vanished, KX_NO_TIMESTAMP);
        kx_expo_sample_u64(b, "kmem_cgroups_skipped", &le, 1, cgs->n_errors, KX_NO_TIMESTAMP);
    }

    if (!cadvisor_family(cgs, o))
        return;
    kx_expo_family(b, "container_memory_kernel_usage", "Size of kernel memory allocated in bytes.",
                   "gauge");
    for (size_t i = 0; cgs && i < cgs->n; i++) {
        const struct kmem_cgroup *cg = &cgs->v[i];
        char name[512];
        kx_cadvisor_name(cg, name, sizeof(name));
        struct kx_label l[] = {
            {"container", nz(cg->container_name)},
            {"id", nz(cg->path)},
            {"image", ""},
            {"name", name},
            {"namespace", nz(cg->namespace_name)},
            {"pod", nz(cg->pod_name)},
        };
        kx_expo_sample_u64(b, "container_memory_kernel_usage", l, 6, cg->kernel,
                           o->timestamps ? when_ms : KX_NO_TIMESTAMP);
    }
}

static bool enabled(const struct kx_render_opts *o, enum kx_collector_id id)
{
    return !(o->disabled & (1u << id));
}

static void render_collectors(struct kx_buf *b, const struct kx_collection *c,
                              const struct kx_render_opts *o)
{
    kx_expo_family(b, "kmem_collector_success",
                   "1 if the collector's files were read and parsed in this scrape, else 0.",
                   "gauge");
    for (int i = 0; i < KX_COL_COUNT; i++) {
        if (!enabled(o, (enum kx_collector_id)i))
            continue;
        struct kx_label l = {"collector", kx_collector_name[i]};
        const struct kmem_status *st = c->part[i].status;
        bool ok = st && st->err == 0;
        /* A cgroup walk that skipped cgroups on errors is not a success. */
        if (i == KX_COL_CGROUP && c->cgroups && c->cgroups->n_errors)
            ok = false;
        kx_expo_sample_u64(b, "kmem_collector_success", &l, 1, ok, KX_NO_TIMESTAMP);
    }
    if (c->alloc) {
        struct kx_label l = {"collector", "alloc"};
        const struct kmem_status *st = c->alloc_part.status;
        kx_expo_sample_u64(b, "kmem_collector_success", &l, 1, st && st->err == 0, KX_NO_TIMESTAMP);
    }
    kx_expo_family(b, "kmem_collector_duration_seconds", "Time the collector took in this scrape.",
                   "gauge");
    for (int i = 0; i < KX_COL_COUNT; i++) {
        if (!enabled(o, (enum kx_collector_id)i))
            continue;
        struct kx_label l = {"collector", kx_collector_name[i]};
        kx_expo_sample_double(b, "kmem_collector_duration_seconds", &l, 1, c->part[i].seconds,
                              KX_NO_TIMESTAMP);
    }
    if (c->alloc) {
        struct kx_label l = {"collector", "alloc"};
        kx_expo_sample_double(b, "kmem_collector_duration_seconds", &l, 1, c->alloc_part.seconds,
                              KX_NO_TIMESTAMP);
    }
    kx_expo_family(b, "kmem_exporter_build_info",
                   "A metric with a constant '1' value labeled by the version of kmem_exporter.",
                   "gauge");
    struct kx_label v = {"version", KMEM_VERSION};
    kx_expo_sample_u64(b, "kmem_exporter_build_info", &v, 1, 1, KX_NO_TIMESTAMP);
}

static void render_process(struct kx_buf *b)
{
    struct kx_process p;
    if (kx_process_read(&p) != 0)
        return; /* never fail a scrape for self metrics */
    kx_expo_family(b, "process_cpu_seconds_total",
                   "Total user and system CPU time spent in seconds.", "counter");
    kx_expo_sample_double(b, "process_cpu_seconds_total", NULL, 0, p.cpu_seconds, KX_NO_TIMESTAMP);
    kx_expo_family(b, "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
    kx_expo_sample_u64(b, "process_resident_memory_bytes", NULL, 0, p.rss_bytes, KX_NO_TIMESTAMP);
    kx_expo_family(b, "process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge");
    kx_expo_sample_u64(b, "process_virtual_memory_bytes", NULL, 0, p.vsize_bytes, KX_NO_TIMESTAMP);
    kx_expo_family(b, "process_start_time_seconds",
                   "Start time of the process since unix epoch in seconds.", "gauge");
    kx_expo_sample_double(b, "process_start_time_seconds", NULL, 0, p.start_time_seconds,
                          KX_NO_TIMESTAMP);
    kx_expo_family(b, "process_open_fds", "Number of open file descriptors.", "gauge");
    kx_expo_sample_u64(b, "process_open_fds", NULL, 0, p.open_fds, KX_NO_TIMESTAMP);
    kx_expo_family(b, "process_max_fds", "Maximum number of open file descriptors.", "gauge");
    kx_expo_sample_u64(b, "process_max_fds", NULL, 0, p.max_fds, KX_NO_TIMESTAMP);
}

int kx_render(struct kx_buf *b, const struct kx_collection *c, const struct kx_render_opts *o)
{
    if (enabled(o, KX_COL_SLABINFO)) {
        int r = render_slab(b, c->slab, o);
        if (r)
            return r;
    }
    if (enabled(o, KX_COL_NODE)) {
        render_node(b, c->node);
        render_node_extra(b, c->node);
    }
    if (enabled(o, KX_COL_NODE_DETAIL))
        render_detail(b, c->detail);
    if (enabled(o, KX_COL_CGROUP))
        render_cgroups(b, c->cgroups, o, c->when_ms);
    if (c->alloc)
        kx_alloc_render(c->alloc, b);
    render_collectors(b, c, o);
    if (o->process)
        render_process(b);
    return b->err;
}

/* ---- process_* self metrics (always the real /proc/self) ---- */

/* The start of @path (at most @len - 1 bytes) into @buf, NUL-terminated. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
    struct kmem_buf b = {0};
    int r = kmem_buf_read_file(&b, AT_FDCWD, path, 0);
    size_t n;

    if (r) {
        free(b.data);
        return r;
    }
    n = b.len < len - 1 ? b.len : len - 1;
    memcpy(buf, b.data, n);
    buf[n] = '\0';
    free(b.data);
    return (ssize_t)n;
}

static pthread_once_t btime_once = PTHREAD_ONCE_INIT;
static uint64_t btime_s;

static void btime_init(void)
{
    char buf[16384];
    if (read_small("/proc/stat", buf, sizeof(buf)) < 0)
        return;
    const char *p = strstr(buf, "\nbtime ");
    if (p)
        btime_s = strtoull(p + 7, NULL, 10);
}

int kx_process_read(struct kx_process *p)
{
    char buf[1024];
    memset(p, 0, sizeof(*p));
    if (read_small("/proc/self/stat", buf, sizeof(buf)) < 0)
        return -EIO;
    /* The command may hold spaces and parentheses: fields start after the last ')'. */
    const char *s = strrchr(buf, ')');
    if (!s)
        return -EINVAL;
    s++;
    uint64_t field[64] = {0};
    int nf = 3; /* field 3 is the state letter */
    while (*s && nf < 64) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        char *end;
        field[nf] = strtoull(s, &end, 10);
        if (end == s) /* state letter */
            end = (char *)s + 1;
        while (*end && *end != ' ')
            end++;
        s = end;
        nf++;
    }
    if (nf < 25)
        return -EINVAL;
    long tck = sysconf(_SC_CLK_TCK);
    long pg = sysconf(_SC_PAGESIZE);
    if (tck <= 0)
        tck = 100;
    p->cpu_seconds = (double)(field[14] + field[15]) / (double)tck;
    p->vsize_bytes = field[23];
    p->rss_bytes = field[24] * (uint64_t)(pg > 0 ? pg : 4096);
    pthread_once(&btime_once, btime_init);
    p->start_time_seconds = (double)btime_s + (double)field[22] / (double)tck;

    DIR *d = opendir("/proc/self/fd");
    if (d) {
        const struct dirent *de;
        uint64_t n = 0;
        while ((de = readdir(d)) != NULL)
            if (de->d_name[0] != '.')
                n++;
        closedir(d);
        p->open_fds = n > 0 ? n - 1 : 0; /* minus the directory's own fd */
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        p->max_fds = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
    p->ok = true;
    return 0;
}
