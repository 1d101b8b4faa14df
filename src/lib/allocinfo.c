/* SPDX-License-Identifier: MIT */
/*
 * /proc/allocinfo (Linux 6.10+, CONFIG_MEM_ALLOC_PROFILING; lib/alloc_tag.c):
 * the bytes and calls of every allocation call site.
 *
 *   allocinfo - version: 1.0
 *   #     <size>  <calls> <tag info>
 *          16384        4 mm/percpu-vm.c:95 func:pcpu_alloc_pages
 *          49152       48 arch/x86/kernel/cpu/mce/core.c:2709 func:mce_device_create accurate:no
 *           4096        1 fs/xfs/xfs_buf.c:123 [xfs] func:xfs_buf_alloc
 *
 * Version 2.0 adds "accurate:no"; sizes are signed (s64). The top sites by
 * bytes are kept.
 */
#include <errno.h>
#include <string.h>

#include "detail.h"
#include "parse.h"
#include "sat.h"

static bool prefix(const char *tok, size_t len, const char *p)
{
    size_t pl = strlen(p);

    return len >= pl && memcmp(tok, p, pl) == 0;
}

static void copy_tok(char *dst, size_t dlen, const char *tok, size_t len)
{
    if (len >= dlen)
        len = dlen - 1;
    for (size_t i = 0; i < len; i++)
        dst[i] = ((unsigned char)tok[i] < 0x20 || tok[i] == 0x7f) ? '?' : tok[i];
    dst[len] = '\0';
}

/* Keep @s in top[] (sorted by bytes, descending; ties keep file order). */
static void keep_top(struct kmem_allocinfo *out, const struct kmem_alloc_site *s)
{
    unsigned i = out->n_top;

    if (i == KMEM_ALLOCINFO_TOP) {
        if (s->bytes <= out->top[i - 1].bytes)
            return;
        i--;
    } else {
        out->n_top++;
    }
    while (i > 0 && out->top[i - 1].bytes < s->bytes) {
        out->top[i] = out->top[i - 1];
        i--;
    }
    out->top[i] = *s;
}

static int header(const char *p, const char *eol, struct kmem_allocinfo *out)
{
    static const char magic[] = "allocinfo - version:";
    uint64_t major, minor;

    if ((size_t)(eol - p) < sizeof(magic) - 1 || memcmp(p, magic, sizeof(magic) - 1))
        return -EINVAL;
    p = kmem_skip_blanks(p + sizeof(magic) - 1, eol);
    major = 0;
    while (p < eol && *p >= '0' && *p <= '9' && major < 1000)
        major = major * 10 + (uint64_t)(*p++ - '0');
    if (p == eol || *p != '.')
        return -EINVAL;
    p++;
    if (kmem_parse_u64(&p, eol, &minor) || minor > 1000 || major > 1000)
        return -EINVAL;
    out->major = (unsigned)major;
    out->minor = (unsigned)minor;
    return 0;
}

int kmem_allocinfo_parse(const char *buf, size_t len, struct kmem_allocinfo *out,
                         struct kmem_parse_error *err)
{
    const char *p = buf, *end = buf + len;
    unsigned line = 0;

    memset(out, 0, sizeof(*out));
    out->present = true;
    kmem_parse_ok(err);
    while (p < end) {
        const char *next, *eol = kmem_line_end(p, end, &next), *q, *tok;
        struct kmem_alloc_site s;
        uint64_t mag;
        size_t tl;
        bool neg;

        line++;
        q = kmem_skip_blanks(p, eol);
        p = next;
        if (line == 1) {
            if (header(q, eol, out))
                return kmem_parse_fail(err, 1,
                                       "not an allocinfo header (want \"allocinfo - "
                                       "version: N.M\")");
            continue;
        }
        /* blank lines, "# <size> ...", "<size> <calls> <tag info>" (per-node builds) */
        if (q == eol || *q == '#' || *q == '<')
            continue;
        memset(&s, 0, sizeof(s));
        neg = *q == '-';
        if (neg)
            q++;
        if (kmem_parse_u64(&q, eol, &mag) || mag > (uint64_t)INT64_MAX)
            return kmem_parse_fail(err, line, "expected \"SIZE CALLS file:line func:name\"");
        s.bytes = neg ? -(int64_t)mag : (int64_t)mag;
        if (kmem_parse_u64(&q, eol, &s.calls))
            return kmem_parse_fail(err, line, "expected the number of calls after the size");
        if (!kmem_next_token(&q, eol, &tok, &tl)) {
            /* per-NUMA-node lines ("nid0 ...") are skipped above; a bare number pair is not */
            return kmem_parse_fail(err, line, "expected the call site after the calls");
        }
        copy_tok(s.site, sizeof(s.site), tok, tl);
        while (kmem_next_token(&q, eol, &tok, &tl)) {
            if (tl > 2 && tok[0] == '[' && tok[tl - 1] == ']')
                copy_tok(s.module, sizeof(s.module), tok + 1, tl - 2);
            else if (prefix(tok, tl, "func:"))
                copy_tok(s.func, sizeof(s.func), tok + 5, tl - 5);
            else if (kmem_tok_eq(tok, tl, "accurate:no"))
                s.inaccurate = true;
        }
        out->sites++;
        out->calls = kmem_add_sat(out->calls, s.calls);
        if (__builtin_add_overflow(out->bytes, s.bytes, &out->bytes))
            out->bytes = s.bytes < 0 ? INT64_MIN : INT64_MAX;
        keep_top(out, &s);
    }
    if (line == 0)
        return kmem_parse_fail(err, 0, "the file is empty");
    return 0;
}
