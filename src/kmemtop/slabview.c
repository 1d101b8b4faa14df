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

/* procps's five summary lines. False when the sink is full. */
static bool summary(struct kt_sink *s, const struct kmem_slabinfo *si)
{
    const struct kmem_slab_totals *t = &si->totals;
    /* procps starts the minimum at INT_MAX, so an empty file shows 2097152.00K */
    uint64_t min_obj = si->n ? t->min_objsize : INT_MAX;
    uint64_t avg_obj = t->num_objs ? t->obj_bytes / t->num_objs : 0;

    return kt_line(s, KT_NORMAL, " %-35s: %llu / %llu (%.1f%%)", "Active / Total Objects (% used)",
                   (unsigned long long)t->active_objs, (unsigned long long)t->num_objs,
                   100.0 * (double)t->active_objs / (double)t->num_objs) &&
           kt_line(s, KT_NORMAL, " %-35s: %llu / %llu (%.1f%%)", "Active / Total Slabs (% used)",
                   (unsigned long long)t->active_slabs, (unsigned long long)t->num_slabs,
                   100.0 * (double)t->active_slabs / (double)t->num_slabs) &&
           kt_line(s, KT_NORMAL, " %-35s: %llu / %llu (%.1f%%)", "Active / Total Caches (% used)",
                   (unsigned long long)t->active_caches, (unsigned long long)t->caches,
                   100.0 * (double)t->active_caches / (double)t->caches) &&
           kt_line(s, KT_NORMAL, " %-35s: %.2fK / %.2fK (%.1f%%)", "Active / Total Size (% used)",
                   (double)t->active_bytes / 1024.0, (double)t->obj_bytes / 1024.0,
                   100.0 * (double)t->active_bytes / (double)t->obj_bytes) &&
           kt_line(s, KT_NORMAL, " %-35s: %.2fK / %.2fK / %.2fK",
                   "Minimum / Average / Maximum Object", (double)min_obj / 1024.0,
                   (double)avg_obj / 1024.0, (double)t->max_objsize / 1024.0);
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
    /* Per-cache attributes from /sys/kernel/slab (SLUB), the last to find room. */
    SC_RECL,
    SC_ACCT,
    SC_ALIASES,
    SC_ORDER,
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
    [SC_UNUSED] = {"UNUSED", 8, 11, true},    [SC_RECL] = {"RECL", 4, 12, true},
    [SC_ACCT] = {"ACCT", 4, 13, true},        [SC_ALIASES] = {"ALIASES", 7, 14, true},
    [SC_ORDER] = {"ORDER", 5, 15, true},      [SC_CHANGE] = {"CHANGE", 8, 1, false},
    [SC_GROWTH] = {"GROWTH", 8, 2, false},    [SC_RATE] = {"PER MIN", 8, 3, false},
};
static_assert(SC_COUNT <= 32, "column masks are 32 bits");

#define ATTR_COLS                                                                                  \
    ((UINT32_C(1) << SC_RECL) | (UINT32_C(1) << SC_ACCT) | (UINT32_C(1) << SC_ALIASES) |           \
     (UINT32_C(1) << SC_ORDER))

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
    case SC_RECL: /* "-": no sysfs entry was read for this cache */
        snprintf(buf, len, "%s", !c->attr.known ? "-" : c->attr.reclaimable ? "yes" : "no");
        break;
    case SC_ACCT: /* "?": sysfs does not show SLAB_ACCOUNT of an unmerged cache */
        snprintf(buf, len, "%s",
                 !c->attr.known              ? "-"
                 : c->attr.accounted < 0     ? "?"
                 : c->attr.accounted_charged ? "yes*" /* the owner snapshot's charged objects */
                 : c->attr.accounted         ? "yes"
                                             : "no");
        break;
    case SC_ALIASES:
        if (c->attr.known)
            snprintf(buf, len, "%u", (unsigned)c->attr.aliases);
        else
            snprintf(buf, len, "-");
        break;
    case SC_ORDER:
        if (c->attr.known)
            snprintf(buf, len, "%u", (unsigned)c->attr.order);
        else
            snprintf(buf, len, "-");
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

/* What the attribute columns and their marks mean, most needed first. */
enum legend_piece { LP_QMARK, LP_DASH, LP_ACCT, LP_RECL, LP_ALIASES, LP_ORDER, LP_STAR, LP_COUNT };

/*
 * The line above the heading: the filter (if any), then, when attribute
 * columns are shown, the legend pieces that fit the width (in display order).
 * False when the sink is full.
 */
static bool info_line(struct kt_sink *s, const struct kmem_slabinfo *si, const size_t *idx,
                      size_t n, uint32_t mask, const char *filter)
{
    static const char *const text[LP_COUNT] = {
        [LP_RECL] = "RECL: in SReclaimable",
        [LP_ACCT] = "ACCT: charged to cgroups (SLAB_ACCOUNT)",
        [LP_QMARK] = "? = not shown by sysfs",
        [LP_ALIASES] = "ALIASES: caches merged in",
        [LP_ORDER] = "ORDER: 2^n pages a slab",
        [LP_DASH] = "- = not in /sys/kernel/slab",
        [LP_STAR] = "yes* = seen charged (owner snapshot)",
    };
    static const enum legend_piece shown_order[LP_COUNT] = {LP_RECL,    LP_ACCT,  LP_QMARK, LP_STAR,
                                                            LP_ALIASES, LP_ORDER, LP_DASH};
    bool want[LP_COUNT] = {false}, use[LP_COUNT] = {false};
    char line[1024];
    size_t pos = 0, width;

    line[0] = '\0';
    if (filter && *filter) {
        char shown[512];

        kt_printable(shown, sizeof(shown), filter, KT_ESC_QMARK);
        pos = (size_t)snprintf(line, sizeof(line), "filter \"%s\": %zu of %zu caches", shown, n,
                               si->n);
    }
    if (mask & ATTR_COLS) {
        want[LP_RECL] = mask & (UINT32_C(1) << SC_RECL);
        want[LP_ACCT] = mask & (UINT32_C(1) << SC_ACCT);
        want[LP_ALIASES] = mask & (UINT32_C(1) << SC_ALIASES);
        want[LP_ORDER] = mask & (UINT32_C(1) << SC_ORDER);
        for (size_t k = 0; k < n; k++) {
            const struct kmem_slab_attr *a = &si->v[idx[k]].attr;

            want[LP_DASH] |= !a->known;
            want[LP_QMARK] |= want[LP_ACCT] && a->known && a->accounted < 0;
            want[LP_STAR] |= want[LP_ACCT] && a->known && a->accounted_charged;
        }
    }
    /* By importance, each piece that still fits ("  " before it)... */
    width = pos;
    for (int p = 0; p < LP_COUNT; p++) {
        size_t add = strlen(text[p]) + (width ? 2 : 0);

        if (want[p] && (s->width <= 0 || width + add <= (size_t)s->width)) {
            use[p] = true;
            width += add;
        }
    }
    /* ... then in the order of the columns. */
    for (int k = 0; k < LP_COUNT; k++) {
        enum legend_piece p = shown_order[k];

        if (use[p] && pos < sizeof(line))
            pos +=
                (size_t)snprintf(line + pos, sizeof(line) - pos, "%s%s", pos ? "  " : "", text[p]);
    }
    return kt_line(s, KT_NORMAL, "%s", line);
}

void kt_slab_screen(struct kt_sink *s, const struct kmem_snapshot *snap, char key,
                    const struct kt_screen *sc)
{
    const struct kmem_slabinfo *si = &snap->slab;
    struct slab_row_ctx r = {.si = si, .sc = sc};
    struct kt_col cols[SC_COUNT];
    size_t *idx, n = 0, name_cols = 4;
    uint32_t avail = (UINT32_C(1) << SC_COUNT) - 1, mask;
    struct kt_window w;
    char line[1024];

    if (kt_part_missing(s, snap, KMEM_PART_SLAB))
        return;
    if (!sc->hist)
        avail &= ~((UINT32_C(1) << SC_GROWTH) | (UINT32_C(1) << SC_RATE));
    if (!si->attrs_ok || !si->attrs_known) /* SLAB kernels, no sysfs, not collected */
        avail &= ~ATTR_COLS;
    if (!summary(s, si))
        return;
    idx = malloc((si->n ? si->n : 1) * sizeof(*idx));
    if (!idx) {
        kt_line(s, KT_NORMAL, "out of memory");
        return;
    }
    r.total_bytes = si->totals.size_bytes;
    for (size_t i = 0; i < si->n; i++) {
        if (!kt_match(si->v[i].name, sc->filter))
            continue;
        idx[n++] = i;
        if (kt_text_width(si->v[i].name) > name_cols)
            name_cols = kt_text_width(si->v[i].name);
    }
    qsort_r(
        idx, n, sizeof(*idx), cmp_idx,
        &(struct slab_sort_ctx){.v = si->v, .grow = sc->hist ? sc->hist->slab : NULL, .key = key});
    /* A column is as wide as its widest cell (1M+ dentries need 7 digits):
     * measured over every listed row, so scrolling does not move columns. */
    memcpy(cols, slab_cols, sizeof(cols));
    for (size_t k = 0; k < n; k++)
        for (int c = 0; c < SC_COUNT; c++) {
            char cell[64];
            int cw;

            if (!(avail & (UINT32_C(1) << c)))
                continue;
            slab_cell(&r, idx[k], (enum slab_col)c, cell, sizeof(cell));
            cw = (int)kt_text_width(cell);
            if (cw > cols[c].width)
                cols[c].width = cw;
        }
    mask = kt_cols_fit(cols, SC_COUNT, avail, s->width,
                       (int)(name_cols < NAME_COLS_MAX ? name_cols : NAME_COLS_MAX));
    /* The attributes come after every figure: none in a gap that UNUSED left. */
    if (!(mask & (UINT32_C(1) << SC_UNUSED)))
        mask &= ~ATTR_COLS;
    if (!info_line(s, si, idx, n, mask, sc->filter)) {
        free(idx);
        return;
    }
    kt_heading(line, sizeof(line), cols, SC_COUNT, mask, "NAME");
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
            kt_cell(line, sizeof(line), &pos, &cols[c], cell);
        }
        kt_printable(line + pos, sizeof(line) - pos, si->v[idx[k]].name, KT_ESC_QMARK);
        if (!kt_line(s, KT_NORMAL, "%s", line))
            break;
    }
    kt_window_footer(s, &w);
    free(idx);
}
