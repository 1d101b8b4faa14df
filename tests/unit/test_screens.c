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
#include "textcheck.h"

/* ---- a screen-like sink: @rows lines of @width columns ------------------ */

struct screen {
    struct kt_sink s;
    char *buf;
    size_t len;
    FILE *f;
};

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
    /* No /proc/slabinfo: the part's message. */
    s.status[KMEM_PART_SLAB].err = -EACCES;
    snprintf(s.status[KMEM_PART_SLAB].msg, sizeof(s.status[KMEM_PART_SLAB].msg), "nope");
    out = slab_screen(&s, 80, 24, NULL, NULL, NULL, 'c');
    assert_string_equal(out, "nope\n");
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history),     cmocka_unit_test(test_cols_fit),
        cmocka_unit_test(test_window),      cmocka_unit_test(test_slab_screen),
        cmocka_unit_test(test_cgroup_tree),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
