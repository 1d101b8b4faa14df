/* SPDX-License-Identifier: MIT */
/*
 * The growth section of kmemtop --html: series gathered sample by sample
 * from the same snapshot fields --json prints, drawn as inline SVG (no
 * script needed: every figure is in a <title> and in the tables).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "html.h"
#include "htmlhist.h"
#include "sat.h"

/* ---- the series ----------------------------------------------------------- */

static int grow_samples(struct kt_hseries *h)
{
    size_t cap = h->cap ? 2 * h->cap : 64;
    void *p;

    if (h->n < h->cap)
        return 0;
#define GROW(field, per)                                                                           \
    do {                                                                                           \
        p = realloc(h->field, cap * (per) * sizeof(*h->field));                                    \
        if (!p)                                                                                    \
            return -ENOMEM;                                                                        \
        h->field = p;                                                                              \
    } while (0)
    GROW(t_ns, 1);
    GROW(oom, 1);
    GROW(node_ok, 1);
    GROW(memtotal, 1);
    GROW(kind, KMEM_NODE_KIND_COUNT);
#undef GROW
    for (size_t i = 0; i < h->nitems; i++) {
        p = realloc(h->items[i].v, cap * sizeof(uint64_t));
        if (!p)
            return -ENOMEM;
        h->items[i].v = p;
        memset(h->items[i].v + h->cap, 0, (cap - h->cap) * sizeof(uint64_t));
    }
    h->cap = cap;
    return 0;
}

/* The item of @key, made (zero so far) if new; NULL without memory. */
static struct kt_hs_item *item(struct kt_hseries *h, const char *key, const char *name, bool cg)
{
    uint64_t hash = kmem_hash_str(key);
    struct kt_hs_item *it;
    size_t iter;
    size_t len = 4 * strlen(name) + 1;

    for (long i = kmem_hindex_first(&h->ix, hash, &iter); i >= 0;
         i = kmem_hindex_next(&h->ix, &iter))
        if (strcmp(h->items[i].key, key) == 0)
            return &h->items[i];
    if (h->nitems == h->icap) {
        size_t cap = h->icap ? 2 * h->icap : 256;
        void *p = realloc(h->items, cap * sizeof(*h->items));

        if (!p)
            return NULL;
        h->items = p;
        h->icap = cap;
    }
    if (2 * (h->nitems + 1) > h->ix.size) {
        if (kmem_hindex_reset(&h->ix, 2 * (h->nitems + 1) + 64))
            return NULL;
        for (size_t i = 0; i < h->nitems; i++)
            kmem_hindex_add(&h->ix, kmem_hash_str(h->items[i].key), i);
    }
    it = &h->items[h->nitems];
    *it = (struct kt_hs_item){.cgroup = cg};
    it->key = strdup(key);
    it->name = malloc(len);
    it->v = calloc(h->cap, sizeof(uint64_t));
    if (!it->key || !it->name || !it->v) {
        free(it->key);
        free(it->name);
        free(it->v);
        return NULL;
    }
    kt_printable(it->name, len, name, KT_ESC_HEX);
    kmem_hindex_add(&h->ix, hash, h->nitems);
    h->nitems++;
    return it;
}

int kt_hseries_add(struct kt_hseries *h, const struct kmem_snapshot *snap, uint64_t t_ns, bool oom)
{
    size_t s = h->n;
    uint64_t page = kmem_page_size();

    if (grow_samples(h))
        return -ENOMEM;
    h->t_ns[s] = t_ns;
    h->oom[s] = oom;
    h->node_ok[s] = kt_part_ok(snap, KMEM_PART_NODE);
    h->memtotal[s] = h->node_ok[s] ? snap->node.mi.v[KMEM_MI_MEMTOTAL] : 0;
    for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++)
        h->kind[s * KMEM_NODE_KIND_COUNT + k] = h->node_ok[s] ? snap->node.kind[k] : 0;
    if (kt_part_ok(snap, KMEM_PART_SLAB))
        for (size_t i = 0; i < snap->slab.n; i++) {
            const struct kmem_slab *c = &snap->slab.v[i];
            char key[KMEM_SLAB_NAME_MAX + 32];
            struct kt_hs_item *it;

            if (c->dup)
                snprintf(key, sizeof(key), "cache:%s#%u", c->name, c->dup);
            else
                snprintf(key, sizeof(key), "cache:%s", c->name);
            it = item(h, key, c->name, false);
            if (!it)
                return -ENOMEM;
            it->v[s] = kmem_slab_bytes(c, page);
        }
    if (kt_part_ok(snap, KMEM_PART_CGROUPS))
        for (size_t i = 0; i < snap->cgroups.n; i++) {
            const struct kmem_cgroup *cg = &snap->cgroups.v[i];
            char key[4200], name[4200];
            struct kt_hs_item *it;

            snprintf(key, sizeof(key), "cg:%s", cg->path);
            kt_cg_name(name, sizeof(name), cg, KT_ESC_HEX);
            it = item(h, key, name, true);
            if (!it)
                return -ENOMEM;
            it->v[s] = cg->kernel;
        }
    h->n++;
    return 0;
}

void kt_hseries_free(struct kt_hseries *h)
{
    for (size_t i = 0; i < h->nitems; i++) {
        free(h->items[i].key);
        free(h->items[i].name);
        free(h->items[i].v);
    }
    free(h->items);
    free(h->t_ns);
    free(h->oom);
    free(h->node_ok);
    free(h->kind);
    free(h->memtotal);
    free(h->verdicts);
    free(h->ooms);
    kmem_hindex_free(&h->ix);
    memset(h, 0, sizeof(*h));
}

static int64_t growth(const struct kt_hseries *h, const struct kt_hs_item *it)
{
    return h->n ? kmem_sub_signed(it->v[h->n - 1], it->v[0]) : 0;
}

static int cmp_growth(const void *pa, const void *pb, void *arg)
{
    const struct kt_hseries *h = arg;
    const struct kt_hs_item *a = &h->items[*(const size_t *)pa];
    const struct kt_hs_item *b = &h->items[*(const size_t *)pb];
    int64_t ga = growth(h, a), gb = growth(h, b);

    if (ga != gb)
        return ga > gb ? -1 : 1;
    return strcmp(a->key, b->key);
}

size_t kt_hseries_top(const struct kt_hseries *h, bool cgroup, size_t max, size_t *out)
{
    size_t *idx, m = 0, n;

    if (!h->nitems || !max)
        return 0;
    idx = malloc(h->nitems * sizeof(*idx));
    if (!idx)
        return 0;
    for (size_t i = 0; i < h->nitems; i++)
        if (h->items[i].cgroup == cgroup && strcmp(h->items[i].key, "cg:/") != 0)
            idx[m++] = i;
    qsort_r(idx, m, sizeof(*idx), cmp_growth, (void *)h);
    n = m < max ? m : max;
    memcpy(out, idx, n * sizeof(*out));
    free(idx);
    return n;
}

/* ---- the page ------------------------------------------------------------------ */

#define CH_W    1216.0
#define CH_H    320.0
#define CH_L    64.0 /* room for the byte labels */
#define CH_R    12.0
#define CH_T    18.0
#define CH_B    48.0 /* room for the time labels and the verdict window */
#define TOP_N   10
#define SPARK_W 160.0
#define SPARK_H 28.0

static const char *when(char *buf, size_t len, uint64_t t_ns)
{
    time_t t = (time_t)(t_ns / 1000000000u);
    struct tm tm;

    if (!localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(buf, len, "%" PRIu64, t_ns);
    return buf;
}

static const char *hum(char *buf, size_t len, uint64_t b)
{
    return kt_human(buf, len, (double)b);
}

static uint64_t kernel_at(const struct kt_hseries *h, size_t s)
{
    uint64_t t = 0;

    for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++)
        t = kmem_add_sat(t, h->kind[s * KMEM_NODE_KIND_COUNT + k]);
    return t;
}

static double x_of(const struct kt_hseries *h, size_t s)
{
    uint64_t t0 = h->t_ns[0], t1 = h->t_ns[h->n - 1];
    double w = CH_W - CH_L - CH_R;

    if (h->n == 1)
        return CH_L + w / 2;
    if (t1 <= t0)
        return CH_L + w * (double)s / (double)(h->n - 1);
    return CH_L + w * (double)(h->t_ns[s] - t0) / (double)(t1 - t0);
}

/* The x of a time, clamped to the samples' span. */
static double x_at(const struct kt_hseries *h, uint64_t t)
{
    uint64_t t0 = h->t_ns[0], t1 = h->t_ns[h->n - 1];

    if (h->n == 1 || t1 <= t0)
        return x_of(h, 0);
    t = t < t0 ? t0 : t > t1 ? t1 : t;
    return CH_L + (CH_W - CH_L - CH_R) * (double)(t - t0) / (double)(t1 - t0);
}

static double y_of(double bytes, double ymax)
{
    double ph = CH_H - CH_T - CH_B;

    return CH_T + ph - (ymax > 0 ? ph * bytes / ymax : 0);
}

/* One kind's band: its top edge left to right, the band below's top edge back. */
static void band(FILE *f, const struct kt_hseries *h, int k, const double *below, const double *top,
                 double ymax)
{
    char a[32], b[32];
    unsigned rgb = kt_html_rgb(kt_html_kind_colour(k));
    const uint64_t *v0 = &h->kind[k], *v1 = &h->kind[(h->n - 1) * KMEM_NODE_KIND_COUNT + k];

    fprintf(f, "<polygon fill=\"#%06x\" stroke=\"#ffffff\" stroke-width=\"0.5\" points=\"", rgb);
    for (size_t s = 0; s < h->n; s++) {
        double x = x_of(h, s);

        if (h->n == 1)
            fprintf(f, "%.1f,%.1f ", x - 6, y_of(top[s], ymax));
        fprintf(f, "%.1f,%.1f ", h->n == 1 ? x + 6 : x, y_of(top[s], ymax));
    }
    for (size_t s = h->n; s-- > 0;) {
        double x = x_of(h, s);

        if (h->n == 1)
            fprintf(f, "%.1f,%.1f ", x + 6, y_of(below[s], ymax));
        fprintf(f, "%.1f,%.1f ", h->n == 1 ? x - 6 : x, y_of(below[s], ymax));
    }
    fprintf(f, "\"><title>%s: %s at the first sample, %s at the last</title></polygon>\n",
            kt_html_kind_words(k), hum(a, sizeof(a), *v0), hum(b, sizeof(b), *v1));
}

/* Stacked kinds over time, byte and time axes, OOM kills as marked lines. */
static void chart(FILE *f, const struct kt_hseries *h, const bool *used)
{
    double *cum = calloc(2 * h->n, sizeof(double)), *below = cum, *top = cum ? cum + h->n : NULL;
    double ymax = 0;
    char a[32], b[64];

    if (!cum)
        return;
    for (size_t s = 0; s < h->n; s++)
        if ((double)kernel_at(h, s) > ymax)
            ymax = (double)kernel_at(h, s);
    fprintf(f,
            "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"kernel "
            "memory by kind over the recording; the table below has every figure\">\n",
            CH_W, CH_H);
    for (int j = 0; j <= 4; j++) {
        double v = ymax * j / 4, y = y_of(v, ymax);

        fprintf(f,
                "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#d9d9d9\"/>"
                "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" class=\"ax\">%s</text>\n",
                CH_L, CH_W - CH_R, y, y, CH_L - 6, y + 4, hum(a, sizeof(a), (uint64_t)v));
    }
    for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++) {
        if (!used[k])
            continue;
        for (size_t s = 0; s < h->n; s++)
            top[s] = below[s] + (double)h->kind[s * KMEM_NODE_KIND_COUNT + k];
        band(f, h, k, below, top, ymax);
        memcpy(below, top, h->n * sizeof(double));
    }
    /* Five times, evenly spaced in time (the samples may not be). */
    for (int j = 0; j < 5; j++) {
        uint64_t t0 = h->t_ns[0], t1 = h->t_ns[h->n - 1], t = t0 + (t1 - t0) / 4 * (uint64_t)j;
        double x = h->n == 1 || t1 <= t0
                       ? x_of(h, 0)
                       : CH_L + (CH_W - CH_L - CH_R) * (double)(t - t0) / (double)(t1 - t0);

        if (j == 4)
            t = t1;
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"%s\" class=\"ax\">%s</text>\n", x,
                CH_H - CH_B + 16,
                h->n == 1 ? "middle"
                : j == 0  ? "start"
                : j == 4  ? "end"
                          : "middle",
                when(b, sizeof(b), t));
        if (h->n == 1 || t1 <= t0)
            break;
    }
    for (size_t s = 0; s < h->n; s++) {
        double x = x_of(h, s), x0 = s ? (x_of(h, s - 1) + x) / 2 : x - 4;
        double x1 = s + 1 < h->n ? (x + x_of(h, s + 1)) / 2 : x + 4;

        if (h->oom[s] && !h->nooms)
            fprintf(f,
                    "<line class=\"oom\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" "
                    "stroke=\"#000000\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>"
                    "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" class=\"ax\">OOM</text>\n",
                    x, x, CH_T, CH_H - CH_B, x, CH_T - 5);
        /* Exact figures on hover, without script: one strip per sample. */
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" fill=\"#ffffff\" "
                "fill-opacity=\"0\"><title>%s%s: kernel %s (%" PRIu64 " bytes)",
                x0, CH_T, x1 - x0 > 0.1 ? x1 - x0 : 0.1, CH_H - CH_T - CH_B,
                when(b, sizeof(b), h->t_ns[s]), h->oom[s] ? " (OOM kill)" : "",
                hum(a, sizeof(a), kernel_at(h, s)), kernel_at(h, s));
        for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++)
            if (used[k])
                fprintf(f, "\n%s: %s", kt_html_kind_words(k),
                        hum(a, sizeof(a), h->kind[s * KMEM_NODE_KIND_COUNT + k]));
        fputs("</title></rect>\n", f);
    }
    for (size_t i = 0; i < h->nooms; i++) {
        const struct kt_hoom *o = &h->ooms[i];
        double x = x_at(h, o->t_ns);
        char c[32], d[32], e[32];

        fprintf(f,
                "<g class=\"oom\"><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" "
                "stroke=\"#000000\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>"
                "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" class=\"ax\">OOM</text><title>"
                "OOM kill at %s in ",
                x, x, CH_T, CH_H - CH_B, x, CH_T - 5, when(b, sizeof(b), o->t_ns));
        kt_html_esc_raw(f, *o->pod ? o->pod : o->cgroup);
        fprintf(f, ": usage %s of limit %s, kernel %s</title></g>\n", hum(c, sizeof(c), o->usage),
                o->limit ? hum(d, sizeof(d), o->limit) : "none", hum(e, sizeof(e), o->kernel));
    }
    if (h->verdicts_known) {
        double x0 = x_at(h, h->vfrom_ns), x1 = x_at(h, h->vto_ns), y = CH_H - 10;

        fprintf(f,
                "<g class=\"window\"><path d=\"M%.1f %.0f V%.0f H%.1f V%.0f\" fill=\"none\" "
                "stroke=\"#1a1a1a\" stroke-width=\"1.5\"/><text x=\"%.1f\" y=\"%.0f\" "
                "text-anchor=\"middle\" class=\"ax\">verdict window: %zu leak verdict%s</text>"
                "<title>the recorder's verdicts (below) are over this span</title></g>\n",
                x0, y - 6, y, x1, y - 6, (x0 + x1) / 2, y - 3, h->nverdicts,
                h->nverdicts == 1 ? "" : "s");
    }
    fputs("</svg>\n", f);
    free(cum);
}

/* A line of @it's values scaled to its own range. */
static void spark(FILE *f, const struct kt_hseries *h, const struct kt_hs_item *it, unsigned rgb)
{
    uint64_t lo = UINT64_MAX, hi = 0;

    for (size_t s = 0; s < h->n; s++) {
        lo = it->v[s] < lo ? it->v[s] : lo;
        hi = it->v[s] > hi ? it->v[s] : hi;
    }
    fprintf(f,
            "<svg class=\"spark\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
            "aria-hidden=\"true\"><polyline fill=\"none\" stroke=\"#%06x\" stroke-width=\"1.5\" "
            "points=\"",
            SPARK_W, SPARK_H, SPARK_W, SPARK_H, rgb);
    for (size_t s = 0; s < h->n; s++) {
        double x =
            h->n > 1 ? (x_of(h, s) - CH_L) / (CH_W - CH_L - CH_R) * (SPARK_W - 2) + 1 : SPARK_W / 2;
        double y =
            hi > lo ? 2 + (SPARK_H - 4) * (double)(hi - it->v[s]) / (double)(hi - lo) : SPARK_H / 2;

        fprintf(f, "%.1f,%.1f ", x, y);
    }
    fputs("\"/></svg>", f);
}

static void top_table(FILE *f, const struct kt_hseries *h, bool cgroup)
{
    size_t idx[TOP_N], n = kt_hseries_top(h, cgroup, TOP_N, idx);
    double hours = h->n > 1 ? (double)(h->t_ns[h->n - 1] - h->t_ns[0]) / 3.6e12 : 0;
    char a[32], b[32], c[32], d[32];

    fprintf(f, "<h3>Top growing %s</h3>\n", cgroup ? "cgroups" : "slab caches");
    if (n == 0 || growth(h, &h->items[idx[0]]) <= 0) {
        fprintf(f, "<p>No %s grew between the first and the last sample.</p>\n",
                cgroup ? "cgroup" : "cache");
        return;
    }
    fprintf(f,
            "<table class=\"top\"><thead><tr><th>%s</th><th>first</th><th>last</th>"
            "<th>growth</th><th>per hour (average)</th><th>over time</th></tr></thead><tbody>\n",
            cgroup ? "cgroup" : "cache");
    for (size_t i = 0; i < n; i++) {
        const struct kt_hs_item *it = &h->items[idx[i]];
        int64_t g = growth(h, it);

        if (g <= 0)
            break;
        fputs("<tr data-k=\"", f);
        kt_html_esc(f, it->key);
        fprintf(f, "\" data-first=\"%" PRIu64 "\" data-last=\"%" PRIu64 "\"><td>", it->v[0],
                it->v[h->n - 1]);
        kt_html_esc(f, it->name);
        fprintf(f, "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>",
                hum(a, sizeof(a), it->v[0]), hum(b, sizeof(b), it->v[h->n - 1]),
                kt_human_delta(c, sizeof(c), (double)g),
                hours > 0 ? kt_human_delta(d, sizeof(d), (double)g / hours) : "-");
        spark(f, h, it, kt_html_rgb(cgroup ? KT_HC_VMALLOC : KT_HC_SLAB_U));
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

/* Every sample: time, OOM, kernel, each kind shown. */
static void sample_table(FILE *f, const struct kt_hseries *h, const bool *used)
{
    char a[32], b[64];

    fprintf(f,
            "<details><summary>Every sample as a table (%zu rows)</summary>\n<table>"
            "<thead><tr><th>time</th><th>OOM kill</th><th>kernel</th>",
            h->n);
    for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++)
        if (used[k])
            fprintf(f, "<th>%s</th>", kt_html_kind_words(k));
    fputs("</tr></thead><tbody>\n", f);
    for (size_t s = 0; s < h->n; s++) {
        fprintf(f,
                "<tr data-t=\"%" PRIu64 "\" data-b=\"%" PRIu64 "\"><td>%s</td><td>%s</td>"
                "<td>%s</td>",
                h->t_ns[s], kernel_at(h, s), when(b, sizeof(b), h->t_ns[s]), h->oom[s] ? "yes" : "",
                hum(a, sizeof(a), kernel_at(h, s)));
        for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++)
            if (used[k])
                fprintf(f, "<td data-k=\"kind:%s\" data-b=\"%" PRIu64 "\">%s</td>",
                        kmem_node_kind_name[k], h->kind[s * KMEM_NODE_KIND_COUNT + k],
                        hum(a, sizeof(a), h->kind[s * KMEM_NODE_KIND_COUNT + k]));
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table></details>\n", f);
}

/* Words for a verdict (kmem_verdict_name) and a subject. */
static const char *verdict_words(const char *v)
{
    static const struct {
        const char *name, *words;
    } w[] = {
        {"leak_suspect", "leak suspect"},
        {"reclaimable_warming", "reclaimable, warming up"},
        {"dying_pinned", "pinned by dying cgroups"},
        {"grew_not_steady", "grew, not steadily"},
        {"noise", "noise"},
    };

    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
        if (strcmp(v, w[i].name) == 0)
            return w[i].words;
    return v;
}

static const char *until(char *buf, size_t len, double hours)
{
    if (hours < 0)
        snprintf(buf, len, "-");
    else if (hours < 48)
        snprintf(buf, len, "%.1f h", hours);
    else
        snprintf(buf, len, "%.1f d", hours / 24);
    return buf;
}

/* The recorder's verdicts over its window: what grows, and how it is judged. */
static void verdict_table(FILE *f, const struct kt_hseries *h)
{
    char a[64], b[64], c[32], d[32], e[32], g[32];

    if (!h->verdicts_known)
        return;
    fprintf(f, "<h3>Leak verdicts from %s to %s</h3>\n", when(a, sizeof(a), h->vfrom_ns),
            when(b, sizeof(b), h->vto_ns));
    if (!h->nverdicts) {
        fprintf(f, "<p>Nothing grew beyond noise (%zu subjects judged over %zu points).</p>\n",
                h->n_noise, h->vpoints);
        return;
    }
    fprintf(
        f,
        "<p>The recorder's judgement over %zu points (%zu more subjects are noise): a leak "
        "suspect is unreclaimable memory rising steadily through the window.</p>\n"
        "<table class=\"verdicts\"><thead><tr><th>verdict</th><th>what</th><th>first</th>"
        "<th>last</th><th>growth</th><th>per hour (trend)</th><th>until the limit</th></tr></thead>"
        "<tbody>\n",
        h->vpoints, h->n_noise);
    for (size_t i = 0; i < h->nverdicts; i++) {
        const struct kt_hverdict *v = &h->verdicts[i];

        fputs("<tr data-k=\"verdict:", f);
        kt_html_esc_raw(f, v->subject);
        fputc(':', f);
        kt_html_esc_raw(f, v->name);
        fprintf(f, "\" data-verdict=\"%s\" data-growth=\"%" PRId64 "\"><td>%s%s</td><td>",
                v->verdict, v->growth, verdict_words(v->verdict),
                v->stabilised ? " (levelled off)" : "");
        kt_html_esc_raw(f, v->subject);
        fputc(' ', f);
        kt_html_esc_raw(f, v->name);
        fprintf(f, "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s%s%s</td></tr>\n",
                kt_human(c, sizeof(c), v->first), kt_human(d, sizeof(d), v->last),
                kt_human_delta(e, sizeof(e), (double)v->growth),
                kt_human_delta(g, sizeof(g), v->rate_per_hour),
                until(a, sizeof(a), v->hours_to_limit),
                v->limit && v->hours_to_limit >= 0 ? " to " : "",
                v->limit && v->hours_to_limit >= 0 ? hum(b, sizeof(b), v->limit) : "");
    }
    fputs("</tbody></table>\n", f);
}

/* Each OOM kill: where, and what the cgroup held then. */
static void oom_table(FILE *f, const struct kt_hseries *h)
{
    char a[64], b[32], c[32], d[32];

    if (!h->nooms)
        return;
    fputs("<h3>OOM kills</h3>\n<table class=\"ooms\"><thead><tr><th>time</th><th>where</th>"
          "<th>kills</th><th>usage</th><th>limit</th><th>kernel</th><th>kernel made of</th></tr>"
          "</thead><tbody>\n",
          f);
    for (size_t i = 0; i < h->nooms; i++) {
        const struct kt_hoom *o = &h->ooms[i];

        fprintf(f, "<tr data-oom-t=\"%" PRIu64 "\"><td>%s</td><td>", o->t_ns,
                when(a, sizeof(a), o->t_ns));
        kt_html_esc_raw(f, *o->pod ? o->pod : o->cgroup);
        fprintf(f, "</td><td>%" PRIu64 "</td><td>%s</td><td>%s</td><td>%s</td><td>", o->kills,
                hum(b, sizeof(b), o->usage), o->limit ? hum(c, sizeof(c), o->limit) : "none",
                hum(d, sizeof(d), o->kernel));
        for (int k = 0, first = 1; k < KMEM_CG_KIND_COUNT; k++)
            if ((o->comp_present & (UINT32_C(1) << k)) && o->comp[k]) {
                fprintf(f, "%s%s %s", first ? "" : ", ", kmem_cg_kind_name[k],
                        hum(b, sizeof(b), o->comp[k]));
                first = 0;
            }
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

void kt_html_history(FILE *f, const struct kt_hseries *h, const char *source)
{
    bool used[KMEM_NODE_KIND_COUNT] = {false};
    size_t ooms = 0;
    char a[64], b[64], c[32], d[32], e[32];

    if (!h->n)
        return;
    for (size_t s = 0; s < h->n; s++) {
        ooms += h->oom[s];
        for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++)
            used[k] |= h->kind[s * KMEM_NODE_KIND_COUNT + k] != 0;
    }
    fputs("<section id=\"growth\">\n<h2>Growth over the recording</h2>\n<p>", f);
    kt_html_esc_raw(f, source);
    fprintf(f, ": %zu samples from %s to %s; kernel memory %s → %s (%s)", h->n,
            when(a, sizeof(a), h->t_ns[0]), when(b, sizeof(b), h->t_ns[h->n - 1]),
            hum(c, sizeof(c), kernel_at(h, 0)), hum(d, sizeof(d), kernel_at(h, h->n - 1)),
            kt_human_delta(e, sizeof(e),
                           (double)kmem_sub_signed(kernel_at(h, h->n - 1), kernel_at(h, 0))));
    if (h->nooms)
        fprintf(f, "; %zu OOM kill%s.</p>\n", h->nooms, h->nooms == 1 ? "" : "s");
    else
        fprintf(f, "; %zu sample%s taken at an OOM kill.</p>\n", ooms, ooms == 1 ? "" : "s");
    fputs("<ul class=\"legend\" aria-label=\"colours\">", f);
    for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++)
        if (used[k])
            fprintf(f, "<li><span class=\"sw\" style=\"background:#%06x\"></span>%s</li>",
                    kt_html_rgb(kt_html_kind_colour(k)), kt_html_kind_words(k));
    fputs("<li><span class=\"sw oomsw\"></span>OOM kill</li></ul>\n", f);
    chart(f, h, used);
    if (ooms && !h->nooms) {
        fputs("<p>OOM kills (a sample was taken when a cgroup's oom_kill count rose): ", f);
        for (size_t s = 0, i = 0; s < h->n; s++)
            if (h->oom[s])
                fprintf(f, "%s%s", i++ ? ", " : "", when(a, sizeof(a), h->t_ns[s]));
        fputs(".</p>\n", f);
    }
    verdict_table(f, h);
    oom_table(f, h);
    top_table(f, h, false);
    top_table(f, h, true);
    sample_table(f, h, used);
    fputs("</section>\n", f);
}
