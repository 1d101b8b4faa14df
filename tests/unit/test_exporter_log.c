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

#include "../../src/exporter/log.h"

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
     * becomes U+FFFD; controls are \u00XX. */
    line(b, sizeof(b), KX_LOG_JSON, KX_LOG_ERROR, "m", "err", "\x80|\xc0\xaf|\xed\xa0\x80|\x7f",
         NULL);
    assert_non_null(strstr(b, "\"err\":\"\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
                              "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\\u007f\"}\n"));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse), cmocka_unit_test(test_logfmt), cmocka_unit_test(test_json),
        cmocka_unit_test(test_cut),   cmocka_unit_test(test_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
