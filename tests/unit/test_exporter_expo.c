/* SPDX-License-Identifier: MIT */
/* kmem_exporter: exposition writer, escaping, cache labels, filters, rendering. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "../../src/exporter/expo.h"
#include "../../src/exporter/http.h"
#include "../../src/exporter/collectors.h"
#include "../../src/exporter/metrics.h"

/* ---- escaping ---- */

static const struct {
    const char *in, *label, *help;
} esc_cases[] = {
    {"plain", "plain", "plain"},
    {"", "", ""},
    {"back\\slash", "back\\\\slash", "back\\\\slash"},
    {"say \"hi\"", "say \\\"hi\\\"", "say \"hi\""},
    {"two\nlines", "two\\nlines", "two\\nlines"},
    {"\\\"\n", "\\\\\\\"\\n", "\\\\\"\\n"},
    {"tab\there", "tab\there", "tab\there"},
    {"caf\xc3\xa9", "caf\xc3\xa9", "caf\xc3\xa9"},                   /* valid UTF-8 kept */
    {"\xe2\x82\xac euro", "\xe2\x82\xac euro", "\xe2\x82\xac euro"}, /* 3 bytes */
    {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},    /* 4 bytes */
    /* invalid bytes: the text \xHH (backslash escaped), never U+FFFD (issue 24) */
    {"bad\xff", "bad\\\\xff", "bad\\\\xff"},
    {"\xc3", "\\\\xc3", "\\\\xc3"},                                     /* truncated */
    {"\xc0\xaf", "\\\\xc0\\\\xaf", "\\\\xc0\\\\xaf"},                   /* overlong */
    {"\xed\xa0\x80", "\\\\xed\\\\xa0\\\\x80", "\\\\xed\\\\xa0\\\\x80"}, /* surrogate */
};

static void test_escape(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(esc_cases) / sizeof(esc_cases[0]); i++) {
        struct kmem_buf b;
        kmem_buf_init(&b, 1024);
        assert_int_equal(kx_expo_escape_label(&b, esc_cases[i].in), 0);
        kmem_buf_addc(&b, '\0');
        assert_string_equal(b.data, esc_cases[i].label);
        kmem_buf_reset(&b);
        assert_int_equal(kx_expo_escape_help(&b, esc_cases[i].in), 0);
        assert_string_equal(b.data, esc_cases[i].help);
        kmem_buf_free(&b);
    }
}

static void test_sample_lines(void **state)
{
    (void)state;
    struct kmem_buf b;
    kmem_buf_init(&b, 4096);
    struct kx_label l[] = {{"a", "x\"y"}, {"b", NULL}};
    kx_expo_family(&b, "m", "Help with \\ and\nnewline.", "gauge");
    kx_expo_sample_u64(&b, "m", l, 2, UINT64_MAX, KX_NO_TIMESTAMP);
    kx_expo_sample_u64(&b, "m", NULL, 0, 0, 1700000000123);
    kx_expo_sample_double(&b, "m", l, 1, 0.5, KX_NO_TIMESTAMP);
    kx_expo_sample_double(&b, "m", NULL, 0, NAN, KX_NO_TIMESTAMP);
    kx_expo_sample_double(&b, "m", NULL, 0, -INFINITY, KX_NO_TIMESTAMP);
    kx_expo_sample_double(&b, "m", NULL, 0, 1e-9, KX_NO_TIMESTAMP);
    kx_expo_sample_double(&b, "m", NULL, 0, 3.0, -5);
    assert_int_equal(b.err, 0);
    assert_string_equal(b.data, "# HELP m Help with \\\\ and\\nnewline.\n"
                                "# TYPE m gauge\n"
                                "m{a=\"x\\\"y\",b=\"\"} 18446744073709551615\n"
                                "m 0 1700000000123\n"
                                "m{a=\"x\\\"y\"} 0.5\n"
                                "m NaN\n"
                                "m -Inf\n"
                                "m 1e-09\n"
                                "m 3 -5\n");
    kmem_buf_free(&b);
}

/* Doubles read back exactly: the shortest of %.15g and %.17g that does,
 * each value parsed back and compared (a gauge of seconds or a ratio must
 * not lose its last digits). */
static void test_double_round_trip(void **state)
{
    static const double v[] = {0.1 + 0.2, 1.0 / 3.0, 2.0 / 3.0, 1e300 / 7.0, 123456.789012345678,
                               0.1,       0.5,       1e-9,      1234.5678};
    size_t compared = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct kmem_buf b;
        char want[40];

        kmem_buf_init(&b, 4096);
        kx_expo_add_double(&b, v[i]);
        kmem_buf_addc(&b, '\0');
        assert_int_equal(b.err, 0);
        if (strtod(b.data, NULL) != v[i])
            fail_msg("%.17g written as %s: does not read back", v[i], b.data);
        snprintf(want, sizeof(want), "%.15g", v[i]);
        if (strtod(want, NULL) == v[i] && strcmp(b.data, want) != 0)
            fail_msg("%.17g written as %s, the shorter %s reads back", v[i], b.data, want);
        kmem_buf_free(&b);
        compared++;
    }
    assert_int_equal(compared, 9);
}

static void test_buf_cap(void **state)
{
    (void)state;
    struct kmem_buf b;
    kmem_buf_init(&b, 10);
    assert_int_equal(kmem_buf_adds(&b, "0123456789"), 0);
    assert_int_equal(b.len, 10);
    /* Over the cap: the buffer frees itself and stays failed. */
    assert_int_equal(kmem_buf_addc(&b, 'x'), -E2BIG);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(kmem_buf_adds(&b, "y"), -E2BIG);
    assert_int_equal(kmem_buf_printf(&b, "%d", 1), -E2BIG);
    assert_null(kmem_buf_take(&b, NULL));
    kmem_buf_reset(&b);
    assert_int_equal(kmem_buf_printf(&b, "%s-%d", "ab", 7), 0);
    size_t len;
    char *p = kmem_buf_take(&b, &len);
    assert_string_equal(p, "ab-7");
    assert_int_equal(len, 4);
    free(p);
    /* A long printf goes through the grow path. */
    kmem_buf_init(&b, 1 << 20);
    char big[600];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(kmem_buf_printf(&b, "<%s>", big), 0);
    assert_int_equal(b.len, sizeof(big) + 1);
    kmem_buf_free(&b);
    /* An exposition may grow to its own cap (256 MiB), past KMEM_FILE_MAX,
     * the cap of whole-file reads. */
    size_t chunk = (size_t)1 << 20, want = KMEM_FILE_MAX * 2 + chunk;
    char *mb = malloc(chunk);
    assert_non_null(mb);
    memset(mb, 'm', chunk);
    kmem_buf_init(&b, (size_t)256 << 20);
    for (size_t n = 0; n < want; n += chunk)
        assert_int_equal(kmem_buf_add(&b, mb, chunk), 0);
    assert_int_equal(b.len, want);
    kmem_buf_free(&b);
    free(mb);
}

static void test_gzip_roundtrip(void **state)
{
    (void)state;
    char text[20000];
    for (size_t i = 0; i < sizeof(text); i++)
        text[i] = (char)('a' + i % 26);
    char *gz;
    size_t gzlen;
    assert_int_equal(kx_gzip(text, sizeof(text), &gz, &gzlen), 0);
    assert_true(gzlen < sizeof(text) / 4);
    assert_int_equal((unsigned char)gz[0], 0x1f);
    assert_int_equal((unsigned char)gz[1], 0x8b);
    char back[sizeof(text)];
    z_stream zs = {0};
    assert_int_equal(inflateInit2(&zs, 31), Z_OK);
    zs.next_in = (Bytef *)gz;
    zs.avail_in = (uInt)gzlen;
    zs.next_out = (Bytef *)back;
    zs.avail_out = sizeof(back);
    assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
    assert_int_equal(zs.total_out, sizeof(text));
    inflateEnd(&zs);
    assert_memory_equal(back, text, sizeof(text));
    free(gz);
}

static const struct {
    const char *ae;
    bool gzip;
} ae_cases[] = {
    {NULL, false},
    {"", false},
    {"gzip", true},
    {"GZIP", true},
    {"deflate, gzip;q=1.0, *;q=0.5", true},
    {"gzip;q=0", false},
    {"gzip; q=0.000", false},
    {"gzip;q=0.001", true},
    {"br", false},
    {"*", true},
    {"*;q=0", false},
    {"identity, *;q=0.1", true},
    {"gzip;q=0, *", false},
    {"x-gzip", true},
    {"gzipped", false},
};

static void test_accept_encoding(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(ae_cases) / sizeof(ae_cases[0]); i++) {
        if (kx_accepts_gzip(ae_cases[i].ae) != ae_cases[i].gzip)
            fail_msg("Accept-Encoding '%s': expected %d",
                     ae_cases[i].ae ? ae_cases[i].ae : "(null)", ae_cases[i].gzip);
    }
}

/* ---- filters ---- */

static const struct {
    const char *include, *exclude, *name;
    bool match;
} filter_cases[] = {
    {NULL, NULL, "dentry", true},
    {"kmalloc-.*", NULL, "kmalloc-64", true},
    {"kmalloc-.*", NULL, "dentry", false},
    {"kmalloc", NULL, "kmalloc-64", false}, /* anchored: the whole name */
    {"kmalloc", NULL, "dma-kmalloc", false},
    {".*kmalloc.*", NULL, "dma-kmalloc-8", true},
    {"kmalloc-.*", "kmalloc-cg-.*", "kmalloc-cg-64", false},
    {"kmalloc-.*", "kmalloc-cg-.*", "kmalloc-64", true},
    {NULL, "dentry|inode_cache", "dentry", false},
    {NULL, "dentry|inode_cache", "inode_cache", false},
    {NULL, "dentry|inode_cache", "ext4_inode_cache", true}, /* alternation anchored as a group */
    {"a|b", NULL, "ab", false},
    {NULL, "", "dentry", true}, /* an empty exclude excludes nothing */
    {"(?i)DENTRY", NULL, "dentry", true},
};

static void test_filter(void **state)
{
    (void)state;
    char err[256];
    for (size_t i = 0; i < sizeof(filter_cases) / sizeof(filter_cases[0]); i++) {
        struct kx_filter f;
        assert_int_equal(
            kx_filter_init(&f, filter_cases[i].include, filter_cases[i].exclude, err, sizeof(err)),
            0);
        if (kx_filter_match(&f, filter_cases[i].name) != filter_cases[i].match)
            fail_msg("case %zu: include '%s' exclude '%s' name '%s'", i,
                     filter_cases[i].include ? filter_cases[i].include : "",
                     filter_cases[i].exclude ? filter_cases[i].exclude : "", filter_cases[i].name);
        kx_filter_free(&f);
    }
    struct kx_filter f;
    assert_int_equal(kx_filter_init(&f, "(", NULL, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "--collector.slabinfo.include"));
    assert_int_equal(kx_filter_init(&f, NULL, "a[", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "--collector.slabinfo.exclude"));

    /* Issue 14: refused at start-up rather than a way around the anchors, an
     * automaton of gigabytes, back-references taking seconds per name, or a
     * silently empty scrape. */
    static const struct {
        const char *include, *exclude, *msg;
    } refused[] = {
        {"dentry)|(inode", NULL, "unexpected )"},
        {NULL, "dentry)|(inode", "unexpected )"},
        {".{0,255}{0,255}", NULL, "invalid nested repetition operator"},
        {"(.{0,255}){0,255}", NULL, "expression too large"},
        {"(.*)(.*)(.*)(.*)(.*)(.*)(.*)\\7\\6\\5\\4\\3\\2\\1x", NULL,
         "back-references are not supported"},
        {"", NULL, "matches no cache"},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        err[0] = '\0';
        if (kx_filter_init(&f, refused[i].include, refused[i].exclude, err, sizeof(err)) != -EINVAL)
            fail_msg("refused case %zu was accepted", i);
        if (!strstr(err, refused[i].msg) ||
            !strstr(err, refused[i].include ? "--collector.slabinfo.include '"
                                            : "--collector.slabinfo.exclude '"))
            fail_msg("refused case %zu: %s", i, err);
    }
}

/* ---- rendering ---- */

static struct kmem_slab mkslab(const char *name, unsigned dup, uint64_t active, uint64_t num,
                               uint64_t objsize, uint64_t objperslab, uint64_t pages,
                               uint64_t slabs)
{
    struct kmem_slab s;
    memset(&s, 0, sizeof(s));
    snprintf(s.name, sizeof(s.name), "%s", name);
    s.dup = dup;
    s.active_objs = active;
    s.num_objs = num;
    s.objsize = objsize;
    s.objperslab = objperslab;
    s.pagesperslab = pages;
    s.active_slabs = s.num_slabs = slabs;
    return s;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static char *render(const struct kx_collection *c, const struct kx_render_opts *o)
{
    struct kmem_buf b;
    kmem_buf_init(&b, 1 << 24);
    assert_int_equal(kx_render(&b, c, o), 0);
    char *p = kmem_buf_take(&b, NULL);
    assert_non_null(p);
    return p;
}

static const char *const all_families[] = {
    "kmem_slab_objects",
    "kmem_slab_active_objects",
    "kmem_slab_slabs",
    "kmem_slab_size_bytes",
    "kmem_slab_active_bytes",
    "kmem_slab_info",
    "kmem_node_kernel_bytes",
    "kmem_cgroup_kernel_bytes",
    "kmem_cgroup_kernel_component_bytes",
    "kmem_cgroup_sock_bytes",
    "kmem_cgroup_kernel_exact",
    "kmem_cgroup_kernel_upper_bound_bytes",
    "kmem_memory_cgroups_dying",
    "kmem_cgroup_dying_descendants",
    "kmem_collector_success",
    "kmem_collector_duration_seconds",
    "kmem_exporter_build_info",
};

static void test_render_duplicates(void **state)
{
    (void)state;
    struct kmem_slab v[] = {
        mkslab("foo", 0, 10, 20, 64, 64, 1, 1),     mkslab("bar", 0, 1, 2, 128, 32, 2, 3),
        mkslab("foo", 1, 30, 40, 64, 64, 1, 2),     mkslab("foo", 2, 50, 60, 64, 64, 1, 3),
        mkslab("we\"ird\\", 0, 1, 1, 8, 512, 1, 1),
    };
    struct kmem_slabinfo si = {.major = 2, .minor = 1, .n = 5, .cap = 5, .v = v};
    struct kmem_status ok = {0};
    struct kx_collection c = {.slab = &si};
    for (size_t i = 0; i < kx_ncollectors; i++)
        c.part[i].status = &ok;
    struct kx_render_opts o = {.page_size = 4096};
    char *out = render(&c, &o);

    assert_non_null(strstr(out, "\nkmem_slab_objects{cache=\"foo\"} 20\n"));
    assert_non_null(strstr(out, "\nkmem_slab_objects{cache=\"foo#1\"} 40\n"));
    assert_non_null(strstr(out, "\nkmem_slab_objects{cache=\"foo#2\"} 60\n"));
    assert_non_null(strstr(out, "\nkmem_slab_active_objects{cache=\"foo#1\"} 30\n"));
    assert_non_null(strstr(out, "\nkmem_slab_objects{cache=\"we\\\"ird\\\\\"} 1\n"));
    /* Derived bytes: slabs x pages x page size, active x objsize. */
    assert_non_null(strstr(out, "\nkmem_slab_size_bytes{cache=\"bar\"} 24576\n"));
    assert_non_null(strstr(out, "\nkmem_slab_active_bytes{cache=\"foo#2\"} 3200\n"));
    assert_non_null(strstr(out, "\nkmem_slab_slabs{cache=\"foo#2\"} 3\n"));
    /* The static columns are labels of one info series per cache. */
    assert_non_null(strstr(out, "\nkmem_slab_info{cache=\"bar\",object_size_bytes=\"128\","
                                "objects_per_slab=\"32\",pages_per_slab=\"2\"} 1\n"));
    assert_non_null(strstr(out, "\nkmem_slab_info{cache=\"we\\\"ird\\\\\",object_size_bytes=\"8\","
                                "objects_per_slab=\"512\",pages_per_slab=\"1\"} 1\n"));
    assert_null(strstr(out, "kmem_slab_pages_per_slab"));
    assert_null(strstr(out, "kmem_slab_objects_per_slab"));
    assert_null(strstr(out, "kmem_slab_object_size_bytes"));
    assert_null(strstr(out, "node_slabinfo"));
    /* Every line exported, no series twice. */
    assert_int_equal(count(out, "\nkmem_slab_objects{"), 5);
    assert_int_equal(count(out, "\nkmem_slab_info{"), 5);
    assert_int_equal(count(out, "{cache=\"foo\"}"), 5);
    assert_int_equal(count(out, "{cache=\"foo\","), 1);
    for (size_t f = 0; f < sizeof(all_families) / sizeof(all_families[0]); f++) {
        char h[128], t[128];
        snprintf(h, sizeof(h), "# HELP %s ", all_families[f]);
        snprintf(t, sizeof(t), "# TYPE %s gauge\n", all_families[f]);
        assert_int_equal(count(out, h), 1);
        assert_int_equal(count(out, t), 1);
    }
    assert_null(strstr(out, "process_"));
    /* No cgroups collected: the layout is unknown, so auto leaves the cAdvisor family out. */
    assert_null(strstr(out, "container_memory_kernel_usage"));
    free(out);

    char label[KMEM_SLAB_NAME_MAX + 16];
    kx_cache_label(&v[2], label, sizeof(label));
    assert_string_equal(label, "foo#1");
    kx_cache_label(&v[0], label, sizeof(label));
    assert_string_equal(label, "foo");
}

/* Issue 14: caches "dup", "dup", "dup#1" exported cache="dup#1" twice. A name
 * that itself ends in #<digits> always gets its index appended, so that no
 * generated label can equal a real name. */
static void test_render_duplicates_collision_free(void **state)
{
    (void)state;
    struct kmem_slab v[] = {
        mkslab("dup", 0, 1, 1, 8, 1, 1, 1),     mkslab("dup", 1, 2, 2, 8, 1, 1, 1),
        mkslab("dup#1", 0, 3, 3, 8, 1, 1, 1),   mkslab("dup#1", 1, 4, 4, 8, 1, 1, 1),
        mkslab("dup#1#0", 0, 5, 5, 8, 1, 1, 1), mkslab("a#", 0, 6, 6, 8, 1, 1, 1),
        mkslab("a#", 1, 7, 7, 8, 1, 1, 1),      mkslab("#2", 0, 8, 8, 8, 1, 1, 1),
        mkslab("x#y", 0, 9, 9, 8, 1, 1, 1),
    };
    size_t n = sizeof(v) / sizeof(v[0]);
    struct kmem_slabinfo si = {.major = 2, .minor = 1, .n = n, .cap = n, .v = v};
    struct kmem_status ok = {0};
    struct kx_collection c = {.slab = &si};
    for (size_t i = 0; i < kx_ncollectors; i++)
        c.part[i].status = &ok;
    struct kx_render_opts o = {.page_size = 4096};
    char *out = render(&c, &o);
    static const char *const want[] = {
        "{cache=\"dup\"} 1\n",     "{cache=\"dup#1\"} 2\n",     "{cache=\"dup#1#0\"} 3\n",
        "{cache=\"dup#1#1\"} 4\n", "{cache=\"dup#1#0#0\"} 5\n", "{cache=\"a#\"} 6\n",
        "{cache=\"a##1\"} 7\n",    "{cache=\"#2#0\"} 8\n",      "{cache=\"x#y\"} 9\n",
    };
    for (size_t i = 0; i < n; i++) {
        char line[64];
        snprintf(line, sizeof(line), "\nkmem_slab_objects%s", want[i]);
        if (count(out, line) != 1)
            fail_msg("expected once: kmem_slab_objects%s", want[i]);
    }
    /* No two lines of a family share a label set. */
    char labels[16][KMEM_SLAB_NAME_MAX + 32];
    size_t nl = 0;
    for (const char *p = strstr(out, "\nkmem_slab_objects{"); p && nl < 16;
         p = strstr(p + 1, "\nkmem_slab_objects{")) {
        const char *e = strchr(p + 1, '}');
        snprintf(labels[nl], sizeof(labels[nl]), "%.*s", (int)(e - p), p);
        for (size_t k = 0; k < nl; k++)
            if (!strcmp(labels[k], labels[nl]))
                fail_msg("series twice: %s}", labels[nl] + 1);
        nl++;
    }
    assert_int_equal(nl, n);
    free(out);
}

static void test_render_filter(void **state)
{
    (void)state;
    struct kmem_slab v[] = {
        mkslab("kmalloc-64", 0, 1, 1, 64, 64, 1, 1),
        mkslab("kmalloc-cg-64", 0, 1, 1, 64, 64, 1, 1),
        mkslab("dentry", 0, 1, 1, 192, 21, 1, 1),
    };
    struct kmem_slabinfo si = {.n = 3, .cap = 3, .v = v};
    struct kmem_status ok = {0};
    struct kx_collection c = {.slab = &si};
    for (size_t i = 0; i < kx_ncollectors; i++)
        c.part[i].status = &ok;
    struct kx_filter f;
    char err[128];
    assert_int_equal(kx_filter_init(&f, "kmalloc-.*", "kmalloc-cg-.*", err, sizeof(err)), 0);
    struct kx_render_opts o = {.page_size = 4096, .filter = &f};
    char *out = render(&c, &o);
    assert_int_equal(count(out, "{cache=\"kmalloc-64\"}"), 5);
    assert_int_equal(count(out, "{cache=\"kmalloc-64\","), 1);
    assert_int_equal(count(out, "kmalloc-cg-64"), 0);
    assert_int_equal(count(out, "dentry"), 0);
    free(out);
    kx_filter_free(&f);
}

/* Empty caches are opt-in; the three static families and node_exporter's
 * names too. */
static void test_render_slab_options(void **state)
{
    (void)state;
    struct kmem_slab v[] = {
        mkslab("dentry", 0, 60, 63, 192, 21, 1, 3),
        mkslab("empty", 0, 0, 0, 256, 16, 1, 0),
        mkslab("dentry", 1, 1, 21, 192, 21, 1, 1),
    };
    struct kmem_slabinfo si = {.n = 3, .cap = 3, .v = v};
    struct kmem_status ok = {0};
    struct kx_collection c = {.slab = &si};
    for (size_t i = 0; i < kx_ncollectors; i++)
        c.part[i].status = &ok;
    struct kx_render_opts o = {.page_size = 4096};
    char *out = render(&c, &o);
    assert_int_equal(count(out, "empty"), 0);
    assert_int_equal(count(out, "\nkmem_slab_"), 2 * 6);
    free(out);

    o.slab.empty = true;
    out = render(&c, &o);
    assert_int_equal(count(out, "\nkmem_slab_"), 3 * 6);
    assert_non_null(strstr(out, "\nkmem_slab_size_bytes{cache=\"empty\"} 0\n"));
    assert_non_null(strstr(out, "\nkmem_slab_info{cache=\"empty\",object_size_bytes=\"256\","
                                "objects_per_slab=\"16\",pages_per_slab=\"1\"} 1\n"));
    free(out);

    o.slab.empty = false;
    o.slab.static_families = true;
    out = render(&c, &o);
    assert_int_equal(count(out, "\nkmem_slab_"), 2 * 9);
    assert_non_null(strstr(out, "\nkmem_slab_object_size_bytes{cache=\"dentry#1\"} 192\n"));
    assert_non_null(strstr(out, "\nkmem_slab_objects_per_slab{cache=\"dentry\"} 21\n"));
    assert_non_null(strstr(out, "\nkmem_slab_pages_per_slab{cache=\"dentry\"} 1\n"));
    free(out);

    /* node_exporter's five families, its HELP texts and order, label slab. */
    o.slab.static_families = false;
    o.slab.node_exporter_names = true;
    out = render(&c, &o);
    assert_int_equal(count(out, "\nkmem_slab_"), 2 * 6);
    assert_int_equal(count(out, "\nnode_slabinfo_"), 2 * 5);
    const char *a = strstr(out, "# HELP node_slabinfo_active_objects The number of objects that "
                                "are currently active (i.e., in use).\n"
                                "# TYPE node_slabinfo_active_objects gauge\n"
                                "node_slabinfo_active_objects{slab=\"dentry\"} 60\n"
                                "node_slabinfo_active_objects{slab=\"dentry#1\"} 1\n"
                                "# HELP node_slabinfo_object_size_bytes ");
    assert_non_null(a);
    const char *b = strstr(out, "\nnode_slabinfo_object_size_bytes{slab=\"dentry\"} 192\n");
    const char *c2 = strstr(out, "\nnode_slabinfo_objects{slab=\"dentry\"} 63\n");
    const char *d = strstr(out, "\nnode_slabinfo_objects_per_slab{slab=\"dentry\"} 21\n");
    const char *e = strstr(out, "\nnode_slabinfo_pages_per_slab{slab=\"dentry#1\"} 1\n");
    assert_true(a && b && c2 && d && e && a < b && b < c2 && c2 < d && d < e);
    free(out);
}

static void test_render_parts(void **state)
{
    (void)state;
    struct kmem_node node;
    memset(&node, 0, sizeof(node));
    for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++)
        node.kind[k] = 1000 + (uint64_t)k;
    struct kmem_cgroup cg[2];
    memset(cg, 0, sizeof(cg));
    cg[0].path = "/";
    cg[0].kernel = 5000;
    /* the root's usage is always read, giving a bound; the kernel's count is exact: no series */
    cg[0].has_upper_bound = true;
    cg[0].kernel_upper_bound = 6000;
    cg[1].path = "/kubepods.slice/pod/cri-containerd-abc.scope";
    cg[1].kernel = 700;
    cg[1].pod_name = "web-1";
    cg[1].namespace_name = "prod";
    cg[1].container_name = "nginx";
    cg[1].container_id = "abc";
    cg[1].comp[KMEM_CG_KERNEL_STACK] = 16384;
    cg[1].comp_present = 1u << KMEM_CG_KERNEL_STACK;
    cg[1].has_sock = true;
    cg[1].sock = 99;
    cg[1].has_dying = true;
    cg[1].dying = 2;
    cg[1].container_attempt = 4;
    struct kmem_cgroups cgs = {.layout = KMEM_CG_V2,
                               .n = 2,
                               .v = cg,
                               .kernel_exact = true,
                               .dying = 9,
                               .dying_source = KMEM_CG_DYING_SUBSYS_MEMORY};

    /* The slab collector failed: its families stay (HELP/TYPE), without series. */
    struct kmem_status ok = {0}, bad = {.err = -EACCES, .msg = "permission denied"};
    struct kx_collection c = {.node = &node, .cgroups = &cgs, .when_ms = 1700000000123};
    c.part[kx_collector_index("slabinfo")].status = &bad;
    c.part[kx_collector_index("node")].status = &ok;
    c.part[kx_collector_index("cgroup")].status = &ok;
    c.part[kx_collector_index("slabinfo")].seconds = 0.25;
    struct kx_render_opts o = {.page_size = 4096, .timestamps = true, .process = true};
    char *out = render(&c, &o);

    assert_non_null(strstr(out, "# TYPE kmem_slab_objects gauge\n# HELP kmem_slab_active_objects"));
    assert_non_null(strstr(out, "kmem_collector_success{collector=\"slabinfo\"} 0\n"));
    assert_non_null(strstr(out, "kmem_collector_success{collector=\"node\"} 1\n"));
    assert_non_null(strstr(out, "kmem_collector_success{collector=\"cgroup\"} 1\n"));
    assert_non_null(strstr(out, "kmem_collector_duration_seconds{collector=\"slabinfo\"} 0.25\n"));
    for (int k = 0; k < KMEM_NODE_KIND_COUNT; k++) {
        char line[128];
        snprintf(line, sizeof(line), "kmem_node_kernel_bytes{kind=\"%s\"} %d\n",
                 kmem_node_kind_name[k], 1000 + k);
        assert_non_null(strstr(out, line));
    }
    assert_non_null(strstr(out, "kmem_cgroup_kernel_bytes{cgroup=\"/\",pod=\"\",namespace=\"\","
                                "container=\"\"} 5000\n"));
    assert_non_null(strstr(out, "kmem_cgroup_kernel_bytes{cgroup=\"/kubepods.slice/pod/"
                                "cri-containerd-abc.scope\",pod=\"web-1\",namespace=\"prod\","
                                "container=\"nginx\"} 700\n"));
    assert_non_null(strstr(out, "kmem_cgroup_kernel_component_bytes{cgroup=\"/kubepods.slice/pod/"
                                "cri-containerd-abc.scope\",kind=\"kernel_stack\"} 16384\n"));
    assert_null(strstr(out, ",kind=\"sock\"}"));
    assert_int_equal(count(out, "\nkmem_cgroup_kernel_component_bytes{"), 1);
    assert_non_null(strstr(out, "\nkmem_cgroup_sock_bytes{cgroup=\"/kubepods.slice/pod/"
                                "cri-containerd-abc.scope\"} 99\n"));
    assert_int_equal(count(out, "\nkmem_cgroup_sock_bytes{"), 1);
    assert_non_null(strstr(out, "\nkmem_cgroup_kernel_exact 1\n"));
    assert_non_null(strstr(out, "# TYPE kmem_cgroup_kernel_upper_bound_bytes gauge\n"));
    assert_int_equal(count(out, "\nkmem_cgroup_kernel_upper_bound_bytes{"), 0);
    assert_non_null(strstr(out, "\nkmem_memory_cgroups_dying 9\n"));
    assert_non_null(strstr(out, "\nkmem_cgroup_dying_descendants{cgroup=\"/kubepods.slice/pod/"
                                "cri-containerd-abc.scope\"} 2\n"));
    assert_int_equal(count(out, "\nkmem_cgroup_dying_descendants{"), 1);
    assert_non_null(strstr(out, "container_memory_kernel_usage{container=\"nginx\",id=\"/kubepods."
                                "slice/pod/cri-containerd-abc.scope\",image=\"\",name=\"abc\","
                                "namespace=\"prod\",pod=\"web-1\"} 700 1700000000123\n"));
    assert_non_null(strstr(out, "container_memory_kernel_usage{container=\"\",id=\"/\",image=\"\","
                                "name=\"\",namespace=\"\",pod=\"\"} 5000 1700000000123\n"));
    assert_non_null(strstr(out, "kmem_exporter_build_info{version=\"" KMEM_VERSION "\"} 1\n"));
    /* Timestamps only on the cAdvisor family. */
    assert_null(strstr(out, "} 700 1700000000123\nkmem"));
    assert_non_null(strstr(out, "# TYPE process_cpu_seconds_total counter\n"));
    assert_non_null(strstr(out, "\nprocess_resident_memory_bytes "));
    assert_non_null(strstr(out, "\nprocess_open_fds "));
    assert_non_null(strstr(out, "\nprocess_start_time_seconds "));
    /* The exposition ends with the last family. */
    const char *last = strstr(out, "# TYPE process_max_fds");
    assert_non_null(last);
    assert_null(strstr(last, "\n#"));
    free(out);
}

/* Disabled collectors (--no-collector.<name>): no family, no series, no
 * kmem_collector_* series; the others as usual. */
static void test_render_disabled(void **state)
{
    (void)state;
    struct kmem_slab v[] = {mkslab("foo", 0, 10, 20, 64, 64, 1, 1)};
    struct kmem_slabinfo si = {.n = 1, .v = v};
    struct kmem_node node;
    memset(&node, 0, sizeof(node));
    struct kmem_status ok = {0};
    struct kx_collection c = {.slab = &si, .node = &node};
    for (size_t i = 0; i < kx_ncollectors; i++)
        c.part[i].status = &ok;
    struct kx_render_opts o = {
        .page_size = 4096,
        .disabled = 1u << kx_collector_index("node") | 1u << kx_collector_index("cgroup") |
                    1u << kx_collector_index("node_detail") | 1u << kx_collector_index("owners")};
    char *out = render(&c, &o);
    assert_non_null(strstr(out, "\nkmem_slab_objects{cache=\"foo\"} 20\n"));
    assert_non_null(strstr(out, "kmem_collector_success{collector=\"slabinfo\"} 1\n"));
    assert_null(strstr(out, "kmem_node"));
    assert_null(strstr(out, "kmem_cgroup"));
    assert_null(strstr(out, "container_memory_kernel_usage"));
    assert_null(strstr(out, "collector=\"node\""));
    assert_null(strstr(out, "collector=\"cgroup\""));
    assert_non_null(strstr(out, "kmem_exporter_build_info{"));
    free(out);

    o.disabled = (1u << kx_ncollectors) - 1;
    out = render(&c, &o);
    assert_null(strstr(out, "kmem_slab"));
    assert_null(strstr(out, "kmem_collector_success{"));
    assert_non_null(strstr(out, "# TYPE kmem_collector_success gauge\n"));
    assert_non_null(strstr(out, "kmem_exporter_build_info{"));
    free(out);
}

/* --collector.cadvisor-compat: auto emits the cAdvisor family on v2 only. */
static void test_cadvisor_compat(void **state)
{
    (void)state;
    static const struct {
        enum kmem_cg_layout layout;
        const char *compat;
        bool emitted;
    } cases[] = {
        {KMEM_CG_V2, "auto", true},       {KMEM_CG_V1, "auto", false},
        {KMEM_CG_HYBRID, "auto", false},  {KMEM_CG_V1, "always", true},
        {KMEM_CG_HYBRID, "always", true}, {KMEM_CG_V2, "always", true},
        {KMEM_CG_V2, "never", false},     {KMEM_CG_V1, "never", false},
    };
    struct kmem_cgroup cg = {.path = "/", .kernel = 4096, .container_attempt = -1};
    struct kmem_status ok = {0};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kmem_cgroups cgs = {.layout = cases[i].layout, .n = 1, .v = &cg};
        struct kx_collection c = {.cgroups = &cgs};
        struct kx_render_opts o = {.page_size = 4096};
        for (size_t k = 0; k < kx_ncollectors; k++)
            c.part[k].status = &ok;
        assert_int_equal(kx_cadvisor_compat_parse(cases[i].compat, &o.cadvisor_compat), 0);
        char *out = render(&c, &o);
        bool got = strstr(out, "\ncontainer_memory_kernel_usage{") != NULL;
        if (got != cases[i].emitted)
            fail_msg("layout %s, %s: emitted %d", kmem_cg_layout_name[cases[i].layout],
                     cases[i].compat, got);
        /* The kmem families are always there. */
        assert_non_null(strstr(out, "\nkmem_cgroup_kernel_bytes{cgroup=\"/\""));
        assert_int_equal(count(out, "# TYPE container_memory_kernel_usage gauge"),
                         cases[i].emitted ? 1 : 0);
        free(out);
    }
    enum kx_cadvisor_compat v;
    assert_int_equal(kx_cadvisor_compat_parse("Auto", &v), -EINVAL);
    assert_int_equal(kx_cadvisor_compat_parse("", &v), -EINVAL);
    assert_int_equal(kx_cadvisor_compat_parse(NULL, &v), -EINVAL);
}

/* The `name` label: the kubelet's first alias of the runtime handler. */
static void test_cadvisor_name(void **state)
{
    (void)state;
    static const struct {
        const char *runtime, *cid, *container, *pod, *ns, *uid;
        int attempt;
        const char *want;
    } cases[] = {
        {"containerd", "abc", "nginx", "web-1", "prod", "u-1", 0, "abc"},
        {"crio", "abc", "redis", "redis-0", "default", "u-2", 3, "k8s_redis_redis-0_default_u-2_3"},
        {"docker", "abc", "app", "api", "shop", "u-3", 12, "k8s_app_api_shop_u-3_12"},
        /* what CRI-O's name needs is unknown: the ID, as cAdvisor's second alias */
        {"crio", "abc", "redis", "redis-0", "default", "u-2", -1, "abc"},
        {"crio", "abc", "", "redis-0", "default", "u-2", 0, "abc"},
        {"docker", "abc", "app", "", "shop", "u-3", 0, "abc"},
        /* cgroupfs driver, bare ID: containerd or docker, unknown: the ID */
        {"", "abc", "app", "api", "shop", "u-3", 1, "abc"},
        /* not a container (pod cgroup, conmon, a service) */
        {"crio", "", "", "redis-0", "default", "u-2", -1, ""},
        {"", "", "", "", "", "", -1, ""},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kmem_cgroup cg = {
            .path = "/x",
            .runtime = cases[i].runtime,
            .container_id = cases[i].cid,
            .container_name = cases[i].container,
            .pod_name = cases[i].pod,
            .namespace_name = cases[i].ns,
            .pod_uid = cases[i].uid,
            .container_attempt = cases[i].attempt,
        };
        char name[256];
        kx_cadvisor_name(&cg, name, sizeof(name));
        if (strcmp(name, cases[i].want) != 0)
            fail_msg("case %zu: name '%s', want '%s'", i, name, cases[i].want);
    }
    /* Cut to fit, always terminated. */
    struct kmem_cgroup cg = {.runtime = "crio",
                             .container_id = "abc",
                             .container_name = "c",
                             .pod_name = "p",
                             .namespace_name = "n",
                             .pod_uid = "u",
                             .container_attempt = 7};
    char small[6];
    kx_cadvisor_name(&cg, small, sizeof(small));
    assert_string_equal(small, "k8s_c");
}

static void test_process(void **state)
{
    (void)state;
    struct kx_process p;
    assert_int_equal(kx_process_read(&p), 0);
    assert_true(p.ok);
    assert_true(p.rss_bytes > 0);
    assert_true(p.vsize_bytes >= p.rss_bytes);
    assert_true(p.open_fds >= 3);
    assert_true(p.max_fds >= p.open_fds);
    assert_true(p.start_time_seconds > 1e9);
    assert_true(p.cpu_seconds >= 0);
}

/* A declared family: samples carry its label names in order; a sample with
 * another count of values than the family declares fails the buffer. */
static void test_family_declared(void **state)
{
    (void)state;
    static const struct kx_family two = {"t_two", "Two labels.", KX_GAUGE, {"a", "b"}};
    static const struct kx_family none = {"t_none", "No label.", KX_COUNTER, {NULL}};
    struct kmem_buf b;
    kmem_buf_init(&b, 4096);
    assert_int_equal(kx_family_nlabels(&two), 2);
    assert_int_equal(kx_family_nlabels(&none), 0);
    kx_family_head(&b, &two);
    assert_int_equal(kx_family_u64(&b, &two, KX_VALUES("x", "y\""), 7, KX_NO_TIMESTAMP), 0);
    kx_family_head(&b, &none);
    assert_int_equal(kx_family_double(&b, &none, KX_NO_VALUES, 0.5, 123), 0);
    assert_string_equal(b.data, "# HELP t_two Two labels.\n# TYPE t_two gauge\n"
                                "t_two{a=\"x\",b=\"y\\\"\"} 7\n"
                                "# HELP t_none No label.\n# TYPE t_none counter\n"
                                "t_none 0.5 123\n");
    /* One value short, one too many, values for a family without labels. */
    assert_int_equal(kx_family_u64(&b, &two, KX_VALUES("x"), 1, KX_NO_TIMESTAMP), -EINVAL);
    assert_int_equal(b.err, -EINVAL);
    assert_null(kmem_buf_take(&b, NULL));
    kmem_buf_free(&b);
    kmem_buf_init(&b, 4096);
    assert_int_equal(kx_family_u64(&b, &two, KX_VALUES("x", "y", "z"), 1, KX_NO_TIMESTAMP),
                     -EINVAL);
    kmem_buf_free(&b);
    kmem_buf_init(&b, 4096);
    assert_int_equal(kx_family_double(&b, &none, KX_VALUES("x"), 1, KX_NO_TIMESTAMP), -EINVAL);
    kmem_buf_free(&b);
}

/* The collector table: unique names, a render function and a snapshot part
 * each, start and stop together; every collector that is on gets one
 * kmem_collector_success and one kmem_collector_duration_seconds series, in
 * table order, and one that is off none. */
static void test_collector_table(void **state)
{
    (void)state;
    assert_true(kx_ncollectors >= 5);
    assert_true(kx_ncollectors <= KX_COLLECTORS_MAX);
    size_t stateful = 0;
    for (size_t i = 0; i < kx_ncollectors; i++) {
        const struct kx_collector_def *d = &kx_collectors[i];
        assert_int_equal(kx_collector_index(d->name), (int)i);
        assert_non_null(d->render);
        assert_non_null(d->help);
        assert_true((unsigned)d->part < KMEM_PART_COUNT);
        assert_true(!d->start == !d->stop);
        assert_true(!d->start == !d->collect);
        stateful += d->start != NULL;
    }
    assert_int_equal(kx_collector_index("no-such"), -1);
    assert_int_equal(kx_collector_index("alloc") >= 0, 1);
    assert_int_equal(stateful, 1); /* alloc */

    struct kmem_status ok = {0};
    struct kx_collection c = {0};
    for (size_t i = 0; i < kx_ncollectors; i++)
        c.part[i].status = &ok;
    struct kx_render_opts o = {.page_size = 4096};
    char *out = render(&c, &o);
    const char *at = out;
    size_t n = 0;
    for (size_t i = 0; i < kx_ncollectors; i++) {
        char line[128];
        snprintf(line, sizeof(line), "kmem_collector_success{collector=\"%s\"} 1\n",
                 kx_collectors[i].name);
        const char *p = strstr(out, line);
        /* A collector with a start function is off until started. */
        if (kx_collectors[i].start) {
            assert_null(p);
            continue;
        }
        assert_non_null(p);
        assert_true(p > at); /* table order */
        at = p;
        snprintf(line, sizeof(line), "kmem_collector_duration_seconds{collector=\"%s\"} 0\n",
                 kx_collectors[i].name);
        assert_non_null(strstr(out, line));
        n++;
    }
    assert_int_equal(n, kx_ncollectors - stateful);
    assert_int_equal(count(out, "\nkmem_collector_success{"), n);
    assert_int_equal(count(out, "\nkmem_collector_duration_seconds{"), n);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_sample_lines),
        cmocka_unit_test(test_double_round_trip),
        cmocka_unit_test(test_buf_cap),
        cmocka_unit_test(test_gzip_roundtrip),
        cmocka_unit_test(test_accept_encoding),
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_render_duplicates),
        cmocka_unit_test(test_render_duplicates_collision_free),
        cmocka_unit_test(test_render_filter),
        cmocka_unit_test(test_render_slab_options),
        cmocka_unit_test(test_render_parts),
        cmocka_unit_test(test_render_disabled),
        cmocka_unit_test(test_cadvisor_compat),
        cmocka_unit_test(test_cadvisor_name),
        cmocka_unit_test(test_process),
        cmocka_unit_test(test_family_declared),
        cmocka_unit_test(test_collector_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
