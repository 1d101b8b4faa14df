/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#include "common.h"
#include "out.h"

void kt_write_escaped(FILE *f, const char *p, size_t len)
{
    const unsigned char *u = (const unsigned char *)p;

    for (size_t i = 0; i < len;) {
        size_t n = kmem_utf8_seq(u + i, len - i);

        if (n == 0 || (n == 1 && (u[i] < 0x20 || u[i] == 0x7f)) || kmem_utf8_is_c1(u + i, n)) {
            /* a UTF-8 C1 control is escaped byte by byte, like a raw 0x9b */
            size_t k = n ? n : 1;

            for (size_t j = 0; j < k; j++)
                fprintf(f, "\\x%02x", u[i + j]);
            i += k;
        } else {
            fwrite(u + i, 1, n, f);
            i += n;
        }
    }
}

KMEM_PRINTF(3, 0)
static bool file_line(struct kt_sink *s, enum kt_attr attr, const char *fmt, va_list ap)
{
    (void)attr;
    if (!s->escape) {
        vfprintf(s->f, fmt, ap);
    } else {
        char *text = NULL;
        int n = vasprintf(&text, fmt, ap);

        if (n >= 0)
            kt_write_escaped(s->f, text, (size_t)n);
        free(text);
    }
    fputc('\n', s->f);
    return true;
}

void kt_sink_file(struct kt_sink *s, FILE *f)
{
    s->line = file_line;
    s->width = 0;
    s->rows_left = -1;
    s->f = f;
    s->escape = true;
}

bool kt_line_wrap(struct kt_sink *s, enum kt_attr attr, const char *text)
{
    size_t width = s->width > 0 ? (size_t)s->width : 0, lead = strspn(text, " ");
    const char *p = text;
    bool first = true;

    if (!width || strlen(text) <= width)
        return kt_line(s, attr, "%s", text);
    while (*p) {
        size_t indent = first ? 0 : lead + 2;
        size_t room = width > indent + 8 ? width - indent : 8, n = strlen(p);

        if (n > room) { /* the last space that leaves a line within the room */
            n = room;
            while (n > 0 && p[n] != ' ')
                n--;
            if (n == 0 || (first && n <= lead))
                n = room; /* one long word: cut it */
        }
        if (!kt_line(s, attr, "%*s%.*s", (int)indent, "", (int)n, p))
            return false;
        p += n;
        while (*p == ' ')
            p++;
        first = false;
    }
    return true;
}

bool kt_part_missing(struct kt_sink *s, const struct kmem_snapshot *snap, enum kmem_part p)
{
    if (kt_part_ok(snap, p))
        return false;
    if (!(snap->flags & (1u << p)))
        kt_line(s, KT_NORMAL, "%s: not collected", kmem_part_name[p]);
    else
        kt_line(s, KT_NORMAL, "%s", snap->status[p].msg);
    return true;
}
