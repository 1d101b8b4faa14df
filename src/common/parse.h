/* SPDX-License-Identifier: MIT */
/*
 * The one parsing vocabulary of libkmem: an overflow-checked cursor over
 * [p, end), its token helpers, sentinel variants for hot loops, and the one
 * parse-error type with its setter.
 */
#ifndef KMEM_PARSE_H
#define KMEM_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>

#include "parse_error.h"

/* Record @line and @what in @err (may be NULL) and return -EINVAL. */
static inline int kmem_parse_fail(struct kmem_parse_error *err, unsigned line, const char *what)
{
    if (err) {
        err->line = line;
        err->what = what;
    }
    return -EINVAL;
}

/* Clear @err (may be NULL). */
static inline void kmem_parse_ok(struct kmem_parse_error *err)
{
    if (err) {
        err->line = 0;
        err->what = NULL;
    }
}

static inline bool kmem_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Skip spaces and tabs (not newlines). */
static inline const char *kmem_skip_blanks(const char *p, const char *end)
{
    while (p < end && kmem_is_blank(*p))
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

/*
 * A file holding one decimal number and optional trailing whitespace
 * (cgroup v1 *_in_bytes, v2 memory.current). 0, -EINVAL or -ERANGE.
 */
int kmem_parse_single_u64(const char *buf, size_t len, uint64_t *out);

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

/*
 * A CPU list ("0-3,8", sys/devices/system/cpu/possible): the number of
 * CPUs, or 0 when it does not parse or names more than 2^24.
 */
unsigned kmem_cpulist_count(const char *buf, size_t len);

/* Advance *p to the start of the next line; false at the end. */
bool kmem_next_line(const char **p, const char *end);

/* The line at @p: its end (the '\n' or @end) and the start of the next line in *next. */
static inline const char *kmem_line_end(const char *p, const char *end, const char **next)
{
    const char *q = p;

    while (q < end && *q != '\n')
        q++;
    *next = q < end ? q + 1 : end;
    return q;
}

/* Compare a token with a NUL-terminated word. */
bool kmem_tok_eq(const char *tok, size_t len, const char *word);

/*
 * Sentinel variants for hot loops over lines that are known to end with
 * '\n' (no end pointer to check): the slabinfo parser, most of a refresh.
 */
static inline const char *kmem_sent_skip_blanks(const char *p)
{
    while (kmem_is_blank(*p))
        p++;
    return p;
}

static inline bool kmem_sent_ends_token(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

/* Unsigned decimal token; 0, -EINVAL, or -ERANGE (checked past 19 digits). */
static inline int kmem_sent_u64(const char **pp, uint64_t *out)
{
    const char *p = kmem_sent_skip_blanks(*pp), *start = p;
    uint64_t v = 0;

    while ((unsigned char)(*p - '0') < 10) {
        v = v * 10 + (uint64_t)(*p - '0');
        p++;
    }
    if (p == start || !kmem_sent_ends_token(*p))
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

/* The word @w as a whole token (compared byte by byte, so the sentinel stops it). */
static inline bool kmem_sent_word(const char **pp, const char *w)
{
    const char *p = kmem_sent_skip_blanks(*pp);

    while (*w && *p == *w) {
        p++;
        w++;
    }
    if (*w || !kmem_sent_ends_token(*p))
        return false;
    *pp = p;
    return true;
}

#endif
