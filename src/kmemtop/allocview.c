/* SPDX-License-Identifier: MIT */
/*
 * Who allocates: `kmemtop --alloc SECONDS` (one table, or --json one
 * document) and the interactive "allocations" view, from the BPF tracer of
 * libkmem (alloc.h). The tracer is loaded only here, so kmemtop starts and
 * every other view works without BPF.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "allocview.h"
#include "jsonw.h"
#include "sort.h"

/* ---- names and sorting ---- */

static const char *entry_name(char *buf, size_t len, const struct kmem_alloc_entry *e)
{
    size_t o = 0;
    int n;

    if (*e->pod_name)
        n = *e->container_name
                ? snprintf(buf, len, "%s/%s/%s", e->namespace_name, e->pod_name, e->container_name)
                : snprintf(buf, len, "%s/%s", e->namespace_name, e->pod_name);
    else
        n = snprintf(buf, len, "%s", e->cgroup);
    if (n > 0 && e->removed)
        snprintf(buf + (size_t)n < buf + len ? buf + n : buf + len - 1,
                 (size_t)n < len ? len - (size_t)n : 1, " (removed)");
    /* No terminal escapes from cgroup or cache names. */
    for (o = 0; buf[o]; o++)
        if ((unsigned char)buf[o] < 0x20 || buf[o] == 0x7f)
            buf[o] = '?';
    return buf;
}

/* Its frees are short on this kernel: kfree_rcu() of a cache with slab sheaves
 * reaches no tracepoint, and kvfree_call_rcu() is not followed. */
static bool frees_short(const struct kmem_alloc_table *t, const struct kmem_alloc_entry *e)
{
    return e->sheaves && t->mode != KMEM_ALLOC_RATES && !(t->tracking && t->bulk_traced);
}

static const char *acct_cell(const struct kmem_alloc_entry *e)
{
    if (e->allocs == 0)
        return "-";
    if (e->acc_allocs == e->allocs)
        return "yes";
    return e->acc_allocs ? "part" : "no";
}

struct row {
    const struct kmem_alloc_entry *e;
    int64_t net;
    int64_t change; /* net change since the previous read */
    double arate;   /* allocations per second since the previous read */
    double frate;   /* frees per second */
    bool has_prev;
    bool short_frees; /* frees_short(): marked ~ */
};

static int cmp_row_common(const struct row *a, const struct row *b)
{
    int c;

    if (a->net != b->net)
        return a->net > b->net ? -1 : 1;
    if (a->e->allocs != b->e->allocs)
        return a->e->allocs > b->e->allocs ? -1 : 1;
    c = strcmp(a->e->cgroup, b->e->cgroup);
    return c ? c : strcmp(a->e->cache, b->e->cache);
}

static int cmp_row_net(const void *pa, const void *pb)
{
    return cmp_row_common(pa, pb);
}

static int cmp_row_change(const void *pa, const void *pb)
{
    const struct row *a = pa, *b = pb;

    if (a->change != b->change)
        return a->change > b->change ? -1 : 1;
    return cmp_row_common(a, b);
}

static int cmp_row_rate(const void *pa, const void *pb)
{
    const struct row *a = pa, *b = pb;

    if (a->arate != b->arate)
        return a->arate > b->arate ? -1 : 1;
    return cmp_row_common(a, b);
}

/* The entry of @prev with @e's (cgroup, cache): tables are sorted by kmem_alloc_entry_cmp(). */
static const struct kmem_alloc_entry *find_prev(const struct kmem_alloc_table *prev,
                                                const struct kmem_alloc_entry *e)
{
    size_t lo = 0, hi = prev ? prev->n : 0;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct kmem_alloc_entry *p = &prev->v[mid];
        int c = kmem_alloc_entry_cmp(p->cgid, p->cache, e->cgid, e->cache);

        if (c == 0)
            return p;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Rows of every traced cgroup (not the frees of older objects), sorted. */
static struct row *make_rows(const struct kmem_alloc_table *t, const struct kmem_alloc_table *prev,
                             char sort, size_t *n)
{
    struct row *r = malloc((t->n ? t->n : 1) * sizeof(*r));
    double dt = prev ? t->seconds - prev->seconds : 0;

    *n = 0;
    if (!r)
        return NULL;
    for (size_t i = 0; i < t->n; i++) {
        const struct kmem_alloc_entry *e = &t->v[i], *p;
        struct row *w;

        if (e->cgid == KMEM_ALLOC_CGID_UNTRACKED)
            continue;
        w = &r[(*n)++];
        memset(w, 0, sizeof(*w));
        w->e = e;
        w->net = kmem_alloc_net(e);
        w->short_frees = frees_short(t, e);
        p = prev ? find_prev(prev, e) : NULL;
        w->has_prev = prev != NULL;
        w->change = w->net - (p ? kmem_alloc_net(p) : 0);
        if (dt > 0) {
            w->arate = (double)(e->allocs - (p ? p->allocs : 0)) / dt;
            w->frate = (double)(e->frees - (p ? p->frees : 0)) / dt;
        }
    }
    kmem_sort(r, *n, sizeof(*r),
              sort == 'c'   ? cmp_row_change
              : sort == 'r' ? cmp_row_rate
                            : cmp_row_net);
    return r;
}

/* Frees of objects allocated before the trace (not charged to anyone). */
static void untracked_sum(const struct kmem_alloc_table *t, uint64_t *objs, uint64_t *bytes)
{
    *objs = *bytes = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].cgid == KMEM_ALLOC_CGID_UNTRACKED) {
            *objs += t->v[i].frees;
            *bytes += t->v[i].bytes_freed;
        }
}

/* One line of the summary: on a screen, wrapped at its width. */
__attribute__((format(printf, 2, 3))) static bool sum_line(struct kt_sink *s, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return kt_line_wrap(s, KT_NORMAL, buf);
}

static bool render_summary(struct kt_sink *s, const struct kmem_alloc_table *t, uint64_t live,
                           bool live_known)
{
    uint64_t uo, ub;
    char b1[32];

    bool short_frees = false;

    for (size_t i = 0; i < t->n && !short_frees; i++)
        short_frees = frees_short(t, &t->v[i]);
    if (t->mode == KMEM_ALLOC_RATES)
        return sum_line(s,
                        "rates, one window of %.1f s: %" PRIu64
                        " allocations counted%s (%s; no frees: NET is what was allocated)",
                        t->seconds, t->events, t->dropped || t->missed ? "" : ", none lost",
                        t->charged_only ? "charged allocations only, from the memcg charge hook"
                                        : "every allocation, from the tracepoints");
    if (!sum_line(s, "traced %.1f s, %s: %" PRIu64 " allocations and frees counted%s", t->seconds,
                  t->tracking ? "live objects tracked (frees credited to the allocating cgroup)"
                              : "counts only (frees credited to the freeing task's cgroup)",
                  t->events, t->dropped || t->missed ? "" : ", none lost"))
        return false;
    if (short_frees && !sum_line(s, "  caches marked ~ have slab sheaves: their kfree_rcu() frees "
                                    "reach no tracepoint on this kernel (FREES short, NET "
                                    "overstated)"))
        return false;
    if (t->dropped &&
        !sum_line(s, "  %" PRIu64 " events lost: the (cgroup, cache) table was full (--alloc-keys)",
                  t->dropped))
        return false;
    if (t->missed && !sum_line(s,
                               "  %" PRIu64 " events missed: an interrupt's allocation or free "
                               "while the tracer ran on that CPU",
                               t->missed))
        return false;
    if (t->not_tracked && !sum_line(s,
                                    "  %" PRIu64 " allocations not followed (the live-object "
                                    "table was full: --alloc-objects); not in NET",
                                    t->not_tracked))
        return false;
    if (!t->bulk_traced &&
        !sum_line(s,
                  "  bulk frees and kfree_rcu() are not traced on this kernel (no fentry): "
                  "%s",
                  t->tracking ? "such a free is credited when its address is reused"
                              : "their frees are missing"))
        return false;
    if (!t->tracking)
        return true;
    untracked_sum(t, &uo, &ub);
    if (!sum_line(s,
                  "  frees of objects allocated before the trace: %" PRIu64 " (%s, not in the "
                  "table); frees seen only at address reuse: %" PRIu64,
                  uo, kt_human(b1, sizeof(b1), (double)ub), t->reused))
        return false;
    if (live_known && !sum_line(s, "  objects allocated and still live: %" PRIu64, live))
        return false;
    return true;
}

/* ---- the screen's table ---- */

enum alloc_col { AC_NET, AC_CHANGE, AC_OBJECTS, AC_ARATE, AC_FRATE, AC_ACCT, AC_COUNT };

/* By priority for a narrow screen: growth, then who is charged, then rates. */
static const struct kt_col alloc_cols[AC_COUNT] = {
    [AC_NET] = {"NET", 8, 0, false},         [AC_CHANGE] = {"CHANGE", 8, 1, false},
    [AC_OBJECTS] = {"OBJECTS", 9, 4, false}, [AC_ARATE] = {"ALLOC/s", 9, 3, false},
    [AC_FRATE] = {"FREE/s", 9, 5, false},    [AC_ACCT] = {"ACCT", 4, 2, false},
};

#define ALLOC_NAME_COLS  32 /* longer names do not take columns away: their end is shown */
#define ALLOC_CACHE_COLS 22

/* What the screen adds to the table: a filter and a scrolled window (both may be NULL). */
struct alloc_screen {
    const char *filter;
    struct kt_scroll *scroll;
};

static void alloc_cell(const struct row *r, enum alloc_col c, char *buf, size_t len)
{
    buf[0] = '\0';
    switch (c) {
    case AC_NET:
        kt_human_delta(buf, len, (double)r->net);
        break;
    case AC_CHANGE:
        if (r->has_prev)
            kt_human_delta(buf, len, (double)r->change);
        break;
    case AC_OBJECTS:
        snprintf(buf, len, "%" PRId64, kmem_alloc_net_objects(r->e));
        break;
    case AC_ARATE: /* rates need a previous read */
        if (r->has_prev)
            snprintf(buf, len, "%.0f", r->arate);
        break;
    case AC_FRATE:
        if (r->has_prev)
            snprintf(buf, len, "%.0f", r->frate);
        break;
    case AC_ACCT:
        snprintf(buf, len, "%s", acct_cell(r->e));
        break;
    case AC_COUNT:
        break;
    }
}

/*
 * The rows on a screen: the columns that fit its width, whole cache names,
 * the cgroup or pod name cut at its start when it is too long, the rows
 * that match the filter (cache or name), a scrolled window with "N more".
 */
static void render_screen(struct kt_sink *s, const struct row *r, size_t n,
                          const struct alloc_screen *scr)
{
    const char *filter = scr ? scr->filter : NULL;
    size_t *idx = malloc((n ? n : 1) * sizeof(*idx)), m = 0, cache_cols = 5, name_cols = 6;
    char name[4096], shown[4096], line[8192], head[128];
    uint32_t mask;
    struct kt_window w;
    int room;

    if (!idx) {
        kt_line(s, KT_NORMAL, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        size_t cw = kt_text_width(r[i].e->cache), nw;

        kt_printable(name, sizeof(name), entry_name(shown, sizeof(shown), r[i].e), KT_ESC_QMARK);
        if (filter && *filter && !kt_match(r[i].e->cache, filter) && !kt_match(name, filter))
            continue;
        idx[m++] = i;
        nw = kt_text_width(name);
        cache_cols = cw > cache_cols ? cw : cache_cols;
        name_cols = nw > name_cols ? nw : name_cols;
    }
    cache_cols = cache_cols < ALLOC_CACHE_COLS ? cache_cols : ALLOC_CACHE_COLS;
    mask = kt_cols_fit(
        alloc_cols, AC_COUNT, (UINT32_C(1) << AC_COUNT) - 1, s->width,
        (int)(cache_cols + 1 + (name_cols < ALLOC_NAME_COLS ? name_cols : ALLOC_NAME_COLS)));
    if (filter && *filter) {
        kt_printable(shown, sizeof(shown), filter, KT_ESC_QMARK);
        if (!kt_line(s, KT_NORMAL, "filter \"%s\": %zu of %zu rows", shown, m, n))
            goto out;
    }
    kt_heading(line, sizeof(line), alloc_cols, AC_COUNT, mask, "");
    room = s->width > 0 ? s->width - (int)strlen(line) - (int)cache_cols - 1 : INT32_MAX;
    snprintf(head, sizeof(head), "%-*s %s", (int)cache_cols, "CACHE",
             room >= 33 ? "CGROUP or NAMESPACE/POD/CONTAINER" : "CGROUP or POD");
    if (!kt_line(s, KT_HEADING, "%s%s", line, head))
        goto out;
    w = kt_window_fit(s, m, scr ? scr->scroll : NULL, false);
    for (size_t k = w.first; k < w.first + w.count; k++) {
        const struct row *row = &r[idx[k]];
        size_t pos = 0;
        char cell[64], cache[ALLOC_CACHE_COLS * 4 + 1];

        for (int c = 0; c < AC_COUNT; c++) {
            if (!(mask & (UINT32_C(1) << c)))
                continue;
            alloc_cell(row, (enum alloc_col)c, cell, sizeof(cell));
            kt_cell(line, sizeof(line), &pos, &alloc_cols[c], cell);
        }
        kt_printable(cache, sizeof(cache), row->e->cache, KT_ESC_QMARK);
        if (row->short_frees && strlen(cache) + 1 < sizeof(cache)) {
            size_t cl = strlen(cache) < cache_cols ? strlen(cache) : cache_cols - 1;

            cache[cl] = '~';
            cache[cl + 1] = '\0';
        }
        kt_printable(name, sizeof(name), entry_name(shown, sizeof(shown), row->e), KT_ESC_QMARK);
        room = s->width > 0 ? s->width - (int)pos - (int)cache_cols - 1 : 0;
        if (room > 0 && kt_text_width(name) > (size_t)room)
            kt_fit_tail(shown, sizeof(shown), name, room); /* paths differ at their end */
        else
            snprintf(shown, sizeof(shown), "%s", name);
        snprintf(line + pos, sizeof(line) - pos, "%-*.*s %s", (int)cache_cols, (int)cache_cols,
                 cache, shown);
        if (!kt_line(s, KT_NORMAL, "%s", line))
            break;
    }
    kt_window_footer(s, &w);
out:
    free(idx);
}

static void alloc_render(struct kt_sink *s, const struct kmem_alloc_table *t,
                         const struct kmem_alloc_table *prev, char sort, bool interactive,
                         const uint64_t *live, const struct alloc_screen *scr)
{
    size_t n;
    struct row *r = make_rows(t, prev, sort, &n);

    if (!r) {
        kt_line(s, KT_NORMAL, "out of memory");
        return;
    }
    if (!render_summary(s, t, live ? *live : 0, live != NULL))
        goto out;
    if (interactive) {
        render_screen(s, r, n, scr);
        goto out;
    }
    if (!kt_line(s, KT_HEADING, "%8s %9s %10s %10s %9s %7s %4s %-22s %s", "NET", "OBJECTS",
                 "ALLOCS", "FREES", "ALLOCATED", "OBJSIZE", "ACCT", "CACHE",
                 "CGROUP or NAMESPACE/POD/CONTAINER"))
        goto out;
    for (size_t i = 0; i < n; i++) {
        const struct kmem_alloc_entry *e = r[i].e;
        char net[32], al[32], name[4096], cache[256];

        kt_human_delta(net, sizeof(net), (double)r[i].net);
        entry_name(name, sizeof(name), e);
        snprintf(cache, sizeof(cache), "%s%s", e->cache, r[i].short_frees ? "~" : "");
        if (!kt_line(s, KT_NORMAL,
                     "%8s %9" PRId64 " %10" PRIu64 " %10" PRIu64 " %9s %7" PRIu32 " %4s %-22s %s",
                     net, kmem_alloc_net_objects(e), e->allocs, e->frees,
                     kt_human(al, sizeof(al), (double)e->bytes_alloc), e->objsize, acct_cell(e),
                     cache, name))
            break;
    }
out:
    free(r);
}

void kt_alloc_render(struct kt_sink *s, const struct kmem_alloc_table *t,
                     const struct kmem_alloc_table *prev, char sort, bool interactive,
                     const uint64_t *live)
{
    alloc_render(s, t, prev, sort, interactive, live, NULL);
}

void kt_alloc_screen(struct kt_sink *s, const struct kmem_alloc_table *t,
                     const struct kmem_alloc_table *prev, char sort, const char *filter,
                     struct kt_scroll *scroll)
{
    struct alloc_screen scr = {.filter = filter, .scroll = scroll};

    alloc_render(s, t, prev, sort, true, NULL, &scr);
}

/* ---- JSON (docs/alloc.md), through the common JSON writer ---- */

/* --alloc-check: the traced net of one cache against /proc/slabinfo's change. */
static void check_json(struct kmem_jw *w, const struct kmem_alloc_check *c)
{
    kmem_jw_obj(w, "kernel_check");
    kmem_jw_str(w, "cache", c->cache);
    kmem_jw_u64(w, "slabinfo_active_start", c->active[0]);
    kmem_jw_u64(w, "slabinfo_active_end", c->active[1]);
    kmem_jw_i64(w, "slabinfo_change", (int64_t)(c->active[1] - c->active[0]));
    kmem_jw_i64(w, "traced_net", c->net[1] - c->net[0]);
    kmem_jw_u64(w, "in_flight", c->in_flight);
    kmem_jw_u64(w, "objects_per_slab", c->objperslab);
    kmem_jw_obj_end(w);
}

static int alloc_json(FILE *f, const struct kmem_alloc_table *t, uint64_t live, uint64_t map_bytes,
                      const char *layout, const struct kmem_alloc_check *chk)
{
    size_t n;
    struct row *r = make_rows(t, NULL, 'n', &n);
    struct kmem_jw w = {.f = f};

    if (!r)
        return -ENOMEM;
    kmem_jw_obj(&w, NULL);
    kmem_jw_str(&w, "version", KMEM_VERSION);
    kmem_jw_key(&w, "seconds");
    fprintf(f, "%.3f", t->seconds);
    kmem_jw_bool(&w, "tracking", t->tracking);
    kmem_jw_str(&w, "mode",
                t->mode == KMEM_ALLOC_RATES    ? "rates"
                : t->mode == KMEM_ALLOC_COUNTS ? "counts"
                                               : "track");
    kmem_jw_bool(&w, "charged_only", t->charged_only);
    kmem_jw_bool(&w, "kfree_named", t->kfree_named);
    kmem_jw_str(&w, "fentry_error", t->fentry_error ? t->fentry_error : "");
    kmem_jw_str(&w, "cgroup_layout", layout);
    kmem_jw_u64(&w, "events", t->events);
    kmem_jw_u64(&w, "events_lost", t->dropped);
    kmem_jw_u64(&w, "frees_seen_at_reuse", t->reused);
    kmem_jw_u64(&w, "events_missed", t->missed);
    kmem_jw_u64(&w, "not_tracked", t->not_tracked);
    kmem_jw_bool(&w, "bulk_traced", t->bulk_traced);
    if (t->tracking)
        kmem_jw_u64(&w, "live_objects", live);
    kmem_jw_u64(&w, "bpf_map_bytes", map_bytes);
    if (chk)
        check_json(&w, chk);
    kmem_jw_arr(&w, "entries");
    for (size_t i = 0; i < n; i++) {
        const struct kmem_alloc_entry *e = r[i].e;

        kmem_jw_obj(&w, NULL);
        kmem_jw_str(&w, "cgroup", e->cgroup);
        kmem_jw_u64(&w, "cgroup_id", e->cgid);
        kmem_jw_bool(&w, "removed", e->removed);
        kmem_jw_str_or_null(&w, "namespace", e->namespace_name);
        kmem_jw_str_or_null(&w, "pod", e->pod_name);
        kmem_jw_str_or_null(&w, "container", e->container_name);
        kmem_jw_str(&w, "cache", e->cache);
        kmem_jw_u64(&w, "object_size", e->objsize);
        kmem_jw_u64(&w, "allocs", e->allocs);
        kmem_jw_u64(&w, "frees", e->frees);
        kmem_jw_u64(&w, "bytes_allocated", e->bytes_alloc);
        kmem_jw_u64(&w, "bytes_freed", e->bytes_freed);
        kmem_jw_i64(&w, "net_bytes", r[i].net);
        kmem_jw_i64(&w, "net_objects", kmem_alloc_net_objects(e));
        kmem_jw_bool(&w, "accounted", e->allocs && e->acc_allocs == e->allocs);
        kmem_jw_u64(&w, "accounted_allocs", e->acc_allocs);
        kmem_jw_u64(&w, "accounted_bytes", e->acc_bytes);
        kmem_jw_u64(&w, "not_followed", e->nf_allocs);
        kmem_jw_bool(&w, "sheaves", e->sheaves);
        kmem_jw_bool(&w, "frees_short", r[i].short_frees);
        kmem_jw_obj_end(&w);
    }
    kmem_jw_arr_end(&w);
    kmem_jw_arr(&w, "untracked_frees");
    for (size_t i = 0; i < t->n; i++) {
        const struct kmem_alloc_entry *e = &t->v[i];

        if (e->cgid != KMEM_ALLOC_CGID_UNTRACKED)
            continue;
        kmem_jw_obj(&w, NULL);
        kmem_jw_str(&w, "cache", e->cache);
        kmem_jw_u64(&w, "frees", e->frees);
        kmem_jw_u64(&w, "bytes_freed", e->bytes_freed);
        kmem_jw_obj_end(&w);
    }
    kmem_jw_arr_end(&w);
    kmem_jw_obj_end(&w);
    fputc('\n', f);
    free(r);
    return ferror(f) ? -EIO : 0;
}

/* ---- kmemtop --alloc SECONDS ---- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static struct kmem_alloc_opts tracer_opts(const struct kt_opts *o)
{
    struct kmem_alloc_opts ao = {
        .counts_only = o->alloc_counts,
        .mode = o->alloc_rates ? KMEM_ALLOC_RATES : KMEM_ALLOC_TRACK,
        .max_keys = o->alloc_keys,
        .max_objects = o->alloc_objects,
    };
    return ao;
}

/* Collect the cgroups and name the table's entries; a failure only leaves ids. */
static void resolve(struct kmem_alloc *a, struct kmem_ctx *ctx, struct kmem_alloc_table *t,
                    const struct kt_opts *o, bool warn)
{
    const struct kmem_snapshot *snap;

    kmem_collect(ctx, KMEM_COLLECT_CGROUPS);
    snap = kmem_current(ctx);
    if (warn && snap->status[KMEM_PART_CGROUPS].err)
        fprintf(stderr, "%s: warning: cgroups shown by id: %s\n", o->prog,
                snap->status[KMEM_PART_CGROUPS].msg);
    if (kmem_alloc_resolve(a, ctx, snap, t))
        fprintf(stderr, "%s: warning: out of memory naming cgroups\n", o->prog);
}

int kt_alloc_once(struct kmem_ctx *ctx, const struct kt_opts *o)
{
    struct kmem_alloc_opts ao = tracer_opts(o);
    struct kmem_alloc_table t = {0};
    struct kmem_alloc_check chk = {.cache = o->alloc_check};
    struct kmem_alloc *a;
    struct sigaction sa;
    struct timespec end, now;
    uint64_t live = 0;
    char err[512];
    int rc;

    if (o->alloc_check && (o->alloc_rates || o->alloc_counts)) {
        fprintf(stderr, "%s: --alloc-check needs the tracker (not --alloc-rates, --alloc-counts)\n",
                o->prog);
        return EXIT_FAILURE;
    }
    rc = kmem_alloc_open(&a, &ao, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "%s: --alloc: %s\n", o->prog, err);
        return EXIT_FAILURE;
    }
    /* First thing once attached: the kernel's count at the start of the trace. */
    if (o->alloc_check && kmem_alloc_check_mark(a, "/proc/slabinfo", &chk, false)) {
        fprintf(stderr, "%s: --alloc-check: %s\n", o->prog, kmem_alloc_strerror(a));
        kmem_alloc_close(a);
        return EXIT_FAILURE;
    }
    /* Names of the cgroups that exist now, in case they are removed before the end. */
    resolve(a, ctx, &t, o, false);
    if (o->alloc_rates && kmem_alloc_window_start(a)) {
        fprintf(stderr, "%s: --alloc: %s\n", o->prog, kmem_alloc_strerror(a));
        kmem_alloc_close(a);
        return EXIT_FAILURE;
    }
    fprintf(stderr, "%s: tracing slab allocations for %g s (Ctrl-C stops early)\n", o->prog,
            o->alloc_seconds);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += (time_t)o->alloc_seconds;
    end.tv_nsec += (long)((o->alloc_seconds - (double)(time_t)o->alloc_seconds) * 1e9);
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    /* Sleep in short steps: SIGINT / SIGTERM stop the trace early, and it is reported. */
    while (!stop) {
        struct timespec step = {0, 100 * 1000000L};

        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
            break;
        nanosleep(&step, NULL);
    }
    if (o->alloc_check && kmem_alloc_check_mark(a, "/proc/slabinfo", &chk, true)) {
        fprintf(stderr, "%s: --alloc-check: %s\n", o->prog, kmem_alloc_strerror(a));
        rc = -1;
        goto out;
    }
    rc = o->alloc_rates ? kmem_alloc_window_stop(a, &t) : kmem_alloc_read(a, &t);
    if (rc) {
        fprintf(stderr, "%s: --alloc: %s\n", o->prog, kmem_alloc_strerror(a));
        goto out;
    }
    if (t.tracking && kmem_alloc_live_objects(a, &live))
        fprintf(stderr, "%s: warning: %s\n", o->prog, kmem_alloc_strerror(a));
    resolve(a, ctx, &t, o, true);
    if (o->json) {
        const struct kmem_cgroups *cgs = &kmem_current(ctx)->cgroups;
        const char *layout =
            (unsigned)cgs->layout <= KMEM_CG_HYBRID ? kmem_cg_layout_name[cgs->layout] : "none";

        rc = alloc_json(stdout, &t, live, kmem_alloc_map_bytes(a), layout,
                        o->alloc_check ? &chk : NULL);
    } else {
        struct kt_sink sink;

        kt_sink_file(&sink, stdout);
        kt_alloc_render(&sink, &t, NULL, 'n', false, t.tracking ? &live : NULL);
        if (o->alloc_check)
            printf("check: %s: traced net %+lld objects (every cgroup); /proc/slabinfo active "
                   "%llu -> %llu (%+lld); events during the reads %llu\n",
                   chk.cache, (long long)(chk.net[1] - chk.net[0]),
                   (unsigned long long)chk.active[0], (unsigned long long)chk.active[1],
                   (long long)(chk.active[1] - chk.active[0]), (unsigned long long)chk.in_flight);
        rc = 0;
    }
out:
    kmem_alloc_table_free(&t);
    kmem_alloc_close(a);
    return rc ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* ---- the interactive view ---- */

struct kt_allocview {
    struct kmem_alloc *a; /* NULL: not running */
    struct kmem_alloc_table cur, prev;
    bool have_cur, have_prev;
    bool failed; /* the tracer could not start: msg says why (not retried) */
    char msg[512];
};

struct kt_allocview *kt_allocview_new(void)
{
    return calloc(1, sizeof(struct kt_allocview));
}

void kt_allocview_leave(struct kt_allocview *v)
{
    if (!v)
        return;
    kmem_alloc_close(v->a);
    v->a = NULL;
    kmem_alloc_table_free(&v->cur);
    kmem_alloc_table_free(&v->prev);
    v->have_cur = v->have_prev = false;
}

void kt_allocview_free(struct kt_allocview *v)
{
    kt_allocview_leave(v);
    free(v);
}

void kt_allocview_enter(struct kt_allocview *v, const struct kt_opts *o)
{
    struct kmem_alloc_opts ao = tracer_opts(o);

    if (!v || v->a || v->failed)
        return;
    if (kmem_alloc_open(&v->a, &ao, v->msg, sizeof(v->msg)))
        v->failed = true;
}

void kt_allocview_refresh(struct kt_allocview *v, struct kmem_ctx *ctx)
{
    struct kmem_alloc_table tmp;

    if (!v || !v->a)
        return;
    /* The previous read becomes prev; its storage is reused for the new one. */
    tmp = v->prev;
    v->prev = v->cur;
    v->have_prev = v->have_cur;
    v->cur = tmp;
    if (kmem_alloc_read(v->a, &v->cur)) {
        snprintf(v->msg, sizeof(v->msg), "%s", kmem_alloc_strerror(v->a));
        v->have_cur = false;
        return;
    }
    kmem_alloc_resolve(v->a, ctx, kmem_current(ctx), &v->cur);
    v->have_cur = true;
}

void kt_allocview_draw(struct kt_allocview *v, struct kt_sink *s, char sort, const char *filter,
                       struct kt_scroll *scroll)
{

    if (!v) {
        kt_line(s, KT_NORMAL, "out of memory");
        return;
    }
    if (v->failed) {
        kt_line(s, KT_NORMAL, "Allocations: %s", v->msg);
        kt_line(s, KT_NORMAL, "(every other view works without BPF)");
        return;
    }
    if (!v->have_cur) {
        kt_line(s, KT_NORMAL, "Allocations: tracing started; first figures at the next refresh");
        return;
    }
    kt_alloc_screen(s, &v->cur, v->have_prev ? &v->prev : NULL, sort, filter, scroll);
}
