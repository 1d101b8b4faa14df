/* SPDX-License-Identifier: MIT */
/* Memory cgroups: reading one cgroup's files (kept fds), its Kubernetes
 * identity, and the depth-first walk of the hierarchy (see cgroup.c). */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include "readers.h"
#include "arena.h"
#include "hindex.h"
#include "kube.h"
#include "kv.h"
#include "parse.h"
#include "sat.h"
#include "cgroup_int.h"

/* Left by a capture in the directory of a cgroup that vanished while it was taken. */
#define CG_VANISHED_MARK ".kmem-vanished"

static const char *const cgf_name[2][CGF_COUNT] = {
    /* v1 */ {"memory.kmem.usage_in_bytes", "memory.kmem.tcp.usage_in_bytes",
              "memory.usage_in_bytes", NULL, "memory.oom_control", "memory.limit_in_bytes"},
    /* v2 */ {"memory.stat", NULL, "memory.current", "cgroup.stat", "memory.events", "memory.max"},
};

/* kmem_arena_str() into a 32-bit offset (an arena of cgroup names stays far
 * below 4 GiB: paths are bounded, and so is the number of cgroups). */
int cg_arena_str(struct kmem_arena *a, const char *str, uint32_t *off)
{
    size_t o;
    int err = kmem_arena_str(a, str, &o);

    if (!err && o > UINT32_MAX)
        err = -ENOMEM;
    *off = err ? 0 : (uint32_t)o;
    return err;
}

/* ---- reading one cgroup ------------------------------------------------- */

bool cg_vanished(int err)
{
    return err == -ENOENT || err == -ENODEV || err == -ESTALE;
}

/*
 * Read file @f of a cgroup into w->r->buf: through its kept fd in @k if
 * there is one, else opened at @fd (the cgroup's directory, or with @prefix
 * "a/b", the cgroup's path below it, the hierarchy's) and then kept in @k
 * while the cap allows, else closed. A kept fd that fails is closed (the
 * caller decides what the error means). 0 or -errno.
 */
static int cg_read(struct walk *w, struct cg_fds *k, int fd, const char *prefix, enum cg_file f)
{
    struct kmem_cg_reader *r = w->r;
    const char *name = cgf_name[w->v2][f];
    const char *rel = NULL;
    int err, ffd;

    w->bad_file = name;
    if (r->capbase[0] && kmem_capturing(w->io)) {
        const char *p = w->cgpath ? w->cgpath : r->path;

        if ((size_t)snprintf(r->capfile, sizeof(r->capfile), "%s%s/%s", r->capbase,
                             strcmp(p, "/") ? p : "", name) < sizeof(r->capfile))
            rel = r->capfile;
    }
    /* The kept fd's place: a pool slot is taken only to keep one (below). */
    int *kf = k ? cg_fds_kept(r, k, f) : NULL;

    if (kf && *kf >= 0) {
        err = kmem_read_single_fd_as(w->io, *kf, &r->buf, rel);
        if (err) {
            close(*kf);
            *kf = -1;
            r->fd_open--;
        }
        return err;
    }
    if (prefix && prefix[0]) {
        if ((size_t)snprintf(r->fpath, sizeof(r->fpath), "%s/%s", prefix, name) >= sizeof(r->fpath))
            return -ENAMETOOLONG;
        name = r->fpath;
    }
    ffd = kmem_open_regular(fd, name, 0);
    if (ffd < 0)
        return ffd;
    err = kmem_read_single_fd_as(w->io, ffd, &r->buf, rel);
    if (!err && k && w->live && cg_may_keep(r) && (kf || (kf = cg_fds_slot(r, k, f)))) {
        *kf = ffd;
        r->fd_open++;
        return 0;
    }
    close(ffd);
    return err;
}

/*
 * v2: the counters of the cgroup open at @fd. The root has no memory.current;
 * a root without memory.stat (old kernels) is filled from its children later.
 * memory.current only where the kernel figure is an estimate (its upper
 * bound) or with KMEM_CG_EXTRA_USAGE; cgroup.stat of the root always (dying
 * cgroups, and nr_descendants: has the tree changed?), of the others with
 * KMEM_CG_EXTRA_DYING.
 */
static int read_v2(struct walk *w, int fd, const char *prefix, struct cg_fds *k,
                   struct kmem_cgroup *cg)
{
    struct kmem_buf *b = &w->r->buf;
    struct kmem_parse_error perr;
    enum kmem_cg_dying_source src;
    int err;

    err = cg_read(w, k, fd, prefix, CGF_MAIN);
    if (err == -ENOENT && cg->depth == 0) {
        cg->kernel_lower_bound = true;
    } else if (err) {
        return err;
    } else {
        err = kmem_cg_memstat_parse(b->data, b->len, cg, &perr);
        if (err) {
            w->bad_line = perr.line;
            return err;
        }
    }
    if (!(w->r->extras & KMEM_CG_EXTRA_USAGE) && (cg->depth == 0 || !cg->kernel_approx))
        goto stat;
    err = cg_read(w, k, fd, prefix, CGF_USAGE);
    if (!err) {
        if (kmem_parse_single_u64(b->data, b->len, &cg->usage))
            return -EINVAL;
        /* Charged: kernel + sock + user pages (each on an LRU list unless
         * isolated or in a per-CPU batch) + the per-CPU charge stock. */
        cg->has_upper_bound = true;
        cg->kernel_upper_bound = cg->usage > cg->lru ? cg->usage - cg->lru : 0;
        cg->kernel_upper_bound =
            cg->kernel_upper_bound > cg->sock ? cg->kernel_upper_bound - cg->sock : 0;
        if (cg->kernel_upper_bound < cg->kernel)
            cg->kernel_upper_bound = cg->kernel;
    } else if (err != -ENOENT) {
        return err;
    }
stat:
    if (cg->depth > 0 && !(w->r->extras & KMEM_CG_EXTRA_DYING))
        return 0;
    /* Removed memory cgroups below this one (not an error where absent). */
    err = cg_read(w, k, fd, prefix, CGF_STAT);
    if (err == -ENOENT)
        return 0;
    if (err)
        return err;
    err = kmem_cg_cgstat_parse(b->data, b->len, &cg->dying, &src, &perr);
    if (err) {
        w->bad_line = perr.line;
        return err;
    }
    cg->has_dying = src != KMEM_CG_DYING_NONE;
    if (cg->depth == 0) {
        static const char *const names[] = {"nr_descendants"};
        static const struct kmem_kv_table t = {names, 1, false, false, false};
        uint64_t present = 0;

        w->cgs->dying = cg->dying;
        w->cgs->dying_source = src;
        w->descendants = UINT64_MAX;
        if (kmem_kv_parse(&t, b->data, b->len, &w->descendants, &present, NULL) || !present)
            w->descendants = UINT64_MAX;
    }
    return 0;
}

/*
 * Read the counters of the cgroup open at @fd into @cg. 0, or -errno from
 * the kernel, or -EINVAL for content that does not parse (w->bad_*).
 */
static int read_v1(struct walk *w, int fd, const char *prefix, struct cg_fds *k,
                   struct kmem_cgroup *cg)
{
    struct kmem_buf *b = &w->r->buf;
    int err;

    err = cg_read(w, k, fd, prefix, CGF_MAIN);
    if (err)
        return err;
    if (kmem_parse_single_u64(b->data, b->len, &cg->kernel))
        return -EINVAL;
    /* v1 reports no parts: all of it is "other". */
    cg->comp[KMEM_CG_OTHER] = cg->kernel;
    cg->comp_present = 1u << KMEM_CG_OTHER;
    if (w->r->extras & KMEM_CG_EXTRA_SOCK) {
        err = cg_read(w, k, fd, prefix, CGF_SOCK);
        if (!err) {
            if (kmem_parse_single_u64(b->data, b->len, &cg->sock))
                return -EINVAL;
            cg->has_sock = true;
        } else if (err != -ENOENT) {
            return err;
        }
    }
    if (!(w->r->extras & KMEM_CG_EXTRA_USAGE))
        return 0;
    err = cg_read(w, k, fd, prefix, CGF_USAGE);
    if (err == -ENOENT)
        return 0;
    if (err)
        return err;
    return kmem_parse_single_u64(b->data, b->len, &cg->usage) ? -EINVAL : 0;
}

int cg_read_counters(struct walk *w, int fd, const char *prefix, struct cg_fds *k,
                     struct kmem_cgroup *cg)
{
    int err;

    w->bad_file = NULL;
    w->bad_line = 0;
    cg->container_attempt = -1;
    err = w->v2 ? read_v2(w, fd, prefix, k, cg) : read_v1(w, fd, prefix, k, cg);
    if (err || !(w->r->extras & KMEM_CG_EXTRA_OOM))
        return err;
    /* Read to be captured only (the recorder's OOM-kill counter and limit):
     * a failure is no error of the cgroup (the file is not in the capture). */
    cg_read(w, k, fd, prefix, CGF_OOM);
    cg_read(w, k, fd, prefix, CGF_LIMIT);
    w->bad_file = NULL;
    return 0;
}

/* Append an entry for the cgroup at r->path; its counters are read by the caller. */
int cg_add_cgroup(struct walk *w, int depth, struct kmem_cgroup **out)
{
    struct cg_store *st = w->st;
    struct kmem_cgroup *cg;
    struct cg_offs *o;
    size_t n = w->cgs->n;
    int err;

    KMEM_GROW(err, st->v, &st->cap, n + 1);
    if (!err)
        KMEM_GROW(err, st->offs, &st->ocap, n + 1);
    if (err)
        return err;
    cg = &st->v[n];
    o = &st->offs[n];
    memset(cg, 0, sizeof(*cg));
    memset(o, 0, sizeof(*o));
    cg->depth = depth;
    *out = cg;
    return cg_arena_str(&st->arena, w->r->path, &o->s[S_PATH]);
}

/* Load the Kubernetes names (once per collection); note when their directories changed. */
static int load_names(struct walk *w)
{
    struct kmem_cg_reader *r = w->r;
    static const char *const dirs[2] = {"pods", "containers"};
    int err;

    if (r->names_loaded)
        return 0;
    if (!r->names) {
        r->names = kmem_kube_names_new();
        if (!r->names)
            return -ENOMEM;
    }
    for (int i = 0; i < 2; i++) {
        struct stat st;

        memset(&r->names_mtime[i], 0, sizeof(r->names_mtime[i]));
        if (fstatat(kmem_io_dir(w->io, KMEM_DIR_PODLOGS), dirs[i], &st, 0) == 0)
            r->names_mtime[i] = st.st_mtim;
    }
    err = kmem_kube_names_load(w->io, r->names);
    if (err)
        return err;
    r->names_loaded = true;
    return 0;
}

int cg_load_names(struct walk *w)
{
    return load_names(w);
}

/* Have pods/ or containers/ changed since the names were loaded? */
bool cg_names_changed(struct walk *w)
{
    static const char *const dirs[2] = {"pods", "containers"};

    for (int i = 0; i < 2; i++) {
        struct stat st;
        struct timespec t = {0};

        if (fstatat(kmem_io_dir(w->io, KMEM_DIR_PODLOGS), dirs[i], &st, 0) == 0)
            t = st.st_mtim;
        if (t.tv_sec != w->r->names_mtime[i].tv_sec || t.tv_nsec != w->r->names_mtime[i].tv_nsec)
            return true;
    }
    return false;
}

/* Kubernetes identity and names of the cgroup at r->path into @cg and @o. */
static int add_identity(struct walk *w, struct kmem_cgroup *cg, struct cg_offs *o)
{
    struct kmem_cg_reader *r = w->r;
    const char *ns, *pod, *container;
    struct kmem_kube_id id;
    int err, attempt;

    if (!strstr(r->path, "kubepods") || !kmem_kube_parse_path(r->path, &id))
        return 0;
    err = load_names(w);
    if (err)
        return err;
    kmem_kube_names_lookup(r->names, &id, &ns, &pod, &container, &attempt);
    cg->kube_conmon = id.conmon;
    cg->container_attempt = attempt;
    err = cg_arena_str(&w->st->arena, id.pod_uid, &o->s[S_UID]);
    if (!err)
        err = cg_arena_str(&w->st->arena, id.qos, &o->s[S_QOS]);
    if (!err)
        err = cg_arena_str(&w->st->arena, id.container_id, &o->s[S_CID]);
    if (!err)
        err = cg_arena_str(&w->st->arena, id.runtime, &o->s[S_RUNTIME]);
    if (!err)
        err = cg_arena_str(&w->st->arena, ns, &o->s[S_NS]);
    if (!err)
        err = cg_arena_str(&w->st->arena, pod, &o->s[S_POD]);
    if (!err)
        err = cg_arena_str(&w->st->arena, container, &o->s[S_CONTAINER]);
    return err;
}

int cg_root_error(struct walk *w, int err, const char *what)
{
    char rel[512], shown[1024];
    const char *hint;

    if (what)
        snprintf(rel, sizeof(rel), "%s/%s", w->mount, what);
    else
        snprintf(rel, sizeof(rel), "%s", w->mount);
    kmem_display_path(w->io, KMEM_DIR_SYS, rel, shown, sizeof(shown));
    if (err == -EINVAL && w->bad_line)
        return kmem_err(w->io, err, "cannot parse %s line %u: expected \"key value\"", shown,
                        w->bad_line);
    if (err == -EINVAL)
        return kmem_err(w->io, err, "cannot parse %s: expected a number of bytes", shown);
    hint = kmem_errno_hint(err);
    if (err == -ENOENT && !w->v2 && what)
        hint = " (kernel memory accounting is off: CONFIG_MEMCG_KMEM or cgroup.memory=nokmem)";
    else if (err == -ENOENT)
        hint = " (is the cgroup filesystem mounted under this root?)";
    return kmem_err(w->io, err, "cannot read %s: %s%s", shown, strerror(-err), hint);
}

/*
 * The kept fds for entry @i of the walk in progress (r->path, open at @fd,
 * inode @dino from its directory entry, 0 unknown): those of the same cgroup
 * in the known tree (same path and inode), handed over, or none yet.
 */
static int walk_fds(struct walk *w, size_t i, int fd, ino_t dino, struct cg_fds **out)
{
    struct kmem_cg_reader *r = w->r;
    struct cg_known *K = &r->known;
    int err;

    KMEM_GROW(err, r->wfds, &r->wcap, i + 1);
    if (err)
        return err;
    *out = &r->wfds[i];
    cg_fds_init(*out);
    if (!w->live)
        return 0;
    struct stat sb;
    /* With inotify no link count is needed: the inode is the entry's
     * (kernfs gives both its node id). */
    if (r->watch == CG_WATCH_INOTIFY && dino) {
        cg_fds_set_ino(*out, dino);
    } else if (fstat(fd, &sb) == 0) {
        cg_fds_set_ino(*out, sb.st_ino);
        (*out)->nlink = (uint32_t)sb.st_nlink;
    }
    if (!K->n || K->index.size == 0)
        return 0;
    size_t it;
    for (long j = kmem_hindex_first(&K->index, kmem_hash_str(r->path), &it); j >= 0;
         j = kmem_hindex_next(&K->index, &it)) {
        if (strcmp(K->arena.p + K->offs[j].path, r->path) == 0) {
            if (cg_fds_ino(&K->fds[j]) == cg_fds_ino(*out)) {
                uint32_t nl = (*out)->nlink;

                **out = K->fds[j];
                (*out)->nlink = nl;
                cg_fds_init(&K->fds[j]);
            } else {
                cg_fds_close(r, &K->fds[j]); /* removed, and made again since */
            }
            break;
        }
    }
    return 0;
}

/* v1: keep the cgroup's directory (open at @fd) and its link count. */
static void keep_dir(struct kmem_cg_reader *r, struct cg_fds *k, int fd)
{
    if (k->dir < 0 && cg_may_keep(r)) { /* only called on a live hierarchy */
        k->dir = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (k->dir >= 0)
            r->fd_open++;
    }
}

/*
 * The directories below a skipped cgroup (open at @fd, not taken), to @depth
 * levels: they are cgroups too, skipped with it. Without them, v1's count of
 * removed cgroups (/proc/cgroups minus those walked) would count every
 * cgroup below an unreadable one as removed.
 */
static size_t count_below(int fd, int depth)
{
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    const struct dirent *de;
    size_t n = 0;

    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return 0;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
            continue;
        if (de->d_name[0] == '.' &&
            (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0')))
            continue;
        int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cfd < 0)
            continue; /* a file, or gone */
        n++;
        if (depth > 0)
            n += count_below(cfd, depth - 1);
        close(cfd);
    }
    closedir(d);
    return n;
}

/*
 * The cgroup at r->path was listed but is gone (removed during the walk):
 * counted. A capture keeps its place with an empty CG_VANISHED_MARK in its
 * directory, whatever of its files were copied before it went, so that the
 * replay skips and counts it the same way (README "Capture under churn").
 */
static void note_vanished(struct walk *w)
{
    char rel[KMEM_CG_PATH_MAX + 128];

    w->cgs->n_vanished++;
    if (kmem_capturing(w->io) && (size_t)snprintf(rel, sizeof(rel), "sys/%s%s/" CG_VANISHED_MARK,
                                                  w->mount, w->r->path) < sizeof(rel))
        kmem_capture_put(w->io, rel, "", 0);
}

/* Open the child @name (inode @dino, 0 unknown) of @parent_fd and read it.
 * 1 if added (its fd in *fdout), 0 if skipped, -errno fatal. */
int cg_visit_child(struct walk *w, int parent_fd, const char *name, ino_t dino, int depth,
                   int *fdout)
{
    struct kmem_cgroup *cg;
    int fd, err;

    *fdout = -1;
    fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        err = -errno;
        if (err == -ENOTDIR)
            return 0; /* a file (d_type was unknown) */
        if (cg_vanished(err))
            note_vanished(w);
        else
            w->cgs->n_errors++;
        return 0;
    }
    /* A capture of a cgroup that vanished while it was taken. */
    if (!w->live && faccessat(fd, CG_VANISHED_MARK, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
        note_vanished(w);
        close(fd);
        return 0;
    }
    if (depth > KMEM_CG_MAX_DEPTH) {
        w->cgs->n_unnamed += 1 + count_below(fd, KMEM_CG_MAX_DEPTH);
        close(fd);
        return 0;
    }
    struct cg_fds *k = NULL;
    err = cg_add_cgroup(w, depth, &cg);
    if (!err)
        err = walk_fds(w, w->cgs->n, fd, dino, &k);
    if (!err) {
        err = cg_read_counters(w, fd, NULL, k, cg);
        if (err == -ENOMEM)
            goto out_close;
        if (err) {
            if (cg_vanished(err))
                note_vanished(w);
            else /* skipped with the cgroups below it, none of them removed */
                w->cgs->n_errors += 1 + count_below(fd, KMEM_CG_MAX_DEPTH - depth);
            cg_fds_close(w->r, k);
            close(fd);
            return 0;
        }
        err = add_identity(w, cg, &w->st->offs[w->cgs->n]);
    }
    if (!err)
        cg->ino = cg_fds_ino(k); /* walk_fds: only on a live hierarchy */
    if (!err && w->live && w->r->watch == CG_WATCH_INOTIFY)
        cg_watch_add(w, fd, k); /* before the directory is listed */
    if (!err && !w->v2 && w->live && w->r->watch != CG_WATCH_INOTIFY)
        keep_dir(w->r, k, fd);
    if (err)
        goto out_close;
    w->cgs->n++;
    *fdout = fd;
    return 1;

out_close:
    if (k)
        cg_fds_close(w->r, k);
    close(fd);
    return err;
}

bool cg_skip_entry(const struct dirent *de)
{
    if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
        return true;
    return de->d_name[0] == '.' &&
           (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0'));
}

/* Push a directory to list; takes @fd. 0 or -errno (the fd is closed on error). */
static int push_dir(struct walk *w, int *sp, int fd, size_t pathlen)
{
    DIR *d = fdopendir(fd);

    if (!d) {
        int err = -errno;

        close(fd);
        return err;
    }
    w->r->stack[*sp].dir = d;
    w->r->stack[*sp].pathlen = pathlen;
    (*sp)++;
    return 0;
}

/* The walk from the directory pushed on r->stack (at @depth): depth first,
 * each cgroup appended. 0 or -errno (fatal: out of memory). */
static int walk_loop(struct walk *w, int depth)
{
    struct kmem_cg_reader *r = w->r;
    int sp = 1, err = 0;

    while (sp > 0) {
        struct cg_frame *f = &r->stack[sp - 1];
        struct dirent *de;
        size_t nlen, plen;
        int cfd, added;

        errno = 0;
        de = readdir(f->dir);
        if (!de) {
            if (errno && !cg_vanished(-errno))
                w->cgs->n_errors++;
            closedir(f->dir);
            sp--;
            continue;
        }
        if (cg_skip_entry(de))
            continue;
        nlen = strlen(de->d_name);
        plen = f->pathlen;
        /* r->path[0, plen) is the parent's path ("/" for the root); frames
         * below only ever write past their own prefix. */
        if (plen + 1 + nlen + 1 > sizeof(r->path) || plen + 1 + nlen > KMEM_CG_PATH_MAX) {
            int sfd =
                openat(dirfd(f->dir), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

            w->cgs->n_unnamed +=
                1 + (sfd >= 0 ? count_below(sfd, KMEM_CG_MAX_DEPTH - depth - sp) : 0);
            if (sfd >= 0)
                close(sfd);
            continue;
        }
        if (plen > 1)
            r->path[plen++] = '/';
        memcpy(r->path + plen, de->d_name, nlen + 1);
        added = cg_visit_child(w, dirfd(f->dir), de->d_name, de->d_ino, depth + sp, &cfd);
        if (added < 0) {
            err = added;
            break;
        }
        if (added) {
            /* depth + sp <= KMEM_CG_MAX_DEPTH (cg_visit_child), so stack[sp] exists */
            err = push_dir(w, &sp, cfd, plen + nlen);
            if (err == -ENOMEM)
                break;
            if (err) {
                w->cgs->n_errors++;
                err = 0;
            }
        }
    }
    while (sp > 0)
        closedir(r->stack[--sp].dir);
    return err;
}

/*
 * Walk the cgroups below the directory open at @fd (taken), at @depth, whose
 * path is r->path[0, @pathlen) ("/" for the root, length 1). 0 or -errno.
 */
int cg_walk_below(struct walk *w, int fd, size_t pathlen, int depth)
{
    int sp = 0, err = push_dir(w, &sp, fd, pathlen);

    return err ? err : walk_loop(w, depth);
}

int cg_walk_tree(struct walk *w, int hfd)
{
    int sp = 0, err;

    if (w->live)
        cg_watch_walk_start(w, hfd);
    KMEM_GROW(err, w->r->wfds, &w->r->wcap, w->r->known.n + 1); /* once, not doubling */
    if (err) {
        close(hfd);
        return kmem_err(w->io, err, "out of memory");
    }
    err = push_dir(w, &sp, hfd, 1);
    if (err)
        return cg_root_error(w, err, NULL);
    err = walk_loop(w, 0);
    if (err)
        return kmem_err(w->io, err, "reading memory cgroups: %s", strerror(-err));
    return 0;
}
