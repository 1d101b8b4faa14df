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
    KMEM_MI_BOUNCE,
    KMEM_MI_WRITEBACKTMP,
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
    KMEM_VM_NR_ISOLATED_ANON,
    KMEM_VM_NR_ISOLATED_FILE,
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
    KMEM_NODE_ZSWAP,         /* zswap's compressed pool (meminfo Zswap) */
    KMEM_NODE_ZRAM,          /* other zsmalloc pages: zram devices */
    KMEM_NODE_BOUNCE,        /* bounce buffers for block I/O (meminfo Bounce) */
    KMEM_NODE_WRITEBACK_TMP, /* FUSE writeback copies (meminfo WritebackTmp) */
    KMEM_NODE_HASH_TABLES,   /* boot hash tables from the page allocator (kernel log) */
    KMEM_NODE_UNACCOUNTED,   /* keep last: what no counter explains */
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
    KMEM_VMAP_STACK_SLABINFO,    /* proc/slabinfo: the cache (thread_stack, scs_cache) seen */
    KMEM_VMAP_STACK_SYSFS,       /* sys/kernel/slab/<cache> exists (merged or not) */
    KMEM_VMAP_STACK_RELEASE,     /* the kernel release (shadow call stacks: 5.8-5.13 slab) */
    KMEM_VMAP_STACK_SOURCE_COUNT
};

/*
 * "unknown", "vmallocinfo", "config", "arch-default", "slabinfo", "sysfs",
 * "release": where a decision about where stacks live came from.
 */
extern const char *const kmem_vmap_stack_source_name[KMEM_VMAP_STACK_SOURCE_COUNT];

/*
 * What the kernel log says about boot-time allocations (/dev/kmsg, or a
 * captured copy of the lines kmem uses). Read once per context.
 */
enum kmem_hash_home {
    KMEM_HASH_MEMBLOCK, /* allocated before the page allocator ran: outside MemTotal */
    KMEM_HASH_PAGES,    /* alloc_pages_exact() after boot: inside MemTotal, no counter */
    KMEM_HASH_VMALLOC,  /* vmalloc: inside VmallocUsed */
    KMEM_HASH_HOME_COUNT
};
/* "boot", "pages", "vmalloc". */
extern const char *const kmem_hash_home_name[KMEM_HASH_HOME_COUNT];

#define KMEM_BOOT_HASH_MAX 40
struct kmem_boot_hash {
    char name[40]; /* "Dentry cache", "TCP established", ... */
    uint64_t entries, bytes;
    enum kmem_hash_home home;
};

struct kmem_bootlog {
    bool read; /* decided (read or failed) in this context */
    /*
     * 0 when a log was read: ROOT/dev/kmsg (the live ring buffer, or in a
     * capture a regular file of the lines used) or ROOT/var/log/dmesg; else
     * -errno of dev/kmsg (EPERM: dmesg_restrict without CAP_SYSLOG).
     */
    int err;
    unsigned n_hash;       /* hash table lines kept (at most KMEM_BOOT_HASH_MAX) */
    unsigned n_hash_lines; /* hash table lines seen */
    struct kmem_boot_hash hash[KMEM_BOOT_HASH_MAX];
    uint64_t hash_bytes[KMEM_HASH_HOME_COUNT]; /* sum per home, over every line seen */
    bool image_freed_seen;                     /* some "Freeing unused kernel ..." line */
    uint64_t image_freed_bytes;                /* their sum: parts of the kernel image given back */
    bool percpu_seen;                          /* "percpu: Embedded N pages/cpu ..." */
    uint64_t percpu_unit_pages;                /* N: pages of the first chunk per CPU */
    /*
     * "pcpu-alloc: [0] 0 1 2 3 4 5 - -" lines (KERN_DEBUG, after the
     * "pcpu-alloc: s.. r.. d.. u.. alloc=.." line): one token per unit, "-"
     * for a unit no CPU uses. Percpu counts populated pages x every unit.
     */
    uint64_t percpu_units;        /* units listed (0: no such lines) */
    uint64_t percpu_units_unused; /* of which "-" */
    /*
     * swiotlb's default pool, from memblock (outside MemTotal): "software IO
     * TLB: mapped [mem A-B] (64MB)"; 0 again after "tearing down default
     * memory pool" (given back to the page allocator).
     */
    bool swiotlb_seen, swiotlb_torn_down;
    uint64_t swiotlb_bytes;
    uint64_t possible_cpus; /* sys/devices/system/cpu/possible (0: unknown) */
};

/* zram devices: /sys/block/zram<N>/mm_stat, bytes. */
#define KMEM_ZRAM_MAX 16
struct kmem_zram_dev {
    char name[16];
    uint64_t orig_data, compr_data, mem_used, mem_limit, mem_used_max, same_pages, huge_pages;
};
struct kmem_zram {
    unsigned n;              /* devices kept in dev[] (the first KMEM_ZRAM_MAX by name) */
    unsigned n_total;        /* devices with a readable mm_stat */
    uint64_t mem_used_total; /* sum of mem_used over every device */
    struct kmem_zram_dev dev[KMEM_ZRAM_MAX];
};

/* /proc/net/sockstat and sockstat6 (the reader's network namespace for counts). */
struct kmem_sockstat {
    bool present, v6_present;
    uint64_t sockets_used;
    uint64_t tcp_inuse, tcp_orphan, tcp_tw, tcp_alloc, tcp_mem_pages;
    uint64_t udp_inuse, udp_mem_pages, udplite_inuse, raw_inuse, frag_inuse, frag_bytes;
    uint64_t tcp6_inuse, udp6_inuse, udplite6_inuse, raw6_inuse, frag6_inuse, frag6_bytes;
    uint64_t mem_bytes; /* (TCP mem + UDP mem) pages x page size + FRAG + FRAG6 memory */
};

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
    /* User pages taken off the LRU for a moment (migration, reclaim): nr_isolated_*. */
    uint64_t isolated_bytes;
    /*
     * Thread stacks from the thread_stack slab cache (THREAD_SIZE < PAGE_SIZE
     * without VMAP_STACK): KernelStack is then inside SUnreclaim.
     */
    bool stack_in_slab;
    enum kmem_vmap_stack_source stack_slab_source; /* SLABINFO, SYSFS; UNKNOWN: not seen */
    /* Shadow call stacks from scs_cache (5.8-5.13) rather than vmalloc (5.14+). */
    bool scs_in_slab;
    enum kmem_vmap_stack_source scs_source; /* UNKNOWN when ShadowCallStack is 0 */
    /* The slab gap: meminfo Slab - the sum of /proc/slabinfo (large kmallocs, see node.md). */
    bool slab_gap_known;
    uint64_t slabinfo_bytes;             /* sum of num_slabs x pagesperslab x page size */
    int64_t slab_gap;                    /* Slab - slabinfo_bytes */
    bool slab_split_known;               /* reclaim_account of every cache known (sysfs) */
    uint64_t slabinfo_reclaimable_bytes; /* caches with reclaim_account: = SReclaimable */
    int64_t large_kmalloc;               /* SUnreclaim - unreclaimable caches (kmalloc > 2 pages) */
    /* The kernel log, the per-CPU first chunk (allocated at boot, outside MemTotal). */
    struct kmem_bootlog boot;
    /*
     * The per-CPU allocator's units: from the kernel log's pcpu-alloc lines,
     * else the possible CPUs (units_used: units a CPU uses).
     */
    uint64_t percpu_units, percpu_units_used;
    uint64_t percpu_first_chunk_bytes; /* percpu_unit_pages x page size x units (in Percpu) */
    /* percpu_unit_pages x page size x used units: the part memblock kept (outside MemTotal) */
    uint64_t percpu_first_chunk_kept_bytes;
    struct kmem_zram zram;
    struct kmem_sockstat sock;
    /* The root's kernel, major * 1000 + minor (6.18 -> 6018); 0 unknown. */
    unsigned release;
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
 * The kernel log lines kmem uses, in /dev/kmsg record form ("6,12,345,-;text"),
 * dmesg form ("[    0.1] text"), syslog form ("... kernel: text") or bare:
 * hash tables, freed parts of the kernel image, the per-CPU first chunk.
 * Adds to @out (zero it first; read, err and possible_cpus are not
 * touched). Unknown lines are skipped. When @keep is not NULL, each line
 * used is appended to it. 0, or -ENOMEM (keep could not grow).
 */
struct kmem_buf;
int kmem_bootlog_parse(const char *buf, size_t len, struct kmem_bootlog *out,
                       struct kmem_buf *keep);
/* /sys/block/zramN/mm_stat: at least 3 numbers ("orig compr mem_used ..."). */
int kmem_zram_mm_stat_parse(const char *buf, size_t len, struct kmem_zram_dev *out,
                            struct kmem_parse_error *err);
/* /proc/net/sockstat (v6 false) or sockstat6 (v6 true) into @out; other fields kept. */
int kmem_sockstat_parse(const char *buf, size_t len, bool v6, struct kmem_sockstat *out,
                        struct kmem_parse_error *err);

/*
 * Compute kind[], kernel_total, unaccounted_signed, memmap_bytes,
 * percpu_free_bytes, lru_bytes, hugetlb_bytes, isolated_bytes and
 * percpu_first_chunk_bytes from mi, vm, percpu_free_pages, vmap_stack,
 * stack_in_slab, scs_in_slab and boot. Saturates instead of overflowing.
 */
void kmem_node_compute(struct kmem_node *node, uint64_t page_size);

#endif
