/* SPDX-License-Identifier: MIT */
/*
 * Exposition writer: a size-capped growable buffer (kx_buf) and the
 * Prometheus text format 0.0.4 primitives written into it.
 *
 * Ownership: a kx_buf owns its data. Every append either succeeds or frees
 * the data and leaves the buffer in a sticky error state (err < 0), so a
 * writer may append many pieces and check once at the end (curl dynbuf).
 * kx_buf_take() hands the data to the caller (free() it).
 */
#ifndef KX_EXPO_H
#define KX_EXPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kx_buf {
    char *data;
    size_t len, cap;
    size_t max; /* hard cap on len; appends beyond it fail with -E2BIG */
    int err;    /* 0, or the first failure (-ENOMEM, -E2BIG); sticky */
};

void kx_buf_init(struct kx_buf *b, size_t max);
void kx_buf_free(struct kx_buf *b);
/* Empty the buffer, keeping its allocation (and clearing the error). */
void kx_buf_reset(struct kx_buf *b);
int kx_buf_add(struct kx_buf *b, const void *p, size_t n);
int kx_buf_adds(struct kx_buf *b, const char *s);
int kx_buf_addc(struct kx_buf *b, char c);
int kx_buf_printf(struct kx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int kx_buf_add_u64(struct kx_buf *b, uint64_t v);
int kx_buf_add_i64(struct kx_buf *b, int64_t v);
/* A float in Go/Prometheus style: NaN, +Inf, -Inf or the shortest "%.17g". */
int kx_buf_add_double(struct kx_buf *b, double v);
/* Transfer the data (NUL-terminated) to the caller; NULL if in error. */
char *kx_buf_take(struct kx_buf *b, size_t *len);

/* Label value escaping for the text format: \ -> \\, " -> \", newline -> \n;
 * bytes that are not valid UTF-8 become U+FFFD (Prometheus rejects them). */
int kx_expo_escape_label(struct kx_buf *b, const char *v);
/* HELP text escaping: \ -> \\, newline -> \n. */
int kx_expo_escape_help(struct kx_buf *b, const char *v);

/* "# HELP name help\n# TYPE name type\n". */
int kx_expo_family(struct kx_buf *b, const char *name, const char *help, const char *type);

struct kx_label {
    const char *name;
    const char *value; /* NULL is written as "" */
};

#define KX_NO_TIMESTAMP INT64_MIN

/* One sample line: name{l1="v1",...} value [timestamp_ms]. */
int kx_expo_sample_u64(struct kx_buf *b, const char *name, const struct kx_label *l, size_t nl,
                       uint64_t v, int64_t ts_ms);
int kx_expo_sample_double(struct kx_buf *b, const char *name, const struct kx_label *l, size_t nl,
                          double v, int64_t ts_ms);

/* gzip (RFC 1952) of [in, in + len) into a malloc'd buffer. 0 or -errno. */
int kx_gzip(const void *in, size_t len, char **out, size_t *outlen);

#endif
