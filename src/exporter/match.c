// SPDX-License-Identifier: MIT
/*
 * Bounded regular expressions: parsed to a tree, compiled to a Thompson NFA
 * (Russ Cox, "Regular Expression Matching Can Be Simple And Fast"), run as a
 * set of states: O(len(subject) x states) time, O(states) memory.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"

/* ---- byte sets ---- */

struct cset {
    uint64_t w[4];
};

static void cs_add(struct cset *c, unsigned ch)
{
    c->w[(ch >> 6) & 3] |= UINT64_C(1) << (ch & 63);
}

static bool cs_has(const struct cset *c, unsigned ch)
{
    return (c->w[(ch >> 6) & 3] >> (ch & 63)) & 1;
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

enum node_type { N_EMPTY, N_SET, N_BOL, N_EOL, N_CAT, N_ALT, N_REP };

struct node {
    enum node_type t;
    int first, last, next; /* children (CAT, ALT, REP) and the next sibling; -1: none */
    int min, max;          /* N_REP; max -1: unbounded */
    size_t size;           /* automaton states it compiles to (saturated) */
    struct cset set;       /* N_SET */
};

struct parser {
    const char *s;
    size_t i, n;
    struct node *nodes;
    size_t nn, cap;
    bool icase, dotnl;
    int depth;
    int rc; /* first error: -EINVAL or -ENOMEM */
    char *err;
    size_t errlen;
};

#define NOTHING (-2) /* a flag group such as (?i): no node */

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

/* ---- automaton ---- */

enum op { OP_SET, OP_SPLIT, OP_JMP, OP_BOL, OP_EOL, OP_MATCH };

struct inst {
    uint8_t op;
    uint32_t x, y; /* SPLIT: both; JMP: x */
    struct cset set;
};

/* Results by subject: cache names come back on every scrape. */
#define MEMO_SLOTS   8192 /* a power of two */
#define MEMO_MAX     4096 /* entries before the table is emptied */
#define MEMO_MAX_LEN 256  /* longer subjects are not remembered */

struct memo {
    char *s; /* NULL: free slot */
    size_t len;
    uint64_t hash;
    bool match;
};

struct kx_re {
    pthread_mutex_t lock;
    struct inst *prog;
    uint32_t n;
    uint32_t *sparse[2], *dense[2], count[2];
    uint32_t *stack;
    struct memo *memo; /* MEMO_SLOTS, or NULL */
    size_t memo_n;
};

#define SIZE_CAP ((size_t)KX_RE_MAX_INST + 1)

static size_t sat_add(size_t a, size_t b)
{
    return a + b > SIZE_CAP ? SIZE_CAP : a + b;
}

static size_t sat_mul(size_t a, size_t b)
{
    if (a && b > SIZE_CAP / a)
        return SIZE_CAP;
    return a * b > SIZE_CAP ? SIZE_CAP : a * b;
}

/* States each node compiles to, saturated at SIZE_CAP; stored in the node. */
static size_t measure(struct parser *p, int n)
{
    struct node *nd = &p->nodes[n];
    size_t s = 0, k = 0;
    switch (nd->t) {
    case N_EMPTY:
        break;
    case N_SET:
    case N_BOL:
    case N_EOL:
        s = 1;
        break;
    case N_CAT:
    case N_ALT:
        for (int c = nd->first; c >= 0; c = p->nodes[c].next, k++)
            s = sat_add(s, measure(p, c));
        if (p->nodes[n].t == N_ALT)
            s = sat_add(s, sat_mul(2, k - 1));
        break;
    case N_REP: {
        size_t c = measure(p, nd->first);
        size_t mn = (size_t)p->nodes[n].min;
        if (c == 0)
            s = 0;
        else if (p->nodes[n].max < 0)
            s = mn == 0 ? sat_add(c, 2) : sat_add(sat_mul(mn, c), 1);
        else
            s = sat_add(sat_mul(mn, c), sat_mul((size_t)p->nodes[n].max - mn, sat_add(c, 1)));
        break;
    }
    }
    p->nodes[n].size = s;
    return s;
}

static uint32_t put(struct kx_re *re, enum op op, uint32_t x, uint32_t y)
{
    struct inst *in = &re->prog[re->n];
    in->op = (uint8_t)op;
    in->x = x;
    in->y = y;
    return re->n++;
}

/* Emit node @n; its size was checked, so the program has room. */
static void emit(struct kx_re *re, const struct parser *p, int n)
{
    const struct node *nd = &p->nodes[n];
    const uint32_t none = UINT32_MAX;
    switch (nd->t) {
    case N_EMPTY:
        return;
    case N_SET:
        re->prog[put(re, OP_SET, 0, 0)].set = nd->set;
        return;
    case N_BOL:
        put(re, OP_BOL, 0, 0);
        return;
    case N_EOL:
        put(re, OP_EOL, 0, 0);
        return;
    case N_CAT:
        for (int c = nd->first; c >= 0; c = p->nodes[c].next)
            emit(re, p, c);
        return;
    case N_ALT: {
        /* SPLIT next, alt2; e1; JMP end; SPLIT ...; the JMPs chained through x. */
        uint32_t jumps = none;
        for (int c = nd->first; c >= 0; c = p->nodes[c].next) {
            if (p->nodes[c].next < 0) {
                emit(re, p, c);
                break;
            }
            uint32_t split = put(re, OP_SPLIT, re->n + 1, 0);
            emit(re, p, c);
            jumps = put(re, OP_JMP, jumps, 0);
            re->prog[split].y = re->n;
        }
        while (jumps != none) {
            uint32_t prev = re->prog[jumps].x;
            re->prog[jumps].x = re->n;
            jumps = prev;
        }
        return;
    }
    case N_REP: {
        const struct node *child = &p->nodes[nd->first];
        if (child->size == 0)
            return; /* only empty matches: repeating changes nothing */
        if (nd->max < 0) {
            if (nd->min == 0) { /* L: SPLIT body, out; body; JMP L */
                uint32_t split = put(re, OP_SPLIT, re->n + 1, 0);
                emit(re, p, nd->first);
                put(re, OP_JMP, split, 0);
                re->prog[split].y = re->n;
            } else { /* x{n-1} then L: x; SPLIT L, out */
                for (int k = 0; k < nd->min - 1; k++)
                    emit(re, p, nd->first);
                uint32_t loop = re->n;
                emit(re, p, nd->first);
                put(re, OP_SPLIT, loop, re->n + 1);
            }
            return;
        }
        for (int k = 0; k < nd->min; k++)
            emit(re, p, nd->first);
        /* (x(x(x)?)?)?: SPLIT body, end; x; SPLIT body, end; x; ... chained through y. */
        uint32_t splits = none;
        for (int k = nd->min; k < nd->max; k++) {
            splits = put(re, OP_SPLIT, re->n + 1, splits);
            emit(re, p, nd->first);
        }
        while (splits != none) {
            uint32_t prev = re->prog[splits].y;
            re->prog[splits].y = re->n;
            splits = prev;
        }
        return;
    }
    }
}

void kx_re_free(struct kx_re *re)
{
    if (!re)
        return;
    pthread_mutex_destroy(&re->lock);
    if (re->memo)
        for (size_t i = 0; i < MEMO_SLOTS; i++)
            free(re->memo[i].s);
    free(re->memo);
    free(re->prog);
    for (int i = 0; i < 2; i++) {
        free(re->sparse[i]);
        free(re->dense[i]);
    }
    free(re->stack);
    free(re);
}

int kx_re_compile(struct kx_re **out, const char *src, char *err, size_t errlen)
{
    struct parser p = {.s = src, .n = strlen(src), .err = err, .errlen = errlen};
    int r = 0;
    *out = NULL;
    if (errlen)
        err[0] = '\0';
    if (p.n > KX_RE_MAX_SOURCE) {
        snprintf(err, errlen, "expression too long (more than %d bytes)", KX_RE_MAX_SOURCE);
        return -EINVAL;
    }
    int root = parse_alt(&p);
    if (root == NOTHING)
        root = new_node(&p, N_EMPTY);
    if (root >= 0 && !eof(&p))
        perr(&p, 0, p.i + 1, "unexpected )");
    if (p.rc || root < 0) {
        r = p.rc ? p.rc : -EINVAL;
        goto out_free;
    }
    size_t size = sat_add(measure(&p, root), 1);
    if (size > KX_RE_MAX_INST) {
        snprintf(err, errlen,
                 "expression too large: it needs more than %d automaton states (lower the "
                 "repetition counts)",
                 KX_RE_MAX_INST);
        r = -EINVAL;
        goto out_free;
    }
    struct kx_re *re = calloc(1, sizeof(*re));
    if (!re)
        goto out_nomem;
    *out = re;
    pthread_mutex_init(&re->lock, NULL);
    re->prog = calloc(size, sizeof(*re->prog));
    re->stack = calloc(2 * size + 2, sizeof(*re->stack));
    for (int i = 0; i < 2; i++) {
        re->sparse[i] = calloc(size, sizeof(uint32_t));
        re->dense[i] = calloc(size, sizeof(uint32_t));
        if (!re->sparse[i] || !re->dense[i])
            goto out_nomem;
    }
    re->memo = calloc(MEMO_SLOTS, sizeof(*re->memo)); /* optional */
    if (!re->prog || !re->stack)
        goto out_nomem;
    emit(re, &p, root);
    put(re, OP_MATCH, 0, 0);
    goto out_free;
out_nomem:
    kx_re_free(*out);
    *out = NULL;
    snprintf(err, errlen, "out of memory");
    r = -ENOMEM;
out_free:
    free(p.nodes);
    return r;
}

size_t kx_re_size(const struct kx_re *re)
{
    return re->n;
}

/* Add state @pc and what it reaches without reading a byte, at position @pos. */
static void add(struct kx_re *re, int l, uint32_t pc, size_t pos, size_t len)
{
    uint32_t *sparse = re->sparse[l], *dense = re->dense[l];
    uint32_t sp = 0;
    re->stack[sp++] = pc;
    while (sp) {
        pc = re->stack[--sp];
        uint32_t k = sparse[pc];
        if (k < re->count[l] && dense[k] == pc)
            continue;
        sparse[pc] = re->count[l];
        dense[re->count[l]++] = pc;
        const struct inst *in = &re->prog[pc];
        switch ((enum op)in->op) {
        case OP_JMP:
            re->stack[sp++] = in->x;
            break;
        case OP_SPLIT:
            re->stack[sp++] = in->y;
            re->stack[sp++] = in->x;
            break;
        case OP_BOL:
            if (pos == 0)
                re->stack[sp++] = pc + 1;
            break;
        case OP_EOL:
            if (pos == len)
                re->stack[sp++] = pc + 1;
            break;
        case OP_SET:
        case OP_MATCH:
            break;
        }
    }
}

static bool run(struct kx_re *re, const char *s, size_t len)
{
    int cur = 0;
    re->count[0] = re->count[1] = 0;
    add(re, cur, 0, 0, len);
    for (size_t pos = 0; pos < len && re->count[cur]; pos++) {
        int nxt = cur ^ 1;
        unsigned ch = (unsigned char)s[pos];
        re->count[nxt] = 0;
        for (uint32_t k = 0; k < re->count[cur]; k++) {
            uint32_t pc = re->dense[cur][k];
            if (re->prog[pc].op == OP_SET && cs_has(&re->prog[pc].set, ch))
                add(re, nxt, pc + 1, pos + 1, len);
        }
        cur = nxt;
    }
    for (uint32_t k = 0; k < re->count[cur]; k++)
        if (re->prog[re->dense[cur][k]].op == OP_MATCH)
            return true;
    return false;
}

static uint64_t fnv1a(const char *s, size_t len)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * UINT64_C(1099511628211);
    return h;
}

bool kx_re_match(struct kx_re *re, const char *s, size_t len)
{
    pthread_mutex_lock(&re->lock);
    struct memo *slot = NULL;
    uint64_t h = 0;
    if (re->memo && len <= MEMO_MAX_LEN) {
        h = fnv1a(s, len);
        for (size_t i = h & (MEMO_SLOTS - 1);; i = (i + 1) & (MEMO_SLOTS - 1)) {
            slot = &re->memo[i];
            if (!slot->s)
                break;
            if (slot->hash == h && slot->len == len && !memcmp(slot->s, s, len)) {
                bool m = slot->match;
                pthread_mutex_unlock(&re->lock);
                return m;
            }
        }
    }
    bool matched = run(re, s, len);
    if (slot) {
        if (re->memo_n >= MEMO_MAX) { /* names keep changing: start over */
            for (size_t i = 0; i < MEMO_SLOTS; i++) {
                free(re->memo[i].s);
                re->memo[i].s = NULL;
            }
            re->memo_n = 0;
            slot = &re->memo[h & (MEMO_SLOTS - 1)];
        }
        slot->s = malloc(len + 1);
        if (slot->s) {
            memcpy(slot->s, s, len);
            slot->s[len] = '\0';
            slot->len = len;
            slot->hash = h;
            slot->match = matched;
            re->memo_n++;
        }
    }
    pthread_mutex_unlock(&re->lock);
    return matched;
}
