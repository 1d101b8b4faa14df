/* SPDX-License-Identifier: MIT */
/* kmem_exporter's log (log.h): levels, logfmt and JSON lines, escaping,
 * invalid UTF-8, cut lines that stay well formed, one write per line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/exporter/expo.h"
#include "../../src/exporter/log.h"
#include "utf8.h"

#define T0 1700000000123LL /* 2023-11-14T22:13:20.123Z */

static size_t line(char *buf, size_t len, enum kx_log_format f, enum kx_log_level l,
                   const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    size_t n = kx_log_format_line(buf, len, f, T0, l, msg, ap);
    va_end(ap);
    return n;
}

static void test_parse(void **state)
{
    (void)state;
    enum kx_log_level l;
    enum kx_log_format f;
    assert_int_equal(kx_log_parse_level("debug", &l), 0);
    assert_int_equal(l, KX_LOG_DEBUG);
    assert_int_equal(kx_log_parse_level("warn", &l), 0);
    assert_int_equal(l, KX_LOG_WARN);
    assert_int_equal(kx_log_parse_level("error", &l), 0);
    assert_int_equal(l, KX_LOG_ERROR);
    assert_int_equal(kx_log_parse_level("info", &l), 0);
    assert_int_equal(l, KX_LOG_INFO);
    assert_int_not_equal(kx_log_parse_level("warning", &l), 0);
    assert_int_not_equal(kx_log_parse_level("INFO", &l), 0);
    assert_int_not_equal(kx_log_parse_level("", &l), 0);
    assert_int_not_equal(kx_log_parse_level(NULL, &l), 0);
    assert_int_equal(kx_log_parse_format("json", &f), 0);
    assert_int_equal(f, KX_LOG_JSON);
    assert_int_equal(kx_log_parse_format("logfmt", &f), 0);
    assert_int_equal(f, KX_LOG_LOGFMT);
    assert_int_not_equal(kx_log_parse_format("text", &f), 0);
}

static void test_logfmt(void **state)
{
    (void)state;
    char b[512];
    line(b, sizeof(b), KX_LOG_LOGFMT, KX_LOG_INFO, "Listening on", "address", ":10465", "tls",
         "false", NULL);
    assert_string_equal(
        b, "time=2023-11-14T22:13:20.123Z level=INFO msg=\"Listening on\" address=:10465 "
           "tls=false\n");
    /* Bare when possible; quoted with Go escapes otherwise; empty and NULL are "". */
    line(b, sizeof(b), KX_LOG_LOGFMT, KX_LOG_ERROR, "Collector failed", "collector", "cgroup",
         "err", "a \"b\"\\c=d\n\te\x01", "empty", "", "null", NULL, NULL);
    assert_string_equal(b, "time=2023-11-14T22:13:20.123Z level=ERROR msg=\"Collector failed\" "
                           "collector=cgroup err=\"a \\\"b\\\"\\\\c=d\\n\\te\\u0001\" empty=\"\" "
                           "null=\"\"\n");
    line(b, sizeof(b), KX_LOG_LOGFMT, KX_LOG_WARN, "x=y", NULL);
    assert_string_equal(b, "time=2023-11-14T22:13:20.123Z level=WARN msg=\"x=y\"\n");
    line(b, sizeof(b), KX_LOG_LOGFMT, KX_LOG_DEBUG, "m", "k", "caf\xc3\xa9", NULL);
    assert_string_equal(b, "time=2023-11-14T22:13:20.123Z level=DEBUG msg=m k=\"caf\xc3\xa9\"\n");
}

static void test_json(void **state)
{
    (void)state;
    char b[512];
    line(b, sizeof(b), KX_LOG_JSON, KX_LOG_INFO, "Listening on", "address", ":10465", NULL);
    assert_string_equal(b, "{\"time\":\"2023-11-14T22:13:20.123Z\",\"level\":\"INFO\",\"msg\":"
                           "\"Listening on\",\"address\":\":10465\"}\n");
    /* Invalid UTF-8 (a lone continuation byte, an overlong form, a surrogate)
     * becomes \xHH as in the exposition (issue 24); controls are \u00XX. */
    line(b, sizeof(b), KX_LOG_JSON, KX_LOG_ERROR, "m", "err", "\x80|\xc0\xaf|\xed\xa0\x80|\x7f",
         NULL);
    assert_non_null(strstr(b, "\"err\":\"\\\\x80|\\\\xc0\\\\xaf|"
                              "\\\\xed\\\\xa0\\\\x80|\\u007f\"}\n"));
}

/* A value longer than the buffer is cut; the line keeps its closing quote,
 * brace and newline. */
static void test_cut(void **state)
{
    (void)state;
    char big[3000], b[256];
    memset(big, '"', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    for (int f = KX_LOG_LOGFMT; f <= KX_LOG_JSON; f++) {
        for (size_t len = 64; len <= sizeof(b); len += 7) {
            size_t n = line(b, len, (enum kx_log_format)f, KX_LOG_ERROR, "message", "err", big,
                            "after", "x", NULL);
            assert_true(n < len);
            assert_int_equal(strlen(b), n);
            assert_int_equal(b[n - 1], '\n');
            if (f == KX_LOG_JSON) {
                assert_int_equal(b[n - 2], '}');
                assert_int_equal(b[n - 3], '"');
                assert_null(strstr(b, "after"));
            }
            /* Never half an escape: the quote before the closing one is escaped. */
            if (strstr(b, "err=") || strstr(b, "\"err\""))
                assert_int_equal(b[n - (f == KX_LOG_JSON ? 4 : 3)], '"');
        }
    }
    /* A long plain or multi-byte value is cut, not dropped, and never inside
     * a character: the line stays valid UTF-8. */
    static const char *const unit[] = {"a ", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    for (size_t u = 0; u < sizeof(unit) / sizeof(unit[0]); u++) {
        size_t ul = strlen(unit[u]), k = 0;
        while (k + ul < sizeof(big)) {
            memcpy(big + k, unit[u], ul);
            k += ul;
        }
        big[k] = '\0';
        for (int f = KX_LOG_LOGFMT; f <= KX_LOG_JSON; f++) {
            for (size_t len = 100; len <= sizeof(b); len += 7) {
                size_t n =
                    line(b, len, (enum kx_log_format)f, KX_LOG_ERROR, "message", "err", big, NULL);
                assert_true(n < len);
                assert_int_equal(b[n - 1], '\n');
                assert_true(kmem_utf8_valid(b, n));
                char want[32];
                snprintf(want, sizeof(want), f == KX_LOG_JSON ? "\"err\":\"%s" : "err=\"%s",
                         unit[u]);
                assert_non_null(strstr(b, want));
                if (f == KX_LOG_JSON)
                    assert_int_equal(b[n - 2], '}');
                assert_int_equal(b[n - (f == KX_LOG_JSON ? 3 : 2)], '"');
                assert_true(n + 8 > len); /* cut near the end, not dropped */
            }
        }
    }
}

static void test_levels(void **state)
{
    (void)state;
    int p[2];
    char out[4096];
    assert_int_equal(pipe(p), 0);
    kx_log_setup(KX_LOG_WARN, KX_LOG_JSON, p[1]);
    assert_false(kx_log_enabled(KX_LOG_INFO));
    assert_true(kx_log_enabled(KX_LOG_ERROR));
    kx_log(KX_LOG_DEBUG, "no", NULL);
    kx_log(KX_LOG_INFO, "no", NULL);
    kx_log(KX_LOG_WARN, "yes-warn", "k", "v", NULL);
    kx_log(KX_LOG_ERROR, "yes-error", NULL);
    close(p[1]);
    ssize_t n = read(p[0], out, sizeof(out) - 1);
    close(p[0]);
    assert_true(n > 0);
    out[n] = '\0';
    assert_null(strstr(out, "\"no\""));
    assert_non_null(strstr(out, "\"level\":\"WARN\",\"msg\":\"yes-warn\",\"k\":\"v\"}\n{"));
    assert_non_null(strstr(out, "\"level\":\"ERROR\",\"msg\":\"yes-error\"}\n"));
    kx_log_setup(KX_LOG_INFO, KX_LOG_LOGFMT, STDERR_FILENO);
}

/* Log and exposition treat the same bytes the same way: every valid UTF-8
 * sequence is kept, every byte of an invalid one becomes U+FFFD, in a JSON
 * log line, a logfmt one and a label value alike (issue 17: the log took
 * 0xF5..0xF7 for lead bytes and wrote "a\xf5\x80\x80z" raw). */
static void test_utf8_as_exposition(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "a\xf5\x80\x80z",         /* 0xF5 lead: above U+10FFFF */
        "a\xf6\x80\x80\x80z",     /* 0xF6 */
        "a\xf7\xbf\xbf\xbfz",     /* 0xF7 */
        "a\xf8\x88\x80\x80\x80z", /* 5-byte form */
        "\xfe\xff",               /* never in UTF-8 */
        "\xc0\xaf",               /* overlong '/' */
        "\xc1\xbf",               /* overlong */
        "\xe0\x80\xaf",           /* overlong, 3 bytes */
        "\xf0\x80\x80\xaf",       /* overlong, 4 bytes */
        "\xed\xa0\x80",           /* surrogate U+D800 */
        "\xf4\x90\x80\x80",       /* U+110000 */
        "\x80",                   /* lone continuation */
        "\xe2\x82",               /* cut short */
        "\xf0\x9f\x98",           /* cut short */
        "caf\xc3\xa9",            /* valid: U+00E9 */
        "\xe2\x82\xac",           /* valid: U+20AC */
        "\xef\xbf\xbf",           /* valid: U+FFFF */
        "\xf0\x9f\x98\x80",       /* valid: U+1F600 */
        "\xf4\x8f\xbf\xbf",       /* valid: U+10FFFF */
        "x\xf5y\xc3\xa9\xf7",     /* mixed */
    };
    size_t compared = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kmem_buf b;
        kmem_buf_init(&b, 4096);
        assert_int_equal(kx_expo_escape_label(&b, cases[i]), 0);
        char *label = kmem_buf_take(&b, NULL);
        assert_non_null(label);

        for (int f = 0; f < 2; f++) {
            char out[512], want[600];
            enum kx_log_format fmt = f ? KX_LOG_JSON : KX_LOG_LOGFMT;
            line(out, sizeof(out), fmt, KX_LOG_INFO, "m", "v", cases[i], NULL);
            /* Non-ASCII bytes make logfmt quote the value, as JSON does. */
            snprintf(want, sizeof(want), f ? "\"v\":\"%s\"}\n" : " v=\"%s\"\n", label);
            if (!strstr(out, want))
                fail_msg("case %zu (%s): log line %s does not hold the exposition's %s", i,
                         f ? "json" : "logfmt", out, want);
            compared++;
        }
        free(label);
    }
    assert_int_equal(compared, 2 * (sizeof(cases) / sizeof(cases[0])));
    /* And the bug itself, spelled out. */
    char out[256];
    line(out, sizeof(out), KX_LOG_JSON, KX_LOG_INFO, "m", "v", "a\xf5\x80\x80z", NULL);
    assert_non_null(strstr(out, "\"v\":\"a\\\\xf5\\\\x80\\\\x80z\"}"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),  cmocka_unit_test(test_logfmt),
        cmocka_unit_test(test_json),   cmocka_unit_test(test_cut),
        cmocka_unit_test(test_levels), cmocka_unit_test(test_utf8_as_exposition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
