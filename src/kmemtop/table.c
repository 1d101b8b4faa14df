/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "table.h"

uint32_t kt_cols_fit(const struct kt_col *c, int n, uint32_t avail, int width, int name_cols)
{
    uint32_t mask = 0;
    int left = width - name_cols;

    for (int prio = 0, done = 0; done < n; prio++)
        for (int i = 0; i < n; i++) {
            if (c[i].prio != prio)
                continue;
            done++;
            if (!(avail & (UINT32_C(1) << i)))
                continue;
            if (width == 0) {
                if (!c[i].wide)
                    mask |= UINT32_C(1) << i;
            } else if (c[i].width + 1 <= left || prio == 0) { /* prio 0: always */
                mask |= UINT32_C(1) << i;
                left -= c[i].width + 1;
            }
        }
    return mask;
}

void kt_cell(char *line, size_t len, size_t *pos, const struct kt_col *col, const char *cell)
{
    int w;

    if (*pos >= len)
        return;
    w = snprintf(line + *pos, len - *pos, "%*s ", col->width, cell);
    if (w > 0)
        *pos += (size_t)w < len - *pos ? (size_t)w : len - *pos - 1;
}

void kt_heading(char *line, size_t len, const struct kt_col *c, int n, uint32_t mask,
                const char *name_head)
{
    size_t pos = 0;

    line[0] = '\0';
    for (int i = 0; i < n; i++)
        if (mask & (UINT32_C(1) << i))
            kt_cell(line, len, &pos, &c[i], c[i].head);
    snprintf(line + pos, len - pos, "%s", name_head);
}

void kt_growth_cell(char *buf, size_t len, enum kt_growth_col col, bool has_prev, int64_t delta,
                    bool screen_prev, const struct kt_grow *g)
{
    buf[0] = '\0';
    switch (col) {
    case KT_COL_CHANGE:
        if (has_prev)
            kt_human_delta(buf, len, (double)delta);
        else if (screen_prev)
            snprintf(buf, len, "new");
        break;
    case KT_COL_GROWTH:
        if (g && g->has_base)
            kt_human_delta(buf, len, (double)g->base);
        else if (g)
            snprintf(buf, len, "new");
        break;
    case KT_COL_RATE:
        if (g && g->has_rate && g->short_span && len > 1) {
            /* "~": over the few seconds an entry that just appeared has */
            buf[0] = '~';
            kt_human_delta(buf + 1, len - 1, g->per_min);
        } else if (g && g->has_rate) {
            kt_human_delta(buf, len, g->per_min);
        }
        break;
    }
}

struct kt_window kt_window_fit(const struct kt_sink *s, size_t n, struct kt_scroll *sc, bool cursor)
{
    struct kt_window w = {.count = n};
    size_t rows;

    if (s->rows_left < 0 || (size_t)s->rows_left >= n) {
        if (sc) {
            sc->top = 0;
            sc->cur = n && sc->cur >= n ? n - 1 : sc->cur;
            sc->page = (int)n;
            sc->n = n;
        }
        return w;
    }
    rows = s->rows_left > 1 ? (size_t)s->rows_left - 1 : 1; /* one line for the footer */
    if (sc) {
        if (sc->cur >= n)
            sc->cur = n ? n - 1 : 0;
        if (cursor && sc->cur < sc->top)
            sc->top = sc->cur;
        if (cursor && sc->cur >= sc->top + rows)
            sc->top = sc->cur - rows + 1;
        if (sc->top > n - rows)
            sc->top = n - rows;
        w.first = sc->top;
        sc->page = (int)rows;
        sc->n = n;
    }
    w.count = rows;
    w.below = n - w.first - rows;
    return w;
}

void kt_window_footer(struct kt_sink *s, const struct kt_window *w)
{
    if (w->first == 0 && w->below == 0)
        return;
    if (w->below && w->first)
        kt_line(s, KT_BOLD, "-- %zu more below, %zu above (arrows, PgUp/PgDn, Home/End) --",
                w->below, w->first);
    else if (w->below)
        kt_line(s, KT_BOLD, "-- %zu more below (arrows, PgDn, End) --", w->below);
    else
        kt_line(s, KT_BOLD, "-- %zu more above (arrows, PgUp, Home) --", w->first);
}
