// SPDX-License-Identifier: MIT
/*
 * The owner part of a snapshot (kmem.h, struct kmem_owner_snap): read
 * ROOT/kmem-owners.txt, or run the walker on the live machine (ownwalk.h,
 * through kmem_owners_live()), then name the cgroup ids and, when
 * capturing, write kmem-owners.txt into the capture.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>

#include "hindex.h"
#include "parse.h"
#include "readers.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

#define OWNERS_FILE       "kmem-owners.txt"
#define OWNERS_ERROR_FILE "kmem-owners-error.txt" /* why a capture has no OWNERS_FILE */

/* The cgroups of this collection by inode number, for path_of. */
struct namer {
    const struct kmem_cgroups *cgs;
    struct kmem_hindex ix;
    char name[64];
    size_t removed;
};

static uint64_t ino_hash(uint64_t ino)
{
    return ino * 0x9e3779b97f4a7c15ULL;
}

static const char *name_of(void *arg, uint64_t id)
{
    struct namer *n = arg;
    size_t it;

    for (long i = n->ix.size ? kmem_hindex_first(&n->ix, ino_hash(id), &it) : -1; i >= 0;
         i = kmem_hindex_next(&n->ix, &it))
        if (n->cgs->v[i].ino == id)
            return n->cgs->v[i].path;
    n->removed++;
    snprintf(n->name, sizeof(n->name), "(removed cgroup %llu)", (unsigned long long)id);
    return n->name;
}

/* Is the root's proc the live procfs (so that the walker reads the same kernel)? */
static bool live_proc(struct kmem_io *io)
{
    struct statfs sfs;
    int fd = kmem_io_dir(io, KMEM_DIR_PROC);

    return fd >= 0 && fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

static int read_file(struct kmem_io *io, struct kmem_owners *o, bool *found)
{
    struct kmem_parse_error perr = {0};
    struct kmem_buf b = {0};
    char shown[PATH_MAX];
    int err;

    *found = false;
    err = kmem_buf_read_file(&b, kmem_io_dir(io, KMEM_DIR_ROOT), OWNERS_FILE, 0);
    if (err == -ENOENT) {
        free(b.data);
        return 0;
    }
    *found = true;
    kmem_display_path(io, KMEM_DIR_ROOT, OWNERS_FILE, shown, sizeof(shown));
    if (err) {
        free(b.data);
        return kmem_err(io, err, "cannot read %s: %s%s", shown, strerror(-err),
                        kmem_errno_hint(err));
    }
    err = kmem_owners_parse(b.data, b.len, o, &perr);
    free(b.data);
    if (err == -ENOMEM)
        return kmem_err(io, ENOMEM, "out of memory");
    if (err)
        return kmem_err(io, EINVAL, "%s:%u: %s (not a kmem-owners file? a truncated capture?)",
                        shown, perr.line, perr.what ? perr.what : "parse error");
    return 0;
}

/* The reason a capture's owner part failed, kept beside it: one line. */
static int read_error(struct kmem_io *io, char *msg, size_t len)
{
    struct kmem_buf b = {0};
    int err = kmem_buf_read_file(&b, kmem_io_dir(io, KMEM_DIR_ROOT), OWNERS_ERROR_FILE, 4096);

    if (!err && b.len)
        snprintf(msg, len, "%.*s", (int)strcspn(b.data, "\n"), b.data);
    else if (!err)
        err = -ENOENT;
    free(b.data);
    return err;
}

/* Fail the part with @msg; a capture keeps it (the replay says the same). */
static int fail(struct kmem_io *io, int err, const char *msg)
{
    if (kmem_capturing(io)) {
        char line[600];
        int n = snprintf(line, sizeof(line), "%s\n", msg);

        kmem_capture_put(io, OWNERS_ERROR_FILE, line,
                         n > 0 && (size_t)n < sizeof(line) ? (size_t)n : strlen(line));
    }
    return kmem_err(io, err, "%s", msg);
}

int kmem_read_owners(struct kmem_io *io, void **walker, bool isolated, struct kmem_owner_snap *out,
                     const struct kmem_cgroups *cgs)
{
    struct namer n = {.cgs = cgs};
    char msg[512] = "";
    bool found;
    int err;

    kmem_owners_free(&out->o);
    out->from_file = out->reused = false;
    out->age = 0;
    out->removed_cgroups = 0;
    out->removed_bytes = 0;
    err = read_file(io, &out->o, &found);
    if (err)
        return err;
    out->from_file = found;
    if (!found) {
        if (!live_proc(io)) {
            /* A capture whose owner part failed says why, as its capturing run did. */
            if (read_error(io, msg, sizeof(msg)) == 0)
                return fail(io, ENOENT, msg);
            return fail(io, ENOENT,
                        "no owner snapshot: no " OWNERS_FILE " under this root (a capture taken "
                        "without it)");
        }
        err = isolated ? kmem_owners_live_isolated(&out->o, msg, sizeof(msg))
                       : kmem_owners_live(walker, &out->o, msg, sizeof(msg));
        if (err) {
            kmem_owners_free(&out->o);
            return fail(io, err, msg[0] ? msg : strerror(-err));
        }
    }
    /* Name the ids the file or the walk left unnamed. */
    if (cgs && cgs->n && !out->from_file) {
        if (kmem_hindex_reset(&n.ix, cgs->n))
            goto nomem;
        for (size_t i = 0; i < cgs->n; i++)
            if (cgs->v[i].ino)
                kmem_hindex_add(&n.ix, ino_hash(cgs->v[i].ino), i);
    }
    err = kmem_owners_finish(&out->o, name_of, &n);
    kmem_hindex_free(&n.ix);
    if (err)
        goto nomem;
    out->removed_cgroups = n.removed;
    for (size_t i = 0; i < out->o.nrows; i++) {
        const struct kmem_owner_row *r = &out->o.rows[i];

        if (r->cgroup_id && r->cgroup && !strncmp(r->cgroup, "(removed cgroup ", 16))
            out->removed_bytes += r->bytes;
    }
    if (kmem_capturing(io)) {
        struct kmem_buf b = {0};

        if (kmem_owners_format(&out->o, &b)) {
            free(b.data);
            goto nomem;
        }
        kmem_capture_put(io, OWNERS_FILE, b.data, b.len);
        free(b.data);
        /* What this run shows is what the capture's replay will show (as
         * its metadata): the file, with the CPU time as the file holds it. */
        char cpu[64];
        snprintf(cpu, sizeof(cpu), "%.6f", out->o.cpu_seconds);
        out->o.cpu_seconds = strtod(cpu, NULL);
        out->from_file = true;
    }
    return 0;
nomem:
    kmem_hindex_free(&n.ix);
    kmem_owners_free(&out->o);
    return kmem_err(io, ENOMEM, "out of memory");
}
