/* SPDX-License-Identifier: MIT */
/*
 * Node-wide kernel memory: /proc/meminfo, /proc/vmstat, /proc/zoneinfo and a
 * breakdown into kinds that do not overlap (their sum is the node's kernel
 * memory). Formulas are documented in README.md ("Node kinds").
 */
#ifndef KMEM_NODE_H
#define KMEM_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
    KMEM_MI_COUNT
};

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
    KMEM_NODE_UNACCOUNTED,
    KMEM_NODE_KIND_COUNT
};

/* "slab_reclaimable", ... (exported label values). */
extern const char *const kmem_node_kind_name[KMEM_NODE_KIND_COUNT];

struct kmem_node {
    struct kmem_meminfo mi;
    struct kmem_vmstat vm;
    uint64_t percpu_free_bytes; /* sum of zoneinfo pageset "count:" x page size */
    bool vmap_stack;            /* kernel stacks live in vmalloc space */
    uint64_t kind[KMEM_NODE_KIND_COUNT]; /* bytes */
    uint64_t kernel_total;               /* sum of kind[] */
    int64_t unaccounted_signed;          /* formula result before clamping at 0 */
    uint64_t memmap_bytes;               /* outside MemTotal */
};

/* Pure parsers (no I/O), for tests and fuzzing. 0 or -EINVAL with *line set. */
int kmem_meminfo_parse(const char *buf, size_t len, struct kmem_meminfo *out, unsigned *line);
int kmem_vmstat_parse(const char *buf, size_t len, struct kmem_vmstat *out, unsigned *line);
/* Sum of per-CPU pageset "count:" pages in /proc/zoneinfo. */
int kmem_zoneinfo_parse(const char *buf, size_t len, uint64_t *pcp_pages, unsigned *line);

/* Compute kind[], kernel_total, unaccounted from the parsed inputs. */
void kmem_node_compute(struct kmem_node *node, uint64_t page_size);

#endif
