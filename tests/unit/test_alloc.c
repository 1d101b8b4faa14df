/* SPDX-License-Identifier: MIT */
/*
 * The parts of the allocation tracer that need no BPF: kmalloc size-class
 * names, the net growth of an entry, the order of table entries, the counts
 * of a slot of the tracer's table, and the kmemtop table rendered from a
 * hand-built trace.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/types.h>

#include "alloc.h"
#include "../../src/bpf/kmem_alloc.h"
#include "../../src/exporter/allocmetrics.h"
#include "../../src/kmemtop/allocview.h"

#define KM (UINT64_C(1) << 40) /* KMEM_ALLOC_KMALLOC (src/bpf/kmem_alloc.h) */

static void kmalloc_names(void **state)
{
    static const struct {
        uint64_t key;
        const char *name;
    } cases[] = {
        {KM | 8, "kmalloc-8"},
        {KM | 192, "kmalloc-192"},
        {KM | 1024, "kmalloc-1k"},
        {KM | 8192, "kmalloc-8k"},
        {KM | UINT64_C(1) << 32 | 64, "kmalloc-cg-64"},
        {KM | UINT64_C(2) << 32 | 96, "kmalloc-rcl-96"},
        {KM | UINT64_C(3) << 32 | 2048, "dma-kmalloc-2k"},
        {KM | UINT64_C(4) << 32, "kmalloc-large"},
        {UINT64_C(1) << 41, "kfree"},
    };
    char buf[64];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(kmem_alloc_kmalloc_name(cases[i].key, buf, sizeof(buf)), cases[i].name);
}

static void net_and_order(void **state)
{
    struct kmem_alloc_entry e = {.allocs = 10,
                                 .frees = 3,
                                 .bytes_alloc = 1000,
                                 .bytes_freed = 300,
                                 .nf_allocs = 2,
                                 .nf_bytes = 200};
    const char *a = "a", *b = "b";

    (void)state;
    /* Objects not followed are never credited a free: out of the net. */
    assert_int_equal(kmem_alloc_net(&e), 500);
    assert_int_equal(kmem_alloc_net_objects(&e), 5);
    assert_true(kmem_alloc_entry_cmp(1, b, 2, a) < 0);
    assert_true(kmem_alloc_entry_cmp(2, a, 1, b) > 0);
    assert_int_equal(kmem_alloc_entry_cmp(1, a, 1, a), 0);
    assert_true(kmem_alloc_entry_cmp(1, a, 1, b) != 0);
}

/* A slot of the tracer's table: bytes are objects x size, but kmalloc-large's;
 * the charged bit of the key says all of them were charged. */
static void slot_counts(void **state)
{
    struct kmem_alloc_slot dentry = {.cache = UINT64_C(0xffff888100a0c000) | KMEM_ALLOC_ACCT,
                                     .cgid = 42,
                                     .allocs = 10,
                                     .frees = 4,
                                     .nf_allocs = 1};
    struct kmem_alloc_slot large = {.cache = KM | UINT64_C(4) << 32,
                                    .cgid = KMEM_ALLOC_CG_IRQ,
                                    .allocs = 3,
                                    .frees = 1,
                                    .bytes_alloc = 16384 + 8192 * 2,
                                    .bytes_freed = 8192};
    struct kmem_alloc_entry e;

    (void)state;
    memset(&e, 0, sizeof(e));
    kmem_alloc_entry_counts(&e, &dentry, dentry.cache, 192);
    assert_int_equal(e.cgid, 42);
    assert_true(e.cache_key == UINT64_C(0xffff888100a0c000));
    assert_int_equal(e.objsize, 192);
    assert_int_equal(e.bytes_alloc, 1920);
    assert_int_equal(e.bytes_freed, 768);
    assert_int_equal(e.nf_bytes, 192);
    assert_int_equal(e.acc_allocs, 10);
    assert_int_equal(e.acc_bytes, 1920);
    /* Followed and not freed: 10 - 1 - 4 objects. */
    assert_int_equal(kmem_alloc_net_objects(&e), 5);
    assert_int_equal(kmem_alloc_net(&e), 960);

    memset(&e, 0, sizeof(e));
    kmem_alloc_entry_counts(&e, &large, large.cache, 0);
    assert_true(e.cache_key == (KM | UINT64_C(4) << 32));
    assert_int_equal(e.bytes_alloc, 32768);
    assert_int_equal(e.bytes_freed, 8192);
    assert_int_equal(e.acc_allocs, 0);
    assert_int_equal(e.acc_bytes, 0);
    assert_int_equal(kmem_alloc_net(&e), 24576);
}

/* A sink that keeps the lines. */
static char lines[64][512];
static int nlines;

__attribute__((format(printf, 3, 0))) static bool keep_line(struct kt_sink *s, enum kt_attr attr,
                                                            const char *fmt, va_list ap)
{
    (void)s;
    (void)attr;
    if (nlines < 64)
        vsnprintf(lines[nlines++], sizeof(lines[0]), fmt, ap);
    return true;
}

static int find_line(const char *needle)
{
    for (int i = 0; i < nlines; i++)
        if (strstr(lines[i], needle))
            return i;
    return -1;
}

static void render_table(void **state)
{
    static const char *dentry = "dentry", *km = "kmalloc-cg-64", *inode = "shmem_inode_cache";
    struct kmem_alloc_entry v[] = {
        {.cgid = 0,
         .cache = km,
         .objsize = 64,
         .allocs = 10,
         .frees = 10,
         .bytes_alloc = 640,
         .bytes_freed = 640,
         .cgroup = "(interrupt)"},
        {.cgid = 7,
         .cache = dentry,
         .objsize = 192,
         .allocs = 100,
         .frees = 0,
         .bytes_alloc = 19200,
         .acc_allocs = 100,
         .acc_bytes = 19200,
         .cgroup = "/a"},
        {.cgid = 7,
         .cache = inode,
         .objsize = 768,
         .allocs = 4,
         .frees = 1,
         .bytes_alloc = 3072,
         .bytes_freed = 768,
         .acc_allocs = 2,
         .acc_bytes = 1536,
         .cgroup = "/a"},
        {.cgid = 9,
         .cache = dentry,
         .objsize = 192,
         .allocs = 1,
         .frees = 0,
         .bytes_alloc = 192,
         .cgroup = "/kubepods/pod1/c1",
         .pod_name = "web",
         .namespace_name = "prod",
         .container_name = "nginx",
         .removed = true},
        {.cgid = KMEM_ALLOC_CGID_UNTRACKED,
         .cache = dentry,
         .frees = 50,
         .bytes_freed = 9600,
         .cgroup = "(allocated before the trace)"},
    };
    struct kmem_alloc_table t = {
        .n = 5, .v = v, .seconds = 2.0, .tracking = true, .events = 215, .bulk_traced = true};
    struct kt_sink sink = {.line = keep_line, .width = 0, .rows_left = -1};
    int d, i, r, k;

    (void)state;
    for (size_t j = 0; j < 5; j++) {
        if (!v[j].pod_name)
            v[j].pod_name = v[j].namespace_name = v[j].container_name = "";
    }
    nlines = 0;
    kt_alloc_render(&sink, &t, NULL, 'n', false, NULL);
    /* Summary: events, the frees of older objects (50, 9.4K), not a row. */
    assert_true(find_line("215 allocations and frees counted, none lost") >= 0);
    assert_true(find_line("frees of objects allocated before the trace: 50 (9.4K") >= 0);
    assert_int_equal(find_line("allocated before the trace)"), -1);
    /* Rows by net growth: /a dentry (+19K), /a inode (+2.2K), the pod's, the interrupt's (0). */
    d = find_line("dentry                 /a");
    i = find_line("shmem_inode_cache");
    r = find_line("prod/web/nginx (removed)");
    k = find_line("(interrupt)");
    assert_true(d > 0 && i > d && r > i && k > r);
    assert_non_null(strstr(lines[d], " yes dentry"));
    assert_non_null(strstr(lines[i], "part shmem_inode_cache"));
    assert_non_null(strstr(lines[r], "  no dentry"));
    assert_non_null(strstr(lines[d], "+19K"));
}

/* The rates mode's pairs for the owner snapshot: charged allocations under
 * their cgroup; uncharged ones, interrupts' and the root cgroup's (id 1)
 * under 0, merged per cache. */
static void window_pairs(void **state)
{
    static const char *dentry = "dentry", *filp = "filp";
    struct kmem_alloc_entry v[] = {
        {.cgid = 0,
         .cache = dentry,
         .allocs = 5,
         .bytes_alloc = 960,
         .acc_allocs = 5,
         .acc_bytes = 960},
        {.cgid = 1,
         .cache = dentry,
         .allocs = 7,
         .bytes_alloc = 1344,
         .acc_allocs = 7,
         .acc_bytes = 1344},
        {.cgid = 7,
         .cache = dentry,
         .allocs = 120,
         .bytes_alloc = 23040,
         .acc_allocs = 100,
         .acc_bytes = 19200},
        {.cgid = 7, .cache = filp, .allocs = 3, .bytes_alloc = 768},
    };
    struct kmem_alloc_table t = {.n = 4, .v = v, .mode = KMEM_ALLOC_RATES, .seconds = 3};
    struct kmem_alloc_pair *p;
    size_t n;

    (void)state;
    assert_int_equal(kmem_alloc_window_pairs(&t, &p, &n), 0);
    assert_int_equal(n, 3);
    /* (0, dentry): 5 of interrupts + 7 of the root + 20 uncharged of cgroup 7 */
    assert_true(p[0].memcg_id == 0 && strcmp(p[0].cache, "dentry") == 0);
    assert_int_equal(p[0].allocs, 32);
    assert_int_equal(p[0].bytes, 960 + 1344 + 3840);
    assert_true(p[1].memcg_id == 0 && strcmp(p[1].cache, "filp") == 0);
    assert_int_equal(p[1].allocs, 3);
    assert_true(p[2].memcg_id == 7 && strcmp(p[2].cache, "dentry") == 0);
    assert_int_equal(p[2].allocs, 100);
    assert_int_equal(p[2].bytes, 19200);
    free(p);
    /* Frees per second: 3000 allocated in a 3 s window (1000/s), the pair held
     * 600 objects more 60 s later (10/s): 990 freed per second; never < 0. */
    assert_true(kmem_alloc_frees_per_second(3000, 3, 5000, 5600, 60) > 989.99);
    assert_true(kmem_alloc_frees_per_second(3000, 3, 5000, 5600, 60) < 990.01);
    assert_true(kmem_alloc_frees_per_second(0, 3, 0, 600, 60) == 0);
    assert_true(kmem_alloc_frees_per_second(10, 0, 0, 0, 60) == 0);
}

/* A cache with slab sheaves: marked ~ (its kfree_rcu() frees reach no
 * tracepoint) unless kvfree_call_rcu() is followed (fentry and tracking). */
static void sheaves_marked(void **state)
{
    static const char *mn = "maple_node";
    struct kmem_alloc_entry v[] = {{.cgid = 7,
                                    .cache = mn,
                                    .objsize = 256,
                                    .allocs = 10,
                                    .bytes_alloc = 2560,
                                    .cgroup = "/a",
                                    .pod_name = "",
                                    .namespace_name = "",
                                    .container_name = "",
                                    .sheaves = true}};
    struct kmem_alloc_table t = {.n = 1, .v = v, .seconds = 1, .tracking = true, .events = 10};
    struct kt_sink sink = {.line = keep_line, .width = 0, .rows_left = -1};

    (void)state;
    nlines = 0;
    kt_alloc_render(&sink, &t, NULL, 'n', false, NULL);
    assert_true(find_line("caches marked ~ have slab sheaves") >= 0);
    assert_true(find_line(" maple_node~ ") >= 0);
    t.bulk_traced = true;
    nlines = 0;
    kt_alloc_render(&sink, &t, NULL, 'n', false, NULL);
    assert_int_equal(find_line("caches marked ~"), -1);
    assert_int_equal(find_line("maple_node~"), -1);
}

/*
 * The labels of every alloc family of the exporter, for a pod's cgroup, a
 * plain cgroup and the interrupts' pseudo-cgroup, in both modes: each sample
 * line with a cgroup label carries the namespace, pod and container of that
 * cgroup (empty for the others). Counts the lines checked.
 */
static int check_labels(const char *text, int *families)
{
    static const struct {
        const char *cgroup, *ns, *pod, *ctr;
    } want[] = {
        {"/kubepods/burstable/pod1/c1", "prod", "web", "nginx"},
        {"/system.slice/a.service", "", "", ""},
        {"(interrupt)", "", "", ""},
    };
    char fam[16][96];
    int checked = 0, nf = 0;

    for (const char *l = text; *l;) {
        const char *end = strchr(l, '\n');
        char line[1024], name[96];
        size_t len = end ? (size_t)(end - l) : strlen(l);

        snprintf(line, sizeof(line), "%.*s", (int)len, l);
        l += len + (end ? 1 : 0);
        if (line[0] == '#' || !strstr(line, "cgroup=\""))
            continue;
        sscanf(line, "%95[^{]", name);
        int w = -1;
        for (int i = 0; i < 3; i++) {
            char c[160];

            snprintf(c, sizeof(c), "cgroup=\"%s\"", want[i].cgroup);
            if (strstr(line, c))
                w = i;
        }
        assert_true(w >= 0);
        char exp[512];
        snprintf(exp, sizeof(exp), "pod=\"%s\",namespace=\"%s\",container=\"%s\",cache=\"",
                 want[w].pod, want[w].ns, want[w].ctr);
        if (!strstr(line, exp))
            fail_msg("labels of %s: want %s in\n%s", want[w].cgroup, exp, line);
        checked++;
        int seen = 0;
        for (int i = 0; i < nf; i++)
            seen |= strcmp(fam[i], name) == 0;
        if (!seen && nf < 16)
            snprintf(fam[nf++], sizeof(fam[0]), "%s", name);
    }
    *families = nf;
    return checked;
}

static void exporter_labels(void **state)
{
    static const char *dentry = "dentry", *filp = "filp";
    struct kmem_alloc_entry v[] = {
        {.cgid = 0,
         .cache = dentry,
         .objsize = 192,
         .allocs = 4,
         .frees = 1,
         .bytes_alloc = 768,
         .bytes_freed = 192,
         .cgroup = "(interrupt)"},
        {.cgid = 5,
         .cache = dentry,
         .objsize = 192,
         .allocs = 10,
         .frees = 2,
         .bytes_alloc = 1920,
         .bytes_freed = 384,
         .acc_allocs = 10,
         .acc_bytes = 1920,
         .cgroup = "/system.slice/a.service"},
        {.cgid = 9,
         .cache = dentry,
         .objsize = 192,
         .allocs = 100,
         .frees = 10,
         .bytes_alloc = 19200,
         .bytes_freed = 1920,
         .acc_allocs = 100,
         .acc_bytes = 19200,
         .cgroup = "/kubepods/burstable/pod1/c1",
         .pod_name = "web",
         .namespace_name = "prod",
         .container_name = "nginx"},
        {.cgid = 9,
         .cache = filp,
         .objsize = 256,
         .allocs = 1,
         .bytes_alloc = 256,
         .cgroup = "/kubepods/burstable/pod1/c1",
         .pod_name = "web",
         .namespace_name = "prod",
         .container_name = "nginx"},
    };
    struct kmem_alloc_table t = {.n = 4, .v = v, .seconds = 3, .tracking = true};
    const enum kmem_alloc_mode modes[] = {KMEM_ALLOC_TRACK, KMEM_ALLOC_COUNTS, KMEM_ALLOC_RATES};
    const int min_families[] = {6, 5, 2};

    (void)state;
    for (size_t j = 0; j < 4; j++)
        if (!v[j].pod_name)
            v[j].pod_name = v[j].namespace_name = v[j].container_name = "";
    for (int m = 0; m < 3; m++) {
        /* top 2: one pair of the pod has its own series, its other pair is in "other" */
        struct kx_alloc_cfg cfg = {.top = 2, .mode = modes[m], .fixture = true};
        struct kx_alloc *x;
        struct kmem_buf b;
        char err[64] = "";
        int nf = 0, n;

        t.mode = modes[m];
        t.tracking = modes[m] == KMEM_ALLOC_TRACK;
        assert_int_equal(kx_alloc_new(&x, &cfg, err, sizeof(err)), 0);
        assert_int_equal(kx_alloc_collect_table(x, &t), 0);
        kmem_buf_init(&b, 1 << 20);
        kx_alloc_render(x, &b);
        n = check_labels(b.data, &nf);
        /* every family with cgroup labels, each with the 3 cgroups (+ "other") */
        assert_true(nf >= min_families[m]);
        assert_true(n >= 3 * min_families[m]);
        assert_non_null(strstr(b.data, "cache=\"other\""));
        kmem_buf_free(&b);
        kx_alloc_free(x);
    }
}

/*
 * The sum of family @fam's samples (the top pairs and "other") for @cgroup
 * in @text; *@n counts the samples.
 */
static int entry_order(const void *pa, const void *pb)
{
    const struct kmem_alloc_entry *a = pa, *b = pb;

    return kmem_alloc_entry_cmp(a->cgid, a->cache, b->cgid, b->cache);
}

static double family_sum(const char *text, const char *fam, const char *cgroup, int *n)
{
    char head[160];
    double sum = 0;
    size_t hl = (size_t)snprintf(head, sizeof(head), "%s{cgroup=\"%s\",", fam, cgroup);

    *n = 0;
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *sp;

        if (strncmp(l, head, hl) != 0)
            continue;
        sp = strstr(l, "} ");
        assert_non_null(sp);
        sum += strtod(sp + 2, NULL);
        (*n)++;
    }
    return sum;
}

/*
 * The values of the alloc families: for each cgroup, its samples (its own
 * pairs and "other") add up to its entries' counts, in both collections;
 * the second collection has a pair join the top N with counts it already
 * had in "other" (its base stays there). Rates are per second of the window.
 */
static void exporter_values(void **state)
{
    static const char *dentry = "dentry", *filp = "filp", *kmalloc = "kmalloc-64";
    struct kmem_alloc_entry v1[] = {
        {.cgid = 5,
         .cache = dentry,
         .allocs = 10,
         .frees = 2,
         .bytes_alloc = 1920,
         .bytes_freed = 384,
         .acc_bytes = 1900,
         .cgroup = "/b"},
        {.cgid = 9,
         .cache = dentry,
         .allocs = 100,
         .frees = 10,
         .bytes_alloc = 19200,
         .bytes_freed = 1920,
         .acc_bytes = 19000,
         .cgroup = "/a"},
    };
    struct kmem_alloc_entry v2[] = {
        {.cgid = 5,
         .cache = dentry,
         .allocs = 300,
         .frees = 20,
         .bytes_alloc = 57600,
         .bytes_freed = 3840,
         .acc_bytes = 57000,
         .cgroup = "/b"},
        {.cgid = 5,
         .cache = kmalloc,
         .allocs = 7,
         .frees = 1,
         .bytes_alloc = 448,
         .bytes_freed = 64,
         .acc_bytes = 400,
         .cgroup = "/b"},
        {.cgid = 7,
         .cache = filp,
         .allocs = 200,
         .frees = 30,
         .bytes_alloc = 51200,
         .bytes_freed = 7680,
         .acc_bytes = 51000,
         .cgroup = "/c"},
        {.cgid = 9,
         .cache = dentry,
         .allocs = 110,
         .frees = 12,
         .bytes_alloc = 21120,
         .bytes_freed = 2304,
         .acc_bytes = 21000,
         .cgroup = "/a"},
    };
    static const char *const fams[] = {
        "kmem_alloc_objects_allocated_total",         "kmem_alloc_objects_freed_total",
        "kmem_alloc_bytes_allocated_total",           "kmem_alloc_bytes_freed_total",
        "kmem_alloc_accounted_bytes_allocated_total", "kmem_alloc_live_bytes"};
    struct kmem_alloc_table t1 = {.n = 2, .v = v1, .seconds = 4, .tracking = true};
    struct kmem_alloc_table t2 = {.n = 4, .v = v2, .seconds = 4, .tracking = true};
    int compared = 0;

    (void)state;
    for (size_t j = 0; j < 2; j++)
        v1[j].pod_name = v1[j].namespace_name = v1[j].container_name = "";
    for (size_t j = 0; j < 4; j++)
        v2[j].pod_name = v2[j].namespace_name = v2[j].container_name = "";
    qsort(v2, 4, sizeof(v2[0]), entry_order); /* the order a tracer's table has */
    for (int mode = 0; mode < 2; mode++) {
        struct kx_alloc_cfg cfg = {
            .top = 1, .mode = mode ? KMEM_ALLOC_RATES : KMEM_ALLOC_TRACK, .fixture = true};
        struct kx_alloc *x;
        char err[64] = "";

        t1.mode = t2.mode = cfg.mode;
        t1.tracking = t2.tracking = !mode;
        assert_int_equal(kx_alloc_new(&x, &cfg, err, sizeof(err)), 0);
        for (int c = 0; c < 2; c++) {
            const struct kmem_alloc_table *t = c ? &t2 : &t1;
            struct kmem_buf b;

            assert_int_equal(kx_alloc_collect_table(x, t), 0);
            kmem_buf_init(&b, 1 << 20);
            kx_alloc_render(x, &b);
            for (size_t e = 0; e < t->n; e++) {
                const char *cg = t->v[e].cgroup;
                uint64_t want[6] = {0};
                int n;

                if (e && strcmp(t->v[e - 1].cgroup, cg) == 0)
                    continue; /* each cgroup once */
                for (size_t k = e; k < t->n && strcmp(t->v[k].cgroup, cg) == 0; k++) {
                    want[0] += t->v[k].allocs;
                    want[1] += t->v[k].frees;
                    want[2] += t->v[k].bytes_alloc;
                    want[3] += t->v[k].bytes_freed;
                    want[4] += t->v[k].acc_bytes;
                    want[5] += (uint64_t)kmem_alloc_net(&t->v[k]);
                }
                if (mode) {
                    double o = family_sum(b.data, "kmem_alloc_rate_objects_per_second", cg, &n);
                    double by = family_sum(b.data, "kmem_alloc_rate_bytes_per_second", cg, &n);

                    if (o != (double)want[0] / 4 || by != (double)want[2] / 4)
                        fail_msg(
                            "collection %d, %s: rates %g objects/s, %g bytes/s; want %g, %g\n%s",
                            c + 1, cg, o, by, (double)want[0] / 4, (double)want[2] / 4, b.data);
                    assert_true(n >= 1);
                    compared += 2;
                    continue;
                }
                for (int f = 0; f < 6; f++) {
                    double got = family_sum(b.data, fams[f], cg, &n);

                    if (got != (double)want[f])
                        fail_msg("collection %d, %s: %s sums to %.0f, its entries to %" PRIu64
                                 "\n%s",
                                 c + 1, cg, fams[f], got, want[f], b.data);
                    assert_true(n >= 1);
                    compared++;
                }
            }
            if (c == 1 && !mode) /* /b's dentry joined with a base: its own series + "other" */
                assert_non_null(strstr(b.data,
                                       "kmem_alloc_objects_allocated_total{cgroup=\"/b\",pod=\"\","
                                       "namespace=\"\",container=\"\",cache=\"dentry\"} 290\n"));
            kmem_buf_free(&b);
        }
        kx_alloc_free(x);
    }
    /* track: 6 families x (2 + 3 cgroups); rates: 2 x (2 + 3) */
    assert_int_equal(compared, 6 * 5 + 2 * 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kmalloc_names),   cmocka_unit_test(net_and_order),
        cmocka_unit_test(slot_counts),     cmocka_unit_test(render_table),
        cmocka_unit_test(window_pairs),    cmocka_unit_test(sheaves_marked),
        cmocka_unit_test(exporter_labels), cmocka_unit_test(exporter_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
