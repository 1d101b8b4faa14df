/* SPDX-License-Identifier: MIT */
/*
 * Squarified treemap layout (Bruls, Huizing, van Wijk 2000): @n values laid
 * out as rectangles that tile a parent rectangle, each with an area
 * proportional to its value, as close to squares as the greedy rows allow.
 * Pure arithmetic, no I/O: the HTML page (html.c) positions its boxes with
 * it, so that the page shows the picture without running a script.
 */
#ifndef KMEMTOP_TREEMAP_H
#define KMEMTOP_TREEMAP_H

#include <stddef.h>

struct kt_rect {
    double x, y, w, h;
};

/*
 * Lay out @v[0..n) (values <= 0, NaN and infinities count as 0) inside @in:
 * out[i] is the rectangle of v[i]. The rectangles of positive values tile
 * @in (areas in proportion to the values, no overlaps, none outside @in);
 * a value of 0 gets an empty rectangle at @in's corner. Larger values are
 * placed first (top left). 0 or -ENOMEM.
 */
int kt_treemap_layout(const double *v, size_t n, struct kt_rect in, struct kt_rect *out);

#endif
