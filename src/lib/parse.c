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
