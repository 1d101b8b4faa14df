/* SPDX-License-Identifier: MIT */
/* kt_human() and kt_human_delta() (src/kmemtop/out.c): literal outputs, table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/kmemtop/common.h"

#define KiB 1024.0
#define MiB (1024.0 * KiB)
#define GiB (1024.0 * MiB)
#define TiB (1024.0 * GiB)
#define PiB (1024.0 * TiB)
#define EiB (1024.0 * PiB)

struct human_case {
    double bytes;
    const char *want;
};

static const struct human_case human_cases[] = {
    /* bytes: whole numbers, no decimal */
    {0, "0B"},
    {1, "1B"},
    {512, "512B"},
    {1023, "1023B"},
    /* below 10 units: one decimal */
    {1024, "1.0K"},
    {1536, "1.5K"},
    {4096, "4.0K"},
    {9.5 * KiB, "9.5K"},
    {9.9 * KiB, "9.9K"},
    /* 10 units and more: no decimal */
    {10 * KiB, "10K"},
    {10.4 * KiB, "10K"},
    {10.6 * KiB, "11K"},
    {512 * KiB, "512K"},
    {1000 * KiB, "1000K"},
    {1023 * KiB, "1023K"},
    /* a value that rounds up to 10 is shown as 10, not 10.0 */
    {10239, "10K"},
    {9.96 * KiB, "10K"},
    /* a value that rounds up to 1024 of a unit is shown in the next unit */
    {1048575, "1.0M"},
    {1023.6 * KiB, "1.0M"},
    {1023.6 * MiB, "1.0G"},
    /* every unit */
    {1 * MiB, "1.0M"},
    {12.3 * MiB, "12M"},
    {2.5 * MiB, "2.5M"},
    {1 * GiB, "1.0G"},
    {4 * GiB, "4.0G"},
    {1 * TiB, "1.0T"},
    {1 * PiB, "1.0P"},
    {1 * EiB, "1.0E"},
    /* E is the last unit: 2^64 - 1 bytes and beyond stay in E */
    {18446744073709551615.0, "16E"},
    {2048 * EiB, "2048E"},
    /* negative sizes scale like positive ones */
    {-1, "-1B"},
    {-2048, "-2.0K"},
    {-20 * MiB, "-20M"},
};

static void test_human_table(void **state)
{
    char buf[32];
    int bad = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(human_cases) / sizeof(human_cases[0]); i++) {
        const struct human_case *c = &human_cases[i];

        kt_human(buf, sizeof(buf), c->bytes);
        if (strcmp(buf, c->want)) {
            print_error("kt_human(%.17g) = \"%s\", want \"%s\"\n", c->bytes, buf, c->want);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static const struct human_case delta_cases[] = {
    {0, "0"},           {1, "+1B"},          {-1, "-1B"},        {1536, "+1.5K"},  {-1536, "-1.5K"},
    {1 * MiB, "+1.0M"}, {-12 * MiB, "-12M"}, {1048575, "+1.0M"}, {-10239, "-10K"},
};

static void test_human_delta_table(void **state)
{
    char buf[32];
    int bad = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(delta_cases) / sizeof(delta_cases[0]); i++) {
        const struct human_case *c = &delta_cases[i];

        kt_human_delta(buf, sizeof(buf), c->bytes);
        if (strcmp(buf, c->want)) {
            print_error("kt_human_delta(%.17g) = \"%s\", want \"%s\"\n", c->bytes, buf, c->want);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* The result is always terminated, cut to the buffer. */
static void test_human_small_buffer(void **state)
{
    char buf[4];

    (void)state;
    assert_string_equal(kt_human(buf, sizeof(buf), 12.3 * MiB), "12M");
    assert_string_equal(kt_human(buf, sizeof(buf), 1536), "1.5");
    assert_string_equal(kt_human_delta(buf, sizeof(buf), 1536), "+1.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_human_table),
        cmocka_unit_test(test_human_delta_table),
        cmocka_unit_test(test_human_small_buffer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
