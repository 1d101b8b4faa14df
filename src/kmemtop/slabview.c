/* SPDX-License-Identifier: MIT */
/*
 * The slab view: procps-ng 4.0.2 slabtop's summary, heading and rows, with the
 * same numbers (computed in 64 bits, so they do not wrap on huge machines).
 */
#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "views.h"

char kt_slab_sort_key(int c)
{
    if (c >= 'A' && c <= 'Z')
        c = c - 'A' + 'a';
    return c && strchr("abclvnopsug", c) ? (char)c : 0;
}

const char *kt_slab_sort_name(char key)
{
    switch (key) {
    case 'a':
        return "active objects";
    case 'b':
        return "objects per slab";
    case 'c':
        return "cache size";
    case 'l':
        return "slabs";
    case 'v':
        return "active slabs";
    case 'n':
        return "name";
    case 'p':
        return "pages per slab";
    case 's':
        return "object size";
    case 'u':
        return "use";
    case 'g':
        return "change";
    case 'G':
        return "growth";
    case 'r':
        return "per min";
    default:
        return "objects";
    }
}

/* procps: (unsigned int)(100 * ((float)active / num)), 0 for empty caches. */
static unsigned use_pct(const struct kmem_slab *s)
{
    if (!s->num_objs)
        return 0;
    return (unsigned)(100 * ((float)s->active_objs / (float)s->num_objs));
}

/* Compare slabs for descending order of a numeric key; 0 on ties. */
static int cmp_desc(uint64_t a, uint64_t b)
{
    return a > b ? -1 : a < b ? 1 : 0;
}

/* Growth since the baseline; a cache that was not there grew from nothing. */
static int64_t growth_of(const struct kt_grow *g, const struct kmem_slab *s)
{
    return g->has_base ? g->base : (int64_t)kmem_slab_bytes(s, kmem_page_size());
}

static int cmp_key(const struct kmem_slab *a, const struct kmem_slab *b, char key,
                   const struct kt_grow *ga, const struct kt_grow *gb)
{
    uint64_t ps = kmem_page_size();

    if (ga && gb && (key == 'G' || key == 'r')) {
        double da = key == 'G' ? (double)growth_of(ga, a) : ga->has_rate ? ga->per_min : 0;
        double db = key == 'G' ? (double)growth_of(gb, b) : gb->has_rate ? gb->per_min : 0;

        if (da != db)
            return da > db ? -1 : 1;
        return cmp_desc(kmem_slab_bytes(a, ps), kmem_slab_bytes(b, ps));
    }
    switch (key) {
    case 'a':
        return cmp_desc(a->active_objs, b->active_objs);
    case 'b':
        return cmp_desc(a->objperslab, b->objperslab);
    case 'c':
        return cmp_desc(kmem_slab_bytes(a, ps), kmem_slab_bytes(b, ps));
    case 'l':
        return cmp_desc(a->num_slabs, b->num_slabs);
    case 'v':
        return cmp_desc(a->active_slabs, b->active_slabs);
    case 'n':
        return strcoll(a->name, b->name);
    case 'p':
        return cmp_desc(a->pagesperslab, b->pagesperslab);
    case 's':
        return cmp_desc(a->objsize, b->objsize);
    case 'u':
        return cmp_desc(use_pct(a), use_pct(b));
    case 'g':
        if (a->delta_bytes != b->delta_bytes)
            return a->delta_bytes > b->delta_bytes ? -1 : 1;
        return cmp_desc(kmem_slab_bytes(a, ps), kmem_slab_bytes(b, ps));
    case 'o':
    default:
        return cmp_desc(a->num_objs, b->num_objs);
    }
}

struct slab_sort_ctx {
    const struct kmem_slab *v;
    const struct kt_grow *grow; /* per cache, or NULL */
    char key;
};

/* Ties keep file order, as glibc's merge-sorting qsort does in procps. */
static int cmp_idx(const void *pa, const void *pb, void *arg)
{
    const struct slab_sort_ctx *sc = arg;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    int c = cmp_key(&sc->v[a], &sc->v[b], sc->key, sc->grow ? &sc->grow[a] : NULL,
                    sc->grow ? &sc->grow[b] : NULL);

    if (c)
        return c;
    return a < b ? -1 : a > b;
}

void kt_slab_sort(const struct kmem_slabinfo *si, char key, size_t *idx)
{
    for (size_t i = 0; i < si->n; i++)
        idx[i] = i;
    qsort_r(idx, si->n, sizeof(*idx), cmp_idx, &(struct slab_sort_ctx){.v = si->v, .key = key});
}

struct slab_totals {
    uint64_t active_objs, num_objs, active_slabs, num_slabs, caches, active_caches;
    uint64_t active_size, total_size, min_obj, max_obj, avg_obj;
};

static void totals(const struct kmem_slabinfo *si, struct slab_totals *t)
{
    memset(t, 0, sizeof(*t));
    t->min_obj = INT_MAX; /* procps starts here, so an empty file shows 2097152.00K */
    for (size_t i = 0; i < si->n; i++) {
        const struct kmem_slab *s = &si->v[i];
        t->active_objs += s->active_objs;
        t->num_objs += s->num_objs;
        t->active_slabs += s->active_slabs;
        t->num_slabs += s->num_slabs;
        t->caches++;
        t->active_caches += s->num_objs != 0;
        t->active_size += kmem_mul_sat(s->active_objs, s->objsize);
        t->total_size += kmem_mul_sat(s->num_objs, s->objsize);
        if (s->objsize < t->min_obj)
            t->min_obj = s->objsize;
        if (s->objsize > t->max_obj)
            t->max_obj = s->objsize;
    }
    if (t->num_objs)
        t->avg_obj = t->total_size / t->num_objs;
}

/* procps's five summary lines. False when the sink is full. */
static bool summary(struct kt_sink *s, const struct kmem_slabinfo *si)
{
    struct slab_totals t;

    totals(si, &t);
    return kt_line(s, KT_NORMAL, " %-35s: %llu / %llu (%.1f%%)", "Active / Total Objects (% used)",
                   (unsigned long long)t.active_objs, (unsigned long long)t.num_objs,
                   100.0 * (double)t.active_objs / (double)t.num_objs) &&
           kt_line(s, KT_NORMAL, " %-35s: %llu / %llu (%.1f%%)", "Active / Total Slabs (% used)",
                   (unsigned long long)t.active_slabs, (unsigned long long)t.num_slabs,
                   100.0 * (double)t.active_slabs / (double)t.num_slabs) &&
           kt_line(s, KT_NORMAL, " %-35s: %llu / %llu (%.1f%%)", "Active / Total Caches (% used)",
                   (unsigned long long)t.active_caches, (unsigned long long)t.caches,
                   100.0 * (double)t.active_caches / (double)t.caches) &&
           kt_line(s, KT_NORMAL, " %-35s: %.2fK / %.2fK (%.1f%%)", "Active / Total Size (% used)",
                   (double)t.active_size / 1024.0, (double)t.total_size / 1024.0,
                   100.0 * (double)t.active_size / (double)t.total_size) &&
           kt_line(s, KT_NORMAL, " %-35s: %.2fK / %.2fK / %.2fK",
                   "Minimum / Average / Maximum Object", (double)t.min_obj / 1024.0,
                   (double)t.avg_obj / 1024.0, (double)t.max_obj / 1024.0);
}

void kt_slab_render(struct kt_sink *s, const struct kmem_slabinfo *si, const size_t *idx,
                    enum kt_change_col change)
{
    uint64_t ps = kmem_page_size();
    char dbuf[32];

    summary(s, si);
    kt_line(s, KT_NORMAL, "%s", "");
    if (change != KT_CHANGE_NONE)
        kt_line(s, KT_HEADING, "%-88s",
                "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE    CHANGE NAME");
    else
        kt_line(s, KT_HEADING, "%-78s",
                "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME");
    for (size_t i = 0; i < si->n; i++) {
        const struct kmem_slab *c = &si->v[idx ? idx[i] : i];
        bool more;

        if (change != KT_CHANGE_NONE) {
            if (c->has_prev)
                kt_human_delta(dbuf, sizeof(dbuf), (double)c->delta_bytes);
            else /* blank on the first screen; "new" for a cache that appeared */
                snprintf(dbuf, sizeof(dbuf), "%s", change == KT_CHANGE_FIRST ? "" : "new");
            more = kt_line(s, KT_NORMAL, "%6llu %6llu %3u%% %7.2fK %6llu %8llu %9lluK %9s %-23s",
                           (unsigned long long)c->num_objs, (unsigned long long)c->active_objs,
                           use_pct(c), (double)c->objsize / 1024.0,
                           (unsigned long long)c->num_slabs, (unsigned long long)c->objperslab,
                           (unsigned long long)(kmem_slab_bytes(c, ps) / 1024), dbuf, c->name);
        } else {
            more = kt_line(s, KT_NORMAL, "%6llu %6llu %3u%% %7.2fK %6llu %8llu %9lluK %-23s",
                           (unsigned long long)c->num_objs, (unsigned long long)c->active_objs,
                           use_pct(c), (double)c->objsize / 1024.0,
                           (unsigned long long)c->num_slabs, (unsigned long long)c->objperslab,
                           (unsigned long long)(kmem_slab_bytes(c, ps) / 1024), c->name);
        }
        if (!more)
            break;
    }
}

/* ---- the kmemtop screen ------------------------------------------------- */

/* Columns in display order; the name comes last. */
enum slab_col {
    SC_OBJS,
    SC_ACTIVE,
    SC_USE,
    SC_OBJSIZE,
    SC_SLABS,
    SC_OBJSLAB,
    SC_SIZE,
    SC_SHARE,
    SC_UNUSED,
    /* Per-cache attributes (reclaimable, accounted) from /sys/kernel/slab go here. */
    SC_CHANGE,
    SC_GROWTH,
    SC_RATE,
    SC_COUNT
};

static const struct kt_col slab_cols[SC_COUNT] = {
    [SC_OBJS] = {"OBJS", 6, 4, false},        [SC_ACTIVE] = {"ACTIVE", 6, 7, false},
    [SC_USE] = {"USE", 4, 5, false},          [SC_OBJSIZE] = {"OBJ SIZE", 8, 6, false},
    [SC_SLABS] = {"SLABS", 6, 8, false},      [SC_OBJSLAB] = {"OBJ/SLAB", 8, 9, false},
    [SC_SIZE] = {"CACHE SIZE", 10, 0, false}, [SC_SHARE] = {"SHARE", 6, 10, true},
    [SC_UNUSED] = {"UNUSED", 8, 11, true},    [SC_CHANGE] = {"CHANGE", 8, 1, false},
    [SC_GROWTH] = {"GROWTH", 8, 2, false},    [SC_RATE] = {"PER MIN", 8, 3, false},
};
static_assert(SC_COUNT <= 32, "column masks are 32 bits");

#define NAME_COLS_MAX 40 /* longer names do not take columns away */

struct slab_row_ctx {
    const struct kmem_slabinfo *si;
    const struct kt_screen *sc;
    uint64_t total_bytes;
};

static void slab_cell(const struct slab_row_ctx *r, size_t i, enum slab_col col, char *buf,
                      size_t len)
{
    const struct kmem_slab *c = &r->si->v[i];
    const struct kt_grow *g = r->sc->hist && r->sc->hist->slab ? &r->sc->hist->slab[i] : NULL;
    uint64_t bytes = kmem_slab_bytes(c, kmem_page_size());

    buf[0] = '\0';
    switch (col) {
    case SC_OBJS:
        snprintf(buf, len, "%llu", (unsigned long long)c->num_objs);
        break;
    case SC_ACTIVE:
        snprintf(buf, len, "%llu", (unsigned long long)c->active_objs);
        break;
    case SC_USE:
        snprintf(buf, len, "%u%%", use_pct(c));
        break;
    case SC_OBJSIZE:
        snprintf(buf, len, "%.2fK", (double)c->objsize / 1024.0);
        break;
    case SC_SLABS:
        snprintf(buf, len, "%llu", (unsigned long long)c->num_slabs);
        break;
    case SC_OBJSLAB:
        snprintf(buf, len, "%llu", (unsigned long long)c->objperslab);
        break;
    case SC_SIZE:
        snprintf(buf, len, "%lluK", (unsigned long long)(bytes / 1024));
        break;
    case SC_SHARE:
        snprintf(buf, len, "%.1f%%", kt_pct(bytes, r->total_bytes));
        break;
    case SC_UNUSED: /* free objects and slack in the cache's slabs */
        kt_human(
            buf, len,
            (double)(bytes > kmem_slab_active_bytes(c) ? bytes - kmem_slab_active_bytes(c) : 0));
        break;
    case SC_CHANGE:
    case SC_GROWTH:
    case SC_RATE:
        kt_growth_cell(buf, len,
                       col == SC_CHANGE   ? KT_COL_CHANGE
                       : col == SC_GROWTH ? KT_COL_GROWTH
                                          : KT_COL_RATE,
                       c->has_prev, c->delta_bytes, r->sc->have_prev, g);
        break;
    case SC_COUNT:
        break;
    }
}

void kt_slab_screen(struct kt_sink *s, const struct kmem_snapshot *snap, char key,
                    const struct kt_screen *sc)
{
    const struct kmem_slabinfo *si = &snap->slab;
    struct slab_row_ctx r = {.si = si, .sc = sc};
    size_t *idx, n = 0, name_cols = 4;
    uint32_t avail = (UINT32_C(1) << SC_COUNT) - 1, mask;
    struct kt_window w;
    char line[1024];

    if (kt_part_missing(s, snap, KMEM_PART_SLAB))
        return;
    if (!sc->hist)
        avail &= ~((UINT32_C(1) << SC_GROWTH) | (UINT32_C(1) << SC_RATE));
    if (!summary(s, si))
        return;
    idx = malloc((si->n ? si->n : 1) * sizeof(*idx));
    if (!idx) {
        kt_line(s, KT_NORMAL, "out of memory");
        return;
    }
    for (size_t i = 0; i < si->n; i++) {
        r.total_bytes += kmem_slab_bytes(&si->v[i], kmem_page_size());
        if (!kt_match(si->v[i].name, sc->filter))
            continue;
        idx[n++] = i;
        if (kt_text_width(si->v[i].name) > name_cols)
            name_cols = kt_text_width(si->v[i].name);
    }
    qsort_r(
        idx, n, sizeof(*idx), cmp_idx,
        &(struct slab_sort_ctx){.v = si->v, .grow = sc->hist ? sc->hist->slab : NULL, .key = key});
    mask = kt_cols_fit(slab_cols, SC_COUNT, avail, s->width,
                       (int)(name_cols < NAME_COLS_MAX ? name_cols : NAME_COLS_MAX));
    if (sc->filter && *sc->filter)
        kt_printable(line, sizeof(line), sc->filter, KT_ESC_QMARK);
    if (!(sc->filter && *sc->filter
              ? kt_line(s, KT_NORMAL, "filter \"%s\": %zu of %zu caches", line, n, si->n)
              : kt_line(s, KT_NORMAL, "%s", ""))) {
        free(idx);
        return;
    }
    kt_heading(line, sizeof(line), slab_cols, SC_COUNT, mask, "NAME");
    if (!kt_line(s, KT_HEADING, "%s", line)) {
        free(idx);
        return;
    }
    w = kt_window_fit(s, n, sc->scroll, false);
    for (size_t k = w.first; k < w.first + w.count; k++) {
        size_t pos = 0;

        for (int c = 0; c < SC_COUNT; c++) {
            char cell[64];

            if (!(mask & (UINT32_C(1) << c)))
                continue;
            slab_cell(&r, idx[k], (enum slab_col)c, cell, sizeof(cell));
            kt_cell(line, sizeof(line), &pos, &slab_cols[c], cell);
        }
        kt_printable(line + pos, sizeof(line) - pos, si->v[idx[k]].name, KT_ESC_QMARK);
        if (!kt_line(s, KT_NORMAL, "%s", line))
            break;
    }
    kt_window_footer(s, &w);
    free(idx);
}
