// SPDX-License-Identifier: MIT
/* The exporter's log: levels, logfmt or JSON lines on stderr (log.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jsonw.h"
#include "log.h"

static enum kx_log_level log_level = KX_LOG_INFO;
static enum kx_log_format log_format = KX_LOG_LOGFMT;
static int log_fd = STDERR_FILENO;

static const char *const level_name[] = {"debug", "info", "warn", "error"};
static const char *const level_upper[] = {"DEBUG", "INFO", "WARN", "ERROR"};

int kx_log_parse_level(const char *s, enum kx_log_level *out)
{
    for (int i = 0; i <= KX_LOG_ERROR; i++)
        if (s && !strcmp(s, level_name[i])) {
            *out = (enum kx_log_level)i;
            return 0;
        }
    return -EINVAL;
}

int kx_log_parse_format(const char *s, enum kx_log_format *out)
{
    if (s && !strcmp(s, "logfmt"))
        *out = KX_LOG_LOGFMT;
    else if (s && !strcmp(s, "json"))
        *out = KX_LOG_JSON;
    else
        return -EINVAL;
    return 0;
}

void kx_log_setup(enum kx_log_level level, enum kx_log_format format, int fd)
{
    log_level = level;
    log_format = format;
    log_fd = fd;
}

bool kx_log_enabled(enum kx_log_level level)
{
    return level >= log_level;
}

/* An output cursor: a piece that does not fit whole is dropped and the
 * cursor stays full. TAIL bytes stay free for what closes a line (a quote,
 * '}', the newline and the NUL), so a cut line is still well formed. */
#define TAIL 4
struct out {
    char *p;
    size_t len, cap;
    bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->full || n > o->cap - TAIL - o->len) {
        o->full = true;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

/* Closing bytes, written into the reserved tail. */
static void put_tail(struct out *o, char c)
{
    o->p[o->len++] = c;
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* The quoted string being written: kmem_json_escape() hands over its
 * quotes ("\""), escapes (starting with '\\', never cut) and runs of valid
 * UTF-8 (cut at a character boundary when the line is full). */
struct quoting {
    struct out *o;
    bool open, dropped; /* the opening quote was seen / did not fit */
};

static void put_quoted(void *ctx, const char *p, size_t n)
{
    struct quoting *q = ctx;
    struct out *o = q->o;

    if (n == 1 && p[0] == '"') { /* a quote of the string itself, never in a run */
        if (!q->open) {
            q->open = true;
            put(o, p, 1);
            q->dropped = o->full;
        } else if (!q->dropped) {
            put_tail(o, '"');
        }
        return;
    }
    if (n == 0 || o->full)
        return;
    size_t room = o->cap - TAIL - o->len;
    if (p[0] != '\\' && n > room) {
        n = room;
        while (n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80)
            n--; /* not inside a character */
        put(o, p, n);
        o->full = true;
        return;
    }
    put(o, p, n);
}

/* A quoted string with Go/JSON escapes; an invalid byte becomes \\xHH, as in the exposition. */
static void quoted(struct out *o, const char *v)
{
    struct quoting q = {.o = o};
    kmem_json_escape(v, strlen(v), 0, put_quoted, &q);
}

/* logfmt leaves a value bare when it has no space, '=', '"', control
 * character or non-ASCII byte, and is not empty. */
static bool needs_quotes(const char *v)
{
    if (!*v)
        return true;
    for (const unsigned char *s = (const unsigned char *)v; *s; s++)
        if (*s <= ' ' || *s == '=' || *s == '"' || *s == '\\' || *s >= 0x7f)
            return true;
    return false;
}

static void field(struct out *o, enum kx_log_format f, bool first, const char *k, const char *v)
{
    if (!v)
        v = "";
    /* The key, its separators and an opening quote fit whole, or nothing of
     * the field is written: only a value is ever cut. */
    if (o->full || strlen(k) + 8 > o->cap - TAIL - o->len) {
        o->full = true;
        return;
    }
    if (f == KX_LOG_JSON) {
        if (!first)
            put(o, ",", 1);
        quoted(o, k);
        put(o, ":", 1);
        quoted(o, v);
        return;
    }
    if (!first)
        put(o, " ", 1);
    puts_(o, k);
    put(o, "=", 1);
    if (needs_quotes(v))
        quoted(o, v);
    else
        puts_(o, v);
}

size_t kx_log_format_line(char *buf, size_t len, enum kx_log_format format, long long unix_ms,
                          enum kx_log_level level, const char *msg, va_list kv)
{
    struct out o = {buf, 0, len, false};
    char when[40];
    time_t secs = (time_t)(unix_ms / 1000);
    struct tm tm;

    if (len < 64) {
        if (len)
            buf[0] = '\0';
        return 0;
    }
    gmtime_r(&secs, &tm);
    size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof(when) - n, ".%03dZ", (int)(unix_ms % 1000));
    if (format == KX_LOG_JSON)
        put(&o, "{", 1);
    field(&o, format, true, "time", when);
    field(&o, format, false, "level", level_upper[level]);
    field(&o, format, false, "msg", msg);
    for (;;) {
        const char *k = va_arg(kv, const char *);
        if (!k)
            break;
        field(&o, format, false, k, va_arg(kv, const char *));
    }
    if (format == KX_LOG_JSON)
        put_tail(&o, '}');
    buf[o.len++] = '\n';
    buf[o.len] = '\0';
    return o.len;
}

void kx_log(enum kx_log_level level, const char *msg, ...)
{
    if (!kx_log_enabled(level))
        return;
    char line[8192];
    struct timespec ts;
    va_list ap;

    clock_gettime(CLOCK_REALTIME, &ts);
    va_start(ap, msg);
    size_t n =
        kx_log_format_line(line, sizeof(line), log_format,
                           (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, level, msg, ap);
    va_end(ap);
    for (size_t off = 0; off < n;) {
        ssize_t w = write(log_fd, line + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}
