/* SPDX-License-Identifier: MIT */
/*
 * The I/O layer's capture (see io.h): every file a context reads, copied
 * under a capture directory (or handed to a sink) so that --root replays it;
 * setting up that directory, and removing a capture.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "parse.h"

/* Keep the first capture failure: "@what @path: strerror" (or @why instead of strerror). */
static void capture_fail(struct kmem_io *io, int err, const char *what, const char *path,
                         const char *why)
{
    if (io->capture_err)
        return;
    io->capture_err = err > 0 ? -err : err;
    snprintf(io->capture_msg, sizeof(io->capture_msg), "%s %.360s: %.100s", what, path,
             why ? why : strerror(-io->capture_err));
}

/*
 * Map an absolute path to its place in a captured tree ("proc/meminfo"):
 * below the longest of the context's directories that contains it. NULL if
 * none does (a symlink led outside the root).
 */
static const char *canonical(const struct kmem_io *io, const char *abs, char *out, size_t outlen)
{
    int best = -1;
    size_t bestlen = 0;

    for (int d = 0; d < KMEM_DIR_COUNT; d++) {
        const char *a = io->dirabs[d];
        size_t al;

        if (!a)
            continue;
        al = strcmp(a, "/") == 0 ? 0 : strlen(a);
        if (strncmp(abs, a, al) != 0 || (abs[al] != '/' && abs[al] != '\0'))
            continue;
        if (best < 0 || al > bestlen) {
            best = d;
            bestlen = al;
        }
    }
    if (best < 0)
        return NULL;
    abs += bestlen;
    while (*abs == '/')
        abs++;
    if (*kmem_dir_canon[best])
        snprintf(out, outlen, "%s%s%s", kmem_dir_canon[best], *abs ? "/" : "", abs);
    else
        snprintf(out, outlen, "%s", abs);
    return out;
}

/*
 * The path @fd was opened at. A file or directory removed since (a cgroup
 * removed while it was read) reads "PATH (deleted)": its place in the
 * capture is PATH, the place it was read at, unless the name really ends so
 * (then the path names @fd itself).
 */
static bool fd_path(int fd, char *out, size_t outlen)
{
    static const char deleted[] = " (deleted)";
    const size_t dl = sizeof(deleted) - 1;
    char link[64];
    struct stat a, b;
    ssize_t n;

    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, out, outlen - 1);
    if (n < 0 || (size_t)n >= outlen - 1)
        return false;
    out[n] = '\0';
    if ((size_t)n > dl && strcmp(out + n - dl, deleted) == 0 &&
        !(stat(out, &a) == 0 && fstat(fd, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino))
        out[n - dl] = '\0';
    return true;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = write(fd, data, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * Write @rel below the capture directory: directories 0700, files 0600,
 * nothing reached through a symlink. With @link, @rel becomes a symlink to
 * @link instead (a name in the same directory: sys/kernel/slab aliases).
 */
static void capture_write(struct kmem_io *io, const char *rel, const char *data, size_t len,
                          const char *link)
{
    char comp[NAME_MAX + 1];
    char shown[PATH_MAX + 256];
    const char *p = rel;
    int cur = io->capfd, fd, err;

    if (io->sink) {
        io->sink(io->sink_arg, rel, data, len, link);
        return;
    }
    snprintf(shown, sizeof(shown), "%s/%s", io->capdir ? io->capdir : ".", rel);

    for (;;) {
        const char *slash = strchr(p, '/');
        size_t cl;
        int next;

        if (!slash)
            break;
        cl = (size_t)(slash - p);
        if (cl == 0 || cl > NAME_MAX) {
            p = slash + 1;
            continue;
        }
        memcpy(comp, p, cl);
        comp[cl] = '\0';
        if (mkdirat(cur, comp, 0700) < 0 && errno != EEXIST) {
            capture_fail(io, errno, "cannot create a directory for", shown, NULL);
            goto out;
        }
        next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            capture_fail(io, errno, "cannot open a directory for", shown, NULL);
            goto out;
        }
        if (cur != io->capfd)
            close(cur);
        cur = next;
        p = slash + 1;
    }
    if (link) {
        if (symlinkat(link, cur, p) < 0 && errno != EEXIST)
            capture_fail(io, errno, "cannot create the link", shown, NULL);
        goto out;
    }
    fd = openat(cur, p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
        /* Read twice in one capture (e.g. the cgroup layout): ours, replace it. */
        struct stat st;

        fd = openat(cur, p, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || ftruncate(fd, 0) < 0)) {
            close(fd);
            fd = -1;
            errno = EEXIST;
        }
    }
    if (fd < 0) {
        capture_fail(io, errno, "cannot create", shown, NULL);
        goto out;
    }
    err = write_all(fd, data, len);
    if (close(fd) < 0 && !err)
        err = -errno;
    if (err)
        capture_fail(io, err, "cannot write", shown, NULL);
out:
    if (cur != io->capfd)
        close(cur);
}

/* Capture the file at the real path @abs: its place is its path below the root. */
static void capture_at(struct kmem_io *io, const char *abs, const char *data, size_t len,
                       const char *target)
{
    char rel[PATH_MAX];

    if (!canonical(io, abs, rel, sizeof(rel))) {
        capture_fail(io, EXDEV, "refusing to copy", abs,
                     "it lies outside the root (a symlink leads out of it)");
        return;
    }
    capture_write(io, rel, data, len, target);
}

void kmem_capture_fd(struct kmem_io *io, int fd, const char *data, size_t len)
{
    char abs[PATH_MAX];

    if (!kmem_capturing(io))
        return;
    if (!fd_path(fd, abs, sizeof(abs))) {
        io->capture_unnamed++; /* a path longer than PATH_MAX: skipped, counted */
        return;
    }
    capture_at(io, abs, data, len, NULL);
}

/*
 * Capture @name in directory @dirfd: a file with @data, or (@target not
 * NULL) a symlink to @target. Its place comes from the directory's real path.
 */
static void capture_in_dir(struct kmem_io *io, int dirfd, const char *name, const char *data,
                           size_t len, const char *target)
{
    char abs[PATH_MAX], full[PATH_MAX + NAME_MAX + 2];

    if (!fd_path(dirfd, abs, sizeof(abs)) ||
        (size_t)snprintf(full, sizeof(full), "%s/%s", strcmp(abs, "/") ? abs : "", name) >=
            PATH_MAX) {
        io->capture_unnamed++; /* a path longer than PATH_MAX: skipped, counted */
        return;
    }
    capture_at(io, full, data, len, target);
}

void kmem_capture(struct kmem_io *io, int dirfd, const char *name, const char *data, size_t len)
{
    if (kmem_capturing(io))
        capture_in_dir(io, dirfd, name, data, len, NULL);
}

void kmem_capture_link(struct kmem_io *io, int dirfd, const char *name, const char *target)
{
    if (!kmem_capturing(io))
        return;
    if (!*target || strchr(target, '/') || !strcmp(target, ".") || !strcmp(target, "..")) {
        capture_fail(io, EXDEV, "refusing to copy the link", name,
                     "only links to a name in the same directory are copied");
        return;
    }
    capture_in_dir(io, dirfd, name, NULL, 0, target);
}

bool kmem_capture_rel_of(struct kmem_io *io, int fd, char *out, size_t outlen)
{
    char abs[PATH_MAX];

    return kmem_capturing(io) && fd_path(fd, abs, sizeof(abs)) && canonical(io, abs, out, outlen);
}

void kmem_capture_put(struct kmem_io *io, const char *rel, const char *data, size_t len)
{
    if (kmem_capturing(io))
        capture_write(io, rel, data, len, NULL);
}

/* Stop any capture: no directory, no sink, no error. */
static void capture_reset(struct kmem_io *io)
{
    if (io->capfd >= 0)
        close(io->capfd);
    io->capfd = -1;
    free(io->capdir);
    io->capdir = NULL;
    io->capture_err = 0;
    io->capture_unnamed = 0;
    io->capture_msg[0] = '\0';
    io->sink = NULL;
}

void kmem_io_set_capture_sink(struct kmem_io *io, kmem_capture_sink_fn sink, void *arg)
{
    capture_reset(io);
    io->sink = sink;
    io->sink_arg = arg;
}

/* Deepest directory kmem removes below a capture (cgroup trees are at most 64 deep). */
#define CLEAR_MAX_DEPTH 256

/* The mount a directory entry is on: its device and, where statx says, its mount id. */
struct mount_key {
    dev_t dev;
    uint64_t mnt_id;
    bool have_id;
};

static void mount_key_of(int dirfd, const char *name, const struct stat *st, struct mount_key *k)
{
    struct statx sx;

    k->dev = st->st_dev;
    k->have_id = statx(dirfd, name, AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH), STATX_MNT_ID,
                       &sx) == 0 &&
                 (sx.stx_mask & STATX_MNT_ID);
    k->mnt_id = k->have_id ? sx.stx_mnt_id : 0;
}

/* A bind mount of the same filesystem has the same device: the mount id tells. */
static bool same_mount(const struct mount_key *a, const struct mount_key *b)
{
    return a->dev == b->dev && (!a->have_id || !b->have_id || a->mnt_id == b->mnt_id);
}

/*
 * Remove everything below the directory open at @fd (which stays): symlinks
 * are removed, never followed; a directory on another filesystem (a mount
 * point) stops it. With @dry, only look: a first pass finds what would stop
 * the removal before anything is removed. 0 or -errno with @what naming the
 * entry that failed.
 */
static int clear_dir(int fd, const struct mount_key *top, int depth, bool dry, char *what,
                     size_t wlen)
{
    int dup_fd = dup(fd), err = 0;
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    bool again = true;

    if (!d) {
        err = -errno;
        if (dup_fd >= 0)
            close(dup_fd);
        return err;
    }
    /* Entries removed while reading may hide others: read until a pass finds none. */
    while (again && !err) {
        struct dirent *de;

        again = false;
        rewinddir(d);
        /* A dry pass reads once; a real one until nothing is left. */
        while (!err && (de = readdir(d))) {
            struct mount_key mk;
            struct stat st;
            int sub;

            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            again = !dry;
            snprintf(what, wlen, "%s", de->d_name);
            if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                err = errno == ENOENT ? 0 : -errno;
                continue;
            }
            if (!S_ISDIR(st.st_mode)) {
                if (!dry && unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT)
                    err = -errno;
                continue;
            }
            mount_key_of(fd, de->d_name, &st, &mk);
            if (!same_mount(&mk, top)) {
                err = -EXDEV; /* a mount point: not ours to empty */
                continue;
            }
            if (depth >= CLEAR_MAX_DEPTH) {
                err = -ELOOP;
                continue;
            }
            sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                err = -errno;
                continue;
            }
            {
                size_t l = strlen(what);

                if (l + 1 < wlen)
                    what[l++] = '/';
                what[l] = '\0';
                err = clear_dir(sub, top, depth + 1, dry, what + l, wlen - l);
            }
            close(sub);
            if (!err && !dry) {
                snprintf(what, wlen, "%s", de->d_name);
                if (unlinkat(fd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                    err = -errno;
            }
        }
    }
    closedir(d);
    return err;
}

static bool dir_is_empty(int fd)
{
    int dup_fd = dup(fd);
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    struct dirent *de;
    bool empty = true;

    if (!d) {
        if (dup_fd >= 0)
            close(dup_fd);
        return false;
    }
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            empty = false;
            break;
        }
    closedir(d);
    return empty;
}

int kmem_io_set_capture(struct kmem_io *io, const char *dir, bool replace)
{
    char what[PATH_MAX];
    struct stat st;
    int fd;

    capture_reset(io);
    if (!dir)
        return 0;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return kmem_err(io, errno, "cannot create capture directory %s: %s", dir, strerror(errno));
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return kmem_err(io, errno, "cannot open capture directory %s: %s%s", dir, strerror(errno),
                        errno == ELOOP || errno == ENOTDIR ? " (not a directory, or a symlink)"
                                                           : "");
    if (fstat(fd, &st) < 0) {
        int err = errno;

        close(fd);
        return kmem_err(io, err, "cannot stat capture directory %s: %s", dir, strerror(err));
    }
    if (st.st_uid != geteuid()) {
        close(fd);
        return kmem_err(io, EPERM,
                        "refusing to capture into %s: it belongs to uid %u, not to you (uid %u)",
                        dir, (unsigned)st.st_uid, (unsigned)geteuid());
    }
    /* A shared directory (/tmp, /var/tmp, a group's drop box): never made
     * private, never emptied; the capture goes into a new directory in it. */
    if (st.st_mode & (S_ISVTX | S_IWOTH)) {
        close(fd);
        return kmem_err(io, EPERM,
                        "refusing to capture into %s: a shared directory (%s); name a new "
                        "directory inside it",
                        dir, st.st_mode & S_ISVTX ? "sticky" : "world-writable");
    }
    if (!dir_is_empty(fd)) {
        struct mount_key top;
        struct stat meta;
        int err;

        if (!replace) {
            close(fd);
            return kmem_err(io, ENOTEMPTY,
                            "refusing to capture into %s: it is not empty (name a new directory)",
                            dir);
        }
        if (fstatat(fd, KMEM_CAPTURE_META, &meta, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(meta.st_mode)) {
            close(fd);
            return kmem_err(io, ENOTEMPTY,
                            "refusing to replace %s: it holds no " KMEM_CAPTURE_META
                            ", so it is not a kmem capture (remove it yourself)",
                            dir);
        }
        if (meta.st_uid != geteuid()) { /* planted by someone else */
            close(fd);
            return kmem_err(io, EPERM,
                            "refusing to replace %s: its " KMEM_CAPTURE_META
                            " belongs to uid %u, not to you (uid %u), so it is not your capture",
                            dir, (unsigned)meta.st_uid, (unsigned)geteuid());
        }
        what[0] = '\0';
        mount_key_of(fd, "", &st, &top);
        err = clear_dir(fd, &top, 0, true, what, sizeof(what));
        if (!err)
            err = clear_dir(fd, &top, 0, false, what, sizeof(what));
        if (err) {
            close(fd);
            return kmem_err(io, err, "cannot empty capture directory %s: %s/%s: %s%s", dir, dir,
                            what, strerror(-err),
                            err == -EXDEV ? " (a mount point; not removed)" : "");
        }
    }
    if (fchmod(fd, 0700) < 0) {
        int err = errno;

        close(fd);
        return kmem_err(io, err, "cannot make capture directory %s private: %s", dir,
                        strerror(err));
    }
    io->capdir = strdup(dir);
    if (!io->capdir) {
        close(fd);
        return kmem_err(io, ENOMEM, "out of memory");
    }
    io->capfd = fd;
    return 0;
}

int kmem_io_remove_tree(struct kmem_io *io, const char *dir)
{
    char what[PATH_MAX] = "";
    struct mount_key top;
    struct stat st;
    int fd, err;

    fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return kmem_err(io, errno, "cannot open %s to remove it: %s", dir, strerror(errno));
    if (fstat(fd, &st) < 0) {
        err = errno;
        close(fd);
        return kmem_err(io, err, "cannot stat %s: %s", dir, strerror(err));
    }
    if (st.st_uid != geteuid()) {
        close(fd);
        return kmem_err(io, EPERM, "refusing to remove %s: it belongs to uid %u, not to you", dir,
                        (unsigned)st.st_uid);
    }
    mount_key_of(fd, "", &st, &top);
    err = clear_dir(fd, &top, 0, true, what, sizeof(what));
    if (!err)
        err = clear_dir(fd, &top, 0, false, what, sizeof(what));
    close(fd);
    if (err)
        return kmem_err(io, err, "cannot remove %s/%s: %s%s", dir, what, strerror(-err),
                        err == -EXDEV ? " (a mount point; not removed)" : "");
    if (rmdir(dir) < 0)
        return kmem_err(io, errno, "cannot remove %s: %s", dir, strerror(errno));
    return 0;
}
