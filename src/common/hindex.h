/* SPDX-License-Identifier: MIT */
/*
 * One hash index for libkmem: open addressing over positions in the
 * caller's array (slot value = position + 1, 0 = empty). The caller keeps
 * the keys; a lookup walks the probe chain of a hash and compares.
 *
 *     for (long i = kmem_hindex_first(ix, h, &it); i >= 0; i = kmem_hindex_next(ix, &it))
 *         if (matches(&array[i])) ...
 */
#ifndef KMEM_HINDEX_H
#define KMEM_HINDEX_H

#include <stddef.h>
#include <stdint.h>

struct kmem_hindex {
    uint32_t *slot;
    size_t cap;  /* allocated slots */
    size_t size; /* slots in use, a power of two (0: empty index) */
};

/* FNV-1a of a C string / of @len bytes. */
uint64_t kmem_hash_str(const char *s);
uint64_t kmem_hash_mem(const void *p, size_t len);

/* Empty the index and size it for @n entries (load <= 2/3: 4 bytes a slot,
 * 6 to 12 bytes an entry). 0 or -ENOMEM. */
int kmem_hindex_reset(struct kmem_hindex *ix, size_t n);

/* Add position @pos under @hash (no check for duplicates). */
void kmem_hindex_add(struct kmem_hindex *ix, uint64_t hash, size_t pos);

/* Probe-chain iteration: first/next candidate position, or -1 at the end. */
long kmem_hindex_first(const struct kmem_hindex *ix, uint64_t hash, size_t *it);
long kmem_hindex_next(const struct kmem_hindex *ix, size_t *it);

void kmem_hindex_free(struct kmem_hindex *ix);

#endif
