/* SPDX-License-Identifier: MIT */
/*
 * One growable byte buffer, one geometric array growth helper and one
 * whole-file reader for all of kmem (libkmem's readers and the front ends'
 * small files: web config, certificates).
 */
#ifndef KMEM_BUF_H
#define KMEM_BUF_H

#include <stddef.h>

/* A growable buffer; the owner frees data. Zero-initialised is empty. */
struct kmem_buf {
    char *data;
    size_t len, cap;
};

/*
 * Largest file any reader takes whole: far above any kernel file kmem reads
 * (/proc/vmallocinfo of a large server is a few MiB), far below what would
 * hurt a node. A bigger file fails with -EFBIG.
 */
#define KMEM_FILE_MAX ((size_t)32 << 20)

/* Make room for @need bytes. 0, -ENOMEM, or -EFBIG past KMEM_FILE_MAX. */
int kmem_buf_reserve(struct kmem_buf *b, size_t need);

/*
 * Read @fd from its current offset to EOF into @b (NUL-terminated, len
 * excludes the NUL). 0 or -errno; -EFBIG past @max bytes (0: KMEM_FILE_MAX).
 */
int kmem_buf_read_fd(struct kmem_buf *b, int fd, size_t max);

/*
 * Open @name relative to @dirfd (AT_FDCWD for a path) without blocking and
 * without following a final symlink when @nofollow, refuse anything but a
 * regular file (-EINVAL: a FIFO or device would block or never end), and
 * read it whole into @b. 0 or -errno.
 */
int kmem_buf_read_file(struct kmem_buf *b, int dirfd, const char *name, size_t max);

/* Open @name for reading, regular files only, O_NONBLOCK|O_CLOEXEC. fd or -errno. */
int kmem_open_regular(int dirfd, const char *name, int extra_flags);

/* Grow *v (*cap elements of @size) to hold @n, geometrically. 0 or -ENOMEM. */
int kmem_grow(void **v, size_t *cap, size_t n, size_t size);

/* kmem_grow() for a typed array pointer @ptr with *@capp elements. */
#define KMEM_GROW(err, ptr, capp, n)                                                               \
    do {                                                                                           \
        void *grow_p_ = (ptr);                                                                     \
        (err) = kmem_grow(&grow_p_, (capp), (n), sizeof(*(ptr)));                                  \
        (ptr) = grow_p_;                                                                           \
    } while (0)

#endif
