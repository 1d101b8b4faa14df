/* SPDX-License-Identifier: MIT */
/* The string arena. */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"

int kmem_arena_reset(struct kmem_arena *a)
{
    void *p = a->p;
    int err = kmem_grow(&p, &a->cap, 1, 1);

    if (err)
        return err;
    a->p = p;
    a->p[0] = '\0';
    a->len = 1;
    return 0;
}

int kmem_arena_add(struct kmem_arena *a, const char *s, size_t len, size_t *off)
{
    void *p;
    int err;

    if (len == 0) {
        *off = 0;
        return 0;
    }
    if (a->len == 0) {
        err = kmem_arena_reset(a);
        if (err)
            return err;
    }
    p = a->p;
    err = kmem_grow(&p, &a->cap, a->len + len + 1, 1);
    if (err)
        return err;
    a->p = p;
    memcpy(a->p + a->len, s, len);
    a->p[a->len + len] = '\0';
    *off = a->len;
    a->len += len + 1;
    return 0;
}

int kmem_arena_str(struct kmem_arena *a, const char *s, size_t *off)
{
    return kmem_arena_add(a, s ? s : "", s ? strlen(s) : 0, off);
}

int kmem_arena_copy(struct kmem_arena *dst, const struct kmem_arena *src)
{
    void *p = dst->p;
    int err;

    if (src->len == 0)
        return kmem_arena_reset(dst);
    err = kmem_grow(&p, &dst->cap, src->len, 1);
    if (err)
        return err;
    dst->p = p;
    memcpy(dst->p, src->p, src->len);
    dst->len = src->len;
    return 0;
}

void kmem_arena_free(struct kmem_arena *a)
{
    free(a->p);
    a->p = NULL;
    a->len = a->cap = 0;
}
