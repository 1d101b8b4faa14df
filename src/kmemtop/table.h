/* SPDX-License-Identifier: MIT */
/*
 * Tables on a screen: columns that fit the width (by priority, so that a
 * wide terminal shows more and an 80-column one keeps full names), and the
 * window of a long list that fits the rows, with a line saying how many
 * more there are.
 */
#ifndef KMEMTOP_TABLE_H
#define KMEMTOP_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history.h"
#include "out.h"

struct kt_col {
    const char *head; /* right-aligned over the column */
    int width;
    int prio;  /* lower is kept first on a narrow screen; 0 is always shown */
    bool wide; /* a screen-only extra: never in the -o output */
};

/*
 * The columns to show (a mask, bit i for column i of @c): of those in
 * @avail, by priority, each that still fits beside a name column of
 * @name_cols in @width columns. @width 0 (no limit) shows every column of
 * @avail that is not wide.
 */
uint32_t kt_cols_fit(const struct kt_col *c, int n, uint32_t avail, int width, int name_cols);

/* Append "%*s " of @cell (width of column @col) to @line at *@pos. */
void kt_cell(char *line, size_t len, size_t *pos, const struct kt_col *col, const char *cell);

/* The heading line of the columns in @mask, then @name_head. */
void kt_heading(char *line, size_t len, const struct kt_col *c, int n, uint32_t mask,
                const char *name_head);

/* The growth columns every list of the screen has (slab caches, cgroups). */
enum kt_growth_col {
    KT_COL_CHANGE, /* since the last refresh: @delta when @has_prev */
    KT_COL_GROWTH, /* since the baseline: @g */
    KT_COL_RATE,   /* per minute: @g */
};

/*
 * One growth cell: a signed human size, "new" for an entry that was not
 * there before (when there was a before: @screen_prev for CHANGE, the
 * history's baseline for GROWTH), else empty.
 */
void kt_growth_cell(char *buf, size_t len, enum kt_growth_col col, bool has_prev, int64_t delta,
                    bool screen_prev, const struct kt_grow *g);

/* Scrolling state of a list, kept by the TUI between draws. */
struct kt_scroll {
    size_t top; /* first row shown */
    size_t cur; /* selected row, in lists with a cursor */
    int page;   /* out: rows the last draw showed */
    size_t n;   /* out: rows the list had at the last draw */
};

/* The rows of a list of @n rows that a draw shows. */
struct kt_window {
    size_t first, count; /* rows [first, first + count) */
    size_t below;        /* rows after them */
};

/*
 * Fit a list of @n rows into what is left of @s: on a screen, clamp
 * @sc->top (keeping @sc->cur visible when @cursor) and keep one line for
 * kt_window_footer() when the list is longer. @sc may be NULL (from the top).
 */
struct kt_window kt_window_fit(const struct kt_sink *s, size_t n, struct kt_scroll *sc,
                               bool cursor);

/* "N more" under a list that did not fit (nothing when it did). */
void kt_window_footer(struct kt_sink *s, const struct kt_window *w);

#endif
