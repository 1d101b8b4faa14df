// SPDX-License-Identifier: MIT
/* Bounded regular expressions: the parser (match.h's syntax -> parse tree). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match_int.h"

#define NOTHING (-2) /* a flag group such as (?i): no node */

/* ---- byte sets ---- */

static void cs_add(struct cset *c, unsigned ch)
{
    c->w[(ch >> 6) & 3] |= UINT64_C(1) << (ch & 63);
}

static void cs_range(struct cset *c, unsigned lo, unsigned hi)
{
    for (unsigned ch = lo; ch <= hi && ch < 256; ch++)
        cs_add(c, ch);
}

static void cs_union(struct cset *c, const struct cset *d)
{
    for (int i = 0; i < 4; i++)
        c->w[i] |= d->w[i];
}

static void cs_negate(struct cset *c)
{
    for (int i = 0; i < 4; i++)
        c->w[i] = ~c->w[i];
}

/* Add the other case of every ASCII letter. */
static void cs_fold(struct cset *c)
{
    for (unsigned ch = 'a'; ch <= 'z'; ch++) {
        if (cs_has(c, ch) || cs_has(c, ch - 32)) {
            cs_add(c, ch);
            cs_add(c, ch - 32);
        }
    }
}

/* \d \s \w and their negations; false if @e is none of them. */
static bool perl_class(char e, struct cset *out)
{
    struct cset c = {{0}};
    switch (e | 0x20) {
    case 'd':
        cs_range(&c, '0', '9');
        break;
    case 's': /* RE2: [\t\n\f\r ] */
        cs_add(&c, '\t');
        cs_add(&c, '\n');
        cs_add(&c, '\f');
        cs_add(&c, '\r');
        cs_add(&c, ' ');
        break;
    case 'w':
        cs_range(&c, '0', '9');
        cs_range(&c, 'A', 'Z');
        cs_range(&c, 'a', 'z');
        cs_add(&c, '_');
        break;
    default:
        return false;
    }
    if (e >= 'A' && e <= 'Z')
        cs_negate(&c);
    *out = c;
    return true;
}

static const struct {
    const char *name;
    const char *ranges; /* pairs lo, hi */
} posix_class[] = {
    {"alnum", "09AZaz"},
    {"alpha", "AZaz"},
    {"ascii", "\x01\x7f"},
    {"blank", "\t\t  "},
    {"cntrl", "\x01\x1f\x7f\x7f"},
    {"digit", "09"},
    {"graph", "!~"},
    {"lower", "az"},
    {"print", " ~"},
    {"punct", "!/:@[`{~"},
    {"space", "\t\r  "},
    {"upper", "AZ"},
    {"word", "09AZaz__"},
    {"xdigit", "09AFaf"},
};

/* ---- parse tree ---- */

/* Record an error quoting src[from, to) as Go's regexp does, "what: `frag`",
 * then @hint if not NULL. */
static int perr_hint(struct parser *p, size_t from, size_t to, const char *what, const char *hint)
{
    if (p->rc)
        return -1;
    p->rc = -EINVAL;
    if (to > p->n)
        to = p->n;
    if (from > to)
        from = to;
    int flen = (int)(to - from > 64 ? 64 : to - from);
    if (to > from)
        snprintf(p->err, p->errlen, "%s: `%.*s%s`%s%s", what, flen, p->s + from,
                 to - from > 64 ? "..." : "", hint ? " " : "", hint ? hint : "");
    else
        snprintf(p->err, p->errlen, "%s%s%s", what, hint ? " " : "", hint ? hint : "");
    return -1;
}

static int perr(struct parser *p, size_t from, size_t to, const char *what)
{
    return perr_hint(p, from, to, what, NULL);
}

static int new_node(struct parser *p, enum node_type t)
{
    if (p->nn == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        struct node *nn = realloc(p->nodes, cap * sizeof(*nn));
        if (!nn) {
            if (!p->rc) {
                p->rc = -ENOMEM;
                snprintf(p->err, p->errlen, "out of memory");
            }
            return -1;
        }
        p->nodes = nn;
        p->cap = cap;
    }
    struct node *nd = &p->nodes[p->nn];
    memset(nd, 0, sizeof(*nd));
    nd->t = t;
    nd->first = nd->last = nd->next = -1;
    return (int)p->nn++;
}

static void add_child(struct parser *p, int parent, int child)
{
    struct node *pa = &p->nodes[parent];
    if (pa->last < 0)
        pa->first = child;
    else
        p->nodes[pa->last].next = child;
    pa->last = child;
}

static int set_node(struct parser *p, const struct cset *c)
{
    int n = new_node(p, N_SET);
    if (n < 0)
        return -1;
    p->nodes[n].set = *c;
    if (p->icase)
        cs_fold(&p->nodes[n].set);
    return n;
}

static int literal(struct parser *p, unsigned ch)
{
    struct cset c = {{0}};
    cs_add(&c, ch);
    return set_node(p, &c);
}

static bool eof(const struct parser *p)
{
    return p->i >= p->n;
}

static int peek(const struct parser *p, size_t ahead)
{
    return p->i + ahead < p->n ? (unsigned char)p->s[p->i + ahead] : -1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/*
 * After a backslash at p->i - 1: a byte (returns 0..255), a class in *cls
 * (returns 256), or -1 on error. @in_class: inside [...].
 */
static int escape(struct parser *p, struct cset *cls, bool in_class)
{
    size_t start = p->i - 1;
    if (eof(p))
        return perr(p, start, p->n, "trailing backslash at end of expression");
    int c = (unsigned char)p->s[p->i++];
    if (perl_class((char)c, cls))
        return 256;
    switch (c) {
    case 'a':
        return 7;
    case 'f':
        return 12;
    case 't':
        return 9;
    case 'n':
        return 10;
    case 'r':
        return 13;
    case 'v':
        return 11;
    case 'x': {
        int v = 0;
        if (peek(p, 0) == '{') {
            size_t j = p->i + 1;
            int digits = 0;
            while (j < p->n && hexval((unsigned char)p->s[j]) >= 0 && digits < 8) {
                if (v <= 0xff) /* beyond a byte it is refused below; no overflow */
                    v = v * 16 + hexval((unsigned char)p->s[j]);
                j++;
                digits++;
            }
            if (j >= p->n || p->s[j] != '}' || digits == 0)
                return perr(p, start, j + 1, "invalid escape sequence");
            p->i = j + 1;
            if (v > 0xff)
                return perr(p, start, p->i,
                            "only byte values \\x00 to \\xFF can be matched (cache names are "
                            "bytes)");
            return v;
        }
        int h1 = hexval(peek(p, 0)), h2 = hexval(peek(p, 1));
        if (h1 < 0 || h2 < 0)
            return perr(p, start, p->i + 2, "invalid escape sequence");
        p->i += 2;
        return h1 * 16 + h2;
    }
    case '0': /* octal, up to three digits, as RE2 */
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
        if (c != '0' && !(peek(p, 0) >= '0' && peek(p, 0) <= '7'))
            break; /* a single digit: a back-reference */
        {
            int v = c - '0';
            for (int k = 0; k < 2 && peek(p, 0) >= '0' && peek(p, 0) <= '7'; k++)
                v = v * 8 + (p->s[p->i++] - '0');
            return v & 0xff;
        }
    case '8':
    case '9':
        break; /* a back-reference */
    case 'A':
    case 'z':
        if (in_class)
            return perr(p, start, p->i, "invalid escape sequence");
        return c == 'A' ? 257 : 258; /* begin / end of text */
    case 'b':
    case 'B':
        return perr(p, start, p->i, "word boundaries are not supported");
    case 'p':
    case 'P':
        return perr(p, start, p->i, "Unicode classes are not supported");
    case 'Q':
        return perr(p, start, p->i, "\\Q...\\E is not supported; escape each character");
    default:
        if (c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                          (c >= 'a' && c <= 'z') || c == '_'))
            return c; /* escaped punctuation */
        return perr(p, start, p->i, "invalid escape sequence");
    }
    return perr(p, start, p->i,
                "back-references are not supported (they cannot be matched in bounded time)");
}

/* "[:name:]" or "[:^name:]" at p->i; 1 and the set, 0 if not one, -1 on error. */
static int posix_named(struct parser *p, struct cset *out)
{
    size_t start = p->i;
    if (peek(p, 0) != '[' || peek(p, 1) != ':')
        return 0;
    const char *end = NULL;
    for (size_t j = p->i + 2; j + 1 < p->n; j++) {
        if (p->s[j] == ':' && p->s[j + 1] == ']') {
            end = p->s + j;
            break;
        }
    }
    if (!end)
        return 0;
    const char *name = p->s + p->i + 2;
    bool neg = *name == '^';
    if (neg)
        name++;
    size_t len = (size_t)(end - name);
    p->i = (size_t)(end - p->s) + 2;
    for (size_t k = 0; k < sizeof(posix_class) / sizeof(posix_class[0]); k++) {
        if (strlen(posix_class[k].name) != len || memcmp(posix_class[k].name, name, len))
            continue;
        struct cset c = {{0}};
        for (const char *r = posix_class[k].ranges; r[0] && r[1]; r += 2)
            cs_range(&c, (unsigned char)r[0], (unsigned char)r[1]);
        if (neg)
            cs_negate(&c);
        *out = c;
        return 1;
    }
    return perr(p, start, p->i, "invalid character class range");
}

/* A bracket expression; p->i is just past '['. */
static int parse_class(struct parser *p)
{
    size_t start = p->i - 1;
    struct cset c = {{0}};
    bool neg = false, first = true;
    if (peek(p, 0) == '^') {
        neg = true;
        p->i++;
    }
    for (;;) {
        if (eof(p))
            return perr(p, start, p->n, "missing closing ]");
        int ch = peek(p, 0);
        if (ch == ']' && !first) {
            p->i++;
            break;
        }
        first = false;
        struct cset named;
        int r = posix_named(p, &named);
        if (r < 0)
            return -1;
        if (r > 0) {
            cs_union(&c, &named);
            continue;
        }
        size_t item = p->i;
        int lo = (unsigned char)p->s[p->i++];
        if (lo == '\\') {
            lo = escape(p, &named, true);
            if (lo < 0)
                return -1;
            if (lo == 256) {
                cs_union(&c, &named);
                continue;
            }
        }
        int hi = lo;
        if (peek(p, 0) == '-' && peek(p, 1) != ']' && peek(p, 1) >= 0) {
            p->i++;
            hi = (unsigned char)p->s[p->i++];
            if (hi == '\\') {
                hi = escape(p, &named, true);
                if (hi < 0)
                    return -1;
                if (hi == 256)
                    return perr(p, item, p->i, "invalid character class range");
            } else if (hi == '[' && peek(p, 0) == ':') {
                return perr(p, item, p->i + 1, "invalid character class range");
            }
            if (hi < lo)
                return perr(p, item, p->i, "invalid character class range");
        }
        cs_range(&c, (unsigned)lo, (unsigned)hi);
    }
    if (p->icase)
        cs_fold(&c);
    if (neg)
        cs_negate(&c);
    int n = new_node(p, N_SET);
    if (n >= 0)
        p->nodes[n].set = c;
    return n;
}

/* "{n}", "{n,}" or "{n,m}" at p->i: 1 (p->i moved past it), 0 if it is not one
 * (then '{' is a literal, as in RE2), -1 if a count is too large. */
static int repeat_spec(struct parser *p, int *min, int *max)
{
    size_t j = p->i + 1, start = p->i;
    long lo = 0, hi;
    int digits = 0;
    while (j < p->n && p->s[j] >= '0' && p->s[j] <= '9') {
        if (lo <= KX_RE_MAX_REPEAT)
            lo = lo * 10 + (p->s[j] - '0');
        j++;
        digits++;
    }
    if (!digits || j >= p->n)
        return 0;
    hi = lo;
    if (p->s[j] == ',') {
        j++;
        if (j < p->n && p->s[j] == '}') {
            hi = -1;
        } else {
            hi = 0;
            digits = 0;
            while (j < p->n && p->s[j] >= '0' && p->s[j] <= '9') {
                if (hi <= KX_RE_MAX_REPEAT)
                    hi = hi * 10 + (p->s[j] - '0');
                j++;
                digits++;
            }
            if (!digits)
                return 0;
        }
    }
    if (j >= p->n || p->s[j] != '}')
        return 0;
    p->i = j + 1;
    if (lo > KX_RE_MAX_REPEAT || hi > KX_RE_MAX_REPEAT || (hi >= 0 && hi < lo))
        return perr_hint(p, start, p->i, "invalid repeat count", "(at most 1000, and min <= max)");
    *min = (int)lo;
    *max = (int)hi;
    return 1;
}

static int parse_alt(struct parser *p);

/* "(?flags)" or "(?flags:" at p->i (just past "(?"): 1 for a group, 0 for
 * flags alone, -1 on error. Only i changes matching; m, s and U are accepted. */
static int parse_flags(struct parser *p, size_t start)
{
    bool on = true, any = false, minus = false;
    for (;;) {
        int c = peek(p, 0);
        if (c < 0)
            return perr(p, start, p->n, "missing closing )");
        p->i++;
        switch (c) {
        case 'i':
            p->icase = on;
            any = true;
            break;
        case 's':
            p->dotnl = on;
            any = true;
            break;
        case 'm':
        case 'U':
            any = true;
            break;
        case '-':
            if (!on)
                return perr(p, start, p->i, "invalid or unsupported Perl syntax");
            on = false;
            minus = true;
            any = false;
            break;
        case ':':
            if (!any && minus)
                return perr(p, start, p->i, "invalid or unsupported Perl syntax");
            return 1;
        case ')':
            if (!any)
                return perr(p, start, p->i, "invalid or unsupported Perl syntax");
            return 0;
        default:
            return perr(p, start, p->i, "invalid or unsupported Perl syntax");
        }
    }
}

static int parse_group(struct parser *p)
{
    size_t start = p->i - 1;
    bool icase = p->icase, dotnl = p->dotnl;
    if (peek(p, 0) == '?') {
        p->i++;
        int c = peek(p, 0);
        if (c == 'P' || c == '<') { /* (?P<name>re) or (?<name>re) */
            if (c == 'P')
                p->i++;
            if (peek(p, 0) != '<')
                return perr(p, start, p->i + 1, "invalid or unsupported Perl syntax");
            p->i++;
            size_t name = p->i;
            while (!eof(p) && (peek(p, 0) == '_' || (peek(p, 0) >= '0' && peek(p, 0) <= '9') ||
                               ((peek(p, 0) | 0x20) >= 'a' && (peek(p, 0) | 0x20) <= 'z')))
                p->i++;
            if (p->i == name || peek(p, 0) != '>')
                return perr(p, start, p->i + 1, "invalid named capture");
            p->i++;
        } else {
            int r = parse_flags(p, start);
            if (r < 0)
                return -1;
            if (r == 0)
                return NOTHING; /* flags for the rest of the enclosing group */
        }
    }
    if (++p->depth > KX_RE_MAX_DEPTH)
        return perr(p, start, p->i, "expression nests too deeply (more than 1000 groups)");
    int inner = parse_alt(p);
    if (inner < 0 && inner != NOTHING)
        return -1;
    if (peek(p, 0) != ')')
        return perr(p, start, p->n, "missing closing )");
    p->i++;
    p->depth--;
    p->icase = icase;
    p->dotnl = dotnl;
    return inner;
}

/* One atom, or NOTHING (a flag group), or -1. */
static int parse_atom(struct parser *p)
{
    size_t start = p->i;
    int c = (unsigned char)p->s[p->i++];
    int min, max;
    switch (c) {
    case '(':
        return parse_group(p);
    case '[':
        return parse_class(p);
    case '.': {
        struct cset all = {{~UINT64_C(0), ~UINT64_C(0), ~UINT64_C(0), ~UINT64_C(0)}};
        if (!p->dotnl)
            all.w[0] &= ~(UINT64_C(1) << '\n');
        int n = new_node(p, N_SET);
        if (n >= 0)
            p->nodes[n].set = all;
        return n;
    }
    case '^':
        return new_node(p, N_BOL);
    case '$':
        return new_node(p, N_EOL);
    case '*':
    case '+':
    case '?':
        return perr(p, start, p->i, "missing argument to repetition operator");
    case '{':
        p->i = start;
        if (repeat_spec(p, &min, &max) != 0)
            return perr(p, start, p->i, "missing argument to repetition operator");
        p->i = start + 1;
        return literal(p, '{');
    case '\\': {
        struct cset cls;
        int v = escape(p, &cls, false);
        if (v < 0)
            return -1;
        if (v == 256)
            return set_node(p, &cls);
        if (v == 257)
            return new_node(p, N_BOL);
        if (v == 258)
            return new_node(p, N_EOL);
        return literal(p, (unsigned)v);
    }
    default:
        return literal(p, (unsigned)c);
    }
}

/* "*", "+", "?" or a valid "{...}" at p->i: 1 with the counts, 0 if none, -1. */
static int quantifier(struct parser *p, int *min, int *max)
{
    switch (peek(p, 0)) {
    case '*':
        p->i++;
        *min = 0;
        *max = -1;
        return 1;
    case '+':
        p->i++;
        *min = 1;
        *max = -1;
        return 1;
    case '?':
        p->i++;
        *min = 0;
        *max = 1;
        return 1;
    case '{':
        return repeat_spec(p, min, max);
    default:
        return 0;
    }
}

static int parse_repeat(struct parser *p)
{
    int atom = parse_atom(p);
    if (atom == -1)
        return -1;
    size_t qstart = p->i;
    int min, max;
    int q = quantifier(p, &min, &max);
    if (q < 0)
        return -1;
    if (q == 0)
        return atom;
    if (atom == NOTHING)
        return perr(p, qstart, p->i, "missing argument to repetition operator");
    if (peek(p, 0) == '?') /* lazy: the same strings match */
        p->i++;
    int min2, max2;
    q = quantifier(p, &min2, &max2);
    if (q < 0)
        return -1;
    if (q > 0) {
        return perr_hint(p, qstart, p->i, "invalid nested repetition operator",
                         "(a repetition of a repetition: write (x{n}){m} if that is meant)");
    }
    int r = new_node(p, N_REP);
    if (r < 0)
        return -1;
    p->nodes[r].min = min;
    p->nodes[r].max = max;
    add_child(p, r, atom);
    return r;
}

static int parse_concat(struct parser *p)
{
    int cat = -1, only = NOTHING, count = 0;
    while (!eof(p) && peek(p, 0) != '|' && peek(p, 0) != ')') {
        int a = parse_repeat(p);
        if (a == -1)
            return -1;
        if (a == NOTHING)
            continue;
        if (count == 0) {
            only = a;
        } else {
            if (cat < 0) {
                cat = new_node(p, N_CAT);
                if (cat < 0)
                    return -1;
                add_child(p, cat, only);
            }
            add_child(p, cat, a);
        }
        count++;
    }
    if (count == 0)
        return new_node(p, N_EMPTY);
    return count == 1 ? only : cat;
}

static int parse_alt(struct parser *p)
{
    int first = parse_concat(p);
    if (first < 0 || peek(p, 0) != '|')
        return first;
    int alt = new_node(p, N_ALT);
    if (alt < 0)
        return -1;
    add_child(p, alt, first);
    while (peek(p, 0) == '|') {
        p->i++;
        int b = parse_concat(p);
        if (b < 0)
            return -1;
        add_child(p, alt, b);
    }
    return alt;
}

int kx_re_parse(struct parser *p)
{
    int root = parse_alt(p);
    if (root == NOTHING)
        root = new_node(p, N_EMPTY);
    if (root >= 0 && !eof(p))
        perr(p, 0, p->i + 1, "unexpected )");
    return p->rc ? -1 : root;
}
