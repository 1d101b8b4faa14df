/* SPDX-License-Identifier: MIT */
/* The flight recorder's formats: file sets, record headers, segments (recfmt.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "recfmt.h"
#include "sort.h"

#define FS_MAGIC     "KMFS1\0\0\0"
#define FS_MAGIC_LEN 8
#define FS_ENTRY_HDR 9 /* u8 kind, u32 path length, u32 data length */

/* ---- little-endian helpers ---------------------------------------------- */

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* ---- CRC32C (Castagnoli, reflected 0x82F63B78), table built once -------- */

static uint32_t crc_table[256];
static bool crc_ready;

uint32_t kmem_crc32c(uint32_t crc, const void *p, size_t len)
{
    const unsigned char *b = p;

    if (!crc_ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;

            for (int k = 0; k < 8; k++)
                c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            crc_table[i] = c;
        }
        crc_ready = true;
    }
    crc = ~crc;
    while (len--)
        crc = crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- file sets ---------------------------------------------------------- */

bool kmem_fs_path_ok(const char *path, size_t len)
{
    size_t i = 0;

    if (len == 0 || len > 4096 || memchr(path, '\0', len))
        return false;
    while (i < len) {
        size_t e = i;

        while (e < len && path[e] != '/')
            e++;
        if (e == i || (e - i == 1 && path[i] == '.') ||
            (e - i == 2 && path[i] == '.' && path[i + 1] == '.') || e - i > 255)
            return false;
        if (e == len)
            return true;
        i = e + 1;
        if (i == len)
            return false; /* trailing '/' */
    }
    return true;
}

int kmem_fs_add(struct kmem_fileset *fs, const char *path, const char *data, size_t len,
                enum kmem_fs_kind kind)
{
    size_t pl = strlen(path);
    struct kmem_fs_entry *e;
    int err;

    if (!kmem_fs_path_ok(path, pl))
        return -EINVAL;
    KMEM_GROW(err, fs->v, &fs->cap, fs->n + 1);
    if (err)
        return err;
    e = &fs->v[fs->n];
    e->path = malloc(pl + 1);
    e->data = malloc(len + 1);
    if (!e->path || !e->data) {
        free(e->path);
        free(e->data);
        return -ENOMEM;
    }
    memcpy(e->path, path, pl + 1);
    if (len)
        memcpy(e->data, data, len);
    e->data[len] = '\0';
    e->len = len;
    e->kind = kind;
    e->seq = fs->next_seq++;
    fs->n++;
    fs->sorted = false;
    return 0;
}

/* By path, then by the order of addition. */
static int cmp_entry(const void *a, const void *b)
{
    const struct kmem_fs_entry *x = a, *y = b;
    int c = strcmp(x->path, y->path);

    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void kmem_fs_sort(struct kmem_fileset *fs)
{
    size_t w = 0;

    if (fs->sorted)
        return;
    kmem_sort(fs->v, fs->n, sizeof(*fs->v), cmp_entry);
    for (size_t i = 0; i < fs->n; i++) {
        if (i + 1 < fs->n && strcmp(fs->v[i].path, fs->v[i + 1].path) == 0) {
            free(fs->v[i].path);
            free(fs->v[i].data);
            continue;
        }
        fs->v[w++] = fs->v[i];
    }
    fs->n = w;
    fs->sorted = true;
}

const struct kmem_fs_entry *kmem_fs_find(const struct kmem_fileset *fs, const char *path)
{
    size_t lo = 0, hi = fs->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(fs->v[mid].path, path);

        if (c == 0)
            return &fs->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void kmem_fs_clear(struct kmem_fileset *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        free(fs->v[i].path);
        free(fs->v[i].data);
    }
    fs->n = 0;
    fs->sorted = true;
}

void kmem_fs_free(struct kmem_fileset *fs)
{
    kmem_fs_clear(fs);
    free(fs->v);
    memset(fs, 0, sizeof(*fs));
}

int kmem_fs_encode(const struct kmem_fileset *fs, struct kmem_buf *out)
{
    size_t need = FS_MAGIC_LEN + 4;
    unsigned char *p;
    int err;

    for (size_t i = 0; i < fs->n; i++)
        need += FS_ENTRY_HDR + strlen(fs->v[i].path) + fs->v[i].len;
    if (need > KMEM_REC_MAX || fs->n > UINT32_MAX)
        return -EFBIG;
    err = kmem_buf_reserve(out, need + 1);
    if (err)
        return err;
    p = (unsigned char *)out->data;
    memcpy(p, FS_MAGIC, FS_MAGIC_LEN);
    put32(p + FS_MAGIC_LEN, (uint32_t)fs->n);
    p += FS_MAGIC_LEN + 4;
    for (size_t i = 0; i < fs->n; i++) {
        size_t pl = strlen(fs->v[i].path);

        p[0] = (unsigned char)fs->v[i].kind;
        put32(p + 1, (uint32_t)pl);
        put32(p + 5, (uint32_t)fs->v[i].len);
        memcpy(p + FS_ENTRY_HDR, fs->v[i].path, pl);
        if (fs->v[i].len)
            memcpy(p + FS_ENTRY_HDR + pl, fs->v[i].data, fs->v[i].len);
        p += FS_ENTRY_HDR + pl + fs->v[i].len;
    }
    out->len = need;
    return 0;
}

static int bad(const char **why, size_t *at, const char *what, size_t off)
{
    if (why)
        *why = what;
    if (at)
        *at = off;
    return -EBADMSG;
}

int kmem_fs_decode(const char *blob, size_t len, struct kmem_fileset *fs, const char **why,
                   size_t *at)
{
    const unsigned char *b = (const unsigned char *)blob;
    const char *prev = NULL;
    size_t off = FS_MAGIC_LEN + 4, count;
    int err;

    kmem_fs_clear(fs);
    if (len < off || memcmp(b, FS_MAGIC, FS_MAGIC_LEN) != 0)
        return bad(why, at, "not a kmem sample (bad magic)", 0);
    count = get32(b + FS_MAGIC_LEN);
    if (count > (len - off) / FS_ENTRY_HDR)
        return bad(why, at, "entry count larger than the sample", FS_MAGIC_LEN);
    for (size_t i = 0; i < count; i++) {
        uint32_t pl, dl;
        char path[4097];

        if (len - off < FS_ENTRY_HDR)
            return bad(why, at, "entry header past the end", off);
        if (b[off] > KMEM_FS_LINK)
            return bad(why, at, "unknown entry kind", off);
        pl = get32(b + off + 1);
        dl = get32(b + off + 5);
        if (pl > 4096 || pl > len - off - FS_ENTRY_HDR || dl > len - off - FS_ENTRY_HDR - pl)
            return bad(why, at, "entry length past the end", off);
        memcpy(path, b + off + FS_ENTRY_HDR, pl);
        path[pl] = '\0';
        if (!kmem_fs_path_ok(path, pl))
            return bad(why, at, "bad path", off);
        if (b[off] == KMEM_FS_LINK && (dl == 0 || memchr(b + off + FS_ENTRY_HDR + pl, '/', dl) ||
                                       memchr(b + off + FS_ENTRY_HDR + pl, '\0', dl)))
            return bad(why, at, "a link's target must be a name in its directory", off);
        if (prev && strcmp(prev, path) >= 0)
            return bad(why, at, "paths not in order", off);
        err = kmem_fs_add(fs, path, (const char *)b + off + FS_ENTRY_HDR + pl, dl, b[off]);
        if (err)
            return err == -EINVAL ? bad(why, at, "bad path", off) : err;
        prev = fs->v[fs->n - 1].path;
        off += FS_ENTRY_HDR + pl + dl;
    }
    if (off != len)
        return bad(why, at, "trailing bytes after the last entry", off);
    fs->sorted = true;
    return 0;
}

/* ---- records and segments ----------------------------------------------- */

void kmem_seg_hdr_put(unsigned char *out)
{
    memcpy(out, KMEM_SEG_MAGIC, 8);
    put32(out + 8, KMEM_SEG_VERSION);
    put32(out + 12, 0);
}

int kmem_seg_hdr_check(const unsigned char *p, size_t len)
{
    if (len < KMEM_SEG_HDR || memcmp(p, KMEM_SEG_MAGIC, 8) != 0 || get32(p + 8) < 1 ||
        get32(p + 8) > KMEM_SEG_VERSION)
        return -EBADMSG;
    return 0;
}

static void hdr_bytes(const struct kmem_rec_hdr *h, unsigned char *out)
{
    put32(out, KMEM_REC_MAGIC);
    put32(out + 4, h->flags);
    put64(out + 8, h->time_ns);
    put32(out + 16, h->comp_len);
    put32(out + 20, h->raw_len);
    put32(out + 24, h->key_off);
}

void kmem_rec_hdr_put(struct kmem_rec_hdr *h, const void *payload, unsigned char *out)
{
    hdr_bytes(h, out);
    h->crc = kmem_crc32c(kmem_crc32c(0, out, 28), payload, h->comp_len);
    put32(out + 28, h->crc);
}

int kmem_rec_parse(const unsigned char *seg, size_t len, size_t off, struct kmem_rec_hdr *h,
                   const char **why)
{
    const unsigned char *p = seg + off;
    uint32_t crc;

    if (off > len || len - off < KMEM_REC_HDR)
        return (why ? *why = "a record header cut short" : NULL), -ENODATA;
    if (get32(p) != KMEM_REC_MAGIC)
        return (why ? *why = "no record magic" : NULL), -EBADMSG;
    h->flags = get32(p + 4);
    h->time_ns = get64(p + 8);
    h->comp_len = get32(p + 16);
    h->raw_len = get32(p + 20);
    h->key_off = get32(p + 24);
    h->crc = get32(p + 28);
    if (h->comp_len > KMEM_REC_MAX || h->raw_len > KMEM_REC_MAX)
        return (why ? *why = "a record length out of range" : NULL), -EBADMSG;
    if (len - off - KMEM_REC_HDR < h->comp_len)
        return (why ? *why = "a record cut short" : NULL), -ENODATA;
    crc = kmem_crc32c(kmem_crc32c(0, p, 28), p + KMEM_REC_HDR, h->comp_len);
    if (crc != h->crc)
        return (why ? *why = "a record whose checksum does not match" : NULL), -EBADMSG;
    if ((h->flags & KMEM_REC_KEYFRAME) && (h->flags & KMEM_REC_CHAIN))
        return (why ? *why = "a record both keyframe and chained" : NULL), -EBADMSG;
    if (h->flags & KMEM_REC_KEYFRAME ? h->key_off != off
                                     : h->key_off >= off || h->key_off < KMEM_SEG_HDR)
        return (why ? *why = "a record whose keyframe is not before it" : NULL), -EBADMSG;
    return 0;
}
