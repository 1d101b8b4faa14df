/* SPDX-License-Identifier: MIT */
/* /proc/vmstat: "key value" lines (pages unless the name says otherwise). */
#include <string.h>

#include "kv.h"
#include "node.h"

const char *const kmem_vmstat_name[KMEM_VM_COUNT] = {
    [KMEM_VM_NR_FREE_PAGES] = "nr_free_pages",
    [KMEM_VM_NR_SLAB_RECLAIMABLE] = "nr_slab_reclaimable",
    [KMEM_VM_NR_SLAB_UNRECLAIMABLE] = "nr_slab_unreclaimable",
    [KMEM_VM_NR_KERNEL_STACK] = "nr_kernel_stack",
    [KMEM_VM_NR_PAGE_TABLE_PAGES] = "nr_page_table_pages",
    [KMEM_VM_NR_SEC_PAGE_TABLE_PAGES] = "nr_sec_page_table_pages",
    [KMEM_VM_NR_MEMMAP_PAGES] = "nr_memmap_pages",
    [KMEM_VM_NR_MEMMAP_BOOT_PAGES] = "nr_memmap_boot_pages",
    [KMEM_VM_NR_KERNEL_MISC_RECLAIMABLE] = "nr_kernel_misc_reclaimable",
    [KMEM_VM_NR_ZSPAGES] = "nr_zspages",
    [KMEM_VM_NR_ISOLATED_ANON] = "nr_isolated_anon",
    [KMEM_VM_NR_ISOLATED_FILE] = "nr_isolated_file",
};
static_assert(sizeof(kmem_vmstat_name) / sizeof(kmem_vmstat_name[0]) == KMEM_VM_COUNT,
              "kmem_vmstat_name table");

static const struct kmem_kv_table vmstat_table = {
    .names = kmem_vmstat_name,
    .n = KMEM_VM_COUNT,
    .colon = false,
    .kb_unit = false,
};

int kmem_vmstat_parse(const char *buf, size_t len, struct kmem_vmstat *out,
                      struct kmem_parse_error *err)
{
    memset(out, 0, sizeof(*out));
    return kmem_kv_parse(&vmstat_table, buf, len, out->v, &out->present, err);
}
