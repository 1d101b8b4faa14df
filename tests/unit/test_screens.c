/* SPDX-License-Identifier: MIT */
/*
 * kmemtop's screens without a terminal: the growth history (baseline, rate
 * window, reset), the column fitting and the list window, the slab screen
 * at several widths and heights, and the cgroup tree (order, pod names,
 * folding, filter).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kmem.h"
#include "../../src/kmemtop/views.h"
#include "../../src/kmemtop/allocview.h"
#include "textcheck.h"

/* ---- a screen-like sink: @rows lines of @width columns ------------------ */

struct screen {
    struct kt_sink s;
    char *buf;
    size_t len;
    FILE *f;
};

KMEM_PRINTF(3, 0)
static bool screen_line(struct kt_sink *s, enum kt_attr attr, const char *fmt, va_list ap)
{
    (void)attr;
    if (s->rows_left == 0)
        return false;
    vfprintf(s->f, fmt, ap);
    fputc('\n', s->f);
    if (s->rows_left > 0)
        s->rows_left--;
    return s->rows_left != 0;
}

static void screen_open(struct screen *sc, int width, int rows)
{
    memset(sc, 0, sizeof(*sc));
    sc->f = open_memstream(&sc->buf, &sc->len);
    assert_non_null(sc->f);
    sc->s = (struct kt_sink){.line = screen_line, .width = width, .rows_left = rows, .f = sc->f};
}

static char *screen_close(struct screen *sc)
{
    fclose(sc->f);
    return sc->buf;
}

/* ---- snapshots ------------------------------------------------------------ */

#define NSLAB 30

static struct kmem_slab slab_v[NSLAB];

/* Cache i: "cache-NN", 10 * (i + 1) one-page slabs of 4 objects (bytes = slabs x page). */
static void make_slabs(struct kmem_snapshot *s, size_t n, double t)
{
    memset(s, 0, sizeof(*s));
    s->flags = KMEM_COLLECT_ALL;
    s->when.tv_sec = (time_t)t;
    s->when.tv_nsec = (long)((t - (double)(time_t)t) * 1e9);
    for (size_t i = 0; i < n; i++) {
        struct kmem_slab *c = &slab_v[i];

        memset(c, 0, sizeof(*c));
        snprintf(c->name, sizeof(c->name), "cache-%02zu", i);
        c->num_slabs = c->active_slabs = 10 * (i + 1);
        c->objperslab = 4;
        c->num_objs = c->active_objs = 4 * c->num_slabs;
        c->objsize = 1024;
        c->pagesperslab = 1;
        c->has_prev = true; /* unchanged since a previous refresh */
    }
    s->slab.n = n;
    s->slab.v = slab_v;
    kmem_slabinfo_totals(&s->slab, kmem_page_size());
}

static uint64_t page(void)
{
    return kmem_page_size();
}

/* ---- history ---------------------------------------------------------------- */

static void test_history(void **state)
{
    struct kt_history h;
    struct kmem_snapshot s;

    (void)state;
    kt_hist_init(&h, 60);
    make_slabs(&s, 3, 1000);
    assert_int_equal(kt_hist_record(&h, &s), 0);
    /* The first snapshot is the baseline: growth 0, no rate yet. */
    assert_true(h.have_base[KT_HIST_SLAB]);
    assert_true(h.slab[1].has_base);
    assert_int_equal(h.slab[1].base, 0);
    assert_false(h.slab[1].has_rate);

    /* 3 s later, cache 1 grew by 5 slabs: growth, but no rate from 3 s. */
    make_slabs(&s, 3, 1003);
    slab_v[1].num_slabs += 5;
    assert_int_equal(kt_hist_record(&h, &s), 0);
    assert_int_equal(h.slab[1].base, (int64_t)(5 * page()));
    assert_false(h.slab[1].has_rate);

    /* 30 s after the start (a quarter window has passed): a rate per minute. */
    make_slabs(&s, 3, 1030);
    slab_v[1].num_slabs += 10;
    assert_int_equal(kt_hist_record(&h, &s), 0);
    assert_true(h.slab[1].has_rate);
    assert_true(h.slab[1].per_min > 19.9 * (double)page() &&
                h.slab[1].per_min < 20.1 * (double)page());
    assert_int_equal(h.slab[0].base, 0);

    /* A new cache has no baseline; a vanished one is simply absent. */
    make_slabs(&s, 4, 1033);
    slab_v[1].num_slabs += 10;
    assert_int_equal(kt_hist_record(&h, &s), 0);
    assert_false(h.slab[3].has_base);
    assert_true(h.slab[2].has_base);

    /* b: growth restarts at 0, the rate keeps its window. */
    assert_int_equal(kt_hist_reset_base(&h, &s), 0);
    assert_int_equal(h.slab[1].base, 0);
    assert_true(h.slab[3].has_base);
    assert_true(h.slab[1].has_rate);

    /* Long after: the rate looks back about one window, not to the start. */
    for (int t = 1040; t <= 1300; t += 5) {
        make_slabs(&s, 4, t);
        slab_v[1].num_slabs += 10 + (size_t)(t - 1000) / 5; /* +1 slab every 5 s */
        assert_int_equal(kt_hist_record(&h, &s), 0);
    }
    /* 12 slabs a minute, whatever happened before the window. */
    assert_true(h.slab[1].per_min > 11 * (double)page() && h.slab[1].per_min < 13 * (double)page());

    /* A part that failed: no growth for it. */
    s.status[KMEM_PART_SLAB].err = -EACCES;
    assert_int_equal(kt_hist_record(&h, &s), 0);
    assert_false(h.slab[1].has_base);
    kt_hist_free(&h);
}

/* Repeated cache names (the kernel lists some caches twice, e.g. three
 * mlx5_fs_fgs lines): each line's growth and rate are its own, the n-th
 * line against the n-th line of the baseline, never another of its name. */
static void test_history_repeated_names(void **state)
{
    struct kt_history h;
    struct kmem_snapshot s;
    size_t compared = 0;

    (void)state;
    kt_hist_init(&h, 60);
    for (int t = 1000; t <= 1030; t += 15) {
        make_slabs(&s, 4, t);
        for (size_t i = 1; i < 4; i++) { /* lines 1..3 are "dup" #0, #1, #2 */
            snprintf(slab_v[i].name, sizeof(slab_v[i].name), "dup");
            slab_v[i].dup = (unsigned)(i - 1);
        }
        /* line 1 stays, line 2 grows 2 slabs, line 3 grows 7 slabs per 15 s */
        slab_v[2].num_slabs += (size_t)(2 * (t - 1000) / 15);
        slab_v[3].num_slabs += (size_t)(7 * (t - 1000) / 15);
        assert_int_equal(kt_hist_record(&h, &s), 0);
    }
    /* t = 1030: 30 s after the baseline (a half window: rates too). */
    static const int64_t grew[4] = {0, 0, 4, 14};
    for (size_t i = 0; i < 4; i++) {
        assert_true(h.slab[i].has_base);
        assert_int_equal(h.slab[i].base, grew[i] * (int64_t)page());
        assert_true(h.slab[i].has_rate);
        double want = (double)grew[i] * 2 * (double)page(); /* per minute: 30 s x 2 */
        assert_true(h.slab[i].per_min > want - 1 && h.slab[i].per_min < want + 1);
        compared++;
    }
    assert_int_equal(compared, 4);
    kt_hist_free(&h);
}

/* A cgroup (or cache) that appears after the start has a rate from its second
 * sample, over the span it has (marked short), not 60 s later. */
static void test_history_new_entry(void **state)
{
    static struct kmem_cgroup cg[2];
    struct kt_history h;
    struct kmem_snapshot s;
    int rated = 0;

    (void)state;
    kt_hist_init(&h, 60);
    make_slabs(&s, 3, 1000);
    memset(cg, 0, sizeof(cg));
    cg[0].path = "/";
    cg[0].kernel = 1000000;
    s.cgroups.v = cg;
    s.cgroups.n = 1;
    assert_int_equal(kt_hist_record(&h, &s), 0);
    for (int t = 1003; t <= 1030; t += 3) {
        make_slabs(&s, 3, t);
        s.cgroups.v = cg;
        s.cgroups.n = 1;
        assert_int_equal(kt_hist_record(&h, &s), 0);
    }
    /* t = 1033: the cgroup appears with 10 MB; a cache appears too. */
    make_slabs(&s, 4, 1033);
    cg[1].path = "/fleet2-new";
    cg[1].kernel = 10000000;
    s.cgroups.n = 2;
    s.cgroups.v = cg;
    assert_int_equal(kt_hist_record(&h, &s), 0);
    assert_false(h.cg[1].has_rate);
    assert_false(h.cg[1].has_base);
    assert_false(h.slab[3].has_rate);
    /* Its second sample, 3 s later, +1.25 MB: 25 MB/min, marked as over 3 s. */
    make_slabs(&s, 4, 1036);
    slab_v[3].num_slabs += 30;
    cg[1].kernel = 11250000;
    s.cgroups.v = cg;
    s.cgroups.n = 2;
    assert_int_equal(kt_hist_record(&h, &s), 0);
    assert_true(h.cg[1].has_rate);
    assert_true(h.cg[1].short_span);
    assert_true(h.cg[1].per_min > 24.9e6 && h.cg[1].per_min < 25.1e6);
    assert_true(h.slab[3].has_rate);
    assert_true(h.slab[3].short_span);
    assert_true(h.slab[3].per_min > 599 * (double)page() &&
                h.slab[3].per_min < 601 * (double)page());
    /* An old entry keeps its full rate, not marked. */
    assert_true(h.cg[0].has_rate);
    assert_false(h.cg[0].short_span);
    /* Later on the rate spans more of its samples, then the whole window. */
    for (int t = 1039; t <= 1120; t += 3) {
        make_slabs(&s, 4, t);
        cg[1].kernel += 1250000;
        s.cgroups.v = cg;
        s.cgroups.n = 2;
        assert_int_equal(kt_hist_record(&h, &s), 0);
        assert_true(h.cg[1].has_rate);
        assert_true(h.cg[1].per_min > 24.9e6 && h.cg[1].per_min < 25.1e6);
        rated++;
    }
    assert_int_equal(rated, 28);
    assert_false(h.cg[1].short_span);
    {
        /* On screen a short-span rate is marked "~" (the legend says why). */
        struct kt_grow g = {.has_rate = true, .short_span = true, .per_min = 25e6};
        char cell[16];

        kt_growth_cell(cell, sizeof(cell), KT_COL_RATE, true, 0, true, &g);
        assert_true(cell[0] == '~' && strlen(cell) <= 8);
        g.short_span = false;
        kt_growth_cell(cell, sizeof(cell), KT_COL_RATE, true, 0, true, &g);
        assert_true(cell[0] == '+' && strlen(cell) <= 8);
    }
    kt_hist_free(&h);
}

/* ---- table helpers ---------------------------------------------------------- */

static void test_cols_fit(void **state)
{
    static const struct kt_col c[] = {
        {"A", 8, 0, false},
        {"B", 8, 2, false},
        {"C", 8, 1, false},
        {"D", 8, 3, true},
    };
    static const struct {
        uint32_t avail;
        int width, name;
        uint32_t want;
    } t[] = {
        {0xf, 0, 0, 0x7},   /* no width: all but the wide ones */
        {0xf, 80, 20, 0xf}, /* room for every column */
        {0xf, 40, 20, 0x5}, /* A and C (priorities 0 and 1) */
        {0xf, 30, 20, 0x1}, /* only A */
        {0xf, 10, 20, 0x1}, /* priority 0 even without room */
        {0xe, 40, 20, 0x6}, /* A not available: C, then B */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        assert_int_equal(kt_cols_fit(c, 4, t[i].avail, t[i].width, t[i].name), t[i].want);
}

static void test_window(void **state)
{
    static const struct {
        size_t n;
        int rows;
        size_t top, cur;
        bool cursor;
        size_t first, count, below, new_top;
    } t[] = {
        {5, 10, 3, 0, false, 0, 5, 0, 0},      /* fits: from the top */
        {50, 10, 0, 0, false, 0, 9, 41, 0},    /* one line kept for "N more" */
        {50, 10, 45, 0, false, 41, 9, 0, 41},  /* top clamped at the end */
        {50, 10, 0, 20, true, 12, 9, 29, 12},  /* the cursor pulls the window down */
        {50, 10, 30, 20, true, 20, 9, 21, 20}, /* ... and up */
        {50, 10, 0, 99, true, 41, 9, 0, 41},   /* a cursor past the end: the last row */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct kt_sink s = {.rows_left = t[i].rows};
        struct kt_scroll sc = {.top = t[i].top, .cur = t[i].cur};
        struct kt_window w = kt_window_fit(&s, t[i].n, &sc, t[i].cursor);

        assert_int_equal(w.first, t[i].first);
        assert_int_equal(w.count, t[i].count);
        assert_int_equal(w.below, t[i].below);
        assert_int_equal(sc.top, t[i].new_top);
        assert_int_equal(sc.n, t[i].n);
    }
}

/* ---- the slab screen ------------------------------------------------------- */

static char *slab_screen(const struct kmem_snapshot *snap, int width, int rows, const char *filter,
                         struct kt_scroll *scroll, const struct kt_history *h, char key)
{
    struct screen sc;
    struct kt_screen o = {.hist = h, .have_prev = true, .filter = filter, .scroll = scroll};

    screen_open(&sc, width, rows);
    kt_slab_screen(&sc.s, snap, key, &o);
    return screen_close(&sc);
}

/* SHARE is each cache's part of all caches' memory (num_slabs x pages), and
 * UNUSED its memory not in live objects (free objects and the slack of its
 * slabs); caches here have both, so neither equals the active bytes. */
static void test_slab_share_unused(void **state)
{
    struct kmem_snapshot s;
    uint64_t total = 0;
    size_t compared = 0;
    char *out;

    (void)state;
    make_slabs(&s, 4, 100);
    for (size_t i = 0; i < 4; i++) {
        slab_v[i].objsize = 1000; /* 96 bytes of slack per one-page slab of 4 */
        if (i % 2)
            slab_v[i].active_objs = slab_v[i].num_objs / 2;
        total += slab_v[i].num_slabs * page();
    }
    kmem_slabinfo_totals(&s.slab, page());
    out = slab_screen(&s, 200, 50, NULL, NULL, NULL, 'c');
    assert_contains(out, " SHARE   UNUSED   CHANGE NAME\n");
    for (size_t i = 0; i < 4; i++) {
        const struct kmem_slab *c = &slab_v[i];
        uint64_t bytes = c->num_slabs * page(), live = c->active_objs * c->objsize;
        char share[32], unused[32], want[128], name[64];
        const char *row;

        snprintf(name, sizeof(name), " %.40s\n", c->name);
        row = strstr(out, name);
        assert_non_null(row);
        while (row > out && row[-1] != '\n')
            row--;
        snprintf(share, sizeof(share), "%.1f%%", 100.0 * (double)bytes / (double)total);
        kt_human(unused, sizeof(unused), (double)(bytes - live));
        snprintf(want, sizeof(want), " %6s %8s        0 %.40s\n", share, unused, c->name);
        if (!strstr(row, want) || strstr(row, want) > strstr(row, name))
            fail_msg("%s: want \"%s\" in \"%.*s\"", c->name, want, (int)(strchr(row, '\n') - row),
                     row);
        compared++;
    }
    assert_int_equal(compared, 4);
    free(out);
}

static void test_slab_screen(void **state)
{
    struct kmem_snapshot s;
    struct kt_history h;
    struct kt_scroll scroll = {0};
    char *out;

    (void)state;
    kt_hist_init(&h, 60);
    make_slabs(&s, NSLAB, 100);
    kt_hist_record(&h, &s);
    make_slabs(&s, NSLAB, 103);
    slab_v[3].num_slabs += 256 * 4096 / page(); /* +1.0M */
    slab_v[3].has_prev = true;
    slab_v[3].delta_bytes = 1 << 20;
    kt_hist_record(&h, &s);

    /* 80 columns: growth columns, whole names, no SHARE; the longest name fits. */
    out = slab_screen(&s, 80, 24, NULL, &scroll, &h, 'c');
    assert_contains(out,
                    "  OBJS ACTIVE  USE OBJ SIZE CACHE SIZE   CHANGE   GROWTH  PER MIN NAME\n");
    assert_lacks(out, "SHARE");
    assert_int_equal(count_lines(out), 24);
    assert_contains(out, "-- 14 more below (arrows, PgDn, End) --\n");
    assert_int_equal(scroll.page, 16);
    assert_int_equal(scroll.n, NSLAB);
    free(out);
    /* By growth (G): the cache that grew first, with +1.0M in CHANGE and GROWTH. */
    out = slab_screen(&s, 80, 24, NULL, &scroll, &h, 'G');
    assert_non_null(strstr(out, "    +1.0M    +1.0M          cache-03\n"));
    assert_true(strstr(out, "cache-03") < strstr(out, "cache-29"));
    free(out);
    /* Wide: every column; a long name. */
    memcpy(slab_v[NSLAB - 1].name, "a-very-long-cache-name-of-thirty-chars", 39);
    out = slab_screen(&s, 200, 50, NULL, NULL, &h, 'c');
    assert_contains(out, " OBJ/SLAB CACHE SIZE  SHARE   UNUSED   CHANGE   GROWTH  PER MIN NAME\n");
    assert_contains(out, " a-very-long-cache-name-of-thirty-chars\n");
    assert_lacks(out, "more below");
    free(out);
    /* At 80 columns, a long name takes the room of the columns of least priority. */
    out = slab_screen(&s, 80, 24, NULL, NULL, &h, 'c');
    assert_contains(out, "\nCACHE SIZE   CHANGE   GROWTH  PER MIN NAME\n");
    assert_contains(out, " a-very-long-cache-name-of-thirty-chars\n");
    free(out);
    /* Scrolled to the end. */
    scroll.top = 1000;
    out = slab_screen(&s, 80, 24, NULL, &scroll, &h, 'c');
    assert_int_equal(scroll.top, NSLAB - 16);
    assert_contains(out, "-- 14 more above (arrows, PgUp, Home) --\n");
    free(out);
    /* A filter, case ignored; no history: no GROWTH columns. */
    out = slab_screen(&s, 80, 24, "CACHE-1", NULL, NULL, 'c');
    assert_contains(out, "filter \"CACHE-1\": 10 of 30 caches\n");
    assert_lacks(out, "GROWTH");
    assert_lacks(out, "cache-2");
    assert_contains(out, " cache-19\n");
    free(out);
    /* A name that would drive the terminal is neutralised. */
    memcpy(slab_v[0].name, "x\033[2J\xc2\x9b", 8);
    out = slab_screen(&s, 120, 50, "x", NULL, NULL, 'c');
    assert_contains(out, " x?[2J??\n");
    assert_lacks(out, "\033");
    free(out);
    /* 1M+ objects: the OBJS and ACTIVE columns widen, heading and rows stay aligned. */
    slab_v[1].num_objs = 1066527;
    slab_v[1].active_objs = 996152;
    out = slab_screen(&s, 200, 50, NULL, NULL, NULL, 'c');
    assert_contains(out, "\n   OBJS ACTIVE  USE ");
    {
        char *row = strstr(out, " cache-01\n");

        assert_non_null(row);
        while (row > out && row[-1] != '\n')
            row--;
        assert_memory_equal(row, "1066527 996152 ", 15);
    }
    free(out);
    /* No /proc/slabinfo: the part's message. */
    s.status[KMEM_PART_SLAB].err = -EACCES;
    snprintf(s.status[KMEM_PART_SLAB].msg, sizeof(s.status[KMEM_PART_SLAB].msg), "nope");
    out = slab_screen(&s, 80, 24, NULL, NULL, NULL, 'c');
    assert_string_equal(out, "nope\n");
    free(out);
    kt_hist_free(&h);
}

/*
 * The /sys/kernel/slab attributes: four columns that come only after every
 * figure has room (never at 80 or 120 columns), "-" for a cache without a
 * sysfs entry, "?" where sysfs does not show SLAB_ACCOUNT, and a legend.
 */
static void test_slab_attrs(void **state)
{
    struct kmem_snapshot s;
    struct kt_history h;
    char *out;
    size_t ps = page();

    (void)state;
    kt_hist_init(&h, 60);
    make_slabs(&s, NSLAB, 100);
    kt_hist_record(&h, &s);
    for (size_t i = 0; i < NSLAB; i++)
        slab_v[i].attr = (struct kmem_slab_attr){.known = true, .accounted = 0};
    /* cache-29 (the largest): as dentry, reclaimable, SLAB_ACCOUNT not shown */
    slab_v[29].attr = (struct kmem_slab_attr){.known = true, .reclaimable = true, .accounted = -1};
    /* cache-28: merged with two others, accounted, order 1 */
    slab_v[28].attr = (struct kmem_slab_attr){
        .known = true, .accounted = 1, .merged = true, .aliases = 2, .order = 1};
    /* cache-27: no sysfs entry */
    slab_v[27].attr = (struct kmem_slab_attr){.known = false};
    s.slab.attrs_read = s.slab.attrs_ok = true;
    s.slab.attrs_known = NSLAB - 1;

    out = slab_screen(&s, 200, 50, NULL, NULL, &h, 'c');
    assert_contains(out, "\n  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE  SHARE   UNUSED "
                         "RECL ACCT ALIASES ORDER   CHANGE   GROWTH  PER MIN NAME\n");
    assert_contains(out, "\nRECL: in SReclaimable  ACCT: charged to cgroups (SLAB_ACCOUNT)  "
                         "? = not shown by sysfs  ALIASES: caches merged in  "
                         "ORDER: 2^n pages a slab  - = not in /sys/kernel/slab\n");
    /* 300 one-page slabs of 4 objects of 1 KiB (a 4 KiB page: full, 0B unused) */
    if (ps == 4096) {
        assert_contains(out,
                        "  1200   1200 100%    1.00K    300        4      1200K   6.5%       0B  "
                        "yes    ?       0     0        0        0          cache-29\n");
        assert_contains(out,
                        "  1160   1160 100%    1.00K    290        4      1160K   6.2%       0B  "
                        " no  yes       2     1        0        0          cache-28\n");
        assert_contains(out,
                        "  1120   1120 100%    1.00K    280        4      1120K   6.0%       0B  "
                        "  -    -       -     -        0        0          cache-27\n");
        assert_contains(out,
                        "    40     40 100%    1.00K     10        4        40K   0.2%       0B  "
                        " no   no       0     0        0        0          cache-00\n");
    } else { /* other page sizes: the attribute cells only */
        assert_contains(out, "  yes    ?       0     0 ");
        assert_contains(out, "   no  yes       2     1 ");
        assert_contains(out, "    -    -       -     -  ");
    }
    free(out);
    /* cache-26: unmerged, accounted because the owner snapshot saw charged objects. */
    slab_v[26].attr =
        (struct kmem_slab_attr){.known = true, .accounted = 1, .accounted_charged = true};
    out = slab_screen(&s, 200, 50, "cache-26", NULL, &h, 'c');
    assert_contains(out, "yes*       0     0 ");
    assert_contains(
        out,
        "ACCT: charged to cgroups (SLAB_ACCOUNT)  yes* = seen charged (owner snapshot)  ALIASES");
    free(out);
    slab_v[26].attr = (struct kmem_slab_attr){.known = true, .accounted = 0};
    /* No cache with a "?" or a "-" shown: no legend for them. */
    out = slab_screen(&s, 200, 50, "cache-0", NULL, &h, 'c');
    assert_contains(out, "\nfilter \"cache-0\": 10 of 30 caches  RECL: in SReclaimable  ACCT: "
                         "charged to cgroups (SLAB_ACCOUNT)  ALIASES: caches merged in  "
                         "ORDER: 2^n pages a slab\n");
    free(out);
    /* 150 columns: the attributes, the legend pieces that fit ("?" and "-" first). */
    out = slab_screen(&s, 150, 50, NULL, NULL, &h, 'c');
    assert_contains(out, " UNUSED RECL ACCT ALIASES ORDER   CHANGE   GROWTH  PER MIN NAME\n");
    assert_contains(out, "\nRECL: in SReclaimable  ACCT: charged to cgroups (SLAB_ACCOUNT)  "
                         "? = not shown by sysfs  ALIASES: caches merged in  "
                         "- = not in /sys/kernel/slab\n");
    free(out);
    /* 120 columns (short names): the first two by priority, and their legend. */
    out = slab_screen(&s, 120, 50, NULL, NULL, &h, 'c');
    assert_contains(out, " SHARE   UNUSED RECL ACCT   CHANGE   GROWTH  PER MIN NAME\n");
    assert_contains(out, "\nRECL: in SReclaimable  ACCT: charged to cgroups (SLAB_ACCOUNT)  "
                         "? = not shown by sysfs  - = not in /sys/kernel/slab\n");
    free(out);
    /* 105 columns: no room for UNUSED, so none in the gap it leaves (RECL would fit). */
    out = slab_screen(&s, 105, 50, NULL, NULL, &h, 'c');
    assert_contains(out, "CACHE SIZE  SHARE   CHANGE   GROWTH  PER MIN NAME\n");
    assert_lacks(out, "RECL");
    assert_lacks(out, "sysfs");
    free(out);
    /* 80 columns: none of them; the names stay whole. */
    out = slab_screen(&s, 80, 24, NULL, NULL, &h, 'c');
    assert_contains(out,
                    "  OBJS ACTIVE  USE OBJ SIZE CACHE SIZE   CHANGE   GROWTH  PER MIN NAME\n");
    assert_lacks(out, "RECL");
    assert_contains(out, " cache-29\n");
    free(out);
    /* Attributes not read (a SLAB kernel, no sysfs): no columns even at 200. */
    s.slab.attrs_ok = false;
    out = slab_screen(&s, 200, 50, NULL, NULL, &h, 'c');
    assert_contains(out, " SHARE   UNUSED   CHANGE   GROWTH  PER MIN NAME\n");
    assert_lacks(out, "RECL");
    free(out);
    kt_hist_free(&h);
}

/* ---- the cgroup tree --------------------------------------------------------- */

#define MiB (UINT64_C(1) << 20)

static struct kmem_cgroup cg_v[] = {
    {.path = "/", .kernel = 100 * MiB},
    {.path = "/system.slice", .depth = 1, .kernel = 30 * MiB},
    {.path = "/system.slice/a.service", .depth = 2, .kernel = 10 * MiB},
    {.path = "/system.slice/b.service", .depth = 2, .kernel = 20 * MiB},
    {.path = "/kubepods.slice", .depth = 1, .kernel = 60 * MiB},
    {.path = "/kubepods.slice/kubepods-podu1.slice",
     .depth = 2,
     .kernel = 60 * MiB,
     .pod_uid = "u1",
     .namespace_name = "prod",
     .pod_name = "web-0"},
    {.path = "/kubepods.slice/kubepods-podu1.slice/cri-containerd-c0ffee.scope",
     .depth = 3,
     .kernel = 59 * MiB,
     .pod_uid = "u1",
     .container_id = "c0ffee",
     .namespace_name = "prod",
     .pod_name = "web-0",
     .container_name = "nginx"},
};
#define NCG (sizeof(cg_v) / sizeof(cg_v[0]))

static char *cg_screen(const struct kmem_snapshot *snap, int width, int rows, const char *filter,
                       struct kt_scroll *scroll, struct kt_cg_state *st)
{
    struct screen sc;
    struct kt_screen o = {.have_prev = false, .filter = filter, .scroll = scroll};

    screen_open(&sc, width, rows);
    kt_cgroup_screen(&sc.s, snap, KT_CG_SORT_KERNEL, &o, st);
    return screen_close(&sc);
}

static void test_cgroup_tree(void **state)
{
    struct kmem_snapshot s;
    struct kt_scroll scroll = {0};
    struct kt_cg_state st = {0};
    char *out;

    (void)state;
    memset(&s, 0, sizeof(s));
    s.flags = KMEM_COLLECT_ALL;
    s.cgroups.layout = KMEM_CG_V1;
    s.cgroups.n = NCG;
    s.cgroups.v = cg_v;
    for (size_t i = 0; i < NCG; i++) {
        cg_v[i].comp_present = 0;
        cg_v[i].has_sock = true;
        if (!cg_v[i].pod_uid)
            cg_v[i].pod_uid = cg_v[i].container_id = cg_v[i].namespace_name = cg_v[i].pod_name =
                cg_v[i].container_name = "";
    }
    /* 80 columns: room for the wide columns too. */
    out = cg_screen(&s, 80, 24, NULL, &scroll, &st);
    assert_contains(out, "  KERNEL   CHANGE  SHARE      TCP    USAGE  CGROUP TREE\n");
    free(out);
    out = cg_screen(&s, 50, 24, NULL, &scroll, &st);
    /* Siblings by kernel memory; pods and containers by name; markers. */
    assert_contains(out, "  KERNEL   CHANGE      TCP  CGROUP TREE\n");
    assert_int_equal(row_of(out, " - /"), 2);
    assert_int_equal(row_of(out, "   - kubepods.slice"), 3);
    assert_int_equal(row_of(out, "     - prod/web-0"), 4);
    assert_int_equal(row_of(out, "         nginx"), 5);
    assert_int_equal(row_of(out, "   - system.slice"), 6);
    assert_int_equal(row_of(out, "       b.service"), 7);
    assert_int_equal(row_of(out, "       a.service"), 8);
    assert_lacks(out, "c0ffee");
    assert_string_equal(st.sel, "/");
    free(out);

    /* The cursor on system.slice, folded: its services are hidden. */
    scroll.cur = 4;
    free(st.sel);
    st.sel = NULL;
    free(cg_screen(&s, 50, 24, NULL, &scroll, &st));
    assert_string_equal(st.sel, "/system.slice");
    assert_int_equal(kt_cg_collapse(&st, 1), 0);
    out = cg_screen(&s, 50, 24, NULL, &scroll, &st);
    assert_int_equal(row_of(out, "   + system.slice"), 6);
    assert_lacks(out, "a.service");
    free(out);
    /* The selection follows its cgroup when the order changes. */
    cg_v[1].kernel = 90 * MiB;
    out = cg_screen(&s, 50, 24, NULL, &scroll, &st);
    assert_int_equal(row_of(out, "   + system.slice"), 3);
    assert_int_equal(scroll.cur, 1);
    cg_v[1].kernel = 30 * MiB;
    free(out);
    /* Unfold. */
    assert_int_equal(kt_cg_collapse(&st, -1), 0);
    out = cg_screen(&s, 50, 24, NULL, &scroll, &st);
    assert_contains(out, "a.service\n");
    free(out);
    /* A filter keeps the matches and their ancestors (pod names match too). */
    out = cg_screen(&s, 50, 24, "web-0", &scroll, &st);
    assert_contains(out, "filter \"web-0\": 4 of 7 cgroups (with their ancestors)\n");
    assert_lacks(out, "system.slice");
    assert_contains(out, "nginx\n");
    free(out);
    /* Flat: full names, sorted by kernel memory. */
    st.flat = true;
    out = cg_screen(&s, 50, 24, NULL, &scroll, &st);
    assert_contains(out, "NAMESPACE/POD/CONTAINER or CGROUP\n");
    assert_int_equal(row_of(out, " prod/web-0/nginx"), 5);
    free(out);
    /* A short screen: the rest is counted. */
    st.flat = false;
    scroll = (struct kt_scroll){0};
    free(st.sel);
    st.sel = NULL;
    /* A cgroup without a part shown: "-", and its legend on a line of its own. */
    cg_v[6].has_sock = false;
    out = cg_screen(&s, 50, 24, NULL, &scroll, &st);
    assert_contains(out, "cgroup layout v1, 7 memory cgroups\n- = not on this cgroup version\n");
    assert_contains(out, "       - ");
    cg_v[6].has_sock = true;
    free(out);
    out = cg_screen(&s, 50, 6, NULL, &scroll, &st);
    assert_int_equal(count_lines(out), 6);
    assert_contains(out, "-- 4 more below (arrows, PgDn, End) --\n");
    free(out);
    kt_cg_state_free(&st);
}

/* ---- the allocations screen ------------------------------------------------ */

#define NALLOC 30

/*
 * The allocations view at 80 and 200 columns: the summary wrapped, the
 * columns by priority, long pod names cut at their start, the filter, the
 * scrolled window with "N more".
 */
static void test_alloc_screen(void **state)
{
    static struct kmem_alloc_entry v[NALLOC];
    static char cache[NALLOC][32];
    struct kmem_alloc_table t = {.n = NALLOC,
                                 .v = v,
                                 .seconds = 3.0,
                                 .tracking = true,
                                 .events = 1234,
                                 .bulk_traced = false};
    struct kmem_alloc_table prev = t;
    struct kt_scroll scroll = {0};
    struct screen sc;
    char *out;

    (void)state;
    for (size_t i = 0; i < NALLOC; i++) {
        snprintf(cache[i], sizeof(cache[i]), "cache-%02zu", i);
        v[i] = (struct kmem_alloc_entry){
            .cgid = 100 + i,
            .cache = cache[i],
            .objsize = 1024,
            .allocs = 10 * (i + 1),
            .bytes_alloc = 10240 * (i + 1),
            .acc_allocs = i % 2 ? 10 * (i + 1) : 0,
            .cgroup = "/kubepods.slice/kubepods-pod1.slice/cri-containerd-abc.scope",
            .pod_name = "",
            .namespace_name = "",
            .container_name = "",
        };
    }
    v[29].pod_name = "prometheus-server-0";
    v[29].namespace_name = "monitoring-with-a-long-namespace";
    v[29].container_name = "prometheus";
    /* The previous read, 2 s before, saw nothing: every row's change is all of it. */
    prev.n = 0;
    prev.seconds = 1.0;

    screen_open(&sc, 80, 24);
    kt_alloc_screen(&sc.s, &t, &prev, 'n', NULL, &scroll);
    out = screen_close(&sc);
    /* The long summary line is wrapped within 80 columns. */
    assert_contains(
        out, "\n  bulk frees and kfree_rcu() are not traced on this kernel (no fentry): such a\n"
             "    free is credited when its address is reused\n");
    for (char *l = out; *l; l = strchr(l, '\n') + 1)
        assert_true(strchr(l, '\n') - l <= 80);
    /* NET, CHANGE, ACCT, ALLOC/s by priority; the name takes the rest, cut at its start. */
    assert_contains(
        out, "\n     NET   CHANGE   ALLOC/s ACCT CACHE    CGROUP or NAMESPACE/POD/CONTAINER\n");
    assert_contains(out, "\n   +300K    +300K       150  yes cache-29 ..."
                         "pace/prometheus-server-0/prometheus\n");
    assert_contains(out, "\n   +290K    +290K       145   no cache-28 ..."
                         "pod1.slice/cri-containerd-abc.scope\n");
    assert_int_equal(count_lines(out), 24);
    assert_contains(out, "more below (arrows, PgDn, End) --\n");
    free(out);
    /* Scrolled to the end. */
    scroll.top = 1000;
    screen_open(&sc, 80, 24);
    kt_alloc_screen(&sc.s, &t, &prev, 'n', NULL, &scroll);
    out = screen_close(&sc);
    assert_contains(out, "more above (arrows, PgUp, Home) --\n");
    assert_contains(out, " cache-00 ");
    free(out);
    /* 200 columns: every column and whole names. */
    screen_open(&sc, 200, 50);
    kt_alloc_screen(&sc.s, &t, &prev, 'n', NULL, NULL);
    out = screen_close(&sc);
    assert_contains(out, "\n     NET   CHANGE   OBJECTS   ALLOC/s    FREE/s ACCT CACHE    "
                         "CGROUP or NAMESPACE/POD/CONTAINER\n");
    assert_contains(out,
                    " cache-29 monitoring-with-a-long-namespace/prometheus-server-0/prometheus\n");
    assert_lacks(out, "more below");
    free(out);
    /* The filter: cache or name. */
    screen_open(&sc, 120, 40);
    kt_alloc_screen(&sc.s, &t, &prev, 'n', "PROMETHEUS", NULL);
    out = screen_close(&sc);
    assert_contains(out, "filter \"PROMETHEUS\": 1 of 30 rows\n");
    assert_lacks(out, "cache-28");
    free(out);
    /* No previous read: CHANGE and the rates are blank, not 0. */
    screen_open(&sc, 200, 50);
    kt_alloc_screen(&sc.s, &t, NULL, 'n', "cache-29", NULL);
    out = screen_close(&sc);
    assert_contains(out,
                    "\n   +300K                300                      yes cache-29 monitoring-");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_history_new_entry),
        cmocka_unit_test(test_history_repeated_names),
        cmocka_unit_test(test_slab_share_unused),
        cmocka_unit_test(test_cols_fit),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_slab_screen),
        cmocka_unit_test(test_cgroup_tree),
        cmocka_unit_test(test_slab_attrs),
        cmocka_unit_test(test_alloc_screen),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
