/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "parse.h"

bool kmem_next_line(const char **p, const char *end)
{
    const char *q = memchr(*p, '\n', (size_t)(end - *p));

    if (!q) {
        *p = end;
        return false;
    }
    *p = q + 1;
    return *p < end;
}

bool kmem_tok_eq(const char *tok, size_t len, const char *word)
{
    size_t wl = strlen(word);

    return len == wl && memcmp(tok, word, wl) == 0;
}

int kmem_parse_single_u64(const char *buf, size_t len, uint64_t *out)
{
    const char *p = buf, *end = buf + len;
    int err = kmem_parse_u64(&p, end, out);

    if (err)
        return err;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n'))
        p++;
    return p == end ? 0 : -EINVAL;
}

unsigned kmem_cpulist_count(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    uint64_t count = 0;

    while (end > p && (end[-1] == '\n' || end[-1] == '\0' || kmem_is_blank(end[-1])))
        end--;
    for (;;) {
        /* One range, "N" or "N-M", up to the next ',': each number with the
         * parse cursor bounded to its own characters. */
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        const char *dash = memchr(p, '-', (size_t)(stop - p));
        uint64_t lo, hi;

        if (kmem_parse_u64(&p, dash ? dash : stop, &lo) || p != (dash ? dash : stop))
            return 0;
        hi = lo;
        if (dash) {
            p = dash + 1;
            if (kmem_parse_u64(&p, stop, &hi) || p != stop || hi < lo)
                return 0;
        }
        if (hi - lo >= (1u << 24))
            return 0;
        count += hi - lo + 1;
        if (count > (1u << 24))
            return 0;
        if (!comma)
            break;
        p = comma + 1;
    }
    return (unsigned)count;
}
