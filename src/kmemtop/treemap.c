/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "treemap.h"

static double value(const double *v, size_t i)
{
    return isfinite(v[i]) && v[i] > 0 ? v[i] : 0;
}

/* Larger values first; ties keep input order. */
static int cmp_desc(const void *pa, const void *pb, void *arg)
{
    const double *v = arg;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    double va = value(v, a), vb = value(v, b);

    if (va != vb)
        return va > vb ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* The worst aspect ratio of a row of areas summing to @sum (min @lo, max @hi) along side @side. */
static double worst(double sum, double lo, double hi, double side)
{
    double s2 = side * side, sum2 = sum * sum;
    double a = s2 * hi / sum2, b = sum2 / (s2 * lo);

    return a > b ? a : b;
}

/*
 * Place the row idx[from..to) (areas @a, summing to @sum) along the shorter
 * side of *@r and take the strip it fills off *@r. The last row takes what
 * is left, so that rounding never leaves a gap or spills out.
 */
static void place_row(const double *a, const size_t *idx, size_t from, size_t to, double sum,
                      struct kt_rect *r, struct kt_rect *out, int last)
{
    int vertical = r->w >= r->h; /* the row is a column at the left */
    double side = vertical ? r->h : r->w;
    double thick = side > 0 ? sum / side : 0;
    double pos = vertical ? r->y : r->x, end = pos + side;

    if (last || thick > (vertical ? r->w : r->h))
        thick = vertical ? r->w : r->h;
    for (size_t k = from; k < to; k++) {
        double len = thick > 0 ? a[idx[k]] / thick : 0;
        double next = k + 1 == to ? end : fmin(pos + len, end);
        struct kt_rect *o = &out[idx[k]];

        if (vertical)
            *o = (struct kt_rect){r->x, pos, thick, next - pos};
        else
            *o = (struct kt_rect){pos, r->y, next - pos, thick};
        pos = next;
    }
    if (vertical) {
        r->x += thick;
        r->w -= thick;
    } else {
        r->y += thick;
        r->h -= thick;
    }
    if (r->w < 0)
        r->w = 0;
    if (r->h < 0)
        r->h = 0;
}

int kt_treemap_layout(const double *v, size_t n, struct kt_rect in, struct kt_rect *out)
{
    double total = 0, scale, *a;
    size_t *idx, m = 0, from = 0;
    struct kt_rect r = in;

    for (size_t i = 0; i < n; i++) {
        out[i] = (struct kt_rect){in.x, in.y, 0, 0};
        total += value(v, i);
    }
    if (n == 0 || !(total > 0) || !(in.w > 0) || !(in.h > 0))
        return 0;
    idx = malloc(n * sizeof(*idx));
    a = malloc(n * sizeof(*a));
    if (!idx || !a) {
        free(idx);
        free(a);
        return -ENOMEM;
    }
    scale = in.w * in.h / total;
    for (size_t i = 0; i < n; i++) {
        a[i] = value(v, i) * scale;
        if (a[i] > 0)
            idx[m++] = i;
    }
    qsort_r(idx, m, sizeof(*idx), cmp_desc, (void *)v);
    while (from < m) {
        double side = fmin(r.w, r.h), sum = a[idx[from]], lo = sum, hi = sum;
        size_t to = from + 1;

        /* Grow the row while its worst aspect ratio does not get worse. */
        while (to < m) {
            double c = a[idx[to]], s2 = sum + c;

            if (worst(s2, fmin(lo, c), fmax(hi, c), side) > worst(sum, lo, hi, side))
                break;
            sum = s2;
            lo = fmin(lo, c);
            hi = fmax(hi, c);
            to++;
        }
        place_row(a, idx, from, to, sum, &r, out, to == m);
        from = to;
    }
    free(idx);
    free(a);
    return 0;
}
