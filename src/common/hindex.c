/* SPDX-License-Identifier: MIT */
/* The hash index. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hindex.h"

uint64_t kmem_hash_mem(const void *p, size_t len)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < len; i++) {
        h ^= s[i];
        h *= 1099511628211ull;
    }
    return h;
}

uint64_t kmem_hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    while (*s) {
        h ^= (unsigned char)*s++;
        h *= 1099511628211ull;
    }
    return h;
}

int kmem_hindex_reset(struct kmem_hindex *ix, size_t n)
{
    size_t size = 16;

    while (size < n + n / 2) {
        if (size > SIZE_MAX / 4 / sizeof(*ix->slot))
            return -ENOMEM;
        size *= 2;
    }
    if (size > ix->cap) {
        uint32_t *p = realloc(ix->slot, size * sizeof(*p));

        if (!p) {
            ix->size = 0;
            return -ENOMEM;
        }
        ix->slot = p;
        ix->cap = size;
    }
    ix->size = size;
    memset(ix->slot, 0, size * sizeof(*ix->slot));
    return 0;
}

void kmem_hindex_add(struct kmem_hindex *ix, uint64_t hash, size_t pos)
{
    size_t mask = ix->size - 1, h = (size_t)hash & mask;

    while (ix->slot[h])
        h = (h + 1) & mask;
    ix->slot[h] = (uint32_t)(pos + 1);
}

long kmem_hindex_first(const struct kmem_hindex *ix, uint64_t hash, size_t *it)
{
    if (!ix->size)
        return -1;
    *it = (size_t)hash & (ix->size - 1);
    return ix->slot[*it] ? (long)ix->slot[*it] - 1 : -1;
}

long kmem_hindex_next(const struct kmem_hindex *ix, size_t *it)
{
    *it = (*it + 1) & (ix->size - 1);
    return ix->slot[*it] ? (long)ix->slot[*it] - 1 : -1;
}

void kmem_hindex_free(struct kmem_hindex *ix)
{
    free(ix->slot);
    ix->slot = NULL;
    ix->cap = ix->size = 0;
}
