/* SPDX-License-Identifier: MIT */
/*
 * One growable byte buffer, one geometric array growth helper and one
 * whole-file reader for all of kmem (libkmem's readers and the front ends'
 * small files: web config, certificates).
 */
#ifndef KMEM_BUF_H
#define KMEM_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "macros.h"

/* A growable buffer; the owner frees data. Zero-initialised is empty. */
struct kmem_buf {
    char *data;
    size_t len, cap;
    size_t max; /* appends (kmem_buf_add...) past this length fail with -E2BIG; 0: KMEM_FILE_MAX */
    int err;    /* appends: 0, or the first failure (-ENOMEM, -E2BIG), sticky */
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
 * kmem_buf_read_fd() asking at most @chunk bytes per read() (0: no limit).
 * A seq_file fills its page-sized buffer record by record until it holds
 * what read() asked for; the record that does not fit is generated, thrown
 * away and generated again by the next read(). Asking a little less than a
 * page (the page less the longest record) means no record is ever generated
 * twice: worth it where a record is costly, as /proc/slabinfo's (SLUB walks
 * the cache's partial slabs for each line).
 */
int kmem_buf_read_fd_chunked(struct kmem_buf *b, int fd, size_t max, size_t chunk);

/*
 * Open @name relative to @dirfd (AT_FDCWD for a path) without blocking and
 * without following a final symlink when @nofollow, refuse anything but a
 * regular file (-EINVAL: a FIFO or device would block or never end), and
 * read it whole into @b. 0 or -errno.
 */
int kmem_buf_read_file(struct kmem_buf *b, int dirfd, const char *name, size_t max);

/* Open @name for reading, regular files only, O_NONBLOCK|O_CLOEXEC. fd or -errno. */
int kmem_open_regular(int dirfd, const char *name, int extra_flags);

/*
 * The one checked array growth: grow *v (*cap elements of @size) to hold
 * @n, geometrically; the size multiplication is checked. 0 or -ENOMEM.
 */
int kmem_grow(void **v, size_t *cap, size_t n, size_t size);

/*
 * Hand the whole pages inside [p, p + len) of a live allocation back to the
 * kernel (madvise MADV_DONTNEED): they read as zeros when touched again, and
 * until then are not resident. For scratch arrays kept between uses, so that
 * they cost no RSS while idle and need no new allocation (a freed large
 * block moves glibc's mmap threshold and a busy heap grows instead).
 */
void kmem_drop_pages(void *p, size_t len);

/* kmem_grow() for a typed array pointer @ptr with *@capp elements. */
#define KMEM_GROW(err, ptr, capp, n)                                                               \
    do {                                                                                           \
        void *grow_p_ = (ptr);                                                                     \
        (err) = kmem_grow(&grow_p_, (capp), (n), sizeof(*(ptr)));                                  \
        (ptr) = grow_p_;                                                                           \
    } while (0)

/*
 * Appending (the writers: exposition, JSON): every append either succeeds
 * or frees the data and leaves the buffer in a sticky error state (err < 0),
 * so a writer may append many pieces and check once at the end (curl's
 * dynbuf). The data stays NUL-terminated.
 */
void kmem_buf_init(struct kmem_buf *b, size_t max);
void kmem_buf_free(struct kmem_buf *b);
/* Empty the buffer, keeping its allocation (and clearing the error). */
void kmem_buf_reset(struct kmem_buf *b);
int kmem_buf_add_slow(struct kmem_buf *b, const void *p, size_t n);

/* Append @n bytes. 0, or the sticky error. */
static inline int kmem_buf_add(struct kmem_buf *b, const void *p, size_t n)
{
    if (b->err == 0 && n < b->cap - b->len && b->len + n <= (b->max ? b->max : KMEM_FILE_MAX)) {
        if (n)
            memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
    }
    return kmem_buf_add_slow(b, p, n);
}
static inline int kmem_buf_addc(struct kmem_buf *b, char c)
{
    return kmem_buf_add(b, &c, 1);
}
int kmem_buf_adds(struct kmem_buf *b, const char *s);
int kmem_buf_printf(struct kmem_buf *b, const char *fmt, ...) KMEM_PRINTF(2, 3);
int kmem_buf_add_u64(struct kmem_buf *b, uint64_t v);
int kmem_buf_add_i64(struct kmem_buf *b, int64_t v);
/*
 * The one message setter: printf into the fixed buffer @buf of @len bytes
 * (truncated, NUL-terminated; nothing when @buf is NULL or @len 0), for the
 * "char *err, size_t errlen" arguments of functions that cannot return a
 * message otherwise.
 */
void kmem_msgf(char *buf, size_t len, const char *fmt, ...) KMEM_PRINTF(3, 4);

/* Hand the data (NUL-terminated; its length in *len) to the caller, who frees it; NULL on error. */
char *kmem_buf_take(struct kmem_buf *b, size_t *len);

#endif
