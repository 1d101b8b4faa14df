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
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "parse.h"

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static int htab_reserve(struct kmem_slabinfo *si, size_t n)
{
    size_t cap = si->hcap ? si->hcap : 512;

    while (cap < n * 2)
        cap *= 2;
    if (cap != si->hcap) {
        uint32_t *t = realloc(si->htab, cap * sizeof(*t));
        if (!t)
            return -ENOMEM;
        si->htab = t;
        si->hcap = cap;
    }
    memset(si->htab, 0, si->hcap * sizeof(*si->htab));
    return 0;
}

/* Insert slab @i; set its dup to the number of earlier slabs with its name. */
static void htab_insert(struct kmem_slabinfo *si, size_t i)
{
    struct kmem_slab *s = &si->v[i];
    size_t mask = si->hcap - 1, h = name_hash(s->name) & mask;

    s->dup = 0;
    while (si->htab[h]) {
        if (strcmp(si->v[si->htab[h] - 1].name, s->name) == 0)
            s->dup++;
        h = (h + 1) & mask;
    }
    si->htab[h] = (uint32_t)(i + 1);
}

long kmem_slabinfo_find(const struct kmem_slabinfo *si, const char *name, unsigned dup)
{
    size_t mask, h;

    if (!si || !si->hcap || !si->n)
        return -1;
    mask = si->hcap - 1;
    for (h = name_hash(name) & mask; si->htab[h]; h = (h + 1) & mask) {
        const struct kmem_slab *s = &si->v[si->htab[h] - 1];
        if (s->dup == dup && strcmp(s->name, name) == 0)
            return (long)(si->htab[h] - 1);
    }
    return -1;
}

static int fail(struct kmem_parse_error *perr, unsigned line, const char *what)
{
    if (perr) {
        perr->line = line;
        perr->what = what;
    }
    return -EINVAL;
}

/*
 * Line parsing. Every line handed to parse_cache_line() ends with '\n' (the
 * last line of a file without one is copied and given one), so the scans
 * below stop at that sentinel without bounds checks: this loop is most of
 * the CPU of a refresh.
 */
static inline const char *skip_blanks(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static inline bool ends_token(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

static int number(const char **pp, uint64_t *out)
{
    const char *p = skip_blanks(*pp), *start = p;
    uint64_t v = 0;

    while ((unsigned char)(*p - '0') < 10) {
        v = v * 10 + (uint64_t)(*p - '0');
        p++;
    }
    if (p == start || !ends_token(*p))
        return -EINVAL;
    if (p - start > 19) { /* may have wrapped: redo with overflow checks */
        const char *q = start;
        int err = kmem_parse_u64(&q, p, &v);
        if (err)
            return err;
    }
    *pp = p;
    *out = v;
    return 0;
}

static int numbers(const char **p, uint64_t *const *dst, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int err = number(p, dst[i]);
        if (err)
            return err;
    }
    return 0;
}

/* The word @w (compared byte by byte, so the sentinel stops it) as a token. */
static bool word(const char **pp, const char *w)
{
    const char *p = skip_blanks(*pp);

    while (*w && *p == *w) {
        p++;
        w++;
    }
    if (*w || !ends_token(*p))
        return false;
    *pp = p;
    return true;
}

/* One cache line [p, lend) with *lend == '\n'. 0, or -EINVAL/-ERANGE with *what. */
static int parse_cache_line(const char *p, struct kmem_slab *s, const char **what)
{
    const char *q = skip_blanks(p), *name = q;
    size_t tlen;
    int err;

    while (!ends_token(*q) && *q)
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
    s->delta_objs = s->delta_bytes = 0;
    err = numbers(&q,
                  (uint64_t *const[]){&s->active_objs, &s->num_objs, &s->objsize, &s->objperslab,
                                      &s->pagesperslab},
                  5);
    if (err) {
        *what = err == -ERANGE ? "number too large" : "expected 5 numbers after the name";
        return err;
    }
    if (!word(&q, ":") || !word(&q, "tunables")) {
        *what = "expected \": tunables\"";
        return -EINVAL;
    }
    err = numbers(&q, (uint64_t *const[]){&s->limit, &s->batchcount, &s->sharedfactor}, 3);
    if (err) {
        *what = err == -ERANGE ? "number too large" : "expected 3 tunables";
        return err;
    }
    if (!word(&q, ":") || !word(&q, "slabdata")) {
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
    if (number(&q, &s->sharedavail) == -ERANGE) {
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

int kmem_slabinfo_parse(const char *buf, size_t len, struct kmem_slabinfo *out,
                        struct kmem_parse_error *perr)
{
    const char *p = buf, *end = buf + len;
    unsigned line = 1;
    int err;

    out->n = 0;
    if (perr) {
        perr->line = 0;
        perr->what = NULL;
    }
    if (len == 0) {
        fail(perr, 0, "the file is empty");
        return -ENODATA;
    }
    {
        const char *nl = memchr(p, '\n', len);
        const char *lend = nl ? nl : end;
        if (parse_header(p, lend, out))
            return fail(perr, 1, "not a slabinfo header (want \"slabinfo - version: 2.x\")");
        if (out->major != 2)
            return fail(perr, 1, "unsupported slabinfo version (kmem reads 2.x)");
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
            return fail(perr, line, "NUL byte in line");
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 256;
            struct kmem_slab *v;
            if (cap > UINT32_MAX / 2)
                return fail(perr, line, "too many caches");
            v = realloc(out->v, cap * sizeof(*v));
            if (!v)
                return -ENOMEM;
            out->v = v;
            out->cap = cap;
        }
        s = &out->v[out->n];
        s->line = line;
        if (lend == end) { /* the last line has no newline: give it one */
            if ((size_t)(end - p) >= sizeof(tail))
                return fail(perr, line, "line too long");
            memcpy(tail, p, (size_t)(end - p));
            tail[end - p] = '\n';
            err = parse_cache_line(tail, s, &what);
        } else {
            err = parse_cache_line(p, s, &what);
        }
        if (err)
            return fail(perr, line, what);
        out->n++;
        p = lend;
    }
    if (p != end)
        return fail(perr, line, "unexpected data");
    err = htab_reserve(out, out->n);
    if (err)
        return err;
    for (size_t i = 0; i < out->n; i++)
        htab_insert(out, i);
    return 0;
}

void kmem_slabinfo_release(struct kmem_slabinfo *si)
{
    free(si->v);
    free(si->htab);
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
}

int kmem_read_slabinfo(struct kmem_ctx *ctx, struct kmem_snapshot *snap)
{
    struct kmem_parse_error perr;
    char shown[512];
    int err;

    err = kmem_read_hot(ctx, KMEM_F_SLABINFO);
    if (err)
        return err;
    err = kmem_slabinfo_parse(ctx->buf.data, ctx->buf.len, &snap->slab, &perr);
    if (err == -EINVAL || err == -ENODATA)
        return kmem_err(ctx, err, "%s:%u: %s",
                        kmem_display_path(ctx, "proc/slabinfo", shown, sizeof(shown)), perr.line,
                        perr.what);
    if (err)
        return kmem_err(ctx, err, "reading %s: %s",
                        kmem_display_path(ctx, "proc/slabinfo", shown, sizeof(shown)),
                        strerror(-err));
    return 0;
}
