/* SPDX-License-Identifier: MIT */
/*
 * The memory cgroup reader's own declarations, shared by cgroup.c (storage,
 * diff, layout, the known tree, the entry point) and cgroup_walk.c (reading
 * one cgroup, the walk). Not part of the library's interface.
 */
#ifndef KMEM_CGROUP_INT_H
#define KMEM_CGROUP_INT_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "readers.h"
#include "arena.h"
#include "hindex.h"
#include "kube.h"

/* ---- storage ------------------------------------------------------------ */

enum { S_PATH, S_UID, S_QOS, S_CID, S_RUNTIME, S_NS, S_POD, S_CONTAINER, S_COUNT };

struct cg_offs {
    uint32_t s[S_COUNT]; /* arena offsets; 0 is "" */
};

/*
 * The one cgroup array of a reader (kmem_cgroups.priv of the snapshot that
 * read it last): every collection reads into it. The previous collection is
 * kept only as what the diff needs, each cgroup's path and kernel (last_*),
 * so that two snapshots do not hold two arrays of public records.
 */
struct cg_store {
    struct kmem_cgroup *v;
    struct cg_offs *offs;
    size_t cap, ocap;
    struct kmem_arena arena;
    struct kmem_hindex index; /* by path */
    size_t indexed_n;         /* n the index was built for (on the first look-up) */
    size_t done_n;            /* n of the collection that completed; (size_t)-1 */
    uint64_t gen;             /* the known tree's gen it was read from or saved as; 0 */
    /* The collection before this one (last_n 0: none completed). */
    size_t last_n, last_cap;
    uint64_t last_gen;
    uint64_t *last_kernel;
    uint32_t *last_path;          /* offsets in last_arena */
    struct kmem_arena last_arena; /* the previous arena (swapped, not copied) */
    /* The strings of v point into the known tree's arena (a reused tree, or
     * a walk once saved as the known tree), not into arena; likewise the
     * last paths (until known_save swaps that arena into last_arena). */
    bool str_known, last_in_known;
    const struct kmem_arena *known_arena; /* &reader->known.arena */
    struct kmem_hindex last_index;
    size_t last_indexed_n; /* (size_t)-1: not built */
};

/* Per context, owned by the snapshot module. */
struct cg_frame {
    DIR *dir;
    size_t pathlen;
};

/* The files of one cgroup that a collection may read. */
enum cg_file { CGF_MAIN, CGF_SOCK, CGF_USAGE, CGF_STAT, CGF_OOM, CGF_LIMIT, CGF_COUNT };

/* What a cgroup of the last walk keeps open between collections. */
struct cg_fds {
    int dir;  /* v1 without inotify: the cgroup's directory, for its link count; -1 */
    int wd;   /* its inotify watch (cg_watch); -1 */
    int main; /* CGF_MAIN, re-read with pread(2); -1 */
    /* The other files' fds (CGF_SOCK...): a slot of the reader's pool, only
     * for a reader that reads them (kmem_exporter reads none by default:
     * 28 bytes a cgroup instead of 48); -1 none. Moves with the struct. */
    int x;
    uint32_t nlink; /* v1: the directory's link count (2 + subdirectories) at the walk */
    /* The directory's inode: a cgroup removed and made again under its name
     * is another inode, whose files the old fds do not read. Two halves, so
     * that the struct is 44 bytes, not 48: cg_fds_ino(), cg_fds_set_ino(). */
    uint32_t ino_lo, ino_hi;
};

static inline ino_t cg_fds_ino(const struct cg_fds *k)
{
    return (ino_t)((uint64_t)k->ino_hi << 32 | k->ino_lo);
}

static inline void cg_fds_set_ino(struct cg_fds *k, uint64_t ino)
{
    k->ino_lo = (uint32_t)ino;
    k->ino_hi = (uint32_t)(ino >> 32);
}

struct cg_meta {
    int container_attempt;
    uint16_t depth; /* at most KMEM_CG_MAX_DEPTH */
    bool kube_conmon;
};

/* A known cgroup's strings: its path, and its identity's offsets when it
 * has one (most cgroups have none: 8 bytes each instead of 32). */
struct cg_koffs {
    uint32_t path;
    uint32_t id; /* index in cg_known.ids; 0: no identity (ids[0] is all "") */
};

/*
 * The tree of the last walk (docs/cgroups.md, "Cost"): each cgroup's path
 * and identity (a copy of that snapshot's arena and offsets), and its kept
 * fds. A later collection re-reads these cgroups without listing a
 * directory while the tree is unchanged. How a change is seen: with inotify
 * (cgroup_watch.c), a watch on every cgroup directory reports the
 * directories in which a child was made, removed or renamed, and only those
 * are listed again (cg_merge_tree); without it (no inotify instance, the
 * watch limit reached), v1: every cgroup directory has the link count it
 * had (a child created or removed changes its parent's); v2: the root's
 * cgroup.stat nr_descendants is the same and no kept file reads as removed;
 * anything else walks the tree again.
 */
struct cg_known {
    bool valid;
    bool v2;
    uint64_t gen; /* raised each time the known tree is saved */
    size_t n, cap, mcap, fcap, icap;
    struct cg_koffs *offs;
    struct cg_offs *ids; /* identities (s[S_PATH] unused); ids[0] is none */
    struct cg_meta *meta;
    struct cg_fds *fds; /* fds[0], the root, keeps none */
    struct kmem_arena arena;
    struct kmem_hindex index;   /* path -> entry, to hand fds over at the next walk */
    struct kmem_hindex wdindex; /* inotify watch -> entry (cg_watch) */
    uint8_t *dirty;             /* per entry: a child made, removed or renamed (cg_watch) */
    size_t dcap;
    bool root_dirty;
    bool dirty_pending;   /* marked by the reader itself (a cgroup gone before its event) */
    uint64_t descendants; /* v2: root cgroup.stat nr_descendants before the walk */
    nlink_t root_nlink;   /* v1: the hierarchy root's link count before the walk */
    size_t n_vanished, n_errors, n_unnamed;
    unsigned possible_cpus;
    struct timespec walked_at; /* CLOCK_MONOTONIC */
};

/* A full walk at least this often (seconds): what the checks cannot see, a
 * v1 cgroup renamed or memory enabled on an existing v2 subtree. */
#define CG_REWALK_SECONDS 300

/* How changes to the known tree are seen (cgroup_watch.c). */
enum cg_watch_mode {
    CG_WATCH_UNTRIED, /* no live walk yet */
    CG_WATCH_INOTIFY, /* a watch on every cgroup directory */
    CG_WATCH_LINKS,   /* link counts (v1), nr_descendants (v2): r->watch_why says why */
};

struct kmem_cg_reader {
    struct kmem_buf buf;
    enum cg_watch_mode watch;
    int ino_fd;          /* the inotify instance; -1 */
    int root_wd;         /* the hierarchy root's watch; -1 */
    char watch_why[160]; /* CG_WATCH_LINKS: why not inotify */
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
    /* Capturing: where the hierarchy's files go in the capture
     * ("sys/fs/cgroup/memory"), so that each file read is captured under
     * a path built here instead of one asked of the kernel; "" unknown. */
    char capbase[4096];
    char capfile[(KMEM_CG_MAX_DEPTH + 1) * 256 + 64 + 4096];
    bool names_used;        /* the last full walk loaded the Kubernetes names */
    struct cg_store *store; /* the cgroup array every collection reads into */
    /* Pool of the extra files' fds (cg_fds.x): per slot the fds of CGF_SOCK
     * onwards; a free slot's first int is the next free one (-1 ends). */
    int (*xf)[CGF_COUNT - 1];
    size_t xcap;
    int xfree;
};

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
    nlink_t root_nlink;   /* v1: the hierarchy root's link count (a top-level cgroup made or
                           * removed changes it); 0 unknown */
    /* The hierarchy is a cgroup filesystem (not a copy on disk, such as a
     * fixture or a capture): only there is a kept fd of a removed cgroup
     * an error, and a changed tree seen in counts and link counts. */
    bool live;
    bool pointers_set; /* the entries' strings are set (a reused tree) */
    bool left_out;     /* a reused tree without the cgroups removed meanwhile */
    /* The path of the cgroup being read ("/a/b"); NULL: r->path. */
    const char *cgpath;
};

/* Offset of string @s (S_PATH, S_UID, ...) of known entry @i in K->arena. */
static inline uint32_t cg_koff(const struct cg_known *K, size_t i, int s)
{
    return s == S_PATH ? K->offs[i].path : K->ids[K->offs[i].id].s[s];
}

/* Where file @f's kept fd of @k is, without taking a pool slot: NULL when
 * @k has none for the extra files yet. */
static inline int *cg_fds_kept(struct kmem_cg_reader *r, struct cg_fds *k, enum cg_file f)
{
    return f == CGF_MAIN ? &k->main : k->x >= 0 ? &r->xf[k->x][f - 1] : NULL;
}

/* cgroup.c */
void cg_fds_init(struct cg_fds *k);
void cg_fds_close(struct kmem_cg_reader *r, struct cg_fds *k);
/* Where file @f's kept fd of @k is (a pool slot taken for the extra files);
 * NULL: no memory (the file is read, not kept). */
int *cg_fds_slot(struct kmem_cg_reader *r, struct cg_fds *k, enum cg_file f);
bool cg_may_keep(struct kmem_cg_reader *r);
bool cg_unresolved(const struct cg_known *K, size_t i);

/* cgroup_walk.c */
int cg_read_counters(struct walk *w, int fd, const char *prefix, struct cg_fds *k,
                     struct kmem_cgroup *cg);
int cg_add_cgroup(struct walk *w, int depth, struct kmem_cgroup **out);
/* Load the Kubernetes names once per collection (captured when capturing). */
int cg_load_names(struct walk *w);
bool cg_names_changed(struct walk *w);
int cg_root_error(struct walk *w, int err, const char *what);
int cg_walk_tree(struct walk *w, int hfd);
int cg_walk_below(struct walk *w, int fd, size_t pathlen, int depth);
int cg_visit_child(struct walk *w, int parent_fd, const char *name, ino_t dino, int depth,
                   int *fdout);
bool cg_skip_entry(const struct dirent *de);
bool cg_vanished(int err);
int cg_arena_str(struct kmem_arena *a, const char *str, uint32_t *off);

/* cgroup_watch.c */
void cg_watch_close(struct kmem_cg_reader *r);
void cg_watch_walk_start(struct walk *w, int hfd);
void cg_watch_add(struct walk *w, int fd, struct cg_fds *k);
int cg_watch_drain(struct kmem_cg_reader *r);
void cg_watch_index(struct kmem_cg_reader *r);
void cg_watch_mark_parent(struct kmem_cg_reader *r, size_t i);
int cg_merge_tree(struct walk *w, int hfd);

#endif
