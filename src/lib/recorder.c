/* SPDX-License-Identifier: MIT */
/*
 * The flight recorder's writer (kmemrec.h, docs/recorder.md): one sample is
 * the file set a capture of that moment holds, serialized (recfmt.c),
 * compressed with zstd against the segment's last keyframe, and appended as
 * one checksummed record to the current segment file, then fdatasync'd.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "hindex.h"
#include "io.h"
#include "kmemrec.h"
#include "sort.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

/* Per memory cgroup: its OOM-kill counter as last seen. */
struct oom_seen {
    char *file; /* path of memory.events / memory.oom_control relative to the root */
    uint64_t kills;
};

struct kmem_recorder {
    struct kmem_recorder_opts o;
    char *dir;
    int dirfd, lockfd, segfd, rootfd;
    char segname[64];
    uint64_t seg_start_ns;
    size_t seg_off;      /* bytes in the current segment */
    size_t last_seg;     /* bytes of the segment before it: room kept for the current one */
    size_t key_off;      /* offset of the segment's last keyframe */
    struct kmem_buf key; /* that keyframe, compressed (as written) */
    size_t key_raw;      /* its blob's length */
    uint32_t key_comp;   /* its compressed length */
    unsigned since_key;  /* samples since it */
    unsigned since_link; /* samples since the last one not chained to the one before */
    struct kmem_fileset cur, prev;
    struct kmem_buf blob, comp;
    struct kmem_buf last; /* the previous sample's blob: a chained sample refers to it */
    ZSTD_CCtx *cctx;
    struct oom_seen *oom;
    size_t n_oom, cap_oom;
    struct kmem_hindex oom_ix;
    struct oom_seen *onext; /* the counters of the sample being taken (sink) */
    size_t n_onext, cap_onext;
    bool cg_extras_set; /* the context reads the cgroups' OOM files (KMEM_CG_EXTRA_OOM) */
    /* The kernel's count of every OOM kill (/proc/vmstat oom_kill) at the
     * last sample or poll: a poll reads the cgroups' counters only when it
     * rose. Only where the root's proc is the live procfs (vm_gate). */
    bool vm_gate, vm_known, vm_seen;
    uint64_t vm_oom;
    bool stopped;
    uint64_t fake_ns; /* kmem_recorder_set_time() */
    struct kmem_recorder_stats st;
    char err[768];
};

static int rerr(struct kmem_recorder *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int rerr(struct kmem_recorder *r, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    return err > 0 ? -err : err;
}

const char *kmem_recorder_strerror(const struct kmem_recorder *r)
{
    return r->err;
}

const struct kmem_recorder_stats *kmem_recorder_stats(const struct kmem_recorder *r)
{
    return &r->st;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- open / lock -------------------------------------------------------- */

static int take_lock(struct kmem_recorder *r)
{
    char pid[32];
    ssize_t n;
    int len;

    r->lockfd = openat(r->dirfd, "LOCK", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (r->lockfd < 0)
        return rerr(r, errno, "cannot open %s/LOCK: %s", r->dir, strerror(errno));
    if (flock(r->lockfd, LOCK_EX | LOCK_NB) < 0) {
        int err = errno;

        n = pread(r->lockfd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        if (err == EWOULDBLOCK)
            return rerr(r, err,
                        "another recorder (pid %s) is recording into %s: one recorder per "
                        "directory",
                        *pid ? pid : "?", r->dir);
        return rerr(r, err, "cannot lock %s/LOCK: %s", r->dir, strerror(err));
    }
    len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(r->lockfd, 0) < 0 || pwrite(r->lockfd, pid, (size_t)len, 0) != len)
        return rerr(r, errno, "cannot write %s/LOCK: %s", r->dir, strerror(errno));
    return 0;
}

int kmem_recorder_open(struct kmem_recorder **out, const struct kmem_recorder_opts *o, char *errbuf,
                       size_t errlen)
{
    struct kmem_recorder *r;
    struct stat st;
    int err;

    *out = NULL;
    r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    r->o = *o;
    r->o.command = NULL;
    r->dirfd = r->lockfd = r->segfd = r->rootfd = -1;
    r->cur.sorted = r->prev.sorted = true;
    if (!r->o.segment_seconds)
        r->o.segment_seconds = 3600;
    if (!r->o.keyframe_every)
        r->o.keyframe_every = 360;
    if (!r->o.level)
        r->o.level = 1; /* as small as 3 on samples (+-3 %), half the memory (0.6 MiB) */
    if (!r->o.chain_every)
        r->o.chain_every = KMEM_REC_DEFAULT_CHAIN;
    r->dir = strdup(o->dir);
    if (o->command)
        r->o.command = strdup(o->command);
    r->cctx = ZSTD_createCCtx();
    if (!r->dir || !r->cctx || (o->command && !r->o.command)) {
        err = rerr(r, ENOMEM, "out of memory");
        goto fail;
    }
    if (mkdir(o->dir, 0700) < 0 && errno != EEXIST) {
        err = rerr(r, errno, "cannot create %s: %s", o->dir, strerror(errno));
        goto fail;
    }
    r->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (r->dirfd < 0) {
        err = rerr(r, errno, "cannot open the recording directory %s: %s", o->dir, strerror(errno));
        goto fail;
    }
    if (fstat(r->dirfd, &st) == 0 && st.st_uid != geteuid()) {
        err = rerr(r, EPERM, "refusing to record into %s: it belongs to uid %u, not to you", o->dir,
                   (unsigned)st.st_uid);
        goto fail;
    }
    err = take_lock(r);
    if (err)
        goto fail;
    *out = r;
    return 0;
fail:
    snprintf(errbuf, errlen, "%s", r->err);
    kmem_recorder_close(r);
    return err;
}

void kmem_recorder_close(struct kmem_recorder *r)
{
    if (!r)
        return;
    if (r->segfd >= 0)
        close(r->segfd);
    if (r->lockfd >= 0)
        close(r->lockfd); /* releases the lock */
    if (r->dirfd >= 0)
        close(r->dirfd);
    if (r->rootfd >= 0)
        close(r->rootfd);
    for (size_t i = 0; i < r->n_oom; i++)
        free(r->oom[i].file);
    free(r->oom);
    for (size_t i = 0; i < r->n_onext; i++)
        free(r->onext[i].file);
    free(r->onext);
    kmem_hindex_free(&r->oom_ix);
    kmem_fs_free(&r->cur);
    kmem_fs_free(&r->prev);
    free(r->blob.data);
    free(r->comp.data);
    free(r->key.data);
    free(r->last.data);
    ZSTD_freeCCtx(r->cctx);
    free(r->dir);
    free((char *)r->o.command);
    free(r);
}

/* ---- segments and retention --------------------------------------------- */

static int write_all(int fd, const struct iovec *iov, int n)
{
    struct iovec v[2];

    memcpy(v, iov, (size_t)n * sizeof(*v));
    for (int i = 0; i < n;) {
        ssize_t w = writev(fd, v + i, n - i);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        while (i < n && (size_t)w >= v[i].iov_len) {
            w -= (ssize_t)v[i].iov_len;
            i++;
        }
        if (i < n) {
            v[i].iov_base = (char *)v[i].iov_base + w;
            v[i].iov_len -= (size_t)w;
        }
    }
    return 0;
}

static int new_segment(struct kmem_recorder *r, uint64_t t)
{
    unsigned char hdr[KMEM_SEG_HDR];
    struct iovec iov = {hdr, sizeof(hdr)};
    int err;

    if (r->segfd >= 0) {
        close(r->segfd);
        r->last_seg = r->seg_off;
    }
    r->segfd = -1;
    for (int tries = 0; tries < 1000; tries++, t++) {
        time_t s = (time_t)(t / 1000000000ull);
        struct tm tm;
        char stamp[32];

        gmtime_r(&s, &tm);
        strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
        snprintf(r->segname, sizeof(r->segname), "kmem-%s.%09lluZ.seg", stamp,
                 (unsigned long long)(t % 1000000000ull));
        r->segfd = openat(r->dirfd, r->segname,
                          O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (r->segfd >= 0 || errno != EEXIST)
            break;
    }
    if (r->segfd < 0)
        return rerr(r, errno, "cannot create a segment in %s: %s", r->dir, strerror(errno));
    kmem_seg_hdr_put(hdr);
    err = write_all(r->segfd, &iov, 1);
    if (err || (!r->o.no_sync && (fdatasync(r->segfd) < 0 || fsync(r->dirfd) < 0))) {
        err = err ? err : -errno;
        unlinkat(r->dirfd, r->segname, 0);
        close(r->segfd);
        r->segfd = -1;
        return rerr(r, err,
                    "cannot write a new segment %s/%s: %s: recording stopped; the %llu samples "
                    "written before are intact%s",
                    r->dir, r->segname, strerror(-err), (unsigned long long)r->st.samples,
                    err == -ENOSPC || err == -EDQUOT
                        ? " (free space, or lower --record.max-size / --record.retain)"
                        : "");
    }
    r->seg_start_ns = t;
    r->seg_off = KMEM_SEG_HDR;
    r->since_key = 0;
    r->key.len = 0;
    r->last.len = 0;
    return 0;
}

struct seg_file {
    char name[64];
    time_t mtime;
    uint64_t size;
};

static int cmp_seg(const void *a, const void *b)
{
    return strcmp(((const struct seg_file *)a)->name, ((const struct seg_file *)b)->name);
}

/* Remove whole old segments: older than retain_seconds, or beyond max_bytes (oldest first). */
static void retention(struct kmem_recorder *r)
{
    struct seg_file *v = NULL;
    size_t n = 0, cap = 0;
    uint64_t total = 0;
    time_t now = time(NULL);
    int fd = dup(r->dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;

    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    rewinddir(d);
    while ((de = readdir(d))) {
        struct stat st;
        size_t l = strlen(de->d_name);
        int err;

        if (l < 9 || l >= sizeof(v->name) || strncmp(de->d_name, "kmem-", 5) ||
            strcmp(de->d_name + l - 4, ".seg"))
            continue;
        if (fstatat(r->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        KMEM_GROW(err, v, &cap, n + 1);
        if (err)
            break;
        snprintf(v[n].name, sizeof(v[n].name), "%s", de->d_name);
        v[n].mtime = st.st_mtime;
        v[n].size = (uint64_t)st.st_size;
        total += v[n].size;
        n++;
    }
    closedir(d);
    kmem_sort(v, n, sizeof(*v), cmp_seg);
    for (size_t i = 0; i < n; i++) {
        /* A file's mtime can be a clock tick ahead of time(2) (fine-grained
         * inode timestamps): not old, whatever the unsigned difference says. */
        bool old = r->o.retain_seconds && now > v[i].mtime &&
                   (uint64_t)(now - v[i].mtime) > r->o.retain_seconds;
        /* room for the current segment too, as large as the one before it */
        bool big = r->o.max_bytes && total + r->last_seg > r->o.max_bytes;

        if (!strcmp(v[i].name, r->segname) || (!old && !big))
            continue;
        if (unlinkat(r->dirfd, v[i].name, 0) == 0) {
            total -= v[i].size;
            r->st.removed_segments++;
        }
    }
    free(v);
}

/* ---- one sample --------------------------------------------------------- */

/* The value of the line "@key N" of @data (no NUL needed); false if none. */
static bool counter_of(const char *data, size_t len, const char *key, uint64_t *v)
{
    size_t kl = strlen(key);
    const char *p = data, *end = data + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;

        if ((size_t)(e - p) > kl && !memcmp(p, key, kl) && p[kl] == ' ') {
            uint64_t x = 0;

            for (p += kl + 1; p < e && *p >= '0' && *p <= '9'; p++)
                x = x * 10 + (uint64_t)(*p - '0');
            *v = x;
            return true;
        }
        p = e + 1;
    }
    return false;
}

static bool has_suffix(const char *s, const char *x)
{
    size_t sl = strlen(s), xl = strlen(x);

    return sl >= xl && !strcmp(s + sl - xl, x);
}

static void sink(void *arg, const char *rel, const char *data, size_t len, const char *link)
{
    struct kmem_recorder *r = arg;
    uint64_t k = 0;
    int err;

    if (link) {
        kmem_fs_add(&r->cur, rel, link, strlen(link), KMEM_FS_LINK);
        return;
    }
    kmem_fs_add(&r->cur, rel, data, len, KMEM_FS_FILE);
    if (!strcmp(rel, "proc/vmstat")) {
        /* Read before the cgroups (the node part comes first): a kill
         * between the two reads is in this sample's cgroup counters, and
         * the next poll sees /proc/vmstat rise and finds nothing new. */
        r->vm_seen = counter_of(data, len, "oom_kill", &r->vm_oom);
        return;
    }
    /* A cgroup's OOM-kill counter (read with KMEM_CG_EXTRA_OOM). */
    if (strncmp(rel, "sys/fs/cgroup/", 14) ||
        !(has_suffix(rel, "/memory.events") || has_suffix(rel, "/memory.oom_control")))
        return;
    counter_of(data, len, "oom_kill", &k);
    KMEM_GROW(err, r->onext, &r->cap_onext, r->n_onext + 1);
    if (err)
        return;
    r->onext[r->n_onext].file = strdup(rel);
    r->onext[r->n_onext].kills = k;
    if (r->onext[r->n_onext].file)
        r->n_onext++;
}

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static bool never_carried(const char *path, const char *cgmount)
{
    return (cgmount && *cgmount && has_prefix(path, cgmount)) || has_prefix(path, "var/log/") ||
           has_prefix(path, "sys/fs/cgroup/") || !strcmp(path, KMEM_CAPTURE_META);
}

/* Keep of the sample just taken only what the next one may carry (sorted stays sorted). */
static void keep_carried(struct kmem_fileset *fs, const char *cgmount)
{
    size_t k = 0;

    for (size_t i = 0; i < fs->n; i++) {
        if (never_carried(fs->v[i].path, cgmount)) {
            free(fs->v[i].path);
            free(fs->v[i].data);
            continue;
        }
        fs->v[k++] = fs->v[i];
    }
    fs->n = k;
}

/*
 * Files the context reads only now and then (sys/kernel/slab when the cache
 * list changes; the detail files once a minute; the kernel log once) are
 * carried from the previous sample while not read again, so that every
 * sample replays as a whole capture. Cgroups and pod logs never are: what
 * was not seen is gone.
 */
static int carry_over(struct kmem_recorder *r, const char *cgmount)
{
    bool slab_now = false;
    size_t n = r->cur.n;
    int err;

    for (size_t i = 0; i < n; i++)
        if (has_prefix(r->cur.v[i].path, "sys/kernel/slab/"))
            slab_now = true;
    kmem_fs_sort(&r->cur);
    for (size_t i = 0; i < r->prev.n; i++) {
        const struct kmem_fs_entry *e = &r->prev.v[i];

        if (never_carried(e->path, cgmount) ||
            (slab_now && has_prefix(e->path, "sys/kernel/slab/")) || kmem_fs_find(&r->cur, e->path))
            continue;
        err = kmem_fs_add(&r->cur, e->path, e->data, e->len, e->kind);
        if (err)
            return err;
    }
    kmem_fs_sort(&r->cur);
    return 0;
}

static uint64_t oom_kills(const char *text, size_t len)
{
    uint64_t k = 0;

    counter_of(text, len, "oom_kill", &k);
    return k;
}

static long oom_find(const struct kmem_recorder *r, const char *file)
{
    size_t it;

    for (long i = kmem_hindex_first(&r->oom_ix, kmem_hash_str(file), &it); i >= 0;
         i = kmem_hindex_next(&r->oom_ix, &it))
        if (!strcmp(r->oom[i].file, file))
            return i;
    return -1;
}

static int read_small(int rootfd, const char *rel, char *buf, size_t len)
{
    int fd = openat(rootfd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -errno;
    n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    return (int)n;
}

/*
 * The OOM-kill counters of this sample (the cgroups' files the context read
 * with KMEM_CG_EXTRA_OOM, handed to sink()) become the ones polled between
 * samples. Returns true when one rose since the last sample.
 */
static bool take_oom_counters(struct kmem_recorder *r)
{
    bool rose = false;

    for (size_t i = 0; i < r->n_onext; i++) {
        long old = oom_find(r, r->onext[i].file);

        if (old >= 0 && r->onext[i].kills > r->oom[old].kills)
            rose = true;
    }
    for (size_t i = 0; i < r->n_oom; i++)
        free(r->oom[i].file);
    free(r->oom);
    r->oom = r->onext;
    r->n_oom = r->n_onext;
    r->cap_oom = r->cap_onext;
    r->onext = NULL;
    r->n_onext = r->cap_onext = 0;
    if (kmem_hindex_reset(&r->oom_ix, r->n_oom) == 0)
        for (size_t i = 0; i < r->n_oom; i++)
            kmem_hindex_add(&r->oom_ix, kmem_hash_str(r->oom[i].file), i);
    return rose;
}

void kmem_recorder_set_time(struct kmem_recorder *r, uint64_t t_ns)
{
    r->fake_ns = t_ns;
}

bool kmem_recorder_oom_rose(struct kmem_recorder *r)
{
    char buf[4096];
    uint64_t vm = 0;

    if (r->vm_gate && r->vm_known) {
        /* No OOM kill anywhere since the last look: no cgroup's counter rose. */
        char big[16384];
        int n = read_small(r->rootfd, "proc/vmstat", big, sizeof(big));

        if (n < 0 || !counter_of(big, (size_t)n, "oom_kill", &vm))
            r->vm_known = false;
        else if (vm == r->vm_oom)
            return false;
    }
    for (size_t i = 0; i < r->n_oom; i++) {
        int n = read_small(r->rootfd, r->oom[i].file, buf, sizeof(buf));

        if (n >= 0 && oom_kills(buf, (size_t)n) > r->oom[i].kills)
            return true;
    }
    r->vm_oom = vm; /* a kill outside the cgroups read (a global OOM, a cgroup made since) */
    return false;
}

/* Compress the blob alone (no @prefix: a keyframe) or against @prefix. */
static int compress_blob(struct kmem_recorder *r, const struct kmem_buf *prefix)
{
    size_t bound = ZSTD_compressBound(r->blob.len), n;
    size_t span = r->blob.len + (prefix ? prefix->len : 0);
    int wlog = 17, err;

    while (wlog < 27 && ((size_t)1 << wlog) < span)
        wlog++;
    err = kmem_buf_reserve(&r->comp, bound);
    if (err)
        return err;
    ZSTD_CCtx_reset(r->cctx, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(r->cctx, ZSTD_c_compressionLevel, r->o.level);
    ZSTD_CCtx_setParameter(r->cctx, ZSTD_c_windowLog, wlog);
    ZSTD_CCtx_setParameter(r->cctx, ZSTD_c_checksumFlag, 0);
    if (prefix && ZSTD_isError(ZSTD_CCtx_refPrefix(r->cctx, prefix->data, prefix->len)))
        return -EINVAL;
    n = ZSTD_compress2(r->cctx, r->comp.data, bound, r->blob.data, r->blob.len);
    if (ZSTD_isError(n))
        return rerr(r, EIO, "zstd: %s", ZSTD_getErrorName(n));
    r->comp.len = n;
    return 0;
}

static int append_record(struct kmem_recorder *r, uint64_t t, uint32_t flags)
{
    unsigned char hdr[KMEM_REC_HDR];
    struct kmem_rec_hdr h = {.flags = flags, .time_ns = t};
    bool key = r->key.len == 0 || r->since_key >= r->o.keyframe_every;
    bool chain = !key && r->last.len && r->since_link < r->o.chain_every;
    struct iovec iov[2];
    int err;

    if (!key && !chain) {
        /* Against the keyframe: kept compressed (a few KB, not a sample's
         * size); back into r->last, which this sample does not need. */
        size_t n;

        err = kmem_buf_reserve(&r->last, r->key_raw + 1);
        if (err)
            return rerr(r, err, "out of memory");
        n = ZSTD_decompress(r->last.data, r->key_raw, r->key.data, r->key.len);
        if (ZSTD_isError(n) || n != r->key_raw)
            return rerr(r, EIO, "zstd: cannot read back the keyframe: %s",
                        ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short");
        r->last.len = n;
    }
    err = compress_blob(r, key ? NULL : &r->last);
    if (!err && !key && r->comp.len > r->key_comp / 2 + 4096) {
        key = true; /* drifted far from the keyframe: a new one costs less from here */
        chain = false;
        err = compress_blob(r, NULL);
    }
    if (err)
        return err == -ENOMEM ? rerr(r, err, "out of memory") : err;
    if (r->seg_off + KMEM_REC_HDR + r->comp.len > UINT32_MAX)
        return rerr(r, EFBIG, "segment too large");
    h.flags |= key ? KMEM_REC_KEYFRAME : chain ? KMEM_REC_CHAIN : 0;
    h.comp_len = (uint32_t)r->comp.len;
    h.raw_len = (uint32_t)r->blob.len;
    h.key_off = (uint32_t)(key ? r->seg_off : r->key_off);
    kmem_rec_hdr_put(&h, r->comp.data, hdr);
    iov[0] = (struct iovec){hdr, sizeof(hdr)};
    iov[1] = (struct iovec){r->comp.data, r->comp.len};
    err = write_all(r->segfd, iov, 2);
    if (!err && !r->o.no_sync && fdatasync(r->segfd) < 0)
        err = -errno;
    if (err) {
        /* Leave no partial record behind (a reader would skip it anyway). */
        if (ftruncate(r->segfd, (off_t)r->seg_off) == 0 && !r->o.no_sync)
            fdatasync(r->segfd);
        r->stopped = true;
        return rerr(r, err,
                    "%s/%s: %s: recording stopped; the %llu samples written before are intact%s",
                    r->dir, r->segname, strerror(-err), (unsigned long long)r->st.samples,
                    err == -ENOSPC || err == -EDQUOT
                        ? " (free space, or lower --record.max-size / --record.retain)"
                        : "");
    }
    if (key) {
        err = kmem_buf_reserve(&r->key, r->comp.len + 1);
        if (err)
            return rerr(r, err, "out of memory");
        memcpy(r->key.data, r->comp.data, r->comp.len); /* the next samples may refer to it */
        r->key.len = r->comp.len;
        r->key_raw = r->blob.len;
        r->key_off = r->seg_off;
        r->key_comp = h.comp_len;
        r->since_key = 0;
        r->st.keyframes++;
    }
    {
        struct kmem_buf tmp = r->last;

        r->last = r->blob; /* the next sample is chained to this one */
        r->blob = tmp;
    }
    r->since_link = chain ? r->since_link + 1 : 1;
    r->since_key++;
    r->seg_off += KMEM_REC_HDR + h.comp_len;
    r->st.samples++;
    r->st.raw_bytes += h.raw_len;
    r->st.disk_bytes += KMEM_REC_HDR + h.comp_len;
    r->st.last_raw = h.raw_len;
    r->st.last_comp = h.comp_len;
    r->st.oom_samples += (flags & KMEM_REC_OOM) != 0;
    return 0;
}

int kmem_recorder_sample(struct kmem_recorder *r, struct kmem_ctx *ctx, bool oom)
{
    const struct kmem_snapshot *snap;
    struct kmem_fileset tmp;
    uint64_t t;
    uint32_t flags = 0;
    int err;

    if (r->stopped)
        return rerr(r, EIO, "the recording was stopped: %s", r->err);
    if (r->rootfd < 0) {
        struct statfs sfs;
        int pfd;

        r->rootfd = open(kmem_ctx_root(ctx), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        pfd = r->rootfd < 0 ? -1 : openat(r->rootfd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r->vm_gate = pfd >= 0 && fstatfs(pfd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
        if (pfd >= 0)
            close(pfd);
    }
    if (!r->cg_extras_set) {
        unsigned extras;
        size_t fds;

        kmem_ctx_cgroup_reading(ctx, &extras, &fds);
        kmem_ctx_set_cgroup_reading(ctx, extras | KMEM_CG_EXTRA_OOM, fds);
        r->cg_extras_set = true;
    }
    kmem_fs_clear(&r->cur);
    for (size_t i = 0; i < r->n_onext; i++)
        free(r->onext[i].file);
    r->n_onext = 0;
    r->vm_seen = false;
    t = r->fake_ns ? r->fake_ns : now_ns();
    kmem_ctx_set_capture_sink(ctx, sink, r);
    kmem_ctx_capture_put_meta(ctx, r->o.command, NULL);
    kmem_collect(ctx, KMEM_COLLECT_ALL);
    kmem_ctx_set_capture_sink(ctx, NULL, NULL);
    snap = kmem_current(ctx);
    r->vm_known = r->vm_seen;
    if (take_oom_counters(r) || oom)
        flags |= KMEM_REC_OOM;
    if (r->st.samples == 0)
        flags |= KMEM_REC_FIRST;
    err = carry_over(r, snap->cgroups.mount);
    if (!err)
        err = kmem_fs_encode(&r->cur, &r->blob);
    if (err)
        return rerr(r, err, "cannot build the sample: %s", strerror(-err));
    if (r->segfd < 0 || t - r->seg_start_ns >= r->o.segment_seconds * 1000000000ull ||
        (r->o.max_bytes && r->seg_off > r->o.max_bytes / 8)) {
        err = new_segment(r, t);
        if (err) {
            r->stopped = true;
            return err;
        }
        retention(r);
    }
    err = append_record(r, t, flags);
    if (err)
        return err;
    r->st.last_files = r->cur.n;
    tmp = r->prev;
    r->prev = r->cur;
    r->cur = tmp;
    keep_carried(&r->prev, snap->cgroups.mount);
    return 0;
}
