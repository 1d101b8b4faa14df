/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <string.h>

#include "jsonw.h"
#include "utf8.h"

static void put_u(kmem_json_put_fn *put, void *ctx, unsigned cp)
{
    char esc[8];

    snprintf(esc, sizeof(esc), "\\u%04x", cp);
    put(ctx, esc, 6);
}

void kmem_json_escape(const char *str, size_t left, unsigned flags, kmem_json_put_fn *put,
                      void *ctx)
{
    const unsigned char *s = (const unsigned char *)str, *run = s;

    put(ctx, "\"", 1);
    while (left) {
        unsigned c = *s;
        const char *esc = NULL;
        size_t n = 1;

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            s++;
            left--;
            continue; /* plain ASCII: copied in runs */
        }
        if (c >= 0x80) {
            n = kmem_utf8_seq(s, left);
            if (n && !((flags & KMEM_JSON_SAFE) &&
                       (kmem_utf8_is_c1(s, n) || (n == 3 && s[0] == 0xE2 && s[1] == 0x80 &&
                                                  (s[2] == 0xA8 || s[2] == 0xA9))))) {
                s += n;
                left -= n;
                continue; /* valid, and safe as it is */
            }
        }
        put(ctx, (const char *)run, (size_t)(s - run));
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\b' && (flags & KMEM_JSON_SHORT))
            esc = "\\b";
        else if (c == '\f' && (flags & KMEM_JSON_SHORT))
            esc = "\\f";
        if (esc) {
            put(ctx, esc, 2);
        } else if (c < 0x80) {
            put_u(put, ctx, c); /* other C0 controls, DEL */
        } else if (n == 0) {
            n = 1; /* not UTF-8 */
            if (flags & KMEM_JSON_FFFD) {
                put(ctx, "\xef\xbf\xbd", 3);
            } else { /* the text \xHH: distinct from U+00HH and from U+FFFD */
                static const char hex[] = "0123456789abcdef";
                char x[5] = {'\\', '\\', 'x', hex[c >> 4], hex[c & 15]};
                put(ctx, x, 5);
            }
        } else if (n == 2) {
            put_u(put, ctx, s[1]); /* C1 control */
        } else {
            put_u(put, ctx, s[2] == 0xA8 ? 0x2028 : 0x2029);
        }
        s += n;
        left -= n;
        run = s;
    }
    put(ctx, (const char *)run, (size_t)(s - run));
    put(ctx, "\"", 1);
}

static void put_file(void *ctx, const char *p, size_t n)
{
    if (n)
        fwrite(p, 1, n, ctx);
}

static void put_buf(void *ctx, const char *p, size_t n)
{
    kmem_buf_add(ctx, p, n);
}

void kmem_json_fputs(FILE *f, const char *s, unsigned flags)
{
    s = s ? s : "";
    kmem_json_escape(s, strlen(s), flags, put_file, f);
}

int kmem_json_buf(struct kmem_buf *b, const char *s, unsigned flags)
{
    s = s ? s : "";
    kmem_json_escape(s, strlen(s), flags, put_buf, b);
    return b->err;
}

/* ---- the document writer ------------------------------------------------ */

#define JW_FLAGS (KMEM_JSON_SAFE | KMEM_JSON_SHORT)

static void jw_newline(struct kmem_jw *w)
{
    if (w->compact[w->depth])
        return;
    fputc('\n', w->f);
    for (int i = 0; i < w->depth; i++)
        fputs("  ", w->f);
}

void kmem_jw_key(struct kmem_jw *w, const char *key)
{
    if (w->depth > 0) {
        if (!w->first[w->depth])
            fputc(',', w->f);
        if (w->compact[w->depth] && !w->first[w->depth])
            fputc(' ', w->f);
        w->first[w->depth] = false;
        jw_newline(w);
    }
    if (key) {
        kmem_json_fputs(w->f, key, JW_FLAGS);
        fputs(": ", w->f);
    }
}

static void jw_open(struct kmem_jw *w, const char *key, char c)
{
    bool compact;

    kmem_jw_key(w, key);
    compact = w->compact[w->depth] || w->in_array[w->depth];
    fputc(c, w->f);
    if (w->depth + 1 >= KMEM_JW_MAX_DEPTH)
        return; /* deeper than any kmem document */
    w->depth++;
    w->first[w->depth] = true;
    w->compact[w->depth] = compact;
    w->in_array[w->depth] = c == '[';
}

static void jw_close(struct kmem_jw *w, char c)
{
    bool empty = w->first[w->depth];

    w->depth--;
    if (!empty && !w->compact[w->depth + 1])
        jw_newline(w);
    fputc(c, w->f);
}

void kmem_jw_obj(struct kmem_jw *w, const char *key)
{
    jw_open(w, key, '{');
}

void kmem_jw_obj_end(struct kmem_jw *w)
{
    jw_close(w, '}');
}

void kmem_jw_arr(struct kmem_jw *w, const char *key)
{
    jw_open(w, key, '[');
}

void kmem_jw_arr_end(struct kmem_jw *w)
{
    jw_close(w, ']');
}

void kmem_jw_u64(struct kmem_jw *w, const char *key, uint64_t v)
{
    kmem_jw_key(w, key);
    fprintf(w->f, "%" PRIu64, v);
}

void kmem_jw_i64(struct kmem_jw *w, const char *key, int64_t v)
{
    kmem_jw_key(w, key);
    fprintf(w->f, "%" PRId64, v);
}

void kmem_jw_bool(struct kmem_jw *w, const char *key, bool v)
{
    kmem_jw_key(w, key);
    fputs(v ? "true" : "false", w->f);
}

void kmem_jw_null(struct kmem_jw *w, const char *key)
{
    kmem_jw_key(w, key);
    fputs("null", w->f);
}

void kmem_jw_str(struct kmem_jw *w, const char *key, const char *s)
{
    kmem_jw_key(w, key);
    kmem_json_fputs(w->f, s, JW_FLAGS);
}

void kmem_jw_str_or_null(struct kmem_jw *w, const char *key, const char *s)
{
    if (s && *s)
        kmem_jw_str(w, key, s);
    else
        kmem_jw_null(w, key);
}

void kmem_jw_u64_or_null(struct kmem_jw *w, const char *key, bool known, uint64_t v)
{
    if (known)
        kmem_jw_u64(w, key, v);
    else
        kmem_jw_null(w, key);
}

void kmem_jw_i64_or_null(struct kmem_jw *w, const char *key, bool known, int64_t v)
{
    if (known)
        kmem_jw_i64(w, key, v);
    else
        kmem_jw_null(w, key);
}
