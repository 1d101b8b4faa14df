/* SPDX-License-Identifier: MIT */
/*
 * Exposition writer: the Prometheus text format 0.0.4 primitives, written
 * into src/common's size-capped buffer (struct kmem_buf, buf.h): every
 * append either succeeds or frees the data and leaves the buffer in a sticky
 * error state, so a writer appends many pieces and checks once at the end.
 */
#ifndef KX_EXPO_H
#define KX_EXPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

/* "@a@l@v\n" (name, label text, value): one sample line, one room check. */
static inline int kx_expo_line_u64(struct kmem_buf *b, const char *a, size_t alen, const char *l,
                                   size_t llen, uint64_t v)
{
    size_t need = alen + llen + 22;
    char digits[20], *d = digits + sizeof(digits), *p;

    if (b->err || need >= b->cap - b->len || b->len + need > (b->max ? b->max : KMEM_FILE_MAX)) {
        int r = kmem_buf_add(b, a, alen);
        if (!r)
            r = kmem_buf_add(b, l, llen);
        if (!r)
            r = kmem_buf_add_u64(b, v);
        if (!r)
            r = kmem_buf_add(b, "\n", 1);
        return r;
    }
    do {
        *--d = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    p = b->data + b->len;
    memcpy(p, a, alen);
    p += alen;
    memcpy(p, l, llen);
    p += llen;
    memcpy(p, d, (size_t)(digits + sizeof(digits) - d));
    p += digits + sizeof(digits) - d;
    *p++ = '\n';
    *p = '\0';
    b->len = (size_t)(p - b->data);
    return 0;
}
/* A float in Go/Prometheus style: NaN, +Inf, -Inf or the shortest "%.17g". */
int kx_expo_add_double(struct kmem_buf *b, double v);

/* Label value escaping for the text format: \ -> \\, " -> \", newline -> \n;
 * bytes that are not valid UTF-8 (utf8.h, the one validator) become U+FFFD
 * (Prometheus rejects them). */
int kx_expo_escape_label(struct kmem_buf *b, const char *v);
/* HELP text escaping: \ -> \\, newline -> \n. */
int kx_expo_escape_help(struct kmem_buf *b, const char *v);

/* "# HELP name help\n# TYPE name type\n". */
int kx_expo_family(struct kmem_buf *b, const char *name, const char *help, const char *type);

struct kx_label {
    const char *name;
    const char *value; /* NULL is written as "" */
};

#define KX_NO_TIMESTAMP INT64_MIN

/* One sample line: name{l1="v1",...} value [timestamp_ms]. */
int kx_expo_sample_u64(struct kmem_buf *b, const char *name, const struct kx_label *l, size_t nl,
                       uint64_t v, int64_t ts_ms);
int kx_expo_sample_double(struct kmem_buf *b, const char *name, const struct kx_label *l, size_t nl,
                          double v, int64_t ts_ms);

/*
 * A metric family, declared once (as node_exporter's prometheus.Desc): its
 * name, HELP, TYPE and label names. The sample writers below take one value
 * per declared label, in the declared order, and check the count against the
 * declaration: a mismatch is a programming error that fails the buffer with
 * -EINVAL (so the scrape fails and the tests see it), never a bad line.
 */
#define KX_LABELS_MAX 10

enum kx_type { KX_GAUGE, KX_COUNTER };

struct kx_family {
    const char *name, *help;
    enum kx_type type;
    const char *labels[KX_LABELS_MAX]; /* label names; unused entries NULL */
};

size_t kx_family_nlabels(const struct kx_family *f);
/* "# HELP ... # TYPE ..." of @f. */
int kx_family_head(struct kmem_buf *b, const struct kx_family *f);
/* One sample of @f: @values[i] is the value of f->labels[i] (NULL is ""). */
int kx_family_u64(struct kmem_buf *b, const struct kx_family *f, const char *const *values,
                  size_t nvalues, uint64_t v, int64_t ts_ms);
int kx_family_double(struct kmem_buf *b, const struct kx_family *f, const char *const *values,
                     size_t nvalues, double v, int64_t ts_ms);

/* The label values of one sample and their count, counted by the compiler:
 * kx_family_u64(b, &fam, KX_VALUES(path, kind), v, ts). */
#define KX_VALUES(...)                                                                             \
    ((const char *const[]){__VA_ARGS__}),                                                          \
        (sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))
/* A family without labels. */
#define KX_NO_VALUES NULL, 0

/* gzip (RFC 1952) of [in, in + len) into a malloc'd buffer. 0 or -errno. */
int kx_gzip(const void *in, size_t len, char **out, size_t *outlen);

#endif
