/* SPDX-License-Identifier: MIT */
/* Checks on rendered text shared by the renderer tests (include after cmocka.h). */
#ifndef KMEM_TEST_TEXTCHECK_H
#define KMEM_TEST_TEXTCHECK_H

#include <stdio.h>
#include <string.h>

static inline void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("missing: %s\n--- in ---\n%s", needle, hay);
}

static inline void assert_lacks(const char *hay, const char *needle)
{
    if (strstr(hay, needle))
        fail_msg("unexpected: %s", needle);
}

static inline int count_lines(const char *s)
{
    int n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The line of @text that starts with @prefix, copied into @out ("" if none). */
static inline const char *line_starting(const char *text, const char *prefix, char *out, size_t len)
{
    size_t pl = strlen(prefix);

    for (const char *p = text; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t ll = e ? (size_t)(e - p) : strlen(p);

        if (ll >= pl && memcmp(p, prefix, pl) == 0) {
            snprintf(out, len, "%.*s", (int)ll, p);
            return out;
        }
        p = e ? e + 1 : NULL;
    }
    snprintf(out, len, "%s", "");
    return out;
}

/* Row index of the first line ending with @suffix, or -1. */
static inline int row_of(const char *text, const char *suffix)
{
    size_t sl = strlen(suffix);
    int row = 0;

    for (const char *p = text; *p; row++) {
        const char *e = strchr(p, '\n');
        size_t ll = e ? (size_t)(e - p) : strlen(p);

        if (ll >= sl && memcmp(p + ll - sl, suffix, sl) == 0)
            return row;
        if (!e)
            break;
        p = e + 1;
    }
    return -1;
}

#endif
