/* SPDX-License-Identifier: MIT */
/*
 * The node's detail files, costlier than the counters and read at most once
 * a minute (docs/node.md, docs/exporter.md):
 *
 *   /proc/vmallocinfo  vmalloc areas by caller (root only, mode 0400)
 *   /proc/iomem        System RAM and the kernel image (addresses read 0 without root)
 *   /proc/allocinfo    bytes per allocation call site (6.10+, CONFIG_MEM_ALLOC_PROFILING)
 *
 * and the memory outside MemTotal computed from them and the node.
 */
#ifndef KMEM_DETAIL_H
#define KMEM_DETAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node.h"
#include "parse_error.h"

/* ---- /proc/vmallocinfo ---------------------------------------------------- */

#define KMEM_VMALLOC_TOP    24
#define KMEM_VMALLOC_GROUPS 16

struct kmem_vmalloc_caller {
    char caller[72];   /* "htab_map_alloc", "xfs_buf_alloc [xfs]", "unpurged", "vm_map_ram" */
    const char *plain; /* a plain name ("BPF maps") or NULL; static storage */
    uint64_t bytes;    /* pages=N x page size: the RAM behind the areas */
    uint64_t vsize;    /* address space, guard pages included */
    uint64_t areas;
};

/* Areas by plain name (callers without one are "other"). */
struct kmem_vmalloc_group {
    const char *name; /* static storage */
    uint64_t bytes, areas;
};

struct kmem_vmallocinfo {
    int err;                /* 0, or -errno of reading/parsing the file */
    uint64_t areas;         /* lines */
    uint64_t bytes;         /* sum of pages=N x page size of "vmalloc" areas: = VmallocUsed */
    uint64_t other_pages;   /* pages=N x page size of the other areas (vmap with pages) */
    uint64_t vsize;         /* address space of every area */
    uint64_t ioremap_vsize; /* device memory mapped (no RAM behind it) */
    uint64_t callers;       /* distinct callers */
    unsigned n_top;         /* top[] by bytes (then address space) */
    struct kmem_vmalloc_caller top[KMEM_VMALLOC_TOP];
    uint64_t rest_bytes; /* bytes of the callers not in top[] */
    unsigned n_groups;
    struct kmem_vmalloc_group groups[KMEM_VMALLOC_GROUPS];
};

/* ---- /proc/iomem ------------------------------------------------------------ */

struct kmem_iomem {
    int err;             /* 0; -errno; -EPERM when every address reads 0 (not root) */
    uint64_t system_ram; /* top-level "System RAM" ranges */
    unsigned ram_ranges;
    bool kernel_seen; /* any of the four kernel ranges */
    uint64_t kernel_code, kernel_rodata, kernel_data, kernel_bss;
    uint64_t kernel_start, kernel_end; /* the span they cover, inclusive */
    uint64_t crash_kernel;             /* "Crash kernel" ranges (kdump) */
};

/* ---- /proc/allocinfo -------------------------------------------------------- */

#define KMEM_ALLOCINFO_TOP 24

struct kmem_alloc_site {
    char site[96];   /* "mm/slub.c:2450" */
    char func[64];   /* "alloc_slab_page" */
    char module[32]; /* "" for the kernel itself */
    int64_t bytes;
    uint64_t calls;
    bool inaccurate; /* "accurate:no" */
};

struct kmem_allocinfo {
    bool present; /* the file exists (6.10+ with CONFIG_MEM_ALLOC_PROFILING) */
    int err;      /* 0, or -errno of reading/parsing it */
    unsigned major, minor;
    uint64_t sites; /* call-site lines */
    int64_t bytes;  /* sum over every site */
    uint64_t calls;
    unsigned n_top;
    struct kmem_alloc_site top[KMEM_ALLOCINFO_TOP];
};

/* ---- memory outside MemTotal ------------------------------------------------ */

enum kmem_outside_part {
    KMEM_OUT_MEMMAP,             /* vmstat nr_memmap_boot_pages */
    KMEM_OUT_KERNEL_IMAGE,       /* iomem Kernel code/rodata/data/bss (or their span - freed) */
    KMEM_OUT_CRASH_KERNEL,       /* iomem Crash kernel */
    KMEM_OUT_BOOT_HASH_TABLES,   /* kernel log: HASH_EARLY tables (dentry, inode) */
    KMEM_OUT_PERCPU_FIRST_CHUNK, /* kernel log: percpu first chunk x used units */
    KMEM_OUT_SWIOTLB,            /* kernel log: swiotlb's default pool */
    KMEM_OUT_UNEXPLAINED,        /* keep last: System RAM - MemTotal - the parts above */
    KMEM_OUT_PART_COUNT
};
/* "memmap", "kernel_image", "crash_kernel", "boot_hash_tables", "percpu_first_chunk",
 * "swiotlb", "unexplained". */
extern const char *const kmem_outside_part_name[KMEM_OUT_PART_COUNT];

struct kmem_outside {
    bool known;                         /* System RAM known (iomem readable as root) */
    uint64_t system_ram;                /* iomem */
    uint64_t memtotal;                  /* meminfo */
    uint64_t total;                     /* system_ram - memtotal (0 when unknown) */
    uint64_t part[KMEM_OUT_PART_COUNT]; /* the parts; unexplained clamped at 0 */
    int64_t unexplained_signed;
    bool image_from_span;  /* kernel_image = span of the four ranges - freed (kernel log) */
    bool memmap_estimated; /* no nr_memmap_boot_pages (before 6.11): System RAM pages x struct page
                            */
    uint64_t image_named;  /* code + rodata + data + bss */
};

struct kmem_detail {
    bool reused; /* copied from an earlier collection (read at most once a minute) */
    double age;  /* seconds since the files were read (0 when read by this collection) */
    struct kmem_vmallocinfo vmalloc;
    struct kmem_iomem iomem;
    struct kmem_allocinfo alloc;
    struct kmem_outside outside; /* always computed with this collection's node */
};

/* Pure parsers: 0, -EINVAL with *err (line, what), or -ENOMEM. */
int kmem_vmallocinfo_parse(const char *buf, size_t len, uint64_t page_size,
                           struct kmem_vmallocinfo *out, struct kmem_parse_error *err);
int kmem_iomem_parse(const char *buf, size_t len, struct kmem_iomem *out,
                     struct kmem_parse_error *err);
int kmem_allocinfo_parse(const char *buf, size_t len, struct kmem_allocinfo *out,
                         struct kmem_parse_error *err);

/* The plain name of a vmalloc caller symbol ("htab_map_alloc" -> "BPF maps"), or NULL. */
const char *kmem_vmalloc_plain_name(const char *symbol, size_t len);

/*
 * Memory outside MemTotal from the node (memmap, kernel log; may be NULL)
 * and /proc/iomem (may be NULL or failed: then not known).
 */
void kmem_outside_compute(struct kmem_outside *o, const struct kmem_node *node,
                          const struct kmem_iomem *iomem);

#endif
