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

    /* Thresholds are where the printed value rounds up: 1048575 bytes is
     * "1.0M", not "1024K"; 10239 bytes is "10K", not "10.0K". */
    while (fabs(bytes) >= 1023.5 && u < 6) {
        bytes /= 1024;
        u++;
    }
    if (u == 0 || fabs(bytes) >= 9.95)
        snprintf(buf, len, "%.0f%c", bytes, unit[u]);
    else
        snprintf(buf, len, "%.1f%c", bytes, unit[u]);
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
