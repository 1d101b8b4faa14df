/* SPDX-License-Identifier: MIT */
/*
 * Memory cgroups: layout detection from the tree under the root, a walk of
 * every memory cgroup with directory fds, the kernel memory charged to each,
 * Kubernetes identity, and the change since the previous snapshot.
 *
 * Storage: the reader's one store (kmem_cgroups.priv of the snapshot that
 * read it) holds the cgroup array and a string arena, grown geometrically and
 * reused by every later collection, so a steady state allocates nothing; the
 * previous collection stays only as each cgroup's path and kernel, for the
 * diff (the previous snapshot's cgroups are emptied). While walking, strings
 * are arena offsets (the arena may move); they become pointers at the end.
 * The reader state (struct kmem_cg_reader: file buffer, path buffer,
 * directory stack, Kubernetes name maps) is owned by the snapshot module and
 * outlives snapshots.
 */
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
#include "buf.h"
#include "hindex.h"
#include "kube.h"
#include "kv.h"
#include "parse.h"
#include "sat.h"
#include "cgroup_int.h"

/* ---- storage ------------------------------------------------------------ */

/* The store is the reader's (kmem_cg_reader_free()). */
void kmem_cgroups_release(struct kmem_cgroups *cgs)
{
    memset(cgs, 0, sizeof(*cgs));
}

static void store_free(struct cg_store *st)
{
    if (!st)
        return;
    free(st->v);
    free(st->offs);
    kmem_arena_free(&st->arena);
    kmem_hindex_free(&st->index);
    free(st->last_kernel);
    free(st->last_path);
    kmem_arena_free(&st->last_arena);
    kmem_hindex_free(&st->last_index);
    free(st);
}

/*
 * Before a collection overwrites the store: keep the completed one's paths
 * and kernels for the diff. The arena is swapped with the last one, not
 * copied (the collection refills its own). -ENOMEM.
 */
static int store_keep_last(struct cg_store *st)
{
    size_t n = st->done_n == (size_t)-1 ? 0 : st->done_n;
    int err = 0;

    st->last_n = 0;
    st->last_indexed_n = (size_t)-1;
    if (n) {
        size_t c = st->last_cap;

        KMEM_GROW(err, st->last_kernel, &c, n);
        if (!err) {
            c = st->last_cap;
            KMEM_GROW(err, st->last_path, &c, n);
            st->last_cap = c;
        }
        if (err)
            return err;
    }
    const char *base = st->str_known ? st->known_arena->p : st->arena.p;

    for (size_t i = 0; i < n; i++) {
        st->last_kernel[i] = st->v[i].kernel;
        st->last_path[i] = (uint32_t)(st->v[i].path - base);
    }
    st->last_in_known = st->str_known;
    if (!st->str_known) {
        struct kmem_arena t = st->last_arena;

        st->last_arena = st->arena;
        st->arena = t;
    }
    st->str_known = false;
    st->last_n = n;
    st->last_gen = st->gen;
    return 0;
}

struct kmem_cg_reader *kmem_cg_reader_new(void)
{
    struct kmem_cg_reader *r = calloc(1, sizeof(struct kmem_cg_reader));

    if (r) {
        r->extras = KMEM_CG_EXTRA_ALL;
        r->fd_max = KMEM_CG_FDS_AUTO;
        r->ino_fd = -1;
        r->root_wd = -1;
        r->xfree = -1;
    }
    return r;
}

void cg_fds_init(struct cg_fds *k)
{
    k->dir = -1;
    k->wd = -1;
    k->main = -1;
    k->x = -1;
    k->nlink = 0;
    cg_fds_set_ino(k, 0);
}

int *cg_fds_slot(struct kmem_cg_reader *r, struct cg_fds *k, enum cg_file f)
{
    int *kf = cg_fds_kept(r, k, f);

    if (kf)
        return kf;
    /* A slot of the pool for this cgroup's extra files. */
    if (r->xfree < 0) {
        size_t c = r->xcap, i = c;
        int err;

        if (c >= INT32_MAX / 2)
            return NULL;
        KMEM_GROW(err, r->xf, &r->xcap, c + 1);
        if (err)
            return NULL; /* read, not kept */
        for (; i < r->xcap; i++)
            r->xf[i][0] = i + 1 < r->xcap ? (int)(i + 1) : r->xfree;
        r->xfree = (int)c;
    }
    k->x = r->xfree;
    r->xfree = r->xf[k->x][0];
    for (int f2 = 0; f2 < CGF_COUNT - 1; f2++)
        r->xf[k->x][f2] = -1;
    return &r->xf[k->x][f - 1];
}

void cg_fds_close(struct kmem_cg_reader *r, struct cg_fds *k)
{
    if (k->dir >= 0) {
        close(k->dir);
        r->fd_open--;
    }
    if (k->main >= 0) {
        close(k->main);
        r->fd_open--;
    }
    if (k->x >= 0) {
        for (int f = 0; f < CGF_COUNT - 1; f++)
            if (r->xf[k->x][f] >= 0) {
                close(r->xf[k->x][f]);
                r->fd_open--;
            }
        r->xf[k->x][0] = r->xfree;
        r->xfree = k->x;
    }
    cg_fds_init(k);
}

/* Forget the known tree: close its fds; the next collection walks. */
static void known_drop(struct kmem_cg_reader *r)
{
    for (size_t i = 0; i < r->known.n; i++)
        cg_fds_close(r, &r->known.fds[i]);
    r->known.n = 0;
    r->known.valid = false;
}

void kmem_cg_reader_free(struct kmem_cg_reader *r)
{
    if (!r)
        return;
    known_drop(r);
    cg_watch_close(r);
    free(r->known.dirty);
    kmem_hindex_free(&r->known.wdindex);
    free(r->known.offs);
    free(r->known.ids);
    free(r->known.meta);
    free(r->known.fds);
    kmem_arena_free(&r->known.arena);
    kmem_hindex_free(&r->known.index);
    free(r->wfds);
    free(r->xf);
    store_free(r->store);
    free(r->buf.data);
    kmem_kube_names_free(r->names);
    free(r);
}

void kmem_cg_reader_set(struct kmem_cg_reader *r, unsigned extras, size_t fd_max)
{
    if (extras != r->extras || fd_max != r->fd_max)
        known_drop(r);
    r->extras = extras & (KMEM_CG_EXTRA_ALL | KMEM_CG_EXTRA_OOM);
    r->fd_max = fd_max;
}

void kmem_cg_reader_get(const struct kmem_cg_reader *r, unsigned *extras, size_t *fd_max)
{
    *extras = r->extras;
    *fd_max = r->fd_max;
}

size_t kmem_cg_reader_fds(const struct kmem_cg_reader *r)
{
    return r->fd_open;
}

/*
 * May one more fd be kept? The first time, the soft RLIMIT_NOFILE is raised
 * to the hard one and the cap set to what that leaves beyond a reserve of
 * 1024 for the rest of the process (at most 65536).
 */
bool cg_may_keep(struct kmem_cg_reader *r)
{
    if (r->fd_max == KMEM_CG_FDS_AUTO) {
        struct rlimit rl;
        size_t cap = 0;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
            if (rl.rlim_cur < rl.rlim_max) {
                rlim_t old = rl.rlim_cur;

                rl.rlim_cur = rl.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &rl))
                    rl.rlim_cur = old;
            }
            if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 65536 + 1024)
                cap = 65536;
            else if (rl.rlim_cur > 2048)
                cap = (size_t)rl.rlim_cur - 1024;
            else
                cap = (size_t)rl.rlim_cur / 2;
        }
        r->fd_max = cap;
    }
    return r->fd_open < r->fd_max;
}

/* ---- diff --------------------------------------------------------------- */

static int build_index(struct cg_store *st, size_t n)
{
    st->indexed_n = (size_t)-1;
    if (kmem_hindex_reset(&st->index, n))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        kmem_hindex_add(&st->index, kmem_hash_str(st->v[i].path), i);
    st->indexed_n = n;
    return 0;
}

/* By path: through the index, built on the first look-up of a snapshot (a
 * collection builds none: most snapshots are never searched, and the diff
 * of an unchanged tree goes in order). */
static const struct kmem_cgroup *find_path(const struct kmem_cgroups *cgs, const char *path)
{
    struct cg_store *st = cgs->priv;
    size_t it;

    if (!st || !path)
        return NULL;
    if (st->done_n != cgs->n || st->v != cgs->v ||
        (st->indexed_n != cgs->n && build_index(st, cgs->n))) {
        for (size_t i = 0; i < cgs->n; i++)
            if (strcmp(cgs->v[i].path, path) == 0)
                return &cgs->v[i];
        return NULL;
    }
    for (long i = kmem_hindex_first(&st->index, kmem_hash_str(path), &it); i >= 0;
         i = kmem_hindex_next(&st->index, &it))
        if (strcmp(cgs->v[i].path, path) == 0)
            return &cgs->v[i];
    return NULL;
}

const struct kmem_cgroup *kmem_cgroups_find(const struct kmem_cgroups *cgs, const char *path)
{
    return find_path(cgs, path);
}

static const char *last_path(const struct cg_store *st, size_t i)
{
    return (st->last_in_known ? st->known_arena->p : st->last_arena.p) + st->last_path[i];
}

/* The previous collection's entry of @path, or -1 (index built on first use). */
static long find_last(struct cg_store *st, const char *path)
{
    size_t it;

    if (st->last_indexed_n != st->last_n) {
        if (kmem_hindex_reset(&st->last_index, st->last_n)) {
            for (size_t i = 0; i < st->last_n; i++)
                if (strcmp(last_path(st, i), path) == 0)
                    return (long)i;
            return -1;
        }
        for (size_t i = 0; i < st->last_n; i++)
            kmem_hindex_add(&st->last_index, kmem_hash_str(last_path(st, i)), i);
        st->last_indexed_n = st->last_n;
    }
    for (long i = kmem_hindex_first(&st->last_index, kmem_hash_str(path), &it); i >= 0;
         i = kmem_hindex_next(&st->last_index, &it))
        if (strcmp(last_path(st, (size_t)i), path) == 0)
            return i;
    return -1;
}

void kmem_cgroups_diff(struct kmem_cgroups *cur, const struct kmem_cgroups *prev)
{
    struct cg_store *st = cur->priv;
    /* The previous snapshot read cgroups (its n), and that collection is the
     * store's last one. */
    bool usable = st && prev && prev->n && prev->priv == st && st->last_n == prev->n;
    /* Both read from one known tree: the same paths in the same order. */
    bool same = usable && st->gen && st->gen == st->last_gen && cur->n == st->last_n;

    for (size_t i = 0; i < cur->n; i++) {
        struct kmem_cgroup *c = &cur->v[i];
        long p;

        c->has_prev = false;
        c->delta_kernel = 0;
        if (!usable)
            continue;
        /* Walks of an unchanged tree list cgroups in the same order. */
        if (same || (i < st->last_n && strcmp(last_path(st, i), c->path) == 0))
            p = (long)i;
        else
            p = find_last(st, c->path);
        if (p < 0)
            continue;
        c->has_prev = true;
        c->delta_kernel = (int64_t)(c->kernel - st->last_kernel[p]);
    }
    /* Read once: idle until the next walk's diff (docs/cgroups.md, "Memory"). */
    if (st && !st->last_in_known)
        kmem_drop_pages(st->last_arena.p, st->last_arena.cap);
    if (st && st->last_indexed_n != (size_t)-1) {
        kmem_drop_pages(st->last_index.slot, st->last_index.cap * sizeof(*st->last_index.slot));
        st->last_indexed_n = (size_t)-1;
    }
}

/* ---- layout ------------------------------------------------------------- */

static bool lists_memory(const struct kmem_buf *b)
{
    const char *p = b->data, *end = b->data + b->len, *tok;
    size_t len;

    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n'))
            p++;
        if (p >= end || !kmem_next_token(&p, end, &tok, &len))
            return false;
        if (kmem_tok_eq(tok, len, "memory"))
            return true;
    }
}

static bool is_dir_at(int fd, const char *rel)
{
    struct stat st;

    return fstatat(fd, rel, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

/* From the tree under the root, never the mount table. Sets *mount. */
/*
 * From the tree under the sysfs directory, never the mount table. Sets
 * *mount to the hierarchy's path inside sysfs ("fs/cgroup/memory").
 */
static enum kmem_cg_layout detect_layout(struct kmem_io *io, struct kmem_cg_reader *r,
                                         const char **mount)
{
    int sys = kmem_io_dir(io, KMEM_DIR_SYS);
    bool unified;

    *mount = NULL;
    if (sys < 0)
        return KMEM_CG_NONE;
    if (kmem_read_at(io, sys, "fs/cgroup/cgroup.controllers", &r->buf) == 0 &&
        lists_memory(&r->buf)) {
        *mount = "fs/cgroup";
        return KMEM_CG_V2;
    }
    /* Reading it (rather than a stat) also captures it, so a capture of a
     * hybrid machine still shows the unified tree. */
    unified = kmem_read_at(io, sys, "fs/cgroup/unified/cgroup.controllers", &r->buf) == 0;
    if (unified && lists_memory(&r->buf)) {
        *mount = "fs/cgroup/unified";
        return KMEM_CG_V2;
    }
    if (!is_dir_at(sys, "fs/cgroup/memory"))
        return KMEM_CG_NONE;
    *mount = "fs/cgroup/memory";
    if (unified || is_dir_at(sys, "fs/cgroup/unified"))
        return KMEM_CG_HYBRID;
    return KMEM_CG_V1;
}

/*
 * v2: the root has no memory.current: its usage is the sum of its children's.
 * Where the kernel has no root memory.stat (before the kernels kmem is tested
 * on), kernel, its parts and sock are the sums too: a lower bound, since
 * removed cgroups hand their charges up to the root (docs/cgroups.md).
 */
static void root_from_children(struct kmem_cgroups *cgs)
{
    struct kmem_cgroup *root = &cgs->v[0];
    bool sum_kernel = root->kernel_lower_bound;

    root->usage = 0;
    for (size_t i = 1; i < cgs->n; i++) {
        const struct kmem_cgroup *c = &cgs->v[i];

        if (c->depth != 1)
            continue;
        root->usage = kmem_add_sat(root->usage, c->usage);
        if (!sum_kernel)
            continue;
        root->kernel = kmem_add_sat(root->kernel, c->kernel);
        root->kernel_approx |= c->kernel_approx;
        root->comp_present |= c->comp_present;
        root->comp_excess = kmem_add_sat(root->comp_excess, c->comp_excess);
        for (int k = 0; k < KMEM_CG_KIND_COUNT; k++)
            root->comp[k] = kmem_add_sat(root->comp[k], c->comp[k]);
        root->has_sock |= c->has_sock;
        root->sock = kmem_add_sat(root->sock, c->sock);
        root->lru = kmem_add_sat(root->lru, c->lru);
    }
}

/* v1: removed memory cgroups are counted in /proc/cgroups but have no directory. */
static void v1_dying(struct kmem_io *io, struct kmem_cg_reader *r, struct kmem_cgroups *cgs)
{
    uint64_t num, walked = cgs->n + cgs->n_errors + cgs->n_unnamed;

    if (kmem_read_at(io, kmem_io_dir(io, KMEM_DIR_PROC), "cgroups", &r->buf) ||
        kmem_cg_proc_cgroups_parse(r->buf.data, r->buf.len, &num))
        return; /* unknown, not an error */
    cgs->dying = num > walked ? num - walked : 0;
    cgs->dying_source = KMEM_CG_DYING_PROC_CGROUPS;
}

/* The strings of one entry, from its offsets into arena @a. */
static void set_pointers(struct kmem_cgroup *c, const char *a, const uint32_t *s)
{
    c->path = a + s[S_PATH];
    c->pod_uid = a + s[S_UID];
    c->qos = a + s[S_QOS];
    c->container_id = a + s[S_CID];
    c->runtime = a + s[S_RUNTIME];
    c->namespace_name = a + s[S_NS];
    c->pod_name = a + s[S_POD];
    c->container_name = a + s[S_CONTAINER];
}

/* The strings of known entry @i (in K->arena). */
static void set_known_pointers(struct kmem_cgroup *c, const struct cg_known *K, size_t i)
{
    set_pointers(c, K->arena.p, K->ids[K->offs[i].id].s);
    c->path = K->arena.p + K->offs[i].path;
}

static void fix_pointers(struct cg_store *st, size_t n, const char *base)
{
    for (size_t i = 0; i < n; i++)
        set_pointers(&st->v[i], base, st->offs[i].s);
}

/* ---- the known tree ------------------------------------------------------ */

/* Is entry @i's identity incomplete (its pod or container names not found yet)? */
bool cg_unresolved(const struct cg_known *K, size_t i)
{
    const uint32_t *o = K->ids[K->offs[i].id].s;

    return (o[S_UID] && !o[S_POD]) || (o[S_CID] && !o[S_CONTAINER]);
}

/*
 * Re-read the cgroups of the known tree into w->cgs (the root, entry 0, is
 * read by the caller) without listing any directory. -ESTALE when the tree
 * may have changed (the caller walks it), -ENOMEM, else 0.
 */
static int reuse_tree(struct walk *w, int hfd)
{
    struct kmem_cg_reader *r = w->r;
    struct cg_known *K = &r->known;
    struct cg_store *st = w->st;
    bool names_checked = false;
    int err;

    /* v1 without inotify: a cgroup made or removed at the top level changes
     * only the root's link count (the other entries' are compared below). */
    bool links = !w->v2 && r->watch != CG_WATCH_INOTIFY;
    if (links && (w->root_nlink == 0 || w->root_nlink != K->root_nlink))
        return -ESTALE;
    KMEM_GROW(err, st->v, &st->cap, K->n);
    if (err)
        return err;
    /* A capture holds the pod logs the walk would have read for the names
     * (and names that changed at all are looked up again by a walk). */
    if (r->names_used && kmem_capturing(w->io)) {
        if (cg_names_changed(w))
            return -ESTALE;
        err = cg_load_names(w);
        if (err)
            return err == -ENOMEM ? err : -ESTALE;
        names_checked = true;
    }
    /* The entries' strings are the known tree's own (not copied). */
    set_known_pointers(&st->v[0], K, 0);
    size_t o = 1; /* entries out: fewer than K->n when some were removed meanwhile */
    for (size_t i = 1; i < K->n; i++) {
        struct cg_fds *k = &K->fds[i];
        const char *path = K->arena.p + K->offs[i].path;
        struct kmem_cgroup *cg = &st->v[o];
        const char *prefix = NULL;
        int fd = hfd;

        if (k->dir >= 0)
            fd = k->dir;
        else
            prefix = path + 1; /* "/a/b" -> "a/b", below the hierarchy's root */
        if (links) {
            struct stat sb;

            if (k->dir >= 0 ? fstat(k->dir, &sb) : fstatat(hfd, path + 1, &sb, AT_SYMLINK_NOFOLLOW))
                return -ESTALE;
            if (sb.st_nlink != k->nlink)
                return -ESTALE;
        }
        if (cg_unresolved(K, i) && !names_checked) {
            /* Names may have appeared since (a pod's log directory made
             * after its cgroup): the walk looks them up again. */
            if (cg_names_changed(w))
                return -ESTALE;
            names_checked = true;
        }
        memset(cg, 0, sizeof(*cg));
        cg->depth = K->meta[i].depth;
        w->cgpath = path;
        err = cg_read_counters(w, fd, prefix, k, cg);
        w->cgpath = NULL;
        if (!links && !kmem_capturing(w->io) && cg_vanished(err)) {
            /* inotify: removed since the queue was drained (the kernel
             * notifies the parent after the files stop reading). Left out
             * with what the known tree has below it, as a walk would; the
             * parent is listed again at the next collection. */
            int d = K->meta[i].depth;

            cg_watch_mark_parent(r, i);
            w->cgs->n_vanished++;
            while (i + 1 < K->n && K->meta[i + 1].depth > d) {
                i++;
                w->cgs->n_vanished++;
            }
            w->left_out = true;
            continue;
        }
        if (err)
            return err == -ENOMEM ? err : -ESTALE;
        cg->container_attempt = K->meta[i].container_attempt;
        cg->kube_conmon = K->meta[i].kube_conmon;
        cg->ino = cg_fds_ino(k);
        set_known_pointers(cg, K, i); /* while the entry is in cache */
        o++;
    }
    w->pointers_set = true;
    st->str_known = true;
    w->cgs->n = o;
    /* Nothing was listed: only the cgroups left out vanished (a capture
     * walks instead, so it has no cgroup to mark). */
    w->cgs->n_errors = K->n_errors;
    w->cgs->n_unnamed = K->n_unnamed;
    w->cgs->possible_cpus = K->possible_cpus;
    return 0;
}

/* After a walk (@full) or a merge: the walked tree becomes the known one;
 * fds of cgroups that are gone are closed. */
static int known_save(struct walk *w, uint64_t descendants, bool full)
{
    struct kmem_cg_reader *r = w->r;
    struct cg_known *K = &r->known;
    struct cg_store *st = w->st;
    size_t n = w->cgs->n;
    int err;

    for (size_t i = 0; i < K->n; i++)
        cg_fds_close(r, &K->fds[i]); /* those not handed over to the walk */
    K->n = 0;
    K->valid = false;
    KMEM_GROW(err, K->offs, &K->cap, n);
    if (!err)
        KMEM_GROW(err, K->meta, &K->mcap, n);
    if (!err)
        KMEM_GROW(err, K->ids, &K->icap, 1);
    if (!err)
        memset(&K->ids[0], 0, sizeof(K->ids[0]));
    if (!err && st->last_in_known) {
        /* The previous collection's paths are in the known arena: keep that
         * one for the diff, and copy into the other. */
        struct kmem_arena t = st->last_arena;

        st->last_arena = K->arena;
        K->arena = t;
        st->last_in_known = false;
    }
    if (!err)
        err = kmem_arena_copy(&K->arena, &st->arena);
    if (!err)
        err = kmem_hindex_reset(&K->index, n);
    if (err) {
        for (size_t i = 1; i < n; i++)
            cg_fds_close(r, &r->wfds[i]);
        return err;
    }
    size_t nid = 1;

    for (size_t i = 0; i < n; i++) {
        const struct cg_offs *o = &st->offs[i];
        bool id = false;

        for (int k = S_UID; k < S_COUNT; k++)
            id |= o->s[k] != 0;
        K->offs[i].path = o->s[S_PATH];
        K->offs[i].id = 0;
        if (!id)
            continue;
        KMEM_GROW(err, K->ids, &K->icap, nid + 1);
        if (err) {
            for (size_t j = 1; j < n; j++)
                cg_fds_close(r, &r->wfds[j]);
            return err;
        }
        K->ids[nid] = *o;
        K->offs[i].id = (uint32_t)nid++;
    }
    /* The entries' strings now; the walk's offsets are scratch until the
     * next walk or merge (their pages dropped, docs/cgroups.md "Memory"). */
    fix_pointers(st, n, K->arena.p); /* the copy: same offsets */
    w->pointers_set = true;
    st->str_known = true;
    kmem_drop_pages(st->offs, st->ocap * sizeof(*st->offs));
    kmem_drop_pages(st->arena.p, st->arena.cap);
    /* The walk's fds become the known ones: swap the arrays (no copy; the
     * other is kept for the next walk, its pages dropped: freed and
     * allocated again, a busy heap grows). */
    struct cg_fds *tf = K->fds;
    size_t tc = K->fcap;
    K->fds = r->wfds;
    K->fcap = r->wcap;
    r->wfds = tf;
    r->wcap = tc;
    kmem_drop_pages(r->wfds, r->wcap * sizeof(*r->wfds));
    cg_fds_init(&K->fds[0]);
    for (size_t i = 0; i < n; i++) {
        K->meta[i].depth = st->v[i].depth;
        K->meta[i].container_attempt = st->v[i].container_attempt;
        K->meta[i].kube_conmon = st->v[i].kube_conmon;
        kmem_hindex_add(&K->index, kmem_hash_str(K->arena.p + K->offs[i].path), i);
    }
    K->n = n;
    K->gen++;
    K->v2 = w->v2;
    r->names_used = r->names_loaded;
    K->descendants = descendants;
    K->root_nlink = w->root_nlink;
    K->n_vanished = w->cgs->n_vanished;
    K->n_errors = w->cgs->n_errors;
    K->n_unnamed = w->cgs->n_unnamed;
    K->possible_cpus = w->cgs->possible_cpus;
    if (full)
        clock_gettime(CLOCK_MONOTONIC, &K->walked_at);
    /* v2 needs the root's count of descendants to tell a changed tree. */
    K->valid = !w->v2 || descendants != UINT64_MAX;
    cg_watch_index(r);
    return 0;
}

/* May this collection re-read the known tree instead of walking it? */
static bool may_reuse(const struct walk *w)
{
    const struct cg_known *K = &w->r->known;
    struct timespec now;

    /* A capture into a directory is whole by itself: it walks. A capture
     * into memory (the recorder) reads the known tree as any collection. */
    if (!K->valid || K->v2 != w->v2 || !w->live || kmem_capturing_dir(w->io))
        return false;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec - K->walked_at.tv_sec < CG_REWALK_SECONDS;
}

/*
 * The 6.18 regression (upstream f0c92726e89f "ptdesc: remove references to
 * folios from __pagetable_ctor()"; reverted for stable in March 2026): memcg
 * pagetables reads 0 while the page tables stay charged inside kernel. The
 * evidence per cgroup (pagetables 0 with anonymous pages) counts on 6.18 and
 * 6.19, and on a kernel of unknown release; elsewhere it is cleared.
 */
static void pagetables_check(struct kmem_cgroups *cgs)
{
    unsigned rel = cgs->kernel_release;
    bool affected = rel == 0 || (rel >= 6018 && rel < 7000);

    for (size_t i = 0; i < cgs->n; i++) {
        if (!affected)
            cgs->v[i].pagetables_unreported = false;
        cgs->pagetables_unreported |= cgs->v[i].pagetables_unreported;
    }
}

int kmem_read_cgroups(struct kmem_io *io, struct kmem_cg_reader *r, struct kmem_cgroups *cgs)
{
    struct walk w = {.io = io, .cgs = cgs};
    struct kmem_cgroup *root;
    struct cg_store *st;
    char shown[512];
    int hfd, err;

    cgs->n = 0;
    cgs->n_vanished = 0;
    cgs->n_errors = 0;
    cgs->n_unnamed = 0;
    cgs->layout = KMEM_CG_NONE;
    cgs->mount = NULL;
    cgs->kernel_exact = false;
    cgs->dying = 0;
    cgs->dying_source = KMEM_CG_DYING_NONE;
    cgs->possible_cpus = 0;
    cgs->kernel_release = 0;
    cgs->pagetables_unreported = false;
    if (!r->store) {
        r->store = calloc(1, sizeof(struct cg_store));
        if (!r->store)
            return kmem_err(io, ENOMEM, "out of memory");
        r->store->done_n = (size_t)-1;
        r->store->known_arena = &r->known.arena;
    }
    st = r->store;
    cgs->priv = st;
    cgs->v = NULL;
    if (store_keep_last(st))
        return kmem_err(io, ENOMEM, "out of memory");
    st->indexed_n = st->done_n = (size_t)-1;
    st->gen = 0;
    r->names_loaded = false;
    w.r = r;
    w.st = st;

    if (!r->layout_known || kmem_capturing(io)) {
        r->layout = detect_layout(io, r, &r->mount);
        r->layout_known = r->layout != KMEM_CG_NONE;
    }
    cgs->layout = r->layout;
    w.mount = r->mount;
    if (cgs->layout == KMEM_CG_NONE)
        return kmem_err(io, ENOENT, "no memory cgroup hierarchy under %s",
                        kmem_display_path(io, KMEM_DIR_SYS, "fs/cgroup", shown, sizeof(shown)));
    cgs->mount = cgs->layout == KMEM_CG_V2 && strcmp(w.mount, "fs/cgroup") == 0 ? "sys/fs/cgroup"
                 : cgs->layout == KMEM_CG_V2 ? "sys/fs/cgroup/unified"
                                             : "sys/fs/cgroup/memory";
    w.v2 = cgs->layout == KMEM_CG_V2;

    hfd = kmem_open_dir(kmem_io_dir(io, KMEM_DIR_SYS), w.mount);
    if (hfd < 0) {
        r->layout_known = false;
        known_drop(r);
        return cg_root_error(&w, hfd, NULL);
    }
    if (!kmem_capturing(io) || !kmem_capture_rel_of(io, hfd, r->capbase, sizeof(r->capbase)))
        r->capbase[0] = '\0';
    struct statfs sfs;
    w.live = fstatfs(hfd, &sfs) == 0 &&
             (sfs.f_type == CGROUP2_SUPER_MAGIC || sfs.f_type == CGROUP_SUPER_MAGIC);
    struct stat rsb;
    /* Before anything is listed: a child made during the walk changes it again. */
    bool rsb_ok = fstat(hfd, &rsb) == 0;
    w.root_nlink = rsb_ok ? rsb.st_nlink : 0;
    if (!w.live)
        known_drop(r); /* a tree that changed from a live one to a copy: no fd kept */
    bool reuse = may_reuse(&w);
    /* inotify: which known directories changed since (before anything is read) */
    int changed = w.live ? cg_watch_drain(r) : 0;
    if (changed < 0 || (changed > 0 && (r->known.n_errors || r->known.n_unnamed)))
        reuse = false; /* events lost, or counts a merge cannot redo: walk */
again:
    /* The root ("/"), then every cgroup below it: the known tree again (with
     * the changed directories listed again), or a walk, depth first. */
    cgs->n = cgs->n_vanished = cgs->n_errors = cgs->n_unnamed = 0;
    err = kmem_arena_reset(&st->arena);
    if (err) {
        close(hfd);
        return kmem_err(io, err, "out of memory");
    }
    snprintf(r->path, sizeof(r->path), "/");
    err = cg_add_cgroup(&w, 0, &root);
    if (err) {
        close(hfd);
        return kmem_err(io, err, "out of memory");
    }
    w.descendants = UINT64_MAX;
    err = cg_read_counters(&w, hfd, NULL, NULL, root);
    if (err) {
        close(hfd);
        return cg_root_error(&w, err, w.bad_file);
    }
    cgs->n = 1;
    if (w.live && rsb_ok)
        root->ino = rsb.st_ino;
    /* v2 without inotify events: a changed count of descendants is a changed tree. */
    if (reuse && w.v2 && w.descendants != r->known.descendants && changed <= 0)
        reuse = false;
    if (reuse && changed > 0) {
        uint64_t descendants = w.descendants;

        err = cg_merge_tree(&w, hfd);
        if (!err) {
            cgs->possible_cpus = kmem_possible_cpus(io);
            err = known_save(&w, descendants, false);
        } else {
            for (size_t i = 1; i < cgs->n; i++)
                cg_fds_close(r, &r->wfds[i]);
        }
        if (err == -ESTALE) {
            reuse = false;
            goto again;
        }
        close(hfd);
        if (err) {
            known_drop(r);
            cgs->n = 0;
            return kmem_err(io, err, "reading memory cgroups: %s", strerror(-err));
        }
    } else if (reuse) {
        err = reuse_tree(&w, hfd);
        if (err == -ESTALE) {
            reuse = false;
            goto again;
        }
        close(hfd);
        if (err) {
            cgs->n = 0;
            return kmem_err(io, err, "reading memory cgroups: %s", strerror(-err));
        }
    } else {
        uint64_t descendants = w.descendants;

        err = cg_walk_tree(&w, hfd); /* closes hfd */
        if (!err) {
            cgs->possible_cpus = kmem_possible_cpus(io);
            err = w.live ? known_save(&w, descendants, true) : 0;
            if (err)
                err = kmem_err(io, err, "out of memory");
        } else {
            for (size_t i = 1; i < cgs->n; i++)
                cg_fds_close(r, &r->wfds[i]);
        }
        if (err) {
            known_drop(r);
            cgs->n = 0;
            return err;
        }
    }
    cgs->v = st->v;
    if (w.v2)
        root_from_children(cgs);
    else
        v1_dying(io, r, cgs);
    cgs->kernel_exact = !cgs->v[0].kernel_lower_bound;
    for (size_t i = 0; i < cgs->n; i++)
        cgs->kernel_exact &= !cgs->v[i].kernel_approx;
    cgs->kernel_release = kmem_root_release_number(io);
    if (w.v2)
        pagetables_check(cgs);
    if (!w.pointers_set)
        fix_pointers(st, cgs->n, st->arena.p);
    st->done_n = cgs->n;
    st->gen = w.live && r->known.valid && !w.left_out ? r->known.gen : 0;
    return 0;
}
