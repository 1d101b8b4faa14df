/* SPDX-License-Identifier: MIT */
/* /proc/meminfo: "Key:   value kB" lines; HugePages_* are counts. */
#include <string.h>

#include "kv.h"
#include "node.h"

const char *const kmem_meminfo_name[KMEM_MI_COUNT] = {
    [KMEM_MI_MEMTOTAL] = "MemTotal",
    [KMEM_MI_MEMFREE] = "MemFree",
    [KMEM_MI_MEMAVAILABLE] = "MemAvailable",
    [KMEM_MI_BUFFERS] = "Buffers",
    [KMEM_MI_CACHED] = "Cached",
    [KMEM_MI_SWAPCACHED] = "SwapCached",
    [KMEM_MI_ACTIVE] = "Active",
    [KMEM_MI_INACTIVE] = "Inactive",
    [KMEM_MI_UNEVICTABLE] = "Unevictable",
    [KMEM_MI_ANONPAGES] = "AnonPages",
    [KMEM_MI_MAPPED] = "Mapped",
    [KMEM_MI_SHMEM] = "Shmem",
    [KMEM_MI_KRECLAIMABLE] = "KReclaimable",
    [KMEM_MI_SLAB] = "Slab",
    [KMEM_MI_SRECLAIMABLE] = "SReclaimable",
    [KMEM_MI_SUNRECLAIM] = "SUnreclaim",
    [KMEM_MI_KERNELSTACK] = "KernelStack",
    [KMEM_MI_SHADOWCALLSTACK] = "ShadowCallStack",
    [KMEM_MI_PAGETABLES] = "PageTables",
    [KMEM_MI_SECPAGETABLES] = "SecPageTables",
    [KMEM_MI_VMALLOCTOTAL] = "VmallocTotal",
    [KMEM_MI_VMALLOCUSED] = "VmallocUsed",
    [KMEM_MI_PERCPU] = "Percpu",
    [KMEM_MI_HUGEPAGES_TOTAL] = "HugePages_Total",
    [KMEM_MI_HUGEPAGESIZE] = "Hugepagesize",
    [KMEM_MI_HUGETLB] = "Hugetlb",
    [KMEM_MI_ZSWAP] = "Zswap",
    [KMEM_MI_ZSWAPPED] = "Zswapped",
    [KMEM_MI_UNACCEPTED] = "Unaccepted",
    [KMEM_MI_BALLOON] = "Balloon",
    [KMEM_MI_BOUNCE] = "Bounce",
    [KMEM_MI_WRITEBACKTMP] = "WritebackTmp",
};
static_assert(sizeof(kmem_meminfo_name) / sizeof(kmem_meminfo_name[0]) == KMEM_MI_COUNT,
              "kmem_meminfo_name table");

static const struct kmem_kv_table meminfo_table = {
    .names = kmem_meminfo_name,
    .n = KMEM_MI_COUNT,
    .colon = true,
    .kb_unit = true,
};

int kmem_meminfo_parse(const char *buf, size_t len, struct kmem_meminfo *out,
                       struct kmem_parse_error *err)
{
    memset(out, 0, sizeof(*out));
    return kmem_kv_parse(&meminfo_table, buf, len, out->v, &out->present, err);
}
