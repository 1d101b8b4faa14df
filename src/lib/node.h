/* SPDX-License-Identifier: MIT */
/*
 * Node-wide kernel memory: /proc/meminfo, /proc/vmstat, /proc/zoneinfo and a
 * breakdown into kinds that do not overlap (their sum is the node's kernel
 * memory). Formulas and the reasoning behind them are in docs/node.md.
 */
#ifndef KMEM_NODE_H
#define KMEM_NODE_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse_error.h"

/* /proc/meminfo fields kmem uses; values in bytes except HugePages_*. */
enum kmem_meminfo_field {
    KMEM_MI_MEMTOTAL,
    KMEM_MI_MEMFREE,
    KMEM_MI_MEMAVAILABLE,
    KMEM_MI_BUFFERS,
    KMEM_MI_CACHED,
    KMEM_MI_SWAPCACHED,
    KMEM_MI_ACTIVE,
    KMEM_MI_INACTIVE,
    KMEM_MI_UNEVICTABLE,
    KMEM_MI_ANONPAGES,
    KMEM_MI_MAPPED,
    KMEM_MI_SHMEM,
    KMEM_MI_KRECLAIMABLE,
    KMEM_MI_SLAB,
    KMEM_MI_SRECLAIMABLE,
    KMEM_MI_SUNRECLAIM,
    KMEM_MI_KERNELSTACK,
    KMEM_MI_SHADOWCALLSTACK,
    KMEM_MI_PAGETABLES,
    KMEM_MI_SECPAGETABLES,
    KMEM_MI_VMALLOCTOTAL,
    KMEM_MI_VMALLOCUSED,
    KMEM_MI_PERCPU,
    KMEM_MI_HUGEPAGES_TOTAL,
    KMEM_MI_HUGEPAGESIZE,
    KMEM_MI_HUGETLB,
    KMEM_MI_ZSWAP,
    KMEM_MI_ZSWAPPED,
    KMEM_MI_UNACCEPTED,
    KMEM_MI_BALLOON,
    KMEM_MI_COUNT
};
static_assert(KMEM_MI_COUNT <= 64, "kmem_meminfo.present is a 64-bit mask");

struct kmem_meminfo {
    uint64_t v[KMEM_MI_COUNT];
    uint64_t present; /* bit (1 << field) set when the kernel reported it */
};

/* /proc/vmstat fields kmem uses (pages unless noted). */
enum kmem_vmstat_field {
    KMEM_VM_NR_FREE_PAGES,
    KMEM_VM_NR_SLAB_RECLAIMABLE,
    KMEM_VM_NR_SLAB_UNRECLAIMABLE,
    KMEM_VM_NR_KERNEL_STACK, /* kB in vmstat */
    KMEM_VM_NR_PAGE_TABLE_PAGES,
    KMEM_VM_NR_SEC_PAGE_TABLE_PAGES,
    KMEM_VM_NR_MEMMAP_PAGES,
    KMEM_VM_NR_MEMMAP_BOOT_PAGES,
    KMEM_VM_NR_KERNEL_MISC_RECLAIMABLE,
    KMEM_VM_NR_ZSPAGES,
    KMEM_VM_COUNT
};
static_assert(KMEM_VM_COUNT <= 64, "kmem_vmstat.present is a 64-bit mask");

struct kmem_vmstat {
    uint64_t v[KMEM_VM_COUNT];
    uint64_t present;
};

/* Kinds of node kernel memory. They do not overlap: their sum is the total. */
enum kmem_node_kind {
    KMEM_NODE_SLAB_RECLAIMABLE,
    KMEM_NODE_SLAB_UNRECLAIMABLE,
    KMEM_NODE_KERNEL_STACK,
    KMEM_NODE_PAGETABLES,
    KMEM_NODE_SEC_PAGETABLES,
    KMEM_NODE_VMALLOC,
    KMEM_NODE_PERCPU,
    KMEM_NODE_OTHER_RECLAIMABLE,
    KMEM_NODE_ZSWAP,       /* zswap's compressed pool (meminfo Zswap) */
    KMEM_NODE_ZRAM,        /* other zsmalloc pages: zram devices */
    KMEM_NODE_UNACCOUNTED, /* keep last: what no counter explains */
    KMEM_NODE_KIND_COUNT
};

/* "slab_reclaimable", ... (exported label values). */
extern const char *const kmem_node_kind_name[KMEM_NODE_KIND_COUNT];
/* The kernel's names of the fields above: "MemTotal", ..., "nr_free_pages", ... */
extern const char *const kmem_meminfo_name[KMEM_MI_COUNT];
extern const char *const kmem_vmstat_name[KMEM_VM_COUNT];

/* Where the CONFIG_VMAP_STACK decision came from (see docs/node.md). */
enum kmem_vmap_stack_source {
    KMEM_VMAP_STACK_UNKNOWN,     /* not decided (node not read) */
    KMEM_VMAP_STACK_VMALLOCINFO, /* proc/vmallocinfo: stack allocations seen or not */
    KMEM_VMAP_STACK_CONFIG,      /* boot/config-<release> under the root */
    KMEM_VMAP_STACK_ARCH,        /* default of the architecture kmem was built for */
    KMEM_VMAP_STACK_SOURCE_COUNT
};

/* "unknown", "vmallocinfo", "config", "arch-default". */
extern const char *const kmem_vmap_stack_source_name[KMEM_VMAP_STACK_SOURCE_COUNT];

struct kmem_node {
    struct kmem_meminfo mi;
    struct kmem_vmstat vm;
    uint64_t percpu_free_pages; /* sum of zoneinfo pageset "count:" */
    uint64_t percpu_free_bytes; /* percpu_free_pages x page size */
    uint64_t page_size;         /* used for the page counts above */
    /*
     * Kernel stacks live in vmalloc space (and so inside VmallocUsed).
     * vmap_stack_detected is what the detection said; vmap_stack is what
     * compute uses: false when VmallocUsed < KernelStack (the stacks cannot
     * be inside it, e.g. kernels before 5.3 report VmallocUsed as 0).
     */
    bool vmap_stack;
    bool vmap_stack_detected;
    enum kmem_vmap_stack_source vmap_stack_source;
    uint64_t kind[KMEM_NODE_KIND_COUNT]; /* bytes */
    uint64_t kernel_total;               /* sum of kind[] */
    int64_t unaccounted_signed;          /* formula result before clamping at 0 */
    uint64_t memmap_bytes;               /* (nr_memmap_pages + nr_memmap_boot_pages) x page size */
    uint64_t memmap_boot_bytes;          /* nr_memmap_boot_pages x page size: outside MemTotal */
    /* Not kernel memory, for the report: LRU (Active + Inactive + Unevictable) and hugetlb. */
    uint64_t lru_bytes;
    uint64_t hugetlb_bytes;
};

/*
 * Pure parsers (no I/O), for tests and fuzzing. 0 or -EINVAL with *err set
 * (may be NULL). Unknown keys are skipped; a key the kernel repeats keeps
 * its last value. They never read past buf + len.
 */
int kmem_meminfo_parse(const char *buf, size_t len, struct kmem_meminfo *out,
                       struct kmem_parse_error *err);
int kmem_vmstat_parse(const char *buf, size_t len, struct kmem_vmstat *out,
                      struct kmem_parse_error *err);
/* Sum of per-CPU pageset "count:" pages in /proc/zoneinfo. */
int kmem_zoneinfo_parse(const char *buf, size_t len, uint64_t *pcp_pages,
                        struct kmem_parse_error *err);

/*
 * Compute kind[], kernel_total, unaccounted_signed, memmap_bytes,
 * percpu_free_bytes, lru_bytes and hugetlb_bytes from mi, vm,
 * percpu_free_pages and vmap_stack. Saturates instead of overflowing.
 */
void kmem_node_compute(struct kmem_node *node, uint64_t page_size);

#endif
