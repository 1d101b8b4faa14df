// SPDX-License-Identifier: MIT
/*
 * The owner walker's two pure functions, apart from its BPF loaders so that
 * tests and fuzz targets link them without libbpf: the end of the page frames
 * from /proc/zoneinfo (ownwalk.h) and the vote that pairs struct page pointers
 * with frame numbers (ownpair.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ownpair.h"
#include "ownwalk.h"
#include "sort.h"

#define GIB_MASK ((UINT64_C(1) << 30) - 1)

int kmem_ownwalk_zoneinfo_end(const char *text, size_t len, uint64_t *end_pfn)
{
    const char *p = text, *end = text + len;
    uint64_t spanned = 0, best = 0;
    int have_spanned = 0, found = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        char line[128];
        size_t n = (size_t)(e - p);
        unsigned long long v;

        if (n >= sizeof(line))
            n = sizeof(line) - 1;
        memcpy(line, p, n);
        line[n] = '\0';
        if (!strncmp(line, "Node ", 5)) {
            have_spanned = 0;
        } else if (sscanf(line, " spanned %llu", &v) == 1) {
            spanned = v;
            have_spanned = 1;
        } else if (sscanf(line, " start_pfn: %llu", &v) == 1 && have_spanned) {
            if (spanned && v <= UINT64_MAX - spanned && v + spanned > best)
                best = v + spanned;
            found = 1;
            have_spanned = 0;
        }
        p = e + 1;
    }
    if (!found || !best)
        return -EINVAL;
    *end_pfn = best;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

int kmem_ownpair_vote(const uint64_t *ptrs, size_t nptrs, const uint64_t *pfns, size_t npfns,
                      unsigned page_size, size_t need, uint64_t *vmemmap, size_t *votes)
{
    uint64_t *c;
    size_t n = 0, best = 0, run = 0;
    uint64_t bestv = 0;

    *votes = 0;
    if (!nptrs || !npfns || nptrs > SIZE_MAX / sizeof(*c) / npfns)
        return -ENOENT;
    c = malloc(nptrs * npfns * sizeof(*c));
    if (!c)
        return -ENOMEM;
    for (size_t i = 0; i < nptrs; i++)
        for (size_t j = 0; j < npfns; j++) {
            uint64_t v = ptrs[i] - pfns[j] * page_size;

            if (!(v & GIB_MASK) && (v >> 47) == 0x1ffff)
                c[n++] = v;
        }
    kmem_sort(c, n, sizeof(*c), cmp_u64);
    for (size_t i = 0; i < n; i++) {
        run = i && c[i] == c[i - 1] ? run + 1 : 1;
        if (run > best) {
            best = run;
            bestv = c[i];
        }
    }
    free(c);
    *votes = best;
    if (best < need)
        return -ENOENT;
    *vmemmap = bestv;
    return 0;
}
