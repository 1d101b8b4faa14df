/* SPDX-License-Identifier: MIT */
/*
 * The flight recorder's reader (kmemrec.h): list the samples of a
 * recording directory, skipping torn tails and corrupt records with a
 * message; decompress one; write it out as a capture directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "kmemrec.h"
#include "sort.h"

struct seg {
    char *name;
    uint64_t start_ns; /* from the name */
    bool scanned;
};

struct kmem_recording {
    char *dir;
    int dirfd;
    struct seg *seg;
    size_t n_seg, cap_seg;
    struct kmem_rec_sample *s;
    size_t n, cap;
    struct kmem_buf warn;
    /* The last segment read whole, and the last keyframe decompressed. */
    long cached_seg;
    struct kmem_buf segdata;
    long key_seg;
    size_t key_off;
    struct kmem_buf key, raw, tmp;
    long raw_seg; /* the record whose blob r->raw holds: segment (-1: none), offset */
    size_t raw_off, raw_end;
    ZSTD_DCtx *dctx;
    char err[768];
};

static int recerr(struct kmem_recording *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int recerr(struct kmem_recording *r, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    return err > 0 ? -err : err;
}

static void warn(struct kmem_recording *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void warn(struct kmem_recording *r, const char *fmt, ...)
{
    char line[768];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = sizeof(line) - 1;
    if (kmem_buf_reserve(&r->warn, r->warn.len + (size_t)n + 2) == 0) {
        memcpy(r->warn.data + r->warn.len, line, (size_t)n);
        r->warn.len += (size_t)n;
        r->warn.data[r->warn.len++] = '\n';
        r->warn.data[r->warn.len] = '\0';
    }
}

const char *kmem_recording_strerror(const struct kmem_recording *r)
{
    return r->err;
}

const char *kmem_recording_warnings(const struct kmem_recording *r)
{
    return r->warn.data ? r->warn.data : "";
}

/* "kmem-YYYYmmddTHHMMSS.NNNNNNNNNZ.seg" -> ns since the epoch; false if not one. */
static bool seg_name_time(const char *name, uint64_t *t)
{
    struct tm tm = {0};
    unsigned y, mo, d, h, mi, s;
    unsigned long long ns;
    int end = 0;
    time_t sec;

    if (sscanf(name, "kmem-%4u%2u%2uT%2u%2u%2u.%9lluZ.seg%n", &y, &mo, &d, &h, &mi, &s, &ns,
               &end) != 7 ||
        end == 0 || name[end] != '\0')
        return false;
    tm.tm_year = (int)y - 1900;
    tm.tm_mon = (int)mo - 1;
    tm.tm_mday = (int)d;
    tm.tm_hour = (int)h;
    tm.tm_min = (int)mi;
    tm.tm_sec = (int)s;
    sec = timegm(&tm);
    if (sec < 0)
        return false;
    *t = (uint64_t)sec * 1000000000ull + ns;
    return true;
}

static int cmp_seg(const void *a, const void *b)
{
    const struct seg *x = a, *y = b;

    return x->start_ns < y->start_ns   ? -1
           : x->start_ns > y->start_ns ? 1
                                       : strcmp(x->name, y->name);
}

bool kmem_is_recording(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    uint64_t t;
    bool yes = false;

    if (!d)
        return false;
    while (!yes && (de = readdir(d)))
        yes = seg_name_time(de->d_name, &t);
    closedir(d);
    return yes;
}

int kmem_recording_open(struct kmem_recording **out, const char *dir, char *errbuf, size_t errlen)
{
    struct kmem_recording *r = calloc(1, sizeof(*r));
    struct dirent *de;
    DIR *d;
    int fd, err = 0;

    *out = NULL;
    if (!r) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    r->cached_seg = r->key_seg = -1;
    r->raw_seg = -1;
    r->dirfd = -1;
    r->dir = strdup(dir);
    r->dctx = ZSTD_createDCtx();
    if (!r->dir || !r->dctx) {
        err = recerr(r, ENOMEM, "out of memory");
        goto fail;
    }
    ZSTD_DCtx_setParameter(r->dctx, ZSTD_d_windowLogMax, 27);
    r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r->dirfd < 0) {
        err = recerr(r, errno, "cannot open the recording %s: %s", dir, strerror(errno));
        goto fail;
    }
    fd = dup(r->dirfd);
    d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        err = recerr(r, errno, "cannot list %s: %s", dir, strerror(errno));
        goto fail;
    }
    while ((de = readdir(d))) {
        uint64_t t;

        if (!seg_name_time(de->d_name, &t))
            continue;
        KMEM_GROW(err, r->seg, &r->cap_seg, r->n_seg + 1);
        if (err)
            break;
        r->seg[r->n_seg].name = strdup(de->d_name);
        r->seg[r->n_seg].start_ns = t;
        r->seg[r->n_seg].scanned = false;
        if (!r->seg[r->n_seg].name) {
            err = -ENOMEM;
            break;
        }
        r->n_seg++;
    }
    closedir(d);
    if (err) {
        recerr(r, err, "out of memory");
        goto fail;
    }
    if (r->n_seg == 0) {
        err = recerr(r, ENOENT,
                     "%s holds no recording (no kmem-*.seg file): record with "
                     "kmemtop --record %s",
                     dir, dir);
        goto fail;
    }
    kmem_sort(r->seg, r->n_seg, sizeof(*r->seg), cmp_seg);
    *out = r;
    return 0;
fail:
    snprintf(errbuf, errlen, "%s", r->err);
    kmem_recording_close(r);
    return err;
}

void kmem_recording_close(struct kmem_recording *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_seg; i++)
        free(r->seg[i].name);
    free(r->seg);
    free(r->s);
    free(r->warn.data);
    free(r->segdata.data);
    free(r->key.data);
    free(r->raw.data);
    free(r->tmp.data);
    ZSTD_freeDCtx(r->dctx);
    if (r->dirfd >= 0)
        close(r->dirfd);
    free(r->dir);
    free(r);
}

/* Read segment @si whole into r->segdata (cached). */
static int read_seg(struct kmem_recording *r, size_t si)
{
    int fd, err;

    if (r->cached_seg == (long)si)
        return 0;
    r->cached_seg = -1;
    fd = openat(r->dirfd, r->seg[si].name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return recerr(r, errno, "cannot open %s/%s: %s", r->dir, r->seg[si].name, strerror(errno));
    r->segdata.len = 0;
    err = kmem_buf_read_fd(&r->segdata, fd, (size_t)UINT32_MAX);
    close(fd);
    if (err)
        return recerr(r, err, "cannot read %s/%s: %s", r->dir, r->seg[si].name, strerror(-err));
    r->cached_seg = (long)si;
    return 0;
}

static int cmp_sample(const void *a, const void *b)
{
    const struct kmem_rec_sample *x = a, *y = b;

    if (x->time_ns != y->time_ns)
        return x->time_ns < y->time_ns ? -1 : 1;
    if (x->seg != y->seg)
        return x->seg < y->seg ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Next offset after @off where a valid record starts, or @len. */
static size_t resync(const unsigned char *p, size_t len, size_t off)
{
    struct kmem_rec_hdr h;

    for (off++; off + KMEM_REC_HDR <= len; off++)
        if (p[off] == 'K' && kmem_rec_parse(p, len, off, &h, NULL) == 0)
            return off;
    return len;
}

static int scan_seg(struct kmem_recording *r, size_t si)
{
    const unsigned char *p;
    size_t off = KMEM_SEG_HDR, len, key_ok = 0, end_ok = 0, link = 0;
    bool have_key = false;
    int err;

    if (r->seg[si].scanned)
        return 0;
    err = read_seg(r, si);
    if (err)
        return err;
    r->seg[si].scanned = true;
    p = (const unsigned char *)r->segdata.data;
    len = r->segdata.len;
    if (kmem_seg_hdr_check(p, len)) {
        warn(r, "%s/%s: not a kmem segment (bad header): skipped", r->dir, r->seg[si].name);
        return 0;
    }
    while (off < len) {
        struct kmem_rec_hdr h;
        const char *why = "";
        int rc = kmem_rec_parse(p, len, off, &h, &why);

        if (rc == -ENODATA) {
            warn(r, "%s/%s: a torn tail at byte %zu (%zu bytes: %s) skipped", r->dir,
                 r->seg[si].name, off, len - off, why);
            break;
        }
        if (rc) {
            size_t next = resync(p, len, off);

            warn(r, "%s/%s: %s at byte %zu: %zu bytes skipped", r->dir, r->seg[si].name, why, off,
                 next - off);
            off = next;
            continue;
        }
        if (h.flags & KMEM_REC_KEYFRAME) {
            have_key = true;
            key_ok = off;
        }
        if (!have_key || h.key_off != key_ok) {
            warn(r, "%s/%s: the sample at byte %zu refers to a keyframe that is lost: skipped",
                 r->dir, r->seg[si].name, off);
        } else if ((h.flags & KMEM_REC_CHAIN) && end_ok != off) {
            warn(r,
                 "%s/%s: the sample at byte %zu refers to a sample before it that is lost: "
                 "skipped",
                 r->dir, r->seg[si].name, off);
        } else {
            end_ok = off + KMEM_REC_HDR + h.comp_len;
            if (!(h.flags & KMEM_REC_CHAIN))
                link = off;
            KMEM_GROW(err, r->s, &r->cap, r->n + 1);
            if (err)
                return recerr(r, err, "out of memory");
            r->s[r->n++] = (struct kmem_rec_sample){
                .time_ns = h.time_ns,
                .flags = h.flags,
                .raw_len = h.raw_len,
                .comp_len = h.comp_len,
                .seg = (unsigned)si,
                .off = off,
                .key_off = h.key_off,
                .link_off = link,
            };
        }
        off += KMEM_REC_HDR + h.comp_len;
    }
    return 0;
}

int kmem_recording_scan(struct kmem_recording *r, uint64_t t_ns)
{
    size_t from = 0, to = r->n_seg;
    int err;

    if (t_ns) {
        size_t i = 0;

        while (i + 1 < r->n_seg && r->seg[i + 1].start_ns <= t_ns)
            i++;
        from = i;
        to = i + 1;
    }
    for (size_t i = from; i < to; i++) {
        err = scan_seg(r, i);
        if (err)
            return err;
    }
    /* The chosen segment may hold nothing usable before @t_ns: look at the earlier ones. */
    if (t_ns && kmem_recording_find(r, t_ns) < 0 && from > 0)
        for (size_t i = from; i-- > 0 && kmem_recording_find(r, t_ns) < 0;) {
            err = scan_seg(r, i);
            if (err)
                return err;
            kmem_sort(r->s, r->n, sizeof(*r->s), cmp_sample);
        }
    kmem_sort(r->s, r->n, sizeof(*r->s), cmp_sample);
    return 0;
}

size_t kmem_recording_count(const struct kmem_recording *r)
{
    return r->n;
}

const struct kmem_rec_sample *kmem_recording_sample(const struct kmem_recording *r, size_t i)
{
    return i < r->n ? &r->s[i] : NULL;
}

long kmem_recording_find(const struct kmem_recording *r, uint64_t t_ns)
{
    size_t lo = 0, hi = r->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (r->s[mid].time_ns <= t_ns)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo - 1;
}

static int decompress(struct kmem_recording *r, const unsigned char *src, size_t len,
                      uint32_t raw_len, const struct kmem_buf *prefix, struct kmem_buf *out)
{
    size_t n;
    int err = kmem_buf_reserve(out, (size_t)raw_len + 1);

    if (err)
        return recerr(r, err, "out of memory");
    ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
    if (prefix && ZSTD_isError(ZSTD_DCtx_refPrefix(r->dctx, prefix->data, prefix->len)))
        return recerr(r, EIO, "zstd: cannot use the keyframe");
    n = ZSTD_decompressDCtx(r->dctx, out->data, (size_t)raw_len + 1, src, len);
    if (ZSTD_isError(n))
        return recerr(r, EBADMSG, "zstd: %s", ZSTD_getErrorName(n));
    if (n != raw_len)
        return recerr(r, EBADMSG, "a sample decompressed to %zu bytes, not %u", n, raw_len);
    out->len = n;
    return 0;
}

/* Decompress the record at @off of segment @si into r->raw, against r->key or
 * (chained) r->raw (a keyframe's blob is r->key's); @off is moved to the record after it. */
static int load_one(struct kmem_recording *r, size_t si, size_t *off)
{
    const unsigned char *p = (const unsigned char *)r->segdata.data;
    struct kmem_rec_hdr h;
    const char *why = "";
    struct kmem_buf t;
    int err;

    if (kmem_rec_parse(p, r->segdata.len, *off, &h, &why))
        return recerr(r, EBADMSG, "%s/%s: sample at byte %zu: %s", r->dir, r->seg[si].name, *off,
                      why);
    if ((h.flags & KMEM_REC_CHAIN) && r->raw_seg != (long)si)
        return recerr(r, EBADMSG, "%s/%s: sample at byte %zu: not in the chain read", r->dir,
                      r->seg[si].name, *off);
    r->raw_seg = -1;
    if (h.flags & KMEM_REC_KEYFRAME) { /* a chain that starts at the keyframe (loaded) */
        err = kmem_buf_reserve(&r->tmp, r->key.len + 1);
        if (!err)
            memcpy(r->tmp.data, r->key.data, r->key.len);
        r->tmp.len = r->key.len;
    } else {
        err = decompress(r, p + *off + KMEM_REC_HDR, h.comp_len, h.raw_len,
                         h.flags & KMEM_REC_CHAIN ? &r->raw : &r->key, &r->tmp);
    }
    if (err)
        return err == -ENOMEM ? recerr(r, err, "out of memory") : err;
    t = r->raw;
    r->raw = r->tmp;
    r->tmp = t;
    r->raw_seg = (long)si;
    r->raw_off = *off;
    *off += KMEM_REC_HDR + h.comp_len;
    r->raw_end = *off;
    return 0;
}

int kmem_recording_load(struct kmem_recording *r, size_t i, struct kmem_fileset *fs)
{
    const struct kmem_rec_sample *s = kmem_recording_sample(r, i);
    const unsigned char *p;
    struct kmem_rec_hdr h;
    const char *why = "";
    size_t at = 0;
    int err;

    if (!s)
        return recerr(r, ERANGE, "no sample %zu", i);
    err = read_seg(r, s->seg);
    if (err)
        return err;
    p = (const unsigned char *)r->segdata.data;
    if (r->key_seg != (long)s->seg || r->key_off != s->key_off) {
        r->key_seg = -1;
        if (kmem_rec_parse(p, r->segdata.len, s->key_off, &h, &why))
            return recerr(r, EBADMSG, "%s/%s: keyframe at byte %zu: %s", r->dir,
                          r->seg[s->seg].name, s->key_off, why);
        err = decompress(r, p + s->key_off + KMEM_REC_HDR, h.comp_len, h.raw_len, NULL, &r->key);
        if (err)
            return err;
        r->key_seg = (long)s->seg;
        r->key_off = s->key_off;
    }
    if (s->off == s->key_off) {
        err = kmem_fs_decode(r->key.data, r->key.len, fs, &why, &at);
    } else {
        /*
         * A chained sample needs the records from its chain's start (scan kept
         * only unbroken chains, contiguous in one segment) decompressed in
         * turn; start after the one r->raw holds if it is on the way.
         */
        size_t off = s->link_off;

        if (r->raw_seg == (long)s->seg && r->raw_off >= s->link_off && r->raw_off <= s->off)
            off = r->raw_off == s->off ? s->off + 1 : r->raw_end;
        err = 0;
        while (!err && off <= s->off)
            err = load_one(r, s->seg, &off);
        if (err)
            return err;
        err = kmem_fs_decode(r->raw.data, r->raw.len, fs, &why, &at);
    }
    if (err == -EBADMSG)
        return recerr(r, err, "%s/%s: sample at byte %zu: %s (at byte %zu of the sample)", r->dir,
                      r->seg[s->seg].name, s->off, why, at);
    if (err)
        return recerr(r, err, "out of memory");
    return 0;
}

/* ---- writing a sample out as a directory -------------------------------- */

/*
 * The directories open while a tree is written: fd[0] is the tree's root,
 * fd[k] its k-th component of @path (the directory written last). Files
 * come sorted by path, so the next directory mostly shares all but its last
 * component with the one before: only what differs is made and opened.
 */
struct dirstack {
    int *fd;
    size_t depth, cap; /* fd[0..depth] are open */
    char path[4097];
};

static void dirstack_pop(struct dirstack *st, size_t keep)
{
    while (st->depth > keep)
        close(st->fd[st->depth--]);
}

/* Make fd[depth] the directory @dir (relative, "" for the root), creating it. */
static int dirstack_enter(struct dirstack *st, const char *dir, size_t dl)
{
    size_t same = 0, k = 0, i = 0;

    /* The components @dir shares with st->path. */
    while (i <= dl) {
        size_t l = strcspn(dir + i, "/");

        if (l > dl - i)
            l = dl - i;
        if (k >= st->depth || l == 0 || strncmp(st->path + i, dir + i, l) != 0 ||
            (st->path[i + l] != '/' && st->path[i + l] != '\0'))
            break;
        same = ++k;
        i += l + 1;
    }
    dirstack_pop(st, same);
    memcpy(st->path, dir, dl);
    st->path[dl] = '\0';
    for (; i < dl;) {
        size_t l = strcspn(dir + i, "/");
        char comp[256];
        int next;

        if (l > dl - i)
            l = dl - i;
        if (l >= sizeof(comp))
            return -ENAMETOOLONG;
        memcpy(comp, dir + i, l);
        comp[l] = '\0';
        if (st->depth + 1 >= st->cap) {
            size_t cap = st->cap ? st->cap * 2 : 16;
            int *v = realloc(st->fd, cap * sizeof(*v));

            if (!v)
                return -ENOMEM;
            st->fd = v;
            st->cap = cap;
        }
        if (mkdirat(st->fd[st->depth], comp, 0700) < 0 && errno != EEXIST)
            return -errno;
        next = openat(st->fd[st->depth], comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0)
            return -errno;
        st->fd[++st->depth] = next;
        i += l + 1;
    }
    return 0;
}

int kmem_fs_write_tree(const struct kmem_fileset *fs, int dirfd, char *what, size_t whatlen)
{
    struct dirstack st = {.fd = malloc(16 * sizeof(int)), .cap = 16};
    int err = 0;

    if (!st.fd)
        return -ENOMEM;
    st.fd[0] = dirfd; /* the caller's: never closed here */
    for (size_t i = 0; i < fs->n && !err; i++) {
        const struct kmem_fs_entry *e = &fs->v[i];
        const char *slash = strrchr(e->path, '/');
        size_t dl = slash ? (size_t)(slash - e->path) : 0;
        const char *name = slash ? slash + 1 : e->path;
        int fd, dfd;

        snprintf(what, whatlen, "%s", e->path);
        if (dl >= sizeof(st.path)) {
            err = -ENAMETOOLONG;
            break;
        }
        if (strlen(st.path) != dl || strncmp(st.path, e->path, dl) != 0) {
            err = dirstack_enter(&st, e->path, dl);
            if (err)
                break;
        }
        dfd = st.fd[st.depth];
        if (e->kind == KMEM_FS_LINK) {
            if (symlinkat(e->data, dfd, name) < 0)
                err = -errno;
            continue;
        }
        fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            err = -errno;
            break;
        }
        for (size_t done = 0; done < e->len && !err;) {
            ssize_t n = write(fd, e->data + done, e->len - done);

            if (n < 0 && errno != EINTR)
                err = -errno;
            else if (n > 0)
                done += (size_t)n;
        }
        if (close(fd) < 0 && !err)
            err = -errno;
    }
    dirstack_pop(&st, 0);
    free(st.fd);
    return err;
}

int kmem_recording_materialize(struct kmem_recording *r, size_t i, char *tmpl)
{
    struct kmem_fileset fs = {0};
    char what[4200];
    int dfd, err;

    err = kmem_recording_load(r, i, &fs);
    if (err)
        goto out;
    if (!mkdtemp(tmpl)) {
        err = recerr(r, errno, "cannot make a directory %s: %s", tmpl, strerror(errno));
        goto out;
    }
    dfd = open(tmpl, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        err = recerr(r, errno, "cannot open %s: %s", tmpl, strerror(errno));
        goto out;
    }
    err = kmem_fs_write_tree(&fs, dfd, what, sizeof(what));
    close(dfd);
    if (err) {
        recerr(r, err, "cannot write %s/%s: %s", tmpl, what, strerror(-err));
        kmem_rec_remove_tree(tmpl);
    }
out:
    kmem_fs_free(&fs);
    return err;
}

const char *kmem_rec_tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    struct stat st;

    if (t && *t)
        return t;
    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK | X_OK) == 0)
        return "/dev/shm";
    return "/tmp";
}

/* Remove what directory @dfd holds (closed here), without following links
 * and without entering another filesystem (device @dev): a directory
 * mounted on stays, and its removal fails (EBUSY). */
static int remove_below(int dfd, dev_t dev)
{
    DIR *d = fdopendir(dfd);
    struct dirent *de;
    int err = 0;

    if (!d) {
        err = -errno;
        close(dfd);
        return err;
    }
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        bool dir = de->d_type == DT_DIR;

        if (n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2])))
            continue;
        if (de->d_type == DT_UNKNOWN) {
            struct stat st;

            dir = fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        if (dir) {
            int sub = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            struct stat st;
            int e;

            if (sub < 0) {
                e = -errno;
            } else if (fstat(sub, &st) == 0 && st.st_dev == dev) {
                e = remove_below(sub, dev); /* closes sub */
            } else {
                e = -EXDEV; /* another filesystem mounted here: left */
                close(sub);
            }
            if (!err)
                err = e;
        }
        if (unlinkat(dirfd(d), n, dir ? AT_REMOVEDIR : 0) < 0 && !err)
            err = -errno;
    }
    closedir(d);
    return err;
}

int kmem_rec_remove_tree(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), err;
    struct stat st;

    if (dfd < 0)
        return -errno;
    if (fstat(dfd, &st) < 0) {
        err = -errno;
        close(dfd);
        return err;
    }
    err = remove_below(dfd, st.st_dev);
    if (rmdir(dir) < 0 && !err)
        err = -errno;
    return err;
}

/* ---- times -------------------------------------------------------------- */

int kmem_parse_duration(const char *s, uint64_t *out_s)
{
    char *end = NULL;
    unsigned long long v;
    uint64_t mul = 1;

    while (*s == ' ')
        s++;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -EINVAL;
    while (*end == ' ')
        end++;
    switch (*end) {
    case 's':
        mul = 1;
        end++;
        break;
    case 'm':
        mul = 60;
        end++;
        break;
    case 'h':
        mul = 3600;
        end++;
        break;
    case 'd':
        mul = 86400;
        end++;
        break;
    case 'w':
        mul = 7 * 86400;
        end++;
        break;
    default:
        break;
    }
    if (*end || v > UINT64_MAX / mul / 1000000000ull)
        return -EINVAL;
    *out_s = v * mul;
    return 0;
}

int kmem_parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *suffix;
        uint64_t mul;
    } units[] = {
        {"", 1},
        {"B", 1},
        {"k", 1000},
        {"K", 1024},
        {"KiB", 1024},
        {"KB", 1000},
        {"M", 1000000},
        {"MiB", 1 << 20},
        {"MB", 1000000},
        {"G", 1000000000},
        {"GiB", 1ull << 30},
        {"GB", 1000000000},
        {"T", 1000000000000ull},
        {"TiB", 1ull << 40},
    };
    char *end = NULL;
    unsigned long long v;

    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (!strcmp(end, units[i].suffix)) {
            if (v > UINT64_MAX / units[i].mul)
                return -EINVAL;
            *out = v * units[i].mul;
            return 0;
        }
    return -EINVAL;
}

int kmem_parse_time(const char *s, uint64_t now_ns, uint64_t *out_ns)
{
    struct tm tm = {0};
    const char *end;
    size_t l = strlen(s);
    time_t t;

    while (l && s[l - 1] == ' ')
        l--;
    if (l == 3 && !strncmp(s, "now", 3)) {
        *out_ns = now_ns;
        return 0;
    }
    if (l > 4 && !strncmp(s + l - 4, " ago", 4)) {
        char num[64];
        uint64_t sec;

        if (l - 4 >= sizeof(num))
            return -EINVAL;
        memcpy(num, s, l - 4);
        num[l - 4] = '\0';
        if (kmem_parse_duration(num, &sec) || sec * 1000000000ull > now_ns)
            return -EINVAL;
        *out_ns = now_ns - sec * 1000000000ull;
        return 0;
    }
    end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
    if (!end || *end) {
        memset(&tm, 0, sizeof(tm));
        end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    }
    if (!end || *end) {
        memset(&tm, 0, sizeof(tm));
        end = strptime(s, "%Y-%m-%d %H:%M", &tm);
    }
    if (!end || *end)
        return -EINVAL;
    tm.tm_isdst = -1;
    t = mktime(&tm);
    if (t == (time_t)-1 || t < 0)
        return -EINVAL;
    /* The whole second: a sample taken within it counts as at that time. */
    *out_ns = (uint64_t)t * 1000000000ull + 999999999ull;
    return 0;
}

void kmem_format_time(uint64_t t_ns, char *out, size_t len)
{
    time_t t = (time_t)(t_ns / 1000000000ull);
    struct tm tm;

    if (!localtime_r(&t, &tm) || !strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(out, len, "@%lld", (long long)t);
}
