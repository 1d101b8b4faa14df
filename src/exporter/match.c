// SPDX-License-Identifier: MIT
/*
 * Bounded regular expressions: parsed to a tree, compiled to a Thompson NFA
 * (Russ Cox, "Regular Expression Matching Can Be Simple And Fast"), run as a
 * set of states: O(len(subject) x states) time, O(states) memory. This file
 * is the automaton; match_parse.c the parser.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hindex.h"
#include "match_int.h"

/* ---- automaton ---- */

enum op { OP_SET, OP_SPLIT, OP_JMP, OP_BOL, OP_EOL, OP_MATCH };

struct inst {
    uint8_t op;
    uint32_t x, y; /* SPLIT: both; JMP: x */
    struct cset set;
};

/* Results by subject: cache names come back on every scrape. */
#define MEMO_MAX     4096 /* entries before the table is emptied */
#define MEMO_MAX_LEN 256  /* longer subjects are not remembered */

struct memo {
    char *s;
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
    struct memo *memo;     /* MEMO_MAX entries, memo_n used; or NULL */
    struct kmem_hindex ix; /* memo entries by hash */
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
    for (size_t i = 0; i < re->memo_n; i++)
        free(re->memo[i].s);
    free(re->memo);
    kmem_hindex_free(&re->ix);
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
    int root = kx_re_parse(&p);
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
    /* Optional: without it every subject runs the automaton. */
    re->memo = calloc(MEMO_MAX, sizeof(*re->memo));
    if (re->memo && kmem_hindex_reset(&re->ix, MEMO_MAX)) {
        free(re->memo);
        re->memo = NULL;
    }
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

bool kx_re_match(struct kx_re *re, const char *s, size_t len)
{
    pthread_mutex_lock(&re->lock);
    bool memo = re->memo && len <= MEMO_MAX_LEN;
    uint64_t h = 0;
    if (memo) {
        size_t it;
        h = kmem_hash_mem(s, len);
        for (long i = kmem_hindex_first(&re->ix, h, &it); i >= 0;
             i = kmem_hindex_next(&re->ix, &it)) {
            const struct memo *m = &re->memo[i];
            if (m->hash == h && m->len == len && !memcmp(m->s, s, len)) {
                bool matched = m->match;
                pthread_mutex_unlock(&re->lock);
                return matched;
            }
        }
    }
    bool matched = run(re, s, len);
    if (memo) {
        if (re->memo_n >= MEMO_MAX) { /* names keep changing: start over */
            for (size_t i = 0; i < re->memo_n; i++)
                free(re->memo[i].s);
            re->memo_n = 0;
            kmem_hindex_reset(&re->ix, MEMO_MAX); /* the same size: cannot fail */
        }
        struct memo *m = &re->memo[re->memo_n];
        m->s = malloc(len + 1);
        if (m->s) {
            memcpy(m->s, s, len);
            m->s[len] = '\0';
            m->len = len;
            m->hash = h;
            m->match = matched;
            kmem_hindex_add(&re->ix, h, re->memo_n++);
        }
    }
    pthread_mutex_unlock(&re->lock);
    return matched;
}
