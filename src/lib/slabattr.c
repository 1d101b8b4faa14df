/* SPDX-License-Identifier: MIT */
/*
 * Static attributes of every slab cache from /sys/kernel/slab (SLUB):
 *
 *   dentry/                 an unmerged cache: its own directory
 *   anon_vma_chain -> :A-0000064
 *   fs_cache       -> :A-0000064   merged caches share one ":<flags>-<size>"
 *                                  directory (mm/slub.c create_unique_id():
 *                                  d DMA, D DMA32, a reclaim accounted,
 *                                  F consistency checks, A SLAB_ACCOUNT)
 *
 * Per cache: reclaim_account, order, aliases, and for merged caches the
 * SLAB_ACCOUNT flag and the other names. Sweeping sysfs costs about a
 * hundred reads of /proc/slabinfo, so it is done only when the list of
 * caches changed since the previous snapshot; otherwise the attributes are
 * copied from it.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "readers.h"
#include "parse.h"
#include "sort.h"

struct link {
    char name[KMEM_SLAB_NAME_MAX];
    char target[sizeof(((struct kmem_slab_attr *)0)->unique_id)];
};

static bool same_list(const struct kmem_slabinfo *a, const struct kmem_slabinfo *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].dup != b->v[i].dup || strcmp(a->v[i].name, b->v[i].name) != 0)
            return false;
    return true;
}

static int cmp_link(const void *a, const void *b)
{
    return strcmp(((const struct link *)a)->name, ((const struct link *)b)->name);
}

/* Every symlink of sys/kernel/slab and its target's name (a ":flags-size" directory). */
static int read_links(int dir, struct link **out, size_t *n)
{
    DIR *d = kmem_opendir(dir, ".");
    size_t cap = 0;
    int err = 0;
    const struct dirent *de;

    *out = NULL;
    *n = 0;
    if (!d)
        return -errno;
    while ((de = readdir(d))) {
        char target[PATH_MAX];
        const char *base;
        ssize_t tl;

        if (de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
            continue;
        if (strlen(de->d_name) >= KMEM_SLAB_NAME_MAX)
            continue;
        tl = readlinkat(dir, de->d_name, target, sizeof(target) - 1);
        if (tl < 0)
            continue; /* not a link (DT_UNKNOWN) or gone */
        target[tl] = '\0';
        base = strrchr(target, '/');
        base = base ? base + 1 : target;
        if (base[0] != ':' || strlen(base) >= sizeof((*out)->target))
            continue;
        if (*n == cap) {
            KMEM_GROW(err, *out, &cap, *n + 1);
            if (err)
                break;
        }
        strcpy((*out)[*n].name, de->d_name);
        strcpy((*out)[*n].target, base);
        (*n)++;
    }
    closedir(d);
    /* readdir() order differs between sysfs and a copy of it: name order, for one output. */
    kmem_sort(*out, *n, sizeof(**out), cmp_link);
    return err;
}

/* 0/1 (or a small number) from a one-number sysfs file, or -1. */
static long read_number(struct kmem_io *io, int dir, const char *cache, const char *attr)
{
    char rel[KMEM_SLAB_NAME_MAX + 32];
    uint64_t v;

    snprintf(rel, sizeof(rel), "%s/%s", cache, attr);
    if (kmem_read_at(io, dir, rel, &io->buf) != 0 ||
        kmem_parse_single_u64(io->buf.data, io->buf.len, &v) != 0 || v > 1000000)
        return -1;
    return (long)v;
}

/*
 * SLAB_ACCOUNT of an unmerged cache is not shown by sysfs; the kmalloc
 * families say it by name (kmalloc-cg-* are the accounted kmalloc caches).
 */
static int8_t accounted_by_name(const char *name)
{
    if (!strncmp(name, "kmalloc-cg-", 11))
        return 1;
    if (!strncmp(name, "kmalloc-", 8) || !strncmp(name, "dma-kmalloc-", 12))
        return 0;
    return -1;
}

static int fill(struct kmem_io *io, int dir, struct kmem_slabinfo *si, const struct link *links,
                size_t nlinks)
{
    int err = kmem_arena_reset(&si->attr_names);

    if (err)
        return err;
    for (size_t i = 0; i < si->n; i++) {
        struct kmem_slab *s = &si->v[i];
        struct kmem_slab_attr *a = &s->attr;
        struct stat st;
        long recl, order, aliases;

        memset(a, 0, sizeof(*a));
        if (s->dup) { /* a repeated name: the same directory */
            long first = kmem_slabinfo_find(si, s->name, 0);

            if (first >= 0)
                *a = si->v[first].attr;
            continue;
        }
        if (fstatat(dir, s->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        recl = read_number(io, dir, s->name, "reclaim_account");
        order = read_number(io, dir, s->name, "order");
        aliases = read_number(io, dir, s->name, "aliases");
        if (recl < 0 || order < 0 || order > 255)
            continue;
        a->known = true;
        a->reclaimable = recl != 0;
        a->order = (uint8_t)order;
        a->aliases = aliases > 0 ? (uint32_t)aliases : 0;
        a->accounted = accounted_by_name(s->name);
        if (S_ISLNK(st.st_mode)) {
            const char *target = NULL, *dash;
            char names[4096];
            size_t nl = 0;

            for (size_t l = 0; l < nlinks && !target; l++)
                if (!strcmp(links[l].name, s->name))
                    target = links[l].target;
            if (!target)
                continue;
            a->merged = true;
            strcpy(a->unique_id, target);
            dash = strchr(target, '-');
            a->accounted = dash && memchr(target, 'A', (size_t)(dash - target)) ? 1 : 0;
            kmem_capture_link(io, dir, s->name, target);
            /* The other names linked to the same directory: the caches merged into it. */
            for (size_t l = 0; l < nlinks; l++) {
                size_t ln = strlen(links[l].name);

                if (strcmp(links[l].target, target) || !strcmp(links[l].name, s->name))
                    continue;
                kmem_capture_link(io, dir, links[l].name, target);
                if (nl + ln + 2 > sizeof(names))
                    continue;
                if (nl)
                    names[nl++] = ',';
                memcpy(names + nl, links[l].name, ln);
                nl += ln;
            }
            err = kmem_arena_add(&si->attr_names, names, nl, &a->names);
            if (err)
                return err;
        }
        si->attrs_known++;
    }
    return 0;
}

int kmem_read_slab_attrs(struct kmem_io *io, struct kmem_slabinfo *cur,
                         const struct kmem_slabinfo *prev)
{
    struct link *links = NULL;
    size_t nlinks = 0;
    int dir, err;

    cur->attrs_read = true;
    cur->attrs_ok = cur->attrs_reused = false;
    cur->attrs_err = 0;
    cur->attrs_known = 0;
    if (prev && prev->attrs_read && prev->attrs_ok && same_list(cur, prev) &&
        !kmem_capturing_dir(io)) {
        err = kmem_arena_copy(&cur->attr_names, &prev->attr_names);
        if (!err) {
            for (size_t i = 0; i < cur->n; i++)
                cur->v[i].attr = prev->v[i].attr;
            cur->attrs_ok = cur->attrs_reused = true;
            cur->attrs_known = prev->attrs_known;
            return 0;
        }
    }
    dir = kmem_open_dir(kmem_io_dir(io, KMEM_DIR_SYS), "kernel/slab");
    if (dir < 0) {
        cur->attrs_err = dir; /* SLAB kernels, a tree without sys/kernel/slab */
        return dir;
    }
    err = read_links(dir, &links, &nlinks);
    if (!err)
        err = fill(io, dir, cur, links, nlinks);
    free(links);
    close(dir);
    cur->attrs_err = err;
    cur->attrs_ok = err == 0;
    return err;
}

size_t kmem_slab_attrs_from_owners(struct kmem_slabinfo *si, const struct kmem_owners *o)
{
    size_t n = 0;

    if (!o->present || !o->rows)
        return 0;
    for (size_t r = 0; r < o->nrows; r++) {
        const struct kmem_owner_row *row = &o->rows[r];

        if (!row->cgroup_id || !row->objects || !row->cache)
            continue;
        for (unsigned dup = 0;; dup++) {
            long i = kmem_slabinfo_find(si, row->cache, dup);
            struct kmem_slab_attr *a;

            if (i < 0)
                break;
            a = &si->v[i].attr;
            if (!a->known || a->accounted >= 0)
                continue;
            a->accounted = 1;
            a->accounted_charged = true;
            n++;
        }
    }
    return n;
}
