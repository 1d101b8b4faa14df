/* SPDX-License-Identifier: MIT */
/* Overflow-checked number and token parsing over a [p, end) cursor. */
#ifndef KMEM_PARSE_H
#define KMEM_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>

/* Skip spaces and tabs (not newlines). */
static inline const char *kmem_skip_blanks(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/*
 * Parse an unsigned decimal at *p (after blanks). On success advance *p past
 * the digits and return 0. -EINVAL if there are no digits, -ERANGE on
 * overflow. The digits must end at a blank, newline, NUL or @end.
 */
static inline int kmem_parse_u64(const char **p, const char *end, uint64_t *out)
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

/* Next whitespace-separated token on the current line: [*tok, *tok + *len). */
static inline bool kmem_next_token(const char **p, const char *end, const char **tok, size_t *len)
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

/* Advance *p to the start of the next line; false at the end. */
bool kmem_next_line(const char **p, const char *end);

/* Compare a token with a NUL-terminated word. */
bool kmem_tok_eq(const char *tok, size_t len, const char *word);

#endif
