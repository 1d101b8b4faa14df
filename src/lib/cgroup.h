/* SPDX-License-Identifier: MIT */
/*
 * Memory cgroups: layout detection (v1, v2, hybrid) from the tree under the
 * root, a walk of every memory cgroup with directory fds, the kernel memory
 * charged to each, with the Kubernetes identity of kube.h.
 */
#ifndef KMEM_CGROUP_H
#define KMEM_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse_error.h"

enum kmem_cg_layout {
    KMEM_CG_NONE,   /* no memory controller found */
    KMEM_CG_V1,     /* sys/fs/cgroup/memory, no cgroup2 tree with memory */
    KMEM_CG_V2,     /* memory in sys/fs/cgroup/cgroup.controllers */
    KMEM_CG_HYBRID, /* v1 memory beside a cgroup2 tree without it */
};

extern const char *const kmem_cg_layout_name[]; /* "none", "v1", "v2", "hybrid" */

/*
 * Parts of a cgroup's kernel memory. They add up exactly to kernel
 * (docs/cgroups.md): v2 reports the named parts and other is the rest; v1
 * reports no parts, so other is all of it. Socket memory is charged outside
 * kernel memory: it is kmem_cgroup.sock, not a part.
 */
enum kmem_cg_kind {
    KMEM_CG_SLAB_RECLAIMABLE,
    KMEM_CG_SLAB_UNRECLAIMABLE,
    KMEM_CG_KERNEL_STACK,
    KMEM_CG_PAGETABLES,
    KMEM_CG_SEC_PAGETABLES,
    KMEM_CG_PERCPU,
    KMEM_CG_VMALLOC,
    KMEM_CG_ZSWAP, /* v2 memory.stat zswap: compressed pages, charged as kernel memory */
    KMEM_CG_OTHER, /* kernel minus the parts above (v2 5.18+), all of kernel (v1) */
    KMEM_CG_KIND_COUNT
};

extern const char *const kmem_cg_kind_name[KMEM_CG_KIND_COUNT]; /* "slab_reclaimable", ... */

/*
 * 216 bytes: the 8-byte fields first, then the small ones packed into 8
 * (bit-fields: a cgroup's depth is at most KMEM_CG_MAX_DEPTH, there are
 * KMEM_CG_KIND_COUNT parts; RSS at 5000 cgroups, docs/cgroups.md "Memory").
 * Read and assign them as usual; only their address cannot be taken.
 */
struct kmem_cgroup {
    const char *path; /* "/" or "/kubepods.slice/..." (inside the memory hierarchy) */
    /* Inode number of the cgroup's directory on a live hierarchy: the
     * kernel's cgroup id (kernfs id), by which the owner snapshot names
     * cgroups. 0 when the tree is a copy (a capture, a fixture). */
    uint64_t ino;
    uint64_t kernel; /* bytes charged to the cgroup (hierarchical) */
    uint64_t kernel_upper_bound;
    uint64_t usage; /* v1 memory.usage_in_bytes, v2 memory.current */
    uint64_t comp[KMEM_CG_KIND_COUNT];
    /* v2: bytes by which the parts the kernel reported exceeded its "kernel"
     * (per-CPU counter lag); taken off the largest parts so that they add up. */
    uint64_t comp_excess;
    /* Socket memory charged to the cgroup but outside kernel: v2 memory.stat
     * sock, v1 memory.kmem.tcp.usage_in_bytes (has_sock). */
    uint64_t sock;
    uint64_t lru; /* v2: memory.stat (in)active_anon + (in)active_file + unevictable */
    uint64_t dying;
    int64_t delta_kernel;
    /* Kubernetes identity; "" when not a pod / container cgroup. */
    const char *pod_uid;
    const char *qos; /* "guaranteed", "burstable", "besteffort" */
    const char *container_id;
    const char *runtime; /* "containerd", "crio", "docker", "" */
    const char *namespace_name;
    const char *pod_name;
    const char *container_name;
    int container_attempt; /* highest <N>.log in the container's pod-log directory; -1 unknown */
    unsigned comp_present : 16; /* bit (1 << kind) when reported; the present parts sum to kernel */
    unsigned depth : 7;         /* 0 for the root; at most KMEM_CG_MAX_DEPTH */
    /* v2 without "kernel" (before Linux 5.18): kernel is the sum of the parts
     * the kernel reports, an estimate (a lower bound). */
    bool kernel_approx : 1;
    /* v2 root without its own memory.stat: kernel and the parts are the sums
     * of the root's children, which miss what removed cgroups handed up. */
    bool kernel_lower_bound : 1;
    /* v2 (not the root): memory.current - pages on the LRU lists - sock, never
     * below kernel: what kernel can be at most (docs/cgroups.md). */
    bool has_upper_bound : 1;
    /* Socket memory charged to the cgroup outside kernel (sock above). */
    bool has_sock : 1;
    /* v2 cgroup.stat: removed memory cgroups below this one that the kernel
     * still holds (nr_dying_subsys_memory, else nr_dying_descendants). */
    bool has_dying : 1;
    bool kube_conmon : 1; /* CRI-O conmon cgroup of a pod: pod identity, no container */
    /*
     * v2: memory.stat pagetables reads 0 although the cgroup has anonymous
     * pages (so processes with page tables): the 6.18 regression (upstream
     * f0c92726e89f; docs/cgroups.md). The page tables are then inside other.
     * Cleared after the walk on kernels outside the affected releases.
     */
    bool pagetables_unreported : 1;
    /* Change since the previous snapshot (same path). */
    bool has_prev : 1;
};

/* Where kmem_cgroups.dying comes from. */
enum kmem_cg_dying_source {
    KMEM_CG_DYING_NONE,          /* unknown */
    KMEM_CG_DYING_SUBSYS_MEMORY, /* v2 root cgroup.stat nr_dying_subsys_memory (6.12+) */
    KMEM_CG_DYING_DESCENDANTS,   /* v2 root cgroup.stat nr_dying_descendants */
    KMEM_CG_DYING_PROC_CGROUPS,  /* v1: /proc/cgroups num_cgroups - cgroups walked */
};

extern const char *const kmem_cg_dying_source_name[]; /* "none", "nr_dying_subsys_memory", ... */

struct kmem_cgroups {
    enum kmem_cg_layout layout;
    const char *mount; /* relative to root, e.g. "sys/fs/cgroup/memory" */
    size_t n;
    struct kmem_cgroup *v; /* v[0] is the root of the hierarchy */
    size_t n_vanished;     /* cgroups removed during the walk (skipped silently) */
    size_t n_errors;       /* cgroups skipped on another error, with the
                            * cgroups below them (not walked, not removed either) */
    size_t n_unnamed;      /* cgroups that cannot be named: nested deeper than
                            * KMEM_CG_MAX_DEPTH or a path too long, with the cgroups
                            * below them; any user with a delegated subtree can make
                            * them, so they are counted, not an error (issue 24) */
    /* Every kernel value is the kernel's own counter (v1; v2 5.18+ with a
     * root memory.stat); false when any is estimated. */
    bool kernel_exact;
    /* Memory cgroups removed but still held by the kernel (charged pages,
     * references): the whole hierarchy. */
    enum kmem_cg_dying_source dying_source; /* KMEM_CG_DYING_NONE: dying unknown */
    uint64_t dying;
    unsigned possible_cpus; /* sys/devices/system/cpu/possible; 0 unknown */
    /* The root's kernel, major * 1000 + minor (6.18 -> 6018); 0 unknown. */
    unsigned kernel_release;
    /*
     * Some cgroup has pagetables_unreported, on a kernel of the affected
     * releases (6.18, 6.19) or of an unknown release: their pagetables read
     * 0 and the page tables are inside other (docs/cgroups.md).
     */
    bool pagetables_unreported;
    void *priv; /* storage owned by the reader */
};

/*
 * Files read per cgroup beyond the one its kernel figure needs (v1
 * memory.kmem.usage_in_bytes, v2 memory.stat): kmem_ctx_set_cgroup_reading().
 * Each costs about as much as that one again.
 */
enum kmem_cg_extra {
    KMEM_CG_EXTRA_SOCK = 1u << 0,  /* v1 memory.kmem.tcp.usage_in_bytes: has_sock, sock (v2: in
                                    * memory.stat anyway) */
    KMEM_CG_EXTRA_USAGE = 1u << 1, /* v1 memory.usage_in_bytes, v2 memory.current: usage (v2
                                    * reads it anyway where kernel is estimated) */
    KMEM_CG_EXTRA_DYING = 1u << 2, /* v2 cgroup.stat of every cgroup: has_dying, dying (the
                                    * root's is always read) */
    KMEM_CG_EXTRA_ALL = 7u,
    /* v1 memory.oom_control and memory.limit_in_bytes, v2 memory.events and
     * memory.max: read for a capture only (the recorder's OOM-kill counters
     * and limits), through the kept fds like the others; not in _ALL. */
    KMEM_CG_EXTRA_OOM = 1u << 3,
};

/* Fds kept open between collections: the default cap (soft RLIMIT_NOFILE
 * raised to the hard limit, 1024 left for the rest, at most 65536). */
#define KMEM_CG_FDS_AUTO ((size_t)-1)

/* Deepest cgroup level walked (the root is level 0); deeper ones are counted in n_errors. */
#define KMEM_CG_MAX_DEPTH 64
_Static_assert(KMEM_CG_MAX_DEPTH < 128 && KMEM_CG_KIND_COUNT <= 16,
               "struct kmem_cgroup: depth is 7 bits, comp_present 16");
/* Longest cgroup path kept (bytes, from the hierarchy's root): a longer one
 * (a user's delegated subtree of 255-byte names) is counted in n_unnamed with
 * the cgroups below it, so that a snapshot's memory stays bounded (issue 24). */
#define KMEM_CG_PATH_MAX 1024

/* The cgroup at @path ("/" the root) in @cgs, or NULL. */
const struct kmem_cgroup *kmem_cgroups_find(const struct kmem_cgroups *cgs, const char *path);

/* Pure parsers and helpers (no I/O), for tests and fuzzing. */

/* v2 memory.stat into comp[] / kernel / sock / lru. 0 or -EINVAL with *err set (may be NULL). */
int kmem_cg_memstat_parse(const char *buf, size_t len, struct kmem_cgroup *cg,
                          struct kmem_parse_error *err);

/*
 * v2 cgroup.stat: *dying and *source from nr_dying_subsys_memory when there,
 * else nr_dying_descendants. 0 (source NONE when neither key is there) or
 * -EINVAL with *err set (may be NULL).
 */
int kmem_cg_cgstat_parse(const char *buf, size_t len, uint64_t *dying,
                         enum kmem_cg_dying_source *source, struct kmem_parse_error *err);

/* /proc/cgroups: num_cgroups of the memory controller. 0, -ENOENT (no memory line) or -EINVAL. */
int kmem_cg_proc_cgroups_parse(const char *buf, size_t len, uint64_t *num);

#endif
