// SPDX-License-Identifier: MIT
/* The owner snapshot's container: rows keyed by (cgroup id, cache). See owners.h. */
#include "owners.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "hindex.h"
#include "sort.h"

struct row_off {
    uint64_t cgroup_id, objects, bytes;
    size_t cache, cgroup; /* arena offsets; cgroup 0 = unnamed */
};

struct owners_mem {
    struct kmem_arena names;
    struct kmem_hindex ix;
    struct row_off *r;
    size_t n, cap;
};

void kmem_owners_init(struct kmem_owners *o)
{
    memset(o, 0, sizeof(*o));
}

void kmem_owners_free(struct kmem_owners *o)
{
    struct owners_mem *m = o->mem;

    if (m) {
        kmem_arena_free(&m->names);
        kmem_hindex_free(&m->ix);
        free(m->r);
        free(m);
    }
    free(o->rows);
    kmem_owners_init(o);
}

static struct owners_mem *mem_of(struct kmem_owners *o)
{
    struct owners_mem *m = o->mem;

    if (m)
        return m;
    m = calloc(1, sizeof(*m));
    if (!m || kmem_arena_reset(&m->names)) {
        free(m);
        return NULL;
    }
    o->mem = m;
    return m;
}

static uint64_t key_hash(uint64_t id, const char *cache)
{
    return kmem_hash_str(cache) ^ (id * 0x9e3779b97f4a7c15ULL);
}

static int grow_index(struct owners_mem *m)
{
    size_t want = m->n + 1;

    if (m->ix.size && want * 2 <= m->ix.size)
        return 0;
    if (kmem_hindex_reset(&m->ix, want < 64 ? 128 : want * 2))
        return -ENOMEM;
    for (size_t i = 0; i < m->n; i++)
        kmem_hindex_add(&m->ix,
                        key_hash(m->r[i].cgroup_id, kmem_arena_at(&m->names, m->r[i].cache)), i);
    return 0;
}

static struct row_off *find(struct owners_mem *m, uint64_t id, const char *cache, uint64_t h)
{
    size_t it;

    for (long i = kmem_hindex_first(&m->ix, h, &it); i >= 0; i = kmem_hindex_next(&m->ix, &it))
        if (m->r[i].cgroup_id == id && !strcmp(kmem_arena_at(&m->names, m->r[i].cache), cache))
            return &m->r[i];
    return NULL;
}

int kmem_owners_add(struct kmem_owners *o, uint64_t cgroup_id, const char *cache, uint64_t objects,
                    uint64_t bytes)
{
    struct owners_mem *m = mem_of(o);
    struct row_off *r;
    uint64_t h;

    if (!m || grow_index(m))
        return -ENOMEM;
    if (!cache)
        cache = "";
    h = key_hash(cgroup_id, cache);
    r = find(m, cgroup_id, cache, h);
    if (!r) {
        int err;

        KMEM_GROW(err, m->r, &m->cap, m->n + 1);
        if (err)
            return err;
        r = &m->r[m->n];
        memset(r, 0, sizeof(*r));
        r->cgroup_id = cgroup_id;
        if (kmem_arena_str(&m->names, cache, &r->cache))
            return -ENOMEM;
        kmem_hindex_add(&m->ix, h, m->n);
        m->n++;
    }
    r->objects += objects;
    r->bytes += bytes;
    if (cgroup_id)
        o->objects_charged += objects;
    else
        o->objects_uncharged += objects;
    o->present = true;
    return 0;
}

int kmem_owners_set_path(struct kmem_owners *o, uint64_t cgroup_id, const char *path)
{
    struct owners_mem *m = mem_of(o);
    size_t off = 0;
    bool have = false;

    if (!m)
        return -ENOMEM;
    for (size_t i = 0; i < m->n; i++) {
        if (m->r[i].cgroup_id != cgroup_id)
            continue;
        if (!have) {
            if (kmem_arena_str(&m->names, path, &off))
                return -ENOMEM;
            have = true;
        }
        m->r[i].cgroup = off;
    }
    return 0;
}

static int cmp_rows(const void *pa, const void *pb)
{
    const struct kmem_owner_row *a = pa, *b = pb;
    bool na = a->cgroup_id == 0, nb = b->cgroup_id == 0;
    int c;

    if (na != nb)
        return na ? 1 : -1;
    c = strcmp(a->cgroup ? a->cgroup : "", b->cgroup ? b->cgroup : "");
    if (c)
        return c;
    if (a->cgroup_id != b->cgroup_id)
        return a->cgroup_id < b->cgroup_id ? -1 : 1;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return strcmp(a->cache, b->cache);
}

size_t kmem_owners_count(const struct kmem_owners *o)
{
    const struct owners_mem *m = o->mem;

    return m ? m->n : 0;
}

/*
 * Name the unnamed rows: path_of once per cgroup id, its path stored once
 * (an index of the ids seen, so that naming stays linear in the rows).
 */
static int name_rows(struct owners_mem *m, const char *(*path_of)(void *arg, uint64_t id),
                     void *arg)
{
    struct kmem_hindex ids = {0};
    int err = kmem_hindex_reset(&ids, m->n);

    for (size_t i = 0; !err && i < m->n; i++) {
        struct row_off *r = &m->r[i];
        uint64_t h = r->cgroup_id * 0x9e3779b97f4a7c15ULL;
        const char *p;
        size_t it;
        long j;

        if (!r->cgroup_id)
            continue;
        for (j = kmem_hindex_first(&ids, h, &it); j >= 0; j = kmem_hindex_next(&ids, &it))
            if (m->r[j].cgroup_id == r->cgroup_id)
                break;
        if (j >= 0) {
            if (!r->cgroup)
                r->cgroup = m->r[j].cgroup;
            continue;
        }
        kmem_hindex_add(&ids, h, i);
        if (r->cgroup)
            continue;
        p = path_of(arg, r->cgroup_id);
        if (p)
            err = kmem_arena_str(&m->names, p, &r->cgroup) ? -ENOMEM : 0;
    }
    kmem_hindex_free(&ids);
    return err ? -ENOMEM : 0;
}

int kmem_owners_finish(struct kmem_owners *o, const char *(*path_of)(void *arg, uint64_t id),
                       void *arg)
{
    struct owners_mem *m = mem_of(o);
    struct kmem_owner_row *rows;

    if (!m)
        return -ENOMEM;
    if (path_of && name_rows(m, path_of, arg))
        return -ENOMEM;
    rows = reallocarray(o->rows, m->n ? m->n : 1, sizeof(*rows));
    if (!rows)
        return -ENOMEM;
    o->rows = rows;
    for (size_t i = 0; i < m->n; i++) {
        rows[i] = (struct kmem_owner_row){
            .cgroup_id = m->r[i].cgroup_id,
            .cgroup = m->r[i].cgroup ? kmem_arena_at(&m->names, m->r[i].cgroup) : NULL,
            .cache = kmem_arena_at(&m->names, m->r[i].cache),
            .objects = m->r[i].objects,
            .bytes = m->r[i].bytes,
        };
    }
    o->nrows = m->n;
    kmem_sort(rows, m->n, sizeof(*rows), cmp_rows);
    return 0;
}

/* The path of a cgroup id in a finished snapshot (copy's path_of). */
struct src_ids {
    const struct kmem_owners *src;
    struct kmem_hindex ix;
};

static const char *src_path(void *arg, uint64_t id)
{
    const struct src_ids *s = arg;
    size_t it;

    for (long i = kmem_hindex_first(&s->ix, id * 0x9e3779b97f4a7c15ULL, &it); i >= 0;
         i = kmem_hindex_next(&s->ix, &it))
        if (s->src->rows[i].cgroup_id == id)
            return s->src->rows[i].cgroup;
    return NULL;
}

int kmem_owners_copy(struct kmem_owners *dst, const struct kmem_owners *src)
{
    struct src_ids ids = {.src = src};
    struct kmem_owners t;

    kmem_owners_init(&t);
    if (kmem_hindex_reset(&ids.ix, src->nrows))
        return -ENOMEM;
    for (size_t i = 0; i < src->nrows; i++) {
        const struct kmem_owner_row *r = &src->rows[i];

        if (kmem_owners_add(&t, r->cgroup_id, r->cache, r->objects, r->bytes))
            goto nomem;
        if (r->cgroup_id && r->cgroup && !src_path(&ids, r->cgroup_id))
            kmem_hindex_add(&ids.ix, r->cgroup_id * 0x9e3779b97f4a7c15ULL, i);
    }
    if (kmem_owners_finish(&t, src_path, &ids))
        goto nomem;
    kmem_hindex_free(&ids.ix);
    t.present = src->present;
    t.taken = src->taken;
    t.cpu_seconds = src->cpu_seconds;
    t.pages = src->pages;
    t.slabs = src->slabs;
    t.objects_charged = src->objects_charged;
    t.objects_uncharged = src->objects_uncharged;
    kmem_owners_free(dst);
    *dst = t;
    return 0;
nomem:
    kmem_hindex_free(&ids.ix);
    kmem_owners_free(&t);
    return -ENOMEM;
}
