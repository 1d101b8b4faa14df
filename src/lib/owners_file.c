// SPDX-License-Identifier: MIT
/*
 * kmem-owners.txt: the owner snapshot as a file (format in owners.h). The
 * writer is the only producer of the file, so the parser is strict: a key
 * out of place, a field too many, a row count or a total that does not add
 * up is a parse error naming the line.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "hindex.h"
#include "owners.h"
#include "parse.h"

/* Longest cache name or cgroup path the file may hold (unescaped). */
#define FIELD_MAX 4096

static const char *const header_key[] = {
    "taken", "cpu_seconds", "pages", "slabs", "objects_charged", "objects_uncharged", "rows",
};
enum { H_TAKEN, H_CPU, H_PAGES, H_SLABS, H_CHARGED, H_UNCHARGED, H_ROWS, H_COUNT };

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Unescape [s, e) into @out (FIELD_MAX + 1 bytes). 0 or -EINVAL with *what. */
static int unescape(const char *s, const char *e, char *out, const char **what)
{
    size_t n = 0;

    for (; s < e; s++) {
        unsigned char c = (unsigned char)*s;

        if (n == FIELD_MAX) {
            *what = "field longer than 4096 bytes";
            return -EINVAL;
        }
        if (c < 0x20 || c >= 0x7f) {
            *what = "unescaped control or non-ASCII byte";
            return -EINVAL;
        }
        if (c != '\\') {
            out[n++] = (char)c;
            continue;
        }
        if (++s == e) {
            *what = "backslash at the end of a field";
            return -EINVAL;
        }
        if (*s == 't') {
            out[n++] = '\t';
        } else if (*s == 'n') {
            out[n++] = '\n';
        } else if (*s == '\\') {
            out[n++] = '\\';
        } else if (*s == 'x' && e - s >= 3 && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
            int v = hexval(s[1]) * 16 + hexval(s[2]);

            if (v == 0) {
                *what = "\\x00 in a field";
                return -EINVAL;
            }
            out[n++] = (char)v;
            s += 2;
        } else {
            *what = "unknown escape (\\t, \\n, \\\\ or \\xHH)";
            return -EINVAL;
        }
    }
    out[n] = '\0';
    return 0;
}

/* A whole decimal field [s, e). */
static bool field_u64(const char *s, const char *e, uint64_t *v)
{
    const char *p = s;

    if (s == e || *s < '0' || *s > '9')
        return false;
    return kmem_parse_u64(&p, e, v) == 0 && p == e;
}

/* "<seconds>.<nanoseconds>", 1 to 9 digits after the point. */
static bool field_time(const char *s, const char *e, struct timespec *t)
{
    const char *dot = memchr(s, '.', (size_t)(e - s));
    uint64_t sec, frac;
    size_t nd;

    if (!dot || !field_u64(s, dot, &sec) || !field_u64(dot + 1, e, &frac))
        return false;
    nd = (size_t)(e - dot - 1);
    if (nd > 9 || sec > (uint64_t)INT64_MAX / 2)
        return false;
    for (size_t i = nd; i < 9; i++)
        frac *= 10;
    t->tv_sec = (time_t)sec;
    t->tv_nsec = (long)frac;
    return true;
}

/* A non-negative finite decimal ("0.0123"), digits and one point only. */
static bool field_double(const char *s, const char *e, double *v)
{
    char tmp[64];
    char *end;
    size_t n = (size_t)(e - s);

    if (n == 0 || n >= sizeof(tmp))
        return false;
    for (const char *p = s; p < e; p++)
        if ((*p < '0' || *p > '9') && *p != '.')
            return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    *v = strtod(tmp, &end);
    return *end == '\0' && isfinite(*v) && *v <= 1e9; /* a walk's CPU seconds */
}

/* The cgroup ids of the file, each with its path (one path per id). */
struct idmap {
    uint64_t *id;
    size_t *path; /* offset in names; 0: no path */
    size_t n, cap, pcap;
    struct kmem_arena names;
    struct kmem_hindex ix;
};

static long idmap_find(const struct idmap *m, uint64_t id)
{
    size_t it;

    if (!m->ix.size)
        return -1;
    for (long i = kmem_hindex_first(&m->ix, kmem_hash_mem(&id, sizeof(id)), &it); i >= 0;
         i = kmem_hindex_next(&m->ix, &it))
        if (m->id[i] == id)
            return i;
    return -1;
}

static int idmap_add(struct idmap *m, uint64_t id, const char *path)
{
    size_t off = 0;
    int err = 0;

    KMEM_GROW(err, m->id, &m->cap, m->n + 1);
    if (!err)
        KMEM_GROW(err, m->path, &m->pcap, m->n + 1);
    if (!err && *path)
        err = kmem_arena_str(&m->names, path, &off);
    if (!err && (m->ix.size == 0 || (m->n + 1) * 2 > m->ix.size)) {
        err = kmem_hindex_reset(&m->ix, m->n < 32 ? 64 : (m->n + 1) * 2);
        for (size_t i = 0; !err && i < m->n; i++)
            kmem_hindex_add(&m->ix, kmem_hash_mem(&m->id[i], sizeof(m->id[i])), i);
    }
    if (err)
        return -ENOMEM;
    m->id[m->n] = id;
    m->path[m->n] = off;
    kmem_hindex_add(&m->ix, kmem_hash_mem(&id, sizeof(id)), m->n);
    m->n++;
    return 0;
}

static const char *idmap_path(void *arg, uint64_t id)
{
    struct idmap *m = arg;
    long i = idmap_find(m, id);

    return i >= 0 && m->path[i] ? kmem_arena_at(&m->names, m->path[i]) : NULL;
}

struct pstate {
    struct kmem_owners *o;
    struct kmem_parse_error *err;
    struct idmap ids;
    char cache[FIELD_MAX + 1], path[FIELD_MAX + 1];
};

/* One row line [s, e): id, objects, bytes, cache, path. */
static int parse_row(struct pstate *ps, const char *s, const char *e, unsigned line)
{
    const char *f[5], *fe[5], *what = NULL;
    uint64_t id, objects, bytes;
    size_t before;
    long known;
    int nf = 0, err;

    f[0] = s;
    for (const char *p = s;; p++) {
        if (p == e || *p == '\t') {
            if (nf == 5)
                return kmem_parse_fail(ps->err, line, "more than 5 fields in a row");
            fe[nf++] = p;
            if (p == e)
                break;
            if (nf == 5)
                return kmem_parse_fail(ps->err, line, "more than 5 fields in a row");
            f[nf] = p + 1;
        }
    }
    if (nf != 5)
        return kmem_parse_fail(
            ps->err, line, "a row is <cgroup_id> <objects> <bytes> <cache> <path>, TAB-separated");
    if (!field_u64(f[0], fe[0], &id))
        return kmem_parse_fail(ps->err, line, "cgroup id is not a number");
    if (!field_u64(f[1], fe[1], &objects))
        return kmem_parse_fail(ps->err, line, "objects is not a number");
    if (!field_u64(f[2], fe[2], &bytes))
        return kmem_parse_fail(ps->err, line, "bytes is not a number");
    if (objects && !bytes)
        return kmem_parse_fail(ps->err, line, "objects without bytes");
    if (unescape(f[3], fe[3], ps->cache, &what) || unescape(f[4], fe[4], ps->path, &what))
        return kmem_parse_fail(ps->err, line, what);
    if (!ps->cache[0])
        return kmem_parse_fail(ps->err, line, "empty cache name");
    if (id == 0 && ps->path[0])
        return kmem_parse_fail(ps->err, line, "cgroup id 0 (not charged) with a path");
    if (ps->path[0] && ps->path[0] != '/')
        return kmem_parse_fail(ps->err, line, "cgroup path does not start with /");
    known = idmap_find(&ps->ids, id);
    if (known >= 0) {
        const char *had =
            ps->ids.path[known] ? kmem_arena_at(&ps->ids.names, ps->ids.path[known]) : "";

        if (strcmp(had, ps->path))
            return kmem_parse_fail(ps->err, line, "one cgroup id with two paths");
    } else if (idmap_add(&ps->ids, id, ps->path)) {
        return -ENOMEM;
    }
    before = kmem_owners_count(ps->o);
    err = kmem_owners_add(ps->o, id, ps->cache, objects, bytes);
    if (err)
        return err;
    if (kmem_owners_count(ps->o) == before)
        return kmem_parse_fail(ps->err, line, "the same (cgroup id, cache) twice");
    return 0;
}

int kmem_owners_parse(const char *buf, size_t len, struct kmem_owners *o,
                      struct kmem_parse_error *perr)
{
    struct pstate *ps;
    const char *p = buf, *end = buf + len, *next, *e, *z;
    uint64_t hv[H_COUNT] = {0}, nrows, seen = 0;
    unsigned line = 0;
    int err = 0;

    kmem_owners_free(o);
    kmem_parse_ok(perr);
    ps = calloc(1, sizeof(*ps));
    if (!ps || kmem_arena_reset(&ps->ids.names)) {
        free(ps);
        return -ENOMEM;
    }
    ps->o = o;
    ps->err = perr;
    z = memchr(buf, '\0', len);
    if (z) {
        unsigned l = 1;

        for (const char *q = buf; q < z; q++)
            l += *q == '\n';
        err = kmem_parse_fail(perr, l, "NUL byte");
        goto out;
    }
    line = 1;
    e = kmem_line_end(p, end, &next);
    if ((size_t)(e - p) != 13 || memcmp(p, "kmem-owners 1", 13)) {
        err = kmem_parse_fail(perr, line,
                              (size_t)(e - p) > 12 && !memcmp(p, "kmem-owners ", 12)
                                  ? "unsupported version (kmem reads kmem-owners 1)"
                                  : "not a kmem-owners file (first line: kmem-owners 1)");
        goto out;
    }
    p = next;
    for (int k = 0; k < H_COUNT; k++) {
        size_t kl = strlen(header_key[k]);
        const char *v;
        bool ok;

        line++;
        if (p == end) {
            err = kmem_parse_fail(perr, line, "file ends before the rows");
            goto out;
        }
        e = kmem_line_end(p, end, &next);
        if ((size_t)(e - p) <= kl || memcmp(p, header_key[k], kl) || p[kl] != ' ') {
            err = kmem_parse_fail(perr, line,
                                  "header keys in order: taken, cpu_seconds, pages, slabs, "
                                  "objects_charged, objects_uncharged, rows");
            goto out;
        }
        v = p + kl + 1;
        if (k == H_TAKEN)
            ok = field_time(v, e, &o->taken);
        else if (k == H_CPU)
            ok = field_double(v, e, &o->cpu_seconds);
        else
            ok = field_u64(v, e, &hv[k]);
        if (!ok) {
            err = kmem_parse_fail(perr, line,
                                  k == H_TAKEN ? "taken is not <seconds>.<nanoseconds>"
                                               : "value is not a number");
            goto out;
        }
        p = next;
    }
    nrows = hv[H_ROWS];
    while (p < end) {
        line++;
        e = kmem_line_end(p, end, &next);
        if (seen == nrows) {
            err = kmem_parse_fail(perr, line, "more rows than the rows line says");
            goto out;
        }
        err = parse_row(ps, p, e, line);
        if (err)
            goto out;
        seen++;
        p = next;
    }
    if (seen != nrows) {
        err = kmem_parse_fail(perr, line + 1, "fewer rows than the rows line says (truncated?)");
        goto out;
    }
    if (o->objects_charged != hv[H_CHARGED] || o->objects_uncharged != hv[H_UNCHARGED]) {
        err = kmem_parse_fail(perr, 1 + H_CHARGED + 1,
                              "objects_charged / objects_uncharged are not the sums of the rows");
        goto out;
    }
    o->pages = hv[H_PAGES];
    o->slabs = hv[H_SLABS];
    o->present = true;
    err = kmem_owners_finish(o, idmap_path, &ps->ids);
out:
    free(ps->ids.id);
    free(ps->ids.path);
    kmem_arena_free(&ps->ids.names);
    kmem_hindex_free(&ps->ids.ix);
    free(ps);
    if (err) {
        struct timespec t0 = {0};

        kmem_owners_free(o);
        o->taken = t0;
    }
    return err;
}

static int put_escaped(struct kmem_buf *b, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        int err = kmem_buf_reserve(b, b->len + 5);

        if (err)
            return err;
        if (c == '\t' || c == '\n' || c == '\\') {
            b->data[b->len++] = '\\';
            b->data[b->len++] = c == '\t' ? 't' : c == '\n' ? 'n' : '\\';
        } else if (c < 0x20 || c >= 0x7f) {
            b->len += (size_t)snprintf(b->data + b->len, 5, "\\x%02x", c);
        } else {
            b->data[b->len++] = (char)c;
        }
    }
    return 0;
}

int kmem_owners_format(const struct kmem_owners *o, struct kmem_buf *b)
{
    int err;

    b->len = 0;
    err = kmem_buf_printf(
        b,
        "kmem-owners 1\ntaken %lld.%09ld\ncpu_seconds %.6f\npages %llu\nslabs %llu\n"
        "objects_charged %llu\nobjects_uncharged %llu\nrows %zu\n",
        (long long)o->taken.tv_sec, (long)o->taken.tv_nsec,
        o->cpu_seconds >= 0 && isfinite(o->cpu_seconds) ? o->cpu_seconds : 0.0,
        (unsigned long long)o->pages, (unsigned long long)o->slabs,
        (unsigned long long)o->objects_charged, (unsigned long long)o->objects_uncharged, o->nrows);
    for (size_t i = 0; !err && i < o->nrows; i++) {
        const struct kmem_owner_row *r = &o->rows[i];
        /* A name the writer made for an unknown id is not a path: left empty. */
        const char *path = r->cgroup_id && r->cgroup && r->cgroup[0] == '/' ? r->cgroup : "";

        err = kmem_buf_printf(b, "%llu\t%llu\t%llu\t", (unsigned long long)r->cgroup_id,
                              (unsigned long long)r->objects, (unsigned long long)r->bytes);
        if (!err)
            err = put_escaped(b, r->cache);
        if (!err)
            err = kmem_buf_printf(b, "\t");
        if (!err)
            err = put_escaped(b, path);
        if (!err)
            err = kmem_buf_printf(b, "\n");
    }
    return err;
}
