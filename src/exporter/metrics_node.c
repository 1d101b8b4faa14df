// SPDX-License-Identifier: MIT
/* The node and node_detail collectors: kernel memory by kind, the slab gap,
 * sockets, zram; outside MemTotal, vmalloc callers, allocinfo. */
#include <stddef.h>
#include <stdint.h>

#include "collectors.h"

kx_render_fn kx_render_node, kx_render_node_detail;

/* ---- node ---- */

enum {
    F_KERNEL,
    F_SLAB_GAP,
    F_SOCKET,
    F_ZRAM_USED,
    F_ZRAM_ORIG,
    F_ZRAM_COMPR,
    F_NODE_COUNT,
};

static const struct kx_family node_fam[F_NODE_COUNT] = {
    [F_KERNEL] = {"kmem_node_kernel_bytes",
                  "Kernel memory of the node by kind; kinds do not overlap, so their sum is "
                  "the node's kernel memory (unaccounted: what no counter explains).",
                  KX_GAUGE,
                  {"kind"}},
    [F_SLAB_GAP] = {"kmem_node_slab_gap_bytes",
                    "meminfo Slab minus the sum of /proc/slabinfo: mostly kmalloc() larger than "
                    "two pages, counted in SUnreclaim but held by no cache.",
                    KX_GAUGE,
                    {NULL}},
    [F_SOCKET] = {"kmem_node_socket_memory_bytes",
                  "Socket buffers (/proc/net/sockstat TCP and UDP mem pages, FRAG memory); "
                  "overlaps slab and unaccounted.",
                  KX_GAUGE,
                  {NULL}},
    [F_ZRAM_USED] = {"kmem_zram_memory_used_bytes",
                     "Memory the zram device uses (mm_stat mem_used_total).",
                     KX_GAUGE,
                     {"device"}},
    [F_ZRAM_ORIG] = {"kmem_zram_original_data_bytes",
                     "Data stored in the zram device, uncompressed.",
                     KX_GAUGE,
                     {"device"}},
    [F_ZRAM_COMPR] = {"kmem_zram_compressed_data_bytes",
                      "Data stored in the zram device, compressed.",
                      KX_GAUGE,
                      {"device"}},
};

int kx_render_node(struct kmem_buf *b, const struct kx_collection *c,
                   const struct kx_render_opts *o, void *state)
{
    const struct kmem_node *node = c->node;
    (void)o;
    (void)state;

    kx_family_head(b, &node_fam[F_KERNEL]);
    for (int k = 0; node && k < KMEM_NODE_KIND_COUNT; k++)
        kx_family_u64(b, &node_fam[F_KERNEL], KX_VALUES(kmem_node_kind_name[k]), node->kind[k],
                      KX_NO_TIMESTAMP);

    /* Cheap figures beside the kinds: the slab gap, sockets, zram devices. */
    kx_family_head(b, &node_fam[F_SLAB_GAP]);
    if (node && node->slab_gap_known)
        kx_family_double(b, &node_fam[F_SLAB_GAP], KX_NO_VALUES, (double)node->slab_gap,
                         KX_NO_TIMESTAMP);
    kx_family_head(b, &node_fam[F_SOCKET]);
    if (node && node->sock.present)
        kx_family_u64(b, &node_fam[F_SOCKET], KX_NO_VALUES, node->sock.mem_bytes, KX_NO_TIMESTAMP);
    static const struct {
        int fam;
        size_t off;
    } zf[] = {
        {F_ZRAM_USED, offsetof(struct kmem_zram_dev, mem_used)},
        {F_ZRAM_ORIG, offsetof(struct kmem_zram_dev, orig_data)},
        {F_ZRAM_COMPR, offsetof(struct kmem_zram_dev, compr_data)},
    };
    for (size_t f = 0; f < sizeof(zf) / sizeof(zf[0]); f++) {
        const struct kx_family *fam = &node_fam[zf[f].fam];
        kx_family_head(b, fam);
        for (unsigned i = 0; node && i < node->zram.n; i++)
            kx_family_u64(b, fam, KX_VALUES(node->zram.dev[i].name),
                          *(const uint64_t *)((const char *)&node->zram.dev[i] + zf[f].off),
                          KX_NO_TIMESTAMP);
    }
    return b->err;
}

/* ---- node_detail: read at most once a minute ---- */

enum {
    F_AGE,
    F_OUTSIDE,
    F_SYSTEM_RAM,
    F_VMALLOC,
    F_ALLOCINFO,
    F_DETAIL_COUNT,
};

static const struct kx_family detail_fam[F_DETAIL_COUNT] = {
    [F_AGE] = {"kmem_node_detail_age_seconds",
               "Seconds since /proc/vmallocinfo, /proc/iomem and /proc/allocinfo were read "
               "(at most once a minute; the figures below are from then).",
               KX_GAUGE,
               {NULL}},
    [F_OUTSIDE] =
        {"kmem_node_outside_bytes",
         "RAM outside MemTotal by part (System RAM from /proc/iomem - MemTotal): "
         "memmap, kernel_image, crash_kernel, boot_hash_tables, percpu_first_chunk, swiotlb, "
         "unexplained. Only when /proc/iomem shows addresses (CAP_SYS_ADMIN).",
         KX_GAUGE,
         {"part"}},
    [F_SYSTEM_RAM] = {"kmem_node_system_ram_bytes",
                      "System RAM ranges of /proc/iomem (RAM the firmware handed to Linux).",
                      KX_GAUGE,
                      {NULL}},
    [F_VMALLOC] = {"kmem_vmalloc_bytes",
                   "RAM behind the vmalloc areas of the top callers in /proc/vmallocinfo "
                   "(pages=N x page size); purpose is a plain name for well-known callers.",
                   KX_GAUGE,
                   {"caller", "purpose"}},
    [F_ALLOCINFO] = {"kmem_allocinfo_bytes",
                     "Bytes held by the top allocation call sites of /proc/allocinfo (6.10+, "
                     "CONFIG_MEM_ALLOC_PROFILING).",
                     KX_GAUGE,
                     {"site", "func", "module"}},
};

int kx_render_node_detail(struct kmem_buf *b, const struct kx_collection *c,
                          const struct kx_render_opts *o, void *state)
{
    const struct kmem_detail *d = c->detail;
    (void)o;
    (void)state;

    kx_family_head(b, &detail_fam[F_AGE]);
    if (d)
        kx_family_double(b, &detail_fam[F_AGE], KX_NO_VALUES, d->age, KX_NO_TIMESTAMP);
    kx_family_head(b, &detail_fam[F_OUTSIDE]);
    for (int p = 0; d && d->outside.known && p < KMEM_OUT_PART_COUNT; p++)
        kx_family_u64(b, &detail_fam[F_OUTSIDE], KX_VALUES(kmem_outside_part_name[p]),
                      d->outside.part[p], KX_NO_TIMESTAMP);
    kx_family_head(b, &detail_fam[F_SYSTEM_RAM]);
    if (d && d->outside.known)
        kx_family_u64(b, &detail_fam[F_SYSTEM_RAM], KX_NO_VALUES, d->outside.system_ram,
                      KX_NO_TIMESTAMP);
    kx_family_head(b, &detail_fam[F_VMALLOC]);
    for (unsigned i = 0; d && !d->vmalloc.err && i < d->vmalloc.n_top; i++) {
        const struct kmem_vmalloc_caller *v = &d->vmalloc.top[i];
        kx_family_u64(b, &detail_fam[F_VMALLOC], KX_VALUES(v->caller, v->plain ? v->plain : ""),
                      v->bytes, KX_NO_TIMESTAMP);
    }
    kx_family_head(b, &detail_fam[F_ALLOCINFO]);
    for (unsigned i = 0; d && d->alloc.present && !d->alloc.err && i < d->alloc.n_top; i++) {
        const struct kmem_alloc_site *a = &d->alloc.top[i];
        kx_family_double(b, &detail_fam[F_ALLOCINFO], KX_VALUES(a->site, a->func, a->module),
                         (double)a->bytes, KX_NO_TIMESTAMP);
    }
    return b->err;
}
