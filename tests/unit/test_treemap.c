/* SPDX-License-Identifier: MIT */
/*
 * The treemap layout (src/kmemtop/treemap.c) and the page's model
 * (htmlmodel.c): areas in proportion to the values, no overlaps, every box
 * inside its parent; the cgroup tree grouped by QoS class and namespace,
 * leaves split into kernel parts and, from an owner snapshot, caches.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/kmemtop/html.h"

#define EPS 1e-6

/* Checks of one layout; returns the number of boxes compared. */
static size_t check_layout(const double *v, size_t n, struct kt_rect in, const struct kt_rect *r)
{
    double total = 0, area = in.w * in.h, sum = 0;
    size_t compared = 0;

    for (size_t i = 0; i < n; i++)
        total += isfinite(v[i]) && v[i] > 0 ? v[i] : 0;
    for (size_t i = 0; i < n; i++) {
        double want = isfinite(v[i]) && v[i] > 0 && total > 0 ? v[i] / total * area : 0;
        double got = r[i].w * r[i].h;

        if (fabs(got - want) > EPS * (area > 1 ? area : 1))
            fail_msg("box %zu: area %.9g, want %.9g (value %g of %g)", i, got, want, v[i], total);
        if (want > 0 &&
            (r[i].x < in.x - EPS || r[i].y < in.y - EPS || r[i].x + r[i].w > in.x + in.w + EPS ||
             r[i].y + r[i].h > in.y + in.h + EPS || r[i].w < 0 || r[i].h < 0))
            fail_msg("box %zu (%g,%g %gx%g) outside (%g,%g %gx%g)", i, r[i].x, r[i].y, r[i].w,
                     r[i].h, in.x, in.y, in.w, in.h);
        for (size_t j = 0; j < i; j++) {
            double ox = fmin(r[i].x + r[i].w, r[j].x + r[j].w) - fmax(r[i].x, r[j].x);
            double oy = fmin(r[i].y + r[i].h, r[j].y + r[j].h) - fmax(r[i].y, r[j].y);

            if (ox > EPS && oy > EPS)
                fail_msg("boxes %zu and %zu overlap by %g x %g", i, j, ox, oy);
        }
        sum += got;
        compared++;
    }
    if (total > 0 && fabs(sum - area) > EPS * area)
        fail_msg("boxes cover %.9g of %.9g", sum, area);
    return compared;
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static void test_layout_table(void **state)
{
    static const double one[] = {5};
    static const double equal[] = {1, 1, 1, 1, 1, 1, 1};
    static const double zeros[] = {0, 3, 0, 1, -4, NAN, INFINITY, 2};
    static const double wide[] = {1e12, 1, 2, 3, 4096, 1e9, 7, 1e6};
    static const double sorted_up[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    const struct {
        const double *v;
        size_t n;
    } sets[] = {{one, 1}, {equal, 7}, {zeros, 8}, {wide, 8}, {sorted_up, 10}};
    const struct kt_rect rects[] = {
        {0, 0, 1216, 440}, {10, 20, 30, 900}, {0.5, 0.25, 3, 2}, {100, 100, 1, 1}};
    size_t compared = 0;

    (void)state;
    for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++)
        for (size_t k = 0; k < sizeof(rects) / sizeof(rects[0]); k++) {
            struct kt_rect out[16];

            assert_int_equal(kt_treemap_layout(sets[s].v, sets[s].n, rects[k], out), 0);
            compared += check_layout(sets[s].v, sets[s].n, rects[k], out);
        }
    assert_int_equal(compared, 4 * (1 + 7 + 8 + 8 + 10));
}

/* 300 random values spanning 9 orders of magnitude, in many shapes. */
static void test_layout_random(void **state)
{
    uint64_t seed = 20;
    size_t compared = 0;

    (void)state;
    for (int round = 0; round < 20; round++) {
        size_t n = 1 + lcg(&seed) % 300;
        double v[300];
        struct kt_rect out[300],
            in = {(double)(lcg(&seed) % 50), (double)(lcg(&seed) % 50),
                  1 + (double)(lcg(&seed) % 2000), 1 + (double)(lcg(&seed) % 2000)};

        for (size_t i = 0; i < n; i++)
            v[i] = lcg(&seed) % 7 == 0 ? 0 : pow(10, (double)(lcg(&seed) % 900) / 100);
        assert_int_equal(kt_treemap_layout(v, n, in, out), 0);
        compared += check_layout(v, n, in, out);
    }
    assert_true(compared >= 20);
}

/*
 * The shape (squarified: each row along the shorter side, grown while its
 * worst aspect ratio improves): equal values in a 2:1 or square rectangle
 * are exact squares, and on random values the boxes' aspect ratio, weighted
 * by area, stays low. Areas alone do not show a layout of long strips.
 */
static double aspect(const struct kt_rect *r)
{
    return r->w > r->h ? r->w / r->h : r->h / r->w;
}

static void test_layout_shape(void **state)
{
    static const double four[] = {1, 1, 1, 1}, six[] = {1, 1, 1, 1, 1, 1};
    struct kt_rect out[300];
    uint64_t seed = 7;
    double weighted = 0, area = 0;
    size_t boxes = 0;

    (void)state;
    assert_int_equal(kt_treemap_layout(four, 4, (struct kt_rect){0, 0, 100, 100}, out), 0);
    for (size_t i = 0; i < 4; i++) {
        assert_float_equal(out[i].w, 50, EPS);
        assert_float_equal(out[i].h, 50, EPS);
    }
    assert_int_equal(kt_treemap_layout(six, 6, (struct kt_rect){0, 0, 300, 200}, out), 0);
    for (size_t i = 0; i < 6; i++) {
        assert_float_equal(out[i].w, 100, EPS);
        assert_float_equal(out[i].h, 100, EPS);
    }
    for (int round = 0; round < 20; round++) {
        size_t n = 20 + lcg(&seed) % 280;
        double v[300];
        struct kt_rect in = {0, 0, 200 + (double)(lcg(&seed) % 1800),
                             200 + (double)(lcg(&seed) % 1800)};

        for (size_t i = 0; i < n; i++)
            v[i] = pow(10, (double)(lcg(&seed) % 400) / 100);
        assert_int_equal(kt_treemap_layout(v, n, in, out), 0);
        for (size_t i = 0; i < n; i++) {
            weighted += aspect(&out[i]) * out[i].w * out[i].h;
            area += out[i].w * out[i].h;
            boxes++;
        }
    }
    print_message("# %zu boxes, aspect ratio weighted by area %.3f\n", boxes, weighted / area);
    assert_true(boxes >= 400);
    assert_true(weighted / area < 2.0);
}

/* Nothing to lay out: empty boxes at the corner, no division by zero. */
static void test_layout_empty(void **state)
{
    static const double v[] = {0, 0, 3};
    struct kt_rect out[3];

    (void)state;
    assert_int_equal(kt_treemap_layout(v, 3, (struct kt_rect){4, 5, 0, 10}, out), 0);
    for (int i = 0; i < 3; i++) {
        assert_true(out[i].x == 4 && out[i].y == 5);
        assert_true(out[i].w * out[i].h == 0);
    }
    assert_int_equal(kt_treemap_layout(v, 0, (struct kt_rect){0, 0, 10, 10}, out), 0);
}

/* ---- the cgroup tree ---------------------------------------------------------- */

#define KP  "/kubepods.slice"
#define BU  KP "/kubepods-burstable.slice"
#define POD BU "/kubepods-burstable-podaaaa.slice"
#define CTR POD "/cri-containerd-c1.scope"
#define GP  KP "/kubepods-podbbbb.slice"
#define GC  GP "/cri-containerd-c2.scope"

static int find(const struct kt_hmap *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->v[i].key, key) == 0)
            return (int)i;
    return -1;
}

static void test_cgroup_tree(void **state)
{
    struct kmem_cgroup cg[] = {
        {.path = "/", .kernel = 1000000},
        {.path = KP, .depth = 1, .kernel = 700000},
        {.path = BU, .depth = 2, .kernel = 300000},
        {.path = POD,
         .depth = 3,
         .kernel = 300000,
         .pod_uid = "aaaa",
         .qos = "burstable",
         .namespace_name = "default",
         .pod_name = "web"},
        {.path = CTR,
         .depth = 4,
         .kernel = 290000,
         .pod_uid = "aaaa",
         .qos = "burstable",
         .container_id = "c1",
         .namespace_name = "default",
         .pod_name = "web",
         .container_name = "nginx"},
        {.path = GP,
         .depth = 2,
         .kernel = 400000,
         .pod_uid = "bbbb",
         .qos = "guaranteed",
         .namespace_name = "monitoring",
         .pod_name = "prom"},
        {.path = GC,
         .depth = 3,
         .kernel = 400000,
         .pod_uid = "bbbb",
         .qos = "guaranteed",
         .container_id = "c2",
         .namespace_name = "monitoring",
         .pod_name = "prom",
         .container_name = "prometheus"},
    };
    static struct kmem_snapshot snap; /* large: not on the stack */
    struct kmem_owners own;
    struct kt_hmap m = {0};
    int root, ctr, slab_u, c, qos, ns, drawn = 0;
    size_t checked = 0;

    (void)state;
    cg[4].comp_present = (1u << KMEM_CG_SLAB_UNRECLAIMABLE) | (1u << KMEM_CG_PAGETABLES);
    cg[4].comp[KMEM_CG_SLAB_UNRECLAIMABLE] = 200000;
    cg[4].comp[KMEM_CG_PAGETABLES] = 90000;
    snap.flags = KMEM_COLLECT_CGROUPS;
    snap.cgroups.v = cg;
    snap.cgroups.n = sizeof(cg) / sizeof(cg[0]);
    kmem_owners_init(&own);
    assert_int_equal(kmem_owners_add(&own, 42, "dentry", 100, 19200), 0);
    assert_int_equal(kmem_owners_add(&own, 42, "kmalloc-64", 10, 640), 0);
    assert_int_equal(kmem_owners_add(&own, 7, "dentry", 1, 192), 0);
    assert_int_equal(kmem_owners_add(&own, 3, "inode_cache", 2, 1200), 0);
    assert_int_equal(kmem_owners_add(&own, 0, "dentry", 5, 960), 0); /* not charged */
    assert_int_equal(kmem_owners_set_path(&own, 42, CTR), 0);
    assert_int_equal(kmem_owners_set_path(&own, 7, GC), 0);
    assert_int_equal(kmem_owners_set_path(&own, 3, KP), 0);
    assert_int_equal(kmem_owners_finish(&own, NULL, NULL), 0);
    own.present = true;

    assert_int_equal(kt_html_cg_tree(&m, &snap, &own), 0);
    root = find(&m, "cg:/");
    assert_int_equal(root, 0);
    /* Guaranteed pods sit under kubepods: a QoS group, then a namespace group. */
    qos = find(&m, "qos:" KP ":guaranteed");
    assert_true(qos > 0);
    assert_int_equal(m.v[qos].parent, find(&m, "cg:" KP));
    ns = find(&m, "ns:" KP ":guaranteedmonitoring");
    assert_true(ns > 0);
    assert_int_equal(m.v[ns].parent, qos);
    assert_int_equal(m.v[find(&m, "cg:" GP)].parent, ns);
    assert_int_equal(m.v[qos].bytes, 400000);
    /* Burstable pods: under their QoS cgroup, in a namespace group only. */
    ns = find(&m, "ns:" BU ":burstabledefault");
    assert_int_equal(m.v[ns].parent, find(&m, "cg:" BU));
    assert_int_equal(m.v[find(&m, "cg:" POD)].parent, ns);
    /* The container's parts, and the owner snapshot's caches under its slab part. */
    ctr = find(&m, "cg:" CTR);
    slab_u = find(&m, "cgkind:" CTR ":slab_unreclaimable");
    assert_int_equal(m.v[slab_u].parent, ctr);
    assert_int_equal(m.v[slab_u].bytes, 200000);
    assert_int_equal(m.v[find(&m, "cgkind:" CTR ":pagetables")].bytes, 90000);
    assert_int_equal(find(&m, "cgkind:" CTR ":kernel_stack"), -1); /* not reported */
    c = find(&m, "cgcache:" CTR ":dentry");
    assert_int_equal(m.v[c].parent, slab_u);
    assert_int_equal(m.v[c].bytes, 19200);
    assert_int_equal(m.v[find(&m, "cgcache:" CTR ":kmalloc-64")].bytes, 640);
    c = find(&m, "cgcache:" GC ":dentry"); /* no parts: under the cgroup itself */
    assert_true(c > 0);
    assert_int_equal(m.v[c].parent, find(&m, "cg:" GC));
    assert_int_equal(m.v[c].bytes, 192);
    /* What no child holds: the root's 300000, kubepods has none left. */
    assert_int_equal(m.v[find(&m, "rest:cg:/")].bytes, 300000);
    /* Kubepods' own caches: under its "itself" box, of 0 bytes (its children hold all). */
    c = find(&m, "cgcache:" KP ":inode_cache");
    assert_true(c > 0);
    assert_int_equal(m.v[c].bytes, 1200);
    assert_int_equal(m.v[c].parent, find(&m, "rest:cg:" KP));
    assert_int_equal(m.v[m.v[c].parent].bytes, 0);
    /* Rows of no cgroup (not charged) are not in the cgroup tree. */
    for (size_t i = 0; i < m.n; i++)
        assert_null(strstr(m.v[i].key, "cgcache::"));

    /* Laid out: every drawn box inside its parent, siblings apart. */
    assert_int_equal(kt_hmap_layout(&m, (struct kt_rect){0, 0, 1216, 560}), 0);
    for (size_t i = 0; i < m.n; i++) {
        const struct kt_hnode *n = &m.v[i], *p;

        if (!n->drawn)
            continue;
        drawn++;
        if (n->parent < 0)
            continue;
        p = &m.v[n->parent];
        assert_true(p->drawn);
        assert_true(n->r.x >= p->r.x - EPS && n->r.y >= p->r.y - EPS);
        assert_true(n->r.x + n->r.w <= p->r.x + p->r.w + EPS);
        assert_true(n->r.y + n->r.h <= p->r.y + p->r.h + EPS);
        for (int s = p->first; s >= 0; s = m.v[s].next) {
            const struct kt_hnode *o = &m.v[s];

            if (s == (int)i || !o->drawn)
                continue;
            assert_false(fmin(n->r.x + n->r.w, o->r.x + o->r.w) - fmax(n->r.x, o->r.x) > EPS &&
                         fmin(n->r.y + n->r.h, o->r.y + o->r.h) - fmax(n->r.y, o->r.y) > EPS);
            checked++;
        }
    }
    assert_true(drawn >= 12);
    assert_true(checked >= 10);
    kt_hmap_free(&m);
    kmem_owners_free(&own);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_table), cmocka_unit_test(test_layout_random),
        cmocka_unit_test(test_layout_shape), cmocka_unit_test(test_layout_empty),
        cmocka_unit_test(test_cgroup_tree),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
