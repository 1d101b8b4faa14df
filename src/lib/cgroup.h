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

/* Parts of a cgroup's kernel memory, as the kernel reports them. */
enum kmem_cg_kind {
    KMEM_CG_SLAB_RECLAIMABLE,
    KMEM_CG_SLAB_UNRECLAIMABLE,
    KMEM_CG_KERNEL_STACK,
    KMEM_CG_PAGETABLES,
    KMEM_CG_SEC_PAGETABLES,
    KMEM_CG_PERCPU,
    KMEM_CG_VMALLOC,
    KMEM_CG_OTHER, /* kernel minus the parts above (v2) */
    KMEM_CG_SOCK,  /* v2: charged, but not part of "kernel" */
    KMEM_CG_TCP,   /* v1: memory.kmem.tcp.usage_in_bytes */
    KMEM_CG_KIND_COUNT
};

extern const char *const kmem_cg_kind_name[KMEM_CG_KIND_COUNT]; /* "slab_reclaimable", ... */

struct kmem_cgroup {
    const char *path;   /* "/" or "/kubepods.slice/..." (inside the memory hierarchy) */
    int depth;          /* 0 for the root */
    uint64_t kernel;    /* bytes charged to the cgroup (hierarchical) */
    bool kernel_approx; /* v2 without "kernel": sum of the parts */
    uint64_t usage;     /* v1 memory.usage_in_bytes, v2 memory.current */
    uint64_t comp[KMEM_CG_KIND_COUNT];
    uint32_t comp_present; /* bit (1 << kind) when the kernel reported it */
    /* Kubernetes identity; "" when not a pod / container cgroup. */
    const char *pod_uid;
    const char *qos; /* "guaranteed", "burstable", "besteffort" */
    const char *container_id;
    const char *runtime; /* "containerd", "crio", "docker", "" */
    const char *namespace_name;
    const char *pod_name;
    const char *container_name;
    bool kube_conmon; /* CRI-O conmon cgroup of a pod: pod identity, no container */
    /* Change since the previous snapshot (same path). */
    bool has_prev;
    int64_t delta_kernel;
};

struct kmem_cgroups {
    enum kmem_cg_layout layout;
    const char *mount; /* relative to root, e.g. "sys/fs/cgroup/memory" */
    size_t n;
    struct kmem_cgroup *v; /* v[0] is the root of the hierarchy */
    size_t n_vanished;     /* cgroups removed during the walk (skipped silently) */
    size_t n_errors;       /* cgroups skipped on another error (or too deep) */
    void *priv;            /* storage owned by the reader */
};

/* Deepest cgroup level walked (the root is level 0); deeper ones are counted in n_errors. */
#define KMEM_CG_MAX_DEPTH 64

/* Pure parsers and helpers (no I/O), for tests and fuzzing. */

/* v2 memory.stat into comp[] / kernel. 0 or -EINVAL with *err set (may be NULL). */
int kmem_cg_memstat_parse(const char *buf, size_t len, struct kmem_cgroup *cg,
                          struct kmem_parse_error *err);

#endif
