/* SPDX-License-Identifier: MIT */
/*
 * libkmem — read the kernel's memory counters into a snapshot.
 *
 * Data flows one way: kernel files -> readers -> snapshot -> renderers.
 * The layers (src/common, then the library's, bottom up) are listed once,
 * in README.md ("Layout").
 *
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

#include "base.h"
#include "slabinfo.h"
#include "node.h"
#include "cgroup.h"
#include "detail.h"
#include "owners.h"

struct kmem_ctx;

/*
 * The parts of a snapshot; each is read, timed and fails on its own. The
 * node's detail (vmallocinfo, iomem, allocinfo) is read at most once per
 * kmem_ctx_set_detail_interval() and otherwise copied from the last read.
 */
enum kmem_part {
    KMEM_PART_SLAB,
    KMEM_PART_NODE,
    KMEM_PART_CGROUPS,
    KMEM_PART_DETAIL,
    KMEM_PART_OWNERS, /* slab bytes per (cgroup, cache): owners.h */
    KMEM_PART_COUNT
};

/* "slab", "node", "cgroups", "node_detail", "owners". */
extern const char *const kmem_part_name[KMEM_PART_COUNT];

/* What kmem_collect() reads: a mask of (1 << enum kmem_part). */
enum kmem_collect_flags {
    KMEM_COLLECT_SLAB = 1 << KMEM_PART_SLAB,
    KMEM_COLLECT_NODE = 1 << KMEM_PART_NODE,
    KMEM_COLLECT_CGROUPS = 1 << KMEM_PART_CGROUPS,
    KMEM_COLLECT_DETAIL = 1 << KMEM_PART_DETAIL,
    /* The owner snapshot (implies KMEM_COLLECT_CGROUPS, which names its cgroups). */
    KMEM_COLLECT_OWNERS = 1 << KMEM_PART_OWNERS,
    /* With KMEM_COLLECT_SLAB: sys/kernel/slab attributes (swept when the cache list changes). */
    KMEM_COLLECT_SLAB_ATTRS = 1 << 8,
    KMEM_COLLECT_ALL = KMEM_COLLECT_SLAB | KMEM_COLLECT_NODE | KMEM_COLLECT_CGROUPS |
                       KMEM_COLLECT_DETAIL | KMEM_COLLECT_OWNERS | KMEM_COLLECT_SLAB_ATTRS,
};

/* Result of one part of a collection: 0 or -errno, its message, its cost. */
struct kmem_status {
    int err;
    double seconds; /* wall time the part took (CLOCK_MONOTONIC) */
    char msg[512];
};

struct kmem_snapshot {
    struct timespec when; /* CLOCK_MONOTONIC */
    unsigned flags;       /* KMEM_COLLECT_* that were asked for */
    struct kmem_status status[KMEM_PART_COUNT];
    struct kmem_slabinfo slab;
    struct kmem_node node;
    struct kmem_cgroups cgroups;
    struct kmem_detail detail;
    struct kmem_owner_snap owners;
};

/*
 * Create a context. Returns 0 or -errno; on failure *out is NULL and
 * @errbuf (if not NULL) holds the reason.
 */
int kmem_ctx_new_opts(struct kmem_ctx **out, const struct kmem_ctx_opts *o, char *errbuf,
                      size_t errlen);
/* kmem_ctx_new_opts() with only a root ("/" or NULL for the live machine). */
int kmem_ctx_new(struct kmem_ctx **out, const char *root, char *errbuf, size_t errlen);
void kmem_ctx_free(struct kmem_ctx *ctx);

/*
 * Read the node's detail files (KMEM_COLLECT_DETAIL) at most every @seconds
 * (default 60; 0: on every collection). In between, a collection copies
 * the last detail read (detail.reused) and its status. A capturing context
 * always reads.
 */
void kmem_ctx_set_detail_interval(struct kmem_ctx *ctx, double seconds);

/*
 * Take the owner snapshot (KMEM_COLLECT_OWNERS) at most every @seconds
 * (default 60; 0: on every collection); in between a collection copies the
 * last one (owners.reused) and its status. A capturing context always
 * takes it, and writes kmem-owners.txt into the capture.
 */
void kmem_ctx_set_owners_interval(struct kmem_ctx *ctx, double seconds);
/*
 * Take each owner snapshot in a child process (fork, load the walker, walk,
 * send the rows back through a pipe, exit) instead of keeping the walker
 * loaded here: for callers that walk seldom (the recorder, every 5 min) and
 * must stay small; each walk then costs the walker's load again (~60 ms).
 * The snapshot is the same. Default off.
 */
void kmem_ctx_set_owners_isolated(struct kmem_ctx *ctx, bool isolated);

/* The root this context reads from, as given (never NULL). */
const char *kmem_ctx_root(const struct kmem_ctx *ctx);

/* Message for the last failed call on @ctx ("" if none). */
const char *kmem_strerror(const struct kmem_ctx *ctx);

/*
 * Copy every file read from now on into @dir (same relative paths: proc/,
 * sys/, var/log/), so that a context rooted at @dir reproduces what this one
 * saw. @dir must not exist, or be an empty directory owned by the caller;
 * it is made mode 0700 and files 0600 (/proc/slabinfo is 0400 on the host).
 * Nothing below it is reached through a symlink. NULL stops.
 */
int kmem_ctx_set_capture(struct kmem_ctx *ctx, const char *dir);

/* How to start a capture (kmem_ctx_capture_start). */
struct kmem_capture_opts {
    /* @dir may also hold an earlier capture (it has kmem-capture.txt): its
     * contents are removed first, never through a symlink nor across a mount. */
    bool replace;
    const char *command; /* the command line, recorded in the metadata (may be NULL) */
};

/*
 * kmem_ctx_set_capture() with options, that also writes the capture's
 * metadata, kmem-capture.txt at its root: date, hostname and kernel release
 * (of the root it reads), kmem version, command line.
 */
int kmem_ctx_capture_start(struct kmem_ctx *ctx, const char *dir,
                           const struct kmem_capture_opts *o);

/* What a capture says about itself (kmem-capture.txt); every field one line, "" if absent. */
struct kmem_capture_meta {
    char date[64]; /* ISO 8601, local time with its UTC offset */
    char hostname[256];
    char kernel[256]; /* uname -r */
    char version[64]; /* kmem version that captured */
    char command[1024];
};

/* The metadata at the root this context reads: 0, -ENOENT when the root is no capture, -errno. */
int kmem_ctx_capture_meta(struct kmem_ctx *ctx, struct kmem_capture_meta *m);

/*
 * The metadata that the last kmem_ctx_capture_start() on this context wrote
 * into its capture (so that what a capturing run prints can say what a
 * replay of the capture will): 0, or -ENOENT when none was started.
 */
int kmem_ctx_capture_written(const struct kmem_ctx *ctx, struct kmem_capture_meta *m);

/*
 * Remove @dir, a capture directory of the caller's (stopped first with
 * kmem_ctx_set_capture(ctx, NULL)), and everything in it: symlinks are
 * removed, never followed; a mount point inside stops it before anything is
 * removed. For a capture that was only a step (kmemtop --capture FILE.tar.gz).
 * 0 or -errno (message in kmem_strerror).
 */
int kmem_ctx_remove_capture(struct kmem_ctx *ctx, const char *dir);

/*
 * Capture into memory (the flight recorder, recorder.c): every file read
 * from now on is handed to @sink with its path relative to the root
 * ("proc/slabinfo"); a symlink as @link. A file read twice in one
 * collection is handed twice (the last one counts). The detail files are
 * read at the detail interval as without capture, and what does not change
 * while the kernel runs (the kernel log, the possible CPUs, the release,
 * vmallocinfo for the stacks' place) once per context: the caller carries
 * what a collection did not read again (the recorder does). NULL stops.
 */
void kmem_ctx_set_capture_sink(struct kmem_ctx *ctx, kmem_capture_sink_fn sink, void *arg);
/* Hand the capture's metadata file (kmem-capture.txt, taken now) to the sink; @out may be NULL. */
void kmem_ctx_capture_put_meta(struct kmem_ctx *ctx, const char *command,
                               struct kmem_capture_meta *out);

/* 0 if every file of the capture so far was written, else -errno (message in kmem_strerror). */
int kmem_capture_status(struct kmem_ctx *ctx);
/* Files a capture left out because their path is longer than PATH_MAX
 * (deeply nested cgroups): counted, not an error. */
size_t kmem_capture_unnamed(const struct kmem_ctx *ctx);

/*
 * How cgroups are read (docs/cgroups.md, "Cost"): @extras (KMEM_CG_EXTRA_*,
 * default all) are the per-cgroup files read beyond the one the kernel
 * figure needs; up to @max_fds files and directories (KMEM_CG_FDS_AUTO by
 * default, 0 for none) stay open between collections and are re-read with
 * pread(2), the rest opened and closed each time.
 */
void kmem_ctx_set_cgroup_reading(struct kmem_ctx *ctx, unsigned extras, size_t max_fds);
/* The settings of kmem_ctx_set_cgroup_reading() now. */
void kmem_ctx_cgroup_reading(const struct kmem_ctx *ctx, unsigned *extras, size_t *max_fds);

/* Files and directories of cgroups kept open now. */
size_t kmem_ctx_cgroup_fds(const struct kmem_ctx *ctx);

/*
 * How a running collection sees new and removed cgroups of a live hierarchy
 * (docs/cgroups.md, "Cost"): "inotify" (a watch per cgroup directory), or
 * "link counts: <why not inotify>" (v1 link counts, v2 nr_descendants: the
 * fallback, e.g. when fs.inotify.max_user_watches is reached); NULL before
 * the first walk of a live hierarchy.
 */
const char *kmem_ctx_cgroup_watch(const struct kmem_ctx *ctx);

/*
 * Take a new snapshot; the current one becomes the previous one. Parts that
 * fail record their status in the snapshot and leave the others intact.
 * Returns 0 when every asked-for part succeeded, else the first part's error.
 */
int kmem_collect(struct kmem_ctx *ctx, unsigned flags);

const struct kmem_snapshot *kmem_current(const struct kmem_ctx *ctx);
/* NULL before the second kmem_collect(). Its cgroups are emptied (n 0, v
 * NULL) once a later collection reads cgroups: one cgroup array per context
 * (docs/cgroups.md, "Memory"); the change since is the current snapshot's
 * has_prev / delta_kernel. */
const struct kmem_snapshot *kmem_previous(const struct kmem_ctx *ctx);

#endif
