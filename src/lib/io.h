/* SPDX-License-Identifier: MIT */
/*
 * Internal to libkmem: the I/O layer every reader uses and that knows no
 * reader. It holds the directories kmem reads from (the root, procfs, sysfs
 * and the pod-log directory, each an open fd), the hot files kept open
 * between reads, the scratch buffer, capture, and the last error message.
 */
#ifndef KMEM_IO_H
#define KMEM_IO_H

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>

#include "advice.h"
#include "buf.h"
#include "base.h"

/* The directories a context reads from; paths are relative to one of them. */
enum kmem_dir {
    KMEM_DIR_ROOT,    /* ROOT: boot/config-* */
    KMEM_DIR_PROC,    /* ROOT/proc or --path.procfs */
    KMEM_DIR_SYS,     /* ROOT/sys or --path.sysfs */
    KMEM_DIR_PODLOGS, /* ROOT/var/log or the pod-log directory: pods/, containers/ */
    KMEM_DIR_COUNT
};

/* Files re-read on every collection: opened once, re-read with lseek(0). */
enum kmem_hot_file {
    KMEM_F_SLABINFO,
    KMEM_F_MEMINFO,
    KMEM_F_VMSTAT,
    KMEM_F_ZONEINFO,
    KMEM_F_IOMEM, /* kept open: its addresses show to the opener's credentials (CAP_SYS_ADMIN) */
    KMEM_F_COUNT
};

struct kmem_io {
    int dirfd[KMEM_DIR_COUNT];      /* -errno when the directory cannot be opened */
    char *dirshown[KMEM_DIR_COUNT]; /* for messages: "/proc", "ROOT/proc", "--path.procfs" */
    char *dirabs[KMEM_DIR_COUNT];   /* realpath (NULL if unknown): capture and containment */
    int hotfd[KMEM_F_COUNT];
    int kmsg_fd;         /* ROOT/dev/kmsg opened early (kmem_io_preopen), read once by the node */
    struct kmem_buf buf; /* scratch for every read of the readers */
    char err[512];
    /* Capture: every file read is copied below capfd (see kmem_io_set_capture). */
    int capfd;
    char *capdir; /* as given, for messages */
    int capture_err;
    size_t capture_unnamed; /* files not captured: their path is longer than PATH_MAX */
    char capture_msg[512];
    /* Capture into memory instead (kmem_io_set_capture_sink): each file handed to @sink. */
    kmem_capture_sink_fn sink;
    void *sink_arg;
    unsigned possible_cpus;  /* kmem_possible_cpus(): 0 until read */
    unsigned release_number; /* kmem_root_release_number(): 0 until known */
};

/* Canonical directory names inside a tree: "", "proc", "sys", "var/log". */
extern const char *const kmem_dir_canon[KMEM_DIR_COUNT];

int kmem_io_init(struct kmem_io *io, const struct kmem_ctx_opts *o, char *errbuf, size_t errlen);
void kmem_io_release(struct kmem_io *io);

/* Record a message and return -abs(err): the one error setter of libkmem. */
int kmem_err(struct kmem_io *io, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The number of possible CPUs (sys/devices/system/cpu/possible), read once
 * per context (again while capturing, so that a capture holds the file);
 * 0 when unknown. The one place the library computes it.
 */
unsigned kmem_possible_cpus(struct kmem_io *io);

/* The display form of @rel inside directory @d, for messages. */
const char *kmem_display_path(const struct kmem_io *io, enum kmem_dir d, const char *rel, char *out,
                              size_t outlen);

/*
 * Read a hot file whole into io->buf (NUL-terminated). Opens it once, then
 * lseek(0) and re-reads; reopens on ESPIPE. 0 or -errno with message.
 */
int kmem_read_hot(struct kmem_io *io, enum kmem_hot_file f);

/*
 * Open, without reading, the files whose content depends on the opener's
 * credentials: /proc/iomem (addresses for CAP_SYS_ADMIN) and ROOT/dev/kmsg
 * (permission checked at open). A program that drops privileges after
 * making its context (kmem_exporter --run-as) still reads them fully.
 * Errors are not recorded: the readers meet them again.
 */
void kmem_io_preopen(struct kmem_io *io);

/* The fd of directory @d, or -errno when it could not be opened. */
static inline int kmem_io_dir(const struct kmem_io *io, enum kmem_dir d)
{
    return io->dirfd[d];
}

/*
 * Read @name relative to @dirfd whole into @buf (NUL-terminated): regular
 * files only, never blocking. Returns 0 or -errno WITHOUT recording a
 * message (callers decide: a vanished cgroup is not an error). If
 * capturing, the file is copied.
 */
int kmem_read_at(struct kmem_io *io, int dirfd, const char *name, struct kmem_buf *buf);

/* Open the regular file @path below @dirfd for reading, every symlink on the
 * way resolved beneath @dirfd (never out of it, never absolute, no magic
 * links): an fd, or -errno (-EXDEV when it would leave @dirfd). */
int kmem_open_beneath(int dirfd, const char *path);
/* kmem_buf_read_file() through kmem_open_beneath(). */
int kmem_buf_read_beneath(struct kmem_buf *b, int dirfd, const char *path);
/* ROOT/dev/kmsg, not through a symlink: a character device only if it is
 * 1:11 (/dev/kmsg itself; checked before it is opened), or a regular file
 * (a capture). An fd, or -errno. */
int kmem_open_kmsg(int root);
/*
 * The root's kernel release ("6.18.44-cloud-amd64"): ROOT/proc/sys/kernel/
 * osrelease, else the third word of ROOT/proc/version, else uname() when
 * the root is "/". False if unknown (or longer than @outlen - 1).
 */
bool kmem_root_release(struct kmem_io *io, char *out, size_t outlen);
/* Its "major.minor" as major * 1000 + minor (6.18 -> 6018); 0 if unknown. */
unsigned kmem_root_release_number(struct kmem_io *io);

/*
 * Read the file open at @fd whole from offset 0 with pread(2) into @buf
 * (NUL-terminated), for files the kernel writes as one record (cgroup
 * control files: a read shorter than asked is the end, so one pread(2) is
 * the whole read). Keeps the fd's offset; captures the file when capturing.
 * 0 or -errno, no message recorded. Not for multi-record seq files such as
 * /proc/slabinfo, which return short reads before their end.
 */
int kmem_read_single_fd(struct kmem_io *io, int fd, struct kmem_buf *buf);
/*
 * The same, captured as @rel (the path a capture holds it at, as
 * kmem_capture_rel_of() gives it) instead of asking the kernel for the
 * fd's path (a readlink(2) of /proc/self/fd/N per file); NULL @rel: as
 * kmem_read_single_fd().
 */
int kmem_read_single_fd_as(struct kmem_io *io, int fd, struct kmem_buf *buf, const char *rel);
/* When capturing: the path in the capture of the file or directory open at @fd into @out. */
bool kmem_capture_rel_of(struct kmem_io *io, int fd, char *out, size_t outlen);

/* Open a directory relative to @dirfd (O_DIRECTORY|O_NOFOLLOW). fd or -errno. */
int kmem_open_dir(int dirfd, const char *relpath);

/* opendir() of @relpath below @dirfd (no symlink as the last component); NULL on error. */
DIR *kmem_opendir(int dirfd, const char *relpath);

/* Record @name in directory @dirfd with contents @data in the capture (no-op if off). */
void kmem_capture(struct kmem_io *io, int dirfd, const char *name, const char *data, size_t len);
/* Record @name in directory @dirfd as a symlink to @target, a name in the same directory. */
void kmem_capture_link(struct kmem_io *io, int dirfd, const char *name, const char *target);
/* Record the file open at @fd, read as @data (its real path decides where it goes). */
void kmem_capture_fd(struct kmem_io *io, int fd, const char *data, size_t len);

static inline bool kmem_capturing(const struct kmem_io *io)
{
    return io->capfd >= 0 || io->sink;
}

/*
 * Capturing into a directory (not into memory): every file is read again
 * (a capture is whole by itself; the recorder carries what was not re-read).
 */
static inline bool kmem_capturing_dir(const struct kmem_io *io)
{
    return io->capfd >= 0;
}

/* Hand every file read from now on to @sink (NULL stops); a capture directory is stopped. */
void kmem_io_set_capture_sink(struct kmem_io *io, kmem_capture_sink_fn sink, void *arg);

/* The file at the root of a capture that describes it (capmeta.c). */
#define KMEM_CAPTURE_META "kmem-capture.txt"

/*
 * Start capturing into @dir (new or empty, owned by the caller); NULL stops.
 * With @replace, @dir may also be an earlier capture (it holds
 * KMEM_CAPTURE_META): its contents are removed first, never through a
 * symlink and never on another filesystem. 0 or -errno.
 */
int kmem_io_set_capture(struct kmem_io *io, const char *dir, bool replace);

/* Write @rel (relative to the capture directory) with @data: files kmem writes itself. */
void kmem_capture_put(struct kmem_io *io, const char *rel, const char *data, size_t len);

/*
 * Remove the directory @dir (the caller's) and everything below it, by the
 * rules of a replace: symlinks are removed, never followed; a mount point
 * inside stops it before anything is removed. 0 or -errno.
 */
int kmem_io_remove_tree(struct kmem_io *io, const char *dir);

#endif
