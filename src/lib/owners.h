/* SPDX-License-Identifier: MIT */
/*
 * The owner snapshot: resident slab bytes per (memory cgroup, slab cache),
 * read from the owner the kernel records for every charged slab object (the
 * per-object obj_cgroup vector of each slab: slab->obj_exts since 6.10,
 * memcg_data / objcgs before), with nothing on the allocation path.
 *
 * Two producers fill a struct kmem_owners:
 *   - the walker (ownwalk.c, src/bpf/kmem_owners.bpf.c): a BPF program run on
 *     demand that visits every slab page of the live kernel;
 *   - the file reader (owners.c): kmem-owners.txt at the root of a capture or
 *     a recorded sample, written by kmem_owners_write() (format below).
 *
 * File format, text, one record a line, fields separated by one TAB; in the
 * two string fields TAB, LF, backslash and bytes < 0x20 or >= 0x7f are
 * written as \t, \n, \\ and \xHH:
 *
 *   kmem-owners 1
 *   taken <unix seconds>.<nanoseconds>
 *   cpu_seconds <decimal>
 *   pages <n>              page frames visited
 *   slabs <n>              slabs visited
 *   objects_charged <n>
 *   objects_uncharged <n>
 *   rows <n>
 *   <cgroup_id>\t<objects>\t<bytes>\t<cache>\t<cgroup path or empty>
 *   ...                    (exactly <rows> lines)
 *
 * cgroup_id 0 is "not charged" (objects of the cache that no cgroup owns).
 */
#ifndef KMEM_OWNERS_H
#define KMEM_OWNERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct kmem_owner_row {
    uint64_t cgroup_id; /* kernfs id = inode number of the cgroup's directory; 0: not charged */
    const char *cgroup; /* path in the memory hierarchy ("/" the root); NULL until resolved */
    const char *cache;  /* slab cache name as /proc/slabinfo prints it (the root cache) */
    uint64_t objects;   /* allocated objects owned */
    uint64_t bytes;     /* objects x the cache's object size (slabinfo objsize) */
};

struct kmem_owners {
    bool present;          /* a snapshot was taken or read */
    struct timespec taken; /* CLOCK_REALTIME of the walk */
    double cpu_seconds;    /* CPU the walk cost (0 when read from a file) */
    uint64_t pages, slabs; /* page frames and slabs visited */
    uint64_t objects_charged, objects_uncharged;
    size_t nrows;
    struct kmem_owner_row *rows; /* valid after kmem_owners_finish() */
    void *mem;                   /* owns rows and strings; private */
};

void kmem_owners_init(struct kmem_owners *o);
void kmem_owners_free(struct kmem_owners *o);
/* Deep copy (the snapshot keeps the last walk between walks). 0 or -ENOMEM. */
int kmem_owners_copy(struct kmem_owners *dst, const struct kmem_owners *src);
/*
 * Add @objects/@bytes to (@cgroup_id, @cache); @cache is copied. Row
 * pointers (rows[], cache, cgroup) are valid only after kmem_owners_finish().
 * 0 or -ENOMEM.
 */
int kmem_owners_add(struct kmem_owners *o, uint64_t cgroup_id, const char *cache, uint64_t objects,
                    uint64_t bytes);
/*
 * Name the cgroups (@path_of(@arg, id) returns the path of a cgroup id or
 * NULL when unknown; NULL @path_of leaves names as they are), point rows[]
 * at the strings and sort them: by cgroup path ("" not charged last), then
 * bytes descending, then cache name. 0 or -ENOMEM.
 */
int kmem_owners_finish(struct kmem_owners *o, const char *(*path_of)(void *arg, uint64_t id),
                       void *arg);
/* Set the path of every row of @cgroup_id (copied; before finish). 0 or -ENOMEM. */
int kmem_owners_set_path(struct kmem_owners *o, uint64_t cgroup_id, const char *path);

/* Distinct (cgroup id, cache) rows added so far (before finish too). */
size_t kmem_owners_count(const struct kmem_owners *o);

struct kmem_buf;
struct kmem_parse_error;
/*
 * kmem-owners.txt (format above) into @o (emptied first), rows named with
 * the file's paths and finished. 0, -EINVAL with *err (line, what; @err may
 * be NULL), or -ENOMEM; on failure @o is empty.
 */
int kmem_owners_parse(const char *buf, size_t len, struct kmem_owners *o,
                      struct kmem_parse_error *err);
/*
 * @o (finished) in the file's format into @b (replacing its contents). A
 * row whose cgroup has no path (or a name that is not a path, such as
 * "(removed cgroup N)") is written with an empty path. 0 or -ENOMEM.
 */
int kmem_owners_format(const struct kmem_owners *o, struct kmem_buf *b);

/*
 * The owner part of a snapshot: the rows (finished: named and sorted) and
 * where they come from. On the live machine the walker (ownwalk.h) takes
 * them and the cgroup ids are named from this collection's cgroups (their
 * directories' inode numbers); under a root with kmem-owners.txt (a
 * capture) they are read from it, named by the paths it holds. A cgroup id
 * that names no cgroup (removed since) is "(removed cgroup <id>)".
 */
struct kmem_owner_snap {
    struct kmem_owners o;
    bool from_file;         /* read from ROOT/kmem-owners.txt */
    bool reused;            /* copied from an earlier collection (its own interval) */
    double age;             /* seconds since it was taken or read */
    size_t removed_cgroups; /* cgroup ids named "(removed cgroup <id>)" */
    uint64_t removed_bytes; /* their bytes */
};

#endif
