/* SPDX-License-Identifier: MIT */
/*
 * Synthesize a long recording for bench/recorder.sh from one real segment:
 * rec_synth SEGMENT OUTDIR HOURS SAMPLES_PER_HOUR STEP_SECONDS START_UNIX
 * writes HOURS segments, each the real segment's keyframe followed by the
 * records that refer to it, up to SAMPLES_PER_HOUR records, with times
 * STEP_SECONDS apart and every CRC32C recomputed. Records chained to the one
 * before (KMEM_REC_CHAIN) stay valid: what repeats starts at the first record
 * not chained (against the keyframe), or if there is none, at a copy of the
 * keyframe. What a reader does with it (list segments, scan one, decompress
 * a keyframe and a chain) is what it does with a real recording of that length.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "recfmt.h"

int main(int argc, char **argv)
{
    struct kmem_buf seg = {0};
    size_t recs[4096], n = 0, off = KMEM_SEG_HDR, cyc = 0;
    struct kmem_rec_hdr h;
    FILE *f;

    if (argc != 7) {
        fprintf(stderr, "usage: %s SEGMENT OUTDIR HOURS SAMPLES_PER_HOUR STEP START\n", argv[0]);
        return 2;
    }
    f = fopen(argv[1], "rb");
    if (!f || kmem_buf_read_fd(&seg, fileno(f), 1u << 30)) {
        perror(argv[1]);
        return 1;
    }
    fclose(f);
    while (off < seg.len && n < 4096 &&
           kmem_rec_parse((unsigned char *)seg.data, seg.len, off, &h, NULL) == 0) {
        if ((h.flags & KMEM_REC_KEYFRAME) ? off != KMEM_SEG_HDR : h.key_off != KMEM_SEG_HDR)
            break; /* the first keyframe's group only, unbroken */
        if (!cyc && n && !(h.flags & KMEM_REC_CHAIN))
            cyc = n;
        recs[n++] = off;
        off += KMEM_REC_HDR + h.comp_len;
    }
    if (n < 2) {
        fprintf(stderr, "%s: needs a keyframe and a delta\n", argv[1]);
        return 1;
    }
    long hours = atol(argv[3]), per = atol(argv[4]), step = atol(argv[5]);
    long long t0 = atoll(argv[6]);
    for (long hr = 0; hr < hours; hr++) {
        long long ts = t0 + hr * per * step;
        time_t s = (time_t)ts;
        struct tm tm;
        char name[4200], stamp[32];
        unsigned char hdr[KMEM_SEG_HDR], rh[KMEM_REC_HDR];

        gmtime_r(&s, &tm);
        strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
        snprintf(name, sizeof(name), "%s/kmem-%s.000000000Z.seg", argv[2], stamp);
        f = fopen(name, "wb");
        if (!f) {
            perror(name);
            return 1;
        }
        kmem_seg_hdr_put(hdr);
        fwrite(hdr, 1, sizeof(hdr), f);
        size_t at = KMEM_SEG_HDR, key_at = KMEM_SEG_HDR;
        for (long k = 0, i = 0; k < per; k++, i++) {
            if (i == (long)n)
                i = cyc ? (long)cyc : 0; /* repeat from a record that needs only the keyframe */
            size_t src = recs[i];
            const unsigned char *p = (unsigned char *)seg.data + src;

            kmem_rec_parse((unsigned char *)seg.data, seg.len, src, &h, NULL);
            h.time_ns = (uint64_t)(ts + k * step) * 1000000000ull;
            if (h.flags & KMEM_REC_KEYFRAME)
                key_at = at;
            h.key_off = (uint32_t)key_at;
            kmem_rec_hdr_put(&h, p + KMEM_REC_HDR, rh);
            fwrite(rh, 1, sizeof(rh), f);
            fwrite(p + KMEM_REC_HDR, 1, h.comp_len, f);
            at += KMEM_REC_HDR + h.comp_len;
        }
        if (fclose(f)) {
            perror(name);
            return 1;
        }
    }
    free(seg.data);
    return 0;
}
