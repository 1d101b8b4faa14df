/* SPDX-License-Identifier: MIT */
/* Sorting that every part of kmem shares. */
#ifndef KMEM_SORT_H
#define KMEM_SORT_H

#include <stdlib.h>

/*
 * qsort(3) of the @n elements at @base. Fewer than two are left as they are:
 * qsort() with no elements is still undefined when @base is NULL (an empty
 * array never allocated), and UBSan reports it.
 */
static inline void kmem_sort(void *base, size_t n, size_t size,
                             int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

#endif
