/* SPDX-License-Identifier: MIT */
/* Growable buffers and the one whole-file reader. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
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

int kmem_buf_reserve(struct kmem_buf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 16384;
    char *p;

    if (need <= b->cap)
        return 0;
    while (cap < need) {
        if (cap > KMEM_FILE_MAX)
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

int kmem_buf_read_fd(struct kmem_buf *b, int fd, size_t max)
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
        n = read(fd, b->data + b->len, b->cap - b->len - 1);
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
