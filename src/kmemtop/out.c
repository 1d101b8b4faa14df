/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>

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

const char *kt_human(char *buf, size_t len, double bytes)
{
    static const char unit[] = "BKMGTPE";
    int u = 0;

    while (fabs(bytes) >= 1024 && u < 6) {
        bytes /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0f%c", bytes, unit[u]);
    else
        snprintf(buf, len, fabs(bytes) < 10 ? "%.1f%c" : "%.0f%c", bytes, unit[u]);
    return buf;
}

const char *kt_human_delta(char *buf, size_t len, double bytes)
{
    char tmp[32];

    if (bytes == 0) {
        snprintf(buf, len, "0");
        return buf;
    }
    kt_human(tmp, sizeof(tmp), fabs(bytes));
    snprintf(buf, len, "%c%s", bytes < 0 ? '-' : '+', tmp);
    return buf;
}
