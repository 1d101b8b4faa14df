/* SPDX-License-Identifier: MIT */
/* Internal to libkmem: the context, file reading and error reporting. */
#ifndef KMEM_CTX_H
#define KMEM_CTX_H

#include <stdarg.h>

#include "kmem.h"

/* A growable buffer owned by the context; reused across reads. */
struct kmem_buf {
    char *data;
    size_t len, cap;
};

/* A kernel file kept open between reads (re-read with lseek(0)). */
struct kmem_file {
    const char *relpath; /* relative to the root, e.g. "proc/slabinfo" */
    int fd;
};

enum kmem_hot_file {
    KMEM_F_SLABINFO,
    KMEM_F_MEMINFO,
    KMEM_F_VMSTAT,
    KMEM_F_ZONEINFO,
    KMEM_F_COUNT
};

struct kmem_ctx {
    char *root;    /* as given */
    char *rootabs; /* realpath of root, for capture */
    int rootfd;
    char err[512];
    char *capture_dir;
    struct kmem_file hot[KMEM_F_COUNT];
    struct kmem_buf buf; /* scratch for every read */
    struct kmem_snapshot snap[2];
    int cur;       /* index of the current snapshot in snap[] */
    int nsnaps;    /* how many collections so far */
    void *cg_priv; /* cgroup reader state that outlives snapshots */
};

/* Grow *v (*cap elements of @size) to hold @n, geometrically. 0 or -ENOMEM. */
int kmem_grow(void **v, size_t *cap, size_t n, size_t size);

/* kmem_grow() for a typed array pointer @ptr with *@capp elements. */
#define KMEM_GROW(err, ptr, capp, n)                                                               \
    do {                                                                                           \
        void *grow_p_ = (ptr);                                                                     \
        (err) = kmem_grow(&grow_p_, (capp), (n), sizeof(*(ptr)));                                  \
        (ptr) = grow_p_;                                                                           \
    } while (0)

/* Record a message and return -abs(err). */
int kmem_err(struct kmem_ctx *ctx, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "/proc/x" when rooted at "/", else "ROOT/proc/x": for messages. */
const char *kmem_display_path(const struct kmem_ctx *ctx, const char *relpath, char *out,
                              size_t outlen);

/* Advice for an errno when opening kernel files ("run as root ..."), or "". */
const char *kmem_errno_hint(int err);

/*
 * Read a hot file whole into ctx->buf (NUL-terminated). Opens it once, then
 * lseek(0) and re-reads; reopens on ESPIPE. 0 or -errno with message.
 */
int kmem_read_hot(struct kmem_ctx *ctx, enum kmem_hot_file f);

/*
 * Read @name relative to @dirfd whole into @buf (NUL-terminated). Returns 0
 * or -errno WITHOUT recording a message (callers decide: a vanished cgroup is
 * not an error). If capturing, the file is copied.
 */
int kmem_read_at(struct kmem_ctx *ctx, int dirfd, const char *name, struct kmem_buf *buf);

/* Open a directory relative to @dirfd (O_DIRECTORY|O_CLOEXEC). fd or -errno. */
int kmem_open_dir(struct kmem_ctx *ctx, int dirfd, const char *relpath);

/* Copy a just-read file image to the capture directory (no-op if off). */
void kmem_capture(struct kmem_ctx *ctx, int dirfd, const char *name, const char *data, size_t len);

/* Readers called by kmem_collect(); each fills its part of @snap. */
int kmem_read_slabinfo(struct kmem_ctx *ctx, struct kmem_snapshot *snap);
int kmem_read_node(struct kmem_ctx *ctx, struct kmem_snapshot *snap);
int kmem_read_cgroups(struct kmem_ctx *ctx, struct kmem_snapshot *snap);
/* Free what the readers keep in a snapshot. */
void kmem_node_release(struct kmem_node *node);
void kmem_cgroups_release(struct kmem_cgroups *cgs);
/* Fill has_prev/delta_kernel of @cur from @prev. */
void kmem_cgroups_diff(struct kmem_cgroups *cur, const struct kmem_cgroups *prev);
/* Free reader state kept in the context. */
void kmem_cgroups_ctx_release(struct kmem_ctx *ctx);

#endif
