/* SPDX-License-Identifier: MIT */
/*
 * The cgroup table: kernel memory charged to each memory cgroup, with its
 * parts and the Kubernetes identity when known. `kmemtop --cgroups -o`
 * prints it flat, once; the interactive view shows it as a tree (pods and
 * containers by name, collapsible) or flat, with growth, a filter and a
 * cursor.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "views.h"

/* Columns in display order; the name comes last. */
enum cg_col {
    CC_KERNEL,
    CC_CHANGE,
    CC_GROWTH,
    CC_RATE,
    CC_SHARE,
    CC_SLAB,
    CC_STACK,
    CC_PGTABLE,
    CC_PERCPU,
    CC_VMALLOC,
    CC_OTHER,
    CC_TCP,
    CC_SOCK,
    CC_USAGE,
    CC_COUNT
};

static const struct kt_col cg_cols[CC_COUNT] = {
    [CC_KERNEL] = {"KERNEL", 8, 0, false}, [CC_CHANGE] = {"CHANGE", 8, 1, false},
    [CC_GROWTH] = {"GROWTH", 8, 2, false}, [CC_RATE] = {"PER MIN", 8, 3, false},
    [CC_SHARE] = {"SHARE", 6, 8, true},    [CC_SLAB] = {"SLAB", 8, 4, false},
    [CC_STACK] = {"STACK", 8, 5, false},   [CC_PGTABLE] = {"PGTABLE", 8, 6, false},
    [CC_PERCPU] = {"PERCPU", 8, 9, true},  [CC_VMALLOC] = {"VMALLOC", 8, 10, true},
    [CC_OTHER] = {"OTHER", 8, 7, false},   [CC_TCP] = {"TCP", 8, 7, false},
    [CC_SOCK] = {"SOCK", 8, 11, true},     [CC_USAGE] = {"USAGE", 8, 12, true},
};
static_assert(CC_COUNT <= 32, "column masks are 32 bits");

/* The component a column shows, or -1 (a column of its own). */
static int col_kind(enum cg_col c)
{
    switch (c) {
    case CC_STACK:
        return KMEM_CG_KERNEL_STACK;
    case CC_PGTABLE:
        return KMEM_CG_PAGETABLES;
    case CC_PERCPU:
        return KMEM_CG_PERCPU;
    case CC_VMALLOC:
        return KMEM_CG_VMALLOC;
    case CC_OTHER:
        return KMEM_CG_OTHER;
    default:
        return -1; /* TCP and SOCK: cg->sock, outside the kernel components */
    }
}

#define SLAB_BITS                                                                                  \
    ((UINT32_C(1) << KMEM_CG_SLAB_RECLAIMABLE) | (UINT32_C(1) << KMEM_CG_SLAB_UNRECLAIMABLE))
/* Present-bit of the socket memory (v2 sock, v1 memory.kmem.tcp), beside the kinds' bits. */
#define SOCK_BIT (UINT32_C(1) << 31)
static_assert(KMEM_CG_KIND_COUNT < 31, "SOCK_BIT is above every kind's bit");

/* The kind bits a column needs (0: always shown). */
static uint32_t col_bits(enum cg_col c)
{
    int k = col_kind(c);

    if (c == CC_SLAB)
        return SLAB_BITS;
    if (c == CC_TCP || c == CC_SOCK)
        return SOCK_BIT;
    return k < 0 ? 0 : UINT32_C(1) << k;
}

static const char *const sort_name[] = {
    [KT_CG_SORT_KERNEL] = "kernel", [KT_CG_SORT_CHANGE] = "change", [KT_CG_SORT_NAME] = "name",
    [KT_CG_SORT_GROWTH] = "growth", [KT_CG_SORT_RATE] = "per min",
};
static const char sort_char[] = {
    [KT_CG_SORT_KERNEL] = 'k', [KT_CG_SORT_CHANGE] = 'g', [KT_CG_SORT_NAME] = 'n',
    [KT_CG_SORT_GROWTH] = 'G', [KT_CG_SORT_RATE] = 'r',
};
static_assert(sizeof(sort_name) / sizeof(sort_name[0]) == sizeof(sort_char), "sort tables");

char kt_cg_sort_char(enum kt_cg_sort sort)
{
    return (unsigned)sort < sizeof(sort_char) ? sort_char[sort] : 'k';
}

const char *kt_cg_sort_name(enum kt_cg_sort sort)
{
    return (unsigned)sort < sizeof(sort_char) ? sort_name[sort] : "kernel";
}

bool kt_cg_sort_from_char(int c, enum kt_cg_sort *out)
{
    for (size_t i = 0; i < sizeof(sort_char); i++)
        if (sort_char[i] == c) {
            *out = (enum kt_cg_sort)i;
            return true;
        }
    return false;
}

/* ---- order -------------------------------------------------------------- */

struct cg_sort_ctx {
    const struct kmem_cgroup *v;
    const struct kt_grow *grow; /* per cgroup, or NULL */
    enum kt_cg_sort sort;
};

static double sort_value(const struct cg_sort_ctx *sc, size_t i)
{
    const struct kmem_cgroup *cg = &sc->v[i];
    const struct kt_grow *g = sc->grow ? &sc->grow[i] : NULL;

    switch (sc->sort) {
    case KT_CG_SORT_CHANGE:
        return cg->has_prev ? (double)cg->delta_kernel : 0; /* no previous value: 0 */
    case KT_CG_SORT_GROWTH:
        return !g ? 0 : g->has_base ? (double)g->base : (double)cg->kernel;
    case KT_CG_SORT_RATE:
        return g && g->has_rate ? g->per_min : 0;
    default:
        return 0;
    }
}

static int cmp_cg(const void *pa, const void *pb, void *arg)
{
    const struct cg_sort_ctx *sc = arg;
    size_t ia = *(const size_t *)pa, ib = *(const size_t *)pb;
    const struct kmem_cgroup *a = &sc->v[ia], *b = &sc->v[ib];
    double da = sort_value(sc, ia), db = sort_value(sc, ib);
    bool ra = a->path && strcmp(a->path, "/") == 0, rb = b->path && strcmp(b->path, "/") == 0;
    int c;

    /* By kernel memory the root leads: it holds every row below it, even when
     * a child read a moment later has grown past it. */
    if (sc->sort == KT_CG_SORT_KERNEL && ra != rb)
        return ra ? -1 : 1;
    if (da != db)
        return da > db ? -1 : 1;
    /* Kernel memory orders the kernel sort and breaks ties of the others. */
    if (sc->sort != KT_CG_SORT_NAME && a->kernel != b->kernel)
        return a->kernel > b->kernel ? -1 : 1;
    c = strcmp(a->path ? a->path : "", b->path ? b->path : "");
    if (c)
        return c;
    return ia < ib ? -1 : ia > ib; /* equal paths: snapshot order */
}

/* A row of the list: a cgroup and its depth in the tree shown. */
struct row {
    size_t i;
    int depth;
    bool kids, collapsed;
};

static bool is_collapsed(const struct kt_cg_state *st, const char *path)
{
    for (size_t k = 0; st && k < st->ncollapsed; k++)
        if (strcmp(st->collapsed[k], path) == 0)
            return true;
    return false;
}

static bool cg_matches(const struct kmem_cgroup *cg, const char *filter)
{
    char name[4096];

    if (!filter || !*filter)
        return true;
    return kt_match(cg->path, filter) ||
           kt_match(kt_cg_name(name, sizeof(name), cg, KT_ESC_QMARK), filter);
}

/* The flat list: the cgroups that match, sorted. Returns the rows. */
static size_t flat_rows(const struct kmem_cgroups *cgs, const struct cg_sort_ctx *sc,
                        const char *filter, struct row *rows, size_t *idx)
{
    size_t n = 0;

    for (size_t i = 0; i < cgs->n; i++)
        if (cg_matches(&cgs->v[i], filter))
            idx[n++] = i;
    qsort_r(idx, n, sizeof(*idx), cmp_cg, (void *)sc);
    for (size_t k = 0; k < n; k++)
        rows[k] = (struct row){.i = idx[k]};
    return n;
}

/*
 * The tree: children after their parent, siblings sorted; descendants of a
 * collapsed node hidden; with a filter, the cgroups that match and their
 * ancestors. @idx needs room for 4 * n entries.
 */
static size_t tree_rows(const struct kmem_cgroups *cgs, const struct cg_sort_ctx *sc,
                        const char *filter, const struct kt_cg_state *st, struct row *rows,
                        size_t *idx)
{
    size_t n = cgs->n, nrows = 0, top = 0;
    size_t *order = idx, *parent = idx + n, *kids = idx + 2 * n, *stack = idx + 3 * n;
    size_t *first = NULL, *count = NULL;
    bool *keep = NULL;
    const size_t none = SIZE_MAX;

    first = calloc(n + 1, sizeof(*first));
    count = calloc(n + 1, sizeof(*count));
    keep = calloc(n, sizeof(*keep));
    if (!first || !count || !keep)
        goto out;
    /* Parents, from tree order: the nearest ancestor on a stack of open nodes. */
    kt_cg_tree_order(cgs->v, n, order);
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];

        while (top && !kt_cg_is_ancestor(cgs->v[stack[top - 1]].path, cgs->v[i].path))
            top--;
        parent[i] = top ? stack[top - 1] : none;
        stack[top++] = i;
    }
    /* What a filter keeps: matches and their ancestors. */
    for (size_t i = 0; i < n; i++)
        if (cg_matches(&cgs->v[i], filter))
            for (size_t a = i; a != none && !keep[a]; a = parent[a])
                keep[a] = true;
    /* Children lists (slot n holds the roots), each sorted. */
    for (size_t i = 0; i < n; i++)
        if (keep[i])
            count[parent[i] == none ? n : parent[i]]++;
    for (size_t p = 0, off = 0; p <= n; p++) {
        first[p] = off;
        off += count[p];
        count[p] = 0;
    }
    for (size_t i = 0; i < n; i++)
        if (keep[i]) {
            size_t p = parent[i] == none ? n : parent[i];

            kids[first[p] + count[p]++] = i;
        }
    for (size_t p = 0; p <= n; p++)
        qsort_r(kids + first[p], count[p], sizeof(*kids), cmp_cg, (void *)sc);
    /* Depth-first: the stack holds (node) entries; roots pushed last-first. */
    top = 0;
    for (size_t k = count[n]; k-- > 0;)
        stack[top++] = kids[first[n] + k];
    while (top) {
        size_t i = stack[--top];
        int depth = 0;

        for (size_t a = parent[i]; a != none; a = parent[a])
            depth++;
        rows[nrows] = (struct row){.i = i, .depth = depth, .kids = count[i] > 0};
        rows[nrows].collapsed =
            rows[nrows].kids && is_collapsed(st, cgs->v[i].path) && !(filter && *filter);
        if (!rows[nrows].collapsed)
            for (size_t k = count[i]; k-- > 0;)
                stack[top++] = kids[first[i] + k];
        nrows++;
    }
out:
    free(first);
    free(count);
    free(keep);
    return nrows;
}

/* ---- cells -------------------------------------------------------------- */

struct cg_render {
    const struct kmem_cgroups *cgs;
    const struct kt_screen *sc; /* NULL: -o */
};

static bool has(const struct kmem_cgroup *cg, uint32_t bits)
{
    return ((cg->comp_present | (cg->has_sock ? SOCK_BIT : 0)) & bits) != 0;
}

static void cg_cell(const struct cg_render *r, size_t i, enum cg_col col, char *buf, size_t len)
{
    const struct kmem_cgroup *cg = &r->cgs->v[i];
    const struct kt_history *h = r->sc ? r->sc->hist : NULL;
    const struct kt_grow *g = h && h->cg ? &h->cg[i] : NULL;
    int k = col_kind(col);
    char tmp[32];

    buf[0] = '\0';
    if (col_bits(col) && !has(cg, col_bits(col))) {
        snprintf(buf, len, "-");
        return;
    }
    switch (col) {
    case CC_KERNEL:
        snprintf(buf, len, "%s%s", cg->kernel_approx ? "~" : "",
                 kt_human(tmp, sizeof(tmp), (double)cg->kernel));
        break;
    case CC_CHANGE:
    case CC_GROWTH:
    case CC_RATE:
        kt_growth_cell(buf, len,
                       col == CC_CHANGE   ? KT_COL_CHANGE
                       : col == CC_GROWTH ? KT_COL_GROWTH
                                          : KT_COL_RATE,
                       cg->has_prev, cg->delta_kernel, r->sc && r->sc->have_prev, g);
        break;
    case CC_SHARE:
        snprintf(buf, len, "%.1f%%", kt_pct(cg->kernel, r->cgs->v[0].kernel));
        break;
    case CC_SLAB:
        kt_human(buf, len,
                 (double)((has(cg, UINT32_C(1) << KMEM_CG_SLAB_RECLAIMABLE)
                               ? cg->comp[KMEM_CG_SLAB_RECLAIMABLE]
                               : 0) +
                          (has(cg, UINT32_C(1) << KMEM_CG_SLAB_UNRECLAIMABLE)
                               ? cg->comp[KMEM_CG_SLAB_UNRECLAIMABLE]
                               : 0)));
        break;
    case CC_USAGE:
        kt_human(buf, len, (double)cg->usage);
        break;
    case CC_TCP:
    case CC_SOCK:
        kt_human(buf, len, (double)cg->sock);
        break;
    default:
        if (k >= 0)
            kt_human(buf, len, (double)cg->comp[k]);
        break;
    }
}

/* ---- the table ---------------------------------------------------------- */

/*
 * Columns that apply to this tree: a part no cgroup has (on this cgroup
 * version) is hidden. *@lacks: columns where some cgroup shows "-".
 */
static uint32_t available(const struct cg_render *r, uint32_t *lacks)
{
    const struct kmem_cgroups *cgs = r->cgs;
    uint32_t avail = 0, any = 0;
    bool any_prev = false;

    *lacks = 0;
    for (size_t i = 0; i < cgs->n; i++) {
        any |= cgs->v[i].comp_present | (cgs->v[i].has_sock ? SOCK_BIT : 0);
        any_prev |= cgs->v[i].has_prev;
        for (int c = 0; c < CC_COUNT; c++)
            if (col_bits((enum cg_col)c) && !has(&cgs->v[i], col_bits((enum cg_col)c)))
                *lacks |= UINT32_C(1) << c;
    }
    for (int c = 0; c < CC_COUNT; c++) {
        uint32_t bits = col_bits((enum cg_col)c);

        if (bits && !(any & bits))
            continue;
        if ((c == CC_GROWTH || c == CC_RATE) && !(r->sc && r->sc->hist))
            continue;
        /* The same figure under its name on each version: TCP (v1), SOCK (v2). */
        if (c == (cgs->layout == KMEM_CG_V2 ? CC_TCP : CC_SOCK))
            continue;
        /* v1 has no breakdown: its one part, "other", is the whole of KERNEL. */
        if (c == CC_OTHER && cgs->layout != KMEM_CG_V2)
            continue;
        if (c == CC_CHANGE && !r->sc && !any_prev)
            continue; /* -o without a previous sample */
        avail |= UINT32_C(1) << c;
    }
    return avail;
}

static void render(struct kt_sink *s, const struct kmem_snapshot *snap, enum kt_cg_sort sort,
                   const struct kt_screen *sc, struct kt_cg_state *st)
{
    const struct kmem_cgroups *cgs = &snap->cgroups;
    const char *filter = sc ? sc->filter : NULL;
    bool any_approx = false, any_kube = false, tree = sc && st && !st->flat;
    struct cg_render r = {.cgs = cgs, .sc = sc};
    struct cg_sort_ctx sctx = {.v = cgs->v, .sort = sort};
    size_t *idx = NULL, nrows, name_cols = 6;
    struct row *rows = NULL;
    struct kt_window w;
    uint32_t mask, lacks;
    char line[4096];

    if (kt_part_missing(s, snap, KMEM_PART_CGROUPS))
        return;
    sctx.grow = sc && sc->hist ? sc->hist->cg : NULL;
    for (size_t i = 0; i < cgs->n; i++) {
        any_approx |= cgs->v[i].kernel_approx;
        any_kube |= (cgs->v[i].pod_uid && *cgs->v[i].pod_uid);
    }
    mask = available(&r, &lacks);
    idx = malloc(4 * (cgs->n ? cgs->n : 1) * sizeof(*idx));
    rows = malloc((cgs->n ? cgs->n : 1) * sizeof(*rows));
    if (!idx || !rows) {
        kt_line(s, KT_NORMAL, "out of memory");
        goto out;
    }
    nrows = tree ? tree_rows(cgs, &sctx, filter, st, rows, idx)
                 : flat_rows(cgs, &sctx, filter, rows, idx);
    /* On a screen, pick the columns that leave the names room. */
    if (s->width > 0) {
        for (size_t k = 0; k < nrows; k++) {
            char name[4096];
            size_t wname =
                tree ? 2 * (size_t)rows[k].depth + 2 +
                           kt_text_width(kt_cg_node_name(name, sizeof(name), &cgs->v[rows[k].i]))
                     : kt_text_width(
                           kt_cg_name(name, sizeof(name), &cgs->v[rows[k].i], KT_ESC_QMARK));

            if (wname > name_cols)
                name_cols = wname;
        }
        mask = kt_cols_fit(cg_cols, CC_COUNT, mask, s->width,
                           1 + (int)(name_cols < 40 ? name_cols : 40));
    } else {
        mask = kt_cols_fit(cg_cols, CC_COUNT, mask, 0, 0);
    }
    /* The legends: on the first line for -o (scripts read its start), on a
     * line of their own on a screen, where 80 columns must show them. */
    if (!kt_line(s, KT_NORMAL, "cgroup layout %s, %zu memory cgroup%s%s%s",
                 (unsigned)cgs->layout <= KMEM_CG_HYBRID ? kmem_cg_layout_name[cgs->layout]
                                                         : "none",
                 cgs->n, cgs->n == 1 ? "" : "s",
                 !sc && any_approx ? "; ~ = no \"kernel\" in memory.stat, sum of the parts" : "",
                 !sc && (lacks & mask) ? "; - = not available on this cgroup version" : ""))
        goto out;
    if (sc && (any_approx || (lacks & mask)) &&
        !kt_line(s, KT_NORMAL, "%s%s%s", lacks & mask ? "- = not on this cgroup version" : "",
                 any_approx && (lacks & mask) ? "; " : "",
                 any_approx ? "~ = sum of the parts (no \"kernel\" in memory.stat)" : ""))
        goto out;
    if (cgs->n == 0)
        goto out;
    if (sc && filter && *filter) {
        kt_printable(line, sizeof(line), filter, KT_ESC_QMARK);
        if (!kt_line(s, KT_NORMAL, "filter \"%s\": %zu of %zu cgroups%s", line, nrows, cgs->n,
                     tree ? " (with their ancestors)" : ""))
            goto out;
    }
    kt_heading(line, sizeof(line), cg_cols, CC_COUNT, mask,
               tree       ? " CGROUP TREE"
               : any_kube ? " NAMESPACE/POD/CONTAINER or CGROUP"
                          : " CGROUP");
    if (!kt_line(s, KT_HEADING, "%s", line))
        goto out;

    /* The cursor follows the selected cgroup when the list changes. */
    if (sc && sc->scroll && st && st->sel)
        for (size_t k = 0; k < nrows; k++)
            if (strcmp(cgs->v[rows[k].i].path, st->sel) == 0) {
                sc->scroll->cur = k;
                break;
            }
    w = kt_window_fit(s, nrows, sc ? sc->scroll : NULL, sc && st);
    if (sc && sc->scroll && st) {
        free(st->sel);
        st->sel = nrows ? strdup(cgs->v[rows[sc->scroll->cur].i].path) : NULL;
        st->sel_folded = tree && nrows && rows[sc->scroll->cur].collapsed;
    }
    for (size_t k = w.first; k < w.first + w.count; k++) {
        const struct kmem_cgroup *cg = &cgs->v[rows[k].i];
        bool selected = sc && sc->scroll && st && k == sc->scroll->cur;
        size_t pos = 0;
        char name[4096], cut[4096];

        for (int c = 0; c < CC_COUNT; c++) {
            char cell[64];

            if (!(mask & (UINT32_C(1) << c)))
                continue;
            cg_cell(&r, rows[k].i, (enum cg_col)c, cell, sizeof(cell));
            kt_cell(line, sizeof(line), &pos, &cg_cols[c], cell);
        }
        if (tree) {
            snprintf(line + pos, sizeof(line) - pos, " %*s%s %s", 2 * rows[k].depth, "",
                     rows[k].collapsed ? "+"
                     : rows[k].kids    ? "-"
                                       : " ",
                     kt_cg_node_name(name, sizeof(name), cg));
        } else {
            kt_cg_name(name, sizeof(name), cg, KT_ESC_QMARK);
            snprintf(line + pos, sizeof(line) - pos, " %s",
                     s->width > 0 ? kt_fit_tail(cut, sizeof(cut), name, s->width - (int)pos - 1)
                                  : name);
        }
        if (!kt_line(s, selected ? KT_SELECTED : KT_NORMAL, "%s", line))
            break;
    }
    kt_window_footer(s, &w);
out:
    free(idx);
    free(rows);
}

void kt_cgroup_render(struct kt_sink *s, const struct kmem_snapshot *snap, enum kt_cg_sort sort)
{
    render(s, snap, sort, NULL, NULL);
}

void kt_cgroup_screen(struct kt_sink *s, const struct kmem_snapshot *snap, enum kt_cg_sort sort,
                      const struct kt_screen *sc, struct kt_cg_state *st)
{
    render(s, snap, sort, sc, st);
}

int kt_cg_collapse(struct kt_cg_state *st, int how)
{
    char **p;

    if (!st->sel)
        return 0;
    for (size_t k = 0; k < st->ncollapsed; k++)
        if (strcmp(st->collapsed[k], st->sel) == 0) {
            if (how == 1)
                return 0;
            free(st->collapsed[k]);
            st->collapsed[k] = st->collapsed[--st->ncollapsed];
            return 0;
        }
    if (how == 0)
        return 0;
    p = realloc(st->collapsed, (st->ncollapsed + 1) * sizeof(*p));
    if (!p)
        return -ENOMEM;
    st->collapsed = p;
    st->collapsed[st->ncollapsed] = strdup(st->sel);
    if (!st->collapsed[st->ncollapsed])
        return -ENOMEM;
    st->ncollapsed++;
    return 0;
}

void kt_cg_state_free(struct kt_cg_state *st)
{
    for (size_t k = 0; k < st->ncollapsed; k++)
        free(st->collapsed[k]);
    free(st->collapsed);
    free(st->sel);
    free(st->drill);
    memset(st, 0, sizeof(*st));
}
