// SPDX-License-Identifier: MIT
/* Exposition writer: size-capped buffer and text format 0.0.4 primitives. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "expo.h"
#include "utf8.h"

void kx_buf_init(struct kx_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
    b->err = 0;
}

void kx_buf_free(struct kx_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void kx_buf_reset(struct kx_buf *b)
{
    b->len = 0;
    b->err = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int buf_fail(struct kx_buf *b, int err)
{
    kx_buf_free(b);
    b->err = err;
    return err;
}

/* Make room for @n more bytes plus the NUL. */
static int buf_grow(struct kx_buf *b, size_t n)
{
    if (b->err)
        return b->err;
    if (n > b->max || b->len > b->max - n)
        return buf_fail(b, -E2BIG);
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = realloc(b->data, cap);
    if (!p)
        return buf_fail(b, -ENOMEM);
    b->data = p;
    b->cap = cap;
    return 0;
}

int kx_buf_reserve(struct kx_buf *b, size_t n)
{
    return buf_grow(b, n);
}

int kx_buf_add_slow(struct kx_buf *b, const void *p, size_t n)
{
    int r = buf_grow(b, n);
    if (r)
        return r;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int kx_buf_adds(struct kx_buf *b, const char *s)
{
    return kx_buf_add(b, s, strlen(s));
}

int kx_buf_printf(struct kx_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];

    if (b->err)
        return b->err;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return buf_fail(b, -EINVAL);
    if ((size_t)n < sizeof(small))
        return kx_buf_add(b, small, (size_t)n);
    int r = buf_grow(b, (size_t)n);
    if (r)
        return r;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int kx_buf_add_u64(struct kx_buf *b, uint64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);

    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return kx_buf_add(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

int kx_buf_add_i64(struct kx_buf *b, int64_t v)
{
    if (v >= 0)
        return kx_buf_add_u64(b, (uint64_t)v);
    kx_buf_addc(b, '-');
    return kx_buf_add_u64(b, (uint64_t)0 - (uint64_t)v);
}

int kx_buf_add_double(struct kx_buf *b, double v)
{
    if (isnan(v))
        return kx_buf_adds(b, "NaN");
    if (isinf(v))
        return kx_buf_adds(b, v > 0 ? "+Inf" : "-Inf");
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        return kx_buf_add_i64(b, (int64_t)v);
    /* The shortest of %.15g and %.17g that reads back exactly. */
    char tmp[40];
    snprintf(tmp, sizeof(tmp), "%.15g", v);
    if (strtod(tmp, NULL) != v)
        snprintf(tmp, sizeof(tmp), "%.17g", v);
    return kx_buf_adds(b, tmp);
}

char *kx_buf_take(struct kx_buf *b, size_t *len)
{
    if (b->err)
        return NULL;
    if (!b->data && kx_buf_add(b, "", 0))
        return NULL;
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

static int escape(struct kx_buf *b, const char *v, bool quote)
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
        kx_buf_add(b, run, (size_t)(s - run));
        if (c == '\\')
            kx_buf_add(b, "\\\\", 2);
        else if (c == '"')
            kx_buf_add(b, "\\\"", 2);
        else if (c == '\n')
            kx_buf_add(b, "\\n", 2);
        else
            kx_buf_add(b, "\xef\xbf\xbd", 3); /* U+FFFD for an invalid byte */
        s++;
        run = s;
    }
    return kx_buf_add(b, run, (size_t)(s - run));
}

int kx_expo_escape_label(struct kx_buf *b, const char *v)
{
    return escape(b, v, true);
}

int kx_expo_escape_help(struct kx_buf *b, const char *v)
{
    return escape(b, v, false);
}

int kx_expo_family(struct kx_buf *b, const char *name, const char *help, const char *type)
{
    kx_buf_add(b, "# HELP ", 7);
    kx_buf_adds(b, name);
    kx_buf_addc(b, ' ');
    kx_expo_escape_help(b, help);
    kx_buf_add(b, "\n# TYPE ", 8);
    kx_buf_adds(b, name);
    kx_buf_addc(b, ' ');
    kx_buf_adds(b, type);
    return kx_buf_addc(b, '\n');
}

static void sample_head(struct kx_buf *b, const char *name, const struct kx_label *l, size_t nl)
{
    kx_buf_adds(b, name);
    if (nl == 0) {
        kx_buf_addc(b, ' ');
        return;
    }
    kx_buf_addc(b, '{');
    for (size_t i = 0; i < nl; i++) {
        if (i)
            kx_buf_addc(b, ',');
        kx_buf_adds(b, l[i].name);
        kx_buf_add(b, "=\"", 2);
        kx_expo_escape_label(b, l[i].value);
        kx_buf_addc(b, '"');
    }
    kx_buf_add(b, "} ", 2);
}

static int sample_tail(struct kx_buf *b, int64_t ts_ms)
{
    if (ts_ms != KX_NO_TIMESTAMP) {
        kx_buf_addc(b, ' ');
        kx_buf_add_i64(b, ts_ms);
    }
    return kx_buf_addc(b, '\n');
}

int kx_expo_sample_u64(struct kx_buf *b, const char *name, const struct kx_label *l, size_t nl,
                       uint64_t v, int64_t ts_ms)
{
    sample_head(b, name, l, nl);
    kx_buf_add_u64(b, v);
    return sample_tail(b, ts_ms);
}

int kx_expo_sample_double(struct kx_buf *b, const char *name, const struct kx_label *l, size_t nl,
                          double v, int64_t ts_ms)
{
    sample_head(b, name, l, nl);
    kx_buf_add_double(b, v);
    return sample_tail(b, ts_ms);
}

size_t kx_family_nlabels(const struct kx_family *f)
{
    size_t n = 0;
    while (n < KX_LABELS_MAX && f->labels[n])
        n++;
    return n;
}

int kx_family_head(struct kx_buf *b, const struct kx_family *f)
{
    return kx_expo_family(b, f->name, f->help, f->type == KX_COUNTER ? "counter" : "gauge");
}

/* The head of a sample of @f, or -EINVAL (sticky) if @nvalues is not its label count. */
static int family_sample_head(struct kx_buf *b, const struct kx_family *f,
                              const char *const *values, size_t nvalues)
{
    size_t n = kx_family_nlabels(f);
    if (nvalues != n)
        return buf_fail(b, -EINVAL);
    kx_buf_adds(b, f->name);
    if (n == 0)
        return kx_buf_addc(b, ' ');
    kx_buf_addc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            kx_buf_addc(b, ',');
        kx_buf_adds(b, f->labels[i]);
        kx_buf_add(b, "=\"", 2);
        kx_expo_escape_label(b, values[i]);
        kx_buf_addc(b, '"');
    }
    return kx_buf_add(b, "} ", 2);
}

int kx_family_u64(struct kx_buf *b, const struct kx_family *f, const char *const *values,
                  size_t nvalues, uint64_t v, int64_t ts_ms)
{
    if (family_sample_head(b, f, values, nvalues))
        return b->err;
    kx_buf_add_u64(b, v);
    return sample_tail(b, ts_ms);
}

int kx_family_double(struct kx_buf *b, const struct kx_family *f, const char *const *values,
                     size_t nvalues, double v, int64_t ts_ms)
{
    if (family_sample_head(b, f, values, nvalues))
        return b->err;
    kx_buf_add_double(b, v);
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
