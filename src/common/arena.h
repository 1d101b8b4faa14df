/* SPDX-License-Identifier: MIT */
/*
 * One string arena for libkmem: NUL-terminated strings appended to one
 * growable block and named by offset (the block moves as it grows, so
 * callers keep offsets while filling and turn them into pointers at the
 * end). Offset 0 is always "".
 */
#ifndef KMEM_ARENA_H
#define KMEM_ARENA_H

#include <stddef.h>

struct kmem_arena {
    char *p;
    size_t len, cap;
};

/* Empty the arena, keeping its memory; offset 0 becomes "". 0 or -ENOMEM. */
int kmem_arena_reset(struct kmem_arena *a);

/* Append [s, s + len) and a NUL; its offset in *off ("" is offset 0). 0 or -ENOMEM. */
int kmem_arena_add(struct kmem_arena *a, const char *s, size_t len, size_t *off);

/* kmem_arena_add() of a C string (NULL is ""). */
int kmem_arena_str(struct kmem_arena *a, const char *s, size_t *off);

static inline const char *kmem_arena_at(const struct kmem_arena *a, size_t off)
{
    return a->p + off;
}

/* Make @dst a copy of @src (same offsets), reusing @dst's memory. 0 or -ENOMEM. */
int kmem_arena_copy(struct kmem_arena *dst, const struct kmem_arena *src);

void kmem_arena_free(struct kmem_arena *a);

#endif
