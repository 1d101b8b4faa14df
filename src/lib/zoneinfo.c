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

#include "node.h"
#include "parse.h"

int kmem_zoneinfo_parse(const char *buf, size_t len, uint64_t *pcp_pages,
                        struct kmem_parse_error *err)
{
    const char *p = buf, *end = buf + len;
    bool in_pagesets = false, want_count = false;
    unsigned line = 0;
    uint64_t sum = 0;

    kmem_parse_ok(err);
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
        q = p;
        kmem_next_token(&q, eol, &tok, &tlen);
        indent = (size_t)(tok - p);
        p = eol < end ? eol + 1 : end;
        if (tlen == 0)
            continue; /* blank line */

        if (indent <= 2 && !kmem_tok_eq(tok, tlen, "vm")) {
            /* A zone header or a zone-level line: "pagesets" opens the section. */
            in_pagesets = indent == 2 && kmem_tok_eq(tok, tlen, "pagesets");
            want_count = false;
            if (in_pagesets && kmem_skip_blanks(q, eol) != eol)
                return kmem_parse_fail(err, line, "unexpected text after \"pagesets\"");
            continue;
        }
        if (!in_pagesets)
            continue;
        if (kmem_tok_eq(tok, tlen, "cpu:")) {
            /* Kernels before 2.6.26 print "cpu: 0 pcp: 0" (hot and cold lists). */
            if (kmem_parse_u64(&q, eol, &v))
                return kmem_parse_fail(err, line, "expected \"cpu: N\" in a pagesets section");
            want_count = true;
        } else if (want_count && kmem_tok_eq(tok, tlen, "count:")) {
            rc = kmem_parse_u64(&q, eol, &v);
            if (rc == -ERANGE)
                return kmem_parse_fail(err, line, "count too large for 64 bits");
            if (rc || kmem_skip_blanks(q, eol) != eol)
                return kmem_parse_fail(err, line, "expected \"count: N\" after \"cpu: N\"");
            if (v > UINT64_MAX - sum)
                return kmem_parse_fail(err, line, "sum of per-CPU counts overflows 64 bits");
            sum += v;
            want_count = false;
        }
    }
    *pcp_pages = sum;
    return 0;
}
