/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "parse.h"

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
