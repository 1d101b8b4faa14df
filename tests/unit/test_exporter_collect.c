/* SPDX-License-Identifier: MIT */
/* kmem_exporter: shared collection on the shared fixture (reuse within
 * min-interval, concurrent scrapes share one exposition, gzip made once,
 * collectors fail independently). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testtree.h"

#include "../../src/exporter/collect.h"
#include "../../src/exporter/collectors.h"

static const char *fixture_root(void)
{
    static char root[4096];

    return fixture_path(root, sizeof(root), "debian12-linux6.18-hybrid");
}

static struct kx_collector *new_collector(const char *root, double min_interval)
{
    struct kx_collector_opts o = {.paths = {.root = root}, .min_interval = min_interval};
    struct kx_collector *c = NULL;
    char err[512] = "";

    for (size_t i = 0; i < kx_ncollectors; i++)
        if (!kx_collectors[i].default_on) /* as main.c: off unless asked for */
            o.render.disabled |= 1u << i;
    if (kx_collector_new(&c, &o, err, sizeof(err)))
        fail_msg("kx_collector_new(%s): %s", root, err);
    return c;
}

static void test_reuse(void **state)
{
    (void)state;
    struct kx_collector *c = new_collector(fixture_root(), 3600);
    struct kx_blob *a, *b, *f;
    assert_int_equal(kx_collector_get(c, &a), 0);
    assert_int_equal(kx_collector_get(c, &b), 0);
    assert_ptr_equal(a, b); /* younger than min-interval: reused */
    const char *msg;
    assert_true(kx_blob_ok(a, &msg));
    size_t len;
    const char *text = kx_blob_text(a, &len);
    assert_true(len > 1000);
    assert_non_null(strstr(text, "\nkmem_slab_objects{cache=\"bio-312\"} 12\n"));
    assert_non_null(strstr(text, "kmem_collector_success{collector=\"cgroup\"} 1\n"));
    /* gzip made once and shared. */
    const char *g1, *g2;
    size_t l1, l2;
    assert_int_equal(kx_blob_gzip(a, &g1, &l1), 0);
    assert_int_equal(kx_blob_gzip(b, &g2, &l2), 0);
    assert_ptr_equal(g1, g2);
    assert_true(l1 < len);
    /* refresh ignores min-interval. */
    assert_int_equal(kx_collector_refresh(c, &f), 0);
    assert_ptr_not_equal(f, a);
    kx_blob_put(a);
    kx_blob_put(b);
    kx_blob_put(f);
    kx_collector_free(c);

    c = new_collector(fixture_root(), 0);
    assert_int_equal(kx_collector_get(c, &a), 0);
    assert_int_equal(kx_collector_get(c, &b), 0);
    assert_ptr_not_equal(a, b); /* 0: every scrape collects */
    kx_blob_put(b);
    kx_collector_free(c); /* a outlives its collector */
    assert_non_null(strstr(kx_blob_text(a, &len), "kmem_exporter_build_info"));
    kx_blob_put(a);
}

#define NTHREADS 8
struct worker {
    struct kx_collector *c;
    pthread_barrier_t *start;
    struct kx_blob *got;
    int r;
};

static void *worker(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(w->start);
    w->r = kx_collector_get(w->c, &w->got);
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    struct kx_collector *c = new_collector(fixture_root(), 3600);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, NTHREADS);
    struct worker w[NTHREADS];
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (struct worker){.c = c, .start = &start};
        assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    /* One collection for all of them: waiters share the running one. */
    for (int i = 0; i < NTHREADS; i++) {
        assert_int_equal(w[i].r, 0);
        assert_ptr_equal(w[i].got, w[0].got);
    }
    for (int i = 0; i < NTHREADS; i++)
        kx_blob_put(w[i].got);
    pthread_barrier_destroy(&start);
    kx_collector_free(c);
}

/* A root with node files and cgroups but no /proc/slabinfo. */
static void test_independent_collectors(void **state)
{
    (void)state;
    char dir[] = "/tmp/kx-collect-XXXXXX", p[4200], target[4200];
    assert_non_null(mkdtemp(dir));
    snprintf(p, sizeof(p), "%s/proc", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    static const char *const files[] = {"meminfo", "vmstat", "zoneinfo"};
    for (int i = 0; i < 3; i++) {
        snprintf(target, sizeof(target), "%s/proc/%s", fixture_root(), files[i]);
        snprintf(p, sizeof(p), "%s/proc/%s", dir, files[i]);
        assert_int_equal(symlink(target, p), 0);
    }
    snprintf(target, sizeof(target), "%s/sys", fixture_root());
    snprintf(p, sizeof(p), "%s/sys", dir);
    assert_int_equal(symlink(target, p), 0);

    struct kx_collector *c = new_collector(dir, 0);
    struct kx_blob *b;
    assert_int_equal(kx_collector_get(c, &b), 0);
    const char *msg;
    assert_false(kx_blob_ok(b, &msg));
    assert_non_null(strstr(msg, "slabinfo"));
    size_t len;
    const char *text = kx_blob_text(b, &len);
    assert_non_null(strstr(text, "kmem_collector_success{collector=\"slabinfo\"} 0\n"));
    assert_non_null(strstr(text, "kmem_collector_success{collector=\"node\"} 1\n"));
    assert_non_null(strstr(text, "kmem_collector_success{collector=\"cgroup\"} 1\n"));
    assert_null(strstr(text, "\nkmem_slab_objects{"));
    assert_non_null(strstr(text, "# TYPE kmem_slab_objects gauge\n"));
    assert_non_null(strstr(text, "\nkmem_node_kernel_bytes{kind=\"slab_reclaimable\"} "));
    /* A hybrid machine: the kubelet already reports memory.kmem.usage_in_bytes, so
     * --collector.cadvisor-compat=auto leaves the cAdvisor family out. */
    assert_null(strstr(text, "container_memory_kernel_usage"));
    assert_non_null(strstr(text, "\nkmem_cgroup_kernel_bytes{cgroup=\"/\","));
    assert_non_null(strstr(text, "\nkmem_cgroup_kernel_exact 1\n"));
    assert_non_null(strstr(text, "# TYPE kmem_memory_cgroups_dying gauge\n"));
    kx_blob_put(b);
    kx_collector_free(c);

    /* --no-collector.slabinfo: the file is not read, the collection is
     * complete, and nothing of the collector is left in the exposition. */
    struct kx_collector_opts o = {.paths = {.root = dir},
                                  .render = {.disabled = 1u << kx_collector_index("slabinfo") |
                                                         1u << kx_collector_index("owners")}};
    char err[512] = "";
    assert_int_equal(kx_collector_new(&c, &o, err, sizeof(err)), 0);
    assert_false(kx_collector_ready(c)); /* /-/ready: not before the first collection */
    assert_int_equal(kx_collector_get(c, &b), 0);
    assert_true(kx_collector_ready(c));
    assert_true(kx_blob_ok(b, &msg));
    text = kx_blob_text(b, &len);
    assert_null(strstr(text, "collector=\"slabinfo\""));
    assert_null(strstr(text, "kmem_slab_"));
    assert_non_null(strstr(text, "kmem_collector_success{collector=\"node\"} 1\n"));
    assert_non_null(strstr(text, "\nkmem_cgroup_kernel_bytes{"));
    kx_blob_put(b);
    kx_collector_free(c);

    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s/proc/%s", dir, files[i]);
        unlink(p);
    }
    snprintf(p, sizeof(p), "%s/proc", dir);
    rmdir(p);
    snprintf(p, sizeof(p), "%s/sys", dir);
    unlink(p);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_independent_collectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
