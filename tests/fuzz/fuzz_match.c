/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the regular expressions of --collector.slabinfo.include and
 * --collector.slabinfo.exclude (src/exporter/match.c). The first line of the
 * input is the expression, each further line a subject to match. Checks:
 * compiling either succeeds within the state limit or says why; matching
 * ends (the automaton has no backtracking to blow up), and a remembered
 * result equals a fresh one.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    const char *nl = memchr(p, '\n', size);
    size_t relen = nl ? (size_t)(nl - p) : size;
    char *src = malloc(relen + 1);
    if (!src)
        return 0;
    memcpy(src, p, relen);
    src[relen] = '\0';

    struct kx_re *re = NULL;
    char err[256] = "";
    int r = kx_re_compile(&re, src, err, sizeof(err));
    if (r == 0) {
        if (!re || kx_re_size(re) == 0 || kx_re_size(re) > KX_RE_MAX_INST)
            abort();
        const char *s = nl ? nl + 1 : end;
        while (s <= end) {
            const char *e = memchr(s, '\n', (size_t)(end - s));
            size_t len = e ? (size_t)(e - s) : (size_t)(end - s);
            bool first = kx_re_match(re, s, len);
            if (kx_re_match(re, s, len) != first) /* remembered */
                abort();
            if (!e)
                break;
            s = e + 1;
        }
        kx_re_free(re);
    } else if ((r != -EINVAL && r != -ENOMEM) || re || !err[0]) {
        abort(); /* every refusal says why */
    }
    free(src);
    return 0;
}
