/* SPDX-License-Identifier: MIT */
/*
 * Line sinks: every kmemtop renderer writes lines through a sink, so the same
 * code draws the ncurses views and prints the -o / --report output.
 */
#ifndef KMEMTOP_OUT_H
#define KMEMTOP_OUT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "kmem.h"
#include "macros.h"

enum kt_attr {
    KT_NORMAL = 0,
    KT_HEADING = 1, /* reverse video on screen */
    KT_BOLD = 2,
    KT_SELECTED = 3, /* the cursor's row */
};

struct kt_sink {
    /* Print one line (no trailing newline in fmt). Returns false when the
     * sink is full (screen rows used up): stop rendering. */
    bool (*line)(struct kt_sink *s, enum kt_attr attr, const char *fmt, va_list ap);
    int width;     /* columns available; 0 = unlimited (stdout) */
    int rows_left; /* lines that still fit; -1 = unlimited */
    FILE *f;       /* for stdout sinks */
    /* stdout sinks: write terminal controls (C0, DEL, C1 as raw bytes or as
     * UTF-8) and invalid UTF-8 as \xHH (kmemtop mode;
     * slabtop mode prints names raw, byte-identical to procps). */
    bool escape;
};

KMEM_PRINTF(3, 4)
static inline bool kt_line(struct kt_sink *s, enum kt_attr attr, const char *fmt, ...)
{
    va_list ap;
    bool ok;

    va_start(ap, fmt);
    ok = s->line(s, attr, fmt, ap);
    va_end(ap);
    return ok;
}

/*
 * When part @p of @snap cannot be shown, say why on @s ("... were not
 * collected", or the part's error message) and return true.
 */
bool kt_part_missing(struct kt_sink *s, const struct kmem_snapshot *snap, enum kmem_part p);

/*
 * @text (ASCII) as one line, or on a screen narrower than it, as several:
 * broken at spaces, each further line indented two more than @text's own
 * leading spaces. False when the sink is full.
 */
bool kt_line_wrap(struct kt_sink *s, enum kt_attr attr, const char *text);

/* A sink that writes to @f with a newline after each line, escaped. */
void kt_sink_file(struct kt_sink *s, FILE *f);

/* Write @len bytes at @p to @f, controls and invalid UTF-8 as \xHH. */
void kt_write_escaped(FILE *f, const char *p, size_t len);

#endif
