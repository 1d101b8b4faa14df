/* SPDX-License-Identifier: MIT */
/*
 * /proc/slabinfo reader.
 *
 *   slabinfo - version: 2.1 [(statistics)]
 *   # name <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>
 *     : tunables <limit> <batchcount> <sharedfactor>
 *     : slabdata <active_slabs> <num_slabs> <sharedavail> [: globalstat ... : cpustat ...]
 *
 * Version 2.0 differs only in the statistics columns, which are ignored (as
 * procps does). Lines starting with '#' are comments. Numbers are 64-bit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers.h"
#include "parse.h"

/* Index key of a (name, dup) pair: repeats of one name spread over the table. */
static uint64_t key_hash(const char *name, unsigned dup)
{
    return kmem_hash_str(name) + (uint64_t)dup * 0x9e3779b97f4a7c15ull;
}

static long find_in(const struct kmem_slabinfo *si, const char *name, unsigned dup)
{
    size_t it;

    for (long i = kmem_hindex_first(&si->index, key_hash(name, dup), &it); i >= 0;
         i = kmem_hindex_next(&si->index, &it)) {
        const struct kmem_slab *s = &si->v[i];

        if (s->dup == dup && strcmp(s->name, name) == 0)
            return i;
    }
    return -1;
}

long kmem_slabinfo_find(const struct kmem_slabinfo *si, const char *name, unsigned dup)
{
    if (!si || !si->n)
        return -1;
    return find_in(si, name, dup);
}

/*
 * Index slab @i and number it: dup = how many earlier lines have its name,
 * counted on the first of them (repeats), so each line costs O(1).
 */
static void index_slab(struct kmem_slabinfo *si, size_t i)
{
    struct kmem_slab *s = &si->v[i];
    long first = find_in(si, s->name, 0);

    s->repeats = 0;
    s->dup = 0;
    if (first >= 0)
        s->dup = ++si->v[first].repeats;
    kmem_hindex_add(&si->index, key_hash(s->name, s->dup), i);
}

/*
 * Line parsing. Every line handed to parse_cache_line() ends with '\n' (the
 * last line of a file without one is copied and given one), so the scans
 * below stop at that sentinel without bounds checks: this loop is most of
 * the CPU of a refresh.
 */
static int numbers(const char **p, uint64_t *const *dst, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int err = kmem_sent_u64(p, dst[i]);
        if (err)
            return err;
    }
    return 0;
}

/* One cache line [p, lend) with *lend == '\n'. 0, or -EINVAL/-ERANGE with *what. */
static int parse_cache_line(const char *p, struct kmem_slab *s, const char **what)
{
    const char *q = kmem_sent_skip_blanks(p), *name = q;
    size_t tlen;
    int err;

    while (!kmem_sent_ends_token(*q) && *q)
        q++;
    tlen = (size_t)(q - name);
    if (tlen == 0) {
        *what = "empty line";
        return -EINVAL;
    }
    if (tlen >= KMEM_SLAB_NAME_MAX) {
        *what = "cache name longer than 128 bytes";
        return -EINVAL;
    }
    memcpy(s->name, name, tlen);
    s->name[tlen] = '\0';
    s->has_prev = false;
    memset(&s->attr, 0, sizeof(s->attr));
    s->delta_objs = s->delta_bytes = 0;
    err = numbers(&q,
                  (uint64_t *const[]){&s->active_objs, &s->num_objs, &s->objsize, &s->objperslab,
                                      &s->pagesperslab},
                  5);
    if (err) {
        *what = err == -ERANGE ? "number too large" : "expected 5 numbers after the name";
        return err;
    }
    if (!kmem_sent_word(&q, ":") || !kmem_sent_word(&q, "tunables")) {
        *what = "expected \": tunables\"";
        return -EINVAL;
    }
    err = numbers(&q, (uint64_t *const[]){&s->limit, &s->batchcount, &s->sharedfactor}, 3);
    if (err) {
        *what = err == -ERANGE ? "number too large" : "expected 3 tunables";
        return err;
    }
    if (!kmem_sent_word(&q, ":") || !kmem_sent_word(&q, "slabdata")) {
        *what = "expected \": slabdata\"";
        return -EINVAL;
    }
    err = numbers(&q, (uint64_t *const[]){&s->active_slabs, &s->num_slabs}, 2);
    if (err) {
        *what = err == -ERANGE ? "number too large" : "expected slab counts";
        return err;
    }
    /* sharedavail, and SLAB's statistics columns after it, are optional. */
    s->sharedavail = 0;
    if (kmem_sent_u64(&q, &s->sharedavail) == -ERANGE) {
        *what = "number too large";
        return -ERANGE;
    }
    return 0;
}

static int parse_header(const char *p, const char *end, struct kmem_slabinfo *out)
{
    static const char magic[] = "slabinfo - version:";
    const char *tok;
    size_t len;
    uint64_t major, minor;

    if ((size_t)(end - p) < sizeof(magic) - 1 || memcmp(p, magic, sizeof(magic) - 1) != 0)
        return -EINVAL;
    p += sizeof(magic) - 1;
    p = kmem_skip_blanks(p, end);
    if (p == end || *p < '0' || *p > '9')
        return -EINVAL;
    major = 0;
    while (p < end && *p >= '0' && *p <= '9' && major < 1000)
        major = major * 10 + (uint64_t)(*p++ - '0');
    if (p == end || *p != '.')
        return -EINVAL;
    p++;
    if (kmem_parse_u64(&p, end, &minor) || minor > 1000)
        return -EINVAL;
    out->major = (unsigned)major;
    out->minor = (unsigned)minor;
    out->statistics = false;
    if (kmem_next_token(&p, end, &tok, &len)) {
        if (!kmem_tok_eq(tok, len, "(statistics)"))
            return -EINVAL;
        out->statistics = true;
    }
    return 0;
}

/* The change of the total over the caches with a previous value. */
static void totals_delta(struct kmem_slabinfo *si)
{
    si->totals.has_delta = false;
    si->totals.delta_bytes = 0;
    for (size_t i = 0; i < si->n; i++)
        if (si->v[i].has_prev) {
            si->totals.has_delta = true;
            si->totals.delta_bytes += si->v[i].delta_bytes;
        }
}

void kmem_slabinfo_totals(struct kmem_slabinfo *si, uint64_t page_size)
{
    struct kmem_slab_totals *t = &si->totals;

    memset(t, 0, sizeof(*t));
    t->caches = si->n;
    for (size_t i = 0; i < si->n; i++) {
        const struct kmem_slab *s = &si->v[i];

        t->active_caches += s->num_objs > 0;
        t->active_objs = kmem_add_sat(t->active_objs, s->active_objs);
        t->num_objs = kmem_add_sat(t->num_objs, s->num_objs);
        t->active_slabs = kmem_add_sat(t->active_slabs, s->active_slabs);
        t->num_slabs = kmem_add_sat(t->num_slabs, s->num_slabs);
        t->size_bytes = kmem_add_sat(t->size_bytes, kmem_slab_bytes(s, page_size));
        t->active_bytes = kmem_add_sat(t->active_bytes, kmem_slab_active_bytes(s));
        t->obj_bytes = kmem_add_sat(t->obj_bytes, kmem_mul_sat(s->num_objs, s->objsize));
        if (i == 0 || s->objsize < t->min_objsize)
            t->min_objsize = s->objsize;
        if (s->objsize > t->max_objsize)
            t->max_objsize = s->objsize;
    }
    totals_delta(si);
}

int kmem_slabinfo_parse(const char *buf, size_t len, struct kmem_slabinfo *out,
                        struct kmem_parse_error *perr)
{
    const char *p = buf, *end = buf + len;
    unsigned line = 1;
    int err;

    out->n = 0;
    kmem_parse_ok(perr);
    if (len == 0) {
        kmem_parse_fail(perr, 0, "the file is empty");
        return -ENODATA;
    }
    {
        const char *nl = memchr(p, '\n', len);
        const char *lend = nl ? nl : end;
        if (parse_header(p, lend, out))
            return kmem_parse_fail(perr, 1,
                                   "not a slabinfo header (want \"slabinfo - version: 2.x\")");
        if (out->major != 2)
            return kmem_parse_fail(perr, 1, "unsupported slabinfo version (kmem reads 2.x)");
        p = lend;
    }
    while (p < end && *p == '\n') {
        char tail[4096];
        const char *lend, *what = NULL;
        struct kmem_slab *s;

        p++;
        line++;
        if (p == end)
            break;
        lend = memchr(p, '\n', (size_t)(end - p));
        if (!lend)
            lend = end;
        if (*p == '#') {
            p = lend;
            continue;
        }
        if (memchr(p, '\0', (size_t)(lend - p)))
            return kmem_parse_fail(perr, line, "NUL byte in line");
        if (out->n == out->cap) {
            if (out->n >= UINT32_MAX / 4)
                return kmem_parse_fail(perr, line, "too many caches");
            KMEM_GROW(err, out->v, &out->cap, out->n + 1);
            if (err)
                return err;
        }
        s = &out->v[out->n];
        s->line = line;
        if (lend == end) { /* the last line has no newline: give it one */
            if ((size_t)(end - p) >= sizeof(tail))
                return kmem_parse_fail(perr, line, "line too long");
            memcpy(tail, p, (size_t)(end - p));
            tail[end - p] = '\n';
            err = parse_cache_line(tail, s, &what);
        } else {
            err = parse_cache_line(p, s, &what);
        }
        if (err)
            return kmem_parse_fail(perr, line, what);
        out->n++;
        p = lend;
    }
    if (p != end)
        return kmem_parse_fail(perr, line, "unexpected data");
    err = kmem_hindex_reset(&out->index, out->n);
    if (err)
        return err;
    for (size_t i = 0; i < out->n; i++)
        index_slab(out, i);
    kmem_slabinfo_totals(out, kmem_page_size());
    return 0;
}

void kmem_slabinfo_release(struct kmem_slabinfo *si)
{
    free(si->v);
    kmem_hindex_free(&si->index);
    kmem_arena_free(&si->attr_names);
    memset(si, 0, sizeof(*si));
}

void kmem_slabinfo_diff(struct kmem_slabinfo *cur, const struct kmem_slabinfo *prev,
                        uint64_t page_size)
{
    for (size_t i = 0; i < cur->n; i++) {
        struct kmem_slab *s = &cur->v[i];
        const struct kmem_slab *o = NULL;
        long j;

        if (prev && i < prev->n && prev->v[i].dup == s->dup &&
            strcmp(prev->v[i].name, s->name) == 0)
            o = &prev->v[i];
        else if ((j = kmem_slabinfo_find(prev, s->name, s->dup)) >= 0)
            o = &prev->v[j];
        s->has_prev = o != NULL;
        s->delta_objs = o ? (int64_t)(s->num_objs - o->num_objs) : 0;
        s->delta_bytes =
            o ? (int64_t)(kmem_slab_bytes(s, page_size) - kmem_slab_bytes(o, page_size)) : 0;
    }
    totals_delta(cur);
}

int kmem_read_slabinfo(struct kmem_io *io, struct kmem_slabinfo *out)
{
    struct kmem_parse_error perr;
    char shown[512];
    int err;

    err = kmem_read_hot(io, KMEM_F_SLABINFO);
    if (err)
        return err;
    err = kmem_slabinfo_parse(io->buf.data, io->buf.len, out, &perr);
    kmem_display_path(io, KMEM_DIR_PROC, "slabinfo", shown, sizeof(shown));
    if (err == -EINVAL || err == -ENODATA)
        return kmem_err(io, err, "%s:%u: %s", shown, perr.line, perr.what);
    if (err)
        return kmem_err(io, err, "reading %s: %s", shown, strerror(-err));
    return 0;
}
