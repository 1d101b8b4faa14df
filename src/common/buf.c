/* SPDX-License-Identifier: MIT */
/* Growable buffers and the one whole-file reader. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"

int kmem_grow(void **v, size_t *cap, size_t n, size_t size)
{
    size_t nc = *cap ? *cap : 32;
    void *p;

    if (n <= *cap)
        return 0;
    while (nc < n) {
        if (nc > SIZE_MAX / 2 / size)
            return -ENOMEM;
        nc *= 2;
    }
    p = realloc(*v, nc * size);
    if (!p)
        return -ENOMEM;
    *v = p;
    *cap = nc;
    return 0;
}

void kmem_drop_pages(void *p, size_t len)
{
    uintptr_t ps = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)p + ps - 1) & ~(ps - 1), b = ((uintptr_t)p + len) & ~(ps - 1);

    if (p && ps && b > a)
        (void)madvise((void *)a, b - a, MADV_DONTNEED); /* advice: nothing to do on failure */
}

/* Grow the allocation to at least @need bytes, doubling, up to about @limit. */
static int grow(struct kmem_buf *b, size_t need, size_t limit)
{
    size_t cap = b->cap ? b->cap : 16384;
    char *p;

    if (need <= b->cap)
        return 0;
    while (cap < need) {
        if (cap > limit)
            return -EFBIG;
        cap *= 2;
    }
    p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int kmem_buf_reserve(struct kmem_buf *b, size_t need)
{
    return grow(b, need, KMEM_FILE_MAX);
}

int kmem_buf_read_fd(struct kmem_buf *b, int fd, size_t max)
{
    return kmem_buf_read_fd_chunked(b, fd, max, 0);
}

int kmem_buf_read_fd_chunked(struct kmem_buf *b, int fd, size_t max, size_t chunk)
{
    int err;

    if (!max || max > KMEM_FILE_MAX)
        max = KMEM_FILE_MAX;
    b->len = 0;
    for (;;) {
        ssize_t n;

        if (b->len > max)
            return -EFBIG;
        err = kmem_buf_reserve(b, b->len + 4096 + 1);
        if (err)
            return err;
        size_t room = b->cap - b->len - 1;

        n = read(fd, b->data + b->len, chunk && chunk < room ? chunk : room);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        b->len += (size_t)n;
    }
    if (b->len > max)
        return -EFBIG;
    b->data[b->len] = '\0';
    return 0;
}

int kmem_open_regular(int dirfd, const char *name, int extra_flags)
{
    struct stat st;
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | extra_flags);

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        int err = -errno;

        close(fd);
        return err;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
    }
    return fd;
}

int kmem_buf_read_file(struct kmem_buf *b, int dirfd, const char *name, size_t max)
{
    int fd = kmem_open_regular(dirfd, name, 0), err;

    if (fd < 0)
        return fd;
    err = kmem_buf_read_fd(b, fd, max);
    close(fd);
    return err;
}

void kmem_buf_init(struct kmem_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

void kmem_buf_free(struct kmem_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void kmem_buf_reset(struct kmem_buf *b)
{
    b->len = 0;
    b->err = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int buf_fail(struct kmem_buf *b, int err)
{
    kmem_buf_free(b);
    b->err = err;
    return err;
}

/* Room for @n more bytes and the NUL. 0 or the (sticky) error. */
static int buf_room(struct kmem_buf *b, size_t n)
{
    size_t max = b->max ? b->max : KMEM_FILE_MAX;

    if (b->err)
        return b->err;
    if (n > max || b->len > max - n)
        return buf_fail(b, -E2BIG);
    if (b->len + n < b->cap)
        return 0;
    /* Appends grow to the buffer's own cap (an exposition's may pass KMEM_FILE_MAX). */
    int err = grow(b, b->len + n + 1, max);
    return err ? buf_fail(b, err == -EFBIG ? -E2BIG : err) : 0;
}

int kmem_buf_add_slow(struct kmem_buf *b, const void *p, size_t n)
{
    int err = buf_room(b, n);

    if (err)
        return err;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int kmem_buf_adds(struct kmem_buf *b, const char *s)
{
    return kmem_buf_add(b, s, strlen(s));
}

int kmem_buf_printf(struct kmem_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    int n, err;

    if (b->err)
        return b->err;
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return buf_fail(b, -EINVAL);
    if ((size_t)n < sizeof(small))
        return kmem_buf_add(b, small, (size_t)n);
    err = buf_room(b, (size_t)n);
    if (err)
        return err;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int kmem_buf_add_u64(struct kmem_buf *b, uint64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);

    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return kmem_buf_add(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

int kmem_buf_add_i64(struct kmem_buf *b, int64_t v)
{
    if (v >= 0)
        return kmem_buf_add_u64(b, (uint64_t)v);
    kmem_buf_addc(b, '-');
    return kmem_buf_add_u64(b, (uint64_t)0 - (uint64_t)v);
}

void kmem_msgf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (!buf || !len)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

char *kmem_buf_take(struct kmem_buf *b, size_t *len)
{
    char *p;

    if (b->err || (!b->data && kmem_buf_add_slow(b, "", 0)))
        return NULL;
    p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
