/* SPDX-License-Identifier: MIT */
/*
 * libkmem — read the kernel's memory counters into a snapshot.
 *
 * Data flows one way: kernel files -> readers -> snapshot -> renderers.
 * The library never prints and never exits. Actions return 0 or -errno; the
 * human-readable detail of the last failure (file, line, what to do) is kept
 * in the context and read with kmem_strerror().
 *
 * Ownership: a struct kmem_ctx owns every buffer and both snapshots. Pointers
 * returned by kmem_current()/kmem_previous() stay valid until the next
 * kmem_collect() or kmem_ctx_free().
 */
#ifndef KMEM_H
#define KMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "slabinfo.h"
#include "node.h"
#include "cgroup.h"

struct kmem_ctx;

/* What kmem_collect() reads. */
enum kmem_collect_flags {
    KMEM_COLLECT_SLAB = 1 << 0,
    KMEM_COLLECT_NODE = 1 << 1,
    KMEM_COLLECT_CGROUPS = 1 << 2,
    KMEM_COLLECT_ALL = KMEM_COLLECT_SLAB | KMEM_COLLECT_NODE | KMEM_COLLECT_CGROUPS,
};

/* Result of one part of a collection: 0 or -errno, with its message. */
struct kmem_status {
    int err;
    char msg[512];
};

struct kmem_snapshot {
    struct timespec when; /* CLOCK_MONOTONIC */
    unsigned flags;       /* KMEM_COLLECT_* that were asked for */
    struct kmem_status slab_status;
    struct kmem_slabinfo slab;
    struct kmem_status node_status;
    struct kmem_node node;
    struct kmem_status cgroup_status;
    struct kmem_cgroups cgroups;
};

/*
 * Create a context reading below @root ("/" or NULL for the live machine).
 * Returns 0 or -errno; on failure *out is NULL and @errbuf (if not NULL)
 * holds the reason.
 */
int kmem_ctx_new(struct kmem_ctx **out, const char *root, char *errbuf, size_t errlen);
void kmem_ctx_free(struct kmem_ctx *ctx);

/* The root this context reads from, as given (never NULL). */
const char *kmem_ctx_root(const struct kmem_ctx *ctx);

/* Message for the last failed call on @ctx ("" if none). */
const char *kmem_strerror(const struct kmem_ctx *ctx);

/*
 * Copy every file read from now on into @dir (same relative paths), so that
 * a context rooted at @dir reproduces what this one saw. NULL stops.
 */
int kmem_ctx_set_capture(struct kmem_ctx *ctx, const char *dir);

/*
 * Take a new snapshot; the current one becomes the previous one. Parts that
 * fail record their status in the snapshot and leave the others intact.
 * Returns 0 when every asked-for part succeeded, else the first part's error.
 */
int kmem_collect(struct kmem_ctx *ctx, unsigned flags);

const struct kmem_snapshot *kmem_current(const struct kmem_ctx *ctx);
/* NULL before the second kmem_collect(). */
const struct kmem_snapshot *kmem_previous(const struct kmem_ctx *ctx);

/* System page size used for slab byte figures (from the running kernel). */
uint64_t kmem_page_size(void);

#endif
