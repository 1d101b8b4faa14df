/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the flight recorder's segment parser (records, their
 * checksums, keyframe references), the zstd payloads against their
 * keyframe, and the sample (file set) decoder, whose result must encode
 * back to the same bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "recfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_MAX (1u << 20)

/* A file set that decodes must encode to exactly the same blob. */
static void check_blob(const char *blob, size_t len)
{
    struct kmem_fileset fs = {0};
    struct kmem_buf out = {0};
    const char *why = NULL;
    size_t at = 0;
    int rc = kmem_fs_decode(blob, len, &fs, &why, &at);

    if (rc == 0) {
        if (kmem_fs_encode(&fs, &out) != 0 || out.len != len || memcmp(out.data, blob, len) != 0)
            abort();
        for (size_t i = 0; i < fs.n; i++)
            if (!kmem_fs_path_ok(fs.v[i].path, strlen(fs.v[i].path)) ||
                kmem_fs_find(&fs, fs.v[i].path) != &fs.v[i])
                abort();
    } else if (rc == -EBADMSG && (!why || at > len)) {
        abort();
    }
    kmem_fs_free(&fs);
    free(out.data);
}

static size_t inflate(ZSTD_DCtx *d, const uint8_t *src, size_t len, const char *prefix, size_t plen,
                      char *out)
{
    size_t n;

    ZSTD_DCtx_reset(d, ZSTD_reset_session_and_parameters);
    ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 20);
    if (prefix)
        ZSTD_DCtx_refPrefix(d, prefix, plen);
    n = ZSTD_decompressDCtx(d, out, OUT_MAX, src, len);
    return ZSTD_isError(n) ? (size_t)-1 : n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ZSTD_DCtx *d = ZSTD_createDCtx();
    char *key = malloc(OUT_MAX), *raw = malloc(OUT_MAX), *tmp = malloc(OUT_MAX), *t;
    size_t off = KMEM_SEG_HDR, klen = (size_t)-1, koff = 0, rlen = (size_t)-1, rend = 0;

    check_blob((const char *)data, size);
    if (!d || !key || !raw || !tmp || kmem_seg_hdr_check(data, size) != 0)
        goto out;
    while (off < size) {
        struct kmem_rec_hdr h;
        const char *why = NULL;
        int rc = kmem_rec_parse(data, size, off, &h, &why);
        size_t n;

        if (rc == -ENODATA)
            break;
        if (rc) {
            if (!why)
                abort();
            off++;
            continue;
        }
        if (off + KMEM_REC_HDR + h.comp_len > size || h.comp_len > size)
            abort();
        if (h.flags & KMEM_REC_KEYFRAME) {
            klen = inflate(d, data + off + KMEM_REC_HDR, h.comp_len, NULL, 0, key);
            koff = off;
            if (klen != (size_t)-1)
                check_blob(key, klen);
            rlen = (size_t)-1;
        } else if (klen != (size_t)-1 && h.key_off == koff) {
            /* A chained record (version 2) refers to the blob of the record just before it. */
            if (h.flags & KMEM_REC_CHAIN)
                n = rlen != (size_t)-1 && rend == off
                        ? inflate(d, data + off + KMEM_REC_HDR, h.comp_len, raw, rlen, tmp)
                        : (size_t)-1;
            else
                n = inflate(d, data + off + KMEM_REC_HDR, h.comp_len, key, klen, tmp);
            t = raw;
            raw = tmp;
            tmp = t;
            rlen = n;
            rend = off + KMEM_REC_HDR + h.comp_len;
            if (n != (size_t)-1)
                check_blob(raw, n);
        }
        off += KMEM_REC_HDR + h.comp_len;
    }
out:
    free(key);
    free(raw);
    free(tmp);
    ZSTD_freeDCtx(d);
    return 0;
}
