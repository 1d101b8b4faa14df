/* SPDX-License-Identifier: MIT */
/*
 * The owner walker's pure parts: the end of the page frames from
 * /proc/zoneinfo, and the vote pairing struct page pointers with frame
 * numbers (the page array of kernels whose kallsyms lists no data symbols).
 * The walk itself is checked live: tests/integration/ownwalk.sh and
 * tests/vm/check_owners.py.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ownpair.h"
#include "ownwalk.h"

/* The zone lines of this development machine's /proc/zoneinfo (6.18, 24 GiB),
 * other lines cut; empty zones print no start_pfn. */
static const char ZONEINFO[] = "Node 0, zone      DMA\n"
                               "  pages free     3840\n"
                               "        spanned  4095\n"
                               "        present  3998\n"
                               "  start_pfn:           1\n"
                               "Node 0, zone    DMA32\n"
                               "        spanned  1044480\n"
                               "  start_pfn:           4096\n"
                               "Node 0, zone   Normal\n"
                               "        spanned  5505024\n"
                               "  start_pfn:           1048576\n"
                               "Node 0, zone  Movable\n"
                               "        spanned  0\n"
                               "Node 0, zone   Device\n"
                               "        spanned  0\n";

static void zoneinfo_end(void **state)
{
    uint64_t end = 0;

    (void)state;
    assert_int_equal(kmem_ownwalk_zoneinfo_end(ZONEINFO, strlen(ZONEINFO), &end), 0);
    assert_int_equal(end, 1048576 + 5505024);
    /* Two nodes: the larger end wins, whatever the order. */
    static const char two[] = "Node 1, zone   Normal\n  spanned  100\n  start_pfn: 9000\n"
                              "Node 0, zone   Normal\n  spanned  50\n  start_pfn: 10\n";
    assert_int_equal(kmem_ownwalk_zoneinfo_end(two, strlen(two), &end), 0);
    assert_int_equal(end, 9100);
}

static void zoneinfo_bad(void **state)
{
    static const char *bad[] = {
        "", "Node 0, zone DMA\n", "  start_pfn: 5\n", "Node 0, zone DMA\n  spanned 0\n",
        /* a start_pfn of an earlier zone does not pair with a later spanned */
        "  start_pfn: 5\nNode 0, zone X\n  spanned 7\n"};
    uint64_t end = 42;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(kmem_ownwalk_zoneinfo_end(bad[i], strlen(bad[i]), &end), -EINVAL);
    assert_int_equal(end, 42);
}

#define V UINT64_C(0xffffea0000000000)

static void vote_finds_the_array(void **state)
{
    uint64_t pfns[64], ptrs[100], got = 0;
    size_t votes = 0, n = 0;

    (void)state;
    for (int i = 0; i < 64; i++)
        pfns[i] = 300000 + (uint64_t)i * 7919 % 100000;
    /* 40 of the pages were seen, in another order, among page-table pages. */
    for (int i = 0; i < 40; i++) {
        ptrs[n++] = V + pfns[(i * 13) % 64] * 64;
        if (i % 4 == 0)
            ptrs[n++] = V + (123456 + (uint64_t)i) * 64; /* a page-table page */
    }
    assert_int_equal(kmem_ownpair_vote(ptrs, n, pfns, 64, 64, 32, &got, &votes), 0);
    assert_true(got == V);
    assert_true(votes >= 40);
    /* Too few pairs agree: no answer rather than a guess. */
    assert_int_equal(kmem_ownpair_vote(ptrs, 12, pfns, 64, 64, 32, &got, &votes), -ENOENT);
    /* A page array off a 1 GiB boundary is not one (KASLR aligns it). */
    for (size_t i = 0; i < n; i++)
        ptrs[i] += 4096 * 64;
    got = 0;
    assert_int_equal(kmem_ownpair_vote(ptrs, n, pfns, 64, 64, 32, &got, &votes), -ENOENT);
    assert_true(got == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zoneinfo_end),
        cmocka_unit_test(zoneinfo_bad),
        cmocka_unit_test(vote_finds_the_array),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
