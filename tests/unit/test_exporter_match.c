/* SPDX-License-Identifier: MIT */
/* kmem_exporter: the bounded regular expressions of the slab cache filters. */
#include <errno.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../src/exporter/match.h"

static bool m(const char *re, const char *s)
{
    struct kx_re *r;
    char err[256];
    if (kx_re_compile(&r, re, err, sizeof(err)))
        fail_msg("'%s' does not compile: %s", re, err);
    bool ok = kx_re_match(r, s, strlen(s));
    kx_re_free(r);
    return ok;
}

static const struct {
    const char *re, *s;
    bool match;
} cases[] = {
    /* whole-name matching, as Prometheus' ^(?:re)$ */
    {"kmalloc-.*", "kmalloc-64", true},
    {"kmalloc", "kmalloc-64", false},
    {"kmalloc", "dma-kmalloc", false},
    {".*kmalloc.*", "dma-kmalloc-8", true},
    {"dentry|inode_cache", "dentry", true},
    {"dentry|inode_cache", "inode_cache", true},
    {"dentry|inode_cache", "ext4_inode_cache", false},
    {"dentry|inode_cache", "dentryx", false},
    {"a|b", "ab", false},
    {"", "", true},
    {"", "a", false},
    {"a|", "", true},
    {"|a", "a", true},
    {"()", "", true},
    {"(|x)y", "y", true},
    /* classes */
    {"[abc]+", "cab", true},
    {"[^abc]", "d", true},
    {"[^abc]", "a", false},
    {"[a-c]{3}", "abc", true},
    {"[a-c]{3}", "abd", false},
    {"[]a]+", "]a]", true},
    {"[a-]+", "a-a", true},
    {"[-a]", "-", true},
    {"[[:digit:]]+", "1234", true},
    {"[[:alpha:]_]+", "ext_fs", true},
    {"[[:^digit:]]", "7", false},
    {"[\\d]", "7", true},
    {"[\\]]", "]", true},
    {"\\d+", "123", true},
    {"\\D", "1", false},
    {"\\w+", "abc_9", true},
    {"\\W", "-", true},
    {"\\s", " ", true},
    {"\\S", " ", false},
    {"\\.", ".", true},
    {"\\.", "a", false},
    {"a\\-b", "a-b", true},
    {"\\x41", "A", true},
    {"\\x{41}", "A", true},
    {"\\101", "A", true},
    {"\\t", "\t", true},
    {".", "\n", false},
    {"(?s).", "\n", true},
    /* repetition */
    {"a*", "", true},
    {"a*", "aaaa", true},
    {"a+", "", false},
    {"a?", "a", true},
    {"a?", "aa", false},
    {"a{2}", "aa", true},
    {"a{2}", "aaa", false},
    {"a{2,}", "aaaaa", true},
    {"a{2,}", "a", false},
    {"a{2,3}", "aaa", true},
    {"a{2,3}", "aaaa", false},
    {"a{0}", "", true},
    {"a{0}b", "b", true},
    {"(ab){2}", "abab", true},
    {"(a{2}){3}", "aaaaaa", true},
    {"(a{2}){3}", "aaaaa", false},
    {"a*?", "aa", true},
    {"a+?b", "aab", true},
    {"a{1,2}?", "aa", true},
    {"(a*)*", "aaa", true},
    {"(a*)+b", "aab", true},
    {"(a|b)*c", "ababc", true},
    {"x{", "x{", true}, /* not a repetition: literal, as RE2 */
    {"x{a}", "x{a}", true},
    {"x{1,a}", "x{1,a}", true},
    {"{", "{", true},
    /* groups and flags */
    {"(?:ab)+", "abab", true},
    {"(?P<n>ab)", "ab", true},
    {"(?<n>ab)", "ab", true},
    {"(?i)DENTRY", "dentry", true},
    {"(?i)[a-c]+", "AbC", true},
    {"(?i:a)b", "Ab", true},
    {"(?i:a)b", "AB", false},
    {"(a(?i)b)c", "aBc", true},
    {"(a(?i)b)c", "aBC", false},
    {"(?i)a|b", "B", true},
    {"(?-i)a", "A", false},
    {"(?i)(?-i:a)", "A", false},
    {"(?m)a", "a", true},
    /* assertions */
    {"^a$", "a", true},
    {"^^a$$", "a", true},
    {"a^b", "ab", false},
    {"a$b", "ab", false},
    {"(^a|b)+", "ab", true},
    {"(^a|b)+", "ba", false},
    {"\\Aa\\z", "a", true},
    {"(a$)?", "", true},
    /* bytes */
    {"\\xff", "\xff", true},
    {".", "\xc3", true},
};

static void test_matches(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (m(cases[i].re, cases[i].s) != cases[i].match)
            fail_msg("case %zu: '%s' on '%s' should %smatch", i, cases[i].re, cases[i].s,
                     cases[i].match ? "" : "not ");
}

static const struct {
    const char *re, *msg;
} errors[] = {
    /* issue 14: what made the exporter take 5 GB and 30 s, or escape the anchors */
    {".{0,255}{0,255}", "invalid nested repetition operator: `{0,255}{0,255}`"},
    {"(.{0,255}){0,255}", "expression too large"},
    {"(a)\\1", "back-references are not supported"},
    {"(.*)\\1", "back-references are not supported"},
    {"\\9", "back-references are not supported"},
    {"dentry)|(inode", "unexpected ): `dentry)`"},
    /* everything else refused */
    {"a**", "invalid nested repetition operator: `**`"},
    {"a+*", "invalid nested repetition operator"},
    {"a{2}{3}", "invalid nested repetition operator"},
    {"a*?+", "invalid nested repetition operator"},
    {"a{1001}", "invalid repeat count"},
    {"a{2,1}", "invalid repeat count"},
    {"a{0,1001}", "invalid repeat count"},
    {"a{99999999999999999999}", "invalid repeat count"},
    {"((a{1000}){1000}){1000}", "expression too large"},
    {"[a-z]{1000}[a-z]{1000}[a-z]{1000}[a-z]{1000}[a-z]{1000}[a-z]{1000}[a-z]{1000}[a-z]{1000}"
     "[a-z]{1000}[a-z]{1000}[a-z]{1000}",
     "expression too large"},
    {"*a", "missing argument to repetition operator: `*`"},
    {"a|*", "missing argument to repetition operator"},
    {"(*)", "missing argument to repetition operator"},
    {"{2}", "missing argument to repetition operator"},
    {"(?i)*", "missing argument to repetition operator"},
    {"(", "missing closing )"},
    {"(a", "missing closing )"},
    {"a)", "unexpected )"},
    {")", "unexpected )"},
    {"[a", "missing closing ]"},
    {"[", "missing closing ]"},
    {"[]", "missing closing ]"},
    {"[z-a]", "invalid character class range: `z-a`"},
    {"[a-\\d]", "invalid character class range"},
    {"[[:nope:]]", "invalid character class range: `[:nope:]`"},
    {"\\", "trailing backslash"},
    {"a\\", "trailing backslash"},
    {"\\q", "invalid escape sequence: `\\q`"},
    {"\\xZZ", "invalid escape sequence"},
    {"\\x{100}", "only byte values"},
    {"\\x{}", "invalid escape sequence"},
    {"\\bfoo", "word boundaries are not supported"},
    {"\\pL", "Unicode classes are not supported"},
    {"\\Qa.b\\E", "\\Q...\\E is not supported"},
    {"[\\A]", "invalid escape sequence"},
    {"(?x)a", "invalid or unsupported Perl syntax"},
    {"(?)", "invalid or unsupported Perl syntax"},
    {"(?i", "missing closing )"},
    {"(?P<>a)", "invalid named capture"},
    {"(?P=n)", "invalid or unsupported Perl syntax"},
    {"(?=a)", "invalid or unsupported Perl syntax"},
    {"(?<=a)", "invalid named capture"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        struct kx_re *r = (struct kx_re *)1;
        char err[256] = "";
        int rc = kx_re_compile(&r, errors[i].re, err, sizeof(err));
        if (rc != -EINVAL)
            fail_msg("case %zu: '%s' compiled (%d)", i, errors[i].re, rc);
        assert_null(r);
        if (!strstr(err, errors[i].msg))
            fail_msg("case %zu: '%s': expected '%s' in '%s'", i, errors[i].re, errors[i].msg, err);
    }
}

static void test_limits(void **state)
{
    (void)state;
    char *deep = malloc(2 * KX_RE_MAX_DEPTH + 8);
    size_t n = 0;
    for (int i = 0; i <= KX_RE_MAX_DEPTH; i++)
        deep[n++] = '(';
    for (int i = 0; i <= KX_RE_MAX_DEPTH; i++)
        deep[n++] = ')';
    deep[n] = '\0';
    struct kx_re *r;
    char err[256];
    assert_int_equal(kx_re_compile(&r, deep, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "nests too deeply"));
    deep[1] = '\0';
    free(deep);

    char *longsrc = malloc(KX_RE_MAX_SOURCE + 2);
    memset(longsrc, 'a', KX_RE_MAX_SOURCE + 1);
    longsrc[KX_RE_MAX_SOURCE + 1] = '\0';
    assert_int_equal(kx_re_compile(&r, longsrc, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "too long"));
    free(longsrc);

    /* At the limits, compile and match stay fast. */
    assert_int_equal(kx_re_compile(&r, "(.{0,43}){0,43}", err, sizeof(err)), 0);
    assert_true(kx_re_size(r) <= KX_RE_MAX_INST);
    char name[129];
    memset(name, 'x', 128);
    name[128] = '\0';
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 10; i++) {
        name[i] = (char)('a' + i); /* a new subject each time: no remembered result */
        assert_true(kx_re_match(r, name, 128));
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    kx_re_free(r);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    print_message("# 10 matches of a 128-byte name against a %d-state automaton: %.1f ms\n",
                  KX_RE_MAX_INST, ms);
    assert_true(ms < 2000);
}

/* Patterns that backtracking matchers take exponential time on. */
static void test_no_catastrophe(void **state)
{
    (void)state;
    static const char *const res[] = {"(a*)*b",   "(a|aa)*b",  "(a|a)*b",
                                      "(x+x+)+y", "(.*a){20}", "(a?){30}a{30}"};
    char s[129];
    memset(s, 'a', 128);
    s[128] = '\0';
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
        struct kx_re *r;
        char err[256];
        if (kx_re_compile(&r, res[i], err, sizeof(err)))
            fail_msg("'%s': %s", res[i], err);
        kx_re_match(r, s, 128);
        kx_re_free(r);
    }
    assert_true(m("(a?){30}a{30}", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 2);
}

/* Random expressions over a small alphabet against glibc's POSIX matcher:
 * for whole-string matching both must agree wherever both accept the syntax. */
static void test_against_posix(void **state)
{
    (void)state;
    static const char alphabet[] = "ab().|*+?[]^-{}12,";
    unsigned seed = 14;
    int compared = 0;
    for (int iter = 0; iter < 20000; iter++) {
        char re[16];
        int len = (int)(rand_r(&seed) % 10);
        for (int i = 0; i < len; i++)
            re[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
        re[len] = '\0';
        /* Where POSIX and RE2 syntax differ: "{" literals, "^*", lazy "*?" (in
         * POSIX a repetition of a repetition). */
        if (strchr(re, '{') || strchr(re, '^') || strchr(re, '[') || strstr(re, "+?") ||
            strstr(re, "*?") || strstr(re, "??"))
            continue;
        struct kx_re *r;
        char err[256], pat[40];
        if (kx_re_compile(&r, re, err, sizeof(err)))
            continue;
        regex_t px;
        snprintf(pat, sizeof(pat), "^(%s)$", re);
        if (regcomp(&px, pat, REG_EXTENDED | REG_NOSUB)) {
            kx_re_free(r);
            continue;
        }
        for (int k = 0; k < 8; k++) {
            char s[8];
            int sl = (int)(rand_r(&seed) % 6);
            for (int i = 0; i < sl; i++)
                s[i] = "ab"[rand_r(&seed) % 2];
            s[sl] = '\0';
            bool mine = kx_re_match(r, s, (size_t)sl);
            bool theirs = regexec(&px, s, 0, NULL, 0) == 0;
            if (mine != theirs)
                fail_msg("'%s' on '%s': kx_re %d, POSIX %d", re, s, mine, theirs);
            compared++;
        }
        regfree(&px);
        kx_re_free(r);
    }
    print_message("# %d comparisons with regexec(3)\n", compared);
    assert_true(compared > 10000);
}

/* Remembered results: 10000 subjects (the memo fills and starts over twice),
 * each asked three times, answer as the automaton does; subjects longer than
 * the memo keeps and a NUL inside a subject too. */
static void test_memo(void **state)
{
    (void)state;
    struct kx_re *re = NULL;
    char err[256];
    assert_int_equal(kx_re_compile(&re, "cache-[0-9]*7(-x)?", err, sizeof(err)), 0);
    size_t asked = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 10000; i++) {
            char name[64];
            int n = snprintf(name, sizeof(name), "cache-%d%s", i, i % 3 ? "" : "-x");
            bool want = i % 10 == 7;
            assert_int_equal(kx_re_match(re, name, (size_t)n), want);
            asked++;
        }
    }
    assert_int_equal(asked, 30000);
    char longname[400];
    memset(longname, '1', sizeof(longname));
    memcpy(longname, "cache-", 6);
    longname[sizeof(longname) - 1] = '7';
    for (int k = 0; k < 2; k++)
        assert_true(kx_re_match(re, longname, sizeof(longname)));
    longname[sizeof(longname) - 1] = '8';
    assert_false(kx_re_match(re, longname, sizeof(longname)));
    /* Same bytes up to a NUL: different subjects. */
    assert_true(kx_re_match(re, "cache-7", 7));
    assert_false(kx_re_match(re, "cache-7\0", 8));
    assert_true(kx_re_match(re, "cache-7", 7));
    kx_re_free(re);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches),       cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),        cmocka_unit_test(test_no_catastrophe),
        cmocka_unit_test(test_against_posix), cmocka_unit_test(test_memo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
