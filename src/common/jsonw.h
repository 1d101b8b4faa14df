/* SPDX-License-Identifier: MIT */
/*
 * The one JSON writer of kmem: a string escaper (validity from utf8.h) that
 * writes through a callback, so that a FILE, a kmem_buf or a fixed buffer
 * can take it; and a small streaming document writer over a FILE.
 *
 * Strings: valid UTF-8 is copied; '"', '\\', C0 controls and DEL are
 * escaped; a byte that is not part of a valid UTF-8 sequence becomes the
 * four characters \xHH (JSON "\\xHH": names that differ only in invalid
 * bytes stay distinct, and distinct from U+00HH and U+FFFD), or U+FFFD
 * with KMEM_JSON_FFFD (as Go's encoding/json does).
 */
#ifndef KMEM_JSONW_H
#define KMEM_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"

enum {
    KMEM_JSON_FFFD = 1u << 0,  /* invalid bytes become U+FFFD, not \u00XX */
    KMEM_JSON_SAFE = 1u << 1,  /* also escape C1 controls and U+2028/U+2029 (terminals, JS) */
    KMEM_JSON_SHORT = 1u << 2, /* \b and \f rather than \u0008 and \u000c */
};

typedef void kmem_json_put_fn(void *ctx, const char *p, size_t n);

/* Write the @len bytes at @s as a quoted JSON string through @put. */
void kmem_json_escape(const char *s, size_t len, unsigned flags, kmem_json_put_fn *put, void *ctx);
/* kmem_json_escape() of C string @s (NULL: "") to @f / appended to @b (0 or b's error). */
void kmem_json_fputs(FILE *f, const char *s, unsigned flags);
int kmem_json_buf(struct kmem_buf *b, const char *s, unsigned flags);

/*
 * A streaming document writer. Containers opened as array elements are
 * written on one line (one record per line); the rest is indented by two
 * spaces a level. Strings use KMEM_JSON_SAFE | KMEM_JSON_SHORT.
 */
#define KMEM_JW_MAX_DEPTH 16

struct kmem_jw {
    FILE *f;
    int depth;
    bool first[KMEM_JW_MAX_DEPTH]; /* no member written yet at this depth */
    bool compact[KMEM_JW_MAX_DEPTH];
    bool in_array[KMEM_JW_MAX_DEPTH];
};

/* @key is the member name inside an object, NULL inside an array or at the top. */
void kmem_jw_key(struct kmem_jw *w, const char *key);
void kmem_jw_obj(struct kmem_jw *w, const char *key);
void kmem_jw_obj_end(struct kmem_jw *w);
void kmem_jw_arr(struct kmem_jw *w, const char *key);
void kmem_jw_arr_end(struct kmem_jw *w);
void kmem_jw_u64(struct kmem_jw *w, const char *key, uint64_t v);
void kmem_jw_i64(struct kmem_jw *w, const char *key, int64_t v);
void kmem_jw_bool(struct kmem_jw *w, const char *key, bool v);
void kmem_jw_null(struct kmem_jw *w, const char *key);
void kmem_jw_str(struct kmem_jw *w, const char *key, const char *s);
/* A string, or null when NULL or empty. */
void kmem_jw_str_or_null(struct kmem_jw *w, const char *key, const char *s);
/* A number when @known, else null (a value that was not read). */
void kmem_jw_u64_or_null(struct kmem_jw *w, const char *key, bool known, uint64_t v);
void kmem_jw_i64_or_null(struct kmem_jw *w, const char *key, bool known, int64_t v);

#endif
