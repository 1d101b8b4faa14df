/* SPDX-License-Identifier: MIT */
/* The context: root directory fd, reusable buffers, errors, capture, collect. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <assert.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx.h"

static const char *const hot_path[KMEM_F_COUNT] = {
    [KMEM_F_SLABINFO] = "proc/slabinfo",
    [KMEM_F_MEMINFO] = "proc/meminfo",
    [KMEM_F_VMSTAT] = "proc/vmstat",
    [KMEM_F_ZONEINFO] = "proc/zoneinfo",
};
static_assert(sizeof(hot_path) / sizeof(hot_path[0]) == KMEM_F_COUNT, "hot_path table");

#define KMEM_BUF_MAX (256u << 20) /* no kernel file we read is near this */

int kmem_err(struct kmem_ctx *ctx, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
    va_end(ap);
    return err > 0 ? -err : err;
}

const char *kmem_display_path(const struct kmem_ctx *ctx, const char *relpath, char *out,
                              size_t outlen)
{
    const char *root = ctx->root;
    size_t rl = strlen(root);

    if (strcmp(root, "/") == 0)
        snprintf(out, outlen, "/%s", relpath);
    else
        snprintf(out, outlen, "%.*s/%s", (int)(rl > 1 && root[rl - 1] == '/' ? rl - 1 : rl), root,
                 relpath);
    return out;
}

const char *kmem_errno_hint(int err)
{
    switch (err < 0 ? -err : err) {
    case EACCES:
    case EPERM:
        return " (run as root or grant CAP_DAC_READ_SEARCH)";
    case ENOENT:
        return " (is /proc mounted, or does --root point at a captured tree?)";
    default:
        return "";
    }
}

int kmem_ctx_new(struct kmem_ctx **out, const char *root, char *errbuf, size_t errlen)
{
    struct kmem_ctx *ctx;
    int err;

    *out = NULL;
    if (!root || !*root)
        root = "/";
    ctx = calloc(1, sizeof(*ctx));
    if (!ctx) {
        err = -ENOMEM;
        goto out_msg;
    }
    ctx->rootfd = -1;
    for (int i = 0; i < KMEM_F_COUNT; i++) {
        ctx->hot[i].relpath = hot_path[i];
        ctx->hot[i].fd = -1;
    }
    ctx->root = strdup(root);
    ctx->rootabs = realpath(root, NULL);
    if (!ctx->root) {
        err = -ENOMEM;
        goto out_free;
    }
    ctx->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ctx->rootfd < 0) {
        err = -errno;
        if (errbuf)
            snprintf(errbuf, errlen, "cannot open root directory %s: %s", root, strerror(-err));
        kmem_ctx_free(ctx);
        return err;
    }
    *out = ctx;
    return 0;

out_free:
    kmem_ctx_free(ctx);
out_msg:
    if (errbuf)
        snprintf(errbuf, errlen, "out of memory");
    return err;
}

void kmem_ctx_free(struct kmem_ctx *ctx)
{
    if (!ctx)
        return;
    for (int i = 0; i < 2; i++) {
        kmem_slabinfo_release(&ctx->snap[i].slab);
        kmem_node_release(&ctx->snap[i].node);
        kmem_cgroups_release(&ctx->snap[i].cgroups);
    }
    kmem_cgroups_ctx_release(ctx);
    for (int i = 0; i < KMEM_F_COUNT; i++)
        if (ctx->hot[i].fd >= 0)
            close(ctx->hot[i].fd);
    if (ctx->rootfd >= 0)
        close(ctx->rootfd);
    free(ctx->buf.data);
    free(ctx->capture_dir);
    free(ctx->rootabs);
    free(ctx->root);
    free(ctx);
}

const char *kmem_ctx_root(const struct kmem_ctx *ctx)
{
    return ctx->root;
}

const char *kmem_strerror(const struct kmem_ctx *ctx)
{
    return ctx->err;
}

int kmem_grow(void **v, size_t *cap, size_t n, size_t size)
{
    size_t nc = *cap ? *cap : 32;
    void *p;

    if (n <= *cap)
        return 0;
    while (nc < n) {
        if (nc > SIZE_MAX / 2 / size)
            return -ENOMEM;
        nc *= 2;
    }
    p = realloc(*v, nc * size);
    if (!p)
        return -ENOMEM;
    *v = p;
    *cap = nc;
    return 0;
}

static int buf_reserve(struct kmem_buf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 16384;
    char *p;

    if (need <= b->cap)
        return 0;
    while (cap < need) {
        if (cap >= KMEM_BUF_MAX)
            return -EFBIG;
        cap *= 2;
    }
    p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

/* Read @fd from its current offset to EOF into @b. 0 or -errno. */
static int read_all(int fd, struct kmem_buf *b)
{
    int err;

    b->len = 0;
    for (;;) {
        ssize_t n;

        err = buf_reserve(b, b->len + 4096 + 1);
        if (err)
            return err;
        n = read(fd, b->data + b->len, b->cap - b->len - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        b->len += (size_t)n;
    }
    b->data[b->len] = '\0';
    return 0;
}

int kmem_read_hot(struct kmem_ctx *ctx, enum kmem_hot_file f)
{
    struct kmem_file *kf = &ctx->hot[f];
    char shown[PATH_MAX];
    int err;

    if (kf->fd >= 0 && lseek(kf->fd, 0, SEEK_SET) < 0) {
        /* Some /proc emulations are not seekable: reopen. */
        close(kf->fd);
        kf->fd = -1;
    }
    if (kf->fd < 0) {
        kf->fd = openat(ctx->rootfd, kf->relpath, O_RDONLY | O_CLOEXEC);
        if (kf->fd < 0) {
            err = errno;
            return kmem_err(ctx, err, "cannot open %s: %s%s",
                            kmem_display_path(ctx, kf->relpath, shown, sizeof(shown)),
                            strerror(err), kmem_errno_hint(err));
        }
    }
    err = read_all(kf->fd, &ctx->buf);
    if (err) {
        close(kf->fd);
        kf->fd = -1;
        return kmem_err(ctx, err, "cannot read %s: %s%s",
                        kmem_display_path(ctx, kf->relpath, shown, sizeof(shown)), strerror(-err),
                        kmem_errno_hint(err));
    }
    kmem_capture(ctx, ctx->rootfd, kf->relpath, ctx->buf.data, ctx->buf.len);
    return 0;
}

int kmem_read_at(struct kmem_ctx *ctx, int dirfd, const char *name, struct kmem_buf *buf)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    int err;

    if (fd < 0)
        return -errno;
    err = read_all(fd, buf);
    close(fd);
    if (!err)
        kmem_capture(ctx, dirfd, name, buf->data, buf->len);
    return err;
}

int kmem_open_dir(struct kmem_ctx *ctx, int dirfd, const char *relpath)
{
    int fd = openat(dirfd < 0 ? ctx->rootfd : dirfd, relpath,
                    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

    return fd < 0 ? -errno : fd;
}

/* ---- capture ---------------------------------------------------------- */

int kmem_ctx_set_capture(struct kmem_ctx *ctx, const char *dir)
{
    free(ctx->capture_dir);
    ctx->capture_dir = NULL;
    if (!dir)
        return 0;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return kmem_err(ctx, errno, "cannot create capture directory %s: %s", dir, strerror(errno));
    ctx->capture_dir = realpath(dir, NULL);
    if (!ctx->capture_dir)
        return kmem_err(ctx, errno, "cannot resolve capture directory %s: %s", dir,
                        strerror(errno));
    return 0;
}

/* mkdir -p for the parent directories of @path (absolute). */
static void mkdirs_for(char *path)
{
    for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(path, 0755);
        *s = '/';
    }
}

void kmem_capture(struct kmem_ctx *ctx, int dirfd, const char *name, const char *data, size_t len)
{
    char dirpath[PATH_MAX], link[64], dst[PATH_MAX * 2];
    const char *rel;
    size_t rootlen;
    ssize_t n;
    FILE *f;

    if (!ctx->capture_dir || !ctx->rootabs)
        return;
    snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
    n = readlink(link, dirpath, sizeof(dirpath) - 1);
    if (n < 0)
        return;
    dirpath[n] = '\0';
    rootlen = strlen(ctx->rootabs);
    if (strcmp(ctx->rootabs, "/") == 0)
        rootlen = 0;
    if (strncmp(dirpath, ctx->rootabs, rootlen) != 0)
        return;
    rel = dirpath + rootlen;
    snprintf(dst, sizeof(dst), "%s%s%s/%s", ctx->capture_dir, *rel == '/' ? "" : "/", rel, name);
    mkdirs_for(dst);
    f = fopen(dst, "w");
    if (!f)
        return;
    fwrite(data, 1, len, f);
    fclose(f);
}

/* ---- collection ------------------------------------------------------- */

uint64_t kmem_page_size(void)
{
    static uint64_t ps;

    if (!ps) {
        long v = sysconf(_SC_PAGESIZE);
        ps = v > 0 ? (uint64_t)v : 4096;
    }
    return ps;
}

static void set_status(struct kmem_ctx *ctx, struct kmem_status *st, int err)
{
    st->err = err;
    if (err)
        snprintf(st->msg, sizeof(st->msg), "%s", ctx->err);
    else
        st->msg[0] = '\0';
}

int kmem_collect(struct kmem_ctx *ctx, unsigned flags)
{
    struct kmem_snapshot *next = &ctx->snap[ctx->cur ^ 1];
    const struct kmem_snapshot *prev = ctx->nsnaps ? &ctx->snap[ctx->cur] : NULL;
    int first = 0, err;

    clock_gettime(CLOCK_MONOTONIC, &next->when);
    next->flags = flags;
    set_status(ctx, &next->slab_status, 0);
    set_status(ctx, &next->node_status, 0);
    set_status(ctx, &next->cgroup_status, 0);
    next->slab.n = 0;
    if (flags & KMEM_COLLECT_SLAB) {
        err = kmem_read_slabinfo(ctx, next);
        set_status(ctx, &next->slab_status, err);
        if (err)
            next->slab.n = 0;
        kmem_slabinfo_diff(&next->slab, prev ? &prev->slab : NULL, kmem_page_size());
        first = first ? first : err;
    }
    if (flags & KMEM_COLLECT_NODE) {
        err = kmem_read_node(ctx, next);
        set_status(ctx, &next->node_status, err);
        first = first ? first : err;
    }
    if (flags & KMEM_COLLECT_CGROUPS) {
        err = kmem_read_cgroups(ctx, next);
        set_status(ctx, &next->cgroup_status, err);
        kmem_cgroups_diff(&next->cgroups, prev ? &prev->cgroups : NULL);
        first = first ? first : err;
    } else {
        next->cgroups.n = 0;
    }
    ctx->cur ^= 1;
    ctx->nsnaps++;
    if (first)
        kmem_err(ctx, first, "%s",
                 next->slab_status.err   ? next->slab_status.msg
                 : next->node_status.err ? next->node_status.msg
                                         : next->cgroup_status.msg);
    return first;
}

const struct kmem_snapshot *kmem_current(const struct kmem_ctx *ctx)
{
    return ctx->nsnaps ? &ctx->snap[ctx->cur] : NULL;
}

const struct kmem_snapshot *kmem_previous(const struct kmem_ctx *ctx)
{
    return ctx->nsnaps > 1 ? &ctx->snap[ctx->cur ^ 1] : NULL;
}
