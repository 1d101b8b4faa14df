/* SPDX-License-Identifier: MIT */
/* Table-driven tests of the /proc/slabinfo parser, diff, and the context reader. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "kmem.h"
#include "slabinfo.h"

#define H21 "slabinfo - version: 2.1\n"
#define COMMENT                                                                                    \
    "# name <active_objs> <num_objs> ... : slabdata <active_slabs> <num_slabs> <sharedavail>\n"

struct good_case {
    const char *name, *text;
    size_t n;
    unsigned major, minor;
    bool statistics;
    /* checks on the last cache */
    const char *last_name;
    uint64_t last_active, last_num, last_objsize, last_objperslab, last_pages, last_aslabs,
        last_slabs;
    unsigned last_dup;
};

static const struct good_case good[] = {
    {"slub line",
     H21 COMMENT "dentry 49392 49392 192 21 1 : tunables 0 0 0 : slabdata 2352 2352 0\n", 1, 2, 1,
     false, "dentry", 49392, 49392, 192, 21, 1, 2352, 2352, 0},
    {"no trailing newline", H21 "a 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 0", 1, 2, 1, false,
     "a", 1, 2, 3, 4, 5, 6, 7, 0},
    {"sharedavail missing", H21 "a 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7\n", 1, 2, 1, false,
     "a", 1, 2, 3, 4, 5, 6, 7, 0},
    {"tabs and runs of blanks", H21 "a\t1  2\t3 4 5 :  tunables 1 2 3 : slabdata 6 7 8\n", 1, 2, 1,
     false, "a", 1, 2, 3, 4, 5, 6, 7, 0},
    {"SLAB 2.1 statistics columns ignored",
     "slabinfo - version: 2.1 (statistics)\n" COMMENT
     "kmalloc-64 1740 2048 64 64 1 : tunables 120 60 8 : slabdata 30 32 0 : globalstat 4211 "
     "2048 32 0 0 1 0 0 0 : cpustat 7540 388 6284 70\n",
     1, 2, 1, true, "kmalloc-64", 1740, 2048, 64, 64, 1, 30, 32, 0},
    {"version 2.0", "slabinfo - version: 2.0\nx 1 2 3 4 5 : tunables 54 27 8 : slabdata 1 1 0\n", 1,
     2, 0, false, "x", 1, 2, 3, 4, 5, 1, 1, 0},
    {"repeated names get dup indices",
     H21 "m 1 1 1 1 1 : tunables 0 0 0 : slabdata 1 1 0\nn 1 1 1 1 1 : tunables 0 0 0 : slabdata 1 "
         "1 0\nm 2 2 2 2 2 : tunables 0 0 0 : slabdata 2 2 0\nm 3 3 3 3 3 : tunables 0 0 0 : "
         "slabdata 3 3 0\n",
     4, 2, 1, false, "m", 3, 3, 3, 3, 3, 3, 3, 2},
    {"64-bit values",
     H21 "big 18446744073709551615 18446744073709551615 1 1 1 : tunables 0 0 0 : "
         "slabdata 4294967296 4294967296 0\n",
     1, 2, 1, false, "big", UINT64_MAX, UINT64_MAX, 1, 1, 1, 4294967296ull, 4294967296ull, 0},
    {"header only", H21, 0, 2, 1, false, NULL, 0, 0, 0, 0, 0, 0, 0, 0},
    {"comment lines anywhere", H21 "# x\na 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 0\n# y\n", 1,
     2, 1, false, "a", 1, 2, 3, 4, 5, 6, 7, 0},
};

struct bad_case {
    const char *name, *text;
    unsigned line;
    const char *what; /* substring of the message */
};

static const struct bad_case bad[] = {

    {"garbage header", "garbage\n", 1, "header"},
    {"version 1", "slabinfo - version: 1.1\n", 1, "unsupported"},
    {"header without minor", "slabinfo - version: 2\n", 1, "header"},
    {"header trailing junk", "slabinfo - version: 2.1 junk\n", 1, "header"},
    {"short line", H21 "a 1 2 3\n", 2, "5 numbers"},
    {"blank line", H21 "\n", 2, "empty line"},
    {"missing tunables", H21 "a 1 2 3 4 5 : slabdata 1 1 0\n", 2, "tunables"},
    {"missing slabdata", H21 "a 1 2 3 4 5 : tunables 0 0 0\n", 2, "slabdata"},
    {"negative number", H21 "a -1 2 3 4 5 : tunables 0 0 0 : slabdata 1 1 0\n", 2, "numbers"},
    {"overflow", H21 "a 18446744073709551616 2 3 4 5 : tunables 0 0 0 : slabdata 1 1 0\n", 2,
     "too large"},
    {"number glued to text", H21 "a 1x 2 3 4 5 : tunables 0 0 0 : slabdata 1 1 0\n", 2, "numbers"},
    {"truncated mid-line", H21 "a 1 2 3 4 5 : tunables 0 0 0 : slabd", 2, "slabdata"},
    {"name of 129 bytes",
     H21 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1 2 3 4 5 : tunables 0 0 0 : slabdata 1 1 0\n",
     2, "longer than 128"},
    {"error on line 4", H21 COMMENT "a 1 2 3 4 5 : tunables 0 0 0 : slabdata 1 1 0\nb 1\n", 4,
     "numbers"},
};

static void test_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const struct good_case *c = &good[i];
        struct kmem_slabinfo si = {0};
        struct kmem_parse_error perr;
        int err = kmem_slabinfo_parse(c->text, strlen(c->text), &si, &perr);

        printf("# %s\n", c->name);
        assert_int_equal(err, 0);
        assert_int_equal(si.n, c->n);
        assert_int_equal(si.major, c->major);
        assert_int_equal(si.minor, c->minor);
        assert_int_equal(si.statistics, c->statistics);
        if (c->last_name) {
            const struct kmem_slab *s = &si.v[si.n - 1];
            assert_string_equal(s->name, c->last_name);
            assert_true(s->active_objs == c->last_active);
            assert_true(s->num_objs == c->last_num);
            assert_true(s->objsize == c->last_objsize);
            assert_true(s->objperslab == c->last_objperslab);
            assert_true(s->pagesperslab == c->last_pages);
            assert_true(s->active_slabs == c->last_aslabs);
            assert_true(s->num_slabs == c->last_slabs);
            assert_int_equal(s->dup, c->last_dup);
            assert_int_equal(kmem_slabinfo_find(&si, s->name, s->dup), (long)(si.n - 1));
        }
        kmem_slabinfo_release(&si);
    }
}

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const struct bad_case *c = &bad[i];
        struct kmem_slabinfo si = {0};
        struct kmem_parse_error perr;
        int err = kmem_slabinfo_parse(c->text, strlen(c->text), &si, &perr);

        printf("# %s: line %u: %s\n", c->name, perr.line, perr.what ? perr.what : "(none)");
        assert_int_equal(err, -EINVAL);
        assert_int_equal(perr.line, c->line);
        assert_non_null(perr.what);
        assert_non_null(strstr(perr.what, c->what));
        kmem_slabinfo_release(&si);
    }
}

/* An empty file is its own error (procps reports it differently). */
static void test_empty(void **state)
{
    struct kmem_slabinfo si = {0};
    struct kmem_parse_error perr;

    (void)state;
    assert_int_equal(kmem_slabinfo_parse("", 0, &si, &perr), -ENODATA);
    assert_int_equal(perr.line, 0);
    assert_non_null(strstr(perr.what, "empty"));
    kmem_slabinfo_release(&si);
}

static void test_derived_saturate(void **state)
{
    struct kmem_slab s = {.num_slabs = 10, .pagesperslab = 2, .active_objs = 7, .objsize = 100};

    (void)state;
    assert_true(kmem_slab_bytes(&s, 4096) == 81920);
    assert_true(kmem_slab_active_bytes(&s) == 700);
    s.num_slabs = UINT64_MAX / 2;
    assert_true(kmem_slab_bytes(&s, 4096) == UINT64_MAX);
}

static void test_diff(void **state)
{
    const char *a = H21 "x 1 10 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
                        "d 1 10 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
                        "d 1 20 64 64 1 : tunables 0 0 0 : slabdata 2 2 0\n";
    /* order changed, one cache grew by 3 slabs, one vanished, one is new */
    const char *b = H21 "d 1 10 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
                        "new 1 1 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
                        "d 1 50 64 64 1 : tunables 0 0 0 : slabdata 5 5 0\n";
    struct kmem_slabinfo sa = {0}, sb = {0};

    (void)state;
    assert_int_equal(kmem_slabinfo_parse(a, strlen(a), &sa, NULL), 0);
    assert_int_equal(kmem_slabinfo_parse(b, strlen(b), &sb, NULL), 0);
    kmem_slabinfo_diff(&sb, &sa, 4096);
    assert_true(sb.v[0].has_prev);
    assert_true(sb.v[0].delta_objs == 0);
    assert_false(sb.v[1].has_prev);
    assert_true(sb.v[2].has_prev);
    assert_int_equal(sb.v[2].dup, 1);
    assert_true(sb.v[2].delta_objs == 30);
    assert_true(sb.v[2].delta_bytes == 3 * 4096);
    kmem_slabinfo_diff(&sa, NULL, 4096);
    assert_false(sa.v[0].has_prev);
    kmem_slabinfo_release(&sa);
    kmem_slabinfo_release(&sb);
}

/* A fixture tree read through the context: error messages name file and line. */
static void test_ctx_errors(void **state)
{
    char dir[] = "/tmp/kmem-unit-XXXXXX", path[256], err[256];
    struct kmem_ctx *ctx;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/proc", dir);
    assert_int_equal(mkdir(path, 0755), 0);

    assert_int_equal(kmem_ctx_new(&ctx, dir, err, sizeof(err)), 0);
    assert_int_equal(kmem_collect(ctx, KMEM_COLLECT_SLAB), -ENOENT);
    assert_non_null(
        strstr(kmem_current(ctx)->status[KMEM_PART_SLAB].msg, "/proc/slabinfo: No such file"));

    snprintf(path, sizeof(path), "%s/proc/slabinfo", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(H21 "a 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 0\nb 1 2\n", f);
    fclose(f);
    assert_int_equal(kmem_collect(ctx, KMEM_COLLECT_SLAB), -EINVAL);
    snprintf(err, sizeof(err), "%s/proc/slabinfo:3:", dir);
    assert_non_null(strstr(kmem_current(ctx)->status[KMEM_PART_SLAB].msg, err));
    assert_int_equal(kmem_current(ctx)->slab.n, 0);

    f = fopen(path, "w");
    fputs(H21 "a 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 0\n", f);
    fclose(f);
    assert_int_equal(kmem_collect(ctx, KMEM_COLLECT_SLAB), 0);
    assert_int_equal(kmem_current(ctx)->slab.n, 1);
    assert_int_equal(kmem_current(ctx)->status[KMEM_PART_SLAB].err, 0);
    assert_false(kmem_current(ctx)->slab.v[0].has_prev);
    assert_int_equal(kmem_collect(ctx, KMEM_COLLECT_SLAB), 0);
    assert_true(kmem_current(ctx)->slab.v[0].has_prev);
    assert_non_null(kmem_previous(ctx));
    kmem_ctx_free(ctx);
    unlink(path);
    snprintf(path, sizeof(path), "%s/proc", dir);
    rmdir(path);
    rmdir(dir);
    assert_int_equal(kmem_ctx_new(&ctx, "/nonexistent-kmem-root", err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "/nonexistent-kmem-root"));
}

/* The live kernel: every line of /proc/slabinfo is a cache. */
/* 100 000 lines of one name: numbered 0..n-1 in file order, each found by
 * (name, dup), in time linear in the lines (this took 16 s when quadratic). */
static void test_many_repeats(void **state)
{
    static const char line[] = "dup 1 2 3 4 5 : tunables 0 0 0 : slabdata 1 1 0\n";
    const size_t n = 100000, ll = sizeof(line) - 1;
    struct kmem_slabinfo si = {0};
    struct timespec t0, t1;
    size_t len = strlen(H21) + n * ll;
    char *buf = malloc(len + 1), *p = buf;

    (void)state;
    assert_non_null(buf);
    p += sprintf(p, "%s", H21);
    for (size_t i = 0; i < n; i++, p += ll)
        memcpy(p, line, ll);
    *p = '\0';
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(kmem_slabinfo_parse(buf, len, &si, NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(si.n, n);
    assert_int_equal(si.v[0].repeats, n - 1);
    for (size_t i = 0; i < n; i += 9973)
        assert_int_equal(si.v[i].dup, i);
    assert_int_equal(kmem_slabinfo_find(&si, "dup", (unsigned)(n - 1)), (long)(n - 1));
    assert_int_equal(kmem_slabinfo_find(&si, "dup", (unsigned)n), -1);
    /* generous for ASan on a loaded machine; quadratic was two orders above */
    assert_true((t1.tv_sec - t0.tv_sec) < 2);
    kmem_slabinfo_release(&si);
    free(buf);
}

static void test_live(void **state)
{
    struct kmem_ctx *ctx;
    char err[256], line[512];
    size_t lines = 0;
    FILE *f;

    (void)state;
    assert_int_equal(kmem_ctx_new(&ctx, "/", err, sizeof(err)), 0);
    assert_int_equal(kmem_collect(ctx, KMEM_COLLECT_SLAB), 0);
    f = fopen("/proc/slabinfo", "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        if (line[0] != '#' && strncmp(line, "slabinfo", 8) != 0)
            lines++;
    fclose(f);
    assert_int_equal(kmem_current(ctx)->slab.n, lines);
    kmem_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),         cmocka_unit_test(test_bad),
        cmocka_unit_test(test_empty),        cmocka_unit_test(test_derived_saturate),
        cmocka_unit_test(test_diff),         cmocka_unit_test(test_ctx_errors),
        cmocka_unit_test(test_many_repeats), cmocka_unit_test(test_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
