/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "parse.h"

int kmem_parse_u64(const char **p, const char *end, uint64_t *out)
{
    const char *s = kmem_skip_blanks(*p, end);
    uint64_t v = 0;

    if (s == end || *s < '0' || *s > '9')
        return -EINVAL;
    while (s < end && *s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
        s++;
    }
    if (s < end && !(*s == ' ' || *s == '\t' || *s == '\n' || *s == '\0'))
        return -EINVAL;
    *out = v;
    *p = s;
    return 0;
}

bool kmem_next_token(const char **p, const char *end, const char **tok, size_t *len)
{
    const char *s = kmem_skip_blanks(*p, end);
    const char *t = s;

    while (t < end && *t != ' ' && *t != '\t' && *t != '\n' && *t != '\0')
        t++;
    *p = t;
    *tok = s;
    *len = (size_t)(t - s);
    return t > s;
}

bool kmem_next_line(const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));

    if (!nl) {
        *p = end;
        return false;
    }
    *p = nl + 1;
    return *p < end;
}

bool kmem_tok_eq(const char *tok, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(tok, word, len) == 0;
}
