/* SPDX-License-Identifier: MIT */
/*
 * The parts of the allocation tracer that need no BPF: kmalloc size-class
 * names, the net growth of an entry, the order of table entries, the counts
 * of a slot of the tracer's table, and the kmemtop table rendered from a
 * hand-built trace.
 */
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

KMEM_PRINTF(3, 0)
static bool keep_line(struct kt_sink *s, enum kt_attr attr, const char *fmt, va_list ap)
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kmalloc_names),
        cmocka_unit_test(net_and_order),
        cmocka_unit_test(slot_counts),
        cmocka_unit_test(render_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
