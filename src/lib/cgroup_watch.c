/* SPDX-License-Identifier: MIT */
/*
 * Memory cgroups: seeing changes to the known tree with inotify, and
 * re-reading it with only the changed directories listed again.
 *
 * One inotify instance per reader; every cgroup directory of a live
 * hierarchy gets a watch (IN_CREATE, IN_DELETE, IN_MOVED_FROM, IN_MOVED_TO,
 * IN_ONLYDIR) when a walk first opens it, before it is listed, so that a
 * child made after the listing is reported. Each collection drains the
 * queue without blocking: no event, the known tree is re-read as it is;
 * events, the directories they name are listed again and merged with the
 * known tree (cg_merge_tree), which gives the entries a full walk would, in
 * the same order; a queue overflow or anything unexpected walks the whole
 * tree. Without inotify (no instance, fs.inotify.max_user_watches reached)
 * the reader falls back to link counts (v1) and nr_descendants (v2):
 * r->watch_why says why (kmem_ctx_cgroup_watch(), the exporter's debug log).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "readers.h"
#include "arena.h"
#include "hindex.h"
#include "cgroup_int.h"

#define CG_WATCH_MASK   (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR)
#define CG_WATCH_CHANGE (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)

void cg_watch_close(struct kmem_cg_reader *r)
{
    if (r->ino_fd >= 0)
        close(r->ino_fd); /* removes every watch */
    r->ino_fd = -1;
    r->root_wd = -1;
}

const char *kmem_cg_reader_watch(const struct kmem_cg_reader *r)
{
    return r->watch == CG_WATCH_INOTIFY ? "inotify"
           : r->watch == CG_WATCH_LINKS ? r->watch_why
                                        : NULL;
}

/* From now on, link counts and nr_descendants (for the reader's life). */
static void fall_back(struct kmem_cg_reader *r, const char *what, int err)
{
    const char *hint = err == ENOSPC   ? " (the fs.inotify.max_user_watches limit)"
                       : err == EMFILE ? " (the fs.inotify.max_user_instances limit)"
                                       : "";

    cg_watch_close(r);
    r->watch = CG_WATCH_LINKS;
    snprintf(r->watch_why, sizeof(r->watch_why), "link counts: %s: %s%s", what, strerror(err),
             hint);
}

/* A watch on the directory open at @fd; -1 (and the fallback) on failure. */
static int add_watch(struct kmem_cg_reader *r, int fd)
{
    char p[48];
    int wd;

    snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
    wd = inotify_add_watch(r->ino_fd, p, CG_WATCH_MASK);
    if (wd < 0)
        fall_back(r, "inotify_add_watch", errno);
    return wd;
}

/* Read every queued event; with @mark, mark the known directories they name. */
static int drain(struct kmem_cg_reader *r, bool mark)
{
    struct cg_known *K = &r->known;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int ret = mark && K->dirty_pending ? 1 : 0;

    for (;;) {
        ssize_t n = read(r->ino_fd, buf, sizeof(buf));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN) {
            fall_back(r, "reading inotify events", errno);
            return -ESTALE;
        }
        if (n <= 0)
            return ret;
        for (const char *p = buf; p < buf + n;) {
            const struct inotify_event *e = (const void *)p;
            size_t it;

            p += sizeof(*e) + e->len;
            if (e->mask & IN_Q_OVERFLOW)
                ret = -ESTALE; /* lost events: walk */
            if (!mark || !(e->mask & IN_ISDIR) || !(e->mask & CG_WATCH_CHANGE))
                continue;
            if (e->wd == r->root_wd) {
                K->root_dirty = true;
                ret = ret ? ret : 1;
                continue;
            }
            for (long j = kmem_hindex_first(&K->wdindex, kmem_hash_mem(&e->wd, sizeof(e->wd)), &it);
                 j >= 0; j = kmem_hindex_next(&K->wdindex, &it)) {
                if ((size_t)j < K->n && K->fds[j].wd == e->wd) {
                    K->dirty[j] = 1;
                    ret = ret ? ret : 1;
                    break;
                }
            }
            /* A watch of no known entry: below a skipped cgroup, or of one
             * removed; its parent's event says so. */
        }
    }
}

int cg_watch_drain(struct kmem_cg_reader *r)
{
    return r->watch == CG_WATCH_INOTIFY ? drain(r, true) : 0;
}

void cg_watch_walk_start(struct walk *w, int hfd)
{
    struct kmem_cg_reader *r = w->r;

    if (r->watch == CG_WATCH_UNTRIED) {
        r->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (r->ino_fd < 0) {
            fall_back(r, "inotify_init1", errno);
            return;
        }
        r->watch = CG_WATCH_INOTIFY;
    }
    if (r->watch != CG_WATCH_INOTIFY)
        return;
    (void)drain(r, false); /* what the walk is about to see */
    if (r->watch == CG_WATCH_INOTIFY)
        r->root_wd = add_watch(r, hfd);
}

void cg_watch_add(struct walk *w, int fd, struct cg_fds *k)
{
    if (w->r->watch == CG_WATCH_INOTIFY)
        k->wd = add_watch(w->r, fd);
}

/* After the known tree is saved: watch -> entry, nothing dirty. */
void cg_watch_index(struct kmem_cg_reader *r)
{
    struct cg_known *K = &r->known;
    int err;

    K->root_dirty = false;
    K->dirty_pending = false;
    if (r->watch != CG_WATCH_INOTIFY)
        return;
    KMEM_GROW(err, K->dirty, &K->dcap, K->n);
    if (!err)
        err = kmem_hindex_reset(&K->wdindex, K->n);
    if (err) {
        K->valid = false; /* the next collection walks */
        return;
    }
    memset(K->dirty, 0, K->n);
    for (size_t i = 1; i < K->n; i++)
        if (K->fds[i].wd >= 0)
            kmem_hindex_add(&K->wdindex, kmem_hash_mem(&K->fds[i].wd, sizeof(int)), i);
}

/*
 * Known entry @i was removed before its event was queued (its files read
 * ENODEV while the kernel had not yet notified its parent): its parent is
 * listed again at the next collection, whatever the queue says.
 */
void cg_watch_mark_parent(struct kmem_cg_reader *r, size_t i)
{
    struct cg_known *K = &r->known;
    size_t p = i;

    while (p > 0 && K->meta[p].depth >= K->meta[i].depth)
        p--;
    if (p == 0)
        K->root_dirty = true;
    else if (p < K->dcap)
        K->dirty[p] = 1;
    K->dirty_pending = true;
}

/* ---- merging the changed directories into the known tree ---------------- */

struct merge {
    struct walk *w;
    int hfd;
    bool names_checked;
};

/* The known entry with path r->path, or -1. */
static long known_at(const struct cg_known *K, const char *path)
{
    size_t it;

    for (long j = kmem_hindex_first(&K->index, kmem_hash_str(path), &it); j >= 0;
         j = kmem_hindex_next(&K->index, &it))
        if (strcmp(K->arena.p + K->offs[j].path, path) == 0)
            return j;
    return -1;
}

/* Append known entry @j (its path in r->path) with its kept fds, re-read.
 * 1 if it was removed meanwhile (not appended), 0, or -errno. */
static int reuse_entry(struct merge *m, size_t j)
{
    struct walk *w = m->w;
    struct kmem_cg_reader *r = w->r;
    struct cg_known *K = &r->known;
    size_t i = w->cgs->n;
    struct kmem_cgroup *cg;
    struct cg_fds *k;
    int err;

    KMEM_GROW(err, r->wfds, &r->wcap, i + 1);
    if (!err)
        err = cg_add_cgroup(w, K->meta[j].depth, &cg);
    if (err)
        return err;
    k = &r->wfds[i];
    *k = K->fds[j]; /* handed over */
    cg_fds_init(&K->fds[j]);
    if (cg_unresolved(K, j) && !m->names_checked) {
        /* Names may have appeared since: a walk looks them up again. */
        err = cg_names_changed(w) ? -ESTALE : 0;
        m->names_checked = true;
    }
    if (!err) {
        err = cg_read_counters(w, m->hfd, r->path + 1, k, cg);
        if (cg_vanished(err) && !kmem_capturing(w->io)) {
            /* Removed since the drain (its event may not be queued yet):
             * left out with what was below it, as a walk would. */
            cg_fds_close(r, k);
            w->cgs->n_vanished++;
            return 1;
        }
    }
    if (err) {
        cg_fds_close(r, k);
        return err == -ENOMEM ? err : -ESTALE;
    }
    cg->container_attempt = K->meta[j].container_attempt;
    cg->kube_conmon = K->meta[j].kube_conmon;
    cg->ino = cg_fds_ino(k);
    for (int s = S_UID; s < S_COUNT && !err; s++)
        if (cg_koff(K, j, s))
            err = cg_arena_str(&w->st->arena, K->arena.p + cg_koff(K, j, s), &w->st->offs[i].s[s]);
    if (err) {
        cg_fds_close(r, k);
        return err;
    }
    w->cgs->n++;
    return 0;
}

static int merge_children(struct merge *m, size_t j, size_t plen, int depth);

static int merge_entry(struct merge *m, size_t j, size_t plen, int depth)
{
    int err = reuse_entry(m, j);

    if (err > 0)
        return 0; /* removed meanwhile */
    return err ? err : merge_children(m, j, plen, depth);
}

/* A changed directory (entry @j at r->path[0, plen)): listed again, each child
 * known (same path and inode) merged, each other one walked. */
static int relist(struct merge *m, size_t j, size_t plen, int depth)
{
    struct walk *w = m->w;
    struct kmem_cg_reader *r = w->r;
    const struct cg_known *K = &r->known;
    const struct dirent *de;
    int dfd, err = 0;
    DIR *d;

    /* The root opened again, not dup'ed: a dup shares the offset, and a walk
     * after a failed merge lists the hierarchy's fd from its start. */
    dfd =
        openat(m->hfd, j == 0 ? "." : r->path + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return -ESTALE; /* removed meanwhile: walk */
    d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -ESTALE;
    }
    while (!err && (de = readdir(d)) != NULL) {
        size_t nlen = strlen(de->d_name), cl = plen;
        long c;

        if (cg_skip_entry(de))
            continue;
        if (plen + 1 + nlen + 1 > sizeof(r->path) || plen + 1 + nlen > KMEM_CG_PATH_MAX) {
            err = -ESTALE; /* unnamed: the walk counts it */
            break;
        }
        if (cl > 1)
            r->path[cl++] = '/';
        memcpy(r->path + cl, de->d_name, nlen + 1);
        cl += nlen;
        c = known_at(K, r->path);
        if (c > 0 && cg_fds_ino(&K->fds[c]) == de->d_ino) {
            err = merge_entry(m, (size_t)c, cl, depth + 1);
        } else {
            int cfd, added = cg_visit_child(w, dirfd(d), de->d_name, de->d_ino, depth + 1, &cfd);

            if (added < 0)
                err = added;
            else if (added)
                err = cg_walk_below(w, cfd, cl, depth + 1);
        }
    }
    closedir(d);
    return err;
}

/* The children of entry @j (0: the root), whose path is r->path[0, plen). */
static int merge_children(struct merge *m, size_t j, size_t plen, int depth)
{
    const struct cg_known *K = &m->w->r->known;
    struct kmem_cg_reader *r = m->w->r;
    int err;

    if (j == 0 ? K->root_dirty : K->dirty[j])
        return relist(m, j, plen, depth);
    for (size_t c = j + 1; c < K->n && K->meta[c].depth > depth; c++) {
        const char *path = K->arena.p + K->offs[c].path;
        size_t len = strlen(path);

        if (K->meta[c].depth != depth + 1)
            continue;
        memcpy(r->path, path, len + 1);
        err = merge_entry(m, c, len, depth + 1);
        if (err)
            return err;
    }
    return 0;
}

/*
 * Re-read the known tree with the directories that inotify reported changed
 * listed again: the cgroups of a full walk, in its order (kernfs lists a
 * directory in a fixed order), new ones walked, removed ones left out (their
 * fds are closed by known_save). The root (entry 0) is read by the caller.
 * -ESTALE when a full walk is needed, -ENOMEM, else 0.
 */
int cg_merge_tree(struct walk *w, int hfd)
{
    struct merge m = {.w = w, .hfd = hfd};
    int err;

    KMEM_GROW(err, w->r->wfds, &w->r->wcap, w->r->known.n + 1); /* once, not doubling */
    if (err)
        return err;
    cg_fds_init(&w->r->wfds[0]);
    snprintf(w->r->path, sizeof(w->r->path), "/");
    return merge_children(&m, 0, 1, 0);
}
