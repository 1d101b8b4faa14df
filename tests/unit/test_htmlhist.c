/* SPDX-License-Identifier: MIT */
/*
 * The growth series of kmemtop --html (src/kmemtop/htmlhist.c): samples of
 * real fixture snapshots, each value the snapshot's own (the fields --json
 * prints), the top growers, and the section written from them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testtree.h"

#include "../../src/kmemtop/common.h"
#include "../../src/kmemtop/html.h"
#include "../../src/kmemtop/htmlhist.h"

static const char *fixture(const char *name)
{
    static char path[4096];

    return fixture_path(path, sizeof(path), name);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static const struct kt_hs_item *find(const struct kt_hseries *h, const char *key)
{
    for (size_t i = 0; i < h->nitems; i++)
        if (strcmp(h->items[i].key, key) == 0)
            return &h->items[i];
    return NULL;
}

/* Four samples: the v2 node, the full node twice (OOM at the third), the v2 node again. */
static void test_series(void **state)
{
    static const char *const roots[] = {"v2-systemd-containerd", "debian12-linux6.18-full",
                                        "debian12-linux6.18-full", "v2-systemd-containerd"};
    struct kt_hseries h = {0};
    uint64_t dentry[4], kernel[4], cg[4];
    size_t top[10], n, compared = 0;
    char *page = NULL;
    size_t len = 0;
    struct kmem_ctx *last = NULL;
    FILE *f;

    (void)state;
    for (size_t s = 0; s < 4; s++) {
        struct kmem_ctx *ctx;
        const struct kmem_snapshot *snap;
        char err[512];

        assert_int_equal(kmem_ctx_new(&ctx, fixture(roots[s]), err, sizeof(err)), 0);
        kmem_collect(ctx, KMEM_COLLECT_ALL);
        snap = kmem_current(ctx);
        assert_true(kt_part_ok(snap, KMEM_PART_NODE) && kt_part_ok(snap, KMEM_PART_SLAB));
        kernel[s] = snap->node.kind[KMEM_NODE_SLAB_RECLAIMABLE];
        dentry[s] = 0;
        for (size_t i = 0; i < snap->slab.n; i++)
            if (strcmp(snap->slab.v[i].name, "dentry") == 0)
                dentry[s] = kmem_slab_bytes(&snap->slab.v[i], kmem_page_size());
        cg[s] = snap->cgroups.n ? snap->cgroups.v[0].kernel : 0;
        assert_int_equal(
            kt_hseries_add(&h, snap, 1700000000000000000ull + s * 60000000000ull, s == 2), 0);
        if (s < 3)
            kmem_ctx_free(ctx);
        else
            last = ctx; /* its snapshot: the page's treemaps, at the end */
    }
    assert_int_equal(h.n, 4);
    for (size_t s = 0; s < 4; s++) {
        assert_int_equal(h.kind[s * KMEM_NODE_KIND_COUNT + KMEM_NODE_SLAB_RECLAIMABLE], kernel[s]);
        assert_int_equal(find(&h, "cache:dentry")->v[s], dentry[s]);
        assert_int_equal(find(&h, "cg:/")->v[s], cg[s]);
        compared += 3;
    }
    assert_int_equal(compared, 12);
    assert_true(h.oom[2] && !h.oom[0] && !h.oom[1] && !h.oom[3]);

    /* Top growers: sorted by last - first, the root cgroup left out. */
    n = kt_hseries_top(&h, false, 10, top);
    assert_int_equal(n, 10);
    for (size_t i = 1; i < n; i++) {
        const struct kt_hs_item *a = &h.items[top[i - 1]], *b = &h.items[top[i]];

        assert_false(a->cgroup);
        assert_true((int64_t)(a->v[3] - a->v[0]) >= (int64_t)(b->v[3] - b->v[0]));
    }
    n = kt_hseries_top(&h, true, 10, top);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(h.items[top[i]].key, "cg:/");

    /* The section: one row per sample, one OOM line, no reference to anything outside. */
    f = open_memstream(&page, &len);
    assert_non_null(f);
    kt_html_history(f, &h, "rec");
    fclose(f);
    assert_int_equal(count(page, "<tr data-t=\""), 4);
    assert_int_equal(count(page, "class=\"oom\""), 1);
    assert_null(strstr(page, "verdict"));
    free(page);
    page = NULL;

    /* With the recorder's verdicts and OOM events: their tables, the window, the markers. */
    h.verdicts_known = true;
    h.vfrom_ns = h.t_ns[1];
    h.vto_ns = h.t_ns[3];
    h.vpoints = 3;
    h.n_noise = 7;
    h.nverdicts = 2;
    h.verdicts = calloc(2, sizeof(*h.verdicts));
    assert_non_null(h.verdicts);
    h.verdicts[0] = (struct kt_hverdict){.verdict = "leak_suspect",
                                         .subject = "cache",
                                         .name = "kmalloc-<64>",
                                         .first = 1 << 20,
                                         .last = 9 << 20,
                                         .growth = 8 << 20,
                                         .rate_per_hour = 4 << 20,
                                         .hours_to_limit = 100,
                                         .limit = 1ull << 34};
    h.verdicts[1] = (struct kt_hverdict){.verdict = "reclaimable_warming",
                                         .subject = "node",
                                         .name = "SReclaimable",
                                         .first = 1,
                                         .last = 2,
                                         .growth = 1,
                                         .hours_to_limit = -1,
                                         .stabilised = true};
    h.nooms = 1;
    h.ooms = calloc(1, sizeof(*h.ooms));
    assert_non_null(h.ooms);
    h.ooms[0] = (struct kt_hoom){.t_ns = h.t_ns[2],
                                 .cgroup = "/kubepods.slice/x",
                                 .pod = "ns/p/c",
                                 .kills = 1,
                                 .usage = 1 << 30,
                                 .limit = 1 << 30,
                                 .kernel = 1 << 20,
                                 .comp_present = 1u << KMEM_CG_PAGETABLES,
                                 .comp[KMEM_CG_PAGETABLES] = 1 << 20};
    f = open_memstream(&page, &len);
    assert_non_null(f);
    kt_html_history(f, &h, "rec");
    fclose(f);
    assert_int_equal(count(page, "data-verdict=\""), 2);
    assert_non_null(strstr(page, "data-k=\"verdict:cache:kmalloc-&lt;64&gt;\""));
    assert_non_null(strstr(page, "leak suspect</td>"));
    assert_non_null(strstr(page, "4.2 d to 16G"));
    assert_non_null(strstr(page, "(levelled off)"));
    assert_non_null(strstr(page, "verdict window: 2 leak verdicts"));
    assert_int_equal(count(page, "<tr data-oom-t="), 1);
    assert_int_equal(count(page, "class=\"oom\""), 1); /* the event, not the sample flag too */
    assert_non_null(strstr(page, "OOM kill at "));
    assert_non_null(strstr(page, " in ns/p/c: usage 1.0G of limit 1.0G, kernel 1.0M"));
    assert_non_null(strstr(page, "<td>pagetables 1.0M</td>"));
    free(page);
    page = NULL;

    f = open_memstream(&page, &len);
    assert_non_null(f);
    kt_html_history(f, &h, "rec");
    fclose(f);
    assert_int_equal(count(page, "<tr data-t=\""), 4);
    assert_int_equal(count(page, "class=\"oom\""), 1);
    assert_int_equal(count(page, "<polygon"), count(page, "<li><span class=\"sw\" style"));
    assert_null(strstr(page, "http"));
    assert_null(strstr(page, "href"));
    free(page);
    page = NULL;

    /* The whole page with this series (under ASan in make test's second pass);
     * KMEM_HTMLHIST_PAGE=FILE keeps it for a look in a browser. */
    {
        struct kt_html_info info = {.series = &h, .series_source = "test", .sample = "last"};
        const char *keep = getenv("KMEM_HTMLHIST_PAGE");

        f = open_memstream(&page, &len);
        assert_non_null(f);
        assert_int_equal(kt_html(f, kmem_current(last), &info), 0);
        fclose(f);
        assert_non_null(strstr(page, "<section id=\"growth\">"));
        assert_non_null(strstr(page, "<section id=\"cgroups\">"));
        assert_non_null(strstr(page, "</html>"));
        if (keep) {
            f = fopen(keep, "w");
            assert_non_null(f);
            fputs(page, f);
            fclose(f);
        }
        free(page);
    }
    kmem_ctx_free(last);
    kt_hseries_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_series),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
