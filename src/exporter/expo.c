// SPDX-License-Identifier: MIT
/* Exposition writer: text format 0.0.4 primitives into a kmem_buf. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "expo.h"
#include "utf8.h"

int kx_expo_add_double(struct kmem_buf *b, double v)
{
    if (isnan(v))
        return kmem_buf_adds(b, "NaN");
    if (isinf(v))
        return kmem_buf_adds(b, v > 0 ? "+Inf" : "-Inf");
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        return kmem_buf_add_i64(b, (int64_t)v);
    /* The shortest of %.15g and %.17g that reads back exactly. */
    char tmp[40];
    snprintf(tmp, sizeof(tmp), "%.15g", v);
    if (strtod(tmp, NULL) != v)
        snprintf(tmp, sizeof(tmp), "%.17g", v);
    return kmem_buf_adds(b, tmp);
}

static int escape(struct kmem_buf *b, const char *v, bool quote)
{
    const unsigned char *s = (const unsigned char *)(v ? v : "");
    const unsigned char *run = s, *end = s + strlen((const char *)s);

    /* Copy runs of plain bytes at once. */
    for (;;) {
        unsigned c = *s;
        if (c == 0)
            break;
        if (c >= 0x20 && c < 0x80 && c != '\\' && c != '"') {
            s++;
            continue;
        }
        if (c == '"' && !quote) {
            s++;
            continue;
        }
        if (c >= 0x80) {
            size_t n = kmem_utf8_seq(s, (size_t)(end - s));
            if (n) {
                s += n;
                continue;
            }
        }
        if (c < 0x20 && c != '\n') {
            s++; /* other control bytes are valid UTF-8: keep them */
            continue;
        }
        kmem_buf_add(b, run, (size_t)(s - run));
        if (c == '\\')
            kmem_buf_add(b, "\\\\", 2);
        else if (c == '"')
            kmem_buf_add(b, "\\\"", 2);
        else if (c == '\n')
            kmem_buf_add(b, "\\n", 2);
        else { /* an invalid byte: the text \xHH (escaped backslash), never U+FFFD,
                * so that names differing only in invalid bytes stay distinct */
            char x[6];
            snprintf(x, sizeof(x), "\\\\x%02x", c);
            kmem_buf_add(b, x, 5);
        }
        s++;
        run = s;
    }
    return kmem_buf_add(b, run, (size_t)(s - run));
}

int kx_expo_escape_label(struct kmem_buf *b, const char *v)
{
    return escape(b, v, true);
}

int kx_expo_escape_help(struct kmem_buf *b, const char *v)
{
    return escape(b, v, false);
}

int kx_expo_family(struct kmem_buf *b, const char *name, const char *help, const char *type)
{
    kmem_buf_add(b, "# HELP ", 7);
    kmem_buf_adds(b, name);
    kmem_buf_addc(b, ' ');
    kx_expo_escape_help(b, help);
    kmem_buf_add(b, "\n# TYPE ", 8);
    kmem_buf_adds(b, name);
    kmem_buf_addc(b, ' ');
    kmem_buf_adds(b, type);
    return kmem_buf_addc(b, '\n');
}

static void sample_head(struct kmem_buf *b, const char *name, const struct kx_label *l, size_t nl)
{
    kmem_buf_adds(b, name);
    if (nl == 0) {
        kmem_buf_addc(b, ' ');
        return;
    }
    kmem_buf_addc(b, '{');
    for (size_t i = 0; i < nl; i++) {
        if (i)
            kmem_buf_addc(b, ',');
        kmem_buf_adds(b, l[i].name);
        kmem_buf_add(b, "=\"", 2);
        kx_expo_escape_label(b, l[i].value);
        kmem_buf_addc(b, '"');
    }
    kmem_buf_add(b, "} ", 2);
}

static int sample_tail(struct kmem_buf *b, int64_t ts_ms)
{
    if (ts_ms != KX_NO_TIMESTAMP) {
        kmem_buf_addc(b, ' ');
        kmem_buf_add_i64(b, ts_ms);
    }
    return kmem_buf_addc(b, '\n');
}

int kx_expo_sample_u64(struct kmem_buf *b, const char *name, const struct kx_label *l, size_t nl,
                       uint64_t v, int64_t ts_ms)
{
    sample_head(b, name, l, nl);
    kmem_buf_add_u64(b, v);
    return sample_tail(b, ts_ms);
}

int kx_expo_sample_double(struct kmem_buf *b, const char *name, const struct kx_label *l, size_t nl,
                          double v, int64_t ts_ms)
{
    sample_head(b, name, l, nl);
    kx_expo_add_double(b, v);
    return sample_tail(b, ts_ms);
}

size_t kx_family_nlabels(const struct kx_family *f)
{
    size_t n = 0;
    while (n < KX_LABELS_MAX && f->labels[n])
        n++;
    return n;
}

int kx_family_head(struct kmem_buf *b, const struct kx_family *f)
{
    return kx_expo_family(b, f->name, f->help, f->type == KX_COUNTER ? "counter" : "gauge");
}

/* The head of a sample of @f, or -EINVAL (sticky) if @nvalues is not its label count. */
static int family_sample_head(struct kmem_buf *b, const struct kx_family *f,
                              const char *const *values, size_t nvalues)
{
    size_t n = kx_family_nlabels(f);
    if (nvalues != n) { /* a programming error: fail the scrape */
        kmem_buf_free(b);
        return b->err = -EINVAL;
    }
    kmem_buf_adds(b, f->name);
    if (n == 0)
        return kmem_buf_addc(b, ' ');
    kmem_buf_addc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            kmem_buf_addc(b, ',');
        kmem_buf_adds(b, f->labels[i]);
        kmem_buf_add(b, "=\"", 2);
        kx_expo_escape_label(b, values[i]);
        kmem_buf_addc(b, '"');
    }
    return kmem_buf_add(b, "} ", 2);
}

int kx_family_u64(struct kmem_buf *b, const struct kx_family *f, const char *const *values,
                  size_t nvalues, uint64_t v, int64_t ts_ms)
{
    if (family_sample_head(b, f, values, nvalues))
        return b->err;
    kmem_buf_add_u64(b, v);
    return sample_tail(b, ts_ms);
}

int kx_family_double(struct kmem_buf *b, const struct kx_family *f, const char *const *values,
                     size_t nvalues, double v, int64_t ts_ms)
{
    if (family_sample_head(b, f, values, nvalues))
        return b->err;
    kx_expo_add_double(b, v);
    return sample_tail(b, ts_ms);
}

int kx_gzip(const void *in, size_t len, char **out, size_t *outlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    *out = NULL;
    *outlen = 0;
    if (len > UINT32_MAX)
        return -E2BIG;
    /* Level 1: scrape output compresses ~10x even at the fastest level, and
     * CPU per scrape is what this exporter is measured on. */
    if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    uLong bound = deflateBound(&zs, (uLong)len);
    char *buf = malloc(bound);
    if (!buf) {
        deflateEnd(&zs);
        return -ENOMEM;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)buf;
    zs.avail_out = (uInt)bound;
    int r = deflate(&zs, Z_FINISH);
    if (r != Z_STREAM_END) {
        deflateEnd(&zs);
        free(buf);
        return -EIO;
    }
    *outlen = zs.total_out;
    deflateEnd(&zs);
    *out = buf;
    return 0;
}
