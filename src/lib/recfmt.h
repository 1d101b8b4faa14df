/* SPDX-License-Identifier: MIT */
/*
 * The flight recorder's formats, pure (no I/O, for tests and fuzzing):
 *
 * - a file set: the files of one sample, as a capture holds them (relative
 *   paths, contents, symlinks), serialized as one blob;
 * - a record: one sample in a segment file, a fixed header (time, flags,
 *   lengths, the keyframe it is compressed against, CRC32C) and the
 *   zstd-compressed blob;
 * - a segment: a header, then records appended one after the other.
 *
 * Layout and choices: docs/recorder.md. All integers are little-endian.
 */
#ifndef KMEM_RECFMT_H
#define KMEM_RECFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* ---- file sets ---------------------------------------------------------- */

enum kmem_fs_kind { KMEM_FS_FILE = 0, KMEM_FS_LINK = 1 };

struct kmem_fs_entry {
    char *path; /* relative, "proc/slabinfo"; no "..", no leading or doubled '/' */
    char *data; /* contents, or the link's target (NUL-terminated either way) */
    size_t len;
    enum kmem_fs_kind kind;
    size_t seq; /* order of addition: of two entries with one path the later one counts */
};

struct kmem_fileset {
    struct kmem_fs_entry *v;
    size_t n, cap;
    size_t next_seq;
    bool sorted; /* sorted by path, one entry per path */
};

/* Add (a copy of) a file or a symlink. 0 or -ENOMEM / -EINVAL (a bad path). */
int kmem_fs_add(struct kmem_fileset *fs, const char *path, const char *data, size_t len,
                enum kmem_fs_kind kind);
/* Sort by path; of entries with the same path the one added last is kept. */
void kmem_fs_sort(struct kmem_fileset *fs);
/* The entry at @path (after kmem_fs_sort), or NULL. */
const struct kmem_fs_entry *kmem_fs_find(const struct kmem_fileset *fs, const char *path);
void kmem_fs_clear(struct kmem_fileset *fs);
void kmem_fs_free(struct kmem_fileset *fs);

/* True for a path a file set may hold (relative, no "." or ".." component, no empty one). */
bool kmem_fs_path_ok(const char *path, size_t len);

/* Serialize @fs (sorted) into @out (replacing its contents). 0 or -ENOMEM. */
int kmem_fs_encode(const struct kmem_fileset *fs, struct kmem_buf *out);
/*
 * Parse a blob into @fs (cleared first). 0, -ENOMEM, or -EBADMSG with
 * @why (if not NULL) saying what is wrong and @at the offset.
 */
int kmem_fs_decode(const char *blob, size_t len, struct kmem_fileset *fs, const char **why,
                   size_t *at);

/* ---- records and segments ----------------------------------------------- */

#define KMEM_SEG_MAGIC   "KMEMREC\n"
#define KMEM_SEG_VERSION 2           /* 2 adds KMEM_REC_CHAIN; version 1 segments are read too */
#define KMEM_SEG_HDR     16          /* magic, u32 version, u32 reserved */
#define KMEM_REC_MAGIC   0x31524d4bu /* "KMR1" */
#define KMEM_REC_HDR     32
/* Largest blob kept (raw and compressed): a sample is a few MiB. */
#define KMEM_REC_MAX ((uint32_t)256 << 20)

enum kmem_rec_flags {
    KMEM_REC_KEYFRAME = 1u << 0, /* compressed alone; others against the keyframe at key_off */
    KMEM_REC_OOM = 1u << 1,      /* taken because a cgroup's oom_kill count rose */
    KMEM_REC_FIRST = 1u << 2,    /* the first sample of a recorder's run */
    KMEM_REC_CHAIN = 1u << 3,    /* compressed against the record just before it (version 2) */
};

struct kmem_rec_hdr {
    uint32_t flags;
    uint64_t time_ns;  /* CLOCK_REALTIME, ns since the epoch */
    uint32_t comp_len; /* payload bytes that follow the header */
    uint32_t raw_len;  /* the blob's length */
    uint32_t key_off;  /* offset in the segment of the keyframe record (its own for a keyframe) */
    uint32_t crc;      /* CRC32C of the header's first 28 bytes and the payload */
};

uint32_t kmem_crc32c(uint32_t crc, const void *p, size_t len);

/* Write the segment header (KMEM_SEG_HDR bytes) into @out. */
void kmem_seg_hdr_put(unsigned char *out);
/* Check a segment header: 0 or -EBADMSG. */
int kmem_seg_hdr_check(const unsigned char *p, size_t len);

/* Write a record header for @payload into @out (KMEM_REC_HDR bytes); sets h->crc. */
void kmem_rec_hdr_put(struct kmem_rec_hdr *h, const void *payload, unsigned char *out);

/*
 * One record of a segment read whole into memory: parse the header at
 * @off and check it (magic, lengths within the segment, CRC). Returns 0,
 * -ENODATA when fewer bytes than a header or its payload remain (a torn
 * tail), -EBADMSG when the bytes are no valid record (@why says which).
 */
int kmem_rec_parse(const unsigned char *seg, size_t len, size_t off, struct kmem_rec_hdr *h,
                   const char **why);

#endif
