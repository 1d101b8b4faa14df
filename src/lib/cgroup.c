/* SPDX-License-Identifier: MIT */
/*
 * Memory cgroups: layout detection from the tree under the root, a walk of
 * every memory cgroup with directory fds, the kernel memory charged to each,
 * Kubernetes identity, and the change since the previous snapshot.
 *
 * Storage: each snapshot's kmem_cgroups.priv holds its cgroup array and a
 * string arena, grown geometrically and reused by every later collection into
 * that snapshot, so a steady state allocates nothing. While walking, strings
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
#include "hindex.h"
#include "kube.h"
#include "kv.h"
#include "parse.h"
#include "sat.h"

const char *const kmem_cg_layout_name[] = {
    [KMEM_CG_NONE] = "none",
    [KMEM_CG_V1] = "v1",
    [KMEM_CG_V2] = "v2",
    [KMEM_CG_HYBRID] = "hybrid",
};
static_assert(sizeof(kmem_cg_layout_name) / sizeof(kmem_cg_layout_name[0]) == KMEM_CG_HYBRID + 1,
              "kmem_cg_layout_name table");

const char *const kmem_cg_kind_name[KMEM_CG_KIND_COUNT] = {
    [KMEM_CG_SLAB_RECLAIMABLE] = "slab_reclaimable",
    [KMEM_CG_SLAB_UNRECLAIMABLE] = "slab_unreclaimable",
    [KMEM_CG_KERNEL_STACK] = "kernel_stack",
    [KMEM_CG_PAGETABLES] = "pagetables",
    [KMEM_CG_SEC_PAGETABLES] = "sec_pagetables",
    [KMEM_CG_PERCPU] = "percpu",
    [KMEM_CG_VMALLOC] = "vmalloc",
    [KMEM_CG_ZSWAP] = "zswap",
    [KMEM_CG_OTHER] = "other",
};
static_assert(sizeof(kmem_cg_kind_name) / sizeof(kmem_cg_kind_name[0]) == KMEM_CG_KIND_COUNT,
              "kmem_cg_kind_name table");

const char *const kmem_cg_dying_source_name[] = {
    [KMEM_CG_DYING_NONE] = "none",
    [KMEM_CG_DYING_SUBSYS_MEMORY] = "nr_dying_subsys_memory",
    [KMEM_CG_DYING_DESCENDANTS] = "nr_dying_descendants",
    [KMEM_CG_DYING_PROC_CGROUPS] = "proc_cgroups",
};
static_assert(sizeof(kmem_cg_dying_source_name) / sizeof(kmem_cg_dying_source_name[0]) ==
                  KMEM_CG_DYING_PROC_CGROUPS + 1,
              "kmem_cg_dying_source_name table");

/* ---- v2 memory.stat ----------------------------------------------------- */

/* Slots past the kinds: lines that are not parts of kernel memory. */
enum {
    X_KERNEL = KMEM_CG_KIND_COUNT,
    X_SOCK,
    X_INACTIVE_ANON,
    X_ACTIVE_ANON,
    X_INACTIVE_FILE,
    X_ACTIVE_FILE,
    X_UNEVICTABLE,
    X_COUNT
};

/* memory.stat keys we use, bound to their slot; every other key is skipped. */
static const struct {
    const char *key;
    size_t len; /* strlen(key): compared first, so most lines cost a few compares */
    unsigned slot;
} memstat_keys[] = {
#define K(s, slot)                                                                                 \
    {                                                                                              \
        s, sizeof(s) - 1, slot                                                                     \
    }
    K("kernel", X_KERNEL),
    K("kernel_stack", KMEM_CG_KERNEL_STACK),
    K("pagetables", KMEM_CG_PAGETABLES),
    K("sec_pagetables", KMEM_CG_SEC_PAGETABLES),
    K("percpu", KMEM_CG_PERCPU),
    K("sock", X_SOCK),
    K("vmalloc", KMEM_CG_VMALLOC),
    K("zswap", KMEM_CG_ZSWAP),
    K("inactive_anon", X_INACTIVE_ANON),
    K("active_anon", X_ACTIVE_ANON),
    K("inactive_file", X_INACTIVE_FILE),
    K("active_file", X_ACTIVE_FILE),
    K("unevictable", X_UNEVICTABLE),
    K("slab_reclaimable", KMEM_CG_SLAB_RECLAIMABLE),
    K("slab_unreclaimable", KMEM_CG_SLAB_UNRECLAIMABLE),
#undef K
};
#define MEMSTAT_NKEYS (sizeof(memstat_keys) / sizeof(memstat_keys[0]))

/*
 * The parts reported exceed "kernel" by @excess: take it off the largest
 * parts first, so that the parts add up to kernel (docs/cgroups.md).
 */
static void trim_parts(struct kmem_cgroup *cg, uint64_t excess)
{
    while (excess > 0) {
        int big = -1;

        for (int k = 0; k < KMEM_CG_OTHER; k++)
            if (cg->comp[k] > 0 && (big < 0 || cg->comp[k] > cg->comp[big]))
                big = k;
        if (big < 0)
            break;
        if (cg->comp[big] >= excess) {
            cg->comp[big] -= excess;
            break;
        }
        excess -= cg->comp[big];
        cg->comp[big] = 0;
    }
}

int kmem_cg_memstat_parse(const char *buf, size_t len, struct kmem_cgroup *cg,
                          struct kmem_parse_error *err)
{
    const char *p = buf, *end = buf + len;
    uint64_t x[X_COUNT] = {0}, parts = 0;
    uint32_t seen = 0;
    unsigned ln = 0;

    static_assert(X_COUNT <= 32, "memory.stat slots fit the seen mask");
    uint32_t all = 0;
    for (size_t k = 0; k < MEMSTAT_NKEYS; k++)
        all |= 1u << memstat_keys[k].slot;
    cg->kernel = 0;
    cg->kernel_approx = false;
    cg->comp_present = 0;
    cg->comp_excess = 0;
    cg->has_sock = false;
    cg->sock = 0;
    cg->lru = 0;
    for (int k = 0; k < KMEM_CG_KIND_COUNT; k++)
        cg->comp[k] = 0;
    kmem_parse_ok(err);
    while (p < end) {
        const char *tok, *q;
        size_t tlen;
        uint64_t v;
        size_t k;

        ln++;
        q = p;
        if (!kmem_next_token(&q, end, &tok, &tlen))
            goto next; /* blank line */
        for (k = 0; k < MEMSTAT_NKEYS; k++)
            if (memstat_keys[k].len == tlen && memcmp(tok, memstat_keys[k].key, tlen) == 0)
                break;
        if (k == MEMSTAT_NKEYS)
            goto next; /* a key we do not use: every kernel adds some */
        if (kmem_parse_u64(&q, end, &v) != 0)
            goto out_bad;
        q = kmem_skip_blanks(q, end);
        if (q < end && *q != '\n' && *q != '\0')
            goto out_bad;
        x[memstat_keys[k].slot] = v;
        seen |= 1u << memstat_keys[k].slot;
        /* Every key used here seen (6.2+ with zswap): the rest is counters. */
        if (seen == all)
            break;
    next:
        if (!kmem_next_line(&p, end))
            break;
    }
    for (int k = 0; k < KMEM_CG_OTHER; k++) {
        if (!(seen & (1u << k)))
            continue;
        cg->comp[k] = x[k];
        cg->comp_present |= 1u << k;
        parts = kmem_add_sat(parts, x[k]);
    }
    if (seen & (1u << X_KERNEL)) {
        cg->kernel = x[X_KERNEL];
        if (parts > cg->kernel) {
            cg->comp_excess = parts - cg->kernel;
            trim_parts(cg, cg->comp_excess);
        } else {
            cg->comp[KMEM_CG_OTHER] = cg->kernel - parts;
        }
        cg->comp_present |= 1u << KMEM_CG_OTHER;
    } else {
        /* Before Linux 5.18: no "kernel" line; the parts are a lower bound. */
        cg->kernel = parts;
        cg->kernel_approx = true;
    }
    if (seen & (1u << X_SOCK)) {
        cg->has_sock = true;
        cg->sock = x[X_SOCK];
    }
    for (int k = X_INACTIVE_ANON; k <= X_UNEVICTABLE; k++)
        cg->lru = kmem_add_sat(cg->lru, x[k]);
    return 0;

out_bad:
    return kmem_parse_fail(err, ln, "expected \"key value\"");
}

/* ---- cgroup.stat, /proc/cgroups, the CPU list --------------------------- */

int kmem_cg_cgstat_parse(const char *buf, size_t len, uint64_t *dying,
                         enum kmem_cg_dying_source *source, struct kmem_parse_error *err)
{
    static const char *const names[] = {"nr_dying_descendants", "nr_dying_subsys_memory"};
    static const struct kmem_kv_table t = {names, 2, false, false};
    uint64_t v[2] = {0}, present = 0;
    int r = kmem_kv_parse(&t, buf, len, v, &present, err);

    *dying = 0;
    *source = KMEM_CG_DYING_NONE;
    if (r)
        return r;
    if (present & 2) {
        *dying = v[1];
        *source = KMEM_CG_DYING_SUBSYS_MEMORY;
    } else if (present & 1) {
        *dying = v[0];
        *source = KMEM_CG_DYING_DESCENDANTS;
    }
    return 0;
}

int kmem_cg_proc_cgroups_parse(const char *buf, size_t len, uint64_t *num)
{
    const char *p = buf, *end = buf + len;

    *num = 0;
    while (p < end) {
        const char *tok, *q = p;
        size_t tlen;
        uint64_t hier, n;

        /* "#subsys_name hierarchy num_cgroups enabled" */
        if (kmem_next_token(&q, end, &tok, &tlen) && kmem_tok_eq(tok, tlen, "memory")) {
            if (kmem_parse_u64(&q, end, &hier) || kmem_parse_u64(&q, end, &n))
                return -EINVAL;
            *num = n;
            return 0;
        }
        if (!kmem_next_line(&p, end))
            break;
    }
    return -ENOENT;
}

unsigned kmem_cg_cpulist_count(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    uint64_t count = 0;

    while (end > p && (end[-1] == '\n' || end[-1] == '\0' || kmem_is_blank(end[-1])))
        end--;
    for (;;) {
        /* One range, "N" or "N-M", up to the next ',': each number with the
         * parse cursor bounded to its own characters. */
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        const char *dash = memchr(p, '-', (size_t)(stop - p));
        uint64_t lo, hi;

        if (kmem_parse_u64(&p, dash ? dash : stop, &lo) || p != (dash ? dash : stop))
            return 0;
        hi = lo;
        if (dash) {
            p = dash + 1;
            if (kmem_parse_u64(&p, stop, &hi) || p != stop || hi < lo)
                return 0;
        }
        if (hi - lo >= (1u << 24))
            return 0;
        count += hi - lo + 1;
        if (count > (1u << 24))
            return 0;
        if (!comma)
            break;
        p = comma + 1;
    }
    return (unsigned)count;
}

/* ---- storage ------------------------------------------------------------ */

enum { S_PATH, S_UID, S_QOS, S_CID, S_RUNTIME, S_NS, S_POD, S_CONTAINER, S_COUNT };

struct cg_offs {
    uint32_t s[S_COUNT]; /* arena offsets; 0 is "" */
};

/* kmem_arena_str() into a 32-bit offset (an arena of cgroup names stays far
 * below 4 GiB: paths are bounded, and so is the number of cgroups). */
static int arena_str(struct kmem_arena *a, const char *str, uint32_t *off)
{
    size_t o;
    int err = kmem_arena_str(a, str, &o);

    if (!err && o > UINT32_MAX)
        err = -ENOMEM;
    *off = err ? 0 : (uint32_t)o;
    return err;
}

/* Per snapshot, in kmem_cgroups.priv. */
struct cg_store {
    struct kmem_cgroup *v;
    struct cg_offs *offs;
    size_t cap, ocap;
    struct kmem_arena arena;
    struct kmem_hindex index; /* by path */
    size_t indexed_n;         /* n the index was built for */
};

/* Per context, owned by the snapshot module. */
struct cg_frame {
    DIR *dir;
    size_t pathlen;
};

/* The files of one cgroup that a collection may read. */
enum cg_file { CGF_MAIN, CGF_SOCK, CGF_USAGE, CGF_STAT, CGF_COUNT };

static const char *const cgf_name[2][CGF_COUNT] = {
    /* v1 */ {"memory.kmem.usage_in_bytes", "memory.kmem.tcp.usage_in_bytes",
              "memory.usage_in_bytes", NULL},
    /* v2 */ {"memory.stat", NULL, "memory.current", "cgroup.stat"},
};

/* What a cgroup of the last walk keeps open between collections. */
struct cg_fds {
    int dir;          /* v1: the cgroup's directory, for its link count; -1 */
    int f[CGF_COUNT]; /* files re-read with pread(2); -1 */
    nlink_t nlink;    /* v1: the directory's link count (2 + subdirectories) at the walk */
    ino_t ino;        /* the directory's inode: a cgroup removed and made again under its name
                       * is another inode, whose files the old fds do not read */
};

struct cg_meta {
    int depth;
    int container_attempt;
    bool kube_conmon;
};

/*
 * The tree of the last full walk (docs/cgroups.md, "Cost"): each cgroup's
 * path and identity (a copy of that snapshot's arena and offsets), and its
 * kept fds. A later collection re-reads these cgroups without listing a
 * directory while the tree is unchanged: v2, the root's cgroup.stat
 * nr_descendants is the same and no kept file reads as removed; v1, every
 * cgroup directory has the link count it had (a child created or removed
 * changes its parent's). Anything else walks the tree again.
 */
struct cg_known {
    bool valid;
    bool v2;
    size_t n, cap, mcap, fcap;
    struct cg_offs *offs;
    struct cg_meta *meta;
    struct cg_fds *fds; /* fds[0], the root, keeps none */
    struct kmem_arena arena;
    struct kmem_hindex index; /* path -> entry, to hand fds over at the next walk */
    uint64_t descendants;     /* v2: root cgroup.stat nr_descendants before the walk */
    size_t n_vanished, n_errors;
    unsigned possible_cpus;
    struct timespec walked_at; /* CLOCK_MONOTONIC */
};

/* A full walk at least this often (seconds): what the checks cannot see, a
 * v1 cgroup renamed or memory enabled on an existing v2 subtree. */
#define CG_REWALK_SECONDS 300

struct kmem_cg_reader {
    struct kmem_buf buf;
    char path[(KMEM_CG_MAX_DEPTH + 1) * 256 + 2];
    char fpath[(KMEM_CG_MAX_DEPTH + 1) * 256 + 64]; /* "<relative path>/<file>" */
    struct cg_frame stack[KMEM_CG_MAX_DEPTH + 1];
    struct kmem_kube_names *names;
    bool names_loaded;
    struct timespec names_mtime[2]; /* pods/, containers/ when the names were loaded */
    /* The layout does not change while a machine runs: detected once, and
     * again when its hierarchy cannot be opened or while capturing. */
    bool layout_known;
    enum kmem_cg_layout layout;
    const char *mount;
    unsigned extras; /* KMEM_CG_EXTRA_*: files read beyond the one kernel needs */
    size_t fd_max;   /* kept fds at most; KMEM_CG_FDS_AUTO until first needed */
    size_t fd_open;  /* kept fds now */
    struct cg_known known;
    struct cg_fds *wfds; /* fds of the walk in progress, by entry */
    size_t wcap;
};

void kmem_cgroups_release(struct kmem_cgroups *cgs)
{
    struct cg_store *st = cgs->priv;

    if (st) {
        free(st->v);
        free(st->offs);
        kmem_arena_free(&st->arena);
        kmem_hindex_free(&st->index);
        free(st);
    }
    memset(cgs, 0, sizeof(*cgs));
}

struct kmem_cg_reader *kmem_cg_reader_new(void)
{
    struct kmem_cg_reader *r = calloc(1, sizeof(struct kmem_cg_reader));

    if (r) {
        r->extras = KMEM_CG_EXTRA_ALL;
        r->fd_max = KMEM_CG_FDS_AUTO;
    }
    return r;
}

static void fds_init(struct cg_fds *k)
{
    k->dir = -1;
    for (int f = 0; f < CGF_COUNT; f++)
        k->f[f] = -1;
    k->nlink = 0;
    k->ino = 0;
}

static void fds_close(struct kmem_cg_reader *r, struct cg_fds *k)
{
    if (k->dir >= 0) {
        close(k->dir);
        r->fd_open--;
    }
    for (int f = 0; f < CGF_COUNT; f++)
        if (k->f[f] >= 0) {
            close(k->f[f]);
            r->fd_open--;
        }
    fds_init(k);
}

/* Forget the known tree: close its fds; the next collection walks. */
static void known_drop(struct kmem_cg_reader *r)
{
    for (size_t i = 0; i < r->known.n; i++)
        fds_close(r, &r->known.fds[i]);
    r->known.n = 0;
    r->known.valid = false;
}

void kmem_cg_reader_free(struct kmem_cg_reader *r)
{
    if (!r)
        return;
    known_drop(r);
    free(r->known.offs);
    free(r->known.meta);
    free(r->known.fds);
    kmem_arena_free(&r->known.arena);
    kmem_hindex_free(&r->known.index);
    free(r->wfds);
    free(r->buf.data);
    kmem_kube_names_free(r->names);
    free(r);
}

void kmem_cg_reader_set(struct kmem_cg_reader *r, unsigned extras, size_t fd_max)
{
    if (extras != r->extras || fd_max != r->fd_max)
        known_drop(r);
    r->extras = extras & KMEM_CG_EXTRA_ALL;
    r->fd_max = fd_max;
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
static bool may_keep(struct kmem_cg_reader *r)
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

static const struct kmem_cgroup *find_path(const struct kmem_cgroups *cgs, const char *path);

const struct kmem_cgroup *kmem_cgroups_find(const struct kmem_cgroups *cgs, const char *path)
{
    return find_path(cgs, path);
}

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

static const struct kmem_cgroup *find_path(const struct kmem_cgroups *cgs, const char *path)
{
    const struct cg_store *st = cgs->priv;
    size_t it;

    if (!st || st->indexed_n != cgs->n || !path) {
        for (size_t i = 0; st && path && i < cgs->n; i++)
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

void kmem_cgroups_diff(struct kmem_cgroups *cur, const struct kmem_cgroups *prev)
{
    const struct cg_store *pst = prev ? prev->priv : NULL;
    bool usable = pst && prev->n && pst->v == prev->v && pst->indexed_n == prev->n;

    for (size_t i = 0; i < cur->n; i++) {
        struct kmem_cgroup *c = &cur->v[i];
        const struct kmem_cgroup *p = NULL;

        c->has_prev = false;
        c->delta_kernel = 0;
        if (!usable)
            continue;
        /* Walks of an unchanged tree list cgroups in the same order. */
        if (i < prev->n && strcmp(prev->v[i].path, c->path) == 0)
            p = &prev->v[i];
        else
            p = find_path(prev, c->path);
        if (!p)
            continue;
        c->has_prev = true;
        c->delta_kernel = (int64_t)(c->kernel - p->kernel);
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

/* ---- reading one cgroup ------------------------------------------------- */

static bool vanished(int err)
{
    return err == -ENOENT || err == -ENODEV || err == -ESTALE;
}

struct walk {
    struct kmem_io *io;
    struct kmem_cg_reader *r;
    struct kmem_cgroups *cgs;
    struct cg_store *st;
    const char *mount;
    bool v2;
    /* Where a failure happened, for the root's message. */
    const char *bad_file;
    unsigned bad_line;
    uint64_t descendants; /* v2: the root's cgroup.stat nr_descendants; UINT64_MAX unknown */
    /* The hierarchy is a cgroup filesystem (not a copy on disk, such as a
     * fixture or a capture): only there is a kept fd of a removed cgroup
     * an error, and a changed tree seen in counts and link counts. */
    bool live;
};

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
    int err, ffd;

    w->bad_file = name;
    if (k && k->f[f] >= 0) {
        err = kmem_read_single_fd(w->io, k->f[f], &r->buf);
        if (err) {
            close(k->f[f]);
            k->f[f] = -1;
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
    err = kmem_read_single_fd(w->io, ffd, &r->buf);
    if (!err && k && w->live && may_keep(r)) {
        k->f[f] = ffd;
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
        static const struct kmem_kv_table t = {names, 1, false, false};
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
static int read_counters(struct walk *w, int fd, const char *prefix, struct cg_fds *k,
                         struct kmem_cgroup *cg)
{
    struct kmem_buf *b = &w->r->buf;
    int err;

    w->bad_file = NULL;
    w->bad_line = 0;
    cg->container_attempt = -1;
    if (w->v2)
        return read_v2(w, fd, prefix, k, cg);
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

/* Append an entry for the cgroup at r->path; its counters are read by the caller. */
static int add_cgroup(struct walk *w, int depth, struct kmem_cgroup **out)
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
    return arena_str(&st->arena, w->r->path, &o->s[S_PATH]);
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

/* Have pods/ or containers/ changed since the names were loaded? */
static bool names_changed(struct walk *w)
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
    err = arena_str(&w->st->arena, id.pod_uid, &o->s[S_UID]);
    if (!err)
        err = arena_str(&w->st->arena, id.qos, &o->s[S_QOS]);
    if (!err)
        err = arena_str(&w->st->arena, id.container_id, &o->s[S_CID]);
    if (!err)
        err = arena_str(&w->st->arena, id.runtime, &o->s[S_RUNTIME]);
    if (!err)
        err = arena_str(&w->st->arena, ns, &o->s[S_NS]);
    if (!err)
        err = arena_str(&w->st->arena, pod, &o->s[S_POD]);
    if (!err)
        err = arena_str(&w->st->arena, container, &o->s[S_CONTAINER]);
    return err;
}

static int root_error(struct walk *w, int err, const char *what)
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
 * The kept fds for entry @i of the walk in progress (r->path, open at @fd):
 * those of the same cgroup in the known tree (same path and inode), handed
 * over, or none yet.
 */
static int walk_fds(struct walk *w, size_t i, int fd, struct cg_fds **out)
{
    struct kmem_cg_reader *r = w->r;
    struct cg_known *K = &r->known;
    int err;

    KMEM_GROW(err, r->wfds, &r->wcap, i + 1);
    if (err)
        return err;
    *out = &r->wfds[i];
    fds_init(*out);
    if (!w->live)
        return 0;
    struct stat sb;
    if (fstat(fd, &sb) == 0) {
        (*out)->ino = sb.st_ino;
        (*out)->nlink = sb.st_nlink;
    }
    if (!K->n || K->index.size == 0)
        return 0;
    size_t it;
    for (long j = kmem_hindex_first(&K->index, kmem_hash_str(r->path), &it); j >= 0;
         j = kmem_hindex_next(&K->index, &it)) {
        if (strcmp(K->arena.p + K->offs[j].s[S_PATH], r->path) == 0) {
            if (K->fds[j].ino == (*out)->ino) {
                nlink_t nl = (*out)->nlink;

                **out = K->fds[j];
                (*out)->nlink = nl;
                fds_init(&K->fds[j]);
            } else {
                fds_close(r, &K->fds[j]); /* removed, and made again since */
            }
            break;
        }
    }
    return 0;
}

/* v1: keep the cgroup's directory (open at @fd) and its link count. */
static void keep_dir(struct kmem_cg_reader *r, struct cg_fds *k, int fd)
{
    if (k->dir < 0 && may_keep(r)) { /* only called on a live hierarchy */
        k->dir = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (k->dir >= 0)
            r->fd_open++;
    }
}

/* Open the child @name of @parent_fd and read it. 1 if added, 0 if skipped, -errno fatal. */
static int visit_child(struct walk *w, int parent_fd, const char *name, int depth, int *fdout)
{
    struct kmem_cgroup *cg;
    int fd, err;

    *fdout = -1;
    fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        err = -errno;
        if (err == -ENOTDIR)
            return 0; /* a file (d_type was unknown) */
        if (vanished(err))
            w->cgs->n_vanished++;
        else
            w->cgs->n_errors++;
        return 0;
    }
    if (depth > KMEM_CG_MAX_DEPTH) {
        w->cgs->n_errors++;
        close(fd);
        return 0;
    }
    struct cg_fds *k = NULL;
    err = add_cgroup(w, depth, &cg);
    if (!err)
        err = walk_fds(w, w->cgs->n, fd, &k);
    if (!err) {
        err = read_counters(w, fd, NULL, k, cg);
        if (err == -ENOMEM)
            goto out_close;
        if (err) {
            if (vanished(err))
                w->cgs->n_vanished++;
            else
                w->cgs->n_errors++;
            fds_close(w->r, k);
            close(fd);
            return 0;
        }
        err = add_identity(w, cg, &w->st->offs[w->cgs->n]);
    }
    if (!err)
        cg->ino = k->ino; /* walk_fds: only on a live hierarchy */
    if (!err && !w->v2 && w->live)
        keep_dir(w->r, k, fd);
    if (err)
        goto out_close;
    w->cgs->n++;
    *fdout = fd;
    return 1;

out_close:
    if (k)
        fds_close(w->r, k);
    close(fd);
    return err;
}

static bool skip_entry(const struct dirent *de)
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

static int walk_tree(struct walk *w, int hfd)
{
    struct kmem_cg_reader *r = w->r;
    int sp = 0, err = 0;

    err = push_dir(w, &sp, hfd, 1);
    if (err)
        return root_error(w, err, NULL);
    while (sp > 0) {
        struct cg_frame *f = &r->stack[sp - 1];
        struct dirent *de;
        size_t nlen, plen;
        int cfd, added;

        errno = 0;
        de = readdir(f->dir);
        if (!de) {
            if (errno && !vanished(-errno))
                w->cgs->n_errors++;
            closedir(f->dir);
            sp--;
            continue;
        }
        if (skip_entry(de))
            continue;
        nlen = strlen(de->d_name);
        plen = f->pathlen;
        /* r->path[0, plen) is the parent's path ("/" for the root); frames
         * below only ever write past their own prefix. */
        if (plen + 1 + nlen + 1 > sizeof(r->path)) {
            w->cgs->n_errors++;
            continue;
        }
        if (plen > 1)
            r->path[plen++] = '/';
        memcpy(r->path + plen, de->d_name, nlen + 1);
        added = visit_child(w, dirfd(f->dir), de->d_name, sp, &cfd);
        if (added < 0) {
            err = added;
            break;
        }
        if (added) {
            /* depth sp <= KMEM_CG_MAX_DEPTH (visit_child), so stack[sp] exists */
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
    if (err)
        return kmem_err(w->io, err, "reading memory cgroups: %s", strerror(-err));
    return 0;
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
    uint64_t num, walked = cgs->n + cgs->n_errors;

    if (kmem_read_at(io, kmem_io_dir(io, KMEM_DIR_PROC), "cgroups", &r->buf) ||
        kmem_cg_proc_cgroups_parse(r->buf.data, r->buf.len, &num))
        return; /* unknown, not an error */
    cgs->dying = num > walked ? num - walked : 0;
    cgs->dying_source = KMEM_CG_DYING_PROC_CGROUPS;
}

static void fix_pointers(struct kmem_cgroups *cgs, struct cg_store *st)
{
    for (size_t i = 0; i < cgs->n; i++) {
        struct kmem_cgroup *c = &st->v[i];
        const uint32_t *s = st->offs[i].s;

        c->path = st->arena.p + s[S_PATH];
        c->pod_uid = st->arena.p + s[S_UID];
        c->qos = st->arena.p + s[S_QOS];
        c->container_id = st->arena.p + s[S_CID];
        c->runtime = st->arena.p + s[S_RUNTIME];
        c->namespace_name = st->arena.p + s[S_NS];
        c->pod_name = st->arena.p + s[S_POD];
        c->container_name = st->arena.p + s[S_CONTAINER];
    }
}

/* ---- the known tree ------------------------------------------------------ */

/* Is entry @i's identity incomplete (its pod or container names not found yet)? */
static bool unresolved(const struct cg_known *K, size_t i)
{
    const uint32_t *o = K->offs[i].s;

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

    KMEM_GROW(err, st->v, &st->cap, K->n);
    if (!err)
        KMEM_GROW(err, st->offs, &st->ocap, K->n);
    if (err)
        return err;
    for (size_t i = 1; i < K->n; i++) {
        struct cg_fds *k = &K->fds[i];
        const char *path = K->arena.p + K->offs[i].s[S_PATH];
        struct kmem_cgroup *cg = &st->v[i];
        const char *prefix = NULL;
        int fd = hfd;

        if (k->dir >= 0)
            fd = k->dir;
        else
            prefix = path + 1; /* "/a/b" -> "a/b", below the hierarchy's root */
        if (!w->v2) {
            struct stat sb;

            if (k->dir >= 0 ? fstat(k->dir, &sb) : fstatat(hfd, path + 1, &sb, AT_SYMLINK_NOFOLLOW))
                return -ESTALE;
            if (sb.st_nlink != k->nlink)
                return -ESTALE;
        }
        if (unresolved(K, i) && !names_checked) {
            /* Names may have appeared since (a pod's log directory made
             * after its cgroup): the walk looks them up again. */
            if (names_changed(w))
                return -ESTALE;
            names_checked = true;
        }
        memset(cg, 0, sizeof(*cg));
        cg->depth = K->meta[i].depth;
        err = read_counters(w, fd, prefix, k, cg);
        if (err)
            return err == -ENOMEM ? err : -ESTALE;
        cg->container_attempt = K->meta[i].container_attempt;
        cg->kube_conmon = K->meta[i].kube_conmon;
        cg->ino = k->ino;
    }
    err = kmem_arena_copy(&st->arena, &K->arena);
    if (err)
        return err;
    memcpy(st->offs, K->offs, K->n * sizeof(*K->offs));
    w->cgs->n = K->n;
    w->cgs->n_vanished = K->n_vanished;
    w->cgs->n_errors = K->n_errors;
    w->cgs->possible_cpus = K->possible_cpus;
    return 0;
}

/* After a full walk: the walked tree becomes the known one; fds of cgroups
 * that are gone are closed. */
static int known_save(struct walk *w, uint64_t descendants)
{
    struct kmem_cg_reader *r = w->r;
    struct cg_known *K = &r->known;
    const struct cg_store *st = w->st;
    size_t n = w->cgs->n;
    int err;

    for (size_t i = 0; i < K->n; i++)
        fds_close(r, &K->fds[i]); /* those not handed over to the walk */
    K->n = 0;
    K->valid = false;
    KMEM_GROW(err, K->offs, &K->cap, n);
    if (!err)
        KMEM_GROW(err, K->meta, &K->mcap, n);
    if (!err)
        err = kmem_arena_copy(&K->arena, &st->arena);
    if (!err)
        err = kmem_hindex_reset(&K->index, n);
    if (err) {
        for (size_t i = 1; i < n; i++)
            fds_close(r, &r->wfds[i]);
        return err;
    }
    memcpy(K->offs, st->offs, n * sizeof(*K->offs));
    /* The walk's fds become the known ones: swap the arrays (no copy). */
    struct cg_fds *tf = K->fds;
    size_t tc = K->fcap;
    K->fds = r->wfds;
    K->fcap = r->wcap;
    r->wfds = tf;
    r->wcap = tc;
    fds_init(&K->fds[0]);
    for (size_t i = 0; i < n; i++) {
        K->meta[i].depth = st->v[i].depth;
        K->meta[i].container_attempt = st->v[i].container_attempt;
        K->meta[i].kube_conmon = st->v[i].kube_conmon;
        kmem_hindex_add(&K->index, kmem_hash_str(K->arena.p + K->offs[i].s[S_PATH]), i);
    }
    K->n = n;
    K->v2 = w->v2;
    K->descendants = descendants;
    K->n_vanished = w->cgs->n_vanished;
    K->n_errors = w->cgs->n_errors;
    K->possible_cpus = w->cgs->possible_cpus;
    clock_gettime(CLOCK_MONOTONIC, &K->walked_at);
    /* v2 needs the root's count of descendants to tell a changed tree. */
    K->valid = !w->v2 || descendants != UINT64_MAX;
    return 0;
}

/* May this collection re-read the known tree instead of walking it? */
static bool may_reuse(const struct walk *w)
{
    const struct cg_known *K = &w->r->known;
    struct timespec now;

    if (!K->valid || K->v2 != w->v2 || !w->live || kmem_capturing(w->io))
        return false;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec - K->walked_at.tv_sec < CG_REWALK_SECONDS;
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
    cgs->layout = KMEM_CG_NONE;
    cgs->mount = NULL;
    cgs->kernel_exact = false;
    cgs->dying = 0;
    cgs->dying_source = KMEM_CG_DYING_NONE;
    cgs->possible_cpus = 0;
    if (!cgs->priv) {
        cgs->priv = calloc(1, sizeof(struct cg_store));
        if (!cgs->priv)
            return kmem_err(io, ENOMEM, "out of memory");
    }
    st = cgs->priv;
    st->indexed_n = (size_t)-1;
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
        return root_error(&w, hfd, NULL);
    }
    struct statfs sfs;
    w.live = fstatfs(hfd, &sfs) == 0 &&
             (sfs.f_type == CGROUP2_SUPER_MAGIC || sfs.f_type == CGROUP_SUPER_MAGIC);
    if (!w.live)
        known_drop(r); /* a tree that changed from a live one to a copy: no fd kept */
    bool reuse = may_reuse(&w);
again:
    /* The root ("/"), then every cgroup below it: the known tree again, or a
     * walk, depth first. */
    cgs->n = cgs->n_vanished = cgs->n_errors = 0;
    err = kmem_arena_reset(&st->arena);
    if (err) {
        close(hfd);
        return kmem_err(io, err, "out of memory");
    }
    snprintf(r->path, sizeof(r->path), "/");
    err = add_cgroup(&w, 0, &root);
    if (err) {
        close(hfd);
        return kmem_err(io, err, "out of memory");
    }
    w.descendants = UINT64_MAX;
    err = read_counters(&w, hfd, NULL, NULL, root);
    if (err) {
        close(hfd);
        return root_error(&w, err, w.bad_file);
    }
    cgs->n = 1;
    if (w.live) {
        struct stat rsb;

        if (fstat(hfd, &rsb) == 0)
            root->ino = rsb.st_ino;
    }
    if (reuse && w.v2 && w.descendants != r->known.descendants)
        reuse = false;
    if (reuse) {
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

        err = walk_tree(&w, hfd); /* closes hfd */
        if (!err) {
            if (kmem_read_at(io, kmem_io_dir(io, KMEM_DIR_SYS), "devices/system/cpu/possible",
                             &r->buf) == 0)
                cgs->possible_cpus = kmem_cg_cpulist_count(r->buf.data, r->buf.len);
            err = w.live ? known_save(&w, descendants) : 0;
            if (err)
                err = kmem_err(io, err, "out of memory");
        } else {
            for (size_t i = 1; i < cgs->n; i++)
                fds_close(r, &r->wfds[i]);
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
    fix_pointers(cgs, st);
    if (build_index(st, cgs->n))
        st->indexed_n = (size_t)-1;
    return 0;
}
