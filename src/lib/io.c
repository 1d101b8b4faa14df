/* SPDX-License-Identifier: MIT */
/* The I/O layer: directories, hot files, whole-file reads, errors (capture: io_capture.c). */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "io.h"
#include "parse.h"

const char *const kmem_dir_canon[KMEM_DIR_COUNT] = {
    [KMEM_DIR_ROOT] = "",
    [KMEM_DIR_PROC] = "proc",
    [KMEM_DIR_SYS] = "sys",
    [KMEM_DIR_PODLOGS] = "var/log",
};
static_assert(sizeof(kmem_dir_canon) / sizeof(kmem_dir_canon[0]) == KMEM_DIR_COUNT,
              "kmem_dir_canon table");

/* Hot files, relative to the procfs directory. */
static const char *const hot_name[KMEM_F_COUNT] = {
    [KMEM_F_SLABINFO] = "slabinfo", [KMEM_F_MEMINFO] = "meminfo", [KMEM_F_VMSTAT] = "vmstat",
    [KMEM_F_ZONEINFO] = "zoneinfo", [KMEM_F_IOMEM] = "iomem",
};
static_assert(sizeof(hot_name) / sizeof(hot_name[0]) == KMEM_F_COUNT, "hot_name table");

int kmem_err(struct kmem_io *io, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(io->err, sizeof(io->err), fmt, ap);
    va_end(ap);
    return err > 0 ? -err : err;
}

const char *kmem_display_path(const struct kmem_io *io, enum kmem_dir d, const char *rel, char *out,
                              size_t outlen)
{
    const char *base = io->dirshown[d] ? io->dirshown[d] : "?";
    size_t bl = strlen(base);

    while (bl > 1 && base[bl - 1] == '/')
        bl--;
    if (!rel || !*rel)
        snprintf(out, outlen, "%.*s", (int)bl, base);
    else if (bl == 1 && base[0] == '/')
        snprintf(out, outlen, "/%s", rel);
    else
        snprintf(out, outlen, "%.*s/%s", (int)bl, base, rel);
    return out;
}

static char *join(const char *a, const char *b)
{
    size_t al = strlen(a);
    char *s;

    while (al > 1 && a[al - 1] == '/')
        al--;
    if (!*b)
        return strndup(a, al);
    if (al == 1 && a[0] == '/')
        al = 0;
    s = malloc(al + 1 + strlen(b) + 1);
    if (s)
        sprintf(s, "%.*s/%s", (int)al, a, b);
    return s;
}

int kmem_io_init(struct kmem_io *io, const struct kmem_ctx_opts *o, char *errbuf, size_t errlen)
{
    const char *given[KMEM_DIR_COUNT] = {[KMEM_DIR_ROOT] =
                                             o && o->root && *o->root ? o->root : "/"};

    memset(io, 0, sizeof(*io));
    io->capfd = -1;
    io->kmsg_fd = -1;
    for (int i = 0; i < KMEM_F_COUNT; i++)
        io->hotfd[i] = -1;
    for (int d = 0; d < KMEM_DIR_COUNT; d++)
        io->dirfd[d] = -ENOENT;
    if (o) {
        given[KMEM_DIR_PROC] = o->procfs;
        given[KMEM_DIR_SYS] = o->sysfs;
        given[KMEM_DIR_PODLOGS] = o->podlogs;
    }
    for (int d = 0; d < KMEM_DIR_COUNT; d++) {
        char *path = given[d] && *given[d] ? strdup(given[d])
                                           : join(given[KMEM_DIR_ROOT], kmem_dir_canon[d]);
        int fd;

        if (!path) {
            if (errbuf)
                snprintf(errbuf, errlen, "out of memory");
            return -ENOMEM;
        }
        io->dirshown[d] = path;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        io->dirfd[d] = fd < 0 ? -errno : fd;
        io->dirabs[d] = realpath(path, NULL);
        if (d == KMEM_DIR_ROOT && fd < 0) {
            int err = -errno;

            if (errbuf)
                snprintf(errbuf, errlen, "cannot open root directory %s: %s", path, strerror(-err));
            return err;
        }
    }
    return 0;
}

void kmem_io_release(struct kmem_io *io)
{
    for (int i = 0; i < KMEM_F_COUNT; i++)
        if (io->hotfd[i] >= 0)
            close(io->hotfd[i]);
    if (io->kmsg_fd >= 0)
        close(io->kmsg_fd);
    for (int d = 0; d < KMEM_DIR_COUNT; d++) {
        if (io->dirfd[d] >= 0)
            close(io->dirfd[d]);
        free(io->dirshown[d]);
        free(io->dirabs[d]);
    }
    if (io->capfd >= 0)
        close(io->capfd);
    free(io->capdir);
    free(io->buf.data);
    memset(io, 0, sizeof(*io));
    io->capfd = -1;
    io->kmsg_fd = -1;
}

/* ---- reading ------------------------------------------------------------ */

/* Longer than any /proc/slabinfo line of SLUB or SLAB (a name of up to 64
 * bytes, 13 numbers and the statistics columns of SLAB): less than this is
 * asked of each read() of it, so that its page never overflows. */
#define SLABINFO_LINE_MAX 512

int kmem_read_hot(struct kmem_io *io, enum kmem_hot_file f)
{
    char shown[PATH_MAX];
    int *fd = &io->hotfd[f];
    int err;

    if (*fd >= 0 && lseek(*fd, 0, SEEK_SET) < 0) {
        /* Some /proc emulations are not seekable: reopen. */
        close(*fd);
        *fd = -1;
    }
    if (*fd < 0) {
        int dfd = io->dirfd[KMEM_DIR_PROC];

        *fd = dfd < 0 ? dfd : kmem_open_regular(dfd, hot_name[f], 0);
        if (*fd < 0) {
            err = *fd;
            *fd = -1;
            return kmem_err(io, err, "cannot open %s: %s%s",
                            kmem_display_path(io, KMEM_DIR_PROC, hot_name[f], shown, sizeof(shown)),
                            strerror(-err), kmem_errno_hint(err));
        }
    }
    /* /proc/slabinfo: no line generated twice (kmem_buf_read_fd_chunked). */
    err = kmem_buf_read_fd_chunked(&io->buf, *fd, 0,
                                   f == KMEM_F_SLABINFO ? kmem_page_size() - SLABINFO_LINE_MAX : 0);
    if (err) {
        close(*fd);
        *fd = -1;
        return kmem_err(io, err, "cannot read %s: %s%s",
                        kmem_display_path(io, KMEM_DIR_PROC, hot_name[f], shown, sizeof(shown)),
                        strerror(-err), kmem_errno_hint(err));
    }
    kmem_capture_fd(io, *fd, io->buf.data, io->buf.len);
    return 0;
}

void kmem_io_preopen(struct kmem_io *io)
{
    int proc = io->dirfd[KMEM_DIR_PROC], root = io->dirfd[KMEM_DIR_ROOT];

    if (io->hotfd[KMEM_F_IOMEM] < 0 && proc >= 0) {
        int fd = kmem_open_regular(proc, hot_name[KMEM_F_IOMEM], 0);

        io->hotfd[KMEM_F_IOMEM] = fd < 0 ? -1 : fd;
    }
    if (io->kmsg_fd < 0 && root >= 0) {
        int fd = kmem_open_kmsg(root);

        io->kmsg_fd = fd < 0 ? -1 : fd;
    }
}

int kmem_read_at(struct kmem_io *io, int dirfd, const char *name, struct kmem_buf *buf)
{
    int fd, err;

    if (dirfd < 0 && dirfd != AT_FDCWD)
        return dirfd; /* a directory that could not be opened: its -errno */
    fd = kmem_open_regular(dirfd, name, 0);
    if (fd < 0)
        return fd;
    err = kmem_buf_read_fd(buf, fd, 0);
    if (!err)
        kmem_capture_fd(io, fd, buf->data, buf->len);
    close(fd);
    return err;
}

int kmem_read_single_fd(struct kmem_io *io, int fd, struct kmem_buf *buf)
{
    return kmem_read_single_fd_as(io, fd, buf, NULL);
}

int kmem_read_single_fd_as(struct kmem_io *io, int fd, struct kmem_buf *buf, const char *rel)
{
    size_t room = buf->cap > 4096 ? buf->cap - 1 : 4096;

    buf->len = 0;
    for (;;) {
        ssize_t n;
        int err = kmem_buf_reserve(buf, buf->len + room + 1);

        if (err)
            return err;
        n = pread(fd, buf->data + buf->len, room, (off_t)buf->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        buf->len += (size_t)n;
        /* One record, written whole: a read shorter than asked is the end. */
        if ((size_t)n < room)
            break;
        if (buf->len > KMEM_FILE_MAX)
            return -EFBIG;
        room *= 2;
    }
    buf->data[buf->len] = '\0';
    if (rel)
        kmem_capture_put(io, rel, buf->data, buf->len);
    else
        kmem_capture_fd(io, fd, buf->data, buf->len);
    return 0;
}

int kmem_open_dir(int dirfd, const char *relpath)
{
    int fd;

    if (dirfd < 0)
        return dirfd;
    fd = openat(dirfd, relpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    return fd < 0 ? -errno : fd;
}

uint64_t kmem_page_size(void)
{
    static uint64_t ps;

    if (!ps) {
        long v = sysconf(_SC_PAGESIZE);
        ps = v > 0 ? (uint64_t)v : 4096;
    }
    return ps;
}

DIR *kmem_opendir(int dirfd, const char *relpath)
{
    int fd = kmem_open_dir(dirfd, relpath);
    DIR *d;

    if (fd < 0)
        return NULL;
    d = fdopendir(fd);
    if (!d)
        close(fd);
    return d;
}

unsigned kmem_possible_cpus(struct kmem_io *io)
{
    if (io->possible_cpus && !kmem_capturing_dir(io))
        return io->possible_cpus;
    if (kmem_read_at(io, kmem_io_dir(io, KMEM_DIR_SYS), "devices/system/cpu/possible", &io->buf) ==
        0)
        io->possible_cpus = kmem_cpulist_count(io->buf.data, io->buf.len);
    return io->possible_cpus;
}

/* ---- the root's kernel release ------------------------------------------ */

/* Kernel release of the root's kernel into @out; false if unknown. */
bool kmem_root_release(struct kmem_io *io, char *out, size_t outlen)
{
    struct utsname u;
    const char *p, *end, *tok = NULL;
    size_t len = 0;

    if (kmem_read_at(io, kmem_io_dir(io, KMEM_DIR_PROC), "sys/kernel/osrelease", &io->buf) == 0) {
        p = io->buf.data;
        end = p + io->buf.len;
        kmem_next_token(&p, end, &tok, &len);
    } else if (kmem_read_at(io, kmem_io_dir(io, KMEM_DIR_PROC), "version", &io->buf) == 0) {
        /* "Linux version 6.18.44-foo (builder@host) ..." */
        p = io->buf.data;
        end = p + io->buf.len;
        for (int i = 0; i < 3; i++) {
            if (!kmem_next_token(&p, end, &tok, &len))
                return false;
        }
    }
    if (!tok && io->dirabs[KMEM_DIR_ROOT] && strcmp(io->dirabs[KMEM_DIR_ROOT], "/") == 0) {
        /* the running kernel, when procfs cannot tell (a procfs without sys/) */
        if (uname(&u) == 0) {
            tok = u.release;
            len = strlen(u.release);
        }
    }
    if (!tok || len == 0 || len >= outlen)
        return false;
    for (size_t i = 0; i < len; i++)
        if (tok[i] == '/' || tok[i] == '\0' || (i == 0 && tok[i] == '.'))
            return false;
    memcpy(out, tok, len);
    out[len] = '\0';
    return true;
}

/* The "major.minor" of the root's kernel, as major * 1000 + minor; 0 if unknown. */
unsigned kmem_root_release_number(struct kmem_io *io)
{
    char rel[128];
    const char *p = rel;
    uint64_t major, minor;

    if (io->release_number && !kmem_capturing_dir(io))
        return io->release_number;
    if (!kmem_root_release(io, rel, sizeof(rel)))
        return 0;
    major = minor = 0; /* "6.18.44-foo" */
    while (*p >= '0' && *p <= '9' && major < 100000)
        major = major * 10 + (uint64_t)(*p++ - '0');
    if (*p++ != '.')
        return 0;
    while (*p >= '0' && *p <= '9' && minor < 1000)
        minor = minor * 10 + (uint64_t)(*p++ - '0');
    io->release_number = major < 100000 && minor < 1000 ? (unsigned)(major * 1000 + minor) : 0;
    return io->release_number;
}
