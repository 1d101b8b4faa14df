/* SPDX-License-Identifier: MIT */
/*
 * kmemtop --capture FILE.tar.gz: the capture is taken into a private
 * directory next to FILE (the library's capture, with its rules: mode 0700,
 * files 0600, nothing written through a symlink), packed by tar(1) into a
 * private file in that directory, renamed onto FILE in one step, and the
 * directory is removed, whatever happened.
 *
 * Why tar(1) run with posix_spawn and not libarchive: tar and gzip are
 * Essential packages on Debian (on every machine kmem runs, the container
 * image included), so packing needs no new library, no new build or run
 * dependency and no archive code in kmem for an option used now and then;
 * GNU tar writes exactly what a user's `tar -xzf` reads back (symlinks of
 * sys/kernel/slab included), deterministically (--sort=name). tar runs
 * without a shell, from a fixed argument vector, its output going to a file
 * kmem opened itself (O_EXCL, 0600); it is found in PATH as any tool would
 * call it, and its own messages reach stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kmemtop.h"

extern char **environ;

static const char *const suffixes[] = {".tar.gz", ".tgz"};

/* Length of @path's tarball suffix, 0 if it has none. */
static size_t suffix_len(const char *path)
{
    size_t l = strlen(path);

    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        size_t sl = strlen(suffixes[i]);

        if (l >= sl && strcmp(path + l - sl, suffixes[i]) == 0)
            return sl;
    }
    return 0;
}

bool kt_is_tarball(const char *path)
{
    return path && suffix_len(path) > 0;
}

/* Say what failed ("PROG: ..."); returns -@err. */
__attribute__((format(printf, 3, 4))) static int fail(const struct kt_opts *o, int err,
                                                      const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", o->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return err ? -abs(err) : -EIO;
}

int kt_tarball_begin(struct kt_tarball *tb, const struct kt_opts *o)
{
    char *copy = NULL, *dir, *base;
    size_t nl;
    struct stat st;
    int err = 0;

    memset(tb, 0, sizeof(*tb));
    tb->file = o->capture;
    copy = strdup(o->capture);
    tb->name = strdup(o->capture);
    if (!copy || !tb->name) {
        err = fail(o, ENOMEM, "out of memory");
        goto out;
    }
    base = basename(tb->name);
    nl = strlen(base) - suffix_len(base);
    base[nl] = '\0';
    memmove(tb->name, base, nl + 1);
    if (!*tb->name || !strcmp(tb->name, ".") || !strcmp(tb->name, "..")) {
        err = fail(o, EINVAL, "--capture %s: name the tarball, e.g. capture.tar.gz", o->capture);
        goto out;
    }
    if (lstat(o->capture, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            err = fail(o, EISDIR, "--capture %s: that is a directory", o->capture);
            goto out;
        }
        if (!o->force) {
            err = fail(o, EEXIST, "refusing to overwrite %s: it exists (--force replaces it)",
                       o->capture);
            goto out;
        }
    } else if (errno != ENOENT) {
        err = fail(o, errno, "cannot look at %s: %s", o->capture, strerror(errno));
        goto out;
    }
    dir = dirname(copy);
    if (asprintf(&tb->tmpdir, "%s/.%s.kmem-XXXXXX", dir, tb->name) < 0) {
        tb->tmpdir = NULL;
        err = fail(o, ENOMEM, "out of memory");
        goto out;
    }
    if (!mkdtemp(tb->tmpdir)) { /* mode 0700 */
        err = fail(o, errno, "cannot create a private directory for the capture in %s: %s", dir,
                   strerror(errno));
        free(tb->tmpdir);
        tb->tmpdir = NULL;
        goto out;
    }
    if (asprintf(&tb->capdir, "%s/%s", tb->tmpdir, tb->name) < 0) {
        tb->capdir = NULL;
        err = fail(o, ENOMEM, "out of memory");
        rmdir(tb->tmpdir); /* still empty */
    }
out:
    free(copy);
    if (err) { /* nothing left for kt_tarball_end() */
        free(tb->tmpdir);
        free(tb->name);
        memset(tb, 0, sizeof(*tb));
    }
    return err;
}

/* tar by absolute path, never by the caller's PATH (a tar planted there
 * would run as root), with an environment of our own (TAR_OPTIONS could add
 * --checkpoint-action=exec=..., GZIP options to gzip). */
static const char *tar_path(void)
{
    static const char *const where[] = {"/usr/bin/tar", "/bin/tar"};
    for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
        if (access(where[i], X_OK) == 0)
            return where[i];
    return NULL;
}

static char *const tar_env[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", NULL};

/* Run tar with @argv, stdout on @out, stdin /dev/null; 0 or -1 (said why). */
static int spawn_tar(const struct kt_opts *o, char *const argv[], int out)
{
    const char *tar = tar_path();
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int err, status;

    if (!tar)
        return fail(o, ENOENT,
                    "cannot run tar: neither /usr/bin/tar nor /bin/tar (install tar, "
                    "or --capture a directory)");
    if (posix_spawn_file_actions_init(&fa))
        return fail(o, ENOMEM, "out of memory");
    err = posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
    if (!err)
        err = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (!err)
        err = posix_spawn(&pid, tar, &fa, NULL, argv, tar_env);
    posix_spawn_file_actions_destroy(&fa);
    if (err)
        return fail(o, err, "cannot run %s: %s", tar, strerror(err));
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return fail(o, errno, "waiting for tar: %s", strerror(errno));
    if (WIFSIGNALED(status))
        return fail(o, EINTR, "tar was killed (%s)", strsignal(WTERMSIG(status)));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return fail(o, EIO, "tar failed (exit status %d)",
                    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}

static size_t walk_entries;

static int count_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)path;
    (void)st;
    (void)flag;
    (void)f;
    walk_entries++;
    return 0;
}

/* Check the tarball on @fd (at offset 0 after reading): not empty, and it
 * lists as many entries as the capture directory holds. 0 or -1. */
static int check_tar(const struct kt_tarball *tb, const struct kt_opts *o, int fd, const char *part)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size == 0)
        return fail(o, EIO, "tar wrote an empty archive %s", part);
    walk_entries = 0;
    if (nftw(tb->capdir, count_entry, 16, FTW_PHYS) < 0)
        return fail(o, errno, "cannot walk %s: %s", tb->capdir, strerror(errno));
    char *list = NULL;
    if (asprintf(&list, "%s.list", part) < 0)
        return fail(o, ENOMEM, "out of memory");
    int lfd = open(list, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (lfd < 0) {
        int e = errno;
        free(list);
        return fail(o, e, "cannot create a file to list the archive: %s", strerror(e));
    }
    unlink(list);
    free(list);
    char *file = (char *)part;
    char *argv[] = {"tar", "--list", "--gzip", "--file", file, NULL};
    int err = spawn_tar(o, argv, lfd);
    size_t lines = 0;
    if (!err) {
        char buf[8192];
        ssize_t n;
        lseek(lfd, 0, SEEK_SET);
        while ((n = read(lfd, buf, sizeof(buf))) > 0)
            for (ssize_t i = 0; i < n; i++)
                lines += buf[i] == '\n';
        if (lines != walk_entries)
            err = fail(o, EIO, "the archive lists %zu entries, the capture has %zu", lines,
                       walk_entries);
    }
    close(lfd);
    return err;
}

/* Run tar, its archive on @fd; 0 or -1 (said why). */
static int run_tar(const struct kt_tarball *tb, const struct kt_opts *o, int fd, const char *part)
{
    char *argv[] = {"tar",      "--create",    "--gzip",    "--file=-",  "--directory",
                    tb->tmpdir, "--sort=name", "--owner=0", "--group=0", "--numeric-owner",
                    "--",       tb->name,      NULL};
    int err = spawn_tar(o, argv, fd);
    return err ? err : check_tar(tb, o, fd, part);
}

/* Make the rename of @file durable: fsync its directory. 0 or -errno. */
static int sync_dir_of(const char *file)
{
    char *copy = strdup(file);
    int fd, err = 0;

    if (!copy)
        return -ENOMEM;
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        err = -errno;
    else if (fsync(fd) < 0 && errno != EINVAL)
        err = -errno;
    if (fd >= 0)
        close(fd);
    free(copy);
    return err;
}

int kt_tarball_pack(struct kt_tarball *tb, const struct kt_opts *o)
{
    char *part = NULL;
    int fd, err = 0;

    if (asprintf(&part, "%s/%s.tar.gz", tb->tmpdir, tb->name) < 0)
        return fail(o, ENOMEM, "out of memory");
    fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        err = fail(o, errno, "cannot create %s: %s", part, strerror(errno));
        goto out;
    }
    err = run_tar(tb, o, fd, part);
    if (!err && fsync(fd) < 0)
        err = fail(o, errno, "cannot write %s: %s", part, strerror(errno));
    if (close(fd) < 0 && !err)
        err = fail(o, errno, "cannot write %s: %s", part, strerror(errno));
    if (err)
        goto out;
    /* In one step; without --force never over a file that appeared meanwhile. */
    if (o->force) {
        if (rename(part, tb->file) < 0)
            err = fail(o, errno, "cannot rename the tarball to %s: %s", tb->file, strerror(errno));
    } else if (renameat2(AT_FDCWD, part, AT_FDCWD, tb->file, RENAME_NOREPLACE) < 0) {
        if (errno == EINVAL) { /* a filesystem without RENAME_NOREPLACE: link, then unlink */
            if (link(part, tb->file) < 0)
                err = fail(o, errno, "cannot put the tarball at %s: %s", tb->file, strerror(errno));
        } else {
            err = fail(o, errno, "cannot put the tarball at %s: %s", tb->file, strerror(errno));
        }
    }
    if (!err) {
        err = sync_dir_of(tb->file);
        if (err)
            fail(o, err, "cannot sync the directory of %s: %s", tb->file, strerror(-err));
    }
out:
    free(part);
    return err;
}

int kt_tarball_end(struct kt_tarball *tb, struct kmem_ctx *ctx, const struct kt_opts *o)
{
    int err = 0;

    kmem_ctx_set_capture(ctx, NULL); /* nothing more is written into it */
    if (tb->tmpdir && kmem_ctx_remove_capture(ctx, tb->tmpdir) < 0)
        err = fail(o, EIO, "%s", kmem_strerror(ctx));
    free(tb->tmpdir);
    free(tb->capdir);
    free(tb->name);
    memset(tb, 0, sizeof(*tb));
    return err;
}
