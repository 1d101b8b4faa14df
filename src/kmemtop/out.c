/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "common.h"
#include "out.h"

static bool file_line(struct kt_sink *s, enum kt_attr attr, const char *fmt, va_list ap)
{
    (void)attr;
    vfprintf(s->f, fmt, ap);
    fputc('\n', s->f);
    return true;
}

void kt_sink_file(struct kt_sink *s, FILE *f)
{
    s->line = file_line;
    s->width = 0;
    s->rows_left = -1;
    s->f = f;
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
