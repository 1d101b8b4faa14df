/* SPDX-License-Identifier: MIT */
/*
 * /proc/zoneinfo: the pages sitting in per-CPU page lists (free, but not in
 * MemFree). Each zone has a "pagesets" section listing every CPU:
 *
 *   Node 0, zone   Normal
 *     ...
 *     pagesets
 *       cpu: 0
 *                 count:    5577
 *                 high:     5939
 *                 ...
 *     vm stats threshold: 20
 *       cpu: 1
 *                 count:    5088
 *     ...
 *     node_unreclaimable:  0
 *
 * Only the first "count:" after each "cpu:" of a pagesets section is summed:
 * "count" nowhere else, and no other field. The section ends at a line
 * indented by two spaces or less, except "vm stats threshold:", which the
 * kernel prints inside it (after each CPU).
 */
#include <errno.h>
#include <string.h>

#include "kv.h"
#include "parse.h"

static int zi_fail(struct kmem_parse_error *err, unsigned line, const char *what)
{
    err->line = line;
    err->what = what;
    return -EINVAL;
}

/* First blank-separated token of [p, eol): *tok, *len. */
static const char *first_token(const char *p, const char *eol, size_t *len)
{
    const char *s = kmem_skip_blanks(p, eol), *t = s;

    while (t < eol && *t != ' ' && *t != '\t')
        t++;
    *len = (size_t)(t - s);
    return s;
}

static bool tok_is(const char *tok, size_t len, const char *word)
{
    size_t wl = strlen(word);

    return len == wl && memcmp(tok, word, wl) == 0;
}

int kmem_zoneinfo_parse_ex(const char *buf, size_t len, uint64_t *pcp_pages,
                           struct kmem_parse_error *err)
{
    const char *p = buf, *end = buf + len;
    bool in_pagesets = false, want_count = false;
    unsigned line = 0;
    uint64_t sum = 0;

    err->line = 0;
    err->what = NULL;
    *pcp_pages = 0;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *tok, *q;
        size_t indent, tlen;
        uint64_t v;
        int rc;

        if (!eol)
            eol = end;
        line++;
        tok = first_token(p, eol, &tlen);
        indent = (size_t)(tok - p);
        q = tok + tlen;
        p = eol < end ? eol + 1 : end;
        if (tlen == 0)
            continue; /* blank line */

        if (indent <= 2 && !tok_is(tok, tlen, "vm")) {
            /* A zone header or a zone-level line: "pagesets" opens the section. */
            in_pagesets = indent == 2 && tok_is(tok, tlen, "pagesets");
            want_count = false;
            if (in_pagesets && kmem_skip_blanks(q, eol) != eol)
                return zi_fail(err, line, "unexpected text after \"pagesets\"");
            continue;
        }
        if (!in_pagesets)
            continue;
        if (tok_is(tok, tlen, "cpu:")) {
            /* Kernels before 2.6.26 print "cpu: 0 pcp: 0" (hot and cold lists). */
            if (kmem_parse_u64(&q, eol, &v))
                return zi_fail(err, line, "expected \"cpu: N\" in a pagesets section");
            want_count = true;
        } else if (want_count && tok_is(tok, tlen, "count:")) {
            rc = kmem_parse_u64(&q, eol, &v);
            if (rc == -ERANGE)
                return zi_fail(err, line, "count too large for 64 bits");
            if (rc || kmem_skip_blanks(q, eol) != eol)
                return zi_fail(err, line, "expected \"count: N\" after \"cpu: N\"");
            if (v > UINT64_MAX - sum)
                return zi_fail(err, line, "sum of per-CPU counts overflows 64 bits");
            sum += v;
            want_count = false;
        }
    }
    *pcp_pages = sum;
    return 0;
}

int kmem_zoneinfo_parse(const char *buf, size_t len, uint64_t *pcp_pages, unsigned *line)
{
    struct kmem_parse_error err;
    int rc = kmem_zoneinfo_parse_ex(buf, len, pcp_pages, &err);

    if (line)
        *line = err.line;
    return rc;
}
