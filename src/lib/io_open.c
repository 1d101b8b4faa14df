// SPDX-License-Identifier: MIT
/*
 * Opening files of a --root tree that a user may have planted symlinks in:
 * resolved beneath a directory fd (openat2 RESOLVE_BENEATH), and /dev/kmsg
 * checked to be 1:11 before it is opened (issue 24).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "io.h"

static int openat2_beneath(int dirfd, const char *path, int flags, unsigned long long resolve)
{
    struct open_how how = {.flags = (unsigned long long)flags, .resolve = resolve};
    int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

    return fd < 0 ? -errno : fd;
}

int kmem_open_beneath(int dirfd, const char *path)
{
    struct stat st;
    int fd = openat2_beneath(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK,
                             RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);

    if (fd == -ENOSYS) /* before Linux 5.6: no symlink at all */
        fd = kmem_open_regular(dirfd, path, O_NOFOLLOW);
    if (fd < 0)
        return fd;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        int err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;

        close(fd);
        return err;
    }
    return fd;
}

int kmem_buf_read_beneath(struct kmem_buf *b, int dirfd, const char *path)
{
    int fd = kmem_open_beneath(dirfd, path), err;

    if (fd < 0)
        return fd;
    err = kmem_buf_read_fd(b, fd, 0);
    close(fd);
    return err;
}

static bool is_kmsg(const struct stat *st)
{
    return S_ISREG(st->st_mode) ||
           (S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 && minor(st->st_rdev) == 11);
}

int kmem_open_kmsg(int root)
{
    struct stat before, st;
    int fd;

    if (root < 0)
        return root;
    /* Opening a device can act (rewind a tape, hang up a line): look first. */
    if (fstatat(root, "dev/kmsg", &before, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    if (!is_kmsg(&before))
        return -EINVAL;
    fd =
        openat2_beneath(root, "dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW,
                        RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
    if (fd == -ENOSYS) { /* before Linux 5.6 */
        fd = openat(root, "dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
            fd = -errno;
    }
    if (fd < 0)
        return fd;
    if (fstat(fd, &st) < 0 || st.st_dev != before.st_dev || st.st_ino != before.st_ino ||
        !is_kmsg(&st)) {
        close(fd);
        return -EINVAL;
    }
    return fd;
}
