/* SPDX-License-Identifier: MIT */
/*
 * Node kernel memory: the meminfo / vmstat / zoneinfo parsers (table-driven),
 * the breakdown into kinds, CONFIG_VMAP_STACK detection, the reader on the
 * shared fixture tree and on the live kernel.
 *
 * With KMEM_NODE_DUMP=1 the binary instead prints one collection of the node
 * ("key value" lines, bytes) from KMEM_NODE_ROOT (default "/") and exits,
 * after copying /proc/meminfo to KMEM_NODE_MEMINFO_COPY if set (and, with
 * KMEM_NODE_MEMINFO_BEFORE, to that file just before the collection):
 * tests/integration/node_live.sh checks those figures against /proc.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
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

#include "kmem.h"
#include "kv.h"

#define KB     UINT64_C(1024)
#define BIT(f) (UINT64_C(1) << (f))

/* ---- meminfo parser ---------------------------------------------------- */

struct mi_expect {
    enum kmem_meminfo_field f;
    uint64_t v;
};

struct mi_case {
    const char *name;
    const char *text;
    size_t len; /* 0: strlen(text) */
    int rc;
    unsigned line; /* error line when rc != 0 */
    uint64_t present;
    struct mi_expect e[6];
    unsigned ne;
};

static const struct mi_case mi_cases[] = {
    {"good",
     "MemTotal:       24684092 kB\nMemFree:        23564500 kB\nActive(anon):       1544 kB\n"
     "HugePages_Total:       3\nHugepagesize:       2048 kB\n",
     0,
     0,
     0,
     BIT(KMEM_MI_MEMTOTAL) | BIT(KMEM_MI_MEMFREE) | BIT(KMEM_MI_HUGEPAGES_TOTAL) |
         BIT(KMEM_MI_HUGEPAGESIZE),
     {{KMEM_MI_MEMTOTAL, 24684092 * KB},
      {KMEM_MI_MEMFREE, 23564500 * KB},
      {KMEM_MI_HUGEPAGES_TOTAL, 3},
      {KMEM_MI_HUGEPAGESIZE, 2048 * KB}},
     4},
    {"unknown keys skipped, no trailing newline",
     "Foo:  1 kB\nActive(file): 2 kB\nSUnreclaim:   25340 kB\nBar_Baz: 7",
     0,
     0,
     0,
     BIT(KMEM_MI_SUNRECLAIM),
     {{KMEM_MI_SUNRECLAIM, 25340 * KB}, {KMEM_MI_MEMTOTAL, 0}},
     2},
    {"prefix of a key is another key",
     "Active:  10 kB\nActive(anon): 4 kB\nInactive: 20 kB\n",
     0,
     0,
     0,
     BIT(KMEM_MI_ACTIVE) | BIT(KMEM_MI_INACTIVE),
     {{KMEM_MI_ACTIVE, 10 * KB}, {KMEM_MI_INACTIVE, 20 * KB}},
     2},
    {"blank lines and tabs",
     "\n  \nMemTotal:\t5 kB\t\n\n",
     0,
     0,
     0,
     BIT(KMEM_MI_MEMTOTAL),
     {{KMEM_MI_MEMTOTAL, 5 * KB}},
     1},
    {"repeated key: last wins",
     "Percpu: 1 kB\nPercpu: 2 kB\n",
     0,
     0,
     0,
     BIT(KMEM_MI_PERCPU),
     {{KMEM_MI_PERCPU, 2 * KB}},
     1},
    {"largest kB value",
     "MemTotal: 18014398509481983 kB\n",
     0,
     0,
     0,
     BIT(KMEM_MI_MEMTOTAL),
     {{KMEM_MI_MEMTOTAL, 18014398509481983ull * KB}},
     1},
    {"largest count",
     "HugePages_Total: 18446744073709551615\n",
     0,
     0,
     0,
     BIT(KMEM_MI_HUGEPAGES_TOTAL),
     {{KMEM_MI_HUGEPAGES_TOTAL, UINT64_MAX}},
     1},
    {"empty", "", 0, 0, 0, 0, {{KMEM_MI_MEMTOTAL, 0}}, 1},
    {"missing fields stay 0",
     "MemFree: 9 kB\n",
     0,
     0,
     0,
     BIT(KMEM_MI_MEMFREE),
     {{KMEM_MI_MEMTOTAL, 0}, {KMEM_MI_SRECLAIMABLE, 0}, {KMEM_MI_MEMFREE, 9 * KB}},
     3},
    {"garbage", "garbage\n", 0, -EINVAL, 1, 0, {{0, 0}}, 0},
    {"no colon", "MemTotal 5 kB\n", 0, -EINVAL, 1, 0, {{0, 0}}, 0},
    {"lone colon", "MemTotal: 1 kB\n: 5 kB\n", 0, -EINVAL, 2, 0, {{0, 0}}, 0},
    {"truncated line", "MemTotal: 1 kB\nMemFree:", 0, -EINVAL, 2, 0, {{0, 0}}, 0},
    {"not a number", "MemTotal: 1 kB\nMemFree: 2 kB\nSlab: x kB\n", 0, -EINVAL, 3, 0, {{0, 0}}, 0},
    {"negative", "MemTotal: -1 kB\n", 0, -EINVAL, 1, 0, {{0, 0}}, 0},
    {"number overflow", "MemTotal: 18446744073709551616\n", 0, -EINVAL, 1, 0, {{0, 0}}, 0},
    {"kB overflow", "MemTotal: 18014398509481984 kB\n", 0, -EINVAL, 1, 0, {{0, 0}}, 0},
    {"bad unit", "MemTotal: 1 MB\n", 0, -EINVAL, 1, 0, {{0, 0}}, 0},
    {"unit glued", "MemTotal: 1kB\n", 0, -EINVAL, 1, 0, {{0, 0}}, 0},
    {"text after unit", "MemTotal: 1 kB extra\n", 0, -EINVAL, 1, 0, {{0, 0}}, 0},
    {"unknown key checked too", "Foo: bar\n", 0, -EINVAL, 1, 0, {{0, 0}}, 0},
    {"NUL in the value line", "MemTotal: 1 kB\0\n", 16, -EINVAL, 1, 0, {{0, 0}}, 0},
    {"NUL in a key", "Mem\0Total: 1 kB\n", 16, -EINVAL, 1, 0, {{0, 0}}, 0},
    {"len stops early",
     "MemTotal: 12 kB\nMemFree: 1 kB\n",
     13,
     0,
     0,
     BIT(KMEM_MI_MEMTOTAL),
     {{KMEM_MI_MEMTOTAL, 12}},
     1},
};

static void test_meminfo_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(mi_cases) / sizeof(mi_cases[0]); i++) {
        const struct mi_case *c = &mi_cases[i];
        size_t len = c->len ? c->len : strlen(c->text);
        struct kmem_meminfo mi;
        struct kmem_parse_error perr = {12345, NULL};
        int rc;

        print_message("meminfo: %s\n", c->name);
        rc = kmem_meminfo_parse(c->text, len, &mi, &perr);
        assert_int_equal(rc, c->rc);
        assert_int_equal(kmem_meminfo_parse(c->text, len, &mi, NULL), c->rc);
        if (rc) {
            assert_int_equal(perr.line, c->line);
            assert_non_null(perr.what);
            continue;
        }
        assert_int_equal(perr.line, 0);
        assert_int_equal(mi.present, c->present);
        for (unsigned j = 0; j < c->ne; j++)
            assert_int_equal(mi.v[c->e[j].f], c->e[j].v);
    }
}

/* ---- vmstat parser ----------------------------------------------------- */

struct vm_case {
    const char *name, *text;
    int rc;
    unsigned line;
    uint64_t present;
    enum kmem_vmstat_field f;
    uint64_t v;
};

static const struct vm_case vm_cases[] = {
    {"good", "nr_free_pages 1086696\nnr_zone_inactive_anon 3\nnr_memmap_boot_pages 98304\n", 0, 0,
     BIT(KMEM_VM_NR_FREE_PAGES) | BIT(KMEM_VM_NR_MEMMAP_BOOT_PAGES), KMEM_VM_NR_MEMMAP_BOOT_PAGES,
     98304},
    {"unknown keys skipped", "pgfault 17\nnr_zspages 5\nnr_foo_bar 9", 0, 0,
     BIT(KMEM_VM_NR_ZSPAGES), KMEM_VM_NR_ZSPAGES, 5},
    {"prefix is not a match", "nr_free_pages_blocks 7\nnr_free_pages 3\n", 0, 0,
     BIT(KMEM_VM_NR_FREE_PAGES), KMEM_VM_NR_FREE_PAGES, 3},
    {"kB unit refused", "nr_kernel_stack 1456 kB\n", -EINVAL, 1, 0, 0, 0},
    {"empty", "", 0, 0, 0, KMEM_VM_NR_FREE_PAGES, 0},
    {"missing value", "nr_free_pages 1\nnr_zspages\n", -EINVAL, 2, 0, 0, 0},
    {"garbage", "nr_free_pages 1\n\nhello world\n", -EINVAL, 3, 0, 0, 0},
    {"overflow", "nr_free_pages 99999999999999999999\n", -EINVAL, 1, 0, 0, 0},
    {"extra field", "nr_free_pages 1 2\n", -EINVAL, 1, 0, 0, 0},
    {"max", "nr_memmap_pages 18446744073709551615\n", 0, 0, BIT(KMEM_VM_NR_MEMMAP_PAGES),
     KMEM_VM_NR_MEMMAP_PAGES, UINT64_MAX},
};

static void test_vmstat_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vm_cases) / sizeof(vm_cases[0]); i++) {
        const struct vm_case *c = &vm_cases[i];
        struct kmem_vmstat vm;
        struct kmem_parse_error perr = {12345, NULL};
        int rc;

        print_message("vmstat: %s\n", c->name);
        rc = kmem_vmstat_parse(c->text, strlen(c->text), &vm, &perr);
        assert_int_equal(rc, c->rc);
        assert_int_equal(perr.line, c->rc ? c->line : 0);
        if (rc)
            continue;
        assert_int_equal(vm.present, c->present);
        assert_int_equal(vm.v[c->f], c->v);
    }
}

/* ---- zoneinfo parser --------------------------------------------------- */

#define ZONE_HDR                                                                                   \
    "Node 0, zone   Normal\n"                                                                      \
    "  pages free     381401\n"                                                                    \
    "        boost    0\n"                                                                         \
    "        high     9410\n"                                                                      \
    "        protection: (0, 0, 0, 0, 0)\n"                                                        \
    "      nr_free_pages 381401\n"

struct zi_case {
    const char *name, *text;
    int rc;
    unsigned line;
    uint64_t pages;
};

static const struct zi_case zi_cases[] = {
    {"two cpus, vm stats threshold between them",
     ZONE_HDR "  pagesets\n"
              "    cpu: 0\n"
              "              count:    5577\n"
              "              high:     5939\n"
              "              batch:    63\n"
              "              high_min: 3921\n"
              "              high_max: 28672\n"
              "  vm stats threshold: 20\n"
              "    cpu: 1\n"
              "              count:    5088\n"
              "              high:     11672\n"
              "  vm stats threshold: 20\n"
              "  node_unreclaimable:  0\n"
              "  start_pfn:           1048576\n",
     0, 0, 10665},
    {"several zones, one without pagesets",
     "Node 0, zone      DMA\n  per-node stats\n      nr_inactive_anon 1476\n"
     "  pagesets\n    cpu: 0\n              count:    7\n  vm stats threshold: 4\n"
     "  start_pfn:           1\n"
     "Node 0, zone  Movable\n  pages free     0\n        protection: (0, 0, 0, 0, 0)\n"
     "Node 1, zone   Normal\n  pagesets\n    cpu: 0\n              count: 100\n",
     0, 0, 107},
    {"count outside pagesets is not counted",
     "Node 0, zone Normal\n  pages free 5\n              count: 1000\n  pagesets\n"
     "    cpu: 0\n              count: 3\n  node_unreclaimable:  0\n"
     "              count: 2000\n",
     0, 0, 3},
    {"only the first count after each cpu",
     "Node 0, zone Normal\n  pagesets\n    cpu: 0\n              count: 3\n"
     "              count: 4000\n",
     0, 0, 3},
    {"count before any cpu is not counted",
     "Node 0, zone Normal\n  pagesets\n              count: 9\n    cpu: 0\n"
     "              count: 1\n",
     0, 0, 1},
    {"old format: cpu: N pcp: M",
     "Node 0, zone Normal\n  pagesets\n    cpu: 0 pcp: 0\n              count: 42\n"
     "              high:  186\n    cpu: 0 pcp: 1\n              count: 11\n",
     0, 0, 53},
    {"empty", "", 0, 0, 0},
    {"garbage outside pagesets is ignored", "hello\n\x01\x02 world\n", 0, 0, 0},
    {"bad count", "Node 0, zone Normal\n  pagesets\n    cpu: 0\n              count: many\n",
     -EINVAL, 4, 0},
    {"truncated count",
     "Node 0, zone Normal\n  pagesets\n    cpu: 0\n              count:", -EINVAL, 4, 0},
    {"bad cpu", "Node 0, zone Normal\n  pagesets\n    cpu: x\n", -EINVAL, 3, 0},
    {"count overflow",
     "Node 0, zone Normal\n  pagesets\n    cpu: 0\n              count: 99999999999999999999\n",
     -EINVAL, 4, 0},
    {"sum overflow",
     "Node 0, zone Normal\n  pagesets\n    cpu: 0\n              count: 18446744073709551615\n"
     "    cpu: 1\n              count: 1\n",
     -EINVAL, 6, 0},
    {"text after pagesets", "Node 0, zone Normal\n  pagesets now\n", -EINVAL, 2, 0},
};

static void test_zoneinfo_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(zi_cases) / sizeof(zi_cases[0]); i++) {
        const struct zi_case *c = &zi_cases[i];
        uint64_t pages = 777;
        struct kmem_parse_error perr = {12345, NULL};
        int rc;

        print_message("zoneinfo: %s\n", c->name);
        rc = kmem_zoneinfo_parse(c->text, strlen(c->text), &pages, &perr);
        assert_int_equal(rc, c->rc);
        assert_int_equal(perr.line, c->rc ? c->line : 0);
        if (!rc)
            assert_int_equal(pages, c->pages);
    }
}

/* ---- compute ----------------------------------------------------------- */

struct node_in {
    uint64_t mi[KMEM_MI_COUNT]; /* kB, except HugePages_Total */
    uint64_t vm[KMEM_VM_COUNT];
    uint64_t pcp;
    bool vmap, hugetlb_line;
    bool stack_slab, scs_slab; /* thread_stack / scs_cache slab caches */
    uint64_t hash_pages_kb;    /* kernel log: hash tables from the page allocator */
    uint64_t pcpu_unit_pages, cpus;
    uint64_t units, unused; /* kernel log pcpu-alloc lines */
};

static void node_from(struct kmem_node *n, const struct node_in *in)
{
    memset(n, 0, sizeof(*n));
    for (int f = 0; f < KMEM_MI_COUNT; f++) {
        n->mi.v[f] = f == KMEM_MI_HUGEPAGES_TOTAL ? in->mi[f] : in->mi[f] * KB;
        if (in->mi[f] || f == KMEM_MI_MEMTOTAL)
            n->mi.present |= BIT(f);
    }
    if (in->hugetlb_line)
        n->mi.present |= BIT(KMEM_MI_HUGETLB);
    else
        n->mi.present &= ~BIT(KMEM_MI_HUGETLB);
    memcpy(n->vm.v, in->vm, sizeof(in->vm));
    n->percpu_free_pages = in->pcp;
    n->vmap_stack = in->vmap;
    n->stack_in_slab = in->stack_slab;
    n->scs_in_slab = in->scs_slab;
    n->boot.hash_bytes[KMEM_HASH_PAGES] = in->hash_pages_kb * KB;
    n->boot.percpu_seen = in->pcpu_unit_pages > 0;
    n->boot.percpu_unit_pages = in->pcpu_unit_pages;
    n->boot.possible_cpus = in->cpus;
    n->boot.percpu_units = in->units;
    n->boot.percpu_units_unused = in->unused;
}

struct compute_case {
    const char *name;
    struct node_in in;
    uint64_t kind[KMEM_NODE_KIND_COUNT]; /* kB */
    int64_t signed_kb;
};

/* A machine with 1000000 kB: numbers chosen so every term is distinct. */
#define BASE_MI                                                                                    \
    [KMEM_MI_MEMTOTAL] = 1000000, [KMEM_MI_MEMFREE] = 600000, [KMEM_MI_ACTIVE] = 100000,           \
    [KMEM_MI_INACTIVE] = 150000, [KMEM_MI_UNEVICTABLE] = 5000, [KMEM_MI_KRECLAIMABLE] = 30500,     \
    [KMEM_MI_SLAB] = 50000, [KMEM_MI_SRECLAIMABLE] = 30000, [KMEM_MI_SUNRECLAIM] = 20000,          \
    [KMEM_MI_KERNELSTACK] = 4000, [KMEM_MI_PAGETABLES] = 3000, [KMEM_MI_SECPAGETABLES] = 200,      \
    [KMEM_MI_VMALLOCUSED] = 10000, [KMEM_MI_PERCPU] = 1500

static const struct compute_case compute_cases[] = {
    /* used = 1000000 - 600000 - 255000 (LRU) - 4000 (pcp 1000 pages) = 141000
     * explained (vmap) = 30000 + 20000 + 4000 + 3000 + 200 + 6000 + 1500 + 500 = 65200 */
    {"vmap'd stacks",
     {{BASE_MI}, {0}, 1000, true, true, false, false, 0, 0, 0, 0, 0},
     {30000, 20000, 4000, 3000, 200, 6000, 1500, 500, 0, 0, 0, 0, 0, 75800},
     75800},
    /* not vmap'd: vmalloc keeps all 10000, stacks counted apart: explained 69200 */
    {"stacks not vmap'd",
     {{BASE_MI}, {0}, 1000, false, true, false, false, 0, 0, 0, 0, 0},
     {30000, 20000, 4000, 3000, 200, 10000, 1500, 500, 0, 0, 0, 0, 0, 71800},
     71800},
    /* ShadowCallStack (arm64) lives in vmalloc: kernel_stack grows, vmalloc shrinks */
    {"shadow call stack",
     {{BASE_MI, [KMEM_MI_SHADOWCALLSTACK] = 700},
      {0},
      1000,
      true,
      true,
      false,
      false,
      0,
      0,
      0,
      0,
      0},
     {30000, 20000, 4700, 3000, 200, 5300, 1500, 500, 0, 0, 0, 0, 0, 75800},
     75800},
    /* 2 default huge pages of 2048 kB without a Hugetlb line = 4096 kB */
    {"hugepages without Hugetlb line",
     {{BASE_MI, [KMEM_MI_HUGEPAGES_TOTAL] = 2, [KMEM_MI_HUGEPAGESIZE] = 2048},
      {0},
      1000,
      true,
      false,
      false,
      false,
      0,
      0,
      0,
      0,
      0},
     {30000, 20000, 4000, 3000, 200, 6000, 1500, 500, 0, 0, 0, 0, 0, 71704},
     71704},
    /* Hugetlb (all sizes, 1 GiB pages included) wins over HugePages_Total x size */
    {"Hugetlb line",
     {{BASE_MI, [KMEM_MI_HUGEPAGES_TOTAL] = 2, [KMEM_MI_HUGEPAGESIZE] = 2048,
       [KMEM_MI_HUGETLB] = 10000},
      {0},
      1000,
      true,
      true,
      false,
      false,
      0,
      0,
      0,
      0,
      0},
     {30000, 20000, 4000, 3000, 200, 6000, 1500, 500, 0, 0, 0, 0, 0, 65800},
     65800},
    /* zswap pool 8000 kB, 3000 zspages (12000 kB) of which 4000 kB are zram */
    {"zswap and zram",
     {{BASE_MI, [KMEM_MI_ZSWAP] = 8000, [KMEM_MI_ZSWAPPED] = 30000},
      {[KMEM_VM_NR_ZSPAGES] = 3000},
      1000,
      true,
      true,
      false,
      false,
      0,
      0,
      0,
      0,
      0},
     {30000, 20000, 4000, 3000, 200, 6000, 1500, 500, 8000, 4000, 0, 0, 0, 63800},
     63800},
    /* memmap and Unaccepted (part of MemFree) change nothing in the kinds */
    {"memmap and unaccepted",
     {{BASE_MI, [KMEM_MI_UNACCEPTED] = 50000, [KMEM_MI_BALLOON] = 0},
      {[KMEM_VM_NR_MEMMAP_PAGES] = 10, [KMEM_VM_NR_MEMMAP_BOOT_PAGES] = 100},
      1000,
      true,
      true,
      false,
      false,
      0,
      0,
      0,
      0,
      0},
     {30000, 20000, 4000, 3000, 200, 6000, 1500, 500, 0, 0, 0, 0, 0, 75800},
     75800},
    /* counters read at different instants: nothing goes below 0 */
    {"clamps",
     {{[KMEM_MI_MEMTOTAL] = 1000000,
       [KMEM_MI_MEMFREE] = 900000,
       [KMEM_MI_ACTIVE] = 100000,
       [KMEM_MI_INACTIVE] = 150000,
       [KMEM_MI_UNEVICTABLE] = 5000,
       [KMEM_MI_KRECLAIMABLE] = 29000,
       [KMEM_MI_SLAB] = 50000,
       [KMEM_MI_SRECLAIMABLE] = 30000,
       [KMEM_MI_SUNRECLAIM] = 20000,
       [KMEM_MI_KERNELSTACK] = 4000,
       [KMEM_MI_PAGETABLES] = 3000,
       [KMEM_MI_SECPAGETABLES] = 200,
       [KMEM_MI_VMALLOCUSED] = 3000,
       [KMEM_MI_PERCPU] = 1500},
      {0},
      1000,
      true,
      true,
      false,
      false,
      0,
      0,
      0,
      0,
      0},
     {30000, 20000, 4000, 3000, 200, 0, 1500, 0, 0, 0, 0, 0, 0, 0},
     -(int64_t)(900000 + 255000 + 4000 + 58700 - 1000000)},
    {"all zero", {{0}, {0}, 0, true, true, false, false, 0, 0, 0, 0, 0}, {0}, 0},
    /* thread_stack slab cache: KernelStack is inside SUnreclaim, not in VmallocUsed */
    {"thread stacks from a slab cache",
     {{BASE_MI}, {0}, 1000, false, true, true, false, 0, 0, 0, 0, 0},
     {30000, 16000, 4000, 3000, 200, 10000, 1500, 500, 0, 0, 0, 0, 0, 75800},
     75800},
    /* scs_cache (5.8-5.13): ShadowCallStack is inside SUnreclaim, VmallocUsed keeps it out */
    {"shadow call stacks from a slab cache",
     {{BASE_MI, [KMEM_MI_SHADOWCALLSTACK] = 700},
      {0},
      1000,
      true,
      true,
      false,
      true,
      0,
      0,
      0,
      0,
      0},
     {30000, 19300, 4700, 3000, 200, 6000, 1500, 500, 0, 0, 0, 0, 0, 75800},
     75800},
    /* Bounce and WritebackTmp are kinds; isolated user pages (25 pages) only leave the rest */
    {"bounce, writeback_tmp, isolated pages",
     {{BASE_MI, [KMEM_MI_BOUNCE] = 100, [KMEM_MI_WRITEBACKTMP] = 50},
      {[KMEM_VM_NR_ISOLATED_ANON] = 10, [KMEM_VM_NR_ISOLATED_FILE] = 15},
      1000,
      true,
      true,
      false,
      false,
      0,
      0,
      0,
      0,
      0},
     {30000, 20000, 4000, 3000, 200, 6000, 1500, 500, 0, 0, 100, 50, 0, 75550},
     75550},
    /* kernel log: 2048 kB of hash tables from the page allocator; first chunk 50 pages x 2 */
    {"boot hash tables and the per-CPU first chunk",
     {{BASE_MI}, {0}, 1000, true, true, false, false, 2048, 50, 2, 0, 0},
     {30000, 20000, 4000, 3000, 200, 6000, 1100, 500, 0, 0, 0, 0, 2048, 74152},
     74152},
    /* a first chunk larger than Percpu is not what this kernel counts: Percpu stays whole */
    {"first chunk larger than Percpu",
     {{BASE_MI}, {0}, 1000, true, true, false, false, 0, 1000, 2, 0, 0},
     {30000, 20000, 4000, 3000, 200, 6000, 1500, 500, 0, 0, 0, 0, 0, 75800},
     75800},
    /*
     * 6 CPUs in 8 units (x86-64 2 MiB atoms): Percpu = populated pages x 8 units.
     * First chunk 25 pages x 8 = 800 kB; later chunks (1500 - 800 = 700 kB
     * as Percpu counts them) have pages for the 6 used units only: 525 kB.
     */
    {"per-CPU units: 6 CPUs, 8 units",
     {{BASE_MI}, {0}, 1000, true, true, false, false, 0, 25, 6, 8, 2},
     {30000, 20000, 4000, 3000, 200, 6000, 525, 500, 0, 0, 0, 0, 0, 76775},
     76775},
    /* the same log without its pcpu-alloc lines: one unit per possible CPU */
    {"per-CPU units unknown: possible CPUs",
     {{BASE_MI}, {0}, 1000, true, true, false, false, 0, 25, 6, 0, 0},
     {30000, 20000, 4000, 3000, 200, 6000, 900, 500, 0, 0, 0, 0, 0, 76400},
     76400},
};

static uint64_t kind_sum(const struct kmem_node *n)
{
    uint64_t s = 0;

    for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++)
        s += n->kind[k];
    return s;
}

static void test_compute(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(compute_cases) / sizeof(compute_cases[0]); i++) {
        const struct compute_case *c = &compute_cases[i];
        struct kmem_node n;

        print_message("compute: %s\n", c->name);
        node_from(&n, &c->in);
        kmem_node_compute(&n, 4096);
        for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++) {
            if (n.kind[k] != c->kind[k] * KB)
                print_message("  kind %s: %" PRIu64 " != %" PRIu64 "\n", kmem_node_kind_name[k],
                              n.kind[k] / KB, c->kind[k]);
            assert_int_equal(n.kind[k], c->kind[k] * KB);
        }
        assert_int_equal(n.unaccounted_signed, c->signed_kb * (int64_t)KB);
        assert_int_equal(n.kernel_total, kind_sum(&n));
        assert_int_equal(n.percpu_free_bytes, c->in.pcp * 4096);
        assert_int_equal(n.page_size, 4096);
        assert_int_equal(
            n.memmap_bytes,
            (c->in.vm[KMEM_VM_NR_MEMMAP_PAGES] + c->in.vm[KMEM_VM_NR_MEMMAP_BOOT_PAGES]) * 4096);
        assert_int_equal(n.memmap_boot_bytes, c->in.vm[KMEM_VM_NR_MEMMAP_BOOT_PAGES] * 4096);
        assert_int_equal(n.lru_bytes, (c->in.mi[KMEM_MI_ACTIVE] + c->in.mi[KMEM_MI_INACTIVE] +
                                       c->in.mi[KMEM_MI_UNEVICTABLE]) *
                                          KB);
    }
}

/*
 * The kinds never overlap: their sum is kernel_total, each one is its
 * meminfo source, and when nothing was clamped kernel_total is exactly what
 * MemTotal leaves after free pages, LRU pages and hugetlb.
 */
static void test_no_overlap(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(compute_cases) / sizeof(compute_cases[0]); i++) {
        const struct compute_case *c = &compute_cases[i];
        const uint64_t *mi;
        struct kmem_node n;

        for (int vmap = 0; vmap < 2; vmap++) {
            node_from(&n, &c->in);
            n.vmap_stack = vmap;
            kmem_node_compute(&n, 4096);
            mi = n.mi.v;
            assert_int_equal(n.kernel_total, kind_sum(&n));
            assert_int_equal(n.kind[KMEM_NODE_SLAB_RECLAIMABLE], mi[KMEM_MI_SRECLAIMABLE]);
            uint64_t in_slab = (n.stack_in_slab ? mi[KMEM_MI_KERNELSTACK] : 0) +
                               (n.scs_in_slab ? mi[KMEM_MI_SHADOWCALLSTACK] : 0);
            if (mi[KMEM_MI_SUNRECLAIM] >= in_slab) {
                /* stacks from slab caches are kernel_stack, not slab: no byte twice */
                assert_int_equal(n.kind[KMEM_NODE_SLAB_UNRECLAIMABLE] + in_slab,
                                 mi[KMEM_MI_SUNRECLAIM]);
                assert_int_equal(n.kind[KMEM_NODE_SLAB_RECLAIMABLE] +
                                     n.kind[KMEM_NODE_SLAB_UNRECLAIMABLE] + in_slab,
                                 mi[KMEM_MI_SLAB]);
            }
            assert_int_equal(n.kind[KMEM_NODE_KERNEL_STACK],
                             mi[KMEM_MI_KERNELSTACK] + mi[KMEM_MI_SHADOWCALLSTACK]);
            assert_int_equal(n.kind[KMEM_NODE_PAGETABLES], mi[KMEM_MI_PAGETABLES]);
            assert_int_equal(n.kind[KMEM_NODE_SEC_PAGETABLES], mi[KMEM_MI_SECPAGETABLES]);
            if (n.percpu_units == n.percpu_units_used)
                assert_int_equal(n.kind[KMEM_NODE_PERCPU] + n.percpu_first_chunk_bytes,
                                 mi[KMEM_MI_PERCPU]);
            else
                assert_int_equal(n.kind[KMEM_NODE_PERCPU] * n.percpu_units,
                                 (mi[KMEM_MI_PERCPU] - n.percpu_first_chunk_bytes) *
                                     n.percpu_units_used);
            assert_int_equal(n.percpu_first_chunk_kept_bytes * n.percpu_units,
                             n.percpu_first_chunk_bytes * n.percpu_units_used);
            assert_int_equal(n.kind[KMEM_NODE_BOUNCE], mi[KMEM_MI_BOUNCE]);
            assert_int_equal(n.kind[KMEM_NODE_WRITEBACK_TMP], mi[KMEM_MI_WRITEBACKTMP]);
            assert_int_equal(n.kind[KMEM_NODE_ZSWAP], mi[KMEM_MI_ZSWAP]);
            {
                uint64_t in_vm = (vmap && !n.stack_in_slab ? mi[KMEM_MI_KERNELSTACK] : 0) +
                                 (n.scs_in_slab ? 0 : mi[KMEM_MI_SHADOWCALLSTACK]);

                /* vmalloc + vmap'd stacks is VmallocUsed, no byte twice */
                if (mi[KMEM_MI_VMALLOCUSED] >= in_vm)
                    assert_int_equal(n.kind[KMEM_NODE_VMALLOC] + in_vm, mi[KMEM_MI_VMALLOCUSED]);
            }
            if (n.unaccounted_signed >= 0 && mi[KMEM_MI_KRECLAIMABLE] >= mi[KMEM_MI_SRECLAIMABLE] &&
                n.kind[KMEM_NODE_VMALLOC] > 0) {
                assert_int_equal(n.kernel_total, mi[KMEM_MI_MEMTOTAL] - mi[KMEM_MI_MEMFREE] -
                                                     n.lru_bytes - n.hugetlb_bytes -
                                                     n.percpu_free_bytes - n.isolated_bytes);
            }
        }
    }
}

/* Extreme inputs saturate; nothing wraps around. */
static void test_compute_saturates(void **state)
{
    struct kmem_node n;

    (void)state;
    memset(&n, 0, sizeof(n));
    for (int f = 0; f < KMEM_MI_COUNT; f++)
        n.mi.v[f] = UINT64_MAX;
    for (int f = 0; f < KMEM_VM_COUNT; f++)
        n.vm.v[f] = UINT64_MAX;
    n.percpu_free_pages = UINT64_MAX;
    kmem_node_compute(&n, 65536);
    assert_int_equal(n.kernel_total, UINT64_MAX);
    assert_int_equal(n.memmap_bytes, UINT64_MAX);
    assert_int_equal(n.kind[KMEM_NODE_UNACCOUNTED], 0);
    assert_true(n.unaccounted_signed <= 0);

    memset(&n, 0, sizeof(n));
    n.mi.v[KMEM_MI_MEMTOTAL] = 1;
    n.mi.v[KMEM_MI_MEMFREE] = UINT64_MAX;
    kmem_node_compute(&n, 4096);
    assert_int_equal(n.kind[KMEM_NODE_UNACCOUNTED], 0);
    assert_int_equal(n.unaccounted_signed, -INT64_MAX);

    memset(&n, 0, sizeof(n));
    n.mi.v[KMEM_MI_MEMTOTAL] = UINT64_MAX;
    kmem_node_compute(&n, 4096);
    assert_int_equal(n.kind[KMEM_NODE_UNACCOUNTED], UINT64_MAX);
    assert_int_equal(n.unaccounted_signed, INT64_MAX);
}

static void test_names(void **state)
{
    (void)state;
    for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++) {
        assert_non_null(kmem_node_kind_name[k]);
        for (int j = 0; j < k; j++)
            assert_string_not_equal(kmem_node_kind_name[k], kmem_node_kind_name[j]);
    }
    assert_string_equal(kmem_node_kind_name[KMEM_NODE_UNACCOUNTED], "unaccounted");
    for (int s = 0; s < KMEM_VMAP_STACK_SOURCE_COUNT; s++)
        assert_non_null(kmem_vmap_stack_source_name[s]);
}

/* ---- fixture tree ------------------------------------------------------ */

static const char *fixture_root(char *buf, size_t len)
{
    return fixture_path(buf, len, "debian12-linux6.18-hybrid");
}

/*
 * The shared fixture (Debian 12, Linux 6.18, x86_64). Expected values are
 * the fixture's own numbers, read by hand from proc/meminfo, proc/vmstat and
 * proc/zoneinfo. The tree has no vmallocinfo and no boot/config: the x86_64
 * default (vmap'd stacks) applies.
 */
static void test_fixture(void **state)
{
    const uint64_t ps = kmem_page_size();
    const struct kmem_node *n;
    struct kmem_ctx *ctx;
    char root[4096], err[256];

    (void)state;
    assert_int_equal(kmem_ctx_new(&ctx, fixture_root(root, sizeof(root)), err, sizeof(err)), 0);
    assert_int_equal(kmem_collect(ctx, KMEM_COLLECT_NODE), 0);
    n = &kmem_current(ctx)->node;
    assert_int_equal(kmem_current(ctx)->status[KMEM_PART_NODE].err, 0);

    assert_int_equal(n->mi.v[KMEM_MI_MEMTOTAL], 24684092 * KB);
    assert_int_equal(n->mi.v[KMEM_MI_HUGEPAGESIZE], 2048 * KB);
    assert_int_equal(n->vm.v[KMEM_VM_NR_FREE_PAGES], 1086696);
    /* zoneinfo: Normal zone, cpu 0 count 4181 + cpu 1 count 8065; DMA/DMA32 0 */
    assert_int_equal(n->percpu_free_pages, 4181 + 8065);
    assert_int_equal(n->percpu_free_bytes, (4181 + 8065) * ps);
    /* vmstat nr_memmap_boot_pages 98304, nr_memmap_pages 0 */
    assert_int_equal(n->memmap_bytes, 98304 * ps);
    assert_int_equal(n->memmap_boot_bytes, 98304 * ps);

    if (n->vmap_stack_source != KMEM_VMAP_STACK_ARCH)
        fail_msg("fixture: vmap stack source %s",
                 kmem_vmap_stack_source_name[n->vmap_stack_source]);
#if defined(__x86_64__)
    assert_true(n->vmap_stack);
    assert_int_equal(n->kind[KMEM_NODE_VMALLOC],
                     (14252 - 1456) * KB); /* VmallocUsed - KernelStack */
#endif
    assert_int_equal(n->kind[KMEM_NODE_SLAB_RECLAIMABLE], 70932 * KB);   /* SReclaimable */
    assert_int_equal(n->kind[KMEM_NODE_SLAB_UNRECLAIMABLE], 25340 * KB); /* SUnreclaim */
    assert_int_equal(n->kind[KMEM_NODE_KERNEL_STACK], 1456 * KB);        /* KernelStack */
    assert_int_equal(n->kind[KMEM_NODE_PAGETABLES], 1916 * KB);          /* PageTables */
    assert_int_equal(n->kind[KMEM_NODE_SEC_PAGETABLES], 0);              /* SecPageTables */
    assert_int_equal(n->kind[KMEM_NODE_PERCPU], 976 * KB);               /* Percpu */
    assert_int_equal(n->kind[KMEM_NODE_OTHER_RECLAIMABLE], 0);           /* 70932 - 70932 */
    assert_int_equal(n->kind[KMEM_NODE_ZSWAP], 0);
    assert_int_equal(n->kind[KMEM_NODE_ZRAM], 0);
#if defined(__x86_64__)
    /*
     * 24684092 MemTotal - 23564500 MemFree - (246888 + 679772 + 14848) LRU
     * - 70932 - 25340 slab - 1456 stack - 1916 pagetables - 0 - 14252 VmallocUsed
     * - 976 Percpu - 0 hugetlb - 0 zswap - 12246 x 4 kB per-CPU free = 15684 kB
     */
    if (ps == 4096) {
        assert_int_equal(n->kind[KMEM_NODE_UNACCOUNTED], 15684 * KB);
        assert_int_equal(n->unaccounted_signed, 15684 * (int64_t)KB);
        assert_int_equal(n->kernel_total, (113416 + 15684) * KB);
    }
#endif
    assert_int_equal(n->kernel_total, kind_sum(n));
    kmem_ctx_free(ctx);
}

/* ---- temporary roots --------------------------------------------------- */

static void copy_fixture(const char *root, const char *rel)
{
    char src[4096 + 64], top[4096], buf[1 << 16];
    size_t n;
    FILE *f;

    snprintf(src, sizeof(src), "%s/proc/%s", fixture_root(top, sizeof(top)), rel);
    f = fopen(src, "r");
    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    snprintf(src, sizeof(src), "proc/%s", rel);
    put_file(root, src, buf);
}

/* A root with the fixture's meminfo, vmstat and zoneinfo. */
static void make_root(char *dir)
{
    strcpy(dir, "/tmp/kmem-test-node.XXXXXX");
    assert_non_null(mkdtemp(dir));
    copy_fixture(dir, "meminfo");
    copy_fixture(dir, "vmstat");
    copy_fixture(dir, "zoneinfo");
}

static const struct kmem_node *collect_node(struct kmem_ctx *ctx)
{
    int rc = kmem_collect(ctx, KMEM_COLLECT_NODE);

    if (rc)
        fail_msg("collect: %s", kmem_strerror(ctx));
    return &kmem_current(ctx)->node;
}

#define STACK_LINE                                                                                 \
    "0x00000000e0321c8e-0x00000000abcd6bb8   20480 kernel_clone+0xb8/0x400 pages=4 vmalloc N0=4\n"
#define OTHER_LINES                                                                                \
    "0x00000000c3fb4af2-0x00000000d4df41c0   20480 irq_init_percpu_irqstack+0xed/0x120 vmap\n"     \
    "0x0000000011111111-0x0000000022222222    8192 bpf_prog_alloc_no_stats+0x4a/0x2a0 pages=1 "    \
    "vmalloc N0=1\n"                                                                               \
    "0x0000000033333333-0x0000000044444444   20480 unpurged vm_area\n"

struct vmap_case {
    const char *name;
    const char *files[3][2]; /* relpath, content */
    bool vmap;
    enum kmem_vmap_stack_source src;
};

static const struct vmap_case vmap_cases[] = {
    {"vmallocinfo with stacks",
     {{"proc/vmallocinfo", OTHER_LINES STACK_LINE}},
     true,
     KMEM_VMAP_STACK_VMALLOCINFO},
    {"vmallocinfo: alloc_thread_stack_node",
     {{"proc/vmallocinfo", "0x1-0x2 20480 alloc_thread_stack_node+0x2c/0x150 pages=4 vmalloc\n"}},
     true,
     KMEM_VMAP_STACK_VMALLOCINFO},
    {"vmallocinfo without stacks (vmallocinfo wins over config)",
     {{"proc/vmallocinfo", OTHER_LINES},
      {"proc/sys/kernel/osrelease", "6.18.0-test\n"},
      {"boot/config-6.18.0-test", "CONFIG_VMAP_STACK=y\n"}},
     false,
     KMEM_VMAP_STACK_VMALLOCINFO},
    {"stack caller without vmalloc flag",
     {{"proc/vmallocinfo", "0x1-0x2 20480 kernel_clone vmap\n"}},
     false,
     KMEM_VMAP_STACK_VMALLOCINFO},
    {"config =y via osrelease",
     {{"proc/sys/kernel/osrelease", "6.18.0-test\n"},
      {"boot/config-6.18.0-test", "CONFIG_HAVE_ARCH_VMAP_STACK=y\nCONFIG_VMAP_STACK=y\n"}},
     true,
     KMEM_VMAP_STACK_CONFIG},
    {"config not set via proc/version",
     {{"proc/version", "Linux version 6.1.0-9-amd64 (debian-kernel@lists.debian.org) #1 SMP\n"},
      {"boot/config-6.1.0-9-amd64", "# CONFIG_VMAP_STACK is not set\n"}},
     false,
     KMEM_VMAP_STACK_CONFIG},
    {"release with a slash is not used as a path",
     {{"proc/sys/kernel/osrelease", "../../x\n"}, {"x", "CONFIG_VMAP_STACK=y\n"}},
     true,
     KMEM_VMAP_STACK_ARCH},
    {"nothing: architecture default", {{NULL, NULL}}, true, KMEM_VMAP_STACK_ARCH},
};

static void test_vmap_detection(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vmap_cases) / sizeof(vmap_cases[0]); i++) {
        const struct vmap_case *c = &vmap_cases[i];
        const struct kmem_node *n;
        struct kmem_ctx *ctx;
        char dir[64], err[256];
        bool want = c->vmap;

        print_message("vmap: %s\n", c->name);
        make_root(dir);
        for (int f = 0; f < 3 && c->files[f][0]; f++)
            put_file(dir, c->files[f][0], c->files[f][1]);
        assert_int_equal(kmem_ctx_new(&ctx, dir, err, sizeof(err)), 0);
        n = collect_node(ctx);
        if (c->src == KMEM_VMAP_STACK_ARCH) {
#if !(defined(__x86_64__) || defined(__aarch64__))
            want = n->vmap_stack_detected;
#endif
        }
        assert_int_equal(n->vmap_stack_source, c->src);
        assert_int_equal(n->vmap_stack_detected, want);
        assert_int_equal(n->vmap_stack, want);
        assert_int_equal(n->kind[KMEM_NODE_VMALLOC], (want ? 14252 - 1456 : 14252) * KB);
        kmem_ctx_free(ctx);
        rm_tree(dir);
    }
}

/* The decision survives a second collection without re-reading vmallocinfo. */
static void test_vmap_decided_once(void **state)
{
    const struct kmem_node *n;
    struct kmem_ctx *ctx;
    char dir[64], err[256];

    (void)state;
    make_root(dir);
    put_file(dir, "proc/vmallocinfo", OTHER_LINES);
    assert_int_equal(kmem_ctx_new(&ctx, dir, err, sizeof(err)), 0);
    n = collect_node(ctx);
    assert_false(n->vmap_stack);
    put_file(dir, "proc/vmallocinfo", STACK_LINE);
    n = collect_node(ctx);
    assert_int_equal(n->vmap_stack_source, KMEM_VMAP_STACK_VMALLOCINFO);
    assert_false(n->vmap_stack);
    kmem_ctx_free(ctx);
    rm_tree(dir);
}

/* VmallocUsed smaller than KernelStack (kernels before 5.3 print 0): not inside. */
static void test_vmap_counter_override(void **state)
{
    const struct kmem_node *n;
    struct kmem_ctx *ctx;
    char dir[64], err[256];

    (void)state;
    make_root(dir);
    put_file(dir, "proc/meminfo",
             "MemTotal: 1000000 kB\nMemFree: 900000 kB\nKernelStack: 4000 kB\n"
             "VmallocUsed: 0 kB\n");
    put_file(dir, "proc/vmallocinfo", STACK_LINE);
    assert_int_equal(kmem_ctx_new(&ctx, dir, err, sizeof(err)), 0);
    n = collect_node(ctx);
    assert_true(n->vmap_stack_detected);
    assert_false(n->vmap_stack);
    assert_int_equal(n->kind[KMEM_NODE_KERNEL_STACK], 4000 * KB);
    assert_int_equal(n->kind[KMEM_NODE_VMALLOC], 0);
    kmem_ctx_free(ctx);
    rm_tree(dir);
}

/* Errors name the file, the line and what is wrong. */
struct err_case {
    const char *name, *rel, *text; /* text NULL: remove the file */
    const char *want;              /* after "<root>/" */
};

static const struct err_case err_cases[] = {
    {"meminfo parse", "proc/meminfo", "MemTotal: 1 kB\nMemFree: lots kB\n",
     "proc/meminfo:2: expected an unsigned number"},
    {"meminfo without MemTotal", "proc/meminfo", "MemFree: 1 kB\n",
     "proc/meminfo: no \"MemTotal:\" line"},
    {"meminfo without MemFree", "proc/meminfo", "MemTotal: 1 kB\n",
     "proc/meminfo: no \"MemFree:\" line"},
    {"vmstat parse", "proc/vmstat", "nr_free_pages 1\nnr_zspages 1 kB\n",
     "proc/vmstat:2: unexpected text after the number"},
    {"empty vmstat", "proc/vmstat", "", "proc/vmstat: no \"nr_free_pages\" line"},
    {"zoneinfo parse", "proc/zoneinfo",
     "Node 0, zone Normal\n  pagesets\n    cpu: 0\n      count: x\n",
     "proc/zoneinfo:4: expected \"count: N\""},
    {"no zoneinfo", "proc/zoneinfo", NULL, "proc/zoneinfo: No such file"},
    {"no meminfo", "proc/meminfo", NULL, "proc/meminfo: No such file"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        const struct err_case *c = &err_cases[i];
        struct kmem_ctx *ctx;
        char dir[64], err[256], want[512], path[128];
        const char *msg;

        print_message("error: %s\n", c->name);
        make_root(dir);
        if (c->text) {
            put_file(dir, c->rel, c->text);
        } else {
            snprintf(path, sizeof(path), "%s/%s", dir, c->rel);
            unlink(path);
        }
        assert_int_equal(kmem_ctx_new(&ctx, dir, err, sizeof(err)), 0);
        assert_true(kmem_collect(ctx, KMEM_COLLECT_NODE) < 0);
        msg = kmem_current(ctx)->status[KMEM_PART_NODE].msg;
        snprintf(want, sizeof(want), "%s/%s", dir, c->want);
        if (!strstr(msg, want))
            fail_msg("message \"%s\" lacks \"%s\"", msg, want);
        assert_string_equal(kmem_strerror(ctx), msg);
        assert_true(kmem_current(ctx)->status[KMEM_PART_NODE].err < 0);
        kmem_ctx_free(ctx);
        rm_tree(dir);
    }
}

/* ---- live kernel ------------------------------------------------------- */

static bool read_meminfo(struct kmem_meminfo *mi)
{
    static char buf[1 << 16];
    ssize_t n;
    int fd = open("/proc/meminfo", O_RDONLY);

    if (fd < 0)
        return false;
    n = read(fd, buf, sizeof(buf));
    close(fd);
    return n > 0 && kmem_meminfo_parse(buf, (size_t)n, mi, NULL) == 0;
}

static bool between(uint64_t v, uint64_t a, uint64_t b)
{
    return (v >= a && v <= b) || (v >= b && v <= a);
}

/*
 * Collect from "/" and check each kind against /proc/meminfo read just
 * before and after (counters move meanwhile: a value between the two reads
 * is right). Retries a few times if the machine is busy.
 */
static void test_live(void **state)
{
    struct kmem_ctx *ctx;
    char err[256];
    bool ok = false;

    (void)state;
    assert_int_equal(kmem_ctx_new(&ctx, "/", err, sizeof(err)), 0);
    for (int attempt = 0; attempt < 10 && !ok; attempt++) {
        struct kmem_meminfo a, b;
        const struct kmem_node *n;

        assert_true(read_meminfo(&a));
        assert_int_equal(kmem_collect(ctx, KMEM_COLLECT_NODE), 0);
        assert_true(read_meminfo(&b));
        n = &kmem_current(ctx)->node;
        assert_int_equal(n->kernel_total, kind_sum(n));
        assert_int_equal(n->mi.v[KMEM_MI_MEMTOTAL], a.v[KMEM_MI_MEMTOTAL]);
        assert_int_not_equal(n->vmap_stack_source, KMEM_VMAP_STACK_UNKNOWN);
        if (geteuid() == 0)
            assert_int_equal(n->vmap_stack_source, KMEM_VMAP_STACK_VMALLOCINFO);
        ok = between(n->kind[KMEM_NODE_SLAB_RECLAIMABLE], a.v[KMEM_MI_SRECLAIMABLE],
                     b.v[KMEM_MI_SRECLAIMABLE]) &&
             between(n->kind[KMEM_NODE_SLAB_UNRECLAIMABLE], a.v[KMEM_MI_SUNRECLAIM],
                     b.v[KMEM_MI_SUNRECLAIM]) &&
             between(n->kind[KMEM_NODE_KERNEL_STACK],
                     a.v[KMEM_MI_KERNELSTACK] + a.v[KMEM_MI_SHADOWCALLSTACK],
                     b.v[KMEM_MI_KERNELSTACK] + b.v[KMEM_MI_SHADOWCALLSTACK]) &&
             between(n->kind[KMEM_NODE_PAGETABLES], a.v[KMEM_MI_PAGETABLES],
                     b.v[KMEM_MI_PAGETABLES]) &&
             between(n->kind[KMEM_NODE_SEC_PAGETABLES], a.v[KMEM_MI_SECPAGETABLES],
                     b.v[KMEM_MI_SECPAGETABLES]) &&
             /* Percpu without its first chunk (allocated at boot, outside MemTotal) */
             between(n->kind[KMEM_NODE_PERCPU] + n->percpu_first_chunk_bytes, a.v[KMEM_MI_PERCPU],
                     b.v[KMEM_MI_PERCPU]) &&
             between(n->kind[KMEM_NODE_ZSWAP], a.v[KMEM_MI_ZSWAP], b.v[KMEM_MI_ZSWAP]) &&
             between(n->kind[KMEM_NODE_VMALLOC] +
                         (n->vmap_stack ? n->mi.v[KMEM_MI_KERNELSTACK] : 0) +
                         n->mi.v[KMEM_MI_SHADOWCALLSTACK],
                     a.v[KMEM_MI_VMALLOCUSED], b.v[KMEM_MI_VMALLOCUSED]) &&
             /* A sane rest: never negative, under 10% of MemTotal. */
             n->unaccounted_signed >= 0 &&
             n->kind[KMEM_NODE_UNACCOUNTED] < n->mi.v[KMEM_MI_MEMTOTAL] / 10;
        if (!ok)
            usleep(100000);
    }
    assert_true(ok);
    kmem_ctx_free(ctx);
}

/* ---- dump mode for tests/integration/node_live.sh ---------------------- */

/* /proc/meminfo to PATH, read in this process (its page tables and slab are
 * still there). */
static int copy_meminfo(const char *path)
{
    char buf[1 << 16];
    int in = open("/proc/meminfo", O_RDONLY);
    ssize_t len = in >= 0 ? read(in, buf, sizeof(buf)) : -1;
    FILE *f = fopen(path, "w");

    if (in >= 0)
        close(in);
    if (len <= 0 || !f || fwrite(buf, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "test_node: cannot copy /proc/meminfo to %s\n", path);
        if (f)
            fclose(f);
        return 1;
    }
    return fclose(f) ? 1 : 0;
}

static int dump(void)
{
    const char *root = getenv("KMEM_NODE_ROOT");
    const char *copy = getenv("KMEM_NODE_MEMINFO_COPY");
    const char *before = getenv("KMEM_NODE_MEMINFO_BEFORE");
    const struct kmem_node *n;
    struct kmem_ctx *ctx;
    char err[256];

    if (kmem_ctx_new(&ctx, root ? root : "/", err, sizeof(err))) {
        fprintf(stderr, "test_node: %s\n", err);
        return 1;
    }
    /* With a "before" copy: one collection first, so that the measured one
     * adds no page tables or slab of its own between the two copies. */
    for (int pass = before ? 0 : 1; pass < 2; pass++) {
        if (pass == 1 && before && copy_meminfo(before)) {
            kmem_ctx_free(ctx);
            return 1;
        }
        if (kmem_collect(ctx, KMEM_COLLECT_NODE)) {
            fprintf(stderr, "test_node: %s\n", kmem_strerror(ctx));
            kmem_ctx_free(ctx);
            return 1;
        }
    }
    if (copy && copy_meminfo(copy)) {
        kmem_ctx_free(ctx);
        return 1;
    }
    n = &kmem_current(ctx)->node;
    for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++)
        printf("kind_%s %" PRIu64 "\n", kmem_node_kind_name[k], n->kind[k]);
    printf("kernel_total %" PRIu64 "\n", n->kernel_total);
    printf("unaccounted_signed %" PRId64 "\n", n->unaccounted_signed);
    printf("percpu_free_pages %" PRIu64 "\n", n->percpu_free_pages);
    printf("percpu_free_bytes %" PRIu64 "\n", n->percpu_free_bytes);
    printf("memmap_bytes %" PRIu64 "\n", n->memmap_bytes);
    printf("memmap_boot_bytes %" PRIu64 "\n", n->memmap_boot_bytes);
    printf("lru_bytes %" PRIu64 "\n", n->lru_bytes);
    printf("hugetlb_bytes %" PRIu64 "\n", n->hugetlb_bytes);
    printf("page_size %" PRIu64 "\n", n->page_size);
    printf("vmap_stack %d\n", n->vmap_stack);
    printf("stack_in_slab %d\n", n->stack_in_slab);
    printf("scs_in_slab %d\n", n->scs_in_slab);
    printf("percpu_first_chunk_bytes %" PRIu64 "\n", n->percpu_first_chunk_bytes);
    printf("isolated_bytes %" PRIu64 "\n", n->isolated_bytes);
    printf("vmap_stack_source %s\n", kmem_vmap_stack_source_name[n->vmap_stack_source]);
    printf("memtotal %" PRIu64 "\n", n->mi.v[KMEM_MI_MEMTOTAL]);
    printf("memfree %" PRIu64 "\n", n->mi.v[KMEM_MI_MEMFREE]);
    kmem_ctx_free(ctx);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meminfo_parse),
        cmocka_unit_test(test_vmstat_parse),
        cmocka_unit_test(test_zoneinfo_parse),
        cmocka_unit_test(test_compute),
        cmocka_unit_test(test_no_overlap),
        cmocka_unit_test(test_compute_saturates),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_fixture),
        cmocka_unit_test(test_vmap_detection),
        cmocka_unit_test(test_vmap_decided_once),
        cmocka_unit_test(test_vmap_counter_override),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_live),
    };

    if (getenv("KMEM_NODE_DUMP"))
        return dump();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
