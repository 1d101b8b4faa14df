/* SPDX-License-Identifier: MIT */
/*
 * src/common: the one UTF-8 validator (and the bug of issue 17: leads
 * 0xF5..0xF7 taken as valid by one of three validators), every writer that
 * escapes through it agreeing on the same bytes, the JSON writer, the
 * appending buffer, the HTML escaper, the errno advice, the CPU list, ARRAY_SIZE.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "advice.h"
#include "buf.h"
#include "htmlesc.h"
#include "jsonw.h"
#include "macros.h"
#include "needs.h"
#include "parse.h"
#include "timeutil.h"
#include "utf8.h"
#include "../../src/kmemtop/common.h"
#include "../../src/kmemtop/html.h"
#include "../../src/kmemtop/views.h"
#include "../../src/exporter/expo.h"
#include "../../src/exporter/log.h"

static const struct {
    const char *s;
    size_t len, want; /* bytes given, length of the valid sequence (0: invalid) */
} utf8_cases[] = {
    {"a", 1, 1},
    {"\xc2\x80", 2, 2},
    {"\xdf\xbf", 2, 2},
    {"\xe0\xa0\x80", 3, 3},
    {"\xed\x9f\xbf", 3, 3},     /* U+D7FF, below the surrogates */
    {"\xee\x80\x80", 3, 3},     /* U+E000, above them */
    {"\xf0\x90\x80\x80", 4, 4}, /* U+10000 */
    {"\xf4\x8f\xbf\xbf", 4, 4}, /* U+10FFFF */
    {"\x80", 1, 0},             /* a continuation byte as a lead */
    {"\xbf", 1, 0},
    {"\xc0\x80", 2, 0},         /* overlong NUL */
    {"\xc1\xbf", 2, 0},         /* overlong */
    {"\xe0\x80\x80", 3, 0},     /* overlong */
    {"\xe0\x9f\xbf", 3, 0},     /* overlong */
    {"\xed\xa0\x80", 3, 0},     /* U+D800, a surrogate */
    {"\xed\xbf\xbf", 3, 0},     /* U+DFFF */
    {"\xf0\x80\x80\x80", 4, 0}, /* overlong */
    {"\xf0\x8f\xbf\xbf", 4, 0}, /* overlong */
    {"\xf4\x90\x80\x80", 4, 0}, /* U+110000 */
    {"\xf5\x80\x80\x80", 4, 0}, /* issue 17: 0xF5..0xF7 leads are invalid */
    {"\xf6\x80\x80\x80", 4, 0},
    {"\xf7\xbf\xbf\xbf", 4, 0},
    {"\xf8\x88\x80\x80\x80", 5, 0}, /* 5-byte form */
    {"\xfc\x84\x80\x80\x80\x80", 6, 0},
    {"\xfe", 1, 0},
    {"\xff", 1, 0},
    {"\xe2\x82", 2, 0}, /* truncated */
    {"\xf0\x90\x80", 3, 0},
    {"\xc2\x41", 2, 0}, /* bad continuation */
    {"\xe2\x28\xa1", 3, 0},
};

static void test_utf8_seq(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(utf8_cases); i++) {
        size_t got = kmem_utf8_seq((const unsigned char *)utf8_cases[i].s, utf8_cases[i].len);
        if (got != utf8_cases[i].want)
            fail_msg("case %zu: %zu, want %zu", i, got, utf8_cases[i].want);
        assert_int_equal(kmem_utf8_valid(utf8_cases[i].s, utf8_cases[i].len),
                         utf8_cases[i].want == utf8_cases[i].len);
    }
    /* Every lead byte from 0xF5 up is refused whatever follows. */
    for (unsigned c = 0xf5; c <= 0xff; c++) {
        unsigned char s[4] = {(unsigned char)c, 0x80, 0x80, 0x80};
        assert_int_equal(kmem_utf8_seq(s, 4), 0);
    }
}

static void put_str(void *ctx, const char *p, size_t n)
{
    kmem_buf_add(ctx, p, n);
}

static char *escaped(const char *s, size_t len, unsigned flags)
{
    struct kmem_buf b = {0};

    kmem_json_escape(s, len, flags, put_str, &b);
    assert_int_equal(b.err, 0);
    return kmem_buf_take(&b, NULL);
}

static char *file_text(void (*fn)(FILE *, const char *), const char *s)
{
    char *p = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&p, &n);

    assert_non_null(f);
    fn(f, s);
    assert_int_equal(fclose(f), 0);
    return p;
}

/*
 * The bytes of issue 17, a\xf5\x80\x80z: three invalid bytes, each treated
 * alone by every writer (none passes 0xF5 through raw): JSON writes the
 * byte's code point (kmemtop --json, documented) or U+FFFD (as Go does,
 * and the exporter's JSON log), the exposition U+FFFD, the screens '?' and
 * --report \xNN.
 */
static size_t log_json(char *buf, size_t len, ...)
{
    va_list ap;
    size_t n;

    va_start(ap, len);
    n = kx_log_format_line(buf, len, KX_LOG_JSON, 0, KX_LOG_INFO, "m", ap);
    va_end(ap);
    return n;
}

static void test_issue17_bytes_everywhere(void **state)
{
    static const char bug[] = "a\xf5\x80\x80z";
    char out[64], *s;
    struct kmem_buf kb;

    (void)state;
    s = escaped(bug, strlen(bug), 0); /* issue 24: \xHH, distinct from U+00F5 */
    assert_string_equal(s, "\"a\\\\xf5\\\\x80\\\\x80z\"");
    free(s);
    s = escaped(bug, strlen(bug), KMEM_JSON_FFFD);
    assert_string_equal(s, "\"a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\"");
    free(s);
    s = file_text(kt_json_string, bug); /* kmemtop --json and --alloc --json */
    assert_string_equal(s, "\"a\\\\xf5\\\\x80\\\\x80z\"");
    free(s);
    s = file_text(kt_put_printable, bug); /* --report */
    assert_string_equal(s, "a\\xf5\\x80\\x80z");
    free(s);
    assert_int_equal(kt_printable(out, sizeof(out), bug, KT_ESC_QMARK), 5);
    assert_string_equal(out, "a???z"); /* screens */
    kmem_buf_init(&kb, 1024);
    assert_int_equal(kx_expo_escape_label(&kb, bug), 0); /* the exposition */
    assert_string_equal(kb.data, "a\\\\xf5\\\\x80\\\\x80z");
    kmem_buf_free(&kb);
    char line[256]; /* the exporter's JSON log, as the exposition */
    assert_true(log_json(line, sizeof(line), "v", bug, (char *)NULL) > 0);
    assert_non_null(strstr(line, "\"v\":\"a\\\\xf5\\\\x80\\\\x80z\""));
}

static void test_json_escape(void **state)
{
    static const struct {
        const char *in;
        unsigned flags;
        const char *want;
    } t[] = {
        {"plain", 0, "\"plain\""},
        {"q\"b\\", 0, "\"q\\\"b\\\\\""},
        {"\n\r\t", 0, "\"\\n\\r\\t\""},
        {"\b\f", 0, "\"\\u0008\\u000c\""},
        {"\b\f", KMEM_JSON_SHORT, "\"\\b\\f\""},
        {"\x01\x1f\x7f", 0, "\"\\u0001\\u001f\\u007f\""},
        {"\xc3\xa9", 0, "\"\xc3\xa9\""},
        {"\xc2\x9b", 0, "\"\xc2\x9b\""}, /* C1: valid, raw unless SAFE */
        {"\xc2\x9b", KMEM_JSON_SAFE, "\"\\u009b\""},
        {"\xe2\x80\xa8\xe2\x80\xa9", KMEM_JSON_SAFE, "\"\\u2028\\u2029\""},
        {"\xe2\x80\xa8", 0, "\"\xe2\x80\xa8\""},
        {"\xed\xa0\x80", 0, "\"\\\\xed\\\\xa0\\\\x80\""}, /* a surrogate */
        {"\xc0\xaf", KMEM_JSON_FFFD, "\"\xef\xbf\xbd\xef\xbf\xbd\""},
        {"", 0, "\"\""},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
        char *s = escaped(t[i].in, strlen(t[i].in), t[i].flags);
        if (strcmp(s, t[i].want))
            fail_msg("case %zu: %s, want %s", i, s, t[i].want);
        free(s);
    }
}

static void jw_doc(FILE *f, const char *unused)
{
    struct kmem_jw w = {.f = f};

    (void)unused;
    kmem_jw_obj(&w, NULL);
    kmem_jw_u64(&w, "n", 18446744073709551615u);
    kmem_jw_i64(&w, "d", -3);
    kmem_jw_arr(&w, "rows");
    kmem_jw_obj(&w, NULL);
    kmem_jw_str(&w, "name", "x\xff");
    kmem_jw_bool(&w, "ok", true);
    kmem_jw_obj_end(&w);
    kmem_jw_arr_end(&w);
    kmem_jw_str_or_null(&w, "none", "");
    kmem_jw_u64_or_null(&w, "known", true, 5);
    kmem_jw_i64_or_null(&w, "unknown", false, -1);
    kmem_jw_obj_end(&w);
}

static void test_json_writer(void **state)
{
    char *s = file_text(jw_doc, NULL);

    (void)state;
    assert_string_equal(s, "{\n  \"n\": 18446744073709551615,\n  \"d\": -3,\n  \"rows\": [\n"
                           "    {\"name\": \"x\\\\xff\", \"ok\": true}\n  ],\n  \"none\": null,\n"
                           "  \"known\": 5,\n  \"unknown\": null\n}");
    free(s);
}

static void test_buf_append(void **state)
{
    struct kmem_buf b;
    size_t len;
    char *s;

    (void)state;
    kmem_buf_init(&b, 16);
    assert_int_equal(kmem_buf_adds(&b, "ab"), 0);
    assert_int_equal(kmem_buf_addc(&b, 'c'), 0);
    assert_int_equal(kmem_buf_printf(&b, "%d", -12), 0);
    assert_int_equal(kmem_buf_add_u64(&b, 7), 0);
    assert_int_equal(kmem_buf_add_i64(&b, -8), 0);
    assert_string_equal(b.data, "abc-127-8");
    assert_int_equal(kmem_json_buf(&b, "\"", 0), 0);
    assert_string_equal(b.data, "abc-127-8\"\\\"\"");
    /* Past max: the sticky error, the data freed, later appends refused. */
    assert_int_equal(kmem_buf_adds(&b, "0123456789"), -E2BIG);
    assert_null(b.data);
    assert_int_equal(kmem_buf_adds(&b, "x"), -E2BIG);
    assert_null(kmem_buf_take(&b, &len));
    kmem_buf_reset(&b);
    assert_int_equal(kmem_buf_adds(&b, "ok"), 0);
    s = kmem_buf_take(&b, &len);
    assert_string_equal(s, "ok");
    assert_int_equal(len, 2);
    free(s);
    kmem_buf_free(&b);
}

static const struct {
    const char *in, *want;
} html_cases[] = {
    {"", ""},
    {"kmalloc-64", "kmalloc-64"},
    {"&", "&amp;"},
    {"<>", "&lt;&gt;"},
    {"\"'", "&quot;&#39;"},
    {"a<b>&c\"d'e", "a&lt;b&gt;&amp;c&quot;d&#39;e"},
    {"&amp;", "&amp;amp;"},                               /* escaped again, never taken as one */
    {"/metrics?x=<script>", "/metrics?x=&lt;script&gt;"}, /* the exporter's landing link */
    {"caf\xc3\xa9 \x01", "caf\xc3\xa9 \x01"},             /* other bytes as they are */
};

/* The one escaper, and kmemtop's --html writing through it. */
static void test_html_escape(void **state)
{
    struct kmem_buf b;
    size_t n = 0;

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(html_cases); i++, n++) {
        char *mem = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&mem, &len);

        kmem_buf_init(&b, 0);
        assert_int_equal(kmem_buf_add_html(&b, html_cases[i].in), 0);
        assert_string_equal(b.data ? b.data : "", html_cases[i].want);
        kmem_buf_free(&b);
        assert_non_null(f);
        kt_html_esc(f, html_cases[i].in);
        fclose(f);
        assert_string_equal(mem, html_cases[i].want);
        free(mem);
    }
    assert_int_equal(n, 9);
    /* Past the buffer's max: the sticky error, nothing half-written kept. */
    kmem_buf_init(&b, 8);
    assert_int_equal(kmem_buf_add_html(&b, "<<<"), -E2BIG);
    assert_null(b.data);
    kmem_buf_free(&b);
}

static void test_msgf(void **state)
{
    char m[8] = "x";

    (void)state;
    kmem_msgf(m, sizeof(m), "%s %d", "abc", 12345); /* truncated, terminated */
    assert_string_equal(m, "abc 123");
    kmem_msgf(NULL, 0, "%d", 1); /* no buffer: nothing */
    kmem_msgf(m, 0, "%d", 1);
    assert_string_equal(m, "abc 123");
}

static void test_grow(void **state)
{
    uint64_t *v = NULL;
    size_t cap = 0;
    int err;

    (void)state;
    KMEM_GROW(err, v, &cap, 100);
    assert_int_equal(err, 0);
    assert_true(cap >= 100);
    v[99] = 1;
    /* A size that overflows the multiplication is refused, not wrapped. */
    KMEM_GROW(err, v, &cap, SIZE_MAX / 4);
    assert_int_equal(err, -ENOMEM);
    assert_true(cap >= 100 && cap < SIZE_MAX / 4);
    free(v);
}

/* kmem_buf_read_fd_chunked: no read() asks more than the chunk, and the
 * reads go on to EOF. A SOCK_SEQPACKET socket shows the size asked: a
 * message longer than the read is cut (the rest dropped). */
static void test_read_chunked(void **state)
{
    static const char *const msg[] = {"0123", "4567", "89", "abcd"};
    struct kmem_buf b = {0};
    int sv[2];

    (void)state;
    for (int chunk = 4; chunk <= 5; chunk++) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
        for (size_t i = 0; i < ARRAY_SIZE(msg); i++)
            assert_int_equal(send(sv[1], msg[i], strlen(msg[i]), 0), (ssize_t)strlen(msg[i]));
        assert_int_equal(send(sv[1], "long message", 12, 0), 12);
        close(sv[1]);
        assert_int_equal(kmem_buf_read_fd_chunked(&b, sv[0], 0, (size_t)chunk), 0);
        close(sv[0]);
        /* Each message whole, the last one cut at the chunk. */
        assert_string_equal(b.data, chunk == 4 ? "0123456789abcdlong" : "0123456789abcdlong ");
        assert_int_equal(b.len, strlen(b.data));
    }
    kmem_buf_free(&b);
}

static void test_advice(void **state)
{
    (void)state;
    assert_string_equal(kmem_errno_hint(-EACCES), " (run as root or grant CAP_DAC_READ_SEARCH)");
    assert_string_equal(kmem_errno_hint(EPERM), " (run as root or grant CAP_DAC_READ_SEARCH)");
    assert_string_equal(kmem_errno_hint(-ENOSPC), "");
    assert_string_equal(kmem_errno_text(-EPERM, KMEM_ADVICE_KLOG),
                        "Permission denied (dmesg_restrict: run as root or grant CAP_SYSLOG)");
    assert_string_equal(kmem_errno_text(-ENOENT, KMEM_ADVICE_DETAIL), "not in this tree or kernel");
    assert_string_equal(kmem_errno_text(-EACCES, KMEM_ADVICE_JSON),
                        "Permission denied (run as root)");
    assert_string_equal(kmem_errno_text(-ENOSPC, KMEM_ADVICE_JSON), strerror(ENOSPC));
    assert_null(kmem_errno_advice(-ENOSPC, KMEM_ADVICE_DETAIL));
}

static void test_cpulist_time_array(void **state)
{
    static const struct {
        const char *text;
        unsigned want;
    } t[] = {{"0-3,8,10-11\n", 7}, {"0-255", 256}, {"0,,1\n", 0}, {"3-1\n", 0}, {"", 0}};
    struct timespec a = {10, 900000000}, b = {12, 100000000};
    int arr[7];

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(t); i++)
        assert_int_equal(kmem_cpulist_count(t[i].text, strlen(t[i].text)), t[i].want);
    assert_true(kmem_ts_diff(&a, &b) > 1.1999 && kmem_ts_diff(&a, &b) < 1.2001);
    assert_true(kmem_ts_diff(&b, &a) < -1.1999);
    assert_true(kmem_clock_seconds(CLOCK_MONOTONIC) > 0);
    assert_int_equal(ARRAY_SIZE(arr), 7);
}

/*
 * What is missing, per datum: the DaemonSet's uid 0 with only
 * CAP_DAC_READ_SEARCH is told the capability it lacks, not "run as root".
 */
static void test_need_text(void **state)
{
    static const struct {
        enum kmem_need need;
        int err;
        bool euid0;
        uint64_t eff;
        const char *has, *lacks;
    } t[] = {
        /* uid 0, only DAC_READ_SEARCH (the shipped securityContext) */
        {KMEM_NEED_KLOG, -EPERM, true, 1u << KMEM_CAP_DAC_READ_SEARCH, "uid 0 but lacks CAP_SYSLOG",
         "run as root"},
        {KMEM_NEED_IOMEM, -EPERM, true, 1u << KMEM_CAP_DAC_READ_SEARCH,
         "uid 0 but lacks CAP_SYS_ADMIN", "run as root"},
        {KMEM_NEED_KLOG, -ENOENT, true, 1u << KMEM_CAP_DAC_READ_SEARCH, "/dev/kmsg", "CAP_SYSLOG"},
        /* a normal user */
        {KMEM_NEED_KLOG, -EACCES, false, 0, "not uid 0 and lacks CAP_SYSLOG", "uid 0 but"},
        {KMEM_NEED_VMINFO, -EACCES, false, 0, "lacks CAP_DAC_READ_SEARCH", "uid 0 but"},
        /* holds CAP_SYSLOG: the device rules */
        {KMEM_NEED_KLOG, -EPERM, true, UINT64_C(1) << KMEM_CAP_SYSLOG, "device rules", "lacks"},
        /* uid 0 may read vmallocinfo: something else refused it */
        {KMEM_NEED_VMINFO, -EACCES, true, 0, "security module", "lacks"},
        {KMEM_NEED_IOMEM, -EPERM, true, UINT64_C(1) << KMEM_CAP_SYS_ADMIN, "user namespace",
         "lacks"},
    };
    char buf[320];
    size_t n = 0;

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
        struct kmem_privs p = {.known = true, .euid0 = t[i].euid0, .eff = t[i].eff};

        kmem_need_text(buf, sizeof(buf), t[i].need, t[i].err, &p);
        if (!strstr(buf, t[i].has) || strstr(buf, t[i].lacks))
            fail_msg("case %zu: \"%s\"", i, buf);
        n++;
    }
    assert_int_equal(n, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_need_text),
        cmocka_unit_test(test_utf8_seq),
        cmocka_unit_test(test_issue17_bytes_everywhere),
        cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_json_writer),
        cmocka_unit_test(test_buf_append),
        cmocka_unit_test(test_html_escape),
        cmocka_unit_test(test_grow),
        cmocka_unit_test(test_read_chunked),
        cmocka_unit_test(test_msgf),
        cmocka_unit_test(test_advice),
        cmocka_unit_test(test_cpulist_time_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
